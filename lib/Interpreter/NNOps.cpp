//===- NNOps.cpp - Reference semantics: neural-network layers -------------------===//
//
// The interpreter's kernels for GraphNNOps.td, in double precision,
// following MXNet 1.9.1's CPU kernels loop by loop (the op descriptions
// state the semantics; the comments here say where MXNet's code is the
// reason for a choice).
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphNNOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {
namespace {

/// A result of `op` that must have `want`'s shape.
Array resultLike(OpEnv &env, Operation *op, llvm::ArrayRef<int64_t> want) {
  Array out = env.makeResult(op);
  if (llvm::ArrayRef<int64_t>(out.shape) != want)
    fail(op, "result shape " + shapeStr(out.shape) + " differs from " + shapeStr(want));
  return out;
}

/// Checks that `a` is an NCHW image.
void requireRank4(Operation *op, const Array &a, const char *what) {
  if (a.shape.size() != 4)
    fail(op, std::string(what) + " must be NCHW, got " + shapeStr(a.shape));
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// Calls fn(base, stride) for every statistic of a NormView: the elements
/// it is taken over are base + j·stride, j < view.count().
template <typename Fn> void forEachStatistic(const g::NormView &v, Fn &&fn) {
  auto [a, b, c] = v.shape;
  if (v.reduceAxis == 1) {
    for (int64_t i = 0; i < a; ++i)
      for (int64_t k = 0; k < c; ++k)
        fn(i * b * c + k, c);
  } else {
    for (int64_t i = 0; i < a * b; ++i)
      fn(i * c, int64_t(1));
  }
}

/// LayerNorm, InstanceNorm, GroupNorm: (x − μ)/sqrt(σ² + eps)·gamma + beta,
/// gamma and beta indexed by the view's axis 1.
Array normalize(OpEnv &env, Operation *op, const g::NormView &v, double eps) {
  const Array &x = env.get(op, op->getOperand(0));
  const Array &gamma = env.get(op, op->getOperand(1));
  const Array &beta = env.get(op, op->getOperand(2));
  int64_t channels = v.shape[1];
  if (x.size() != v.shape[0] * v.shape[1] * v.shape[2] || gamma.size() != channels ||
      beta.size() != channels)
    fail(op, "data " + shapeStr(x.shape) + ", gamma " + shapeStr(gamma.shape) + " and beta " +
                 shapeStr(beta.shape) + " do not match");
  Array out = resultLike(env, op, x.shape);
  int64_t n = v.count(), inner = v.shape[2];
  forEachStatistic(v, [&](int64_t base, int64_t stride) {
    // Two passes, as MXNet: the mean, then Σ(x − μ)².
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j)
      mean += x.data[base + j * stride];
    mean /= static_cast<double>(n);
    for (int64_t j = 0; j < n; ++j) {
      double d = x.data[base + j * stride] - mean;
      var += d * d;
    }
    double sd = std::sqrt(var / static_cast<double>(n) + eps);
    for (int64_t j = 0; j < n; ++j) {
      int64_t at = base + j * stride;
      int64_t ch = (at / inner) % channels;
      out.data[at] = (x.data[at] - mean) / sd * gamma.data[ch] + beta.data[ch];
    }
  });
  return out;
}

/// L2Normalization: x / sqrt(Σ x² + eps), MXNet's CPU loop (eps first).
Array l2Normalize(OpEnv &env, g::L2NormalizationOp op) {
  const Array &x = env.get(op, op.getData());
  g::NormView v = op.getNormView(x.shape);
  Array out = resultLike(env, op, x.shape);
  double eps = toDouble(op.getEps());
  forEachStatistic(v, [&](int64_t base, int64_t stride) {
    double sum = eps;
    for (int64_t j = 0; j < v.count(); ++j)
      sum += x.data[base + j * stride] * x.data[base + j * stride];
    double norm = std::sqrt(sum);
    for (int64_t j = 0; j < v.count(); ++j)
      out.data[base + j * stride] = x.data[base + j * stride] / norm;
  });
  return out;
}

//===----------------------------------------------------------------------===//
// Resizing and adaptive pooling
//===----------------------------------------------------------------------===//

Array upSampling(OpEnv &env, g::UpSamplingOp op) {
  Array out = env.makeResult(op);
  if (out.shape.size() != 4)
    fail(op, "result must be NCHW, got " + shapeStr(out.shape));
  int64_t n = out.shape[0], oc = out.shape[1], oh = out.shape[2], ow = out.shape[3];
  if (op.getSampleType() == g::UpSamplingType::bilinear) {
    // MXNet's depthwise Deconvolution: every input pixel scatters its
    // channel's k × k kernel, stride s, into the output cropped by p.
    const Array &x = env.get(op, op.getInputs()[0]);
    const Array &w = env.get(op, op.getInputs()[1]);
    requireRank4(op, x, "data");
    int64_t k = op.getBilinearKernel(), s = op.getScale(), p = op.getBilinearPad();
    int64_t c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    if (w.shape != Shape{c, 1, k, k} || x.shape[0] != n || c != oc || h * s != oh ||
        wd * s != ow)
      fail(op, "data " + shapeStr(x.shape) + ", weight " + shapeStr(w.shape) + " and result " +
                   shapeStr(out.shape) + " do not match");
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < wd; ++j) {
            double v = x.data[((b * c + ch) * h + i) * wd + j];
            for (int64_t ki = 0; ki < k; ++ki)
              for (int64_t kj = 0; kj < k; ++kj) {
                int64_t r = i * s + ki - p, q = j * s + kj - p;
                if (r >= 0 && r < oh && q >= 0 && q < ow)
                  out.data[((b * c + ch) * oh + r) * ow + q] += v * w.data[(ch * k + ki) * k + kj];
              }
          }
    return out;
  }
  // Nearest: operand i repeated oh/h_i times along both axes, concatenated
  // along the channels or summed.
  bool sum = op.getMultiInputMode() == g::MultiInputMode::sum;
  int64_t begin = 0;
  for (Value in : op.getInputs()) {
    const Array &x = env.get(op, in);
    requireRank4(op, x, "operand");
    int64_t c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    int64_t s = oh / h;
    if (x.shape[0] != n || h * s != oh || wd * s != ow || (sum ? c != oc : begin + c > oc))
      fail(op, "operand " + shapeStr(x.shape) + " does not upsample into " +
                   shapeStr(out.shape));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t r = 0; r < oh; ++r)
          for (int64_t q = 0; q < ow; ++q)
            out.data[((b * oc + begin + ch) * oh + r) * ow + q] +=
                x.data[((b * c + ch) * h + r / s) * wd + q / s];
    if (!sum)
      begin += c;
  }
  return out;
}

