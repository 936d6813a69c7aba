//===- GraphToLinalg.cpp - Graph dialect to linalg/tensor on tensors -----===//
//
// One lowering function per graph op, built from a handful of helpers
// (elementwise map with NumPy broadcasting, reductions over an axis set,
// windowed reductions, reshapes). Semantics mirror the reference
// interpreter (lib/Interpreter), which is the oracle the lowering is tested
// against; where the two could differ (clipped pooling windows, index
// clipping in Embedding, MXNet's LRN window) the interpreter's rule is
// reproduced exactly.
//
//===----------------------------------------------------------------------===//

#include "Conversion/GraphToLinalg/Passes.h"

#include "Graph/GraphOps.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_CONVERTGRAPHTOLINALG
#include "Conversion/GraphToLinalg/Passes.h.inc"
} // namespace kiln

using namespace mlir;
namespace g = kiln::graph;

namespace {

using Shape = SmallVector<int64_t, 4>;
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;
using Iter = utils::IteratorType;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

RankedTensorType tensorTy(Value v) { return cast<RankedTensorType>(v.getType()); }
Shape shapeOf(Value v) {
  auto s = tensorTy(v).getShape();
  return Shape(s.begin(), s.end());
}
int64_t product(ArrayRef<int64_t> s, size_t b = 0, size_t e = ~size_t(0)) {
  int64_t n = 1;
  for (size_t i = b; i < std::min(e, s.size()); ++i)
    n *= s[i];
  return n;
}

struct Ctx {
  OpBuilder &b;
  Location loc;
  Type et; // element type of the op being lowered

  MLIRContext *mc() { return b.getContext(); }

  Value f(double v) {
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(b.getFloatAttr(et, v)));
  }
  Value lowest() {
    auto ft = cast<FloatType>(et);
    // The interpreter pads max pooling with float's lowest value, also in f64.
    if (ft.isF64())
      return f(static_cast<double>(std::numeric_limits<float>::lowest()));
    return arith::ConstantOp::create(
        b, loc, cast<TypedAttr>(b.getFloatAttr(
                    et, APFloat::getLargest(ft.getFloatSemantics(), true))));
  }
  Value empty(ArrayRef<int64_t> shape) {
    return tensor::EmptyOp::create(b, loc, shape, et);
  }
  Value filled(ArrayRef<int64_t> shape, double v) {
    Value c = f(v);
    return linalg::FillOp::create(b, loc, ValueRange{c}, ValueRange{empty(shape)})
        .getResult(0);
  }
  Value filledWith(ArrayRef<int64_t> shape, Value c) {
    return linalg::FillOp::create(b, loc, ValueRange{c}, ValueRange{empty(shape)})
        .getResult(0);
  }
  AffineExpr d(unsigned i) { return getAffineDimExpr(i, mc()); }
  AffineExpr c(int64_t v) { return getAffineConstantExpr(v, mc()); }
  AffineMap map(unsigned nd, ArrayRef<AffineExpr> r) {
    return AffineMap::get(nd, 0, r, mc());
  }

