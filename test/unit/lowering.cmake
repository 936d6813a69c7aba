# CPU lowering (lib/Conversion/GraphToLinalg, lib/Target/CPU): every graph op
# JIT-compiled through the real pipeline and compared with the interpreter.
kiln_add_unittest(LoweringTest LoweringTest.cpp)
target_link_libraries(LoweringTest PRIVATE KilnTargetCPU KilnTransforms KilnInterpreter)
set_tests_properties(LoweringTest PROPERTIES TIMEOUT 1200)
