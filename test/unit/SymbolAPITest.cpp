//===- SymbolAPITest.cpp - The C++ Symbol API -----------------------------===//
//
// Expected names are MXNet's (checked against MXNet's Python behaviour:
// implicit "<node>_<input>" variables, NameManager hints, aux states).
//
//===----------------------------------------------------------------------===//

#include "kiln/Symbol.h"

#include "API/SymbolInternal.h"
#include "kiln/Error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace kiln;
using Names = std::vector<std::string>;
using Attrs = std::map<std::string, std::string>;

namespace {

const mx::Node &nodeNamed(const Symbol &s, const std::string &name) {
  for (const mx::Node &n : detail::graphOf(s).nodes)
    if (n.name == name)
      return n;
  throw std::runtime_error("no node " + name);
}

void expectSameGraph(const mx::Graph &a, const mx::Graph &b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].op, b.nodes[i].op) << i;
    EXPECT_EQ(a.nodes[i].name, b.nodes[i].name) << i;
    EXPECT_EQ(a.nodes[i].attrs, b.nodes[i].attrs) << i;
    EXPECT_EQ(a.nodes[i].hints, b.nodes[i].hints) << i;
    EXPECT_EQ(a.nodes[i].inputs, b.nodes[i].inputs) << i;
  }
  EXPECT_EQ(a.heads, b.heads);
}

} // namespace

TEST(SymbolAPI, MlpArguments) {
  NameManager scope;
  Symbol data = Symbol::Variable("data");
  Symbol fc1 = sym::FullyConnected("fc1", data, 128);
  Symbol act1 = sym::Activation("relu1", fc1, "relu");
  Symbol fc2 = sym::FullyConnected("fc2", act1, 10);
  Symbol net = sym::SoftmaxOutput("softmax", fc2);
  EXPECT_EQ(net.listArguments(), (Names{"data", "fc1_weight", "fc1_bias",
                                        "fc2_weight", "fc2_bias",
                                        "softmax_label"}));
  EXPECT_TRUE(net.listAuxiliaryStates().empty());
  EXPECT_EQ(net.listOutputs(), (Names{"softmax_output"}));
  EXPECT_EQ(net.name(), "softmax");
  EXPECT_EQ(nodeNamed(net, "fc1").attrs, (Attrs{{"num_hidden", "128"}}));
  EXPECT_EQ(nodeNamed(net, "relu1").attrs, (Attrs{{"act_type", "relu"}}));
  EXPECT_TRUE(nodeNamed(net, "softmax").attrs.empty());
}

TEST(SymbolAPI, NoBiasAndDeconvolutionDefault) {
  Symbol data = Symbol::Variable("data");
  Symbol c = sym::Convolution("c", data, {3, 3}, 8,
                              sym::ConvolutionOpts().noBias(true).pad({1, 1}));
  EXPECT_EQ(c.listArguments(), (Names{"data", "c_weight"}));
  EXPECT_EQ(nodeNamed(c, "c").attrs,
            (Attrs{{"kernel", "(3, 3)"}, {"no_bias", "True"},
                   {"num_filter", "8"}, {"pad", "(1, 1)"}}));
  // Deconvolution has no bias unless no_bias=False.
  Symbol d = sym::Deconvolution("d", data, {2, 2}, 4);
  EXPECT_EQ(d.listArguments(), (Names{"data", "d_weight"}));
  Symbol d2 = sym::Deconvolution("d2", data, {2, 2}, 4,
                                 sym::DeconvolutionOpts().noBias(false));
  EXPECT_EQ(d2.listArguments(), (Names{"data", "d2_weight", "d2_bias"}));
}

TEST(SymbolAPI, BatchNormAuxStates) {
  Symbol data = Symbol::Variable("data");
  Symbol bn = sym::BatchNorm("bn1", data,
                             sym::BatchNormOpts().fixGamma(false).eps(2e-5));
  Symbol net = sym::FullyConnected("fc", bn, 3);
  EXPECT_EQ(net.listArguments(),
            (Names{"data", "bn1_gamma", "bn1_beta", "fc_weight", "fc_bias"}));
  EXPECT_EQ(net.listAuxiliaryStates(),
            (Names{"bn1_moving_mean", "bn1_moving_var"}));
  EXPECT_EQ(net.listInputs(),
            (Names{"data", "bn1_gamma", "bn1_beta", "bn1_moving_mean",
                   "bn1_moving_var", "fc_weight", "fc_bias"}));
  EXPECT_EQ(nodeNamed(net, "bn1").attrs,
            (Attrs{{"eps", "2e-05"}, {"fix_gamma", "False"}}));
}

