//===- Zoo.cpp - Built-in networks ----------------------------------------===//
//
// Transcriptions of apache/mxnet example/image-classification/symbols/*.py
// (v1.x). Each call passes exactly the keyword arguments the Python passes,
// and leaves a name empty where the Python does, so that node names,
// attribute strings and node order match what MXNet writes for the same
// network. Python's str() of the values is reproduced: tuples "(3, 3)",
// ints "2", floats by repr ("2e-05", "0.9").
//
//===----------------------------------------------------------------------===//

#include "kiln/Zoo.h"

#include "kiln/Error.h"

#include <functional>

namespace kiln::zoo {

namespace {

using namespace kiln::sym;
using Shape = std::vector<int64_t>;

Symbol softmaxHead(const Symbol &x) { return SoftmaxOutput("softmax", x); }

// mlp.py
Symbol mlp(const ZooOptions &o) {
  Symbol data = Symbol::Variable("data");
  data = Flatten("", data);
  Symbol fc1 = FullyConnected("fc1", data, 128);
  Symbol act1 = Activation("relu1", fc1, "relu");
  Symbol fc2 = FullyConnected("fc2", act1, 64);
  Symbol act2 = Activation("relu2", fc2, "relu");
  Symbol fc3 = FullyConnected("fc3", act2, o.numClasses);
  return softmaxHead(fc3);
}

// lenet.py (add_stn=False)
Symbol lenet(const ZooOptions &o) {
  Symbol data = Symbol::Variable("data");
  Symbol conv1 = Convolution("", data, {5, 5}, 20);
  Symbol tanh1 = Activation("", conv1, "tanh");
  Symbol pool1 = Pooling("", tanh1, PoolingOpts().poolType("max").kernel({2, 2}).stride({2, 2}));
  Symbol conv2 = Convolution("", pool1, {5, 5}, 50);
  Symbol tanh2 = Activation("", conv2, "tanh");
  Symbol pool2 = Pooling("", tanh2, PoolingOpts().poolType("max").kernel({2, 2}).stride({2, 2}));
  Symbol flatten = Flatten("", pool2);
  Symbol fc1 = FullyConnected("", flatten, 500);
  Symbol tanh3 = Activation("", fc1, "tanh");
  Symbol fc2 = FullyConnected("", tanh3, o.numClasses);
  return softmaxHead(fc2);
}

// alexnet.py (dtype float32)
Symbol alexnet(const ZooOptions &o) {
  auto lrn = [](const Symbol &x) {
    LRNOpts opts;
    opts.alpha(0.0001).beta(0.75);
    opts.set("knorm", "2"); // an int in the Python, so str() gives "2"
    return LRN("", x, 5, opts);
  };
  auto maxPool = [](const Symbol &x) {
    return Pooling("", x, PoolingOpts().poolType("max").kernel({3, 3}).stride({2, 2}));
  };
  Symbol data = Symbol::Variable("data");
  Symbol conv1 = Convolution("conv1", data, {11, 11}, 96, ConvolutionOpts().stride({4, 4}));
  Symbol relu1 = Activation("", conv1, "relu");
  Symbol pool1 = maxPool(lrn(relu1));
  Symbol conv2 = Convolution("conv2", pool1, {5, 5}, 256, ConvolutionOpts().pad({2, 2}));
  Symbol relu2 = Activation("", conv2, "relu");
  Symbol pool2 = maxPool(lrn(relu2));
  Symbol conv3 = Convolution("conv3", pool2, {3, 3}, 384, ConvolutionOpts().pad({1, 1}));
  Symbol relu3 = Activation("", conv3, "relu");
  Symbol conv4 = Convolution("conv4", relu3, {3, 3}, 384, ConvolutionOpts().pad({1, 1}));
  Symbol relu4 = Activation("", conv4, "relu");
  Symbol conv5 = Convolution("conv5", relu4, {3, 3}, 256, ConvolutionOpts().pad({1, 1}));
  Symbol relu5 = Activation("", conv5, "relu");
  Symbol pool3 = maxPool(relu5);
  Symbol flatten = Flatten("", pool3);
  Symbol fc1 = FullyConnected("fc1", flatten, 4096);
  Symbol relu6 = Activation("", fc1, "relu");
  Symbol dropout1 = Dropout("", relu6, DropoutOpts().p(0.5));
  Symbol fc2 = FullyConnected("fc2", dropout1, 4096);
  Symbol relu7 = Activation("", fc2, "relu");
  Symbol dropout2 = Dropout("", relu7, DropoutOpts().p(0.5));
  Symbol fc3 = FullyConnected("fc3", dropout2, o.numClasses);
  return softmaxHead(fc3);
}

// vgg.py with num_layers=16, batch_norm=False
Symbol vgg16(const ZooOptions &o) {
  const int layers[] = {2, 2, 3, 3, 3};
  const int filters[] = {64, 128, 256, 512, 512};
  Symbol x = Symbol::Variable("data");
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < layers[i]; ++j) {
      std::string suffix = std::to_string(i + 1) + "_" + std::to_string(j + 1);
      x = Convolution("conv" + suffix, x, {3, 3}, filters[i], ConvolutionOpts().pad({1, 1}));
      x = Activation("relu" + suffix, x, "relu");
    }
    x = Pooling("pool" + std::to_string(i + 1), x,
                PoolingOpts().poolType("max").kernel({2, 2}).stride({2, 2}));
  }
  Symbol flatten = Flatten("flatten", x);
  Symbol fc6 = FullyConnected("fc6", flatten, 4096);
  Symbol relu6 = Activation("relu6", fc6, "relu");
  Symbol drop6 = Dropout("drop6", relu6, DropoutOpts().p(0.5));
  Symbol fc7 = FullyConnected("fc7", drop6, 4096);
  Symbol relu7 = Activation("relu7", fc7, "relu");
  Symbol drop7 = Dropout("drop7", relu7, DropoutOpts().p(0.5));
  Symbol fc8 = FullyConnected("fc8", drop7, o.numClasses);
  return softmaxHead(fc8);
}

