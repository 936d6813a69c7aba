//===- LoweringHelpers.cpp - Shared pieces of the graph → linalg lowering -===//
//
// See LoweringHelpers.h. Semantics mirror the reference interpreter
// (lib/Interpreter): where the two could differ (clipped pooling windows,
// the first maximum of a window) the interpreter's rule is reproduced.
//
//===----------------------------------------------------------------------===//

#include "LoweringHelpers.h"

#include "Graph/GraphOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <cmath>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

RankedTensorType tensorTy(Value v) { return cast<RankedTensorType>(v.getType()); }

Shape shapeOf(Value v) {
  auto s = tensorTy(v).getShape();
  return Shape(s.begin(), s.end());
}

Value addf(OpBuilder &b, Location l, Value x, Value y) {
  return arith::AddFOp::create(b, l, x, y);
}
Value subf(OpBuilder &b, Location l, Value x, Value y) {
  return arith::SubFOp::create(b, l, x, y);
}
Value mulf(OpBuilder &b, Location l, Value x, Value y) {
  return arith::MulFOp::create(b, l, x, y);
}
Value divf(OpBuilder &b, Location l, Value x, Value y) {
  return arith::DivFOp::create(b, l, x, y);
}
Value addCombine(OpBuilder &b, Location l, Value acc, Value v) { return addf(b, l, acc, v); }

int64_t product(ArrayRef<int64_t> s, size_t b, size_t e) {
  int64_t n = 1;
  for (size_t i = b; i < std::min(e, s.size()); ++i)
    n *= s[i];
  return n;
}

double toDouble(APFloat f) {
  bool lost = false;
  f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return f.convertToDouble();
}

//===----------------------------------------------------------------------===//
// Ctx
//===----------------------------------------------------------------------===//

Value Ctx::f(double v) {
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(b.getFloatAttr(et, v)));
}

Value Ctx::lowest() {
  auto ft = cast<FloatType>(et);
  if (ft.isF64())
    return f(static_cast<double>(std::numeric_limits<float>::lowest()));
  return arith::ConstantOp::create(
      b, loc,
      cast<TypedAttr>(b.getFloatAttr(et, APFloat::getLargest(ft.getFloatSemantics(), true))));
}

Value Ctx::empty(ArrayRef<int64_t> shape) { return tensor::EmptyOp::create(b, loc, shape, et); }

Value Ctx::filled(ArrayRef<int64_t> shape, double v) { return filledWith(shape, f(v)); }

Value Ctx::filledWith(ArrayRef<int64_t> shape, Value c) {
  return linalg::FillOp::create(b, loc, ValueRange{c}, ValueRange{empty(shape)}).getResult(0);
}

Value Ctx::generic(ArrayRef<int64_t> outShape, ValueRange ins, ArrayRef<AffineMap> inMaps,
                   ArrayRef<Iter> iters, BodyFn body, Value init, AffineMap outMap) {
  unsigned nd = iters.size();
  if (!outMap) {
    SmallVector<AffineExpr> r;
    for (unsigned i = 0; i < outShape.size(); ++i)
      r.push_back(d(i));
    outMap = map(nd, r);
  }
  if (!init)
    init = empty(outShape);
  return genericN(ins, inMaps, ValueRange{init}, {outMap}, iters,
                  [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
                    return {body(nb, nl, a)};
                  })[0];
}

