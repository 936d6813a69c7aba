//===- GraphToLinalg.cpp - Graph dialect to linalg/tensor on tensors -----===//
//
// One lowering function per forward graph op, built from the helpers of
// LoweringHelpers.h (elementwise map with NumPy broadcasting, reductions
// over an axis set, windowed reductions, reshapes); the training and
// gradient ops are in GradOps.cpp. Semantics mirror the reference
// interpreter (lib/Interpreter), which is the oracle the lowering is tested
// against; where the two could differ (clipped pooling windows, index
// clipping in Embedding, MXNet's LRN window) the interpreter's rule is
// reproduced exactly.
//
//===----------------------------------------------------------------------===//

#include "FormulaLowering.h"
#include "LoweringHelpers.h"

#include "Graph/GraphOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_CONVERTGRAPHTOLINALG
#include "Conversion/GraphToLinalg/Passes.h.inc"
} // namespace kiln

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {
namespace {

//===----------------------------------------------------------------------===//
// Op lowerings
//===----------------------------------------------------------------------===//

Results lowerFC(Ctx &cx, g::FullyConnectedOp op) {
  Value x = op.getData(), w = op.getWeight();
  Shape xs = shapeOf(x);
  int64_t n = static_cast<int64_t>(op.getNumHidden());
  int64_t rows = op.getFlatten() ? xs[0] : product(xs, 0, xs.size() - 1);
  int64_t kdim = product(xs) / std::max<int64_t>(rows, 1);
  Value x2 = cx.reshape(x, {rows, kdim});
  Value init = biasInit(cx, {rows, n}, op.getBias());
  // y[m, n] += x[m, k] * w[n, k]: a matmul whose B operand is read transposed.
  auto maps = cx.b.getAffineMapArrayAttr(
      {cx.map(3, {cx.d(0), cx.d(2)}), cx.map(3, {cx.d(1), cx.d(2)}),
       cx.map(3, {cx.d(0), cx.d(1)})});
  Value y = linalg::MatmulOp::create(cx.b, cx.loc, TypeRange{init.getType()},
                                     ValueRange{x2, w}, ValueRange{init},
                                     {cx.b.getNamedAttr("indexing_maps", maps)})
                .getResult(0);
  return one(cx.reshape(y, tensorTy(op.getOutput()).getShape()));
}

Results lowerConv(Ctx &cx, g::ConvolutionOp op) {
  Value x = op.getData();
  SmallVector<int64_t> pads = op.getPads();
  Shape lo{0, 0}, hi{0, 0};
  lo.append(pads.begin(), pads.end());
  hi.append(pads.begin(), pads.end());
  Value xp = cx.pad(x, lo, hi, cx.f(0.0));
  Shape out = shapeOf(op.getOutput());
  Value init = biasInit(cx, out, op.getBias());
  return one(convolve(cx, xp, op.getWeight(), init, op.getStrides(), op.getDilations(),
                      static_cast<int64_t>(op.getNumGroup())));
}

/// Deconvolution as a stride-1 convolution over the zero-inserted, padded
/// input with the kernel flipped and its channel axes swapped per group.

/// Deconvolution as the transpose of an im2col convolution: one GEMM per
/// group, dcol[k, n, g, f, i] = Σ_c w[g·Cg + c, f, k] · x[n, g·Cg + c, i]
/// (the forward convolution's FLOPs, not the s^d-times larger work of a
/// convolution over a zero-inserted input), then col2im: every tap k adds
/// its slice of dcol — one contiguous block, the taps being outermost — at
/// output position i·s + k·d − p.
Results lowerDeconv(Ctx &cx, g::DeconvolutionOp op) {
  Value x = op.getData(), w = op.getWeight();
  Shape xs = shapeOf(x), out = shapeOf(op.getOutput());
  size_t nsp = xs.size() - 2;
  Shape inSp(xs.begin() + 2, xs.end());
  SmallVector<int64_t> s = op.getStrides(), dl = op.getDilations(), p = op.getPads(inSp);
  ArrayRef<int64_t> kernel = op.getKernel();
  int64_t n = xs[0], groups = static_cast<int64_t>(op.getNumGroup());
  int64_t cg = xs[1] / groups, f = out[1], fg = f / groups;
  int64_t in = product(inSp);

  // Loops (n, g, f, k..., i, c): a contraction with C contiguous along i,
  // which only x uses (the GEMM's N), M = (f, k) from the weight, K = c.
  Shape w4{groups, cg, fg}, dcolShape(kernel.begin(), kernel.end());
  w4.append(kernel.begin(), kernel.end());
  dcolShape.append({n, groups, fg, in});
  unsigned nd = 5 + nsp;
  AffineExpr dn = cx.d(0), dg = cx.d(1), df = cx.d(2), di = cx.d(3 + nsp), dc = cx.d(4 + nsp);
  SmallVector<AffineExpr> we{dg, dc, df}, ce;
  for (size_t i = 0; i < nsp; ++i) {
    we.push_back(cx.d(3 + i));
    ce.push_back(cx.d(3 + i));
  }
  ce.append({dn, dg, df, di});
  SmallVector<Iter> iters(nd - 1, Iter::parallel);
  iters.push_back(Iter::reduction);
  Value dcol = cx.generic(
      dcolShape, ValueRange{cx.reshape(w, w4), cx.reshape(x, {n, groups, cg, in})},
      {cx.map(nd, we), cx.map(nd, {dn, dg, dc, di})}, iters,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, nl, a[2], arith::MulFOp::create(nb, nl, a[0], a[1]));
      },
      cx.filled(dcolShape, 0.0), cx.map(nd, ce));

  // col2im into the uncropped output: position i·s + k·d, length
  // (I−1)·s + d·(K−1) + 1, or more when adj/target_shape ask for it.
  Shape accShape{n, f}, tapShape{n, f}, dcolK(kernel.begin(), kernel.end());
  dcolK.append({n, f});
  for (size_t i = 0; i < nsp; ++i) {
    int64_t full = (inSp[i] - 1) * s[i] + dl[i] * (kernel[i] - 1) + 1;
    accShape.push_back(std::max(full, p[i] + out[2 + i]));
    tapShape.push_back(inSp[i]);
    dcolK.push_back(inSp[i]);
  }
  dcol = cx.reshape(dcol, dcolK);
  Value acc = scatterTaps(
      cx, cx.filled(accShape, 0.0), kernel, s, dl, tapShape,
      [&](const Tap &t) -> SmallVector<Value> {
        // dcol[k] without rank reduction (unit dims could be dropped
        // ambiguously), then a collapse of the leading unit dims.
        OpBuilder &b = cx.b;
        SmallVector<OpFoldResult> offs(t.k.begin(), t.k.end()), sizes(nsp, b.getIndexAttr(1));
        offs.append(tapShape.size(), b.getIndexAttr(0));
        for (int64_t v : tapShape)
          sizes.push_back(b.getIndexAttr(v));
        SmallVector<OpFoldResult> ones(offs.size(), b.getIndexAttr(1));
        Value sl = tensor::ExtractSliceOp::create(b, cx.loc, dcol, offs, sizes, ones);
        return {cx.reshape(sl, tapShape)};
      },
      [](OpBuilder &nb, Location nl, const Tap &, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, nl, a[1], a[0]);
      });
  Shape offs{0, 0};
  offs.append(p.begin(), p.end());
  Value y = cx.slice(acc, offs, out);
  if (Value bias = op.getBias())
    y = cx.alongAxis(out, 1, ValueRange{y}, ValueRange{bias},
                     [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                       return arith::AddFOp::create(nb, nl, a[0], a[1]);
                     });
  return one(y);
}

} // namespace

