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
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "LoweringHelpers.h"

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
    // Σx² + eps, then x / sqrt(·) (MXNet's CPU loop starts the sum at eps).
    Value sq = cx.reduceAxes(xv, reduced, cx.f(eps), addCombine, {},
                             [](OpBuilder &nb, Location nl, ValueRange a) {
                               return mulf(nb, nl, a[0], a[0]);
                             });
    Value y = cx.generic(vs, ValueRange{xv, sq}, {cx.id(3), km}, iters,
                         [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           return divf(nb, nl, a[0], math::SqrtOp::create(nb, nl, a[1]));
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
// Products
//===----------------------------------------------------------------------===//

/// One contraction over (batch, m, n, k), the transposes read in place.
Results lowerBatchDot(Ctx &cx, g::BatchDotOp op) {
  Shape as = shapeOf(op.getLhs()), bs = shapeOf(op.getRhs()), out = shapeOf(op.getOutput());
  size_t r = as.size();
  int64_t batch = product(as, 0, r - 2);
  Value a = cx.reshape(op.getLhs(), {batch, as[r - 2], as[r - 1]});
  Value b = cx.reshape(op.getRhs(), {batch, bs[r - 2], bs[r - 1]});
  AffineExpr p = cx.d(0), m = cx.d(1), n = cx.d(2), k = cx.d(3);
  AffineMap am = op.getTransposeA() ? cx.map(4, {p, k, m}) : cx.map(4, {p, m, k});
  AffineMap bm = op.getTransposeB() ? cx.map(4, {p, n, k}) : cx.map(4, {p, k, n});
  Shape ys{batch, out[r - 2], out[r - 1]};
  SmallVector<Iter> iters(3, Iter::parallel);
  iters.push_back(Iter::reduction);
  Value y = cx.generic(ys, ValueRange{a, b}, {am, bm}, iters, mulAdd, cx.filled(ys, 0.0));
  return one(cx.reshape(y, out));
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
      .Case([&](g::BatchDotOp o) { return lowerBatchDot(cx, o); })
      .Case([&](g::MakeLossOp o) { return one(o.getData()); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
