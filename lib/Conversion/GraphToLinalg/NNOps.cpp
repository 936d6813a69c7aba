//===- NNOps.cpp - Lowering of neural-network layers to linalg ----------------===//
//
// GraphNNOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/NNOps.cpp).
//
// - The normalizations reshape their input to its NormView and take two
//   reduction passes (mean, then Σ(x − μ)²) before one elementwise generic.
// - Bilinear resizing and adaptive average pooling are separable linear
//   maps: along each spatial axis every output element is a fixed weighted
//   sum of input elements. Both are two contractions with constant
//   [out, in] weight matrices computed at compile time (the interpreter's
//   coordinate rules, GraphNNOps.h), and their gradients the same
//   contractions with the matrices transposed.
// - Bilinear UpSampling is a depthwise transposed convolution: col2im
//   (scatterTaps) of every kernel tap.
// - GridGenerator is one generic (target coordinates from the loop
//   indices); BilinearSampler gathers its four taps with tensor.extract
//   (clamped addresses, zero outside the image); its data gradient is the
//   transposed sampling written as a contraction over the output plane
//   (no scatter). SpatialTransformer is the two in sequence.
// - Correlation is one contraction reading both patches from the padded
//   inputs through affine maps (the neighbourhood channel's displacement is
//   a floordiv / mod of its loop); its gradients are two such gathers over
//   a stride-spread, zero-padded out_grad.
// - batch_dot and the interleaved attention products are one batched
//   contraction each (batchedProduct); the interleaved ones read the heads'
//   parts in place through the contraction's indexing maps.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "LoweringHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {
namespace {


/// acc + a·b: the body of a contraction generic (operands a, b, acc).
Value mulAdd(OpBuilder &b, Location l, ValueRange a) {
  return addf(b, l, a[2], mulf(b, l, a[0], a[1]));
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// x / n elementwise, n a compile-time count.
Value divideBy(Ctx &cx, Value v, int64_t n) {
  Value c = cx.f(static_cast<double>(n));
  return cx.map1(v, [&](Value e) { return divf(cx.b, cx.loc, e, c); });
}

/// LayerNorm, InstanceNorm and GroupNorm (gamma and beta given) and
/// L2Normalization (neither): the statistics over the view's reduce axis,
/// then one generic over the view.
Value normalize(Ctx &cx, Value x, const g::NormView &view, double eps, Value gamma, Value beta,
                bool l2) {
  Shape xs = shapeOf(x), vs(view.shape.begin(), view.shape.end());
  Value xv = cx.reshape(x, vs);
  SmallVector<bool> reduced(3, false);
  reduced[view.reduceAxis] = true;
  AffineMap km = cx.keptMap(reduced);
  SmallVector<Iter> iters(3, Iter::parallel);
  if (l2) {
    // x / sqrt(Σx² + eps). (MXNet's CPU loop starts the sum at eps; a
    // reduction's init must be the identity of its combine, as a long sum is
    // reduced in stages.)
    Value sq = cx.reduceAxes(xv, reduced, cx.f(0.0), addCombine, {},
                             [](OpBuilder &nb, Location nl, ValueRange a) {
                               return mulf(nb, nl, a[0], a[0]);
                             });
    Value y = cx.generic(vs, ValueRange{xv, sq}, {cx.id(3), km}, iters,
                         [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           Value total = addf(nb, nl, a[1], cx.k(nb, nl, eps));
                           return divf(nb, nl, a[0], math::SqrtOp::create(nb, nl, total));
                         });
    return cx.reshape(y, xs);
  }
  // Two passes, as the interpreter and MXNet: the mean, then Σ(x − μ)².
  Value mean = divideBy(cx, cx.reduceAxes(xv, reduced, cx.f(0.0), addCombine), view.count());
  Value var = divideBy(cx,
                       cx.reduceAxes(xv, reduced, cx.f(0.0), addCombine, ValueRange{mean},
                                     [](OpBuilder &nb, Location nl, ValueRange a) {
                                       Value d = subf(nb, nl, a[0], a[1]);
                                       return mulf(nb, nl, d, d);
                                     }),
                       view.count());
  AffineMap cm = cx.map(3, {cx.d(1)});
  Value y = cx.generic(vs, ValueRange{xv, mean, var, gamma, beta}, {cx.id(3), km, km, cm, cm},
                       iters, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                         Value sd = math::SqrtOp::create(nb, nl, addf(nb, nl, a[2], cx.k(nb, nl, eps)));
                         Value z = divf(nb, nl, subf(nb, nl, a[0], a[1]), sd);
                         return addf(nb, nl, mulf(nb, nl, z, a[3]), a[4]);
                       });
  return cx.reshape(y, xs);
}

template <typename NormOp> Results lowerNorm(Ctx &cx, NormOp op) {
  Value x = op.getData();
  return one(normalize(cx, x, op.getNormView(shapeOf(x)), toDouble(op.getEps()), op.getGamma(),
                       op.getBeta(), /*l2=*/false));
}

//===----------------------------------------------------------------------===//
// Resizing and adaptive pooling
//===----------------------------------------------------------------------===//

/// The weights of a resampling along one axis from `in` to `out` elements
/// as a constant [out, in] matrix, or its transpose [in, out]. `row(o, w)`
/// adds output o's weights into w (size `in`).
Value resampleMatrix(Ctx &cx, int64_t in, int64_t out, bool transpose,
                     llvm::function_ref<void(int64_t, std::vector<double> &)> row) {
  std::vector<double> m(in * out, 0.0), w(in);
  for (int64_t o = 0; o < out; ++o) {
    std::fill(w.begin(), w.end(), 0.0);
    row(o, w);
    for (int64_t i = 0; i < in; ++i)
      m[transpose ? i * out + o : o * in + i] = w[i];
  }
  Shape shape = transpose ? Shape{in, out} : Shape{out, in};
  auto ty = RankedTensorType::get(shape, cx.et);
  SmallVector<Attribute> vals;
  vals.reserve(m.size());
  for (double v : m)
    vals.push_back(cx.b.getFloatAttr(cx.et, v));
  return arith::ConstantOp::create(cx.b, cx.loc, DenseElementsAttr::get(ty, vals));
}

/// y[n, c, i, j] = Σ_h Σ_w mh[i, h] · mw[j, w] · x[n, c, h, w]: two
/// contractions, along W first.
Value separable(Ctx &cx, Value x, Value mh, Value mw) {
  Shape xs = shapeOf(x);
  int64_t oh = shapeOf(mh)[0], ow = shapeOf(mw)[0];
  SmallVector<Iter> iters(4, Iter::parallel);
  iters.push_back(Iter::reduction);
  AffineExpr n = cx.d(0), c = cx.d(1), a = cx.d(2), b = cx.d(3), r = cx.d(4);
  Shape ts{xs[0], xs[1], xs[2], ow};
  Value t = cx.generic(ts, ValueRange{x, mw}, {cx.map(5, {n, c, a, r}), cx.map(5, {b, r})}, iters,
                       mulAdd, cx.filled(ts, 0.0));
  Shape ys{xs[0], xs[1], oh, ow};
  return cx.generic(ys, ValueRange{mh, t}, {cx.map(5, {a, r}), cx.map(5, {n, c, r, b})}, iters,
                    mulAdd, cx.filled(ys, 0.0));
}

/// Bilinear resizing of `small` (N, C, H, W) to (OH, OW), or the transpose
/// (the gradient): `large` (N, C, OH, OW) back to (H, W).
Value bilinearResize(Ctx &cx, Value v, ArrayRef<int64_t> small, ArrayRef<int64_t> large,
                     bool backward, bool alignCorners) {
  auto matrix = [&](int64_t in, int64_t out) {
    return resampleMatrix(cx, in, out, backward, [&](int64_t o, std::vector<double> &w) {
      g::BilinearTap t = g::bilinearTap(in, out, o, alignCorners);
      w[t.i0] += t.w0;
      w[t.i1] += t.w1;
    });
  };
  return separable(cx, v, matrix(small[2], large[2]), matrix(small[3], large[3]));
}

/// Adaptive average pooling of `large` (N, C, H, W) to (OH, OW), or the
/// transpose (the gradient).
Value adaptiveAvgPool(Ctx &cx, Value v, ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                      bool backward) {
  auto matrix = [&](int64_t n, int64_t m) {
    return resampleMatrix(cx, n, m, backward, [&](int64_t o, std::vector<double> &w) {
      auto [begin, end] = g::adaptiveWindow(o, n, m);
      for (int64_t i = begin; i < end; ++i)
        w[i] += 1.0 / static_cast<double>(end - begin);
    });
  };
  return separable(cx, v, matrix(in[2], out[2]), matrix(in[3], out[3]));
}

/// Nearest: each operand read at (r / s, q / s) into its channel range of
/// the output (concat) or added (sum). Bilinear: the depthwise transposed
/// convolution, every input pixel scattering its channel's kernel.
Results lowerUpSampling(Ctx &cx, g::UpSamplingOp op) {
  Shape out = shapeOf(op.getOutput());
  SmallVector<Iter> iters(4, Iter::parallel);
  if (op.getSampleType() == g::UpSamplingType::bilinear) {
    Value x = op.getInputs()[0], w = op.getInputs()[1];
    Shape xs = shapeOf(x);
    int64_t k = op.getBilinearKernel(), s = op.getScale(), p = op.getBilinearPad();
    Shape acc{xs[0], xs[1], (xs[2] - 1) * s + k, (xs[3] - 1) * s + k};
    Value full = scatterTaps(
        cx, cx.filled(acc, 0.0), {k, k}, {s, s}, {1, 1}, xs,
        [&](const Tap &) -> SmallVector<Value> { return {x}; },
        [&](OpBuilder &nb, Location nl, const Tap &t, ValueRange a) -> Value {
          Value c = linalg::IndexOp::create(nb, nl, 1);
          Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
          Value wv = tensor::ExtractOp::create(nb, nl, w, ValueRange{c, zero, t.k[0], t.k[1]});
          return addf(nb, nl, a[1], mulf(nb, nl, a[0], wv));
        });
    return one(cx.slice(full, {0, 0, p, p}, out));
  }
  bool sum = op.getMultiInputMode() == g::MultiInputMode::sum;
  Value result = sum ? Value() : cx.empty(out);
  int64_t begin = 0;
  for (Value in : op.getInputs()) {
    Shape xs = shapeOf(in);
    int64_t s = out[2] / xs[2];
    Shape part{out[0], xs[1], out[2], out[3]};
    AffineMap m = cx.map(4, {cx.d(0), cx.d(1), cx.d(2).floorDiv(s), cx.d(3).floorDiv(s)});
    Value up = cx.generic(part, ValueRange{in}, {m}, iters,
                          [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    if (sum) {
      result = !result ? up
                       : cx.mapBcast(out, ValueRange{result, up},
                                     [](OpBuilder &nb, Location nl, ValueRange a) {
                                       return addf(nb, nl, a[0], a[1]);
                                     });
      continue;
    }
    SmallVector<OpFoldResult> offs{cx.b.getIndexAttr(0), cx.b.getIndexAttr(begin),
                                   cx.b.getIndexAttr(0), cx.b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes, strides(4, cx.b.getIndexAttr(1));
    for (int64_t d : part)
      sizes.push_back(cx.b.getIndexAttr(d));
    result = tensor::InsertSliceOp::create(cx.b, cx.loc, up, result, offs, sizes, strides);
    begin += xs[1];
  }
  return one(result);
}

//===----------------------------------------------------------------------===//
// Spatial transformers
//===----------------------------------------------------------------------===//

/// Scalar code of the sampler bodies.
struct Scalars {
  OpBuilder &b;
  Location l;
  Type et;

  Value k(double v) {
    return arith::ConstantOp::create(b, l, cast<TypedAttr>(b.getFloatAttr(et, v)));
  }
  Value ki(int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }
  Value index(unsigned dim) { return linalg::IndexOp::create(b, l, dim); }
  Value toFloat(Value i) {
    return arith::SIToFPOp::create(b, l, et, arith::IndexCastOp::create(b, l, b.getI64Type(), i));
  }
  Value toIndex(Value f) {
    return arith::IndexCastOp::create(b, l, b.getIndexType(),
                                      arith::FPToSIOp::create(b, l, b.getI64Type(), f));
  }
  Value add(Value x, Value y) { return addf(b, l, x, y); }
  Value sub(Value x, Value y) { return subf(b, l, x, y); }
  Value mul(Value x, Value y) { return mulf(b, l, x, y); }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, l, x, y); }
  Value eqi(Value x, Value y) {
    return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x, y);
  }
  Value select(Value c, Value x, Value y) { return arith::SelectOp::create(b, l, c, x, y); }
  /// 0 ≤ i < n, for a signed index i.
  Value inRange(Value i, int64_t n) {
    Value lo = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, ki(0));
    Value hi = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, ki(n));
    return arith::AndIOp::create(b, l, lo, hi);
  }
  /// i clamped into [0, n) (a safe address for a read whose value is
  /// discarded).
  Value clamp(Value i, int64_t n) {
    return arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, i, ki(0)), ki(n - 1));
  }
};

