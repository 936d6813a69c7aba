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
#include <cstring>
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

/// BatchNorm, or _contrib_SyncBatchNorm (`sync`: channel axis 1, a key).
bool buildBatchNormLike(Builder &b, const Value &x, bool sync) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return false;
  std::map<std::string, std::string> a;
  if (sync) {
    a["key"] = "bn_key";
    if (b.chance(0.2))
      a["ndev"] = "1";
  } else if (int64_t axis = b.chance(0.7) ? 1 : b.oneOf<int64_t>({-1, rank - 1, 0}); axis != 1) {
    a["axis"] = str(axis);
  }
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
  b.apply(sync ? "_contrib_SyncBatchNorm" : "BatchNorm", a, {x}, {x.shape},
          global ? 2 * (x.mag + 0.5) + 0.5 : 6, owned);
  return true;
}

bool buildBatchNorm(Builder &b, const Value &x) { return buildBatchNormLike(b, x, false); }

/// SVMOutput: a loss head over the last axis, labels of the other axes.
bool buildSVMOutput(Builder &b, const Value &x) {
  if (x.shape.size() < 2)
    return false;
  std::map<std::string, std::string> a;
  if (b.chance(0.5))
    a["use_linear"] = "True";
  if (b.chance(0.3))
    a["margin"] = str(b.oneOf({0.5, 2.0}));
  if (b.chance(0.3))
    a["regularization_coefficient"] = str(b.oneOf({0.1, 3.0}));
  VarInfo info{VarRole::ClassLabel};
  info.range = x.shape.back();
  b.apply("SVMOutput", a, {x}, {x.shape}, x.mag, {{"label", {info, {}}}}, /*terminal=*/true);
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

/// diag: a diagonal of two axes of x (one that exists), or the matrix with
/// a 1-D x on a diagonal.
bool buildDiag(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  std::map<std::string, std::string> a;
  if (rank == 1) {
    int64_t k = b.between(-2, 2);
    if (k != 0)
      a["k"] = str(k);
    int64_t n = x.shape[0] + std::abs(k);
    b.apply("diag", a, {x}, {{n, n}}, x.mag);
    return true;
  }
  int64_t axis1 = b.between(0, rank - 1), axis2 = b.between(0, rank - 2);
  if (axis2 >= axis1)
    ++axis2;
  int64_t h = x.shape[axis1], w = x.shape[axis2];
  int64_t k = b.between(1 - h, w - 1);
  int64_t length = std::min(h - std::max<int64_t>(-k, 0), w - std::max<int64_t>(k, 0));
  if (k != 0)
    a["k"] = str(k);
  if (axis1 != 0 || b.chance(0.3))
    a["axis1"] = str(b.chance(0.2) ? axis1 - rank : axis1);
  if (axis2 != 1 || b.chance(0.3))
    a["axis2"] = str(b.chance(0.2) ? axis2 - rank : axis2);
  Shape out;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis1 && d != axis2)
      out.push_back(x.shape[d]);
  out.push_back(length);
  b.apply("diag", a, {x}, {out}, x.mag);
  return true;
}

/// _split_v2: near-equal `sections`, or parts between increasing split
/// indices that start at 0.
bool buildSplitV2(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t axis = b.between(0, rank - 1);
  int64_t size = x.shape[axis];
  int64_t parts = b.between(1, std::min<int64_t>(size, 4));
  std::vector<int64_t> bounds{0};
  std::map<std::string, std::string> a;
  if (b.chance(0.5)) {
    for (int64_t i = 0; i < parts; ++i)
      bounds.push_back(bounds.back() + size / parts + (i < size % parts ? 1 : 0));
    a["indices"] = "()";
    a["sections"] = str(parts);
  } else {
    // Distinct cut points in (0, size), sorted.
    std::vector<int64_t> cuts;
    for (int64_t c = 1; c < size; ++c)
      cuts.push_back(c);
    for (size_t i = 0; i + 1 < cuts.size(); ++i)
      std::swap(cuts[i], cuts[i + size_t(b.between(0, int64_t(cuts.size() - 1 - i)))]);
    cuts.resize(size_t(parts - 1));
    std::sort(cuts.begin(), cuts.end());
    Shape indices{0};
    indices.insert(indices.end(), cuts.begin(), cuts.end());
    a["indices"] = tuple(indices);
    bounds.assign(indices.begin(), indices.end());
    bounds.push_back(size);
  }
  int64_t written = b.chance(0.2) ? axis - rank : axis;
  if (written != 1 || b.chance(0.3))
    a["axis"] = str(written);
  bool squeeze = parts == size && rank > 1 && b.chance(0.5);
  if (squeeze)
    a["squeeze_axis"] = "True";
  std::vector<Shape> outs;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    Shape part = x.shape;
    part[axis] = bounds[i + 1] - bounds[i];
    if (squeeze)
      part.erase(part.begin() + axis);
    outs.push_back(part);
  }
  b.apply("_split_v2", a, {x}, outs, x.mag);
  return true;
}

//===----------------------------------------------------------------------===//
// Elementwise operators (dialects/Graph/GraphElementwise.td)
//===----------------------------------------------------------------------===//
//
// Operands are kept in each function's domain (positive logarithms and
// denominators, |x| < 1 for arcsin, exponents that cannot overflow).
// Discontinuous functions (rounding, sign, comparisons, mod, casts to
// integers or narrower floats) jump where float32 rounding may move an
// operand across a step. For operands drawn from continuous values that
// happens to a few elements with probability ~1e-6 each, and the oracle's
// rounding sensitivity (Oracle.cpp) follows the jump; steps that are hit
// exactly in exact arithmetic are ties both engines compute exactly (an
// integer from floor, half an integer for round, a value compared with
// itself), which the oracle leaves unperturbed, so they are checked exactly.

/// The node that produced `v` (a variable's node for a variable).
const mx::Node &producer(const Builder &b, const Value &v) { return b.g.graph.nodes[v.entry.node]; }

bool isComparison(const std::string &fn) {
  return fn == "equal" || fn == "not_equal" || fn == "greater" || fn == "greater_equal" ||
         fn == "lesser" || fn == "lesser_equal";
}

/// MXNet's function of a binary or scalar operator: "mod" for _mod,
/// broadcast_mod, _mod_scalar and _rmod_scalar; "add" for elemwise_add.
std::string binaryFunction(std::string op) {
  static const std::map<std::string, std::string> named = {
      {"_plus_scalar", "add"},     {"_minus_scalar", "sub"},  {"_rminus_scalar", "sub"},
      {"_mul_scalar", "mul"},      {"_div_scalar", "div"},    {"_rdiv_scalar", "div"},
      {"_power_scalar", "power"},  {"_rpower_scalar", "power"}, {"_rmod_scalar", "mod"}};
  if (auto it = named.find(op); it != named.end())
    return it->second;
  for (const char *prefix : {"elemwise_", "broadcast_", "_"})
    if (op.rfind(prefix, 0) == 0) {
      op.erase(0, std::strlen(prefix));
      break;
    }
  const std::string suffix = "_scalar";
  if (op.size() > suffix.size() && op.compare(op.size() - suffix.size(), suffix.size(), suffix) == 0)
    op.erase(op.size() - suffix.size());
  return op;
}

/// Whether `v` may hold exact zeros or other exact steps (integers, ties):
/// outputs of relu, rounding, comparisons, clip, casts to integers, and
/// values moved or scaled from those. Continuous values (from data and
/// smooth functions) hold none but by chance.
bool mayHoldSteps(const Builder &b, const Value &v) {
  const mx::Node &n = producer(b, v);
  static const std::set<std::string> stepping = {
      "relu", "Dropout", "clip", "hard_sigmoid", "floor", "ceil", "round", "rint", "fix",
      "trunc", "sign", "logical_not", "zeros_like", "ones_like", "_maximum_scalar",
      "_minimum_scalar", "one_hot", "shape_array", "size_array", "_arange", "_zeros", "_ones",
      "_full", "_zeros_without_dtype", "_eye", "_contrib_arange_like",
      "_contrib_round_ste", "_contrib_sign_ste", "argmax", "argmin", "argsort", "topk", "Pad", "where", "_contrib_box_iou",
      "_contrib_box_nms", "_contrib_MultiBoxPrior", "_contrib_MultiBoxDetection",
      "_contrib_Proposal", "ROIPooling", "_contrib_box_decode"};
  static const std::set<std::string> moving = {
      "Reshape", "Flatten", "transpose", "_copy", "BlockGrad", "slice_axis", "SliceChannel",
      "Concat", "broadcast_to", "abs", "negative", "square", "_mul_scalar", "_div_scalar",
      "elemwise_mul", "broadcast_mul", "max", "min", "Pooling", "LeakyReLU", "_maximum",
      "_minimum", "broadcast_maximum", "broadcast_minimum", "_mod_scalar", "_mod",
      "broadcast_mod", "expand_dims", "squeeze", "SwapAxis", "reverse", "tile", "repeat",
      "stack", "slice", "slice_like", "reshape_like", "broadcast_like", "depth_to_space",
      "space_to_depth", "Crop", "take", "pick", "gather_nd", "sort", "_rnn_param_concat",
      "UpSampling", "MakeLoss", "nansum", "prod", "nanprod", "make_loss",
      "_contrib_gradientmultiplier"};
  if (n.isVariable())
    return false;
  std::string fn = binaryFunction(n.op);
  if (stepping.count(n.op) || isComparison(fn) || fn.rfind("logical_", 0) == 0)
    return true;
  if (n.op == "Activation")
    return n.attrs.count("act_type") && n.attrs.at("act_type") == "relu";
  if (n.op == "Cast")
    return n.attrs.at("dtype").rfind("float", 0) != 0;
  if (!moving.count(n.op))
    return false;
  for (const mx::NodeEntry &e : n.inputs)
    if (!b.g.graph.nodes[e.node].isVariable() && mayHoldSteps(b, Value{e, {}, 0}))
      return true;
  return false;
}

/// `x` itself when it already holds exact steps, else `x` through a
/// function that creates them (relu, floor, round, sign, a comparison with
/// 0): the operands that make equality tests and logical ops more than
/// constant.
Value stepped(Builder &b, const Value &x) {
  if (mayHoldSteps(b, x))
    return x;
  switch (b.between(0, 4)) {
  case 0:
    return b.apply("relu", {}, {x}, {x.shape}, x.mag)[0];
  case 1:
    return b.apply("floor", {}, {x}, {x.shape}, x.mag + 1)[0];
  case 2:
    return b.apply("round", {}, {x}, {x.shape}, x.mag + 1)[0];
  case 3:
    return b.apply("sign", {}, {x}, {x.shape}, 1)[0];
  default:
    return b.apply("_greater_scalar", {{"scalar", "0"}}, {x}, {x.shape}, 1)[0];
  }
}

/// A value of `x`'s shape bounded away from 0 with either sign: a divisor
/// of mod (whose result takes the divisor's sign).
Value awayFromZero(Builder &b, const Value &x) {
  Value p = b.positive(x);
  if (b.chance(0.5))
    return p;
  return b.apply("negative", {}, {p}, {p.shape}, p.mag)[0];
}

/// `x` when |x| stays below `limit`, else limit·tanh(x), within ±limit.
Value bounded(Builder &b, const Value &x, double limit) {
  if (x.mag <= limit)
    return x;
  Value t = b.apply("tanh", {}, {x}, {x.shape}, 1)[0];
  return b.apply("_mul_scalar", {{"scalar", str(limit)}}, {t}, {x.shape}, limit)[0];
}

/// Makes the operands `in` (lhs, rhs) valid for MXNet's function `fn`
/// (binaryFunction's names) and returns the result's magnitude bound, or
/// nothing when they do not suit it.
std::optional<double> prepareBinary(Builder &b, const std::string &fn, std::vector<Value> &in) {
  double sum = in[0].mag + in[1].mag, larger = std::max(in[0].mag, in[1].mag);
  if (fn == "add" || fn == "sub")
    return sum;
  if (fn == "mul")
    return in[0].mag * in[1].mag;
  if (fn == "div") {
    in[1] = b.positive(in[1]);
    return 2 * in[0].mag;
  }
  if (fn == "maximum" || fn == "minimum")
    return larger;
  if (fn == "power") {
    if (in[1].mag > 4)
      return std::nullopt;
    in[0] = b.positive(in[0]);
    return std::pow(2.0, in[1].mag);
  }
  if (fn == "mod") {
    // The remainder has the divisor's sign and magnitude below it.
    in[1] = awayFromZero(b, in[1]);
    return in[1].mag;
  }
  if (fn == "hypot") {
    // hypot(0, 0)'s gradient is 0/0 (MXNet's too): one operand nonzero.
    if (mayHoldSteps(b, in[0]) && mayHoldSteps(b, in[1]))
      in[1] = b.positive(in[1]);
    return in[0].mag + in[1].mag;
  }
  if (fn == "equal" || fn == "not_equal") {
    // Continuous operands are never equal: mostly compare stepped values.
    if (b.chance(0.7)) {
      in[0] = stepped(b, in[0]);
      in[1] = stepped(b, in[1]);
    }
    return 1.0;
  }
  if (isComparison(fn))
    return 1.0;
  if (fn.rfind("logical_", 0) == 0) {
    for (Value &v : in)
      if (b.chance(0.5))
        v = stepped(b, v);
    return 1.0;
  }
  throw Error("kiln-fuzz-graphs: no operand rule for the binary function '" + fn + "'");
}

bool buildElemwise(Builder &b, const Value &x, const char *op) {
  Value y = b.sameShape(x);
  std::vector<Value> in = b.ordered(x, y);
  std::optional<double> mag = prepareBinary(b, binaryFunction(op), in);
  if (!mag || *mag > 1e3)
    return false;
  b.apply(op, {}, in, {x.shape}, *mag);
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
  std::optional<double> mag = prepareBinary(b, binaryFunction(op), in);
  if (!mag || *mag > 1e3)
    return false;
  b.apply(op, {}, in, {out}, *mag);
  return true;
}

