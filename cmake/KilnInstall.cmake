# `cmake --install build --prefix PREFIX` (included at the end of the top
# CMakeLists.txt, once every target exists). Installs
#
#   PREFIX/bin/kiln-opt, kiln-compile, kiln-run, kiln-train
#   PREFIX/lib/libkiln.so                the C++ and C APIs (lib/CAPI)
#   PREFIX/lib/libKilnAotMain.a          what kiln-compile --emit exe|lib links;
#                                        it looks in <bindir>/../lib
#   PREFIX/include/kiln/*.h              the public headers
#   PREFIX/lib/cmake/Kiln/               KilnConfig.cmake, KilnConfigVersion.cmake,
#                                        KilnTargets.cmake (Kiln::kiln, Kiln::kiln-*)
#
# Directories are fixed (not GNUInstallDirs' lib64 or multiarch lib/...):
# kiln-compile finds its archive at <bindir>/../lib. test/package checks
# that an outside project builds against the result.

set(KILN_VERSION 0.1.0)
set(KILN_INSTALL_BINDIR bin)
set(KILN_INSTALL_LIBDIR lib)
set(KILN_INSTALL_INCLUDEDIR include)
set(KILN_INSTALL_CMAKEDIR ${KILN_INSTALL_LIBDIR}/cmake/Kiln)
set(KILN_INSTALLED_TOOLS kiln-opt kiln-compile kiln-run kiln-train)

# libMLIR.so.22 lives only in LLVM's own directory, which the loader does not
# search: the library and the tools keep the directories they were linked
# against from outside the tree (LLVM's, Open MPI's for kiln-train) as their
# RUNPATH, the same in the build tree and installed. Building with it
# directly avoids CMake's install-time rewrite, whose padding would leave an
# empty entry (the current directory) in the build tree's RUNPATH.
set_target_properties(kiln ${KILN_INSTALLED_TOOLS} PROPERTIES
  INSTALL_RPATH_USE_LINK_PATH ON
  BUILD_WITH_INSTALL_RPATH ON)
string(REGEX MATCH "^[0-9]+" KILN_VERSION_MAJOR ${KILN_VERSION})
set_target_properties(kiln PROPERTIES VERSION ${KILN_VERSION} SOVERSION ${KILN_VERSION_MAJOR})

# Kiln::kiln's include directory comes from its INSTALL_INTERFACE (lib/CAPI).
install(TARGETS kiln EXPORT KilnTargets LIBRARY DESTINATION ${KILN_INSTALL_LIBDIR})
install(TARGETS ${KILN_INSTALLED_TOOLS} EXPORT KilnTargets
  RUNTIME DESTINATION ${KILN_INSTALL_BINDIR})
install(TARGETS KilnAotMain ARCHIVE DESTINATION ${KILN_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kiln
  DESTINATION ${KILN_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(EXPORT KilnTargets NAMESPACE Kiln:: DESTINATION ${KILN_INSTALL_CMAKEDIR})
include(CMakePackageConfigHelpers)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/KilnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/KilnConfig.cmake
  INSTALL_DESTINATION ${KILN_INSTALL_CMAKEDIR}
  PATH_VARS KILN_INSTALL_INCLUDEDIR KILN_INSTALL_BINDIR)
# 0.x: a minor release may change the APIs, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/KilnConfigVersion.cmake
  VERSION ${KILN_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/KilnConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/KilnConfigVersion.cmake
  DESTINATION ${KILN_INSTALL_CMAKEDIR})
