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

//===----------------------------------------------------------------------===//
// Spatial transformers
//===----------------------------------------------------------------------===//

/// An affine GridGenerator: θ (N, 6) to a grid (N, 2, H, W), MXNet's
/// normalized target coordinates (x_j, y_i, 1).
void affineGrid(const Array &theta, Array &grid) {
  int64_t n = grid.shape[0], h = grid.shape[2], w = grid.shape[3];
  double sx = 2.0 / static_cast<double>(w - 1), sy = 2.0 / static_cast<double>(h - 1);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < 2; ++r) {
      const double *t = &theta.data[b * 6 + r * 3];
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) {
          double x = -1.0 + static_cast<double>(j) * sx, y = -1.0 + static_cast<double>(i) * sy;
          grid.data[((b * 2 + r) * h + i) * w + j] = t[0] * x + t[1] * y + t[2];
        }
    }
}

/// The four pixels around a grid position and their weights (MXNet's
/// BilinearSamplerForward): top-left (y0, x0), weights wy (row y0) and wx
/// (column x0); the callers read a pixel outside the image as 0.
struct SamplePoint {
  int64_t y0, x0;
  double wy, wx;
};

SamplePoint samplePoint(double gx, double gy, int64_t h, int64_t w) {
  double y = (gy + 1) * static_cast<double>(h - 1) / 2;
  double x = (gx + 1) * static_cast<double>(w - 1) / 2;
  auto y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
  return {y0, x0, 1.0 - (y - static_cast<double>(y0)), 1.0 - (x - static_cast<double>(x0))};
}

/// BilinearSampler's forward (`dx` null) or backward: the data's gradient
/// into `dx`, the grid's into `dgrid`, from `dy`.
void bilinearSample(const Array &x, const Array &grid, Array *out, const Array *dy, Array *dx,
                    Array *dgrid) {
  int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  int64_t oh = grid.shape[2], ow = grid.shape[3], plane = oh * ow;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t p = 0; p < plane; ++p) {
      const double *g = &grid.data[b * 2 * plane + p];
      SamplePoint s = samplePoint(g[0], g[plane], h, w);
      double gy = 0, gx = 0;
      for (int64_t ch = 0; ch < c; ++ch) {
        int64_t base = (b * c + ch) * h * w;
        double v[2][2] = {{0, 0}, {0, 0}};
        double wgt[2][2] = {{s.wy * s.wx, s.wy * (1 - s.wx)},
                            {(1 - s.wy) * s.wx, (1 - s.wy) * (1 - s.wx)}};
        int64_t o = (b * c + ch) * plane + p;
        for (int64_t dyi = 0; dyi < 2; ++dyi)
          for (int64_t dxi = 0; dxi < 2; ++dxi) {
            int64_t yy = s.y0 + dyi, xx = s.x0 + dxi;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w)
              continue;
            v[dyi][dxi] = x.data[base + yy * w + xx];
            if (dx)
              dx->data[base + yy * w + xx] += dy->data[o] * wgt[dyi][dxi];
          }
        if (out) {
          out->data[o] = v[0][0] * wgt[0][0] + v[0][1] * wgt[0][1] + v[1][0] * wgt[1][0] +
                         v[1][1] * wgt[1][1];
          continue;
        }
        // MXNet's derivative of the weights: d/dwy and d/dwx, negated.
        double cross = v[0][0] - v[0][1] - v[1][0] + v[1][1];
        gy -= dy->data[o] * (v[0][1] - v[1][1] + cross * s.wx);
        gx -= dy->data[o] * (v[1][0] - v[1][1] + cross * s.wy);
      }
      if (dgrid) {
        dgrid->data[b * 2 * plane + p] = gx * static_cast<double>(w - 1) / 2;
        dgrid->data[b * 2 * plane + plane + p] = gy * static_cast<double>(h - 1) / 2;
      }
    }
}

void requireGrid(Operation *op, const Array &x, const Array &grid) {
  requireRank4(op, x, "data");
  if (grid.shape.size() != 4 || grid.shape[0] != x.shape[0] || grid.shape[1] != 2)
    fail(op, "grid " + shapeStr(grid.shape) + " does not match data " + shapeStr(x.shape));
}

