//===- kiln/NDArray.h - Imperative arrays on the async engine ---*- C++ -*-===//
//
// MXNet's other half: arrays you compute with one call at a time. Every
// operator of the graph dialect is callable eagerly, and the call goes down
// the same pipeline as a compiled network: Kiln builds a one-op graph
// function, compiles it (CPU JIT), caches the kernel by (op, attributes,
// shapes, dtype, device, mode), pushes it to the dependency engine and
// returns at once. The result is an NDArray whose value is ready when the
// engine has run the op; reading it (toVector(), item(), printing, saving)
// waits. Ops on an array run in the order they were called (per array:
// reads in parallel, writes alone), however eager and compiled work
// interleave.
//
//   using namespace kiln;
//   NDArray x = nd::ones({2, 3});
//   NDArray b({3}, {1, 2, 3});
//   NDArray y = x * 2.0f + b;                         // NumPy broadcasting
//   NDArray z = nd::Activation(y, "relu");
//   std::cout << z;                                   // waits, then prints
//
//   NDArray w = nd::uniform(-0.1f, 0.1f, {10, 784}, /*seed=*/1);
//   w.attachGrad();
//   {
//     autograd::RecordScope record;                   // train mode
//     NDArray out = nd::SoftmaxOutput(nd::FullyConnected(x784, w, {}, 10), label);
//     out.backward();                                 // w.grad() is dL/dw
//   }
//
// Semantics are those of Symbols (kiln/Symbol.h): `+ - * /` broadcast like
// NumPy on both (MXNet broadcasts only on NDArrays), attribute defaults are
// MXNet's. NDArray is a handle: copies share the array (like MXNet's C++
// NDArray and torch.Tensor); copy() makes a new one. reshape(), slice() and
// at() are views of the same storage.
//
// Today every array is float32 on cpu(0): asking for another dtype or a GPU
// throws kiln::Error saying so. Every entry point throws kiln::Error on bad
// input; an error inside an asynchronous op is thrown by the next call that
// waits for its result, naming the op and the shapes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_NDARRAY_H
#define KILN_NDARRAY_H

#include "kiln/Symbol.h"
#include "kiln/Tensor.h"

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// Element types, with MXNet's type flags as values (SPEC §2.2).
enum class DType : int { Float32 = 0, Float64 = 1, Float16 = 2, UInt8 = 3, Int32 = 4,
                         Int8 = 5, Int64 = 6 };
/// "float32", "float64", ...
const char *dtypeName(DType dtype);

/// Where an array lives: MXNet's Context.
struct Context {
  enum class DeviceType : int { CPU = 1, GPU = 2 }; // MXNet's dev_type values
  DeviceType type = DeviceType::CPU;
  int id = 0;

  static Context cpu(int id = 0) { return {DeviceType::CPU, id}; }
  static Context gpu(int id = 0) { return {DeviceType::GPU, id}; }
  bool operator==(const Context &o) const { return type == o.type && id == o.id; }
  bool operator!=(const Context &o) const { return !(*this == o); }
  /// "cpu(0)", "gpu(1)".
  std::string str() const;
};

/// How backward() writes an array's gradient (MXNet's grad_req).
enum class GradReq { Null, Write, Add };

namespace detail {
struct NDArrayImpl;
} // namespace detail

class NDArray {
public:
  /// An empty handle ("none"): no shape, no storage. Optional op inputs
  /// (a bias) take an empty NDArray to mean "absent".
  NDArray();
  /// A new array of `shape`, uninitialized (MXNet's nd.empty): fill it
  /// before reading it.
  explicit NDArray(const std::vector<int64_t> &shape, Context ctx = Context::cpu(),
                   DType dtype = DType::Float32);
  /// A new array holding `values` (row-major; as many as the shape has
  /// elements).
  NDArray(const std::vector<int64_t> &shape, const std::vector<float> &values,
          Context ctx = Context::cpu());
  /// A copy of `tensor`.
  explicit NDArray(const Tensor &tensor, Context ctx = Context::cpu());

  bool empty() const { return impl == nullptr; }
  const std::vector<int64_t> &shape() const;
  int64_t size() const;
  size_t ndim() const { return shape().size(); }
  DType dtype() const;
  Context context() const;

  /// Blocks until every write to the array pushed so far has run; throws
  /// kiln::Error if one failed.
  void waitToRead() const;
  /// Blocks until every read and write pushed so far has run.
  void waitToWrite() const;

