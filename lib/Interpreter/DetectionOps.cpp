//===- DetectionOps.cpp - Reference semantics: detection heads -------------------===//
//
// The interpreter's kernels for GraphDetectionOps.td, in double precision,
// following MXNet 1.9.1's CPU kernels step by step (src/operator/contrib/
// bounding_box-inl.h, multibox_prior.cc, multibox_detection.cc, roi_align.cc,
// proposal.cc and src/operator/roi_pooling.cc). Proposal runs in float32,
// MXNet's only precision for it, so that its sort and its size filter decide
// as MXNet's do.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {

namespace {

//===----------------------------------------------------------------------===//
// Box geometry (bounding_box-common.h)
//===----------------------------------------------------------------------===//

/// Overlap of two boxes along one axis; `a`/`b` point at (x1, _, x2) of a
/// corner box or (x, _, w) of a center box.
double intersect1D(const double *a, const double *b, bool center) {
  double left, right;
  if (!center) {
    left = std::max(a[0], b[0]);
    right = std::min(a[2], b[2]);
  } else {
    left = std::max(b[0] - b[2] / 2, a[0] - a[2] / 2);
    right = std::min(b[0] + b[2] / 2, a[0] + a[2] / 2);
  }
  double w = right - left;
  return w > 0 ? w : 0.0;
}

double boxArea(const double *box, bool center) {
  double w = center ? box[2] : box[2] - box[0];
  double h = center ? box[3] : box[3] - box[1];
  return w < 0 || h < 0 ? 0.0 : w * h;
}

//===----------------------------------------------------------------------===//
// box_nms
//===----------------------------------------------------------------------===//

struct NMSParams {
  double overlapThresh, validThresh;
  int64_t topk, coordStart, scoreIndex, idIndex, backgroundId;
  bool forceSuppress, inCenter, outCenter;
};

template <typename OpT> NMSParams nmsParams(OpT op) {
  return {(double)op.getOverlapThresh().convertToFloat(),
          (double)op.getValidThresh().convertToFloat(),
          (int64_t)op.getTopk(),
          (int64_t)op.getCoordStart(),
          (int64_t)op.getScoreIndex(),
          (int64_t)op.getIdIndex(),
          (int64_t)op.getBackgroundId(),
          op.getForceSuppress(),
          op.getInFormat() == "center",
          op.getOutFormat() == "center"};
}

/// MXNet's BoxNMSForward on `data` (batch dims flattened). Returns the
/// output and, per output row, the input row it was copied from (-1: none).
std::pair<std::vector<double>, std::vector<int64_t>>
boxNMS(const NMSParams &p, const std::vector<double> &data, ArrayRef<int64_t> shape) {
  int64_t width = shape.back(), num = shape[shape.size() - 2];
  int64_t batches = numElements(shape) / std::max<int64_t>(1, width * num);
  int64_t rows = batches * num;
  std::vector<double> out(data.size(), -1.0);
  std::vector<int64_t> record(rows, -1);
  int64_t topk = p.topk < 0 ? num : std::min(num, p.topk);
  if (topk < 1) {
    out = data;
    std::iota(record.begin(), record.end(), 0);
    return {out, record};
  }
  // Candidates in input order, sorted by descending score (stable), then
  // stably by batch: per batch, descending score, ties in input order.
  std::vector<int64_t> order;
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = &data[i * width];
    bool valid = row[p.scoreIndex] > p.validThresh;
    if (p.idIndex >= 0)
      valid = valid && row[p.idIndex] != (double)p.backgroundId;
    if (valid)
      order.push_back(i);
  }
  if (order.empty())
    return {out, record};
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return data[a * width + p.scoreIndex] > data[b * width + p.scoreIndex];
  });
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return a / num < b / num; });

  size_t begin = 0;
  for (int64_t b = 0; b < batches; ++b) {
    size_t end = begin;
    while (end < order.size() && order[end] / num == b)
      ++end;
    // The first topk candidates of the batch take part; greedy suppression.
    std::vector<int64_t> cand(order.begin() + begin,
                              order.begin() + std::min(end, begin + (size_t)topk));
    begin = end;
    std::vector<bool> suppressed(cand.size(), false);
    auto box = [&](int64_t row) { return &data[row * width + p.coordStart]; };
    for (size_t r = 0; r < cand.size(); ++r) {
      if (suppressed[r])
        continue;
      for (size_t q = r + 1; q < cand.size(); ++q) {
        if (suppressed[q])
          continue;
        if (!p.forceSuppress && p.idIndex >= 0 &&
            (int64_t)data[cand[r] * width + p.idIndex] != (int64_t)data[cand[q] * width + p.idIndex])
          continue;
        double inter = intersect1D(box(cand[r]), box(cand[q]), p.inCenter) *
                       intersect1D(box(cand[r]) + 1, box(cand[q]) + 1, p.inCenter);
        double iou = inter / (boxArea(box(cand[r]), p.inCenter) +
                              boxArea(box(cand[q]), p.inCenter) - inter);
        if (iou > p.overlapThresh)
          suppressed[q] = true;
      }
    }
    int64_t count = 0;
    for (size_t r = 0; r < cand.size(); ++r) {
      if (suppressed[r])
        continue;
      int64_t dst = b * num + count++;
      std::copy_n(&data[cand[r] * width], width, &out[dst * width]);
      record[dst] = cand[r];
    }
  }
  if (p.inCenter != p.outCenter) {
    for (int64_t i = 0; i < rows; ++i) {
      double *c = &out[i * width + p.coordStart];
      // MXNet's converters skip rows whose first coordinate is negative.
      if (c[0] < 0)
        continue;
      double a = c[0], b = c[1], x = c[2], y = c[3];
      if (p.outCenter) {
        c[0] = (a + x) / 2, c[1] = (b + y) / 2, c[2] = x - a, c[3] = y - b;
      } else {
        c[0] = a - x / 2, c[1] = b - y / 2, c[2] = a + x / 2, c[3] = b + y / 2;
      }
    }
  }
  return {out, record};
}

