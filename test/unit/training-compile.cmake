# Training compiled end to end: zoo networks differentiated (kiln::differentiate),
# fused, planned and JIT-compiled (JitModel), against the reference interpreter.
kiln_add_unittest(TrainingCompileTest ${CMAKE_CURRENT_LIST_DIR}/TrainingCompileTest.cpp)
target_link_libraries(TrainingCompileTest PRIVATE KilnJitModel KilnCompiler KilnTransforms
                      KilnInterpreter)
set_tests_properties(TrainingCompileTest PROPERTIES TIMEOUT 1200)
