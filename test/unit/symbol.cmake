# MXNet symbol JSON, attribute strings, op catalog, Symbol API and zoo.
kiln_add_unittest(MXNetJSONTest ${CMAKE_CURRENT_LIST_DIR}/MXNetJSONTest.cpp)
target_link_libraries(MXNetJSONTest PRIVATE KilnMXNetGraph)
kiln_add_unittest(SymbolAPITest ${CMAKE_CURRENT_LIST_DIR}/SymbolAPITest.cpp)
target_link_libraries(SymbolAPITest PRIVATE KilnAPI)
kiln_add_unittest(ZooTest ${CMAKE_CURRENT_LIST_DIR}/ZooTest.cpp)
target_link_libraries(ZooTest PRIVATE KilnAPI)
# The operator registry against MXNet 1.9.1's own list of operators.
kiln_add_unittest(RegistryTest ${CMAKE_CURRENT_LIST_DIR}/RegistryTest.cpp)
target_link_libraries(RegistryTest PRIVATE KilnMXNetGraph)