/// Where a grid position samples an (h, w) image: MXNet's real coordinates,
/// the top-left pixel (index) and its weights along y and x.
struct SamplerTap {
  Value y0, x0, wy, wx;
};

SamplerTap samplerTap(Scalars &s, Value gx, Value gy, int64_t h, int64_t w) {
  Value y = s.mul(s.mul(s.add(gy, s.k(1)), s.k(static_cast<double>(h - 1))), s.k(0.5));
  Value x = s.mul(s.mul(s.add(gx, s.k(1)), s.k(static_cast<double>(w - 1))), s.k(0.5));
  Value y0 = math::FloorOp::create(s.b, s.l, y), x0 = math::FloorOp::create(s.b, s.l, x);
  return {s.toIndex(y0), s.toIndex(x0), s.sub(s.k(1), s.sub(y, y0)),
          s.sub(s.k(1), s.sub(x, x0))};
}

/// data[n, c, t.y0 + dy, t.x0 + dx], 0 outside the image.
Value tapValue(Scalars &s, Value data, Value n, Value c, const SamplerTap &t, int64_t dy, int64_t dx,
               int64_t h, int64_t w) {
  Value y = s.addi(t.y0, s.ki(dy)), x = s.addi(t.x0, s.ki(dx));
  Value inside = arith::AndIOp::create(s.b, s.l, s.inRange(y, h), s.inRange(x, w));
  Value v = tensor::ExtractOp::create(s.b, s.l, data,
                                      ValueRange{n, c, s.clamp(y, h), s.clamp(x, w)});
  return s.select(inside, v, s.k(0));
}

