//===- DetectionOps.cpp - Graph dialect: detection heads ----------------------===//
//
// Verifiers, shape rules and gradient rules of GraphDetectionOps.td, and the
// anchors MultiBoxPrior and Proposal derive from their attributes alone
// (shared by the interpreter and the lowering, which bakes them in as
// constants). Shape checks follow MXNet's FInferShape of each op.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "Graph/GraphOpsImpl.h"

#include <cmath>

using namespace mlir;
using namespace kiln::graph;

#define GET_OP_CLASSES
#include "Graph/GraphDetectionOps.cpp.inc"

namespace {

/// MXNet's SHAPE_ASSIGN_CHECK over one op's inference state (ShapeInference's
/// ShapeRule is private to that file).
class DetectionRule {
public:
  DetectionRule(Operation *op, ShapeInferenceState &state) : op(op), state(state) {
    state.operands.resize(op->getNumOperands());
    state.results.clear();
  }

  FailureOr<Shape> need(unsigned idx, StringRef name) {
    if (state.operands[idx])
      return *state.operands[idx];
    op->emitOpError() << "cannot infer the shape of operand '" << name << "'";
    return failure();
  }

  LogicalResult assign(unsigned idx, StringRef name, ArrayRef<int64_t> shape) {
    auto &slot = state.operands[idx];
    if (!slot) {
      slot = Shape(shape.begin(), shape.end());
      return success();
    }
    if (ArrayRef<int64_t>(*slot) == shape)
      return success();
    return op->emitOpError() << "operand '" << name << "' has shape " << formatShape(*slot)
                             << " but the shape rule gives " << formatShape(shape);
  }

  LogicalResult result(ArrayRef<int64_t> shape) {
    state.results.emplace_back(shape.begin(), shape.end());
    return success();
  }

