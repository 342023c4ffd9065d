# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
# Tri-state build options: AUTO (use when found), ON (fail when missing), OFF.

function(ensol_feature name doc)
  set(${name} AUTO CACHE STRING "${doc}: AUTO, ON or OFF")
  set_property(CACHE ${name} PROPERTY STRINGS AUTO ON OFF)
  string(TOUPPER "${${name}}" value)
  if(NOT value MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "${name}=${${name}}: expected AUTO, ON or OFF")
  endif()
  set(${name} "${value}" PARENT_SCOPE)
endfunction()

# Sets ${name}_ENABLED from the option and whether the dependency was found.
function(ensol_feature_resolve name found_var what)
  if(${name} STREQUAL "OFF")
    set(enabled FALSE)
  elseif(${found_var})
    set(enabled TRUE)
  elseif(${name} STREQUAL "ON")
    message(FATAL_ERROR "${name}=ON but ${what} was not found")
  else()
    set(enabled FALSE)
    message(STATUS "ensol: ${name}=AUTO and ${what} not found: building without it")
  endif()
  set(${name}_ENABLED ${enabled} PARENT_SCOPE)
endfunction()