/// Gathers (forward) or scatters (backward) along MXNet's bilinear taps:
/// `small` is the resize's input (N, C, H, W), `large` its output
/// (N, C, OH, OW).
void bilinearResize(const Array &src, Array &dst, bool backward, bool alignCorners) {
  const Array &in = backward ? dst : src;
  const Array &out = backward ? src : dst;
  int64_t planes = in.shape[0] * in.shape[1];
  int64_t h = in.shape[2], w = in.shape[3], oh = out.shape[2], ow = out.shape[3];
  for (int64_t i = 0; i < oh; ++i) {
    g::BilinearTap th = g::bilinearTap(h, oh, i, alignCorners);
    for (int64_t j = 0; j < ow; ++j) {
      g::BilinearTap tw = g::bilinearTap(w, ow, j, alignCorners);
      for (int64_t pl = 0; pl < planes; ++pl) {
        int64_t base = pl * h * w, o = (pl * oh + i) * ow + j;
        int64_t a = base + th.i0 * w, b = base + th.i1 * w;
        if (!backward) {
          dst.data[o] = th.w0 * (tw.w0 * src.data[a + tw.i0] + tw.w1 * src.data[a + tw.i1]) +
                        th.w1 * (tw.w0 * src.data[b + tw.i0] + tw.w1 * src.data[b + tw.i1]);
          continue;
        }
        double gr = src.data[o];
        dst.data[a + tw.i0] += th.w0 * tw.w0 * gr;
        dst.data[a + tw.i1] += th.w0 * tw.w1 * gr;
        dst.data[b + tw.i0] += th.w1 * tw.w0 * gr;
        dst.data[b + tw.i1] += th.w1 * tw.w1 * gr;
      }
    }
  }
}

/// Adaptive average pooling (forward) or its gradient (backward), MXNet's
/// loops: `in` is the pooled input's shape, `out` the pooled result's.
void adaptiveAvgPool(const Array &src, Array &dst, bool backward) {
  const Array &in = backward ? dst : src;
  const Array &out = backward ? src : dst;
  int64_t planes = in.shape[0] * in.shape[1];
  int64_t h = in.shape[2], w = in.shape[3], oh = out.shape[2], ow = out.shape[3];
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = 0; i < oh; ++i) {
      auto [h0, h1] = g::adaptiveWindow(i, h, oh);
      for (int64_t j = 0; j < ow; ++j) {
        auto [w0, w1] = g::adaptiveWindow(j, w, ow);
        int64_t o = (pl * oh + i) * ow + j;
        auto kh = static_cast<double>(h1 - h0), kw = static_cast<double>(w1 - w0);
        if (backward) {
          double delta = src.data[o] / kh / kw;
          for (int64_t r = h0; r < h1; ++r)
            for (int64_t q = w0; q < w1; ++q)
              dst.data[(pl * h + r) * w + q] += delta;
          continue;
        }
        double sum = 0;
        for (int64_t r = h0; r < h1; ++r)
          for (int64_t q = w0; q < w1; ++q)
            sum += src.data[(pl * h + r) * w + q];
        dst.data[o] = sum / kw / kh;
      }
    }
}