TEST(SymbolAPI, PReLUGamma) {
  Symbol x = Symbol::Variable("x");
  Symbol p = sym::LeakyReLU("prelu1", x, sym::LeakyReLUOpts().actType("prelu"));
  EXPECT_EQ(p.listArguments(), (Names{"x", "prelu1_gamma"}));
  Symbol l = sym::LeakyReLU("leaky", x, sym::LeakyReLUOpts().slope(0.1));
  EXPECT_EQ(l.listArguments(), (Names{"x"}));
}

TEST(SymbolAPI, AutomaticNames) {
  NameManager scope;
  Symbol data = Symbol::Variable("data");
  Symbol c0 = sym::Convolution("", data, {3, 3}, 4);
  Symbol c1 = sym::Convolution("", c0, {3, 3}, 4);
  Symbol p = sym::Pooling("", c1, sym::PoolingOpts().kernel({2, 2}));
  Symbol f = sym::Flatten("", p);
  EXPECT_EQ(f.listArguments(),
            (Names{"data", "convolution0_weight", "convolution0_bias",
                   "convolution1_weight", "convolution1_bias"}));
  EXPECT_EQ(f.name(), "flatten0");
  EXPECT_EQ(p.name(), "pooling0");
  {
    NameManager inner; // fresh counters, as `with mx.name.NameManager()`
    EXPECT_EQ(sym::Flatten("", data).name(), "flatten0");
  }
  EXPECT_EQ(sym::Flatten("", data).name(), "flatten1");
}

TEST(SymbolAPI, Arithmetic) {
  NameManager scope;
  Symbol a = Symbol::Variable("a"), b = Symbol::Variable("b");
  Symbol sum = a + b;
  // NumPy broadcasting, the same meaning as NDArray arithmetic.
  EXPECT_EQ(nodeNamed(sum, "_plus0").op, "broadcast_add");
  EXPECT_EQ(nodeNamed(a - b, "_minus0").op, "broadcast_sub");
  EXPECT_EQ(nodeNamed(a * b, "_mul0").op, "broadcast_mul");
  EXPECT_EQ(nodeNamed(a / b, "_div0").op, "broadcast_div");
  Symbol s = a * 2.0;
  const mx::Node &n = nodeNamed(s, "_mulscalar0");
  EXPECT_EQ(n.op, "_mul_scalar");
  EXPECT_EQ(n.attrs, (Attrs{{"scalar", "2.0"}}));
  EXPECT_EQ(nodeNamed(1.5 - a, "_rminusscalar0").op, "_rminus_scalar");
  EXPECT_EQ(nodeNamed(1.0 / a, "_rdivscalar0").op, "_rdiv_scalar");
  EXPECT_EQ(nodeNamed(a - 0.5, "_minusscalar0").attrs.at("scalar"), "0.5");
  EXPECT_EQ(nodeNamed(3.0 + a, "_plusscalar0").op, "_plus_scalar");
  EXPECT_EQ(sum.listArguments(), (Names{"a", "b"}));
  // A variable used twice appears once.
  EXPECT_EQ((a + a).listArguments(), (Names{"a"}));
}

TEST(SymbolAPI, SplitAndGroup) {
  Symbol x = Symbol::Variable("x");
  Symbol parts = sym::SliceChannel("split0", x, 3);
  EXPECT_EQ(parts.numOutputs(), 3u);
  EXPECT_EQ(parts.listOutputs(),
            (Names{"split0_output0", "split0_output1", "split0_output2"}));
  Symbol second = parts[1];
  EXPECT_EQ(second.listOutputs(), (Names{"split0_output1"}));
  EXPECT_THROW(parts[3], kiln::Error);
  // A multi-output symbol is not an operator input.
  EXPECT_THROW(sym::Flatten("f", parts), kiln::Error);
  Symbol y = sym::Flatten("f", parts[2]);
  EXPECT_EQ(detail::graphOf(y).nodes.back().inputs[0].index, 2);
  Symbol g = group({sym::Flatten("f1", x), parts[0]});
  EXPECT_EQ(g.listOutputs(), (Names{"f1_output", "split0_output0"}));
  EXPECT_EQ(g.numOutputs(), 2u);
  EXPECT_THROW(g.name(), kiln::Error);
  EXPECT_EQ(group({x}).listOutputs(), (Names{"x"}));
}

TEST(SymbolAPI, ConcatAndAddN) {
  Symbol a = Symbol::Variable("a"), b = Symbol::Variable("b"),
         c = Symbol::Variable("c");
  Symbol cat = sym::Concat("cat", {a, b, c}, 1);
  EXPECT_EQ(nodeNamed(cat, "cat").attrs, (Attrs{{"dim", "1"}, {"num_args", "3"}}));
  EXPECT_EQ(cat.listArguments(), (Names{"a", "b", "c"}));
  Symbol s = sym::add_n("s", {a, b});
  EXPECT_EQ(nodeNamed(s, "s").attrs, (Attrs{{"num_args", "2"}}));
}

