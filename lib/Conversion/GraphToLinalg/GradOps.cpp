//===- GradOps.cpp - Training and gradient ops to linalg ------------------===//
//
// The ops of dialects/Graph/GraphGradOps.td, each built from the shared
// helpers so that the CPU pipeline's fast paths apply: contractions are
// linalg ops with a multiply-add body and linear indexing maps (lowered as
// packed GEMMs, transposes and im2col folded into the packing),
// per-element work is all-parallel generics whose operands run along the
// innermost loop (vectorized and cut into parallel chunks), and windowed
// scatters are col2im tap loops.
// Semantics are the op descriptions' (the interpreter implements the same).
//
//===----------------------------------------------------------------------===//

#include "LoweringHelpers.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {
namespace {

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

/// Every axis but `axis` reduced.
SmallVector<bool> allBut(size_t rank, int64_t axis) {
  SmallVector<bool> r(rank, true);
  r[axis] = false;
  return r;
}

//===----------------------------------------------------------------------===//
// dot, slice_axis
//===----------------------------------------------------------------------===//

/// A matmul whose indexing maps read the transposed operands in place: the
/// GEMM packing reads either layout, so no transpose is materialized.
/// N-D operands are reshaped to the matrices MXNet multiplies
/// (DotOp::lhsMatrix / rhsMatrix), the result back to its shape.
Results lowerDot(Ctx &cx, g::DotOp op) {
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  Shape a2 = g::DotOp::lhsMatrix(shapeOf(op.getLhs()), ta);
  Shape b2 = g::DotOp::rhsMatrix(shapeOf(op.getRhs()), tb);
  Shape out{a2[ta ? 1 : 0], b2[tb ? 0 : 1]};
  AffineExpr m = cx.d(0), n = cx.d(1), k = cx.d(2);
  AffineMap am = ta ? cx.map(3, {k, m}) : cx.map(3, {m, k});
  AffineMap bm = tb ? cx.map(3, {n, k}) : cx.map(3, {k, n});
  auto maps = cx.b.getAffineMapArrayAttr({am, bm, cx.map(3, {m, n})});
  Value init = cx.filled(out, 0.0);
  Value y = linalg::MatmulOp::create(cx.b, cx.loc, TypeRange{init.getType()},
                                     ValueRange{cx.reshape(op.getLhs(), a2),
                                                cx.reshape(op.getRhs(), b2)},
                                     ValueRange{init}, {cx.b.getNamedAttr("indexing_maps", maps)})
                .getResult(0);
  return one(cx.reshape(y, shapeOf(op.getOutput())));
}

Results lowerSliceAxis(Ctx &cx, g::SliceAxisOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), xs.size());
  int64_t begin = static_cast<int64_t>(op.getBegin());
  if (begin < 0)
    begin += xs[axis];
  Shape offs(xs.size(), 0), sizes = shapeOf(op.getOutput());
  offs[axis] = begin;
  return one(cx.slice(x, offs, sizes));
}

//===----------------------------------------------------------------------===//
// BatchNorm
//===----------------------------------------------------------------------===//

/// Mean and biased variance over every axis but `axis` (two passes, as the
/// interpreter: Σ(x − mean)² keeps the precision a one-pass Σx² loses), on
/// x's axisView.
std::pair<Value, Value> batchStats(Ctx &cx, Value x, int64_t axis) {
  Shape xs = shapeOf(x);
  AxisView v = axisView(xs, axis);
  SmallVector<bool> red = allBut(v.shape.size(), v.axisPos);
  Value count = cx.f(static_cast<double>(product(xs) / xs[axis]));
  x = cx.reshape(x, v.shape);
  Value sum = cx.reduceAxes(x, red, cx.f(0.0), addCombine);
  Value mean = cx.map1(sum, [&](Value v) { return divf(cx.b, cx.loc, v, count); });
  Value sq = cx.reduceAxes(x, red, cx.f(0.0), addCombine, ValueRange{mean},
                           [](OpBuilder &nb, Location nl, ValueRange a) {
                             Value d = subf(nb, nl, a[0], a[1]);
                             return mulf(nb, nl, d, d);
                           });
  Value var = cx.map1(sq, [&](Value v) { return divf(cx.b, cx.loc, v, count); });
  return {mean, var};
}

/// 1/sqrt(var + eps) per channel.
Value invStd(Ctx &cx, Value var, double eps) {
  Value e = cx.f(eps), one = cx.f(1.0);
  return cx.map1(var, [&](Value v) -> Value {
    return divf(cx.b, cx.loc, one, math::SqrtOp::create(cx.b, cx.loc, addf(cx.b, cx.loc, v, e)));
  });
}