SmallVector<Value>
Ctx::genericN(ValueRange ins, ArrayRef<AffineMap> inMaps, ValueRange inits,
              ArrayRef<AffineMap> outMaps, ArrayRef<Iter> iters,
              function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<AffineMap> maps(inMaps.begin(), inMaps.end());
  maps.append(outMaps.begin(), outMaps.end());
  auto op = linalg::GenericOp::create(
      b, loc, inits.getTypes(), ins, inits, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return SmallVector<Value>(op.getResults());
}

AffineMap Ctx::bcastMap(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  SmallVector<AffineExpr> r;
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    r.push_back(in[i] == 1 && out[off + i] != 1 ? c(0) : d(off + i));
  return map(out.size(), r);
}

Value Ctx::mapBcast(ArrayRef<int64_t> outShape, ValueRange ins, BodyFn body) {
  SmallVector<AffineMap> maps;
  for (Value v : ins)
    maps.push_back(bcastMap(shapeOf(v), outShape));
  SmallVector<Iter> iters(outShape.size(), Iter::parallel);
  return generic(outShape, ins, maps, iters, body);
}

Value Ctx::map1(Value x, function_ref<Value(Value)> fn) {
  return mapBcast(shapeOf(x), ValueRange{x},
                  [&](OpBuilder &, Location, ValueRange a) { return fn(a[0]); });
}

AxisView axisView(ArrayRef<int64_t> shape, int64_t axis) {
  AxisView v;
  int64_t outer = product(shape, 0, axis), inner = product(shape, axis + 1);
  if (outer != 1)
    v.shape.push_back(outer);
  v.axisPos = v.shape.size();
  v.shape.push_back(shape[axis]);
  if (inner != 1)
    v.shape.push_back(inner);
  return v;
}

Value Ctx::alongAxis(ArrayRef<int64_t> outShape, int64_t axis, ValueRange full,
                     ValueRange perAxis, BodyFn body) {
  AxisView v = axisView(outShape, axis);
  unsigned r = v.shape.size();
  SmallVector<AffineMap> maps(full.size(), id(r));
  maps.append(perAxis.size(), map(r, {d(v.axisPos)}));
  SmallVector<Value> ins;
  for (Value f : full)
    ins.push_back(reshape(f, v.shape));
  ins.append(perAxis.begin(), perAxis.end());
  SmallVector<Iter> iters(r, Iter::parallel);
  return reshape(generic(v.shape, ins, maps, iters, body), outShape);
}

Value Ctx::reshape(Value v, ArrayRef<int64_t> shape) {
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
                   ? Value(tensor::ExpandShapeOp::create(b, loc, flatTy, v,
                                                         SmallVector<ReassociationIndices>{}))
                   : Value(tensor::CollapseShapeOp::create(b, loc, flatTy, v,
                                                           all(src.getRank())));
  if (dst.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, dst, flat,
                                           SmallVector<ReassociationIndices>{});
  return tensor::ExpandShapeOp::create(b, loc, dst, flat, all(dst.getRank()));
}

Value Ctx::pad(Value x, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi, Value value) {
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

Value Ctx::slice(Value x, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                 ArrayRef<int64_t> strides) {
  if (shapeOf(x) == ArrayRef<int64_t>(sizes))
    return x;
  SmallVector<OpFoldResult> o, s, st;
  for (size_t i = 0; i < sizes.size(); ++i) {
    o.push_back(b.getIndexAttr(offsets[i]));
    s.push_back(b.getIndexAttr(sizes[i]));
    st.push_back(b.getIndexAttr(strides.empty() ? 1 : strides[i]));
  }
  return tensor::ExtractSliceOp::create(b, loc, x, o, s, st);
}

Value Ctx::concat(ValueRange inputs, ArrayRef<int64_t> out, int64_t dim) {
  Value acc = empty(out);
  int64_t offset = 0;
  for (Value v : inputs) {
    Shape s = shapeOf(v);
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < s.size(); ++i) {
      offs.push_back(b.getIndexAttr(i == static_cast<size_t>(dim) ? offset : 0));
      sizes.push_back(b.getIndexAttr(s[i]));
      strides.push_back(b.getIndexAttr(1));
    }
    acc = tensor::InsertSliceOp::create(b, loc, v, acc, offs, sizes, strides);
    offset += s[dim];
  }
  return acc;
}

AffineMap Ctx::keptMap(ArrayRef<bool> reduced) {
  SmallVector<AffineExpr> kept;
  for (size_t i = 0; i < reduced.size(); ++i)
    if (!reduced[i])
      kept.push_back(d(i));
  return map(reduced.size(), kept);
}

Value Ctx::reduceAxes(Value x, ArrayRef<bool> reduced, Value initScalar,
                      function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
                      ValueRange extra, BodyFn pre, ValueRange fullExtra) {
  SmallVector<Value> full{x};
  full.append(fullExtra.begin(), fullExtra.end());
  return reduceN(
      reduced, full, extra, {initScalar},
      [&](OpBuilder &nb, Location nl, ValueRange v, ValueRange acc) -> SmallVector<Value> {
        return {combine(nb, nl, acc[0], pre ? pre(nb, nl, v) : v[0])};
      },
      combine)[0];
}

/// The block B that splits a reduced extent L into (L / B, B) for a sum in
/// two chains of about √L float32 additions instead of one of L (0: leave L
/// whole). One chain's rounding error grows with its length; per-channel
/// BatchNorm statistics of a 56×56 map summed in one chain of 3136 carried
/// twice oneDNN's error, and a network's training forward doubled it
/// (docs/numerics.md). BLAS k-blocking (LowerContractions.cpp) is the same
/// idea. B is the divisor of L nearest √L with both factors at least 8.
static int64_t reductionBlock(int64_t extent) {
  constexpr int64_t kMinBlockedExtent = 256, kMinFactor = 8;
  if (extent < kMinBlockedExtent)
    return 0;
  double root = std::sqrt(static_cast<double>(extent));
  int64_t best = 0;
  for (int64_t b = kMinFactor; b * kMinFactor <= extent && b <= 4 * root; ++b)
    if (extent % b == 0 && (!best || std::abs(b - root) < std::abs(best - root)))
      best = b;
  // A lopsided split (L = 8·prime) gains little; keep one chain then.
  if (best && (best * 4 < root || best > 4 * root))
    return 0;
  return best;
}

SmallVector<Value>
Ctx::reduceN(ArrayRef<bool> reduced, ValueRange full, ValueRange kept, ArrayRef<Value> inits,
             function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange, ValueRange)> step,
             function_ref<Value(OpBuilder &, Location, Value, Value)> merge) {
  Shape s = shapeOf(full[0]);
  size_t r = s.size();
  // The trailing run of reduced axes, and the reduced axes before it.
  size_t t = r;
  while (t > 0 && reduced[t - 1])
    --t;
  SmallVector<bool> red(reduced.begin(), reduced.end());
  SmallVector<Value> ins(full.begin(), full.end());
  // A long trailing run is viewed as (L / B, B) so that it is summed in two
  // stages (see reductionBlock).
  int64_t block = t < r ? reductionBlock(product(s, t, r)) : 0;
  if (block) {
    Shape split(s.begin(), s.begin() + t);
    split.push_back(product(s, t, r) / block);
    split.push_back(block);
    for (Value &v : ins)
      v = reshape(v, split);
    s = split;
    red.resize(t);
    red.append({true, true});
    r = t + 2;
  }
  // The stages, in order, each a set of axes of `s`: the reduced axes before
  // the trailing run, then the trailing run's outer factor L / B when it was
  // split, then the rest of the trailing run. When the innermost axis is
  // reduced together with outer axes (NCHW's per-channel sums), the outer
  // ones go first into a partial result that keeps the trailing axes: its
  // innermost loop is parallel, so the CPU pipeline vectorizes it with the
  // accumulators in registers; the trailing axes are reduced after that,
  // over data smaller by the outer axes' extent. Outer axes of extent 1 in
  // all join the next stage.
  SmallVector<SmallVector<bool>> stages;
  SmallVector<bool> outer(r, false), trailing(r, false);
  int64_t outerExtent = 1;
  for (size_t i = 0; i < t; ++i)
    if (red[i]) {
      outer[i] = true;
      outerExtent *= s[i];
    }
  for (size_t i = t; i < r; ++i)
    trailing[i] = true;
  if (t == r) {
    stages.push_back(outer);
  } else {
    SmallVector<bool> pending(r, false);
    if (outerExtent > 1)
      stages.push_back(outer);
    else
      pending = outer;
    if (block) {
      pending[r - 2] = true;
      trailing[r - 2] = false;
      stages.push_back(pending);
      pending.assign(r, false);
    }
    for (size_t i = 0; i < r; ++i)
      trailing[i] = trailing[i] || pending[i];
    stages.push_back(trailing);
  }

  // Reduces the axes `red` of `fullIns` (of rank red.size()); `finalRed`
  // indexes the kept operands.
  auto reduceOnce = [&](ValueRange fullIns, ValueRange keptIns, ArrayRef<Value> initVals,
                        ArrayRef<bool> stageRed, ArrayRef<bool> finalRed, bool useStep) {
    Shape outShape;
    SmallVector<Iter> iters;
    for (size_t i = 0; i < stageRed.size(); ++i) {
      iters.push_back(stageRed[i] ? Iter::reduction : Iter::parallel);
      if (!stageRed[i])
        outShape.push_back(shapeOf(fullIns[0])[i]);
    }
    SmallVector<AffineMap> maps(fullIns.size(), id(stageRed.size()));
    maps.append(keptIns.size(), keptMap(finalRed));
    SmallVector<Value> allIns(fullIns);
    allIns.append(keptIns.begin(), keptIns.end());
    SmallVector<Value> outs;
    for (Value init : initVals)
      outs.push_back(filledWith(outShape, init));
    SmallVector<AffineMap> outMaps(outs.size(), keptMap(stageRed));
    unsigned nIns = allIns.size();
    return genericN(allIns, maps, outs, outMaps, iters,
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
                      if (useStep)
                        return step(nb, nl, a.take_front(nIns), a.drop_front(nIns));
                      SmallVector<Value> res;
                      for (size_t k = 0; k < outs.size(); ++k)
                        res.push_back(merge(nb, nl, a[nIns + k], a[k]));
                      return res;
                    });
  };
  SmallVector<Value> partial = reduceOnce(ins, kept, inits, stages[0], red, /*useStep=*/true);
  // Later stages merge partial results, whose axes are those not reduced yet.
  SmallVector<bool> done = stages[0];
  for (size_t k = 1; k < stages.size(); ++k) {
    SmallVector<bool> stageRed;
    for (size_t i = 0; i < r; ++i)
      if (!done[i])
        stageRed.push_back(stages[k][i]);
    for (size_t i = 0; i < r; ++i)
      done[i] = done[i] || stages[k][i];
    SmallVector<Value> next;
    for (auto [p, init] : llvm::zip(partial, inits))
      next.push_back(reduceOnce(ValueRange{p}, {}, {init}, stageRed, stageRed, false)[0]);
    partial = std::move(next);
  }
  return partial;
}

