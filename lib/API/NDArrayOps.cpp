//===- NDArrayOps.cpp - Typed eager operators (kiln::nd) ------------------===//
//
// Thin wrappers over nd::invoke with the Symbol API's option classes, so an
// op's attributes are spelled once for both front doors.
//
//===----------------------------------------------------------------------===//

#include "API/NDArrayInternal.h"

#include "Import/MXNetAttrs.h"
#include "kiln/Error.h"

namespace kiln::nd {
namespace {

AttrMap with(AttrMap base, const AttrMap &extra) {
  for (const auto &kv : extra)
    base[kv.first] = kv.second;
  return base;
}

NDArray one(const std::string &op, const std::vector<NDArray> &inputs, const AttrMap &attrs = {}) {
  return invoke(op, inputs, attrs).front();
}

/// data, weight[, bias]: an empty bias means no_bias.
std::vector<NDArray> withBias(const NDArray &data, const NDArray &weight, const NDArray &bias,
                              AttrMap &attrs) {
  if (bias.empty()) {
    attrs["no_bias"] = mx::formatBool(true);
    return {data, weight};
  }
  auto given = attrs.find("no_bias");
  if (given != attrs.end() && mx::parseBool(given->second, "no_bias"))
    throw Error("a bias was given together with no_bias=True");
  attrs["no_bias"] = mx::formatBool(false);
  return {data, weight, bias};
}

} // namespace

NDArray FullyConnected(const NDArray &data, const NDArray &weight, const NDArray &bias,
                       int64_t numHidden, const sym::FullyConnectedOpts &opts) {
  AttrMap attrs = with(opts.map(), {{"num_hidden", std::to_string(numHidden)}});
  auto inputs = withBias(data, weight, bias, attrs);
  return one("FullyConnected", inputs, attrs);
}
NDArray Convolution(const NDArray &data, const NDArray &weight, const NDArray &bias,
                    const std::vector<int64_t> &kernel, int64_t numFilter,
                    const sym::ConvolutionOpts &opts) {
  AttrMap attrs = with(opts.map(), {{"kernel", mx::formatTuple(kernel)},
                                    {"num_filter", std::to_string(numFilter)}});
  auto inputs = withBias(data, weight, bias, attrs);
  return one("Convolution", inputs, attrs);
}
NDArray Deconvolution(const NDArray &data, const NDArray &weight, const NDArray &bias,
                      const std::vector<int64_t> &kernel, int64_t numFilter,
                      const sym::DeconvolutionOpts &opts) {
  AttrMap attrs = with(opts.map(), {{"kernel", mx::formatTuple(kernel)},
                                    {"num_filter", std::to_string(numFilter)}});
  auto inputs = withBias(data, weight, bias, attrs);
  return one("Deconvolution", inputs, attrs);
}
NDArray Pooling(const NDArray &data, const sym::PoolingOpts &opts) {
  return one("Pooling", {data}, opts.map());
}
NDArray Activation(const NDArray &data, const std::string &actType) {
  return one("Activation", {data}, {{"act_type", actType}});
}
NDArray LeakyReLU(const NDArray &data, const sym::LeakyReLUOpts &opts, const NDArray &gamma) {
  if (gamma.empty())
    return one("LeakyReLU", {data}, opts.map());
  return one("LeakyReLU", {data, gamma}, opts.map());
}
NDArray BatchNorm(const NDArray &data, const NDArray &gamma, const NDArray &beta,
                  const NDArray &movingMean, const NDArray &movingVar,
                  const sym::BatchNormOpts &opts) {
  return one("BatchNorm", {data, gamma, beta, movingMean, movingVar}, opts.map());
}
NDArray LRN(const NDArray &data, int64_t nsize, const sym::LRNOpts &opts) {
  return one("LRN", {data}, with(opts.map(), {{"nsize", std::to_string(nsize)}}));
}
NDArray Dropout(const NDArray &data, const sym::DropoutOpts &opts) {
  return one("Dropout", {data}, opts.map());
}
NDArray Embedding(const NDArray &data, const NDArray &weight, int64_t inputDim,
                  int64_t outputDim) {
  return one("Embedding", {data, weight},
             {{"input_dim", std::to_string(inputDim)}, {"output_dim", std::to_string(outputDim)}});
}
NDArray Flatten(const NDArray &data) { return one("Flatten", {data}); }
NDArray Reshape(const NDArray &data, const std::vector<int64_t> &shape, bool reverse) {
  AttrMap attrs{{"shape", mx::formatTuple(shape)}};
  if (reverse)
    attrs["reverse"] = mx::formatBool(true);
  return one("Reshape", {data}, attrs);
}
NDArray transpose(const NDArray &data, const std::vector<int64_t> &axes) {
  AttrMap attrs;
  if (!axes.empty())
    attrs["axes"] = mx::formatTuple(axes);
  return one("transpose", {data}, attrs);
}
NDArray Concat(const std::vector<NDArray> &inputs, int64_t dim) {
  return one("Concat", inputs,
             {{"dim", std::to_string(dim)}, {"num_args", std::to_string(inputs.size())}});
}
std::vector<NDArray> SliceChannel(const NDArray &data, int64_t numOutputs,
                                  const sym::SliceChannelOpts &opts) {
  return invoke("SliceChannel", {data},
                with(opts.map(), {{"num_outputs", std::to_string(numOutputs)}}));
}
NDArray SoftmaxOutput(const NDArray &data, const NDArray &label,
                      const sym::SoftmaxOutputOpts &opts) {
  return one("SoftmaxOutput", {data, label}, opts.map());
}
NDArray LinearRegressionOutput(const NDArray &data, const NDArray &label) {
  return one("LinearRegressionOutput", {data, label});
}
NDArray LogisticRegressionOutput(const NDArray &data, const NDArray &label) {
  return one("LogisticRegressionOutput", {data, label});
}
NDArray MAERegressionOutput(const NDArray &data, const NDArray &label) {
  return one("MAERegressionOutput", {data, label});
}
NDArray softmax(const NDArray &data, const sym::SoftmaxOpts &opts) {
  return one("softmax", {data}, opts.map());
}
NDArray log_softmax(const NDArray &data, const sym::SoftmaxOpts &opts) {
  return one("log_softmax", {data}, opts.map());
}
NDArray SoftmaxActivation(const NDArray &data, const std::string &mode) {
  AttrMap attrs;
  if (!mode.empty())
    attrs["mode"] = mode;
  return one("SoftmaxActivation", {data}, attrs);
}
NDArray identity(const NDArray &data) { return one("_copy", {data}); }

#define KILN_BINARY_OP(Op)                                                                         \
  NDArray Op(const NDArray &lhs, const NDArray &rhs) { return one(#Op, {lhs, rhs}); }
#include "API/BinaryOps.def"

NDArray add_n(const std::vector<NDArray> &inputs) {
  return one("add_n", inputs, {{"num_args", std::to_string(inputs.size())}});
}
NDArray broadcast_to(const NDArray &data, const std::vector<int64_t> &shape) {
  return one("broadcast_to", {data}, {{"shape", mx::formatTuple(shape)}});
}
NDArray dot(const NDArray &lhs, const NDArray &rhs, bool transposeA, bool transposeB) {
  AttrMap attrs;
  if (transposeA)
    attrs["transpose_a"] = mx::formatBool(true);
  if (transposeB)
    attrs["transpose_b"] = mx::formatBool(true);
  return one("dot", {lhs, rhs}, attrs);
}
NDArray slice_axis(const NDArray &data, int64_t axis, int64_t begin, int64_t end) {
  return one("slice_axis", {data},
             {{"axis", std::to_string(axis)},
              {"begin", std::to_string(begin)},
              {"end", std::to_string(end)}});
}
NDArray scalarOp(const std::string &op, const NDArray &data, double scalar) {
  return one(op, {data}, {{"scalar", mx::formatFloat(scalar)}});
}
NDArray sum(const NDArray &data, const sym::ReduceOpts &o) { return one("sum", {data}, o.map()); }
NDArray mean(const NDArray &data, const sym::ReduceOpts &o) {
  return one("mean", {data}, o.map());
}
NDArray max(const NDArray &data, const sym::ReduceOpts &o) { return one("max", {data}, o.map()); }
NDArray min(const NDArray &data, const sym::ReduceOpts &o) { return one("min", {data}, o.map()); }

} // namespace kiln::nd
