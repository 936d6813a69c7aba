//===- MXNetJSONTest.cpp - Symbol JSON of every era, attrs, catalog -------===//
//
// Expected values are hand-written facts about MXNet's format (SPEC §2.1 and
// the real files under shared/testdata), never earlier output of this code.
//
//===----------------------------------------------------------------------===//

#include "Import/MXNetAttrs.h"
#include "Import/MXNetGraph.h"
#include "Import/OpCatalog.h"
#include "kiln/Error.h"

#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace kiln;
using namespace kiln::mx;
using Attrs = std::map<std::string, std::string>;
using Names = std::vector<std::string>;

namespace {

std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const kiln::Error &e) {
    return e.what();
  }
  return "<no error>";
}

std::string parseError(const std::string &json) {
  return errorOf([&] { parseSymbolJSON(json, "bad-symbol.json"); });
}

void expectSameGraph(const Graph &a, const Graph &b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    SCOPED_TRACE("node " + std::to_string(i));
    EXPECT_EQ(a.nodes[i].op, b.nodes[i].op);
    EXPECT_EQ(a.nodes[i].name, b.nodes[i].name);
    EXPECT_EQ(a.nodes[i].attrs, b.nodes[i].attrs);
    EXPECT_EQ(a.nodes[i].hints, b.nodes[i].hints);
    EXPECT_EQ(a.nodes[i].inputs, b.nodes[i].inputs);
  }
  EXPECT_EQ(a.heads, b.heads);
}

std::vector<int64_t> inputIds(const Node &n) {
  std::vector<int64_t> ids;
  for (const NodeEntry &e : n.inputs)
    ids.push_back(e.node);
  return ids;
}

std::string sample(const std::string &name) {
  return std::string(KILN_TESTDATA_DIR) + "/mxnet-format-samples/" + name;
}

bool exists(const std::string &path) { return std::ifstream(path).good(); }

} // namespace

//===----------------------------------------------------------------------===//
// Attribute strings
//===----------------------------------------------------------------------===//

TEST(MXNetAttrs, TupleSpellings) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(parseTuple("(3, 3)", ""), (V{3, 3}));
  EXPECT_EQ(parseTuple("[3,3]", ""), (V{3, 3}));
  EXPECT_EQ(parseTuple("(3,)", ""), (V{3}));
  EXPECT_EQ(parseTuple("(3L, 3L)", ""), (V{3, 3}));
  EXPECT_EQ(parseTuple("3", ""), (V{3}));
  EXPECT_EQ(parseTuple("()", ""), V{});
  EXPECT_EQ(parseTuple("[]", ""), V{});
  EXPECT_EQ(parseTuple("(-1)", ""), (V{-1}));
  EXPECT_EQ(parseTuple(" ( 0 , -1, -4,2 ) ", ""), (V{0, -1, -4, 2}));
  EXPECT_THROW(parseTuple("(3, x)", "ctx"), kiln::Error);
  EXPECT_THROW(parseTuple("(3, 3", "ctx"), kiln::Error);
  EXPECT_THROW(parseTuple("", "ctx"), kiln::Error);
  EXPECT_NE(errorOf([] { parseTuple("(a)", "node 'c1' attribute 'kernel'"); })
                .find("node 'c1' attribute 'kernel'"),
            std::string::npos);
}

TEST(MXNetAttrs, Scalars) {
  for (const char *t : {"True", "true", "TRUE", "1"})
    EXPECT_TRUE(parseBool(t, "")) << t;
  for (const char *f : {"False", "false", "0"})
    EXPECT_FALSE(parseBool(f, "")) << f;
  EXPECT_THROW(parseBool("yes", ""), kiln::Error);
  EXPECT_EQ(parseInt("128", ""), 128);
  EXPECT_EQ(parseInt("-1", ""), -1);
  EXPECT_EQ(parseInt("3L", ""), 3);
  EXPECT_THROW(parseInt("3.5", ""), kiln::Error);
  EXPECT_THROW(parseInt("", ""), kiln::Error);
  EXPECT_DOUBLE_EQ(parseFloat("1e-05", ""), 1e-5);
  EXPECT_DOUBLE_EQ(parseFloat("0.9", ""), 0.9);
  EXPECT_DOUBLE_EQ(parseFloat("2", ""), 2.0);
  EXPECT_THROW(parseFloat("abc", ""), kiln::Error);
  EXPECT_TRUE(isNone("None"));
  EXPECT_TRUE(isNone("none"));
  EXPECT_FALSE(isNone("(1, 1)"));
}