Value poolForward(Ctx &cx, Value x, const PoolWindows &w, ArrayRef<int64_t> outShape,
                  g::PoolType type, int64_t pValue, bool includePad) {
  bool isMax = type == g::PoolType::max;
  double pv = static_cast<double>(pValue);
  if (type == g::PoolType::lp && pv != 1) {
    x = cx.map1(x, [&](Value v) -> Value {
      if (pv == 2)
        return arith::MulFOp::create(cx.b, cx.loc, v, v);
      // MXNet's a_pow_p<3> is a·a·a, signed (powf of a negative base is
      // NaN once expanded through exp/log).
      if (pv == 3)
        return arith::MulFOp::create(cx.b, cx.loc, arith::MulFOp::create(cx.b, cx.loc, v, v), v);
      return math::PowFOp::create(cx.b, cx.loc, v, cx.f(pv));
    });
  }
  Value xp = w.padded(cx, x, isMax ? cx.lowest() : cx.f(0.0));
  Value acc = windowReduce(cx, xp, w.kernel, w.stride, outShape, isMax);
  if (type == g::PoolType::lp && pv != 1)
    return cx.map1(acc, [&](Value v) -> Value {
      if (pv == 2)
        return math::SqrtOp::create(cx.b, cx.loc, v);
      // MXNet's a_root_p<3> is cbrt: a window whose cubes sum below 0
      // has a negative norm, not NaN.
      if (pv == 3)
        return math::CbrtOp::create(cx.b, cx.loc, v);
      return math::PowFOp::create(cx.b, cx.loc, v, cx.f(1.0 / pv));
    });
  if (type != g::PoolType::avg)
    return acc;
  // Average: divide by the window's element count, a constant per position.
  Value counts = windowCounts(cx, w, includePad);
  return cx.mapBcast(outShape, ValueRange{acc, counts},
                     [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                       return arith::DivFOp::create(nb, nl, a[0], a[1]);
                     });
}

