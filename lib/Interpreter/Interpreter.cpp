//===- Interpreter.cpp - Reference interpreter for the graph dialect ------===//
//
// Straightforward loops in double precision, one function per op. Where a
// semantic choice exists it follows MXNet 1.x (SPEC §2.3); the reasons are
// noted next to the code. Output shapes come from the (static) result types;
// each op still checks what it needs to index its operands safely, so bad IR
// raises kiln::Error instead of reading out of bounds.
//
//===----------------------------------------------------------------------===//

#include "Interpreter/Interpreter.h"
#include "Interpreter/InterpreterImpl.h"

#include "Graph/GraphOps.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

//===----------------------------------------------------------------------===//
// Shapes and indices
//===----------------------------------------------------------------------===//

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// "(2, 3)" / "(3,)", as MXNet prints shapes.
std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

int64_t flatIndex(llvm::ArrayRef<int64_t> idx, llvm::ArrayRef<int64_t> shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + idx[d];
  return flat;
}

/// The product of shape[begin, end): the "outer"/"inner" extents that turn an
/// op along one axis into a loop over a 3-D (outer, axis, inner) view.
int64_t extent(llvm::ArrayRef<int64_t> shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d)
    n *= shape[d];
  return n;
}

/// NumPy broadcasting (shapes aligned from the right, size-1 dims repeat):
/// whether an operand of shape `in` broadcasts to `out`.
bool broadcastsTo(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out) {
  if (in.size() > out.size())
    return false;
  size_t off = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    if (in[d] != 1 && in[d] != out[off + d])
      return false;
  return true;
}

/// The flat index into a broadcast operand of shape `in` that supplies the
/// element at result multi-index `outIdx`. Shared by every broadcasting op.
int64_t broadcastSource(llvm::ArrayRef<int64_t> outIdx,
                        llvm::ArrayRef<int64_t> in) {
  size_t off = outIdx.size() - in.size();
  int64_t flat = 0;
  for (size_t d = 0; d < in.size(); ++d)
    flat = flat * in[d] + (in[d] == 1 ? 0 : outIdx[off + d]);
  return flat;
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// "node 'conv1' (graph.convolution)": nodes carry their MXNet name as a
/// NameLoc; anything else prints the location as is.
std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    os << "node '" << name.getName().getValue() << "'";
  else {
    os << "node at ";
    op->getLoc().print(os);
  }
  os << " (" << op->getName().getStringRef() << ")";
  return s;
}

void fail(Operation *op, const std::string &msg) {
  throw Error(describe(op) + ": " + msg);
}

double toDouble(const llvm::APFloat &f) {
  bool losesInfo = false;
  llvm::APFloat d = f;
  d.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &losesInfo);
  return d.convertToDouble();
}

int64_t normalizeAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    fail(op, "axis " + std::to_string(axis) + " is out of range for rank " +
                 std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}


namespace {

/// The p-th root of an Lp pooling window's sum of p-th powers, as MXNet's
/// a_root_p: cbrt for p = 3, so that a window whose cubes sum below 0 has a
/// negative result rather than NaN.
double lpRoot(double sum, double p) {
  return p == 1 ? sum : p == 2 ? std::sqrt(sum) : p == 3 ? std::cbrt(sum) : std::pow(sum, 1.0 / p);
}


/// An empty stride/dilate/pad attribute means MXNet's default in every
/// spatial dimension; otherwise it must have one entry per kernel dimension.
Shape expandAttr(Operation *op, const char *what, llvm::ArrayRef<int64_t> v,
                 size_t n, int64_t dflt) {
  if (v.empty())
    return Shape(n, dflt);
  if (v.size() != n)
    fail(op, std::string(what) + " has " + std::to_string(v.size()) +
                 " entries but the kernel has " + std::to_string(n));
  return Shape(v.begin(), v.end());
}

/// Softmax or log-softmax over the middle axis of an (outer, n, inner) view.
/// With `length` (one entry per (outer, inner) row, MXNet's use_length),
/// row r takes only its first int(length[r]) elements, clipped to [0, n];
/// the others are 0.
void softmax3D(const std::vector<double> &x, std::vector<double> &y,
               int64_t outer, int64_t n, int64_t inner, double temperature,
               bool log, const std::vector<double> *length = nullptr) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      int64_t len = n;
      if (length) {
        double l = (*length)[o * inner + i];
        len = std::isnan(l) || l <= 0 ? 0 : l >= static_cast<double>(n) ? n
                                                                         : static_cast<int64_t>(l);
      }
      // Subtracting the max keeps exp() finite; the result is unchanged.
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < len; ++j)
        mx = std::max(mx, x[at(j)] / temperature);
      double sum = 0;
      for (int64_t j = 0; j < len; ++j)
        sum += std::exp(x[at(j)] / temperature - mx);
      for (int64_t j = 0; j < len; ++j) {
        double z = x[at(j)] / temperature - mx;
        y[at(j)] = log ? z - std::log(sum) : std::exp(z) / sum;
      }
      for (int64_t j = len; j < n; ++j)
        y[at(j)] = 0;
    }
}

using g::fn::sigmoid;

/// The taps of a convolution window: for one position `o` on the window
/// side (spatial multi-index), the flat spatial index, in a plane of size
/// `plane`, of the element each kernel offset reaches (kernel offsets in
/// row-major order), or −1 where it falls in the padding. Convolution
/// gathers through the taps, Deconvolution scatters through them and the
/// weight gradient pairs them up: one geometry, three loops.
class ConvTaps {
public:
  ConvTaps(llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> stride,
           llvm::ArrayRef<int64_t> dilate, llvm::ArrayRef<int64_t> pad,
           llvm::ArrayRef<int64_t> plane)
      : kernel(kernel.begin(), kernel.end()), stride(stride.begin(), stride.end()),
        dilate(dilate.begin(), dilate.end()), pad(pad.begin(), pad.end()),
        plane(plane.begin(), plane.end()), taps(numElements(kernel)) {}

  const std::vector<int64_t> &at(const Index &o) {
    size_t nsp = kernel.size();
    Index pos(nsp);
    forEachIndex(kernel, [&](const Index &k, int64_t kflat) {
      int64_t flat = 0;
      for (size_t d = 0; d < nsp; ++d) {
        int64_t p = o[d] * stride[d] - pad[d] + k[d] * dilate[d];
        if (p < 0 || p >= plane[d]) {
          flat = -1;
          break;
        }
        flat = flat * plane[d] + p;
      }
      taps[kflat] = flat;
    });
    return taps;
  }

private:
  Shape kernel, stride, dilate, pad, plane;
  std::vector<int64_t> taps;
};

/// SELU's fixed constants (forward and gradient).
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

/// The weight row an Embedding index selects: float indices are truncated,
/// then clipped into range (MXNet's take with mode=clip); NaN picks row 0.
int64_t embeddingRow(double v, int64_t rows) {
  return std::isnan(v) ? 0
         : v <= 0      ? 0
         : v >= static_cast<double>(rows - 1) ? rows - 1
                                              : static_cast<int64_t>(v);
}

void batchStats(const Array &x, int64_t outer, int64_t c, int64_t inner,
                std::vector<double> &mean, std::vector<double> &var);

//===----------------------------------------------------------------------===//
// The interpreter
//===----------------------------------------------------------------------===//

/// The op families outside Interpreter.cpp (InterpreterImpl.h), asked in
/// turn for an op the core does not run.
const FamilyInterpreter kFamilies[] = {interpretShapeOp, interpretReduceOp, interpretNNOp,
                                       interpretRNNOp, interpretDetectionOp};

class Interpreter : public OpEnv {
public:
  Interpreter(func::FuncOp fn, const Options &opts)
      : fn(fn), opts(opts), rng(opts.seed) {}

  Result run(const std::vector<Array> &args);

