//===- runtime/kvstore/Backends.h - Optional KVStore backends ---*- C++ -*-===//
//
// KilnKVStore itself knows only the in-process types (local, device). The
// distributed backends are libraries of their own, so that only programs
// that want them link Open MPI or look for NCCL; such a program calls the
// matching function once before KVStore::create:
//
//   registerMPIBackend()   KilnKVStoreMPI:  "dist_sync" (and "dist_sync_device")
//   registerNCCLBackend()  KilnKVStoreNCCL: "nccl", "dist_device_sync"; NCCL
//                          and the CUDA runtime are opened with dlopen when a
//                          store is created, so the program still runs on a
//                          machine without a GPU driver (creating the store
//                          then fails with a message saying so).
//
// KILN_HAVE_NCCL_BACKEND is defined (CMake) where KilnKVStoreNCCL was built.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KVSTORE_BACKENDS_H
#define KILN_RUNTIME_KVSTORE_BACKENDS_H

namespace kiln::kvstore {

void registerMPIBackend();
void registerNCCLBackend();

/// True when this process runs under an MPI launcher (mpirun sets
/// OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK).
bool launchedByMPI();

} // namespace kiln::kvstore

#endif // KILN_RUNTIME_KVSTORE_BACKENDS_H
