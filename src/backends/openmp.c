/* CPU backend: OpenMP threads across members, SIMD lanes within a thread.
 * Without OpenMP it runs the same loops on one thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ENSOL_HAVE_OPENMP
#include <omp.h>
#endif

#include "backends/openmp_kernels.h"

typedef struct openmp_ctx {
    ens_backend_job job;
    long long count;
    void *state;
    void *params;
} openmp_ctx;

static int max_threads(void)
{
#ifdef ENSOL_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static size_t real_size(const ens_backend_job *job)
{
    return job->precision == ENS_PRECISION_ID_FLOAT ? sizeof(float) : sizeof(double);
}

static ens_status openmp_probe(char *detail, size_t size)
{
#ifdef ENSOL_HAVE_OPENMP
    snprintf(detail, size, "CPU, %d threads", max_threads());
#else
    snprintf(detail, size, "CPU, 1 thread (built without OpenMP)");
#endif
    return ENS_OK;
}

static ens_status openmp_create(ens_backend_job *job, void **out, ens_error *err)
{
    openmp_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "openmp backend: out of memory");
    ctx->job = *job;
    const size_t capacity = (size_t)(job->capacity > 0 ? job->capacity : 1);
    ctx->state = malloc(capacity * (size_t)job->nvars * real_size(job));
    ctx->params = malloc(capacity * (size_t)(job->nparams > 0 ? job->nparams : 1) * real_size(job));
    if (!ctx->state || !ctx->params) {
        free(ctx->state);
        free(ctx->params);
        free(ctx);
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                        "openmp backend: cannot allocate state for %lld members", job->capacity);
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

static ens_status openmp_upload(void *vctx, long long count, const void *state,
                                const void *params, ens_error *err)
{
    (void)err;
    openmp_ctx *ctx = vctx;
    ctx->count = count;
    memcpy(ctx->state, state, (size_t)count * (size_t)ctx->job.nvars * real_size(&ctx->job));
    memcpy(ctx->params, params, (size_t)count * (size_t)ctx->job.nparams * real_size(&ctx->job));
    return ENS_OK;
}

static ens_status openmp_advance(void *vctx, long long nsteps, ens_error *err)
{
    openmp_ctx *ctx = vctx;
    if (ctx->job.strict_fp)
        return ens_openmp_advance_strict(&ctx->job, ctx->count, ctx->state, ctx->params, nsteps,
                                         err);
    return ens_openmp_advance_contract(&ctx->job, ctx->count, ctx->state, ctx->params, nsteps,
                                       err);
}

static ens_status openmp_download(void *vctx, void *state, ens_error *err)
{
    (void)err;
    openmp_ctx *ctx = vctx;
    memcpy(state, ctx->state, (size_t)ctx->count * (size_t)ctx->job.nvars * real_size(&ctx->job));
    return ENS_OK;
}

static void openmp_destroy(void *vctx)
{
    openmp_ctx *ctx = vctx;
    if (!ctx)
        return;
    free(ctx->state);
    free(ctx->params);
    free(ctx);
}

const ens_backend_ops ens_backend_openmp = {
    .name = "openmp",
    .probe = openmp_probe,
    .create = openmp_create,
    .describe = openmp_describe,
    .upload = openmp_upload,
    .advance = openmp_advance,
    .download = openmp_download,
    .destroy = openmp_destroy,
};