Value Ctx::softmax(Value x, ArrayRef<bool> reduced, double temperature, bool log) {
  Shape s = shapeOf(x);
  if (temperature != 1.0) {
    Value t = f(temperature);
    x = map1(x, [&](Value v) { return arith::DivFOp::create(b, loc, v, t); });
  }
  Value mx = reduceAxes(x, reduced, negInf(),
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
  AffineMap km = keptMap(reduced);
  SmallVector<Iter> iters(s.size(), Iter::parallel);
  return generic(s, ValueRange{x, mx, sum}, {id(s.size()), km, km}, iters,
                 [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                   Value z = arith::SubFOp::create(nb, nl, a[0], a[1]);
                   if (log)
                     return arith::SubFOp::create(nb, nl, z,
                                                  math::LogOp::create(nb, nl, a[2]));
                   return arith::DivFOp::create(nb, nl, math::ExpOp::create(nb, nl, z), a[2]);
                 });
}

Value Ctx::gt0(OpBuilder &nb, Location nl, Value x) {
  return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, x, k(nb, nl, 0.0));
}

Value Ctx::k(OpBuilder &nb, Location nl, double v) {
  return arith::ConstantOp::create(nb, nl, cast<TypedAttr>(nb.getFloatAttr(et, v)));
}

Value Ctx::sigmoid(OpBuilder &nb, Location nl, Value x) {
  Value e = math::ExpOp::create(nb, nl, arith::NegFOp::create(nb, nl, x));
  return arith::DivFOp::create(nb, nl, k(nb, nl, 1.0),
                               arith::AddFOp::create(nb, nl, k(nb, nl, 1.0), e));
}

