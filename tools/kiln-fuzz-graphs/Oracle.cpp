//===- Oracle.cpp - Compiled engine vs reference interpreter --------------===//
//
// One evaluation: import the graph (as kiln-run does: loadModel), check the
// importer's shapes against the generator's, apply the mode's rewrite
// (nothing, kiln-graph-training-mode or kiln-autodiff), draw the arguments
// from a value seed, run JitModel (the compiled engine) and ref::run (the
// float64 interpreter) on the same function and arguments, and compare every
// result: heads, gradients, updated aux states.
//
// The tolerance is CompiledVsInterpreter's (rtol 1e-4, atol 1e-5) with atol
// scaled by each result's largest |value| when that exceeds 1: float32
// rounding of a sum is relative to the size of its terms, not of the result.
//
//===----------------------------------------------------------------------===//

#include "GraphFuzz.h"

#include "Compiler/Diagnostics.h"
#include "Compiler/JitModel.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/Model.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/Autodiff.h"
#include "kiln/Error.h"
#include "kiln/Random.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace kiln::fuzz {

const char *modeName(Mode mode) {
  switch (mode) {
  case Mode::Inference:
    return "inference";
  case Mode::Training:
    return "training";
  case Mode::Backward:
    return "backward";
  }
  return "?";
}

const char *kindName(Outcome::Kind kind) {
  switch (kind) {
  case Outcome::Agree:
    return "agree";
  case Outcome::Degenerate:
    return "degenerate";
  case Outcome::ImportError:
    return "import-error";
  case Outcome::ShapeMismatch:
    return "shape-mismatch";
  case Outcome::TransformError:
    return "transform-error";
  case Outcome::CompiledError:
    return "compiled-error";
  case Outcome::ReferenceError:
    return "reference-error";
  case Outcome::Disagree:
    return "disagree";
  }
  return "?";
}

std::string Mismatch::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s: %zu of %zu elements differ; worst [%zu]: compiled %.7g, reference %.7g "
                "(max |reference| %.3g, rounding sensitivity %.3g)",
                result.c_str(), numBad, numElements, index, compiled, reference, scale,
                sensitivity);
  return buf;
}

