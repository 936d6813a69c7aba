# kiln-recompute (MXNet's mirror): training steps with and without it agree,
# and the planned training arena shrinks on ResNet.
kiln_add_unittest(RecomputeTest ${CMAKE_CURRENT_LIST_DIR}/RecomputeTest.cpp)
target_link_libraries(RecomputeTest PRIVATE KilnExecutor KilnTrain KilnAPI)
set_tests_properties(RecomputeTest PROPERTIES TIMEOUT 1200)
