//===- NDArrayOpsTest.cpp - Every op: eager == compiled graph == oracle ---===//
//
// Each case runs one MXNet operator three ways on the same seeded inputs:
// eagerly (nd::invoke), in a compiled graph (kiln::Executor on a Symbol of
// the same op) and on the reference interpreter (the Executor's reference
// engine), and requires all three to agree. The cases cover every operator
// of the catalog, broadcasting included, and the NDArray operators' NumPy
// broadcasting against the same Symbol arithmetic.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/NDArray.h"
#include "kiln/Random.h"
#include "kiln/Symbol.h"

#include "NDArrayTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace kiln;
using kiln::test::errorOf;
using kiln::test::expectClose;

namespace {

using Shape = std::vector<int64_t>;

enum class Fill { Normal, Positive, Labels, Indices, Unit };

struct Case {
  std::string name;
  std::string op;
  std::vector<Shape> shapes;
  nd::AttrMap attrs;
  std::vector<Fill> fills; // per input; Normal when absent
};

Tensor makeInput(const Shape &shape, Fill fill, uint64_t seed) {
  Random rng(seed);
  Tensor t(shape);
  for (float &v : t.values) {
    switch (fill) {
    case Fill::Normal: v = static_cast<float>(rng.normal()); break;
    case Fill::Positive: v = static_cast<float>(rng.uniform(0.5, 2.0)); break;
    case Fill::Labels: v = static_cast<float>(rng.below(shape.empty() ? 1 : 3)); break;
    case Fill::Indices: v = static_cast<float>(rng.below(6)); break;
    case Fill::Unit: v = static_cast<float>(rng.uniform(0.05, 0.95)); break;
    }
  }
  return t;
}

/// Runs `c` through an Executor bound to a one-op Symbol on `engine`.
std::vector<Tensor> runGraph(const Case &c, const std::vector<Tensor> &inputs,
                             ExecutorOptions::Engine engine) {
  std::vector<Symbol> vars;
  ShapeMap shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string name = "in" + std::to_string(i);
    vars.push_back(Symbol::Variable(name));
    shapes[name] = inputs[i].shape;
  }
  Symbol net = Symbol::create(c.op, "op", vars, c.attrs);
  ExecutorOptions options;
  options.engine = engine;
  auto exec = Executor::bind(net, shapes, options);
  for (size_t i = 0; i < inputs.size(); ++i)
    exec->arg("in" + std::to_string(i)) = inputs[i];
  exec->forward(false);
  return exec->outputs();
}

void checkCase(const Case &c) {
  SCOPED_TRACE(c.name);
  std::vector<Tensor> inputs;
  std::vector<NDArray> arrays;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    Fill f = i < c.fills.size() ? c.fills[i] : Fill::Normal;
    inputs.push_back(makeInput(c.shapes[i], f, 100 + i));
    arrays.emplace_back(inputs.back());
  }
  std::vector<NDArray> eager = nd::invoke(c.op, arrays, c.attrs);
  std::vector<Tensor> compiled = runGraph(c, inputs, ExecutorOptions::Engine::Compiled);
  std::vector<Tensor> reference = runGraph(c, inputs, ExecutorOptions::Engine::Reference);
  ASSERT_EQ(eager.size(), compiled.size());
  ASSERT_EQ(eager.size(), reference.size());
  for (size_t o = 0; o < eager.size(); ++o) {
    Tensor e = eager[o].toTensor();
    expectClose(e, compiled[o], c.name + " eager vs compiled, output " + std::to_string(o));
    expectClose(e, reference[o], c.name + " eager vs interpreter, output " + std::to_string(o));
  }
}

