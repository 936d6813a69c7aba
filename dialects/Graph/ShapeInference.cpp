//===- ShapeInference.cpp - Graph dialect shape rules ---------------------===//
//
// One shape rule per op, MXNet style: results are computed from the known
// operand shapes and, like MXNet's FInferShape, unknown operand shapes that
// the attributes imply (parameter shapes, labels) are filled in. The verifier
// (verifyShapes) and kiln-graph-infer-shapes both run these rules, so each
// shape formula exists exactly once.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOpsImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
using namespace kiln::graph;

std::string kiln::graph::formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << '(';
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << '?';
    else
      os << d;
  });
  os << ')';
  return s;
}

namespace {

/// Checks that `data` has `kernelRank` spatial dimensions after N and C.
LogicalResult checkSpatialRank(ShapeRule &r, ArrayRef<int64_t> data, size_t kernelRank) {
  if (data.size() != kernelRank + 2)
    return r.error() << "expects a rank-" << kernelRank + 2 << " input for a "
                     << kernelRank << "-D kernel, got rank " << data.size();
  return success();
}

/// Convolution and Deconvolution share their parameter rules: the input's
/// channels split into `numGroup` groups, the weight is
/// [filters, C/g, *kernel] (Convolution) or [C, filters/g, *kernel] (the
/// transposed Deconvolution), and the bias has one entry per filter.
LogicalResult assignConvParameters(ShapeRule &r, ArrayRef<int64_t> data, ArrayRef<int64_t> kernel,
                                   int64_t numGroup, int64_t numFilter, bool transposed,
                                   bool hasBias) {
  if (failed(checkSpatialRank(r, data, kernel.size())))
    return failure();
  int64_t c = data[1];
  if (numGroup <= 0 || c % numGroup != 0)
    return r.error() << "num_group (" << numGroup << ") must divide the input channels (" << c
                     << ")";
  Shape w = transposed ? Shape{c, numFilter / numGroup} : Shape{numFilter, c / numGroup};
  w.append(kernel.begin(), kernel.end());
  if (failed(r.assign(1, "weight", w)))
    return failure();
  if (hasBias && failed(r.assign(2, "bias", {numFilter})))
    return failure();
  return success();
}

/// MXNet's InferReshapeShape, including its handling of `reverse`.
FailureOr<Shape> reshapeShape(ShapeRule &r, ArrayRef<int64_t> codes, ArrayRef<int64_t> dshape,
                              bool reverse) {
  SmallVector<int64_t> src(dshape.begin(), dshape.end());
  SmallVector<int64_t> params(codes.begin(), codes.end());
  if (reverse) {
    std::reverse(src.begin(), src.end());
    std::reverse(params.begin(), params.end());
  }
  Shape tmp;
  size_t srcIdx = 0;
  int64_t infIdx = -1;
  auto tooShort = [&](int64_t code) {
    r.error() << "reshape: code " << code << " needs more input dimensions than the "
              << src.size() << " of " << formatShape(dshape);
    return failure();
  };
  for (size_t i = 0; i < params.size(); ++i) {
    int64_t p = params[i];
    if (p == 0) {
      if (srcIdx >= src.size())
        return tooShort(p);
      tmp.push_back(src[srcIdx++]);
    } else if (p == -1) {
      if (infIdx >= 0)
        return r.error() << "reshape: more than one -1 in shape", failure();
      infIdx = tmp.size();
      tmp.push_back(1);
      ++srcIdx;
    } else if (p == -2) {
      while (srcIdx < src.size())
        tmp.push_back(src[srcIdx++]);
    } else if (p == -3) {
      if (srcIdx + 1 >= src.size())
        return tooShort(p);
      int64_t d1 = src[srcIdx++], d2 = src[srcIdx++];
      tmp.push_back(d1 * d2);
    } else if (p == -4) {
      if (i + 2 >= params.size())
        return r.error() << "reshape: -4 must be followed by two dimensions", failure();
      if (srcIdx >= src.size())
        return tooShort(p);
      int64_t d0 = src[srcIdx++];
      int64_t d1 = params[++i], d2 = params[++i];
      if (d1 == -1 && d2 == -1)
        return r.error() << "reshape: split dims cannot both be -1", failure();
      if (d1 == -1 && d2 > 0)
        d1 = d0 / d2;
      if (d2 == -1 && d1 > 0)
        d2 = d0 / d1;
      if (d1 * d2 != d0)
        return r.error() << "reshape: split dims " << d1 << ", " << d2
                         << " do not multiply to the input dimension " << d0,
               failure();
      tmp.push_back(d1);
      tmp.push_back(d2);
    } else if (p > 0) {
      tmp.push_back(p);
      ++srcIdx;
    } else {
      return r.error() << "reshape: invalid code " << p << " in shape", failure();
    }
  }
  int64_t size = numElements(dshape);
  if (infIdx >= 0) {
    int64_t known = numElements(tmp);
    if (known == 0 || size % known != 0)
      return r.error() << "reshape: cannot infer the -1 dimension reshaping "
                       << formatShape(dshape) << " with shape "
                       << formatShape(codes),
             failure();
    tmp[infIdx] = size / known;
  }
  if (reverse)
    std::reverse(tmp.begin(), tmp.end());
  if (numElements(tmp) != size)
    return r.error() << "reshape: target shape " << formatShape(tmp)
                     << " has a different size than the input " << formatShape(dshape),
           failure();
  return tmp;
}

} // namespace

