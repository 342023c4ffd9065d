/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* CPU backend: OpenMP threads across members, SIMD lanes within a thread.
 * Without OpenMP it runs the same loops on one thread. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ENSOL_HAVE_OPENMP
#include <omp.h>
#endif

#include "backends/openmp_kernels.h"
#include "backends/openmp_model.h"

typedef struct openmp_ctx {
    ens_backend_job job;
    /* A model file's loops, compiled at run time, and the job they take */
    ens_cc_object model_object;
    ens_openmp_advance_fn *model_advance;
    ens_backend_job model_job;
    long long first_member;
    long long count;
    void *state;
    void *params;
    /* DOPRI5 only: per-member arrays, tolerances, progress since upload */
    void *aux;
    ens_i64 *aux_int;
    void *tol;
    long long steps_done;
} openmp_ctx;

static int max_threads(void)
{
#ifdef ENSOL_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static ens_status openmp_probe(char *detail, size_t size)
{
#ifdef ENSOL_HAVE_OPENMP
    snprintf(detail, size, "CPU, %d threads, %s", max_threads(), ens_openmp_cpu_variant());
#else
    snprintf(detail, size, "CPU, 1 thread (built without OpenMP), %s", ens_openmp_cpu_variant());
#endif
    return ENS_OK;
}

static void openmp_destroy(void *vctx)
{
    openmp_ctx *ctx = vctx;
    if (!ctx)
        return;
    free(ctx->state);
    free(ctx->params);
    free(ctx->aux);
    free(ctx->aux_int);
    free(ctx->tol);
    ens_cc_unload(&ctx->model_object);
    free(ctx);
}

static ens_status openmp_create(ens_backend_job *job, void **out, ens_error *err)
{
    if (job->device && job->device[0])
        return ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE,
                        "openmp: no device '%s': it runs on this machine's CPU, which it does "
                        "not choose (devices are for opencl and cuda)",
                        job->device);
    openmp_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "openmp backend: out of memory");
    ctx->job = *job;
    const size_t capacity = (size_t)(job->capacity > 0 ? job->capacity : 1);
    const size_t nv = (size_t)job->nvars, real = ens_job_real_size(job);
    ctx->state = malloc(capacity * nv * real);
    ctx->params = malloc(capacity * (size_t)(job->nparams > 0 ? job->nparams : 1) * real);
    int ok = ctx->state && ctx->params;
    if (ok && ens_job_adaptive(job)) {
        ctx->aux = malloc(capacity * (size_t)ENS_DOPRI5_REAL_ROWS(nv) * real);
        ctx->aux_int = malloc(capacity * ENS_DOPRI5_INT_ROWS * sizeof *ctx->aux_int);
        ctx->tol = malloc(2 * nv * real);
        ok = ctx->aux && ctx->aux_int && ctx->tol;
        if (ok)
            ens_job_tolerances(job, ctx->tol);
        /* The job's pointers belong to the caller; the context keeps values. */
        ctx->job.rtol = ctx->job.atol = NULL;
    }
    if (!ok) {
        openmp_destroy(ctx);
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                        "openmp backend: cannot allocate state for %lld members", job->capacity);
    }
    if (job->user_model) {
        const ens_status st =
            ens_openmp_model_load(&ctx->job, &ctx->model_object, &ctx->model_advance, err);
        if (st != ENS_OK) {
            openmp_destroy(ctx);
            return st;
        }
        ctx->model_job = ctx->job;
        ctx->model_job.model = ENS_MODEL_FILE_ID;
    }
    *out = ctx;
    return ENS_OK;
}

static void openmp_describe(void *vctx, char *device, size_t size)
{
    openmp_ctx *ctx = vctx;
    const int threads = ctx->job.threads > 0 ? ctx->job.threads : max_threads();
    snprintf(device, size, "CPU, %d thread%s%s", threads, threads == 1 ? "" : "s",
             ctx->job.strict_fp ? ", strict fp" : "");
}

static void openmp_setup_note(void *vctx, char *note, size_t size)
{
    openmp_ctx *ctx = vctx;
    if (ctx->model_advance && ctx->model_object.compile_seconds >= 0)
        snprintf(note, size, "model compiled in %.2f s", ctx->model_object.compile_seconds);
    else if (ctx->model_advance)
        snprintf(note, size, "model from the cache");
}

static ens_status openmp_upload(void *vctx, long long first_member, long long count,
                                const void *state, const void *params, ens_error *err)
{
    (void)err;
    openmp_ctx *ctx = vctx;
    ctx->first_member = first_member;
    ctx->count = count;
    const size_t real = ens_job_real_size(&ctx->job);
    memcpy(ctx->state, state, (size_t)count * (size_t)ctx->job.nvars * real);
    memcpy(ctx->params, params, (size_t)count * (size_t)ctx->job.nparams * real);
    ctx->steps_done = 0;
    return ENS_OK;
}

