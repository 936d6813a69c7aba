//===- Generator.cpp - Random valid MXNet graphs ---------------------------===//
//
// A graph grows from one or two data variables: each step picks an operator
// from the table below (weighted) and a value to feed it (usually one of the
// newest, sometimes an older one: fan-out), and the operator's entry picks
// attributes valid for that value's shape and any further operands. Second
// operands come from older values of a fitting shape (skip connections and
// residual joins), from the value itself (x op x) or from fresh variables,
// in either operand order. At the end every value nothing consumes becomes a
// graph output, and some consumed ones too (outputs also used inside).
//
// Each entry computes its output shapes with MXNet's rules, independently of
// Kiln's shape inference, so the oracle can check one against the other.
// Each value carries a rough bound of its magnitude, which keeps entries
// that amplify (powers, sums) from producing values whose float32 rounding
// would exceed the comparison's tolerance.
//
//===----------------------------------------------------------------------===//

#include "GraphFuzz.h"

#include "Import/MXNetAttrs.h"
#include "Import/OpCatalog.h"
#include "Graph/MXNetOpDef.h"
#include "kiln/Error.h"
#include "kiln/Random.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

namespace kiln::fuzz {

std::map<std::string, Shape> FuzzGraph::inputShapes() const {
  std::map<std::string, Shape> shapes;
  for (const mx::Node &n : graph.nodes) {
    if (!n.isVariable())
      continue;
    auto info = vars.find(n.name);
    auto hint = n.hints.find("__shape__");
    if (info != vars.end() && info->second.input && hint != n.hints.end())
      shapes[n.name] = mx::parseTuple(hint->second, "variable '" + n.name + "'");
  }
  return shapes;
}

size_t FuzzGraph::numOps() const {
  return std::count_if(graph.nodes.begin(), graph.nodes.end(),
                       [](const mx::Node &n) { return !n.isVariable(); });
}

namespace {

int64_t numElements(const Shape &s) { return Tensor::numElements(s); }

std::string str(int64_t v) { return std::to_string(v); }
std::string str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
std::string tuple(const Shape &s) { return mx::formatTuple(s); }

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> d;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0)
      d.push_back(i);
  return d;
}

/// A value operators may consume: one output of one node.
struct Value {
  mx::NodeEntry entry;
  Shape shape;
  /// A rough bound of |value| (a few standard deviations).
  double mag = 3;
};

/// An operand the operator owns, created as the variable "<node>_<input>".
struct Owned {
  VarInfo info;
  /// Empty: left to shape inference, as MXNet's implicit variables.
  Shape hintedShape;
};

class Builder {
public:
  Builder(uint64_t seed, const GeneratorOptions &options) : rng(seed), opts(options) {}

  Random rng;
  const GeneratorOptions &opts;
  FuzzGraph g;
  std::vector<Value> pool;
  int ops = 0;

  int64_t between(int64_t lo, int64_t hi) { return lo + int64_t(rng.below(uint64_t(hi - lo + 1))); }
  bool chance(double p) { return rng.uniform() < p; }
  template <typename T> T oneOf(std::initializer_list<T> items) {
    return *(items.begin() + rng.below(items.size()));
  }
  template <typename T> const T &oneOf(const std::vector<T> &items) {
    return items[rng.below(items.size())];
  }
  /// Wide graphs have many channels and hidden units and few spatial
  /// positions: contractions with K in the hundreds or thousands, which the
  /// CPU backend blocks and packs (narrow ones run as a single block).
  bool wide = false;
  /// Large graphs have big spatial extents: elementwise kernels and
  /// windows the CPU backend vectorizes and splits into parallel chunks
  /// (from 64 Ki elements).
  bool large = false;
  int64_t maxElements() const {
    return large ? 40 * opts.maxElements : wide ? 8 * opts.maxElements : opts.maxElements;
  }
  /// Multiply-adds one operator may cost the float64 reference.
  int64_t maxWork() const { return wide || large ? 20000000 : 400000; }
  bool fits(const Shape &s) const {
    int64_t n = numElements(s);
    return n >= 1 && n <= maxElements();
  }
  /// A layer width (filters, hidden units, output columns).
  int64_t width() {
    return wide && chance(0.6) ? oneOf<int64_t>({16, 32, 64, 96, 128}) : between(1, 8);
  }

  Value variable(const std::string &name, const Shape &shape, VarInfo info, bool hinted = true) {
    mx::Node n;
    n.op = "null";
    n.name = name;
    if (hinted)
      n.hints["__shape__"] = tuple(shape);
    g.graph.nodes.push_back(std::move(n));
    g.vars[name] = info;
    return {{int64_t(g.graph.nodes.size() - 1), 0}, shape, 3};
  }

  Value freshData(const Shape &shape, bool input = false) {
    VarInfo info;
    info.input = input;
    return variable("x" + std::to_string(numVariables++), shape, info);
  }

  /// Appends node `op` applied to `inputs`; the op's remaining inputs (in
  /// OpCatalog order) are created from `owned` by input name.
  std::vector<Value> apply(const std::string &op, std::map<std::string, std::string> attrs,
                           const std::vector<Value> &inputs, const std::vector<Shape> &outShapes,
                           double mag, const std::map<std::string, Owned> &owned = {},
                           bool terminal = false) {
    std::string lower = op;
    for (char &c : lower)
      c = char(std::tolower(static_cast<unsigned char>(c)));
    std::string name = lower + std::to_string(numNodes++);
    const mx::OpInfo *info = mx::lookupOp(op);
    if (!info)
      throw Error("kiln-fuzz-graphs: no catalog entry for operator '" + op + "'");
    std::vector<std::string> inputNames = info->inputNames(attrs);
    if (inputs.size() > inputNames.size())
      throw Error("kiln-fuzz-graphs: too many inputs for '" + op + "'");
    std::vector<mx::NodeEntry> entries;
    for (const Value &v : inputs)
      entries.push_back(v.entry);
    for (size_t i = inputs.size(); i < inputNames.size(); ++i) {
      auto it = owned.find(inputNames[i]);
      Owned o = it == owned.end() ? Owned{VarInfo{VarRole::Weight}, {}} : it->second;
      Value v = variable(name + "_" + inputNames[i], o.hintedShape, o.info,
                         !o.hintedShape.empty());
      entries.push_back(v.entry);
    }
    mx::Node node;
    node.op = op;
    node.name = name;
    node.attrs = std::move(attrs);
    node.inputs = std::move(entries);
    g.graph.nodes.push_back(std::move(node));
    g.expectedShapes[name] = outShapes;
    ++ops;
    std::vector<Value> outs;
    for (size_t i = 0; i < outShapes.size(); ++i) {
      Value v{{int64_t(g.graph.nodes.size() - 1), int64_t(i)}, outShapes[i], mag};
      outs.push_back(v);
      if (!terminal)
        pool.push_back(v);
    }
    if (terminal)
      terminals.push_back(outs[0].entry);
    return outs;
  }

  /// The newest values most of the time (deep chains), any value otherwise
  /// (fan-out, long skip connections).
  const Value &pickValue() {
    if (pool.size() > 1 && chance(0.6)) {
      size_t recent = std::min<size_t>(3, pool.size());
      return pool[pool.size() - 1 - rng.below(recent)];
    }
    return pool[rng.below(pool.size())];
  }

