//===- NDArrayInternal.h - What an NDArray handle points at -----*- C++ -*-===//
//
// An NDArray handle shares an NDArrayImpl: a view (offset + shape) of a
// Chunk, which owns pooled host memory and the engine variable that orders
// every op touching that memory. Every op pushed to the engine captures the
// chunks it touches, so a chunk (and its memory and variable) dies only once
// no pending op can reach it.
//
// Autograd state lives here too: an array produced by a recorded op points
// at its TapeNode; a leaf may own a gradient buffer.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_API_NDARRAYINTERNAL_H
#define KILN_LIB_API_NDARRAYINTERNAL_H

#include "kiln/NDArray.h"
#include "runtime/engine/Engine.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace kiln::detail {

struct Chunk {
  /// Pooled memory of `bytes` bytes (StoragePool::host()), or memory owned
  /// elsewhere (`external`: an Executor's argument or gradient).
  float *data = nullptr;
  int64_t bytes = 0;
  rt::VarHandle var = nullptr;
  bool ownsVar = true;
  bool external = false;
  /// Bumped by every in-place write, so autograd can tell that a value it
  /// recorded was overwritten before backward().
  std::atomic<uint64_t> version{0};

  /// New pooled storage for `elements` floats with a fresh variable.
  static std::shared_ptr<Chunk> allocate(int64_t elements);
  /// Memory someone else owns, ordered by `var` (neither is freed here).
  static std::shared_ptr<Chunk> borrow(float *data, int64_t elements, rt::VarHandle var);
  ~Chunk();
};

struct TapeNode;

struct NDArrayImpl {
  std::shared_ptr<Chunk> chunk;
  int64_t offset = 0; ///< in elements
  std::vector<int64_t> shape;
  int64_t elements = 0;

  // Autograd.
  /// The recorded op that produced this value (null for a leaf) and which
  /// of its outputs it is.
  std::shared_ptr<TapeNode> producer;
  int64_t producerOutput = 0;
  /// attachGrad()'s buffer and how backward() writes it.
  std::shared_ptr<NDArrayImpl> grad;
  GradReq gradReq = GradReq::Null;

  float *data() const { return chunk->data + offset; }
  rt::VarHandle var() const { return chunk->var; }
};

/// A new impl with fresh storage of `shape`.
std::shared_ptr<NDArrayImpl> newArray(const std::vector<int64_t> &shape);
/// A view of `chunk` with `shape`, starting `offset` elements in (no
/// autograd state).
std::shared_ptr<NDArrayImpl> viewOf(std::shared_ptr<Chunk> chunk, int64_t offset,
                                    const std::vector<int64_t> &shape);

/// One input of a recorded op: another recorded value, or a leaf array as
/// it was when the op ran (its chunk version then).
struct TapeInput {
  std::shared_ptr<TapeNode> node;
  int64_t output = 0;
  std::shared_ptr<NDArrayImpl> leaf;
  uint64_t leafVersion = 0;
};

/// One op recorded by autograd::RecordScope.
struct TapeNode {
  std::string op; ///< canonical MXNet name
  nd::AttrMap attrs;
  std::vector<TapeInput> inputs;
  std::vector<std::vector<int64_t>> outputShapes;
  bool training = true;
};

/// Whether `op` with `attrs` behaves differently in training mode
/// (kiln-graph-training-mode rewrites it): BatchNorm without
/// use_global_stats, Dropout, LeakyReLU rrelu.
bool hasTrainingMode(const std::string &op, const nd::AttrMap &attrs);

/// The engine all NDArrays use (rt::Engine::get()).
rt::Engine &engine();
/// False once the process is exiting and the engine may be gone: objects
/// destroyed then must not push (the engine frees their variables itself).
bool engineAlive();

/// Throws kiln::Error unless `a` is a non-empty float32 CPU array; `what`
/// names it ("input 2 of FullyConnected").
void checkUsable(const NDArray &a, const std::string &what);

/// Records an eager call while autograd::isRecording(): the outputs get the
/// new node as their producer. Called by nd::invoke after the op is pushed.
/// `inputVersions` are the inputs' chunk versions when the op was pushed
/// (before its own writes); null means "now".
void recordOp(const std::string &op, const nd::AttrMap &attrs, const std::vector<NDArray> &inputs,
              const std::vector<NDArray> &outputs, bool training,
              const std::vector<uint64_t> *inputVersions = nullptr);

/// Throws unless `out` may be overwritten by a call recorded now: an array
/// with a gradient buffer may not (its recorded uses would change meaning).
void checkRecordedWrite(const NDArray &out, const std::string &op);

} // namespace kiln::detail

#endif // KILN_LIB_API_NDARRAYINTERNAL_H
