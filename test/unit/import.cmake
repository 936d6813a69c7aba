# Unit tests of lib/Import (mx::Graph <-> graph dialect, model loading).
kiln_add_unittest(ImportGraphTest ${CMAKE_CURRENT_LIST_DIR}/ImportGraphTest.cpp)
target_link_libraries(ImportGraphTest PRIVATE KilnImport)

kiln_add_unittest(ImportModelTest ${CMAKE_CURRENT_LIST_DIR}/ImportModelTest.cpp)
target_link_libraries(ImportModelTest PRIVATE KilnImport)

# Every zoo network: export -> JSON -> import is identical, interpreter outputs too.
kiln_add_unittest(ZooRoundTripTest ${CMAKE_CURRENT_LIST_DIR}/ZooRoundTripTest.cpp)
target_link_libraries(ZooRoundTripTest PRIVATE KilnCompiler KilnImport KilnInterpreter)