  /// Some other value of exactly `shape`, if any: a skip connection.
  const Value *another(const Shape &shape, const Value *notThis = nullptr) {
    std::vector<const Value *> found;
    for (const Value &v : pool)
      if (v.shape == shape && (!notThis || !(v.entry == notThis->entry)))
        found.push_back(&v);
    return found.empty() ? nullptr : found[rng.below(found.size())];
  }

  /// A second operand of `x`'s shape: an older value (a residual join), `x`
  /// itself (x op x), or a fresh variable.
  Value sameShape(const Value &x) {
    double r = rng.uniform();
    if (r < 0.5)
      if (const Value *v = another(x.shape, &x))
        return *v;
    if (r < 0.65)
      return x;
    return freshData(x.shape);
  }

  /// A value of `x`'s shape bounded away from 0 (denominators, bases of
  /// powers): sigmoid(x) + 0.5 in (0.5, 1.5), or a fresh positive variable.
  Value positive(const Value &x) {
    if (chance(0.4)) {
      VarInfo info{VarRole::Scale};
      Value v = variable("x" + std::to_string(numVariables++), x.shape, info);
      v.mag = 1.5;
      return v;
    }
    Value s = apply("Activation", {{"act_type", "sigmoid"}}, {x}, {x.shape}, 1)[0];
    return apply("_plus_scalar", {{"scalar", "0.5"}}, {s}, {x.shape}, 1.5)[0];
  }

  /// Operand order: `a` first or second.
  std::vector<Value> ordered(const Value &a, const Value &b) {
    return chance(0.5) ? std::vector<Value>{a, b} : std::vector<Value>{b, a};
  }

  std::vector<mx::NodeEntry> terminals;
  int numVariables = 0;
  int numNodes = 0;
};

//===----------------------------------------------------------------------===//
// Shape helpers (MXNet's rules)
//===----------------------------------------------------------------------===//

/// Normalizes the spatial parameters of a convolution-like op on `x` and
/// returns the output extent per spatial dimension; empty when invalid.
struct Window {
  Shape kernel, stride, dilate, pad;
};

Shape convOutput(const Shape &x, const Window &w) {
  Shape out;
  for (size_t i = 0; i < w.kernel.size(); ++i) {
    int64_t in = x[i + 2] + 2 * w.pad[i];
    int64_t k = w.dilate[i] * (w.kernel[i] - 1) + 1;
    if (k > in)
      return {};
    out.push_back((in - k) / w.stride[i] + 1);
  }
  return out;
}

bool spatialRank(const Value &x, int64_t lo, int64_t hi) {
  return int64_t(x.shape.size()) >= lo + 2 && int64_t(x.shape.size()) <= hi + 2;
}

std::map<std::string, std::string> windowAttrs(const Window &w, bool withDilate) {
  std::map<std::string, std::string> a{{"kernel", tuple(w.kernel)}};
  auto nonTrivial = [](const Shape &s, int64_t dflt) {
    return std::any_of(s.begin(), s.end(), [&](int64_t v) { return v != dflt; });
  };
  if (nonTrivial(w.stride, 1))
    a["stride"] = tuple(w.stride);
  if (withDilate && nonTrivial(w.dilate, 1))
    a["dilate"] = tuple(w.dilate);
  if (nonTrivial(w.pad, 0))
    a["pad"] = tuple(w.pad);
  return a;
}

//===----------------------------------------------------------------------===//
// The operator table: one entry per MXNet operator
//===----------------------------------------------------------------------===//

using BuildFn = bool (*)(Builder &b, const Value &x);

struct OpEntry {
  const char *op;
  int weight;
  /// Adds one application of `op` to `x` (which a source op ignores), or
  /// returns false, adding nothing, when `x` does not suit it.
  BuildFn build;
  /// Creates its own input (Embedding's indices).
  bool source = false;
  /// A pattern of several operators rather than one operator's entry.
  bool motif = false;
};

bool buildFullyConnected(Builder &b, const Value &x) {
  if (x.shape.size() < 2)
    return false;
  bool flatten = b.chance(0.7);
  int64_t k = flatten ? numElements(x.shape) / x.shape[0] : x.shape.back();
  int64_t hidden = !flatten && b.chance(0.3) ? x.shape.back() : b.width();
  Shape out = flatten ? Shape{x.shape[0], hidden} : x.shape;
  out.back() = hidden;
  if (!b.fits(out) || numElements(out) * k > b.maxWork())
    return false;
  std::map<std::string, std::string> a{{"num_hidden", str(hidden)}};
  if (!flatten)
    a["flatten"] = "False";
  if (b.chance(0.25))
    a["no_bias"] = "True";
  b.apply("FullyConnected", a, {x}, {out}, x.mag + 0.5, {{"bias", {VarInfo{VarRole::Offset}, {}}}});
  return true;
}

bool buildConvolution(Builder &b, const Value &x) {
  if (!spatialRank(x, 1, 3))
    return false;
  size_t n = x.shape.size() - 2;
  int64_t c = x.shape[1];
  bool keepShape = b.chance(0.3);
  Window w;
  for (size_t i = 0; i < n; ++i) {
    int64_t size = x.shape[i + 2];
    int64_t k, s = 1, d = 1, p;
    if (keepShape) {
      k = b.oneOf<int64_t>({1, 3});
      p = k / 2;
    } else {
      k = b.between(1, std::min<int64_t>(3, size + 2));
      d = k > 1 && b.chance(0.2) ? 2 : 1;
      p = b.between(0, (d * (k - 1) + 1) / 2);
      s = b.chance(0.3) ? b.between(2, 3) : 1;
    }
    w.kernel.push_back(k);
    w.stride.push_back(s);
    w.dilate.push_back(d);
    w.pad.push_back(p);
  }
  Shape spatial = convOutput(x.shape, w);
  if (spatial.empty())
    return false;
  int64_t groups = b.chance(0.25) ? b.oneOf(divisors(c)) : 1;
  int64_t filters = keepShape && b.chance(0.6) ? c : groups * std::max<int64_t>(1, b.width() / groups);
  if (filters % groups)
    filters = groups;
  Shape out{x.shape[0], filters};
  out.insert(out.end(), spatial.begin(), spatial.end());
  int64_t fanIn = c / groups * numElements(w.kernel);
  if (!b.fits(out) || numElements(out) * fanIn > b.maxWork())
    return false;
  auto a = windowAttrs(w, true);
  a["num_filter"] = str(filters);
  if (groups != 1)
    a["num_group"] = str(groups);
  if (b.chance(0.3))
    a["no_bias"] = "True";
  b.apply("Convolution", a, {x}, {out}, x.mag + 0.5, {{"bias", {VarInfo{VarRole::Offset}, {}}}});
  return true;
}

