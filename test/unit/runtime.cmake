# Runtime unit tests (owner: runtime). Each file carries its own little
# byte encoder so expected bytes never come from the code under test.
kiln_add_unittest(RuntimeNpyTest RuntimeNpyTest.cpp)
target_link_libraries(RuntimeNpyTest PRIVATE KilnRuntime)

kiln_add_unittest(RuntimeNDArrayFileTest RuntimeNDArrayFileTest.cpp)
target_link_libraries(RuntimeNDArrayFileTest PRIVATE KilnRuntime)