Value Ctx::leaky(OpBuilder &nb, Location nl, Value x, Value slope) {
  return arith::SelectOp::create(nb, nl, gt0(nb, nl, x), x,
                                 arith::MulFOp::create(nb, nl, slope, x));
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

Value biasInit(Ctx &cx, ArrayRef<int64_t> outShape, Value bias) {
  if (!bias)
    return cx.filled(outShape, 0.0);
  SmallVector<Iter> iters(outShape.size(), Iter::parallel);
  return cx.generic(outShape, ValueRange{bias}, {cx.map(outShape.size(), {cx.d(1)})}, iters,
                    [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

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
      return linalg::Conv2DNchwFchwOp::create(cx.b, cx.loc, TypeRange{ty}, ValueRange{x, w},
                                              ValueRange{init}, sAttr, dAttr)
          .getResult(0);
    case 3:
      return linalg::Conv3DNcdhwFcdhwOp::create(cx.b, cx.loc, TypeRange{ty}, ValueRange{x, w},
                                                ValueRange{init}, sAttr, dAttr)
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

//===----------------------------------------------------------------------===//
// Windows (pooling and its gradient)
//===----------------------------------------------------------------------===//

template <typename PoolOp>
PoolWindows poolWindows(PoolOp op, ArrayRef<int64_t> dataShape, ArrayRef<int64_t> outShape) {
  PoolWindows w;
  size_t nsp = dataShape.size() - 2;
  w.spatial.assign(dataShape.begin() + 2, dataShape.end());
  w.outSpatial.assign(outShape.begin() + 2, outShape.end());
  if (op.getGlobalPool()) {
    w.kernel = w.spatial;
    w.stride.assign(nsp, 1);
    w.pb.assign(nsp, 0);
    w.pa.assign(nsp, 0);
  } else {
    w.kernel.assign(op.getKernel().begin(), op.getKernel().end());
    auto s = op.getStrides(), p = op.getPads();
    w.stride.assign(s.begin(), s.end());
    w.pb.assign(p.begin(), p.end());
    w.pa = w.pb;
    if (op.getPoolingConvention() == g::PoolingConvention::same)
      for (size_t i = 0; i < nsp; ++i) {
        int64_t total = std::max<int64_t>(
            0, (w.outSpatial[i] - 1) * w.stride[i] + w.kernel[i] - w.spatial[i]);
        w.pb[i] = total / 2;
        w.pa[i] = total - total / 2;
      }
  }
  // Pad the right far enough for the last (clipped) window; the extra
  // elements are neutral, which is exactly MXNet's clipping.
  for (size_t i = 0; i < nsp; ++i) {
    int64_t need =
        (w.outSpatial[i] - 1) * w.stride[i] + w.kernel[i] - w.spatial[i] - w.pb[i];
    w.hi.push_back(std::max<int64_t>(w.pa[i], need));
  }
  return w;
}
template PoolWindows poolWindows(g::PoolingOp, ArrayRef<int64_t>, ArrayRef<int64_t>);
template PoolWindows poolWindows(g::PoolingGradOp, ArrayRef<int64_t>, ArrayRef<int64_t>);

Value PoolWindows::padded(Ctx &cx, Value x, Value value) const {
  Shape lo{0, 0}, h{0, 0};
  lo.append(pb.begin(), pb.end());
  h.append(hi.begin(), hi.end());
  return cx.pad(x, lo, h, value);
}

SmallVector<Value>
windowGeneric(Ctx &cx, ValueRange winIns, ValueRange outIns, ValueRange inits,
              ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
              function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  size_t nsp = kernel.size();
  // Loops: n, c, o_1..o_s, k_1..k_s; an empty kernel-shaped operand gives
  // the k loops their extent.
  unsigned nd = 2 + 2 * nsp;
  SmallVector<AffineExpr> xe{cx.d(0), cx.d(1)}, ke, oe{cx.d(0), cx.d(1)};
  for (size_t i = 0; i < nsp; ++i) {
    xe.push_back(cx.d(2 + i) * strides[i] + cx.d(2 + nsp + i));
    ke.push_back(cx.d(2 + nsp + i));
    oe.push_back(cx.d(2 + i));
  }
  SmallVector<Value> ins(winIns);
  ins.append(outIns.begin(), outIns.end());
  ins.push_back(cx.empty(kernel));
  SmallVector<AffineMap> maps(winIns.size(), cx.map(nd, xe));
  maps.append(outIns.size(), cx.map(nd, oe));
  maps.push_back(cx.map(nd, ke));
  SmallVector<AffineMap> outMaps(inits.size(), cx.map(nd, oe));
  SmallVector<Iter> iters(2 + nsp, Iter::parallel);
  iters.append(nsp, Iter::reduction);
  unsigned nIn = winIns.size() + outIns.size();
  return cx.genericN(ins, maps, inits, outMaps, iters,
                     [&](OpBuilder &nb, Location nl, ValueRange a) {
                       // Drop the kernel-shaped placeholder.
                       SmallVector<Value> args(a.take_front(nIn));
                       args.append(a.begin() + nIn + 1, a.end());
                       return body(nb, nl, args);
                     });
}

Value windowReduce(Ctx &cx, Value x, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                   ArrayRef<int64_t> outShape, bool isMax) {
  size_t nsp = kernel.size();
  Value init = isMax ? cx.filledWith(outShape, cx.lowest()) : cx.filled(outShape, 0.0);
  auto ty = init.getType();
  if (nsp == 2 || nsp == 1) {
    SmallVector<int64_t> ones(nsp, 1);
    auto sAttr = cx.b.getI64TensorAttr(strides);
    auto dAttr = cx.b.getI64TensorAttr(ones);
    SmallVector<Value> ins{x, cx.empty(kernel)};
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
  return windowGeneric(cx, ValueRange{x}, {}, ValueRange{init}, kernel, strides,
                       [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
                         if (isMax)
                           return {arith::MaximumFOp::create(nb, nl, a[1], a[0])};
                         return {arith::AddFOp::create(nb, nl, a[1], a[0])};
                       })[0];
}

Value windowCounts(Ctx &cx, const PoolWindows &w, bool includePad) {
  // Same clipping as the interpreter: the window [o·s − p, o·s − p + k) is
  // cut to the padded input [−p, x + p), then (without count_include_pad)
  // to the real input [0, x).
  size_t nsp = w.nsp();
  SmallVector<float> counts;
  int64_t total = product(w.outSpatial);
  counts.reserve(total);
  SmallVector<int64_t> o(nsp, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rest = flat, cnt = 1;
    for (size_t i = nsp; i-- > 0;) {
      o[i] = rest % w.outSpatial[i];
      rest /= w.outSpatial[i];
    }
    for (size_t i = 0; i < nsp; ++i) {
      int64_t start = o[i] * w.stride[i] - w.pb[i];
      int64_t end = std::min(start + w.kernel[i], w.spatial[i] + w.pa[i]);
      int64_t len = includePad ? end - start
                               : std::max<int64_t>(
                                     0, std::min(end, w.spatial[i]) - std::max<int64_t>(start, 0));
      cnt *= len;
    }
    counts.push_back(static_cast<float>(cnt));
  }
  auto ty = RankedTensorType::get(w.outSpatial, cx.et);
  DenseElementsAttr attr;
  if (cx.et.isF32()) {
    attr = DenseElementsAttr::get(ty, ArrayRef<float>(counts));
  } else {
    SmallVector<Attribute> vals;
    for (float c : counts)
      vals.push_back(cx.b.getFloatAttr(cx.et, c));
    attr = DenseElementsAttr::get(ty, vals);
  }
  return arith::ConstantOp::create(cx.b, cx.loc, attr);
}

Value tapSlice(Ctx &cx, Value x, const Tap &tap, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> dilations, ArrayRef<int64_t> outSpatial) {
  Shape xs = shapeOf(x);
  OpBuilder &b = cx.b;
  SmallVector<OpFoldResult> offs{b.getIndexAttr(0), b.getIndexAttr(0)},
      sizes{b.getIndexAttr(xs[0]), b.getIndexAttr(xs[1])},
      st{b.getIndexAttr(1), b.getIndexAttr(1)};
  for (size_t i = 0; i < outSpatial.size(); ++i) {
    Value off = tap.k[i];
    if (dilations[i] != 1)
      off = arith::MulIOp::create(b, cx.loc, off,
                                  arith::ConstantIndexOp::create(b, cx.loc, dilations[i]));
    offs.push_back(off);
    sizes.push_back(b.getIndexAttr(outSpatial[i]));
    st.push_back(b.getIndexAttr(strides[i]));
  }
  return tensor::ExtractSliceOp::create(b, cx.loc, x, offs, sizes, st);
}

Value scatterTaps(Ctx &cx, Value acc, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations, ArrayRef<int64_t> outShape,
                  function_ref<SmallVector<Value>(const Tap &)> tapIns,
                  function_ref<Value(OpBuilder &, Location, const Tap &, ValueRange)> body) {
  size_t nsp = kernel.size();
  OpBuilder &b = cx.b;
  Location loc = cx.loc;
  ArrayRef<int64_t> outSpatial = outShape.drop_front(2);
  Tap tap;
  // One scf.for per spatial dim, the accumulator carried through.
  std::function<Value(size_t, Value)> nest = [&](size_t i, Value a) -> Value {
    if (i == nsp) {
      Value linear = tap.k[0];
      for (size_t j = 1; j < nsp; ++j)
        linear = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, linear, arith::ConstantIndexOp::create(b, loc, kernel[j])),
            tap.k[j]);
      tap.linear = linear;
      SmallVector<Value> ins = tapIns(tap);
      Value accTap = tapSlice(cx, a, tap, strides, dilations, outSpatial);
      SmallVector<AffineMap> maps(ins.size(), cx.id(outShape.size()));
      SmallVector<Iter> iters(outShape.size(), Iter::parallel);
      Value upd = cx.generic(
          outShape, ins, maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) { return body(nb, nl, tap, args); },
          accTap);
      auto ex = accTap.getDefiningOp<tensor::ExtractSliceOp>();
      return tensor::InsertSliceOp::create(b, loc, upd, a, ex.getMixedOffsets(),
                                           ex.getMixedSizes(), ex.getMixedStrides());
    }
    Value lb = arith::ConstantIndexOp::create(b, loc, 0);
    Value ub = arith::ConstantIndexOp::create(b, loc, kernel[i]);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, lb, ub, one, ValueRange{a},
        [&](OpBuilder &nb, Location, Value iv, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          tap.k.push_back(iv);
          Value r = nest(i + 1, iter[0]);
          tap.k.pop_back();
          scf::YieldOp::create(b, loc, r);
        });
    return loop.getResult(0);
  };
  return nest(0, acc);
}

//===----------------------------------------------------------------------===//
// Pieces shared by forward ops and their gradients
//===----------------------------------------------------------------------===//

Value channelWindowSum(Ctx &cx, Value v, int64_t nsize) {
  Shape xs = shapeOf(v);
  int64_t h = nsize / 2, win = 2 * h + 1;
  Shape lo(xs.size(), 0), hi(xs.size(), 0);
  lo[1] = hi[1] = h;
  Value vp = cx.pad(v, lo, hi, cx.f(0.0));
  // Loops: every data dim, then the window offset w; channel = c + w.
  unsigned r = xs.size(), nd = r + 1;
  SmallVector<AffineExpr> xe;
  for (unsigned i = 0; i < r; ++i)
    xe.push_back(i == 1 ? cx.d(1) + cx.d(r) : cx.d(i));
  SmallVector<Iter> iters(r, Iter::parallel);
  iters.push_back(Iter::reduction);
  return cx.generic(
      xs, ValueRange{vp, cx.empty({win})}, {cx.map(nd, xe), cx.map(nd, {cx.d(r)})}, iters,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return arith::AddFOp::create(nb, nl, a[2], a[0]);
      },
      cx.filled(xs, 0.0));
}

