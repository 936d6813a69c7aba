//===- Symbol.cpp - Symbolic networks, MXNet-style ------------------------===//

#include "kiln/Symbol.h"

#include "API/SymbolInternal.h"
#include "Import/MXNetAttrs.h"
#include "Import/OpCatalog.h"
#include "kiln/Error.h"
#include "runtime/io/File.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

namespace kiln {

using detail::SymbolData;
using detail::SymbolEntry;
using detail::SymbolNode;

namespace {

std::shared_ptr<SymbolData> makeData(std::vector<SymbolEntry> outputs) {
  auto data = std::make_shared<SymbolData>();
  data->outputs = std::move(outputs);
  return data;
}

const std::vector<SymbolEntry> &outputsOf(const Symbol &s) {
  static const std::vector<SymbolEntry> none;
  return s.data() ? s.data()->outputs : none;
}

bool isVariadic(const std::string &canonicalOp) {
  return canonicalOp == "Concat" || canonicalOp == "add_n";
}

std::string lowerCase(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// nnvm's DFSVisit order: inputs left to right, post-order, heads in order.
mx::Graph buildGraph(const std::vector<SymbolEntry> &outputs) {
  mx::Graph g;
  g.mxnetVersion = 10901;
  std::unordered_map<const SymbolNode *, int64_t> ids;
  struct Frame {
    const SymbolNode *node;
    size_t next;
  };
  for (const SymbolEntry &out : outputs) {
    if (ids.count(out.first.get()))
      continue;
    std::vector<Frame> stack{{out.first.get(), 0}};
    std::set<const SymbolNode *> onStack{out.first.get()};
    while (!stack.empty()) {
      Frame &f = stack.back();
      if (f.next < f.node->inputs.size()) {
        const SymbolNode *in = f.node->inputs[f.next++].first.get();
        if (!ids.count(in) && !onStack.count(in)) {
          onStack.insert(in);
          stack.push_back({in, 0});
        }
        continue;
      }
      mx::Node n;
      n.op = f.node->op;
      n.name = f.node->name;
      n.attrs = f.node->attrs;
      n.hints = f.node->hints;
      for (const SymbolEntry &e : f.node->inputs)
        n.inputs.push_back({ids.at(e.first.get()), e.second});
      ids[f.node] = static_cast<int64_t>(g.nodes.size());
      g.nodes.push_back(std::move(n));
      onStack.erase(f.node);
      stack.pop_back();
    }
  }
  for (const SymbolEntry &out : outputs)
    g.heads.push_back({ids.at(out.first.get()), out.second});
  return g;
}

/// Which variables are auxiliary states: the trailing inputs an operator
/// mutates (MXNet's FMutateInputs).
std::vector<bool> auxMask(const mx::Graph &g) {
  std::vector<bool> aux(g.nodes.size(), false);
  for (const mx::Node &n : g.nodes) {
    if (n.isVariable())
      continue;
    const mx::OpInfo *info = mx::lookupOp(n.op);
    if (!info || info->numAuxInputs == 0)
      continue;
    size_t first = n.inputs.size() >= size_t(info->numAuxInputs)
                       ? n.inputs.size() - info->numAuxInputs
                       : 0;
    for (size_t k = first; k < n.inputs.size(); ++k)
      if (g.nodes[n.inputs[k].node].isVariable())
        aux[n.inputs[k].node] = true;
  }
  return aux;
}

thread_local std::vector<std::map<std::string, int64_t>> nameCounters(1);

Symbol createImpl(const std::string &op, const std::string &name,
                  const std::string &hint, const std::vector<Symbol> &positional,
                  const std::map<std::string, Symbol> *named,
                  const Symbol::AttrMap &attrs) {
  std::string canonical = mx::canonicalOpName(op);
  const mx::OpInfo *info = mx::lookupOp(canonical);
  std::string nodeName = name;
  auto fail = [&](const std::string &msg) -> void {
    throw Error(msg + " in node '" + nodeName + "'");
  };
  if (!info)
    throw Error(mx::unknownOperatorMessage(op) +
                (name.empty() ? std::string() : " in node '" + name + "'"));
  auto node = std::make_shared<SymbolNode>();
  node->op = canonical;
  for (const auto &kv : attrs) {
    bool hidden = kv.first.size() > 4 && kv.first.compare(0, 2, "__") == 0 &&
                  kv.first.compare(kv.first.size() - 2, 2, "__") == 0;
    (hidden ? node->hints : node->attrs)[kv.first] = kv.second;
  }
  if (isVariadic(canonical) && !node->attrs.count("num_args")) {
    if (named)
      throw Error("operator '" + canonical +
                  "' takes positional inputs only");
    node->attrs["num_args"] = std::to_string(positional.size());
  }
  nodeName = NameManager::get(name, hint.empty() ? lowerCase(op) : hint);
  node->name = nodeName;

  std::vector<std::string> inputNames;
  try {
    inputNames = info->inputNames(node->attrs);
    mx::Node probe;
    probe.op = canonical;
    probe.name = nodeName;
    probe.attrs = node->attrs;
    mx::numOutputs(probe);
  } catch (const Error &e) {
    fail(e.what());
  }

  auto inputEntry = [&](const Symbol &s, const std::string &inName) {
    const auto &outs = outputsOf(s);
    if (outs.size() != 1)
      fail("input '" + inName + "' has " + std::to_string(outs.size()) +
           " outputs; an operator input needs exactly one (select one "
           "with operator[])");
    return outs[0];
  };

  if (named) {
    for (const auto &kv : *named)
      if (std::find(inputNames.begin(), inputNames.end(), kv.first) ==
          inputNames.end()) {
        std::string list;
        for (const auto &n : inputNames)
          list += (list.empty() ? "" : ", ") + n;
        fail("operator '" + canonical + "' has no input '" + kv.first +
             "' (inputs: " + list + ")");
      }
    for (const std::string &inName : inputNames) {
      auto it = named->find(inName);
      if (it != named->end() && !it->second.empty())
        node->inputs.push_back(inputEntry(it->second, inName));
      else
        node->inputs.push_back(
            outputsOf(Symbol::Variable(nodeName + "_" + inName))[0]);
    }
  } else {
    if (positional.size() > inputNames.size())
      fail("operator '" + canonical + "' takes " +
           std::to_string(inputNames.size()) + " inputs given its attributes, "
           "got " + std::to_string(positional.size()));
    for (size_t k = 0; k < inputNames.size(); ++k) {
      if (k < positional.size() && !positional[k].empty())
        node->inputs.push_back(inputEntry(positional[k], inputNames[k]));
      else if (isVariadic(canonical))
        fail("input '" + inputNames[k] + "' of a variadic operator is missing");
      else
        node->inputs.push_back(
            outputsOf(Symbol::Variable(nodeName + "_" + inputNames[k]))[0]);
    }
  }

  mx::Node probe;
  probe.op = canonical;
  probe.attrs = node->attrs;
  int64_t outs = mx::numOutputs(probe);
  std::shared_ptr<const SymbolNode> shared = node;
  std::vector<SymbolEntry> outputs;
  for (int64_t i = 0; i < outs; ++i)
    outputs.push_back({shared, i});
  return Symbol(makeData(std::move(outputs)));
}

Symbol binary(const char *op, const char *hint, const Symbol &lhs,
              const Symbol &rhs) {
  return createImpl(op, "", hint, {lhs, rhs}, nullptr, {});
}

Symbol scalar(const char *op, const char *hint, const Symbol &data,
              double value) {
  return createImpl(op, "", hint, {data}, nullptr,
                    {{"scalar", mx::formatFloat(value)}});
}

} // namespace

//===----------------------------------------------------------------------===//
// Symbol
//===----------------------------------------------------------------------===//

Symbol::Symbol() = default;
Symbol::Symbol(std::shared_ptr<const detail::SymbolData> data)
    : data_(std::move(data)) {}

Symbol Symbol::Variable(const std::string &name, const AttrMap &hints) {
  if (name.empty())
    throw Error("a variable needs a name");
  auto node = std::make_shared<SymbolNode>();
  node->op = "null";
  node->name = name;
  node->hints = hints;
  return Symbol(makeData({{node, 0}}));
}

Symbol Symbol::create(const std::string &op, const std::string &name,
                      const std::vector<Symbol> &inputs, const AttrMap &attrs) {
  return createImpl(op, name, "", inputs, nullptr, attrs);
}

Symbol Symbol::createNamed(const std::string &op, const std::string &name,
                           const std::map<std::string, Symbol> &inputs,
                           const AttrMap &attrs) {
  return createImpl(op, name, "", {}, &inputs, attrs);
}

Symbol Symbol::fromJSON(const std::string &json, const std::string &fileName) {
  return detail::symbolFromGraph(mx::parseSymbolJSON(json, fileName));
}

Symbol Symbol::load(const std::string &path) {
  return detail::symbolFromGraph(mx::loadSymbolFile(path));
}

std::string Symbol::toJSON() const {
  return mx::writeSymbolJSON(detail::graphOf(*this));
}

void Symbol::save(const std::string &path) const {
  writeFileAtomically(path, toJSON());
}

size_t Symbol::numOutputs() const { return outputsOf(*this).size(); }

Symbol Symbol::operator[](size_t index) const {
  const auto &outs = outputsOf(*this);
  if (index >= outs.size())
    throw Error("output index " + std::to_string(index) +
                " out of range for a symbol with " +
                std::to_string(outs.size()) + " output(s)");
  return Symbol(makeData({outs[index]}));
}

std::string Symbol::name() const {
  const auto &outs = outputsOf(*this);
  if (outs.size() != 1)
    throw Error("name() needs a symbol with one output, this one has " +
                std::to_string(outs.size()));
  return outs[0].first->name;
}

std::vector<std::string> Symbol::listArguments() const {
  const mx::Graph &g = detail::graphOf(*this);
  std::vector<bool> aux = auxMask(g);
  std::vector<std::string> names;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].isVariable() && !aux[i])
      names.push_back(g.nodes[i].name);
  return names;
}