//===----------------------------------------------------------------------===//
// MultiBoxDetection (multibox_detection.cc)
//===----------------------------------------------------------------------===//

Array multiBoxDetection(OpEnv &env, g::MultiBoxDetectionOp op) {
  const Array &cls = env.get(op, op.getClsProb());
  const Array &loc = env.get(op, op.getLocPred());
  const Array &anchor = env.get(op, op.getAnchor());
  Array out = env.makeResult(op);
  std::fill(out.data.begin(), out.data.end(), -1.0);
  int64_t batches = cls.shape[0], classes = cls.shape[1], anchors = cls.shape[2];
  double threshold = op.getThreshold().convertToFloat();
  double nmsThreshold = op.getNmsThreshold().convertToFloat();
  ArrayRef<double> var = op.getVariances();
  double vx = (float)var[0], vy = (float)var[1], vw = (float)var[2], vh = (float)var[3];
  bool clip = op.getClip();
  auto clamp = [&](double v) { return clip ? std::max(0.0, std::min(1.0, v)) : v; };
  std::vector<double> decoded(anchors * 6);
  for (int64_t n = 0; n < batches; ++n) {
    const double *p = &cls.data[n * classes * anchors];
    const double *l = &loc.data[n * anchors * 4];
    double *o = &out.data[n * anchors * 6];
    for (int64_t i = 0; i < anchors; ++i) {
      double score = -1;
      int64_t id = 0;
      for (int64_t j = 1; j < classes; ++j)
        if (p[j * anchors + i] > score) {
          score = p[j * anchors + i];
          id = j;
        }
      if (id > 0 && score < threshold)
        id = 0;
      double *d = &decoded[i * 6];
      d[0] = (double)(id - 1);
      d[1] = score;
      const double *a = &anchor.data[i * 4];
      double aw = a[2] - a[0], ah = a[3] - a[1];
      double ax = (a[0] + a[2]) / 2, ay = (a[1] + a[3]) / 2;
      double ox = l[i * 4] * vx * aw + ax, oy = l[i * 4 + 1] * vy * ah + ay;
      double ow = std::exp(l[i * 4 + 2] * vw) * aw / 2, oh = std::exp(l[i * 4 + 3] * vh) * ah / 2;
      d[2] = clamp(ox - ow), d[3] = clamp(oy - oh), d[4] = clamp(ox + ow), d[5] = clamp(oy + oh);
    }
    int64_t valid = 0;
    for (int64_t i = 0; i < anchors; ++i)
      if (decoded[i * 6] >= 0)
        std::copy_n(&decoded[i * 6], 6, &o[valid++ * 6]);
    if (valid < 1 || nmsThreshold <= 0 || nmsThreshold > 1)
      continue;
    std::vector<double> compact(o, o + valid * 6);
    std::vector<int64_t> order(valid);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return compact[a * 6 + 1] > compact[b * 6 + 1];
    });
    int64_t keep = valid;
    if ((int64_t)op.getNmsTopk() > 0 && (int64_t)op.getNmsTopk() < keep) {
      keep = (int64_t)op.getNmsTopk();
      for (int64_t i = keep; i < valid; ++i)
        o[i * 6] = -1;
    }
    for (int64_t i = 0; i < keep; ++i)
      std::copy_n(&compact[order[i] * 6], 6, &o[i * 6]);
    for (int64_t i = 0; i < keep; ++i) {
      if (o[i * 6] < 0)
        continue;
      for (int64_t j = i + 1; j < keep; ++j) {
        if (o[j * 6] < 0)
          continue;
        if (!op.getForceSuppress() && o[i * 6] != o[j * 6])
          continue;
        const double *a = &o[i * 6 + 2], *b = &o[j * 6 + 2];
        double w = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
        double h = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
        double inter = w * h;
        double u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        double iou = u <= 0 ? 0.0 : inter / u;
        if (iou >= nmsThreshold)
          o[j * 6] = -1;
      }
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// ROIPooling (roi_pooling.cc)
//===----------------------------------------------------------------------===//

/// Runs ROIPooling; `argmax` gets, per output element, the flat index into
/// data of its maximum (-1: none).
template <typename OpT>
Array roiPool(OpEnv &env, OpT op, const Array &x, const Array &rois, std::vector<int64_t> &argmax) {
  int64_t batches = x.shape[0], channels = x.shape[1], height = x.shape[2], width = x.shape[3];
  int64_t ph = op.getPooledSize()[0], pw = op.getPooledSize()[1];
  int64_t numRois = rois.shape[0];
  double scale = op.getSpatialScale().convertToFloat();
  Array out;
  out.shape = {numRois, channels, ph, pw};
  out.data.assign(out.size(), -FLT_MAX);
  argmax.assign(out.size(), -1);
  for (int64_t n = 0; n < numRois; ++n) {
    const double *r = &rois.data[n * 5];
    int64_t startW = (int64_t)std::round(r[1] * scale), startH = (int64_t)std::round(r[2] * scale);
    int64_t endW = (int64_t)std::round(r[3] * scale), endH = (int64_t)std::round(r[4] * scale);
    int64_t batch = (int64_t)r[0];
    bool invalid = batch < 0 || batch >= batches;
    int64_t roiH = std::max<int64_t>(endH - startH + 1, 1);
    int64_t roiW = std::max<int64_t>(endW - startW + 1, 1);
    double binH = (double)roiH / (double)ph, binW = (double)roiW / (double)pw;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < ph; ++i)
        for (int64_t j = 0; j < pw; ++j) {
          int64_t hs = (int64_t)std::floor(i * binH), ws = (int64_t)std::floor(j * binW);
          int64_t he = (int64_t)std::ceil((i + 1) * binH), we = (int64_t)std::ceil((j + 1) * binW);
          hs = std::min(std::max<int64_t>(hs + startH, 0), height);
          he = std::min(std::max<int64_t>(he + startH, 0), height);
          ws = std::min(std::max<int64_t>(ws + startW, 0), width);
          we = std::min(std::max<int64_t>(we + startW, 0), width);
          int64_t o = ((n * channels + c) * ph + i) * pw + j;
          if (he <= hs || we <= ws || invalid) {
            out.data[o] = 0;
            argmax[o] = -1;
            continue;
          }
          for (int64_t h = hs; h < he; ++h)
            for (int64_t w = ws; w < we; ++w) {
              int64_t idx = ((batch * channels + c) * height + h) * width + w;
              if (x.data[idx] > out.data[o]) {
                out.data[o] = x.data[idx];
                argmax[o] = idx;
              }
            }
        }
  }
  (void)env;
  return out;
}