Value lrnScale(Ctx &cx, Value x, int64_t nsize, double alpha, double knorm) {
  Value sq = cx.map1(x, [&](Value v) { return arith::MulFOp::create(cx.b, cx.loc, v, v); });
  return cx.map1(channelWindowSum(cx, sq, nsize), [&](Value s) -> Value {
    return arith::AddFOp::create(cx.b, cx.loc, cx.f(knorm),
                                 arith::MulFOp::create(cx.b, cx.loc, cx.f(alpha / nsize), s));
  });
}

Value embeddingRow(Ctx &cx, OpBuilder &nb, Location nl, Value v, int64_t rows) {
  Value top = cx.k(nb, nl, static_cast<double>(rows - 1));
  Value i64 = arith::FPToSIOp::create(nb, nl, nb.getI64Type(), v);
  auto ci = [&](int64_t c) -> Value { return arith::ConstantIntOp::create(nb, nl, c, 64); };
  Value r = arith::SelectOp::create(
      nb, nl, arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, v, top), ci(rows - 1),
      arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, v), i64, ci(0)));
  return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), r);
}

AffineMap preluGammaMap(Ctx &cx, ArrayRef<int64_t> xs, Value gamma) {
  Shape gs = shapeOf(gamma);
  if (product(gs) == 1 || xs.size() < 2)
    return cx.map(xs.size(), SmallVector<AffineExpr>(gs.size(), cx.c(0)));
  return cx.map(xs.size(), {cx.d(1)});
}

SmallVector<Value> splitAlongAxis(Ctx &cx, Operation *op, Value x, int64_t axis,
                                  ArrayRef<int64_t> bounds) {
  Shape xs = shapeOf(x);
  SmallVector<Value> outs;
  for (size_t j = 0; j + 1 < bounds.size(); ++j) {
    Shape offsets(xs.size(), 0), sizes(xs);
    offsets[axis] = bounds[j];
    sizes[axis] = bounds[j + 1] - bounds[j];
    outs.push_back(cx.reshape(cx.slice(x, offsets, sizes), tensorTy(op->getResult(j)).getShape()));
  }
  return outs;
}

} // namespace kiln::lowering