/// Ops whose operands and result all share one shape: any known operand
/// determines the others (MXNet's ElemwiseShape).
LogicalResult kiln::graph::inferSameShape(Operation *op, ShapeInferenceState &state,
                                          ArrayRef<StringRef> names) {
  ShapeRule r(op, state);
  std::optional<Shape> shape;
  for (unsigned i = 0, e = op->getNumOperands(); i < e; ++i)
    if (r.known(i)) {
      shape = *state.operands[i];
      break;
    }
  // Fixed operands have one name each; a variadic list is "inputs #i".
  auto nameOf = [&](unsigned i) -> std::string {
    if (names.size() == op->getNumOperands())
      return names[i].str();
    return (names[0] + " #" + llvm::Twine(i)).str();
  };
  if (!shape) {
    (void)r.need(0, nameOf(0));
    return failure();
  }
  for (unsigned i = 0, e = op->getNumOperands(); i < e; ++i)
    if (failed(r.assign(i, nameOf(i), *shape)))
      return failure();
  return r.result(*shape);
}


LogicalResult kiln::graph::inferBroadcast(Operation *op, ShapeInferenceState &state) {
  ShapeRule r(op, state);
  auto lhs = r.need(0, "lhs");
  if (failed(lhs))
    return failure();
  auto rhs = r.need(1, "rhs");
  if (failed(rhs))
    return failure();
  size_t rank = std::max(lhs->size(), rhs->size());
  Shape out(rank, 1);
  size_t bl = rank - lhs->size(), br = rank - rhs->size();
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i >= bl ? (*lhs)[i - bl] : 1;
    int64_t rr = i >= br ? (*rhs)[i - br] : 1;
    if (l != rr && l != 1 && rr != 1)
      return r.error() << "operands could not be broadcast together with shapes "
                       << formatShape(*lhs) << " and " << formatShape(*rhs);
    out[i] = l == 1 ? rr : l;
  }
  return r.result(out);
}

LogicalResult kiln::graph::inferReduce(Operation *op, ShapeInferenceState &state,
                                       std::optional<ArrayRef<int64_t>> axisAttr, bool keepdims,
                                       bool exclude) {
  ShapeRule r(op, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  int64_t rank = data->size();
  // MXNet treats an absent or empty axis as "reduce everything", even with
  // exclude, and a full reduction without keepdims yields shape (1).
  if (!axisAttr || axisAttr->empty())
    return r.result(keepdims ? Shape(rank, 1) : Shape{1});
  SmallVector<int64_t> axes;
  for (int64_t a : *axisAttr) {
    auto n = r.axis(a, rank);
    if (failed(n))
      return failure();
    axes.push_back(*n);
  }
  llvm::sort(axes);
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] == axes[i - 1])
      return r.error() << "reduction axes contain axis " << axes[i] << " twice";
  auto listed = [&](int64_t i) { return llvm::is_contained(axes, i); };
  Shape out;
  bool keep = keepdims;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = exclude ? !listed(i) : listed(i);
    if (!reduced)
      out.push_back((*data)[i]);
    else if (keep)
      out.push_back(1);
  }
  if (out.empty())
    out.push_back(1);
  return r.result(out);
}