  /// A linalg.generic writing a fresh tensor of `outShape`; `outMap` indexes
  /// the output (identity over the first outShape.size() loops by default).
  Value generic(ArrayRef<int64_t> outShape, ValueRange ins, ArrayRef<AffineMap> inMaps,
                ArrayRef<Iter> iters, BodyFn body, Value init = {},
                AffineMap outMap = {}) {
    unsigned nd = iters.size();
    if (!outMap) {
      SmallVector<AffineExpr> r;
      for (unsigned i = 0; i < outShape.size(); ++i)
        r.push_back(d(i));
      outMap = map(nd, r);
    }
    SmallVector<AffineMap> maps(inMaps.begin(), inMaps.end());
    maps.push_back(outMap);
    if (!init)
      init = empty(outShape);
    auto op = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value r = body(nb, nl, args);
          linalg::YieldOp::create(nb, nl, r);
        });
    return op.getResult(0);
  }

  /// NumPy broadcasting: the map from result loops to an operand of `in`.
  AffineMap bcastMap(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
    SmallVector<AffineExpr> r;
    size_t off = out.size() - in.size();
    for (size_t i = 0; i < in.size(); ++i)
      r.push_back(in[i] == 1 && out[off + i] != 1 ? c(0) : d(off + i));
    return map(out.size(), r);
  }

  /// Elementwise over `outShape`, each input broadcast to it.
  Value mapBcast(ArrayRef<int64_t> outShape, ValueRange ins, BodyFn body) {
    SmallVector<AffineMap> maps;
    for (Value v : ins)
      maps.push_back(bcastMap(shapeOf(v), outShape));
    SmallVector<Iter> iters(outShape.size(), Iter::parallel);
    return generic(outShape, ins, maps, iters, body);
  }
  Value map1(Value x, function_ref<Value(Value)> fn) {
    return mapBcast(shapeOf(x), ValueRange{x},
                    [&](OpBuilder &, Location, ValueRange a) { return fn(a[0]); });
  }

  /// A view of `v` with `shape` (same element count, row-major order kept).
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    auto src = tensorTy(v);
    if (src.getShape() == shape)
      return v;
    auto dst = RankedTensorType::get(shape, src.getElementType());
    if (src.getRank() > dst.getRank()) {
      if (auto re = getReassociationIndicesForCollapse(src.getShape(), shape))
        return tensor::CollapseShapeOp::create(b, loc, dst, v, *re);
    } else if (src.getRank() < dst.getRank()) {
      if (auto re = getReassociationIndicesForCollapse(shape, src.getShape()))
        return tensor::ExpandShapeOp::create(b, loc, dst, v, *re);
    }
    // No single collapse/expand does it: go through 1-D.
    int64_t n = product(src.getShape());
    auto flatTy = RankedTensorType::get({n}, src.getElementType());
    auto all = [](int64_t r) {
      ReassociationIndices g;
      for (int64_t i = 0; i < r; ++i)
        g.push_back(i);
      return SmallVector<ReassociationIndices>{g};
    };
    Value flat = src.getRank() == 0
                     ? Value(tensor::ExpandShapeOp::create(
                           b, loc, flatTy, v, SmallVector<ReassociationIndices>{}))
                     : Value(tensor::CollapseShapeOp::create(b, loc, flatTy, v,
                                                             all(src.getRank())));
    if (dst.getRank() == 0)
      return tensor::CollapseShapeOp::create(b, loc, dst, flat,
                                             SmallVector<ReassociationIndices>{});
    return tensor::ExpandShapeOp::create(b, loc, dst, flat, all(dst.getRank()));
  }

  /// `x` padded along every dim by lo/hi with the scalar `value`.
  Value pad(Value x, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi, Value value) {
    if (llvm::all_of(lo, [](int64_t v) { return v == 0; }) &&
        llvm::all_of(hi, [](int64_t v) { return v == 0; }))
      return x;
    Shape s = shapeOf(x), ps(s.size());
    for (size_t i = 0; i < s.size(); ++i)
      ps[i] = s[i] + lo[i] + hi[i];
    Value dst = filledWith(ps, value);
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < s.size(); ++i) {
      offs.push_back(b.getIndexAttr(lo[i]));
      sizes.push_back(b.getIndexAttr(s[i]));
      strides.push_back(b.getIndexAttr(1));
    }
    return tensor::InsertSliceOp::create(b, loc, x, dst, offs, sizes, strides);
  }

  /// Reduces `x` over the dims flagged in `reduced` into a tensor of the
  /// kept dims, starting from `init` and combining with `combine(acc, v)`.
  /// `pre` (optional) maps each element before combining and sees the
  /// extra operands `extra` (indexed like the result).
  Value reduceAxes(Value x, ArrayRef<bool> reduced, Value initScalar,
                   function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
                   ValueRange extra = {},
                   function_ref<Value(OpBuilder &, Location, ValueRange)> pre = nullptr) {
    Shape s = shapeOf(x), kept;
    SmallVector<AffineExpr> keptExprs;
    SmallVector<Iter> iters;
    for (size_t i = 0; i < s.size(); ++i) {
      iters.push_back(reduced[i] ? Iter::reduction : Iter::parallel);
      if (!reduced[i]) {
        kept.push_back(s[i]);
        keptExprs.push_back(d(i));
      }
    }
    AffineMap keptMap = map(s.size(), keptExprs);
    SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(s.size(), mc())};
    SmallVector<Value> ins{x};
    for (Value e : extra) {
      ins.push_back(e);
      maps.push_back(keptMap);
    }
    Value init = filledWith(kept, initScalar);
    unsigned nIns = ins.size();
    return generic(
        kept, ins, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value v = pre ? pre(nb, nl, a.take_front(nIns)) : a[0];
          return combine(nb, nl, a[nIns], v);
        },
        init, keptMap);
  }

  /// Softmax (or log-softmax) over the axes flagged in `reduced`, after
  /// dividing by `temperature`.
  Value softmax(Value x, ArrayRef<bool> reduced, double temperature, bool log) {
    Shape s = shapeOf(x);
    if (temperature != 1.0) {
      Value t = f(temperature);
      x = map1(x, [&](Value v) { return arith::DivFOp::create(b, loc, v, t); });
    }
    Value mx = reduceAxes(x, reduced, lowestOrNegInf(),
                          [](OpBuilder &nb, Location nl, Value acc, Value v) -> Value {
                            return arith::MaximumFOp::create(nb, nl, acc, v);
                          });
    Value sum = reduceAxes(
        x, reduced, f(0.0),
        [](OpBuilder &nb, Location nl, Value acc, Value v) -> Value {
          return arith::AddFOp::create(nb, nl, acc, v);
        },
        ValueRange{mx}, [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          Value z = arith::SubFOp::create(nb, nl, a[0], a[1]);
          return math::ExpOp::create(nb, nl, z);
        });
    SmallVector<AffineExpr> keptExprs;
    for (size_t i = 0; i < s.size(); ++i)
      if (!reduced[i])
        keptExprs.push_back(d(i));
    AffineMap keptMap = map(s.size(), keptExprs);
    AffineMap id = AffineMap::getMultiDimIdentityMap(s.size(), mc());
    SmallVector<Iter> iters(s.size(), Iter::parallel);
    return generic(s, ValueRange{x, mx, sum}, {id, keptMap, keptMap}, iters,
                   [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                     Value z = arith::SubFOp::create(nb, nl, a[0], a[1]);
                     if (log)
                       return arith::SubFOp::create(
                           nb, nl, z, math::LogOp::create(nb, nl, a[2]));
                     return arith::DivFOp::create(
                         nb, nl, math::ExpOp::create(nb, nl, z), a[2]);
                   });
  }
  Value lowestOrNegInf() {
    return f(-std::numeric_limits<double>::infinity());
  }

  // Scalar building blocks used inside bodies.
  Value gt0(OpBuilder &nb, Location nl, Value x) {
    Value z = arith::ConstantOp::create(nb, nl, cast<TypedAttr>(nb.getFloatAttr(et, 0.0)));
    return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, x, z);
  }
  Value k(OpBuilder &nb, Location nl, double v) {
    return arith::ConstantOp::create(nb, nl, cast<TypedAttr>(nb.getFloatAttr(et, v)));
  }
  Value sigmoid(OpBuilder &nb, Location nl, Value x) {
    Value e = math::ExpOp::create(nb, nl, arith::NegFOp::create(nb, nl, x));
    return arith::DivFOp::create(nb, nl, k(nb, nl, 1.0),
                                 arith::AddFOp::create(nb, nl, k(nb, nl, 1.0), e));
  }
  Value leaky(OpBuilder &nb, Location nl, Value x, Value slope) {
    return arith::SelectOp::create(nb, nl, gt0(nb, nl, x), x,
                                   arith::MulFOp::create(nb, nl, slope, x));
  }
};