namespace {

uint64_t hashName(const std::string &s) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

Tensor drawValues(const VarInfo &info, const Shape &shape, uint64_t valueSeed,
                  const std::string &name) {
  Tensor t(shape);
  Random rng(Random::mix(valueSeed, hashName(name)));
  double fanIn = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    fanIn *= double(shape[i]);
  double bound = std::sqrt(3.0 / fanIn);
  if (info.role == VarRole::Box || info.role == VarRole::Roi) {
    // Whole boxes (corners in order, sides 15% to 40% of the extent), so
    // that every box has a positive area and overlaps some others.
    size_t width = info.role == VarRole::Box ? 4 : 5;
    double e = info.extent;
    for (size_t i = 0; i + width <= t.values.size(); i += width) {
      float *box = &t.values[i];
      if (width == 5)
        *box++ = float(info.range > 0 ? rng.below(uint64_t(info.range)) : 0);
      double x1 = rng.uniform(0, 0.6 * e), y1 = rng.uniform(0, 0.6 * e);
      box[0] = float(x1);
      box[1] = float(y1);
      box[2] = float(x1 + rng.uniform(0.15 * e, 0.4 * e));
      box[3] = float(y1 + rng.uniform(0.15 * e, 0.4 * e));
    }
    return t;
  }
  for (float &v : t.values) {
    switch (info.role) {
    case VarRole::Box:
    case VarRole::Roi:
      break;
    case VarRole::Data:
      v = float(rng.normal());
      break;
    case VarRole::Weight:
      v = float(rng.uniform(-bound, bound));
      break;
    case VarRole::Offset:
      v = float(rng.uniform(-0.5, 0.5));
      break;
    case VarRole::Scale:
      v = float(rng.uniform(0.5, 1.5));
      break;
    case VarRole::Slope:
      v = float(rng.uniform(0.0, 0.5));
      break;
    case VarRole::ClassLabel:
    case VarRole::Index:
      v = float(info.range > 0 ? rng.below(uint64_t(info.range)) : 0);
      break;
    case VarRole::Length:
      v = float(1 + (info.range > 0 ? rng.below(uint64_t(info.range)) : 0));
      break;
    case VarRole::Probability:
      v = float(rng.uniform());
      break;
    }
  }
  return t;
}

std::string stringAttr(mlir::DictionaryAttr attrs, const char *name) {
  if (attrs)
    if (auto s = attrs.getAs<mlir::StringAttr>(name))
      return s.str();
  return "";
}

Shape shapeOf(mlir::Type t) {
  if (auto r = mlir::dyn_cast<mlir::RankedTensorType>(t))
    return Shape(r.getShape().begin(), r.getShape().end());
  return {};
}

std::string resultLabel(mlir::func::FuncOp f, unsigned i, unsigned &head) {
  mlir::DictionaryAttr attrs = f.getResultAttrDict(i);
  std::string kind = stringAttr(attrs, kGraphKindAttr);
  std::string name = stringAttr(attrs, kGraphNameAttr);
  if (kind == kGradKind)
    return "grad " + name;
  if (kind == kAuxKind)
    return "aux " + name;
  return "out" + std::to_string(head++) + " (" + name + ")";
}

/// How far each reference result moves when the value of every operator
/// is perturbed by relative noise of the size of its float32 rounding (the
/// reference run on a copy of the function where each op result r becomes
/// r · (1 + δ·u), u uniform in [-1, 1) per element; the largest change of
/// three draws). δ is `delta`, or 2⁻²⁴·K for an op that accumulates K terms
/// per result element (K = its largest operand's size over its smallest
/// result's): a float32 sum of K terms is off by up to K·2⁻²⁴ of the sum of
/// their magnitudes. Where a result is ill-conditioned in the intermediate
/// values (a gradient that cancels to about 0, a relu input within rounding
/// of 0) the two engines legitimately differ by about this much. Values
/// that feed an equality test (the masks of max/min gradients compare a
/// reduction with its input) stay exact. So do the results of operators
/// that float32 computes exactly but for one final rounding (arithmetic,
/// rounding functions, comparisons, selections, casts, data movement)
/// wherever the value is a float32 value: floor's integers, half-integers
/// fed to round, comparisons of them, have no rounding error in either
/// engine, and the ties they make are checked exactly.
/// Operators whose float32 result is the exact result rounded once (IEEE
/// arithmetic, sqrt, rounding functions, comparisons, selections, casts,
/// data movement): exact wherever the exact result is a float32 value.
bool roundsOnce(mlir::Operation *op) {
  static const llvm::StringSet<> names = [] {
    llvm::StringSet<> s;
    for (const char *fn : {"add", "sub", "mul", "div", "mod", "maximum", "minimum", "equal",
                           "not_equal", "greater", "greater_equal", "lesser", "lesser_equal",
                           "logical_and", "logical_or", "logical_xor"}) {
      std::string f = fn;
      s.insert("graph." + f);
      s.insert("graph.elemwise_" + f);
      s.insert("graph.broadcast_" + f);
      s.insert("graph." + f + "_scalar");
      s.insert("graph.r" + f + "_scalar");
    }
    for (const char *name :
         {"plus_scalar", "minus_scalar", "rminus_scalar", "logical_not", "relu", "abs", "sign",
          "negative", "square", "sqrt", "reciprocal", "floor", "ceil", "round", "rint", "fix",
          "trunc", "clip", "cast", "zeros_like", "ones_like", "block_grad", "identity",
          "reshape", "flatten", "transpose", "concat", "split", "slice_axis", "broadcast_to"})
      s.insert(std::string("graph.") + name);
    return s;
  }();
  return names.contains(op->getName().getStringRef());
}

std::vector<std::vector<double>> roundingSensitivity(mlir::ModuleOp module,
                                                     const std::vector<Tensor> &args,
                                                     const ref::Result &exact,
                                                     uint64_t seed, double delta) {
  mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
  auto f = copy->lookupSymbol<mlir::func::FuncOp>("main");
  llvm::DenseSet<mlir::Value> keep;
  std::function<void(mlir::Value)> keepExact = [&](mlir::Value v) {
    keep.insert(v);
    if (auto reshape = v.getDefiningOp<graph::ReshapeOp>())
      keepExact(reshape.getData());
  };
  f.walk([&](graph::BroadcastEqualOp op) {
    keepExact(op.getLhs());
    keepExact(op.getRhs());
  });
  std::vector<mlir::Operation *> ops;
  for (mlir::Operation &op : f.getBody().front().without_terminator())
    ops.push_back(&op);
  std::vector<Shape> noiseShapes;
  std::vector<double> noiseSizes;
  /// Per noise argument: added as r·(δu)·[r is not a float32 value]
  /// (roundsOnce) rather than multiplied as r·(1 + δu).
  std::vector<bool> noiseMasked;
  auto elements = [](mlir::Type t) -> double {
    auto r = mlir::dyn_cast<mlir::RankedTensorType>(t);
    return r && r.hasStaticShape() ? double(r.getNumElements()) : 0.0;
  };
  for (mlir::Operation *op : ops) {
    double largestOperand = 0, smallestResult = INFINITY;
    for (mlir::Type t : op->getOperandTypes())
      largestOperand = std::max(largestOperand, elements(t));
    for (mlir::Type t : op->getResultTypes())
      if (elements(t) > 0)
        smallestResult = std::min(smallestResult, elements(t));
    double terms = std::max(1.0, largestOperand / smallestResult);
    double opDelta = std::max(delta, 0x1p-24 * terms);
    // BatchNorm subtracts batch means inside one op (x − mean in the
    // forward, dy − mean(dy) in the backward): a mean off by its rounding
    // (δ relative to the values' magnitude, where the results' noise is
    // relative to the differences) moves every result by δ·|mean| /
    // sqrt(var + eps), far more than noise on the results where a channel
    // is nearly constant (the convolution of a constant, ceil(x) over a
    // batch of 3, a softmax over one element: var ≪ eps, and each such
    // BatchNorm multiplies the gradient by up to 1/sqrt(eps)). The same
    // noise on those operands does that.
    llvm::SmallVector<unsigned, 2> centered;
    if (llvm::isa<graph::BatchNormTrainOp>(op))
      centered = {0};
    else if (llvm::isa<graph::BatchNormGradOp>(op))
      centered = {0, 4};
    for (unsigned k : centered) {
      mlir::Value operand = op->getOperand(k);
      auto type = mlir::dyn_cast<mlir::RankedTensorType>(operand.getType());
      unsigned index = f.getNumArguments();
      if (!type || !type.hasStaticShape() ||
          mlir::failed(f.insertArgument(index, type, {}, op->getLoc())))
        continue;
      mlir::OpBuilder b(op);
      auto noisy =
          graph::ElemwiseMulOp::create(b, op->getLoc(), type, operand, f.getArgument(index));
      op->setOperand(k, noisy.getResult());
      noiseShapes.push_back(shapeOf(type));
      noiseSizes.push_back(opDelta);
      noiseMasked.push_back(false);
    }
    for (mlir::Value r : op->getResults()) {
      auto type = mlir::dyn_cast<mlir::RankedTensorType>(r.getType());
      if (keep.count(r) || !type || !type.hasStaticShape() || r.use_empty())
        continue;
      unsigned index = f.getNumArguments();
      if (mlir::failed(f.insertArgument(index, type, {}, op->getLoc())))
        continue;
      mlir::OpBuilder b(op->getContext());
      b.setInsertionPointAfter(op);
      mlir::Location loc = op->getLoc();
      mlir::Value noise = f.getArgument(index);
      bool masked = roundsOnce(op);
      if (masked) {
        auto asFloat = graph::CastOp::create(b, loc, type, r, graph::DType::float32);
        auto inexact = graph::NotEqualOp::create(b, loc, type, asFloat, r);
        auto scaled = graph::ElemwiseMulOp::create(b, loc, type, r, noise);
        auto change = graph::ElemwiseMulOp::create(b, loc, type, scaled, inexact);
        auto noisy = graph::ElemwiseAddOp::create(b, loc, type, r, change);
        llvm::SmallPtrSet<mlir::Operation *, 4> readers{asFloat, inexact, scaled, noisy};
        r.replaceAllUsesExcept(noisy.getResult(), readers);
      } else {
        auto noisy = graph::ElemwiseMulOp::create(b, loc, type, r, noise);
        r.replaceAllUsesExcept(noisy.getResult(), noisy);
      }
      noiseShapes.push_back(shapeOf(type));
      noiseSizes.push_back(opDelta);
      noiseMasked.push_back(masked);
    }
  }
  std::vector<std::vector<double>> sensitivity(exact.outputs.size());
  for (size_t i = 0; i < exact.outputs.size(); ++i)
    sensitivity[i].assign(exact.outputs[i].data.size(), 0.0);
  for (int draw = 0; draw < 3; ++draw) {
    std::vector<ref::Array> noisyArgs = ref::fromTensors(args);
    Random rng(Random::mix(seed, 77 + draw));
    for (size_t k = 0; k < noiseShapes.size(); ++k) {
      const Shape &shape = noiseShapes[k];
      ref::Array a{shape, std::vector<double>(size_t(Tensor::numElements(shape)))};
      for (double &v : a.data)
        v = (noiseMasked[k] ? 0 : 1) + noiseSizes[k] * rng.uniform(-1, 1);
      noisyArgs.push_back(std::move(a));
    }
    ref::Result noisy = ref::run(f, noisyArgs);
    for (size_t i = 0; i < exact.outputs.size(); ++i)
      for (size_t j = 0; j < exact.outputs[i].data.size(); ++j) {
        double d = std::fabs(noisy.outputs[i].data[j] - exact.outputs[i].data[j]);
        sensitivity[i][j] = std::max(sensitivity[i][j], std::isnan(d) ? INFINITY : d);
      }
  }
  // A result that jumps somewhere (an element moving by 1% of the result's
  // scale under noise a million times smaller) is discontinuous at these
  // values: a tie of a max/min reduction between values that are equal in
  // exact arithmetic, a relu input at 0. Which elements jump depends on the
  // draw, so every element of such a result gets the largest change.
  for (size_t i = 0; i < exact.outputs.size(); ++i) {
    double scale = 0, jump = 0;
    for (double v : exact.outputs[i].data)
      if (std::isfinite(v))
        scale = std::max(scale, std::fabs(v));
    for (double d : sensitivity[i])
      jump = std::max(jump, d);
    if (jump > 1e-2 * std::max(1.0, scale))
      std::fill(sensitivity[i].begin(), sensitivity[i].end(), jump);
  }
  return sensitivity;
}

/// How many training-mode BatchNorms normalize a channel that is constant
/// and nonzero in exact arithmetic (batch variance below (1e-9·mean)² in
/// the float64 reference). Such a channel's normalized values are its
/// float32 rounding (the mean of c, c, c is not always c) times
/// 1/sqrt(eps): harmless in one BatchNorm, but a second one normalizes
/// that rounding into values of order 1, and the backward multiplies the
/// gradient by 1/sqrt(eps) per BatchNorm before summing it back to ~0.
/// float32 rounding then decides the results (MXNet's equal the compiled
/// engine's: seed 20646 of the first campaign with elementwise operators,
/// ceil(x) over a batch of 3 through six BatchNorms).
unsigned constantChannelBatchNorms(mlir::ModuleOp module, const std::vector<Tensor> &args) {
  mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
  auto f = copy->lookupSymbol<mlir::func::FuncOp>("main");
  std::vector<graph::BatchNormTrainOp> norms;
  f.walk([&](graph::BatchNormTrainOp op) { norms.push_back(op); });
  if (norms.size() < 2)
    return 0;
  auto ret = llvm::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  unsigned first = ret.getNumOperands();
  for (graph::BatchNormTrainOp op : norms)
    for (mlir::Value v : {op.getMean(), op.getVar()}) {
      if (failed(f.insertResult(ret.getNumOperands(), v.getType(), {})))
        throw Error("kiln-fuzz-graphs: cannot add BatchNorm statistics as results");
      ret->insertOperands(ret.getNumOperands(), v);
    }
  ref::Result r = ref::run(f, ref::fromTensors(args));
  unsigned constant = 0;
  for (size_t k = 0; k < norms.size(); ++k) {
    const ref::Array &mean = r.outputs[first + 2 * k], &var = r.outputs[first + 2 * k + 1];
    for (size_t c = 0; c < mean.data.size(); ++c)
      if (mean.data[c] != 0 && var.data[c] <= std::pow(1e-9 * mean.data[c], 2)) {
        ++constant;
        break;
      }
  }
  return constant;
}

} // namespace

