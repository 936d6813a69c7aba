# cmake -DKILN_BUILD_DIR=B -DCONSUMER_DIR=S -DWORK_DIR=W -DGENERATOR=G
#       [-DMAKE_PROGRAM=M] [-DC_COMPILER=CC] [-DCXX_COMPILER=CXX] [-DLAUNCHER=ccache]
#       -P RunPackageTest.cmake
#
# 1. cmake --install B --prefix W/prefix
# 2. the installed libkiln.so finds all it needs (ldd) and its LLVM/MLIR
#    dependencies are the shared libMLIR.so and libLLVM.so
# 3. configures S (find_package(Kiln) with CMAKE_PREFIX_PATH=W/prefix), builds
#    it, runs its C++ and C programs and checks the numbers they print
# 4. the installed kiln-compile builds an executable (it finds
#    libKilnAotMain.a at <bindir>/../lib) that runs on the .npy file step 3
#    wrote
# W is removed at the end, whether the test passed or not.
cmake_minimum_required(VERSION 3.20)

foreach(var KILN_BUILD_DIR CONSUMER_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "package test: -D${var}=... is required")
  endif()
endforeach()

macro(fail message)
  file(REMOVE_RECURSE "${WORK_DIR}")
  message(FATAL_ERROR "package test: ${message}")
endmacro()

# Runs the command in ARGN; fails with its output unless it exits 0. The
# output is left in STEP_OUTPUT.
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    fail("${what} failed (${rc}): ${command}\n${out}${err}")
  endif()
  set(STEP_OUTPUT "${out}${err}" PARENT_SCOPE)
endfunction()

# Fails unless STEP_OUTPUT matches every regular expression in ARGN.
function(expect what)
  foreach(pattern ${ARGN})
    if(NOT STEP_OUTPUT MATCHES "${pattern}")
      fail("${what}: the output lacks '${pattern}':\n${STEP_OUTPUT}")
    endif()
  endforeach()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

# 1. Install.
step("installing" ${CMAKE_COMMAND} --install "${KILN_BUILD_DIR}" --prefix "${prefix}")
foreach(file lib/libkiln.so lib/libKilnAotMain.a include/kiln/c_api.h include/kiln/NDArray.h
             lib/cmake/Kiln/KilnConfig.cmake lib/cmake/Kiln/KilnConfigVersion.cmake
             bin/kiln-compile bin/kiln-run bin/kiln-opt bin/kiln-train)
  if(NOT EXISTS "${prefix}/${file}")
    fail("the install lacks ${file}")
  endif()
endforeach()

# 2. Run-time dependencies of the installed library.
step("ldd" ldd "${prefix}/lib/libkiln.so")
if(STEP_OUTPUT MATCHES "not found")
  fail("libkiln.so has unresolved dependencies:\n${STEP_OUTPUT}")
endif()
expect("ldd libkiln.so" "libMLIR\\.so" "libLLVM\\.so")

# 3. The consumer project.
set(configure ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${prefix}")
foreach(pair "MAKE_PROGRAM;CMAKE_MAKE_PROGRAM" "C_COMPILER;CMAKE_C_COMPILER"
             "CXX_COMPILER;CMAKE_CXX_COMPILER" "LAUNCHER;CMAKE_C_COMPILER_LAUNCHER"
             "LAUNCHER;CMAKE_CXX_COMPILER_LAUNCHER")
  list(GET pair 0 from)
  list(GET pair 1 to)
  if(DEFINED ${from} AND NOT "${${from}}" STREQUAL "")
    list(APPEND configure "-D${to}=${${from}}")
  endif()
endforeach()
step("configuring the consumer" ${configure})
expect("configuring the consumer" "Kiln [0-9]+\\.[0-9]+\\.[0-9]+ from ${prefix}")
step("building the consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")

step("the C++ consumer" "${WORK_DIR}/build/consumer-cpp" "${WORK_DIR}/x.npy")
# y = x * 2 + b with x = [[1, 2, 3], [4, 5, 6]], b = [10, 20, 30].
expect("the C++ consumer"
  "y = 12 24 36 18 30 42\n"
  "sum = 162\n"
  "caught kiln::Error: [^\n]*NoSuchOp")

step("the C consumer" "${WORK_DIR}/build/consumer-c")
# relu([[1, -2], [3, -4]]) * 3 = [[3, 0], [9, 0]]; FullyConnected of that
# with weight [[1, 1]] and bias [0.5] = [3.5, 9.5].
expect("the C consumer"
  "relu\\(x\\) \\* 3 = 3 0 9 0\n"
  "fc = 3\\.5 9\\.5\n"
  "error: kiln_nd_invoke: [^\n]*NoSuchOp")

# 4. An AOT executable from the installed kiln-compile.
step("kiln-compile --emit exe" "${prefix}/bin/kiln-compile" zoo:mlp
  --input-shape data=1,1,28,28 --random-params 3 --emit exe -o "${WORK_DIR}/mlp")
step("the AOT executable" "${WORK_DIR}/mlp" --input "data=${WORK_DIR}/x.npy"
  --output-dir "${WORK_DIR}")
if(NOT EXISTS "${WORK_DIR}/out0.npy")
  fail("the AOT executable wrote no out0.npy:\n${STEP_OUTPUT}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "package test: passed")