std::vector<std::string> Symbol::listAuxiliaryStates() const {
  const mx::Graph &g = detail::graphOf(*this);
  std::vector<bool> aux = auxMask(g);
  std::vector<std::string> names;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].isVariable() && aux[i])
      names.push_back(g.nodes[i].name);
  return names;
}

std::vector<std::string> Symbol::listInputs() const {
  const mx::Graph &g = detail::graphOf(*this);
  std::vector<std::string> names;
  for (const mx::Node &n : g.nodes)
    if (n.isVariable())
      names.push_back(n.name);
  return names;
}

std::vector<std::string> Symbol::listOutputs() const {
  const mx::Graph &g = detail::graphOf(*this);
  std::vector<std::string> names;
  for (const mx::NodeEntry &h : g.heads) {
    const mx::Node &n = g.nodes[h.node];
    if (n.isVariable()) {
      names.push_back(n.name);
    } else if (n.op == "SliceChannel") {
      names.push_back(n.name + "_output" + std::to_string(h.index));
    } else if (n.op == "BatchNorm" && mx::numOutputs(n) == 3) {
      static const char *const bn[] = {"output", "mean", "var"};
      names.push_back(n.name + "_" + bn[h.index]);
    } else {
      names.push_back(n.name + "_output");
    }
  }
  return names;
}