bool buildScalar(Builder &b, const Value &x, const char *op) {
  std::string name = op;
  std::string fn = binaryFunction(name);
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
  } else if (fn == "maximum" || fn == "minimum") {
    scalar = b.oneOf({0.0, 0.5, -0.3});
    mag = std::max(x.mag, std::fabs(scalar));
  } else if (name == "_mod_scalar") {
    // Nonzero divisors of either sign, some not float32 values (MXNet
    // rounds the scalar to the data's type).
    scalar = b.oneOf({0.5, 1.0, 2.0, -1.5, 0.7, 3.0});
    mag = std::fabs(scalar);
  } else if (name == "_rmod_scalar") {
    scalar = b.oneOf({1.0, 2.5, -3.0, 0.7});
    in = awayFromZero(b, x);
    mag = in.mag;
  } else if (fn == "hypot") {
    // A nonzero scalar keeps hypot away from 0 (its gradient divides by it).
    scalar = b.oneOf({0.5, 1.0, 2.0, -1.0, 0.3});
    mag = x.mag + std::fabs(scalar);
  } else if (isComparison(fn)) {
    if (fn == "equal" || fn == "not_equal" ? b.chance(0.8) : b.chance(0.4)) {
      // Stepped values against their steps (integers, clip's bounds, some
      // not float32 values): ties, compared exactly.
      in = stepped(b, x);
      scalar = b.oneOf({0.0, 1.0, -1.0, 2.0, 0.5, -0.3, 0.1});
    } else {
      scalar = b.oneOf({0.0, 0.5, -0.3, 1.0, 0.1});
    }
    mag = 1;
  } else if (fn.rfind("logical_", 0) == 0) {
    if (b.chance(0.5))
      in = stepped(b, x);
    scalar = b.oneOf({0.0, 1.0, 0.5, -2.0});
    mag = 1;
  } else {
    throw Error("kiln-fuzz-graphs: no scalar rule for '" + name + "'");
  }
  b.apply(op, {{"scalar", str(scalar)}}, {in}, {x.shape}, mag);
  return true;
}

/// The domains of unary functions.
enum class Domain {
  Any,
  Positive,   ///< (0, ∞), away from 0: logarithms, square roots, reciprocals
  AboveOne,   ///< (1, ∞), away from 1: arccosh
  Unit,       ///< (−1, 1), away from ±1: arcsin, arccos, arctanh
  Moderate,   ///< |x| ≤ 5: exp, expm1, sinh, cosh (no overflow past ~10²)
  Tangent,    ///< |x| ≤ 1.2: tan, away from its poles
  Rounding,   ///< steps at integers: floor, ceil, round, rint, fix, trunc
};

struct UnaryRule {
  Domain domain;
  /// The result's magnitude bound given the operand's.
  double (*mag)(double);
};

const std::map<std::string, UnaryRule> &unaryRules() {
  auto same = [](double m) { return m; };
  auto one = [](double) { return 1.0; };
  auto plusOne = [](double m) { return m + 1; };
  auto expMag = [](double m) { return std::exp(m) + 1; };
  static const std::map<std::string, UnaryRule> rules = {
      {"relu", {Domain::Any, same}},
      {"sigmoid", {Domain::Any, one}},
      {"tanh", {Domain::Any, one}},
      {"softsign", {Domain::Any, one}},
      {"exp", {Domain::Moderate, expMag}},
      {"expm1", {Domain::Moderate, expMag}},
      {"log", {Domain::Positive, [](double m) { return std::fabs(std::log(m)) + 2; }}},
      {"log2", {Domain::Positive, [](double m) { return std::fabs(std::log2(m)) + 3; }}},
      {"log10", {Domain::Positive, [](double m) { return std::fabs(std::log10(m)) + 1; }}},
      {"log1p", {Domain::Positive, [](double m) { return std::log1p(m) + 1; }}},
      {"sqrt", {Domain::Positive, [](double m) { return std::sqrt(m) + 1; }}},
      {"rsqrt", {Domain::Positive, [](double) { return 3.0; }}},
      {"cbrt", {Domain::Any, [](double m) { return std::cbrt(m) + 1; }}},
      {"rcbrt", {Domain::Positive, [](double) { return 2.0; }}},
      {"square", {Domain::Any, [](double m) { return m * m; }}},
      {"abs", {Domain::Any, same}},
      {"sign", {Domain::Any, one}},
      {"negative", {Domain::Any, same}},
      {"reciprocal", {Domain::Positive, [](double) { return 3.0; }}},
      {"floor", {Domain::Rounding, plusOne}},
      {"ceil", {Domain::Rounding, plusOne}},
      {"round", {Domain::Rounding, plusOne}},
      {"rint", {Domain::Rounding, plusOne}},
      {"fix", {Domain::Rounding, plusOne}},
      {"trunc", {Domain::Rounding, plusOne}},
      {"erf", {Domain::Any, one}},
      {"erfinv", {Domain::Unit, [](double) { return 1.2; }}},
      // Γ grows past float32 beyond 35: the magnitude rule rejects large
      // operands (over 1e3).
      {"gamma", {Domain::Positive, [](double m) { return std::tgamma(std::max(m, 2.0)) + 4; }}},
      {"gammaln", {Domain::Positive, [](double m) { return std::fabs(std::lgamma(m)) + 2; }}},
      {"sin", {Domain::Any, one}},
      {"cos", {Domain::Any, one}},
      {"tan", {Domain::Tangent, [](double) { return 3.0; }}},
      {"arcsin", {Domain::Unit, [](double) { return 1.6; }}},
      {"arccos", {Domain::Unit, [](double) { return 3.2; }}},
      {"arctan", {Domain::Any, [](double) { return 1.6; }}},
      {"sinh", {Domain::Moderate, expMag}},
      {"cosh", {Domain::Moderate, expMag}},
      {"arcsinh", {Domain::Any, [](double m) { return std::asinh(m) + 1; }}},
      {"arccosh", {Domain::AboveOne, [](double m) { return std::acosh(m) + 1; }}},
      {"arctanh", {Domain::Unit, [](double) { return 1.5; }}},
      {"degrees", {Domain::Any, [](double m) { return 57.3 * m; }}},
      {"radians", {Domain::Any, [](double m) { return 0.0175 * m; }}},
      {"logical_not", {Domain::Any, one}},
      {"zeros_like", {Domain::Any, one}},
      {"ones_like", {Domain::Any, one}},
      {"BlockGrad", {Domain::Any, same}},
      {"_contrib_round_ste", {Domain::Rounding, plusOne}},
      {"_contrib_sign_ste", {Domain::Any, one}},
  };
  return rules;
}

/// Functions with f(0) = 0 and f'(0) = 1 (or a constant): near 0, f(x)
/// ≈ x·f'(0), and a float32 result keeps x's relative precision only where
/// the implementation does (expm1 as exp(x) − 1 loses every digit below
/// 1e-7).
bool linearAtZero(const std::string &op) {
  static const std::set<std::string> ops = {"expm1", "log1p", "sin",    "tan",    "arcsin",
                                            "arctan", "arctanh", "sinh", "arcsinh", "erf", "erfinv",
                                            "tanh",  "softsign"};
  return ops.count(op) > 0;
}

bool buildUnary(Builder &b, const Value &x, const char *op) {
  const UnaryRule &rule = unaryRules().at(op);
  if (linearAtZero(op) && b.chance(0.2)) {
    // f(x·10⁻⁴)·10⁴ ≈ f'(0)·x: its float32 error relative to x, where the
    // comparison's tolerance (relative to max(1, |result|)) sees it.
    Value small = b.apply("_mul_scalar", {{"scalar", "0.0001"}}, {x}, {x.shape}, 1e-4 * x.mag)[0];
    Value y = b.apply(op, {}, {small}, {x.shape}, 1e-4 * x.mag + 1e-6)[0];
    b.apply("_mul_scalar", {{"scalar", "10000"}}, {y}, {x.shape}, 1.2 * x.mag);
    return true;
  }
  Value in = x;
  switch (rule.domain) {
  case Domain::Any:
    // logical_not of a continuous value is 0 everywhere.
    if (std::string(op) == "logical_not" && b.chance(0.7))
      in = stepped(b, x);
    // cbrt's gradient is infinite at 0.
    if (std::string(op) == "cbrt" && mayHoldSteps(b, x))
      in = b.positive(x);
    break;
  case Domain::Positive:
    if (b.chance(0.75)) {
      in = b.positive(x);
    } else {
      // |x| + 1/4: a wider range than positive()'s (0.5, 1.5).
      Value a = b.apply("abs", {}, {x}, {x.shape}, x.mag)[0];
      in = b.apply("_plus_scalar", {{"scalar", "0.25"}}, {a}, {x.shape}, x.mag + 0.25)[0];
    }
    break;
  case Domain::AboveOne: {
    Value p = b.positive(x);
    in = b.apply("_plus_scalar", {{"scalar", "1"}}, {p}, {x.shape}, p.mag + 1)[0];
    break;
  }
  case Domain::Unit:
    in = bounded(b, x, 0.9);
    break;
  case Domain::Moderate:
    if (x.mag > 5) {
      // exp(−|x|): large negative arguments, results in (0, 1].
      if (std::string(op) == "exp" || std::string(op) == "expm1") {
        Value a = b.apply("abs", {}, {x}, {x.shape}, x.mag)[0];
        in = b.apply("negative", {}, {a}, {x.shape}, x.mag)[0];
        b.apply(op, {}, {in}, {x.shape}, 1.0);
        return true;
      }
      in = bounded(b, x, 3);
    }
    break;
  case Domain::Tangent:
    in = bounded(b, x, 1.2);
    break;
  case Domain::Rounding: {
    // Half-integers (ties of round and rint, which round them apart), or
    // x scaled to cross more steps.
    double r = b.rng.uniform();
    if (r < 0.25) {
      Value steps = b.apply(b.oneOf<const char *>({"floor", "round", "trunc"}), {}, {x},
                            {x.shape}, x.mag + 1)[0];
      in = b.apply("_mul_scalar", {{"scalar", "0.5"}}, {steps}, {x.shape}, x.mag / 2 + 1)[0];
    } else if (r < 0.4 && x.mag < 100) {
      in = b.apply("_mul_scalar", {{"scalar", "2.5"}}, {x}, {x.shape}, 2.5 * x.mag)[0];
    }
    break;
  }
  }
  double mag = rule.mag(in.mag);
  if (mag > 1e3)
    return false;
  b.apply(op, {}, {in}, {x.shape}, mag);
  return true;
}

bool buildClip(Builder &b, const Value &x) {
  // Bounds inside the values' range, some not float32 values (MXNet parses
  // them as float).
  auto [lo, hi] = b.oneOf<std::pair<double, double>>(
      {{-1, 1}, {0, 6}, {-0.5, 0.5}, {0.1, 0.9}, {-0.3, 2}, {0, 1}, {-2, -0.5}});
  b.apply("clip", {{"a_min", str(lo)}, {"a_max", str(hi)}}, {x}, {x.shape},
          std::max(std::fabs(lo), std::fabs(hi)));
  return true;
}

bool buildHardSigmoid(Builder &b, const Value &x) {
  std::map<std::string, std::string> a;
  if (b.chance(0.6))
    a["alpha"] = str(b.oneOf({0.2, 0.25, 1.0 / 6, 0.5, 1.0}));
  if (b.chance(0.6))
    a["beta"] = str(b.oneOf({0.5, 0.25, 0.0}));
  b.apply("hard_sigmoid", a, {x}, {x.shape}, 1);
  return true;
}

bool buildCast(Builder &b, const Value &x) {
  std::string dtype = b.oneOf<const char *>({"float16", "float16", "bfloat16", "float32",
                                             "float64", "int32", "int64", "int8", "uint8",
                                             "bool"});
  // Casts to integers wrap modulo 2^bits (uint8: −1 → 255).
  double mag = dtype == "uint8"                        ? 255
               : dtype == "int8"                       ? std::min(x.mag, 128.0)
               : dtype == "bool"                       ? 1
               : dtype.rfind("int", 0) == 0 ? x.mag + 1
                                                       : 1.01 * x.mag;
  b.apply("Cast", {{"dtype", dtype}}, {x}, {x.shape}, mag);
  return true;
}

/// broadcast_axis: some size-1 axes (non-negative, as MXNet 1.9.1 takes
/// them) grown to 2..4.
bool buildBroadcastAxis(Builder &b, const Value &x) {
  Shape axes, sizes, out = x.shape;
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (x.shape[d] == 1 && b.chance(0.7)) {
      axes.push_back(static_cast<int64_t>(d));
      sizes.push_back(b.between(2, 4));
      out[d] = sizes.back();
    }
  if (axes.empty() || !b.fits(out))
    return false;
  b.apply(b.chance(0.5) ? "broadcast_axis" : "broadcast_axes",
          {{"axis", tuple(axes)}, {"size", tuple(sizes)}}, {x}, {out}, x.mag);
  return true;
}

/// smooth_l1 with sigma = scalar: C¹ (its gradient is continuous at the
/// joins ±1/σ²), so any operand is fine.
bool buildSmoothL1(Builder &b, const Value &x) {
  double sigma = b.oneOf({1.0, 2.0, 0.5, 1.3});
  double mag = std::max(x.mag, 0.5 * x.mag * x.mag * sigma * sigma);
  if (mag > 1e3)
    return false;
  b.apply("smooth_l1", {{"scalar", str(sigma)}}, {x}, {x.shape}, mag);
  return true;
}

/// _contrib_div_sqrt_dim: x / sqrt(last dimension).
bool buildDivSqrtDim(Builder &b, const Value &x) {
  b.apply("_contrib_div_sqrt_dim", {}, {x}, {x.shape}, x.mag);
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
  double mag = name == "sum" || name == "nansum" ? x.mag * count : x.mag;
  if (mag > 1e3)
    return false;
  b.apply(op, a, {x}, {out}, mag);
  return true;
}

//===----------------------------------------------------------------------===//
// Shape and indexing operators (dialects/Graph/GraphShapeOps.td)
//===----------------------------------------------------------------------===//

/// An index operand: whole numbers in [0, range), a data input (indices
/// have no gradient).
/// A data input of whole numbers drawn by `role` (Index: [0, range),
/// Length: [1, range]).
Value wholeNumberInput(Builder &b, const Shape &shape, VarRole role, int64_t range) {
  VarInfo info{role, range, /*input=*/true};
  Value v = b.variable("x" + std::to_string(b.numVariables++), shape, info);
  v.mag = double(range);
  return v;
}

