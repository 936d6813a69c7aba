# The operator conformance suite (test/conformance, docs/conformance.md):
# every case MXNet 1.9.1 wrote under test/conformance/cases, on the
# interpreter, the compiled engine and eager NDArrays. Registered as several
# ctest entries (gtest's own sharding) so `ctest -j` runs them side by side.
add_executable(ConformanceTest ${PROJECT_SOURCE_DIR}/test/conformance/ConformanceTest.cpp)
target_link_libraries(ConformanceTest PRIVATE GTest::gtest GTest::gtest_main KilnNDArray
  KilnJitModel KilnInterpreter KilnImport KilnTransforms)
target_compile_definitions(ConformanceTest PRIVATE KILN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
set(KILN_CONFORMANCE_SHARDS 4)
math(EXPR last "${KILN_CONFORMANCE_SHARDS} - 1")
foreach(shard RANGE ${last})
  add_test(NAME ConformanceTest-${shard} COMMAND ConformanceTest)
  set_tests_properties(ConformanceTest-${shard} PROPERTIES TIMEOUT 600
    ENVIRONMENT "GTEST_TOTAL_SHARDS=${KILN_CONFORMANCE_SHARDS};GTEST_SHARD_INDEX=${shard}")
endforeach()
