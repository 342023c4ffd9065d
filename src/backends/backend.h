/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The ops table every backend implements. The host scheduler (src/host)
 * drives a backend only through these calls; the maths the backend runs is
 * the single-source code in kernels/.
 *
 * Memory layout across the table: structure-of-arrays, member fastest.
 *   state  [var * count + m]    in the job's precision (float or double)
 *   params [param * count + m]  in the job's precision
 */
#ifndef ENS_BACKENDS_BACKEND_H
#define ENS_BACKENDS_BACKEND_H

#include <stddef.h>

#include "core/choices.h"
#include "core/error.h"
#include "ens_portable.h"

typedef struct ens_backend_job {
    int model;              /* enum ens_model_id */
    int nvars;
    int nparams;
    int integrator;         /* enum ens_integrator_id */
    ens_precision_id precision;
    double dt;              /* fixed-step: the step; DOPRI5: the first step and
                               the unit of advance() */
    /* DOPRI5 only (ens_job_adaptive) */
    const double *rtol;     /* nvars values each */
    const double *atol;
    double dt_min;          /* 0: none */
    double dt_max;          /* 0: none */
    long long max_steps;    /* attempted steps per member and run */
    int threads;            /* CPU threads; 0 = all */
    int strict_fp;          /* no FMA contraction, correctly rounded division */
    const char *device;     /* device request: "" default, an index, or a name part */
    int local_rank;         /* under MPI, this rank's number among the ranks of its
                               node (MPI_COMM_TYPE_SHARED); -1 otherwise. A GPU
                               backend given no device request then takes device
                               local_rank % (devices it sees) */
    long long capacity;     /* the most members one upload will carry; create may
                               lower it to what the device can hold */
} ens_backend_job;

typedef struct ens_backend_ops {
    const char *name;
    int device_memory;      /* buffers live in device memory, apart from the host's */
    /* Can this backend run here? `detail` gets its devices or the reason not. */
    ens_status (*probe)(char *detail, size_t detail_size);
    /* Optional: whether `auto` should take this backend when probe succeeds
     * (NULL: always). The OpenCL backend declines when its only devices are
     * CPUs, which the OpenMP backend later in the auto order serves better. */
    int (*auto_eligible)(void);
    ens_status (*create)(ens_backend_job *job, void **ctx, ens_error *err);
    /* Device description for logs and file attributes. */
    void (*describe)(void *ctx, char *device, size_t device_size);
    /* Load `count` members; the scheduler keeps 1 <= count <= capacity. */
    ens_status (*upload)(void *ctx, long long count, const void *state,
                         const void *params, ens_error *err);
    /* Advance the model time of every loaded member by nsteps * dt: nsteps
     * fixed steps, or for DOPRI5 adaptive steps until the time
     * ens_job_time(job, steps since upload), whose state `download` then
     * returns (interpolated; each member keeps its own step state). */
    ens_status (*advance)(void *ctx, long long nsteps, ens_error *err);
    /* Copy the loaded members' current state to host memory. */
    ens_status (*download)(void *ctx, void *state, ens_error *err);
    /* Per-member status, accepted and rejected steps and failure time (NaN
     * for members that did not fail) of the loaded members since upload;
     * NULL arrays are skipped. Needed for DOPRI5 (a backend without it
     * refuses adaptive jobs at create); NULL otherwise. */
    ens_status (*download_stats)(void *ctx, const ens_member_stats *stats, ens_error *err);
    void (*destroy)(void *ctx);
    /* Optional: with it, advance may return while the device still works
     * (so that the host's work on the previous download overlaps it), and
     * wait returns once it is done; download and download_stats come only
     * after wait. NULL: advance returns when the work is done. */
    ens_status (*wait)(void *ctx, ens_error *err);
    /* Optional (DOPRI5): the loaded members' step state, in double:
     * real_rows[r * count + i] for the ENS_DOPRI5_REAL_ROWS(nvars) rows and
     * int_rows[r * count + i] for the ENS_DOPRI5_INT_ROWS (ens_portable.h),
     * as a restart file keeps it. */
    ens_status (*download_steps)(void *ctx, double *real_rows, long long *int_rows,
                                 ens_error *err);
    /* Optional (DOPRI5), after upload: give the members this step state, as
     * if steps_done steps of dt had been advanced since a fresh start, so
     * that the run goes on exactly as the run that saved it would have. */
    ens_status (*upload_steps)(void *ctx, const double *real_rows, const long long *int_rows,
                               long long steps_done, ens_error *err);
} ens_backend_ops;

static inline int ens_job_adaptive(const ens_backend_job *job)
{
    return job->integrator == ENS_INTEGRATOR_ID_DOPRI5;
}

/* Model time `steps` steps of dt after upload; every backend computes its
 * targets this way, so that strict runs agree bit for bit. */
static inline double ens_job_time(const ens_backend_job *job, long long steps)
{
    return (double)steps * job->dt;
}

/* DOPRI5's first step: dt within [dt_min, dt_max]. */
static inline double ens_job_first_step(const ens_backend_job *job)
{
    double h = job->dt;
    if (job->dt_max > 0 && h > job->dt_max)
        h = job->dt_max;
    return h < job->dt_min ? job->dt_min : h;
}

/* Registry (src/backends/registry.c): compiled-in backends in auto order. */
int ens_backends_count(void);
const ens_backend_ops *ens_backends_at(int index);
const ens_backend_ops *ens_backends_find(const char *name);

/* Whether a device name contains `request`, ignoring case: how a device
 * is picked by a part of its name (--device NAME-PART) on every backend. */
int ens_device_name_matches(const char *name, const char *request);

/* DOPRI5 rows (src/backends/step_rows.c). Per-member results of members
 * [at, at + n) of `stats` from a backend's counter rows (counters[r * n +
 * i]) and its failure-time row (n values, double or float): */
void ens_member_stats_from_rows(const ens_member_stats *stats, size_t at, size_t n,
                                const ens_i64 *counters, const void *t_fail, int t_fail_double);
/* n values of the job's precision (double or float) to and from double: */
void ens_reals_to_double(const void *src, int src_double, size_t n, double *dst);
void ens_reals_from_double(const double *src, size_t n, void *dst, int dst_double);

/* The CPU backend is always built (serial when OpenMP is off). */
extern const ens_backend_ops ens_backend_openmp;
#ifdef ENSOL_HAVE_OPENCL
extern const ens_backend_ops ens_backend_opencl;
#endif
#ifdef ENSOL_HAVE_CUDA
extern const ens_backend_ops ens_backend_cuda; /* cuda.cu, C linkage */
#endif

#endif
