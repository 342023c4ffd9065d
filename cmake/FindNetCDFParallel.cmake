# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
# Finds a NetCDF-C built for parallel I/O through HDF5 (NC_HAS_PARALLEL4),
# for an MPI build. Sets NetCDFParallel_FOUND, NetCDFParallel_INCLUDE_DIR
# (the directory of netcdf.h and netcdf_par.h) and NetCDFParallel_LIBRARY.
#
# Debian's libnetcdf-mpi-dev installs the headers under
# /usr/lib/<triplet>/netcdf/mpi/include and the library as netcdf_mpi,
# while its nc-config and pkg-config describe the serial build, so the
# header directory is searched for explicitly and NC_HAS_PARALLEL4 checked
# in a compile test. Elsewhere (HPC modules: netcdf-mpi, netcdf built with
# MPI) netcdf.h and netcdf_par.h sit together under nc-config's prefix.
# Set NetCDFParallel_INCLUDE_DIR and NetCDFParallel_LIBRARY to override.

find_program(NetCDFParallel_NC_CONFIG nc-config)
if(NetCDFParallel_NC_CONFIG)
  execute_process(COMMAND ${NetCDFParallel_NC_CONFIG} --prefix OUTPUT_VARIABLE _ncp_prefix
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
set(_ncp_hints $ENV{NETCDF} $ENV{NETCDF_ROOT} $ENV{NCAR_ROOT_NETCDF} ${_ncp_prefix})
file(GLOB _ncp_debian_inc /usr/lib/*/netcdf/mpi/include)

find_path(NetCDFParallel_INCLUDE_DIR netcdf_par.h
          HINTS ${_ncp_debian_inc} PATH_SUFFIXES include
          PATHS ${_ncp_hints} NO_DEFAULT_PATH)
if(NOT NetCDFParallel_INCLUDE_DIR)
  find_path(NetCDFParallel_INCLUDE_DIR netcdf_par.h)
endif()
# Debian's parallel library is libnetcdf_mpi; a module's is libnetcdf.
find_library(NetCDFParallel_LIBRARY NAMES netcdf_mpi
             HINTS ${_ncp_hints} PATH_SUFFIXES lib lib64)
if(NOT NetCDFParallel_LIBRARY AND NetCDFParallel_INCLUDE_DIR)
  get_filename_component(_ncp_root "${NetCDFParallel_INCLUDE_DIR}" DIRECTORY)
  find_library(NetCDFParallel_LIBRARY NAMES netcdf HINTS ${_ncp_root}/lib ${_ncp_root}/lib64
               NO_DEFAULT_PATH)
endif()

if(NetCDFParallel_INCLUDE_DIR AND NetCDFParallel_LIBRARY AND MPI_C_FOUND)
  include(CheckCSourceCompiles)
  include(CMakePushCheckState)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_INCLUDES ${NetCDFParallel_INCLUDE_DIR} ${MPI_C_INCLUDE_DIRS})
  set(CMAKE_REQUIRED_LIBRARIES ${NetCDFParallel_LIBRARY} ${MPI_C_LIBRARIES})
  set(CMAKE_REQUIRED_QUIET ON)
  check_c_source_compiles([[
#include <mpi.h>
#include <netcdf.h>
#include <netcdf_par.h>
#include <netcdf_meta.h>
#if !defined(NC_HAS_PARALLEL4) || !NC_HAS_PARALLEL4
#error "NetCDF without parallel NetCDF-4 I/O"
#endif
int main(void) { int id; return nc_create_par("x.nc", NC_NETCDF4, MPI_COMM_WORLD, MPI_INFO_NULL, &id); }
]] ENSOL_NETCDF_HAS_PARALLEL4)
  cmake_pop_check_state()
endif()
set(NetCDFParallel_WORKS ${ENSOL_NETCDF_HAS_PARALLEL4})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NetCDFParallel
  REQUIRED_VARS NetCDFParallel_LIBRARY NetCDFParallel_INCLUDE_DIR NetCDFParallel_WORKS
  REASON_FAILURE_MESSAGE
    "need a NetCDF-C with parallel NetCDF-4 I/O (Debian: libnetcdf-mpi-dev, HPC: the netcdf-mpi module)")
mark_as_advanced(NetCDFParallel_INCLUDE_DIR NetCDFParallel_LIBRARY NetCDFParallel_NC_CONFIG)

# Serial and parallel NetCDF in one program clash, and everything links
# NetCDF::NetCDF (FindNetCDF.cmake): once found, it is the parallel library.
# ensol's build and its installed package (ensolConfig.cmake) alike.
if(NetCDFParallel_FOUND AND TARGET NetCDF::NetCDF)
  set_target_properties(NetCDF::NetCDF PROPERTIES
    IMPORTED_LOCATION "${NetCDFParallel_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NetCDFParallel_INCLUDE_DIR}")
endif()
