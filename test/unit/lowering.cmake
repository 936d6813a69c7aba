# CPU lowering (lib/Conversion/GraphToLinalg, lib/Target/CPU): every graph op
# JIT-compiled through the real pipeline and compared with the interpreter.
kiln_add_unittest(LoweringTest LoweringTest.cpp)
target_link_libraries(LoweringTest PRIVATE KilnTargetCPU KilnTransforms KilnInterpreter)
set_tests_properties(LoweringTest PROPERTIES TIMEOUT 1200)

# kiln-cpu-lower-contractions (packed GEMM loops) on linalg contractions with
# transposes, batch/outer dims, fused bias and activation, against loops.
kiln_add_unittest(GemmLoweringTest GemmLoweringTest.cpp)
target_link_libraries(GemmLoweringTest PRIVATE KilnTargetCPU)