bool buildDeconvolution(Builder &b, const Value &x) {
  if (!spatialRank(x, 1, 2))
    return false;
  size_t n = x.shape.size() - 2;
  int64_t c = x.shape[1];
  Window w;
  Shape adj, out{x.shape[0]};
  Shape target;
  bool useTarget = b.chance(0.15);
  for (size_t i = 0; i < n; ++i) {
    int64_t size = x.shape[i + 2];
    int64_t k = b.between(1, 4), s = b.chance(0.4) ? 2 : 1;
    int64_t d = k > 1 && b.chance(0.15) ? 2 : 1;
    int64_t p = b.between(0, d * (k - 1) / 2);
    int64_t a = s > 1 ? b.between(0, s - 1) : 0;
    int64_t full = s * (size - 1) + d * (k - 1) + 1;
    if (useTarget) {
      // MXNet derives pad and adj from target_shape: the output is the
      // target; adj = (full - target) % 2 must stay below the stride.
      int64_t t = full - b.between(0, std::min<int64_t>(2, full - 1));
      if ((full - t) % 2 && s == 1)
        t = full;
      target.push_back(t);
      p = 0;
      a = 0;
    }
    w.kernel.push_back(k);
    w.stride.push_back(s);
    w.dilate.push_back(d);
    w.pad.push_back(p);
    adj.push_back(a);
  }
  int64_t groups = b.chance(0.25) ? b.oneOf(divisors(c)) : 1;
  int64_t filters = groups * std::max<int64_t>(1, b.width() / groups);
  out.push_back(filters);
  for (size_t i = 0; i < n; ++i)
    out.push_back(useTarget ? target[i]
                            : w.stride[i] * (x.shape[i + 2] - 1) +
                                  w.dilate[i] * (w.kernel[i] - 1) + 1 - 2 * w.pad[i] + adj[i]);
  int64_t work = numElements(x.shape) * filters / groups * numElements(w.kernel);
  if (!b.fits(out) || work > b.maxWork())
    return false;
  auto a = windowAttrs(w, true);
  if (std::any_of(adj.begin(), adj.end(), [](int64_t v) { return v != 0; }))
    a["adj"] = tuple(adj);
  if (useTarget)
    a["target_shape"] = tuple(target);
  a["num_filter"] = str(filters);
  if (groups != 1)
    a["num_group"] = str(groups);
  if (b.chance(0.4))
    a["no_bias"] = "False";
  b.apply("Deconvolution", a, {x}, {out}, 2 * x.mag + 0.5,
          {{"bias", {VarInfo{VarRole::Offset}, {}}}});
  return true;
}

bool buildPooling(Builder &b, const Value &x) {
  if (!spatialRank(x, 1, 3))
    return false;
  size_t n = x.shape.size() - 2;
  std::string type = b.oneOf<const char *>({"max", "max", "avg", "avg", "sum", "lp"});
  std::map<std::string, std::string> a;
  if (type != "max" || b.chance(0.5))
    a["pool_type"] = type;
  int64_t pValue = 2;
  if (type == "lp") {
    pValue = b.oneOf<int64_t>({2, 3});
    a["p_value"] = str(pValue);
  }
  Shape out{x.shape[0], x.shape[1]};
  double windowSize = 1;
  if (b.chance(0.15)) {
    a["global_pool"] = "True";
    // MXNet still wants a kernel for its parameter parser in old files;
    // with global_pool it is ignored.
    if (b.chance(0.5))
      a["kernel"] = tuple(Shape(n, 1));
    for (size_t i = 0; i < n; ++i) {
      out.push_back(1);
      windowSize *= x.shape[i + 2];
    }
  } else {
    std::string convention =
        n == 1 && b.chance(0.15) ? "same" : b.oneOf<const char *>({"valid", "valid", "full"});
    Window w;
    for (size_t i = 0; i < n; ++i) {
      int64_t size = x.shape[i + 2];
      int64_t k = b.between(1, std::min<int64_t>(3, size + 1));
      int64_t s = b.between(1, 3);
      int64_t p = convention == "same" ? 0 : b.between(0, (k - 1) / 2 + (k > 1 && b.chance(0.3)));
      if (k > size + 2 * p)
        return false;
      int64_t o;
      if (convention == "valid") {
        o = (size + 2 * p - k) / s + 1;
      } else if (convention == "full") {
        o = (size + 2 * p - k + s - 1) / s + 1;
        // The last window must hold an input element (MXNet pools padding
        // only otherwise: the lowest float for max, 0/0 for avg).
        if ((o - 1) * s - p >= size)
          return false;
      } else {
        o = (size + s - 1) / s;
      }
      w.kernel.push_back(k);
      w.stride.push_back(s);
      w.dilate.push_back(1);
      w.pad.push_back(p);
      out.push_back(o);
      windowSize *= k;
    }
    auto wa = windowAttrs(w, false);
    a.insert(wa.begin(), wa.end());
    if (convention != "valid")
      a["pooling_convention"] = convention;
    if (type == "avg" && b.chance(0.4))
      a["count_include_pad"] = b.chance(0.5) ? "False" : "True";
  }
  double mag = type == "sum" ? x.mag * windowSize
               : type == "lp" ? x.mag * std::pow(windowSize, 1.0 / double(pValue))
                              : x.mag;
  if (!b.fits(out) || mag > 1e3)
    return false;
  b.apply("Pooling", a, {x}, {out}, mag);
  return true;
}

bool buildActivation(Builder &b, const Value &x) {
  std::string act = b.oneOf<const char *>({"relu", "sigmoid", "tanh", "softrelu", "softsign"});
  double mag = act == "relu" ? x.mag : act == "softrelu" ? x.mag + 1 : 1;
  b.apply("Activation", {{"act_type", act}}, {x}, {x.shape}, mag);
  return true;
}

bool buildLeakyReLU(Builder &b, const Value &x) {
  std::string act = b.oneOf<const char *>({"leaky", "prelu", "elu", "selu", "gelu", "rrelu"});
  if (act == "prelu" && x.shape.size() < 2)
    return false;
  std::map<std::string, std::string> a;
  if (act != "leaky" || b.chance(0.5))
    a["act_type"] = act;
  if ((act == "leaky" || act == "elu") && b.chance(0.7))
    a["slope"] = str(b.oneOf({0.01, 0.1, 0.3, 0.5, 1.0}));
  if (act == "rrelu" && b.chance(0.6)) {
    double lo = b.oneOf({0.05, 0.1, 0.2}), hi = lo + b.oneOf({0.0, 0.1, 0.3});
    a["lower_bound"] = str(lo);
    a["upper_bound"] = str(hi);
  }
  b.apply("LeakyReLU", a, {x}, {x.shape}, 1.1 * x.mag + 0.1,
          {{"gamma", {VarInfo{VarRole::Slope}, {}}}});
  return true;
}

bool buildBatchNorm(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return false;
  std::map<std::string, std::string> a;
  int64_t axis = b.chance(0.7) ? 1 : b.oneOf<int64_t>({-1, rank - 1, 0});
  if (axis != 1)
    a["axis"] = str(axis);
  if (b.chance(0.4))
    a["eps"] = str(b.oneOf({1e-5, 2e-5, 0.01}));
  if (b.chance(0.3))
    a["momentum"] = str(b.oneOf({0.5, 0.99, 0.0}));
  if (b.chance(0.5))
    a["fix_gamma"] = "False";
  bool global = b.chance(0.15);
  if (global)
    a["use_global_stats"] = "True";
  std::map<std::string, Owned> owned{{"gamma", {VarInfo{VarRole::Scale}, {}}},
                                     {"beta", {VarInfo{VarRole::Offset}, {}}},
                                     {"moving_mean", {VarInfo{VarRole::Offset}, {}}},
                                     {"moving_var", {VarInfo{VarRole::Scale}, {}}}};
  b.apply("BatchNorm", a, {x}, {x.shape}, global ? 2 * (x.mag + 0.5) + 0.5 : 6, owned);
  return true;
}

