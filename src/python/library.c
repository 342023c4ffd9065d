/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The Python package's shared library (src/CMakeLists.txt, ENSOL_PYTHON):
 * libensol's objects, linked whole; the package calls the public API of
 * include/ensol/ensol.h through ctypes. Nothing is defined here.
 */
#include "ensol/ensol.h"

typedef int ens_python_library_has_no_code;