namespace {

Results lowerPooling(Ctx &cx, g::PoolingOp op) {
  Value x = op.getData();
  Shape out = shapeOf(op.getOutput());
  PoolWindows w = poolWindows(op, shapeOf(x), out);
  return one(poolForward(cx, x, w, out, op.getPoolType(),
                         static_cast<int64_t>(op.getPValue()), op.getCountIncludePad()));
}
Results lowerActivation(Ctx &cx, g::ActivationOp op) {
  g::ActType t = op.getActType();
  return one(cx.mapBcast(
      shapeOf(op.getData()), ValueRange{op.getData()},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        formula::S x{&nb, nl, a[0]};
        switch (t) {
        case g::ActType::relu:
          return formula::relu(x).v;
        case g::ActType::sigmoid:
          return formula::sigmoid(x).v;
        case g::ActType::tanh:
          return formula::tanh(x).v;
        case g::ActType::softrelu:
          // log(1 + eˣ) without overflow: x + log1p(e⁻ˣ) for x > 0.
          return arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, x.v),
                                         (x + formula::log1p(formula::exp(-x))).v,
                                         formula::log1p(formula::exp(x)).v);
        case g::ActType::softsign:
          return formula::softsign(x).v;
        }
        llvm_unreachable("act_type");
      }));
}