bool buildLRN(Builder &b, const Value &x) {
  if (x.shape.size() != 4)
    return false;
  // MXNet wants the window no wider than the channels.
  int64_t nsize = b.oneOf<int64_t>({1, 3, 5});
  if (nsize > x.shape[1])
    return false;
  std::map<std::string, std::string> a{{"nsize", str(nsize)}};
  if (b.chance(0.5))
    a["alpha"] = str(b.oneOf({0.001, 0.1, 1.0}));
  if (b.chance(0.5))
    a["beta"] = str(b.oneOf({0.5, 0.75, 1.0}));
  if (b.chance(0.5))
    a["knorm"] = str(b.oneOf({1.0, 2.0}));
  b.apply("LRN", a, {x}, {x.shape}, x.mag);
  return true;
}

bool buildDropout(Builder &b, const Value &x) {
  std::map<std::string, std::string> a;
  double p = b.oneOf({0.0, 0.25, 0.5, 0.5});
  if (p != 0.5 || b.chance(0.5))
    a["p"] = str(p);
  if (b.chance(0.25)) {
    // Random at inference too, which the CPU lowering rejects by design:
    // such graphs run in the training modes only.
    a["mode"] = "always";
    if (p > 0)
      b.g.inferenceAllowed = false;
  }
  if (x.shape.size() >= 2 && b.chance(0.25)) {
    Shape axes;
    for (size_t i = 0; i < x.shape.size(); ++i)
      if (b.chance(0.5))
        axes.push_back(int64_t(i));
    if (!axes.empty())
      a["axes"] = tuple(axes);
  }
  b.apply("Dropout", a, {x}, {x.shape}, 2 * x.mag);
  return true;
}

bool buildEmbedding(Builder &b, const Value &) {
  Shape indices{b.between(1, 4)};
  if (b.chance(0.5))
    indices.push_back(b.between(1, 4));
  int64_t inputDim = b.between(2, 8), outputDim = b.between(1, 6);
  VarInfo idx{VarRole::Index, inputDim, /*input=*/true};
  Value in = b.variable("x" + std::to_string(b.numVariables++), indices, idx);
  Shape out = indices;
  out.push_back(outputDim);
  b.apply("Embedding", {{"input_dim", str(inputDim)}, {"output_dim", str(outputDim)}}, {in},
          {out}, 2);
  return true;
}

bool buildSoftmaxOutput(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return false;
  std::map<std::string, std::string> a;
  Shape label;
  int64_t classes;
  VarInfo info{VarRole::ClassLabel};
  bool hinted = false;
  int variant = int(b.between(0, 3));
  if (variant == 1 && rank >= 3) {
    a["multi_output"] = "True";
    label = {x.shape[0]};
    label.insert(label.end(), x.shape.begin() + 2, x.shape.end());
    classes = x.shape[1];
  } else if (variant == 2) {
    a["preserve_shape"] = "True";
    label.assign(x.shape.begin(), x.shape.end() - 1);
    classes = x.shape.back();
  } else if (variant == 3) {
    // Probability labels: the label has the data's shape.
    label = x.shape;
    classes = 0;
    info.role = VarRole::Probability;
    hinted = true;
  } else if (rank == 2) {
    // Class ids of (N, C) data. (For higher ranks MXNet's shape inference
    // wants data.shape[:-1] as the label shape while its kernel reads N
    // labels: no label is valid for both.)
    label = {x.shape[0]};
    classes = x.shape[1];
  } else {
    return false;
  }
  info.range = classes;
  if (b.chance(0.3))
    a["grad_scale"] = str(b.oneOf({0.5, 2.0}));
  if (b.chance(0.4))
    a["normalization"] = b.oneOf<const char *>({"batch", "valid", "null"});
  if (classes > 1 && b.chance(0.2)) {
    a["use_ignore"] = "True";
    a["ignore_label"] = "0";
  }
  if (b.chance(0.2))
    a["smooth_alpha"] = "0.1";
  b.apply("SoftmaxOutput", a, {x}, {x.shape}, 1, {{"label", {info, hinted ? label : Shape{}}}},
          /*terminal=*/true);
  return true;
}

template <VarRole LabelRole>
bool buildRegressionOutput(Builder &b, const Value &x, const char *op) {
  std::map<std::string, std::string> a;
  if (b.chance(0.3))
    a["grad_scale"] = str(b.oneOf({0.5, 2.0}));
  b.apply(op, a, {x}, {x.shape}, x.mag + 1, {{"label", {VarInfo{LabelRole}, {}}}},
          /*terminal=*/true);
  return true;
}

bool buildSoftmaxLike(Builder &b, const Value &x, const char *op) {
  int64_t rank = x.shape.size();
  std::map<std::string, std::string> a;
  if (b.chance(0.6))
    a["axis"] = str(b.between(-rank, rank - 1));
  if (b.chance(0.3))
    a["temperature"] = str(b.oneOf({0.5, 2.0}));
  bool log = std::string(op) == "log_softmax";
  b.apply(op, a, {x}, {x.shape}, log ? 2 * x.mag + 3 : 1);
  return true;
}

bool buildSoftmaxActivation(Builder &b, const Value &x) {
  // MXNet's backward indexes axis 1 of the data (rank 2 at least).
  if (x.shape.size() < 2)
    return false;
  std::map<std::string, std::string> a;
  // MXNet's channel mode wants (N, C, d1, ...), rank 3 at least.
  if (x.shape.size() >= 3 && b.chance(0.5))
    a["mode"] = "channel";
  else if (b.chance(0.3))
    a["mode"] = "instance";
  b.apply("SoftmaxActivation", a, {x}, {x.shape}, 1);
  return true;
}

bool buildFlatten(Builder &b, const Value &x) {
  if (x.shape.size() < 2)
    return false;
  b.apply("Flatten", {}, {x}, {{x.shape[0], numElements(x.shape) / x.shape[0]}}, x.mag);
  return true;
}

bool buildCopy(Builder &b, const Value &x) {
  b.apply("_copy", {}, {x}, {x.shape}, x.mag);
  return true;
}

/// A random shape of `size` elements with 1 to 4 dimensions.
Shape randomFactorization(Builder &b, int64_t size) {
  std::vector<int64_t> primes;
  for (int64_t n = size, p = 2; n > 1;) {
    if (n % p == 0) {
      primes.push_back(p);
      n /= p;
    } else {
      ++p;
    }
  }
  Shape dims(size_t(b.between(1, 4)), 1);
  for (int64_t p : primes)
    dims[b.rng.below(dims.size())] *= p;
  return dims;
}

bool buildReshape(Builder &b, const Value &x) {
  const Shape &s = x.shape;
  int64_t rank = s.size(), size = numElements(s);
  Shape codes, out;
  bool reverse = false;
  switch (b.between(0, 5)) {
  case 0: // explicit dimensions, perhaps one -1
    out = randomFactorization(b, size);
    codes = out;
    if (b.chance(0.5))
      codes[b.rng.below(codes.size())] = -1;
    break;
  case 1: // keep the batch, flatten the rest
    if (rank < 2)
      return false;
    codes = {0, -1};
    out = {s[0], size / s[0]};
    break;
  case 2: // merge the first two, keep the rest
    if (rank < 2)
      return false;
    codes = {-3, -2};
    out = {s[0] * s[1]};
    out.insert(out.end(), s.begin() + 2, s.end());
    break;
  case 3: { // split the first dimension
    int64_t d0 = b.oneOf(divisors(s[0]));
    codes = {-4, d0, -1, -2};
    out = {d0, s[0] / d0};
    out.insert(out.end(), s.begin() + 1, s.end());
    break;
  }
  case 4: // keep the last dimension, merge the others (reverse)
    if (rank < 2)
      return false;
    codes = {-1, 0};
    reverse = true;
    out = {size / s.back(), s.back()};
    break;
  default: { // copy the first dimensions, factorize the rest
    if (rank < 2)
      return false;
    int64_t keep = b.between(1, rank - 1);
    int64_t rest = 1;
    for (int64_t i = keep; i < rank; ++i)
      rest *= s[i];
    Shape tail = randomFactorization(b, rest);
    codes.assign(size_t(keep), 0);
    codes.insert(codes.end(), tail.begin(), tail.end());
    out.assign(s.begin(), s.begin() + keep);
    out.insert(out.end(), tail.begin(), tail.end());
    break;
  }
  }
  std::map<std::string, std::string> a{{"shape", tuple(codes)}};
  if (reverse)
    a["reverse"] = "True";
  b.apply("Reshape", a, {x}, {out}, x.mag);
  return true;
}