  // OpEnv, for the families' kernels.
  const Array &get(Operation *op, Value v) override;
  Array makeResult(Operation *op, unsigned i = 0) override;
  void setResult(Operation *op, unsigned i, Array value) override {
    values[op->getResult(i)] = std::move(value);
  }
  const Options &options() const override { return opts; }
  double uniform() override { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
  void recordAuxUpdate(Value arg, Array value) override;

private:
  func::FuncOp fn;
  const Options &opts;
  std::mt19937_64 rng;
  Result result;
  llvm::DenseMap<Value, Array> values;

  // uniform() is built from raw engine bits: std::uniform_real_distribution
  // is implementation-defined, and runs must be reproducible across standard
  // libraries.

  void checkArguments(const std::vector<Array> &args);
  Shape resultShape(Operation *op, unsigned i = 0);
  void exec(Operation *op);

  // Layers.
  Array fullyConnected(g::FullyConnectedOp op);
  Array convolution(g::ConvolutionOp op);
  Array deconvolution(g::DeconvolutionOp op);
  Array pooling(g::PoolingOp op);
  Array activation(g::ActivationOp op);
  Array leakyRelu(g::LeakyReLUOp op);
  /// BatchNorm and SyncBatchNorm.
  template <typename BatchNormLike> Array batchNorm(BatchNormLike op);
  Array lrn(g::LRNOp op);
  Array dropout(g::DropoutOp op);
  Array embedding(g::EmbeddingOp op);
  // Softmax family and loss heads.
  Array softmaxOutput(g::SoftmaxOutputOp op);
  Array softmaxAlong(Operation *op, Value data, int64_t axis,
                     double temperature, bool log, Value length = Value());
  Array softmaxActivation(g::SoftmaxActivationOp op);
  Array unary(Operation *op, Value data, const std::function<double(double)> &f);
  // Shape manipulation.
  Array copyData(Operation *op, Value data);
  Array transpose(g::TransposeOp op);
  Array concat(g::ConcatOp op);
  void split(g::SplitOp op);
  // Arithmetic.
  Array elemwise(Operation *op, Value lhs, Value rhs,
                 const std::function<double(double, double)> &f);
  Array addN(g::AddNOp op);
  Array broadcastBinary(Operation *op, Value lhs, Value rhs,
                        const std::function<double(double, double)> &f);
  Array broadcastTo(g::BroadcastToOp op);
  enum class ReduceKind { Sum, Mean, Max, Min };
  Array reduce(Operation *op, Value data,
               std::optional<llvm::ArrayRef<int64_t>> axis, bool exclude,
               ReduceKind kind);
  // Training and gradient ops (GraphGradOps.td).
  void store(Operation *op, std::vector<Array> results);
  Array dot(g::DotOp op);
  Array sliceAxis(g::SliceAxisOp op);
  std::vector<Array> batchNormTrain(g::BatchNormTrainOp op);
  Array convolutionWeightGrad(g::ConvolutionWeightGradOp op);
  Array poolingGrad(g::PoolingGradOp op);
  Array activationGrad(g::ActivationGradOp op);
  std::vector<Array> batchNormGrad(g::BatchNormGradOp op);
  Array softmaxOutputGrad(g::SoftmaxOutputGradOp op);
  Array regressionOutputGrad(g::RegressionOutputGradOp op);
  Array softmaxGrad(g::SoftmaxGradOp op);
  Array zeros(g::ZerosOp op);
  Array dropoutMask(g::DropoutMaskOp op);
  Array randomUniform(g::RandomUniformOp op);
  Array leakyReluGrad(g::LeakyReLUGradOp op);
  Array lrnGrad(g::LRNGradOp op);
  Array embeddingGrad(g::EmbeddingGradOp op);
};

void Interpreter::checkArguments(const std::vector<Array> &args) {
  FunctionType type = fn.getFunctionType();
  std::string fname = "function '" + fn.getSymName().str() + "'";
  if (args.size() != type.getNumInputs())
    throw Error(fname + " takes " + std::to_string(type.getNumInputs()) +
                " arguments, got " + std::to_string(args.size()));
  for (unsigned i = 0; i < args.size(); ++i) {
    std::string what = fname + ", argument #" + std::to_string(i);
    if (auto name = dyn_cast<NameLoc>(fn.getArgument(i).getLoc()))
      what += " ('" + name.getName().getValue().str() + "')";
    const Array &a = args[i];
    if (static_cast<int64_t>(a.data.size()) != a.size())
      throw Error(what + ": " + std::to_string(a.data.size()) +
                  " values do not fill shape " + shapeStr(a.shape));
    auto ranked = dyn_cast<RankedTensorType>(type.getInput(i));
    if (!ranked) {
      if (!isa<TensorType>(type.getInput(i)))
        throw Error(what + ": not a tensor");
      continue; // Unranked: any shape is acceptable.
    }
    bool ok = ranked.getRank() == static_cast<int64_t>(a.shape.size());
    for (int64_t d = 0; ok && d < ranked.getRank(); ++d)
      ok = ranked.isDynamicDim(d) || ranked.getDimSize(d) == a.shape[d];
    if (!ok) {
      std::string want;
      llvm::raw_string_ostream os(want);
      os << ranked;
      throw Error(what + ": has shape " + shapeStr(a.shape) +
                  " but the function expects " + want);
    }
  }
}

const Array &Interpreter::get(Operation *op, Value v) {
  auto it = values.find(v);
  if (it == values.end())
    fail(op, "operand has no value (it is not defined in the function body)");
  return it->second;
}

Shape Interpreter::resultShape(Operation *op, unsigned i) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(i).getType());
  if (!type || !type.hasStaticShape()) {
    std::string t;
    llvm::raw_string_ostream os(t);
    os << op->getResult(i).getType();
    fail(op, "result #" + std::to_string(i) + " has type " + t +
                 "; the interpreter needs static shapes (run shape inference "
                 "first)");
  }
  return Shape(type.getShape().begin(), type.getShape().end());
}

Array Interpreter::makeResult(Operation *op, unsigned i) {
  Array a;
  a.shape = resultShape(op, i);
  a.data.assign(a.size(), 0.0);
  return a;
}

void Interpreter::recordAuxUpdate(Value arg, Array value) {
  auto ba = dyn_cast<BlockArgument>(arg);
  if (!ba || ba.getOwner() != &fn.getBody().front())
    return;
  result.updatedArgs[ba.getArgNumber()] = std::move(value);
}

Result Interpreter::run(const std::vector<Array> &args) {
  if (fn.isExternal())
    throw Error("function '" + fn.getSymName().str() + "' has no body");
  if (!fn.getBody().hasOneBlock())
    throw Error("function '" + fn.getSymName().str() +
                "' has more than one block; graph functions have one");
  checkArguments(args);
  Block &body = fn.getBody().front();
  for (unsigned i = 0; i < args.size(); ++i)
    values[body.getArgument(i)] = args[i];

  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        result.outputs.push_back(get(&op, v));
      return std::move(result);
    }
    exec(&op);
  }
  throw Error("function '" + fn.getSymName().str() + "' has no func.return");
}

void Interpreter::exec(Operation *op) {
  using R = ReduceKind;
  auto reduceOp = [&](auto rop, R kind) {
    return reduce(rop, rop.getData(), rop.getAxis(), rop.getExclude(), kind);
  };

  // Elementwise ops defined by a formula (GraphElementwise.td).
  Array formulaResult;
  if (g::visitFormulaOp(op, [&](auto o) {
        using OpT = decltype(o);
        if constexpr (g::FormulaOperands<OpT>::value == 1)
          formulaResult = unary(o, o->getOperand(0), [&](double x) { return o.apply(x); });
        else if constexpr (OpT::template hasTrait<g::GraphBroadcastElementwise>())
          formulaResult = broadcastBinary(o, o.getLhs(), o.getRhs(),
                                          [&](double a, double b) { return o.apply(a, b); });
        else
          formulaResult = elemwise(o, o.getLhs(), o.getRhs(),
                                   [&](double a, double b) { return o.apply(a, b); });
      })) {
    values[op->getResult(0)] = std::move(formulaResult);
    return;
  }
  for (FamilyInterpreter family : kFamilies)
    if (family(*this, op))
      return;

  // Split is the one op with several results; it stores them itself.
  if (auto s = dyn_cast<g::SplitOp>(op))
    return split(s);
  if (auto bn = dyn_cast<g::BatchNormTrainOp>(op))
    return store(op, batchNormTrain(bn));
  if (auto bn = dyn_cast<g::BatchNormGradOp>(op))
    return store(op, batchNormGrad(bn));

  Array out =
      llvm::TypeSwitch<Operation *, Array>(op)
          .Case([&](g::FullyConnectedOp o) { return fullyConnected(o); })
          .Case([&](g::ConvolutionOp o) { return convolution(o); })
          .Case([&](g::DeconvolutionOp o) { return deconvolution(o); })
          .Case([&](g::PoolingOp o) { return pooling(o); })
          .Case([&](g::ActivationOp o) { return activation(o); })
          .Case([&](g::LeakyReLUOp o) { return leakyRelu(o); })
          .Case([&](g::BatchNormOp o) { return batchNorm(o); })
          .Case([&](g::SyncBatchNormOp o) { return batchNorm(o); })
          .Case([&](g::LRNOp o) { return lrn(o); })
          .Case([&](g::DropoutOp o) { return dropout(o); })
          .Case([&](g::EmbeddingOp o) { return embedding(o); })
          .Case([&](g::SoftmaxOutputOp o) { return softmaxOutput(o); })
          .Case([&](g::LinearRegressionOutputOp o) {
            return unary(o, o.getData(), [](double x) { return x; });
          })
          .Case([&](g::LogisticRegressionOutputOp o) {
            return unary(o, o.getData(), sigmoid);
          })
          .Case([&](g::MAERegressionOutputOp o) {
            return unary(o, o.getData(), [](double x) { return x; });
          })
          .Case([&](g::SoftmaxOp o) {
            auto t = o.getTemperature();
            return softmaxAlong(o, o.getData(), static_cast<int64_t>(o.getAxis()),
                                t ? toDouble(*t) : 1.0, /*log=*/false, o.getLength());
          })
          .Case([&](g::LogSoftmaxOp o) {
            auto t = o.getTemperature();
            return softmaxAlong(o, o.getData(), static_cast<int64_t>(o.getAxis()),
                                t ? toDouble(*t) : 1.0, /*log=*/true);
          })
          .Case([&](g::SoftminOp o) {
            // softmax with the temperature negated: exp(−x/T) / Σ exp(−x/T).
            auto t = o.getTemperature();
            return softmaxAlong(o, o.getData(), static_cast<int64_t>(o.getAxis()),
                                -(t ? toDouble(*t) : 1.0), /*log=*/false);
          })
          .Case([&](g::SoftmaxActivationOp o) { return softmaxActivation(o); })
          .Case([&](g::FlattenOp o) { return copyData(o, o.getData()); })
          .Case([&](g::IdentityOp o) { return copyData(o, o.getData()); })
          .Case([&](g::ReshapeOp o) { return copyData(o, o.getData()); })
          .Case([&](g::TransposeOp o) { return transpose(o); })
          .Case([&](g::ConcatOp o) { return concat(o); })
          .Case([&](g::AddNOp o) { return addN(o); })
          .Case([&](g::BroadcastToOp o) { return broadcastTo(o); })
          .Case([&](g::SumOp o) { return reduceOp(o, R::Sum); })
          .Case([&](g::MeanOp o) { return reduceOp(o, R::Mean); })
          .Case([&](g::MaxOp o) { return reduceOp(o, R::Max); })
          .Case([&](g::MinOp o) { return reduceOp(o, R::Min); })
          .Case([&](g::DotOp o) { return dot(o); })
          .Case([&](g::SliceAxisOp o) { return sliceAxis(o); })
          .Case([&](g::ConvolutionWeightGradOp o) { return convolutionWeightGrad(o); })
          .Case([&](g::PoolingGradOp o) { return poolingGrad(o); })
          .Case([&](g::ActivationGradOp o) { return activationGrad(o); })
          .Case([&](g::SoftmaxOutputGradOp o) { return softmaxOutputGrad(o); })
          .Case([&](g::RegressionOutputGradOp o) { return regressionOutputGrad(o); })
          .Case([&](g::SoftmaxGradOp o) { return softmaxGrad(o); })
          .Case([&](g::ZerosOp o) { return zeros(o); })
          .Case([&](g::DropoutMaskOp o) { return dropoutMask(o); })
          .Case([&](g::RandomUniformOp o) { return randomUniform(o); })
          .Case([&](g::LeakyReLUGradOp o) { return leakyReluGrad(o); })
          .Case([&](g::LRNGradOp o) { return lrnGrad(o); })
          .Case([&](g::EmbeddingGradOp o) { return embeddingGrad(o); })
          .Default([&](Operation *o) -> Array {
            fail(o, "operation is not supported by the reference interpreter");
          });
  if (op->getNumResults() != 1)
    fail(op, "expected one result");
  values[op->getResult(0)] = std::move(out);
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

Array Interpreter::fullyConnected(g::FullyConnectedOp op) {
  const Array &x = get(op, op.getData());
  const Array &w = get(op, op.getWeight());
  if (x.shape.empty())
    fail(op, "data must have rank >= 1");
  // flatten=True collapses everything after the batch axis; otherwise the
  // layer applies to the last axis and every leading axis is a batch axis.
  int64_t rows = op.getFlatten() ? x.shape[0]
                                 : extent(x.shape, 0, x.shape.size() - 1);
  int64_t k = x.size() / std::max<int64_t>(rows, 1);
  int64_t n = static_cast<int64_t>(op.getNumHidden());
  if (w.shape != Shape{n, k})
    fail(op, "weight has shape " + shapeStr(w.shape) + ", expected " +
                 shapeStr({n, k}));
  const Array *b = nullptr;
  if (Value bias = op.getBias()) {
    b = &get(op, bias);
    if (b->shape != Shape{n})
      fail(op, "bias has shape " + shapeStr(b->shape) + ", expected " +
                   shapeStr({n}));
  }
  Array out = makeResult(op);
  if (out.size() != rows * n)
    fail(op, "result shape " + shapeStr(out.shape) + " does not hold " +
                 std::to_string(rows) + " x " + std::to_string(n) + " values");
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double acc = b ? b->data[j] : 0.0;
      for (int64_t i = 0; i < k; ++i)
        acc += x.data[r * k + i] * w.data[j * k + i];
      out.data[r * n + j] = acc;
    }
  return out;
}

