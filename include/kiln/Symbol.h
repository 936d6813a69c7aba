//===- kiln/Symbol.h - Symbolic networks, MXNet-style -----------*- C++ -*-===//
//
// A Symbol is an immutable handle on the outputs of a network graph, in the
// shape of MXNet's cpp-package: compose operators, list the arguments,
// auxiliary states and outputs, and save the graph as MXNet 1.x symbol JSON
// that MXNet itself can load. Names follow MXNet's rules, so parameters
// created here ("fc1_weight", "bn1_moving_mean", "convolution0_weight") match
// the names in MXNet checkpoints of the same network.
//
//   using namespace kiln;
//   Symbol data = Symbol::Variable("data");
//   Symbol fc1 = sym::FullyConnected("fc1", data, 128);
//   Symbol act = sym::Activation("relu1", fc1, "relu");
//   Symbol net = sym::SoftmaxOutput("softmax", sym::FullyConnected("fc2", act, 10));
//   net.listArguments(); // data fc1_weight fc1_bias fc2_weight fc2_bias softmax_label
//
// Every entry point throws kiln::Error on bad input (unknown operator, wrong
// inputs, a malformed attribute, an unreadable file).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SYMBOL_H
#define KILN_SYMBOL_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

namespace detail {
struct SymbolData;
} // namespace detail

class Symbol {
public:
  using AttrMap = std::map<std::string, std::string>;

  /// A symbol with no outputs; only useful as "absent" (e.g. a label that
  /// should be created implicitly).
  Symbol();

  /// A free variable (an input, parameter or auxiliary state). `hints` are
  /// hidden attributes such as {"__lr_mult__", "0.1"} or {"__shape__", "(1, 3)"}.
  static Symbol Variable(const std::string &name, const AttrMap &hints = {});

  /// Applies operator `op` (canonical or legacy/alias MXNet name) to the
  /// positional `inputs`, in the order of the op's input names. Inputs left
  /// out at the end are created as variables named "<name>_<input>", as
  /// MXNet does (FullyConnected "fc1" gets fc1_weight and fc1_bias). An empty
  /// `name` is replaced by MXNet's automatic name: the lower-cased op name and
  /// a counter ("convolution0"); see NameManager. `attrs` are MXNet attribute
  /// strings; for Concat and add_n, num_args defaults to inputs.size().
  static Symbol create(const std::string &op, const std::string &name,
                       const std::vector<Symbol> &inputs,
                       const AttrMap &attrs = {});
  /// Like create() with inputs by name ({"data", x}, {"weight", w}); any
  /// input not given is created as a variable "<name>_<input>".
  static Symbol createNamed(const std::string &op, const std::string &name,
                            const std::map<std::string, Symbol> &inputs,
                            const AttrMap &attrs = {});

  /// Reads symbol JSON of any MXNet era (see SPEC §2.1).
  static Symbol fromJSON(const std::string &json,
                         const std::string &fileName = "<json>");
  static Symbol load(const std::string &path);

  /// MXNet 1.x symbol JSON (readable by MXNet 1.9).
  std::string toJSON() const;
  /// Writes toJSON() to `path` atomically (a temporary file, then rename).
  void save(const std::string &path) const;

  /// Selects output `index` (MXNet's Symbol[i]); throws when out of range.
  Symbol operator[](size_t index) const;
  size_t numOutputs() const;
  bool empty() const { return numOutputs() == 0; }
  /// Name of the node behind a single-output symbol; throws for a group.
  std::string name() const;

  /// Variables that are not auxiliary states, in MXNet's (DFS) order.
  std::vector<std::string> listArguments() const;
  /// Variables an operator mutates (BatchNorm's moving_mean/moving_var).
  std::vector<std::string> listAuxiliaryStates() const;
  /// Every variable, arguments and auxiliary states, in graph order.
  std::vector<std::string> listInputs() const;
  /// "<node>_output", or "<node>_output0".. for SliceChannel, or the
  /// variable's own name; one per output.
  std::vector<std::string> listOutputs() const;

  /// Internal; use kiln::detail::graphOf / symbolFromGraph.
  explicit Symbol(std::shared_ptr<const detail::SymbolData> data);
  const std::shared_ptr<const detail::SymbolData> &data() const {
    return data_;
  }

private:
  std::shared_ptr<const detail::SymbolData> data_;
};

/// All outputs of `symbols`, in order, as one multi-output symbol.
Symbol group(const std::vector<Symbol> &symbols);