TEST(MXNetAttrs, Formatting) {
  EXPECT_EQ(formatBool(true), "True");
  EXPECT_EQ(formatBool(false), "False");
  EXPECT_EQ(formatTuple({3, 3}), "(3, 3)");
  EXPECT_EQ(formatTuple({3}), "(3,)");
  EXPECT_EQ(formatTuple({}), "()");
  // Python repr of the same floats.
  EXPECT_EQ(formatFloat(0.001), "0.001");
  EXPECT_EQ(formatFloat(1e-5), "1e-05");
  EXPECT_EQ(formatFloat(2e-5), "2e-05");
  EXPECT_EQ(formatFloat(0.0001), "0.0001");
  EXPECT_EQ(formatFloat(0.9), "0.9");
  EXPECT_EQ(formatFloat(0.75), "0.75");
  EXPECT_EQ(formatFloat(1.0), "1.0");
  EXPECT_EQ(formatFloat(-127.5), "-127.5");
  EXPECT_EQ(formatFloat(0.0078125), "0.0078125");
  EXPECT_EQ(formatFloat(1e16), "1e+16");
  EXPECT_EQ(formatFloat(123456789.0), "123456789.0");
  EXPECT_EQ(formatFloat(1e-10 + 1e-5), "1.0000100000000001e-05");
  EXPECT_EQ(formatFloat(0.1 + 0.2), "0.30000000000000004");
}

//===----------------------------------------------------------------------===//
// Op catalog
//===----------------------------------------------------------------------===//

TEST(OpCatalog, LegacyNames) {
  const std::pair<const char *, const char *> cases[] = {
      {"Softmax", "SoftmaxOutput"},   {"_Plus", "elemwise_add"},
      {"_plus", "elemwise_add"},      {"_add", "elemwise_add"},
      {"_Minus", "elemwise_sub"},     {"_sub", "elemwise_sub"},
      {"_Mul", "elemwise_mul"},       {"_Div", "elemwise_div"},
      {"ElementWiseSum", "add_n"},    {"split", "SliceChannel"},
      {"_PlusScalar", "_plus_scalar"}, {"_MinusScalar", "_minus_scalar"},
      {"_MulScalar", "_mul_scalar"},  {"_DivScalar", "_div_scalar"},
      {"_RMinusScalar", "_rminus_scalar"}, {"_RDivScalar", "_rdiv_scalar"},
      {"flatten", "Flatten"},         {"reshape", "Reshape"},
      {"concat", "Concat"},           {"broadcast_plus", "broadcast_add"},
      {"broadcast_minus", "broadcast_sub"}, {"sum_axis", "sum"},
      {"max_axis", "max"},            {"min_axis", "min"},
      {"identity", "_copy"},          {"FullyConnected", "FullyConnected"},
      {"NoSuchOp", "NoSuchOp"}};
  for (const auto &c : cases)
    EXPECT_EQ(canonicalOpName(c.first), c.second) << c.first;
  EXPECT_EQ(lookupOp("NoSuchOp"), nullptr);
  ASSERT_NE(lookupOp("Softmax"), nullptr);
  EXPECT_EQ(lookupOp("Softmax")->name, "SoftmaxOutput");
}