//===----------------------------------------------------------------------===//
// PSROIPooling (contrib/psroi_pooling.cc)
//===----------------------------------------------------------------------===//

/// Runs PSROIPooling's loops: `visit(o, plane, hs, he, ws, we)` for every
/// output element o whose bin is not empty, `plane` the flat index of its
/// input channel's (0, 0).
template <typename OpT, typename Fn>
void forEachPSROIBin(OpT op, const Array &x, const Array &rois, Fn &&visit) {
  if (x.shape.size() != 4 || rois.shape.size() != 2 || rois.shape[1] != 5)
    fail(op, "needs data (N, C, H, W) and rois (R, 5), got " + shapeStr(x.shape) + " and " +
                 shapeStr(rois.shape));
  int64_t batches = x.shape[0], channels = x.shape[1], height = x.shape[2], width = x.shape[3];
  int64_t pooled = op.getPooledSize(), dim = op.getOutputDim(), g = op.getGroups();
  if (channels < dim * g * g)
    fail(op, "data " + shapeStr(x.shape) + " has fewer than output_dim * group_size^2 channels");
  double scale = op.getSpatialScale().convertToFloat();
  for (int64_t n = 0; n < rois.shape[0]; ++n) {
    const double *r = &rois.data[n * 5];
    auto batch = static_cast<int64_t>(r[0]);
    if (batch < 0 || batch >= batches)
      continue;
    // MXNet: round() halves away from zero, then the scale; the end is
    // inclusive (+1); a region at least 0.1 wide.
    double startW = std::round(r[1]) * scale, startH = std::round(r[2]) * scale;
    double endW = (std::round(r[3]) + 1.0) * scale, endH = (std::round(r[4]) + 1.0) * scale;
    double binW = std::max(endW - startW, 0.1) / static_cast<double>(pooled);
    double binH = std::max(endH - startH, 0.1) / static_cast<double>(pooled);
    auto clip = [](int64_t v, int64_t hi) { return std::min(std::max<int64_t>(v, 0), hi); };
    for (int64_t c = 0; c < dim; ++c)
      for (int64_t i = 0; i < pooled; ++i)
        for (int64_t j = 0; j < pooled; ++j) {
          auto di = static_cast<double>(i), dj = static_cast<double>(j);
          int64_t hs = clip(static_cast<int64_t>(std::floor(di * binH + startH)), height);
          int64_t he = clip(static_cast<int64_t>(std::ceil((di + 1) * binH + startH)), height);
          int64_t ws = clip(static_cast<int64_t>(std::floor(dj * binW + startW)), width);
          int64_t we = clip(static_cast<int64_t>(std::ceil((dj + 1) * binW + startW)), width);
          if (he <= hs || we <= ws)
            continue;
          int64_t gw = std::clamp<int64_t>(
              static_cast<int64_t>(std::floor(dj * static_cast<double>(g) / pooled)), 0, g - 1);
          int64_t gh = std::clamp<int64_t>(
              static_cast<int64_t>(std::floor(di * static_cast<double>(g) / pooled)), 0, g - 1);
          int64_t ch = (c * g + gh) * g + gw;
          visit(((n * dim + c) * pooled + i) * pooled + j,
                (batch * channels + ch) * height * width, hs, he, ws, we);
        }
  }
}

