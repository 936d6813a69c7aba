//===- ImportModelTest.cpp - Real MXNet files, loadModel, checkpoints -----===//
//
// The files under shared/testdata/mxnet-format-samples were written by MXNet
// 0.8 and 0.9.4; the expected argument lists and shapes below follow from the
// layer definitions in those files (and MXNet's shape rules), worked by hand.
//
//===----------------------------------------------------------------------===//

#include "ImportTestUtil.h"

#include "Import/Model.h"
#include "kiln/Zoo.h"
#include "runtime/io/NDArrayFile.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

using namespace kiln;
using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

std::string samples() { return std::string(KILN_TESTDATA_DIR) + "/mxnet-format-samples"; }

#define REQUIRE_SAMPLES()                                                                         \
  if (!fs::is_directory(samples()))                                                               \
  GTEST_SKIP() << "MXNet sample files not found at " << samples()

using Shape = std::vector<int64_t>;

struct ExpectedArg {
  std::string name;
  ModelArg::Kind kind;
  Shape shape;
};

void expectArgs(const LoadedModel &m, const std::vector<ExpectedArg> &expected) {
  ASSERT_EQ(m.args.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(m.args[i].name, expected[i].name) << i;
    EXPECT_EQ(m.args[i].kind, expected[i].kind) << expected[i].name;
    EXPECT_EQ(m.args[i].shape, expected[i].shape) << expected[i].name;
  }
}

Shape resultShape(mlir::func::FuncOp f, unsigned i) {
  auto t = llvm::cast<mlir::RankedTensorType>(f.getResultTypes()[i]);
  return Shape(t.getShape().begin(), t.getShape().end());
}