TEST(OpCatalog, EveryOpIsKnown) {
  for (const char *op :
       {"FullyConnected", "Convolution", "Deconvolution", "Pooling",
        "Activation", "LeakyReLU", "BatchNorm", "LRN", "Dropout", "Embedding",
        "SoftmaxOutput", "softmax", "log_softmax", "SoftmaxActivation",
        "Flatten", "Reshape", "transpose", "Concat", "SliceChannel",
        "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div",
        "add_n", "_plus_scalar", "_minus_scalar", "_rminus_scalar",
        "_mul_scalar", "_div_scalar", "_rdiv_scalar", "_power_scalar",
        "_rpower_scalar", "_maximum_scalar", "_minimum_scalar",
        "broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div",
        "broadcast_maximum", "broadcast_minimum", "broadcast_power",
        "broadcast_to", "sum", "mean", "max", "min", "LinearRegressionOutput",
        "LogisticRegressionOutput", "MAERegressionOutput"}) {
    const OpInfo *info = lookupOp(op);
    ASSERT_NE(info, nullptr) << op;
    EXPECT_EQ(info->name, op);
  }
}

TEST(OpCatalog, InputNames) {
  auto names = [](const char *op, const Attrs &a) {
    return lookupOp(op)->inputNames(a);
  };
  EXPECT_EQ(names("FullyConnected", {}), (Names{"data", "weight", "bias"}));
  EXPECT_EQ(names("FullyConnected", {{"no_bias", "True"}}),
            (Names{"data", "weight"}));
  EXPECT_EQ(names("Convolution", {{"no_bias", "false"}}),
            (Names{"data", "weight", "bias"}));
  EXPECT_EQ(names("Convolution", {{"no_bias", "1"}}), (Names{"data", "weight"}));
  // Deconvolution's no_bias defaults to True.
  EXPECT_EQ(names("Deconvolution", {}), (Names{"data", "weight"}));
  EXPECT_EQ(names("Deconvolution", {{"no_bias", "False"}}),
            (Names{"data", "weight", "bias"}));
  EXPECT_EQ(names("LeakyReLU", {}), (Names{"data"}));
  EXPECT_EQ(names("LeakyReLU", {{"act_type", "prelu"}}),
            (Names{"data", "gamma"}));
  EXPECT_EQ(names("BatchNorm", {}),
            (Names{"data", "gamma", "beta", "moving_mean", "moving_var"}));
  EXPECT_EQ(lookupOp("BatchNorm")->numAuxInputs, 2);
  EXPECT_EQ(lookupOp("FullyConnected")->numAuxInputs, 0);
  EXPECT_EQ(names("SoftmaxOutput", {}), (Names{"data", "label"}));
  EXPECT_EQ(names("LinearRegressionOutput", {}), (Names{"data", "label"}));
  EXPECT_EQ(names("Embedding", {}), (Names{"data", "weight"}));
  EXPECT_EQ(names("Concat", {{"num_args", "3"}}),
            (Names{"arg0", "arg1", "arg2"}));
  EXPECT_EQ(names("add_n", {{"num_args", "2"}}), (Names{"arg0", "arg1"}));
  EXPECT_EQ(names("elemwise_add", {}), (Names{"lhs", "rhs"}));
  EXPECT_EQ(names("broadcast_mul", {}), (Names{"lhs", "rhs"}));
  EXPECT_EQ(names("_plus_scalar", {{"scalar", "1"}}), (Names{"data"}));
  EXPECT_THROW(names("Concat", {}), kiln::Error);
  EXPECT_THROW(names("FullyConnected", {{"no_bias", "maybe"}}), kiln::Error);
}

TEST(OpCatalog, NumOutputs) {
  Node split{"SliceChannel", "s", {{"num_outputs", "4"}}, {}, {}};
  EXPECT_EQ(numOutputs(split), 4);
  Node bn{"BatchNorm", "bn", {}, {}, {}};
  EXPECT_EQ(numOutputs(bn), 1);
  bn.attrs["output_mean_var"] = "True";
  EXPECT_EQ(numOutputs(bn), 3);
  Node var{"null", "x", {}, {}, {}};
  EXPECT_EQ(numOutputs(var), 1);
  Node badSplit{"SliceChannel", "s", {}, {}, {}};
  EXPECT_THROW(numOutputs(badSplit), kiln::Error);
}

//===----------------------------------------------------------------------===//
// Eras
//===----------------------------------------------------------------------===//