  /// The values, after waiting for them.
  std::vector<float> toVector() const;
  Tensor toTensor() const;
  /// The value of a one-element array (MXNet's asscalar()).
  float item() const;
  /// Copies `count` values (the array's size) to `dst`, after waiting.
  void syncCopyToCPU(float *dst, size_t count) const;
  /// Overwrites the array with `count` values from `src` (waits for the
  /// array's pending reads and writes first; `src` is read before return).
  void syncCopyFromCPU(const float *src, size_t count);

  /// A new array with the same values (asynchronous).
  NDArray copy() const;
  /// Writes this array's values into `dst` (same shape; asynchronous).
  void copyTo(NDArray &dst) const;
  /// Sets every element to `value` (asynchronous).
  NDArray &fill(float value);

  /// A view with another shape of the same number of elements; MXNet's
  /// Reshape codes 0 (copy), -1 (infer) are accepted.
  NDArray reshape(const std::vector<int64_t> &shape) const;
  /// Rows [begin, end) along axis 0, as a view.
  NDArray slice(int64_t begin, int64_t end) const;
  /// Row `index` along axis 0 with that axis dropped, as a view.
  NDArray at(int64_t index) const;

  // In place, through write dependencies (out= forms of the same ops).
  NDArray &operator+=(const NDArray &rhs);
  NDArray &operator-=(const NDArray &rhs);
  NDArray &operator*=(const NDArray &rhs);
  NDArray &operator/=(const NDArray &rhs);
  NDArray &operator+=(float rhs);
  NDArray &operator-=(float rhs);
  NDArray &operator*=(float rhs);
  NDArray &operator/=(float rhs);

  // Autograd (beyond the paper; MXNet's attach_grad / backward).
  /// Gives the array a gradient buffer (zeros) that backward() fills.
  void attachGrad(GradReq req = GradReq::Write);
  /// The gradient buffer attachGrad() made; throws if there is none.
  NDArray grad() const;
  /// Computes the gradients of this recorded array (see autograd::backward).
  void backward(const NDArray &headGrad = NDArray(), bool retainGraph = false) const;
  /// The same storage, cut off from the recorded graph.
  NDArray detach() const;

  /// True when both handles view the same storage (and so order the same
  /// reads and writes).
  bool sharesStorageWith(const NDArray &other) const;

  /// Internal.
  explicit NDArray(std::shared_ptr<detail::NDArrayImpl> impl);
  const std::shared_ptr<detail::NDArrayImpl> &implPtr() const { return impl; }

private:
  std::shared_ptr<detail::NDArrayImpl> impl;
};

/// Waits for the values, then prints them like NumPy, with the shape and
/// context: "[[1, 2]\n [3, 4]]\n<NDArray 2x2 @cpu(0)>".
std::ostream &operator<<(std::ostream &os, const NDArray &array);

// Arithmetic with NumPy broadcasting (shapes aligned from the right; a
// dimension of 1 stretches). Identical shapes run the elemwise_* kernels.
NDArray operator+(const NDArray &lhs, const NDArray &rhs);
NDArray operator-(const NDArray &lhs, const NDArray &rhs);
NDArray operator*(const NDArray &lhs, const NDArray &rhs);
NDArray operator/(const NDArray &lhs, const NDArray &rhs);
NDArray operator+(const NDArray &lhs, float rhs);
NDArray operator+(float lhs, const NDArray &rhs);
NDArray operator-(const NDArray &lhs, float rhs);
NDArray operator-(float lhs, const NDArray &rhs);
NDArray operator*(const NDArray &lhs, float rhs);
NDArray operator*(float lhs, const NDArray &rhs);
NDArray operator/(const NDArray &lhs, float rhs);
NDArray operator/(float lhs, const NDArray &rhs);
NDArray operator-(const NDArray &x);