Results lowerBatchNormTrain(Ctx &cx, g::BatchNormTrainOp op) {
  Value x = op.getData();
  Shape xs = shapeOf(x);
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), xs.size());
  auto [mean, var] = batchStats(cx, x, axis);
  Value inv = invStd(cx, var, toDouble(op.getEps()));
  // Per-channel scale first, so the per-element map is one FMA-like step.
  Value scale = op.getFixGamma()
                    ? inv
                    : cx.mapBcast(shapeOf(inv), ValueRange{inv, op.getGamma()},
                                  [](OpBuilder &nb, Location nl, ValueRange a) {
                                    return mulf(nb, nl, a[1], a[0]);
                                  });
  Value y = cx.alongAxis(xs, axis, ValueRange{x}, ValueRange{mean, scale, op.getBeta()},
                         [](OpBuilder &nb, Location nl, ValueRange a) {
                           return addf(nb, nl, mulf(nb, nl, subf(nb, nl, a[0], a[1]), a[2]),
                                       a[3]);
                         });
  return SmallVector<Value>{y, mean, var};
}

Results lowerBatchNormGrad(Ctx &cx, g::BatchNormGradOp op) {
  Value x = op.getData(), dy = op.getOutGrad(), mean = op.getMean();
  Shape xs = shapeOf(x);
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), xs.size());
  int64_t c = xs[axis];
  Shape cs{c};
  double m = static_cast<double>(product(xs) / c);
  AxisView view = axisView(xs, axis);
  SmallVector<bool> red = allBut(view.shape.size(), view.axisPos);

  // One pass over x and dy for both sums: Σdy and Σdy·(x − mean).
  Value zero = cx.f(0.0);
  SmallVector<Value> sums = cx.reduceN(
      red, ValueRange{cx.reshape(dy, view.shape), cx.reshape(x, view.shape)}, ValueRange{mean},
      {zero, zero},
      [](OpBuilder &nb, Location nl, ValueRange v, ValueRange acc) -> SmallVector<Value> {
        Value xc = subf(nb, nl, v[1], v[2]);
        return {addf(nb, nl, acc[0], v[0]), addf(nb, nl, acc[1], mulf(nb, nl, v[0], xc))};
      },
      addCombine);
  Value sumDy = sums[0], sumDyXc = sums[1];
  Value inv = invStd(cx, op.getVar(), toDouble(op.getEps()));
  bool fixGamma = op.getFixGamma();
  Value gamma = op.getGamma();

  // dgamma = Σdy·x̂ = inv·Σdy·(x − mean) (0 with fix_gamma); dbeta = Σdy.
  Value dgamma = fixGamma ? cx.filled(cs, 0.0)
                          : cx.mapBcast(cs, ValueRange{inv, sumDyXc},
                                        [](OpBuilder &nb, Location nl, ValueRange a) {
                                          return mulf(nb, nl, a[0], a[1]);
                                        });
  // a = gamma·inv.
  Value a = fixGamma ? inv
                     : cx.mapBcast(cs, ValueRange{inv, gamma},
                                   [](OpBuilder &nb, Location nl, ValueRange v) {
                                     return mulf(nb, nl, v[0], v[1]);
                                   });
  Value dx;
  if (op.getUseGlobalStats()) {
    // Constant statistics: a per-channel scale.
    dx = cx.alongAxis(xs, axis, ValueRange{dy}, ValueRange{a},
                      [](OpBuilder &nb, Location nl, ValueRange v) {
                        return mulf(nb, nl, v[0], v[1]);
                      });
  } else {
    // dx = a·(dy − Σdy/m − x̂·Σdy·x̂/m) = a·(dy − bias) − (x − mean)·slope
    // with bias = Σdy/m and slope = a·inv²·Σdy·(x − mean)/m, per channel.
    Value mc = cx.f(m);
    Value bias = cx.map1(sumDy, [&](Value v) { return divf(cx.b, cx.loc, v, mc); });
    Value slope = cx.mapBcast(cs, ValueRange{a, inv, sumDyXc},
                              [&](OpBuilder &nb, Location nl, ValueRange v) {
                                Value i2 = mulf(nb, nl, v[1], v[1]);
                                return divf(nb, nl, mulf(nb, nl, mulf(nb, nl, v[0], i2), v[2]),
                                            cx.k(nb, nl, m));
                              });
    dx = cx.alongAxis(xs, axis, ValueRange{dy, x}, ValueRange{a, bias, mean, slope},
                      [](OpBuilder &nb, Location nl, ValueRange v) {
                        Value t = mulf(nb, nl, v[2], subf(nb, nl, v[0], v[3]));
                        return subf(nb, nl, t, mulf(nb, nl, subf(nb, nl, v[1], v[4]), v[5]));
                      });
  }
  return SmallVector<Value>{dx, dgamma, sumDy};
}

//===----------------------------------------------------------------------===//
// Convolution weight gradient
//===----------------------------------------------------------------------===//