bool buildTranspose(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return false;
  Shape axes(rank);
  for (int64_t i = 0; i < rank; ++i)
    axes[i] = i;
  std::map<std::string, std::string> a;
  if (b.chance(0.8)) {
    b.rng.shuffle(axes);
    a["axes"] = tuple(axes);
  } else {
    std::reverse(axes.begin(), axes.end());
  }
  Shape out;
  for (int64_t i : axes)
    out.push_back(x.shape[i]);
  b.apply("transpose", a, {x}, {out}, x.mag);
  return true;
}

bool buildConcat(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t dim = b.between(0, rank - 1);
  int64_t count = b.between(2, 4);
  std::vector<Value> inputs{x};
  Shape out = x.shape;
  for (int64_t i = 1; i < count; ++i) {
    Value v = x;
    double r = b.rng.uniform();
    if (r >= 0.3) {
      // An older value that differs only along `dim`, else a fresh one.
      std::vector<const Value *> fitting;
      for (const Value &p : b.pool) {
        if (p.shape.size() != x.shape.size())
          continue;
        bool ok = true;
        for (int64_t j = 0; j < rank; ++j)
          ok &= j == dim || p.shape[j] == x.shape[j];
        if (ok)
          fitting.push_back(&p);
      }
      if (!fitting.empty() && r < 0.7) {
        v = *fitting[b.rng.below(fitting.size())];
      } else {
        Shape s = x.shape;
        s[dim] = b.between(1, 4);
        v = b.freshData(s);
      }
    }
    out[dim] += v.shape[dim];
    inputs.push_back(v);
  }
  if (!b.fits(out))
    return false;
  b.rng.shuffle(inputs);
  std::map<std::string, std::string> a{{"num_args", str(count)}};
  int64_t written = b.chance(0.2) ? dim - rank : dim;
  if (written != 1 || b.chance(0.3))
    a["dim"] = str(written);
  double mag = 0;
  for (const Value &v : inputs)
    mag = std::max(mag, v.mag);
  b.apply("Concat", a, inputs, {out}, mag);
  return true;
}

bool buildSliceChannel(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t axis = b.between(0, rank - 1);
  std::vector<int64_t> choices;
  for (int64_t d : divisors(x.shape[axis]))
    if (d > 1 && d <= 4)
      choices.push_back(d);
  if (choices.empty())
    return false;
  int64_t n = b.oneOf(choices);
  Shape part = x.shape;
  part[axis] /= n;
  std::map<std::string, std::string> a{{"num_outputs", str(n)}};
  int64_t written = b.chance(0.2) ? axis - rank : axis;
  if (written != 1 || b.chance(0.3))
    a["axis"] = str(written);
  if (part[axis] == 1 && rank > 1 && b.chance(0.5)) {
    a["squeeze_axis"] = "True";
    part.erase(part.begin() + axis);
  }
  b.apply("SliceChannel", a, {x}, std::vector<Shape>(size_t(n), part), x.mag);
  return true;
}

bool buildElemwise(Builder &b, const Value &x, const char *op) {
  std::string name = op;
  Value y = b.sameShape(x);
  std::vector<Value> in = b.ordered(x, y);
  double mag = in[0].mag + in[1].mag;
  if (name == "elemwise_mul")
    mag = in[0].mag * in[1].mag;
  if (name == "elemwise_div") {
    in[1] = b.positive(in[1]);
    mag = 2 * in[0].mag;
  }
  if (mag > 1e3)
    return false;
  b.apply(op, {}, in, {x.shape}, mag);
  return true;
}

bool buildAddN(Builder &b, const Value &x) {
  int64_t count = b.between(2, 4);
  std::vector<Value> in{x};
  double mag = x.mag;
  for (int64_t i = 1; i < count; ++i) {
    in.push_back(b.sameShape(x));
    mag += in.back().mag;
  }
  b.rng.shuffle(in);
  b.apply("add_n", {{"num_args", str(count)}}, in, {x.shape}, mag);
  return true;
}

/// A shape that broadcasts against `s` (NumPy rules: aligned at the right,
/// each pair equal or one of them 1; either side may have more dimensions).
Shape broadcastPartner(Builder &b, const Shape &s) {
  Shape o;
  for (int64_t d : s) {
    if (d == 1)
      o.push_back(b.chance(0.5) ? b.between(2, 4) : 1);
    else
      o.push_back(b.chance(0.4) ? 1 : d);
  }
  int64_t drop = b.chance(0.3) ? b.between(0, int64_t(o.size()) - 1) : 0;
  o.erase(o.begin(), o.begin() + drop);
  if (drop == 0 && o.size() < 4 && b.chance(0.15))
    o.insert(o.begin(), b.between(1, 3));
  return o;
}

Shape broadcastShape(const Shape &a, const Shape &c) {
  size_t rank = std::max(a.size(), c.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    int64_t r = i + c.size() >= rank ? c[i + c.size() - rank] : 1;
    out[i] = l == 1 ? r : l;
  }
  return out;
}

bool buildBroadcast(Builder &b, const Value &x, const char *op) {
  std::string name = op;
  Shape partner = broadcastPartner(b, x.shape);
  Value y = x;
  if (partner == x.shape && b.chance(0.3)) {
    y = x;
  } else if (const Value *v = b.chance(0.5) ? b.another(partner, &x) : nullptr) {
    y = *v;
  } else {
    y = b.freshData(partner);
  }
  Shape out = broadcastShape(x.shape, y.shape);
  if (!b.fits(out))
    return false;
  std::vector<Value> in = b.ordered(x, y);
  double mag = in[0].mag + in[1].mag;
  if (name == "broadcast_mul")
    mag = in[0].mag * in[1].mag;
  else if (name == "broadcast_maximum" || name == "broadcast_minimum")
    mag = std::max(in[0].mag, in[1].mag);
  else if (name == "broadcast_div") {
    in[1] = b.positive(in[1]);
    mag = 2 * in[0].mag;
  } else if (name == "broadcast_power") {
    if (in[1].mag > 4)
      return false;
    in[0] = b.positive(in[0]);
    mag = std::pow(2.0, in[1].mag);
  }
  if (mag > 1e3)
    return false;
  b.apply(op, {}, in, {out}, mag);
  return true;
}