// ≤0.8: "param" + user "attr", 2-element entries, backward_source_id, no
// version, no aux states for BatchNorm, legacy "Softmax".
static const char *kV08 = R"({
  "nodes": [
    {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1,
     "attr": {"ctx_group": "dev1", "lr_mult": "0.5"}},
    {"op": "null", "param": {}, "name": "bn_gamma", "inputs": [], "backward_source_id": -1,
     "attr": {"ctx_group": "dev1"}},
    {"op": "null", "param": {}, "name": "bn_beta", "inputs": [], "backward_source_id": -1},
    {"op": "BatchNorm", "param": {"eps": "0.001", "fix_gamma": "True"}, "name": "bn",
     "inputs": [[0, 0], [1, 0], [2, 0]], "backward_source_id": -1,
     "attr": {"ctx_group": "dev1", "gamma_lr_mult": "2"}},
    {"op": "Activation", "param": {"act_type": "relu"}, "name": "relu",
     "inputs": [[3, 0]], "backward_source_id": -1},
    {"op": "null", "param": {}, "name": "sm_label", "inputs": [], "backward_source_id": -1},
    {"op": "Softmax", "param": {"grad_scale": "1"}, "name": "sm",
     "inputs": [[4, 0], [5, 0]], "backward_source_id": -1}
  ],
  "arg_nodes": [0, 1, 2, 5],
  "heads": [[6, 0]]
})";

TEST(MXNetJSON, Era08) {
  Graph g = parseSymbolJSON(kV08, "v08.json");
  EXPECT_EQ(g.mxnetVersion, 800);
  ASSERT_EQ(g.nodes.size(), 9u);
  Names names;
  for (const Node &n : g.nodes)
    names.push_back(n.name);
  // The aux variables come right before their BatchNorm (DFS post-order).
  EXPECT_EQ(names, (Names{"data", "bn_gamma", "bn_beta", "bn_moving_mean",
                          "bn_moving_var", "bn", "relu", "sm_label", "sm"}));
  EXPECT_TRUE(g.nodes[3].isVariable());
  EXPECT_TRUE(g.nodes[4].isVariable());
  const Node &bn = g.nodes[5];
  EXPECT_EQ(bn.op, "BatchNorm");
  EXPECT_EQ(inputIds(bn), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(bn.attrs, (Attrs{{"eps", "0.001"}, {"fix_gamma", "True"}}));
  EXPECT_EQ(bn.hints, (Attrs{{"__ctx_group__", "dev1"}}));
  // gamma_lr_mult goes to the gamma variable as __lr_mult__.
  EXPECT_EQ(g.nodes[1].hints,
            (Attrs{{"__ctx_group__", "dev1"}, {"__lr_mult__", "2"}}));
  // New aux variables carry the op's hints, as MXNet's upgrader copies them.
  EXPECT_EQ(g.nodes[3].hints, (Attrs{{"__ctx_group__", "dev1"}}));
  EXPECT_EQ(g.nodes[0].hints,
            (Attrs{{"__ctx_group__", "dev1"}, {"__lr_mult__", "0.5"}}));
  EXPECT_TRUE(g.nodes[0].attrs.empty());
  EXPECT_EQ(inputIds(g.nodes[6]), (std::vector<int64_t>{5}));
  EXPECT_EQ(g.nodes[8].op, "SoftmaxOutput");
  EXPECT_EQ(inputIds(g.nodes[8]), (std::vector<int64_t>{6, 7}));
  ASSERT_EQ(g.heads.size(), 1u);
  EXPECT_EQ(g.heads[0], (NodeEntry{8, 0}));
}

// 0.9: "attr" holds parameters, hidden keys, 3-element entries, version 904;
// variables carry copies of their consumer's parameters.
static const char *kV09 = R"({
  "nodes": [
    {"op": "null", "name": "x", "inputs": []},
    {"op": "null", "name": "fc_weight", "attr": {"num_hidden": "4", "__lr_mult__": "0.1"}, "inputs": []},
    {"op": "FullyConnected", "name": "fc", "attr": {"num_hidden": "4", "no_bias": "True"},
     "inputs": [[0, 0, 0], [1, 0, 0]]},
    {"op": "_Plus", "name": "add", "inputs": [[2, 0, 0], [2, 0, 0]]},
    {"op": "_MulScalar", "name": "scale", "attr": {"scalar": "0.5"}, "inputs": [[3, 0, 0]]}
  ],
  "arg_nodes": [0, 1],
  "node_row_ptr": [0, 1, 2, 3, 4, 5],
  "heads": [[4, 0, 0]],
  "attrs": {"mxnet_version": ["int", 904]}
})";