Array gridGenerator(OpEnv &env, g::GridGeneratorOp op) {
  const Array &x = env.get(op, op.getData());
  if (op.getTransformType() == g::GridTransformType::affine) {
    llvm::ArrayRef<int64_t> t = op.getTargetShape();
    if (x.shape.size() != 2 || x.shape[1] != 6 || t.size() != 2)
      fail(op, "affine data must be (N, 6), got " + shapeStr(x.shape));
    Array out = resultLike(env, op, {x.shape[0], 2, t[0], t[1]});
    affineGrid(x, out);
    return out;
  }
  if (x.shape.size() != 4 || x.shape[1] != 2)
    fail(op, "a warp flow must be (N, 2, H, W), got " + shapeStr(x.shape));
  Array out = resultLike(env, op, x.shape);
  int64_t n = x.shape[0], h = x.shape[2], w = x.shape[3];
  double halfW = (static_cast<double>(w) - 1.0) / 2.0, halfH = (static_cast<double>(h) - 1.0) / 2.0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        int64_t ox = ((b * 2) * h + i) * w + j, oy = ((b * 2 + 1) * h + i) * w + j;
        out.data[ox] = (x.data[ox] + static_cast<double>(j)) / halfW - 1;
        out.data[oy] = (x.data[oy] + static_cast<double>(i)) / halfH - 1;
      }
  return out;
}

Array spatialTransformer(OpEnv &env, g::SpatialTransformerOp op) {
  const Array &x = env.get(op, op.getData());
  const Array &theta = env.get(op, op.getLocalization());
  requireRank4(op, x, "data");
  llvm::ArrayRef<int64_t> t = op.getTargetShape();
  if (theta.shape != Shape{x.shape[0], 6} || t.size() != 2)
    fail(op, "loc " + shapeStr(theta.shape) + " is not (N, 6) for data " + shapeStr(x.shape));
  Array grid;
  grid.shape = {x.shape[0], 2, t[0], t[1]};
  grid.data.assign(static_cast<size_t>(x.shape[0] * 2 * t[0] * t[1]), 0.0);
  affineGrid(theta, grid);
  Array out = resultLike(env, op, {x.shape[0], x.shape[1], t[0], t[1]});
  bilinearSample(x, grid, &out, nullptr, nullptr, nullptr);
  return out;
}

//===----------------------------------------------------------------------===//
// Correlation
//===----------------------------------------------------------------------===//

/// MXNet's CorrelationForward (dy null) or CorrelationBackward, on NCHW
/// data: the padded patch pixels are read through `at`, zero in the
/// padding.
template <typename OpT>
void correlate(OpT op, const Array &a, const Array &b, Array *out, const Array *dy, Array *da,
               Array *db) {
  if (a.shape.size() != 4 || a.shape != b.shape)
    fail(op, "data1 " + shapeStr(a.shape) + " and data2 " + shapeStr(b.shape) +
                 " must be NCHW of one shape");
  int64_t n = a.shape[0], c = a.shape[1], h = a.shape[2], w = a.shape[3];
  int64_t k = op.getKernelSize(), md = op.getMaxDisplacement(), s1 = op.getStride1(),
          s2 = op.getStride2(), pad = op.getPadSize();
  g::CorrelationGeometry geo = g::correlationGeometry(h, w, k, md, s1, s2, pad);
  int64_t channels = geo.gridWidth * geo.gridWidth, oh = geo.outH, ow = geo.outW;
  const Array &res = dy ? *dy : *out;
  if (res.shape != Shape{n, channels, oh, ow})
    fail(op, "correlation result " + shapeStr(res.shape) + " does not match the data " +
                 shapeStr(a.shape));
  bool multiply = op.getIsMultiply();
  auto sumelems = static_cast<double>(k * k * c);
  // A padded pixel (y, x) of plane (b, ch): its flat index, or -1 in the
  // padding.
  auto at = [&](int64_t bi, int64_t ch, int64_t y, int64_t x) -> int64_t {
    y -= pad;
    x -= pad;
    if (y < 0 || y >= h || x < 0 || x >= w)
      return -1;
    return ((bi * c + ch) * h + y) * w + x;
  };
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j)
      for (int64_t bi = 0; bi < n; ++bi) {
        int64_t x1 = j * s1 + md, y1 = i * s1 + md;
        for (int64_t t = 0; t < channels; ++t) {
          int64_t x2 = x1 + (t % geo.gridWidth - geo.radius) * s2;
          int64_t y2 = y1 + (t / geo.gridWidth - geo.radius) * s2;
          int64_t o = ((bi * channels + t) * oh + i) * ow + j;
          double sum = 0;
          for (int64_t hh = 0; hh < k; ++hh)
            for (int64_t ww = 0; ww < k; ++ww)
              for (int64_t ch = 0; ch < c; ++ch) {
                int64_t p = at(bi, ch, y1 + hh, x1 + ww), q = at(bi, ch, y2 + hh, x2 + ww);
                double u = p < 0 ? 0.0 : a.data[p], v = q < 0 ? 0.0 : b.data[q];
                if (!dy) {
                  sum += multiply ? u * v : std::abs(u - v);
                  continue;
                }
                double grad = dy->data[o];
                if (p >= 0)
                  da->data[p] += (multiply ? grad * v : (u >= v ? grad : -grad)) / sumelems;
                if (q >= 0)
                  db->data[q] += (multiply ? grad * u : (u >= v ? -grad : grad)) / sumelems;
              }
          if (!dy)
            out->data[o] = sum / sumelems;
        }
      }
}

