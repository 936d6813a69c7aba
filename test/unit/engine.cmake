# Dependency engine unit tests (owner: engine, see docs/runtime-engine.md).
kiln_add_unittest(EngineTest EngineTest.cpp)
target_link_libraries(EngineTest PRIVATE KilnRuntime)
set_tests_properties(EngineTest PROPERTIES TIMEOUT 300)

kiln_add_unittest(EngineParallelTest EngineParallelTest.cpp)
target_link_libraries(EngineParallelTest PRIVATE KilnRuntime)
set_tests_properties(EngineParallelTest PROPERTIES TIMEOUT 300)

# The same tests under ThreadSanitizer, built and run by default. The engine
# sources are compiled straight into the test (not via KilnRuntime), so only
# this target carries -fsanitize=thread and the rest of the build is normal.
# GoogleTest itself stays uninstrumented; it does no cross-thread work here.
option(KILN_ENGINE_TSAN "Build and run the engine tests under ThreadSanitizer" ON)
if(KILN_ENGINE_TSAN)
  include(CheckCXXSourceRuns)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=thread)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=thread)
  check_cxx_source_runs([[
    #include <thread>
    int x;
    int main() { std::thread t([] { x = 1; }); t.join(); return x - 1; }
  ]] KILN_HAVE_TSAN)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(KILN_HAVE_TSAN)
    kiln_add_unittest(EngineTestTSan
      EngineTest.cpp
      EngineParallelTest.cpp
      ${PROJECT_SOURCE_DIR}/runtime/engine/Engine.cpp
      ${PROJECT_SOURCE_DIR}/runtime/engine/Parallel.cpp)
    # -O1 keeps TSan fast enough; asserts stay on for the engine invariants.
    target_compile_options(EngineTestTSan PRIVATE -fsanitize=thread -g -O1 -UNDEBUG)
    target_link_options(EngineTestTSan PRIVATE -fsanitize=thread)
    find_package(Threads REQUIRED)
    target_link_libraries(EngineTestTSan PRIVATE Threads::Threads)
    # halt_on_error: the first race fails the test (exit code 66).
    set_tests_properties(EngineTestTSan PROPERTIES TIMEOUT 900
      ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1")
  else()
    message(WARNING "ThreadSanitizer is not usable with this compiler "
                    "(gcc needs libtsan, e.g. Debian's libtsan2): "
                    "EngineTestTSan is not built.")
  endif()
endif()
