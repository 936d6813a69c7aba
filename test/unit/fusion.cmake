# kiln-graph-fuse (lib/Transforms/Fusion.cpp): zoo networks fused and unfused,
# through buildExecutable, the CPU JIT and the plan executor, against the
# reference interpreter.
kiln_add_unittest(FusionTest ${CMAKE_CURRENT_LIST_DIR}/FusionTest.cpp)
target_link_libraries(FusionTest PRIVATE KilnExecutable KilnTargetCPU KilnCompiler KilnImport
  KilnTransforms KilnInterpreter)
set_tests_properties(FusionTest PROPERTIES TIMEOUT 1200)
