# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
#
# What `cmake --install` puts where (GNU install directories):
#
#   bin/ensol                              the program
#   lib/libensol.{a,so}                    the library (BUILD_SHARED_LIBS)
#   include/ensol/ensol.h, version.h       the public header
#   lib/cmake/ensol/                       find_package(ensol): ensol::ensol
#   lib/pkgconfig/ensol.pc                 pkg-config
#   share/ensol/kernels/                   the kernel sources (models,
#                                          integrators, the OpenCL program)
#   share/man/man1/ensol.1                 made from `ensol ... --help`
#   share/doc/ensol/                       LICENSE, CHANGELOG.md, CITATION.cff

include(CMakePackageConfigHelpers)
set(ENSOL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ensol)
if(BUILD_SHARED_LIBS)
  set(ENSOL_LIBRARY_KIND shared)
else()
  set(ENSOL_LIBRARY_KIND static)
endif()

install(TARGETS ensol EXPORT ensolTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ensol_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/ensol/ensol.h
              ${ENSOL_GENERATED_INCLUDE_DIR}/ensol/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ensol)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/kernels/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ensol/kernels)
# The built-in models' kernel source, generated from kernels/models/*.ens.
install(DIRECTORY ${ENSOL_MODEL_GEN_DIR}/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ensol/kernels
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
              ${PROJECT_SOURCE_DIR}/CITATION.cff
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The CMake package. The targets file names the libraries a static libensol
# needs by their imported targets; ensolConfig.cmake finds them again with
# find_dependency, through the same find modules as this build.
install(EXPORT ensolTargets NAMESPACE ensol:: DESTINATION ${ENSOL_CMAKE_DIR})
export(EXPORT ensolTargets NAMESPACE ensol:: FILE ${PROJECT_BINARY_DIR}/ensolTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ensolConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ensolConfig.cmake INSTALL_DESTINATION ${ENSOL_CMAKE_DIR})
# 0.x: a minor version may change the interface, so 0.2 asks for 0.2.*.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ensolConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ensolConfig.cmake ${PROJECT_BINARY_DIR}/ensolConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindNetCDF.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindNetCDFParallel.cmake
        DESTINATION ${ENSOL_CMAKE_DIR})

# pkg-config: Requires.private names the .pc files found (NetCDF,
# OpenCL); libraries without one go into Libs.private by path. The prefix
# is found from the .pc file's own place, so `cmake --install --prefix P`
# and relocated trees both work.
set(ENSOL_PC_REQUIRES_PRIVATE)
set(ENSOL_PC_LIBS_PRIVATE)
if(PC_NetCDF_FOUND AND NOT ENSOL_PARALLEL_NETCDF_ENABLED)
  list(APPEND ENSOL_PC_REQUIRES_PRIVATE netcdf)
elseif(ENSOL_PARALLEL_NETCDF_ENABLED)
  list(APPEND ENSOL_PC_LIBS_PRIVATE ${NetCDFParallel_LIBRARY})
else()
  list(APPEND ENSOL_PC_LIBS_PRIVATE ${NetCDF_LIBRARY})
endif()
if(ENSOL_OPENCL_ENABLED)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(PC_ENSOL_OpenCL QUIET OpenCL)
  endif()
  if(PC_ENSOL_OpenCL_FOUND)
    list(APPEND ENSOL_PC_REQUIRES_PRIVATE OpenCL)
  else()
    list(APPEND ENSOL_PC_LIBS_PRIVATE ${OpenCL_LIBRARIES})
  endif()
endif()
if(ENSOL_CUDA_ENABLED)
  list(APPEND ENSOL_PC_LIBS_PRIVATE ${CUDA_cudart_static_LIBRARY} -ldl -lrt -lstdc++)
endif()
if(ENSOL_MPI_ENABLED)
  list(APPEND ENSOL_PC_LIBS_PRIVATE ${MPI_C_LIBRARIES})
endif()
if(ENSOL_OPENMP_ENABLED)
  list(APPEND ENSOL_PC_LIBS_PRIVATE ${OpenMP_C_FLAGS})
endif()
list(APPEND ENSOL_PC_LIBS_PRIVATE -pthread -lm)
foreach(lib IN LISTS CMAKE_DL_LIBS)
  list(APPEND ENSOL_PC_LIBS_PRIVATE -l${lib})
endforeach()
list(JOIN ENSOL_PC_REQUIRES_PRIVATE ", " ENSOL_PC_REQUIRES_PRIVATE)
list(JOIN ENSOL_PC_LIBS_PRIVATE " " ENSOL_PC_LIBS_PRIVATE)
file(RELATIVE_PATH ENSOL_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" ENSOL_PC_TO_PREFIX "${ENSOL_PC_TO_PREFIX}")
file(RELATIVE_PATH ENSOL_PC_LIBDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_LIBDIR})
file(RELATIVE_PATH ENSOL_PC_INCLUDEDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/ensol.pc.in ${PROJECT_BINARY_DIR}/ensol.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ensol.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ensol(1), from the --help of each command (cmake/EnsolManPage.cmake).
set(ENSOL_MAN_PAGE ${PROJECT_BINARY_DIR}/man/ensol.1)
add_custom_command(OUTPUT ${ENSOL_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND} -DENSOL=$<TARGET_FILE:ensol_cli> -DOUTPUT=${ENSOL_MAN_PAGE}
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/EnsolManPage.cmake
  DEPENDS ensol_cli ${PROJECT_SOURCE_DIR}/cmake/EnsolManPage.cmake
  COMMENT "Writing the ensol(1) man page" VERBATIM)
add_custom_target(ensol_man ALL DEPENDS ${ENSOL_MAN_PAGE})
install(FILES ${ENSOL_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