//===----------------------------------------------------------------------===//
// Interleaved attention products
//===----------------------------------------------------------------------===//

/// Part `part` of an interleaved projection (S, B, heads · parts · D), read
/// at (s, attention batch i = b·heads + h, d).
struct Projection {
  const Array &a;
  int64_t heads, parts, d;

  Projection(Operation *op, const Array &a, int64_t heads, int64_t parts) : a(a), heads(heads),
                                                                             parts(parts) {
    if (a.shape.size() != 3 || heads < 1 || a.shape[2] % (heads * parts) != 0)
      fail(op, "projection " + shapeStr(a.shape) + " does not split into " +
                   std::to_string(heads) + " heads of " + std::to_string(parts) + " parts");
    d = a.shape[2] / (heads * parts);
  }
  int64_t seq() const { return a.shape[0]; }
  int64_t batches() const { return a.shape[1] * heads; }
  double at(int64_t part, int64_t s, int64_t i, int64_t k) const {
    // (s, b, h, part, k) with i = b·heads + h: (b, h) is i in row-major order.
    return a.data[((s * batches() + i) * parts + part) * d + k];
  }
};

/// out[i, s, t] = scale · Σ_k q[s, i, k] · k[t, i, k].
Array attentionScores(OpEnv &env, Operation *op, const Projection &q, int64_t qPart,
                      const Projection &k, int64_t kPart) {
  if (k.a.shape[1] != q.a.shape[1] || k.d != q.d)
    fail(op, "queries " + shapeStr(q.a.shape) + " and keys " + shapeStr(k.a.shape) +
                 " do not match");
  int64_t n = q.batches(), sq = q.seq(), sk = k.seq();
  Array out = resultLike(env, op, {n, sq, sk});
  double scale = g::InterleavedMatMulSelfAttQKOp::qkScale(q.d);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t s = 0; s < sq; ++s)
      for (int64_t t = 0; t < sk; ++t) {
        double sum = 0;
        for (int64_t c = 0; c < q.d; ++c)
          sum += q.at(qPart, s, i, c) * k.at(kPart, t, i, c);
        out.data[(i * sq + s) * sk + t] = scale * sum;
      }
  return out;
}