  InFlightDiagnostic error() { return op->emitOpError(); }

private:
  Operation *op;
  ShapeInferenceState &state;
};

LogicalResult checkBoxFormat(Operation *op, StringRef name, StringRef value) {
  if (value == "corner" || value == "center")
    return success();
  return op->emitOpError() << name << " must be 'corner' or 'center', got '" << value << "'";
}

LogicalResult checkPooledSize(Operation *op, ArrayRef<int64_t> pooled, float spatialScale) {
  if (pooled.size() != 2)
    return op->emitOpError() << "pooled_size must have 2 entries (height, width), got "
                             << pooled.size();
  if (pooled[0] <= 0 || pooled[1] <= 0)
    return op->emitOpError() << "pooled_size entries must be positive, got (" << pooled[0]
                             << ", " << pooled[1] << ")";
  if (!(spatialScale >= 0.0f && spatialScale <= 1.0f))
    return op->emitOpError() << "spatial_scale must be in [0, 1], got " << spatialScale;
  return success();
}

/// box_nms and box_nms_grad: MXNet's BoxNMSShape checks of the row layout.
LogicalResult checkNMSLayout(DetectionRule &r, ArrayRef<int64_t> d, int64_t coordStart,
                             int64_t scoreIndex, int64_t idIndex) {
  if (d.size() < 2)
    return r.error() << "expects data of rank at least 2 (..., num_box, width), got rank "
                     << d.size();
  int64_t width = d.back();
  int64_t expected = idIndex >= 0 ? 6 : 5;
  if (width < expected)
    return r.error() << "rows must have at least " << expected
                     << " elements (score, 4 coordinates" << (idIndex >= 0 ? ", id" : "")
                     << "), got " << width;
  int64_t coordEnd = coordStart + 3;
  if (scoreIndex < 0 || scoreIndex >= width)
    return r.error() << "score_index " << scoreIndex << " is out of range [0, " << width << ")";
  if (scoreIndex >= coordStart && scoreIndex <= coordEnd)
    return r.error() << "score_index " << scoreIndex << " overlaps the coordinates ["
                     << coordStart << ", " << coordEnd << "]";
  if (coordStart < 0 || coordEnd >= width)
    return r.error() << "coordinates [" << coordStart << ", " << coordEnd
                     << "] are out of range [0, " << width << ")";
  if (idIndex >= 0) {
    if (idIndex >= width)
      return r.error() << "id_index " << idIndex << " is out of range [0, " << width << ")";
    if (idIndex >= coordStart && idIndex <= coordEnd)
      return r.error() << "id_index " << idIndex << " overlaps the coordinates [" << coordStart
                       << ", " << coordEnd << "]";
    if (idIndex == scoreIndex)
      return r.error() << "id_index and score_index are both " << idIndex;
  }
  return success();
}

/// ROIPooling / ROIAlign: data (N, C, H, W) and rois (R, 5).
FailureOr<std::pair<Shape, Shape>> roiShapes(DetectionRule &r) {
  auto data = r.need(0, "data");
  auto rois = r.need(1, "rois");
  if (failed(data) || failed(rois))
    return failure();
  if (data->size() != 4)
    return (r.error() << "expects data (N, C, H, W), got rank " << data->size(), failure());
  if (rois->size() != 2 || (*rois)[1] != 5)
    return (r.error() << "expects rois (R, 5) rows [batch, x1, y1, x2, y2], got "
                      << formatShape(*rois),
            failure());
  return std::make_pair(*data, *rois);
}

FailureOr<Shape> roiAlignOutput(DetectionRule &r, ArrayRef<int64_t> data, ArrayRef<int64_t> rois,
                                ArrayRef<int64_t> pooled, bool positionSensitive) {
  int64_t channels = data[1];
  if (positionSensitive) {
    if (channels % (pooled[0] * pooled[1]) != 0)
      return (r.error() << "position_sensitive needs the channels (" << channels
                        << ") to be a multiple of pooled_size[0]·pooled_size[1] ("
                        << pooled[0] * pooled[1] << ")",
              failure());
    channels /= pooled[0] * pooled[1];
  }
  return Shape{rois[0], channels, pooled[0], pooled[1]};
}

void noOperandGrads(Operation *op, SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
}

} // namespace

//===----------------------------------------------------------------------===//
// box_nms
//===----------------------------------------------------------------------===//