/// The affine grid (N, 2, H, W) of θ (N, 6): one generic, the target
/// coordinates from the loop indices.
Value lowerAffineGrid(Ctx &cx, Value theta, int64_t h, int64_t w) {
  int64_t n = shapeOf(theta)[0];
  Value t = cx.reshape(theta, {n, 2, 3});
  AffineExpr b = cx.d(0), r = cx.d(1);
  SmallVector<AffineMap> maps;
  for (int64_t c = 0; c < 3; ++c)
    maps.push_back(cx.map(4, {b, r, cx.c(c)}));
  double sx = 2.0 / static_cast<double>(w - 1), sy = 2.0 / static_cast<double>(h - 1);
  return cx.generic({n, 2, h, w}, ValueRange{t, t, t}, maps, SmallVector<Iter>(4, Iter::parallel),
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      Scalars s{nb, nl, cx.et};
                      Value x = s.add(s.k(-1), s.mul(s.toFloat(s.index(3)), s.k(sx)));
                      Value y = s.add(s.k(-1), s.mul(s.toFloat(s.index(2)), s.k(sy)));
                      return s.add(s.add(s.mul(a[0], x), s.mul(a[1], y)), a[2]);
                    });
}

/// A warp grid: (flow + pixel index) / ((size − 1) / 2) − 1, x in channel 0.
Value lowerWarpGrid(Ctx &cx, Value flow) {
  Shape fs = shapeOf(flow);
  double halfW = (static_cast<double>(fs[3]) - 1.0) / 2.0;
  double halfH = (static_cast<double>(fs[2]) - 1.0) / 2.0;
  return cx.generic(fs, ValueRange{flow}, {cx.id(4)}, SmallVector<Iter>(4, Iter::parallel),
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      Scalars s{nb, nl, cx.et};
                      Value isX = s.eqi(s.index(1), s.ki(0));
                      Value pos = s.toFloat(s.select(isX, s.index(3), s.index(2)));
                      Value half = s.select(isX, s.k(halfW), s.k(halfH));
                      return s.sub(divf(nb, nl, s.add(a[0], pos), half), s.k(1));
                    });
}