//===----------------------------------------------------------------------===//
// Op lowerings
//===----------------------------------------------------------------------===//

using Results = FailureOr<SmallVector<Value>>;
Results one(Value v) { return SmallVector<Value>{v}; }

int64_t normAxis(int64_t a, int64_t rank) { return a < 0 ? a + rank : a; }

/// The init tensor of a convolution-like op: the bias broadcast along axis 1,
/// or zeros.
Value biasInit(Ctx &cx, ArrayRef<int64_t> outShape, Value bias) {
  if (!bias)
    return cx.filled(outShape, 0.0);
  SmallVector<Iter> iters(outShape.size(), Iter::parallel);
  return cx.generic(outShape, ValueRange{bias}, {cx.map(outShape.size(), {cx.d(1)})},
                    iters, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

/// Direct convolution of an already padded input: x [N, G*Cg, sp...],
/// w [G*Fg, Cg, k...], accumulating into `init` [N, G*Fg, out...]. Named
/// ops when there is one group, a generic (channel index computed with
/// floordiv) otherwise.
Value convolve(Ctx &cx, Value x, Value w, Value init, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> dilations, int64_t groups) {
  size_t nsp = strides.size();
  Shape out = shapeOf(init), ws = shapeOf(w);
  auto ty = init.getType();
  if (groups == 1) {
    auto sAttr = cx.b.getI64TensorAttr(strides);
    auto dAttr = cx.b.getI64TensorAttr(dilations);
    switch (nsp) {
    case 1:
      return linalg::Conv1DNcwFcwOp::create(cx.b, cx.loc, TypeRange{ty}, ValueRange{x, w},
                                            ValueRange{init}, sAttr, dAttr)
          .getResult(0);
    case 2:
      return linalg::Conv2DNchwFchwOp::create(cx.b, cx.loc, TypeRange{ty},
                                              ValueRange{x, w}, ValueRange{init}, sAttr,
                                              dAttr)
          .getResult(0);
    case 3:
      return linalg::Conv3DNcdhwFcdhwOp::create(cx.b, cx.loc, TypeRange{ty},
                                                ValueRange{x, w}, ValueRange{init},
                                                sAttr, dAttr)
          .getResult(0);
    }
  }
  // Loops: n, f, o_1..o_s, cg, k_1..k_s.
  int64_t f = out[1], fg = f / groups, cg = ws[1];
  unsigned nd = 3 + 2 * nsp;
  SmallVector<AffineExpr> xe{cx.d(0), cx.d(1).floorDiv(fg) * cg + cx.d(2 + nsp)};
  SmallVector<AffineExpr> we{cx.d(1), cx.d(2 + nsp)};
  SmallVector<AffineExpr> oe{cx.d(0), cx.d(1)};
  for (size_t i = 0; i < nsp; ++i) {
    xe.push_back(cx.d(2 + i) * strides[i] + cx.d(3 + nsp + i) * dilations[i]);
    we.push_back(cx.d(3 + nsp + i));
    oe.push_back(cx.d(2 + i));
  }
  SmallVector<Iter> iters(2 + nsp, Iter::parallel);
  iters.append(1 + nsp, Iter::reduction);
  return cx.generic(
      out, ValueRange{x, w}, {cx.map(nd, xe), cx.map(nd, we)}, iters,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, nl, a[2], arith::MulFOp::create(nb, nl, a[0], a[1]));
      },
      init, cx.map(nd, oe));
}

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
Results lowerDeconv(Ctx &cx, g::DeconvolutionOp op) {
  Value x = op.getData(), w = op.getWeight();
  Shape xs = shapeOf(x), ws = shapeOf(w), out = shapeOf(op.getOutput());
  size_t nsp = xs.size() - 2;
  Shape spatial(xs.begin() + 2, xs.end());
  SmallVector<int64_t> s = op.getStrides(), dl = op.getDilations();
  SmallVector<int64_t> p = op.getPads(spatial);
  int64_t groups = static_cast<int64_t>(op.getNumGroup());
  int64_t c = xs[1], cg = c / groups, f = out[1], fg = f / groups;
  ArrayRef<int64_t> kernel = op.getKernel();

  // Zero-inserted buffer of length O + d(K−1); input i sits at lo + i·s.
  Shape bufShape{xs[0], c};
  SmallVector<OpFoldResult> srcOff{cx.b.getIndexAttr(0), cx.b.getIndexAttr(0)},
      srcSize{cx.b.getIndexAttr(xs[0]), cx.b.getIndexAttr(c)},
      one1{cx.b.getIndexAttr(1), cx.b.getIndexAttr(1)}, dstOff = srcOff,
      dstStride = one1;
  Shape sliceShape{xs[0], c};
  bool emptyInput = false;
  for (size_t i = 0; i < nsp; ++i) {
    int64_t span = dl[i] * (kernel[i] - 1);
    int64_t len = out[2 + i] + span;
    int64_t lo = span - p[i];
    int64_t i0 = lo >= 0 ? 0 : (-lo + s[i] - 1) / s[i];
    int64_t i1 = std::min<int64_t>(xs[2 + i] - 1,
                                   len - 1 - lo < 0 ? -1 : (len - 1 - lo) / s[i]);
    if (i1 < i0)
      emptyInput = true;
    bufShape.push_back(len);
    srcOff.push_back(cx.b.getIndexAttr(i0));
    srcSize.push_back(cx.b.getIndexAttr(std::max<int64_t>(0, i1 - i0 + 1)));
    sliceShape.push_back(std::max<int64_t>(0, i1 - i0 + 1));
    one1.push_back(cx.b.getIndexAttr(1));
    dstOff.push_back(cx.b.getIndexAttr(lo + i0 * s[i]));
    dstStride.push_back(cx.b.getIndexAttr(s[i]));
  }
  Value buf = cx.filled(bufShape, 0.0);
  if (!emptyInput) {
    Value src = x;
    if (sliceShape != xs)
      src = tensor::ExtractSliceOp::create(cx.b, cx.loc, x, srcOff, srcSize, one1);
    SmallVector<OpFoldResult> sizes;
    for (int64_t v : sliceShape)
      sizes.push_back(cx.b.getIndexAttr(v));
    buf = tensor::InsertSliceOp::create(cx.b, cx.loc, src, buf, dstOff, sizes, dstStride);
  }

  // w'[g·Fg + j, cg, k] = w[g·Cg + cg, j, K−1−k].
  Shape wt{f, cg};
  SmallVector<AffineExpr> we{cx.d(0).floorDiv(fg) * cg + cx.d(1), cx.d(0) % fg};
  for (size_t i = 0; i < nsp; ++i) {
    wt.push_back(kernel[i]);
    we.push_back(cx.c(kernel[i] - 1) - cx.d(2 + i));
  }
  SmallVector<Iter> iters(wt.size(), Iter::parallel);
  Value w2 = cx.generic(wt, ValueRange{w}, {cx.map(wt.size(), we)}, iters,
                        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  Value init = biasInit(cx, out, op.getBias());
  SmallVector<int64_t> ones(nsp, 1);
  (void)ws;
  return one(convolve(cx, buf, w2, init, ones, dl, groups));
}

/// Window sum/max over a padded input x [N, C, sp...]: out [N, C, o...].
Value windowReduce(Ctx &cx, Value x, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                   ArrayRef<int64_t> outShape, bool isMax) {
  size_t nsp = kernel.size();
  Value init = isMax ? cx.filledWith(outShape, cx.lowest()) : cx.filled(outShape, 0.0);
  Value window = cx.empty(kernel);
  auto ty = init.getType();
  SmallVector<int64_t> ones(nsp, 1);
  if (nsp == 2 || nsp == 1) {
    auto sAttr = cx.b.getI64TensorAttr(strides);
    auto dAttr = cx.b.getI64TensorAttr(ones);
    SmallVector<Value> ins{x, window};
    if (nsp == 2)
      return isMax ? linalg::PoolingNchwMaxOp::create(cx.b, cx.loc, TypeRange{ty}, ins,
                                                      ValueRange{init}, sAttr, dAttr)
                         .getResult(0)
                   : linalg::PoolingNchwSumOp::create(cx.b, cx.loc, TypeRange{ty}, ins,
                                                      ValueRange{init}, sAttr, dAttr)
                         .getResult(0);
    return isMax ? linalg::PoolingNcwMaxOp::create(cx.b, cx.loc, TypeRange{ty}, ins,
                                                   ValueRange{init}, sAttr, dAttr)
                       .getResult(0)
                 : linalg::PoolingNcwSumOp::create(cx.b, cx.loc, TypeRange{ty}, ins,
                                                   ValueRange{init}, sAttr, dAttr)
                       .getResult(0);
  }
  // Loops: n, c, o_1..o_s, k_1..k_s.
  unsigned nd = 2 + 2 * nsp;
  SmallVector<AffineExpr> xe{cx.d(0), cx.d(1)}, ke, oe{cx.d(0), cx.d(1)};
  for (size_t i = 0; i < nsp; ++i) {
    xe.push_back(cx.d(2 + i) * strides[i] + cx.d(2 + nsp + i));
    ke.push_back(cx.d(2 + nsp + i));
    oe.push_back(cx.d(2 + i));
  }
  SmallVector<Iter> iters(2 + nsp, Iter::parallel);
  iters.append(nsp, Iter::reduction);
  return cx.generic(
      outShape, ValueRange{x, window}, {cx.map(nd, xe), cx.map(nd, ke)}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        if (isMax)
          return arith::MaximumFOp::create(nb, nl, a[2], a[0]);
        return arith::AddFOp::create(nb, nl, a[2], a[0]);
      },
      init, cx.map(nd, oe));
}

