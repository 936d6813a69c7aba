//===- OpTable.cpp - MXNet operator strings <-> graph-dialect ops ---------===//

#include "Import/OpTable.h"

#include "Graph/GraphOps.h"
#include "Import/MXNetAttrs.h"
#include "kiln/Error.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir;

namespace kiln::importer {

const MXNetOpDef *lookupByMXName(llvm::StringRef name) { return graph::lookupMXNetOp(name); }

const MXNetOpDef *lookupByIRName(llvm::StringRef name) {
  return graph::lookupMXNetOpByIRName(name);
}

bool hasBiasInput(const MXNetOpDef &def) {
  return def.inputRule == MXInputRule::Bias || def.inputRule == MXInputRule::BiasOffByDefault;
}

bool isVariadic(const MXNetOpDef &def) { return def.inputRule == MXInputRule::Variadic; }

namespace {

[[noreturn]] void unsupported(const std::string &value, const std::string &context,
                              const std::string &why) {
  throw kiln::Error(context + ": unsupported value '" + value + "'" +
                    (why.empty() ? std::string() : " (" + why + ")"));
}

// Kiln's kernels are channel-first; MXNet's None means the same.
void checkChannelFirstLayout(const std::string &value, const std::string &context,
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

void checkIgnoredKey(const MXIgnoredKey &key, const std::string &value,
                     const std::string &context, const std::vector<int64_t> &kernel) {
  switch (key.check) {
  case graph::MXKeyCheck::Any:
    return;
  case graph::MXKeyCheck::ChannelFirstLayout:
    return checkChannelFirstLayout(value, context, kernel);
  case graph::MXKeyCheck::MustBeFalse:
    if (mx::parseBool(value, context))
      unsupported(value, context, "Kiln supports only False");
    return;
  case graph::MXKeyCheck::MustBeNone:
    if (!mx::isNone(value))
      unsupported(value, context, "Kiln supports only None");
    return;
  case graph::MXKeyCheck::Float32OrNone:
    if (!mx::isNone(value) && value != "float32")
      unsupported(value, context, "Kiln computes in float32");
    return;
  }
}

Attribute parseAttr(MLIRContext *ctx, const MXAttrSpec &spec, const std::string &value,
                    const std::string &context) {
  Builder b(ctx);
  switch (spec.kind) {
  case MXAttrKind::Int:
    return b.getI64IntegerAttr(mx::parseInt(value, context));
  case MXAttrKind::Bool:
    return b.getBoolAttr(mx::parseBool(value, context));
  case MXAttrKind::F32:
    return b.getF32FloatAttr(static_cast<float>(mx::parseFloat(value, context)));
  case MXAttrKind::F64:
    return b.getF64FloatAttr(mx::parseFloat(value, context));
  case MXAttrKind::Tuple:
    return b.getDenseI64ArrayAttr(mx::parseTuple(value, context));
  case MXAttrKind::FloatTuple:
    return b.getDenseF64ArrayAttr(mx::parseFloatTuple(value, context));
  case MXAttrKind::OptTuple: {
    std::vector<int64_t> values;
    for (std::optional<int64_t> v : mx::parseOptTuple(value, context)) {
      if (v == graph::kNoneIndex)
        throw kiln::Error(context + ": value " + std::to_string(*v) + " is out of range");
      values.push_back(v.value_or(graph::kNoneIndex));
    }
    return b.getDenseI64ArrayAttr(values);
  }
  case MXAttrKind::String:
    return b.getStringAttr(value);
  case MXAttrKind::Enum:
    if (Attribute a = spec.enumCodec->parse(ctx, value))
      return a;
    throw kiln::Error(context + ": unknown value '" + value + "' (expected one of " +
                      spec.enumCodec->cases() + ")");
  }
  llvm_unreachable("attribute kind");
}

std::string formatAttr(const MXAttrSpec &spec, Attribute attr) {
  switch (spec.kind) {
  case MXAttrKind::Int:
    return std::to_string(cast<IntegerAttr>(attr).getInt());
  case MXAttrKind::Bool:
    return mx::formatBool(cast<BoolAttr>(attr).getValue());
  case MXAttrKind::F32:
    return formatShortest(cast<FloatAttr>(attr).getValueAsDouble(), /*asFloat=*/true);
  case MXAttrKind::F64:
    return formatShortest(cast<FloatAttr>(attr).getValueAsDouble(), /*asFloat=*/false);
  case MXAttrKind::Tuple: {
    ArrayRef<int64_t> v = cast<DenseI64ArrayAttr>(attr).asArrayRef();
    return mx::formatTuple(std::vector<int64_t>(v.begin(), v.end()));
  }
  case MXAttrKind::FloatTuple: {
    ArrayRef<double> v = cast<DenseF64ArrayAttr>(attr).asArrayRef();
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i)
      s += (i ? ", " : "") + formatShortest(v[i], /*asFloat=*/true);
    return s + (v.size() == 1 ? ",)" : ")");
  }
  case MXAttrKind::OptTuple: {
    std::vector<std::optional<int64_t>> values;
    for (int64_t v : cast<DenseI64ArrayAttr>(attr).asArrayRef())
      values.push_back(v == graph::kNoneIndex ? std::nullopt : std::optional<int64_t>(v));
    return mx::formatOptTuple(values);
  }
  case MXAttrKind::String:
    return cast<StringAttr>(attr).getValue().str();
  case MXAttrKind::Enum:
    return spec.enumCodec->format(attr);
  }
  llvm_unreachable("attribute kind");
}

Attribute defaultAttr(MLIRContext *ctx, const MXAttrSpec &spec) {
  if (!spec.mxDefault)
    return {};
  return parseAttr(ctx, spec, spec.mxDefault, std::string("default of ") + spec.name);
}

} // namespace kiln::importer