/// Eager operators: MXNet's names and defaults, the same option classes as
/// the Symbol API (kiln/Symbol.h), the node name dropped and every input
/// explicit (an empty NDArray for an absent bias means no_bias).
namespace nd {

using AttrMap = std::map<std::string, std::string>;

/// Runs MXNet operator `op` (canonical or legacy name) on `inputs` in the
/// op's input order, with MXNet attribute strings. Returns every output.
/// With `out`, writes the outputs into those arrays instead (one per
/// output, the right shapes; an output may be one of the inputs when the
/// op is elementwise, e.g. `x = x + y`).
std::vector<NDArray> invoke(const std::string &op, const std::vector<NDArray> &inputs,
                            const AttrMap &attrs = {},
                            const std::vector<NDArray> &out = {});

NDArray zeros(const std::vector<int64_t> &shape, Context ctx = Context::cpu());
NDArray ones(const std::vector<int64_t> &shape, Context ctx = Context::cpu());
NDArray full(const std::vector<int64_t> &shape, float value, Context ctx = Context::cpu());
/// 0, 1, ..., n-1 as float32.
NDArray arange(int64_t n, Context ctx = Context::cpu());
/// Uniform in [low, high) / normal(mean, stddev), from kiln::Random(seed):
/// the same numbers on every machine.
NDArray uniform(float low, float high, const std::vector<int64_t> &shape, uint64_t seed,
                Context ctx = Context::cpu());
NDArray normal(float mean, float stddev, const std::vector<int64_t> &shape, uint64_t seed,
               Context ctx = Context::cpu());

NDArray FullyConnected(const NDArray &data, const NDArray &weight, const NDArray &bias,
                       int64_t numHidden, const sym::FullyConnectedOpts &opts = {});
NDArray Convolution(const NDArray &data, const NDArray &weight, const NDArray &bias,
                    const std::vector<int64_t> &kernel, int64_t numFilter,
                    const sym::ConvolutionOpts &opts = {});
NDArray Deconvolution(const NDArray &data, const NDArray &weight, const NDArray &bias,
                      const std::vector<int64_t> &kernel, int64_t numFilter,
                      const sym::DeconvolutionOpts &opts = {});
NDArray Pooling(const NDArray &data, const sym::PoolingOpts &opts = {});
NDArray Activation(const NDArray &data, const std::string &actType);
/// `gamma` is prelu's per-channel slope (empty for the other act_types).
NDArray LeakyReLU(const NDArray &data, const sym::LeakyReLUOpts &opts = {},
                  const NDArray &gamma = NDArray());
/// In training mode (autograd::isTraining()) normalizes with the batch
/// statistics and updates `movingMean` / `movingVar` in place, as MXNet.
NDArray BatchNorm(const NDArray &data, const NDArray &gamma, const NDArray &beta,
                  const NDArray &movingMean, const NDArray &movingVar,
                  const sym::BatchNormOpts &opts = {});
NDArray LRN(const NDArray &data, int64_t nsize, const sym::LRNOpts &opts = {});
/// The identity unless autograd::isTraining() (or mode "always"); then a
/// fresh mask per call, drawn from nd::seed()'s counter-based stream.
NDArray Dropout(const NDArray &data, const sym::DropoutOpts &opts = {});
NDArray Embedding(const NDArray &data, const NDArray &weight, int64_t inputDim,
                  int64_t outputDim);
NDArray Flatten(const NDArray &data);
/// MXNet's Reshape as an op (codes 0, -1, -2, -3, -4; `reverse`); a copy.
/// NDArray::reshape() is the free view.
NDArray Reshape(const NDArray &data, const std::vector<int64_t> &shape, bool reverse = false);
NDArray transpose(const NDArray &data, const std::vector<int64_t> &axes = {});
NDArray Concat(const std::vector<NDArray> &inputs, int64_t dim = 1);
std::vector<NDArray> SliceChannel(const NDArray &data, int64_t numOutputs,
                                  const sym::SliceChannelOpts &opts = {});
NDArray SoftmaxOutput(const NDArray &data, const NDArray &label,
                      const sym::SoftmaxOutputOpts &opts = {});
NDArray LinearRegressionOutput(const NDArray &data, const NDArray &label);
NDArray LogisticRegressionOutput(const NDArray &data, const NDArray &label);
NDArray MAERegressionOutput(const NDArray &data, const NDArray &label);
NDArray softmax(const NDArray &data, const sym::SoftmaxOpts &opts = {});
NDArray log_softmax(const NDArray &data, const sym::SoftmaxOpts &opts = {});
NDArray SoftmaxActivation(const NDArray &data, const std::string &mode = "");
NDArray identity(const NDArray &data);

NDArray elemwise_add(const NDArray &lhs, const NDArray &rhs);
NDArray elemwise_sub(const NDArray &lhs, const NDArray &rhs);
NDArray elemwise_mul(const NDArray &lhs, const NDArray &rhs);
NDArray elemwise_div(const NDArray &lhs, const NDArray &rhs);
NDArray add_n(const std::vector<NDArray> &inputs);
NDArray broadcast_add(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_sub(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_mul(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_div(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_maximum(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_minimum(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_power(const NDArray &lhs, const NDArray &rhs);
NDArray broadcast_to(const NDArray &data, const std::vector<int64_t> &shape);
/// MXNet's dot of two matrices: op(lhs) · op(rhs), op = transpose when asked.
NDArray dot(const NDArray &lhs, const NDArray &rhs, bool transposeA = false,
            bool transposeB = false);
/// Elements [begin, end) along `axis` (negative values count from the back).
NDArray slice_axis(const NDArray &data, int64_t axis, int64_t begin, int64_t end);
/// `op` as for sym::scalarOp (_plus_scalar, _rminus_scalar, _power_scalar, ...).
NDArray scalarOp(const std::string &op, const NDArray &data, double scalar);
NDArray sum(const NDArray &data, const sym::ReduceOpts &opts = {});
NDArray mean(const NDArray &data, const sym::ReduceOpts &opts = {});
NDArray max(const NDArray &data, const sym::ReduceOpts &opts = {});
NDArray min(const NDArray &data, const sym::ReduceOpts &opts = {});

/// MXNet's `.nd` / `.params` list files (SPEC §2.2): written as V2 records,
/// read from every era (every dtype converted to float32). Atomic writes.
void save(const std::string &path, const std::vector<NDArray> &arrays);
void save(const std::string &path, const std::map<std::string, NDArray> &arrays);
/// An unnamed list (or a named one, names dropped).
std::vector<NDArray> loadList(const std::string &path);
/// A named list; throws kiln::Error naming the file when it has no names.
std::map<std::string, NDArray> loadMap(const std::string &path);

/// NumPy `.npy` files (SPEC §1.4: float32, also f64/f16 converted on
/// read); the write is atomic.
NDArray loadNpy(const std::string &path);
void saveNpy(const std::string &path, const NDArray &array);

/// Blocks until every op pushed so far (eager or compiled) has run; throws
/// the first failure no wait has reported yet.
void waitAll();

/// Seeds the counter-based stream Dropout draws from (default 0).
void seed(uint64_t seed);

/// The eager kernel cache: a key is (op, attributes, input shapes, dtype,
/// device, training mode); a miss compiles a one-op function. Small and
/// medium ops are first compiled quickly (plain loops); a medium one that
/// is reused is recompiled with the full pipeline in the background and
/// replaces its first kernel (docs/ndarray.md, "Tiers").
struct CacheStats {
  int64_t hits = 0, misses = 0;
  int64_t entries = 0;
  double compileSeconds = 0; ///< spent compiling the misses (on the callers' threads)
  int64_t upgrades = 0;      ///< background recompilations finished
};
CacheStats cacheStats();
/// Forgets every cached kernel and zeroes the counters (tests, benchmarks).
void clearCache();

} // namespace nd

/// Imperative automatic differentiation (MXNet's mx.autograd). Recording is
/// per thread. The ops recorded between attachGrad()'d arrays and a head
/// become one graph-dialect function, which goes through the same
/// kiln-autodiff pass and CPU pipeline as a compiled network (and is cached
/// by the recorded graph's structure, so a training loop compiles once).
namespace autograd {

/// Records the eager ops called while it is alive. `train` selects training
/// behaviour (BatchNorm batch statistics, Dropout) as MXNet's
/// record(train_mode=True), the default.
class RecordScope {
public:
  explicit RecordScope(bool train = true);
  ~RecordScope();
  RecordScope(const RecordScope &) = delete;
  RecordScope &operator=(const RecordScope &) = delete;

private:
  bool prevRecording, prevTraining;
};

/// Stops recording while alive (MXNet's pause()); `train` as above.
class PauseScope {
public:
  explicit PauseScope(bool train = false);
  ~PauseScope();
  PauseScope(const PauseScope &) = delete;
  PauseScope &operator=(const PauseScope &) = delete;

private:
  bool prevRecording, prevTraining;
};

bool isRecording();
bool isTraining();

/// Gradients of `heads` with respect to every attachGrad()'d array they
/// depend on. Loss heads (SoftmaxOutput, the regression outputs) use their
/// built-in gradient; any other head takes `headGrads[i]` (ones when absent
/// or empty). Arrays whose gradient is GradReq::Write get it written,
/// GradReq::Add get it added. Without `retainGraph` the recorded graph of
/// these heads is freed. Throws kiln::Error when a head was not recorded,
/// when nothing it depends on has a gradient buffer, or when a recorded
/// input was modified in place after it was used.
void backward(const std::vector<NDArray> &heads, const std::vector<NDArray> &headGrads = {},
              bool retainGraph = false);

} // namespace autograd

} // namespace kiln

#endif // KILN_NDARRAY_H