/// The shared checks of the resizing ops: NCHW data and result agreeing on
/// N and C.
void checkResample(Operation *op, const Array &small, const Array &large) {
  requireRank4(op, small, "data");
  requireRank4(op, large, "the resized image");
  if (small.shape[0] != large.shape[0] || small.shape[1] != large.shape[1])
    fail(op, shapeStr(small.shape) + " and " + shapeStr(large.shape) +
                 " disagree on batch size or channels");
}

//===----------------------------------------------------------------------===//
// Products and loss heads
//===----------------------------------------------------------------------===//

Array batchDot(OpEnv &env, g::BatchDotOp op) {
  const Array &a = env.get(op, op.getLhs());
  const Array &b = env.get(op, op.getRhs());
  size_t rank = a.shape.size();
  if (rank < 3 || b.shape.size() != rank)
    fail(op, "operands " + shapeStr(a.shape) + " and " + shapeStr(b.shape) +
                 " are not batches of matrices of one rank");
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  int64_t a0 = a.shape[rank - 2], a1 = a.shape[rank - 1];
  int64_t b0 = b.shape[rank - 2], b1 = b.shape[rank - 1];
  int64_t m = ta ? a1 : a0, k = ta ? a0 : a1, n = tb ? b0 : b1;
  int64_t batch = extent(a.shape, 0, rank - 2);
  Shape want(a.shape.begin(), a.shape.end() - 2);
  want.push_back(m);
  want.push_back(n);
  if ((tb ? b1 : b0) != k || extent(b.shape, 0, rank - 2) != batch)
    fail(op, "op(" + shapeStr(a.shape) + ") · op(" + shapeStr(b.shape) + ") is not defined");
  Array out = resultLike(env, op, want);
  for (int64_t p = 0; p < batch; ++p) {
    const double *pa = &a.data[p * a0 * a1], *pb = &b.data[p * b0 * b1];
    double *po = &out.data[p * m * n];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t l = 0; l < k; ++l) {
        double av = ta ? pa[l * a1 + i] : pa[i * a1 + l];
        for (int64_t j = 0; j < n; ++j)
          po[i * n + j] += av * (tb ? pb[j * b1 + l] : pb[l * b1 + j]);
      }
  }
  return out;
}

} // namespace

