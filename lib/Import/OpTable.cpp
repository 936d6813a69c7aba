//===- OpTable.cpp - MXNet operator <-> graph-dialect op table ------------===//

#include "Import/OpTable.h"

#include "Graph/GraphOps.h"
#include "Import/MXNetAttrs.h"
#include "kiln/Error.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

using namespace mlir;
using namespace kiln::graph;

namespace kiln::importer {
namespace {

template <typename E, typename A, unsigned Max>
const EnumCodec *enumCodec() {
  static const EnumCodec codec{
      [](MLIRContext *ctx, const std::string &s) -> Attribute {
        if (std::optional<E> v = symbolizeEnum<E>(s))
          return A::get(ctx, *v);
        return {};
      },
      [](Attribute a) { return stringifyEnum(cast<A>(a).getValue()).str(); },
      []() {
        std::string out;
        for (unsigned i = 0; i <= Max; ++i)
          out += (i ? ", " : "") + stringifyEnum(static_cast<E>(i)).str();
        return out;
      }};
  return &codec;
}

const EnumCodec *actType() {
  return enumCodec<ActType, ActTypeAttr, getMaxEnumValForActType()>();
}
const EnumCodec *leakyActType() {
  return enumCodec<LeakyActType, LeakyActTypeAttr, getMaxEnumValForLeakyActType()>();
}
const EnumCodec *poolType() {
  return enumCodec<PoolType, PoolTypeAttr, getMaxEnumValForPoolType()>();
}
const EnumCodec *poolingConvention() {
  return enumCodec<PoolingConvention, PoolingConventionAttr,
                   getMaxEnumValForPoolingConvention()>();
}
const EnumCodec *normalization() {
  return enumCodec<Normalization, NormalizationAttr, getMaxEnumValForNormalization()>();
}
const EnumCodec *softmaxMode() {
  return enumCodec<SoftmaxMode, SoftmaxModeAttr, getMaxEnumValForSoftmaxMode()>();
}
const EnumCodec *dropoutMode() {
  return enumCodec<DropoutMode, DropoutModeAttr, getMaxEnumValForDropoutMode()>();
}

AttrSpec req(const char *name, AttrKind kind, const EnumCodec *e = nullptr) {
  return AttrSpec{name, kind, nullptr, false, e};
}
AttrSpec def(const char *name, AttrKind kind, const char *mxDefault,
             const EnumCodec *e = nullptr) {
  return AttrSpec{name, kind, mxDefault, false, e};
}
AttrSpec opt(const char *name, AttrKind kind) {
  return AttrSpec{name, kind, nullptr, true, nullptr};
}

//===-- Checks for keys Kiln accepts but does not keep --------------------===//

[[noreturn]] void unsupported(const std::string &value, const std::string &context,
                              const std::string &why) {
  throw kiln::Error(context + ": unsupported value '" + value + "'" +
                    (why.empty() ? std::string() : " (" + why + ")"));
}

// Kiln's kernels are channel-first; MXNet's None means the same.
void channelFirstLayout(const std::string &value, const std::string &context,
                        const std::vector<int64_t> &kernel) {
  if (mx::isNone(value))
    return;
  static const char *layouts[] = {"NCW", "NCHW", "NCDHW"};
  for (size_t rank = 1; rank <= 3; ++rank)
    if (value == layouts[rank - 1]) {
      if (!kernel.empty() && kernel.size() != rank)
        unsupported(value, context,
                    "layout " + value + " does not match a " + std::to_string(kernel.size()) +
                        "-D kernel");
      return;
    }
  unsupported(value, context, "Kiln supports the channel-first layouts NCW, NCHW, NCDHW");
}

void mustBeFalse(const std::string &value, const std::string &context,
                 const std::vector<int64_t> &) {
  if (mx::parseBool(value, context))
    unsupported(value, context, "Kiln supports only False");
}

void mustBeNone(const std::string &value, const std::string &context,
                const std::vector<int64_t> &) {
  if (!mx::isNone(value))
    unsupported(value, context, "Kiln supports only None");
}

void float32OrNone(const std::string &value, const std::string &context,
                   const std::vector<int64_t> &) {
  if (!mx::isNone(value) && value != "float32")
    unsupported(value, context, "Kiln computes in float32");
}

const ExtraKey kWorkspace{"workspace", nullptr};
const ExtraKey kCudnnTune{"cudnn_tune", nullptr};
const ExtraKey kCudnnOff{"cudnn_off", nullptr};
const ExtraKey kLayout{"layout", channelFirstLayout};

constexpr AttrKind Int = AttrKind::Int, Bool = AttrKind::Bool, F32 = AttrKind::F32,
                   F64 = AttrKind::F64, Tuple = AttrKind::Tuple, Enum = AttrKind::Enum;

std::vector<OpSpec> buildTable() {
  std::vector<OpSpec> t;
  auto add = [&](OpSpec s) { t.push_back(std::move(s)); };

  // Neural-network layers.
  add({"FullyConnected", "graph.fully_connected",
       {req("num_hidden", Int), def("flatten", Bool, "True")},
       {},
       BiasRule::NoBiasDefaultFalse});
  add({"Convolution", "graph.convolution",
       {req("kernel", Tuple), def("stride", Tuple, "()"), def("dilate", Tuple, "()"),
        def("pad", Tuple, "()"), req("num_filter", Int), def("num_group", Int, "1")},
       {kWorkspace, kCudnnTune, kCudnnOff, kLayout},
       BiasRule::NoBiasDefaultFalse});
  add({"Deconvolution", "graph.deconvolution",
       {req("kernel", Tuple), def("stride", Tuple, "()"), def("dilate", Tuple, "()"),
        def("pad", Tuple, "()"), def("adj", Tuple, "()"), def("target_shape", Tuple, "()"),
        req("num_filter", Int), def("num_group", Int, "1")},
       {kWorkspace, kCudnnTune, kCudnnOff, kLayout},
       BiasRule::NoBiasDefaultTrue});
  add({"Pooling", "graph.pooling",
       {def("kernel", Tuple, "()"), def("pool_type", Enum, "max", poolType()),
        def("global_pool", Bool, "False"),
        def("pooling_convention", Enum, "valid", poolingConvention()),
        def("stride", Tuple, "()"), def("pad", Tuple, "()"), def("p_value", Int, "2"),
        def("count_include_pad", Bool, "True")},
       {kCudnnOff, kLayout}});
  add({"Activation", "graph.activation", {req("act_type", Enum, actType())}, {}});
  add({"LeakyReLU", "graph.leaky_relu",
       {def("act_type", Enum, "leaky", leakyActType()), def("slope", F32, "0.25"),
        def("lower_bound", F32, "0.125"), def("upper_bound", F32, "0.334")},
       {}});
  add({"BatchNorm", "graph.batch_norm",
       {def("eps", F64, "0.001"), def("momentum", F32, "0.9"), def("fix_gamma", Bool, "True"),
        def("use_global_stats", Bool, "False"), def("axis", Int, "1")},
       {kCudnnOff, {"output_mean_var", mustBeFalse}, {"min_calib_range", mustBeNone},
        {"max_calib_range", mustBeNone}}});
  add({"LRN", "graph.lrn",
       {req("nsize", Int), def("alpha", F32, "0.0001"), def("beta", F32, "0.75"),
        def("knorm", F32, "2")},
       {}});
  add({"Dropout", "graph.dropout",
       {def("p", F32, "0.5"), def("mode", Enum, "training", dropoutMode()),
        def("axes", Tuple, "()")},
       {kCudnnOff}});
  add({"Embedding", "graph.embedding",
       {req("input_dim", Int), req("output_dim", Int)},
       {{"dtype", float32OrNone}, {"sparse_grad", nullptr}}});

  // Softmax family and loss heads.
  add({"SoftmaxOutput", "graph.softmax_output",
       {def("grad_scale", F32, "1"), def("ignore_label", F32, "-1"),
        def("multi_output", Bool, "False"), def("use_ignore", Bool, "False"),
        def("preserve_shape", Bool, "False"),
        def("normalization", Enum, "null", normalization()), def("out_grad", Bool, "False"),
        def("smooth_alpha", F32, "0")},
       {}});
  for (auto [mx, ir] : {std::pair{"LinearRegressionOutput", "graph.linear_regression_output"},
                        std::pair{"LogisticRegressionOutput",
                                  "graph.logistic_regression_output"},
                        std::pair{"MAERegressionOutput", "graph.mae_regression_output"}})
    add({mx, ir, {def("grad_scale", F32, "1")}, {}});
  for (auto [mx, ir] : {std::pair{"softmax", "graph.softmax"},
                        std::pair{"log_softmax", "graph.log_softmax"}})
    add({mx, ir, {def("axis", Int, "-1"), opt("temperature", F64)},
         {{"dtype", float32OrNone}, {"use_length", mustBeFalse}}});
  add({"SoftmaxActivation", "graph.softmax_activation",
       {def("mode", Enum, "instance", softmaxMode())}, {}});

  // Shape manipulation.
  add({"Flatten", "graph.flatten", {}, {}});
  add({"_copy", "graph.identity", {}, {}});
  {
    OpSpec reshape{"Reshape", "graph.reshape",
                   {req("shape", Tuple), def("reverse", Bool, "False")}, {}};
    reshape.legacyReshape = true;
    add(reshape);
  }
  add({"transpose", "graph.transpose", {def("axes", Tuple, "()")}, {}});
  {
    OpSpec concat{"Concat", "graph.concat", {def("dim", Int, "1")}, {}};
    concat.numArgs = true;
    add(concat);
  }
  {
    OpSpec split{"SliceChannel", "graph.split",
                 {req("num_outputs", Int), def("axis", Int, "1"),
                  def("squeeze_axis", Bool, "False")},
                 {}};
    split.splitResults = true;
    add(split);
  }

  // Elementwise arithmetic.
  for (auto [mx, ir] : {std::pair{"elemwise_add", "graph.elemwise_add"},
                        std::pair{"elemwise_sub", "graph.elemwise_sub"},
                        std::pair{"elemwise_mul", "graph.elemwise_mul"},
                        std::pair{"elemwise_div", "graph.elemwise_div"},
                        std::pair{"broadcast_add", "graph.broadcast_add"},
                        std::pair{"broadcast_sub", "graph.broadcast_sub"},
                        std::pair{"broadcast_mul", "graph.broadcast_mul"},
                        std::pair{"broadcast_div", "graph.broadcast_div"},
                        std::pair{"broadcast_maximum", "graph.broadcast_maximum"},
                        std::pair{"broadcast_minimum", "graph.broadcast_minimum"},
                        std::pair{"broadcast_power", "graph.broadcast_power"}})
    add({mx, ir, {}, {}});
  {
    OpSpec addn{"add_n", "graph.add_n", {}, {}};
    addn.numArgs = true;
    add(addn);
  }
  for (auto [mx, ir] : {std::pair{"_plus_scalar", "graph.plus_scalar"},
                        std::pair{"_minus_scalar", "graph.minus_scalar"},
                        std::pair{"_rminus_scalar", "graph.rminus_scalar"},
                        std::pair{"_mul_scalar", "graph.mul_scalar"},
                        std::pair{"_div_scalar", "graph.div_scalar"},
                        std::pair{"_rdiv_scalar", "graph.rdiv_scalar"},
                        std::pair{"_power_scalar", "graph.power_scalar"},
                        std::pair{"_rpower_scalar", "graph.rpower_scalar"},
                        std::pair{"_maximum_scalar", "graph.maximum_scalar"},
                        std::pair{"_minimum_scalar", "graph.minimum_scalar"}})
    // MXNet 2.0's numpy-era scalar ops add `is_int`, which only matters for
    // integer tensors; Kiln computes in float32.
    add({mx, ir, {req("scalar", F64)}, {{"is_int", nullptr}}});
  add({"broadcast_to", "graph.broadcast_to", {req("shape", Tuple)}, {}});
  // Matrix product and slicing: the ops autodiff builds from, also MXNet
  // operators in their own right (eager users reach for them first).
  add({"dot", "graph.dot",
       {def("transpose_a", Bool, "False"), def("transpose_b", Bool, "False")},
       {{"forward_stype", mustBeNone}}});
  add({"slice_axis", "graph.slice_axis",
       {req("axis", Int), req("begin", Int), req("end", Int)}, {}});
  for (auto [mx, ir] : {std::pair{"sum", "graph.sum"}, std::pair{"mean", "graph.mean"},
                        std::pair{"max", "graph.max"}, std::pair{"min", "graph.min"}})
    add({mx, ir,
         {opt("axis", Tuple), def("keepdims", Bool, "False"), def("exclude", Bool, "False")},
         {}});
  return t;
}

struct Tables {
  std::vector<OpSpec> rows = buildTable();
  std::map<std::string, const OpSpec *> byMX;
  std::map<std::string, const OpSpec *, std::less<>> byIR;
  Tables() {
    for (const OpSpec &s : rows) {
      byMX[s.mxName] = &s;
      byIR[s.irName] = &s;
    }
    // Aliases, in case a graph reaches the importer without normalization
    // (the parser maps these to the canonical names already).
    static const std::pair<const char *, const char *> aliases[] = {
        {"split", "SliceChannel"},          {"Softmax", "SoftmaxOutput"},
        {"identity", "_copy"},
        {"flatten", "Flatten"},             {"reshape", "Reshape"},
        {"concat", "Concat"},               {"ElementWiseSum", "add_n"},
        {"broadcast_plus", "broadcast_add"}, {"broadcast_minus", "broadcast_sub"},
        {"_Plus", "elemwise_add"},          {"_plus", "elemwise_add"},
        {"_add", "elemwise_add"},           {"_Minus", "elemwise_sub"},
        {"_minus", "elemwise_sub"},         {"_sub", "elemwise_sub"},
        {"_Mul", "elemwise_mul"},           {"_mul", "elemwise_mul"},
        {"_Div", "elemwise_div"},           {"_div", "elemwise_div"},
        {"_PlusScalar", "_plus_scalar"},    {"_MinusScalar", "_minus_scalar"},
        {"_MulScalar", "_mul_scalar"},      {"_DivScalar", "_div_scalar"},
        {"_RMinusScalar", "_rminus_scalar"}, {"_RDivScalar", "_rdiv_scalar"},
    };
    for (auto [alias, canonical] : aliases)
      byMX.emplace(alias, byMX.at(canonical));
  }
};

const Tables &tables() {
  static const Tables t;
  return t;
}

// The shortest decimal that reads back to the same value at the attribute's
// precision: MXNet parses float parameters as float, so "0.334" belongs in
// the file, not the 17 digits of the widened double; and "2", not "2.0", is
// how MXNet's Python writes a whole number.
std::string formatShortest(double v, bool asFloat) {
  if (std::isnan(v) || std::isinf(v))
    return mx::formatFloat(v);
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (asFloat ? std::strtof(buf, nullptr) == static_cast<float>(v)
                : std::strtod(buf, nullptr) == v)
      break;
  }
  return buf;
}

} // namespace