TEST(MXNetJSON, Era09) {
  Graph g = parseSymbolJSON(kV09, "v09.json");
  EXPECT_EQ(g.mxnetVersion, 904);
  ASSERT_EQ(g.nodes.size(), 5u);
  EXPECT_TRUE(g.nodes[1].attrs.empty());
  EXPECT_EQ(g.nodes[1].hints, (Attrs{{"__lr_mult__", "0.1"}}));
  EXPECT_EQ(g.nodes[2].attrs, (Attrs{{"no_bias", "True"}, {"num_hidden", "4"}}));
  EXPECT_EQ(g.nodes[3].op, "elemwise_add");
  EXPECT_EQ(g.nodes[4].op, "_mul_scalar");
  EXPECT_EQ(g.nodes[4].attrs, (Attrs{{"scalar", "0.5"}}));
}

// ≥0.12: "attrs", control_deps, empty subgraphs, entry versions, split.
static const char *kV1x = R"({
  "nodes": [
    {"op": "null", "name": "data", "inputs": []},
    {"op": "split", "name": "sp", "attrs": {"num_outputs": "2", "axis": "1", "__profiler_scope__": "s:"},
     "inputs": [[0, 0, 0]], "control_deps": [], "subgraphs": []},
    {"op": "elemwise_mul", "name": "m", "inputs": [[1, 0, 0], [1, 1, 2]]},
    {"op": "concat", "name": "c", "attrs": {"num_args": "2", "dim": "1"},
     "inputs": [[2, 0, 0], [1, 1, 0]]}
  ],
  "arg_nodes": [0],
  "node_row_ptr": [0, 1, 3, 4, 5],
  "heads": [[3, 0, 0], [1, 1, 0]],
  "attrs": {"mxnet_version": ["int", 10500], "is_np_shape": ["int", 0]}
})";

TEST(MXNetJSON, Era1x) {
  Graph g = parseSymbolJSON(kV1x, "v1x.json");
  EXPECT_EQ(g.mxnetVersion, 10500);
  ASSERT_EQ(g.nodes.size(), 4u);
  EXPECT_EQ(g.nodes[1].op, "SliceChannel");
  EXPECT_EQ(g.nodes[1].attrs, (Attrs{{"axis", "1"}, {"num_outputs", "2"}}));
  EXPECT_EQ(g.nodes[1].hints, (Attrs{{"__profiler_scope__", "s:"}}));
  EXPECT_EQ(g.nodes[2].inputs, (std::vector<NodeEntry>{{1, 0}, {1, 1}}));
  EXPECT_EQ(g.nodes[3].op, "Concat");
  EXPECT_EQ(g.heads, (std::vector<NodeEntry>{{3, 0}, {1, 1}}));
}