LogicalResult BoxNMSOp::verify() {
  if (failed(checkBoxFormat(*this, "in_format", getInFormat())) ||
      failed(checkBoxFormat(*this, "out_format", getOutFormat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult BoxNMSOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) ||
      failed(checkNMSLayout(r, *data, (int64_t)getCoordStart(), (int64_t)getScoreIndex(), (int64_t)getIdIndex())))
    return failure();
  return r.result(*data);
}

LogicalResult BoxNMSOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  noOperandGrads(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.makeLike<BoxNMSGradOp>({getData(), resultGrads[0]}, *this);
  return success();
}

LogicalResult BoxNMSGradOp::verify() {
  if (failed(checkBoxFormat(*this, "in_format", getInFormat())) ||
      failed(checkBoxFormat(*this, "out_format", getOutFormat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult BoxNMSGradOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data) ||
      failed(checkNMSLayout(r, *data, (int64_t)getCoordStart(), (int64_t)getScoreIndex(), (int64_t)getIdIndex())) ||
      failed(r.assign(1, "out_grad", *data)))
    return failure();
  return r.result(*data);
}

//===----------------------------------------------------------------------===//
// box_iou
//===----------------------------------------------------------------------===//

LogicalResult BoxIoUOp::verify() {
  if (failed(checkBoxFormat(*this, "format", getFormat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult BoxIoUOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto lhs = r.need(0, "lhs");
  auto rhs = r.need(1, "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  for (auto [name, s] : {std::pair<StringRef, const Shape &>{"lhs", *lhs}, {"rhs", *rhs}})
    if (s.size() < 2 || s.back() != 4)
      return r.error() << name << " must be (..., 4) boxes of rank at least 2, got "
                       << formatShape(s);
  Shape out(lhs->begin(), lhs->end() - 1);
  out.append(rhs->begin(), rhs->end() - 1);
  return r.result(out);
}

//===----------------------------------------------------------------------===//
// box_decode
//===----------------------------------------------------------------------===//

LogicalResult BoxDecodeOp::verify() {
  if (failed(checkBoxFormat(*this, "format", getFormat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult BoxDecodeOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto data = r.need(0, "data");
  auto anchors = r.need(1, "anchors");
  if (failed(data) || failed(anchors))
    return failure();
  if (data->size() != 3 || data->back() != 4)
    return r.error() << "expects data (B, N, 4), got " << formatShape(*data);
  if (anchors->size() < 3 || anchors->back() != 4)
    return r.error() << "expects anchors (1, N, 4), got " << formatShape(*anchors);
  // MXNet reads anchors as (1, N, 4), whatever their leading dimensions.
  int64_t rows = 1;
  for (int64_t d : ArrayRef<int64_t>(*anchors).drop_back())
    rows *= d;
  if (rows < (*data)[1])
    return r.error() << "anchors hold " << rows << " boxes but data has " << (*data)[1];
  return r.result(*data);
}

//===----------------------------------------------------------------------===//
// box_encode
//===----------------------------------------------------------------------===//

LogicalResult BoxEncodeOp::verify() { return verifyShapes(*this); }

LogicalResult BoxEncodeOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto anchors = r.need(2, "anchors");
  auto refs = r.need(3, "refs");
  if (failed(anchors) || failed(refs))
    return failure();
  if (anchors->size() != 3 || anchors->back() != 4)
    return r.error() << "expects anchors (B, N, 4), got " << formatShape(*anchors);
  if (refs->size() != 3 || refs->back() != 4 || (*refs)[0] != (*anchors)[0])
    return r.error() << "expects refs (" << (*anchors)[0] << ", M, 4), got "
                     << formatShape(*refs);
  Shape bn{(*anchors)[0], (*anchors)[1]};
  if (failed(r.assign(0, "samples", bn)) || failed(r.assign(1, "matches", bn)) ||
      failed(r.assign(4, "means", {4})) || failed(r.assign(5, "stds", {4})))
    return failure();
  (void)r.result(*anchors);
  return r.result(*anchors);
}

//===----------------------------------------------------------------------===//
// MultiBoxPrior
//===----------------------------------------------------------------------===//

LogicalResult MultiBoxPriorOp::verify() {
  ArrayRef<double> sizes = getSizes(), ratios = getRatios(), steps = getSteps(),
                   offsets = getOffsets();
  if (sizes.empty() || ratios.empty())
    return emitOpError() << "needs at least one size and one ratio";
  for (double r : ratios)
    if (!(r > 0))
      return emitOpError() << "ratios must be positive, got " << r;
  if (steps.size() != 2)
    return emitOpError() << "steps must have 2 entries (step_y, step_x), got " << steps.size();
  if (steps[0] * steps[1] < 0)
    return emitOpError() << "steps must both be given or both be non-positive, got ("
                         << steps[0] << ", " << steps[1] << ")";
  if (offsets.size() != 2)
    return emitOpError() << "offsets must have 2 entries (y, x), got " << offsets.size();
  for (double o : offsets)
    if (!(o >= 0 && o <= 1))
      return emitOpError() << "offsets must be in [0, 1], got " << o;
  return verifyShapes(*this);
}

LogicalResult MultiBoxPriorOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->size() < 4)
    return r.error() << "expects data (N, C, H, W), got rank " << data->size();
  int64_t perPosition = (int64_t)getSizes().size() + (int64_t)getRatios().size() - 1;
  return r.result({1, (*data)[2] * (*data)[3] * perPosition, 4});
}

std::vector<float> MultiBoxPriorOp::computeAnchors(int64_t height, int64_t width) {
  // MXNet's MultiBoxPriorForward, in float32 like MXNet's only kernel.
  std::vector<float> sizes, ratios;
  for (double s : getSizes())
    sizes.push_back((float)s);
  for (double r : getRatios())
    ratios.push_back((float)r);
  float stepY = (float)getSteps()[0], stepX = (float)getSteps()[1];
  if (stepY <= 0 || stepX <= 0) {
    stepY = 1.f / (float)height;
    stepX = 1.f / (float)width;
  }
  float offY = (float)getOffsets()[0], offX = (float)getOffsets()[1];
  std::vector<float> out;
  out.reserve(height * width * (sizes.size() + ratios.size() - 1) * 4);
  auto push = [&](float cx, float cy, float size, float ratio) {
    float w = size * (float)height / (float)width * ratio / 2;
    float h = size / ratio / 2;
    for (float v : {cx - w, cy - h, cx + w, cy + h})
      out.push_back(getClip() ? std::min(std::max(v, 0.f), 1.f) : v);
  };
  for (int64_t y = 0; y < height; ++y) {
    float cy = ((float)y + offY) * stepY;
    for (int64_t x = 0; x < width; ++x) {
      float cx = ((float)x + offX) * stepX;
      float firstRatio = std::sqrt(ratios[0]);
      for (float s : sizes)
        push(cx, cy, s, firstRatio);
      for (size_t j = 1; j < ratios.size(); ++j)
        push(cx, cy, sizes[0], std::sqrt(ratios[j]));
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// MultiBoxDetection
//===----------------------------------------------------------------------===//

LogicalResult MultiBoxDetectionOp::verify() {
  if (getVariances().size() != 4)
    return emitOpError() << "variances must have 4 entries, got " << getVariances().size();
  return verifyShapes(*this);
}

LogicalResult MultiBoxDetectionOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto cls = r.need(0, "cls_prob");
  auto loc = r.need(1, "loc_pred");
  auto anchor = r.need(2, "anchor");
  if (failed(cls) || failed(loc) || failed(anchor))
    return failure();
  if (cls->size() != 3)
    return r.error() << "expects cls_prob (N, classes, anchors), got " << formatShape(*cls);
  if (loc->size() != 2)
    return r.error() << "expects loc_pred (N, 4·anchors), got " << formatShape(*loc);
  if (anchor->size() != 3 || (*anchor)[2] != 4)
    return r.error() << "expects anchor (1, anchors, 4), got " << formatShape(*anchor);
  if ((*cls)[2] != (*anchor)[1])
    return r.error() << "cls_prob has " << (*cls)[2] << " anchors but anchor has "
                     << (*anchor)[1];
  if ((*cls)[2] * 4 != (*loc)[1])
    return r.error() << "loc_pred has " << (*loc)[1] << " values per image, expected 4·"
                     << (*cls)[2];
  if ((*anchor)[1] <= 0)
    return r.error() << "needs at least one anchor";
  return r.result({(*cls)[0], (*anchor)[1], 6});
}

//===----------------------------------------------------------------------===//
// ROIPooling
//===----------------------------------------------------------------------===//

LogicalResult ROIPoolingOp::verify() {
  if (failed(checkPooledSize(*this, getPooledSize(), getSpatialScale().convertToFloat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ROIPoolingOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto shapes = roiShapes(r);
  if (failed(shapes))
    return failure();
  auto [data, rois] = *shapes;
  return r.result({rois[0], data[1], getPooledSize()[0], getPooledSize()[1]});
}

LogicalResult ROIPoolingOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                          SmallVectorImpl<Value> &operandGrads) {
  noOperandGrads(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] =
      g.makeLike<ROIPoolingGradOp>({getData(), getRois(), resultGrads[0]}, *this);
  return success();
}

//===----------------------------------------------------------------------===//
// PSROIPooling
//===----------------------------------------------------------------------===//

namespace {

template <typename OpT> LogicalResult verifyPSROIPooling(OpT op) {
  auto pooled = static_cast<int64_t>(op.getPooledSize());
  if (failed(checkPooledSize(op, {pooled, pooled}, op.getSpatialScale().convertToFloat())))
    return failure();
  if (static_cast<int64_t>(op.getOutputDim()) < 1)
    return op.emitOpError() << "output_dim must be positive, got "
                            << static_cast<int64_t>(op.getOutputDim());
  if (static_cast<int64_t>(op.getGroupSize()) < 0)
    return op.emitOpError() << "group_size must not be negative, got "
                            << static_cast<int64_t>(op.getGroupSize());
  return verifyShapes(op);
}

/// The forward's result shape; the channels must hold output_dim·g² groups.
template <typename OpT>
FailureOr<std::pair<Shape, Shape>> psroiShapes(OpT op, DetectionRule &r) {
  auto shapes = roiShapes(r);
  if (failed(shapes))
    return failure();
  auto [data, rois] = *shapes;
  int64_t g = op.getGroups(), dim = op.getOutputDim(), pooled = op.getPooledSize();
  if (data[1] < dim * g * g)
    return (r.error() << "needs at least output_dim * group_size^2 = " << dim * g * g
                      << " channels, got " << data[1],
            failure());
  return std::make_pair(data, Shape{rois[0], dim, pooled, pooled});
}

} // namespace

LogicalResult PSROIPoolingOp::verify() { return verifyPSROIPooling(*this); }
LogicalResult PSROIPoolingGradOp::verify() { return verifyPSROIPooling(*this); }

LogicalResult PSROIPoolingOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto shapes = psroiShapes(*this, r);
  if (failed(shapes))
    return failure();
  return r.result(shapes->second);
}

LogicalResult PSROIPoolingOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                            SmallVectorImpl<Value> &operandGrads) {
  noOperandGrads(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] =
      g.makeLike<PSROIPoolingGradOp>({getData(), getRois(), resultGrads[0]}, *this);
  return success();
}

LogicalResult PSROIPoolingGradOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto shapes = psroiShapes(*this, r);
  if (failed(shapes) || failed(r.assign(2, "out_grad", shapes->second)))
    return failure();
  return r.result(shapes->first);
}

LogicalResult ROIPoolingGradOp::verify() {
  if (failed(checkPooledSize(*this, getPooledSize(), getSpatialScale().convertToFloat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ROIPoolingGradOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto shapes = roiShapes(r);
  if (failed(shapes))
    return failure();
  auto [data, rois] = *shapes;
  if (failed(r.assign(2, "out_grad",
                      {rois[0], data[1], getPooledSize()[0], getPooledSize()[1]})))
    return failure();
  return r.result(data);
}

//===----------------------------------------------------------------------===//
// ROIAlign
//===----------------------------------------------------------------------===//

LogicalResult ROIAlignOp::verify() {
  if (failed(checkPooledSize(*this, getPooledSize(), getSpatialScale().convertToFloat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ROIAlignOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto shapes = roiShapes(r);
  if (failed(shapes))
    return failure();
  auto out = roiAlignOutput(r, shapes->first, shapes->second, getPooledSize(),
                            getPositionSensitive());
  if (failed(out))
    return failure();
  return r.result(*out);
}

LogicalResult ROIAlignOp::buildGradient(OpBuilder &builder, ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  noOperandGrads(*this, operandGrads);
  if (!resultGrads[0])
    return success();
  GradBuilder g(builder, *this);
  operandGrads[0] = g.makeLike<ROIAlignGradOp>({getData(), getRois(), resultGrads[0]}, *this);
  return success();
}

LogicalResult ROIAlignGradOp::verify() {
  if (failed(checkPooledSize(*this, getPooledSize(), getSpatialScale().convertToFloat())))
    return failure();
  return verifyShapes(*this);
}

LogicalResult ROIAlignGradOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto shapes = roiShapes(r);
  if (failed(shapes))
    return failure();
  auto out = roiAlignOutput(r, shapes->first, shapes->second, getPooledSize(),
                            getPositionSensitive());
  if (failed(out) || failed(r.assign(2, "out_grad", *out)))
    return failure();
  return r.result(shapes->first);
}

//===----------------------------------------------------------------------===//
// Proposal
//===----------------------------------------------------------------------===//

LogicalResult ProposalOp::verify() {
  unsigned expected = getOutputScore() ? 2 : 1;
  if (getNumResults() != expected)
    return emitOpError() << "has " << getNumResults() << " results but output_score = "
                         << (getOutputScore() ? "true" : "false") << " gives " << expected;
  if (getScales().empty() || getRatios().empty())
    return emitOpError() << "needs at least one scale and one ratio";
  for (double r : getRatios())
    if (!(r > 0))
      return emitOpError() << "ratios must be positive, got " << r;
  if ((int64_t)getFeatureStride() <= 0)
    return emitOpError() << "feature_stride must be positive, got " << (int64_t)getFeatureStride();
  if ((int64_t)getRpnPostNmsTopN() <= 0)
    return emitOpError() << "rpn_post_nms_top_n must be positive, got "
                         << (int64_t)getRpnPostNmsTopN();
  return verifyShapes(*this);
}

LogicalResult ProposalOp::inferShapes(ShapeInferenceState &state) {
  DetectionRule r(*this, state);
  auto cls = r.need(0, "cls_prob");
  if (failed(cls))
    return failure();
  if (cls->size() != 4)
    return r.error() << "expects cls_prob (1, 2·anchors, H, W), got " << formatShape(*cls);
  Shape c = *cls;
  if (c[0] != 1)
    return r.error() << "supports batch size 1 only (as MXNet), got " << c[0];
  int64_t anchors = (int64_t)(getScales().size() * getRatios().size());
  if (c[1] != 2 * anchors)
    return r.error() << "cls_prob has " << c[1] << " channels but " << getRatios().size()
                     << " ratios × " << getScales().size() << " scales need 2·" << anchors;
  if (failed(r.assign(1, "bbox_pred", {c[0], 2 * c[1], c[2], c[3]})) ||
      failed(r.assign(2, "im_info", {c[0], 3})))
    return failure();
  int64_t n = (int64_t)getRpnPostNmsTopN();
  if (failed(r.result({n, 5})))
    return failure();
  if (getOutputScore())
    return r.result({n, 1});
  return success();
}

std::vector<float> ProposalOp::computeBaseAnchors() {
  // MXNet's GenerateAnchors over the base box [0, 0, stride-1, stride-1], in
  // float32 (its floor()s make the sizes depend on the rounding).
  float stride = (float)(int64_t)getFeatureStride();
  float baseW = stride - 1.0f + 1.0f, baseH = stride - 1.0f + 1.0f;
  float ctrX = 0.5f * (baseW - 1.0f), ctrY = 0.5f * (baseH - 1.0f);
  float size = baseW * baseH;
  std::vector<float> out;
  for (double ratioD : getRatios()) {
    float ratio = (float)ratioD;
    for (double scaleD : getScales()) {
      float scale = (float)scaleD;
      float sizeRatios = std::floor(size / ratio);
      float w = std::floor(std::sqrt(sizeRatios) + 0.5f) * scale;
      float h = std::floor((w / scale * ratio) + 0.5f) * scale;
      out.push_back(ctrX - 0.5f * (w - 1.0f));
      out.push_back(ctrY - 0.5f * (h - 1.0f));
      out.push_back(ctrX + 0.5f * (w - 1.0f));
      out.push_back(ctrY + 0.5f * (h - 1.0f));
    }
  }
  return out;
}