//===----------------------------------------------------------------------===//
// Neural-network layers
//===----------------------------------------------------------------------===//

LogicalResult FullyConnectedOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->empty())
    return r.error() << "expects an input of rank at least 1";
  int64_t n = getNumHidden();
  Shape out;
  int64_t k;
  if (getFlatten()) {
    k = numElements(ArrayRef<int64_t>(*data).drop_front());
    out = {(*data)[0], n};
  } else {
    k = data->back();
    out.assign(data->begin(), data->end() - 1);
    out.push_back(n);
  }
  if (failed(r.assign(1, "weight", {n, k})))
    return failure();
  if (getBias() && failed(r.assign(2, "bias", {n})))
    return failure();
  return r.result(out);
}

LogicalResult ConvolutionOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> kernel = getKernel();
  int64_t f = getNumFilter();
  if (failed(assignConvParameters(r, *data, kernel, getNumGroup(), f, /*transposed=*/false,
                                  bool(getBias()))))
    return failure();
  SmallVector<int64_t> s = getStrides(), d = getDilations(), p = getPads();
  Shape out{(*data)[0], f};
  for (size_t i = 0; i < kernel.size(); ++i) {
    int64_t in = (*data)[i + 2] + 2 * p[i];
    int64_t k = d[i] * (kernel[i] - 1) + 1;
    if (k > in)
      return r.error() << "dilated kernel size " << k << " exceeds padded input size "
                       << in << " in spatial dimension " << i;
    out.push_back((in - k) / s[i] + 1);
  }
  return r.result(out);
}

LogicalResult DeconvolutionOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> kernel = getKernel();
  int64_t f = getNumFilter();
  if (failed(assignConvParameters(r, *data, kernel, getNumGroup(), f, /*transposed=*/true,
                                  bool(getBias()))))
    return failure();
  ArrayRef<int64_t> spatial = ArrayRef<int64_t>(*data).drop_front(2);
  SmallVector<int64_t> s = getStrides(), d = getDilations();
  ArrayRef<int64_t> target = getTargetShape();
  Shape out{(*data)[0], f};
  for (size_t i = 0; i < kernel.size(); ++i) {
    int64_t full = s[i] * (spatial[i] - 1) + d[i] * (kernel[i] - 1) + 1;
    if (i < target.size() && target[i] > full)
      return r.error() << "target_shape[" << i << "] (" << target[i]
                       << ") is too big: the input allows at most " << full;
  }
  SmallVector<int64_t> p = getPads(spatial), a = getAdjs(spatial);
  for (size_t i = 0; i < kernel.size(); ++i) {
    int64_t o = s[i] * (spatial[i] - 1) + d[i] * (kernel[i] - 1) + 1 - 2 * p[i] + a[i];
    if (o <= 0)
      return r.error() << "output size " << o << " in spatial dimension " << i
                       << " is not positive";
    out.push_back(o);
  }
  return r.result(out);
}

/// The output shape of Pooling (and of the forward that a pooling_grad
/// differentiates).
template <typename PoolOp>
static FailureOr<Shape> poolingOutputShape(ShapeRule &r, PoolOp op, ArrayRef<int64_t> data) {
  if (op.getGlobalPool()) {
    if (data.size() < 3 || data.size() > 5)
      return r.error() << "global pooling expects a rank-3, 4 or 5 input, got rank "
                       << data.size(),
             failure();
    Shape out{data[0], data[1]};
    out.append(data.size() - 2, 1);
    return out;
  }
  ArrayRef<int64_t> kernel = op.getKernel();
  if (failed(checkSpatialRank(r, data, kernel.size())))
    return failure();
  SmallVector<int64_t> s = op.getStrides(), p = op.getPads();
  Shape out{data[0], data[1]};
  for (size_t i = 0; i < kernel.size(); ++i) {
    int64_t x = data[i + 2];
    int64_t in = x + 2 * p[i];
    if (kernel[i] > in)
      return r.error() << "kernel size " << kernel[i] << " exceeds padded input size "
                       << in << " in spatial dimension " << i,
             failure();
    switch (op.getPoolingConvention()) {
    case PoolingConvention::valid:
      out.push_back((in - kernel[i]) / s[i] + 1);
      break;
    case PoolingConvention::full:
      out.push_back((in - kernel[i] + s[i] - 1) / s[i] + 1);
      break;
    case PoolingConvention::same:
      out.push_back((x + s[i] - 1) / s[i]);
      break;
    }
  }
  return out;
}