// googlenet.py
Symbol googlenetConv(const Symbol &data, int64_t numFilter, Shape kernel,
                     Shape stride, Shape pad, const std::string &name,
                     const std::string &suffix = "") {
  Symbol conv = Convolution("conv_" + name + suffix, data, kernel, numFilter,
                            ConvolutionOpts().stride(stride).pad(pad));
  return Activation("relu_" + name + suffix, conv, "relu");
}

Symbol googlenetInception(const Symbol &data, int n1x1, int n3x3red, int n3x3,
                          int nd5x5red, int nd5x5, const std::string &pool,
                          int proj, const std::string &name) {
  Symbol c1x1 = googlenetConv(data, n1x1, {1, 1}, {1, 1}, {0, 0}, name + "_1x1");
  Symbol c3x3r = googlenetConv(data, n3x3red, {1, 1}, {1, 1}, {0, 0}, name + "_3x3", "_reduce");
  Symbol c3x3 = googlenetConv(c3x3r, n3x3, {3, 3}, {1, 1}, {1, 1}, name + "_3x3");
  Symbol cd5x5r = googlenetConv(data, nd5x5red, {1, 1}, {1, 1}, {0, 0}, name + "_5x5", "_reduce");
  Symbol cd5x5 = googlenetConv(cd5x5r, nd5x5, {5, 5}, {1, 1}, {2, 2}, name + "_5x5");
  Symbol pooling = Pooling(pool + "_pool_" + name + "_pool", data,
                           PoolingOpts().kernel({3, 3}).stride({1, 1}).pad({1, 1}).poolType(pool));
  Symbol cproj = googlenetConv(pooling, proj, {1, 1}, {1, 1}, {0, 0}, name + "_proj");
  return Concat("ch_concat_" + name + "_chconcat", {c1x1, c3x3, cd5x5, cproj});
}

