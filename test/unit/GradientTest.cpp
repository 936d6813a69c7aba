//===- GradientTest.cpp - kiln-autodiff against finite differences --------===//
//
// Every forward op (with representative attributes) and whole zoo networks:
// the function is differentiated (kiln::differentiate), the forward+backward
// function runs in the float64 reference interpreter, and each gradient is
// compared with central finite differences of the scalar loss
//
//   L = Σ over heads: ⟨head, R⟩ for an ordinary head (R random, fed as its
//       head gradient), or the loss whose gradient MXNet defines for a loss
//       head: cross-entropy for SoftmaxOutput, ½‖y − l‖² (linear), logistic
//       cross-entropy, ‖y − l‖₁ (MAE), each scaled as the built-in gradient;
//
// evaluated on the training-mode function (kiln::applyTrainingMode), which
// is exactly the forward part of the differentiated function. Small
// arguments are checked element by element, large ones on a random subset
// of elements and along random directions.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/Autodiff.h"
#include "Transforms/Passes.h"
#include "kiln/Error.h"
#include "kiln/Zoo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>
#include <random>

using namespace kiln;
using ref::Array;
namespace g = kiln::graph;
using Shape = std::vector<int64_t>;

namespace {

mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<g::GraphDialect, mlir::func::FuncDialect>();
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

int64_t count(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

std::string tt(const Shape &s) {
  std::string r = "tensor<";
  for (int64_t d : s)
    r += std::to_string(d) + "x";
  return r + "f32>";
}

Array uniform(const Shape &shape, std::mt19937 &rng, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Array a{shape, std::vector<double>(count(shape))};
  for (double &v : a.data)
    v = dist(rng);
  return a;
}

/// Class ids 0..classes-1 as floats.
Array labels(const Shape &shape, int64_t classes, std::mt19937 &rng) {
  std::uniform_int_distribution<int64_t> dist(0, classes - 1);
  Array a{shape, std::vector<double>(count(shape))};
  for (double &v : a.data)
    v = static_cast<double>(dist(rng));
  return a;
}

//===----------------------------------------------------------------------===//
// Building test functions
//===----------------------------------------------------------------------===//

/// A function argument: name, shape and graph.kind.
struct A {
  std::string name;
  Shape shape;
  std::string kind = "param";
};

/// A model function @main over `args` whose `body` defines %r0, %r1, ...
/// (`results` of them, returned in order, named "r0", "r1", ...). In the
/// body, `$name` stands for the type of argument `name` and `$u` for
/// tensor<*xf32>; the function is shape-inferred after parsing.
std::string model(const std::vector<A> &args, std::string body, int results = 1) {
  for (const A &a : args) {
    std::string key = "$" + a.name;
    for (size_t p; (p = body.find(key)) != std::string::npos;) {
      // "$x" must not match the prefix of "$xy".
      char next = p + key.size() < body.size() ? body[p + key.size()] : ' ';
      if (std::isalnum(static_cast<unsigned char>(next)) || next == '_')
        break;
      body.replace(p, key.size(), tt(a.shape));
    }
  }
  for (size_t p; (p = body.find("$u")) != std::string::npos;)
    body.replace(p, 2, "tensor<*xf32>");
  std::string s = "func.func @main(";
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", %" : "%") + args[i].name + ": " + tt(args[i].shape) + " {graph.kind = \"" +
         args[i].kind + "\", graph.name = \"" + args[i].name + "\"}";
  s += ") -> (";
  std::string rets, types;
  for (int i = 0; i < results; ++i) {
    s += (i ? ", " : "") + std::string("tensor<*xf32> {graph.name = \"r") + std::to_string(i) +
         "\"}";
    rets += (i ? ", %r" : "%r") + std::to_string(i);
    types += (i ? ", " : "") + std::string("tensor<*xf32>");
  }
  return s + ") {\n" + body + "\n  return " + rets + " : " + types + "\n}";
}

/// Collects MLIR diagnostics so a failed transform says why.
struct Diagnostics {
  std::string text;
  mlir::ScopedDiagnosticHandler handler{&context(), [this](mlir::Diagnostic &d) {
                                          text += d.str() + "\n";
                                          return mlir::success();
                                        }};
};

mlir::OwningOpRef<mlir::ModuleOp> parse(const std::string &src) {
  auto m = mlir::parseSourceString<mlir::ModuleOp>(src, &context());
  if (!m)
    throw std::runtime_error("test IR does not parse:\n" + src);
  return m;
}

mlir::func::FuncOp mainOf(mlir::ModuleOp m) { return m.lookupSymbol<mlir::func::FuncOp>("main"); }

std::string attrOf(mlir::DictionaryAttr d, const char *name) {
  if (d)
    if (auto s = d.getAs<mlir::StringAttr>(name))
      return s.str();
  return "";
}

//===----------------------------------------------------------------------===//
// The losses whose gradients the loss heads define
//===----------------------------------------------------------------------===//

double softmaxOutputLoss(g::SoftmaxOutputOp op, const Array &p, const Array &label) {
  double scale = op.getGradScale().convertToDouble();
  double loss = 0;
  if (label.shape == p.shape) {
    // Probability labels (rows summing to 1): −Σ label·log p.
    for (size_t i = 0; i < p.data.size(); ++i)
      loss -= label.data[i] * std::log(p.data[i]);
    return loss * scale;
  }
  int64_t rank = p.shape.size();
  bool multi = op.getMultiOutput() && rank >= 2;
  int64_t outer = p.shape[0], n, inner = 1;
  if (multi) {
    n = p.shape[1];
    inner = count(Shape(p.shape.begin() + 2, p.shape.end()));
  } else if (op.getPreserveShape()) {
    n = p.shape[rank - 1];
    outer = count(p.shape) / n;
  } else {
    n = count(p.shape) / outer;
  }
  int ignore = static_cast<int>(op.getIgnoreLabel().convertToDouble());
  double alpha = multi ? 0 : op.getSmoothAlpha().convertToDouble();
  int64_t valid = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int k = static_cast<int>(label.data[o * inner + i]);
      valid += k != ignore;
      if (op.getUseIgnore() && k == ignore)
        continue;
      for (int64_t j = 0; j < n; ++j) {
        double t = j == k ? 1 - alpha : alpha / (n - 1);
        loss -= t * std::log(p.data[(o * n + j) * inner + i]);
      }
    }
  double cnt = op.getNormalization() == g::Normalization::batch   ? outer
               : op.getNormalization() == g::Normalization::valid ? std::max<int64_t>(valid, 1)
                                                                  : 1;
  if (multi && op.getNormalization() != g::Normalization::valid)
    cnt *= inner;
  return loss * scale / cnt;
}