LogicalResult PoolingOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto out = poolingOutputShape(r, *this, *data);
  if (failed(out))
    return failure();
  return r.result(*out);
}

LogicalResult LeakyReLUOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  // MXNet: gamma is [C] with C = axis 1 ([1] for a 1-D input), or [1]
  // shared by every channel (Gluon's PReLU default).
  if (getGamma()) {
    int64_t c = data->size() >= 2 ? (*data)[1] : 1;
    if (data->empty())
      return r.error() << "prelu expects an input of rank at least 1";
    bool shared = r.known(1) && *state.operands[1] == Shape{1};
    if (!shared && failed(r.assign(1, "gamma", {c})))
      return failure();
  }
  return r.result(*data);
}

/// BatchNorm's and SyncBatchNorm's rule: gamma, beta and the moving
/// statistics have the channel axis's size.
template <typename BatchNormLike>
static LogicalResult inferBatchNorm(BatchNormLike op, ShapeInferenceState &state) {
  ShapeRule r(op, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis(op.getAxis(), data->size());
  if (failed(axis))
    return failure();
  int64_t c = (*data)[*axis];
  static const char *names[] = {"gamma", "beta", "moving_mean", "moving_var"};
  for (unsigned i = 0; i < 4; ++i)
    if (failed(r.assign(i + 1, names[i], {c})))
      return failure();
  return r.result(*data);
}

LogicalResult BatchNormOp::inferShapes(ShapeInferenceState &state) {
  return inferBatchNorm(*this, state);
}

LogicalResult SyncBatchNormOp::inferShapes(ShapeInferenceState &state) {
  return inferBatchNorm(*this, state);
}

LogicalResult LRNOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->size() < 2)
    return r.error() << "expects an input with a channel axis (rank at least 2), got rank "
                     << data->size();
  return r.result(*data);
}

LogicalResult IdentityOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  return r.result(*data);
}

LogicalResult DropoutOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  for (int64_t a : getAxes())
    if (failed(r.axis(a, data->size())))
      return failure();
  return r.result(*data);
}

LogicalResult EmbeddingOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (failed(r.assign(1, "weight", {(int64_t)getInputDim(), (int64_t)getOutputDim()})))
    return failure();
  Shape out = *data;
  out.push_back((int64_t)getOutputDim());
  return r.result(out);
}

//===----------------------------------------------------------------------===//
// Softmax family and loss heads
//===----------------------------------------------------------------------===//

/// SoftmaxOutput's label rule (shared with softmax_output_grad), MXNet's
/// SoftmaxOutputShape: the label holds class ids or, with data's shape,
/// probabilities.
static LogicalResult inferSoftmaxLabel(ShapeRule &r, ShapeInferenceState &state,
                                       ArrayRef<int64_t> d, bool multiOutput,
                                       bool preserveShape) {
  // Class-id label shapes, the first being the one inferred when the label is
  // unknown. With multi_output MXNet accepts (N, spatial size),
  // (N, spatial...) and (N, 1, spatial...), which hold the same ids in the
  // same order. Otherwise it requires data.shape[:-1], of which only the
  // first N values are read unless preserve_shape; Kiln also accepts (N).
  SmallVector<Shape, 3> classIds;
  if (multiOutput) {
    if (d.size() < 2)
      return r.error() << "multi_output expects an input of rank at least 2, got rank "
                       << d.size();
    Shape l2{d[0]};
    l2.append(d.begin() + 2, d.end());
    Shape l1{d[0], numElements(d.drop_front(2))};
    Shape l3(d.begin(), d.end());
    l3[1] = 1;
    classIds = {l1, l2, l3};
  } else {
    if (d.empty())
      return r.error() << "expects an input of rank at least 1";
    // Rank-1 data: one class per element (MXNet's rule would give a scalar
    // label, of which its kernel reads N values).
    classIds.push_back(d.size() == 1 ? Shape{d[0]} : Shape(d.drop_back()));
    if (!preserveShape && d.size() > 2)
      classIds.push_back(Shape{d[0]});
  }
  if (!r.known(1)) {
    (void)r.assign(1, "label", classIds.front());
    return success();
  }
  ArrayRef<int64_t> label = *state.operands[1];
  if (label == d || llvm::any_of(classIds, [&](const Shape &s) {
        return ArrayRef<int64_t>(s) == label;
      }))
    return success();
  return r.error() << "operand 'label' has shape " << formatShape(label)
                   << " but the shape rule gives " << formatShape(classIds.front())
                   << " (class ids) or " << formatShape(d) << " (probabilities)";
}