TEST(MXNetJSON, RealMlpV08) {
  std::string path = sample("mlp-v0.8-symbol.json");
  if (!exists(path))
    GTEST_SKIP() << "sample file not present: " << path;
  Graph g = loadSymbolFile(path);
  EXPECT_EQ(g.mxnetVersion, 800);
  // 17 nodes in the file plus batchnorm0's two aux variables.
  ASSERT_EQ(g.nodes.size(), 19u);
  EXPECT_EQ(g.nodes[14].name, "batchnorm0_moving_mean");
  EXPECT_EQ(g.nodes[15].name, "batchnorm0_moving_var");
  EXPECT_EQ(g.nodes[16].name, "batchnorm0");
  EXPECT_EQ(inputIds(g.nodes[16]), (std::vector<int64_t>{11, 12, 13, 14, 15}));
  EXPECT_EQ(g.nodes[17].name, "softmax_label");
  EXPECT_EQ(g.nodes[18].name, "softmax");
  EXPECT_EQ(inputIds(g.nodes[18]), (std::vector<int64_t>{16, 17}));
  EXPECT_EQ(g.heads, (std::vector<NodeEntry>{{18, 0}}));
  const Node &fc1 = g.nodes[3];
  EXPECT_EQ(fc1.attrs, (Attrs{{"no_bias", "False"}, {"num_hidden", "128"}}));
  EXPECT_EQ(fc1.hints, (Attrs{{"__ctx_group__", "stage1"}, {"__wd_mult__", "0.3"}}));
  // fc1's weight_lr_mult lands on fc1_weight; the copy of it the Python put
  // on the variables themselves is dropped.
  EXPECT_EQ(g.nodes[1].hints, (Attrs{{"__ctx_group__", "stage1"},
                                     {"__lr_mult__", "1.2"},
                                     {"__wd_mult__", "0.3"}}));
  EXPECT_EQ(g.nodes[2].hints,
            (Attrs{{"__ctx_group__", "stage1"}, {"__wd_mult__", "0.3"}}));
  EXPECT_EQ(g.nodes[0].hints,
            (Attrs{{"__ctx_group__", "stage1"}, {"__lr_mult__", "0.2"}}));
  for (const Node &n : g.nodes) {
    if (n.isVariable()) {
      EXPECT_TRUE(n.attrs.empty()) << n.name;
    }
  }
  EXPECT_EQ(g.nodes[14].hints, (Attrs{{"__ctx_group__", "stage2"}}));
}

