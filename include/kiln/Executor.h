//===- kiln/Executor.h - A network bound to shapes, ready to train ---------===//
//
// MXNet's Executor on Kiln's compiled path: bind a network (a Symbol, a zoo
// network or an MXNet model file) to input shapes, fill its arguments, then
// forward(isTrain) / backward() and read outputs, gradients and aux states.
//
// Binding imports the network into the graph dialect. The first
// forward(false) compiles the inference function; the first forward(true)
// compiles the training function that kiln-autodiff derives from it: the
// forward in training mode and the backward in one plan, so one
// forward(true) computes outputs, every parameter gradient and the new aux
// states (a training step updates BatchNorm's moving statistics once, as
// MXNet's does; see docs/training.md for forward-only runs). backward()
// then only makes the gradients current: it re-runs
// the step when it is given head gradients for heads that are not loss
// heads. Arrays are owned by the executor and reused across steps, so a
// training loop allocates nothing per step.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_EXECUTOR_H
#define KILN_EXECUTOR_H

#include "kiln/NDArray.h"
#include "kiln/Tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

class Symbol;

using ShapeMap = std::map<std::string, std::vector<int64_t>>;

struct ExecutorOptions {
  /// `compiled` (JIT, the default) or `reference` (the float64 interpreter,
  /// the oracle tests compare against; slow).
  enum class Engine { Compiled, Reference } engine = Engine::Compiled;
  /// Seed of training-mode randomness (Dropout masks); the step number is
  /// mixed in, so every step draws a fresh mask reproducibly.
  uint64_t seed = 0;
  /// Recompute cheap activations (BatchNorm → relu, dropout, elementwise
  /// chains) in the backward instead of keeping them from the forward
  /// (kiln-recompute, MXNet's mirror): a smaller training arena for some
  /// extra compute. Gradients and aux updates are the same.
  bool recompute = false;
};

class Executor {
public:
  /// Binds a Symbol API network to the shapes of its data inputs (and
  /// labels, when they cannot be inferred).
  static std::unique_ptr<Executor> bind(const Symbol &net, const ShapeMap &inputShapes,
                                        const ExecutorOptions &options = {});
  /// Binds `zoo:NAME` or an MXNet `*-symbol.json` file. When `paramsPath` is
  /// given its arrays become the initial parameter and aux values.
  static std::unique_ptr<Executor> load(const std::string &model, const std::string &paramsPath,
                                        const ShapeMap &inputShapes,
                                        const ExecutorOptions &options = {});
  ~Executor();

  /// Names in function-argument order.
  const std::vector<std::string> &inputNames() const;
  const std::vector<std::string> &paramNames() const;
  const std::vector<std::string> &auxNames() const;
  const std::vector<std::string> &outputNames() const;

  /// The array of an input, parameter or aux state (by name): fill it before
  /// forward(). Throws kiln::Error naming the unknown name.
  Tensor &arg(const std::string &name);
  /// Parameters and their gradients, in paramNames() order.
  std::vector<Tensor *> params();
  std::vector<const Tensor *> grads() const;
  const Tensor &grad(const std::string &paramName) const;
  Tensor &aux(const std::string &name);

  /// Compiles the inference or training function now (forward does it on
  /// first use). After prepare(true) on the compiled engine, grads() points
  /// at the gradient arrays every training forward writes (zeros until one).
  void prepare(bool isTrain);
  /// Runs the network; in training mode also the backward (see above).
  void forward(bool isTrain);
  /// Makes the gradients of the last forward(true) current. `headGrads`
  /// (one per output, by output name; missing ones are ones) matter only for
  /// heads that are not loss heads.
  void backward(const std::map<std::string, Tensor> &headGrads = {});
  /// The outputs of the last forward, in outputNames() order.
  const std::vector<Tensor> &outputs() const;

  // NDArrays in and out (mixing eager and compiled work). These calls are
  // engine ops like eager calls: they return at once and run in program
  // order per array. The Tensor accessors above wait for them first.

  /// forward(isTrain) on NDArrays, asynchronously and without copies: the
  /// kernels read `inputs` (data inputs or labels, by name; any input not
  /// given is the executor's own arg()) in place and write the outputs
  /// straight into the returned arrays. In training mode gradients and aux
  /// states update as in forward(true); read them with grads() or
  /// gradArray(). outputs() does not see these results.
  std::vector<NDArray> forward(const std::map<std::string, NDArray> &inputs, bool isTrain);
  /// The executor's own input, parameter or aux array as an NDArray (the
  /// memory arg() returns, no copy), ordered with the executor's calls: an
  /// eager update of a parameter runs between two forwards. It must not be
  /// used after the executor is destroyed.
  NDArray argArray(const std::string &name);
  /// The gradient of `paramName` from the latest training forward, as an
  /// NDArray view of the executor's memory (overwritten by the next one);
  /// compiles the training function if no training forward ran yet.
  NDArray gradArray(const std::string &paramName);

  /// Calls `hook(i)` during each forward(true) as soon as the gradient of
  /// paramNames()[i] is final for the step, on the engine thread that
  /// computed it, while the rest of the backward still runs: the place to
  /// start the gradient's reduction (KVStore push) so communication overlaps
  /// the backward of the layers below. The hook may push engine work but
  /// must not wait for any. Compiled engine only; null removes it.
  void setGradientHook(std::function<void(size_t paramIndex)> hook);

  /// Every parameter and aux value by name (for checkpoints).
  std::map<std::string, Tensor> paramValues() const;
  /// Writes `PREFIX-symbol.json` and `PREFIX-%04d.params` (MXNet format,
  /// atomically).
  void saveCheckpoint(const std::string &prefix, int epoch) const;

  /// Compile time of the inference and training functions so far (s).
  double compileSeconds() const;
  /// Bytes of the training plan's arena (0 before the first forward(true)).
  int64_t trainingArenaBytes() const;

  struct Impl;

private:
  explicit Executor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace kiln

#endif // KILN_EXECUTOR_H