//===----------------------------------------------------------------------===//
// ROIAlign (roi_align.cc)
//===----------------------------------------------------------------------===//

/// One ROI's geometry as MXNet's ROIAlignForward/Backward compute it.
struct ROIAlignGeometry {
  int64_t batch;
  double startH, startW, binH, binW;
  int64_t gridH, gridW;
};

template <typename OpT>
ROIAlignGeometry roiAlignGeometry(OpT op, const double *r) {
  double scale = op.getSpatialScale().convertToFloat();
  int64_t ph = op.getPooledSize()[0], pw = op.getPooledSize()[1];
  double offset = op.getAligned() ? 0.5 : 0.0;
  ROIAlignGeometry g;
  g.batch = (int64_t)r[0];
  g.startW = r[1] * scale - offset;
  g.startH = r[2] * scale - offset;
  double roiW = r[3] * scale - offset - g.startW;
  double roiH = r[4] * scale - offset - g.startH;
  if (op.getAligned()) {
    if (!(roiW > 0) || !(roiH > 0))
      fail(op, "aligned ROIAlign needs regions of positive width and height, got " +
                   std::to_string(roiW) + " x " + std::to_string(roiH));
  } else {
    roiW = std::max(roiW, 1.0);
    roiH = std::max(roiH, 1.0);
  }
  g.binH = roiH / (double)ph;
  g.binW = roiW / (double)pw;
  int64_t ratio = (int64_t)op.getSampleRatio();
  g.gridH = ratio > 0 ? ratio : (int64_t)std::ceil(roiH / (double)ph);
  g.gridW = ratio > 0 ? ratio : (int64_t)std::ceil(roiW / (double)pw);
  return g;
}

/// The four taps of a bilinear sample at (y, x); `valid` false when the
/// sample lies beyond one pixel outside the map.
struct Taps {
  bool valid;
  int64_t pos[4];
  double w[4];
};

