# kiln::Executor: compiled training steps against the reference interpreter.
kiln_add_unittest(ExecutorAPITest ${CMAKE_CURRENT_LIST_DIR}/ExecutorAPITest.cpp)
target_link_libraries(ExecutorAPITest PRIVATE KilnExecutor KilnTrain KilnAPI)