Array Interpreter::convolution(g::ConvolutionOp op) {
  const Array &x = get(op, op.getData());
  const Array &w = get(op, op.getWeight());
  llvm::ArrayRef<int64_t> kernel = op.getKernel();
  size_t nsp = kernel.size();
  if (nsp < 1 || nsp > 3 || x.shape.size() != nsp + 2)
    fail(op, "data of shape " + shapeStr(x.shape) + " does not fit a " +
                 std::to_string(nsp) + "-D kernel");
  Shape stride = expandAttr(op, "stride", op.getStride(), nsp, 1);
  Shape dilate = expandAttr(op, "dilate", op.getDilate(), nsp, 1);
  Shape pad = expandAttr(op, "pad", op.getPad(), nsp, 0);
  int64_t batch = x.shape[0], c = x.shape[1];
  int64_t f = static_cast<int64_t>(op.getNumFilter());
  int64_t groups = static_cast<int64_t>(op.getNumGroup());
  if (groups < 1 || c % groups || f % groups)
    fail(op, "num_group " + std::to_string(groups) +
                 " must divide the channels (" + std::to_string(c) +
                 ") and num_filter (" + std::to_string(f) + ")");
  int64_t cg = c / groups, fg = f / groups;
  Shape wantW = {f, cg};
  wantW.insert(wantW.end(), kernel.begin(), kernel.end());
  if (w.shape != wantW)
    fail(op, "weight has shape " + shapeStr(w.shape) + ", expected " +
                 shapeStr(wantW));
  Shape wantOut = {batch, f};
  for (size_t d = 0; d < nsp; ++d)
    wantOut.push_back((x.shape[d + 2] + 2 * pad[d] - dilate[d] * (kernel[d] - 1) -
                       1) / stride[d] + 1);
  Array out = makeResult(op);
  if (out.shape != wantOut)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from " +
                 shapeStr(wantOut));
  const Array *b = nullptr;
  if (Value bias = op.getBias()) {
    b = &get(op, bias);
    if (b->shape != Shape{f})
      fail(op, "bias has shape " + shapeStr(b->shape) + ", expected " +
                   shapeStr({f}));
  }

  // Gather: each output element sums weight·input over its window.
  Shape inPlane(x.shape.begin() + 2, x.shape.end());
  Shape outPlane(out.shape.begin() + 2, out.shape.end());
  int64_t inSize = numElements(inPlane), outSize = numElements(outPlane);
  int64_t ksize = numElements(kernel);
  ConvTaps window(kernel, stride, dilate, pad, inPlane);
  forEachIndex(outPlane, [&](const Index &o, int64_t pflat) {
    const std::vector<int64_t> &taps = window.at(o);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t oc = 0; oc < f; ++oc) {
        int64_t group = oc / fg;
        double acc = b ? b->data[oc] : 0.0;
        for (int64_t ic = 0; ic < cg; ++ic) {
          const double *xs = &x.data[(n * c + group * cg + ic) * inSize];
          const double *ws = &w.data[(oc * cg + ic) * ksize];
          for (int64_t k = 0; k < ksize; ++k)
            if (taps[k] >= 0)
              acc += xs[taps[k]] * ws[k];
        }
        out.data[(n * f + oc) * outSize + pflat] = acc;
      }
  });
  return out;
}

Array Interpreter::deconvolution(g::DeconvolutionOp op) {
  const Array &x = get(op, op.getData());
  const Array &w = get(op, op.getWeight());
  llvm::ArrayRef<int64_t> kernel = op.getKernel();
  size_t nsp = kernel.size();
  if (nsp < 1 || nsp > 3 || x.shape.size() != nsp + 2)
    fail(op, "data of shape " + shapeStr(x.shape) + " does not fit a " +
                 std::to_string(nsp) + "-D kernel");
  Shape stride = expandAttr(op, "stride", op.getStride(), nsp, 1);
  Shape dilate = expandAttr(op, "dilate", op.getDilate(), nsp, 1);
  Shape pad, adj;
  llvm::ArrayRef<int64_t> target = op.getTargetShape();
  bool useTarget = llvm::any_of(target, [](int64_t t) { return t != 0; });
  if (useTarget) {
    // MXNet derives pad and adj from target_shape: the unpadded output
    // s(x−1)+d(k−1)+1 exceeds the target by `total`; pad takes half of it
    // (rounded up) from each side and adj gives back the odd one.
    if (target.size() != nsp)
      fail(op, "target_shape has " + std::to_string(target.size()) +
                   " entries but the kernel has " + std::to_string(nsp));
    for (size_t d = 0; d < nsp; ++d) {
      int64_t full = stride[d] * (x.shape[d + 2] - 1) +
                     dilate[d] * (kernel[d] - 1) + 1;
      int64_t total = full - target[d];
      if (total < 0)
        fail(op, "target_shape " + shapeStr(target) + " is too big");
      adj.push_back(total % 2);
      pad.push_back((total + 1) / 2);
    }
  } else {
    pad = expandAttr(op, "pad", op.getPad(), nsp, 0);
    adj = expandAttr(op, "adj", op.getAdj(), nsp, 0);
  }
  int64_t batch = x.shape[0], c = x.shape[1];
  int64_t f = static_cast<int64_t>(op.getNumFilter());
  int64_t groups = static_cast<int64_t>(op.getNumGroup());
  if (groups < 1 || c % groups || f % groups)
    fail(op, "num_group " + std::to_string(groups) +
                 " must divide the channels (" + std::to_string(c) +
                 ") and num_filter (" + std::to_string(f) + ")");
  int64_t cg = c / groups, fg = f / groups;
  Shape wantW = {c, fg};
  wantW.insert(wantW.end(), kernel.begin(), kernel.end());
  if (w.shape != wantW)
    fail(op, "weight has shape " + shapeStr(w.shape) + ", expected " +
                 shapeStr(wantW));
  Shape wantOut = {batch, f};
  for (size_t d = 0; d < nsp; ++d)
    wantOut.push_back(stride[d] * (x.shape[d + 2] - 1) +
                      dilate[d] * (kernel[d] - 1) + 1 - 2 * pad[d] + adj[d]);
  Array out = makeResult(op);
  if (out.shape != wantOut)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from " +
                 shapeStr(wantOut));

  // Scatter form: each input element spreads weight·x over the outputs its
  // kernel window covers, exactly the transpose of Convolution's gather.
  int64_t ksize = numElements(kernel);
  Shape inPlane(x.shape.begin() + 2, x.shape.end());
  Shape outPlane(out.shape.begin() + 2, out.shape.end());
  int64_t inSize = numElements(inPlane), outSize = numElements(outPlane);
  ConvTaps window(kernel, stride, dilate, pad, outPlane);
  forEachIndex(inPlane, [&](const Index &i, int64_t pflat) {
    const std::vector<int64_t> &taps = window.at(i);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t ic = 0; ic < c; ++ic) {
        double xv = x.data[(n * c + ic) * inSize + pflat];
        int64_t group = ic / cg;
        for (int64_t j = 0; j < fg; ++j) {
          double *os = &out.data[(n * f + group * fg + j) * outSize];
          const double *ws = &w.data[(ic * fg + j) * ksize];
          for (int64_t k = 0; k < ksize; ++k)
            if (taps[k] >= 0)
              os[taps[k]] += xv * ws[k];
        }
      }
  });
  if (Value bias = op.getBias()) {
    const Array &b = get(op, bias);
    if (b.shape != Shape{f})
      fail(op, "bias has shape " + shapeStr(b.shape) + ", expected " +
                   shapeStr({f}));
    int64_t inner = extent(out.shape, 2, out.shape.size());
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] += b.data[(i / inner) % f];
  }
  return out;
}

/// The windows of a Pooling (or of the forward a pooling_grad
/// differentiates) over data of shape `xShape` with output `outShape`.
struct PoolGeometry {
  size_t nsp = 0;
  Shape spatial, kernel, stride, padBefore, padAfter;

  /// Calls fn(xFlat) for every input element of output position `o`'s
  /// window (clipped to the real input, row-major) and returns the
  /// window's size within the padded input (`padded`, what
  /// count_include_pad divides by) and within the real input (`real`).
  template <typename Fn>
  void window(const Index &o, int64_t channels, int64_t &padded, int64_t &real,
              Fn &&fn) const {
    Index lo(nsp), hi(nsp);
    // The window starts at o·s − p and is clipped to the padded input
    // [−p, x + p) (so a 'full' window hanging past the padding shrinks but
    // is never dropped); then it is clipped again to the real input for the
    // values it reads.
    padded = 1, real = 1;
    for (size_t d = 0; d < nsp; ++d) {
      int64_t start = o[d + 2] * stride[d] - padBefore[d];
      int64_t end = std::min(start + kernel[d], spatial[d] + padAfter[d]);
      padded *= std::max<int64_t>(0, end - start);
      lo[d] = std::max<int64_t>(start, 0);
      hi[d] = std::min(end, spatial[d]);
      real *= std::max<int64_t>(0, hi[d] - lo[d]);
    }
    if (real <= 0)
      return;
    Shape extent(nsp);
    for (size_t d = 0; d < nsp; ++d)
      extent[d] = hi[d] - lo[d];
    forEachIndex(extent, [&](const Index &wi, int64_t) {
      int64_t xi = o[0] * channels + o[1];
      for (size_t d = 0; d < nsp; ++d)
        xi = xi * spatial[d] + lo[d] + wi[d];
      fn(xi);
    });
  }
};