// Symbol arithmetic broadcasts like NumPy (broadcast_add/_sub/_mul/_div),
// exactly as NDArray arithmetic does (kiln/NDArray.h). MXNet's Symbol `+`
// is strictly elementwise while its NDArray `+` broadcasts; Kiln gives both
// one meaning. Use sym::elemwise_* to insist on equal shapes.
Symbol operator+(const Symbol &lhs, const Symbol &rhs);
Symbol operator-(const Symbol &lhs, const Symbol &rhs);
Symbol operator*(const Symbol &lhs, const Symbol &rhs);
Symbol operator/(const Symbol &lhs, const Symbol &rhs);
// With scalars: _plus_scalar, _minus_scalar/_rminus_scalar, _mul_scalar,
// _div_scalar/_rdiv_scalar (attribute "scalar").
Symbol operator+(const Symbol &lhs, double rhs);
Symbol operator+(double lhs, const Symbol &rhs);
Symbol operator-(const Symbol &lhs, double rhs);
Symbol operator-(double lhs, const Symbol &rhs);
Symbol operator*(const Symbol &lhs, double rhs);
Symbol operator*(double lhs, const Symbol &rhs);
Symbol operator/(const Symbol &lhs, double rhs);
Symbol operator/(double lhs, const Symbol &rhs);

/// MXNet's NameManager scope: while one is alive, automatic names on this
/// thread count from zero again ("convolution0", "_plus0", ...), and the
/// outer counters come back when it ends. Outside any scope a per-thread
/// counter runs for the life of the thread, like MXNet's default manager.
class NameManager {
public:
  NameManager();
  ~NameManager();
  NameManager(const NameManager &) = delete;
  NameManager &operator=(const NameManager &) = delete;

  /// `name` if non-empty, else hint + the hint's next counter value.
  static std::string get(const std::string &name, const std::string &hint);
};