double regressionLoss(mlir::Operation *op, const Array &y, const Array &label) {
  double scale = mlir::cast<mlir::FloatAttr>(op->getAttr("grad_scale")).getValueAsDouble();
  scale /= static_cast<double>(y.data.size() / y.shape[0]);
  double loss = 0;
  for (size_t i = 0; i < y.data.size(); ++i) {
    double v = y.data[i], l = label.data[i];
    if (mlir::isa<g::LinearRegressionOutputOp>(op))
      loss += 0.5 * (v - l) * (v - l);
    else if (mlir::isa<g::LogisticRegressionOutputOp>(op))
      loss -= l * std::log(v) + (1 - l) * std::log(1 - v);
    else
      loss += std::fabs(v - l);
  }
  return loss * scale;
}

//===----------------------------------------------------------------------===//
// The checker
//===----------------------------------------------------------------------===//

struct Options {
  /// Values of some arguments (labels, indices, positive inputs); the rest
  /// are uniform in [-1, 1].
  std::map<std::string, Array> values;
  /// Arguments to differentiate (default: the params).
  std::vector<std::string> wrtArgs;
  /// Elements checked one by one per argument (a random subset beyond).
  int64_t elementsPerArg = 48;
  /// When positive: this many elements in all, drawn at random over every
  /// differentiated argument, instead of elementsPerArg each.
  int64_t elementsTotal = 0;
  /// Random directional derivatives over all differentiated arguments.
  int directions = 1;
  double rtol = 1e-5;
  double step = 1e-5;
  unsigned seed = 1;

  Options &wrt(std::vector<std::string> names) {
    wrtArgs = std::move(names);
    return *this;
  }
  Options &value(const std::string &name, Array a) {
    values[name] = std::move(a);
    return *this;
  }
};

class Checker {
public:
  Checker(mlir::ModuleOp source, const Options &opts) : opts(opts), rng(opts.seed) {
    Diagnostics diags;
    training = mlir::cast<mlir::ModuleOp>(source->clone());
    differentiated = mlir::cast<mlir::ModuleOp>(source->clone());
    original = mlir::cast<mlir::ModuleOp>(source->clone());
    AutodiffOptions ad;
    ad.wrt = opts.wrtArgs;
    ad.seed = 5;
    if (mlir::failed(inferFunctionShapes(mainOf(*original))) ||
        mlir::failed(applyTrainingMode(mainOf(*training), {5})) ||
        mlir::failed(inferFunctionShapes(mainOf(*training))) ||
        mlir::failed(differentiate(mainOf(*differentiated), ad)))
      throw std::runtime_error("transform failed:\n" + diags.text);
  }

  void bind(std::vector<Array> given = {}) {
    mlir::func::FuncOp f = mainOf(*original);
    for (unsigned i = 0; i < f.getNumArguments(); ++i) {
      std::string name = attrOf(f.getArgAttrDict(i), "graph.name");
      auto type = mlir::cast<mlir::RankedTensorType>(f.getArgumentTypes()[i]);
      Shape shape(type.getShape().begin(), type.getShape().end());
      names.push_back(name);
      if (i < given.size())
        args.push_back(given[i]);
      else if (opts.values.count(name))
        args.push_back(opts.values.at(name));
      else
        args.push_back(uniform(shape, rng));
    }
  }

  /// Runs the whole check; returns the number of failed comparisons.
  void check();

  const std::vector<std::string> &argNames() const { return names; }
  std::vector<Array> args;

private:
  const Options &opts;
  std::mt19937 rng;
  mlir::OwningOpRef<mlir::ModuleOp> original, training, differentiated;
  std::vector<std::string> names;
  /// Head gradients of the ordinary heads, by training-function result.
  std::map<unsigned, Array> headGrads;

  std::vector<Array> extraArgs(mlir::func::FuncOp f, size_t from) {
    std::vector<Array> extra;
    for (unsigned i = from; i < f.getNumArguments(); ++i) {
      std::string kind = attrOf(f.getArgAttrDict(i), "graph.kind");
      if (kind == "rng_counter")
        extra.push_back(Array{{1}, {3}});
      else
        ADD_FAILURE() << "unexpected extra argument of kind '" << kind << "'";
    }
    return extra;
  }

  double loss(const std::vector<Array> &values);
};