bool interpretNNOp(OpEnv &env, Operation *op) {
  std::optional<Array> out =
      llvm::TypeSwitch<Operation *, std::optional<Array>>(op)
          .Case([&](g::LayerNormOp o) {
            return normalize(env, o, o.getNormView(env.get(o, o.getData()).shape),
                             toDouble(o.getEps()));
          })
          .Case([&](g::InstanceNormOp o) {
            const Array &x = env.get(o, o.getData());
            if (x.shape.size() < 3)
              fail(o, "data must have rank at least 3, got " + shapeStr(x.shape));
            return normalize(env, o, o.getNormView(x.shape), toDouble(o.getEps()));
          })
          .Case([&](g::GroupNormOp o) {
            const Array &x = env.get(o, o.getData());
            if (x.shape.size() < 3 || x.shape[1] % std::max<int64_t>(o.getNumGroups(), 1))
              fail(o, "data " + shapeStr(x.shape) + " does not split into " +
                          std::to_string(o.getNumGroups()) + " channel groups");
            return normalize(env, o, o.getNormView(x.shape), toDouble(o.getEps()));
          })
          .Case([&](g::L2NormalizationOp o) { return l2Normalize(env, o); })
          .Case<g::SoftmaxCrossEntropyOp, g::SoftmaxCrossEntropyGradOp>([&](Operation *o) {
            // Row softmaxes (max subtracted, as mshadow's Softmax), then the
            // loss or its gradient.
            const Array &x = env.get(o, o->getOperand(0));
            const Array &label = env.get(o, o->getOperand(1));
            int64_t n = x.shape[0], c = x.shape[1];
            std::vector<double> s(x.data);
            for (int64_t i = 0; i < n; ++i) {
              double *row = &s[i * c], m = row[0], sum = 0;
              for (int64_t j = 1; j < c; ++j)
                m = std::max(m, row[j]);
              for (int64_t j = 0; j < c; ++j)
                sum += (row[j] = std::exp(row[j] - m));
              for (int64_t j = 0; j < c; ++j)
                row[j] /= sum;
            }
            auto labelOf = [&](int64_t i) {
              double v = label.data[i];
              if (!(v > -1.0 && v < static_cast<double>(c)))
                fail(o, "label " + std::to_string(v) + " of row " + std::to_string(i) +
                            " is not a class index in [0, " + std::to_string(c) + ")");
              return static_cast<int64_t>(v);
            };
            Array out = env.makeResult(o);
            if (isa<g::SoftmaxCrossEntropyOp>(o)) {
              // MXNet's floor 1e-8f, a float.
              const double floor = static_cast<double>(1e-8f);
              for (int64_t i = 0; i < n; ++i)
                out.data[0] -= std::log(std::max(s[i * c + labelOf(i)], floor));
              return out;
            }
            double dy = env.get(o, o->getOperand(2)).data[0];
            for (int64_t i = 0; i < n; ++i) {
              int64_t k = labelOf(i);
              for (int64_t j = 0; j < c; ++j)
                out.data[i * c + j] = dy * (s[i * c + j] - (j == k ? 1.0 : 0.0));
            }
            return out;
          })
          .Case([&](g::KhatriRaoOp o) {
            // Row r of the result: one row of each operand, the first operand's
            // the most significant digit of r.
            Array y = env.makeResult(o);
            int64_t cols = y.shape[1];
            for (int64_t r = 0; r < y.shape[0]; ++r)
              for (int64_t c = 0; c < cols; ++c) {
                double v = 1.0;
                int64_t rest = r;
                for (int64_t i = o.getInputs().size() - 1; i >= 0; --i) {
                  const Array &a = env.get(o, o.getInputs()[i]);
                  v *= a.data[(rest % a.shape[0]) * cols + c];
                  rest /= a.shape[0];
                }
                y.data[r * cols + c] = v;
              }
            return y;
          })
          .Case([&](g::UpSamplingOp o) { return upSampling(env, o); })
          .Case([&](g::BilinearResize2DOp o) {
            const Array &x = env.get(o, o.getData());
            Array y = env.makeResult(o);
            checkResample(o, x, y);
            bilinearResize(x, y, /*backward=*/false, o.getAlignCorners());
            return y;
          })
          .Case([&](g::BilinearResize2DGradOp o) {
            const Array &dy = env.get(o, o.getOutGrad());
            Array dx = resultLike(env, o, env.get(o, o.getData()).shape);
            checkResample(o, dx, dy);
            bilinearResize(dy, dx, /*backward=*/true, o.getAlignCorners());
            return dx;
          })
          .Case([&](g::AdaptiveAvgPooling2DOp o) {
            const Array &x = env.get(o, o.getData());
            Array y = env.makeResult(o);
            checkResample(o, x, y);
            adaptiveAvgPool(x, y, /*backward=*/false);
            return y;
          })
          .Case([&](g::AdaptiveAvgPooling2DGradOp o) {
            const Array &dy = env.get(o, o.getOutGrad());
            Array dx = resultLike(env, o, env.get(o, o.getData()).shape);
            checkResample(o, dx, dy);
            adaptiveAvgPool(dy, dx, /*backward=*/true);
            return dx;
          })
          .Case([&](g::BatchDotOp o) { return batchDot(env, o); })
          .Case([&](g::SVMOutputOp o) {
            const Array &x = env.get(o, o.getData());
            Array y = resultLike(env, o, x.shape);
            y.data = x.data;
            return y;
          })
          .Case([&](g::SVMOutputGradOp o) {
            // MXNet's L1_SVM / L2_SVM over (size / C, C) rows.
            const Array &x = env.get(o, o.getData());
            const Array &label = env.get(o, o.getLabel());
            Array dx = resultLike(env, o, x.shape);
            int64_t c = x.shape.back(), rows = x.size() / c;
            double margin = o.getMargin().convertToFloat();
            double reg = o.getRegularizationCoefficient().convertToFloat();
            for (int64_t y = 0; y < rows; ++y) {
              auto k = static_cast<int64_t>(label.data[y]);
              for (int64_t j = 0; j < c; ++j) {
                double v = x.data[y * c + j];
                double &d = dx.data[y * c + j];
                if (o.getUseLinear())
                  d = j == k ? -(margin > v ? 1.0 : 0.0) * reg : (margin > -v ? 1.0 : 0.0) * reg;
                else if (j == k)
                  d = (margin > v ? 2 * (margin - v) : 0.0) * -reg;
                else
                  d = (margin > -v ? -2 * (margin + v) : 0.0) * -reg;
              }
            }
            return dx;
          })
          .Case([&](g::MakeLossOp o) {
            const Array &x = env.get(o, o.getData());
            Array y = resultLike(env, o, x.shape);
            y.data = x.data;
            return y;
          })
          .Default([](Operation *) { return std::nullopt; });
  if (!out)
    return false;
  env.setResult(op, 0, std::move(*out));
  return true;
}

} // namespace kiln::ref