Symbol googlenet(const ZooOptions &o) {
  auto maxPool = [](const Symbol &x) {
    return Pooling("", x, PoolingOpts().kernel({3, 3}).stride({2, 2}).poolType("max"));
  };
  Symbol data = Symbol::Variable("data");
  Symbol conv1 = googlenetConv(data, 64, {7, 7}, {2, 2}, {3, 3}, "conv1");
  Symbol pool1 = maxPool(conv1);
  Symbol conv2 = googlenetConv(pool1, 64, {1, 1}, {1, 1}, {0, 0}, "conv2");
  Symbol conv3 = googlenetConv(conv2, 192, {3, 3}, {1, 1}, {1, 1}, "conv3");
  Symbol pool3 = maxPool(conv3);
  Symbol in3a = googlenetInception(pool3, 64, 96, 128, 16, 32, "max", 32, "in3a");
  Symbol in3b = googlenetInception(in3a, 128, 128, 192, 32, 96, "max", 64, "in3b");
  Symbol pool4 = maxPool(in3b);
  Symbol in4a = googlenetInception(pool4, 192, 96, 208, 16, 48, "max", 64, "in4a");
  Symbol in4b = googlenetInception(in4a, 160, 112, 224, 24, 64, "max", 64, "in4b");
  Symbol in4c = googlenetInception(in4b, 128, 128, 256, 24, 64, "max", 64, "in4c");
  Symbol in4d = googlenetInception(in4c, 112, 144, 288, 32, 64, "max", 64, "in4d");
  Symbol in4e = googlenetInception(in4d, 256, 160, 320, 32, 128, "max", 128, "in4e");
  Symbol pool5 = maxPool(in4e);
  Symbol in5a = googlenetInception(pool5, 256, 160, 320, 32, 128, "max", 128, "in5a");
  Symbol in5b = googlenetInception(in5a, 384, 192, 384, 48, 128, "max", 128, "in5b");
  Symbol pool6 = Pooling("", in5b, PoolingOpts().kernel({7, 7}).stride({1, 1}).poolType("avg"));
  Symbol flatten = Flatten("", pool6);
  Symbol fc1 = FullyConnected("", flatten, o.numClasses);
  return softmaxHead(fc1);
}

// inception-bn.py
Symbol bnConv(const Symbol &data, int64_t numFilter, Shape kernel, Shape stride,
              Shape pad, const std::string &name, const std::string &suffix = "") {
  Symbol conv = Convolution("conv_" + name + suffix, data, kernel, numFilter,
                            ConvolutionOpts().stride(stride).pad(pad));
  // eps = 1e-10 + 1e-5 in the Python, written as repr of that sum.
  Symbol bn = BatchNorm("bn_" + name + suffix, conv,
                        BatchNormOpts().fixGamma(false).eps(1e-10 + 1e-5).momentum(0.9));
  return Activation("relu_" + name + suffix, bn, "relu");
}

Symbol inceptionA(const Symbol &data, int n1x1, int n3x3red, int n3x3,
                  int nd3x3red, int nd3x3, const std::string &pool, int proj,
                  const std::string &name) {
  Symbol c1x1 = bnConv(data, n1x1, {1, 1}, {1, 1}, {0, 0}, name + "_1x1");
  Symbol c3x3r = bnConv(data, n3x3red, {1, 1}, {1, 1}, {0, 0}, name + "_3x3", "_reduce");
  Symbol c3x3 = bnConv(c3x3r, n3x3, {3, 3}, {1, 1}, {1, 1}, name + "_3x3");
  Symbol cd3x3r = bnConv(data, nd3x3red, {1, 1}, {1, 1}, {0, 0}, name + "_double_3x3", "_reduce");
  Symbol cd3x3 = bnConv(cd3x3r, nd3x3, {3, 3}, {1, 1}, {1, 1}, name + "_double_3x3_0");
  cd3x3 = bnConv(cd3x3, nd3x3, {3, 3}, {1, 1}, {1, 1}, name + "_double_3x3_1");
  Symbol pooling = Pooling(pool + "_pool_" + name + "_pool", data,
                           PoolingOpts().kernel({3, 3}).stride({1, 1}).pad({1, 1}).poolType(pool));
  Symbol cproj = bnConv(pooling, proj, {1, 1}, {1, 1}, {0, 0}, name + "_proj");
  return Concat("ch_concat_" + name + "_chconcat", {c1x1, c3x3, cd3x3, cproj});
}