/// BilinearSampler's forward: over the output (n, c, i, j), the grid read
/// at (n, 0|1, i, j) and the four taps gathered from the data.
Value lowerSample(Ctx &cx, Value data, Value grid) {
  Shape xs = shapeOf(data), gs = shapeOf(grid);
  int64_t h = xs[2], w = xs[3];
  AffineExpr n = cx.d(0), i = cx.d(2), j = cx.d(3);
  return cx.generic({xs[0], xs[1], gs[2], gs[3]}, ValueRange{grid, grid},
                    {cx.map(4, {n, cx.c(0), i, j}), cx.map(4, {n, cx.c(1), i, j})},
                    SmallVector<Iter>(4, Iter::parallel),
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      Scalars s{nb, nl, cx.et};
                      SamplerTap t = samplerTap(s, a[0], a[1], h, w);
                      Value bn = s.index(0), bc = s.index(1);
                      Value wy1 = s.sub(s.k(1), t.wy), wx1 = s.sub(s.k(1), t.wx);
                      Value v00 = tapValue(s, data, bn, bc, t, 0, 0, h, w);
                      Value v01 = tapValue(s, data, bn, bc, t, 0, 1, h, w);
                      Value v10 = tapValue(s, data, bn, bc, t, 1, 0, h, w);
                      Value v11 = tapValue(s, data, bn, bc, t, 1, 1, h, w);
                      Value top = s.add(s.mul(s.mul(v00, t.wy), t.wx), s.mul(s.mul(v01, t.wy), wx1));
                      Value bottom = s.add(s.mul(s.mul(v10, wy1), t.wx), s.mul(s.mul(v11, wy1), wx1));
                      return s.add(top, bottom);
                    });
}

/// BilinearSampler's backward. The grid's gradient: over (n, i, j) with a
/// reduction over the channels, MXNet's derivative of the weights from the
/// four tap values. The data's: the transpose of the sampling written as a
/// gather, every input pixel (y, x) summing over the output positions
/// (i, j) the weight it had there (zero unless it was one of the four
/// taps) — a contraction over the output plane, O(H·W·Ho·Wo) per channel,
/// with no scatter.
std::pair<Value, Value> lowerSampleGrad(Ctx &cx, Value data, Value grid, Value dy) {
  Shape xs = shapeOf(data), gs = shapeOf(grid);
  int64_t h = xs[2], w = xs[3];
  // Grid gradient: loops (n, i, j, c).
  AffineExpr n = cx.d(0), i = cx.d(1), j = cx.d(2), c = cx.d(3);
  SmallVector<Iter> iters(3, Iter::parallel);
  iters.push_back(Iter::reduction);
  Value zeros = cx.filled({gs[0], 1, gs[2], gs[3]}, 0.0);
  AffineMap outMap = cx.map(4, {n, cx.c(0), i, j});
  SmallVector<Value> dg = cx.genericN(
      ValueRange{grid, grid, dy},
      {cx.map(4, {n, cx.c(0), i, j}), cx.map(4, {n, cx.c(1), i, j}), cx.map(4, {n, c, i, j})},
      ValueRange{zeros, zeros}, {outMap, outMap}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
        Scalars s{nb, nl, cx.et};
        SamplerTap t = samplerTap(s, a[0], a[1], h, w);
        Value bn = s.index(0), bc = s.index(3);
        Value v00 = tapValue(s, data, bn, bc, t, 0, 0, h, w);
        Value v01 = tapValue(s, data, bn, bc, t, 0, 1, h, w);
        Value v10 = tapValue(s, data, bn, bc, t, 1, 0, h, w);
        Value v11 = tapValue(s, data, bn, bc, t, 1, 1, h, w);
        Value cross = s.add(s.sub(s.sub(v00, v01), v10), v11);
        Value dwy = s.add(s.sub(v01, v11), s.mul(cross, t.wx));
        Value dwx = s.add(s.sub(v10, v11), s.mul(cross, t.wy));
        // Each channel's term scaled by (size − 1) / 2 (MXNet scales the sum).
        Value gx = s.mul(s.mul(a[2], dwx), s.k(static_cast<double>(w - 1) / 2));
        Value gy = s.mul(s.mul(a[2], dwy), s.k(static_cast<double>(h - 1) / 2));
        return {s.sub(a[3], gx), s.sub(a[4], gy)};
      });
  Value dgrid = cx.concat(ValueRange{dg[0], dg[1]}, gs, 1);
  // Data gradient: loops (n, c, y, x, i, j).
  AffineExpr dn = cx.d(0), dc = cx.d(1), di = cx.d(4), dj = cx.d(5);
  SmallVector<Iter> diters(4, Iter::parallel);
  diters.append(2, Iter::reduction);
  Value dx = cx.generic(
      xs, ValueRange{grid, grid, dy},
      {cx.map(6, {dn, cx.c(0), di, dj}), cx.map(6, {dn, cx.c(1), di, dj}),
       cx.map(6, {dn, dc, di, dj})},
      diters,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Scalars s{nb, nl, cx.et};
        SamplerTap t = samplerTap(s, a[0], a[1], h, w);
        auto weight = [&](Value pos, Value first, Value wFirst) {
          Value second = s.addi(first, s.ki(1));
          return s.select(s.eqi(pos, first), wFirst,
                          s.select(s.eqi(pos, second), s.sub(s.k(1), wFirst), s.k(0)));
        };
        Value wgt = s.mul(weight(s.index(2), t.y0, t.wy), weight(s.index(3), t.x0, t.wx));
        return s.add(a[3], s.mul(a[2], wgt));
      },
      cx.filled(xs, 0.0));
  return {dx, dgrid};
}