Taps bilinearTaps(int64_t height, int64_t width, double y, double x) {
  Taps t{};
  if (y < -1.0 || y > (double)height || x < -1.0 || x > (double)width)
    return t;
  t.valid = true;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t yl = (int64_t)y, xl = (int64_t)x, yh, xh;
  if (yl >= height - 1) {
    yh = yl = height - 1;
    y = (double)yl;
  } else {
    yh = yl + 1;
  }
  if (xl >= width - 1) {
    xh = xl = width - 1;
    x = (double)xl;
  } else {
    xh = xl + 1;
  }
  double ly = y - yl, lx = x - xl, hy = 1 - ly, hx = 1 - lx;
  t.pos[0] = yl * width + xl, t.pos[1] = yl * width + xh;
  t.pos[2] = yh * width + xl, t.pos[3] = yh * width + xh;
  t.w[0] = hy * hx, t.w[1] = hy * lx, t.w[2] = ly * hx, t.w[3] = ly * lx;
  return t;
}

/// Calls fn(outIndex, dataPlaneOffset, taps, 1/count) for every sample of
/// every output element of ROIAlign; ROIs with a batch index outside
/// [0, N) are skipped.
template <typename OpT, typename Fn>
void forEachROIAlignSample(OpT op, ArrayRef<int64_t> xs, const Array &rois,
                           ArrayRef<int64_t> outShape, Fn &&fn) {
  int64_t batches = xs[0], channelsIn = xs[1], height = xs[2], width = xs[3];
  int64_t numRois = outShape[0], channels = outShape[1], ph = outShape[2], pw = outShape[3];
  for (int64_t n = 0; n < numRois; ++n) {
    ROIAlignGeometry g = roiAlignGeometry(op, &rois.data[n * 5]);
    if (g.batch < 0 || g.batch >= batches)
      continue;
    double count = (double)(g.gridH * g.gridW);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < ph; ++i)
        for (int64_t j = 0; j < pw; ++j) {
          int64_t cIn = op.getPositionSensitive() ? (c * ph + i) * pw + j : c;
          int64_t plane = (g.batch * channelsIn + cIn) * height * width;
          int64_t o = ((n * channels + c) * ph + i) * pw + j;
          for (int64_t iy = 0; iy < g.gridH; ++iy) {
            double y = g.startH + i * g.binH + ((double)iy + 0.5) * g.binH / (double)g.gridH;
            for (int64_t ix = 0; ix < g.gridW; ++ix) {
              double x = g.startW + j * g.binW + ((double)ix + 0.5) * g.binW / (double)g.gridW;
              fn(o, plane, bilinearTaps(height, width, y, x), count);
            }
          }
        }
  }
}

//===----------------------------------------------------------------------===//
// Proposal (proposal.cc), in float32
//===----------------------------------------------------------------------===//

