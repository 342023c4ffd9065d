/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The yardstick without FMA contraction: bench/CMakeLists.txt compiles this
 * file with -ffp-contract=off. See yardstick.c. */
#define YS_STRICT 1
#include "yardstick.c"