Value indexVariable(Builder &b, const Shape &shape, int64_t range) {
  return wholeNumberInput(b, shape, VarRole::Index, range);
}

/// A small shape of rank 1 or 2 (index operands).
Shape smallShape(Builder &b) {
  Shape s{b.between(1, 4)};
  if (b.chance(0.4))
    s.push_back(b.between(1, 3));
  return s;
}

/// `x` when it has rank `rank`, else x reshaped to that rank (its size
/// factorized), so that operators of one rank also consume the values of
/// others.
Value withRank(Builder &b, const Value &x, size_t rank) {
  if (x.shape.size() == rank)
    return x;
  std::vector<int64_t> primes;
  for (int64_t n = numElements(x.shape), p = 2; n > 1;) {
    if (n % p == 0) {
      primes.push_back(p);
      n /= p;
    } else {
      ++p;
    }
  }
  Shape dims(rank, 1);
  for (int64_t p : primes)
    dims[b.rng.below(rank)] *= p;
  return b.apply("Reshape", {{"shape", tuple(dims)}}, {x}, {dims}, x.mag)[0];
}

bool buildExpandDims(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank >= 6)
    return false;
  int64_t axis = b.between(-rank - 1, rank);
  Shape out = x.shape;
  out.insert(out.begin() + (axis < 0 ? axis + rank + 1 : axis), 1);
  b.apply("expand_dims", {{"axis", str(axis)}}, {x}, {out}, x.mag);
  return true;
}

bool buildSqueeze(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  Shape ones, out;
  for (int64_t i = 0; i < rank; ++i)
    if (x.shape[i] == 1)
      ones.push_back(i);
  if (ones.empty())
    return false;
  std::map<std::string, std::string> a;
  std::vector<bool> removed(rank, false);
  if (b.chance(0.6)) {
    Shape axes;
    for (int64_t i : ones)
      if (b.chance(0.6))
        axes.push_back(b.chance(0.3) ? i - rank : i);
    if (axes.empty())
      axes.push_back(ones[0]);
    for (int64_t i : axes)
      removed[(i + rank) % rank] = true;
    a["axis"] = tuple(axes);
  } else {
    for (int64_t i : ones)
      removed[i] = true;
  }
  for (int64_t i = 0; i < rank; ++i)
    if (!removed[i])
      out.push_back(x.shape[i]);
  // MXNet keeps (1) when every axis goes.
  if (out.empty())
    out.push_back(1);
  b.apply("squeeze", a, {x}, {out}, x.mag);
  return true;
}

bool buildSwapAxis(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t d1 = b.between(0, rank - 1), d2 = b.between(0, rank - 1);
  Shape out = x.shape;
  std::swap(out[d1], out[d2]);
  b.apply("SwapAxis", {{"dim1", str(d1)}, {"dim2", str(d2)}}, {x}, {out}, x.mag);
  return true;
}

bool buildReverse(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  Shape axes;
  for (int64_t i = 0; i < rank; ++i)
    if (b.chance(0.4))
      axes.push_back(i);
  if (axes.empty())
    axes.push_back(b.between(0, rank - 1));
  b.apply("reverse", {{"axis", tuple(axes)}}, {x}, {x.shape}, x.mag);
  return true;
}

bool buildTile(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  Shape reps(size_t(b.between(1, std::min<int64_t>(rank + 1, 5))));
  for (int64_t &r : reps)
    r = b.oneOf<int64_t>({1, 1, 2, 3});
  // MXNet aligns reps and the shape at the right, padding either with 1s.
  size_t n = std::max(reps.size(), x.shape.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t d = i + x.shape.size() >= n ? x.shape[i + x.shape.size() - n] : 1;
    int64_t r = i + reps.size() >= n ? reps[i + reps.size() - n] : 1;
    out[i] = d * r;
  }
  if (!b.fits(out))
    return false;
  b.apply("tile", {{"reps", tuple(reps)}}, {x}, {out}, x.mag);
  return true;
}

bool buildRepeat(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t repeats = b.between(1, 3);
  std::map<std::string, std::string> a{{"repeats", str(repeats)}};
  Shape out;
  if (b.chance(0.8)) {
    int64_t axis = b.between(-rank, rank - 1);
    a["axis"] = str(axis);
    out = x.shape;
    out[(axis + rank) % rank] *= repeats;
  } else {
    out = {numElements(x.shape) * repeats};
  }
  if (!b.fits(out))
    return false;
  b.apply("repeat", a, {x}, {out}, x.mag);
  return true;
}

bool buildStack(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t count = b.between(1, 3);
  std::vector<Value> in{x};
  double mag = x.mag;
  for (int64_t i = 1; i < count; ++i) {
    in.push_back(b.sameShape(x));
    mag = std::max(mag, in.back().mag);
  }
  b.rng.shuffle(in);
  int64_t axis = b.between(-rank - 1, rank);
  Shape out = x.shape;
  out.insert(out.begin() + (axis < 0 ? axis + rank + 1 : axis), count);
  if (!b.fits(out))
    return false;
  b.apply("stack", {{"num_args", str(count)}, {"axis", str(axis)}}, in, {out}, mag);
  return true;
}

bool buildSlice(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t n = b.between(1, rank);
  std::vector<std::string> begin, end, step;
  bool anyStep = false;
  Shape out = x.shape;
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = x.shape[i];
    if (b.chance(0.25)) {
      begin.push_back("None");
      end.push_back("None");
      step.push_back("None");
      continue;
    }
    int64_t s = b.oneOf<int64_t>({1, 1, 1, 2, -1, -2});
    int64_t lo = b.between(0, d - 1);
    if (s > 0) {
      int64_t hi = b.between(lo + 1, d);
      out[i] = (hi - lo + s - 1) / s;
      // Negative positions count from the end.
      begin.push_back(str(b.chance(0.2) ? lo - d : lo));
      end.push_back(hi == d && b.chance(0.3) ? "None" : str(hi));
    } else {
      // From lo down to (not including) hi; None runs to the start.
      int64_t hi = b.between(-1, lo - 1);
      out[i] = (lo - hi + (-s) - 1) / (-s);
      begin.push_back(str(lo));
      end.push_back(hi < 0 ? "None" : str(hi));
    }
    step.push_back(str(s));
    anyStep |= s != 1;
  }
  auto join = [](const std::vector<std::string> &items) {
    std::string s = "(";
    for (size_t i = 0; i < items.size(); ++i)
      s += (i ? ", " : "") + items[i];
    return s + (items.size() == 1 ? ",)" : ")");
  };
  std::map<std::string, std::string> a{{"begin", join(begin)}, {"end", join(end)}};
  if (anyStep || b.chance(0.2))
    a["step"] = join(step);
  b.apply("slice", a, {x}, {out}, x.mag);
  return true;
}

bool buildSliceLike(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  Shape like = x.shape;
  for (int64_t &d : like)
    d = b.between(1, d);
  std::map<std::string, std::string> a;
  Shape out = like;
  if (b.chance(0.4)) {
    Shape axes;
    out = x.shape;
    for (int64_t i = 0; i < rank; ++i)
      if (b.chance(0.5)) {
        axes.push_back(b.chance(0.2) ? i - rank : i);
        out[i] = like[i];
      }
    if (axes.empty())
      out = like;
    else
      a["axes"] = tuple(axes);
  }
  Value l = b.freshData(like, /*input=*/true);
  b.apply("slice_like", a, {x, l}, {out}, x.mag);
  return true;
}

bool buildReshapeLike(Builder &b, const Value &x) {
  Shape like = randomFactorization(b, numElements(x.shape));
  Value l = b.freshData(like, /*input=*/true);
  b.apply("reshape_like", {}, {x, l}, {like}, x.mag);
  return true;
}

bool buildBroadcastLike(Builder &b, const Value &in) {
  Value x = in;
  if (std::find(x.shape.begin(), x.shape.end(), 1) == x.shape.end()) {
    // A size-1 axis to broadcast: x reduced over one axis.
    int64_t axis = b.between(0, int64_t(x.shape.size()) - 1);
    Shape s = x.shape;
    s[axis] = 1;
    x = b.apply("mean", {{"axis", str(axis)}, {"keepdims", "True"}}, {in}, {s}, in.mag)[0];
  }
  Shape like = x.shape;
  bool grows = false;
  for (int64_t &d : like)
    if (d == 1 && b.chance(0.7)) {
      d = b.between(2, 4);
      grows = true;
    }
  if (!grows || !b.fits(like))
    return false;
  Value l = b.freshData(like, /*input=*/true);
  b.apply("broadcast_like", {}, {x, l}, {like}, x.mag);
  return true;
}

bool buildDepthToSpace(Builder &b, const Value &in) {
  int64_t bs = b.oneOf<int64_t>({2, 2, 3});
  Value x = withRank(b, in, 4);
  if (x.shape[1] % (bs * bs))
    x = b.freshData({x.shape[0], bs * bs * b.between(1, 2), b.between(1, 3), b.between(1, 3)});
  Shape out{x.shape[0], x.shape[1] / (bs * bs), x.shape[2] * bs, x.shape[3] * bs};
  b.apply("depth_to_space", {{"block_size", str(bs)}}, {x}, {out}, x.mag);
  return true;
}

bool buildSpaceToDepth(Builder &b, const Value &in) {
  int64_t bs = b.oneOf<int64_t>({2, 2, 3});
  Value x = withRank(b, in, 4);
  if (x.shape[2] % bs || x.shape[3] % bs)
    x = b.freshData({x.shape[0], x.shape[1], bs * b.between(1, 2), bs * b.between(1, 3)});
  Shape out{x.shape[0], x.shape[1] * bs * bs, x.shape[2] / bs, x.shape[3] / bs};
  b.apply("space_to_depth", {{"block_size", str(bs)}}, {x}, {out}, x.mag);
  return true;
}

bool buildCrop(Builder &b, const Value &data) {
  Value x = withRank(b, data, 4);
  int64_t h = b.between(1, x.shape[2]), w = b.between(1, x.shape[3]);
  std::map<std::string, std::string> a;
  std::vector<Value> in{x};
  if (b.chance(0.3)) {
    in.push_back(b.freshData({b.between(1, 2), b.between(1, 3), h, w}, /*input=*/true));
    a["num_args"] = "2";
  } else {
    a["num_args"] = "1";
    a["h_w"] = tuple({h, w});
  }
  if (b.chance(0.4))
    a["center_crop"] = "True";
  else if (b.chance(0.6))
    a["offset"] = tuple({b.between(0, x.shape[2] - h), b.between(0, x.shape[3] - w)});
  b.apply("Crop", a, in, {{x.shape[0], x.shape[1], h, w}}, x.mag);
  return true;
}

bool buildPad(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank != 4 && rank != 5)
    return false;
  std::string mode = b.oneOf<const char *>({"constant", "constant", "edge", "reflect"});
  Shape widths(4, 0), out = x.shape;
  for (int64_t i = 2; i < rank; ++i) {
    // reflect needs pads below the extent.
    int64_t most = mode == "reflect" ? std::min<int64_t>(2, x.shape[i] - 1) : 2;
    int64_t lo = b.between(0, most), hi = b.between(0, most);
    widths.push_back(lo);
    widths.push_back(hi);
    out[i] += lo + hi;
  }
  if (!b.fits(out))
    return false;
  std::map<std::string, std::string> a{{"mode", mode}, {"pad_width", tuple(widths)}};
  double c = 0;
  if (mode == "constant" && b.chance(0.5)) {
    c = b.oneOf({0.5, -1.0, 2.0});
    a["constant_value"] = str(c);
  }
  b.apply("Pad", a, {x}, {out}, std::max(x.mag, std::fabs(c)));
  return true;
}

bool buildTake(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t axis = b.chance(0.6) ? 0 : b.between(-rank, rank - 1);
  int64_t ax = (axis + rank) % rank;
  std::map<std::string, std::string> a;
  if (axis != 0)
    a["axis"] = str(axis);
  std::string mode = b.oneOf<const char *>({"clip", "clip", "wrap"});
  if (mode != "clip" || b.chance(0.3))
    a["mode"] = mode;
  // Indices past the axis now and then: clipped or wrapped.
  int64_t range = b.chance(0.3) ? 2 * x.shape[ax] + 1 : x.shape[ax];
  Shape idx = smallShape(b);
  Shape out(x.shape.begin(), x.shape.begin() + ax);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), x.shape.begin() + ax + 1, x.shape.end());
  if (!b.fits(out))
    return false;
  Value i = indexVariable(b, idx, range);
  b.apply("take", a, {x, i}, {out}, x.mag);
  return true;
}

bool buildPick(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  if (rank < 2)
    return false;
  int64_t axis = b.between(-rank, rank - 1), ax = (axis + rank) % rank;
  std::map<std::string, std::string> a{{"axis", str(axis)}};
  bool keep = b.chance(0.3);
  Shape idx = x.shape;
  idx.erase(idx.begin() + ax);
  Shape out = idx;
  if (keep) {
    a["keepdims"] = "True";
    out.insert(out.begin() + ax, 1);
  }
  std::string mode = b.oneOf<const char *>({"clip", "clip", "wrap"});
  if (mode != "clip" || b.chance(0.3))
    a["mode"] = mode;
  int64_t range = b.chance(0.3) ? 2 * x.shape[ax] + 1 : x.shape[ax];
  Value i = indexVariable(b, idx, range);
  b.apply("pick", a, {x, i}, {out}, x.mag);
  return true;
}

/// khatri_rao: x as a matrix with up to two fresh matrices of its column
/// count.
bool buildKhatriRao(Builder &b, const Value &in) {
  Value x = withRank(b, in, 2);
  int64_t cols = x.shape[1];
  std::vector<Value> args{x};
  int64_t rows = x.shape[0];
  double mag = x.mag;
  for (int64_t i = 0, extra = b.between(0, 2); i < extra; ++i) {
    args.push_back(b.freshData({b.between(1, 3), cols}));
    rows *= args.back().shape[0];
    mag *= args.back().mag;
  }
  if (mag > 1e3)
    return false;
  b.rng.shuffle(args);
  b.apply("khatri_rao", {{"num_args", str(int64_t(args.size()))}}, args, {{rows, cols}}, mag);
  return true;
}

