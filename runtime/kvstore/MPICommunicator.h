//===- runtime/kvstore/MPICommunicator.h - Open MPI collectives -*- C++ -*-===//
//
// dist_sync's communicator: MPI_COMM_WORLD of the processes mpirun started.
// Every collective is non-blocking (MPI_Iallreduce, MPI_Ibcast,
// MPI_Ibarrier) and polled with MPI_Test until done or until its deadline,
// so a dead or out-of-step peer is an error, not a hang. Library:
// KilnKVStoreMPI (the only Kiln library that links MPI).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KVSTORE_MPICOMMUNICATOR_H
#define KILN_RUNTIME_KVSTORE_MPICOMMUNICATOR_H

#include "runtime/kvstore/Communicator.h"

namespace kiln::kvstore {

class MPICommunicator : public Communicator {
public:
  /// Initializes MPI once per process (MPI_THREAD_SERIALIZED or better);
  /// throws kiln::Error outside an MPI launcher. `backend` names the store
  /// type in messages.
  explicit MPICommunicator(std::string backend);
  int rank() const override;
  int size() const override;
  void allreduceSum(float *data, int64_t count, double timeoutSeconds,
                    const std::string &what) override;
  void allreduceSum(double *data, int64_t count, double timeoutSeconds,
                    const std::string &what) override;
  int allreduceMin(int value, double timeoutSeconds, const std::string &what) override;
  void broadcast(float *data, int64_t count, double timeoutSeconds,
                 const std::string &what) override;
  void barrier(double timeoutSeconds) override;
  /// Rank 0's bytes to every worker (e.g. NCCL's unique id).
  void broadcastBytes(void *data, int64_t bytes, double timeoutSeconds, const std::string &what);

private:
  std::string backend;
};

/// Ends MPI cleanly. Call it once at the end of a successful run. A run
/// that fails must not call it: Open MPI's finalize waits for the other
/// processes, which may be blocked; exiting without it makes mpirun stop
/// them (they then print why, see docs/distributed.md). No-op without MPI.
void finalizeMPI();

} // namespace kiln::kvstore

#endif // KILN_RUNTIME_KVSTORE_MPICOMMUNICATOR_H