LogicalResult SoftmaxOutputOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  Shape d = *data;
  if (failed(inferSoftmaxLabel(r, state, d, getMultiOutput(), getPreserveShape())))
    return failure();
  return r.result(d);
}

/// MXNet's RegressionOpShape: the label defaults to the data shape, except
/// that an (N, 1) output takes an (N) label; a known label must agree on N and
/// on the element count.
LogicalResult kiln::graph::inferRegression(Operation *op, ShapeInferenceState &state) {
  ShapeRule r(op, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> d = *data;
  if (d.empty())
    return r.error() << "expects an input of rank at least 1";
  if (!r.known(1)) {
    if (d.size() == 2 && d[1] == 1)
      (void)r.assign(1, "label", {d[0]});
    else
      (void)r.assign(1, "label", d);
    return r.result(d);
  }
  ArrayRef<int64_t> l = *state.operands[1];
  if (l.empty() || l[0] != d[0] || numElements(l) != numElements(d))
    return r.error() << "operand 'label' has shape " << formatShape(l)
                     << " but the shape rule needs the batch size " << d[0]
                     << " and " << numElements(d) << " elements, as data "
                     << formatShape(d);
  return r.result(d);
}


LogicalResult kiln::graph::inferSoftmaxLike(Operation *op, ShapeInferenceState &state,
                                            int64_t axis) {
  ShapeRule r(op, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (failed(r.axis(axis, data->size())))
    return failure();
  return r.result(*data);
}

LogicalResult SoftmaxOp::inferShapes(ShapeInferenceState &state) {
  if (failed(inferSoftmaxLike(*this, state, getAxis())))
    return failure();
  if (!getLength())
    return success();
  // MXNet's SoftmaxOpShape: one length per row along `axis`.
  Shape d = state.results[0];
  ShapeRule r(*this, state);
  auto axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += static_cast<int64_t>(d.size());
  Shape len;
  for (int64_t i = 0; i < (int64_t)d.size(); ++i)
    if (i != axis)
      len.push_back(d[i]);
  if (len.empty())
    len.push_back(1);
  if (failed(r.assign(1, "length", len)))
    return failure();
  return r.result(d);
}

LogicalResult SoftmaxActivationOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  // MXNet's kernel insists on a spatial axis in channel mode.
  if (getMode() == SoftmaxMode::channel && data->size() < 3)
    return r.error() << "mode channel expects an input of rank at least 3, got rank "
                     << data->size();
  if (data->empty())
    return r.error() << "expects an input of rank at least 1";
  return r.result(*data);
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult FlattenOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  if (data->empty())
    return r.error() << "expects an input of rank at least 1";
  return r.result({(*data)[0], numElements(ArrayRef<int64_t>(*data).drop_front())});
}

LogicalResult ReshapeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto out = reshapeShape(r, getShape(), *data, getReverse());
  if (failed(out))
    return failure();
  return r.result(*out);
}

LogicalResult TransposeOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> axes = getAxes();
  Shape out;
  if (axes.empty()) {
    out.assign(data->rbegin(), data->rend());
    return r.result(out);
  }
  if (axes.size() != data->size())
    return r.error() << "transpose has " << axes.size() << " axes but the input has rank "
                     << data->size();
  for (int64_t a : axes) {
    if (a < 0 || a >= (int64_t)data->size())
      return r.error() << "transpose axes must be a permutation of [0, rank)";
    out.push_back((*data)[a]);
  }
  return r.result(out);
}

LogicalResult ConcatOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  unsigned n = getNumOperands();
  if (n == 0)
    return r.error() << "concat needs at least one input";
  auto first = r.need(0, "inputs #0");
  if (failed(first))
    return failure();
  auto dim = r.axis(getDim(), first->size(), "dim");
  if (failed(dim))
    return failure();
  Shape out = *first;
  for (unsigned i = 1; i < n; ++i) {
    std::string name = ("inputs #" + llvm::Twine(i)).str();
    auto s = r.need(i, name);
    if (failed(s))
      return failure();
    bool ok = s->size() == out.size();
    for (size_t j = 0; ok && j < out.size(); ++j)
      ok = j == (size_t)*dim || (*s)[j] == out[j];
    if (!ok)
      return r.error() << "operand '" << name << "' has shape " << formatShape(*s)
                       << ", which does not match " << formatShape(*first)
                       << " outside dim " << *dim;
    out[*dim] += (*s)[*dim];
  }
  return r.result(out);
}