TEST(MXNetJSON, RealPnetV08) {
  std::string path = sample("pnet-v0.8-symbol.json");
  if (!exists(path))
    GTEST_SKIP() << "sample file not present: " << path;
  Graph g = loadSymbolFile(path);
  ASSERT_EQ(g.nodes.size(), 24u);
  EXPECT_EQ(g.nodes[5].op, "LeakyReLU");
  EXPECT_EQ(g.nodes[5].attrs.at("act_type"), "prelu");
  EXPECT_EQ(inputIds(g.nodes[5]), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(g.nodes[6].attrs.at("pooling_convention"), "full");
  EXPECT_EQ(g.nodes[23].op, "SoftmaxActivation");
  EXPECT_EQ(g.nodes[23].attrs, (Attrs{{"mode", "channel"}}));
  EXPECT_EQ(g.heads, (std::vector<NodeEntry>{{19, 0}, {23, 0}}));
}

TEST(MXNetJSON, RealReshapeFcV094) {
  std::string path = sample("reshape-fc-v0.9.4-symbol.json");
  if (!exists(path))
    GTEST_SKIP() << "sample file not present: " << path;
  Graph g = loadSymbolFile(path);
  EXPECT_EQ(g.mxnetVersion, 904);
  ASSERT_EQ(g.nodes.size(), 8u);
  EXPECT_EQ(g.nodes[1].op, "Reshape");
  EXPECT_EQ(g.nodes[1].attrs, (Attrs{{"shape", "(-1)"}}));
  EXPECT_TRUE(g.nodes[2].attrs.empty()); // copied num_hidden dropped
  EXPECT_EQ(g.nodes[4].attrs, (Attrs{{"num_hidden", "10"}}));
  EXPECT_EQ(g.nodes[7].op, "SoftmaxOutput");
  EXPECT_EQ(inputIds(g.nodes[7]), (std::vector<int64_t>{4, 6}));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

static const std::string kVar = R"({"op": "null", "name": "x", "inputs": []})";

static std::string graphWith(const std::string &node,
                             const std::string &heads = "[[1, 0, 0]]") {
  return R"({"nodes": [)" + kVar + ", " + node + R"(], "heads": )" + heads +
         R"(, "attrs": {"mxnet_version": ["int", 10901]}})";
}

static void expectMentions(const std::string &msg,
                           std::initializer_list<const char *> parts) {
  for (const char *p : parts)
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
}

TEST(MXNetJSONErrors, MalformedJSON) {
  std::string msg = parseError("{\"nodes\": [\n  {\"op\": }\n]}");
  expectMentions(msg, {"malformed JSON", "bad-symbol.json", "2:"});
}

TEST(MXNetJSONErrors, MissingNodesOrHeads) {
  expectMentions(parseError(R"({"heads": []})"), {"'nodes'", "bad-symbol.json"});
  expectMentions(parseError(R"({"nodes": []})"), {"'heads'", "bad-symbol.json"});
  expectMentions(parseError("[1, 2]"), {"bad-symbol.json"});
}

TEST(MXNetJSONErrors, BadEntries) {
  // Refers to a later node.
  expectMentions(parseError(graphWith(
                     R"({"op": "Flatten", "name": "flat", "inputs": [[1, 0, 0]]})")),
                 {"node 'flat'", "bad-symbol.json", "refers to node 1"});
  // Refers to a node that does not exist.
  expectMentions(parseError(graphWith(
                     R"({"op": "Flatten", "name": "flat", "inputs": [[7, 0]]})")),
                 {"node 'flat'", "bad-symbol.json"});
  // Output index out of range (a variable has one output).
  expectMentions(parseError(graphWith(
                     R"({"op": "Flatten", "name": "flat", "inputs": [[0, 1, 0]]})")),
                 {"node 'flat'", "bad-symbol.json", "output 1"});
  // Malformed entry.
  expectMentions(parseError(graphWith(
                     R"({"op": "Flatten", "name": "flat", "inputs": [[0]]})")),
                 {"node 'flat'", "bad-symbol.json"});
  // Heads out of range.
  expectMentions(parseError(graphWith(
                     R"({"op": "Flatten", "name": "flat", "inputs": [[0, 0, 0]]})",
                     "[[9, 0, 0]]")),
                 {"head 0", "bad-symbol.json"});
  expectMentions(parseError(graphWith(
                     R"({"op": "Flatten", "name": "flat", "inputs": [[0, 0, 0]]})",
                     "[[1, 2, 0]]")),
                 {"node 'flat'", "bad-symbol.json"});
}

TEST(MXNetJSONErrors, UnknownOperator) {
  std::string msg =
      parseError(graphWith(R"({"op": "Foo", "name": "bar", "inputs": [[0, 0, 0]]})"));
  EXPECT_EQ(msg.rfind("unknown operator 'Foo' (Kiln supports ", 0), 0u) << msg;
  EXPECT_NE(msg.find(" MXNet operators; docs/operators.md lists them with their aliases) in "
                     "node 'bar' (bad-symbol.json)"),
            std::string::npos)
      << msg;
}

TEST(MXNetJSONErrors, WrongInputCount) {
  // no_bias=True means two inputs, not three.
  std::string three = R"({"nodes": [)" + kVar + R"(,
    {"op": "null", "name": "w", "inputs": []},
    {"op": "null", "name": "b", "inputs": []},
    {"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "2", "no_bias": "True"},
     "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]}], "heads": [[3, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10901]}})";
  expectMentions(parseError(three),
                 {"node 'fc'", "bad-symbol.json", "3 inputs", "expects 2"});
  // Missing inputs are only filled in for pre-0.9 files.
  std::string missing = graphWith(
      R"({"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "2"},
          "inputs": [[0, 0, 0]]})");
  expectMentions(parseError(missing), {"node 'fc'", "bad-symbol.json", "expects 3"});
}

TEST(MXNetJSONErrors, SubgraphsRejected) {
  std::string msg = parseError(graphWith(
      R"({"op": "_foreach", "name": "loop", "inputs": [[0, 0, 0]],
          "subgraphs": [{"nodes": [], "heads": []}]})"));
  expectMentions(msg, {"node 'loop'", "bad-symbol.json", "subgraph"});
}

TEST(MXNetJSONErrors, NonStringAttribute) {
  std::string msg = parseError(graphWith(
      R"({"op": "Activation", "name": "act", "attrs": {"act_type": 3}, "inputs": [[0, 0, 0]]})"));
  expectMentions(msg, {"node 'act'", "bad-symbol.json", "act_type", "not a string"});
}

TEST(MXNetJSONErrors, BadAttributeValue) {
  std::string msg = parseError(graphWith(
      R"({"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "2", "no_bias": "maybe"},
          "inputs": [[0, 0, 0]]})"));
  expectMentions(msg, {"node 'fc'", "bad-symbol.json", "maybe"});
  msg = parseError(graphWith(
      R"({"op": "SliceChannel", "name": "sp", "inputs": [[0, 0, 0]]})"));
  expectMentions(msg, {"node 'sp'", "bad-symbol.json", "num_outputs"});
}