/// softmax_cross_entropy: x as (N, C) logits and class labels in range.
bool buildSoftmaxCrossEntropy(Builder &b, const Value &in) {
  Value x = withRank(b, in, 2);
  int64_t n = x.shape[0], c = x.shape[1];
  Value label = indexVariable(b, {n}, c);
  b.apply("softmax_cross_entropy", {}, {x, label}, {{1}}, 20.0 * double(n));
  return true;
}

/// batch_take: one element of each row of a matrix, indices of any shape
/// with one entry per row (sometimes out of range: clamped).
bool buildBatchTake(Builder &b, const Value &in) {
  Value x = withRank(b, in, 2);
  int64_t rows = x.shape[0], cols = x.shape[1];
  Shape idx{rows};
  if (rows % 2 == 0 && b.chance(0.3))
    idx = {2, rows / 2};
  int64_t range = b.chance(0.3) ? 2 * cols + 1 : cols;
  Value i = indexVariable(b, idx, range);
  b.apply("batch_take", {}, {x, i}, {idx}, x.mag);
  return true;
}

/// _contrib_index_array: every position's multi-index, all axes or a list
/// (wrapped modulo the rank, repeats allowed).
bool buildIndexArray(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  std::map<std::string, std::string> a;
  Shape out = x.shape;
  if (b.chance(0.5)) {
    Shape axes;
    for (int64_t i = 0, n = b.between(1, 3); i < n; ++i)
      axes.push_back(b.between(-rank - 1, rank + 1));
    a["axes"] = tuple(axes);
    out.push_back(int64_t(axes.size()));
  } else {
    out.push_back(rank);
  }
  double mag = 0;
  for (int64_t d : x.shape)
    mag = std::max(mag, double(d));
  b.apply("_contrib_index_array", a, {x}, {out}, mag);
  return true;
}

/// _ravel_multi_index of multi-indices into a small shape (sometimes out of
/// range, unchecked as in MXNet), or _unravel_index of flat indices.
bool buildRavel(Builder &b, const Value &, bool unravel) {
  Shape shape;
  for (int64_t i = 0, n = b.between(1, 3); i < n; ++i)
    shape.push_back(b.between(1, 4));
  int64_t count = b.between(1, 5), size = numElements(shape);
  int64_t range = b.chance(0.3) ? 2 * size + 1 : size;
  std::map<std::string, std::string> a{{"shape", tuple(shape)}};
  if (unravel) {
    Value i = indexVariable(b, {count}, range);
    b.apply("_unravel_index", a, {i}, {{int64_t(shape.size()), count}}, double(range));
  } else {
    int64_t axisRange = *std::max_element(shape.begin(), shape.end());
    Value i = indexVariable(b, {int64_t(shape.size()), count}, axisRange);
    b.apply("_ravel_multi_index", a, {i}, {{count}}, double(size * axisRange));
  }
  return true;
}

/// scatter_nd: the rows of x (its first axis) written into zeros whose
/// first M axes are new, at index columns (repeats allowed: the later wins
/// on both engines).
bool buildScatterND(Builder &b, const Value &x) {
  int64_t n = x.shape[0];
  int64_t m = b.between(1, 2);
  Shape shape, lead;
  for (int64_t j = 0; j < m; ++j)
    lead.push_back(b.between(1, 4));
  shape = lead;
  shape.insert(shape.end(), x.shape.begin() + 1, x.shape.end());
  if (!b.fits(shape))
    return false;
  int64_t range = *std::min_element(lead.begin(), lead.end());
  Value i = indexVariable(b, {m, n}, range);
  b.apply("scatter_nd", {{"shape", tuple(shape)}}, {x, i}, {shape}, x.mag);
  return true;
}

bool buildGatherND(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t m = b.between(1, std::min<int64_t>(rank, 3));
  // One range for all index rows: the smallest of the indexed axes.
  int64_t range = *std::min_element(x.shape.begin(), x.shape.begin() + m);
  Shape idx{m};
  Shape tail = smallShape(b);
  idx.insert(idx.end(), tail.begin(), tail.end());
  Shape out = tail;
  out.insert(out.end(), x.shape.begin() + m, x.shape.end());
  if (!b.fits(out))
    return false;
  Value i = indexVariable(b, idx, range);
  b.apply("gather_nd", {}, {x, i}, {out}, x.mag);
  return true;
}

bool buildOneHot(Builder &b, const Value &) {
  int64_t depth = b.between(1, 6);
  Shape idx = smallShape(b);
  std::map<std::string, std::string> a{{"depth", str(depth)}};
  double on = 1, off = 0;
  if (b.chance(0.4)) {
    on = b.oneOf({2.0, -1.0, 0.5});
    off = b.oneOf({0.0, 0.25, -2.0});
    a["on_value"] = str(on);
    a["off_value"] = str(off);
  }
  // An index past depth now and then: a row of off_value.
  Value i = indexVariable(b, idx, b.chance(0.3) ? depth + 1 : depth);
  Shape out = idx;
  out.push_back(depth);
  b.apply("one_hot", a, {i}, {out}, std::max(std::fabs(on), std::fabs(off)));
  return true;
}

bool buildWhere(Builder &b, const Value &x) {
  Value y = b.sameShape(x);
  Value c;
  if (b.chance(0.3)) {
    // A 1-D condition over the first axis (MXNet's other form).
    if (x.shape.size() < 2)
      return false;
    Value v = b.freshData({x.shape[0]});
    c = b.apply("_greater_scalar", {{"scalar", "0"}}, {v}, {v.shape}, 1)[0];
  } else {
    c = stepped(b, b.sameShape(x));
  }
  std::vector<Value> in = b.ordered(x, y);
  b.apply("where", {}, {c, in[0], in[1]}, {x.shape}, std::max(x.mag, y.mag));
  return true;
}

bool buildShapeArray(Builder &b, const Value &x) {
  double largest = double(*std::max_element(x.shape.begin(), x.shape.end()));
  b.apply("shape_array", {}, {x}, {{int64_t(x.shape.size())}}, largest);
  return true;
}

bool buildSizeArray(Builder &b, const Value &x) {
  double n = double(numElements(x.shape));
  if (n > 1e3)
    return false;
  b.apply("size_array", {}, {x}, {{1}}, n);
  return true;
}

bool buildArange(Builder &b, const Value &) {
  double start = b.oneOf({0.0, 1.0, -2.0, 0.5}), step = b.oneOf({1.0, 0.5, 2.0, -1.0, 0.25});
  int64_t count = b.between(1, 8), repeat = b.oneOf<int64_t>({1, 1, 2, 3});
  double stop = start + step * double(count);
  std::map<std::string, std::string> a{{"start", str(start)}, {"stop", str(stop)}};
  if (step != 1)
    a["step"] = str(step);
  if (repeat != 1)
    a["repeat"] = str(repeat);
  b.apply("_arange", a, {}, {{count * repeat}}, std::fabs(start) + std::fabs(stop) + 1);
  return true;
}

bool buildFill(Builder &b, const Value &x, const char *op) {
  std::string name = op;
  std::map<std::string, std::string> a{{"shape", tuple(x.shape)}};
  double mag = 1;
  if (name == "_full") {
    double v = b.oneOf({0.5, -1.0, 2.0, 0.1});
    a["value"] = str(v);
    mag = std::fabs(v);
  }
  b.apply(op, a, {}, {x.shape}, mag);
  return true;
}

bool buildEye(Builder &b, const Value &) {
  int64_t n = b.between(1, 5), m = b.oneOf<int64_t>({0, 0, 1, 3, 6});
  int64_t k = b.between(-2, 2);
  std::map<std::string, std::string> a{{"N", str(n)}};
  if (m != 0 || b.chance(0.2))
    a["M"] = str(m);
  if (k != 0 || b.chance(0.2))
    a["k"] = str(k);
  b.apply("_eye", a, {}, {{n, m != 0 ? m : n}}, 1);
  return true;
}

/// arange_like: x's shape (or one of its axes) filled with a range; x's
/// values are not read.
bool buildArangeLike(Builder &b, const Value &x) {
  double start = b.oneOf({0.0, 1.0, -2.0, 0.5}), step = b.oneOf({1.0, 0.5, -1.0, 0.25});
  int64_t repeat = b.oneOf<int64_t>({1, 1, 2, 3});
  std::map<std::string, std::string> a;
  if (start != 0 || b.chance(0.2))
    a["start"] = str(start);
  if (step != 1)
    a["step"] = str(step);
  if (repeat != 1)
    a["repeat"] = str(repeat);
  Shape out = x.shape;
  int64_t rank = x.shape.size();
  if (b.chance(0.4)) {
    int64_t axis = b.between(-rank, rank - 1);
    a["axis"] = str(axis);
    out = {x.shape[axis < 0 ? axis + rank : axis]};
  }
  double count = 1;
  for (int64_t d : out)
    count *= static_cast<double>(d);
  double mag = std::fabs(start) + std::fabs(step) * count / static_cast<double>(repeat) + 1;
  if (mag > 1e3)
    return false;
  b.apply("_contrib_arange_like", a, {x}, {out}, mag);
  return true;
}

/// amp_multicast over x and up to two more values (of any shape: each
/// result is its own input's shape).
bool buildAmpMulticast(Builder &b, const Value &x) {
  int64_t count = b.between(1, 3);
  std::vector<Value> in{x};
  std::vector<Shape> outs{x.shape};
  for (int64_t i = 1; i < count; ++i) {
    in.push_back(b.sameShape(x));
    outs.push_back(x.shape);
  }
  std::map<std::string, std::string> a{{"num_outputs", str(count)}};
  if (b.chance(0.3))
    a["cast_narrow"] = b.chance(0.5) ? "True" : "False";
  double mag = 0;
  for (const Value &v : in)
    mag = std::max(mag, v.mag);
  b.apply("amp_multicast", a, in, outs, mag);
  return true;
}

bool buildAmpCast(Builder &b, const Value &x) {
  std::string dtype = b.oneOf<const char *>({"float16", "float16", "float32", "bfloat16"});
  b.apply("amp_cast", {{"dtype", dtype}}, {x}, {x.shape}, 1.01 * x.mag);
  return true;
}

bool buildGradientMultiplier(Builder &b, const Value &x) {
  std::map<std::string, std::string> a;
  if (b.chance(0.8))
    a["scalar"] = str(b.oneOf({-1.0, 0.5, 2.0, -0.1}));
  b.apply("_contrib_gradientmultiplier", a, {x}, {x.shape}, x.mag);
  return true;
}

bool buildQuadratic(Builder &b, const Value &x) {
  std::map<std::string, std::string> a;
  double ca = b.oneOf({0.0, 1.0, -0.5, 0.25}), cb = b.oneOf({0.0, 2.0, -1.0}),
         cc = b.oneOf({0.0, 0.5, -3.0});
  if (ca != 0 || b.chance(0.2))
    a["a"] = str(ca);
  if (cb != 0 || b.chance(0.2))
    a["b"] = str(cb);
  if (cc != 0 || b.chance(0.2))
    a["c"] = str(cc);
  double mag = std::fabs(ca) * x.mag * x.mag + std::fabs(cb) * x.mag + std::fabs(cc) + 1;
  if (mag > 1e3)
    return false;
  b.apply("_contrib_quadratic", a, {x}, {x.shape}, mag);
  return true;
}

bool buildLegacyMakeLoss(Builder &b, const Value &x) {
  b.apply(b.chance(0.8) ? "make_loss" : "_sparse_make_loss", {}, {x}, {x.shape}, x.mag, {},
          /*terminal=*/true);
  return true;
}

//===----------------------------------------------------------------------===//
// Reductions, searching and sorting (dialects/Graph/GraphReduceOps.td)
//===----------------------------------------------------------------------===//

/// Products: factors in (0.5, 1.5) (a product of N(0, 1) values over many
/// elements under- or overflows; one of 0 makes the gradient 0/0).
bool buildProduct(Builder &b, const Value &x, const char *op) {
  Value in = b.positive(x);
  int64_t rank = in.shape.size();
  int64_t axis = b.between(-rank, rank - 1), ax = (axis + rank) % rank;
  if (in.shape[ax] > 16)
    return false;
  std::map<std::string, std::string> a{{"axis", str(axis)}};
  Shape out = in.shape;
  if (b.chance(0.3)) {
    a["keepdims"] = "True";
    out[ax] = 1;
  } else {
    out.erase(out.begin() + ax);
    if (out.empty())
      out.push_back(1);
  }
  b.apply(op, a, {in}, {out}, std::pow(1.5, double(in.shape[ax])));
  return true;
}

bool buildNansum(Builder &b, const Value &x) { return buildReduce(b, x, "nansum"); }

/// `x` plus a fresh N(0, 1) variable unless x is one: index results and
/// sorting jump where two elements swap order, and an operator's value may
/// hold exact ties however far from a step it comes (a relu's zeros stay
/// equal through a normalization, a broadcast or a Concat repeats values);
/// which of equal elements MXNet returns depends on its sort algorithm
/// (docs/testing.md). An independent continuous term separates every tie.
Value tieFree(Builder &b, const Value &x) {
  if (producer(b, x).isVariable())
    return x;
  Value noise = b.freshData(x.shape);
  return b.apply("elemwise_add", {}, b.ordered(x, noise), {x.shape}, x.mag + 3)[0];
}

bool buildNorm(Builder &b, const Value &x) {
  // The norm's gradient is x/|x| (ord 2) or sign(x) (ord 1): operands
  // without exact zeros.
  if (mayHoldSteps(b, x))
    return buildNorm(b, tieFree(b, x));
  int64_t rank = x.shape.size();
  int64_t ord = b.oneOf<int64_t>({1, 2, 2});
  std::map<std::string, std::string> a;
  if (ord != 2 || b.chance(0.3))
    a["ord"] = str(ord);
  bool keep = b.chance(0.3);
  if (keep)
    a["keepdims"] = "True";
  Shape out;
  double count = double(numElements(x.shape));
  if (b.chance(0.7)) {
    int64_t axis = b.between(-rank, rank - 1), ax = (axis + rank) % rank;
    a["axis"] = str(axis);
    out = x.shape;
    count = double(x.shape[ax]);
    if (keep)
      out[ax] = 1;
    else
      out.erase(out.begin() + ax);
  } else {
    out = keep ? Shape(rank, 1) : Shape{};
  }
  if (out.empty())
    out.push_back(1);
  double mag = ord == 1 ? x.mag * count : x.mag * std::sqrt(count);
  if (mag > 1e3)
    return false;
  b.apply("norm", a, {x}, {out}, mag);
  return true;
}