Outcome evaluate(const FuzzGraph &graph, Mode mode, uint64_t valueSeed,
                 const Tolerance &tolerance, ArgValues *argsOut) {
  Outcome outcome;
  mlir::MLIRContext ctx;
  LoadedModel model;
  try {
    model = loadModel(ctx, graph.graph, "fuzz-graph", "", graph.inputShapes());
  } catch (const std::exception &e) {
    outcome.kind = Outcome::ImportError;
    outcome.message = e.what();
    return outcome;
  }
  mlir::func::FuncOp main = model.mainFunc();

  // Kiln's shape inference against the generator's MXNet rules.
  if (!graph.expectedShapes.empty()) {
    std::string problems;
    main.walk([&](mlir::Operation *op) {
      auto loc = llvm::dyn_cast<mlir::NameLoc>(op->getLoc());
      if (!loc)
        return;
      auto it = graph.expectedShapes.find(loc.getName().str());
      if (it == graph.expectedShapes.end() || it->second.size() != op->getNumResults())
        return;
      for (unsigned i = 0; i < op->getNumResults(); ++i) {
        Shape got = shapeOf(op->getResult(i).getType());
        if (got != it->second[i])
          problems += (problems.empty() ? "" : "; ") + std::string("node '") + it->first +
                      "' result " + std::to_string(i) + ": Kiln infers " + formatShape(got) +
                      ", MXNet's rule gives " + formatShape(it->second[i]);
      }
    });
    if (!problems.empty()) {
      outcome.kind = Outcome::ShapeMismatch;
      outcome.message = problems;
      return outcome;
    }
  }

  // Class labels take values below the class count of their SoftmaxOutput,
  // which follows the data shape (the minimizer shrinks shapes).
  std::map<std::string, int64_t> classCounts;
  main.walk([&](graph::SoftmaxOutputOp op) {
    auto label = mlir::dyn_cast<mlir::BlockArgument>(op.getLabel());
    Shape data = shapeOf(op.getData().getType());
    if (!label || data.size() < 2)
      return;
    classCounts[argName(main, label.getArgNumber())] =
        op.getMultiOutput()     ? data[1]
        : op.getPreserveShape() ? data.back()
                                : Tensor::numElements(data) / data[0];
  });
  std::vector<Tensor> args;
  std::vector<std::string> argNames;
  for (const ModelArg &a : model.args) {
    auto found = graph.vars.find(a.name);
    VarInfo info = found == graph.vars.end() ? VarInfo{} : found->second;
    if (auto classes = classCounts.find(a.name);
        info.role == VarRole::ClassLabel && classes != classCounts.end())
      info.range = classes->second;
    args.push_back(drawValues(info, a.shape, valueSeed, a.name));
    argNames.push_back(a.name);
  }

  try {
    DiagnosticCollector diagnostics(&ctx);
    mlir::LogicalResult ok = mlir::success();
    if (mode == Mode::Training) {
      ok = applyTrainingMode(main);
    } else if (mode == Mode::Backward) {
      // kiln-run --backward's choice: every argument that is neither a data
      // input nor an aux state.
      AutodiffOptions options;
      for (const ModelArg &a : model.args)
        if (a.kind == ModelArg::Param)
          options.wrt.push_back(a.name);
      ok = differentiate(main, options);
    }
    if (mlir::failed(ok))
      diagnostics.fail(std::string("the ") + modeName(mode) + " rewrite failed");
  } catch (const std::exception &e) {
    outcome.kind = Outcome::TransformError;
    outcome.message = e.what();
    return outcome;
  }
  // The arguments the rewrites append: the RNG counter (0, as kiln-run) and
  // one gradient per head that is not a loss head.
  for (unsigned i = args.size(); i < main.getNumArguments(); ++i) {
    std::string kind = stringAttr(main.getArgAttrDict(i), kGraphKindAttr);
    std::string name = stringAttr(main.getArgAttrDict(i), kGraphNameAttr);
    Shape shape = shapeOf(main.getArgumentTypes()[i]);
    if (kind == kHeadGradKind)
      args.push_back(drawValues(VarInfo{VarRole::Data}, shape, valueSeed, name));
    else
      args.push_back(Tensor(shape));
    argNames.push_back(name);
  }
  if (argsOut) {
    argsOut->clear();
    for (size_t i = 0; i < args.size(); ++i)
      (*argsOut)[argNames[i]] = args[i];
  }

  ref::Result want;
  std::string referenceError;
  try {
    want = ref::run(main, ref::fromTensors(args));
  } catch (const std::exception &e) {
    referenceError = e.what();
  }
  std::vector<Tensor> got;
  std::string compiledError;
  try {
    std::unique_ptr<JitModel> compiled = JitModel::compile(*model.module);
    got = compiled->run(args);
  } catch (const std::exception &e) {
    compiledError = e.what();
  }
  if (!referenceError.empty()) {
    outcome.kind = Outcome::ReferenceError;
    outcome.message = "reference: " + referenceError +
                      (compiledError.empty() ? "" : "; compiled: " + compiledError);
    return outcome;
  }
  if (!compiledError.empty()) {
    outcome.kind = Outcome::CompiledError;
    outcome.message = "compiled: " + compiledError;
    return outcome;
  }

  outcome.numResults = got.size();
  if (got.size() != want.outputs.size()) {
    outcome.kind = Outcome::Disagree;
    outcome.message = "compiled returns " + std::to_string(got.size()) + " results, reference " +
                      std::to_string(want.outputs.size());
    return outcome;
  }
  // Elementwise tolerance; where it fails, the rounding sensitivity of the
  // reference (computed once, only then) may still explain the difference.
  std::vector<std::vector<double>> sensitivity;
  auto allowance = [&](size_t r, size_t i) {
    if (sensitivity.empty())
      sensitivity = roundingSensitivity(*model.module, args, want, valueSeed,
                                        tolerance.noiseDelta);
    return tolerance.noiseFactor * sensitivity[r][i];
  };
  unsigned head = 0;
  bool degenerate = false;
  for (size_t r = 0; r < got.size(); ++r) {
    const Tensor &g = got[r];
    const ref::Array &w = want.outputs[r];
    Mismatch m;
    m.result = resultLabel(main, unsigned(r), head);
    if (g.shape != w.shape) {
      m.result += ": compiled shape " + formatShape(g.shape) + ", reference " +
                  formatShape(w.shape);
      outcome.mismatches.push_back(m);
      continue;
    }
    m.numElements = w.data.size();
    for (double v : w.data) {
      if (!std::isfinite(v) || std::fabs(v) > 1e12)
        degenerate = true;
      else
        m.scale = std::max(m.scale, std::fabs(v));
    }
    if (degenerate)
      break;
    double atol = tolerance.atol * std::max(1.0, m.scale);
    double worst = -1;
    for (size_t i = 0; i < w.data.size(); ++i) {
      double gv = g.values[i], wv = w.data[i];
      if (std::isnan(gv) && std::isnan(wv))
        continue;
      double err = std::fabs(gv - wv);
      double allowed = atol + tolerance.rtol * std::fabs(wv);
      if (err <= allowed)
        continue;
      allowed += allowance(r, i);
      if (err <= allowed)
        continue;
      ++m.numBad;
      double excess = std::isnan(err) ? INFINITY : err / allowed;
      if (excess > worst) {
        worst = excess;
        m.index = i;
        m.compiled = gv;
        m.reference = wv;
        m.sensitivity = sensitivity[r][i];
      }
    }
    if (m.numBad)
      outcome.mismatches.push_back(m);
  }
  if (degenerate) {
    outcome.kind = Outcome::Degenerate;
    outcome.mismatches.clear();
    outcome.message = "the reference has non-finite or huge values";
    return outcome;
  }
  if (!outcome.mismatches.empty() && constantChannelBatchNorms(*model.module, args) >= 2) {
    outcome.kind = Outcome::Degenerate;
    outcome.mismatches.clear();
    outcome.message = "BatchNorms over channels that are constant in exact arithmetic: float32 "
                      "rounding decides the result";
    return outcome;
  }
  if (!outcome.mismatches.empty()) {
    outcome.kind = Outcome::Disagree;
    outcome.message = outcome.mismatches.front().describe();
    if (outcome.mismatches.size() > 1)
      outcome.message += " (+" + std::to_string(outcome.mismatches.size() - 1) + " more results)";
  }
  return outcome;
}

} // namespace kiln::fuzz
