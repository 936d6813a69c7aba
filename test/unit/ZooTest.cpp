//===- ZooTest.cpp - Built-in networks ------------------------------------===//
//
// Counts and names come from reading MXNet's example/image-classification/
// symbols/*.py by hand (e.g. resnet-50 on ImageNet: conv0 + 16 bottleneck
// units × 3 + 4 projection shortcuts = 53 convolutions).
//
//===----------------------------------------------------------------------===//

#include "kiln/Zoo.h"

#include "API/SymbolInternal.h"
#include "kiln/Error.h"

#include <gtest/gtest.h>

#include <set>

using namespace kiln;
using Names = std::vector<std::string>;
using Attrs = std::map<std::string, std::string>;

namespace {

int countOp(const Symbol &s, const std::string &op) {
  int n = 0;
  for (const mx::Node &node : detail::graphOf(s).nodes)
    n += node.op == op;
  return n;
}

const mx::Node &nodeNamed(const Symbol &s, const std::string &name) {
  for (const mx::Node &n : detail::graphOf(s).nodes)
    if (n.name == name)
      return n;
  throw std::runtime_error("no node " + name);
}

zoo::ZooOptions imagenet() {
  zoo::ZooOptions o;
  o.numClasses = 1000;
  o.imageShape = {3, 224, 224};
  return o;
}

} // namespace

