/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* A model file's right-hand side as one host function in double
 * (backends/model_probe.c): the marker of ens_model_rhs.h is replaced with
 * the generated source, and the system C compiler builds it. */
#include "ens_portable.h"

#define ens_real double
#define ENS_SUFFIX _d
#define ENS_SYM(name) ENS_CAT(name, ENS_SUFFIX)
#include "ens_model_rhs.h"

__attribute__((visibility("default"))) void ens_model_probe_rhs(int nv, double t, const double *x,
                                                                double *f, const double *p)
{
    ENS_SYM(ens_rhs_file)(nv, t, x, f, p);
}