/// dw[g·Fg + f, c, k] = Σ_{n,o} dy[n, g·Fg + f, o] · x[n, g·Cg + c, o·s + k·d − p]:
/// one contraction generic over (g, f, c, k..., n, o...) reading the padded
/// data through the convolution window. For the CPU pipeline it is a GEMM
/// per group with M = Fg (out_grad), N = Cg·K (dw is contiguous along
/// (c, k), which only the data operand uses) and K = N·P; the packed GEMM
/// of kiln-cpu-lower-contractions folds the im2col of the data into its B
/// panel, so no im2col matrix is materialized.
Results lowerConvWeightGrad(Ctx &cx, g::ConvolutionWeightGradOp op) {
  Value x = op.getData(), dy = op.getOutGrad();
  Shape xs = shapeOf(x), ys = shapeOf(dy);
  ArrayRef<int64_t> kernel = op.getKernel();
  size_t nsp = kernel.size();
  SmallVector<int64_t> s = op.getStrides(), dl = op.getDilations(), p = op.getPads();
  int64_t groups = static_cast<int64_t>(op.getNumGroup());
  int64_t n = xs[0], cg = xs[1] / groups, fg = ys[1] / groups;

  Shape lo{0, 0};
  lo.append(p.begin(), p.end());
  Value xp = cx.pad(x, lo, lo, cx.f(0.0));
  Shape xps = shapeOf(xp);
  Shape x5{n, groups, cg}, y5{n, groups, fg}, w5{groups, fg, cg};
  x5.append(xps.begin() + 2, xps.end());
  y5.append(ys.begin() + 2, ys.end());
  w5.append(kernel.begin(), kernel.end());

  // Loops: g, f, c, k_1..k_s (parallel), n, o_1..o_s (reduction).
  unsigned nd = 4 + 2 * nsp;
  AffineExpr dg = cx.d(0), df = cx.d(1), dc = cx.d(2), dn = cx.d(3 + nsp);
  SmallVector<AffineExpr> xe{dn, dg, dc}, ye{dn, dg, df}, we{dg, df, dc};
  for (size_t i = 0; i < nsp; ++i) {
    AffineExpr k = cx.d(3 + i), o = cx.d(4 + nsp + i);
    xe.push_back(o * s[i] + k * dl[i]);
    ye.push_back(o);
    we.push_back(k);
  }
  SmallVector<Iter> iters(3 + nsp, Iter::parallel);
  iters.append(1 + nsp, Iter::reduction);
  Value dw = cx.generic(
      w5, ValueRange{cx.reshape(dy, y5), cx.reshape(xp, x5)}, {cx.map(nd, ye), cx.map(nd, xe)},
      iters,
      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return addf(nb, nl, a[2], mulf(nb, nl, a[0], a[1]));
      },
      cx.filled(w5, 0.0), cx.map(nd, we));
  return one(cx.reshape(dw, shapeOf(op.getOutput())));
}

//===----------------------------------------------------------------------===//
// Pooling gradient
//===----------------------------------------------------------------------===//

/// The transpose of the forward's window gather: every window's share of
/// out_grad goes back to the elements it read, one col2im tap at a time
/// into a padded accumulator whose padding is dropped at the end (the
/// padding stands for MXNet's clipping, so nothing lands in the real
/// input from outside a clipped window).
Results lowerPoolingGrad(Ctx &cx, g::PoolingGradOp op) {
  Value x = op.getData(), dy = op.getOutGrad();
  Shape xs = shapeOf(x), ys = shapeOf(dy);
  PoolWindows w = poolWindows(op, xs, ys);
  size_t nsp = w.nsp();
  g::PoolType type = op.getPoolType();
  auto pv = static_cast<int64_t>(op.getPValue());
  SmallVector<int64_t> ones(nsp, 1);

  Shape accShape{xs[0], xs[1]}, offs{0, 0};
  for (size_t i = 0; i < nsp; ++i) {
    accShape.push_back(w.pb[i] + w.spatial[i] + w.hi[i]);
    offs.push_back(w.pb[i]);
  }
  auto crop = [&](Value acc) { return one(cx.slice(acc, offs, xs)); };

  // Average/sum: the share each window element gets.
  Value share = dy;
  if (type == g::PoolType::avg)
    share = cx.mapBcast(ys, ValueRange{dy, windowCounts(cx, w, op.getCountIncludePad())},
                        [](OpBuilder &nb, Location nl, ValueRange a) {
                          return divf(nb, nl, a[0], a[1]);
                        });
  if ((type == g::PoolType::avg || type == g::PoolType::sum) && op.getGlobalPool())
    // One window per plane: a broadcast.
    return one(cx.mapBcast(xs, ValueRange{share},
                           [](OpBuilder &, Location, ValueRange a) { return a[0]; }));

  auto addShare = [](OpBuilder &nb, Location nl, const Tap &, ValueRange a) {
    return addf(nb, nl, a[1], a[0]);
  };
  Value acc0 = cx.filled(accShape, 0.0);
  switch (type) {
  case g::PoolType::avg:
  case g::PoolType::sum:
    return crop(scatterTaps(
        cx, acc0, w.kernel, w.stride, ones, ys,
        [&](const Tap &) { return SmallVector<Value>{share}; }, addShare));
  case g::PoolType::max: {
    // The row-major number of each window's first maximum (strictly
    // greater replaces; padding is the lowest float, so it never wins;
    // −1 when nothing beats it), then route out_grad to that tap.
    Value xp = w.padded(cx, x, cx.lowest());
    SmallVector<Value> best = windowGeneric(
        cx, ValueRange{xp}, {}, ValueRange{cx.filledWith(ys, cx.lowest()), cx.filled(ys, -1.0)},
        w.kernel, w.stride, [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          Value tap = linalg::IndexOp::create(nb, nl, 2 + nsp);
          for (size_t i = 1; i < nsp; ++i)
            tap = arith::AddIOp::create(
                nb, nl,
                arith::MulIOp::create(nb, nl, tap,
                                      arith::ConstantIndexOp::create(nb, nl, w.kernel[i])),
                linalg::IndexOp::create(nb, nl, 2 + nsp + i));
          Value tapF = arith::SIToFPOp::create(
              nb, nl, cx.et, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), tap));
          Value better = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, a[0], a[1]);
          return {arith::SelectOp::create(nb, nl, better, a[0], a[1]),
                  arith::SelectOp::create(nb, nl, better, tapF, a[2])};
        });
    Value arg = best[1];
    return crop(scatterTaps(
        cx, acc0, w.kernel, w.stride, ones, ys,
        [&](const Tap &) { return SmallVector<Value>{dy, arg}; },
        [&](OpBuilder &nb, Location nl, const Tap &t, ValueRange a) -> Value {
          Value tapF = arith::SIToFPOp::create(
              nb, nl, cx.et, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), t.linear));
          Value hit = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, a[1], tapF);
          return addf(nb, nl, a[2], arith::SelectOp::create(nb, nl, hit, a[0], cx.k(nb, nl, 0)));
        }));
  }
  case g::PoolType::lp: {
    // ∂out/∂x = (x/out)^(p−1): out recomputed by the forward's lowering.
    Value y = poolForward(cx, x, w, ys, type, pv, op.getCountIncludePad());
    Value xp = w.padded(cx, x, cx.f(0.0));
    double pm1 = static_cast<double>(pv - 1);
    return crop(scatterTaps(
        cx, acc0, w.kernel, w.stride, ones, ys,
        [&](const Tap &t) {
          return SmallVector<Value>{dy, y, tapSlice(cx, xp, t, w.stride, ones, w.outSpatial)};
        },
        [&](OpBuilder &nb, Location nl, const Tap &, ValueRange a) -> Value {
          Value g = a[0];
          if (pv != 1) {
            Value r = divf(nb, nl, a[2], a[1]);
            if (pv != 2)
              r = math::PowFOp::create(nb, nl, r, cx.k(nb, nl, pm1));
            g = mulf(nb, nl, g, r);
          }
          return addf(nb, nl, a[3], g);
        }));
  }
  }
  llvm_unreachable("pool_type");
}