/// Checks `outShape` against the pooling geometry of `op` on `xShape` and
/// returns the geometry. Shared by pooling and pooling_grad, whose
/// attributes are the same.
template <typename PoolOp>
PoolGeometry poolGeometry(PoolOp op, const Shape &xShape, const Shape &outShape) {
  if (xShape.size() < 3 || xShape.size() > 5)
    fail(op, "data must be 3-D, 4-D or 5-D (N, C, spatial...), got " +
                 shapeStr(xShape));
  PoolGeometry g;
  g.nsp = xShape.size() - 2;
  size_t nsp = g.nsp;
  g.spatial.assign(xShape.begin() + 2, xShape.end());
  if (outShape.size() != xShape.size() || outShape[0] != xShape[0] ||
      outShape[1] != xShape[1])
    fail(op, "pooled shape " + shapeStr(outShape) +
                 " does not match data shape " + shapeStr(xShape));
  Shape outSpatial(outShape.begin() + 2, outShape.end());

  g::PoolingConvention conv = op.getPoolingConvention();
  if (op.getGlobalPool()) {
    // Global pooling ignores kernel, stride and pad: one window per plane.
    g.kernel = g.spatial;
    g.stride.assign(nsp, 1);
    g.padBefore.assign(nsp, 0);
    g.padAfter.assign(nsp, 0);
    conv = g::PoolingConvention::valid;
  } else {
    llvm::ArrayRef<int64_t> k = op.getKernel();
    if (k.size() != nsp)
      fail(op, "kernel has " + std::to_string(k.size()) +
                   " entries for data of shape " + shapeStr(xShape));
    g.kernel.assign(k.begin(), k.end());
    g.stride = expandAttr(op, "stride", op.getStride(), nsp, 1);
    g.padBefore = expandAttr(op, "pad", op.getPad(), nsp, 0);
    g.padAfter = g.padBefore;
  }

  Shape want(nsp);
  for (size_t d = 0; d < nsp; ++d) {
    int64_t span = g.spatial[d] + 2 * g.padBefore[d] - g.kernel[d];
    switch (conv) {
    case g::PoolingConvention::valid:
      want[d] = span / g.stride[d] + 1;
      break;
    case g::PoolingConvention::full:
      want[d] = (span + g.stride[d] - 1) / g.stride[d] + 1;
      break;
    case g::PoolingConvention::same: {
      // 'same': ceil(x/s) windows; the padding needed to fit them is split
      // evenly, the odd element going after (TensorFlow's SAME rule).
      want[d] = (g.spatial[d] + 2 * g.padBefore[d] + g.stride[d] - 1) / g.stride[d];
      int64_t total = std::max<int64_t>(
          0, (want[d] - 1) * g.stride[d] + g.kernel[d] - g.spatial[d]);
      g.padBefore[d] = total / 2;
      g.padAfter[d] = total - total / 2;
      break;
    }
    }
  }
  if (outSpatial != want)
    fail(op, "pooled shape " + shapeStr(outShape) +
                 " does not match the pooling geometry (expected spatial " +
                 shapeStr(want) + ")");
  return g;
}

/// The lowest value max pooling starts from: padding counts as the lowest
/// float (as MXNet's CPU kernel), so an all-padding window yields it.
constexpr double kPoolLowest = static_cast<double>(std::numeric_limits<float>::lowest());

Array Interpreter::pooling(g::PoolingOp op) {
  const Array &x = get(op, op.getData());
  Array out = makeResult(op);
  PoolGeometry geom = poolGeometry(op, x.shape, out.shape);
  g::PoolType type = op.getPoolType();
  double p = static_cast<double>(op.getPValue());
  bool includePad = op.getCountIncludePad();
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
    double acc = type == g::PoolType::max ? kPoolLowest : 0.0;
    int64_t padded, real;
    geom.window(o, x.shape[1], padded, real, [&](int64_t xi) {
      double v = x.data[xi];
      switch (type) {
      case g::PoolType::max:
        acc = std::max(acc, v);
        break;
      case g::PoolType::avg:
      case g::PoolType::sum:
        acc += v;
        break;
      case g::PoolType::lp:
        acc += std::pow(v, p);
        break;
      }
    });
    if (type == g::PoolType::avg)
      acc /= static_cast<double>(includePad ? padded : real);
    else if (type == g::PoolType::lp)
      acc = lpRoot(acc, p);
    out.data[flat] = acc;
  });
  return out;
}

Array Interpreter::activation(g::ActivationOp op) {
  std::function<double(double)> f;
  switch (op.getActType()) {
  case g::ActType::relu:
    f = g::fn::relu;
    break;
  case g::ActType::sigmoid:
    f = g::fn::sigmoid;
    break;
  case g::ActType::tanh:
    f = [](double x) { return std::tanh(x); };
    break;
  case g::ActType::softrelu:
    // log(1 + eˣ), written so that large |x| neither overflows nor loses x.
    f = [](double x) {
      return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    };
    break;
  case g::ActType::softsign:
    f = g::fn::softsign;
    break;
  }
  return unary(op, op.getData(), f);
}

Array Interpreter::leakyRelu(g::LeakyReLUOp op) {
  const Array &x = get(op, op.getData());
  double slope = toDouble(op.getSlope());
  double lower = toDouble(op.getLowerBound());
  double upper = toDouble(op.getUpperBound());
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  auto leaky = [](double v, double a) { return v > 0 ? v : a * v; };
  switch (op.getActType()) {
  case g::LeakyActType::leaky:
    for (int64_t i = 0; i < x.size(); ++i)
      out.data[i] = leaky(x.data[i], slope);
    break;
  case g::LeakyActType::prelu: {
    if (!op.getGamma())
      fail(op, "prelu needs a gamma operand");
    const Array &gamma = get(op, op.getGamma());
    // One slope per channel (axis 1); a single slope is shared by all.
    int64_t c = x.shape.size() > 1 ? x.shape[1] : 1;
    if (gamma.size() != c && gamma.size() != 1)
      fail(op, "gamma has shape " + shapeStr(gamma.shape) + ", expected " +
                   shapeStr({c}));
    int64_t inner = extent(x.shape, 2, x.shape.size());
    for (int64_t i = 0; i < x.size(); ++i) {
      double a = gamma.size() == 1 ? gamma.data[0] : gamma.data[(i / inner) % c];
      out.data[i] = leaky(x.data[i], a);
    }
    break;
  }
  case g::LeakyActType::elu:
    for (int64_t i = 0; i < x.size(); ++i) {
      double v = x.data[i];
      out.data[i] = v > 0 ? v : slope * std::expm1(v);
    }
    break;
  case g::LeakyActType::selu:
    for (int64_t i = 0; i < x.size(); ++i) {
      double v = x.data[i];
      out.data[i] = kSeluLambda * (v > 0 ? v : kSeluAlpha * std::expm1(v));
    }
    break;
  case g::LeakyActType::gelu:
    for (int64_t i = 0; i < x.size(); ++i) {
      double v = x.data[i];
      out.data[i] = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    }
    break;
  case g::LeakyActType::rrelu:
    // Training draws one slope per element; inference uses their mean.
    for (int64_t i = 0; i < x.size(); ++i) {
      double a = opts.training ? lower + (upper - lower) * uniform()
                               : (lower + upper) / 2;
      out.data[i] = leaky(x.data[i], a);
    }
    break;
  }
  return out;
}

template <typename BatchNormLike> Array Interpreter::batchNorm(BatchNormLike op) {
  const Array &x = get(op, op.getData());
  int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), rank);
  int64_t c = x.shape[axis];
  auto param = [&](Value v, const char *name) -> const Array & {
    const Array &a = get(op, v);
    if (a.shape != Shape{c})
      fail(op, std::string(name) + " has shape " + shapeStr(a.shape) +
                   ", expected " + shapeStr({c}));
    return a;
  };
  const Array &gamma = param(op.getGamma(), "gamma");
  const Array &beta = param(op.getBeta(), "beta");
  const Array &movingMean = param(op.getMovingMean(), "moving_mean");
  const Array &movingVar = param(op.getMovingVar(), "moving_var");
  double eps = toDouble(op.getEps());
  int64_t outer = extent(x.shape, 0, axis);
  int64_t inner = extent(x.shape, axis + 1, rank);
  auto at = [&](int64_t o, int64_t ch, int64_t i) {
    return (o * c + ch) * inner + i;
  };

  std::vector<double> mean = movingMean.data, var = movingVar.data;
  if (opts.training && !op.getUseGlobalStats()) {
    // Batch statistics over every axis but `axis`; biased variance.
    batchStats(x, outer, c, inner, mean, var);
    double m = toDouble(op.getMomentum());
    Array newMean{{c}, std::vector<double>(c)}, newVar{{c}, std::vector<double>(c)};
    for (int64_t ch = 0; ch < c; ++ch) {
      newMean.data[ch] = m * movingMean.data[ch] + (1 - m) * mean[ch];
      newVar.data[ch] = m * movingVar.data[ch] + (1 - m) * var[ch];
    }
    recordAuxUpdate(op.getMovingMean(), std::move(newMean));
    recordAuxUpdate(op.getMovingVar(), std::move(newVar));
  }

  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t ch = 0; ch < c; ++ch) {
      double scale = (op.getFixGamma() ? 1.0 : gamma.data[ch]) /
                     std::sqrt(var[ch] + eps);
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = at(o, ch, i);
        out.data[k] = (x.data[k] - mean[ch]) * scale + beta.data[ch];
      }
    }
  return out;
}

Array Interpreter::lrn(g::LRNOp op) {
  const Array &x = get(op, op.getData());
  if (x.shape.size() < 2)
    fail(op, "data must have a channel axis, got " + shapeStr(x.shape));
  int64_t nsize = static_cast<int64_t>(op.getNsize());
  double alpha = toDouble(op.getAlpha()), beta = toDouble(op.getBeta());
  double knorm = toDouble(op.getKnorm());
  int64_t c = x.shape[1];
  int64_t outer = x.shape[0], inner = extent(x.shape, 2, x.shape.size());
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  auto at = [&](int64_t n, int64_t ch, int64_t i) { return (n * c + ch) * inner + i; };
  for (int64_t n = 0; n < outer; ++n)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < inner; ++i) {
        // The nsize channels centred on ch, clipped at the edges; MXNet
        // scales the sum by alpha/nsize, not alpha.
        double sum = 0;
        for (int64_t j = std::max<int64_t>(0, ch - nsize / 2);
             j <= std::min(c - 1, ch + nsize / 2); ++j)
          sum += x.data[at(n, j, i)] * x.data[at(n, j, i)];
        out.data[at(n, ch, i)] =
            x.data[at(n, ch, i)] * std::pow(knorm + alpha / nsize * sum, -beta);
      }
  return out;
}