//===----------------------------------------------------------------------===//
// Correlation
//===----------------------------------------------------------------------===//

/// Correlation's attributes and geometry.
struct CorrelationParams {
  int64_t k, md, s1, s2, pad;
  bool multiply;
  g::CorrelationGeometry geo;

  template <typename OpT> CorrelationParams(OpT op, ArrayRef<int64_t> xs)
      : k(op.getKernelSize()), md(op.getMaxDisplacement()), s1(op.getStride1()),
        s2(op.getStride2()), pad(op.getPadSize()), multiply(op.getIsMultiply()),
        geo(g::correlationGeometry(xs[2], xs[3], k, md, s1, s2, pad)) {}

  /// The displacement of neighbourhood channel `t` along y and x, as
  /// affine expressions of its loop.
  AffineExpr offsetY(AffineExpr t) const {
    return (t.floorDiv(geo.gridWidth) - geo.radius) * s2;
  }
  AffineExpr offsetX(AffineExpr t) const { return (t % geo.gridWidth - geo.radius) * s2; }

  /// A (k, k) operand the kernels do not read, indexed by the patch loops
  /// alone: linalg derives every loop's extent from an operand dimension
  /// indexed by that loop only, and the patch offsets appear only in sums.
  Value window(Ctx &cx) const { return cx.filled({k, k}, 0.0); }
};

/// `x` zero-padded by `p` on both spatial sides.
Value padSpatial(Ctx &cx, Value x, int64_t lo, int64_t hi) {
  return cx.pad(x, {0, 0, lo, lo}, {0, 0, hi, hi}, cx.f(0.0));
}

/// The forward: one contraction over (n, t, i, j, h, w, c), both patches
/// read in place from the padded inputs (always inside them, the output
/// size being chosen so).
Value lowerCorrelation(Ctx &cx, g::CorrelationOp op) {
  Value a = op.getData1(), b = op.getData2();
  Shape xs = shapeOf(a), ys = shapeOf(op.getOutput());
  CorrelationParams p(op, xs);
  Value pa = padSpatial(cx, a, p.pad, p.pad), pb = padSpatial(cx, b, p.pad, p.pad);
  AffineExpr n = cx.d(0), t = cx.d(1), i = cx.d(2), j = cx.d(3), h = cx.d(4), w = cx.d(5),
             c = cx.d(6);
  AffineExpr y1 = i * p.s1 + p.md + h, x1 = j * p.s1 + p.md + w;
  SmallVector<Iter> iters(4, Iter::parallel);
  iters.append(3, Iter::reduction);
  bool multiply = p.multiply;
  Value sum = cx.generic(
      ys, ValueRange{pa, pb, p.window(cx)},
      {cx.map(7, {n, c, y1, x1}), cx.map(7, {n, c, y1 + p.offsetY(t), x1 + p.offsetX(t)}),
       cx.map(7, {h, w})},
      iters,
      [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
        Value term = multiply ? mulf(nb, nl, v[0], v[1])
                              : math::AbsFOp::create(nb, nl, subf(nb, nl, v[0], v[1]));
        return addf(nb, nl, v[3], term);
      },
      cx.filled(ys, 0.0));
  Value count = cx.f(static_cast<double>(p.k * p.k * xs[1]));
  return cx.map1(sum, [&](Value e) { return divf(cx.b, cx.loc, e, count); });
}