/// moments: the mean and the variance over a non-empty axis set.
bool buildMoments(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  Shape axes;
  std::vector<bool> reduced(rank, false);
  for (int64_t i = 0; i < rank; ++i)
    if (b.chance(0.5)) {
      axes.push_back(b.chance(0.2) ? i - rank : i);
      reduced[size_t(i)] = true;
    }
  if (axes.empty()) {
    int64_t i = b.between(0, rank - 1);
    axes.push_back(i);
    reduced[size_t(i)] = true;
  }
  std::map<std::string, std::string> a{{"axes", tuple(axes)}};
  bool keep = b.chance(0.4);
  if (keep)
    a["keepdims"] = "True";
  Shape out;
  for (int64_t i = 0; i < rank; ++i)
    if (!reduced[size_t(i)])
      out.push_back(x.shape[i]);
    else if (keep)
      out.push_back(1);
  if (out.empty())
    out.push_back(1);
  // The variance is at most the squared magnitude.
  b.apply("moments", a, {x}, {out, out}, std::max(x.mag, x.mag * x.mag));
  return true;
}

bool buildSearch(Builder &b, const Value &in, const char *op) {
  Value x = tieFree(b, in);
  int64_t rank = x.shape.size();
  std::map<std::string, std::string> a;
  bool keep = b.chance(0.3);
  if (keep)
    a["keepdims"] = "True";
  Shape out;
  int64_t n = numElements(x.shape);
  if (b.chance(0.8)) {
    int64_t axis = b.between(-rank, rank - 1), ax = (axis + rank) % rank;
    a["axis"] = str(axis);
    n = x.shape[ax];
    out = x.shape;
    if (keep)
      out[ax] = 1;
    else
      out.erase(out.begin() + ax);
    if (rank == 1)
      out = {1};
  } else {
    out = keep ? Shape(rank, 1) : Shape{1};
  }
  b.apply(op, a, {x}, {out}, double(n));
  return true;
}

/// argmax_channel: argmax along axis 1.
bool buildArgmaxChannel(Builder &b, const Value &in) {
  if (in.shape.size() < 2)
    return false;
  Value x = tieFree(b, in);
  Shape out = x.shape;
  out.erase(out.begin() + 1);
  b.apply("argmax_channel", {}, {x}, {out}, double(x.shape[1]));
  return true;
}

bool buildSorting(Builder &b, const Value &in, const char *op) {
  Value x = tieFree(b, in);
  std::string name = op;
  int64_t rank = x.shape.size();
  std::map<std::string, std::string> a;
  int64_t axis = b.between(-rank, rank - 1), ax = (axis + rank) % rank;
  if (axis != -1 || b.chance(0.3))
    a["axis"] = str(axis);
  bool ascend = name == "topk" ? b.chance(0.3) : b.chance(0.7);
  if (ascend != (name != "topk") || b.chance(0.3))
    a["is_ascend"] = ascend ? "True" : "False";
  int64_t n = x.shape[ax];
  std::vector<Shape> outs{x.shape};
  double mag = name == "sort" ? x.mag : double(n);
  if (name == "topk") {
    int64_t k = b.between(1, n);
    a["k"] = str(k);
    std::string ret = b.oneOf<const char *>({"indices", "value", "value", "both", "mask"});
    if (ret != "indices" || b.chance(0.3))
      a["ret_typ"] = ret;
    Shape value = x.shape;
    value[ax] = k;
    if (ret == "mask")
      mag = 1;
    else if (ret == "value")
      mag = x.mag;
    outs = ret == "mask" ? std::vector<Shape>{x.shape}
           : ret == "both" ? std::vector<Shape>{value, value}
                           : std::vector<Shape>{value};
    if (ret == "both")
      mag = std::max(x.mag, double(n));
  }
  b.apply(op, a, {x}, outs, mag);
  return true;
}

//===----------------------------------------------------------------------===//
// Normalization, resizing and the other NN layers (GraphNNOps.td)
//===----------------------------------------------------------------------===//

bool buildLayerNorm(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  int64_t axis = b.chance(0.6) ? -1 : b.between(-rank, rank - 1);
  std::map<std::string, std::string> a;
  if (axis != -1)
    a["axis"] = str(axis);
  if (b.chance(0.3))
    a["eps"] = str(b.oneOf({1e-5, 1e-3, 0.1}));
  std::map<std::string, Owned> owned{{"gamma", {VarInfo{VarRole::Scale}, {}}},
                                     {"beta", {VarInfo{VarRole::Offset}, {}}}};
  b.apply("LayerNorm", a, {x}, {x.shape}, 8, owned);
  return true;
}

bool buildInstanceNorm(Builder &b, const Value &x) {
  if (x.shape.size() < 3)
    return false;
  std::map<std::string, std::string> a;
  if (b.chance(0.3))
    a["eps"] = str(b.oneOf({1e-5, 1e-3, 0.1}));
  std::map<std::string, Owned> owned{{"gamma", {VarInfo{VarRole::Scale}, {}}},
                                     {"beta", {VarInfo{VarRole::Offset}, {}}}};
  b.apply("InstanceNorm", a, {x}, {x.shape}, 8, owned);
  return true;
}

bool buildGroupNorm(Builder &b, const Value &x) {
  if (x.shape.size() < 3)
    return false;
  int64_t groups = b.oneOf(divisors(x.shape[1]));
  std::map<std::string, std::string> a;
  if (groups != 1 || b.chance(0.3))
    a["num_groups"] = str(groups);
  if (b.chance(0.3))
    a["eps"] = str(b.oneOf({1e-5, 1e-3, 0.1}));
  std::map<std::string, Owned> owned{{"gamma", {VarInfo{VarRole::Scale}, {}}},
                                     {"beta", {VarInfo{VarRole::Offset}, {}}}};
  b.apply("GroupNorm", a, {x}, {x.shape}, 8, owned);
  return true;
}

bool buildL2Normalization(Builder &b, const Value &x) {
  int64_t rank = x.shape.size();
  // A vector of relu zeros has norm 0 (its gradient is eps-dominated);
  // channel and spatial modes want (N, C, ...) (MXNet checks rank 3).
  if (rank < 2 || mayHoldSteps(b, x))
    return false;
  std::string mode = b.oneOf<const char *>({"instance", "channel", "spatial"});
  if (mode != "instance" && rank < 3)
    return false;
  std::map<std::string, std::string> a;
  if (mode != "instance" || b.chance(0.3))
    a["mode"] = mode;
  b.apply("L2Normalization", a, {x}, {x.shape}, 1);
  return true;
}

bool buildUpSampling(Builder &b, const Value &data) {
  Value x = withRank(b, data, 4);
  int64_t scale = b.between(1, 3);
  Shape out{x.shape[0], x.shape[1], x.shape[2] * scale, x.shape[3] * scale};
  if (!b.fits(out))
    return false;
  std::map<std::string, std::string> a{{"scale", str(scale)}};
  if (b.chance(0.3)) {
    // A deconvolution with a (C, 1, k, k) kernel per channel.
    a["sample_type"] = "bilinear";
    a["num_filter"] = str(x.shape[1]);
    a["num_args"] = "2";
    b.apply("UpSampling", a, {x}, {out}, 4 * x.mag, {{"weight", {VarInfo{VarRole::Scale}, {}}}});
    return true;
  }
  a["sample_type"] = "nearest";
  std::vector<Value> in{x};
  double mag = x.mag;
  if (b.chance(0.3)) {
    // A second input at half the size (scaled twice as much).
    bool sum = b.chance(0.5);
    int64_t c = sum ? x.shape[1] : b.between(1, 3);
    Shape s{x.shape[0], c, x.shape[2] * scale, x.shape[3] * scale};
    if (scale == 1 || b.chance(0.5)) {
      s[2] = out[2];
      s[3] = out[3];
    } else {
      s[2] = x.shape[2];
      s[3] = x.shape[3];
    }
    in.push_back(b.freshData(s));
    if (sum) {
      a["multi_input_mode"] = "sum";
      mag += 3;
    } else {
      out[1] += c;
    }
  }
  a["num_args"] = str(int64_t(in.size()));
  b.apply("UpSampling", a, in, {out}, mag);
  return true;
}

bool buildBilinearResize(Builder &b, const Value &x) {
  if (x.shape.size() != 4)
    return false;
  int64_t h = b.between(1, 2 * x.shape[2] + 1), w = b.between(1, 2 * x.shape[3] + 1);
  Shape out{x.shape[0], x.shape[1], h, w};
  if (!b.fits(out))
    return false;
  std::map<std::string, std::string> a{{"height", str(h)}, {"width", str(w)}};
  if (b.chance(0.4))
    a["align_corners"] = b.chance(0.5) ? "False" : "True";
  b.apply("_contrib_BilinearResize2D", a, {x}, {out}, x.mag);
  return true;
}

bool buildAdaptivePooling(Builder &b, const Value &x) {
  if (x.shape.size() != 4)
    return false;
  int64_t h = b.between(1, x.shape[2]), w = b.between(1, x.shape[3]);
  std::map<std::string, std::string> a;
  if (b.chance(0.3) && x.shape[2] == x.shape[3]) {
    w = h;
    a["output_size"] = str(h);
  } else {
    a["output_size"] = tuple({h, w});
  }
  b.apply("_contrib_AdaptiveAvgPooling2D", a, {x}, {{x.shape[0], x.shape[1], h, w}}, x.mag);
  return true;
}

bool buildBatchDot(Builder &b, const Value &in) {
  Value x = in.shape.size() >= 3 ? in : withRank(b, in, 3);
  int64_t rank = x.shape.size();
  bool ta = b.chance(0.3), tb = b.chance(0.3);
  int64_t m = x.shape[rank - 2], k = x.shape[rank - 1];
  if (ta)
    std::swap(m, k);
  int64_t n = b.width();
  Shape rhs(x.shape.begin(), x.shape.end() - 2);
  rhs.push_back(tb ? n : k);
  rhs.push_back(tb ? k : n);
  Shape out(x.shape.begin(), x.shape.end() - 2);
  out.push_back(m);
  out.push_back(n);
  if (!b.fits(out) || numElements(out) * k > b.maxWork())
    return false;
  std::map<std::string, std::string> a;
  if (ta)
    a["transpose_a"] = "True";
  if (tb)
    a["transpose_b"] = "True";
  const Value *old = b.chance(0.5) ? b.another(rhs, &x) : nullptr;
  Value y = old ? *old : b.freshData(rhs);
  double mag = x.mag * y.mag * std::sqrt(double(k));
  if (mag > 1e3)
    return false;
  b.apply("batch_dot", a, {x, y}, {out}, mag);
  return true;
}

/// GridGenerator: an affine θ (N, 6) or a warp flow (N, 2, H, W) from `in`
/// when it has that shape, fresh otherwise; target sizes of at least 2 (a
/// size of 1 divides by zero in MXNet's grid).
bool buildGridGenerator(Builder &b, const Value &in) {
  std::map<std::string, std::string> a;
  if (b.chance(0.5)) {
    Value x = in.shape.size() == 2 && in.shape[1] == 6 ? in : b.freshData({b.between(1, 3), 6});
    int64_t h = b.between(2, 6), w = b.between(2, 6);
    a["transform_type"] = "affine";
    a["target_shape"] = tuple({h, w});
    b.apply("GridGenerator", a, {x}, {{x.shape[0], 2, h, w}}, 3 * x.mag);
    return true;
  }
  Value x = in;
  if (x.shape.size() != 4 || x.shape[1] != 2 || x.shape[2] < 2 || x.shape[3] < 2)
    x = b.freshData({b.between(1, 3), 2, b.between(2, 6), b.between(2, 6)});
  a["transform_type"] = "warp";
  b.apply("GridGenerator", a, {x}, {x.shape}, x.mag + 1);
  return true;
}

/// BilinearSampler and SpatialTransformer on NCHW data; the grid (or the
/// affine transform) is a model input in U(-0.5, 0.5), not differentiated:
/// the grid gradient jumps where a sampling coordinate crosses a pixel.
bool buildSampler(Builder &b, const Value &in, const char *op) {
  Value x = withRank(b, in, 4);
  if (x.shape[2] > 8 || x.shape[3] > 8)
    x = b.freshData({x.shape[0], b.between(1, 3), b.between(1, 6), b.between(1, 6)});
  int64_t h = b.between(1, 5), w = b.between(1, 5);
  std::map<std::string, std::string> a;
  if (b.chance(0.3))
    a["cudnn_off"] = b.chance(0.5) ? "True" : "False";
  VarInfo info{VarRole::Offset, 0, /*input=*/true};
  if (std::string(op) == "BilinearSampler") {
    Value grid = b.variable("x" + std::to_string(b.numVariables++), {x.shape[0], 2, h, w}, info);
    b.apply(op, a, {x, grid}, {{x.shape[0], x.shape[1], h, w}}, x.mag);
    return true;
  }
  // SpatialTransformer's targets of size 1 divide by zero as GridGenerator's.
  h = std::max<int64_t>(h, 2);
  w = std::max<int64_t>(w, 2);
  a["target_shape"] = tuple({h, w});
  a["transform_type"] = "affine";
  a["sampler_type"] = "bilinear";
  Value loc = b.variable("x" + std::to_string(b.numVariables++), {x.shape[0], 6}, info);
  b.apply(op, a, {x, loc}, {{x.shape[0], x.shape[1], h, w}}, x.mag);
  return true;
}