double Checker::loss(const std::vector<Array> &values) {
  mlir::func::FuncOp f = mainOf(*training);
  std::vector<Array> all = values;
  for (Array &a : extraArgs(f, values.size()))
    all.push_back(std::move(a));
  ref::Result r = ref::run(f, all);
  auto ret = mlir::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  double l = 0;
  for (unsigned i = 0; i < f.getNumResults(); ++i) {
    if (attrOf(f.getResultAttrDict(i), "graph.kind") != "output")
      continue;
    mlir::Operation *def = ret.getOperand(i).getDefiningOp();
    auto labelOf = [&](mlir::Value v) -> const Array & {
      return all[mlir::cast<mlir::BlockArgument>(v).getArgNumber()];
    };
    if (auto so = mlir::dyn_cast_or_null<g::SoftmaxOutputOp>(def); so && !so.getOutGrad()) {
      l += softmaxOutputLoss(so, r.outputs[i], labelOf(so.getLabel()));
    } else if (isLossHead(def)) {
      l += regressionLoss(def, r.outputs[i], labelOf(def->getOperand(1)));
    } else {
      const Array &R = headGrads.at(i);
      for (size_t k = 0; k < R.data.size(); ++k)
        l += R.data[k] * r.outputs[i].data[k];
    }
  }
  return l;
}

void Checker::check() {
  mlir::func::FuncOp tf = mainOf(*training), df = mainOf(*differentiated);
  // Head gradients: one random R per ordinary head, also fed to the
  // differentiated function's head_grad arguments (in head order).
  std::vector<Array> dargs = args;
  for (Array &a : extraArgs(tf, args.size()))
    dargs.push_back(std::move(a));
  unsigned head = 0;
  std::vector<unsigned> ordinary;
  auto ret = mlir::cast<mlir::func::ReturnOp>(tf.getBody().front().getTerminator());
  for (unsigned i = 0; i < tf.getNumResults(); ++i)
    if (attrOf(tf.getResultAttrDict(i), "graph.kind") == "output" &&
        !isLossHead(ret.getOperand(i).getDefiningOp()))
      ordinary.push_back(i);
  for (unsigned i = dargs.size(); i < df.getNumArguments(); ++i) {
    ASSERT_EQ(attrOf(df.getArgAttrDict(i), "graph.kind"), "head_grad");
    ASSERT_LT(head, ordinary.size());
    auto type = mlir::cast<mlir::RankedTensorType>(df.getArgumentTypes()[i]);
    Array R = uniform(Shape(type.getShape().begin(), type.getShape().end()), rng);
    headGrads[ordinary[head++]] = R;
    dargs.push_back(R);
  }
  ASSERT_EQ(head, ordinary.size()) << "every ordinary head gets a head_grad argument";

  ref::Result fwd =
      ref::run(tf, std::vector<Array>(dargs.begin(), dargs.begin() + tf.getNumArguments()));
  ref::Result both = ref::run(df, dargs);

  // The differentiated function's forward part is the training-mode
  // function: same heads and aux results, in the same order around the
  // gradients.
  std::map<std::string, Array> grads;
  unsigned fi = 0;
  for (unsigned i = 0; i < df.getNumResults(); ++i) {
    std::string kind = attrOf(df.getResultAttrDict(i), "graph.kind");
    if (kind == "grad") {
      grads[attrOf(df.getResultAttrDict(i), "graph.name")] = both.outputs[i];
      continue;
    }
    ASSERT_LT(fi, fwd.outputs.size());
    EXPECT_EQ(kind, attrOf(tf.getResultAttrDict(fi), "graph.kind"));
    EXPECT_EQ(both.outputs[i].data, fwd.outputs[fi].data) << "result " << i;
    ++fi;
  }
  EXPECT_EQ(fi, fwd.outputs.size());

  // The aux results equal the moving statistics the interpreter's own
  // training mode computes on the original function.
  {
    ref::Options o;
    o.training = true;
    ref::Result orig = ref::run(mainOf(*original), args, o);
    for (auto &[argNo, value] : orig.updatedArgs) {
      bool found = false;
      for (unsigned i = 0; i < tf.getNumResults(); ++i)
        if (attrOf(tf.getResultAttrDict(i), "graph.kind") == "aux" &&
            attrOf(tf.getResultAttrDict(i), "graph.name") == names[argNo]) {
          found = true;
          for (size_t k = 0; k < value.data.size(); ++k)
            EXPECT_NEAR(fwd.outputs[i].data[k], value.data[k], 1e-12) << names[argNo];
        }
      EXPECT_TRUE(found) << "no aux result for " << names[argNo];
    }
  }

  // Element by element: (argument, element) pairs.
  std::vector<std::pair<std::string, int64_t>> picks;
  int64_t total = 0;
  for (auto &[name, grad] : grads) {
    size_t a = std::find(names.begin(), names.end(), name) - names.begin();
    ASSERT_LT(a, args.size()) << name;
    ASSERT_EQ(grad.shape, args[a].shape) << name;
    total += grad.data.size();
    if (opts.elementsTotal > 0)
      continue;
    std::vector<int64_t> elems(grad.data.size());
    std::iota(elems.begin(), elems.end(), 0);
    if (static_cast<int64_t>(elems.size()) > opts.elementsPerArg) {
      std::shuffle(elems.begin(), elems.end(), rng);
      elems.resize(opts.elementsPerArg);
    }
    for (int64_t e : elems)
      picks.emplace_back(name, e);
  }
  // A fixed budget: elements drawn uniformly over all differentiated ones.
  for (int64_t i = 0; i < opts.elementsTotal && total > 0; ++i) {
    int64_t flat = std::uniform_int_distribution<int64_t>(0, total - 1)(rng);
    for (auto &[name, grad] : grads) {
      if (flat < static_cast<int64_t>(grad.data.size())) {
        picks.emplace_back(name, flat);
        break;
      }
      flat -= grad.data.size();
    }
  }
  double h = opts.step;
  int bad = 0;
  for (auto &[name, e] : picks) {
    size_t a = std::find(names.begin(), names.end(), name) - names.begin();
    const Array &grad = grads[name];
    double scale = 0;
    for (double v : grad.data)
      scale = std::max(scale, std::fabs(v));
    std::vector<Array> plus = args, minus = args;
    plus[a].data[e] += h;
    minus[a].data[e] -= h;
    double fd = (loss(plus) - loss(minus)) / (2 * h);
    double g = grad.data[e];
    if (!(std::fabs(fd - g) <= opts.rtol * (std::fabs(g) + std::fabs(fd)) + 1e-7 * (1 + scale)) &&
        bad++ < 5)
      ADD_FAILURE() << "d/d " << name << "[" << e << "]: autodiff " << g << ", finite difference "
                    << fd;
  }

  // KILN_GRAD_DEBUG=1: one directional derivative per argument, printed,
  // to find which gradient is off.
  if (getenv("KILN_GRAD_DEBUG"))
    for (auto &[name, grad] : grads) {
      size_t a = std::find(names.begin(), names.end(), name) - names.begin();
      std::vector<Array> plus = args, minus = args;
      double predicted = 0;
      std::uniform_real_distribution<double> dir(-1, 1);
      for (size_t e = 0; e < grad.data.size(); ++e) {
        double v = dir(rng);
        plus[a].data[e] += h * v;
        minus[a].data[e] -= h * v;
        predicted += grad.data[e] * v;
      }
      double fd = (loss(plus) - loss(minus)) / (2 * h);
      fprintf(stderr, "%-40s fd %.10g ad %.10g rel %.3g\n", name.c_str(), fd, predicted,
              std::fabs(fd - predicted) / (std::fabs(fd) + 1e-300));
    }

  // Along random directions (a random half of the elements of every
  // differentiated argument).
  for (int d = 0; d < opts.directions; ++d) {
    std::vector<Array> plus = args, minus = args;
    double predicted = 0;
    std::bernoulli_distribution pick(0.5);
    std::uniform_real_distribution<double> dir(-1, 1);
    for (auto &[name, grad] : grads) {
      size_t a = std::find(names.begin(), names.end(), name) - names.begin();
      for (size_t e = 0; e < grad.data.size(); ++e) {
        if (!pick(rng))
          continue;
        double v = dir(rng);
        plus[a].data[e] += h * v;
        minus[a].data[e] -= h * v;
        predicted += grad.data[e] * v;
      }
    }
    double fd = (loss(plus) - loss(minus)) / (2 * h);
    EXPECT_NEAR(fd, predicted, opts.rtol * (std::fabs(fd) + std::fabs(predicted)) + 1e-7)
        << "directional derivative " << d;
  }
}

