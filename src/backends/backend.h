/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The interface every backend implements, in the manner of a device table
 * with optional sections. The host scheduler (src/host) drives a backend
 * only through the wrappers below (backend.c), never through the slots, so
 * that no caller tests whether a slot is there; the maths the backend runs
 * is the single-source code in kernels/, and a backend knows no model by
 * name: what its loops need of the models comes from ENS_MODEL_LIST.
 *
 * The table's sections:
 *   discovery   name, probe, whether `auto` may take it, device memory
 *   required    create, describe, upload, advance, download, destroy
 *   optional    wait: with it, advance may return while the device works;
 *               setup_note: what preparing the code cost, for messages
 *   integrator  the DOPRI5 table (per-member results, step state), NULL
 *               where the backend cannot run DOPRI5
 *
 * Memory layout across the table: structure-of-arrays, member fastest.
 *   state  [var * count + m]    in the job's precision (float or double)
 *   params [param * count + m]  in the job's precision
 */
#ifndef ENS_BACKENDS_BACKEND_H
#define ENS_BACKENDS_BACKEND_H

#include <math.h>
#include <stddef.h>

#include "core/choices.h"
#include "core/error.h"
#include "core/models.h"
#include "ens_portable.h"
#include "rng/normal.h"

typedef struct ens_backend_job {
    int model;              /* enum ens_model_id; -1: user_model */
    const ens_model_info *user_model; /* a model file given at run time, compiled by
                               backends with model_files; NULL: a built-in model */
    int nvars;
    int nparams;
    int nnoise;             /* the model's noise inputs, in p[] after the
                               parameters, drawn by the backend at each step
                               (ens_job_noise_key); Euler only */
    ens_u64 seed;           /* the ensemble's seed, which keys the noise */
    int integrator;         /* enum ens_integrator_id */
    ens_precision_id precision;
    double dt;              /* fixed-step: the step; DOPRI5: the first step and
                               the unit of advance() */
    double t0;              /* model time at steps = 0 (ens_job_model_time): the
                               right-hand side's time origin */
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

/* DOPRI5's part of a backend: what only the adaptive integrator keeps per
 * member. Every slot is required where the table exists. */
typedef struct ens_backend_dopri5_ops {
    /* Per-member status, accepted and rejected steps and failure time (NaN
     * for members that did not fail) of the loaded members since upload;
     * NULL arrays are skipped. */
    ens_status (*download_stats)(void *ctx, const ens_member_stats *stats, ens_error *err);
    /* The loaded members' step state, in double: real_rows[r * count + i]
     * for the ENS_DOPRI5_REAL_ROWS(nvars) rows and int_rows[r * count + i]
     * for the ENS_DOPRI5_INT_ROWS (ens_portable.h), as a restart file
     * keeps it. */
    ens_status (*download_steps)(void *ctx, double *real_rows, long long *int_rows,
                                 ens_error *err);
    /* After upload: give the members this step state, as if steps_done
     * steps of dt had been advanced since a fresh start, so that the run
     * goes on exactly as the run that saved it would have. */
    ens_status (*upload_steps)(void *ctx, const double *real_rows, const long long *int_rows,
                               long long steps_done, ens_error *err);
} ens_backend_dopri5_ops;

typedef struct ens_backend_ops {
    /* ---- discovery ---- */
    const char *name;
    int device_memory;      /* buffers live in device memory, apart from the host's */
    int model_files;        /* runs model files given at run time (job.user_model) */
    /* Can this backend run here? `detail` gets its devices or the reason not. */
    ens_status (*probe)(char *detail, size_t detail_size);
    /* Optional (default: yes): whether `auto` should take this backend when
     * probe succeeds. The OpenCL backend declines when its only devices are
     * CPUs, which the OpenMP backend later in the auto order serves better. */
    int (*auto_eligible)(void);

    /* ---- required operations ---- */
    ens_status (*create)(ens_backend_job *job, void **ctx, ens_error *err);
    /* Device description for logs and file attributes: the same for the
     * same device and settings, run after run. */
    void (*describe)(void *ctx, char *device, size_t device_size);
    /* Load `count` members, members first_member... of the ensemble (the
     * index keys their noise); the scheduler keeps 1 <= count <= capacity. */
    ens_status (*upload)(void *ctx, long long first_member, long long count, const void *state,
                         const void *params, ens_error *err);
    /* Advance the model time of every loaded member by nsteps * dt: nsteps
     * fixed steps, or for DOPRI5 adaptive steps until the time
     * ens_job_time(job, steps since upload), whose state `download` then
     * returns (interpolated; each member keeps its own step state). */
    ens_status (*advance)(void *ctx, long long nsteps, ens_error *err);
    /* Copy the loaded members' current state to host memory. */
    ens_status (*download)(void *ctx, void *state, ens_error *err);
    void (*destroy)(void *ctx);

    /* ---- optional operations (defaults in backend.c) ---- */
    /* With it, advance may return while the device still works (so that the
     * host's work on the previous download overlaps it), and wait returns
     * once it is done; download and the DOPRI5 downloads come only after
     * wait. Default: advance returns when the work is done. */
    ens_status (*wait)(void *ctx, ens_error *err);
    /* How the backend got its code ready, for messages only ("model
     * compiled in 1.21 s", "model from the cache"), never for files, which
     * must not depend on a cache. Default: nothing to say. */
    void (*setup_note)(void *ctx, char *note, size_t note_size);

    /* ---- integrator-specific state ---- */
    const ens_backend_dopri5_ops *dopri5; /* NULL: cannot run DOPRI5 */
} ens_backend_ops;

/* A created backend: its table and its context. */
typedef struct ens_backend {
    const ens_backend_ops *ops;
    void *ctx;
} ens_backend;

/* Discovery (backend.c). */
int ens_backend_auto_eligible(const ens_backend_ops *ops);
int ens_backend_runs_dopri5(const ens_backend_ops *ops);
/* Whether the backend runs a model file given at run time (job.user_model). */
int ens_backend_runs_model_files(const ens_backend_ops *ops);

/* The run (backend.c): each wraps its slot, with the default where the
 * slot is optional. create fills `backend` only on success; destroy takes
 * an empty handle too and leaves it empty. */
ens_status ens_backend_create(const ens_backend_ops *ops, ens_backend_job *job,
                              ens_backend *backend, ens_error *err);
void ens_backend_describe(const ens_backend *backend, char *device, size_t device_size);
/* Default: "". */
void ens_backend_setup_note(const ens_backend *backend, char *note, size_t note_size);
ens_status ens_backend_upload(const ens_backend *backend, long long first_member,
                              long long count, const void *state, const void *params,
                              ens_error *err);
ens_status ens_backend_advance(const ens_backend *backend, long long nsteps, ens_error *err);
/* Whether advance may return before the work is done (see wait above). */
int ens_backend_computes_async(const ens_backend *backend);
/* Default: already done. */
ens_status ens_backend_wait(const ens_backend *backend, ens_error *err);
ens_status ens_backend_download(const ens_backend *backend, void *state, ens_error *err);
void ens_backend_destroy(ens_backend *backend);

/* DOPRI5 (backend.c): a backend without the DOPRI5 table answers
 * ENS_ERR_INTERNAL (the scheduler refuses such jobs before create). */
ens_status ens_backend_dopri5_stats(const ens_backend *backend, const ens_member_stats *stats,
                                    ens_error *err);
ens_status ens_backend_dopri5_download_steps(const ens_backend *backend, double *real_rows,
                                             long long *int_rows, ens_error *err);
ens_status ens_backend_dopri5_upload_steps(const ens_backend *backend, const double *real_rows,
                                           const long long *int_rows, long long steps_done,
                                           ens_error *err);

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

/* The model time, which the right-hand side sees, `steps` steps of dt
 * after t0; rounded to the job's precision once by every backend. */
static inline double ens_job_model_time(const ens_backend_job *job, long long steps)
{
    return job->t0 + (double)steps * job->dt;
}

/* The noise of members first_member... for the interval that starts
 * `steps` steps of dt after t0: steps are counted from model time 0, so
 * that a run continued from a restart draws what the whole run would
 * have. */
static inline ens_noise_key ens_job_noise_key(const ens_backend_job *job, long long first_member,
                                              long long steps)
{
    ens_noise_key key;
    key.seed = job->seed;
    key.first_member = (ens_u64)first_member;
    key.step0 = (ens_i64)llround(job->t0 / job->dt) + (ens_i64)steps;
    key.scale = 1.0 / sqrt(job->dt);
    key.nparams = job->nparams;
    key.nnoise = job->nnoise;
    return key;
}

/* DOPRI5's first step: dt within [dt_min, dt_max]. */
static inline double ens_job_first_step(const ens_backend_job *job)
{
    double h = job->dt;
    if (job->dt_max > 0 && h > job->dt_max)
        h = job->dt_max;
    return h < job->dt_min ? job->dt_min : h;
}

/* Whether a model has a component form (ENS_MODEL_LIST), for backends
 * that spread one member over several lanes. */
static inline int ens_model_has_component_form(int model)
{
#define ENS_COMPONENT_FORM(id, prefix, nvars, nparams, component, common_nvars) \
    if (model == id) \
        return component;
    ENS_MODEL_LIST(ENS_COMPONENT_FORM)
#undef ENS_COMPONENT_FORM
    return 0;
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
/* The job's tolerances rounded to its precision, as every backend gives
 * them to DOPRI5: dst = rtol[nvars], atol[nvars] (2 nvars values). */
void ens_job_tolerances(const ens_backend_job *job, void *dst);
/* Bytes of one value of the job's precision. */
size_t ens_job_real_size(const ens_backend_job *job);

/* The CPU backend is always built (serial when OpenMP is off). */
extern const ens_backend_ops ens_backend_openmp;
#ifdef ENSOL_HAVE_OPENCL
extern const ens_backend_ops ens_backend_opencl;
#endif
#ifdef ENSOL_HAVE_CUDA
extern const ens_backend_ops ens_backend_cuda; /* cuda.cu, C linkage */
#endif

#endif