//===----------------------------------------------------------------------===//
// Elementwise gradients and loss heads
//===----------------------------------------------------------------------===//

Results lowerActivationGrad(Ctx &cx, g::ActivationGradOp op) {
  g::ActType t = op.getActType();
  return one(cx.mapBcast(
      shapeOf(op.getOutput()), ValueRange{op.getOutGrad(), op.getSaved()},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        Value dy = a[0], s = a[1], one = cx.k(nb, nl, 1.0);
        Value deriv;
        switch (t) {
        case g::ActType::relu: // s = y; multiplying (not selecting) keeps dy's NaNs
          deriv = arith::SelectOp::create(nb, nl, cx.gt0(nb, nl, s), one, cx.k(nb, nl, 0.0));
          break;
        case g::ActType::sigmoid: // s = y
          deriv = mulf(nb, nl, s, subf(nb, nl, one, s));
          break;
        case g::ActType::tanh: // s = y
          deriv = subf(nb, nl, one, mulf(nb, nl, s, s));
          break;
        case g::ActType::softrelu: // s = x
          deriv = cx.sigmoid(nb, nl, s);
          break;
        case g::ActType::softsign: { // s = x
          Value d = addf(nb, nl, one, math::AbsFOp::create(nb, nl, s));
          deriv = divf(nb, nl, one, mulf(nb, nl, d, d));
          break;
        }
        }
        return mulf(nb, nl, dy, deriv);
      }));
}