/// Differentiates and checks `src` (see model()).
void checkGradients(const std::string &src, const Options &opts = {}) {
  SCOPED_TRACE(src);
  mlir::OwningOpRef<mlir::ModuleOp> m = parse(src);
  Checker c(*m, opts);
  c.bind();
  c.check();
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

TEST(Gradient, FullyConnected) {
  checkGradients(model({{"x", {2, 3, 2}}, {"w", {4, 6}}, {"b", {4}}},
                       "%r0 = graph.fully_connected %x, %w, %b {num_hidden = 4 : i64} "
                       ": ($x, $w, $b) -> $u"),
                 Options().wrt({"x", "w", "b"}));
  // flatten = false on rank 3: the last axis; no bias.
  checkGradients(model({{"x", {2, 3, 5}}, {"w", {4, 5}}},
                       "%r0 = graph.fully_connected %x, %w {num_hidden = 4 : i64, flatten = false} "
                       ": ($x, $w) -> $u"),
                 Options().wrt({"x", "w"}));
}

std::string convModel(const char *op, const Shape &x, const Shape &w, bool bias,
                      const std::string &attrs) {
  std::vector<A> args = {{"x", x}, {"w", w}};
  if (bias)
    args.push_back({"b", {std::string(op) == "convolution" ? w[0] : w[1] * 1}});
  return model(args, std::string("%r0 = graph.") + op + " %x, %w" + (bias ? ", %b" : "") + " {" +
                         attrs + "} : ($x, $w" + (bias ? ", $b" : "") + ") -> $u");
}

TEST(Gradient, Convolution) {
  Options o = Options().wrt({"x", "w", "b"});
  checkGradients(convModel("convolution", {2, 3, 5, 5}, {4, 3, 3, 3}, true,
                           "kernel = array<i64: 3, 3>, num_filter = 4 : i64"),
                 o);
  // Stride (dropping a trailing row), pad, dilation, groups.
  checkGradients(convModel("convolution", {1, 4, 8, 7}, {6, 2, 3, 2}, true,
                           "kernel = array<i64: 3, 2>, stride = array<i64: 2, 3>, "
                           "dilate = array<i64: 2, 1>, pad = array<i64: 2, 1>, "
                           "num_filter = 6 : i64, num_group = 2 : i64"),
                 o);
  // Depthwise 1-D and a 3-D convolution without bias.
  checkGradients(convModel("convolution", {2, 3, 9}, {3, 1, 3}, true,
                           "kernel = array<i64: 3>, stride = array<i64: 2>, pad = array<i64: 1>, "
                           "num_filter = 3 : i64, num_group = 3 : i64"),
                 o);
  checkGradients(convModel("convolution", {1, 2, 4, 3, 4}, {2, 2, 2, 2, 3}, false,
                           "kernel = array<i64: 2, 2, 3>, pad = array<i64: 1, 0, 1>, "
                           "num_filter = 2 : i64"),
                 Options().wrt({"x", "w"}));
}

TEST(Gradient, Deconvolution) {
  Options o = Options().wrt({"x", "w", "b"});
  // Weight [C, F/g, k]; the bias is [F].
  checkGradients(model({{"x", {2, 4, 3, 3}}, {"w", {4, 3, 3, 3}}, {"b", {6}}},
                       "%r0 = graph.deconvolution %x, %w, %b {kernel = array<i64: 3, 3>, "
                       "stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, adj = array<i64: 1, 0>, "
                       "num_filter = 6 : i64, num_group = 2 : i64} : ($x, $w, $b) -> $u"),
                 o);
  // target_shape (pad and adj derived from it) and dilation.
  checkGradients(model({{"x", {1, 2, 3, 4}}, {"w", {2, 3, 2, 2}}},
                       "%r0 = graph.deconvolution %x, %w {kernel = array<i64: 2, 2>, "
                       "stride = array<i64: 2, 2>, dilate = array<i64: 2, 1>, "
                       "target_shape = array<i64: 6, 7>, num_filter = 3 : i64} : ($x, $w) -> $u"),
                 Options().wrt({"x", "w"}));
}

std::string poolModel(const Shape &x, const std::string &attrs) {
  return model({{"x", x}}, "%r0 = graph.pooling %x {" + attrs + "} : ($x) -> $u");
}

TEST(Gradient, PoolingEveryTypeAndConvention) {
  for (std::string type : {"max", "avg", "sum"}) {
    std::string t = "pool_type = #graph.pool_type<" + type + ">, ";
    checkGradients(
        poolModel({2, 2, 5, 5}, t + "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>"));
    checkGradients(
        poolModel({1, 2, 6, 6}, t + "kernel = array<i64: 3, 2>, stride = array<i64: 2, 2>, "
                                    "pad = array<i64: 1, 1>, "
                                    "pooling_convention = #graph.pooling_convention<full>"));
    checkGradients(
        poolModel({1, 2, 7}, t + "kernel = array<i64: 3>, stride = array<i64: 2>, "
                                 "pooling_convention = #graph.pooling_convention<same>"));
    checkGradients(poolModel({2, 3, 3, 4}, t + "global_pool = true"));
  }
  checkGradients(poolModel({1, 2, 5, 5}, "pool_type = #graph.pool_type<avg>, "
                                         "kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
                                         "pad = array<i64: 1, 1>, count_include_pad = false"));
  // lp: p = 2 on any sign, p = 1 and 3 on positive inputs (x³ sums of mixed
  // signs have no real cube root).
  checkGradients(poolModel({1, 2, 4, 4}, "pool_type = #graph.pool_type<lp>, "
                                         "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>"));
  std::mt19937 rng(3);
  for (int p : {1, 3})
    checkGradients(
        poolModel({1, 2, 4, 4}, "pool_type = #graph.pool_type<lp>, p_value = " + std::to_string(p) +
                                    " : i64, kernel = array<i64: 3, 3>"),
        Options().value("x", uniform({1, 2, 4, 4}, rng, 0.5, 1.5)));
}

TEST(Gradient, ActivationEveryType) {
  for (std::string type : {"relu", "sigmoid", "tanh", "softrelu", "softsign"})
    checkGradients(model({{"x", {3, 4}}}, "%r0 = graph.activation %x {act_type = #graph.act_type<" +
                                              type + ">} : ($x) -> $u"));
}

TEST(Gradient, LeakyReLUEveryType) {
  // Not selu: MXNet's selu gradient (which Kiln follows) is not the
  // derivative; the conformance cases check it against MXNet.
  for (std::string type : {"leaky", "elu", "gelu", "rrelu"})
    checkGradients(
        model({{"x", {3, 4}}}, "%r0 = graph.leaky_relu %x {act_type = #graph.leaky_act_type<" +
                                   type + ">, slope = 0.3 : f32} : ($x) -> $u"));
  checkGradients(
      model({{"x", {2, 3, 2}}, {"gamma", {3}}},
            "%r0 = graph.leaky_relu %x, %gamma {act_type = #graph.leaky_act_type<prelu>} "
            ": ($x, $gamma) -> $u"),
      Options().wrt({"x", "gamma"}));
}

std::string bnModel(const Shape &x, int64_t c, const std::string &attrs) {
  return model({{"x", x}, {"g", {c}}, {"b", {c}}, {"mm", {c}, "aux"}, {"mv", {c}, "aux"}},
               "%r0 = graph.batch_norm %x, %g, %b, %mm, %mv {" + attrs +
                   "} : ($x, $g, $b, $mm, $mv) -> $u");
}

TEST(Gradient, BatchNorm) {
  std::mt19937 rng(4);
  Options o = Options().value("mv", uniform({3}, rng, 0.5, 2)).wrt({"x", "g", "b"});
  checkGradients(bnModel({4, 3, 2}, 3, "fix_gamma = false, momentum = 0.8 : f32"), o);
  checkGradients(bnModel({4, 3, 2}, 3, ""), o); // fix_gamma: zero gamma gradient
  checkGradients(bnModel({4, 3, 2}, 3, "fix_gamma = false, use_global_stats = true"), o);
  checkGradients(bnModel({2, 2, 3}, 3, "fix_gamma = false, axis = -1 : i64, eps = 1.0e-05 : f64"),
                 o);
}

TEST(Gradient, LRN) {
  // A large alpha so the normalization matters.
  checkGradients(model({{"x", {2, 5, 2, 2}}},
                       "%r0 = graph.lrn %x {nsize = 3 : i64, alpha = 0.5 : f32, beta = 0.75 : f32, "
                       "knorm = 1.5 : f32} : ($x) -> $u"));
}

TEST(Gradient, DropoutTrainingMasksAreFixedPerCounter) {
  checkGradients(model({{"x", {4, 6}}}, "%r0 = graph.dropout %x {p = 0.4 : f32} : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 4}}},
                       "%r0 = graph.dropout %x {p = 0.5 : f32, axes = array<i64: 0, -1>, "
                       "mode = #graph.dropout_mode<always>} : ($x) -> $u"));
}

TEST(Gradient, Embedding) {
  std::mt19937 rng(5);
  checkGradients(model({{"i", {2, 3}, "input"}, {"w", {5, 4}}},
                       "%r0 = graph.embedding %i, %w {input_dim = 5 : i64, output_dim = 4 : i64} "
                       ": ($i, $w) -> $u"),
                 Options().value("i", labels({2, 3}, 5, rng)));
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

TEST(Gradient, SoftmaxOutputNormalizationsAndModes) {
  std::mt19937 rng(6);
  auto check = [&](const Shape &x, const Shape &l, int64_t classes, const std::string &attrs,
                   Array label = {}) {
    if (label.shape.empty())
      label = labels(l, classes, rng);
    checkGradients(model({{"x", x}, {"l", l, "input"}},
                         "%r0 = graph.softmax_output %x, %l {" + attrs + "} : ($x, $l) -> $u"),
                   Options().value("l", label));
  };
  check({3, 4}, {3}, 4, "");
  check({3, 4}, {3}, 4, "normalization = #graph.normalization<batch>, grad_scale = 2.5 : f32");
  check({4, 4}, {4}, 4,
        "use_ignore = true, ignore_label = 1.0 : f32, "
        "normalization = #graph.normalization<valid>");
  check({3, 2, 2}, {3}, 4, "smooth_alpha = 0.1 : f32"); // 4 classes after flattening
  check({2, 3, 2, 2}, {2, 2, 2}, 3, "multi_output = true");
  check({2, 3, 4}, {2, 4}, 3,
        "multi_output = true, use_ignore = true, ignore_label = 0.0 : f32, "
        "normalization = #graph.normalization<valid>");
  check({2, 3, 4}, {2, 4}, 3, "multi_output = true, normalization = #graph.normalization<batch>");
  check({2, 2, 3}, {2, 2}, 3, "preserve_shape = true, normalization = #graph.normalization<batch>");
  // Probability labels: rows that sum to 1.
  Array prob = uniform({3, 4}, rng, 0.1, 1);
  for (int r = 0; r < 3; ++r) {
    double s = 0;
    for (int j = 0; j < 4; ++j)
      s += prob.data[r * 4 + j];
    for (int j = 0; j < 4; ++j)
      prob.data[r * 4 + j] /= s;
  }
  check({3, 4}, {3, 4}, 0, "grad_scale = 0.5 : f32", prob);
}

TEST(Gradient, SoftmaxOutputOutGradMultipliesByTheOutput) {
  // MXNet 1.9.1's out_grad = true multiplies the built-in gradient by the
  // softmax output p itself (its backward node reads the output where the
  // head gradient would be; conformance case SoftmaxOutput-12): not the
  // gradient of any loss of p, so this checks the product directly. The head
  // stays a loss head, with no head-gradient argument.
  mlir::OwningOpRef<mlir::ModuleOp> m =
      parse(model({{"x", {2, 3}}, {"l", {2}, "input"}},
                  "%r0 = graph.softmax_output %x, %l {out_grad = true} : ($x, $l) -> $u"));
  Diagnostics diags;
  mlir::func::FuncOp f = mainOf(*m);
  ASSERT_TRUE(mlir::succeeded(differentiate(f))) << diags.text;
  ASSERT_EQ(f.getNumArguments(), 2u);
  Array x{{2, 3}, {1, 2, 3, 0, 0, 1}}, l{{2}, {2, 0}};
  ref::Result r = ref::run(f, {x, l});
  ASSERT_EQ(r.outputs.size(), 2u);
  const std::vector<double> &p = r.outputs[0].data;
  std::vector<double> want = {p[0] * p[0],       p[1] * p[1], (p[2] - 1) * p[2],
                              (p[3] - 1) * p[3], p[4] * p[4], p[5] * p[5]};
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(r.outputs[1].data[i], want[i], 1e-12);
}

TEST(Gradient, RegressionHeads) {
  std::mt19937 rng(8);
  for (std::string op :
       {"linear_regression_output", "logistic_regression_output", "mae_regression_output"}) {
    checkGradients(model({{"x", {3, 2}}, {"l", {3, 2}, "input"}},
                         "%r0 = graph." + op + " %x, %l {grad_scale = 1.5 : f32} : ($x, $l) -> $u"),
                   Options().value("l", uniform({3, 2}, rng, 0, 1)));
    // (N, 1) with an (N) label.
    checkGradients(model({{"x", {4, 1}}, {"l", {4}, "input"}},
                         "%r0 = graph." + op + " %x, %l : ($x, $l) -> $u"),
                   Options().value("l", uniform({4}, rng, 0, 1)));
  }
}

TEST(Gradient, SoftmaxLogSoftmaxAndSoftmaxActivation) {
  checkGradients(model({{"x", {2, 3, 4}}}, "%r0 = graph.softmax %x : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 4}}},
                       "%r0 = graph.softmax %x {axis = 1 : i64, temperature = 2.0 : f64} "
                       ": ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 4}}}, "%r0 = graph.log_softmax %x {axis = 0 : i64} "
                                           ": ($x) -> $u"));
  checkGradients(
      model({{"x", {2, 5}}}, "%r0 = graph.log_softmax %x {temperature = 0.5 : f64} : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 2}}}, "%r0 = graph.softmax_activation %x : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 2}}},
                       "%r0 = graph.softmax_activation %x {mode = #graph.softmax_mode<channel>} "
                       ": ($x) -> $u"));
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

