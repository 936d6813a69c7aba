# Eager NDArrays and imperative autograd (include/kiln/NDArray.h).
kiln_add_unittest(NDArrayOpsTest ${CMAKE_CURRENT_LIST_DIR}/NDArrayOpsTest.cpp)
target_link_libraries(NDArrayOpsTest PRIVATE KilnNDArray KilnExecutor)
kiln_add_unittest(NDArrayAutogradTest ${CMAKE_CURRENT_LIST_DIR}/NDArrayAutogradTest.cpp)
target_link_libraries(NDArrayAutogradTest PRIVATE KilnNDArray KilnExecutor KilnTrain)
kiln_add_unittest(NDArrayTest ${CMAKE_CURRENT_LIST_DIR}/NDArrayTest.cpp)
target_link_libraries(NDArrayTest PRIVATE KilnNDArray KilnExecutor)