bool buildScalar(Builder &b, const Value &x, const char *op) {
  std::string name = op;
  double scalar = 1, mag = x.mag;
  Value in = x;
  if (name == "_plus_scalar" || name == "_minus_scalar" || name == "_rminus_scalar") {
    scalar = b.oneOf({0.5, 1.0, -0.25, 2.0, 3.0});
    mag = x.mag + std::fabs(scalar);
  } else if (name == "_mul_scalar") {
    scalar = b.oneOf({0.5, -1.5, 2.0, 0.1});
    mag = x.mag * std::fabs(scalar);
  } else if (name == "_div_scalar") {
    scalar = b.oneOf({0.5, -2.0, 3.0, 0.7});
    mag = x.mag / std::fabs(scalar);
  } else if (name == "_rdiv_scalar") {
    scalar = b.oneOf({1.0, -2.0, 0.5});
    in = b.positive(x);
    mag = 2 * std::fabs(scalar);
  } else if (name == "_power_scalar") {
    if (b.chance(0.5)) {
      scalar = b.oneOf({2.0, 3.0});
      mag = std::pow(x.mag, scalar);
      if (mag > 1e3)
        return false;
    } else {
      scalar = b.oneOf({0.5, 1.5, -1.0});
      in = b.positive(x);
      mag = 2;
    }
  } else if (name == "_rpower_scalar") {
    scalar = b.oneOf({0.5, 1.5, 2.0});
    if (x.mag > 8)
      return false;
    mag = std::pow(std::max(scalar, 1 / scalar), x.mag);
  } else { // _maximum_scalar, _minimum_scalar
    scalar = b.oneOf({0.0, 0.5, -0.3});
    mag = std::max(x.mag, std::fabs(scalar));
  }
  b.apply(op, {{"scalar", str(scalar)}}, {in}, {x.shape}, mag);
  return true;
}

bool buildBroadcastTo(Builder &b, const Value &x) {
  Shape codes, out;
  bool grows = false;
  for (int64_t d : x.shape) {
    if (d == 1 && b.chance(0.7)) {
      int64_t t = b.between(2, 4);
      codes.push_back(t);
      out.push_back(t);
      grows = true;
    } else {
      codes.push_back(b.chance(0.3) ? 0 : d);
      out.push_back(d);
    }
  }
  if (!grows || !b.fits(out))
    return false;
  b.apply("broadcast_to", {{"shape", tuple(codes)}}, {x}, {out}, x.mag);
  return true;
}

bool buildDot(Builder &b, const Value &x) {
  if (x.shape.size() != 2)
    return false;
  bool ta = b.chance(0.3), tb = b.chance(0.3);
  std::map<std::string, std::string> a;
  if (ta)
    a["transpose_a"] = "True";
  if (tb)
    a["transpose_b"] = "True";
  auto actual = [](int64_t rows, int64_t cols, bool t) {
    return t ? Shape{cols, rows} : Shape{rows, cols};
  };
  // x·xᵀ or xᵀ·x: both operands are one value.
  if (b.chance(0.15)) {
    bool gram = b.chance(0.5); // x·xᵀ: (M, M), else xᵀ·x: (K, K)
    a.erase("transpose_a");
    a.erase("transpose_b");
    a[gram ? "transpose_b" : "transpose_a"] = "True";
    int64_t d = gram ? x.shape[0] : x.shape[1];
    int64_t k = gram ? x.shape[1] : x.shape[0];
    if (!b.fits({d, d}))
      return false;
    b.apply("dot", a, {x, x}, {{d, d}}, x.mag * x.mag * std::sqrt(double(k)));
    return true;
  }
  Shape out;
  std::vector<Value> in;
  int64_t k;
  if (b.chance(0.6)) { // x on the left
    Shape eff = actual(x.shape[0], x.shape[1], ta);
    k = eff[1];
    int64_t n = b.width();
    Shape rhs = actual(k, n, tb);
    const Value *v = b.chance(0.3) ? b.another(rhs) : nullptr;
    in = {x, v ? *v : b.freshData(rhs)};
    out = {eff[0], n};
  } else {
    Shape eff = actual(x.shape[0], x.shape[1], tb);
    k = eff[0];
    int64_t m = b.width();
    Shape lhs = actual(m, k, ta);
    const Value *v = b.chance(0.3) ? b.another(lhs) : nullptr;
    in = {v ? *v : b.freshData(lhs), x};
    out = {m, eff[1]};
  }
  double mag = in[0].mag * in[1].mag * std::sqrt(double(k));
  if (!b.fits(out) || mag > 1e3)
    return false;
  b.apply("dot", a, in, {out}, mag);
  return true;
}

bool buildSliceAxis(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t axis = b.between(0, rank - 1);
  int64_t d = x.shape[axis];
  int64_t begin = b.between(0, d - 1), end = b.between(begin + 1, d);
  Shape out = x.shape;
  out[axis] = end - begin;
  std::map<std::string, std::string> a{
      {"axis", str(b.chance(0.2) ? axis - rank : axis)},
      {"begin", str(b.chance(0.3) ? begin - d : begin)},
      {"end", str(end < d && b.chance(0.3) ? end - d : end)}};
  b.apply("slice_axis", a, {x}, {out}, x.mag);
  return true;
}

bool buildReduce(Builder &b, const Value &x, const char *op) {
  std::string name = op;
  int64_t rank = x.shape.size();
  std::map<std::string, std::string> a;
  bool keep = b.chance(0.4), exclude = false;
  std::vector<bool> reduced(rank, true);
  if (b.chance(0.8)) {
    Shape axes;
    for (int64_t i = 0; i < rank; ++i)
      if (b.chance(0.5))
        axes.push_back(b.chance(0.2) ? i - rank : i);
    if (axes.empty())
      axes.push_back(b.between(0, rank - 1));
    exclude = b.chance(0.2);
    std::vector<bool> listed(rank, false);
    for (int64_t i : axes)
      listed[(i + rank) % rank] = true;
    for (int64_t i = 0; i < rank; ++i)
      reduced[i] = exclude ? !listed[i] : listed[i];
    a["axis"] = tuple(axes);
    if (exclude)
      a["exclude"] = "True";
  }
  if (keep)
    a["keepdims"] = "True";
  Shape out;
  double count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      out.push_back(x.shape[i]);
    else {
      count *= double(x.shape[i]);
      if (keep)
        out.push_back(1);
    }
  }
  if (out.empty())
    out.push_back(1);
  double mag = name == "sum" ? x.mag * count : x.mag;
  if (mag > 1e3)
    return false;
  b.apply(op, a, {x}, {out}, mag);
  return true;
}

//===----------------------------------------------------------------------===//
// Motifs: multi-operator patterns that uniform operator picks rarely build
//===----------------------------------------------------------------------===//