Results lowerSoftmaxOutputGrad(Ctx &cx, g::SoftmaxOutputGradOp op) {
  Value p = op.getOutput(), label = op.getLabel();
  Shape ps = shapeOf(p);
  double scale = toDouble(op.getGradScale());
  if (shapeOf(label) == ps)
    // Probability labels: neither normalized nor ignored (MXNet).
    return one(cx.mapBcast(ps, ValueRange{p, label},
                           [&](OpBuilder &nb, Location nl, ValueRange a) {
                             return mulf(nb, nl, subf(nb, nl, a[0], a[1]), cx.k(nb, nl, scale));
                           }));
  int64_t rank = ps.size();
  bool multi = op.getMultiOutput() && rank >= 2;
  int64_t outer, classes, inner;
  if (multi)
    outer = ps[0], classes = ps[1], inner = product(ps, 2);
  else if (op.getPreserveShape())
    outer = product(ps, 0, rank - 1), classes = ps[rank - 1], inner = 1;
  else
    outer = ps[0], classes = product(ps, 1), inner = 1;
  // Labels are compared as MXNet does, after a cast to int.
  auto ignore = static_cast<int64_t>(toDouble(op.getIgnoreLabel()));
  double alpha = multi ? 0.0 : toDouble(op.getSmoothAlpha());
  double off = classes > 1 ? alpha / (classes - 1) : 0.0;
  bool useIgnore = op.getUseIgnore();
  auto labelInt = [&](OpBuilder &nb, Location nl, Value l) -> Value {
    return arith::FPToSIOp::create(nb, nl, nb.getI32Type(), l);
  };
  auto i32 = [](OpBuilder &nb, Location nl, int64_t v) -> Value {
    return arith::ConstantIntOp::create(nb, nl, v, 32);
  };

  // The normalizer: a compile-time constant except for `valid`, which
  // counts the labels that are not ignore_label (at least 1).
  double cnt = 1;
  Value factor; // rank-0 tensor, scale / cnt
  switch (op.getNormalization()) {
  case g::Normalization::null:
    break;
  case g::Normalization::batch:
    // MXNet divides by the label count (its first axis with multi_output).
    cnt = static_cast<double>(multi ? outer : product(shapeOf(label)));
    break;
  case g::Normalization::valid: {
    Shape ls = shapeOf(label);
    SmallVector<bool> all(ls.size(), true);
    Value valid = cx.reduceAxes(label, all, cx.f(0.0), addCombine, {},
                                [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                                  Value ne = arith::CmpIOp::create(
                                      nb, nl, arith::CmpIPredicate::ne, labelInt(nb, nl, a[0]),
                                      i32(nb, nl, ignore));
                                  return arith::SelectOp::create(nb, nl, ne, cx.k(nb, nl, 1.0),
                                                                 cx.k(nb, nl, 0.0));
                                });
    factor = cx.map1(valid, [&](Value v) -> Value {
      Value c = arith::MaximumFOp::create(cx.b, cx.loc, v, cx.f(1.0));
      return divf(cx.b, cx.loc, cx.f(scale), c);
    });
    break;
  }
  }
  if (multi && op.getNormalization() != g::Normalization::valid)
    cnt *= static_cast<double>(inner);
  if (!factor)
    factor = cx.filled({}, scale / cnt);

  Shape view{outer, classes, inner};
  Value p3 = cx.reshape(p, view);
  // Without multi_output MXNet reads the first `outer` labels (a label of
  // shape data.shape[:-1] holds more).
  Value l2 = label;
  if (!multi && product(shapeOf(label)) != outer)
    l2 = cx.slice(cx.reshape(label, {product(shapeOf(label))}), {0}, {outer});
  l2 = cx.reshape(l2, {outer, inner});
  AffineMap pm = cx.id(3), lm = cx.map(3, {cx.d(0), cx.d(2)}), fm = cx.map(3, {});
  SmallVector<Iter> iters(3, Iter::parallel);
  Value g3 = cx.generic(view, ValueRange{p3, l2, factor}, {pm, lm, fm}, iters,
                        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          Value k = labelInt(nb, nl, a[1]);
                          Value j = arith::IndexCastOp::create(nb, nl, nb.getI32Type(),
                                                               linalg::IndexOp::create(nb, nl, 1));
                          Value isK = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, j, k);
                          Value target = arith::SelectOp::create(
                              nb, nl, isK, cx.k(nb, nl, 1.0 - alpha), cx.k(nb, nl, off));
                          Value g = mulf(nb, nl, subf(nb, nl, a[0], target), a[2]);
                          if (!useIgnore)
                            return g;
                          Value ignored = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                                                k, i32(nb, nl, ignore));
                          return arith::SelectOp::create(nb, nl, ignored, cx.k(nb, nl, 0.0), g);
                        });
  return one(cx.reshape(g3, ps));
}

Results lowerRegressionOutputGrad(Ctx &cx, g::RegressionOutputGradOp op) {
  Value y = op.getOutput();
  Shape ys = shapeOf(y);
  Value label = cx.reshape(op.getLabel(), ys);
  double scale = toDouble(op.getGradScale()) /
                 static_cast<double>(product(ys) / std::max<int64_t>(ys[0], 1));
  bool mae = op.getKind() == g::RegressionKind::mae;
  return one(cx.mapBcast(ys, ValueRange{y, label},
                         [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           Value d = subf(nb, nl, a[0], a[1]);
                           if (mae) {
                             // sign(d), 0 for 0 and NaN.
                             Value pos = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT,
                                                               d, cx.k(nb, nl, 0.0));
                             Value neg = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT,
                                                               d, cx.k(nb, nl, 0.0));
                             d = arith::SelectOp::create(
                                 nb, nl, pos, cx.k(nb, nl, 1.0),
                                 arith::SelectOp::create(nb, nl, neg, cx.k(nb, nl, -1.0),
                                                         cx.k(nb, nl, 0.0)));
                           }
                           return mulf(nb, nl, d, cx.k(nb, nl, scale));
                         }));
}

