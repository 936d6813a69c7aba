//===- runtime/storage/StoragePool.cpp - Pooled host memory ---------------===//

#include "runtime/storage/StoragePool.h"

#include "kiln/Error.h"

#include <cstdlib>
#include <string>

namespace kiln::rt {

StoragePool &StoragePool::host() {
  // Never destroyed: arrays may die during static destruction.
  static StoragePool *pool = [] {
    int64_t mb = 2048;
    if (const char *e = std::getenv("KILN_STORAGE_POOL_MB")) {
      char *end = nullptr;
      long long v = std::strtoll(e, &end, 10);
      if (end == e || *end || v < 0)
        throw Error("KILN_STORAGE_POOL_MB must be a number of megabytes >= 0, got '" +
                    std::string(e) + "'");
      mb = v;
    }
    return new StoragePool(mb << 20);
  }();
  return *pool;
}

StoragePool::StoragePool(int64_t maxPooledBytes) : maxPooled(maxPooledBytes) {}

StoragePool::~StoragePool() {
  for (auto &[size, blocks] : freeBlocks)
    for (void *p : blocks)
      std::free(p);
}

int64_t StoragePool::roundUp(int64_t bytes) {
  if (bytes <= kAlignment)
    return kAlignment;
  // Up to 4 KiB: multiples of 64 B. Above: four classes per power of two, so
  // no block wastes more than a quarter of itself.
  if (bytes <= 4096)
    return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  int64_t pow2 = 4096;
  while (pow2 * 2 < bytes)
    pow2 *= 2;
  int64_t step = pow2 / 4;
  return (bytes + step - 1) / step * step;
}

void *StoragePool::allocate(int64_t bytes) {
  int64_t size = roundUp(bytes);
  {
    std::lock_guard<std::mutex> lock(mu);
    ++counters.allocations;
    auto it = freeBlocks.find(size);
    if (it != freeBlocks.end() && !it->second.empty()) {
      void *p = it->second.back();
      it->second.pop_back();
      ++counters.reuses;
      counters.pooledBytes -= size;
      return p;
    }
  }
  void *p = std::aligned_alloc(kAlignment, size);
  if (!p)
    throw Error("out of memory: cannot allocate " + std::to_string(bytes) + " bytes for an array");
  return p;
}

void StoragePool::release(void *block, int64_t bytes) {
  if (!block)
    return;
  int64_t size = roundUp(bytes);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (counters.pooledBytes + size <= maxPooled) {
      freeBlocks[size].push_back(block);
      counters.pooledBytes += size;
      return;
    }
  }
  std::free(block);
}

StoragePool::Stats StoragePool::stats() const {
  std::lock_guard<std::mutex> lock(mu);
  return counters;
}

} // namespace kiln::rt