/// One shape-preserving layer on `x` (a convolution with C filters and
/// "same" padding, a deconvolution likewise, FullyConnected over the last
/// axis, BatchNorm), or nothing when `x` suits none.
std::optional<Value> shapePreservingLayer(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return std::nullopt;
  int64_t c = x.shape[1];
  Owned bias{VarInfo{VarRole::Offset}, {}};
  // Convolutions mostly (ResNet's units), where the data has spatial axes.
  double r = b.rng.uniform();
  bool spatial = rank >= 3 && rank <= 5;
  int kind = spatial ? (r < 0.55 ? 0 : r < 0.7 ? 1 : r < 0.85 ? 2 : 3) : (r < 0.6 ? 2 : 3);
  if (kind <= 1) {
    std::string op = kind == 0 || rank > 4 ? "Convolution" : "Deconvolution";
    int64_t k = b.chance(b.wide ? 0.7 : 0.5) ? 3 : 1;
    int64_t taps = 1;
    for (int64_t i = 2; i < rank; ++i)
      taps *= k;
    if (numElements(x.shape) * c * taps > b.maxWork())
      return std::nullopt;
    std::map<std::string, std::string> a{{"kernel", tuple(Shape(size_t(rank - 2), k))},
                                         {"num_filter", str(c)}};
    if (k == 3)
      a["pad"] = tuple(Shape(size_t(rank - 2), 1));
    if (b.chance(0.2))
      a["num_group"] = str(c);
    if (op == "Convolution" ? b.chance(0.3) : b.chance(0.5))
      a["no_bias"] = op == "Convolution" ? "True" : "False";
    return b.apply(op, a, {x}, {x.shape}, x.mag + 0.5, {{"bias", bias}})[0];
  }
  if (kind == 2 && x.shape.back() <= 64) {
    std::map<std::string, std::string> a{{"num_hidden", str(x.shape.back())},
                                         {"flatten", "False"}};
    return b.apply("FullyConnected", a, {x}, {x.shape}, x.mag + 0.5, {{"bias", bias}})[0];
  }
  std::map<std::string, Owned> owned{{"gamma", {VarInfo{VarRole::Scale}, {}}},
                                     {"beta", {VarInfo{VarRole::Offset}, {}}},
                                     {"moving_mean", {VarInfo{VarRole::Offset}, {}}},
                                     {"moving_var", {VarInfo{VarRole::Scale}, {}}}};
  std::map<std::string, std::string> a;
  if (b.chance(0.5))
    a["fix_gamma"] = "False";
  return b.apply("BatchNorm", a, {x}, {x.shape}, 6, owned)[0];
}

/// A residual unit, ResNet's pattern with the join's operands in either
/// order: join(skip, act(bn(layer(...layer(x))))) with one or two layers,
/// skip being x or another value of its shape, then perhaps a relu. With
/// two layers the skip is read by the join only within the last layer's
/// fused kernel and dies there: the in-place candidate that a convolution
/// accumulating into the join's buffer would overwrite (bd4a7aa).
bool buildResidual(Builder &b, const Value &input) {
  if (input.shape.size() < 2)
    return false;
  // The unit's input is an intermediate value, as in a network (a graph
  // argument is never computed in place).
  Value x = input;
  if (b.g.graph.nodes[x.entry.node].isVariable()) {
    std::optional<Value> first = shapePreservingLayer(b, x);
    if (!first)
      return false;
    x = *first;
  }
  std::optional<Value> y = x;
  for (int64_t depth = b.chance(0.6) ? 2 : 1, layers = 0; depth > 0; --depth, ++layers) {
    std::optional<Value> next = shapePreservingLayer(b, *y);
    if (!next) {
      if (layers == 0)
        return true;
      break;
    }
    y = next;
    if (b.chance(0.5)) {
      std::map<std::string, Owned> owned{{"gamma", {VarInfo{VarRole::Scale}, {}}},
                                         {"beta", {VarInfo{VarRole::Offset}, {}}},
                                         {"moving_mean", {VarInfo{VarRole::Offset}, {}}},
                                         {"moving_var", {VarInfo{VarRole::Scale}, {}}}};
      y = b.apply("BatchNorm", {}, {*y}, {y->shape}, 6, owned)[0];
    }
    if (b.chance(0.5))
      y = b.apply("Activation",
                  {{"act_type", b.oneOf<const char *>({"relu", "sigmoid", "tanh"})}}, {*y},
                  {y->shape}, y->mag)[0];
  }
  if (y->entry == x.entry)
    return true;
  Value skip = x;
  if (b.chance(0.3))
    if (const Value *v = b.another(x.shape, &*y))
      skip = *v;
  std::vector<Value> in = b.ordered(skip, *y);
  std::string join = b.oneOf<const char *>(
      {"elemwise_add", "elemwise_add", "elemwise_sub", "elemwise_mul", "broadcast_add", "add_n"});
  std::map<std::string, std::string> a;
  if (join == "add_n")
    a["num_args"] = "2";
  double mag = join == "elemwise_mul" ? in[0].mag * in[1].mag : in[0].mag + in[1].mag;
  Value out = b.apply(join, a, in, {x.shape}, mag)[0];
  if (b.chance(0.5))
    out = b.apply("Activation", {{"act_type", "relu"}}, {out}, {x.shape}, mag)[0];
  // The next unit reads the result, so it is an intermediate value too.
  if (b.chance(0.6))
    shapePreservingLayer(b, out);
  return true;
}

/// Branches joined by Concat (Inception's pattern) or a SliceChannel whose
/// parts are transformed and concatenated again in another order.
bool buildBranches(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return false;
  std::vector<Value> parts;
  if (b.chance(0.5)) {
    int64_t n = b.between(2, 3);
    for (int64_t i = 0; i < n; ++i) {
      std::optional<Value> y = b.chance(0.6) ? shapePreservingLayer(b, x) : std::nullopt;
      parts.push_back(y ? *y
                        : b.apply("Activation",
                                  {{"act_type", b.oneOf<const char *>({"relu", "tanh"})}}, {x},
                                  {x.shape}, x.mag)[0]);
    }
    if (b.chance(0.3))
      parts.push_back(x);
  } else {
    int64_t axis = b.between(0, rank - 1);
    std::vector<int64_t> choices;
    for (int64_t d : divisors(x.shape[axis]))
      if (d > 1 && d <= 4)
        choices.push_back(d);
    if (choices.empty())
      return false;
    int64_t n = b.oneOf(choices);
    Shape part = x.shape;
    part[axis] /= n;
    parts = b.apply("SliceChannel", {{"num_outputs", str(n)}, {"axis", str(axis)}}, {x},
                    std::vector<Shape>(size_t(n), part), x.mag);
    for (Value &p : parts)
      if (b.chance(0.5))
        p = b.apply("_mul_scalar", {{"scalar", "2"}}, {p}, {p.shape}, 2 * p.mag)[0];
  }
  b.rng.shuffle(parts);
  int64_t dim = 1;
  if (parts.front().shape != x.shape || b.chance(0.5)) {
    // Split parts rejoin along the split axis (or any, when they are whole).
    dim = -1;
    for (int64_t j = 0; j < rank && dim < 0; ++j)
      if (parts.front().shape[j] != x.shape[j])
        dim = j;
    if (dim < 0)
      dim = b.between(0, rank - 1);
  }
  Shape out = parts.front().shape;
  out[dim] = 0;
  double mag = 0;
  for (const Value &p : parts) {
    out[dim] += p.shape[dim];
    mag = std::max(mag, p.mag);
  }
  if (!b.fits(out))
    return false;
  b.apply("Concat", {{"num_args", str(int64_t(parts.size()))}, {"dim", str(dim)}}, parts, {out},
          mag);
  return true;
}

#define KILN_FUZZ_WITH_OP(fn, op)                                                             \
  [](Builder &b, const Value &x) { return fn(b, x, op); }