Results lowerSoftmaxGrad(Ctx &cx, g::SoftmaxGradOp op) {
  Value y = op.getOutput(), dy = op.getOutGrad();
  Shape ys = shapeOf(y);
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), ys.size());
  SmallVector<bool> red(ys.size(), false);
  red[axis] = true;
  bool log = op.getLog();
  auto t = op.getTemperature();
  double temperature = t ? toDouble(*t) : 1.0;
  // Σ dy·y (softmax) or Σ dy (log_softmax) along the axis.
  Value sum = cx.reduceAxes(
      dy, red, cx.f(0.0), addCombine, {},
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        return log ? a[0] : mulf(nb, nl, a[0], a[1]);
      },
      ValueRange{y});
  unsigned r = ys.size();
  SmallVector<Iter> iters(r, Iter::parallel);
  return one(cx.generic(ys, ValueRange{y, dy, sum}, {cx.id(r), cx.id(r), cx.keptMap(red)}, iters,
                        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          Value v = log ? subf(nb, nl, a[1],
                                               mulf(nb, nl, math::ExpOp::create(nb, nl, a[0]),
                                                    a[2]))
                                        : mulf(nb, nl, a[0], subf(nb, nl, a[1], a[2]));
                          if (t)
                            v = divf(nb, nl, v, cx.k(nb, nl, temperature));
                          return v;
                        }));
}

Results lowerLeakyReLUGrad(Ctx &cx, g::LeakyReLUGradOp op) {
  Value dy = op.getOutGrad(), x = op.getData();
  Shape xs = shapeOf(x);
  g::LeakyActType t = op.getActType();
  SmallVector<Value> ins{dy, x};
  SmallVector<AffineMap> maps{cx.id(xs.size()), cx.id(xs.size())};
  if (t == g::LeakyActType::prelu) {
    if (!op.getGamma())
      return op.emitOpError("prelu needs a gamma operand"), failure();
    ins.push_back(op.getGamma());
    maps.push_back(preluGammaMap(cx, xs, op.getGamma()));
  }
  double slope = toDouble(op.getSlope());
  double rr = (toDouble(op.getLowerBound()) + toDouble(op.getUpperBound())) / 2;
  SmallVector<Iter> iters(xs.size(), Iter::parallel);
  return one(cx.generic(xs, ins, maps, iters, [&](OpBuilder &nb, Location nl, ValueRange a) {
    Value v = a[1], one = cx.k(nb, nl, 1.0), pos = cx.gt0(nb, nl, v);
    auto neg = [&](Value d) -> Value { return arith::SelectOp::create(nb, nl, pos, one, d); };
    Value d;
    switch (t) {
    case g::LeakyActType::leaky:
      d = neg(cx.k(nb, nl, slope));
      break;
    case g::LeakyActType::prelu:
      d = neg(a[2]);
      break;
    case g::LeakyActType::rrelu: // the inference form
      d = neg(cx.k(nb, nl, rr));
      break;
    case g::LeakyActType::elu:
      d = neg(mulf(nb, nl, cx.k(nb, nl, slope), math::ExpOp::create(nb, nl, v)));
      break;
    case g::LeakyActType::selu: {
      const double alpha = 1.6732632423543772848170429916717;
      const double lambda = 1.0507009873554804934193349852946;
      // MXNet's λ·(α + y), y = λα(eˣ − 1) the output (see leaky_relu_grad).
      Value y = mulf(nb, nl, cx.k(nb, nl, lambda * alpha), math::ExpM1Op::create(nb, nl, v));
      d = mulf(nb, nl, cx.k(nb, nl, lambda), neg(addf(nb, nl, cx.k(nb, nl, alpha), y)));
      break;
    }
    case g::LeakyActType::gelu: {
      // Φ(x) + x·φ(x).
      Value cdf = mulf(nb, nl, cx.k(nb, nl, 0.5),
                       addf(nb, nl, one,
                            math::ErfOp::create(
                                nb, nl, mulf(nb, nl, v, cx.k(nb, nl, 1.0 / std::sqrt(2.0))))));
      Value pdf = mulf(nb, nl,
                       math::ExpOp::create(
                           nb, nl, mulf(nb, nl, cx.k(nb, nl, -0.5), mulf(nb, nl, v, v))),
                       cx.k(nb, nl, 0.39894228040143267794));
      d = addf(nb, nl, cdf, mulf(nb, nl, v, pdf));
      break;
    }
    }
    return mulf(nb, nl, a[0], d);
  }));
}

/// dx_j = dy_j·S_j^(−β) − (2αβ/n)·x_j·Σ_{c∈W(j)} dy_c·x_c·S_c^(−β−1): the
/// forward's window sum twice (W is symmetric).
Results lowerLRNGrad(Ctx &cx, g::LRNGradOp op) {
  Value x = op.getData(), dy = op.getOutGrad();
  Shape xs = shapeOf(x);
  int64_t nsize = static_cast<int64_t>(op.getNsize());
  double alpha = toDouble(op.getAlpha()), beta = toDouble(op.getBeta());
  Value scale = lrnScale(cx, x, nsize, alpha, toDouble(op.getKnorm()));
  Value t = cx.mapBcast(xs, ValueRange{dy, x, scale},
                        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          Value p = math::PowFOp::create(nb, nl, a[2], cx.k(nb, nl, -beta - 1));
                          return mulf(nb, nl, mulf(nb, nl, a[0], a[1]), p);
                        });
  Value cross = channelWindowSum(cx, t, nsize);
  double coef = 2 * alpha * beta / static_cast<double>(nsize);
  return one(cx.mapBcast(xs, ValueRange{dy, x, scale, cross},
                         [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           Value d = mulf(nb, nl, a[0],
                                          math::PowFOp::create(nb, nl, a[2], cx.k(nb, nl, -beta)));
                           Value c = mulf(nb, nl, mulf(nb, nl, cx.k(nb, nl, coef), a[1]), a[3]);
                           return subf(nb, nl, d, c);
                         }));
}