Array Interpreter::dropout(g::DropoutOp op) {
  const Array &x = get(op, op.getData());
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  double p = toDouble(op.getP());
  bool active = opts.training || op.getMode() == g::DropoutMode::always;
  if (!active || p <= 0) {
    out.data = x.data;
    return out;
  }
  // One mask value is shared along each axis in `axes`.
  Shape maskShape = x.shape;
  for (int64_t a : op.getAxes())
    maskShape[normalizeAxis(op, a, x.shape.size())] = 1;
  std::vector<double> mask(numElements(maskShape));
  for (double &m : mask)
    m = p < 1 && uniform() < 1 - p ? 1 / (1 - p) : 0.0;
  forEachIndex(x.shape, [&](const Index &i, int64_t flat) {
    out.data[flat] = x.data[flat] * mask[broadcastSource(i, maskShape)];
  });
  return out;
}

Array Interpreter::embedding(g::EmbeddingOp op) {
  const Array &x = get(op, op.getData());
  const Array &w = get(op, op.getWeight());
  int64_t rows = static_cast<int64_t>(op.getInputDim());
  int64_t dim = static_cast<int64_t>(op.getOutputDim());
  if (w.shape != Shape{rows, dim})
    fail(op, "weight has shape " + shapeStr(w.shape) + ", expected " +
                 shapeStr({rows, dim}));
  Shape want = x.shape;
  want.push_back(dim);
  Array out = makeResult(op);
  if (out.shape != want)
    fail(op, "result shape " + shapeStr(out.shape) + ", expected " +
                 shapeStr(want));
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t r = embeddingRow(x.data[i], rows);
    std::copy_n(w.data.begin() + r * dim, dim, out.data.begin() + i * dim);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

Array Interpreter::softmaxOutput(g::SoftmaxOutputOp op) {
  const Array &x = get(op, op.getData());
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  if (x.shape.empty())
    fail(op, "data must have rank >= 1");
  int64_t rank = x.shape.size();
  int64_t outer, n, inner;
  if (op.getMultiOutput() && rank >= 2) {
    // Over axis 1 at each (batch, position); multi_output wins over
    // preserve_shape, as in MXNet.
    outer = x.shape[0], n = x.shape[1], inner = extent(x.shape, 2, rank);
  } else if (op.getPreserveShape()) {
    outer = extent(x.shape, 0, rank - 1), n = x.shape[rank - 1], inner = 1;
  } else {
    // Default: every non-batch dim flattened, i.e. an (N, size/N) softmax.
    outer = x.shape[0], n = extent(x.shape, 1, rank), inner = 1;
  }
  softmax3D(x.data, out.data, outer, n, inner, 1.0, /*log=*/false);
  return out;
}

Array Interpreter::softmaxAlong(Operation *op, Value data, int64_t axis,
                                double temperature, bool log, Value length) {
  const Array &x = get(op, data);
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  int64_t rank = x.shape.size();
  int64_t a = normalizeAxis(op, axis, rank);
  int64_t outer = extent(x.shape, 0, a), inner = extent(x.shape, a + 1, rank);
  const std::vector<double> *len = nullptr;
  if (length) {
    const Array &l = get(op, length);
    if (l.size() != outer * inner)
      fail(op, "length " + shapeStr(l.shape) + " does not hold one entry per row of " +
                   shapeStr(x.shape) + " along axis " + std::to_string(a));
    len = &l.data;
  }
  softmax3D(x.data, out.data, outer, x.shape[a], inner, temperature, log, len);
  return out;
}

Array Interpreter::softmaxActivation(g::SoftmaxActivationOp op) {
  const Array &x = get(op, op.getData());
  int64_t rank = x.shape.size();
  if (op.getMode() == g::SoftmaxMode::channel) {
    if (rank < 2)
      fail(op, "channel mode needs rank >= 2, got " + shapeStr(x.shape));
    return softmaxAlong(op, op.getData(), 1, 1.0, false);
  }
  return softmaxAlong(op, op.getData(), -1, 1.0, false);
}

Array Interpreter::unary(Operation *op, Value data,
                         const std::function<double(double)> &f) {
  const Array &x = get(op, data);
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  for (int64_t i = 0; i < x.size(); ++i)
    out.data[i] = f(x.data[i]);
  return out;
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

/// Flatten and Reshape keep the row-major order, so only the shape changes;
/// it comes from the result type (Reshape's codes were resolved there).
Array Interpreter::copyData(Operation *op, Value data) {
  const Array &x = get(op, data);
  Array out = makeResult(op);
  if (out.size() != x.size())
    fail(op, "cannot reshape " + shapeStr(x.shape) + " to " +
                 shapeStr(out.shape));
  out.data = x.data;
  return out;
}

Array Interpreter::transpose(g::TransposeOp op) {
  const Array &x = get(op, op.getData());
  int64_t rank = x.shape.size();
  Shape axes(op.getAxes().begin(), op.getAxes().end());
  if (axes.empty())
    for (int64_t d = rank - 1; d >= 0; --d)
      axes.push_back(d);
  if (static_cast<int64_t>(axes.size()) != rank)
    fail(op, "axes has " + std::to_string(axes.size()) +
                 " entries for data of rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  for (int64_t &a : axes) {
    a = normalizeAxis(op, a, rank);
    if (seen[a])
      fail(op, "axes " + shapeStr(op.getAxes()) + " is not a permutation");
    seen[a] = true;
  }
  Shape want(rank);
  for (int64_t d = 0; d < rank; ++d)
    want[d] = x.shape[axes[d]];
  Array out = makeResult(op);
  if (out.shape != want)
    fail(op, "result shape " + shapeStr(out.shape) + ", expected " +
                 shapeStr(want));
  Index in(rank);
  forEachIndex(out.shape, [&](const Index &o, int64_t flat) {
    for (int64_t d = 0; d < rank; ++d)
      in[axes[d]] = o[d];
    out.data[flat] = x.data[flatIndex(in, x.shape)];
  });
  return out;
}

Array Interpreter::concat(g::ConcatOp op) {
  Array out = makeResult(op);
  int64_t rank = out.shape.size();
  int64_t dim = normalizeAxis(op, static_cast<int64_t>(op.getDim()), rank);
  int64_t outer = extent(out.shape, 0, dim);
  int64_t inner = extent(out.shape, dim + 1, rank);
  int64_t offset = 0; // Along `dim`, where the current input starts.
  for (Value v : op.getInputs()) {
    const Array &x = get(op, v);
    bool ok = static_cast<int64_t>(x.shape.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      ok = d == dim || x.shape[d] == out.shape[d];
    if (!ok || offset + x.shape[dim] > out.shape[dim])
      fail(op, "input of shape " + shapeStr(x.shape) +
                   " does not fit result " + shapeStr(out.shape) +
                   " along dim " + std::to_string(dim));
    int64_t n = x.shape[dim];
    for (int64_t o = 0; o < outer; ++o)
      std::copy_n(x.data.begin() + o * n * inner, n * inner,
                  out.data.begin() + (o * out.shape[dim] + offset) * inner);
    offset += n;
  }
  if (offset != out.shape[dim])
    fail(op, "inputs cover " + std::to_string(offset) + " of " +
                 std::to_string(out.shape[dim]) + " along dim " +
                 std::to_string(dim));
  return out;
}

void Interpreter::split(g::SplitOp op) {
  const Array &x = get(op, op.getData());
  int64_t rank = x.shape.size();
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), rank);
  int64_t parts = static_cast<int64_t>(op.getNumOutputs());
  if (parts < 1 || x.shape[axis] % parts ||
      static_cast<int64_t>(op->getNumResults()) != parts)
    fail(op, "cannot split " + shapeStr(x.shape) + " into " +
                 std::to_string(parts) + " parts along axis " +
                 std::to_string(axis) + " with " +
                 std::to_string(op->getNumResults()) + " results");
  SmallVector<int64_t> bounds;
  for (int64_t j = 0; j <= parts; ++j)
    bounds.push_back(j * (x.shape[axis] / parts));
  splitAlongAxis(*this, op, x, axis, bounds);
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

Array Interpreter::elemwise(Operation *op, Value lhs, Value rhs,
                            const std::function<double(double, double)> &f) {
  const Array &a = get(op, lhs);
  const Array &b = get(op, rhs);
  Array out = makeResult(op);
  if (a.shape != b.shape || a.shape != out.shape)
    fail(op, "operands " + shapeStr(a.shape) + " and " + shapeStr(b.shape) +
                 " and result " + shapeStr(out.shape) +
                 " must have the same shape");
  for (int64_t i = 0; i < a.size(); ++i)
    out.data[i] = f(a.data[i], b.data[i]);
  return out;
}

Array Interpreter::addN(g::AddNOp op) {
  Array out = makeResult(op);
  for (Value v : op.getInputs()) {
    const Array &x = get(op, v);
    if (x.shape != out.shape)
      fail(op, "operand of shape " + shapeStr(x.shape) +
                   " differs from result " + shapeStr(out.shape));
    for (int64_t i = 0; i < x.size(); ++i)
      out.data[i] += x.data[i];
  }
  return out;
}

Array Interpreter::broadcastBinary(Operation *op, Value lhs, Value rhs,
                                   const std::function<double(double, double)> &f) {
  const Array &a = get(op, lhs);
  const Array &b = get(op, rhs);
  Array out = makeResult(op);
  if (!broadcastsTo(a.shape, out.shape) || !broadcastsTo(b.shape, out.shape))
    fail(op, "shapes " + shapeStr(a.shape) + " and " + shapeStr(b.shape) +
                 " do not broadcast to result " + shapeStr(out.shape));
  forEachIndex(out.shape, [&](const Index &i, int64_t flat) {
    out.data[flat] = f(a.data[broadcastSource(i, a.shape)],
                       b.data[broadcastSource(i, b.shape)]);
  });
  return out;
}

Array Interpreter::broadcastTo(g::BroadcastToOp op) {
  const Array &x = get(op, op.getData());
  Array out = makeResult(op);
  llvm::ArrayRef<int64_t> target = op.getShape();
  bool ok = broadcastsTo(x.shape, out.shape) && target.size() == out.shape.size();
  for (size_t d = 0; ok && d < target.size(); ++d)
    ok = target[d] == 0 || target[d] == out.shape[d];
  if (!ok)
    fail(op, "cannot broadcast " + shapeStr(x.shape) + " to " +
                 shapeStr(out.shape) + " (shape attribute " +
                 shapeStr(target) + ")");
  forEachIndex(out.shape, [&](const Index &i, int64_t flat) {
    out.data[flat] = x.data[broadcastSource(i, x.shape)];
  });
  return out;
}

Array Interpreter::reduce(Operation *op, Value data,
                          std::optional<llvm::ArrayRef<int64_t>> axis,
                          bool exclude, ReduceKind kind) {
  const Array &x = get(op, data);
  int64_t rank = x.shape.size();
  // No axis (MXNet's None) or an empty one reduces everything; `exclude`
  // reduces every axis not listed.
  std::vector<bool> reduced(rank, true);
  if (axis && !axis->empty()) {
    reduced.assign(rank, false);
    for (int64_t a : *axis)
      reduced[normalizeAxis(op, a, rank)] = true;
    if (exclude)
      reduced.flip();
  }
  Shape kept;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d])
      count *= x.shape[d];
    else
      kept.push_back(x.shape[d]);
  }
  // keepdims only inserts size-1 axes, which do not change the row-major
  // order, so the result type's shape can be used whichever it is.
  Array out = makeResult(op);
  if (out.size() != numElements(kept))
    fail(op, "result shape " + shapeStr(out.shape) + " does not match " +
                 shapeStr(kept) + " (data " + shapeStr(x.shape) +
                 " with the reduced axes removed)");
  double init = kind == ReduceKind::Max ? -std::numeric_limits<double>::infinity()
                : kind == ReduceKind::Min ? std::numeric_limits<double>::infinity()
                                          : 0.0;
  std::fill(out.data.begin(), out.data.end(), init);
  forEachIndex(x.shape, [&](const Index &i, int64_t flat) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[d])
        o = o * x.shape[d] + i[d];
    double v = x.data[flat];
    double &acc = out.data[o];
    // MXNet's max/min propagate NaN (like arith.maximumf on the compiled
    // path); std::max/std::min would silently drop it.
    if (kind == ReduceKind::Max)
      acc = (std::isnan(v) || v > acc) ? v : acc;
    else if (kind == ReduceKind::Min)
      acc = (std::isnan(v) || v < acc) ? v : acc;
    else
      acc += v;
  });
  if (kind == ReduceKind::Mean)
    for (double &v : out.data)
      v /= static_cast<double>(count);
  return out;
}


