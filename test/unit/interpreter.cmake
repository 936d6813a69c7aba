# Reference interpreter (lib/Interpreter): the oracle for every lowering.
kiln_add_unittest(InterpreterTest
  InterpreterBasicTest.cpp
  InterpreterNNTest.cpp
  InterpreterGradTest.cpp)
target_link_libraries(InterpreterTest PRIVATE KilnInterpreter)
