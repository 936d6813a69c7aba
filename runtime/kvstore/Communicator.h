//===- runtime/kvstore/Communicator.h - Collectives behind KVStore -*- C++ -*-===//
//
// The one interface every KVStore backend implements: a group of `size()`
// workers, this one being `rank()`, and the few collectives the store needs.
// Every call takes a deadline: a collective that is not complete by then
// throws kiln::Error saying so (a dead, hung or out-of-step peer), never
// hangs. Calls on one communicator are issued by the KVStore in the same
// order on every worker and never concurrently (the store serializes them
// on one engine variable).
//
// The local communicator (one worker) is in KVStore.cpp; MPI and NCCL live
// in their own libraries (MPICommunicator.cpp, NCCLCommunicator.cpp) and are
// registered with registerCommunicator() by Backends.h's functions.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KVSTORE_COMMUNICATOR_H
#define KILN_RUNTIME_KVSTORE_COMMUNICATOR_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace kiln::kvstore {

using Clock = std::chrono::steady_clock;

class Communicator {
public:
  virtual ~Communicator();
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Sums `count` floats over all workers, in place. `what` names the data
  /// (keys) in messages.
  virtual void allreduceSum(float *data, int64_t count, double timeoutSeconds,
                            const std::string &what) = 0;
  /// Same for doubles (statistics) and the minimum of ints (agreement).
  virtual void allreduceSum(double *data, int64_t count, double timeoutSeconds,
                            const std::string &what) = 0;
  virtual int allreduceMin(int value, double timeoutSeconds, const std::string &what) = 0;
  /// Rank 0's `count` floats to every worker.
  virtual void broadcast(float *data, int64_t count, double timeoutSeconds,
                         const std::string &what) = 0;
  virtual void barrier(double timeoutSeconds) = 0;
};

/// Builds the communicator of a store type. Throws kiln::Error when it
/// cannot start (e.g. dist_sync outside mpirun).
using CommunicatorFactory = std::function<std::unique_ptr<Communicator>(const std::string &type)>;

/// Makes create(type) use `factory` (later registrations replace earlier).
void registerCommunicator(const std::string &type, CommunicatorFactory factory);

/// The error thrown when a deadline passes, shared by the backends.
[[noreturn]] void throwTimeout(const std::string &backend, const std::string &op,
                               const std::string &what, int rank, int size, double seconds);

} // namespace kiln::kvstore

#endif // KILN_RUNTIME_KVSTORE_COMMUNICATOR_H
