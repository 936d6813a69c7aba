//===- exec/Plan.h - The execution plan as data ------------------*- C++ -*-===//
//
// What the compiler hands the runtime next to the kernels (DESIGN.md, "The
// plan is data"): every tensor's descriptor and where it lives, the steps in
// schedule order with their kernel-argument slots and read/write sets, the
// arena size and the constants. No LLVM or MLIR here: the JIT keeps a Plan in
// memory and AOT embeds serializePlan()'s bytes in an object file, so the
// same structure (and the same validation) serves both.
//
// See docs/execution-plan.md for the format and how the memory plan that
// fills it is computed.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_EXEC_PLAN_H
#define KILN_RUNTIME_EXEC_PLAN_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::exec {

/// Element types a plan can describe. The values are part of the serialized
/// format: append, never renumber.
enum class DType : uint8_t { F32 = 0, F64 = 1, F16 = 2, BF16 = 3, I8 = 4, I32 = 5, I64 = 6, U8 = 7 };
constexpr unsigned kNumDTypes = 8;

/// Bytes of one element.
int64_t dtypeBytes(DType t);
/// "f32", "bf16", ...: for messages and docs.
const char *dtypeName(DType t);

/// Where a slot's bytes live. Serialized as uint8: append, never renumber.
enum class SlotKind : uint8_t {
  Arena = 0,    ///< inside the one planned arena, at `offset`
  Input = 1,    ///< the caller's i-th data input (run()'s `inputs[i]`)
  Param = 2,    ///< the caller's i-th parameter / aux state (`params[i]`)
  Output = 3,   ///< the caller's i-th output buffer (`outputs[i]`)
  Constant = 4, ///< the plan's i-th constant (`Plan::constants[i]`)
};
const char *slotKindName(SlotKind k);

/// A storage block: the unit of memory reuse and of engine ordering. Tensors
/// that share a block (in-place or co-shared) are ordered by the block's one
/// engine variable, so the planner never adds dependencies of its own.
struct Storage {
  SlotKind kind = SlotKind::Arena;
  /// Arena: byte offset (a multiple of Plan::alignment); else the index in
  /// its kind (input i, param i, output i, constant i).
  int64_t index = 0;
  /// Arena: the block's size (the largest tensor placed in it, aligned).
  /// External: the bytes of the tensor that lives there.
  int64_t bytes = 0;
};

/// One tensor of the model (argument, constant, intermediate or output) and
/// the storage it lives in. Steps refer to tensors by slot index.
struct Slot {
  std::string name; ///< MXNet node/variable name, for messages
  std::vector<int64_t> shape;
  DType dtype = DType::F32;
  int64_t bytes = 0;    ///< numElements(shape) * dtypeBytes(dtype), exactly
  uint32_t storage = 0; ///< index into Plan::storages
};

/// One kernel launch, in schedule order.
struct Step {
  uint32_t kernel = 0; ///< index into Plan::kernelNames
  /// Slot of every kernel argument in the packed-ABI order: the kernel's
  /// inputs first, then its outputs.
  std::vector<uint32_t> args;
  uint32_t numInputs = 0; ///< args[0, numInputs) are read, the rest written
  /// Storage ids the step reads and writes, sorted and without duplicates. A
  /// storage both read and written (an in-place result) is listed only in
  /// `writes`, the engine's rule for a mutated variable.
  std::vector<uint32_t> reads, writes;
  std::string opName;   ///< e.g. "graph.fully_connected" (fused: joined by '+')
  std::string nodeName; ///< MXNet node name, e.g. "fc1"
};

struct Constant {
  std::string name;
  std::vector<uint8_t> data; ///< raw little-endian elements, row-major
};

struct Plan {
  static constexpr int64_t kDefaultAlignment = 64;

  /// Every arena offset is a multiple of this (and so are block sizes).
  int64_t alignment = kDefaultAlignment;
  /// Exactly the bytes the runtime allocates for intermediates.
  int64_t arenaBytes = 0;
  /// Symbol of each kernel function; a step names one by index. The JIT or
  /// the AOT object provides `<name>_packed(void **)` for each.
  std::vector<std::string> kernelNames;
  std::vector<Storage> storages;
  std::vector<Slot> slots;
  std::vector<Step> steps;
  std::vector<Constant> constants;
  /// The model's data inputs, parameters (and aux states) and outputs, in
  /// calling order: inputSlots[i] is the slot of run()'s inputs[i], etc.
  std::vector<uint32_t> inputSlots, paramSlots, outputSlots;

  SlotKind slotKind(uint32_t slot) const { return storages[slots[slot].storage].kind; }
};

/// Checks every invariant the executor relies on (indices in range, sizes
/// consistent with shapes and dtypes, arena blocks aligned and inside the
/// arena, each external buffer owned by exactly one slot, every output
/// written by exactly one step, read/write sets matching the arguments).
/// Throws kiln::Error("invalid plan: ...") naming the first violation.
void validatePlan(const Plan &plan);

/// Current serialization format version (see docs/execution-plan.md).
constexpr uint32_t kPlanFormatVersion = 1;

/// A compact little-endian binary form: magic "KILNPLAN", format version,
/// payload length, payload, FNV-1a-64 checksum of the payload.
std::vector<uint8_t> serializePlan(const Plan &plan);
/// Reads serializePlan()'s output back and validates it. Throws kiln::Error
/// with a message saying what is wrong (bad magic, unsupported version,
/// truncated, checksum mismatch, invalid contents).
Plan deserializePlan(const uint8_t *data, size_t size);
inline Plan deserializePlan(const std::vector<uint8_t> &blob) {
  return deserializePlan(blob.data(), blob.size());
}

} // namespace kiln::exec

#endif // KILN_RUNTIME_EXEC_PLAN_H