/// The backward as two gathers (no scatter): every padded input pixel
/// (Y, X) sums the terms that read it. out_grad is first spread onto the
/// stride1 grid (zeros between) and zero-padded so that the output position
/// of a term is an affine function of (Y, X, t, h, w) that never leaves it;
/// the other input is padded by max_displacement for the displaced reads
/// (those land where the spread out_grad is zero). The unpadded interior
/// is MXNet's in-image condition.
std::pair<Value, Value> lowerCorrelationGrad(Ctx &cx, g::CorrelationGradOp op) {
  Value a = op.getData1(), b = op.getData2(), dy = op.getOutGrad();
  Shape xs = shapeOf(a), ds = shapeOf(dy);
  CorrelationParams p(op, xs);
  int64_t ph = xs[2] + 2 * p.pad, pw = xs[3] + 2 * p.pad;
  // out_grad spread: position i·stride1 + lead of a (ph + lead)-sized axis.
  int64_t lead = 2 * p.md + p.k - 1;
  Shape spreadShape{ds[0], ds[1], ph + lead, pw + lead};
  SmallVector<OpFoldResult> offs{cx.b.getIndexAttr(0), cx.b.getIndexAttr(0),
                                 cx.b.getIndexAttr(lead), cx.b.getIndexAttr(lead)};
  SmallVector<OpFoldResult> sizes, strides{cx.b.getIndexAttr(1), cx.b.getIndexAttr(1),
                                           cx.b.getIndexAttr(p.s1), cx.b.getIndexAttr(p.s1)};
  for (int64_t d : ds)
    sizes.push_back(cx.b.getIndexAttr(d));
  Value spread = tensor::InsertSliceOp::create(cx.b, cx.loc, dy, cx.filled(spreadShape, 0.0),
                                               offs, sizes, strides);
  Value pa = padSpatial(cx, a, p.pad, p.pad), pb = padSpatial(cx, b, p.pad, p.pad);
  Value pae = padSpatial(cx, a, p.pad + p.md, p.pad + p.md);
  Value pbe = padSpatial(cx, b, p.pad + p.md, p.pad + p.md);
  AffineExpr n = cx.d(0), c = cx.d(1), y = cx.d(2), x = cx.d(3), t = cx.d(4), h = cx.d(5),
             w = cx.d(6);
  SmallVector<Iter> iters(4, Iter::parallel);
  iters.append(3, Iter::reduction);
  Shape padded{xs[0], xs[1], ph, pw};
  Value count = cx.f(static_cast<double>(p.k * p.k * xs[1]));
  bool multiply = p.multiply;
  // A term's contribution: out_grad · (the other value, or ±1) / count;
  // `mine` and `other` are this input's and the other input's values.
  auto body = [&](bool first) {
    return [&, first](OpBuilder &nb, Location nl, ValueRange v) -> Value {
      Value grad = v[0], mine = v[1], other = v[2], acc = v[4];
      Value term;
      if (multiply) {
        term = mulf(nb, nl, grad, other);
      } else {
        Value u = first ? mine : other, o = first ? other : mine;
        Value ge = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, u, o);
        Value neg = arith::NegFOp::create(nb, nl, grad);
        term = first ? arith::SelectOp::create(nb, nl, ge, grad, neg).getResult()
                     : arith::SelectOp::create(nb, nl, ge, neg, grad).getResult();
      }
      return addf(nb, nl, acc, divf(nb, nl, term, count));
    };
  };
  // data1's pixel (Y, X) = (y1 + h, x1 + w): out_grad at Y − md − h, the
  // data2 pixel displaced from it.
  AffineExpr u1 = y - p.md - h + lead, v1 = x - p.md - w + lead;
  Value g1 = cx.generic(
      padded, ValueRange{spread, pa, pbe, p.window(cx)},
      {cx.map(7, {n, t, u1, v1}), cx.map(7, {n, c, y, x}),
       cx.map(7, {n, c, y + p.offsetY(t) + p.md, x + p.offsetX(t) + p.md}), cx.map(7, {h, w})},
      iters, body(true), cx.filled(padded, 0.0));
  // data2's pixel (Y, X) = (y2 + h, x2 + w): out_grad at Y − offset − md − h,
  // the data1 pixel at Y − offset.
  AffineExpr u2 = y - p.offsetY(t) - p.md - h + lead, v2 = x - p.offsetX(t) - p.md - w + lead;
  Value g2 = cx.generic(
      padded, ValueRange{spread, pb, pae, p.window(cx)},
      {cx.map(7, {n, t, u2, v2}), cx.map(7, {n, c, y, x}),
       cx.map(7, {n, c, y - p.offsetY(t) + p.md, x - p.offsetX(t) + p.md}), cx.map(7, {h, w})},
      iters, body(false), cx.filled(padded, 0.0));
  Shape interior{0, 0, p.pad, p.pad};
  return {cx.slice(g1, interior, xs), cx.slice(g2, interior, xs)};
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

/// A batched matrix product as one contraction over loops (p, m, n, k):
/// out[p, m, n] = Σ_k a[am(p, m, n, k)] · b[bm(p, m, n, k)], the operands
/// read in place through their maps (transposed, or strided inside an
/// interleaved projection).
Value batchedProduct(Ctx &cx, Value a, AffineMap am, Value b, AffineMap bm,
                     ArrayRef<int64_t> outShape) {
  SmallVector<Iter> iters(3, Iter::parallel);
  iters.push_back(Iter::reduction);
  return cx.generic(outShape, ValueRange{a, b}, {am, bm}, iters, mulAdd,
                    cx.filled(outShape, 0.0));
}

Results lowerBatchDot(Ctx &cx, g::BatchDotOp op) {
  Shape as = shapeOf(op.getLhs()), bs = shapeOf(op.getRhs()), out = shapeOf(op.getOutput());
  size_t r = as.size();
  int64_t batch = product(as, 0, r - 2);
  Value a = cx.reshape(op.getLhs(), {batch, as[r - 2], as[r - 1]});
  Value b = cx.reshape(op.getRhs(), {batch, bs[r - 2], bs[r - 1]});
  AffineExpr p = cx.d(0), m = cx.d(1), n = cx.d(2), k = cx.d(3);
  AffineMap am = op.getTransposeA() ? cx.map(4, {p, k, m}) : cx.map(4, {p, m, k});
  AffineMap bm = op.getTransposeB() ? cx.map(4, {p, n, k}) : cx.map(4, {p, k, n});
  Value y = batchedProduct(cx, a, am, b, bm, {batch, out[r - 2], out[r - 1]});
  return one(cx.reshape(y, out));
}

/// An interleaved projection (S, B, heads · parts · D) viewed as
/// (S, B · heads, parts, D), its head dimension D.
std::pair<Value, int64_t> projectionView(Ctx &cx, Value v, int64_t heads, int64_t parts) {
  Shape s = shapeOf(v);
  int64_t d = s[2] / (heads * parts);
  return {cx.reshape(v, {s[0], s[1] * heads, parts, d}), d};
}

/// scale · Q·Kᵀ per attention batch, Q part `qPart` of `q` and K part
/// `kPart` of `k`, both read in place: loops (i, s, t, c).
Value lowerScores(Ctx &cx, Value q, int64_t qParts, int64_t qPart, Value k, int64_t kParts,
                  int64_t kPart, int64_t heads) {
  auto [qv, d] = projectionView(cx, q, heads, qParts);
  Value kv = projectionView(cx, k, heads, kParts).first;
  Shape qs = shapeOf(qv), ks = shapeOf(kv);
  AffineExpr i = cx.d(0), s = cx.d(1), t = cx.d(2), c = cx.d(3);
  Value y = batchedProduct(cx, qv, cx.map(4, {s, i, cx.c(qPart), c}), kv,
                           cx.map(4, {t, i, cx.c(kPart), c}), {qs[1], qs[0], ks[0]});
  Value scale = cx.f(g::InterleavedMatMulSelfAttQKOp::qkScale(d));
  return cx.map1(y, [&](Value e) { return mulf(cx.b, cx.loc, e, scale); });
}