TEST(Gradient, Views) {
  checkGradients(model({{"x", {2, 3, 2}}}, "%r0 = graph.flatten %x : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 2}}}, "%r0 = graph.identity %x : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 4}}},
                       "%r0 = graph.reshape %x {shape = array<i64: -4, 1, 2, 0, -1>} "
                       ": ($x) -> $u"));
  checkGradients(
      model({{"x", {2, 3, 4}}}, "%r0 = graph.reshape %x {shape = array<i64: -3, 4>} : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 4}}},
                       "%r0 = graph.transpose %x {axes = array<i64: 1, 2, 0>} : ($x) -> $u"));
  checkGradients(model({{"x", {2, 3, 4}}}, "%r0 = graph.transpose %x : ($x) -> $u"));
}

TEST(Gradient, ConcatAndSplit) {
  checkGradients(model({{"a", {2, 1, 3}}, {"b", {2, 4, 3}}, {"c", {2, 2, 3}}},
                       "%r0 = graph.concat %a, %b, %c : ($a, $b, $c) -> $u"));
  checkGradients(model({{"a", {2, 3}}, {"b", {2, 3}}},
                       "%r0 = graph.concat %a, %b {dim = -2 : i64} : ($a, $b) -> $u"));
  // Three parts, two of them heads; the third unused (zero gradient).
  checkGradients(model({{"x", {2, 6, 2}}},
                       "%r0, %r1, %p = graph.split %x {num_outputs = 3 : i64} "
                       ": ($x) -> ($u, $u, $u)",
                       2));
  checkGradients(model({{"x", {2, 3}}},
                       "%r0, %r1, %r2 = graph.split %x {num_outputs = 3 : i64, axis = -1 : i64, "
                       "squeeze_axis = true} : ($x) -> ($u, $u, $u)",
                       3));
}

