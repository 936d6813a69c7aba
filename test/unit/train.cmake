# Training stack: data iterators (KilnData), initializers and optimizers
# (KilnTrain). See docs/training.md.
find_package(ZLIB REQUIRED)
kiln_add_unittest(DataIterTest ${CMAKE_CURRENT_LIST_DIR}/DataIterTest.cpp)
# zlib directly too: the test gzips its own fixtures.
target_link_libraries(DataIterTest PRIVATE KilnData ZLIB::ZLIB)

kiln_add_unittest(InitializerTest ${CMAKE_CURRENT_LIST_DIR}/InitializerTest.cpp)
target_link_libraries(InitializerTest PRIVATE KilnTrain)

kiln_add_unittest(OptimizerTest ${CMAKE_CURRENT_LIST_DIR}/OptimizerTest.cpp)
target_link_libraries(OptimizerTest PRIVATE KilnTrain)