Results lowerPooling(Ctx &cx, g::PoolingOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x), out = shapeOf(op.getOutput());
  size_t nsp = xs.size() - 2;
  Shape spatial(xs.begin() + 2, xs.end());
  Shape kernel, stride, pb, pa;
  g::PoolingConvention conv = op.getPoolingConvention();
  if (op.getGlobalPool()) {
    kernel = spatial;
    stride.assign(nsp, 1);
    pb.assign(nsp, 0);
    pa.assign(nsp, 0);
  } else {
    kernel.assign(op.getKernel().begin(), op.getKernel().end());
    auto s = op.getStrides(), p = op.getPads();
    stride.assign(s.begin(), s.end());
    pb.assign(p.begin(), p.end());
    pa = pb;
    if (conv == g::PoolingConvention::same)
      for (size_t i = 0; i < nsp; ++i) {
        int64_t total =
            std::max<int64_t>(0, (out[2 + i] - 1) * stride[i] + kernel[i] - spatial[i]);
        pb[i] = total / 2;
        pa[i] = total - total / 2;
      }
  }
  // Pad the right far enough for the last (clipped) window; the extra
  // elements are neutral (lowest for max, 0 for sums), which is exactly
  // MXNet's clipping.
  Shape lo{0, 0}, hi{0, 0};
  for (size_t i = 0; i < nsp; ++i) {
    lo.push_back(pb[i]);
    int64_t need = (out[2 + i] - 1) * stride[i] + kernel[i] - spatial[i] - pb[i];
    hi.push_back(std::max<int64_t>(pa[i], need));
  }
  g::PoolType type = op.getPoolType();
  bool isMax = type == g::PoolType::max;
  double pv = static_cast<double>(static_cast<int64_t>(op.getPValue()));
  if (type == g::PoolType::lp && pv != 1) {
    x = cx.map1(x, [&](Value v) -> Value {
      if (pv == 2)
        return arith::MulFOp::create(cx.b, cx.loc, v, v);
      return math::PowFOp::create(cx.b, cx.loc, v, cx.f(pv));
    });
  }
  Value xp = cx.pad(x, lo, hi, isMax ? cx.lowest() : cx.f(0.0));
  Value acc = windowReduce(cx, xp, kernel, stride, out, isMax);
  if (type == g::PoolType::lp && pv != 1)
    return one(cx.map1(acc, [&](Value v) -> Value {
      if (pv == 2)
        return math::SqrtOp::create(cx.b, cx.loc, v);
      return math::PowFOp::create(cx.b, cx.loc, v, cx.f(1.0 / pv));
    }));
  if (type != g::PoolType::avg)
    return one(acc);

  // Average: divide by the window's element count, computed per position.
  bool includePad = op.getCountIncludePad();
  SmallVector<Iter> iters(out.size(), Iter::parallel);
  Type et = cx.et;
  return one(cx.generic(
      out, ValueRange{acc}, {AffineMap::getMultiDimIdentityMap(out.size(), cx.mc())},
      iters, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        auto idx = [&](int64_t v) -> Value {
          return arith::ConstantIndexOp::create(nb, nl, v);
        };
        Value cnt = idx(1);
        for (size_t i = 0; i < nsp; ++i) {
          Value o = linalg::IndexOp::create(nb, nl, 2 + i);
          Value start = arith::SubIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, o, idx(stride[i])), idx(pb[i]));
          Value end = arith::MinSIOp::create(
              nb, nl, arith::AddIOp::create(nb, nl, start, idx(kernel[i])),
              idx(spatial[i] + pa[i]));
          Value len;
          if (includePad) {
            len = arith::SubIOp::create(nb, nl, end, start);
          } else {
            Value l = arith::MaxSIOp::create(nb, nl, start, idx(0));
            Value h = arith::MinSIOp::create(nb, nl, end, idx(spatial[i]));
            len = arith::MaxSIOp::create(nb, nl, arith::SubIOp::create(nb, nl, h, l),
                                         idx(0));
          }
          cnt = arith::MulIOp::create(nb, nl, cnt, len);
        }
        Value ci = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), cnt);
        Value cf = arith::SIToFPOp::create(nb, nl, et, ci);
        return arith::DivFOp::create(nb, nl, a[0], cf);
      }));
}