//===----------------------------------------------------------------------===//
// Training and gradient ops
//===----------------------------------------------------------------------===//

void Interpreter::store(Operation *op, std::vector<Array> results) {
  if (results.size() != op->getNumResults())
    fail(op, "expected " + std::to_string(results.size()) + " results, the op has " +
                 std::to_string(op->getNumResults()));
  for (unsigned i = 0; i < results.size(); ++i)
    values[op->getResult(i)] = std::move(results[i]);
}

Array Interpreter::dot(g::DotOp op) {
  const Array &a = get(op, op.getLhs());
  const Array &b = get(op, op.getRhs());
  if (a.shape.empty() || b.shape.empty())
    fail(op, "operands must have rank at least 1, got " + shapeStr(a.shape) + " and " +
                 shapeStr(b.shape));
  // MXNet multiplies the operands seen as matrices (DotOp::lhsMatrix).
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  g::Shape am = g::DotOp::lhsMatrix(a.shape, ta), bm = g::DotOp::rhsMatrix(b.shape, tb);
  int64_t m = am[ta ? 1 : 0], k = am[ta ? 0 : 1];
  int64_t k2 = bm[tb ? 1 : 0], n = bm[tb ? 0 : 1];
  Array out = makeResult(op);
  if (k != k2 || out.size() != m * n)
    fail(op, "op(" + shapeStr(a.shape) + ") · op(" + shapeStr(b.shape) +
                 ") does not give result " + shapeStr(out.shape));
  int64_t a1 = am[1], b1 = bm[1];
  for (int64_t i = 0; i < m; ++i)
    for (int64_t l = 0; l < k; ++l) {
      double av = ta ? a.data[l * a1 + i] : a.data[i * a1 + l];
      for (int64_t j = 0; j < n; ++j)
        out.data[i * n + j] += av * (tb ? b.data[j * b1 + l] : b.data[l * b1 + j]);
    }
  return out;
}

Array Interpreter::sliceAxis(g::SliceAxisOp op) {
  const Array &x = get(op, op.getData());
  int64_t rank = x.shape.size();
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), rank);
  int64_t dim = x.shape[axis];
  auto [begin, end] = op.getRange(dim);
  if (begin < 0 || end > dim || begin >= end)
    fail(op, "slice [" + std::to_string(static_cast<int64_t>(op.getBegin())) + ", " +
                 (op.getEnd() ? std::to_string(static_cast<int64_t>(*op.getEnd())) : "None") +
                 ") is empty or out of range for axis " + std::to_string(axis) + " of " +
                 shapeStr(x.shape));
  Shape want = x.shape;
  want[axis] = end - begin;
  Array out = makeResult(op);
  if (out.shape != want)
    fail(op, "result shape " + shapeStr(out.shape) + ", expected " + shapeStr(want));
  int64_t outer = extent(x.shape, 0, axis), inner = extent(x.shape, axis + 1, rank);
  int64_t n = end - begin;
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(x.data.begin() + (o * dim + begin) * inner, n * inner,
                out.data.begin() + o * n * inner);
  return out;
}

/// Per-channel batch mean and biased variance of an (outer, c, inner) view:
/// the statistics BatchNorm normalizes with in training.
void batchStats(const Array &x, int64_t outer, int64_t c, int64_t inner,
                std::vector<double> &mean, std::vector<double> &var) {
  mean.assign(c, 0.0);
  var.assign(c, 0.0);
  double count = static_cast<double>(outer * inner);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        sum += x.data[(o * c + ch) * inner + i];
    mean[ch] = sum / count;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double d = x.data[(o * c + ch) * inner + i] - mean[ch];
        sq += d * d;
      }
    var[ch] = sq / count;
  }
}

std::vector<Array> Interpreter::batchNormTrain(g::BatchNormTrainOp op) {
  const Array &x = get(op, op.getData());
  int64_t rank = x.shape.size();
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), rank);
  int64_t c = x.shape[axis];
  const Array &gamma = get(op, op.getGamma());
  const Array &beta = get(op, op.getBeta());
  if (gamma.shape != Shape{c} || beta.shape != Shape{c})
    fail(op, "gamma " + shapeStr(gamma.shape) + " and beta " + shapeStr(beta.shape) +
                 " must have shape " + shapeStr({c}));
  int64_t outer = extent(x.shape, 0, axis), inner = extent(x.shape, axis + 1, rank);
  Array out = makeResult(op, 0), mean = makeResult(op, 1), var = makeResult(op, 2);
  if (out.shape != x.shape || mean.shape != Shape{c} || var.shape != Shape{c})
    fail(op, "result shapes do not match data " + shapeStr(x.shape));
  batchStats(x, outer, c, inner, mean.data, var.data);
  double eps = toDouble(op.getEps());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t ch = 0; ch < c; ++ch) {
      double scale = (op.getFixGamma() ? 1.0 : gamma.data[ch]) /
                     std::sqrt(var.data[ch] + eps);
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = (o * c + ch) * inner + i;
        out.data[k] = (x.data[k] - mean.data[ch]) * scale + beta.data[ch];
      }
    }
  std::vector<Array> results;
  results.push_back(std::move(out));
  results.push_back(std::move(mean));
  results.push_back(std::move(var));
  return results;
}

Array Interpreter::convolutionWeightGrad(g::ConvolutionWeightGradOp op) {
  const Array &x = get(op, op.getData());
  const Array &dy = get(op, op.getOutGrad());
  llvm::ArrayRef<int64_t> kernel = op.getKernel();
  size_t nsp = kernel.size();
  if (nsp < 1 || nsp > 3 || x.shape.size() != nsp + 2 || dy.shape.size() != nsp + 2 ||
      x.shape[0] != dy.shape[0])
    fail(op, "data " + shapeStr(x.shape) + " and out_grad " + shapeStr(dy.shape) +
                 " do not fit a " + std::to_string(nsp) + "-D kernel");
  Shape stride = expandAttr(op, "stride", op.getStride(), nsp, 1);
  Shape dilate = expandAttr(op, "dilate", op.getDilate(), nsp, 1);
  Shape pad = expandAttr(op, "pad", op.getPad(), nsp, 0);
  int64_t c = x.shape[1], f = dy.shape[1];
  int64_t groups = static_cast<int64_t>(op.getNumGroup());
  if (groups < 1 || c % groups || f % groups)
    fail(op, "num_group " + std::to_string(groups) + " must divide the channels (" +
                 std::to_string(c) + ") and the out_grad channels (" + std::to_string(f) +
                 ")");
  int64_t cg = c / groups, fg = f / groups;
  for (size_t d = 0; d < nsp; ++d)
    if (dy.shape[d + 2] != (x.shape[d + 2] + 2 * pad[d] - dilate[d] * (kernel[d] - 1) - 1) /
                                   stride[d] + 1)
      fail(op, "out_grad " + shapeStr(dy.shape) +
                   " is not the convolution output of data " + shapeStr(x.shape));
  Shape want = {f, cg};
  want.insert(want.end(), kernel.begin(), kernel.end());
  Array out = makeResult(op);
  if (out.shape != want)
    fail(op, "result shape " + shapeStr(out.shape) + ", expected " + shapeStr(want));
  // The convolution's gather read backwards: every output gradient
  // element meets, through each tap, the input element that produced it.
  int64_t ksize = numElements(kernel);
  Shape inPlane(x.shape.begin() + 2, x.shape.end());
  Shape outPlane(dy.shape.begin() + 2, dy.shape.end());
  int64_t inSize = numElements(inPlane), outSize = numElements(outPlane);
  int64_t batch = x.shape[0];
  ConvTaps window(kernel, stride, dilate, pad, inPlane);
  forEachIndex(outPlane, [&](const Index &o, int64_t pflat) {
    const std::vector<int64_t> &taps = window.at(o);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t oc = 0; oc < f; ++oc) {
        double g = dy.data[(n * f + oc) * outSize + pflat];
        int64_t group = oc / fg;
        for (int64_t ic = 0; ic < cg; ++ic) {
          const double *xs = &x.data[(n * c + group * cg + ic) * inSize];
          double *ws = &out.data[(oc * cg + ic) * ksize];
          for (int64_t k = 0; k < ksize; ++k)
            if (taps[k] >= 0)
              ws[k] += g * xs[taps[k]];
        }
      }
  });
  return out;
}

