# Execution plan: memory planner, plan format, executor, executable builder
# (docs/execution-plan.md).

kiln_add_unittest(PlanTest
  PlanMemoryTest.cpp
  PlanFormatTest.cpp)
target_link_libraries(PlanTest PRIVATE KilnTransforms KilnRuntime)

kiln_add_unittest(ExecutorTest
  ExecutorTest.cpp
  ExecutorEndToEndTest.cpp)
target_link_libraries(ExecutorTest PRIVATE KilnExecutable KilnInterpreter)