Results lowerActivation(Ctx &cx, g::ActivationOp op) {
  g::ActType t = op.getActType();
  return one(cx.mapBcast(
      shapeOf(op.getData()), ValueRange{op.getData()},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value x = a[0];
        switch (t) {
        case g::ActType::relu:
          return arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, x), x, cx.k(nb, nl, 0));
        case g::ActType::sigmoid:
          return cx.sigmoid(nb, nl, x);
        case g::ActType::tanh:
          return math::TanhOp::create(nb, nl, x);
        case g::ActType::softrelu: {
          // log(1 + eˣ) without overflow: x + log1p(e⁻ˣ) for x > 0.
          Value pos = arith::AddFOp::create(
              nb, nl, x,
              math::Log1pOp::create(nb, nl,
                                    math::ExpOp::create(nb, nl, arith::NegFOp::create(nb, nl, x))));
          Value neg = math::Log1pOp::create(nb, nl, math::ExpOp::create(nb, nl, x));
          return arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, x), pos, neg);
        }
        case g::ActType::softsign:
          return arith::DivFOp::create(
              nb, nl, x,
              arith::AddFOp::create(nb, nl, cx.k(nb, nl, 1), math::AbsFOp::create(nb, nl, x)));
        }
        llvm_unreachable("act_type");
      }));
}