std::vector<Case> allCases() {
  const Fill P = Fill::Positive, L = Fill::Labels, I = Fill::Indices, N = Fill::Normal,
             U = Fill::Unit;
  return {
      {"fc", "FullyConnected", {{3, 5}, {4, 5}, {4}}, {{"num_hidden", "4"}}},
      {"fc_nobias_flatten", "FullyConnected", {{2, 3, 2}, {4, 6}},
       {{"num_hidden", "4"}, {"no_bias", "True"}}},
      {"fc_noflatten", "FullyConnected", {{2, 3, 5}, {4, 5}, {4}},
       {{"num_hidden", "4"}, {"flatten", "False"}}},
      {"conv", "Convolution", {{2, 3, 7, 7}, {4, 3, 3, 3}, {4}},
       {{"kernel", "(3, 3)"}, {"num_filter", "4"}, {"stride", "(2, 2)"}, {"pad", "(1, 1)"}}},
      {"conv_group", "Convolution", {{1, 4, 5, 5}, {4, 2, 3, 3}},
       {{"kernel", "(3, 3)"}, {"num_filter", "4"}, {"num_group", "2"}, {"no_bias", "True"}}},
      {"deconv", "Deconvolution", {{1, 4, 3, 3}, {4, 2, 2, 2}},
       {{"kernel", "(2, 2)"}, {"num_filter", "2"}, {"stride", "(2, 2)"}}},
      {"pool_max", "Pooling", {{2, 3, 6, 6}},
       {{"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"pooling_convention", "full"}}},
      {"pool_avg", "Pooling", {{2, 3, 6, 6}},
       {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "avg"}, {"pad", "(1, 1)"}}},
      {"pool_sum_global", "Pooling", {{2, 3, 4, 5}},
       {{"kernel", "(1, 1)"}, {"pool_type", "sum"}, {"global_pool", "True"}}},
      {"relu", "Activation", {{3, 4}}, {{"act_type", "relu"}}},
      {"sigmoid", "Activation", {{3, 4}}, {{"act_type", "sigmoid"}}},
      {"tanh", "Activation", {{3, 4}}, {{"act_type", "tanh"}}},
      {"softrelu", "Activation", {{3, 4}}, {{"act_type", "softrelu"}}},
      {"softsign", "Activation", {{3, 4}}, {{"act_type", "softsign"}}},
      {"leaky", "LeakyReLU", {{3, 4}}, {{"slope", "0.1"}}},
      {"elu", "LeakyReLU", {{3, 4}}, {{"act_type", "elu"}}},
      {"selu", "LeakyReLU", {{3, 4}}, {{"act_type", "selu"}}},
      {"gelu", "LeakyReLU", {{3, 4}}, {{"act_type", "gelu"}}},
      {"prelu", "LeakyReLU", {{2, 3, 2, 2}, {3}}, {{"act_type", "prelu"}}},
      {"batchnorm_inference", "BatchNorm", {{2, 3, 2, 2}, {3}, {3}, {3}, {3}},
       {{"fix_gamma", "False"}}, {N, N, N, N, P}},
      {"lrn", "LRN", {{1, 5, 3, 3}}, {{"nsize", "3"}}},
      {"dropout_inference", "Dropout", {{3, 4}}, {{"p", "0.5"}}},
      {"embedding", "Embedding", {{2, 3}, {6, 4}}, {{"input_dim", "6"}, {"output_dim", "4"}},
       {I, N}},
      {"softmax_output", "SoftmaxOutput", {{3, 4}, {3}}, {}, {N, L}},
      {"linear_regression", "LinearRegressionOutput", {{3, 2}, {3, 2}}, {}},
      {"logistic_regression", "LogisticRegressionOutput", {{3, 2}, {3, 2}}, {}},
      {"mae_regression", "MAERegressionOutput", {{3, 2}, {3, 2}}, {}},
      {"softmax", "softmax", {{2, 3, 4}}, {{"axis", "1"}}},
      {"log_softmax", "log_softmax", {{2, 5}}, {{"temperature", "2"}}},
      {"softmax_activation_channel", "SoftmaxActivation", {{2, 3, 2}}, {{"mode", "channel"}}},
      {"softmax_activation", "SoftmaxActivation", {{2, 3}}, {}},
      {"flatten", "Flatten", {{2, 3, 4}}, {}},
      {"reshape_codes", "Reshape", {{2, 3, 4}}, {{"shape", "(0, -3)"}}},
      {"reshape_split", "Reshape", {{2, 12}}, {{"shape", "(0, -4, 3, -1)"}}},
      {"transpose", "transpose", {{2, 3, 4}}, {{"axes", "(2, 0, 1)"}}},
      {"transpose_default", "transpose", {{2, 3}}, {}},
      {"concat", "Concat", {{2, 3}, {2, 1}, {2, 2}}, {{"dim", "1"}, {"num_args", "3"}}},
      {"split", "SliceChannel", {{2, 4, 3}}, {{"num_outputs", "2"}}},
      {"split_squeeze", "SliceChannel", {{3, 2}},
       {{"num_outputs", "3"}, {"axis", "0"}, {"squeeze_axis", "True"}}},
      {"copy", "_copy", {{3, 2}}, {}},
      {"elemwise_add", "elemwise_add", {{2, 3}, {2, 3}}, {}},
      {"elemwise_sub", "elemwise_sub", {{2, 3}, {2, 3}}, {}},
      {"elemwise_mul", "elemwise_mul", {{2, 3}, {2, 3}}, {}},
      {"elemwise_div", "elemwise_div", {{2, 3}, {2, 3}}, {}, {N, P}},
      {"add_n", "add_n", {{2, 3}, {2, 3}, {2, 3}}, {{"num_args", "3"}}},
      {"plus_scalar", "_plus_scalar", {{2, 3}}, {{"scalar", "1.5"}}},
      {"minus_scalar", "_minus_scalar", {{2, 3}}, {{"scalar", "1.5"}}},
      {"rminus_scalar", "_rminus_scalar", {{2, 3}}, {{"scalar", "1.5"}}},
      {"mul_scalar", "_mul_scalar", {{2, 3}}, {{"scalar", "-2"}}},
      {"div_scalar", "_div_scalar", {{2, 3}}, {{"scalar", "4"}}},
      {"rdiv_scalar", "_rdiv_scalar", {{2, 3}}, {{"scalar", "2"}}, {P}},
      {"power_scalar", "_power_scalar", {{2, 3}}, {{"scalar", "0.5"}}, {P}},
      {"rpower_scalar", "_rpower_scalar", {{2, 3}}, {{"scalar", "2"}}},
      {"maximum_scalar", "_maximum_scalar", {{2, 3}}, {{"scalar", "0.1"}}},
      {"minimum_scalar", "_minimum_scalar", {{2, 3}}, {{"scalar", "0.1"}}},
      {"broadcast_add_row", "broadcast_add", {{2, 3}, {1, 3}}, {}},
      {"broadcast_sub_col", "broadcast_sub", {{2, 3}, {2, 1}}, {}},
      {"broadcast_mul_both", "broadcast_mul", {{2, 1, 4}, {1, 3, 1}}, {}},
      {"broadcast_div_rank", "broadcast_div", {{2, 3, 4}, {4}}, {}, {N, P}},
      {"broadcast_maximum", "broadcast_maximum", {{3, 1}, {1, 4}}, {}},
      {"broadcast_minimum", "broadcast_minimum", {{3, 4}, {3, 4}}, {}},
      {"broadcast_power", "broadcast_power", {{2, 3}, {1, 3}}, {}, {P, N}},
      {"broadcast_to", "broadcast_to", {{1, 3}}, {{"shape", "(4, 3)"}}},
      {"sum_axis", "sum", {{2, 3, 4}}, {{"axis", "(1,)"}}},
      {"sum_all", "sum", {{2, 3}}, {}},
      {"mean_keepdims", "mean", {{2, 3, 4}}, {{"axis", "(0, 2)"}, {"keepdims", "True"}}},
      {"max_exclude", "max", {{2, 3, 4}}, {{"axis", "(1,)"}, {"exclude", "True"}}},
      {"min", "min", {{2, 3}}, {{"axis", "(0,)"}}},
      {"dot", "dot", {{2, 3}, {3, 4}}, {}},
      {"dot_transposed", "dot", {{3, 2}, {4, 3}},
       {{"transpose_a", "True"}, {"transpose_b", "True"}}},
      {"slice_axis", "slice_axis", {{4, 5}}, {{"axis", "1"}, {"begin", "1"}, {"end", "-1"}}},
      {"unit_logistic", "LogisticRegressionOutput", {{2, 2}, {2, 2}}, {}, {N, U}},
  };
}

TEST(NDArrayOps, EveryOpEagerEqualsCompiledEqualsInterpreter) {
  for (const Case &c : allCases())
    checkCase(c);
}

TEST(NDArrayOps, CatalogOpsAreAllCovered) {
  // A new operator in the catalog must get a case above.
  std::set<std::string> covered;
  for (const Case &c : allCases())
    covered.insert(c.op);
  for (const char *op :
       {"FullyConnected", "Convolution", "Deconvolution", "Pooling", "Activation", "LeakyReLU",
        "BatchNorm", "LRN", "Dropout", "Embedding", "SoftmaxOutput", "LinearRegressionOutput",
        "LogisticRegressionOutput", "MAERegressionOutput", "softmax", "log_softmax",
        "SoftmaxActivation", "Flatten", "Reshape", "transpose", "Concat", "SliceChannel", "_copy",
        "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "add_n", "_plus_scalar",
        "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar", "_rdiv_scalar",
        "_power_scalar", "_rpower_scalar", "_maximum_scalar", "_minimum_scalar", "broadcast_add",
        "broadcast_sub", "broadcast_mul", "broadcast_div", "broadcast_maximum",
        "broadcast_minimum", "broadcast_power", "broadcast_to", "sum", "mean", "max", "min", "dot",
        "slice_axis"})
    EXPECT_TRUE(covered.count(op)) << op << " has no eager-vs-compiled case";
}

/// NDArray `+ - * /` and Symbol `+ - * /` mean the same thing: NumPy
/// broadcasting (MXNet's Symbols do not broadcast; Kiln's do).
TEST(NDArrayOps, OperatorsBroadcastLikeSymbols) {
  struct Pair {
    Shape a, b;
  };
  for (Pair p : {Pair{{2, 3}, {2, 3}}, Pair{{2, 3}, {3}}, Pair{{4, 1, 3}, {2, 1}},
                 Pair{{1}, {2, 2}}}) {
    Tensor ta = makeInput(p.a, Fill::Positive, 1), tb = makeInput(p.b, Fill::Positive, 2);
    NDArray a(ta), b(tb);
    Symbol sa = Symbol::Variable("a"), sb = Symbol::Variable("b");
    std::vector<std::pair<NDArray, Symbol>> results = {
        {a + b, sa + sb}, {a - b, sa - sb}, {a * b, sa * sb}, {a / b, sa / sb}};
    for (size_t i = 0; i < results.size(); ++i) {
      auto exec = Executor::bind(results[i].second, {{"a", p.a}, {"b", p.b}});
      exec->arg("a") = ta;
      exec->arg("b") = tb;
      exec->forward(false);
      expectClose(results[i].first.toTensor(), exec->outputs()[0],
                  "operator " + std::string("+-*/").substr(i, 1) + " on " + formatShape(p.a) +
                      ", " + formatShape(p.b));
    }
  }
}

TEST(NDArrayOps, ScalarOperatorsAndHandValues) {
  NDArray x({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ((x + 1.0f).toVector(), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ((1.0f - x).toVector(), (std::vector<float>{0, -1, -2, -3}));
  EXPECT_EQ((x * 2.0f).toVector(), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_EQ((12.0f / x).toVector(), (std::vector<float>{12, 6, 4, 3}));
  EXPECT_EQ((-x).toVector(), (std::vector<float>{-1, -2, -3, -4}));
  NDArray row({2}, {10, 20});
  EXPECT_EQ((x + row).toVector(), (std::vector<float>{11, 22, 13, 24}));
  NDArray col({2, 1}, {10, 20});
  EXPECT_EQ((x * col).toVector(), (std::vector<float>{10, 20, 60, 80}));
}

} // namespace