/// out[s, b, h·D + d] = Σ_t att[b·heads + h, s, t] · v[t, b·heads + h, d].
Array attendValues(OpEnv &env, Operation *op, const Projection &v, int64_t vPart,
                   const Array &att) {
  int64_t n = v.batches(), sk = v.seq();
  if (att.shape.size() != 3 || att.shape[0] != n || att.shape[2] != sk)
    fail(op, "attention " + shapeStr(att.shape) + " does not match the values " +
                 shapeStr(v.a.shape));
  int64_t sq = att.shape[1];
  Array out = resultLike(env, op, {sq, v.a.shape[1], v.heads * v.d});
  for (int64_t s = 0; s < sq; ++s)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t c = 0; c < v.d; ++c) {
        double sum = 0;
        for (int64_t t = 0; t < sk; ++t)
          sum += att.data[(i * sq + s) * sk + t] * v.at(vPart, t, i, c);
        out.data[(s * n + i) * v.d + c] = sum;
      }
  return out;
}

} // namespace

bool interpretNNOp(OpEnv &env, Operation *op) {
  if (auto o = dyn_cast<g::CorrelationGradOp>(op)) {
    const Array &a = env.get(o, o.getData1());
    const Array &b = env.get(o, o.getData2());
    Array da = resultLike(env, o, a.shape), db = env.makeResult(o, 1);
    if (db.shape != b.shape)
      fail(o, "data2_grad " + shapeStr(db.shape) + " differs from data2 " + shapeStr(b.shape));
    correlate(o, a, b, nullptr, &env.get(o, o.getOutGrad()), &da, &db);
    env.setResult(o, 0, std::move(da));
    env.setResult(o, 1, std::move(db));
    return true;
  }
  if (auto o = dyn_cast<g::BilinearSamplerGradOp>(op)) {
    const Array &x = env.get(o, o.getData());
    const Array &grid = env.get(o, o.getGrid());
    const Array &dy = env.get(o, o.getOutGrad());
    requireGrid(o, x, grid);
    if (dy.shape != Shape{x.shape[0], x.shape[1], grid.shape[2], grid.shape[3]})
      fail(o, "out_grad " + shapeStr(dy.shape) + " does not match the sampled shape");
    Array dx = env.makeResult(o, 0), dgrid = env.makeResult(o, 1);
    if (dx.shape != x.shape || dgrid.shape != grid.shape)
      fail(o, "result shapes differ from data's and grid's");
    bilinearSample(x, grid, nullptr, &dy, &dx, &dgrid);
    env.setResult(o, 0, std::move(dx));
    env.setResult(o, 1, std::move(dgrid));
    return true;
  }
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
          .Case([&](g::GridGeneratorOp o) { return gridGenerator(env, o); })
          .Case([&](g::BilinearSamplerOp o) {
            const Array &x = env.get(o, o.getData());
            const Array &grid = env.get(o, o.getGrid());
            requireGrid(o, x, grid);
            Array out =
                resultLike(env, o, {x.shape[0], x.shape[1], grid.shape[2], grid.shape[3]});
            bilinearSample(x, grid, &out, nullptr, nullptr, nullptr);
            return out;
          })
          .Case([&](g::SpatialTransformerOp o) { return spatialTransformer(env, o); })
          .Case([&](g::CorrelationOp o) {
            Array out = env.makeResult(o);
            correlate(o, env.get(o, o.getData1()), env.get(o, o.getData2()), &out, nullptr,
                      nullptr, nullptr);
            return out;
          })
          .Case([&](g::InterleavedMatMulSelfAttQKOp o) {
            Projection qkv(o, env.get(o, o.getQueriesKeysValues()), o.getHeads(), 3);
            return attentionScores(env, o, qkv, 0, qkv, 1);
          })
          .Case([&](g::InterleavedMatMulSelfAttValAttOp o) {
            Projection qkv(o, env.get(o, o.getQueriesKeysValues()), o.getHeads(), 3);
            return attendValues(env, o, qkv, 2, env.get(o, o.getAttention()));
          })
          .Case([&](g::InterleavedMatMulEncDecQKOp o) {
            Projection q(o, env.get(o, o.getQueries()), o.getHeads(), 1);
            Projection kv(o, env.get(o, o.getKeysValues()), o.getHeads(), 2);
            return attentionScores(env, o, q, 0, kv, 0);
          })
          .Case([&](g::InterleavedMatMulEncDecValAttOp o) {
            Projection kv(o, env.get(o, o.getKeysValues()), o.getHeads(), 2);
            return attendValues(env, o, kv, 1, env.get(o, o.getAttention()));
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