Array Interpreter::poolingGrad(g::PoolingGradOp op) {
  const Array &x = get(op, op.getData());
  const Array &dy = get(op, op.getOutGrad());
  PoolGeometry geom = poolGeometry(op, x.shape, dy.shape);
  Array out = makeResult(op);
  if (out.shape != x.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from data " +
                 shapeStr(x.shape));
  g::PoolType type = op.getPoolType();
  double p = static_cast<double>(op.getPValue());
  bool includePad = op.getCountIncludePad();
  forEachIndex(dy.shape, [&](const Index &o, int64_t flat) {
    double g = dy.data[flat];
    int64_t padded, real;
    switch (type) {
    case g::PoolType::max: {
      // MXNet routes the gradient to the first maximal element of the
      // window (strictly greater replaces), starting from the lowest float
      // that stands for the padding.
      double best = kPoolLowest;
      int64_t arg = -1;
      geom.window(o, x.shape[1], padded, real, [&](int64_t xi) {
        if (x.data[xi] > best) {
          best = x.data[xi];
          arg = xi;
        }
      });
      if (arg >= 0)
        out.data[arg] += g;
      break;
    }
    case g::PoolType::avg: {
      // Count first: the divisor is the forward's.
      geom.window(o, x.shape[1], padded, real, [](int64_t) {});
      double share = g / static_cast<double>(includePad ? padded : real);
      geom.window(o, x.shape[1], padded, real,
                  [&](int64_t xi) { out.data[xi] += share; });
      break;
    }
    case g::PoolType::sum:
      geom.window(o, x.shape[1], padded, real, [&](int64_t xi) { out.data[xi] += g; });
      break;
    case g::PoolType::lp: {
      // out = (Σ xᵖ)^(1/p), so ∂out/∂x = x^(p−1) · out^(1−p), MXNet's lp_grad.
      double acc = 0;
      geom.window(o, x.shape[1], padded, real,
                  [&](int64_t xi) { acc += std::pow(x.data[xi], p); });
      double y = lpRoot(acc, p);
      geom.window(o, x.shape[1], padded, real, [&](int64_t xi) {
        out.data[xi] += p == 1 ? g : g * std::pow(x.data[xi] / y, p - 1);
      });
      break;
    }
    }
  });
  return out;
}

Array Interpreter::activationGrad(g::ActivationGradOp op) {
  const Array &dy = get(op, op.getOutGrad());
  const Array &s = get(op, op.getSaved());
  Array out = makeResult(op);
  if (dy.shape != s.shape || out.shape != dy.shape)
    fail(op, "out_grad " + shapeStr(dy.shape) + ", saved " + shapeStr(s.shape) +
                 " and result " + shapeStr(out.shape) + " must have the same shape");
  std::function<double(double)> deriv;
  switch (op.getActType()) {
  case g::ActType::relu: // saved = y
    deriv = [](double y) { return y > 0 ? 1.0 : 0.0; };
    break;
  case g::ActType::sigmoid: // saved = y
    deriv = [](double y) { return y * (1 - y); };
    break;
  case g::ActType::tanh: // saved = y
    deriv = [](double y) { return 1 - y * y; };
    break;
  case g::ActType::softrelu: // saved = x
    deriv = sigmoid;
    break;
  case g::ActType::softsign: // saved = x
    deriv = [](double x) { return 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x))); };
    break;
  }
  for (int64_t i = 0; i < dy.size(); ++i)
    out.data[i] = dy.data[i] * deriv(s.data[i]);
  return out;
}

std::vector<Array> Interpreter::batchNormGrad(g::BatchNormGradOp op) {
  const Array &x = get(op, op.getData());
  const Array &dy = get(op, op.getOutGrad());
  int64_t rank = x.shape.size();
  int64_t axis = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), rank);
  int64_t c = x.shape[axis];
  auto param = [&](Value v, const char *name) -> const Array & {
    const Array &a = get(op, v);
    if (a.shape != Shape{c})
      fail(op, std::string(name) + " has shape " + shapeStr(a.shape) + ", expected " +
                   shapeStr({c}));
    return a;
  };
  const Array &gamma = param(op.getGamma(), "gamma");
  const Array &mean = param(op.getMean(), "mean");
  const Array &var = param(op.getVar(), "var");
  if (dy.shape != x.shape)
    fail(op, "out_grad " + shapeStr(dy.shape) + " differs from data " + shapeStr(x.shape));
  Array dx = makeResult(op, 0), dgamma = makeResult(op, 1), dbeta = makeResult(op, 2);
  if (dx.shape != x.shape || dgamma.shape != Shape{c} || dbeta.shape != Shape{c})
    fail(op, "result shapes do not match data " + shapeStr(x.shape));
  int64_t outer = extent(x.shape, 0, axis), inner = extent(x.shape, axis + 1, rank);
  double eps = toDouble(op.getEps());
  double m = static_cast<double>(outer * inner);
  for (int64_t ch = 0; ch < c; ++ch) {
    double inv = 1 / std::sqrt(var.data[ch] + eps);
    double g = op.getFixGamma() ? 1.0 : gamma.data[ch];
    auto at = [&](int64_t o, int64_t i) { return (o * c + ch) * inner + i; };
    double sumDy = 0, sumDyXhat = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double xhat = (x.data[at(o, i)] - mean.data[ch]) * inv;
        sumDy += dy.data[at(o, i)];
        sumDyXhat += dy.data[at(o, i)] * xhat;
      }
    dbeta.data[ch] = sumDy;
    dgamma.data[ch] = op.getFixGamma() ? 0.0 : sumDyXhat;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = at(o, i);
        if (op.getUseGlobalStats()) {
          // Constant statistics: an affine map per channel.
          dx.data[k] = dy.data[k] * g * inv;
          continue;
        }
        double xhat = (x.data[k] - mean.data[ch]) * inv;
        dx.data[k] = g * inv * (dy.data[k] - sumDy / m - xhat * sumDyXhat / m);
      }
  }
  std::vector<Array> results;
  results.push_back(std::move(dx));
  results.push_back(std::move(dgamma));
  results.push_back(std::move(dbeta));
  return results;
}

Array Interpreter::softmaxOutputGrad(g::SoftmaxOutputGradOp op) {
  const Array &p = get(op, op.getOutput());
  const Array &label = get(op, op.getLabel());
  Array out = makeResult(op);
  if (out.shape != p.shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from output " +
                 shapeStr(p.shape));
  if (p.shape.empty())
    fail(op, "output must have rank >= 1");
  double scale = toDouble(op.getGradScale());
  if (label.shape == p.shape) {
    // Probability labels: MXNet neither normalizes nor ignores.
    for (int64_t i = 0; i < p.size(); ++i)
      out.data[i] = (p.data[i] - label.data[i]) * scale;
    return out;
  }
  int64_t rank = p.shape.size();
  bool multi = op.getMultiOutput() && rank >= 2;
  int64_t outer, n, inner;
  if (multi)
    outer = p.shape[0], n = p.shape[1], inner = extent(p.shape, 2, rank);
  else if (op.getPreserveShape())
    outer = extent(p.shape, 0, rank - 1), n = p.shape[rank - 1], inner = 1;
  else
    outer = p.shape[0], n = extent(p.shape, 1, rank), inner = 1;
  // MXNet reads the first outer·inner labels: without multi_output a label
  // of shape data.shape[:-1] holds more than the N rows of the default view.
  if (multi ? label.size() != outer * inner : label.size() < outer)
    fail(op, "label " + shapeStr(label.shape) + " does not hold one class per row of output " +
                 shapeStr(p.shape));
  // Labels are compared as MXNet does, after a cast to int.
  int ignore = static_cast<int>(toDouble(op.getIgnoreLabel()));
  double alpha = multi ? 0.0 : toDouble(op.getSmoothAlpha());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int k = static_cast<int>(label.data[o * inner + i]);
      bool ignored = op.getUseIgnore() && k == ignore;
      for (int64_t j = 0; j < n; ++j) {
        int64_t at = (o * n + j) * inner + i;
        double target = j == k ? 1.0 - alpha : n > 1 ? alpha / (n - 1) : 0.0;
        out.data[at] = ignored ? 0.0 : p.data[at] - target;
      }
    }
  double cnt = 1;
  switch (op.getNormalization()) {
  case g::Normalization::null:
    break;
  case g::Normalization::batch:
    // MXNet divides by the label count (its first axis with multi_output).
    cnt = static_cast<double>(multi ? outer : label.size());
    break;
  case g::Normalization::valid: {
    // Every label counts, also those beyond the rows MXNet reads.
    int64_t valid = 0;
    for (double l : label.data)
      valid += static_cast<int>(l) != ignore;
    cnt = static_cast<double>(std::max<int64_t>(valid, 1));
    break;
  }
  }
  if (multi && op.getNormalization() != g::Normalization::valid)
    cnt *= static_cast<double>(inner);
  for (double &v : out.data)
    v *= scale / cnt;
  return out;
}

Array Interpreter::regressionOutputGrad(g::RegressionOutputGradOp op) {
  const Array &y = get(op, op.getOutput());
  const Array &label = get(op, op.getLabel());
  Array out = makeResult(op);
  if (out.shape != y.shape || label.size() != y.size() || y.shape.empty() ||
      label.shape.empty() || label.shape[0] != y.shape[0])
    fail(op, "output " + shapeStr(y.shape) + ", label " + shapeStr(label.shape) +
                 " and result " + shapeStr(out.shape) + " do not match");
  double scale = toDouble(op.getGradScale()) /
                 static_cast<double>(y.size() / std::max<int64_t>(y.shape[0], 1));
  bool mae = op.getKind() == g::RegressionKind::mae;
  for (int64_t i = 0; i < y.size(); ++i) {
    double d = y.data[i] - label.data[i];
    out.data[i] = (mae ? (d > 0) - (d < 0) : d) * scale;
  }
  return out;
}

