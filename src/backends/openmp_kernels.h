/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Entry points of the CPU backend's compute loops (openmp_kernels.c). */
#ifndef ENS_BACKENDS_OPENMP_KERNELS_H
#define ENS_BACKENDS_OPENMP_KERNELS_H

#include "backends/backend.h"

/* DOPRI5's per-member arrays (rows of ens_portable.h, in the job's
 * precision) and where to advance the members to. */
typedef struct ens_openmp_adaptive {
    void *aux;            /* ENS_DOPRI5_REAL_ROWS(nvars) rows of count */
    ens_i64 *aux_int;     /* ENS_DOPRI5_INT_ROWS rows of count */
    const void *tol;      /* rtol[nvars], atol[nvars] */
    double t_end;
    int fresh;            /* first call since upload: start from `state` */
} ens_openmp_adaptive;

/* Advance `count` members (SoA state and params in the job's precision):
 * nsteps fixed steps from model time t_start, with the noise of `noise`
 * where the model has noise inputs, or with `adaptive` (DOPRI5) to
 * adaptive->t_end. */
ens_status ens_openmp_advance_contract(const ens_backend_job *job, long long count, void *state,
                                       const void *params, long long nsteps, double t_start,
                                       const ens_noise_key *noise,
                                       const ens_openmp_adaptive *adaptive, ens_error *err);
ens_status ens_openmp_advance_strict(const ens_backend_job *job, long long count, void *state,
                                     const void *params, long long nsteps, double t_start,
                                     const ens_noise_key *noise,
                                     const ens_openmp_adaptive *adaptive, ens_error *err);

/* Which compiled copy of the loops runs here, e.g. "x86-64-v3 loops (AVX2,
 * FMA)" or "native loops" (openmp_dispatch.c). */
const char *ens_openmp_cpu_variant(void);
/* The compiler flags of that copy (-march=...), which loops compiled at
 * run time for a model file take too (openmp_model.c). */
const char *ens_openmp_cpu_flags(void);

#endif