double toDouble(APFloat f) {
  bool lost = false;
  f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return f.convertToDouble();
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
    // One slope per channel (axis 1), or a single shared slope.
    AffineMap gm = product(shapeOf(gamma)) == 1 || xs.size() < 2
                       ? cx.map(xs.size(), SmallVector<AffineExpr>(
                                               shapeOf(gamma).size(), cx.c(0)))
                       : cx.map(xs.size(), {cx.d(1)});
    SmallVector<Iter> iters(xs.size(), Iter::parallel);
    return one(cx.generic(xs, ValueRange{x, gamma},
                          {AffineMap::getMultiDimIdentityMap(xs.size(), cx.mc()), gm},
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

Results lowerBatchNorm(Ctx &cx, g::BatchNormOp op) {
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
  Shape xs = shapeOf(x);
  int64_t nsize = static_cast<int64_t>(op.getNsize());
  int64_t h = nsize / 2, win = 2 * h + 1;
  double alpha = toDouble(op.getAlpha()), beta = toDouble(op.getBeta()),
         knorm = toDouble(op.getKnorm());
  Value sq = cx.map1(x, [&](Value v) { return arith::MulFOp::create(cx.b, cx.loc, v, v); });
  Shape lo(xs.size(), 0), hi(xs.size(), 0);
  lo[1] = hi[1] = h;
  Value sqp = cx.pad(sq, lo, hi, cx.f(0.0));
  // Loops: every data dim, then the window offset w; channel = c + w.
  unsigned r = xs.size(), nd = r + 1;
  SmallVector<AffineExpr> xe;
  for (unsigned i = 0; i < r; ++i)
    xe.push_back(i == 1 ? cx.d(1) + cx.d(r) : cx.d(i));
  SmallVector<Iter> iters(r, Iter::parallel);
  iters.push_back(Iter::reduction);
  Value window = cx.empty({win});
  Value sum = cx.generic(
      xs, ValueRange{sqp, window}, {cx.map(nd, xe), cx.map(nd, {cx.d(r)})}, iters,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, nl, a[2], a[0]);
      },
      cx.filled(xs, 0.0));
  return one(cx.mapBcast(xs, ValueRange{x, sum}, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
    Value s = arith::AddFOp::create(
        nb, nl, cx.k(nb, nl, knorm),
        arith::MulFOp::create(nb, nl, cx.k(nb, nl, alpha / nsize), a[1]));
    return arith::MulFOp::create(nb, nl, a[0],
                                 math::PowFOp::create(nb, nl, s, cx.k(nb, nl, -beta)));
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
                          // Truncate, clip to [0, rows−1]; NaN picks row 0.
                          Value v = a[0];
                          Value top = cx.k(nb, nl, static_cast<double>(rows - 1));
                          Value i64 = arith::FPToSIOp::create(nb, nl, nb.getI64Type(), v);
                          auto ci = [&](int64_t c) -> Value {
                            return arith::ConstantIntOp::create(nb, nl, c, 64);
                          };
                          Value rIdx = arith::SelectOp::create(
                              nb, nl,
                              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, v, top),
                              ci(rows - 1),
                              arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, v), i64, ci(0)));
                          Value row = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), rIdx);
                          Value col = linalg::IndexOp::create(nb, nl, r - 1);
                          return tensor::ExtractOp::create(nb, nl, w, ValueRange{row, col});
                        }));
}