Symbol inceptionB(const Symbol &data, int n3x3red, int n3x3, int nd3x3red,
                  int nd3x3, const std::string &name) {
  Symbol c3x3r = bnConv(data, n3x3red, {1, 1}, {1, 1}, {0, 0}, name + "_3x3", "_reduce");
  Symbol c3x3 = bnConv(c3x3r, n3x3, {3, 3}, {2, 2}, {1, 1}, name + "_3x3");
  Symbol cd3x3r = bnConv(data, nd3x3red, {1, 1}, {1, 1}, {0, 0}, name + "_double_3x3", "_reduce");
  Symbol cd3x3 = bnConv(cd3x3r, nd3x3, {3, 3}, {1, 1}, {1, 1}, name + "_double_3x3_0");
  cd3x3 = bnConv(cd3x3, nd3x3, {3, 3}, {2, 2}, {1, 1}, name + "_double_3x3_1");
  Symbol pooling = Pooling("max_pool_" + name + "_pool", data,
                           PoolingOpts().kernel({3, 3}).stride({2, 2}).pad({1, 1}).poolType("max"));
  return Concat("ch_concat_" + name + "_chconcat", {c3x3, cd3x3, pooling});
}

Symbol inceptionDownsample(const Symbol &data, int ch3x3, const std::string &name) {
  Symbol conv = bnConv(data, ch3x3, {3, 3}, {2, 2}, {1, 1}, name + "_conv");
  Symbol pool = Pooling(name + "_pool", data,
                        PoolingOpts().kernel({3, 3}).stride({2, 2}).pad({1, 1}).poolType("max"));
  return Concat(name + "_ch_concat", {conv, pool});
}

Symbol inceptionSimple(const Symbol &data, int ch1x1, int ch3x3, const std::string &name) {
  Symbol conv1x1 = bnConv(data, ch1x1, {1, 1}, {1, 1}, {0, 0}, name + "_1x1");
  Symbol conv3x3 = bnConv(data, ch3x3, {3, 3}, {1, 1}, {1, 1}, name + "_3x3");
  return Concat(name + "_ch_concat", {conv1x1, conv3x3});
}

Symbol inceptionBN(const ZooOptions &o) {
  Symbol data = Symbol::Variable("data");
  Symbol pool;
  if (o.imageShape[1] <= 28) {
    Symbol conv1 = bnConv(data, 96, {3, 3}, {1, 1}, {1, 1}, "1");
    Symbol in3a = inceptionSimple(conv1, 32, 32, "in3a");
    Symbol in3b = inceptionSimple(in3a, 32, 48, "in3b");
    Symbol in3c = inceptionDownsample(in3b, 80, "in3c");
    Symbol in4a = inceptionSimple(in3c, 112, 48, "in4a");
    Symbol in4b = inceptionSimple(in4a, 96, 64, "in4b");
    Symbol in4c = inceptionSimple(in4b, 80, 80, "in4c");
    Symbol in4d = inceptionSimple(in4c, 48, 96, "in4d");
    Symbol in4e = inceptionDownsample(in4d, 96, "in4e");
    Symbol in5a = inceptionSimple(in4e, 176, 160, "in5a");
    Symbol in5b = inceptionSimple(in5a, 176, 160, "in5b");
    pool = Pooling("global_pool", in5b, PoolingOpts().poolType("avg").kernel({7, 7}));
  } else {
    Symbol conv1 = bnConv(data, 64, {7, 7}, {2, 2}, {3, 3}, "1");
    Symbol pool1 = Pooling("pool_1", conv1, PoolingOpts().kernel({3, 3}).stride({2, 2}).poolType("max"));
    Symbol conv2red = bnConv(pool1, 64, {1, 1}, {1, 1}, {0, 0}, "2_red");
    Symbol conv2 = bnConv(conv2red, 192, {3, 3}, {1, 1}, {1, 1}, "2");
    Symbol pool2 = Pooling("pool_2", conv2, PoolingOpts().kernel({3, 3}).stride({2, 2}).poolType("max"));
    Symbol in3a = inceptionA(pool2, 64, 64, 64, 64, 96, "avg", 32, "3a");
    Symbol in3b = inceptionA(in3a, 64, 64, 96, 64, 96, "avg", 64, "3b");
    Symbol in3c = inceptionB(in3b, 128, 160, 64, 96, "3c");
    Symbol in4a = inceptionA(in3c, 224, 64, 96, 96, 128, "avg", 128, "4a");
    Symbol in4b = inceptionA(in4a, 192, 96, 128, 96, 128, "avg", 128, "4b");
    Symbol in4c = inceptionA(in4b, 160, 128, 160, 128, 160, "avg", 128, "4c");
    Symbol in4d = inceptionA(in4c, 96, 128, 192, 160, 192, "avg", 128, "4d");
    Symbol in4e = inceptionB(in4d, 128, 192, 192, 256, "4e");
    Symbol in5a = inceptionA(in4e, 352, 192, 320, 160, 224, "avg", 128, "5a");
    Symbol in5b = inceptionA(in5a, 352, 192, 320, 192, 224, "max", 128, "5b");
    pool = Pooling("global_pool", in5b, PoolingOpts().kernel({7, 7}).stride({1, 1}).poolType("avg"));
  }
  Symbol flatten = Flatten("", pool);
  Symbol fc1 = FullyConnected("", flatten, o.numClasses);
  return softmaxHead(fc1);
}