/// att·V per attention batch, V part `vPart` of `v` read in place, written
/// as (Sq, B, heads · D): loops (s, i, c, t).
Value lowerAttend(Ctx &cx, Value v, int64_t vParts, int64_t vPart, Value att, int64_t heads) {
  auto [vv, d] = projectionView(cx, v, heads, vParts);
  Shape vs = shapeOf(v), as = shapeOf(att);
  AffineExpr s = cx.d(0), i = cx.d(1), c = cx.d(2), t = cx.d(3);
  Value y = batchedProduct(cx, att, cx.map(4, {i, s, t}), vv, cx.map(4, {t, i, cx.c(vPart), c}),
                           {as[1], as[0], d});
  return cx.reshape(y, {as[1], vs[1], heads * d});
}

} // namespace

/// khatri_rao: a generic over [M_1, …, M_n, N] reading operand i at
/// (m_i, n), reshaped to [M_1 · … · M_n, N].
Results lowerKhatriRao(Ctx &cx, g::KhatriRaoOp op) {
  unsigned n = op.getInputs().size();
  Shape loops;
  for (Value in : op.getInputs())
    loops.push_back(shapeOf(in)[0]);
  loops.push_back(shapeOf(op.getOutput())[1]);
  SmallVector<AffineMap> maps;
  for (unsigned i = 0; i < n; ++i)
    maps.push_back(cx.map(n + 1, {cx.d(i), cx.d(n)}));
  SmallVector<Iter> iters(n + 1, Iter::parallel);
  Value y = cx.generic(loops, op.getInputs(), maps, iters,
                       [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                         Value v = a[0];
                         for (unsigned i = 1; i < n; ++i)
                           v = arith::MulFOp::create(b, l, v, a[i]);
                         return v;
                       });
  return one(cx.reshape(y, shapeOf(op.getOutput())));
}

/// A row's class index: trunc(label) clamped to [0, c − 1] (MXNet reads out
/// of bounds instead).
Value classIndex(Ctx &cx, OpBuilder &b, Location l, Value label, int64_t c) {
  Value i = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                       arith::FPToSIOp::create(b, l, b.getI64Type(), label));
  return arith::MaxSIOp::create(
      b, l, arith::MinSIOp::create(b, l, i, arith::ConstantIndexOp::create(b, l, c - 1)),
      arith::ConstantIndexOp::create(b, l, 0));
}

/// softmax_cross_entropy: row softmaxes, the labels' probabilities floored
/// at 1e-8f, Σ −log.
Results lowerSoftmaxCrossEntropy(Ctx &cx, g::SoftmaxCrossEntropyOp op) {
  Shape xs = shapeOf(op.getData());
  Value s = cx.softmax(op.getData(), {false, true}, 1.0, false);
  Value losses = cx.generic(
      {xs[0]}, ValueRange{op.getLabel()}, {cx.id(1)}, {Iter::parallel},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value row = linalg::IndexOp::create(b, l, 0);
        Value p = tensor::ExtractOp::create(b, l, s, ValueRange{row, classIndex(cx, b, l, a[0], xs[1])});
        p = arith::MaximumFOp::create(b, l, p, cx.k(b, l, static_cast<double>(1e-8f)));
        return arith::NegFOp::create(b, l, math::LogOp::create(b, l, p));
      });
  Value sum = cx.reduceAxes(losses, {true}, cx.f(0.0), addCombine);
  return one(cx.reshape(sum, {1}));
}

/// Its gradient: out_grad · (softmax − one_hot(label)).
Results lowerSoftmaxCrossEntropyGrad(Ctx &cx, g::SoftmaxCrossEntropyGradOp op) {
  Shape xs = shapeOf(op.getData());
  Value s = cx.softmax(op.getData(), {false, true}, 1.0, false);
  return one(cx.generic(
      xs, ValueRange{s, op.getLabel(), op.getOutGrad()},
      {cx.id(2), cx.map(2, {cx.d(0)}), cx.map(2, {cx.c(0)})}, {Iter::parallel, Iter::parallel},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value col = linalg::IndexOp::create(b, l, 1);
        Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, col,
                                          classIndex(cx, b, l, a[1], xs[1]));
        Value onehot = arith::SelectOp::create(b, l, hit, cx.k(b, l, 1.0), cx.k(b, l, 0.0));
        return arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, a[0], onehot), a[2]);
      }));
}

/// SVMOutput's backward: one generic over data seen as (rows, C).
Results lowerSVMOutputGrad(Ctx &cx, g::SVMOutputGradOp op) {
  Shape xs = shapeOf(op.getData());
  int64_t c = xs.back(), rows = product(xs) / c;
  Value x = cx.reshape(op.getData(), {rows, c});
  Value label = cx.reshape(op.getLabel(), {rows});
  double margin = op.getMargin().convertToFloat();
  double reg = op.getRegularizationCoefficient().convertToFloat();
  bool linear = op.getUseLinear();
  Value dx = cx.generic(
      {rows, c}, ValueRange{x, label}, {cx.id(2), cx.map(2, {cx.d(0)})},
      {Iter::parallel, Iter::parallel}, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        using P = arith::CmpFPredicate;
        Value col = arith::IndexCastOp::create(b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 1));
        Value k = arith::FPToSIOp::create(b, l, b.getI64Type(), a[1]);
        Value atLabel = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, col, k);
        Value m = cx.k(b, l, margin), zero = cx.k(b, l, 0.0);
        Value negV = arith::NegFOp::create(b, l, a[0]);
        Value hitK = arith::CmpFOp::create(b, l, P::OGT, m, a[0]);
        Value hitOther = arith::CmpFOp::create(b, l, P::OGT, m, negV);
        Value atK, other;
        if (linear) {
          atK = arith::SelectOp::create(b, l, hitK, cx.k(b, l, -reg), zero);
          other = arith::SelectOp::create(b, l, hitOther, cx.k(b, l, reg), zero);
        } else {
          // −reg · 2(margin − x) and −reg · (−2)(margin + x).
          Value dk = arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, m, a[0]),
                                           cx.k(b, l, -2 * reg));
          Value dOther = arith::MulFOp::create(b, l, arith::AddFOp::create(b, l, m, a[0]),
                                               cx.k(b, l, 2 * reg));
          atK = arith::SelectOp::create(b, l, hitK, dk, zero);
          other = arith::SelectOp::create(b, l, hitOther, dOther, zero);
        }
        return arith::SelectOp::create(b, l, atLabel, atK, other);
      });
  return one(cx.reshape(dx, xs));
}