const std::vector<OpEntry> &opTable() {
  static const std::vector<OpEntry> table = {
      {"FullyConnected", 6, buildFullyConnected},
      {"Convolution", 8, buildConvolution},
      {"Deconvolution", 3, buildDeconvolution},
      {"Pooling", 5, buildPooling},
      {"Activation", 6, buildActivation},
      {"LeakyReLU", 3, buildLeakyReLU},
      {"BatchNorm", 6, buildBatchNorm},
      {"LRN", 2, buildLRN},
      {"Dropout", 2, buildDropout},
      {"Embedding", 1, buildEmbedding, /*source=*/true},
      {"SoftmaxOutput", 2, buildSoftmaxOutput},
      {"LinearRegressionOutput", 1,
       [](Builder &b, const Value &x) {
         return buildRegressionOutput<VarRole::Data>(b, x, "LinearRegressionOutput");
       }},
      {"LogisticRegressionOutput", 1,
       [](Builder &b, const Value &x) {
         return buildRegressionOutput<VarRole::Probability>(b, x, "LogisticRegressionOutput");
       }},
      {"MAERegressionOutput", 1,
       [](Builder &b, const Value &x) {
         return buildRegressionOutput<VarRole::Data>(b, x, "MAERegressionOutput");
       }},
      {"softmax", 2, KILN_FUZZ_WITH_OP(buildSoftmaxLike, "softmax")},
      {"log_softmax", 2, KILN_FUZZ_WITH_OP(buildSoftmaxLike, "log_softmax")},
      {"SoftmaxActivation", 1, buildSoftmaxActivation},
      {"Flatten", 3, buildFlatten},
      {"_copy", 1, buildCopy},
      {"Reshape", 4, buildReshape},
      {"transpose", 3, buildTranspose},
      {"Concat", 4, buildConcat},
      {"SliceChannel", 3, buildSliceChannel},
      {"elemwise_add", 6, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_add")},
      {"elemwise_sub", 3, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_sub")},
      {"elemwise_mul", 3, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_mul")},
      {"elemwise_div", 2, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_div")},
      {"add_n", 2, buildAddN},
      {"broadcast_add", 3, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_add")},
      {"broadcast_sub", 2, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_sub")},
      {"broadcast_mul", 3, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_mul")},
      {"broadcast_div", 2, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_div")},
      {"broadcast_maximum", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_maximum")},
      {"broadcast_minimum", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_minimum")},
      {"broadcast_power", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_power")},
      {"_plus_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_plus_scalar")},
      {"_minus_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_minus_scalar")},
      {"_rminus_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_rminus_scalar")},
      {"_mul_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_mul_scalar")},
      {"_div_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_div_scalar")},
      {"_rdiv_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_rdiv_scalar")},
      {"_power_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_power_scalar")},
      {"_rpower_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_rpower_scalar")},
      {"_maximum_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_maximum_scalar")},
      {"_minimum_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_minimum_scalar")},
      {"broadcast_to", 2, buildBroadcastTo},
      {"dot", 2, buildDot},
      {"slice_axis", 2, buildSliceAxis},
      {"sum", 2, KILN_FUZZ_WITH_OP(buildReduce, "sum")},
      {"mean", 2, KILN_FUZZ_WITH_OP(buildReduce, "mean")},
      {"max", 1, KILN_FUZZ_WITH_OP(buildReduce, "max")},
      {"min", 1, KILN_FUZZ_WITH_OP(buildReduce, "min")},
      // Motifs (several operators each).
      {"residual", 12, buildResidual, false, /*motif=*/true},
      {"branches", 3, buildBranches, false, /*motif=*/true},
  };
  return table;
}

#undef KILN_FUZZ_WITH_OP

/// A data shape: rank 1 to 5, small dimensions with 1s and odd sizes (many
/// channels in wide graphs, long spatial axes in large ones).
Shape randomDataShape(Builder &b) {
  int64_t rank = b.wide    ? b.oneOf<int64_t>({2, 3, 4, 4, 4, 5})
                 : b.large ? b.oneOf<int64_t>({1, 2, 3, 4, 4})
                           : b.oneOf<int64_t>({1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 5});
  Shape s{b.oneOf<int64_t>({1, 2, 2, 3, 4})};
  if (rank >= 2)
    s.push_back(b.oneOf<int64_t>({1, 2, 3, 3, 4, 5, 6, 8}));
  for (int64_t i = 2; i < rank; ++i)
    s.push_back(b.oneOf<int64_t>({1, 2, 3, 4, 5, 5, 6, 7, 8, 9}));
  if (b.wide && rank >= 2) {
    s[1] = b.oneOf<int64_t>({16, 32, 64, 96, 128});
    for (int64_t i = 2; i < rank; ++i)
      s[i] = b.oneOf<int64_t>({1, 2, 3, 4, 5});
  }
  if (b.large) {
    s.back() = b.between(8, 300);
    for (int64_t i = 2; i + 1 < rank; ++i)
      s[i] = b.between(8, 40);
  }
  while (numElements(s) > b.maxElements() / 4)
    for (size_t i = s.size(); i-- > 1;)
      s[i] = std::max<int64_t>(1, s[i] / 2);
  return s;
}

} // namespace

FuzzGraph generateGraph(uint64_t seed, const GeneratorOptions &options) {
  Builder b(Random::mix(seed, 0x6772617068), options);
  double size = b.rng.uniform();
  b.wide = size < options.wideProbability;
  b.large = !b.wide && size < options.wideProbability + options.largeProbability;
  bool dataAsInput = b.chance(0.5);
  int64_t numData = b.chance(0.25) ? 2 : 1;
  for (int64_t i = 0; i < numData; ++i)
    b.pool.push_back(b.freshData(randomDataShape(b), dataAsInput));

  const std::vector<OpEntry> &table = opTable();
  int totalWeight = 0;
  for (const OpEntry &e : table)
    totalWeight += e.weight;
  int64_t target = b.between(1, options.maxOps);
  for (int attempt = 0; b.ops < target && attempt < 400; ++attempt) {
    int64_t r = int64_t(b.rng.below(uint64_t(totalWeight)));
    const OpEntry *entry = &table.front();
    for (const OpEntry &e : table) {
      if (r < e.weight) {
        entry = &e;
        break;
      }
      r -= e.weight;
    }
    Value x = b.pickValue();
    entry->build(b, x);
  }

  // Outputs: every value nothing consumes (and the loss heads), some values
  // that are consumed too, now and then a variable or a repeated output.
  std::set<std::pair<int64_t, int64_t>> consumed;
  for (const mx::Node &n : b.g.graph.nodes)
    for (const mx::NodeEntry &e : n.inputs)
      consumed.insert({e.node, e.index});
  std::vector<mx::NodeEntry> heads;
  for (const Value &v : b.pool) {
    bool isOp = !b.g.graph.nodes[v.entry.node].isVariable();
    if (isOp && (!consumed.count({v.entry.node, v.entry.index}) || b.chance(0.15)))
      heads.push_back(v.entry);
  }
  heads.insert(heads.end(), b.terminals.begin(), b.terminals.end());
  if (heads.empty() || b.chance(0.04))
    heads.push_back(b.pool[b.rng.below(b.pool.size())].entry);
  if (b.chance(0.03))
    heads.push_back(heads[b.rng.below(heads.size())]);
  if (b.chance(0.3))
    b.rng.shuffle(heads);
  b.g.graph.heads = heads;
  b.g.graph.mxnetVersion = 10901;
  pruneUnreachable(b.g);
  return b.g;
}

std::vector<std::string> coveredOperators() {
  std::vector<std::string> names;
  for (const OpEntry &e : opTable())
    if (!e.motif)
      names.push_back(e.op);
  return names;
}

std::vector<std::string> uncoveredOperators() {
  std::set<std::string> covered;
  for (const OpEntry &e : opTable())
    covered.insert(e.op);
  std::vector<std::string> missing;
  for (const graph::MXNetOpDef *def : graph::mxnetOps())
    if (!covered.count(def->mxName))
      missing.push_back(def->mxName);
  return missing;
}

} // namespace kiln::fuzz
