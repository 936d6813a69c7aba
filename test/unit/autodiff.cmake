# Automatic differentiation (dialects/Graph/Gradients.cpp, lib/Transforms/
# Autodiff.cpp): every op's gradient and whole zoo networks against finite
# differences, in the float64 reference interpreter.
kiln_add_unittest(GradientTest ${CMAKE_CURRENT_LIST_DIR}/GradientTest.cpp)
target_link_libraries(GradientTest PRIVATE KilnImport KilnTransforms KilnInterpreter)