// resnet.py
BatchNormOpts resnetBN(bool fixGamma) {
  return BatchNormOpts().fixGamma(fixGamma).eps(2e-5).momentum(0.9);
}

Symbol residualUnit(const Symbol &data, int64_t numFilter, Shape stride,
                    bool dimMatch, const std::string &name, bool bottleNeck) {
  const int64_t workspace = 256;
  auto conv = [&](const std::string &n, const Symbol &x, int64_t f, Shape k,
                  Shape s, Shape p) {
    return Convolution(name + n, x, k, f,
                       ConvolutionOpts().stride(s).pad(p).noBias(true).workspace(workspace));
  };
  Symbol bn1 = BatchNorm(name + "_bn1", data, resnetBN(false));
  Symbol act1 = Activation(name + "_relu1", bn1, "relu");
  Symbol body;
  if (bottleNeck) {
    int64_t quarter = static_cast<int64_t>(numFilter * 0.25);
    Symbol conv1 = conv("_conv1", act1, quarter, {1, 1}, {1, 1}, {0, 0});
    Symbol bn2 = BatchNorm(name + "_bn2", conv1, resnetBN(false));
    Symbol act2 = Activation(name + "_relu2", bn2, "relu");
    Symbol conv2 = conv("_conv2", act2, quarter, {3, 3}, stride, {1, 1});
    Symbol bn3 = BatchNorm(name + "_bn3", conv2, resnetBN(false));
    Symbol act3 = Activation(name + "_relu3", bn3, "relu");
    body = conv("_conv3", act3, numFilter, {1, 1}, {1, 1}, {0, 0});
  } else {
    Symbol conv1 = conv("_conv1", act1, numFilter, {3, 3}, stride, {1, 1});
    Symbol bn2 = BatchNorm(name + "_bn2", conv1, resnetBN(false));
    Symbol act2 = Activation(name + "_relu2", bn2, "relu");
    body = conv("_conv2", act2, numFilter, {3, 3}, {1, 1}, {1, 1});
  }
  Symbol shortcut =
      dimMatch ? data
               : Convolution(name + "_sc", act1, {1, 1}, numFilter,
                             ConvolutionOpts().stride(stride).noBias(true).workspace(workspace));
  // resnet.py's `body + shortcut`: MXNet's Symbol `+` is elemwise_add
  // (named "_plus<N>"); Kiln's `+` broadcasts, so spell MXNet's op out.
  return Symbol::create("elemwise_add", NameManager::get("", "_plus"), {body, shortcut});
}