/// A dense scatter-add: one scf.for over the indices, each adding its
/// out_grad row to the weight row it selects (in index order, so repeated
/// indices accumulate as in the interpreter). O(indices · output_dim), not
/// O(input_dim · indices · output_dim) as a gather over the result would be.
Results lowerEmbeddingGrad(Ctx &cx, g::EmbeddingGradOp op) {
  Shape xs = shapeOf(op.getData());
  int64_t rows = static_cast<int64_t>(op.getInputDim());
  int64_t dim = static_cast<int64_t>(op.getOutputDim());
  int64_t n = product(xs);
  Value x1 = cx.reshape(op.getData(), {n});
  Value dy2 = cx.reshape(op.getOutGrad(), {n, dim});
  OpBuilder &b = cx.b;
  Location loc = cx.loc;
  Value acc = cx.filled({rows, dim}, 0.0);
  if (n == 0)
    return one(acc);
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(n), idx(1), ValueRange{acc},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value v = tensor::ExtractOp::create(b, loc, x1, ValueRange{i});
        Value r = embeddingRow(cx, b, loc, v, rows);
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(dim)};
        SmallVector<OpFoldResult> ones{b.getIndexAttr(1), b.getIndexAttr(1)};
        SmallVector<OpFoldResult> at{r, b.getIndexAttr(0)}, from{i, b.getIndexAttr(0)};
        Value row = tensor::ExtractSliceOp::create(b, loc, iter[0], at, sizes, ones);
        Value g = tensor::ExtractSliceOp::create(b, loc, dy2, from, sizes, ones);
        Value sum = cx.generic({1, dim}, ValueRange{g}, {cx.id(2)}, {Iter::parallel, Iter::parallel},
                               [](OpBuilder &bb, Location bl, ValueRange a) {
                                 return addf(bb, bl, a[1], a[0]);
                               },
                               row);
        scf::YieldOp::create(
            b, loc, ValueRange{tensor::InsertSliceOp::create(b, loc, sum, iter[0], at, sizes, ones)});
      });
  return one(loop.getResult(0));
}

//===----------------------------------------------------------------------===//
// Counter-based random numbers (dropout_mask, random_uniform)
//===----------------------------------------------------------------------===//

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// splitmix64 on an i64 value (wrapping arithmetic, logical shifts).
Value splitmix64(OpBuilder &b, Location l, Value z) {
  auto c = [&](uint64_t v) -> Value {
    return arith::ConstantIntOp::create(b, l, static_cast<int64_t>(v), 64);
  };
  auto mix = [&](Value v, uint64_t shift, uint64_t mul) -> Value {
    Value x = arith::XOrIOp::create(b, l, v, arith::ShRUIOp::create(b, l, v, c(shift)));
    return arith::MulIOp::create(b, l, x, c(mul));
  };
  z = arith::AddIOp::create(b, l, z, c(0x9E3779B97F4A7C15ull));
  z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
  z = mix(z, 27, 0x94D049BB133111EBull);
  return arith::XOrIOp::create(b, l, z, arith::ShRUIOp::create(b, l, z, c(31)));
}

/// splitmix64(splitmix64(seed) ⊕ c) with c the counter as an unsigned
/// integer (negative, zero or NaN: 0; ≥ 2⁶⁴: all ones): the part of every
/// random number that is the same for a whole call, computed once.
Value randomBase(Ctx &cx, Value counter, int64_t seed) {
  OpBuilder &b = cx.b;
  Location l = cx.loc;
  Value c = tensor::ExtractOp::create(
      b, l, counter,
      SmallVector<Value>(tensorTy(counter).getRank(), arith::ConstantIndexOp::create(b, l, 0)));
  Value pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, c, cx.f(0.0));
  Value big = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, c, cx.f(0x1.0p64));
  Value inRange = arith::AndIOp::create(
      b, l, pos, arith::XOrIOp::create(b, l, big, arith::ConstantIntOp::create(b, l, 1, 1)));
  // Only convert in-range values (fptoui of anything else is poison).
  Value safe = arith::SelectOp::create(b, l, inRange, c, cx.f(0.0));
  Value u = arith::FPToUIOp::create(b, l, b.getI64Type(), safe);
  u = arith::SelectOp::create(b, l, big, arith::ConstantIntOp::create(b, l, -1, 64), u);
  Value s = arith::ConstantIntOp::create(
      b, l, static_cast<int64_t>(splitmix64(static_cast<uint64_t>(seed))), 64);
  return splitmix64(b, l, arith::XOrIOp::create(b, l, s, u));
}