Symbol group(const std::vector<Symbol> &symbols) {
  std::vector<SymbolEntry> outs;
  for (const Symbol &s : symbols)
    for (const SymbolEntry &e : outputsOf(s))
      outs.push_back(e);
  return Symbol(makeData(std::move(outs)));
}

// NumPy broadcasting, as on NDArrays (MXNet's Symbol `+` is elementwise
// only; one meaning for both is the point). Hints are MXNet's Python
// auto-name hints: `a + b` names its node "_plus0".
Symbol operator+(const Symbol &l, const Symbol &r) {
  return binary("broadcast_add", "_plus", l, r);
}
Symbol operator-(const Symbol &l, const Symbol &r) {
  return binary("broadcast_sub", "_minus", l, r);
}
Symbol operator*(const Symbol &l, const Symbol &r) {
  return binary("broadcast_mul", "_mul", l, r);
}
Symbol operator/(const Symbol &l, const Symbol &r) {
  return binary("broadcast_div", "_div", l, r);
}
Symbol operator+(const Symbol &l, double r) {
  return scalar("_plus_scalar", "_plusscalar", l, r);
}
Symbol operator+(double l, const Symbol &r) {
  return scalar("_plus_scalar", "_plusscalar", r, l);
}
Symbol operator-(const Symbol &l, double r) {
  return scalar("_minus_scalar", "_minusscalar", l, r);
}
Symbol operator-(double l, const Symbol &r) {
  return scalar("_rminus_scalar", "_rminusscalar", r, l);
}
Symbol operator*(const Symbol &l, double r) {
  return scalar("_mul_scalar", "_mulscalar", l, r);
}
Symbol operator*(double l, const Symbol &r) {
  return scalar("_mul_scalar", "_mulscalar", r, l);
}
Symbol operator/(const Symbol &l, double r) {
  return scalar("_div_scalar", "_divscalar", l, r);
}
Symbol operator/(double l, const Symbol &r) {
  return scalar("_rdiv_scalar", "_rdivscalar", r, l);
}