const OpSpec *lookupByMXName(const std::string &name) {
  auto it = tables().byMX.find(name);
  return it == tables().byMX.end() ? nullptr : it->second;
}

const OpSpec *lookupByIRName(llvm::StringRef name) {
  auto it = tables().byIR.find(name);
  return it == tables().byIR.end() ? nullptr : it->second;
}

const std::vector<OpSpec> &allOpSpecs() { return tables().rows; }

Attribute parseAttr(MLIRContext *ctx, const AttrSpec &spec, const std::string &value,
                    const std::string &context) {
  Builder b(ctx);
  switch (spec.kind) {
  case AttrKind::Int:
    return b.getI64IntegerAttr(mx::parseInt(value, context));
  case AttrKind::Bool:
    return b.getBoolAttr(mx::parseBool(value, context));
  case AttrKind::F32:
    return b.getF32FloatAttr(static_cast<float>(mx::parseFloat(value, context)));
  case AttrKind::F64:
    return b.getF64FloatAttr(mx::parseFloat(value, context));
  case AttrKind::Tuple:
    return b.getDenseI64ArrayAttr(mx::parseTuple(value, context));
  case AttrKind::Enum:
    if (Attribute a = spec.enumCodec->parse(ctx, value))
      return a;
    throw kiln::Error(context + ": unknown value '" + value + "' (expected one of " +
                      spec.enumCodec->cases() + ")");
  }
  llvm_unreachable("attribute kind");
}

std::string formatAttr(const AttrSpec &spec, Attribute attr) {
  switch (spec.kind) {
  case AttrKind::Int:
    return std::to_string(cast<IntegerAttr>(attr).getInt());
  case AttrKind::Bool:
    return mx::formatBool(cast<BoolAttr>(attr).getValue());
  case AttrKind::F32:
    return formatShortest(cast<FloatAttr>(attr).getValueAsDouble(), /*asFloat=*/true);
  case AttrKind::F64:
    return formatShortest(cast<FloatAttr>(attr).getValueAsDouble(), /*asFloat=*/false);
  case AttrKind::Tuple: {
    ArrayRef<int64_t> v = cast<DenseI64ArrayAttr>(attr).asArrayRef();
    return mx::formatTuple(std::vector<int64_t>(v.begin(), v.end()));
  }
  case AttrKind::Enum:
    return spec.enumCodec->format(attr);
  }
  llvm_unreachable("attribute kind");
}

Attribute defaultAttr(MLIRContext *ctx, const AttrSpec &spec) {
  if (!spec.mxDefault)
    return {};
  return parseAttr(ctx, spec, spec.mxDefault, std::string("default of ") + spec.name);
}

} // namespace kiln::importer