TEST(SymbolAPI, GenericCreate) {
  Symbol x = Symbol::Variable("x");
  Symbol w = Symbol::Variable("shared_w");
  // Legacy name accepted, canonical name stored.
  Symbol fc = Symbol::create("FullyConnected", "fc", {x, w}, {{"num_hidden", "4"}});
  EXPECT_EQ(fc.listArguments(), (Names{"x", "shared_w", "fc_bias"}));
  Symbol sm = Symbol::create("Softmax", "out", {fc});
  EXPECT_EQ(nodeNamed(sm, "out").op, "SoftmaxOutput");
  EXPECT_EQ(sm.listArguments().back(), "out_label");
  Symbol named = Symbol::createNamed("FullyConnected", "fc2",
                                     {{"data", x}, {"bias", Symbol::Variable("b2")}},
                                     {{"num_hidden", "4"}});
  EXPECT_EQ(named.listArguments(), (Names{"x", "fc2_weight", "b2"}));
  EXPECT_THROW(Symbol::create("NoSuchOp", "n", {x}), kiln::Error);
  EXPECT_THROW(Symbol::create("Flatten", "f", {x, x}), kiln::Error);
  EXPECT_THROW(Symbol::createNamed("Flatten", "f", {{"weight", x}}), kiln::Error);
  EXPECT_THROW(Symbol::create("FullyConnected", "fc", {x},
                              {{"num_hidden", "4"}, {"no_bias", "perhaps"}}),
               kiln::Error);
  // Hidden keys given as attrs become hints.
  Symbol h = Symbol::create("Flatten", "fl", {x}, {{"__ctx_group__", "g1"}});
  EXPECT_TRUE(nodeNamed(h, "fl").attrs.empty());
  EXPECT_EQ(nodeNamed(h, "fl").hints, (Attrs{{"__ctx_group__", "g1"}}));
  std::string msg;
  try {
    Symbol::create("Foo", "bar", {x});
  } catch (const kiln::Error &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("unknown operator 'Foo'"), std::string::npos) << msg;
}

TEST(SymbolAPI, JSONRoundTrip) {
  Symbol data = Symbol::Variable("data", {{"__shape__", "(1, 3, 8, 8)"}});
  Symbol c = sym::Convolution("c1", data, {3, 3}, 4, sym::ConvolutionOpts().stride({2, 2}));
  Symbol bn = sym::BatchNorm("bn", c);
  Symbol r = sym::Activation("r", bn, "relu") + sym::Convolution("c2", data, {3, 3}, 4,
                                                                 sym::ConvolutionOpts().stride({2, 2}));
  Symbol net = group({sym::SoftmaxOutput("softmax", sym::Flatten("fl", r)), bn});
  Symbol back = Symbol::fromJSON(net.toJSON());
  expectSameGraph(detail::graphOf(net), detail::graphOf(back));
  EXPECT_EQ(back.listArguments(), net.listArguments());
  EXPECT_EQ(back.listAuxiliaryStates(), (Names{"bn_moving_mean", "bn_moving_var"}));
  EXPECT_EQ(back.listOutputs(), (Names{"softmax_output", "bn_output"}));
  EXPECT_EQ(detail::graphOf(back).nodes[0].hints,
            (Attrs{{"__shape__", "(1, 3, 8, 8)"}}));
  EXPECT_EQ(back.toJSON(), net.toJSON());
}

TEST(SymbolAPI, SaveAndLoad) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/kiln-symbol-test-" + std::to_string(::getpid()) + "-symbol.json";
  Symbol net = sym::SoftmaxOutput("softmax",
                                  sym::FullyConnected("fc", Symbol::Variable("data"), 3));
  net.save(path);
  Symbol back = Symbol::load(path);
  EXPECT_EQ(back.listArguments(),
            (Names{"data", "fc_weight", "fc_bias", "softmax_label"}));
  EXPECT_EQ(back.toJSON(), net.toJSON());
  std::remove(path.c_str());
  EXPECT_THROW(Symbol::load(path), kiln::Error);
  EXPECT_THROW(Symbol::fromJSON("{", "broken.json"), kiln::Error);
}

TEST(SymbolAPI, SymbolFromGraph) {
  mx::Graph g = mx::parseSymbolJSON(R"({"nodes": [
      {"op": "null", "name": "x", "inputs": []},
      {"op": "Activation", "name": "a", "attrs": {"act_type": "tanh"}, "inputs": [[0, 0, 0]]}],
      "heads": [[1, 0, 0]]})", "g.json");
  Symbol s = detail::symbolFromGraph(g);
  expectSameGraph(detail::graphOf(s), g);
  // Composing on top of a loaded symbol works like any other.
  Symbol t = sym::Flatten("f", s);
  EXPECT_EQ(detail::graphOf(t).nodes.size(), 3u);
  mx::Graph bad = g;
  bad.nodes[1].inputs[0].node = 1;
  EXPECT_THROW(detail::symbolFromGraph(bad), kiln::Error);
}