LogicalResult SplitOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis(getAxis(), data->size());
  if (failed(axis))
    return failure();
  int64_t n = getNumOutputs(), size = (*data)[*axis];
  if (n <= 0 || size % n != 0)
    return r.error() << "split: axis size " << size << " is not divisible by num_outputs "
                     << n;
  Shape part = *data;
  if (getSqueezeAxis()) {
    if (size != n)
      return r.error() << "split: squeeze_axis needs parts of size 1, but axis size "
                       << size << " is split into " << n;
    part.erase(part.begin() + *axis);
  } else {
    part[*axis] = size / n;
  }
  for (int64_t i = 0; i < n; ++i)
    (void)r.result(part);
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//


LogicalResult AddNOp::inferShapes(ShapeInferenceState &state) {
  if (getNumOperands() == 0)
    return emitOpError() << "add_n needs at least one input";
  return inferSameShape(*this, state, {"inputs"});
}


LogicalResult BroadcastToOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> target = getShape();
  auto bad = [&]() {
    return r.error() << "broadcast_to: cannot broadcast " << formatShape(*data) << " to "
                     << formatShape(target);
  };
  if (target.size() != data->size())
    return bad();
  Shape out;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t x = (*data)[i], t = target[i];
    if (t == 0) {
      out.push_back(x);
      continue;
    }
    if (x != t && x != 1)
      return bad();
    out.push_back(t);
  }
  return r.result(out);
}


//===----------------------------------------------------------------------===//
// Training and gradient ops (GraphGradOps.td)
//===----------------------------------------------------------------------===//

Shape DotOp::lhsMatrix(ArrayRef<int64_t> lhs, bool transposeA) {
  if (lhs.size() <= 1) {
    int64_t k = lhs.empty() ? 1 : lhs[0];
    return transposeA ? Shape{k, 1} : Shape{1, k};
  }
  if (transposeA)
    return {lhs[0], numElements(lhs.drop_front())};
  return {numElements(lhs.drop_back()), lhs.back()};
}

Shape DotOp::rhsMatrix(ArrayRef<int64_t> rhs, bool transposeB) {
  if (rhs.size() <= 1) {
    int64_t k = rhs.empty() ? 1 : rhs[0];
    return transposeB ? Shape{1, k} : Shape{k, 1};
  }
  if (transposeB)
    return {numElements(rhs.drop_back()), rhs.back()};
  return {rhs[0], numElements(rhs.drop_front())};
}

/// MXNet's DotShape.
LogicalResult DotOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto lhs = r.need(0, "lhs");
  if (failed(lhs))
    return failure();
  auto rhs = r.need(1, "rhs");
  if (failed(rhs))
    return failure();
  bool ta = getTransposeA(), tb = getTransposeB();
  if (lhs->empty() || rhs->empty())
    return r.error() << "expects operands of rank at least 1, got " << formatShape(*lhs)
                     << " and " << formatShape(*rhs);
  if (lhs->size() == 1 && rhs->size() == 1 && (ta || tb))
    return r.error() << "cannot transpose vectors";
  Shape a = lhsMatrix(*lhs, ta), b = rhsMatrix(*rhs, tb);
  int64_t k = ta ? a[0] : a[1], k2 = tb ? b[1] : b[0];
  if (k != k2)
    return r.error() << "contraction sizes differ: " << k << " (lhs " << formatShape(*lhs)
                     << ") and " << k2 << " (rhs " << formatShape(*rhs) << ")";
  Shape out;
  if (lhs->size() > 1)
    out.append(ta ? lhs->begin() + 1 : lhs->begin(), ta ? lhs->end() : lhs->end() - 1);
  if (rhs->size() > 1)
    out.append(tb ? rhs->begin() : rhs->begin() + 1, tb ? rhs->end() - 1 : rhs->end());
  if (out.empty())
    out.push_back(1);
  return r.result(out);
}