void proposal(OpEnv &env, g::ProposalOp op) {
  const Array &cls = env.get(op, op.getClsProb());
  const Array &deltas = env.get(op, op.getBboxPred());
  const Array &info = env.get(op, op.getImInfo());
  int64_t anchorsPer = cls.shape[1] / 2, height = cls.shape[2], width = cls.shape[3];
  int64_t count = anchorsPer * height * width;
  int64_t preTop = (int64_t)op.getRpnPreNmsTopN() > 0 ? (int64_t)op.getRpnPreNmsTopN() : count;
  preTop = std::min(preTop, count);
  int64_t postParam = (int64_t)op.getRpnPostNmsTopN();
  int64_t postTop = std::min(postParam, preTop);
  float stride = (float)(int64_t)op.getFeatureStride();
  float imH = (float)info.data[0], imW = (float)info.data[1], imScale = (float)info.data[2];
  std::vector<float> base = op.computeBaseAnchors();

  // Proposals in (h, w, anchor) order: [x1, y1, x2, y2, score].
  std::vector<float> props(count * 5);
  int64_t realH = (int64_t)(imH / stride), realW = (int64_t)(imW / stride);
  if (realH > height || realW > width)
    fail(op, "im_info " + std::to_string(imH) + " x " + std::to_string(imW) +
                 " is larger than the feature map " + std::to_string(height) + " x " +
                 std::to_string(width) + " times feature_stride");
  for (int64_t a = 0; a < anchorsPer; ++a)
    for (int64_t h = 0; h < height; ++h)
      for (int64_t w = 0; w < width; ++w) {
        float *p = &props[((h * width + w) * anchorsPer + a) * 5];
        float x1 = base[a * 4] + (float)w * stride, y1 = base[a * 4 + 1] + (float)h * stride;
        float x2 = base[a * 4 + 2] + (float)w * stride, y2 = base[a * 4 + 3] + (float)h * stride;
        auto delta = [&](int64_t k) {
          return (float)deltas.data[((a * 4 + k) * height + h) * width + w];
        };
        float px1, py1, px2, py2;
        if (op.getIouLoss()) {
          px1 = x1 + delta(0), py1 = y1 + delta(1), px2 = x2 + delta(2), py2 = y2 + delta(3);
        } else {
          float bw = x2 - x1 + 1.0f, bh = y2 - y1 + 1.0f;
          float cx = (float)(x1 + 0.5 * (bw - 1.0)), cy = (float)(y1 + 0.5 * (bh - 1.0));
          float pcx = delta(0) * bw + cx, pcy = delta(1) * bh + cy;
          float pw = std::exp(delta(2)) * bw, phh = std::exp(delta(3)) * bh;
          px1 = (float)(pcx - 0.5 * (pw - 1.0)), py1 = (float)(pcy - 0.5 * (phh - 1.0));
          px2 = (float)(pcx + 0.5 * (pw - 1.0)), py2 = (float)(pcy + 0.5 * (phh - 1.0));
        }
        p[0] = std::max(std::min(px1, imW - 1.0f), 0.0f);
        p[1] = std::max(std::min(py1, imH - 1.0f), 0.0f);
        p[2] = std::max(std::min(px2, imW - 1.0f), 0.0f);
        p[3] = std::max(std::min(py2, imH - 1.0f), 0.0f);
        p[4] = (float)cls.data[((anchorsPer + a) * height + h) * width + w];
        if (h >= realH || w >= realW)
          p[4] = -1.0f;
      }
  float minSize = (float)(int64_t)op.getRpnMinSize() * imScale;
  for (int64_t i = 0; i < count; ++i) {
    float *p = &props[i * 5];
    if (p[2] - p[0] + 1.0f < minSize || p[3] - p[1] + 1.0f < minSize) {
      p[0] -= minSize / 2, p[1] -= minSize / 2, p[2] += minSize / 2, p[3] += minSize / 2;
      p[4] = -1.0f;
    }
  }
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return props[a * 5 + 4] > props[b * 5 + 4]; });
  order.resize(preTop);

  float thresh = op.getThreshold().convertToFloat();
  std::vector<float> area(preTop);
  for (int64_t i = 0; i < preTop; ++i) {
    const float *p = &props[order[i] * 5];
    area[i] = (p[2] - p[0] + 1) * (p[3] - p[1] + 1);
  }
  std::vector<bool> suppressed(preTop, false);
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < preTop && (int64_t)keep.size() < postTop; ++i) {
    if (suppressed[i])
      continue;
    keep.push_back(i);
    const float *a = &props[order[i] * 5];
    for (int64_t j = i + 1; j < preTop; ++j) {
      if (suppressed[j])
        continue;
      const float *b = &props[order[j] * 5];
      float w = std::max(0.0f, std::min(a[2], b[2]) - std::max(a[0], b[0]) + 1.0f);
      float h = std::max(0.0f, std::min(a[3], b[3]) - std::max(a[1], b[1]) + 1.0f);
      float inter = w * h;
      if (inter / (area[i] + area[j] - inter) > thresh)
        suppressed[j] = true;
    }
  }
  Array rois = env.makeResult(op, 0);
  Array scores;
  scores.shape = {postParam, 1};
  scores.data.assign(postParam, 0.0);
  for (int64_t i = 0; i < postParam; ++i) {
    const float *p = &props[order[keep[i % keep.size()]] * 5];
    rois.data[i * 5] = 0;
    for (int k = 0; k < 4; ++k)
      rois.data[i * 5 + 1 + k] = p[k];
    scores.data[i] = p[4];
  }
  env.setResult(op, 0, std::move(rois));
  if (op.getOutputScore())
    env.setResult(op, 1, std::move(scores));
}

} // namespace