TEST(Gradient, SliceAxisAndDot) {
  checkGradients(
      model({{"x", {3, 5}}},
            "%r0 = graph.slice_axis %x {axis = 1 : i64, begin = 1 : i64, end = -1 : i64} "
            ": ($x) -> $u"));
  checkGradients(model({{"x", {4, 2}}},
                       "%r0 = graph.slice_axis %x {axis = 0 : i64, begin = 0 : i64, end = 2 : i64} "
                       ": ($x) -> $u"));
  for (auto [ta, tb] : {std::pair{false, false}, {true, false}, {false, true}, {true, true}}) {
    Shape a = ta ? Shape{3, 2} : Shape{2, 3}, b = tb ? Shape{4, 3} : Shape{3, 4};
    checkGradients(model({{"a", a}, {"b", b}},
                         std::string("%r0 = graph.dot %a, %b {transpose_a = ") +
                             (ta ? "true" : "false") +
                             ", transpose_b = " + (tb ? "true" : "false") + "} : ($a, $b) -> $u"));
  }
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

TEST(Gradient, Elementwise) {
  std::mt19937 rng(9);
  for (std::string op : {"elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div"})
    checkGradients(
        model({{"a", {2, 3}}, {"b", {2, 3}}}, "%r0 = graph." + op + " %a, %b : ($a, $b) -> $u"),
        Options().value("b", uniform({2, 3}, rng, 0.5, 1.5)));
  checkGradients(model({{"a", {2, 3}}, {"b", {2, 3}}, {"c", {2, 3}}},
                       "%r0 = graph.add_n %a, %b, %c : ($a, $b, $c) -> $u"));
  checkGradients(model({{"x", {2, 3}}}, "%r0 = graph.log %x : ($x) -> $u"),
                 Options().value("x", uniform({2, 3}, rng, 0.5, 2)));
}

TEST(Gradient, ScalarOps) {
  std::mt19937 rng(10);
  for (std::string op :
       {"plus_scalar", "minus_scalar", "rminus_scalar", "mul_scalar", "div_scalar", "rdiv_scalar",
        "power_scalar", "rpower_scalar", "maximum_scalar", "minimum_scalar"})
    for (double s : {0.0, 2.5, -1.5}) {
      if (s == 0 && (op == "div_scalar" || op == "rpower_scalar"))
        continue;
      if (s < 0 && op == "rpower_scalar")
        continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f", s);
      // Positive inputs: x^-1.5, s/x and the like.
      checkGradients(model({{"x", {2, 3}}},
                           "%r0 = graph." + op + " %x {scalar = " + buf + " : f64} : ($x) -> $u"),
                     Options().value("x", uniform({2, 3}, rng, 0.5, 1.5)));
    }
  // maximum/minimum around the inputs' range: both branches are taken.
  checkGradients(model({{"x", {3, 4}}}, "%r0 = graph.maximum_scalar %x {scalar = 0.1 : f64} "
                                        ": ($x) -> $u"));
  checkGradients(model({{"x", {3, 4}}}, "%r0 = graph.minimum_scalar %x {scalar = 0.1 : f64} "
                                        ": ($x) -> $u"));
}

TEST(Gradient, BroadcastOps) {
  std::mt19937 rng(11);
  // Shapes that broadcast both ways, with a missing leading axis.
  Shape a = {2, 1, 3}, b = {4, 1};
  for (std::string op : {"broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div",
                         "broadcast_maximum", "broadcast_minimum", "broadcast_power"}) {
    Options o = Options().value("b", uniform(b, rng, 0.5, 1.5));
    if (op == "broadcast_power")
      o.value("a", uniform(a, rng, 0.5, 1.5));
    checkGradients(model({{"a", a}, {"b", b}}, "%r0 = graph." + op + " %a, %b : ($a, $b) -> $u"),
                   o);
  }
  checkGradients(model({{"a", {2, 3}}, {"b", {2, 3}}},
                       "%r0 = graph.broadcast_maximum %a, %b : ($a, $b) -> $u"));
  checkGradients(model({{"x", {1, 3, 1}}},
                       "%r0 = graph.broadcast_to %x {shape = array<i64: 2, 0, 4>} : ($x) -> $u"));
}

TEST(Gradient, Reductions) {
  for (std::string op : {"sum", "mean", "max", "min"}) {
    checkGradients(
        model({{"x", {2, 3, 4}}}, "%r0 = graph." + op + " %x {axis = array<i64: 1>} : ($x) -> $u"));
    checkGradients(model({{"x", {2, 3, 4}}},
                         "%r0 = graph." + op +
                             " %x {axis = array<i64: 0, -1>, keepdims = true} : ($x) -> $u"));
    checkGradients(
        model({{"x", {2, 3, 4}}},
              "%r0 = graph." + op + " %x {axis = array<i64: 1>, exclude = true} : ($x) -> $u"));
    checkGradients(model({{"x", {2, 3}}}, "%r0 = graph." + op + " %x : ($x) -> $u"));
  }
}

//===----------------------------------------------------------------------===//
// Composition
//===----------------------------------------------------------------------===//

TEST(Gradient, SeveralUsesAreSummed) {
  // x feeds three ops, y two; two heads, one a loss head.
  std::mt19937 rng(12);
  checkGradients(model({{"x", {2, 3}}, {"w", {3, 3}}, {"l", {2}, "input"}},
                       "%y = graph.fully_connected %x, %w {num_hidden = 3 : i64} : ($x, $w) -> $u\n"
                       "%t = graph.activation %y {act_type = #graph.act_type<tanh>} : ($u) -> $u\n"
                       "%s = graph.elemwise_mul %t, %x : ($u, $x) -> $u\n"
                       "%r0 = graph.elemwise_add %s, %x : ($u, $x) -> $u\n"
                       "%r1 = graph.softmax_output %y, %l : ($u, $l) -> $u",
                       2),
                 Options().value("l", labels({2}, 3, rng)).wrt({"x", "w"}));
}

TEST(Gradient, UnusedParamGetsZerosAndLabelsNone) {
  mlir::OwningOpRef<mlir::ModuleOp> m =
      parse(model({{"x", {2, 3}}, {"w", {3}}, {"unused", {4}}},
                  "%r0 = graph.broadcast_mul %x, %w : ($x, $w) -> $u"));
  Diagnostics diags;
  mlir::func::FuncOp f = mainOf(*m);
  ASSERT_TRUE(mlir::succeeded(differentiate(f))) << diags.text;
  // Results: r0, then grads of the params x, w and unused.
  ASSERT_EQ(f.getNumResults(), 4u);
  EXPECT_EQ(attrOf(f.getResultAttrDict(3), "graph.name"), "unused");
  EXPECT_EQ(attrOf(f.getResultAttrDict(3), "graph.kind"), "grad");
  auto ret = mlir::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  EXPECT_TRUE(mlir::isa<g::ZerosOp>(ret.getOperand(3).getDefiningOp()));
}

//===----------------------------------------------------------------------===//
// Zoo networks
//===----------------------------------------------------------------------===//

/// MXNet-like random parameters (weights ~ U(±sqrt(3/fan_in)), gamma near
/// 1, small biases), random inputs, labels in range.
void checkZoo(const std::string &name, const Shape &data, int directions, int64_t elements) {
  SCOPED_TRACE(name);
  LoadedModel lm = loadModel(context(), "zoo:" + name, "", {{"data", data}});
  Options o;
  o.directions = directions;
  o.elementsTotal = elements;
  o.elementsPerArg = 0;
  // A whole network has ~10⁵ ReLU and max-pooling kinks; a step of 1e-8
  // keeps a perturbation of every parameter from crossing one (at 1e-6 a
  // few do, and the difference quotient is off by percents), while float64
  // rounding of the loss stays ~1e-7 of the derivative.
  o.step = 1e-8;
  std::mt19937 rng(21);
  mlir::func::FuncOp f = lm.mainFunc();
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    const ModelArg &a = lm.args[i];
    auto ends = [&](const char *s) {
      return a.name.size() >= strlen(s) &&
             a.name.compare(a.name.size() - strlen(s), strlen(s), s) == 0;
    };
    Array v;
    if (a.name == "softmax_label")
      v = labels(a.shape, 10, rng);
    else if (ends("moving_var"))
      v = uniform(a.shape, rng, 0.5, 1.5);
    else if (ends("gamma"))
      v = uniform(a.shape, rng, 0.8, 1.2);
    else if (ends("beta") || ends("bias") || ends("moving_mean"))
      v = uniform(a.shape, rng, -0.1, 0.1);
    else if (a.kind == ModelArg::Param) {
      double bound = std::sqrt(3.0 / std::max<int64_t>(1, count(a.shape) / a.shape[0]));
      v = uniform(a.shape, rng, -bound, bound);
    } else
      v = uniform(a.shape, rng);
    o.values[a.name] = v;
  }
  Checker c(*lm.module, o);
  c.bind();
  c.check();
}

TEST(GradientZoo, Mlp) { checkZoo("mlp", {3, 1, 6, 6}, 2, 24); }
TEST(GradientZoo, LeNet) { checkZoo("lenet", {2, 1, 28, 28}, 2, 8); }
TEST(GradientZoo, ResNet18) { checkZoo("resnet18", {4, 3, 8, 8}, 2, 4); }
TEST(GradientZoo, InceptionBN) { checkZoo("inception-bn", {1, 3, 28, 28}, 1, 1); }

} // namespace