std::optional<Results> lowerNNOp(Ctx &cx, Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<Results>>(op)
      .Case([&](g::LayerNormOp o) { return lowerNorm(cx, o); })
      .Case([&](g::KhatriRaoOp o) { return lowerKhatriRao(cx, o); })
      .Case([&](g::SVMOutputOp o) { return one(o.getData()); })
      .Case([&](g::SVMOutputGradOp o) { return lowerSVMOutputGrad(cx, o); })
      .Case([&](g::SoftmaxCrossEntropyOp o) { return lowerSoftmaxCrossEntropy(cx, o); })
      .Case([&](g::SoftmaxCrossEntropyGradOp o) { return lowerSoftmaxCrossEntropyGrad(cx, o); })
      .Case([&](g::InstanceNormOp o) { return lowerNorm(cx, o); })
      .Case([&](g::GroupNormOp o) { return lowerNorm(cx, o); })
      .Case([&](g::L2NormalizationOp o) {
        Value x = o.getData();
        return one(normalize(cx, x, o.getNormView(shapeOf(x)), toDouble(o.getEps()), Value(),
                             Value(), /*l2=*/true));
      })
      .Case([&](g::UpSamplingOp o) { return lowerUpSampling(cx, o); })
      .Case([&](g::BilinearResize2DOp o) {
        return one(bilinearResize(cx, o.getData(), shapeOf(o.getData()), shapeOf(o.getOutput()),
                                  /*backward=*/false, o.getAlignCorners()));
      })
      .Case([&](g::BilinearResize2DGradOp o) {
        return one(bilinearResize(cx, o.getOutGrad(), shapeOf(o.getData()),
                                  shapeOf(o.getOutGrad()), /*backward=*/true,
                                  o.getAlignCorners()));
      })
      .Case([&](g::AdaptiveAvgPooling2DOp o) {
        return one(adaptiveAvgPool(cx, o.getData(), shapeOf(o.getData()),
                                   shapeOf(o.getOutput()), /*backward=*/false));
      })
      .Case([&](g::AdaptiveAvgPooling2DGradOp o) {
        return one(adaptiveAvgPool(cx, o.getOutGrad(), shapeOf(o.getData()),
                                   shapeOf(o.getOutGrad()), /*backward=*/true));
      })
      .Case([&](g::GridGeneratorOp o) -> Results {
        if (o.getTransformType() == g::GridTransformType::warp)
          return one(lowerWarpGrid(cx, o.getData()));
        ArrayRef<int64_t> t = o.getTargetShape();
        return one(lowerAffineGrid(cx, o.getData(), t[0], t[1]));
      })
      .Case([&](g::BilinearSamplerOp o) { return one(lowerSample(cx, o.getData(), o.getGrid())); })
      .Case([&](g::BilinearSamplerGradOp o) -> Results {
        auto [dx, dgrid] = lowerSampleGrad(cx, o.getData(), o.getGrid(), o.getOutGrad());
        return SmallVector<Value>{dx, dgrid};
      })
      .Case([&](g::SpatialTransformerOp o) {
        ArrayRef<int64_t> t = o.getTargetShape();
        Value grid = lowerAffineGrid(cx, o.getLocalization(), t[0], t[1]);
        return one(lowerSample(cx, o.getData(), grid));
      })
      .Case([&](g::CorrelationOp o) { return one(lowerCorrelation(cx, o)); })
      .Case([&](g::CorrelationGradOp o) -> Results {
        auto [d1, d2] = lowerCorrelationGrad(cx, o);
        return SmallVector<Value>{d1, d2};
      })
      .Case([&](g::InterleavedMatMulSelfAttQKOp o) {
        Value qkv = o.getQueriesKeysValues();
        return one(lowerScores(cx, qkv, 3, 0, qkv, 3, 1, o.getHeads()));
      })
      .Case([&](g::InterleavedMatMulSelfAttValAttOp o) {
        return one(lowerAttend(cx, o.getQueriesKeysValues(), 3, 2, o.getAttention(), o.getHeads()));
      })
      .Case([&](g::InterleavedMatMulEncDecQKOp o) {
        return one(lowerScores(cx, o.getQueries(), 1, 0, o.getKeysValues(), 2, 0, o.getHeads()));
      })
      .Case([&](g::InterleavedMatMulEncDecValAttOp o) {
        return one(lowerAttend(cx, o.getKeysValues(), 2, 1, o.getAttention(), o.getHeads()));
      })
      .Case([&](g::BatchDotOp o) { return lowerBatchDot(cx, o); })
      .Case([&](g::MakeLossOp o) { return one(o.getData()); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