/// Correlation of NCHW `in` with a second map of its shape (fresh for the
/// absolute difference, whose kinks an existing value equal to `in` in
/// places would sit on), attributes whose output is not empty.
bool buildCorrelation(Builder &b, const Value &in) {
  Value x = withRank(b, in, 4);
  if (x.shape[2] > 8 || x.shape[3] > 8)
    x = b.freshData({x.shape[0], b.between(1, 3), b.between(2, 7), b.between(2, 7)});
  int64_t k = b.oneOf<int64_t>({1, 1, 3}), md = b.between(0, 2), s1 = b.between(1, 2),
          s2 = b.between(1, 2), pad = b.between(0, md + (k - 1) / 2 + 1);
  // MXNet's output size: ⌈(padded − 2 · border) / stride1⌉.
  int64_t border = md + (k - 1) / 2, grid = 2 * (md / s2) + 1;
  auto outSize = [&](int64_t n) {
    int64_t span = n + 2 * pad - 2 * border;
    return span <= 0 ? 0 : (span + s1 - 1) / s1;
  };
  int64_t oh = outSize(x.shape[2]), ow = outSize(x.shape[3]);
  if (oh < 1 || ow < 1)
    return false;
  bool multiply = b.chance(0.7);
  std::map<std::string, std::string> a;
  auto set = [&](const char *name, int64_t v, int64_t dflt) {
    if (v != dflt || b.chance(0.3))
      a[name] = str(v);
  };
  set("kernel_size", k, 1);
  set("max_displacement", md, 1);
  set("stride1", s1, 1);
  set("stride2", s2, 1);
  set("pad_size", pad, 0);
  if (!multiply || b.chance(0.3))
    a["is_multiply"] = multiply ? "True" : "False";
  const Value *old = multiply && b.chance(0.5) ? b.another(x.shape, &x) : nullptr;
  Value y = old ? *old : b.freshData(x.shape);
  double mag = multiply ? x.mag * y.mag : x.mag + y.mag;
  b.apply("Correlation", a, {x, y},
          {{x.shape[0], grid * grid, oh, ow}}, mag);
  return true;
}

/// The interleaved attention products: `in` as the (S, B, heads · parts · D)
/// projection when its last axis splits so (a fresh one otherwise), the
/// other operand (queries, or the attention maps) fresh or an existing value
/// of its shape.
bool buildInterleaved(Builder &b, const Value &in, const char *op) {
  std::string name = op;
  bool self = name.find("selfatt") != std::string::npos;
  bool qk = name.find("_qk") != std::string::npos;
  // encdec_qk's first operand is the queries (one part per head).
  int64_t parts = self ? 3 : (qk ? 1 : 2), heads = b.between(1, 3);
  Value x = withRank(b, in, 3);
  if (x.shape[2] % (heads * parts) != 0 || x.shape[0] > 8 || x.shape[2] > 48)
    x = b.freshData({b.between(1, 5), b.between(1, 3), heads * parts * b.between(1, 4)});
  int64_t seq = x.shape[0], batch = x.shape[1], d = x.shape[2] / (heads * parts);
  std::map<std::string, std::string> a{{"heads", str(heads)}};
  auto other = [&](const Shape &s) {
    const Value *old = b.chance(0.5) ? b.another(s, &x) : nullptr;
    return old ? *old : b.freshData(s);
  };
  double mag = 0;
  if (self && qk) {
    mag = x.mag * x.mag * std::sqrt(double(d));
    if (mag > 1e3)
      return false;
    b.apply(op, a, {x}, {{batch * heads, seq, seq}}, mag);
    return true;
  }
  if (self) {
    Value att = other({batch * heads, seq, seq});
    mag = x.mag * att.mag * double(seq);
    if (mag > 1e3)
      return false;
    b.apply(op, a, {x, att}, {{seq, batch, heads * d}}, mag);
    return true;
  }
  int64_t seq2 = b.between(1, 5);
  if (qk) {
    Value kv = other({seq2, batch, heads * 2 * d});
    mag = x.mag * kv.mag * std::sqrt(double(d));
    if (mag > 1e3)
      return false;
    b.apply(op, a, {x, kv}, {{batch * heads, seq, seq2}}, mag);
    return true;
  }
  Value att = other({batch * heads, seq2, seq});
  mag = x.mag * att.mag * double(seq);
  if (mag > 1e3)
    return false;
  b.apply(op, a, {x, att}, {{seq2, batch, heads * d}}, mag);
  return true;
}

bool buildMakeLoss(Builder &b, const Value &x) {
  std::map<std::string, std::string> a;
  if (b.chance(0.4))
    a["grad_scale"] = str(b.oneOf({0.5, 2.0}));
  std::string norm = b.oneOf<const char *>({"null", "null", "batch", "valid"});
  if (norm != "null" || b.chance(0.3))
    a["normalization"] = norm;
  if (norm == "valid" && b.chance(0.5))
    a["valid_thresh"] = "0.5";
  b.apply("MakeLoss", a, {x}, {x.shape}, x.mag, {}, /*terminal=*/true);
  return true;
}

//===----------------------------------------------------------------------===//
// RNN (GraphRNNOps.td)
//===----------------------------------------------------------------------===//

bool buildRNN(Builder &b, const Value &in) {
  // (T, N, I): sequence-major.
  Value x = withRank(b, in, 3);
  if (x.shape[0] > 8 || x.shape[2] > 64)
    x = b.freshData({b.between(1, 5), b.between(1, 3), b.between(1, 4)});
  std::string mode = b.oneOf<const char *>({"lstm", "gru", "rnn_tanh", "rnn_relu"});
  int64_t hidden = b.between(1, 5), layers = b.oneOf<int64_t>({1, 1, 2});
  bool bidirectional = b.chance(0.3);
  int64_t dirs = bidirectional ? 2 : 1;
  std::map<std::string, std::string> a{{"mode", mode},
                                       {"state_size", str(hidden)},
                                       {"num_layers", str(layers)}};
  if (bidirectional || b.chance(0.3))
    a["bidirectional"] = bidirectional ? "True" : "False";
  bool states = b.chance(0.4);
  if (states)
    a["state_outputs"] = "True";
  Shape state{layers * dirs, x.shape[1], hidden};
  std::vector<Shape> outs{{x.shape[0], x.shape[1], dirs * hidden}};
  if (states) {
    outs.push_back(state);
    if (mode == "lstm")
      outs.push_back(state);
  }
  // relu RNN: the state grows with the input each step.
  double mag = mode == "rnn_relu" ? (x.mag + 1) * double(x.shape[0] + 1) : 1;
  if (mag > 1e3)
    return false;
  Owned s{VarInfo{VarRole::Offset}, state};
  b.apply("RNN", a, {x}, outs, mag,
          {{"parameters", {VarInfo{VarRole::Offset}, {}}}, {"state", s}, {"state_cell", s}});
  return true;
}

/// SequenceMask / SequenceLast / SequenceReverse on (T, N, ...) data (or
/// (N, T, ...) with axis 1), with or without per-sample lengths in
/// [1, T] (the lengths MXNet's kernels define for all three ops).
bool buildSequence(Builder &b, const Value &in, const char *op) {
  std::string name = op;
  Value x = in.shape.size() >= 2 && in.shape.size() <= 4 ? in : withRank(b, in, 3);
  int64_t axis = name != "SequenceReverse" && b.chance(0.4) ? 1 : 0;
  int64_t steps = x.shape[axis], batch = x.shape[1 - axis];
  std::map<std::string, std::string> a;
  if (axis != 0 || b.chance(0.3))
    a["axis"] = str(axis);
  bool lengths = b.chance(0.7);
  if (lengths || b.chance(0.3))
    a["use_sequence_length"] = lengths ? "True" : "False";
  if (name == "SequenceMask" && b.chance(0.5))
    a["value"] = str(b.oneOf({-1.0, 0.5, 2.0}));
  Shape out = x.shape;
  if (name == "SequenceLast")
    out.erase(out.begin() + axis);
  std::vector<Value> operands{x};
  if (lengths)
    operands.push_back(wholeNumberInput(b, {batch}, VarRole::Length, steps));
  b.apply(op, a, operands, {out}, std::max(x.mag, 2.0));
  return true;
}

bool buildRNNParamConcat(Builder &b, const Value &data) {
  // Gluon's packing of RNN weights: 1-D or 2-D parts joined along dim.
  Value x = withRank(b, data, b.chance(0.5) ? 1 : 2);
  int64_t rank = x.shape.size();
  int64_t dim = b.between(0, rank - 1);
  int64_t count = b.between(1, 3);
  std::vector<Value> in{x};
  Shape out = x.shape;
  for (int64_t i = 1; i < count; ++i) {
    Shape s = x.shape;
    s[dim] = b.between(1, 4);
    in.push_back(b.freshData(s));
    out[dim] += s[dim];
  }
  b.rng.shuffle(in);
  std::map<std::string, std::string> a{{"num_args", str(count)}};
  if (dim != 1 || b.chance(0.3))
    a["dim"] = str(dim);
  b.apply("_rnn_param_concat", a, in, {out}, std::max(x.mag, 3.0));
  return true;
}

//===----------------------------------------------------------------------===//
// Detection (GraphDetectionOps.td)
//===----------------------------------------------------------------------===//
//
// Boxes are variables of whole corner boxes (VarRole::Box / Roi) so that
// every box has a positive area. Suppression and sorting by score jump where
// an IoU crosses the threshold or two scores swap; scores and boxes are
// continuous, so that happens by chance only and the oracle's noise follows
// it (Oracle.cpp).

Value boxVariable(Builder &b, const Shape &shape, double extent, bool input = true) {
  VarInfo info{VarRole::Box, 0, input};
  info.extent = extent;
  Value v = b.variable("x" + std::to_string(b.numVariables++), shape, info);
  v.mag = extent;
  return v;
}

/// _contrib_box_encode: fresh corner boxes and matches into them; x,
/// reshaped to (B, N), decides the positive samples (> 0.5).
bool buildBoxEncode(Builder &b, const Value &in) {
  Value samples = withRank(b, in, 2);
  int64_t batch = samples.shape[0], n = samples.shape[1], m = b.between(1, 4);
  Value anchors = boxVariable(b, {batch, n, 4}, 1.0), refs = boxVariable(b, {batch, m, 4}, 1.0);
  Value matches = indexVariable(b, {batch, n}, m);
  Value means = b.freshData({4}, /*input=*/true);
  Value stds = b.variable("x" + std::to_string(b.numVariables++), {4},
                          VarInfo{VarRole::Scale, 0, /*input=*/true});
  b.apply("_contrib_box_encode", {}, {samples, matches, anchors, refs, means, stds},
          {{batch, n, 4}, {batch, n, 4}}, 10);
  return true;
}

bool buildROIOp(Builder &b, const Value &in, const char *op) {
  Value x = withRank(b, in, 4);
  if (x.shape[2] < 2 || x.shape[3] < 2)
    x = b.freshData({b.between(1, 2), b.between(1, 3), b.between(2, 7), b.between(2, 7)});
  bool align = std::string(op) == "_contrib_ROIAlign";
  int64_t ph = b.between(1, 3), pw = b.between(1, 3);
  double scale = b.oneOf({1.0, 0.5});
  std::map<std::string, std::string> a{{"pooled_size", tuple({ph, pw})},
                                       {"spatial_scale", str(scale)}};
  int64_t channels = x.shape[1];
  if (align) {
    if (b.chance(0.4))
      a["sample_ratio"] = str(b.between(1, 2));
    if (b.chance(0.3))
      a["aligned"] = "True";
    if (channels % (ph * pw) == 0 && b.chance(0.3)) {
      a["position_sensitive"] = "True";
      channels /= ph * pw;
    }
  }
  int64_t rois = b.between(1, 4);
  VarInfo info{VarRole::Roi, x.shape[0], /*input=*/true};
  info.extent = double(std::min(x.shape[2], x.shape[3]) - 1) / scale;
  Value r = b.variable("x" + std::to_string(b.numVariables++), {rois, 5}, info);
  b.apply(op, a, {x, r}, {{rois, channels, ph, pw}}, x.mag);
  return true;
}

/// PSROIPooling: NCHW data whose channels hold output_dim · g² groups
/// (fresh when `in` has too few), ROIs as ROIPooling's.
bool buildPSROIPooling(Builder &b, const Value &in) {
  Value x = withRank(b, in, 4);
  int64_t pooled = b.between(1, 3), groups = b.chance(0.7) ? pooled : b.between(1, 3);
  int64_t dim = b.between(1, 2);
  if (x.shape[1] < dim * groups * groups || x.shape[2] < 2 || x.shape[3] < 2)
    x = b.freshData({b.between(1, 2), dim * groups * groups, b.between(2, 7), b.between(2, 7)});
  double scale = b.oneOf({1.0, 0.5});
  std::map<std::string, std::string> a{{"spatial_scale", str(scale)},
                                       {"output_dim", str(dim)},
                                       {"pooled_size", str(pooled)}};
  if (groups != pooled || b.chance(0.3))
    a["group_size"] = str(groups);
  int64_t rois = b.between(1, 4);
  VarInfo info{VarRole::Roi, x.shape[0], /*input=*/true};
  info.extent = double(std::min(x.shape[2], x.shape[3]) - 1) / scale;
  Value r = b.variable("x" + std::to_string(b.numVariables++), {rois, 5}, info);
  b.apply("_contrib_PSROIPooling", a, {x, r}, {{rois, dim, pooled, pooled}}, x.mag);
  return true;
}

bool buildMultiBoxPrior(Builder &b, const Value &in) {
  Value x = withRank(b, in, 4);
  std::vector<double> sizes{b.oneOf({0.5, 0.3, 0.9})}, ratios{1.0};
  if (b.chance(0.5))
    sizes.push_back(b.oneOf({0.2, 0.25}));
  if (b.chance(0.5))
    ratios.push_back(b.oneOf({2.0, 0.5, 3.0}));
  auto list = [](const std::vector<double> &v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i)
      s += (i ? ", " : "") + str(v[i]);
    return s + (v.size() == 1 ? ",)" : ")");
  };
  std::map<std::string, std::string> a{{"sizes", list(sizes)}, {"ratios", list(ratios)}};
  if (b.chance(0.3))
    a["clip"] = "True";
  if (b.chance(0.2))
    a["offsets"] = "(0.25, 0.75)";
  int64_t anchors = x.shape[2] * x.shape[3] * int64_t(sizes.size() + ratios.size() - 1);
  b.apply("_contrib_MultiBoxPrior", a, {x}, {{1, anchors, 4}}, 2);
  return true;
}

