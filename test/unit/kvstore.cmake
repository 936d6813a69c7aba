# KVStore (runtime/kvstore, docs/distributed.md): local semantics in gtest;
# the MPI backend through kvstore-mpi-check under mpirun (lit,
# test/lit/Tools/kvstore-mpi.test, REQUIRES: mpi).
kiln_add_unittest(KVStoreTest ${CMAKE_CURRENT_LIST_DIR}/KVStoreTest.cpp)
target_link_libraries(KVStoreTest PRIVATE KilnKVStore KilnTrain)
if(KILN_HAVE_NCCL)
  target_link_libraries(KVStoreTest PRIVATE KilnKVStoreNCCL)
elseif(KILN_HAVE_MPI)
  target_link_libraries(KVStoreTest PRIVATE KilnKVStoreMPI)
endif()
if(KILN_HAVE_MPI)
  add_executable(kvstore-mpi-check ${CMAKE_CURRENT_LIST_DIR}/KVStoreMPICheck.cpp)
  target_link_libraries(kvstore-mpi-check PRIVATE KilnKVStoreMPI)
endif()