//===----------------------------------------------------------------------===//
// NameManager
//===----------------------------------------------------------------------===//

NameManager::NameManager() { nameCounters.emplace_back(); }
NameManager::~NameManager() {
  if (nameCounters.size() > 1)
    nameCounters.pop_back();
}

std::string NameManager::get(const std::string &name, const std::string &hint) {
  if (!name.empty())
    return name;
  int64_t &counter = nameCounters.back()[hint];
  return hint + std::to_string(counter++);
}

//===----------------------------------------------------------------------===//
// Internal accessors
//===----------------------------------------------------------------------===//

namespace detail {

const mx::Graph &graphOf(const Symbol &symbol) {
  static const mx::Graph empty;
  if (!symbol.data())
    return empty;
  const SymbolData &d = *symbol.data();
  std::call_once(d.graphOnce, [&] { d.graph = buildGraph(d.outputs); });
  return d.graph;
}

Symbol symbolFromGraph(mx::Graph graph) {
  std::vector<std::shared_ptr<SymbolNode>> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const mx::Node &n = graph.nodes[i];
    if (!n.isVariable() && !mx::lookupOp(n.op))
      throw Error(mx::unknownOperatorMessage(n.op) + " in node '" + n.name + "'");
    auto node = std::make_shared<SymbolNode>();
    node->op = n.op;
    node->name = n.name;
    node->attrs = n.attrs;
    node->hints = n.hints;
    for (const mx::NodeEntry &e : n.inputs) {
      if (e.node < 0 || e.node >= static_cast<int64_t>(i))
        throw Error("input of node '" + n.name + "' refers to node " +
                    std::to_string(e.node) + ", which is not an earlier node");
      node->inputs.push_back({nodes[e.node], e.index});
    }
    nodes.push_back(std::move(node));
  }
  std::vector<SymbolEntry> outs;
  for (const mx::NodeEntry &h : graph.heads) {
    if (h.node < 0 || h.node >= static_cast<int64_t>(nodes.size()))
      throw Error("graph head refers to node " + std::to_string(h.node) +
                  ", which does not exist");
    outs.push_back({nodes[h.node], h.index});
  }
  auto data = makeData(std::move(outs));
  // Keep the graph exactly as given (order, unreachable nodes included) so
  // that load → save reproduces the file's graph.
  std::call_once(data->graphOnce, [&] { data->graph = std::move(graph); });
  return Symbol(std::move(data));
}

} // namespace detail

//===----------------------------------------------------------------------===//
// Typed helpers
//===----------------------------------------------------------------------===//