LogicalResult SliceAxisOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis((int64_t)getAxis(), data->size());
  if (failed(axis))
    return failure();
  int64_t dim = (*data)[*axis];
  auto [begin, end] = getRange(dim);
  if (begin < 0 || end > dim || begin >= end) {
    InFlightDiagnostic d = r.error() << "slice [" << (int64_t)getBegin() << ", ";
    if (getEnd())
      d << (int64_t)*getEnd();
    else
      d << "None";
    return d << ") is empty or out of range for axis " << *axis << " of size " << dim;
  }
  Shape out = *data;
  out[*axis] = end - begin;
  return r.result(out);
}

LogicalResult BatchNormTrainOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis((int64_t)getAxis(), data->size());
  if (failed(axis))
    return failure();
  int64_t c = (*data)[*axis];
  if (failed(r.assign(1, "gamma", {c})) || failed(r.assign(2, "beta", {c})))
    return failure();
  (void)r.result(*data);
  (void)r.result({c});
  return r.result({c});
}

LogicalResult ConvolutionWeightGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto dy = r.need(1, "out_grad");
  if (failed(dy))
    return failure();
  ArrayRef<int64_t> kernel = getKernel();
  if (failed(checkSpatialRank(r, *data, kernel.size())) ||
      failed(checkSpatialRank(r, *dy, kernel.size())))
    return failure();
  int64_t g = getNumGroup(), c = (*data)[1], f = (*dy)[1];
  if (c % g != 0 || f % g != 0)
    return r.error() << "num_group (" << g << ") must divide the input channels (" << c
                     << ") and the output channels (" << f << ")";
  if ((*data)[0] != (*dy)[0])
    return r.error() << "data and out_grad disagree on the batch size: "
                     << formatShape(*data) << " vs " << formatShape(*dy);
  SmallVector<int64_t> s = getStrides(), d = getDilations(), p = getPads();
  for (size_t i = 0; i < kernel.size(); ++i) {
    int64_t in = (*data)[i + 2] + 2 * p[i];
    int64_t k = d[i] * (kernel[i] - 1) + 1;
    int64_t o = k > in ? 0 : (in - k) / s[i] + 1;
    if (o != (*dy)[i + 2])
      return r.error() << "out_grad " << formatShape(*dy)
                       << " is not the convolution output of data " << formatShape(*data)
                       << " in spatial dimension " << i << " (expected " << o << ")";
  }
  Shape w{f, c / g};
  w.append(kernel.begin(), kernel.end());
  return r.result(w);
}

LogicalResult PoolingGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto out = poolingOutputShape(r, *this, *data);
  if (failed(out))
    return failure();
  if (failed(r.assign(1, "out_grad", *out)))
    return failure();
  return r.result(*data);
}

LogicalResult ActivationGradOp::inferShapes(ShapeInferenceState &state) {
  return inferSameShape(*this, state, {"out_grad", "saved"});
}

LogicalResult BatchNormGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  auto axis = r.axis((int64_t)getAxis(), data->size());
  if (failed(axis))
    return failure();
  int64_t c = (*data)[*axis];
  if (failed(r.assign(1, "gamma", {c})) || failed(r.assign(2, "mean", {c})) ||
      failed(r.assign(3, "var", {c})) || failed(r.assign(4, "out_grad", *data)))
    return failure();
  (void)r.result(*data);
  (void)r.result({c});
  return r.result({c});
}

LogicalResult SoftmaxOutputGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto out = r.need(0, "output");
  if (failed(out))
    return failure();
  Shape d = *out;
  if (failed(inferSoftmaxLabel(r, state, d, getMultiOutput(), getPreserveShape())))
    return failure();
  return r.result(d);
}

LogicalResult RegressionOutputGradOp::inferShapes(ShapeInferenceState &state) {
  return inferRegression(*this, state);
}

LogicalResult SoftmaxGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  std::optional<Shape> shape = r.known(0)   ? state.operands[0]
                               : r.known(1) ? state.operands[1]
                                            : std::nullopt;
  if (!shape)
    return static_cast<void>(r.need(0, "output")), failure();
  if (failed(r.axis(getAxis(), shape->size())))
    return failure();
  return inferSameShape(*this, state, {"output", "out_grad"});
}

LogicalResult ZerosOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  return r.result(getShape());
}