Results lowerLeaky(Ctx &cx, g::LeakyReLUOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  double slope = toDouble(op.getSlope());
  switch (op.getActType()) {
  case g::LeakyActType::prelu: {
    if (!op.getGamma())
      return op.emitOpError("prelu needs a gamma operand"), failure();
    Value gamma = op.getGamma();
    SmallVector<Iter> iters(xs.size(), Iter::parallel);
    return one(cx.generic(xs, ValueRange{x, gamma}, {cx.id(xs.size()), preluGammaMap(cx, xs, gamma)},
                          iters, [&](OpBuilder &nb, Location nl, ValueRange a) {
                            return cx.leaky(nb, nl, a[0], a[1]);
                          }));
  }
  default:
    break;
  }
  g::LeakyActType t = op.getActType();
  double rr = (toDouble(op.getLowerBound()) + toDouble(op.getUpperBound())) / 2;
  return one(cx.mapBcast(xs, ValueRange{x}, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
    Value v = a[0];
    switch (t) {
    case g::LeakyActType::leaky:
      return cx.leaky(nb, nl, v, cx.k(nb, nl, slope));
    case g::LeakyActType::rrelu:
      // Inference uses the mean of the slope range.
      return cx.leaky(nb, nl, v, cx.k(nb, nl, rr));
    case g::LeakyActType::elu:
      return arith::SelectOp::create(
          nb, nl, cx.gt0(nb, nl, v), v,
          arith::MulFOp::create(nb, nl, cx.k(nb, nl, slope), math::ExpM1Op::create(nb, nl, v)));
    case g::LeakyActType::selu: {
      const double alpha = 1.6732632423543772848170429916717;
      const double lambda = 1.0507009873554804934193349852946;
      Value e = arith::MulFOp::create(nb, nl, cx.k(nb, nl, alpha),
                                      math::ExpM1Op::create(nb, nl, v));
      Value r = arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, v), v, e);
      return arith::MulFOp::create(nb, nl, cx.k(nb, nl, lambda), r);
    }
    case g::LeakyActType::gelu: {
      Value e = math::ErfOp::create(
          nb, nl, arith::MulFOp::create(nb, nl, v, cx.k(nb, nl, 1.0 / std::sqrt(2.0))));
      Value h = arith::MulFOp::create(nb, nl, cx.k(nb, nl, 0.5), v);
      return arith::MulFOp::create(nb, nl, h,
                                   arith::AddFOp::create(nb, nl, cx.k(nb, nl, 1), e));
    }
    case g::LeakyActType::prelu:
      break;
    }
    llvm_unreachable("leaky act_type");
  }));
}

/// BatchNorm and SyncBatchNorm.
template <typename BatchNormLike> Results lowerBatchNorm(Ctx &cx, BatchNormLike op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), xs.size());
  double eps = toDouble(op.getEps());
  bool fixGamma = op.getFixGamma();
  AffineMap cm = cx.map(xs.size(), {cx.d(axis)});
  AffineMap id = AffineMap::getMultiDimIdentityMap(xs.size(), cx.mc());
  SmallVector<Iter> iters(xs.size(), Iter::parallel);
  // Inference: the moving statistics.
  return one(cx.generic(
      xs, ValueRange{x, op.getGamma(), op.getBeta(), op.getMovingMean(), op.getMovingVar()},
      {id, cm, cm, cm, cm}, iters, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value sd = math::SqrtOp::create(nb, nl,
                                        arith::AddFOp::create(nb, nl, a[4], cx.k(nb, nl, eps)));
        Value gamma = fixGamma ? cx.k(nb, nl, 1.0) : a[1];
        Value scale = arith::DivFOp::create(nb, nl, gamma, sd);
        Value c = arith::SubFOp::create(nb, nl, a[0], a[3]);
        return arith::AddFOp::create(nb, nl, arith::MulFOp::create(nb, nl, c, scale), a[2]);
      }));
}

Results lowerLRN(Ctx &cx, g::LRNOp op) {
  Value x = op.getData();
  int64_t nsize = static_cast<int64_t>(op.getNsize());
  double beta = toDouble(op.getBeta());
  Value scale = lrnScale(cx, x, nsize, toDouble(op.getAlpha()), toDouble(op.getKnorm()));
  return one(cx.mapBcast(shapeOf(x), ValueRange{x, scale},
                         [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           return arith::MulFOp::create(
                               nb, nl, a[0], math::PowFOp::create(nb, nl, a[1], cx.k(nb, nl, -beta)));
                         }));
}