/// Kernel-friendly unary elementwise op with a scalar.
Results lowerScalar(Ctx &cx, Operation *op, Value x, double s,
                    function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  return one(cx.mapBcast(shapeOf(x), ValueRange{x},
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           return fn(nb, nl, a[0], cx.k(nb, nl, s));
                         }));
}

Results lowerBinary(Ctx &cx, Operation *op, Value lhs, Value rhs,
                    function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  return one(cx.mapBcast(shapeOf(op->getResult(0)), ValueRange{lhs, rhs},
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           return fn(nb, nl, a[0], a[1]);
                         }));
}

template <typename T> auto binf() {
  return [](OpBuilder &nb, Location nl, Value a, Value b) -> Value {
    return T::create(nb, nl, a, b);
  };
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
  Shape kept;
  SmallVector<int64_t> dims;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (reduced[i])
      dims.push_back(i);
    else
      kept.push_back(xs[i]);
  }
  Value r;
  if (dims.empty()) {
    r = x;
  } else {
    Value initT = cx.filledWith(kept, init);
    r = linalg::ReduceOp::create(cx.b, cx.loc, ValueRange{x}, ValueRange{initT}, dims,
                                 [&](OpBuilder &nb, Location nl, ValueRange a) {
                                   Value v;
                                   if (kind == 2)
                                     v = arith::MaximumFOp::create(nb, nl, a[0], a[1]);
                                   else if (kind == 3)
                                     v = arith::MinimumFOp::create(nb, nl, a[0], a[1]);
                                   else
                                     v = arith::AddFOp::create(nb, nl, a[0], a[1]);
                                   linalg::YieldOp::create(nb, nl, v);
                                 })
            .getResult(0);
  }
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
  int64_t n = xs[axis] / parts;
  SmallVector<Value> outs;
  for (int64_t j = 0; j < parts; ++j) {
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < xs.size(); ++i) {
      offs.push_back(cx.b.getIndexAttr(i == (size_t)axis ? j * n : 0));
      sizes.push_back(cx.b.getIndexAttr(i == (size_t)axis ? n : xs[i]));
      strides.push_back(cx.b.getIndexAttr(1));
    }
    Value s = tensor::ExtractSliceOp::create(cx.b, cx.loc, x, offs, sizes, strides);
    outs.push_back(cx.reshape(s, tensorTy(op->getResult(j)).getShape()));
  }
  return outs;
}

Results lowerConcat(Ctx &cx, g::ConcatOp op) {
  Shape out = shapeOf(op.getOutput());
  int64_t dim = normAxis(static_cast<int64_t>(op.getDim()), out.size());
  Value acc = cx.empty(out);
  int64_t off = 0;
  for (Value v : op.getInputs()) {
    Shape s = shapeOf(v);
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < s.size(); ++i) {
      offs.push_back(cx.b.getIndexAttr(i == (size_t)dim ? off : 0));
      sizes.push_back(cx.b.getIndexAttr(s[i]));
      strides.push_back(cx.b.getIndexAttr(1));
    }
    acc = tensor::InsertSliceOp::create(cx.b, cx.loc, v, acc, offs, sizes, strides);
    off += s[dim];
  }
  return one(acc);
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