TEST(Zoo, Names) {
  EXPECT_EQ(zoo::names(), (Names{"mlp", "lenet", "alexnet", "vgg16", "googlenet",
                                 "inception-bn", "resnet18", "resnet50"}));
  std::string msg;
  try {
    zoo::build("resnet7");
  } catch (const kiln::Error &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("resnet7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("inception-bn"), std::string::npos) << msg;
  zoo::ZooOptions bad;
  bad.imageShape = {28, 28};
  EXPECT_THROW(zoo::build("mlp", bad), kiln::Error);
}

TEST(Zoo, EveryNetworkBuildsAndRoundTrips) {
  for (const std::string &name : zoo::names()) {
    SCOPED_TRACE(name);
    zoo::ZooOptions o = imagenet();
    Symbol net = zoo::build(name, o);
    EXPECT_EQ(net.listOutputs(), (Names{"softmax_output"}));
    Names args = net.listArguments();
    ASSERT_FALSE(args.empty());
    EXPECT_EQ(args.front(), "data");
    EXPECT_EQ(args.back(), "softmax_label");
    EXPECT_EQ(detail::graphOf(net).nodes.back().op, "SoftmaxOutput");
    std::set<std::string> unique;
    for (const mx::Node &n : detail::graphOf(net).nodes)
      EXPECT_TRUE(unique.insert(n.name).second) << "duplicate " << n.name;
    std::string json = net.toJSON();
    Symbol back = Symbol::fromJSON(json);
    EXPECT_EQ(back.toJSON(), json);
    EXPECT_EQ(back.listArguments(), args);
    EXPECT_EQ(back.listAuxiliaryStates(), net.listAuxiliaryStates());
    // Building again restarts automatic names: identical JSON.
    EXPECT_EQ(zoo::build(name, o).toJSON(), json);
  }
}

TEST(Zoo, Mlp) {
  Symbol net = zoo::build("mlp");
  EXPECT_EQ(net.listArguments(),
            (Names{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias",
                   "fc3_weight", "fc3_bias", "softmax_label"}));
  EXPECT_EQ(nodeNamed(net, "flatten0").op, "Flatten");
  EXPECT_EQ(nodeNamed(net, "fc1").attrs, (Attrs{{"num_hidden", "128"}}));
  EXPECT_EQ(nodeNamed(net, "fc2").attrs, (Attrs{{"num_hidden", "64"}}));
  EXPECT_EQ(nodeNamed(net, "fc3").attrs, (Attrs{{"num_hidden", "10"}}));
}

TEST(Zoo, LeNet) {
  // lenet.py names nothing but the softmax: MXNet's automatic names.
  Symbol net = zoo::build("lenet");
  EXPECT_EQ(net.listArguments(),
            (Names{"data", "convolution0_weight", "convolution0_bias",
                   "convolution1_weight", "convolution1_bias",
                   "fullyconnected0_weight", "fullyconnected0_bias",
                   "fullyconnected1_weight", "fullyconnected1_bias",
                   "softmax_label"}));
  EXPECT_EQ(nodeNamed(net, "convolution0").attrs,
            (Attrs{{"kernel", "(5, 5)"}, {"num_filter", "20"}}));
  EXPECT_EQ(nodeNamed(net, "pooling1").attrs,
            (Attrs{{"kernel", "(2, 2)"}, {"pool_type", "max"}, {"stride", "(2, 2)"}}));
  EXPECT_EQ(nodeNamed(net, "activation2").attrs, (Attrs{{"act_type", "tanh"}}));
  EXPECT_EQ(nodeNamed(net, "fullyconnected0").attrs, (Attrs{{"num_hidden", "500"}}));
  zoo::ZooOptions o;
  o.numClasses = 7;
  EXPECT_EQ(nodeNamed(zoo::build("lenet", o), "fullyconnected1").attrs,
            (Attrs{{"num_hidden", "7"}}));
  // data, 2 × (conv + weight + bias, act, pool), flatten, 2 × (fc + weight +
  // bias), act, label, softmax.
  EXPECT_EQ(detail::graphOf(net).nodes.size(), 21u);
}

TEST(Zoo, AlexNet) {
  Symbol net = zoo::build("alexnet", imagenet());
  EXPECT_EQ(countOp(net, "Convolution"), 5);
  EXPECT_EQ(countOp(net, "Pooling"), 3);
  EXPECT_EQ(countOp(net, "LRN"), 2);
  EXPECT_EQ(countOp(net, "FullyConnected"), 3);
  EXPECT_EQ(countOp(net, "Dropout"), 2);
  EXPECT_EQ(countOp(net, "Activation"), 7);
  EXPECT_EQ(nodeNamed(net, "lrn0").attrs,
            (Attrs{{"alpha", "0.0001"}, {"beta", "0.75"}, {"knorm", "2"}, {"nsize", "5"}}));
  EXPECT_EQ(nodeNamed(net, "conv1").attrs,
            (Attrs{{"kernel", "(11, 11)"}, {"num_filter", "96"}, {"stride", "(4, 4)"}}));
  EXPECT_EQ(nodeNamed(net, "dropout1").attrs, (Attrs{{"p", "0.5"}}));
  // LRN comes before pooling in stage 1 (the v1.x script's order).
  EXPECT_EQ(detail::graphOf(net).nodes[nodeNamed(net, "pooling0").inputs[0].node].name, "lrn0");
}

TEST(Zoo, Vgg16) {
  Symbol net = zoo::build("vgg16", imagenet());
  EXPECT_EQ(countOp(net, "Convolution"), 13);
  EXPECT_EQ(countOp(net, "Pooling"), 5);
  EXPECT_EQ(countOp(net, "FullyConnected"), 3);
  EXPECT_EQ(countOp(net, "Dropout"), 2);
  EXPECT_EQ(nodeNamed(net, "conv5_3").attrs,
            (Attrs{{"kernel", "(3, 3)"}, {"num_filter", "512"}, {"pad", "(1, 1)"}}));
  EXPECT_EQ(nodeNamed(net, "fc8").attrs, (Attrs{{"num_hidden", "1000"}}));
  EXPECT_EQ(nodeNamed(net, "flatten").op, "Flatten");
}

TEST(Zoo, GoogLeNet) {
  Symbol net = zoo::build("googlenet", imagenet());
  // conv1..conv3 + 9 inception modules × 6 convolutions.
  EXPECT_EQ(countOp(net, "Convolution"), 57);
  EXPECT_EQ(countOp(net, "Concat"), 9);
  EXPECT_EQ(countOp(net, "Pooling"), 14);
  EXPECT_EQ(nodeNamed(net, "ch_concat_in3a_chconcat").attrs, (Attrs{{"num_args", "4"}}));
  EXPECT_EQ(nodeNamed(net, "max_pool_in4a_pool").attrs,
            (Attrs{{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"pool_type", "max"},
                   {"stride", "(1, 1)"}}));
  EXPECT_EQ(nodeNamed(net, "pooling4").attrs,
            (Attrs{{"kernel", "(7, 7)"}, {"pool_type", "avg"}, {"stride", "(1, 1)"}}));
  EXPECT_EQ(nodeNamed(net, "conv_in5b_5x5_reduce").attrs,
            (Attrs{{"kernel", "(1, 1)"}, {"num_filter", "48"}, {"pad", "(0, 0)"},
                   {"stride", "(1, 1)"}}));
}

TEST(Zoo, InceptionBN) {
  Symbol net = zoo::build("inception-bn", imagenet());
  // 3 stem convs + 8 A modules (3a 3b 4a-4d 5a 5b) × 7 + 2 B modules × 5.
  EXPECT_EQ(countOp(net, "Convolution"), 69);
  EXPECT_EQ(countOp(net, "BatchNorm"), 69);
  EXPECT_EQ(countOp(net, "Concat"), 10);
  EXPECT_EQ(net.listAuxiliaryStates().size(), 138u);
  EXPECT_EQ(nodeNamed(net, "bn_3a_double_3x3_1").attrs,
            (Attrs{{"eps", "1.0000100000000001e-05"}, {"fix_gamma", "False"},
                   {"momentum", "0.9"}}));
  EXPECT_EQ(nodeNamed(net, "ch_concat_3c_chconcat").attrs, (Attrs{{"num_args", "3"}}));
  // 28×28: the simpler network of the same script.
  Symbol small = zoo::build("inception-bn");
  EXPECT_EQ(countOp(small, "Convolution"), 19);
  EXPECT_EQ(countOp(small, "Concat"), 10);
  EXPECT_EQ(nodeNamed(small, "global_pool").attrs,
            (Attrs{{"kernel", "(7, 7)"}, {"pool_type", "avg"}}));
  EXPECT_EQ(nodeNamed(small, "conv_in3c_conv").attrs,
            (Attrs{{"kernel", "(3, 3)"}, {"num_filter", "80"}, {"pad", "(1, 1)"},
                   {"stride", "(2, 2)"}}));
}

TEST(Zoo, ResNet50ImageNet) {
  Symbol net = zoo::build("resnet50", imagenet());
  EXPECT_EQ(countOp(net, "Convolution"), 53);
  // bn_data + bn0 + 16 units × 3 + bn1.
  EXPECT_EQ(countOp(net, "BatchNorm"), 51);
  EXPECT_EQ(countOp(net, "elemwise_add"), 16);
  EXPECT_EQ(countOp(net, "_copy"), 1);
  EXPECT_EQ(countOp(net, "Pooling"), 2);
  EXPECT_EQ(net.listAuxiliaryStates().size(), 102u);
  EXPECT_EQ(nodeNamed(net, "bn_data").attrs,
            (Attrs{{"eps", "2e-05"}, {"fix_gamma", "True"}, {"momentum", "0.9"}}));
  EXPECT_EQ(nodeNamed(net, "stage1_unit1_conv2").attrs,
            (Attrs{{"kernel", "(3, 3)"}, {"no_bias", "True"}, {"num_filter", "64"},
                   {"pad", "(1, 1)"}, {"stride", "(1, 1)"}, {"workspace", "256"}}));
  EXPECT_EQ(nodeNamed(net, "stage2_unit1_sc").attrs,
            (Attrs{{"kernel", "(1, 1)"}, {"no_bias", "True"}, {"num_filter", "512"},
                   {"stride", "(2, 2)"}, {"workspace", "256"}}));
  EXPECT_EQ(nodeNamed(net, "conv0").attrs.at("kernel"), "(7, 7)");
  EXPECT_EQ(nodeNamed(net, "pool1").attrs,
            (Attrs{{"global_pool", "True"}, {"kernel", "(7, 7)"}, {"pool_type", "avg"}}));
  EXPECT_EQ(nodeNamed(net, "_plus15").op, "elemwise_add");
  Names args = net.listArguments();
  EXPECT_EQ(Names(args.begin(), args.begin() + 4),
            (Names{"data", "bn_data_gamma", "bn_data_beta", "conv0_weight"}));
}

TEST(Zoo, ResNet18ImageNet) {
  Symbol net = zoo::build("resnet18", imagenet());
  EXPECT_EQ(countOp(net, "Convolution"), 21);
  EXPECT_EQ(countOp(net, "BatchNorm"), 19);
  EXPECT_EQ(countOp(net, "elemwise_add"), 8);
  EXPECT_EQ(nodeNamed(net, "stage4_unit2_conv2").attrs.at("num_filter"), "512");
}

TEST(Zoo, ResNetSmallImages) {
  // resnet.py, height <= 28, 50 layers: 3 stages of 8 basic units with
  // filters 16/32/64 and the 3×3 stem without bn0/pooling.
  Symbol r50 = zoo::build("resnet50");
  EXPECT_EQ(countOp(r50, "Convolution"), 52);
  EXPECT_EQ(countOp(r50, "BatchNorm"), 50);
  EXPECT_EQ(countOp(r50, "elemwise_add"), 24);
  EXPECT_EQ(countOp(r50, "Pooling"), 1);
  EXPECT_EQ(nodeNamed(r50, "conv0").attrs,
            (Attrs{{"kernel", "(3, 3)"}, {"no_bias", "True"}, {"num_filter", "16"},
                   {"pad", "(1, 1)"}, {"stride", "(1, 1)"}, {"workspace", "256"}}));
  EXPECT_EQ(nodeNamed(r50, "stage3_unit8_conv2").attrs.at("num_filter"), "64");
  // 18 layers at 28×28 (which resnet.py rejects) uses the 32×32 network.
  Symbol r18 = zoo::build("resnet18");
  EXPECT_EQ(countOp(r18, "Convolution"), 21);
  EXPECT_EQ(countOp(r18, "BatchNorm"), 18);
  EXPECT_EQ(nodeNamed(r18, "conv0").attrs.at("kernel"), "(3, 3)");
  zoo::ZooOptions cifar;
  cifar.imageShape = {3, 32, 32};
  zoo::ZooOptions mnist3;
  mnist3.imageShape = {3, 28, 28};
  EXPECT_EQ(zoo::build("resnet18", cifar).toJSON(),
            zoo::build("resnet18", mnist3).toJSON());
}