/// u = (splitmix64(base ⊕ index) ≫ 40) · 2⁻²⁴, in [0, 1), exact in f32.
Value uniformAt(Ctx &cx, OpBuilder &b, Location l, Value base, Value index) {
  Value h = splitmix64(b, l, arith::XOrIOp::create(b, l, base, index));
  h = arith::ShRUIOp::create(b, l, h, arith::ConstantIntOp::create(b, l, 40, 64));
  return mulf(b, l, arith::UIToFPOp::create(b, l, cx.et, h), cx.k(b, l, 0x1.0p-24));
}

/// A generic over `shape` whose body gets the row-major flat index (i64)
/// of its position, with the dims flagged in `shared` counted as 0.
Value indexedGeneric(Ctx &cx, ArrayRef<int64_t> shape, ArrayRef<bool> shared,
                     function_ref<Value(OpBuilder &, Location, Value)> body) {
  SmallVector<Iter> iters(shape.size(), Iter::parallel);
  return cx.generic(shape, {}, {}, iters, [&](OpBuilder &nb, Location nl, ValueRange) {
    Value flat = arith::ConstantIndexOp::create(nb, nl, 0);
    int64_t stride = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      if (!shared[d]) {
        Value i = arith::MulIOp::create(nb, nl, linalg::IndexOp::create(nb, nl, d),
                                        arith::ConstantIndexOp::create(nb, nl, stride));
        flat = arith::AddIOp::create(nb, nl, flat, i);
      }
      stride *= shape[d];
    }
    return body(nb, nl, arith::IndexCastOp::create(nb, nl, nb.getI64Type(), flat));
  });
}

Results lowerDropoutMask(Ctx &cx, g::DropoutMaskOp op) {
  Shape shape = shapeOf(op.getOutput());
  SmallVector<bool> shared(shape.size(), false);
  for (int64_t a : op.getAxes())
    shared[normAxis(a, shape.size())] = true;
  double p = toDouble(op.getP());
  Value base = randomBase(cx, op.getCounter(), static_cast<int64_t>(op.getSeed()));
  return one(indexedGeneric(cx, shape, shared, [&](OpBuilder &nb, Location nl, Value j) -> Value {
    Value u = uniformAt(cx, nb, nl, base, j);
    Value keep = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, u, cx.k(nb, nl, p));
    return arith::SelectOp::create(nb, nl, keep, cx.k(nb, nl, 1 / (1 - p)), cx.k(nb, nl, 0.0));
  }));
}

Results lowerRandomUniform(Ctx &cx, g::RandomUniformOp op) {
  Shape shape = shapeOf(op.getOutput());
  double low = toDouble(op.getLow()), high = toDouble(op.getHigh());
  Value base = randomBase(cx, op.getCounter(), static_cast<int64_t>(op.getSeed()));
  SmallVector<bool> shared(shape.size(), false);
  return one(indexedGeneric(cx, shape, shared, [&](OpBuilder &nb, Location nl, Value i) -> Value {
    Value u = uniformAt(cx, nb, nl, base, i);
    return addf(nb, nl, cx.k(nb, nl, low), mulf(nb, nl, cx.k(nb, nl, high - low), u));
  }));
}

} // namespace

std::optional<Results> lowerGradOp(Ctx &cx, Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<Results>>(op)
      .Case([&](g::DotOp o) { return lowerDot(cx, o); })
      .Case([&](g::SliceAxisOp o) { return lowerSliceAxis(cx, o); })
      .Case([&](g::BatchNormTrainOp o) { return lowerBatchNormTrain(cx, o); })
      .Case([&](g::ConvolutionWeightGradOp o) { return lowerConvWeightGrad(cx, o); })
      .Case([&](g::PoolingGradOp o) { return lowerPoolingGrad(cx, o); })
      .Case([&](g::ActivationGradOp o) { return lowerActivationGrad(cx, o); })
      .Case([&](g::BatchNormGradOp o) { return lowerBatchNormGrad(cx, o); })
      .Case([&](g::SoftmaxOutputGradOp o) { return lowerSoftmaxOutputGrad(cx, o); })
      .Case([&](g::RegressionOutputGradOp o) { return lowerRegressionOutputGrad(cx, o); })
      .Case([&](g::SoftmaxGradOp o) { return lowerSoftmaxGrad(cx, o); })
      .Case([&](g::LeakyReLUGradOp o) { return lowerLeakyReLUGrad(cx, o); })
      .Case([&](g::LRNGradOp o) { return lowerLRNGrad(cx, o); })
      .Case([&](g::EmbeddingGradOp o) { return lowerEmbeddingGrad(cx, o); })
      .Case([&](g::DropoutMaskOp o) { return lowerDropoutMask(cx, o); })
      .Case([&](g::RandomUniformOp o) { return lowerRandomUniform(cx, o); })
      .Case([&](g::ZerosOp o) { return one(cx.filled(shapeOf(o.getOutput()), 0.0)); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