Results lowerOp(Ctx &cx, Operation *op) {
  using B = OpBuilder;
  using L = Location;
  auto scalar = [&](auto sop, function_ref<Value(B &, L, Value, Value)> fn) {
    return lowerScalar(cx, sop, sop.getData(), toDouble(sop.getScalar()), fn);
  };
  auto bin = [&](auto bop, function_ref<Value(B &, L, Value, Value)> fn) {
    return lowerBinary(cx, bop, bop.getLhs(), bop.getRhs(), fn);
  };
  auto reduce = [&](auto rop, int kind) {
    return lowerReduce(cx, rop, rop.getData(),
                       rop.getReducedAxes(shapeOf(rop.getData()).size()), kind);
  };
  auto identity = [&](Value x) { return one(cx.reshape(x, shapeOf(op->getResult(0)))); };
  auto powf = [](B &nb, L nl, Value a, Value b) -> Value {
    return math::PowFOp::create(nb, nl, a, b);
  };
  auto rsub = [](B &nb, L nl, Value a, Value b) -> Value {
    return arith::SubFOp::create(nb, nl, b, a);
  };
  auto rdiv = [](B &nb, L nl, Value a, Value b) -> Value {
    return arith::DivFOp::create(nb, nl, b, a);
  };
  auto rpow = [](B &nb, L nl, Value a, Value b) -> Value {
    return math::PowFOp::create(nb, nl, b, a);
  };
  return llvm::TypeSwitch<Operation *, Results>(op)
      .Case([&](g::FullyConnectedOp o) { return lowerFC(cx, o); })
      .Case([&](g::ConvolutionOp o) { return lowerConv(cx, o); })
      .Case([&](g::DeconvolutionOp o) { return lowerDeconv(cx, o); })
      .Case([&](g::PoolingOp o) { return lowerPooling(cx, o); })
      .Case([&](g::ActivationOp o) { return lowerActivation(cx, o); })
      .Case([&](g::LeakyReLUOp o) { return lowerLeaky(cx, o); })
      .Case([&](g::BatchNormOp o) { return lowerBatchNorm(cx, o); })
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
        return lowerSoftmaxAlong(cx, o.getData(), static_cast<int64_t>(o.getAxis()),
                                 t ? toDouble(*t) : 1.0, false);
      })
      .Case([&](g::LogSoftmaxOp o) {
        auto t = o.getTemperature();
        return lowerSoftmaxAlong(cx, o.getData(), static_cast<int64_t>(o.getAxis()),
                                 t ? toDouble(*t) : 1.0, true);
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
      .Case([&](g::ElemwiseAddOp o) { return bin(o, binf<arith::AddFOp>()); })
      .Case([&](g::ElemwiseSubOp o) { return bin(o, binf<arith::SubFOp>()); })
      .Case([&](g::ElemwiseMulOp o) { return bin(o, binf<arith::MulFOp>()); })
      .Case([&](g::ElemwiseDivOp o) { return bin(o, binf<arith::DivFOp>()); })
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
      .Case([&](g::PlusScalarOp o) { return scalar(o, binf<arith::AddFOp>()); })
      .Case([&](g::MinusScalarOp o) { return scalar(o, binf<arith::SubFOp>()); })
      .Case([&](g::RMinusScalarOp o) { return scalar(o, rsub); })
      .Case([&](g::MulScalarOp o) { return scalar(o, binf<arith::MulFOp>()); })
      .Case([&](g::DivScalarOp o) { return scalar(o, binf<arith::DivFOp>()); })
      .Case([&](g::RDivScalarOp o) { return scalar(o, rdiv); })
      .Case([&](g::PowerScalarOp o) { return scalar(o, powf); })
      .Case([&](g::RPowerScalarOp o) { return scalar(o, rpow); })
      .Case([&](g::MaximumScalarOp o) { return scalar(o, binf<arith::MaximumFOp>()); })
      .Case([&](g::MinimumScalarOp o) { return scalar(o, binf<arith::MinimumFOp>()); })
      .Case([&](g::BroadcastAddOp o) { return bin(o, binf<arith::AddFOp>()); })
      .Case([&](g::BroadcastSubOp o) { return bin(o, binf<arith::SubFOp>()); })
      .Case([&](g::BroadcastMulOp o) { return bin(o, binf<arith::MulFOp>()); })
      .Case([&](g::BroadcastDivOp o) { return bin(o, binf<arith::DivFOp>()); })
      .Case([&](g::BroadcastMaximumOp o) { return bin(o, binf<arith::MaximumFOp>()); })
      .Case([&](g::BroadcastMinimumOp o) { return bin(o, binf<arith::MinimumFOp>()); })
      .Case([&](g::BroadcastPowerOp o) { return bin(o, powf); })
      .Case([&](g::BroadcastToOp o) {
        return one(cx.mapBcast(shapeOf(o.getOutput()), ValueRange{o.getData()},
                               [](B &, L, ValueRange a) { return a[0]; }));
      })
      .Case([&](g::SumOp o) { return reduce(o, 0); })
      .Case([&](g::MeanOp o) { return reduce(o, 1); })
      .Case([&](g::MaxOp o) { return reduce(o, 2); })
      .Case([&](g::MinOp o) { return reduce(o, 3); })
      .Default([&](Operation *o) -> Results {
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
    : kiln::impl::ConvertGraphToLinalgBase<ConvertGraphToLinalgPass> {
  void runOnOperation() override {
    if (failed(kiln::convertGraphToLinalg(getOperation())))
      signalPassFailure();
  }
};

} // namespace

LogicalResult kiln::convertGraphToLinalg(func::FuncOp func) {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<g::GraphDialect>(op->getDialect()))
      ops.push_back(op);
  });
  OpBuilder b(func.getContext());
  for (Operation *op : ops) {
    Type et;
    if (failed(checkTypes(op, et)))
      return failure();
    b.setInsertionPoint(op);
    Ctx cx{b, op->getLoc(), et};
    Results r = lowerOp(cx, op);
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
