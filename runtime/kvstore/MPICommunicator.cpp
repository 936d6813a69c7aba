//===- runtime/kvstore/MPICommunicator.cpp - dist_sync over Open MPI ------===//

#include "runtime/kvstore/MPICommunicator.h"

#include "kiln/Error.h"
#include "runtime/kvstore/Backends.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace kiln;
using namespace kiln::kvstore;

namespace {

std::mutex initMu;
bool initializedHere = false;
int worldRank = 0, worldSize = 1;
char termMessage[256];

/// mpirun sends SIGTERM to the survivors when one process fails or exits
/// early. Say so (the default action would die silently), then exit.
extern "C" void onTerminate(int) {
  ssize_t ignored = write(STDERR_FILENO, termMessage, std::strlen(termMessage));
  (void)ignored;
  _exit(143);
}

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, len);
}

void check(int code, const std::string &backend, const char *call) {
  if (code != MPI_SUCCESS)
    throw Error("kvstore " + backend + ": rank " + std::to_string(worldRank) + ": " + call +
                " failed: " + mpiError(code));
}

/// Polls REQ until it completes or TIMEOUT seconds pass. Backs off from
/// spinning to short sleeps so that a rank waiting for a slower peer does
/// not steal the core that peer computes on.
void waitRequest(MPI_Request &req, double timeout, const std::string &backend, const char *op,
                 const std::string &what) {
  auto start = Clock::now();
  auto spinUntil = start + std::chrono::milliseconds(2);
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(timeout));
  int done = 0;
  for (;;) {
    check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), backend, "MPI_Test");
    if (done)
      return;
    // Yielding keeps latency at MPI's own for the usual short waits and
    // still hands the core over; a long wait (a slower peer) sleeps.
    auto now = Clock::now();
    if (now < spinUntil) {
      std::this_thread::yield();
      continue;
    }
    if (now > deadline)
      throwTimeout(backend, op, what, worldRank, worldSize, timeout);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

/// MPI counts are ints: reduce very large arrays in pieces.
constexpr int64_t maxChunk = INT_MAX / 2;

} // namespace

MPICommunicator::MPICommunicator(std::string backendName) : backend(std::move(backendName)) {
  std::lock_guard<std::mutex> lock(initMu);
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    if (!launchedByMPI())
      throw Error("kvstore " + backend +
                  ": not started by an MPI launcher; run it as 'mpirun -np N PROGRAM ...' "
                  "(as root add --allow-run-as-root)");
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), backend,
          "MPI_Init_thread");
    if (provided < MPI_THREAD_SERIALIZED)
      throw Error("kvstore " + backend +
                  ": this MPI provides no MPI_THREAD_SERIALIZED support (collectives run on "
                  "an engine thread)");
    initializedHere = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &worldRank);
    MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
    std::snprintf(termMessage, sizeof termMessage,
                  "kiln: rank %d of %d (pid %d): stopped by SIGTERM from the MPI launcher, "
                  "which does that when another rank fails or exits early; see that rank's "
                  "messages\n",
                  worldRank, worldSize, (int)getpid());
    std::signal(SIGTERM, onTerminate);
  }
}

int MPICommunicator::rank() const { return worldRank; }
int MPICommunicator::size() const { return worldSize; }

void MPICommunicator::allreduceSum(float *data, int64_t count, double timeout,
                                   const std::string &what) {
  for (int64_t off = 0; off < count; off += maxChunk) {
    MPI_Request req;
    int n = static_cast<int>(std::min(maxChunk, count - off));
    check(MPI_Iallreduce(MPI_IN_PLACE, data + off, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req),
          backend, "MPI_Iallreduce");
    waitRequest(req, timeout, backend, "the allreduce", what);
  }
}

void MPICommunicator::allreduceSum(double *data, int64_t count, double timeout,
                                   const std::string &what) {
  MPI_Request req;
  check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_DOUBLE, MPI_SUM,
                       MPI_COMM_WORLD, &req),
        backend, "MPI_Iallreduce");
  waitRequest(req, timeout, backend, "the allreduce", what);
}

int MPICommunicator::allreduceMin(int value, double timeout, const std::string &what) {
  MPI_Request req;
  check(MPI_Iallreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req), backend,
        "MPI_Iallreduce");
  waitRequest(req, timeout, backend, "the agreement on", what);
  return value;
}

void MPICommunicator::broadcast(float *data, int64_t count, double timeout,
                                const std::string &what) {
  broadcastBytes(data, count * static_cast<int64_t>(sizeof(float)), timeout, what);
}

void MPICommunicator::broadcastBytes(void *data, int64_t bytes, double timeout,
                                     const std::string &what) {
  char *p = static_cast<char *>(data);
  for (int64_t off = 0; off < bytes; off += maxChunk) {
    MPI_Request req;
    int n = static_cast<int>(std::min(maxChunk, bytes - off));
    check(MPI_Ibcast(p + off, n, MPI_BYTE, 0, MPI_COMM_WORLD, &req), backend, "MPI_Ibcast");
    waitRequest(req, timeout, backend, "the broadcast", what);
  }
}

void MPICommunicator::barrier(double timeout) {
  MPI_Request req;
  check(MPI_Ibarrier(MPI_COMM_WORLD, &req), backend, "MPI_Ibarrier");
  waitRequest(req, timeout, backend, "the barrier", "all workers");
}

void kvstore::finalizeMPI() {
  std::lock_guard<std::mutex> lock(initMu);
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin && initializedHere)
    MPI_Finalize();
}

void kvstore::registerMPIBackend() {
  auto factory = [](const std::string &type) -> std::unique_ptr<Communicator> {
    return std::make_unique<MPICommunicator>(type);
  };
  registerCommunicator("dist_sync", factory);
  registerCommunicator("dist_sync_device", factory);
}