Symbol resnet(int numLayers, const ZooOptions &o) {
  int64_t height = o.imageShape[1];
  std::vector<int> units;
  std::vector<int64_t> filters;
  bool bottleNeck;
  if (height <= 28 && (numLayers - 2) % 6 == 0 && numLayers < 164) {
    // get_symbol's small-image branch (resnet-50 on 28×28: 3 stages of 8).
    units.assign(3, (numLayers - 2) / 6);
    filters = {16, 16, 32, 64};
    bottleNeck = false;
  } else {
    // get_symbol's ImageNet configurations. For 28×28 with 18 layers the
    // Python raises; Kiln uses these units with resnet()'s small-image stem
    // instead, exactly what resnet.py builds for 32×32 inputs.
    if (numLayers >= 50) {
      filters = {64, 256, 512, 1024, 2048};
      bottleNeck = true;
    } else {
      filters = {64, 64, 128, 256, 512};
      bottleNeck = false;
    }
    if (numLayers == 18)
      units = {2, 2, 2, 2};
    else if (numLayers == 50)
      units = {3, 4, 6, 3};
    else
      throw Error("resnet: no configuration for " + std::to_string(numLayers) +
                  " layers");
  }
  const int64_t workspace = 256;
  Symbol data = Symbol::Variable("data");
  data = identity("id", data);
  data = BatchNorm("bn_data", data, resnetBN(true));
  Symbol body;
  if (height <= 32) {
    body = Convolution("conv0", data, {3, 3}, filters[0],
                       ConvolutionOpts().stride({1, 1}).pad({1, 1}).noBias(true).workspace(workspace));
  } else {
    body = Convolution("conv0", data, {7, 7}, filters[0],
                       ConvolutionOpts().stride({2, 2}).pad({3, 3}).noBias(true).workspace(workspace));
    body = BatchNorm("bn0", body, resnetBN(false));
    body = Activation("relu0", body, "relu");
    body = Pooling("", body, PoolingOpts().kernel({3, 3}).stride({2, 2}).pad({1, 1}).poolType("max"));
  }
  for (size_t i = 0; i < units.size(); ++i) {
    int64_t s = i == 0 ? 1 : 2;
    std::string stage = "stage" + std::to_string(i + 1) + "_unit";
    body = residualUnit(body, filters[i + 1], {s, s}, false, stage + "1", bottleNeck);
    for (int j = 0; j < units[i] - 1; ++j)
      body = residualUnit(body, filters[i + 1], {1, 1}, true,
                          stage + std::to_string(j + 2), bottleNeck);
  }
  Symbol bn1 = BatchNorm("bn1", body, resnetBN(false));
  Symbol relu1 = Activation("relu1", bn1, "relu");
  Symbol pool1 = Pooling("pool1", relu1,
                         PoolingOpts().globalPool(true).kernel({7, 7}).poolType("avg"));
  Symbol flat = Flatten("", pool1);
  Symbol fc1 = FullyConnected("fc1", flat, o.numClasses);
  return softmaxHead(fc1);
}

struct ZooEntry {
  const char *name;
  std::function<Symbol(const ZooOptions &)> build;
};

const std::vector<ZooEntry> &table() {
  static const std::vector<ZooEntry> t = {
      {"mlp", mlp},
      {"lenet", lenet},
      {"alexnet", alexnet},
      {"vgg16", vgg16},
      {"googlenet", googlenet},
      {"inception-bn", inceptionBN},
      {"resnet18", [](const ZooOptions &o) { return resnet(18, o); }},
      {"resnet50", [](const ZooOptions &o) { return resnet(50, o); }},
  };
  return t;
}

} // namespace

std::vector<std::string> names() {
  std::vector<std::string> result;
  for (const ZooEntry &e : table())
    result.push_back(e.name);
  return result;
}

Symbol build(const std::string &name, const ZooOptions &opts) {
  for (const ZooEntry &e : table()) {
    if (name != e.name)
      continue;
    if (opts.numClasses < 1)
      throw Error("zoo network '" + name + "': numClasses must be positive, got " +
                  std::to_string(opts.numClasses));
    if (opts.imageShape.size() != 3 || opts.imageShape[0] < 1 ||
        opts.imageShape[1] < 1 || opts.imageShape[2] < 1)
      throw Error("zoo network '" + name +
                  "': imageShape must be (channels, height, width) with "
                  "positive sizes");
    NameManager scope; // names restart at zero, as in a fresh MXNet process
    return e.build(opts);
  }
  std::string list;
  for (const std::string &n : names())
    list += (list.empty() ? "" : ", ") + n;
  throw Error("unknown zoo network '" + name + "' (available: " + list + ")");
}

} // namespace kiln::zoo