Array Interpreter::softmaxGrad(g::SoftmaxGradOp op) {
  const Array &y = get(op, op.getOutput());
  const Array &dy = get(op, op.getOutGrad());
  Array out = makeResult(op);
  if (dy.shape != y.shape || out.shape != y.shape)
    fail(op, "output " + shapeStr(y.shape) + ", out_grad " + shapeStr(dy.shape) +
                 " and result " + shapeStr(out.shape) + " must have the same shape");
  int64_t rank = y.shape.size();
  int64_t a = normalizeAxis(op, static_cast<int64_t>(op.getAxis()), rank);
  int64_t outer = extent(y.shape, 0, a), n = y.shape[a], inner = extent(y.shape, a + 1, rank);
  auto t = op.getTemperature();
  double temperature = t ? toDouble(*t) : 1.0;
  bool log = op.getLog();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      double sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += log ? dy.data[at(j)] : dy.data[at(j)] * y.data[at(j)];
      for (int64_t j = 0; j < n; ++j) {
        double v = log ? dy.data[at(j)] - std::exp(y.data[at(j)]) * sum
                       : y.data[at(j)] * (dy.data[at(j)] - sum);
        out.data[at(j)] = v / temperature;
      }
    }
  return out;
}


Array Interpreter::zeros(g::ZerosOp op) {
  Array out = makeResult(op);
  if (out.shape != Shape(op.getShape().begin(), op.getShape().end()))
    fail(op, "result shape " + shapeStr(out.shape) + " differs from the shape attribute " +
                 shapeStr(op.getShape()));
  return out;
}

/// The counter operand of the random ops: one value, the iteration number.
uint64_t counterOf(Operation *op, const Array &counter) {
  if (counter.size() != 1)
    fail(op, "counter must hold one value, got shape " + shapeStr(counter.shape));
  return counterToUint(counter.data[0]);
}

Array Interpreter::dropoutMask(g::DropoutMaskOp op) {
  uint64_t counter = counterOf(op, get(op, op.getCounter()));
  Array out = makeResult(op);
  Shape shape(op.getShape().begin(), op.getShape().end());
  if (out.shape != shape)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from the shape attribute " +
                 shapeStr(shape));
  double p = toDouble(op.getP());
  std::vector<bool> shared(shape.size(), false);
  for (int64_t a : op.getAxes())
    shared[normalizeAxis(op, a, shape.size())] = true;
  uint64_t seed = static_cast<uint64_t>(op.getSeed());
  Index j(shape.size());
  forEachIndex(shape, [&](const Index &i, int64_t flat) {
    for (size_t d = 0; d < shape.size(); ++d)
      j[d] = shared[d] ? 0 : i[d];
    double u = counterUniform(seed, counter, static_cast<uint64_t>(flatIndex(j, shape)));
    out.data[flat] = u >= p ? 1 / (1 - p) : 0.0;
  });
  return out;
}

Array Interpreter::randomUniform(g::RandomUniformOp op) {
  uint64_t counter = counterOf(op, get(op, op.getCounter()));
  Array out = makeResult(op);
  if (out.shape != Shape(op.getShape().begin(), op.getShape().end()))
    fail(op, "result shape " + shapeStr(out.shape) + " differs from the shape attribute " +
                 shapeStr(op.getShape()));
  double low = toDouble(op.getLow()), high = toDouble(op.getHigh());
  uint64_t seed = static_cast<uint64_t>(op.getSeed());
  for (int64_t i = 0; i < out.size(); ++i)
    out.data[i] = low + (high - low) * counterUniform(seed, counter, static_cast<uint64_t>(i));
  return out;
}

Array Interpreter::leakyReluGrad(g::LeakyReLUGradOp op) {
  const Array &dy = get(op, op.getOutGrad());
  const Array &x = get(op, op.getData());
  Array out = makeResult(op);
  if (dy.shape != x.shape || out.shape != x.shape)
    fail(op, "out_grad " + shapeStr(dy.shape) + ", data " + shapeStr(x.shape) +
                 " and result " + shapeStr(out.shape) + " must have the same shape");
  double slope = toDouble(op.getSlope());
  double lower = toDouble(op.getLowerBound()), upper = toDouble(op.getUpperBound());
  const Array *gamma = nullptr;
  int64_t c = x.shape.size() > 1 ? x.shape[1] : 1;
  int64_t inner = extent(x.shape, 2, x.shape.size());
  if (op.getActType() == g::LeakyActType::prelu) {
    if (!op.getGamma())
      fail(op, "prelu needs a gamma operand");
    gamma = &get(op, op.getGamma());
    if (gamma->size() != c && gamma->size() != 1)
      fail(op, "gamma has shape " + shapeStr(gamma->shape) + ", expected " + shapeStr({c}));
  }
  for (int64_t i = 0; i < x.size(); ++i) {
    double v = x.data[i], d = 1;
    switch (op.getActType()) {
    case g::LeakyActType::leaky:
      d = v > 0 ? 1 : slope;
      break;
    case g::LeakyActType::prelu:
      d = v > 0 ? 1 : gamma->size() == 1 ? gamma->data[0] : gamma->data[(i / inner) % c];
      break;
    case g::LeakyActType::elu:
      d = v > 0 ? 1 : slope * std::exp(v);
      break;
    case g::LeakyActType::selu:
      // MXNet's selu_grad of the output y = λα(eˣ − 1): λ·(α + y), not the
      // derivative λαeˣ.
      d = kSeluLambda * (v > 0 ? 1 : kSeluAlpha + kSeluLambda * kSeluAlpha * std::expm1(v));
      break;
    case g::LeakyActType::gelu:
      // Φ(x) + x·φ(x); 0.398942... is 1/√(2π).
      d = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) +
          v * std::exp(-0.5 * v * v) * 0.39894228040143267794;
      break;
    case g::LeakyActType::rrelu:
      d = v > 0 ? 1 : (lower + upper) / 2;
      break;
    }
    out.data[i] = dy.data[i] * d;
  }
  return out;
}

Array Interpreter::lrnGrad(g::LRNGradOp op) {
  const Array &x = get(op, op.getData());
  const Array &dy = get(op, op.getOutGrad());
  Array out = makeResult(op);
  if (x.shape.size() < 2 || dy.shape != x.shape || out.shape != x.shape)
    fail(op, "data " + shapeStr(x.shape) + ", out_grad " + shapeStr(dy.shape) +
                 " and result " + shapeStr(out.shape) +
                 " must have one shape with a channel axis");
  int64_t nsize = static_cast<int64_t>(op.getNsize());
  double alpha = toDouble(op.getAlpha()), beta = toDouble(op.getBeta());
  double knorm = toDouble(op.getKnorm());
  int64_t c = x.shape[1], outer = x.shape[0], inner = extent(x.shape, 2, x.shape.size());
  auto at = [&](int64_t n, int64_t ch, int64_t i) { return (n * c + ch) * inner + i; };
  auto lo = [&](int64_t ch) { return std::max<int64_t>(0, ch - nsize / 2); };
  auto hi = [&](int64_t ch) { return std::min(c - 1, ch + nsize / 2); };
  std::vector<double> scale(c);
  for (int64_t n = 0; n < outer; ++n)
    for (int64_t i = 0; i < inner; ++i) {
      // S_c for every channel of this position, then the two terms.
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        for (int64_t j = lo(ch); j <= hi(ch); ++j)
          sum += x.data[at(n, j, i)] * x.data[at(n, j, i)];
        scale[ch] = knorm + alpha / nsize * sum;
      }
      for (int64_t j = 0; j < c; ++j) {
        double cross = 0;
        for (int64_t ch = lo(j); ch <= hi(j); ++ch)
          cross += dy.data[at(n, ch, i)] * x.data[at(n, ch, i)] *
                   std::pow(scale[ch], -beta - 1);
        out.data[at(n, j, i)] = dy.data[at(n, j, i)] * std::pow(scale[j], -beta) -
                                2 * alpha * beta / nsize * x.data[at(n, j, i)] * cross;
      }
    }
  return out;
}

Array Interpreter::embeddingGrad(g::EmbeddingGradOp op) {
  const Array &x = get(op, op.getData());
  const Array &dy = get(op, op.getOutGrad());
  int64_t rows = static_cast<int64_t>(op.getInputDim());
  int64_t dim = static_cast<int64_t>(op.getOutputDim());
  Shape wantDy = x.shape;
  wantDy.push_back(dim);
  if (dy.shape != wantDy)
    fail(op, "out_grad has shape " + shapeStr(dy.shape) + ", expected " + shapeStr(wantDy));
  Array out = makeResult(op);
  if (out.shape != Shape{rows, dim})
    fail(op, "result shape " + shapeStr(out.shape) + ", expected " + shapeStr({rows, dim}));
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t r = embeddingRow(x.data[i], rows);
    for (int64_t k = 0; k < dim; ++k)
      out.data[r * dim + k] += dy.data[i * dim + k];
  }
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

Result run(func::FuncOp fn, const std::vector<Array> &args,
           const Options &opts) {
  if (!fn)
    throw Error("reference interpreter: no function to run");
  return Interpreter(fn, opts).run(args);
}

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t counterToUint(double counter) {
  if (!(counter > 0)) // negative, zero or NaN
    return 0;
  if (counter >= 0x1.0p64)
    return ~uint64_t(0);
  return static_cast<uint64_t>(counter);
}

double counterUniform(uint64_t seed, uint64_t counter, uint64_t index) {
  uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ counter) ^ index);
  return static_cast<double>(h >> 40) * 0x1.0p-24;
}

Array fromTensor(const Tensor &t) {
  if (static_cast<int64_t>(t.values.size()) != t.size())
    throw Error("tensor has " + std::to_string(t.values.size()) +
                " values but shape " + shapeStr(t.shape));
  return Array{t.shape, std::vector<double>(t.values.begin(), t.values.end())};
}

Tensor toTensor(const Array &a) {
  std::vector<float> values(a.data.size());
  std::transform(a.data.begin(), a.data.end(), values.begin(),
                 [](double v) { return static_cast<float>(v); });
  return Tensor(a.shape, std::move(values));
}

std::vector<Array> fromTensors(const std::vector<Tensor> &ts) {
  std::vector<Array> out;
  for (const Tensor &t : ts)
    out.push_back(fromTensor(t));
  return out;
}

std::vector<Tensor> toTensors(const std::vector<Array> &as) {
  std::vector<Tensor> out;
  for (const Array &a : as)
    out.push_back(toTensor(a));
  return out;
}

} // namespace kiln::ref
