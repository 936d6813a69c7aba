//===- runtime/storage/StoragePool.h - Pooled host memory -------*- C++ -*-===//
//
// Eager NDArrays come and go on every call of a training loop. Fresh memory
// costs a first-touch page fault per page, far more than the small kernels
// that fill it, so freed blocks are kept by size and handed out again (MXNet's
// pooled storage manager does the same). Sizes are rounded up to a size
// class, so the arrays of one training step find their blocks again on the
// next step. The pool keeps at most KILN_STORAGE_POOL_MB (default 2048) of
// free blocks; beyond that, freed blocks go back to the system.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_STORAGE_STORAGEPOOL_H
#define KILN_RUNTIME_STORAGE_STORAGEPOOL_H

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace kiln::rt {

class StoragePool {
public:
  /// Every block is aligned to this many bytes (a cache line, and enough for
  /// any vector load the kernels emit).
  static constexpr int64_t kAlignment = 64;

  /// The process-wide pool of host memory.
  static StoragePool &host();

  explicit StoragePool(int64_t maxPooledBytes);
  ~StoragePool();
  StoragePool(const StoragePool &) = delete;
  StoragePool &operator=(const StoragePool &) = delete;

  /// A block of at least `bytes` (never null; 0 bytes gives a minimal
  /// block). Throws kiln::Error when the system has no memory left.
  void *allocate(int64_t bytes);
  /// Returns a block from allocate(`bytes`) (the same size) to the pool.
  void release(void *block, int64_t bytes);

  /// The size class `bytes` is rounded up to.
  static int64_t roundUp(int64_t bytes);

  struct Stats {
    int64_t allocations = 0; ///< allocate() calls
    int64_t reuses = 0;      ///< of which served from the pool
    int64_t pooledBytes = 0; ///< free bytes held now
  };
  Stats stats() const;

private:
  int64_t maxPooled;
  mutable std::mutex mu;
  std::unordered_map<int64_t, std::vector<void *>> freeBlocks;
  Stats counters;
};

} // namespace kiln::rt

#endif // KILN_RUNTIME_STORAGE_STORAGEPOOL_H
