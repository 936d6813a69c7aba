# The JIT path end to end: compiled models against the reference interpreter.
kiln_add_unittest(JitModelTest ${CMAKE_CURRENT_LIST_DIR}/JitModelTest.cpp)
target_link_libraries(JitModelTest PRIVATE KilnJitModel KilnCompiler KilnInterpreter)