Results lowerEmbedding(Ctx &cx, g::EmbeddingOp op) {
  Value x = op.getData(), w = op.getWeight();
  Shape out = shapeOf(op.getOutput());
  int64_t rows = static_cast<int64_t>(op.getInputDim());
  unsigned r = out.size();
  SmallVector<AffineExpr> xe;
  for (unsigned i = 0; i + 1 < r; ++i)
    xe.push_back(cx.d(i));
  SmallVector<Iter> iters(r, Iter::parallel);
  return one(cx.generic(out, ValueRange{x}, {cx.map(r, xe)}, iters,
                        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          Value row = embeddingRow(cx, nb, nl, a[0], rows);
                          Value col = linalg::IndexOp::create(nb, nl, r - 1);
                          return tensor::ExtractOp::create(nb, nl, w, ValueRange{row, col});
                        }));
}

/// An elementwise op defined by a formula (GraphElementwise.td): its
/// formula instantiated on the scalars of a linalg body, operands broadcast
/// to the result's shape.
template <typename OpT> Results lowerFormula(Ctx &cx, OpT op) {
  using formula::S;
  return one(cx.mapBcast(shapeOf(op->getResult(0)), op->getOperands(),
                         [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           if constexpr (graph::FormulaOperands<OpT>::value == 1)
                             return op.apply(S{&nb, nl, a[0]}).v;
                           else
                             return op.apply(S{&nb, nl, a[0]}, S{&nb, nl, a[1]}).v;
                         }));
}

Results lowerReduce(Ctx &cx, Operation *op, Value x, SmallVector<int64_t> axes, int kind) {
  Shape xs = shapeOf(x);
  SmallVector<bool> reduced(xs.size(), false);
  int64_t count = 1;
  for (int64_t a : axes) {
    reduced[a] = true;
    count *= xs[a];
  }
  Value init = kind == 2   ? cx.f(-std::numeric_limits<double>::infinity())
               : kind == 3 ? cx.f(std::numeric_limits<double>::infinity())
                           : cx.f(0.0);
  SmallVector<int64_t> dims;
  for (size_t i = 0; i < xs.size(); ++i)
    if (reduced[i])
      dims.push_back(i);
  // reduceAxes splits a per-channel reduction into a vectorized pass over
  // the outer axes and a small one over the trailing axes.
  Value r = dims.empty() ? x
                         : cx.reduceAxes(x, reduced, init,
                                         [&](OpBuilder &nb, Location nl, Value acc, Value v) -> Value {
                                           if (kind == 2)
                                             return arith::MaximumFOp::create(nb, nl, acc, v);
                                           if (kind == 3)
                                             return arith::MinimumFOp::create(nb, nl, acc, v);
                                           return arith::AddFOp::create(nb, nl, acc, v);
                                         });
  if (kind == 1) {
    Value c = cx.f(static_cast<double>(count));
    r = cx.map1(r, [&](Value v) { return arith::DivFOp::create(cx.b, cx.loc, v, c); });
  }
  return one(cx.reshape(r, tensorTy(op->getResult(0)).getShape()));
}

Results lowerSplit(Ctx &cx, g::SplitOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), xs.size());
  int64_t parts = static_cast<int64_t>(op.getNumOutputs());
  SmallVector<int64_t> bounds;
  for (int64_t j = 0; j <= parts; ++j)
    bounds.push_back(j * (xs[axis] / parts));
  return splitAlongAxis(cx, op, x, axis, bounds);
}

Results lowerConcat(Ctx &cx, g::ConcatOp op) {
  Shape out = shapeOf(op.getOutput());
  int64_t dim = normAxis(static_cast<int64_t>(op.getDim()), out.size());
  return one(cx.concat(op.getInputs(), out, dim));
}

Results lowerTranspose(Ctx &cx, g::TransposeOp op) {
  Value x = op.getData();
  int64_t rank = shapeOf(x).size();
  SmallVector<int64_t> perm;
  for (int64_t a : op.getAxes())
    perm.push_back(normAxis(a, rank));
  if (perm.empty())
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  Value init = cx.empty(shapeOf(op.getOutput()));
  return one(linalg::TransposeOp::create(cx.b, cx.loc, x, init, perm).getResult()[0]);
}

