# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
# Finds the NetCDF-C library. Defines NetCDF_FOUND, NetCDF_VERSION and the
# imported target NetCDF::NetCDF. Looks through pkg-config first, then
# nc-config's prefix, then the usual paths.

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_NetCDF QUIET netcdf)
endif()

find_program(NetCDF_NC_CONFIG nc-config)
if(NetCDF_NC_CONFIG)
  execute_process(COMMAND ${NetCDF_NC_CONFIG} --prefix OUTPUT_VARIABLE _nc_prefix
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()

find_path(NetCDF_INCLUDE_DIR netcdf.h
          HINTS ${PC_NetCDF_INCLUDE_DIRS} ${_nc_prefix}/include)
find_library(NetCDF_LIBRARY netcdf
             HINTS ${PC_NetCDF_LIBRARY_DIRS} ${_nc_prefix}/lib)

if(NetCDF_INCLUDE_DIR AND EXISTS "${NetCDF_INCLUDE_DIR}/netcdf_meta.h")
  file(STRINGS "${NetCDF_INCLUDE_DIR}/netcdf_meta.h" _nc_ver REGEX "#define NC_VERSION_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*NC_VERSION_MAJOR ([0-9]+).*" "\\1" _maj "${_nc_ver}")
  string(REGEX REPLACE ".*NC_VERSION_MINOR ([0-9]+).*" "\\1" _min "${_nc_ver}")
  string(REGEX REPLACE ".*NC_VERSION_PATCH ([0-9]+).*" "\\1" _pat "${_nc_ver}")
  set(NetCDF_VERSION "${_maj}.${_min}.${_pat}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NetCDF
  REQUIRED_VARS NetCDF_LIBRARY NetCDF_INCLUDE_DIR
  VERSION_VAR NetCDF_VERSION
  REASON_FAILURE_MESSAGE "install NetCDF-C (Debian/Ubuntu: apt-get install libnetcdf-dev)")

if(NetCDF_FOUND AND NOT TARGET NetCDF::NetCDF)
  add_library(NetCDF::NetCDF UNKNOWN IMPORTED)
  set_target_properties(NetCDF::NetCDF PROPERTIES
    IMPORTED_LOCATION "${NetCDF_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NetCDF_INCLUDE_DIR}")
endif()
mark_as_advanced(NetCDF_INCLUDE_DIR NetCDF_LIBRARY NetCDF_NC_CONFIG)