bool buildBoxIoU(Builder &b, const Value &) {
  Shape l{b.between(1, 5), 4}, r{b.between(1, 5), 4};
  if (b.chance(0.3))
    l.insert(l.begin(), 2);
  std::map<std::string, std::string> a;
  if (b.chance(0.3))
    a["format"] = "center";
  Value lv = boxVariable(b, l, 4), rv = boxVariable(b, r, 4);
  Shape out(l.begin(), l.end() - 1);
  out.insert(out.end(), r.begin(), r.end() - 1);
  b.apply("_contrib_box_iou", a, {lv, rv}, {out}, 2);
  return true;
}

bool buildBoxDecode(Builder &b, const Value &x) {
  // data: (B, N, 4) offsets; anchors: (1, N, 4).
  if (x.shape.size() != 3 || x.shape[2] != 4 || x.mag > 4) {
    Value d = b.freshData({b.between(1, 2), b.between(1, 5), 4}, /*input=*/true);
    return buildBoxDecode(b, d);
  }
  std::map<std::string, std::string> a;
  double std = b.oneOf({1.0, 0.1, 0.2});
  for (const char *s : {"std0", "std1", "std2", "std3"})
    if (std != 1)
      a[s] = str(std);
  if (b.chance(0.3))
    a["clip"] = "2";
  if (b.chance(0.3))
    a["format"] = "corner";
  Value anchors = boxVariable(b, {1, x.shape[1], 4}, 1);
  b.apply("_contrib_box_decode", a, {x, anchors}, {x.shape}, 4 * std::exp(std * x.mag) + 2);
  return true;
}

bool buildBoxNMS(Builder &b, const Value &) {
  // (…, N, 6): class id, score, corner box.
  int64_t n = b.between(2, 8);
  Shape lead;
  if (b.chance(0.3))
    lead.push_back(b.between(1, 2));
  auto with = [&](int64_t last) {
    Shape s = lead;
    s.push_back(n);
    s.push_back(last);
    return s;
  };
  Value ids = indexVariable(b, with(1), 3);
  VarInfo prob{VarRole::Probability};
  Value scores = b.variable("x" + std::to_string(b.numVariables++), with(1), prob);
  Value boxes = boxVariable(b, with(4), 4, /*input=*/false);
  int64_t axis = int64_t(lead.size()) + 1;
  Value data = b.apply("Concat", {{"num_args", "3"}, {"dim", str(axis)}}, {ids, scores, boxes},
                       {with(6)}, 4)[0];
  std::map<std::string, std::string> a{{"overlap_thresh", str(b.oneOf({0.5, 0.3, 0.7}))}};
  if (b.chance(0.6))
    a["id_index"] = "0";
  if (b.chance(0.3))
    a["valid_thresh"] = "0.2";
  if (b.chance(0.3))
    a["topk"] = str(b.between(1, n));
  if (b.chance(0.2))
    a["force_suppress"] = "True";
  if (b.chance(0.2))
    a["out_format"] = "center";
  if (a.count("id_index") && b.chance(0.3))
    a["background_id"] = "1";
  b.apply("_contrib_box_nms", a, {data}, {with(6)}, 4);
  return true;
}

bool buildMultiBoxDetection(Builder &b, const Value &) {
  int64_t batch = b.between(1, 2), classes = b.between(2, 4), anchors = b.between(1, 6);
  Value logits = b.freshData({batch, classes, anchors}, /*input=*/true);
  Value prob = b.apply("softmax", {{"axis", "1"}}, {logits}, {logits.shape}, 1)[0];
  Value loc = b.freshData({batch, anchors * 4}, /*input=*/true);
  Value anchor = boxVariable(b, {1, anchors, 4}, 1);
  std::map<std::string, std::string> a;
  if (b.chance(0.4))
    a["threshold"] = str(b.oneOf({0.1, 0.3}));
  if (b.chance(0.4))
    a["nms_threshold"] = str(b.oneOf({0.3, 0.7}));
  if (b.chance(0.2))
    a["force_suppress"] = "True";
  if (b.chance(0.2))
    a["clip"] = "False";
  if (b.chance(0.2))
    a["nms_topk"] = str(b.between(1, anchors));
  b.apply("_contrib_MultiBoxDetection", a, {prob, loc, anchor}, {{batch, anchors, 6}}, 4);
  return true;
}

bool buildProposal(Builder &b, const Value &) {
  // Batch 1 (MXNet's Proposal reads one image): scores (1, 2A, H, W),
  // deltas (1, 4A, H, W), im_info (1, 3) = (height, width, scale).
  int64_t h = b.between(1, 4), w = b.between(1, 4), stride = 4;
  std::vector<double> scales{2.0}, ratios{1.0};
  if (b.chance(0.5))
    scales.push_back(4.0);
  if (b.chance(0.5))
    ratios.push_back(0.5);
  int64_t anchors = int64_t(scales.size() * ratios.size());
  auto list = [](const std::vector<double> &v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i)
      s += (i ? ", " : "") + str(v[i]);
    return s + (v.size() == 1 ? ",)" : ")");
  };
  Value logits = b.freshData({1, 2 * anchors, h, w}, /*input=*/true);
  Value scores = b.apply("sigmoid", {}, {logits}, {logits.shape}, 1)[0];
  Value deltas = b.freshData({1, 4 * anchors, h, w}, /*input=*/true);
  Value small = b.apply("_mul_scalar", {{"scalar", "0.2"}}, {deltas}, {deltas.shape}, 1)[0];
  std::vector<Value> info;
  for (double v : {double(h * stride), double(w * stride), 1.0})
    info.push_back(b.apply("_full", {{"shape", "(1, 1)"}, {"value", str(v)}}, {}, {{1, 1}},
                           v)[0]);
  Value imInfo =
      b.apply("Concat", {{"num_args", "3"}, {"dim", "1"}}, info, {{1, 3}}, double(16 * stride))[0];
  int64_t post = b.between(1, 6);
  std::map<std::string, std::string> a{{"feature_stride", str(stride)},
                                       {"scales", list(scales)},
                                       {"ratios", list(ratios)},
                                       {"rpn_min_size", "1"},
                                       {"rpn_pre_nms_top_n", str(b.between(1, 20))},
                                       {"rpn_post_nms_top_n", str(post)}};
  if (b.chance(0.4))
    a["threshold"] = str(b.oneOf({0.3, 0.5}));
  bool score = b.chance(0.4);
  if (score)
    a["output_score"] = "True";
  if (b.chance(0.2))
    a["iou_loss"] = "True";
  std::vector<Shape> outs{{post, 5}};
  if (score)
    outs.push_back({post, 1});
  b.apply("_contrib_Proposal", a, {scores, small, imInfo}, outs, double(16 * stride));
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

/// Operators without a gradient where training graphs use them, with the
/// gradient flowing around them: a mask multiplying a value (x·(x > s),
/// x·(y ≤ x)), the straight-through estimator of quantization-aware training
/// x + BlockGrad(q(x) − x) (forward q(x), gradient 1), and a select
/// m·a + (1 − m)·b with m = (a > b).
bool buildMask(Builder &b, const Value &x) {
  const Shape &s = x.shape;
  switch (b.between(0, 2)) {
  case 0: {
    Value m;
    if (b.chance(0.5)) {
      const char *cmp = b.oneOf<const char *>(
          {"_greater_scalar", "_greater_equal_scalar", "_lesser_scalar", "_lesser_equal_scalar"});
      m = b.apply(cmp, {{"scalar", str(b.oneOf({0.0, 0.5, -0.3}))}}, {x}, {s}, 1)[0];
    } else {
      const char *cmp = b.oneOf<const char *>({"_greater", "_greater_equal", "_lesser",
                                               "_lesser_equal", "_not_equal"});
      m = b.apply(cmp, {}, b.ordered(x, b.sameShape(x)), {s}, 1)[0];
    }
    b.apply("elemwise_mul", {}, b.ordered(x, m), {s}, x.mag);
    return true;
  }
  case 1: {
    Value q;
    if (b.chance(0.25)) {
      q = b.apply("Cast", {{"dtype", b.oneOf<const char *>({"int8", "float16", "int32"})}}, {x},
                  {s}, x.mag + 1)[0];
    } else {
      Value in = x;
      if (b.chance(0.5)) {
        // Quantization steps finer than 1.
        in = b.apply("_mul_scalar", {{"scalar", "4"}}, {x}, {s}, 4 * x.mag)[0];
      }
      q = b.apply(b.oneOf<const char *>({"round", "rint", "floor", "ceil", "fix", "sign"}), {},
                  {in}, {s}, in.mag + 1)[0];
      if (!(in.entry == x.entry))
        q = b.apply("_mul_scalar", {{"scalar", "0.25"}}, {q}, {s}, x.mag + 1)[0];
    }
    Value d = b.apply("elemwise_sub", {}, {q, x}, {s}, 2 * x.mag + 1)[0];
    Value g = b.apply(b.chance(0.8) ? "BlockGrad" : "stop_gradient", {}, {d}, {s}, d.mag)[0];
    b.apply(b.chance(0.7) ? "elemwise_add" : "_plus", {}, b.ordered(x, g), {s}, x.mag + d.mag);
    return true;
  }
  default: {
    Value y = b.sameShape(x);
    Value m = b.apply(b.oneOf<const char *>({"_greater", "_lesser_equal"}), {}, {x, y}, {s}, 1)[0];
    Value notM = b.apply("_rminus_scalar", {{"scalar", "1"}}, {m}, {s}, 1)[0];
    Value a = b.apply("elemwise_mul", {}, b.ordered(m, x), {s}, x.mag)[0];
    Value c = b.apply("elemwise_mul", {}, b.ordered(notM, y), {s}, y.mag)[0];
    b.apply("elemwise_add", {}, {a, c}, {s}, x.mag + y.mag);
    return true;
  }
  }
}

#define KILN_FUZZ_WITH_OP(fn, op)                                                             \
  [](Builder &b, const Value &x) { return fn(b, x, op); }

