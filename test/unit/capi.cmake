# The C API (include/kiln/c_api.h). Its AOT tests build model libraries with
# this tree's kiln-compile.
kiln_add_unittest(CApiTest ${CMAKE_CURRENT_LIST_DIR}/CApiTest.cpp)
target_link_libraries(CApiTest PRIVATE KilnCAPI)
target_compile_definitions(CApiTest PRIVATE KILN_COMPILE_PATH="$<TARGET_FILE:kiln-compile>")
add_dependencies(CApiTest kiln-compile)