/// Typed helpers with MXNet's defaults. The first argument is the node name
/// ("" for an automatic one). Options left unset are not written, exactly as
/// MXNet's Python writes only the keyword arguments given, so MXNet's
/// defaults apply and the JSON matches MXNet's for the same network.
namespace sym {

/// Base of the option classes: any MXNet attribute by its string value.
class Attrs {
public:
  Attrs &set(const std::string &key, const std::string &value) {
    attrs_[key] = value;
    return *this;
  }
  const std::map<std::string, std::string> &map() const { return attrs_; }

protected:
  void putInt(const char *key, int64_t v);
  void putFloat(const char *key, double v);
  void putBool(const char *key, bool v);
  void putTuple(const char *key, const std::vector<int64_t> &v);
  void putString(const char *key, const std::string &v) { attrs_[key] = v; }
  std::map<std::string, std::string> attrs_;
};

#define KILN_SYM_OPT(Class, Method, Type)                                      \
  Class &Method(Type v);

struct FullyConnectedOpts : Attrs {
  KILN_SYM_OPT(FullyConnectedOpts, noBias, bool)
  KILN_SYM_OPT(FullyConnectedOpts, flatten, bool)
};
struct ConvolutionOpts : Attrs {
  KILN_SYM_OPT(ConvolutionOpts, stride, const std::vector<int64_t> &)
  KILN_SYM_OPT(ConvolutionOpts, dilate, const std::vector<int64_t> &)
  KILN_SYM_OPT(ConvolutionOpts, pad, const std::vector<int64_t> &)
  KILN_SYM_OPT(ConvolutionOpts, numGroup, int64_t)
  KILN_SYM_OPT(ConvolutionOpts, workspace, int64_t)
  KILN_SYM_OPT(ConvolutionOpts, noBias, bool)
  KILN_SYM_OPT(ConvolutionOpts, layout, const std::string &)
};
struct DeconvolutionOpts : Attrs {
  KILN_SYM_OPT(DeconvolutionOpts, stride, const std::vector<int64_t> &)
  KILN_SYM_OPT(DeconvolutionOpts, dilate, const std::vector<int64_t> &)
  KILN_SYM_OPT(DeconvolutionOpts, pad, const std::vector<int64_t> &)
  KILN_SYM_OPT(DeconvolutionOpts, adj, const std::vector<int64_t> &)
  KILN_SYM_OPT(DeconvolutionOpts, targetShape, const std::vector<int64_t> &)
  KILN_SYM_OPT(DeconvolutionOpts, numGroup, int64_t)
  KILN_SYM_OPT(DeconvolutionOpts, workspace, int64_t)
  /// Deconvolution's no_bias defaults to True in MXNet.
  KILN_SYM_OPT(DeconvolutionOpts, noBias, bool)
  KILN_SYM_OPT(DeconvolutionOpts, layout, const std::string &)
};
struct PoolingOpts : Attrs {
  KILN_SYM_OPT(PoolingOpts, kernel, const std::vector<int64_t> &)
  /// "max" (MXNet's default), "avg", "sum", "lp".
  KILN_SYM_OPT(PoolingOpts, poolType, const std::string &)
  KILN_SYM_OPT(PoolingOpts, stride, const std::vector<int64_t> &)
  KILN_SYM_OPT(PoolingOpts, pad, const std::vector<int64_t> &)
  KILN_SYM_OPT(PoolingOpts, globalPool, bool)
  /// "valid" (floor, default), "full" (ceil), "same".
  KILN_SYM_OPT(PoolingOpts, poolingConvention, const std::string &)
  KILN_SYM_OPT(PoolingOpts, countIncludePad, bool)
  KILN_SYM_OPT(PoolingOpts, layout, const std::string &)
};
struct BatchNormOpts : Attrs {
  KILN_SYM_OPT(BatchNormOpts, eps, double)      // MXNet default 1e-3
  KILN_SYM_OPT(BatchNormOpts, momentum, double) // 0.9
  KILN_SYM_OPT(BatchNormOpts, fixGamma, bool)   // True
  KILN_SYM_OPT(BatchNormOpts, useGlobalStats, bool)
  KILN_SYM_OPT(BatchNormOpts, outputMeanVar, bool)
  KILN_SYM_OPT(BatchNormOpts, axis, int64_t)
};
struct LeakyReLUOpts : Attrs {
  /// "leaky" (default), "prelu" (adds input gamma), "elu", "selu", "gelu", "rrelu".
  KILN_SYM_OPT(LeakyReLUOpts, actType, const std::string &)
  KILN_SYM_OPT(LeakyReLUOpts, slope, double)
  KILN_SYM_OPT(LeakyReLUOpts, lowerBound, double)
  KILN_SYM_OPT(LeakyReLUOpts, upperBound, double)
};
struct LRNOpts : Attrs {
  KILN_SYM_OPT(LRNOpts, alpha, double)
  KILN_SYM_OPT(LRNOpts, beta, double)
  KILN_SYM_OPT(LRNOpts, knorm, double)
};
struct DropoutOpts : Attrs {
  KILN_SYM_OPT(DropoutOpts, p, double)
  /// "training" (default) or "always".
  KILN_SYM_OPT(DropoutOpts, mode, const std::string &)
  KILN_SYM_OPT(DropoutOpts, axes, const std::vector<int64_t> &)
};
struct SoftmaxOutputOpts : Attrs {
  KILN_SYM_OPT(SoftmaxOutputOpts, gradScale, double)
  KILN_SYM_OPT(SoftmaxOutputOpts, ignoreLabel, double)
  KILN_SYM_OPT(SoftmaxOutputOpts, multiOutput, bool)
  KILN_SYM_OPT(SoftmaxOutputOpts, useIgnore, bool)
  KILN_SYM_OPT(SoftmaxOutputOpts, preserveShape, bool)
  /// "null" (default), "batch", "valid".
  KILN_SYM_OPT(SoftmaxOutputOpts, normalization, const std::string &)
  KILN_SYM_OPT(SoftmaxOutputOpts, smoothAlpha, double)
};
struct SoftmaxOpts : Attrs {
  KILN_SYM_OPT(SoftmaxOpts, axis, int64_t)
  KILN_SYM_OPT(SoftmaxOpts, temperature, double)
};
struct ReduceOpts : Attrs {
  KILN_SYM_OPT(ReduceOpts, axis, const std::vector<int64_t> &)
  KILN_SYM_OPT(ReduceOpts, keepdims, bool)
  KILN_SYM_OPT(ReduceOpts, exclude, bool)
};
struct SliceChannelOpts : Attrs {
  KILN_SYM_OPT(SliceChannelOpts, axis, int64_t)
  KILN_SYM_OPT(SliceChannelOpts, squeezeAxis, bool)
};
#undef KILN_SYM_OPT

Symbol FullyConnected(const std::string &name, const Symbol &data,
                      int64_t numHidden, const FullyConnectedOpts &opts = {});
Symbol Convolution(const std::string &name, const Symbol &data,
                   const std::vector<int64_t> &kernel, int64_t numFilter,
                   const ConvolutionOpts &opts = {});
Symbol Deconvolution(const std::string &name, const Symbol &data,
                     const std::vector<int64_t> &kernel, int64_t numFilter,
                     const DeconvolutionOpts &opts = {});
Symbol Pooling(const std::string &name, const Symbol &data,
               const PoolingOpts &opts = {});
/// act_type: relu, sigmoid, tanh, softrelu, softsign.
Symbol Activation(const std::string &name, const Symbol &data,
                  const std::string &actType);
Symbol LeakyReLU(const std::string &name, const Symbol &data,
                 const LeakyReLUOpts &opts = {});
Symbol BatchNorm(const std::string &name, const Symbol &data,
                 const BatchNormOpts &opts = {});
Symbol LRN(const std::string &name, const Symbol &data, int64_t nsize,
           const LRNOpts &opts = {});
Symbol Dropout(const std::string &name, const Symbol &data,
               const DropoutOpts &opts = {});
Symbol Embedding(const std::string &name, const Symbol &data,
                 int64_t inputDim, int64_t outputDim);
Symbol Flatten(const std::string &name, const Symbol &data);
Symbol Reshape(const std::string &name, const Symbol &data,
               const std::vector<int64_t> &shape,
               std::optional<bool> reverse = std::nullopt);
/// `axes` empty: MXNet's default (reverse all axes), not written.
Symbol transpose(const std::string &name, const Symbol &data,
                 const std::vector<int64_t> &axes = {});
Symbol Concat(const std::string &name, const std::vector<Symbol> &inputs,
              std::optional<int64_t> dim = std::nullopt);
Symbol SliceChannel(const std::string &name, const Symbol &data,
                    int64_t numOutputs, const SliceChannelOpts &opts = {});
/// `label` empty: a variable "<name>_label" is created.
Symbol SoftmaxOutput(const std::string &name, const Symbol &data,
                     const Symbol &label = Symbol(),
                     const SoftmaxOutputOpts &opts = {});
Symbol LinearRegressionOutput(const std::string &name, const Symbol &data,
                              const Symbol &label = Symbol());
Symbol LogisticRegressionOutput(const std::string &name, const Symbol &data,
                                const Symbol &label = Symbol());
Symbol MAERegressionOutput(const std::string &name, const Symbol &data,
                           const Symbol &label = Symbol());
Symbol softmax(const std::string &name, const Symbol &data,
               const SoftmaxOpts &opts = {});
Symbol log_softmax(const std::string &name, const Symbol &data,
                   const SoftmaxOpts &opts = {});
/// mode: "instance" (default) or "channel"; empty leaves it unset.
Symbol SoftmaxActivation(const std::string &name, const Symbol &data,
                         const std::string &mode = "");
/// MXNet's identity (registered as _copy).
Symbol identity(const std::string &name, const Symbol &data);

Symbol elemwise_add(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol elemwise_sub(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol elemwise_mul(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol elemwise_div(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol add_n(const std::string &name, const std::vector<Symbol> &inputs);
Symbol broadcast_add(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_sub(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_mul(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_div(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_maximum(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_minimum(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_power(const std::string &name, const Symbol &lhs, const Symbol &rhs);
Symbol broadcast_to(const std::string &name, const Symbol &data,
                    const std::vector<int64_t> &shape);
/// MXNet's dot of two matrices: op(lhs) · op(rhs).
Symbol dot(const std::string &name, const Symbol &lhs, const Symbol &rhs,
           bool transposeA = false, bool transposeB = false);
/// Elements [begin, end) along `axis`.
Symbol slice_axis(const std::string &name, const Symbol &data, int64_t axis, int64_t begin,
                  int64_t end);
/// `op` one of _plus_scalar, _minus_scalar, _rminus_scalar, _mul_scalar,
/// _div_scalar, _rdiv_scalar, _power_scalar, _rpower_scalar,
/// _maximum_scalar, _minimum_scalar (or their legacy names).
Symbol scalarOp(const std::string &op, const std::string &name,
                const Symbol &data, double scalar);
Symbol sum(const std::string &name, const Symbol &data, const ReduceOpts &opts = {});
Symbol mean(const std::string &name, const Symbol &data, const ReduceOpts &opts = {});
Symbol max(const std::string &name, const Symbol &data, const ReduceOpts &opts = {});
Symbol min(const std::string &name, const Symbol &data, const ReduceOpts &opts = {});

} // namespace sym
} // namespace kiln

#endif // KILN_SYMBOL_H