static ens_status openmp_advance(void *vctx, long long nsteps, ens_error *err)
{
    openmp_ctx *ctx = vctx;
    ens_openmp_adaptive adaptive, *a = NULL;
    if (ens_job_adaptive(&ctx->job)) {
        adaptive = (ens_openmp_adaptive){
            .aux = ctx->aux,
            .aux_int = ctx->aux_int,
            .tol = ctx->tol,
            .t_end = ens_job_time(&ctx->job, ctx->steps_done + nsteps),
            .fresh = ctx->steps_done == 0,
        };
        a = &adaptive;
    }
    const double t_start = ens_job_model_time(&ctx->job, ctx->steps_done);
    const ens_noise_key noise = ens_job_noise_key(&ctx->job, ctx->first_member, ctx->steps_done);
    ctx->steps_done += nsteps;
    if (ctx->model_advance)
        return ctx->model_advance(&ctx->model_job, ctx->count, ctx->state, ctx->params, nsteps,
                                  t_start, &noise, a, err);
    if (ctx->job.strict_fp)
        return ens_openmp_advance_strict(&ctx->job, ctx->count, ctx->state, ctx->params, nsteps,
                                         t_start, &noise, a, err);
    return ens_openmp_advance_contract(&ctx->job, ctx->count, ctx->state, ctx->params, nsteps,
                                       t_start, &noise, a, err);
}

static ens_status openmp_download(void *vctx, void *state, ens_error *err)
{
    (void)err;
    openmp_ctx *ctx = vctx;
    memcpy(state, ctx->state,
           (size_t)ctx->count * (size_t)ctx->job.nvars * ens_job_real_size(&ctx->job));
    return ENS_OK;
}

static ens_status openmp_download_stats(void *vctx, const ens_member_stats *stats,
                                        ens_error *err)
{
    openmp_ctx *ctx = vctx;
    if (!ctx->aux_int)
        return ens_fail(err, ENS_ERR_INTERNAL, "openmp backend: no step counters in this job");
    const size_t n = (size_t)ctx->count, real = ens_job_real_size(&ctx->job);
    const size_t fail_row = ((size_t)ENS_DOPRI5_SCALARS(ctx->job.nvars) + ENS_D5_T_FAIL) * n;
    ens_member_stats_from_rows(stats, 0, n, ctx->aux_int, (const char *)ctx->aux + fail_row * real,
                               real == sizeof(double));
    return ENS_OK;
}

static ens_status openmp_download_steps(void *vctx, double *real_rows, long long *int_rows,
                                        ens_error *err)
{
    openmp_ctx *ctx = vctx;
    if (!ctx->aux)
        return ens_fail(err, ENS_ERR_INTERNAL, "openmp backend: no step state in this job");
    const size_t n = (size_t)ctx->count * ENS_DOPRI5_REAL_ROWS(ctx->job.nvars);
    ens_reals_to_double(ctx->aux, ens_job_real_size(&ctx->job) == sizeof(double), n, real_rows);
    memcpy(int_rows, ctx->aux_int, (size_t)ctx->count * ENS_DOPRI5_INT_ROWS * sizeof *int_rows);
    return ENS_OK;
}

static ens_status openmp_upload_steps(void *vctx, const double *real_rows,
                                      const long long *int_rows, long long steps_done,
                                      ens_error *err)
{
    openmp_ctx *ctx = vctx;
    if (!ctx->aux)
        return ens_fail(err, ENS_ERR_INTERNAL, "openmp backend: no step state in this job");
    const size_t n = (size_t)ctx->count * ENS_DOPRI5_REAL_ROWS(ctx->job.nvars);
    ens_reals_from_double(real_rows, n, ctx->aux,
                          ens_job_real_size(&ctx->job) == sizeof(double));
    memcpy(ctx->aux_int, int_rows, (size_t)ctx->count * ENS_DOPRI5_INT_ROWS * sizeof *int_rows);
    ctx->steps_done = steps_done;
    return ENS_OK;
}

static const ens_backend_dopri5_ops openmp_dopri5 = {
    .download_stats = openmp_download_stats,
    .download_steps = openmp_download_steps,
    .upload_steps = openmp_upload_steps,
};

const ens_backend_ops ens_backend_openmp = {
    .name = "openmp",
    .model_files = 1,
    .probe = openmp_probe,
    .create = openmp_create,
    .describe = openmp_describe,
    .upload = openmp_upload,
    .advance = openmp_advance,
    .download = openmp_download,
    .destroy = openmp_destroy,
    .setup_note = openmp_setup_note,
    .dopri5 = &openmp_dopri5,
};
