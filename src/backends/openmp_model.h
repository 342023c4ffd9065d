/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The CPU loops for a model file given at run time: the same loops as the
 * built-in models' (openmp_kernels.c), compiled for that one model by the
 * system C compiler with the built-in loops' flags (cc_cache.h). */
#ifndef ENS_BACKENDS_OPENMP_MODEL_H
#define ENS_BACKENDS_OPENMP_MODEL_H

#include "backends/cc_cache.h"
#include "backends/model_program.h"
#include "backends/openmp_kernels.h"

typedef ens_status ens_openmp_advance_fn(const ens_backend_job *job, long long count,
                                         void *state, const void *params, long long nsteps,
                                         double t_start, const ens_noise_key *noise,
                                         const ens_openmp_adaptive *adaptive, ens_error *err);

/* The loops for job->user_model in the job's floating-point mode, loaded
 * into *obj (ens_cc_unload); *fn takes a copy of the job whose model is
 * ENS_MODEL_FILE_ID (model_program.h). */
ens_status ens_openmp_model_load(const ens_backend_job *job, ens_cc_object *obj,
                                 ens_openmp_advance_fn **fn, ens_error *err);

#endif