namespace sym {

void Attrs::putInt(const char *key, int64_t v) {
  attrs_[key] = std::to_string(v);
}
void Attrs::putFloat(const char *key, double v) {
  attrs_[key] = mx::formatFloat(v);
}
void Attrs::putBool(const char *key, bool v) { attrs_[key] = mx::formatBool(v); }
void Attrs::putTuple(const char *key, const std::vector<int64_t> &v) {
  attrs_[key] = mx::formatTuple(v);
}

#define OPT(Class, Method, Type, Put, Key)                                     \
  Class &Class::Method(Type v) {                                               \
    Put(Key, v);                                                               \
    return *this;                                                              \
  }
using Tuple = const std::vector<int64_t> &;
using Str = const std::string &;
OPT(FullyConnectedOpts, noBias, bool, putBool, "no_bias")
OPT(FullyConnectedOpts, flatten, bool, putBool, "flatten")
OPT(ConvolutionOpts, stride, Tuple, putTuple, "stride")
OPT(ConvolutionOpts, dilate, Tuple, putTuple, "dilate")
OPT(ConvolutionOpts, pad, Tuple, putTuple, "pad")
OPT(ConvolutionOpts, numGroup, int64_t, putInt, "num_group")
OPT(ConvolutionOpts, workspace, int64_t, putInt, "workspace")
OPT(ConvolutionOpts, noBias, bool, putBool, "no_bias")
OPT(ConvolutionOpts, layout, Str, putString, "layout")
OPT(DeconvolutionOpts, stride, Tuple, putTuple, "stride")
OPT(DeconvolutionOpts, dilate, Tuple, putTuple, "dilate")
OPT(DeconvolutionOpts, pad, Tuple, putTuple, "pad")
OPT(DeconvolutionOpts, adj, Tuple, putTuple, "adj")
OPT(DeconvolutionOpts, targetShape, Tuple, putTuple, "target_shape")
OPT(DeconvolutionOpts, numGroup, int64_t, putInt, "num_group")
OPT(DeconvolutionOpts, workspace, int64_t, putInt, "workspace")
OPT(DeconvolutionOpts, noBias, bool, putBool, "no_bias")
OPT(DeconvolutionOpts, layout, Str, putString, "layout")
OPT(PoolingOpts, kernel, Tuple, putTuple, "kernel")
OPT(PoolingOpts, poolType, Str, putString, "pool_type")
OPT(PoolingOpts, stride, Tuple, putTuple, "stride")
OPT(PoolingOpts, pad, Tuple, putTuple, "pad")
OPT(PoolingOpts, globalPool, bool, putBool, "global_pool")
OPT(PoolingOpts, poolingConvention, Str, putString, "pooling_convention")
OPT(PoolingOpts, countIncludePad, bool, putBool, "count_include_pad")
OPT(PoolingOpts, layout, Str, putString, "layout")
OPT(BatchNormOpts, eps, double, putFloat, "eps")
OPT(BatchNormOpts, momentum, double, putFloat, "momentum")
OPT(BatchNormOpts, fixGamma, bool, putBool, "fix_gamma")
OPT(BatchNormOpts, useGlobalStats, bool, putBool, "use_global_stats")
OPT(BatchNormOpts, outputMeanVar, bool, putBool, "output_mean_var")
OPT(BatchNormOpts, axis, int64_t, putInt, "axis")
OPT(LeakyReLUOpts, actType, Str, putString, "act_type")
OPT(LeakyReLUOpts, slope, double, putFloat, "slope")
OPT(LeakyReLUOpts, lowerBound, double, putFloat, "lower_bound")
OPT(LeakyReLUOpts, upperBound, double, putFloat, "upper_bound")
OPT(LRNOpts, alpha, double, putFloat, "alpha")
OPT(LRNOpts, beta, double, putFloat, "beta")
OPT(LRNOpts, knorm, double, putFloat, "knorm")
OPT(DropoutOpts, p, double, putFloat, "p")
OPT(DropoutOpts, mode, Str, putString, "mode")
OPT(DropoutOpts, axes, Tuple, putTuple, "axes")
OPT(SoftmaxOutputOpts, gradScale, double, putFloat, "grad_scale")
OPT(SoftmaxOutputOpts, ignoreLabel, double, putFloat, "ignore_label")
OPT(SoftmaxOutputOpts, multiOutput, bool, putBool, "multi_output")
OPT(SoftmaxOutputOpts, useIgnore, bool, putBool, "use_ignore")
OPT(SoftmaxOutputOpts, preserveShape, bool, putBool, "preserve_shape")
OPT(SoftmaxOutputOpts, normalization, Str, putString, "normalization")
OPT(SoftmaxOutputOpts, smoothAlpha, double, putFloat, "smooth_alpha")
OPT(SoftmaxOpts, axis, int64_t, putInt, "axis")
OPT(SoftmaxOpts, temperature, double, putFloat, "temperature")
OPT(ReduceOpts, axis, Tuple, putTuple, "axis")
OPT(ReduceOpts, keepdims, bool, putBool, "keepdims")
OPT(ReduceOpts, exclude, bool, putBool, "exclude")
OPT(SliceChannelOpts, axis, int64_t, putInt, "axis")
OPT(SliceChannelOpts, squeezeAxis, bool, putBool, "squeeze_axis")
#undef OPT

namespace {
Symbol::AttrMap with(Symbol::AttrMap base, const Symbol::AttrMap &extra) {
  for (const auto &kv : extra)
    base[kv.first] = kv.second;
  return base;
}
} // namespace

Symbol FullyConnected(const std::string &name, const Symbol &data,
                      int64_t numHidden, const FullyConnectedOpts &opts) {
  return Symbol::create("FullyConnected", name, {data},
                        with(opts.map(), {{"num_hidden", std::to_string(numHidden)}}));
}
Symbol Convolution(const std::string &name, const Symbol &data,
                   const std::vector<int64_t> &kernel, int64_t numFilter,
                   const ConvolutionOpts &opts) {
  return Symbol::create("Convolution", name, {data},
                        with(opts.map(), {{"kernel", mx::formatTuple(kernel)},
                                          {"num_filter", std::to_string(numFilter)}}));
}
Symbol Deconvolution(const std::string &name, const Symbol &data,
                     const std::vector<int64_t> &kernel, int64_t numFilter,
                     const DeconvolutionOpts &opts) {
  return Symbol::create("Deconvolution", name, {data},
                        with(opts.map(), {{"kernel", mx::formatTuple(kernel)},
                                          {"num_filter", std::to_string(numFilter)}}));
}
Symbol Pooling(const std::string &name, const Symbol &data,
               const PoolingOpts &opts) {
  return Symbol::create("Pooling", name, {data}, opts.map());
}
Symbol Activation(const std::string &name, const Symbol &data,
                  const std::string &actType) {
  return Symbol::create("Activation", name, {data}, {{"act_type", actType}});
}
Symbol LeakyReLU(const std::string &name, const Symbol &data,
                 const LeakyReLUOpts &opts) {
  return Symbol::create("LeakyReLU", name, {data}, opts.map());
}
Symbol BatchNorm(const std::string &name, const Symbol &data,
                 const BatchNormOpts &opts) {
  return Symbol::create("BatchNorm", name, {data}, opts.map());
}
Symbol LRN(const std::string &name, const Symbol &data, int64_t nsize,
           const LRNOpts &opts) {
  return Symbol::create("LRN", name, {data},
                        with(opts.map(), {{"nsize", std::to_string(nsize)}}));
}
Symbol Dropout(const std::string &name, const Symbol &data,
               const DropoutOpts &opts) {
  return Symbol::create("Dropout", name, {data}, opts.map());
}
Symbol Embedding(const std::string &name, const Symbol &data, int64_t inputDim,
                 int64_t outputDim) {
  return Symbol::create("Embedding", name, {data},
                        {{"input_dim", std::to_string(inputDim)},
                         {"output_dim", std::to_string(outputDim)}});
}
Symbol Flatten(const std::string &name, const Symbol &data) {
  return Symbol::create("Flatten", name, {data});
}
Symbol Reshape(const std::string &name, const Symbol &data,
               const std::vector<int64_t> &shape, std::optional<bool> reverse) {
  Symbol::AttrMap attrs{{"shape", mx::formatTuple(shape)}};
  if (reverse)
    attrs["reverse"] = mx::formatBool(*reverse);
  return Symbol::create("Reshape", name, {data}, attrs);
}
Symbol transpose(const std::string &name, const Symbol &data,
                 const std::vector<int64_t> &axes) {
  Symbol::AttrMap attrs;
  if (!axes.empty())
    attrs["axes"] = mx::formatTuple(axes);
  return Symbol::create("transpose", name, {data}, attrs);
}
Symbol Concat(const std::string &name, const std::vector<Symbol> &inputs,
              std::optional<int64_t> dim) {
  Symbol::AttrMap attrs;
  if (dim)
    attrs["dim"] = std::to_string(*dim);
  return Symbol::create("Concat", name, inputs, attrs);
}
Symbol SliceChannel(const std::string &name, const Symbol &data,
                    int64_t numOutputs, const SliceChannelOpts &opts) {
  return Symbol::create("SliceChannel", name, {data},
                        with(opts.map(), {{"num_outputs", std::to_string(numOutputs)}}));
}
Symbol SoftmaxOutput(const std::string &name, const Symbol &data,
                     const Symbol &label, const SoftmaxOutputOpts &opts) {
  return Symbol::create("SoftmaxOutput", name, {data, label}, opts.map());
}
Symbol LinearRegressionOutput(const std::string &name, const Symbol &data,
                              const Symbol &label) {
  return Symbol::create("LinearRegressionOutput", name, {data, label});
}
Symbol LogisticRegressionOutput(const std::string &name, const Symbol &data,
                                const Symbol &label) {
  return Symbol::create("LogisticRegressionOutput", name, {data, label});
}
Symbol MAERegressionOutput(const std::string &name, const Symbol &data,
                           const Symbol &label) {
  return Symbol::create("MAERegressionOutput", name, {data, label});
}
Symbol softmax(const std::string &name, const Symbol &data,
               const SoftmaxOpts &opts) {
  return Symbol::create("softmax", name, {data}, opts.map());
}
Symbol log_softmax(const std::string &name, const Symbol &data,
                   const SoftmaxOpts &opts) {
  return Symbol::create("log_softmax", name, {data}, opts.map());
}
Symbol SoftmaxActivation(const std::string &name, const Symbol &data,
                         const std::string &mode) {
  Symbol::AttrMap attrs;
  if (!mode.empty())
    attrs["mode"] = mode;
  return Symbol::create("SoftmaxActivation", name, {data}, attrs);
}
Symbol identity(const std::string &name, const Symbol &data) {
  return Symbol::create("identity", name, {data});
}

#define KILN_BINARY_OP(Op)                                                     \
  Symbol Op(const std::string &name, const Symbol &lhs, const Symbol &rhs) {   \
    return Symbol::create(#Op, name, {lhs, rhs});                              \
  }
#include "API/BinaryOps.def"

Symbol add_n(const std::string &name, const std::vector<Symbol> &inputs) {
  return Symbol::create("add_n", name, inputs);
}
Symbol broadcast_to(const std::string &name, const Symbol &data,
                    const std::vector<int64_t> &shape) {
  return Symbol::create("broadcast_to", name, {data},
                        {{"shape", mx::formatTuple(shape)}});
}
Symbol dot(const std::string &name, const Symbol &lhs, const Symbol &rhs, bool transposeA,
           bool transposeB) {
  Symbol::AttrMap attrs;
  if (transposeA)
    attrs["transpose_a"] = mx::formatBool(true);
  if (transposeB)
    attrs["transpose_b"] = mx::formatBool(true);
  return Symbol::create("dot", name, {lhs, rhs}, attrs);
}
Symbol slice_axis(const std::string &name, const Symbol &data, int64_t axis, int64_t begin,
                  int64_t end) {
  return Symbol::create("slice_axis", name, {data},
                        {{"axis", std::to_string(axis)},
                         {"begin", std::to_string(begin)},
                         {"end", std::to_string(end)}});
}
Symbol scalarOp(const std::string &op, const std::string &name,
                const Symbol &data, double scalar) {
  return Symbol::create(op, name, {data}, {{"scalar", mx::formatFloat(scalar)}});
}
Symbol sum(const std::string &name, const Symbol &data, const ReduceOpts &o) {
  return Symbol::create("sum", name, {data}, o.map());
}
Symbol mean(const std::string &name, const Symbol &data, const ReduceOpts &o) {
  return Symbol::create("mean", name, {data}, o.map());
}
Symbol max(const std::string &name, const Symbol &data, const ReduceOpts &o) {
  return Symbol::create("max", name, {data}, o.map());
}
Symbol min(const std::string &name, const Symbol &data, const ReduceOpts &o) {
  return Symbol::create("min", name, {data}, o.map());
}

} // namespace sym
} // namespace kiln