Results lowerSoftmaxOutput(Ctx &cx, g::SoftmaxOutputOp op) {
  Value x = op.getData();
  int64_t rank = shapeOf(x).size();
  SmallVector<bool> reduced(rank, false);
  if (op.getMultiOutput() && rank >= 2)
    reduced[1] = true;
  else if (op.getPreserveShape())
    reduced[rank - 1] = true;
  else
    for (int64_t i = 1; i < rank; ++i)
      reduced[i] = true;
  return one(cx.softmax(x, reduced, 1.0, false));
}

Results lowerSoftmaxAlong(Ctx &cx, Value x, int64_t axis, double temperature, bool log) {
  int64_t rank = shapeOf(x).size();
  SmallVector<bool> reduced(rank, false);
  reduced[normAxis(axis, rank)] = true;
  return one(cx.softmax(x, reduced, temperature, log));
}

/// softmax with MXNet's use_length: row r of the (outer, n, inner) view
/// around `axis` takes its first int(length[r]) elements (clipped to
/// [0, n]) into the softmax; the others are 0.
Results lowerSoftmaxLength(Ctx &cx, Value x, Value length, int64_t axis, double temperature) {
  Shape xs = shapeOf(x);
  int64_t a = normAxis(axis, xs.size());
  Shape view{product(xs, 0, a), xs[a], product(xs, a + 1)};
  Value xv = cx.reshape(x, view);
  if (temperature != 1.0) {
    Value t = cx.f(temperature);
    xv = cx.map1(xv, [&](Value v) { return arith::DivFOp::create(cx.b, cx.loc, v, t); });
  }
  SmallVector<Iter> iters(3, Iter::parallel);
  // mask = 1 where j + 1 ≤ length (j < int(length) for a whole number of
  // rows; false for NaN), 0 elsewhere.
  Value mask = cx.generic(
      view, ValueRange{cx.reshape(length, {view[0], view[2]})}, {cx.map(3, {cx.d(0), cx.d(2)})},
      iters, [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
        Value j = arith::IndexCastOp::create(nb, nl, nb.getI64Type(),
                                             linalg::IndexOp::create(nb, nl, 1));
        Value jf = arith::SIToFPOp::create(nb, nl, cx.et, j);
        Value next = arith::AddFOp::create(nb, nl, jf, cx.k(nb, nl, 1.0));
        Value in = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLE, next, v[0]);
        return arith::SelectOp::create(nb, nl, in, cx.k(nb, nl, 1.0), cx.k(nb, nl, 0.0));
      });
  auto inRow = [&](OpBuilder &nb, Location nl, Value m) -> Value {
    return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::ONE, m, cx.k(nb, nl, 0.0));
  };
  SmallVector<bool> reduced{false, true, false};
  Value mx = cx.reduceAxes(
      xv, reduced, cx.negInf(),
      [](OpBuilder &nb, Location nl, Value acc, Value v) -> Value {
        return arith::MaximumFOp::create(nb, nl, acc, v);
      },
      {},
      [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
        Value ninf = cx.k(nb, nl, -std::numeric_limits<double>::infinity());
        return arith::SelectOp::create(nb, nl, inRow(nb, nl, v[1]), v[0], ninf);
      },
      ValueRange{mask});
  Value sum = cx.reduceAxes(
      xv, reduced, cx.f(0.0),
      [](OpBuilder &nb, Location nl, Value acc, Value v) -> Value {
        return arith::AddFOp::create(nb, nl, acc, v);
      },
      ValueRange{mx},
      [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
        Value e = math::ExpOp::create(nb, nl, arith::SubFOp::create(nb, nl, v[0], v[2]));
        return arith::SelectOp::create(nb, nl, inRow(nb, nl, v[1]), e, cx.k(nb, nl, 0.0));
      },
      ValueRange{mask});
  AffineMap km = cx.keptMap(reduced);
  Value y = cx.generic(view, ValueRange{xv, mx, sum, mask}, {cx.id(3), km, km, cx.id(3)}, iters,
                       [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                         Value e = math::ExpOp::create(nb, nl,
                                                       arith::SubFOp::create(nb, nl, v[0], v[1]));
                         Value p = arith::DivFOp::create(nb, nl, e, v[2]);
                         return arith::SelectOp::create(nb, nl, inRow(nb, nl, v[3]), p,
                                                        cx.k(nb, nl, 0.0));
                       });
  return one(cx.reshape(y, xs));
}

