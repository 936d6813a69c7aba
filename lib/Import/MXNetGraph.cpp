//===- MXNetGraph.cpp - MXNet symbol graphs in memory ---------------------===//

#include "Import/MXNetGraph.h"

#include "Graph/MXNetOpDef.h"
#include "Import/MXNetAttrs.h"
#include "Import/OpCatalog.h"
#include "kiln/Error.h"

#include "runtime/io/File.h"

namespace kiln::mx {

int64_t numOutputs(const Node &node) {
  if (node.isVariable())
    return 1;
  auto attr = [&](const char *key) -> const std::string * {
    auto it = node.attrs.find(key);
    return it == node.attrs.end() ? nullptr : &it->second;
  };
  std::string context = "node '" + node.name + "' attribute ";
  // SliceChannel (split) and amp_multicast: `num_outputs` results (ODS
  // mxnetSplitResults).
  if (const OpInfo *info = lookupOp(canonicalOpName(node.op));
      info && info->def && info->def->splitResults) {
    const std::string *n = attr("num_outputs");
    if (!n)
      throw Error(node.op + " node '" + node.name +
                  "' is missing required attribute 'num_outputs'");
    int64_t v = parseInt(*n, context + "'num_outputs'");
    if (v < 1)
      throw Error(context + "'num_outputs' must be at least 1, got '" + *n +
                  "'");
    return v;
  }
  // _split_v2: one output per section, or per split index (MXNet's
  // SplitNumOutputs).
  if (node.op == "_split_v2") {
    const std::string *sections = attr("sections");
    int64_t n = sections ? parseInt(*sections, context + "'sections'") : 0;
    if (n > 0)
      return n;
    const std::string *indices = attr("indices");
    if (!indices)
      throw Error("_split_v2 node '" + node.name +
                  "' is missing required attribute 'indices'");
    n = static_cast<int64_t>(parseTuple(*indices, context + "'indices'").size());
    if (n < 1)
      throw Error(context + "'indices' is empty and 'sections' is not positive: no outputs");
    return n;
  }
  // moments: the mean and the variance; box_encode: targets and masks.
  if (node.op == "moments" || node.op == "_contrib_box_encode")
    return 2;
  // BatchNorm always has three outputs inside MXNet, but only the first is
  // visible (and may be consumed) unless output_mean_var is set.
  if (node.op == "BatchNorm") {
    const std::string *v = attr("output_mean_var");
    return v && parseBool(*v, context + "'output_mean_var'") ? 3 : 1;
  }
  // topk has a second output, the indices, with ret_typ = both (with
  // value, MXNet computes them too but does not show them).
  if (node.op == "topk") {
    const std::string *r = attr("ret_typ");
    return r && *r == "both" ? 2 : 1;
  }
  // Ops whose second output is visible only with a flag (Proposal's
  // output_score; their ODS names it in mxnetExtraResultIf).
  if (const OpInfo *info = lookupOp(canonicalOpName(node.op));
      info && info->def && info->def->extraResultIf) {
    const std::string *v = attr(info->def->extraResultIf);
    return v && parseBool(*v, context + "'" + info->def->extraResultIf + "'") ? 2 : 1;
  }
  // RNN: output, then with state_outputs the final states (hy, and cy for
  // lstm).
  if (node.op == "RNN" || node.op == "_npx_rnn") {
    const std::string *v = attr("state_outputs");
    if (!v || !parseBool(*v, context + "'state_outputs'"))
      return 1;
    const std::string *mode = attr("mode");
    return mode && *mode == "lstm" ? 3 : 2;
  }
  return 1;
}

Graph loadSymbolFile(const std::string &path) {
  return parseSymbolJSON(readFile(path), path);
}

} // namespace kiln::mx
