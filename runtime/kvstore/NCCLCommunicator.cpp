//===- runtime/kvstore/NCCLCommunicator.cpp - nccl / dist_device_sync -----===//
//
// Collectives over NCCL. nccl.h and the CUDA runtime header give the types;
// the libraries themselves (libnccl.so.2, libcudart.so) are opened with
// dlopen when a store is created, so programs linking this library start on
// machines without a GPU driver, and creating an `nccl` store there fails
// with a message saying what is missing.
//
// Kiln's arrays are host arrays today, so each collective copies the bucket
// to the GPU, runs ncclAllReduce on a stream, polls the stream until done or
// until the deadline (then ncclCommAbort: no hang), and copies back. With
// several processes the unique id that rank 0 creates travels over MPI
// (MPICommunicator::broadcastBytes); GPU = local rank modulo the GPU count.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "runtime/kvstore/Backends.h"
#include "runtime/kvstore/Communicator.h"
#include "runtime/kvstore/MPICommunicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <dlfcn.h>
#include <thread>

using namespace kiln;
using namespace kiln::kvstore;

namespace {

struct Api {
  void *cudart = nullptr, *nccl = nullptr;
  cudaError_t (*getDeviceCount)(int *);
  cudaError_t (*setDevice)(int);
  cudaError_t (*malloc_)(void **, size_t);
  cudaError_t (*free_)(void *);
  cudaError_t (*memcpy_)(void *, const void *, size_t, cudaMemcpyKind);
  cudaError_t (*streamCreate)(cudaStream_t *);
  cudaError_t (*streamQuery)(cudaStream_t);
  const char *(*cudaErrorString)(cudaError_t);
  ncclResult_t (*getUniqueId)(ncclUniqueId *);
  ncclResult_t (*commInitRank)(ncclComm_t *, int, ncclUniqueId, int);
  ncclResult_t (*allReduce)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t,
                            cudaStream_t);
  ncclResult_t (*broadcast)(const void *, void *, size_t, ncclDataType_t, int, ncclComm_t,
                            cudaStream_t);
  ncclResult_t (*commAbort)(ncclComm_t);
  const char *(*ncclErrorString)(ncclResult_t);
};

void *openFirst(std::initializer_list<const char *> names, std::string &tried) {
  for (const char *n : names) {
    if (void *h = dlopen(n, RTLD_NOW | RTLD_GLOBAL))
      return h;
    tried += std::string(tried.empty() ? "" : ", ") + n;
  }
  return nullptr;
}

template <typename F> void sym(void *lib, const char *name, F &fn, const std::string &type) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn)
    throw Error("kvstore " + type + ": symbol " + name + " missing from the loaded library");
}

/// Loads the libraries once; throws kiln::Error saying what is missing.
const Api &api(const std::string &type) {
  static Api a;
  static std::string failure;
  static bool done = false;
  if (done) {
    if (!failure.empty())
      throw Error(failure);
    return a;
  }
  done = true;
  try {
    std::string tried;
    a.cudart = openFirst({"libcudart.so", "libcudart.so.13", "libcudart.so.12",
                          "/usr/local/cuda/lib64/libcudart.so"},
                         tried);
    if (!a.cudart)
      throw Error("kvstore " + type + ": cannot load the CUDA runtime (tried " + tried + ")");
    tried.clear();
    a.nccl = openFirst({"libnccl.so.2", "libnccl.so", "/usr/local/cuda/lib/libnccl.so.2",
                        "/usr/local/cuda/lib64/libnccl.so.2"},
                       tried);
    if (!a.nccl)
      throw Error("kvstore " + type + ": cannot load NCCL (tried " + tried + ")");
    sym(a.cudart, "cudaGetDeviceCount", a.getDeviceCount, type);
    sym(a.cudart, "cudaSetDevice", a.setDevice, type);
    sym(a.cudart, "cudaMalloc", a.malloc_, type);
    sym(a.cudart, "cudaFree", a.free_, type);
    sym(a.cudart, "cudaMemcpy", a.memcpy_, type);
    sym(a.cudart, "cudaStreamCreate", a.streamCreate, type);
    sym(a.cudart, "cudaStreamQuery", a.streamQuery, type);
    sym(a.cudart, "cudaGetErrorString", a.cudaErrorString, type);
    sym(a.nccl, "ncclGetUniqueId", a.getUniqueId, type);
    sym(a.nccl, "ncclCommInitRank", a.commInitRank, type);
    sym(a.nccl, "ncclAllReduce", a.allReduce, type);
    sym(a.nccl, "ncclBroadcast", a.broadcast, type);
    sym(a.nccl, "ncclCommAbort", a.commAbort, type);
    sym(a.nccl, "ncclGetErrorString", a.ncclErrorString, type);
  } catch (const Error &e) {
    failure = e.what();
    throw;
  }
  return a;
}