Results lowerOp(Ctx &cx, Operation *op) {
  using B = OpBuilder;
  using L = Location;
  auto reduce = [&](auto rop, int kind) {
    return lowerReduce(cx, rop, rop.getData(),
                       rop.getReducedAxes(shapeOf(rop.getData()).size()), kind);
  };
  auto identity = [&](Value x) { return one(cx.reshape(x, shapeOf(op->getResult(0)))); };
  Results formulaResult = failure();
  if (graph::visitFormulaOp(op, [&](auto o) { formulaResult = lowerFormula(cx, o); }))
    return formulaResult;
  return llvm::TypeSwitch<Operation *, Results>(op)
      .Case([&](g::FullyConnectedOp o) { return lowerFC(cx, o); })
      .Case([&](g::ConvolutionOp o) { return lowerConv(cx, o); })
      .Case([&](g::DeconvolutionOp o) { return lowerDeconv(cx, o); })
      .Case([&](g::PoolingOp o) { return lowerPooling(cx, o); })
      .Case([&](g::ActivationOp o) { return lowerActivation(cx, o); })
      .Case([&](g::LeakyReLUOp o) { return lowerLeaky(cx, o); })
      .Case([&](g::BatchNormOp o) { return lowerBatchNorm(cx, o); })
      .Case([&](g::SyncBatchNormOp o) { return lowerBatchNorm(cx, o); })
      .Case([&](g::LRNOp o) { return lowerLRN(cx, o); })
      .Case([&](g::DropoutOp o) -> Results {
        if (o.getMode() == g::DropoutMode::always && toDouble(o.getP()) > 0)
          return o.emitOpError("with mode=always draws random numbers, which the CPU "
                               "lowering does not support yet"),
                 failure();
        return identity(o.getData());
      })
      .Case([&](g::EmbeddingOp o) { return lowerEmbedding(cx, o); })
      .Case([&](g::SoftmaxOutputOp o) { return lowerSoftmaxOutput(cx, o); })
      .Case([&](g::LinearRegressionOutputOp o) { return identity(o.getData()); })
      .Case([&](g::MAERegressionOutputOp o) { return identity(o.getData()); })
      .Case([&](g::LogisticRegressionOutputOp o) {
        return one(cx.mapBcast(shapeOf(o.getData()), ValueRange{o.getData()},
                               [&](B &nb, L nl, ValueRange a) {
                                 return cx.sigmoid(nb, nl, a[0]);
                               }));
      })
      .Case([&](g::SoftmaxOp o) {
        auto t = o.getTemperature();
        if (Value length = o.getLength())
          return lowerSoftmaxLength(cx, o.getData(), length, static_cast<int64_t>(o.getAxis()),
                                    t ? toDouble(*t) : 1.0);
        return lowerSoftmaxAlong(cx, o.getData(), static_cast<int64_t>(o.getAxis()),
                                 t ? toDouble(*t) : 1.0, false);
      })
      .Case([&](g::LogSoftmaxOp o) {
        auto t = o.getTemperature();
        return lowerSoftmaxAlong(cx, o.getData(), static_cast<int64_t>(o.getAxis()),
                                 t ? toDouble(*t) : 1.0, true);
      })
      .Case([&](g::SoftminOp o) {
        auto t = o.getTemperature();
        return lowerSoftmaxAlong(cx, o.getData(), static_cast<int64_t>(o.getAxis()),
                                 -(t ? toDouble(*t) : 1.0), false);
      })
      .Case([&](g::SoftmaxActivationOp o) {
        return lowerSoftmaxAlong(cx, o.getData(),
                                 o.getMode() == g::SoftmaxMode::channel ? 1 : -1, 1.0,
                                 false);
      })
      .Case([&](g::FlattenOp o) { return identity(o.getData()); })
      .Case([&](g::IdentityOp o) { return identity(o.getData()); })
      .Case([&](g::ReshapeOp o) { return identity(o.getData()); })
      .Case([&](g::TransposeOp o) { return lowerTranspose(cx, o); })
      .Case([&](g::ConcatOp o) { return lowerConcat(cx, o); })
      .Case([&](g::SplitOp o) { return lowerSplit(cx, o); })
      .Case([&](g::AddNOp o) -> Results {
        Shape s = shapeOf(o.getOutput());
        if (o.getInputs().empty())
          return one(cx.filled(s, 0.0));
        return one(cx.mapBcast(s, o.getInputs(), [](B &nb, L nl, ValueRange a) {
          Value acc = a[0];
          for (size_t i = 1; i < a.size() - 1; ++i)
            acc = arith::AddFOp::create(nb, nl, acc, a[i]);
          return acc;
        }));
      })
      .Case([&](g::BroadcastToOp o) {
        return one(cx.mapBcast(shapeOf(o.getOutput()), ValueRange{o.getData()},
                               [](B &, L, ValueRange a) { return a[0]; }));
      })
      .Case([&](g::SumOp o) { return reduce(o, 0); })
      .Case([&](g::MeanOp o) { return reduce(o, 1); })
      .Case([&](g::MaxOp o) { return reduce(o, 2); })
      .Case([&](g::MinOp o) { return reduce(o, 3); })
      .Default([&](Operation *o) -> Results {
        for (auto family : {lowerGradOp, lowerShapeOp, lowerReduceOp, lowerNNOp, lowerRNNOp,
                            lowerDetectionOp})
          if (std::optional<Results> r = family(cx, o))
            return *r;
        return o->emitOpError("has no lowering to linalg"), failure();
      });
}