TEST(MXNetJSONErrors, MissingFile) {
  std::string msg = errorOf([] { loadSymbolFile("/nonexistent/dir/x-symbol.json"); });
  expectMentions(msg, {"/nonexistent/dir/x-symbol.json"});
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

TEST(MXNetJSONWriter, RoundTripSnippets) {
  for (const char *text : {kV08, kV09, kV1x}) {
    Graph g = parseSymbolJSON(text, "in.json");
    Graph back = parseSymbolJSON(writeSymbolJSON(g), "out.json");
    EXPECT_EQ(back.mxnetVersion, 10901);
    expectSameGraph(g, back);
  }
}

TEST(MXNetJSONWriter, RoundTripRealFiles) {
  for (const char *name : {"mlp-v0.8-symbol.json", "pnet-v0.8-symbol.json",
                           "reshape-fc-v0.9.4-symbol.json"}) {
    std::string path = sample(name);
    if (!exists(path))
      GTEST_SKIP() << "sample file not present: " << path;
    Graph g = loadSymbolFile(path);
    expectSameGraph(g, parseSymbolJSON(writeSymbolJSON(g), "out.json"));
  }
}

TEST(MXNetJSONWriter, Layout) {
  Graph g = parseSymbolJSON(kV08, "v08.json");
  std::string text = writeSymbolJSON(g);
  llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
  ASSERT_TRUE(bool(v)) << llvm::toString(v.takeError());
  const llvm::json::Object &root = *v->getAsObject();
  // Every variable, aux states included.
  std::vector<int64_t> argNodes;
  for (const llvm::json::Value &x : *root.getArray("arg_nodes"))
    argNodes.push_back(*x.getAsInteger());
  EXPECT_EQ(argNodes, (std::vector<int64_t>{0, 1, 2, 3, 4, 7}));
  // BatchNorm has 3 outputs inside MXNet; everything else here has one.
  std::vector<int64_t> rowPtr;
  for (const llvm::json::Value &x : *root.getArray("node_row_ptr"))
    rowPtr.push_back(*x.getAsInteger());
  EXPECT_EQ(rowPtr, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 8, 9, 10, 11}));
  const llvm::json::Array &ver =
      *root.getObject("attrs")->getArray("mxnet_version");
  EXPECT_EQ(*ver[0].getAsString(), "int");
  EXPECT_EQ(*ver[1].getAsInteger(), 10901);
  const llvm::json::Array &heads = *root.getArray("heads");
  EXPECT_EQ(heads[0].getAsArray()->size(), 3u);
  const llvm::json::Object &bn = *(*root.getArray("nodes"))[5].getAsObject();
  EXPECT_EQ(*bn.getString("op"), "BatchNorm");
  // Hints are written back as attributes; no pre-1.x keys remain.
  EXPECT_EQ(*bn.getObject("attrs")->getString("__ctx_group__"), "dev1");
  EXPECT_EQ(bn.get("param"), nullptr);
  EXPECT_EQ(bn.get("attr"), nullptr);
  EXPECT_EQ((*bn.getArray("inputs"))[0].getAsArray()->size(), 3u);
  const llvm::json::Object &sm = *(*root.getArray("nodes"))[8].getAsObject();
  EXPECT_EQ(*sm.getString("op"), "SoftmaxOutput");
  EXPECT_NE(text.find("\n  \"nodes\": ["), std::string::npos);
}