bool interpretDetectionOp(OpEnv &env, Operation *op) {
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](g::BoxNMSOp o) {
        const Array &x = env.get(o, o.getData());
        Array out;
        out.shape = x.shape;
        out.data = boxNMS(nmsParams(o), x.data, x.shape).first;
        env.setResult(o, 0, std::move(out));
        return true;
      })
      .Case([&](g::BoxNMSGradOp o) {
        const Array &x = env.get(o, o.getData());
        const Array &dy = env.get(o, o.getOutGrad());
        std::vector<int64_t> record = boxNMS(nmsParams(o), x.data, x.shape).second;
        Array dx = env.makeResult(o);
        int64_t width = x.shape.back();
        for (size_t i = 0; i < record.size(); ++i)
          if (record[i] >= 0)
            std::copy_n(&dy.data[i * width], width, &dx.data[record[i] * width]);
        env.setResult(o, 0, std::move(dx));
        return true;
      })
      .Case([&](g::BoxIoUOp o) {
        const Array &l = env.get(o, o.getLhs());
        const Array &r = env.get(o, o.getRhs());
        bool center = o.getFormat() == "center";
        Array out = env.makeResult(o);
        int64_t nl = l.size() / 4, nr = r.size() / 4;
        for (int64_t i = 0; i < nl; ++i)
          for (int64_t j = 0; j < nr; ++j) {
            const double *a = &l.data[i * 4], *b = &r.data[j * 4];
            double inter = intersect1D(a, b, center) * intersect1D(a + 1, b + 1, center);
            out.data[i * nr + j] =
                inter <= 0 ? 0.0 : inter / (boxArea(a, center) + boxArea(b, center) - inter);
          }
        env.setResult(o, 0, std::move(out));
        return true;
      })
      .Case([&](g::BoxEncodeOp o) {
        const Array &samples = env.get(o, o.getSamples()), &matches = env.get(o, o.getMatches());
        const Array &anchors = env.get(o, o.getAnchors()), &refs = env.get(o, o.getRefs());
        const Array &means = env.get(o, o.getMeans()), &stds = env.get(o, o.getStds());
        Array targets = env.makeResult(o, 0), masks = env.makeResult(o, 1);
        int64_t n = anchors.shape[1], m = refs.shape[1];
        for (int64_t i = 0; i < samples.size(); ++i) {
          if (!(samples.data[i] > 0.5))
            continue; // targets and masks stay 0
          double mv = matches.data[i];
          if (!(mv > -1.0 && mv < static_cast<double>(m)))
            fail(o, "match " + std::to_string(mv) + " of anchor " + std::to_string(i) +
                        " is not a box of refs (" + std::to_string(m) + " boxes)");
          const double *r = &refs.data[((i / n) * m + static_cast<int64_t>(mv)) * 4];
          const double *a = &anchors.data[i * 4];
          double rw = r[2] - r[0], rh = r[3] - r[1], aw = a[2] - a[0], ah = a[3] - a[1];
          double rx = r[0] + rw * 0.5, ry = r[1] + rh * 0.5;
          double ax = a[0] + aw * 0.5, ay = a[1] + ah * 0.5;
          double t[4] = {(rx - ax) / aw, (ry - ay) / ah, std::log(rw / aw), std::log(rh / ah)};
          for (int c = 0; c < 4; ++c) {
            targets.data[i * 4 + c] = (t[c] - means.data[c]) / stds.data[c];
            masks.data[i * 4 + c] = 1.0;
          }
        }
        env.setResult(o, 0, std::move(targets));
        env.setResult(o, 1, std::move(masks));
        return true;
      })
      .Case([&](g::BoxDecodeOp o) {
        const Array &x = env.get(o, o.getData());
        const Array &anchors = env.get(o, o.getAnchors());
        Array out = env.makeResult(o);
        int64_t num = x.shape[1];
        double std[4] = {o.getStd0().convertToFloat(), o.getStd1().convertToFloat(),
                         o.getStd2().convertToFloat(), o.getStd3().convertToFloat()};
        double clip = o.getClip().convertToFloat();
        bool corner = o.getFormat() == "corner";
        for (int64_t i = 0; i < x.size() / 4; ++i) {
          const double *a = &anchors.data[(i % num) * 4], *d = &x.data[i * 4];
          double ax = a[0], ay = a[1], aw = a[2], ah = a[3];
          if (corner) {
            aw -= ax, ah -= ay;
            ax += aw * 0.5, ay += ah * 0.5;
          }
          double ox = d[0] * std[0] * aw + ax, oy = d[1] * std[1] * ah + ay;
          double dw = d[2] * std[2], dh = d[3] * std[3];
          if (clip > 0) {
            dw = dw < clip ? dw : clip;
            dh = dh < clip ? dh : clip;
          }
          double ow = std::exp(dw) * aw * 0.5, oh = std::exp(dh) * ah * 0.5;
          double *o4 = &out.data[i * 4];
          o4[0] = ox - ow, o4[1] = oy - oh, o4[2] = ox + ow, o4[3] = oy + oh;
        }
        env.setResult(o, 0, std::move(out));
        return true;
      })
      .Case([&](g::MultiBoxPriorOp o) {
        const Array &x = env.get(o, o.getData());
        std::vector<float> anchors = o.computeAnchors(x.shape[2], x.shape[3]);
        Array out = env.makeResult(o);
        std::copy(anchors.begin(), anchors.end(), out.data.begin());
        env.setResult(o, 0, std::move(out));
        return true;
      })
      .Case([&](g::MultiBoxDetectionOp o) {
        env.setResult(o, 0, multiBoxDetection(env, o));
        return true;
      })
      .Case([&](g::ROIPoolingOp o) {
        std::vector<int64_t> argmax;
        env.setResult(o, 0,
                      roiPool(env, o, env.get(o, o.getData()), env.get(o, o.getRois()), argmax));
        return true;
      })
      .Case([&](g::ROIPoolingGradOp o) {
        const Array &x = env.get(o, o.getData());
        const Array &dy = env.get(o, o.getOutGrad());
        std::vector<int64_t> argmax;
        roiPool(env, o, x, env.get(o, o.getRois()), argmax);
        Array dx = env.makeResult(o);
        for (size_t i = 0; i < argmax.size(); ++i)
          if (argmax[i] >= 0)
            dx.data[argmax[i]] += dy.data[i];
        env.setResult(o, 0, std::move(dx));
        return true;
      })
      .Case([&](g::PSROIPoolingOp o) {
        const Array &x = env.get(o, o.getData());
        Array out = env.makeResult(o);
        int64_t width = x.shape.size() == 4 ? x.shape[3] : 0;
        forEachPSROIBin(o, x, env.get(o, o.getRois()),
                        [&](int64_t at, int64_t plane, int64_t hs, int64_t he, int64_t ws,
                            int64_t we) {
                          double sum = 0;
                          for (int64_t h = hs; h < he; ++h)
                            for (int64_t w = ws; w < we; ++w)
                              sum += x.data[plane + h * width + w];
                          out.data[at] = sum / static_cast<double>((he - hs) * (we - ws));
                        });
        env.setResult(o, 0, std::move(out));
        return true;
      })
      .Case([&](g::PSROIPoolingGradOp o) {
        const Array &x = env.get(o, o.getData());
        const Array &dy = env.get(o, o.getOutGrad());
        Array dx = env.makeResult(o);
        int64_t width = x.shape.size() == 4 ? x.shape[3] : 0;
        forEachPSROIBin(o, x, env.get(o, o.getRois()),
                        [&](int64_t at, int64_t plane, int64_t hs, int64_t he, int64_t ws,
                            int64_t we) {
                          double share =
                              dy.data[at] / static_cast<double>((he - hs) * (we - ws));
                          for (int64_t h = hs; h < he; ++h)
                            for (int64_t w = ws; w < we; ++w)
                              dx.data[plane + h * width + w] += share;
                        });
        env.setResult(o, 0, std::move(dx));
        return true;
      })
      .Case([&](g::ROIAlignOp o) {
        const Array &x = env.get(o, o.getData());
        Array out = env.makeResult(o);
        forEachROIAlignSample(o, x.shape, env.get(o, o.getRois()), out.shape,
                              [&](int64_t oi, int64_t plane, const Taps &t, double count) {
                                if (!t.valid)
                                  return;
                                double v = 0;
                                for (int k = 0; k < 4; ++k)
                                  v += t.w[k] * x.data[plane + t.pos[k]];
                                out.data[oi] += v / count;
                              });
        env.setResult(o, 0, std::move(out));
        return true;
      })
      .Case([&](g::ROIAlignGradOp o) {
        const Array &x = env.get(o, o.getData());
        const Array &dy = env.get(o, o.getOutGrad());
        Array dx = env.makeResult(o);
        forEachROIAlignSample(o, x.shape, env.get(o, o.getRois()), dy.shape,
                              [&](int64_t oi, int64_t plane, const Taps &t, double count) {
                                if (!t.valid)
                                  return;
                                for (int k = 0; k < 4; ++k)
                                  dx.data[plane + t.pos[k]] += dy.data[oi] * t.w[k] / count;
                              });
        env.setResult(o, 0, std::move(dx));
        return true;
      })
      .Case([&](g::ProposalOp o) {
        proposal(env, o);
        return true;
      })
      .Default([](Operation *) { return false; });
}

} // namespace kiln::ref