class TempDir {
public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kiln-import-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

class ImportModelTest : public ::testing::Test {
protected:
  mlir::MLIRContext ctx;
};

constexpr auto In = ModelArg::Input, P = ModelArg::Param, Aux = ModelArg::Aux;

TEST_F(ImportModelTest, Mlp08NeedsAnInputShapeAndGetsItsAuxStates) {
  REQUIRE_SAMPLES();
  std::string file = samples() + "/mlp-v0.8-symbol.json";
  // Without a data shape nothing can be inferred; the message names data.
  std::string msg = errorOf([&] { loadModel(ctx, file, "", {}); });
  EXPECT_NE(msg.find("mlp-v0.8-symbol.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("data"), std::string::npos) << msg;

  LoadedModel m = loadModel(ctx, file, "", {{"data", {5, 20}}});
  // fc1 128 → relu → fc2 64 → relu → fc3 10 → BatchNorm → SoftmaxOutput. The
  // 0.8 file has no moving stats; they are added as aux states.
  expectArgs(m, {{"data", In, {5, 20}},
                 {"softmax_label", In, {5}},
                 {"fc1_weight", P, {128, 20}},
                 {"fc1_bias", P, {128}},
                 {"fc2_weight", P, {64, 128}},
                 {"fc2_bias", P, {64}},
                 {"fc3_weight", P, {10, 64}},
                 {"fc3_bias", P, {10}},
                 {"batchnorm0_gamma", P, {10}},
                 {"batchnorm0_beta", P, {10}},
                 {"batchnorm0_moving_mean", Aux, {10}},
                 {"batchnorm0_moving_var", Aux, {10}}});
  EXPECT_EQ(m.outputNames, (std::vector<std::string>{"softmax_output"}));
  EXPECT_EQ(resultShape(m.mainFunc(), 0), (Shape{5, 10}));
  // The 0.8 file's attributes are MXNet defaults (eps 0.001, fix_gamma, ...)
  // so the BatchNorm carries none of them.
  std::string text = print(*m.module);
  EXPECT_NE(text.find("graph.batch_norm"), std::string::npos);
  EXPECT_EQ(text.find("eps ="), std::string::npos) << text;
  EXPECT_NE(text.find("num_hidden = 128 : i64"), std::string::npos);
  EXPECT_TRUE(m.params.empty());
}

TEST_F(ImportModelTest, Pnet08WithItsParams) {
  REQUIRE_SAMPLES();
  std::string file = samples() + "/pnet-v0.8-symbol.json";
  std::string params = samples() + "/pnet-v0.8-0001.params";
  LoadedModel m = loadModel(ctx, file, params, {{"data", {1, 3, 12, 12}}});
  // 12 → conv3 → 10 → pool 2/2 (full) → 5 → conv3 → 3 → conv3 → 1.
  expectArgs(m, {{"data", In, {1, 3, 12, 12}},
                 {"conv1_weight", P, {10, 3, 3, 3}},
                 {"conv1_bias", P, {10}},
                 {"prelu1_gamma", P, {10}},
                 {"conv2_weight", P, {16, 10, 3, 3}},
                 {"conv2_bias", P, {16}},
                 {"prelu2_gamma", P, {16}},
                 {"conv3_weight", P, {32, 16, 3, 3}},
                 {"conv3_bias", P, {32}},
                 {"prelu3_gamma", P, {32}},
                 {"conv4_2_weight", P, {4, 32, 1, 1}},
                 {"conv4_2_bias", P, {4}},
                 {"conv4_1_weight", P, {2, 32, 1, 1}},
                 {"conv4_1_bias", P, {2}}});
  EXPECT_EQ(m.outputNames, (std::vector<std::string>{"conv4_2_output", "prob1_output"}));
  EXPECT_EQ(resultShape(m.mainFunc(), 0), (Shape{1, 4, 1, 1}));
  EXPECT_EQ(resultShape(m.mainFunc(), 1), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(m.params.size(), 13u);
  ASSERT_TRUE(m.params.count("conv1_weight"));
  EXPECT_EQ(m.params["conv1_weight"].shape, (Shape{10, 3, 3, 3}));
  std::string text = print(*m.module);
  EXPECT_NE(text.find("pooling_convention = #graph.pooling_convention<full>"), std::string::npos);
  EXPECT_NE(text.find("mode = #graph.softmax_mode<channel>"), std::string::npos);
  EXPECT_NE(text.find("act_type = #graph.leaky_act_type<prelu>"), std::string::npos);
  // The data shape cannot come from the params of a fully convolutional net.
  std::string msg = errorOf([&] { loadModel(ctx, file, params, {}); });
  EXPECT_NE(msg.find("data"), std::string::npos) << msg;
}

TEST_F(ImportModelTest, ReshapeFc094WithItsParams) {
  REQUIRE_SAMPLES();
  std::string file = samples() + "/reshape-fc-v0.9.4-symbol.json";
  std::string params = samples() + "/reshape-fc-v0.9.4-0001.params";
  // Reshape(-1) makes data 1-D, so FullyConnected sees K = 1 (the params'
  // pred_weight is (10, 1)); the label goes through its own Reshape(-1).
  LoadedModel m =
      loadModel(ctx, file, params, {{"data", {2, 3}}, {"softmax_label", {6}}});
  expectArgs(m, {{"data", In, {2, 3}},
                 {"softmax_label", In, {6}},
                 {"pred_weight", P, {10, 1}},
                 {"pred_bias", P, {10}}});
  EXPECT_EQ(m.outputNames, (std::vector<std::string>{"softmax_output"}));
  EXPECT_EQ(resultShape(m.mainFunc(), 0), (Shape{6, 10}));
  EXPECT_NE(print(*m.module).find("shape = array<i64: -1>"), std::string::npos);
}

TEST_F(ImportModelTest, ParamsMatching) {
  REQUIRE_SAMPLES();
  TempDir tmp;
  std::string file = samples() + "/mlp-v0.8-symbol.json";
  std::map<std::string, std::vector<int64_t>> in = {{"data", {2, 20}}};

  // Plain and prefixed names both match; values come back by plain name.
  NDArrayList ok;
  ok.names = {"fc1_weight", "arg:fc1_bias", "aux:batchnorm0_moving_var"};
  ok.arrays = {Tensor({128, 20}), Tensor({128}, std::vector<float>(128, 0.5f)), Tensor({10})};
  std::string okPath = tmp.path + "/ok.params";
  saveNDArrayFile(okPath, ok);
  LoadedModel m = loadModel(ctx, file, okPath, in);
  ASSERT_EQ(m.params.size(), 3u);
  EXPECT_EQ(m.params["fc1_bias"].values[7], 0.5f);
  EXPECT_TRUE(m.params.count("batchnorm0_moving_var"));

  // A misspelt name is an error naming it and the file.
  NDArrayList typo;
  typo.names = {"arg:fc1_wieght"};
  typo.arrays = {Tensor({128, 20})};
  std::string typoPath = tmp.path + "/typo.params";
  saveNDArrayFile(typoPath, typo);
  std::string msg = errorOf([&] { loadModel(ctx, file, typoPath, in); });
  EXPECT_NE(msg.find("fc1_wieght"), std::string::npos) << msg;
  EXPECT_NE(msg.find("typo.params"), std::string::npos) << msg;

  // A misshapen one names the parameter, the params file and the node.
  NDArrayList bad;
  bad.names = {"arg:fc2_weight"};
  bad.arrays = {Tensor({64, 127})};
  std::string badPath = tmp.path + "/bad.params";
  saveNDArrayFile(badPath, bad);
  EXPECT_EQ(errorOf([&] { loadModel(ctx, file, badPath, in); }),
            "parameter 'fc2_weight' in " + badPath +
                " has shape (64, 127) but node 'fc2' needs (64, 128)");

  // Unnamed arrays cannot be matched.
  NDArrayList unnamed;
  unnamed.arrays = {Tensor({1})};
  std::string unnamedPath = tmp.path + "/unnamed.params";
  saveNDArrayFile(unnamedPath, unnamed);
  msg = errorOf([&] { loadModel(ctx, file, unnamedPath, in); });
  EXPECT_NE(msg.find("unnamed.params"), std::string::npos) << msg;

  // A missing file is the NDArray reader's error, naming it.
  msg = errorOf([&] { loadModel(ctx, file, tmp.path + "/nope.params", in); });
  EXPECT_NE(msg.find("nope.params"), std::string::npos) << msg;
}

TEST_F(ImportModelTest, CheckpointRoundTrip) {
  REQUIRE_SAMPLES();
  TempDir tmp;
  LoadedModel m = loadModel(ctx, samples() + "/mlp-v0.8-symbol.json", "", {{"data", {2, 20}}});
  std::map<std::string, Tensor> values;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (const ModelArg &a : m.args) {
    if (a.kind == ModelArg::Input)
      continue;
    Tensor t(a.shape);
    for (float &v : t.values)
      v = dist(rng);
    values[a.name] = t;
  }
  std::string prefix = tmp.path + "/mlp";

  // A missing value is reported before anything is written.
  std::map<std::string, Tensor> partial = values;
  partial.erase("fc2_bias");
  std::string msg = errorOf([&] { saveCheckpoint(prefix, 3, m.mainFunc(), partial); });
  EXPECT_NE(msg.find("fc2_bias"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(prefix + "-symbol.json"));
  EXPECT_FALSE(fs::exists(prefix + "-0003.params"));

  saveCheckpoint(prefix, 3, m.mainFunc(), values);
  ASSERT_TRUE(fs::exists(prefix + "-symbol.json"));
  ASSERT_TRUE(fs::exists(prefix + "-0003.params"));
  EXPECT_EQ(checkpointParamsPath(prefix, 12), prefix + "-0012.params");

  NDArrayList saved = loadNDArrayFile(prefix + "-0003.params");
  std::vector<std::string> expectedNames;
  for (const ModelArg &a : m.args)
    if (a.kind != ModelArg::Input)
      expectedNames.push_back((a.kind == ModelArg::Param ? "arg:" : "aux:") + a.name);
  EXPECT_EQ(saved.names, expectedNames);
  for (size_t i = 0; i < saved.names.size(); ++i) {
    const Tensor &orig = values[saved.names[i].substr(4)];
    EXPECT_EQ(saved.arrays[i].shape, orig.shape);
    EXPECT_EQ(saved.arrays[i].values, orig.values);
  }

  // Loading the checkpoint gives the same function and the saved values.
  mlir::MLIRContext ctx2;
  LoadedModel back =
      loadModel(ctx2, prefix + "-symbol.json", prefix + "-0003.params", {{"data", {2, 20}}});
  EXPECT_EQ(print(*back.module), print(*m.module));
  EXPECT_EQ(back.params.size(), values.size());
  EXPECT_EQ(back.params["fc3_weight"].values, values["fc3_weight"].values);
}

//===-- Zoo networks ------------------------------------------------------===//

void expectRoundTrip(mlir::MLIRContext &ctx, LoadedModel &m,
                     const std::map<std::string, std::vector<int64_t>> &inputs) {
  mx::Graph exported = exportGraph(m.mainFunc());
  ImportOptions o;
  o.fileName = "exported";
  o.inputShapes = inputs;
  auto again = importGraph(ctx, exported, o);
  EXPECT_EQ(print(*again), print(*m.module));

  // Through JSON text: the writer's output re-parses with names intact.
  std::string json = mx::writeSymbolJSON(exported);
  mx::Graph parsed = mx::parseSymbolJSON(json, "exported.json");
  ASSERT_EQ(parsed.nodes.size(), exported.nodes.size());
  for (size_t i = 0; i < parsed.nodes.size(); ++i) {
    EXPECT_EQ(parsed.nodes[i].name, exported.nodes[i].name);
    EXPECT_EQ(parsed.nodes[i].op, exported.nodes[i].op);
  }
  auto fromJson = importGraph(ctx, parsed, o);
  EXPECT_EQ(print(*fromJson), print(*m.module));
}

TEST_F(ImportModelTest, ZooNetworksRoundTrip) {
  struct Net {
    std::string name;
    Shape data;
  };
  for (const Net &n : std::vector<Net>{{"mlp", {2, 1, 28, 28}},
                                       {"lenet", {2, 1, 28, 28}},
                                       {"resnet18", {2, 3, 32, 32}}}) {
    SCOPED_TRACE(n.name);
    std::map<std::string, std::vector<int64_t>> inputs = {{"data", n.data}};
    try {
      LoadedModel m = loadModel(ctx, "zoo:" + n.name, "", inputs);
      // MXNet's image-classification symbols end in SoftmaxOutput "softmax"
      // over 10 classes, fed by softmax_label.
      EXPECT_EQ(m.outputNames, (std::vector<std::string>{"softmax_output"}));
      EXPECT_EQ(resultShape(m.mainFunc(), 0), (Shape{n.data[0], 10}));
      ASSERT_GE(m.args.size(), 2u);
      EXPECT_EQ(m.args[0].name, "data");
      EXPECT_EQ(m.args[1].name, "softmax_label");
      EXPECT_EQ(m.args[1].kind, ModelArg::Input);
      bool sawAux = false;
      for (const ModelArg &a : m.args) {
        if (a.kind == ModelArg::Aux) {
          sawAux = true;
          EXPECT_TRUE(a.name.find("moving_") != std::string::npos) << a.name;
        } else if (sawAux) {
          ADD_FAILURE() << a.name << " comes after an aux state";
        }
      }
      EXPECT_EQ(sawAux, n.name == "resnet18");
      expectRoundTrip(ctx, m, inputs);
    } catch (const kiln::Error &e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST_F(ImportModelTest, ZooNeedsADataShape) {
  std::string msg = errorOf([&] { loadModel(ctx, "zoo:lenet", "", {}); });
  EXPECT_NE(msg.find("zoo:lenet"), std::string::npos) << msg;
  EXPECT_NE(msg.find("data"), std::string::npos) << msg;
  zoo::ZooOptions opts;
  opts.numClasses = 7;
  opts.imageShape = {1, 28, 28};
  LoadedModel m = loadModel(ctx, "zoo:mlp", "", {{"data", {3, 1, 28, 28}}}, &opts);
  EXPECT_EQ(resultShape(m.mainFunc(), 0), (Shape{3, 7}));
}

} // namespace