/// The random ops: a one-element counter, and the result of the static
/// `shape` attribute.
static LogicalResult inferRandom(ShapeRule &r, ArrayRef<int64_t> shape) {
  if (failed(r.assign(0, "counter", {1})))
    return failure();
  return r.result(shape);
}

LogicalResult DropoutMaskOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  for (int64_t a : getAxes())
    if (failed(r.axis(a, getShape().size(), "axes entry")))
      return failure();
  return inferRandom(r, getShape());
}

LogicalResult RandomUniformOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  return inferRandom(r, getShape());
}

LogicalResult LeakyReLUGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  std::optional<Shape> shape = r.known(0)   ? state.operands[0]
                               : r.known(1) ? state.operands[1]
                                            : std::nullopt;
  if (!shape)
    return static_cast<void>(r.need(1, "data")), failure();
  if (failed(r.assign(0, "out_grad", *shape)) || failed(r.assign(1, "data", *shape)))
    return failure();
  // prelu's gamma, as LeakyReLU: [C] with C = axis 1, or [1].
  if (getGamma()) {
    if (shape->empty())
      return r.error() << "prelu expects an input of rank at least 1";
    bool shared = r.known(2) && *state.operands[2] == Shape{1};
    if (!shared && failed(r.assign(2, "gamma", {shape->size() >= 2 ? (*shape)[1] : 1})))
      return failure();
  }
  return r.result(*shape);
}

LogicalResult LRNGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  std::optional<Shape> shape = r.known(0)   ? state.operands[0]
                               : r.known(1) ? state.operands[1]
                                            : std::nullopt;
  if (!shape)
    return static_cast<void>(r.need(0, "data")), failure();
  if (shape->size() < 2)
    return r.error() << "expects an input with a channel axis (rank at least 2), got rank "
                     << shape->size();
  return inferSameShape(*this, state, {"data", "out_grad"});
}

LogicalResult EmbeddingGradOp::inferShapes(ShapeInferenceState &state) {
  ShapeRule r(*this, state);
  auto data = r.need(0, "data");
  if (failed(data))
    return failure();
  Shape dy = *data;
  dy.push_back((int64_t)getOutputDim());
  if (failed(r.assign(1, "out_grad", dy)))
    return failure();
  return r.result({(int64_t)getInputDim(), (int64_t)getOutputDim()});
}

//===----------------------------------------------------------------------===//
// Shared entry points
//===----------------------------------------------------------------------===//

/// The static shape a value's type declares, if any.
static std::optional<Shape> staticShapeOf(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked || !ranked.hasStaticShape())
    return std::nullopt;
  return Shape(ranked.getShape().begin(), ranked.getShape().end());
}

LogicalResult kiln::graph::inferShapes(Operation *op, ShapeInferenceState &state) {
  auto iface = dyn_cast<ShapeInferenceOpInterface>(op);
  if (!iface)
    return op->emitOpError() << "does not implement shape inference";
  state.operands.clear();
  state.results.clear();
  for (Value v : op->getOperands())
    state.operands.push_back(staticShapeOf(v.getType()));
  return iface.inferShapes(state);
}

LogicalResult kiln::graph::checkResultShapes(Operation *op,
                                             const ShapeInferenceState &state) {
  if (state.results.size() != op->getNumResults())
    return op->emitOpError() << "has " << op->getNumResults()
                             << " results but the shape rule gives "
                             << state.results.size();
  for (auto [i, res] : llvm::enumerate(op->getResults())) {
    auto ranked = dyn_cast<RankedTensorType>(res.getType());
    if (!ranked)
      continue;
    ArrayRef<int64_t> declared = ranked.getShape();
    ArrayRef<int64_t> inferred = state.results[i];
    bool ok = declared.size() == inferred.size();
    for (size_t j = 0; ok && j < declared.size(); ++j)
      ok = ShapedType::isDynamic(declared[j]) || declared[j] == inferred[j];
    if (!ok)
      return op->emitOpError() << "result " << i << " has shape " << formatShape(declared)
                               << " but the shape rule gives " << formatShape(inferred);
  }
  return success();
}

LogicalResult kiln::graph::verifyShapes(Operation *op) {
  for (Value v : op->getOperands())
    if (!staticShapeOf(v.getType()))
      return success();
  ShapeInferenceState state;
  if (failed(inferShapes(op, state)))
    return failure();
  return checkResultShapes(op, state);
}