class NCCLCommunicator : public Communicator {
public:
  explicit NCCLCommunicator(const std::string &type) : type(type), a(api(type)) {
    int count = 0;
    cudaError_t err = a.getDeviceCount(&count);
    if (err != cudaSuccess || count == 0)
      throw Error("kvstore " + type + ": no usable CUDA GPU (cudaGetDeviceCount: " +
                  (err != cudaSuccess ? std::string(a.cudaErrorString(err))
                                      : std::string("0 devices")) +
                  ")");
    if (launchedByMPI()) {
      mpi = std::make_unique<MPICommunicator>(type);
      r = mpi->rank();
      n = mpi->size();
    }
    int local = r;
    if (const char *s = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK"))
      local = std::atoi(s);
    cuda(a.setDevice(local % count), "cudaSetDevice");
    ncclUniqueId id;
    if (r == 0)
      nccl(a.getUniqueId(&id), "ncclGetUniqueId");
    if (mpi)
      mpi->broadcastBytes(&id, sizeof id, 60, "the NCCL unique id");
    nccl(a.commInitRank(&comm, n, id, r), "ncclCommInitRank");
    cuda(a.streamCreate(&stream), "cudaStreamCreate");
  }
  int rank() const override { return r; }
  int size() const override { return n; }

  void allreduceSum(float *data, int64_t count, double timeout, const std::string &what) override {
    run(data, count * 4, ncclFloat32, ncclSum, false, timeout, what);
  }
  void allreduceSum(double *data, int64_t count, double timeout,
                    const std::string &what) override {
    run(data, count * 8, ncclFloat64, ncclSum, false, timeout, what);
  }
  int allreduceMin(int value, double timeout, const std::string &what) override {
    run(&value, 4, ncclInt32, ncclMin, false, timeout, what);
    return value;
  }
  void broadcast(float *data, int64_t count, double timeout, const std::string &what) override {
    run(data, count * 4, ncclFloat32, ncclSum, true, timeout, what);
  }
  void barrier(double timeout) override { allreduceMin(1, timeout, "the barrier"); }

private:
  void cuda(cudaError_t e, const char *call) {
    if (e != cudaSuccess)
      throw Error("kvstore " + type + ": rank " + std::to_string(r) + ": " + call + ": " +
                  a.cudaErrorString(e));
  }
  void nccl(ncclResult_t e, const char *call) {
    if (e != ncclSuccess)
      throw Error("kvstore " + type + ": rank " + std::to_string(r) + ": " + call + ": " +
                  a.ncclErrorString(e));
  }
  void run(void *host, int64_t bytes, ncclDataType_t dtype, ncclRedOp_t op, bool bcast,
           double timeout, const std::string &what) {
    if (bytes > capacity) {
      if (device)
        a.free_(device);
      cuda(a.malloc_(&device, bytes), "cudaMalloc");
      capacity = bytes;
    }
    int64_t elems = bytes / (dtype == ncclFloat64 ? 8 : 4);
    cuda(a.memcpy_(device, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    if (bcast)
      nccl(a.broadcast(device, device, elems, dtype, 0, comm, stream), "ncclBroadcast");
    else
      nccl(a.allReduce(device, device, elems, dtype, op, comm, stream), "ncclAllReduce");
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(timeout));
    for (;;) {
      cudaError_t e = a.streamQuery(stream);
      if (e == cudaSuccess)
        break;
      if (e != cudaErrorNotReady)
        cuda(e, "cudaStreamQuery");
      if (Clock::now() > deadline) {
        a.commAbort(comm); // frees the stream's kernels; the communicator is gone
        throwTimeout(type, bcast ? "the broadcast" : "the allreduce", what, r, n, timeout);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    cuda(a.memcpy_(host, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
  }

  std::string type;
  const Api &a;
  std::unique_ptr<MPICommunicator> mpi;
  int r = 0, n = 1;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  void *device = nullptr;
  int64_t capacity = 0;
};

} // namespace

void kvstore::registerNCCLBackend() {
  auto factory = [](const std::string &type) -> std::unique_ptr<Communicator> {
    return std::make_unique<NCCLCommunicator>(type);
  };
  registerCommunicator("nccl", factory);
  registerCommunicator("dist_device_sync", factory);
}