/// Every operand and result a static float tensor of one element type.
LogicalResult checkTypes(Operation *op, Type &et) {
  auto check = [&](Type t, const char *what, unsigned i) -> LogicalResult {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt || !rt.hasStaticShape())
      return op->emitOpError() << what << " #" << i << " has type " << t
                               << "; the linalg lowering needs static shapes (run "
                                  "kiln-graph-infer-shapes first)";
    if (!isa<FloatType>(rt.getElementType()))
      return op->emitOpError() << what << " #" << i << " is not a float tensor";
    if (!et)
      et = rt.getElementType();
    else if (et != rt.getElementType())
      return op->emitOpError() << "mixes element types " << et << " and "
                               << rt.getElementType();
    return success();
  };
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    if (failed(check(v.getType(), "operand", i)))
      return failure();
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    if (failed(check(v.getType(), "result", i)))
      return failure();
  return success();
}

struct ConvertGraphToLinalgPass
    : ::kiln::impl::ConvertGraphToLinalgBase<ConvertGraphToLinalgPass> {
  void runOnOperation() override {
    if (failed(kiln::convertGraphToLinalg(getOperation())))
      signalPassFailure();
  }
};

} // namespace
} // namespace kiln::lowering

LogicalResult kiln::convertGraphToLinalg(func::FuncOp func) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<g::GraphDialect>(op->getDialect()))
      ops.push_back(op);
  });
  OpBuilder b(func.getContext());
  for (Operation *op : ops) {
    Type et;
    if (failed(kiln::lowering::checkTypes(op, et)))
      return failure();
    b.setInsertionPoint(op);
    kiln::lowering::Ctx cx{b, op->getLoc(), et};
    kiln::lowering::Results r = kiln::lowering::lowerOp(cx, op);
    if (failed(r))
      return failure();
    for (auto [res, v] : llvm::zip(op->getResults(), *r))
      if (res.getType() != v.getType())
        return op->emitOpError() << "lowering produced " << v.getType() << " for result of type "
                                 << res.getType() << " (internal error)";
    op->replaceAllUsesWith(*r);
    op->erase();
  }
  return success();
}