const std::vector<OpEntry> &opTable() {
  static const std::vector<OpEntry> table = {
      {"FullyConnected", 12, buildFullyConnected},
      {"Convolution", 16, buildConvolution},
      {"Deconvolution", 6, buildDeconvolution},
      {"Pooling", 10, buildPooling},
      {"Activation", 12, buildActivation},
      {"LeakyReLU", 6, buildLeakyReLU},
      {"BatchNorm", 12, buildBatchNorm},
      {"_contrib_SyncBatchNorm", 2,
       [](Builder &b, const Value &x) { return buildBatchNormLike(b, x, /*sync=*/true); }},
      {"LRN", 4, buildLRN},
      {"Dropout", 4, buildDropout},
      {"Embedding", 2, buildEmbedding, /*source=*/true},
      {"SoftmaxOutput", 4, buildSoftmaxOutput},
      {"SVMOutput", 1, buildSVMOutput},
      {"LinearRegressionOutput", 2,
       [](Builder &b, const Value &x) {
         return buildRegressionOutput<VarRole::Data>(b, x, "LinearRegressionOutput");
       }},
      {"LogisticRegressionOutput", 2,
       [](Builder &b, const Value &x) {
         return buildRegressionOutput<VarRole::Probability>(b, x, "LogisticRegressionOutput");
       }},
      {"MAERegressionOutput", 2,
       [](Builder &b, const Value &x) {
         return buildRegressionOutput<VarRole::Data>(b, x, "MAERegressionOutput");
       }},
      {"softmax", 4, KILN_FUZZ_WITH_OP(buildSoftmaxLike, "softmax")},
      {"softmin", 1, KILN_FUZZ_WITH_OP(buildSoftmaxLike, "softmin")},
      {"log_softmax", 4, KILN_FUZZ_WITH_OP(buildSoftmaxLike, "log_softmax")},
      {"SoftmaxActivation", 2, buildSoftmaxActivation},
      {"Flatten", 6, buildFlatten},
      {"_copy", 2, buildCopy},
      {"Reshape", 8, buildReshape},
      {"transpose", 6, buildTranspose},
      {"Concat", 8, buildConcat},
      {"SliceChannel", 6, buildSliceChannel},
      {"_split_v2", 2, buildSplitV2},
      {"diag", 2, buildDiag},
      {"batch_take", 1, buildBatchTake},
      {"khatri_rao", 1, buildKhatriRao},
      {"softmax_cross_entropy", 1, buildSoftmaxCrossEntropy},
      {"_contrib_box_encode", 1, buildBoxEncode},
      {"scatter_nd", 1, buildScatterND},
      {"_contrib_index_array", 1, buildIndexArray},
      {"_ravel_multi_index", 1,
       [](Builder &b, const Value &x) { return buildRavel(b, x, /*unravel=*/false); },
       /*source=*/true},
      {"_unravel_index", 1,
       [](Builder &b, const Value &x) { return buildRavel(b, x, /*unravel=*/true); },
       /*source=*/true},
      {"elemwise_add", 12, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_add")},
      {"elemwise_sub", 6, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_sub")},
      {"elemwise_mul", 6, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_mul")},
      {"elemwise_div", 4, KILN_FUZZ_WITH_OP(buildElemwise, "elemwise_div")},
      {"add_n", 4, buildAddN},
      {"broadcast_add", 6, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_add")},
      {"broadcast_sub", 4, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_sub")},
      {"broadcast_mul", 6, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_mul")},
      {"broadcast_div", 4, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_div")},
      {"broadcast_maximum", 2, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_maximum")},
      {"broadcast_minimum", 2, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_minimum")},
      {"broadcast_power", 2, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_power")},
      {"_plus_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_plus_scalar")},
      {"_minus_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_minus_scalar")},
      {"_rminus_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_rminus_scalar")},
      {"_mul_scalar", 4, KILN_FUZZ_WITH_OP(buildScalar, "_mul_scalar")},
      {"_div_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_div_scalar")},
      {"_rdiv_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_rdiv_scalar")},
      {"_power_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_power_scalar")},
      {"_rpower_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_rpower_scalar")},
      {"_maximum_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_maximum_scalar")},
      {"_minimum_scalar", 2, KILN_FUZZ_WITH_OP(buildScalar, "_minimum_scalar")},
      {"broadcast_to", 4, buildBroadcastTo},
      {"broadcast_axis", 3, buildBroadcastAxis},
      {"smooth_l1", 1, buildSmoothL1},
      {"_contrib_div_sqrt_dim", 1, buildDivSqrtDim},
      {"dot", 4, buildDot},
      {"slice_axis", 4, buildSliceAxis},
      {"sum", 4, KILN_FUZZ_WITH_OP(buildReduce, "sum")},
      {"mean", 4, KILN_FUZZ_WITH_OP(buildReduce, "mean")},
      {"max", 2, KILN_FUZZ_WITH_OP(buildReduce, "max")},
      {"min", 2, KILN_FUZZ_WITH_OP(buildReduce, "min")},
      // Elementwise math (GraphElementwise.td): unary functions.
      {"relu", 1, KILN_FUZZ_WITH_OP(buildUnary, "relu")},
      {"sigmoid", 1, KILN_FUZZ_WITH_OP(buildUnary, "sigmoid")},
      {"tanh", 1, KILN_FUZZ_WITH_OP(buildUnary, "tanh")},
      {"softsign", 1, KILN_FUZZ_WITH_OP(buildUnary, "softsign")},
      {"exp", 1, KILN_FUZZ_WITH_OP(buildUnary, "exp")},
      {"expm1", 1, KILN_FUZZ_WITH_OP(buildUnary, "expm1")},
      {"log", 1, KILN_FUZZ_WITH_OP(buildUnary, "log")},
      {"log2", 1, KILN_FUZZ_WITH_OP(buildUnary, "log2")},
      {"log10", 1, KILN_FUZZ_WITH_OP(buildUnary, "log10")},
      {"log1p", 1, KILN_FUZZ_WITH_OP(buildUnary, "log1p")},
      {"sqrt", 1, KILN_FUZZ_WITH_OP(buildUnary, "sqrt")},
      {"rsqrt", 1, KILN_FUZZ_WITH_OP(buildUnary, "rsqrt")},
      {"cbrt", 1, KILN_FUZZ_WITH_OP(buildUnary, "cbrt")},
      {"rcbrt", 1, KILN_FUZZ_WITH_OP(buildUnary, "rcbrt")},
      {"square", 1, KILN_FUZZ_WITH_OP(buildUnary, "square")},
      {"abs", 1, KILN_FUZZ_WITH_OP(buildUnary, "abs")},
      {"sign", 1, KILN_FUZZ_WITH_OP(buildUnary, "sign")},
      {"negative", 1, KILN_FUZZ_WITH_OP(buildUnary, "negative")},
      {"reciprocal", 1, KILN_FUZZ_WITH_OP(buildUnary, "reciprocal")},
      {"floor", 1, KILN_FUZZ_WITH_OP(buildUnary, "floor")},
      {"ceil", 1, KILN_FUZZ_WITH_OP(buildUnary, "ceil")},
      {"round", 1, KILN_FUZZ_WITH_OP(buildUnary, "round")},
      {"rint", 1, KILN_FUZZ_WITH_OP(buildUnary, "rint")},
      {"fix", 1, KILN_FUZZ_WITH_OP(buildUnary, "fix")},
      {"trunc", 1, KILN_FUZZ_WITH_OP(buildUnary, "trunc")},
      {"erf", 1, KILN_FUZZ_WITH_OP(buildUnary, "erf")},
      {"erfinv", 1, KILN_FUZZ_WITH_OP(buildUnary, "erfinv")},
      {"gamma", 1, KILN_FUZZ_WITH_OP(buildUnary, "gamma")},
      {"gammaln", 1, KILN_FUZZ_WITH_OP(buildUnary, "gammaln")},
      {"sin", 1, KILN_FUZZ_WITH_OP(buildUnary, "sin")},
      {"cos", 1, KILN_FUZZ_WITH_OP(buildUnary, "cos")},
      {"tan", 1, KILN_FUZZ_WITH_OP(buildUnary, "tan")},
      {"arcsin", 1, KILN_FUZZ_WITH_OP(buildUnary, "arcsin")},
      {"arccos", 1, KILN_FUZZ_WITH_OP(buildUnary, "arccos")},
      {"arctan", 1, KILN_FUZZ_WITH_OP(buildUnary, "arctan")},
      {"sinh", 1, KILN_FUZZ_WITH_OP(buildUnary, "sinh")},
      {"cosh", 1, KILN_FUZZ_WITH_OP(buildUnary, "cosh")},
      {"arcsinh", 1, KILN_FUZZ_WITH_OP(buildUnary, "arcsinh")},
      {"arccosh", 1, KILN_FUZZ_WITH_OP(buildUnary, "arccosh")},
      {"arctanh", 1, KILN_FUZZ_WITH_OP(buildUnary, "arctanh")},
      {"degrees", 1, KILN_FUZZ_WITH_OP(buildUnary, "degrees")},
      {"radians", 1, KILN_FUZZ_WITH_OP(buildUnary, "radians")},
      {"logical_not", 1, KILN_FUZZ_WITH_OP(buildUnary, "logical_not")},
      {"zeros_like", 1, KILN_FUZZ_WITH_OP(buildUnary, "zeros_like")},
      {"ones_like", 1, KILN_FUZZ_WITH_OP(buildUnary, "ones_like")},
      {"BlockGrad", 1, KILN_FUZZ_WITH_OP(buildUnary, "BlockGrad")},
      {"clip", 1, buildClip},
      {"hard_sigmoid", 1, buildHardSigmoid},
      {"Cast", 2, buildCast},
      {"amp_cast", 1, buildAmpCast},
      {"amp_multicast", 1, buildAmpMulticast},
      {"_contrib_gradientmultiplier", 1, buildGradientMultiplier},
      {"_contrib_quadratic", 1, buildQuadratic},
      {"_contrib_round_ste", 1, KILN_FUZZ_WITH_OP(buildUnary, "_contrib_round_ste")},
      {"_contrib_sign_ste", 1, KILN_FUZZ_WITH_OP(buildUnary, "_contrib_sign_ste")},
      // Binary functions: same shapes, broadcasting, a scalar operand.
      {"_mod", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_mod")},
      {"_power", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_power")},
      {"_maximum", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_maximum")},
      {"_minimum", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_minimum")},
      {"_hypot", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_hypot")},
      {"_equal", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_equal")},
      {"_not_equal", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_not_equal")},
      {"_greater", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_greater")},
      {"_greater_equal", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_greater_equal")},
      {"_lesser", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_lesser")},
      {"_lesser_equal", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_lesser_equal")},
      {"_logical_and", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_logical_and")},
      {"_logical_or", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_logical_or")},
      {"_logical_xor", 1, KILN_FUZZ_WITH_OP(buildElemwise, "_logical_xor")},
      {"broadcast_mod", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_mod")},
      {"broadcast_hypot", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_hypot")},
      {"broadcast_equal", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_equal")},
      {"broadcast_not_equal", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_not_equal")},
      {"broadcast_greater", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_greater")},
      {"broadcast_greater_equal", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_greater_equal")},
      {"broadcast_lesser", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_lesser")},
      {"broadcast_lesser_equal", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_lesser_equal")},
      {"broadcast_logical_and", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_logical_and")},
      {"broadcast_logical_or", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_logical_or")},
      {"broadcast_logical_xor", 1, KILN_FUZZ_WITH_OP(buildBroadcast, "broadcast_logical_xor")},
      {"_mod_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_mod_scalar")},
      {"_hypot_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_hypot_scalar")},
      {"_equal_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_equal_scalar")},
      {"_not_equal_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_not_equal_scalar")},
      {"_greater_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_greater_scalar")},
      {"_greater_equal_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_greater_equal_scalar")},
      {"_lesser_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_lesser_scalar")},
      {"_lesser_equal_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_lesser_equal_scalar")},
      {"_logical_and_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_logical_and_scalar")},
      {"_logical_or_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_logical_or_scalar")},
      {"_logical_xor_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_logical_xor_scalar")},
      {"_rmod_scalar", 1, KILN_FUZZ_WITH_OP(buildScalar, "_rmod_scalar")},
      // Shape and indexing operators (GraphShapeOps.td).
      {"expand_dims", 2, buildExpandDims},
      {"squeeze", 2, buildSqueeze},
      {"SwapAxis", 2, buildSwapAxis},
      {"reverse", 2, buildReverse},
      {"tile", 2, buildTile},
      {"repeat", 2, buildRepeat},
      {"stack", 2, buildStack},
      {"slice", 3, buildSlice},
      {"slice_like", 1, buildSliceLike},
      {"reshape_like", 1, buildReshapeLike},
      {"broadcast_like", 1, buildBroadcastLike},
      {"depth_to_space", 1, buildDepthToSpace},
      {"space_to_depth", 1, buildSpaceToDepth},
      {"Crop", 1, buildCrop},
      {"Pad", 2, buildPad},
      {"take", 2, buildTake},
      {"pick", 2, buildPick},
      {"gather_nd", 1, buildGatherND},
      {"one_hot", 1, buildOneHot, /*source=*/true},
      {"where", 2, buildWhere},
      {"shape_array", 1, buildShapeArray},
      {"size_array", 1, buildSizeArray},
      {"_arange", 1, buildArange, /*source=*/true},
      {"_zeros", 1, KILN_FUZZ_WITH_OP(buildFill, "_zeros"), /*source=*/true},
      {"_ones", 1, KILN_FUZZ_WITH_OP(buildFill, "_ones"), /*source=*/true},
      {"_full", 1, KILN_FUZZ_WITH_OP(buildFill, "_full"), /*source=*/true},
      {"_zeros_without_dtype", 1, KILN_FUZZ_WITH_OP(buildFill, "_zeros_without_dtype"),
       /*source=*/true},
      {"_eye", 1, buildEye, /*source=*/true},
      {"_contrib_arange_like", 1, buildArangeLike},
      // Reductions, searching, sorting (GraphReduceOps.td).
      {"prod", 2, KILN_FUZZ_WITH_OP(buildProduct, "prod")},
      {"nanprod", 1, KILN_FUZZ_WITH_OP(buildProduct, "nanprod")},
      {"nansum", 1, buildNansum},
      {"norm", 2, buildNorm},
      {"moments", 2, buildMoments},
      {"argmax", 2, KILN_FUZZ_WITH_OP(buildSearch, "argmax")},
      {"argmin", 1, KILN_FUZZ_WITH_OP(buildSearch, "argmin")},
      {"argmax_channel", 1, buildArgmaxChannel},
      {"topk", 2, KILN_FUZZ_WITH_OP(buildSorting, "topk")},
      {"sort", 2, KILN_FUZZ_WITH_OP(buildSorting, "sort")},
      {"argsort", 1, KILN_FUZZ_WITH_OP(buildSorting, "argsort")},
      // NN layers (GraphNNOps.td).
      {"LayerNorm", 3, buildLayerNorm},
      {"InstanceNorm", 2, buildInstanceNorm},
      {"GroupNorm", 2, buildGroupNorm},
      {"L2Normalization", 2, buildL2Normalization},
      {"UpSampling", 2, buildUpSampling},
      {"_contrib_BilinearResize2D", 2, buildBilinearResize},
      {"_contrib_AdaptiveAvgPooling2D", 2, buildAdaptivePooling},
      {"batch_dot", 2, buildBatchDot},
      {"GridGenerator", 1, buildGridGenerator},
      {"BilinearSampler", 1, KILN_FUZZ_WITH_OP(buildSampler, "BilinearSampler")},
      {"SpatialTransformer", 1, KILN_FUZZ_WITH_OP(buildSampler, "SpatialTransformer")},
      {"Correlation", 1, buildCorrelation},
      {"_contrib_interleaved_matmul_selfatt_qk", 1,
       KILN_FUZZ_WITH_OP(buildInterleaved, "_contrib_interleaved_matmul_selfatt_qk")},
      {"_contrib_interleaved_matmul_selfatt_valatt", 1,
       KILN_FUZZ_WITH_OP(buildInterleaved, "_contrib_interleaved_matmul_selfatt_valatt")},
      {"_contrib_interleaved_matmul_encdec_qk", 1,
       KILN_FUZZ_WITH_OP(buildInterleaved, "_contrib_interleaved_matmul_encdec_qk")},
      {"_contrib_interleaved_matmul_encdec_valatt", 1,
       KILN_FUZZ_WITH_OP(buildInterleaved, "_contrib_interleaved_matmul_encdec_valatt")},
      {"MakeLoss", 1, buildMakeLoss},
      {"make_loss", 1, buildLegacyMakeLoss},
      // RNN (GraphRNNOps.td).
      {"RNN", 3, buildRNN},
      {"SequenceMask", 1, KILN_FUZZ_WITH_OP(buildSequence, "SequenceMask")},
      {"SequenceLast", 1, KILN_FUZZ_WITH_OP(buildSequence, "SequenceLast")},
      {"SequenceReverse", 1, KILN_FUZZ_WITH_OP(buildSequence, "SequenceReverse")},
      {"_rnn_param_concat", 1, buildRNNParamConcat},
      // Detection (GraphDetectionOps.td).
      {"ROIPooling", 1, KILN_FUZZ_WITH_OP(buildROIOp, "ROIPooling")},
      {"_contrib_ROIAlign", 1, KILN_FUZZ_WITH_OP(buildROIOp, "_contrib_ROIAlign")},
      {"_contrib_PSROIPooling", 1, buildPSROIPooling},
      {"_contrib_MultiBoxPrior", 1, buildMultiBoxPrior},
      {"_contrib_box_iou", 1, buildBoxIoU, /*source=*/true},
      {"_contrib_box_decode", 1, buildBoxDecode},
      {"_contrib_box_nms", 1, buildBoxNMS, /*source=*/true},
      {"_contrib_MultiBoxDetection", 1, buildMultiBoxDetection, /*source=*/true},
      {"_contrib_Proposal", 1, buildProposal, /*source=*/true},
      // Motifs (several operators each).
      {"masks", 6, buildMask, false, /*motif=*/true},
      {"residual", 28, buildResidual, false, /*motif=*/true},
      {"branches", 6, buildBranches, false, /*motif=*/true},
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
