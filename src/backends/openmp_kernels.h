/* Entry points of the CPU backend's compute loops (openmp_kernels.c). */
#ifndef ENS_BACKENDS_OPENMP_KERNELS_H
#define ENS_BACKENDS_OPENMP_KERNELS_H

#include "backends/backend.h"

/* Advance `count` members (SoA state and params in the job's precision). */
ens_status ens_openmp_advance_contract(const ens_backend_job *job, long long count, void *state,
                                       const void *params, long long nsteps, ens_error *err);
ens_status ens_openmp_advance_strict(const ens_backend_job *job, long long count, void *state,
                                     const void *params, long long nsteps, ens_error *err);

#endif
