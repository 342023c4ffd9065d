/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * CUDA backend, host side: members moved between host and device memory
 * and the kernels (cuda_kernels.cu) launched, on one GPU or split across
 * several (`--device all` or a list; cuda_devices.cu picks them).
 *
 * Per device: state and parameters in device memory, structure of arrays
 * (member fastest) as everywhere in ensol; pinned host staging buffers; two
 * streams. A batch is cut into chunks that alternate between the streams,
 * and after each chunk's kernel its state is copied back on the same
 * stream, so the copy of one chunk overlaps the compute of the next. There
 * is no synchronisation inside an interval: all its steps run in one
 * kernel launch per chunk. advance() only launches; wait() waits for the
 * kernels and copies, and download() then only unpacks pinned memory, after
 * which the scheduler launches the next interval before it saves this one:
 * the host's work on interval k overlaps the GPU's on interval k+1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda_backend.h"

/* A model with a component form, fixed steps: lanes per member, 1 (a
 * thread per member) or 32, 16, 8 (lane_count); ENSOL_CUDA_LANE_KERNEL
 * overrides this default (thread, warp, warp16, warp8). */
#define ENS_CUDA_LANE_KERNEL_DEFAULT "thread"

/* Chunks per device and batch, alternating between the streams; a chunk
 * is at least one full wave of resident threads, so that cutting the batch
 * costs no occupancy. */
#define ENS_CUDA_MAX_CHUNKS 4
/* Share of the free device memory the buffers may take (the rest: the
 * runtime, kernels' local memory, other programs). */
#define ENS_CUDA_MEMORY_SHARE 0.8

typedef struct cuda_ctx {
    ens_backend_job job;
    size_t real_size;
    int adaptive;
    ens_cuda_kernel kernel;
    const char *lane_kernel; /* the fixed-step lane kernel of a model with a component
                                form, for describe(); NULL: none */
    int ngpu;
    cuda_gpu gpu[ENS_CUDA_MAX_DEVICES];
    long long weight_total; /* the devices' SMs: members are split in proportion */
    long long count;
    long long steps_done;
    int prefetch;     /* advance() copies the state back after each chunk */
    int host_current; /* the pinned buffers hold the current state */
    int advanced;     /* advance() ran since upload */
    int downloaded;   /* download() ran since the last advance() */
} cuda_ctx;


static void free_buffers(cuda_gpu *g)
{
    if (cudaSetDevice(g->ordinal) != cudaSuccess) {
        (void)cudaGetLastError();
        return;
    }
    void *device_buffers[] = {g->state, g->params, g->aux, g->aux_int, g->tol};
    for (size_t i = 0; i < sizeof device_buffers / sizeof device_buffers[0]; i++)
        if (device_buffers[i])
            (void)cudaFree(device_buffers[i]);
    if (g->h_state)
        (void)cudaFreeHost(g->h_state);
    if (g->h_params)
        (void)cudaFreeHost(g->h_params);
    g->state = g->params = g->aux = g->tol = g->h_state = g->h_params = NULL;
    g->aux_int = NULL;
    g->alloc = 0;
    (void)cudaGetLastError();
}

static void cuda_destroy(void *vctx)
{
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    if (!ctx)
        return;
    for (int d = 0; d < ctx->ngpu; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        if (cudaSetDevice(g->ordinal) == cudaSuccess) {
            for (int s = 0; s < ENS_CUDA_STREAMS; s++)
                if (g->stream[s]) {
                    (void)cudaStreamSynchronize(g->stream[s]);
                    (void)cudaStreamDestroy(g->stream[s]);
                }
        }
        free_buffers(g);
    }
    (void)cudaGetLastError();
    free(ctx);
}

static size_t params_alloc(const ens_backend_job *job)
{
    return (size_t)(job->nparams > 0 ? job->nparams : 1);
}

/* Device bytes per member. */
static double bytes_per_member(const cuda_ctx *ctx)
{
    const ens_backend_job *job = &ctx->job;
    double bytes = (double)ctx->real_size * (double)(job->nvars + (int)params_alloc(job));
    if (ctx->adaptive)
        bytes += (double)ctx->real_size * ENS_DOPRI5_REAL_ROWS(job->nvars) +
                 8.0 * ENS_DOPRI5_INT_ROWS;
    return bytes;
}

/* Members of a batch of `count` on device d: in proportion to the SMs,
 * device by device in order, so that the shares add up to count. */
static void split(const cuda_ctx *ctx, long long count, int d, long long *first, long long *n)
{
    long long before = 0;
    for (int i = 0; i < d; i++)
        before += ctx->gpu[i].sms;
    const long long after = before + ctx->gpu[d].sms;
    *first = (long long)((__int128)count * before / ctx->weight_total);
    *n = (long long)((__int128)count * after / ctx->weight_total) - *first;
}

/* Buffers for `capacity` members on every device; the tolerances uploaded. */
static ens_status allocate(cuda_ctx *ctx, long long capacity, const void *tol, ens_error *err)
{
    const ens_backend_job *job = &ctx->job;
    const size_t real = ctx->real_size, nv = (size_t)job->nvars, np = params_alloc(job);
    for (int d = 0; d < ctx->ngpu; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        /* A batch of at most `capacity` members puts at most x + 1 of them
         * on this device, x = capacity sms / weight_total (see split). */
        const size_t alloc =
            (size_t)(((__int128)capacity * g->sms + ctx->weight_total - 1) / ctx->weight_total) +
            1;
        CU_CHECK(g, cudaSetDevice(g->ordinal));
        CU_CHECK_WHAT(g, "(state)", cudaMalloc(&g->state, alloc * nv * real));
        CU_CHECK_WHAT(g, "(parameters)", cudaMalloc(&g->params, alloc * np * real));
        CU_CHECK_WHAT(g, "(state staging)", cudaMallocHost(&g->h_state, alloc * nv * real));
        CU_CHECK_WHAT(g, "(parameter staging)", cudaMallocHost(&g->h_params, alloc * np * real));
        if (ctx->adaptive) {
            CU_CHECK_WHAT(g, "(step state)",
                          cudaMalloc(&g->aux, alloc * (size_t)ENS_DOPRI5_REAL_ROWS(nv) * real));
            CU_CHECK_WHAT(g, "(step counters)",
                          cudaMalloc((void **)&g->aux_int,
                                     alloc * ENS_DOPRI5_INT_ROWS * sizeof(ens_i64)));
            CU_CHECK_WHAT(g, "(tolerances)", cudaMalloc(&g->tol, 2 * nv * real));
            CU_CHECK_WHAT(g, "(tolerances)",
                          cudaMemcpy(g->tol, tol, 2 * nv * real, cudaMemcpyHostToDevice));
        }
        g->alloc = (long long)alloc;
    }
    return ENS_OK;
}

/* A device of the run: code for it, its streams, the kernel's local memory
 * (the stack limit raised to the kernel's frame, so that the driver
 * reserves it for every thread the device holds before the free memory is
 * measured), and how many members its free memory holds (g->fit). */
static ens_status prepare_gpu(cuda_ctx *ctx, cuda_gpu *g, ens_error *err)
{
    if (!ens_cuda_arch_runnable(g->cc_major, g->cc_minor))
        return ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE,
                        "cuda backend: device %d (%s) has compute capability %d.%d, for which "
                        "this build has no code (CMAKE_CUDA_ARCHITECTURES=" ENSOL_CUDA_ARCHITECTURES
                        "); rebuild with -DCMAKE_CUDA_ARCHITECTURES=%d%d",
                        g->ordinal, g->name, g->cc_major, g->cc_minor, g->cc_major, g->cc_minor);
    CU_CHECK(g, cudaSetDevice(g->ordinal));
    cudaFuncAttributes attr;
    CU_CHECK_WHAT(g, "(the integration kernel)", cudaFuncGetAttributes(&attr, ctx->kernel.func));
    for (int s = 0; s < ENS_CUDA_STREAMS; s++)
        CU_CHECK(g, cudaStreamCreateWithFlags(&g->stream[s], cudaStreamNonBlocking));

    size_t before = 0, free_bytes = 0, total = 0, stack = 0;
    CU_CHECK(g, cudaMemGetInfo(&before, &total));
    const size_t frame = ctx->kernel.frame_bytes > attr.localSizeBytes ? ctx->kernel.frame_bytes
                                                                         : attr.localSizeBytes;
    CU_CHECK(g, cudaDeviceGetLimit(&stack, cudaLimitStackSize));
    if (frame > stack)
        CU_CHECK_WHAT(g, "(stack size for the kernel's arrays)",
                      cudaDeviceSetLimit(cudaLimitStackSize, frame));
    CU_CHECK(g, cudaMemGetInfo(&free_bytes, &total));
    /* What the driver has not taken yet of the kernel's local memory (the
     * default stack is reserved with the context). */
    const double local = (double)frame * g->sms * g->threads_per_sm;
    const double taken = before > free_bytes ? (double)(before - free_bytes) : 0.0;
    const double pending = frame > stack && local > taken ? local - taken : 0.0;
    const double per_member = bytes_per_member(ctx);
    const double fit =
        floor((ENS_CUDA_MEMORY_SHARE * (double)free_bytes - pending) / per_member) - 2.0;
    if (fit < 1.0)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                        "cuda backend: device %d (%s) has %.0f MiB free, too little for one "
                        "member (%.0f bytes) next to the kernel's local memory (%.0f MiB)",
                        g->ordinal, g->name, (double)free_bytes / 1048576.0, per_member,
                        local / 1048576.0);
    g->fit = (long long)fit;
    return ENS_OK;
}

/* Lanes per member of a model with a component form, with fixed steps,
 * from a choice of ENSOL_CUDA_LANE_KERNEL, and its name for describe();
 * 0: no such choice. */
static int lane_count(const char *choice, const char **name)
{
    static const struct {
        const char *choice, *name;
        int lanes;
    } kinds[] = {{"thread", "thread-per-member", 1},
                 {"warp", "warp-per-member", 32},
                 {"warp16", "16-lanes-per-member", 16},
                 {"warp8", "8-lanes-per-member", 8}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(choice, kinds[i].choice) == 0) {
            *name = kinds[i].name;
            return kinds[i].lanes;
        }
    return 0;
}

/* The kernel for the job from this build's table (strict or not), with
 * the lanes ENSOL_CUDA_LANE_KERNEL asks for where the model has a
 * component form; the variable is read at each create, so that a process
 * can compare the kernels. */
static ens_status choose_kernel(cuda_ctx *ctx, ens_error *err)
{
    const ens_backend_job *job = &ctx->job;
    const char *env = getenv("ENSOL_CUDA_LANE_KERNEL");
    const char *choice = env && *env ? env : ENS_CUDA_LANE_KERNEL_DEFAULT;
    const char *lane_name = NULL;
    const int lanes = lane_count(choice, &lane_name);
    if (lanes == 0)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "cuda backend: ENSOL_CUDA_LANE_KERNEL=%s: not a kernel (thread, warp, "
                        "warp16 or warp8)",
                        choice);
    const int on_lanes = ens_model_has_component_form(job->model) && !ctx->adaptive;
    ctx->lane_kernel = on_lanes ? lane_name : NULL;
    const int dbl = job->precision != ENS_PRECISION_ID_FLOAT;
    const int use_lanes = on_lanes ? lanes : 1;
    ctx->kernel = job->strict_fp
                      ? ens_cuda_kernel_strict(job->model, job->integrator, dbl, job->nvars,
                                               job->nparams, use_lanes)
                      : ens_cuda_kernel_contract(job->model, job->integrator, dbl, job->nvars,
                                                 job->nparams, use_lanes);
    if (!ctx->kernel.func)
        return ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE,
                        "cuda backend: no kernel for this model and size (%d variables, %d "
                        "parameters; models sized at run time run with up to %d variables); "
                        "use --backend openmp",
                        job->nvars, job->nparams, ENS_CUDA_MAX_VARS);
    return ENS_OK;
}

/* Buffers for the largest batch whose share fits every device: per device
 * its streams, local memory for the kernel and the members its free
 * memory holds; on running out of memory (other programs on the device,
 * pinned memory limits) the batch is halved and tried once more. */
static ens_status allocate_batch(cuda_ctx *ctx, ens_backend_job *job, ens_error *err)
{
    long long capacity = job->capacity > 0 ? job->capacity : 1;
    for (int d = 0; d < ctx->ngpu; d++) {
        ENS_CHECK(prepare_gpu(ctx, &ctx->gpu[d], err));
        const cuda_gpu *g = &ctx->gpu[d];
        const double whole = floor((double)g->fit * (double)ctx->weight_total / g->sms);
        if (whole < (double)capacity)
            capacity = whole < 1.0 ? 1 : (long long)whole;
    }
    void *tol = NULL;
    if (ctx->adaptive) {
        tol = malloc(2 * (size_t)job->nvars * ctx->real_size);
        if (!tol)
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
        ens_job_tolerances(job, tol);
    }
    ens_status st = allocate(ctx, capacity, tol, err);
    if (st == ENS_ERR_OUT_OF_MEMORY && capacity > 1) {
        for (int d = 0; d < ctx->ngpu; d++)
            free_buffers(&ctx->gpu[d]);
        capacity /= 2;
        st = allocate(ctx, capacity, tol, err);
        if (st != ENS_OK && err) {
            char again[ENS_ERROR_MAX];
            snprintf(again, sizeof again, "%s", err->msg);
            ens_fail(err, st, "%s (also after halving the batch from %lld to %lld members)",
                     again, capacity * 2, capacity);
        }
    }
    free(tol);
    if (st == ENS_OK)
        job->capacity = ctx->job.capacity = capacity;
    return st;
}

static ens_status cuda_create(ens_backend_job *job, void **out, ens_error *err)
{
    cuda_ctx *ctx = (cuda_ctx *)calloc(1, sizeof *ctx);
    if (!ctx)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
    ens_status st = ENS_OK;
    ENS_TRY(ens_cuda_choose_gpus(job, ctx->gpu, &ctx->ngpu, &ctx->weight_total, err));
    ctx->job = *job;
    ctx->job.rtol = ctx->job.atol = NULL; /* the caller's; the devices get copies */
    ctx->real_size = ens_job_real_size(job);
    ctx->adaptive = ens_job_adaptive(job);
    ctx->prefetch = 1;
    ENS_TRY(choose_kernel(ctx, err));
    ENS_TRY(allocate_batch(ctx, job, err));
    *out = ctx;
    ctx = NULL;
done:
    cuda_destroy(ctx);
    return st;
}

static void cuda_describe(void *vctx, char *device, size_t size)
{
    const cuda_ctx *ctx = (const cuda_ctx *)vctx;
    const cuda_gpu *g = &ctx->gpu[0];
    char extra[96];
    snprintf(extra, sizeof extra, "%s%s%s", ctx->job.strict_fp ? ", strict fp" : "",
             ctx->lane_kernel ? ", lane kernel " : "", ctx->lane_kernel ? ctx->lane_kernel : "");
    if (ctx->ngpu == 1) {
        snprintf(device, size, "%s (device %d, %d SMs, cc %d.%d%s)", g->name, g->ordinal, g->sms,
                 g->cc_major, g->cc_minor, extra);
        return;
    }
    int same = 1;
    for (int d = 1; d < ctx->ngpu; d++)
        same &= strcmp(ctx->gpu[d].name, g->name) == 0;
    char list[128] = "";
    for (int d = 0; d < ctx->ngpu; d++) {
        const size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%d", d ? "," : "", ctx->gpu[d].ordinal);
    }
    snprintf(device, size, "%d GPUs%s%s (devices %s, %lld SMs%s)", ctx->ngpu, same ? " x " : "",
             same ? g->name : "", list, ctx->weight_total, extra);
}

/* Chunks of a device's share: at most ENS_CUDA_MAX_CHUNKS, each at least
 * one wave of resident threads (`lanes` of them per member). */
static int chunks_of(const cuda_gpu *g, int lanes)
{
    const long long wave = (long long)g->sms * g->threads_per_sm / lanes;
    long long c = g->count / (wave > 0 ? wave : 1);
    c = c < 1 ? 1 : (c > ENS_CUDA_MAX_CHUNKS ? ENS_CUDA_MAX_CHUNKS : c);
    return (int)c;
}

static void chunk_range(const cuda_gpu *g, int chunks, int c, long long *first, long long *n)
{
    *first = g->count * c / chunks;
    *n = g->count * (c + 1) / chunks - *first;
}

/* rows x width bytes between buffers whose rows are `pitch` bytes apart. */
static cudaError_t copy_rows(void *dst, const void *src, size_t pitch, size_t width, size_t rows,
                             cudaMemcpyKind kind, const cuda_gpu *g, cudaStream_t stream)
{
    if (width == 0 || rows == 0)
        return cudaSuccess;
    if (pitch <= g->max_pitch)
        return cudaMemcpy2DAsync(dst, pitch, src, pitch, width, rows, kind, stream);
    cudaError_t rc = cudaSuccess;
    for (size_t r = 0; r < rows && rc == cudaSuccess; r++)
        rc = cudaMemcpyAsync((char *)dst + r * pitch, (const char *)src + r * pitch, width, kind,
                             stream);
    return rc;
}

/* Rows of `count` values of the batch (row stride count) <-> the device's
 * share (row stride g->count), on the host. */
static void pack(const cuda_gpu *g, size_t real, size_t rows, long long count, const void *src,
                 void *dst)
{
    for (size_t r = 0; r < rows; r++)
        memcpy((char *)dst + r * (size_t)g->count * real,
               (const char *)src + (r * (size_t)count + (size_t)g->first) * real,
               (size_t)g->count * real);
}

static void unpack(const cuda_gpu *g, size_t real, size_t rows, long long count, const void *src,
                   void *dst)
{
    for (size_t r = 0; r < rows; r++)
        memcpy((char *)dst + (r * (size_t)count + (size_t)g->first) * real,
               (const char *)src + r * (size_t)g->count * real, (size_t)g->count * real);
}

static ens_status sync_all(cuda_ctx *ctx, ens_error *err)
{
    for (int d = 0; d < ctx->ngpu; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        if (g->count == 0)
            continue;
        CU_CHECK(g, cudaSetDevice(g->ordinal));
        for (int s = 0; s < ENS_CUDA_STREAMS; s++)
            CU_CHECK(g, cudaStreamSynchronize(g->stream[s]));
    }
    return ENS_OK;
}

static ens_status cuda_upload(void *vctx, long long first_member, long long count,
                              const void *state, const void *params, ens_error *err)
{
    /* The built-in models, the only ones this backend runs, have no noise
     * inputs, which the index keys. */
    (void)first_member;
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    const size_t real = ctx->real_size, nv = (size_t)ctx->job.nvars;
    const size_t np = (size_t)ctx->job.nparams;
    /* the staging buffers are free once earlier copies are done */
    ens_status st = sync_all(ctx, err);
    if (st != ENS_OK)
        return st;
    ctx->count = count;
    ctx->steps_done = 0;
    ctx->advanced = ctx->downloaded = 0;
    for (int d = 0; d < ctx->ngpu; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        split(ctx, count, d, &g->first, &g->count);
        if (g->count == 0)
            continue;
        if (g->count > g->alloc)
            return ens_fail(err, ENS_ERR_INTERNAL,
                            "cuda backend: %lld members for device %d, which holds %lld",
                            g->count, g->ordinal, g->alloc);
        /* while this device's copies run, the next device's are packed */
        pack(g, real, nv, count, state, g->h_state);
        pack(g, real, np, count, params, g->h_params);
        CU_CHECK(g, cudaSetDevice(g->ordinal));
        const int chunks = chunks_of(g, ctx->kernel.lanes);
        for (int c = 0; c < chunks; c++) {
            long long first, n;
            chunk_range(g, chunks, c, &first, &n);
            const size_t pitch = (size_t)g->count * real, off = (size_t)first * real;
            cudaStream_t stream = g->stream[c % ENS_CUDA_STREAMS];
            CU_CHECK_WHAT(g, "(state to the device)",
                          copy_rows((char *)g->state + off, (char *)g->h_state + off, pitch,
                                    (size_t)n * real, nv, cudaMemcpyHostToDevice, g, stream));
            CU_CHECK_WHAT(g, "(parameters to the device)",
                          copy_rows((char *)g->params + off, (char *)g->h_params + off, pitch,
                                    (size_t)n * real, np, cudaMemcpyHostToDevice, g, stream));
        }
    }
    ctx->host_current = 1; /* the staging buffers hold the uploaded state */
    return ENS_OK;
}

/* Launch the kernel on members [first, first + n) of device g's share. */
static cudaError_t launch(cuda_ctx *ctx, cuda_gpu *g, long long first, long long n,
                          long long nsteps, int fresh, double t_start, double t_end,
                          cudaStream_t stream)
{
    const ens_backend_job *job = &ctx->job;
    ens_u64 stride = (ens_u64)g->count, first_u = (ens_u64)first, n_u = (ens_u64)n;
    int nv = job->nvars;
    const dim3 block(ENS_CUDA_BLOCK);
    const long long threads = n * ctx->kernel.lanes;
    const dim3 grid((unsigned)((threads + ENS_CUDA_BLOCK - 1) / ENS_CUDA_BLOCK));
    if (ctx->adaptive) {
        double h0 = ens_job_first_step(job), dt_min = job->dt_min, dt_max = job->dt_max;
        long long max_steps = job->max_steps;
        double t0 = job->t0;
        void *args[] = {&g->state, &g->params, &g->aux, &g->aux_int, &g->tol,
                        &stride,   &first_u,   &n_u,    &nv,         &t_end,
                        &h0,       &dt_min,    &dt_max, &max_steps,  &fresh, &t0};
        return cudaLaunchKernel(ctx->kernel.func, grid, block, args, 0, stream);
    }
    double dt = job->dt;
    void *args[] = {&g->state, &g->params, &stride, &first_u, &n_u, &nv, &dt, &nsteps, &t_start};
    return cudaLaunchKernel(ctx->kernel.func, grid, block, args, 0, stream);
}

static ens_status cuda_advance(void *vctx, long long nsteps, ens_error *err)
{
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    const size_t real = ctx->real_size, nv = (size_t)ctx->job.nvars;
    /* Copy the state back with the compute only while download() follows
     * advance() (saves at every interval); with the final state only, the
     * copy waits for download(). */
    if (ctx->advanced && !ctx->downloaded)
        ctx->prefetch = 0;
    ctx->advanced = 1;
    ctx->downloaded = 0;
    ctx->host_current = 0;
    const int fresh = ctx->steps_done == 0;
    const double t_end = ens_job_time(&ctx->job, ctx->steps_done + nsteps);
    const double t_start = ens_job_model_time(&ctx->job, ctx->steps_done);
    ctx->steps_done += nsteps;
    for (int d = 0; d < ctx->ngpu; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        if (g->count == 0)
            continue;
        CU_CHECK(g, cudaSetDevice(g->ordinal));
        const int chunks = chunks_of(g, ctx->kernel.lanes);
        for (int c = 0; c < chunks; c++) {
            long long first, n;
            chunk_range(g, chunks, c, &first, &n);
            cudaStream_t stream = g->stream[c % ENS_CUDA_STREAMS];
            CU_CHECK_WHAT(g, "(integration kernel)",
                          launch(ctx, g, first, n, nsteps, fresh, t_start, t_end, stream));
            if (ctx->prefetch) {
                const size_t pitch = (size_t)g->count * real, off = (size_t)first * real;
                CU_CHECK_WHAT(g, "(state to the host)",
                              copy_rows((char *)g->h_state + off, (char *)g->state + off, pitch,
                                        (size_t)n * real, nv, cudaMemcpyDeviceToHost, g,
                                        stream));
            }
        }
    }
    return ENS_OK; /* cuda_wait waits */
}

static ens_status cuda_wait(void *vctx, ens_error *err)
{
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    const ens_status st = sync_all(ctx, err);
    if (st == ENS_OK)
        ctx->host_current = ctx->prefetch;
    return st;
}

static ens_status cuda_download(void *vctx, void *state, ens_error *err)
{
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    const size_t real = ctx->real_size, nv = (size_t)ctx->job.nvars;
    ctx->downloaded = 1;
    if (!ctx->host_current) {
        ctx->prefetch = 1; /* download() follows advance(): copy with the compute next time */
        for (int d = 0; d < ctx->ngpu; d++) {
            cuda_gpu *g = &ctx->gpu[d];
            if (g->count == 0)
                continue;
            CU_CHECK(g, cudaSetDevice(g->ordinal));
            const int chunks = chunks_of(g, ctx->kernel.lanes);
            for (int c = 0; c < chunks; c++) {
                long long first, n;
                chunk_range(g, chunks, c, &first, &n);
                const size_t pitch = (size_t)g->count * real, off = (size_t)first * real;
                CU_CHECK_WHAT(g, "(state to the host)",
                              copy_rows((char *)g->h_state + off, (char *)g->state + off, pitch,
                                        (size_t)n * real, nv, cudaMemcpyDeviceToHost, g,
                                        g->stream[c % ENS_CUDA_STREAMS]));
            }
        }
        const ens_status st = sync_all(ctx, err);
        if (st != ENS_OK)
            return st;
        ctx->host_current = 1;
    }
    for (int d = 0; d < ctx->ngpu; d++)
        if (ctx->gpu[d].count > 0)
            unpack(&ctx->gpu[d], real, nv, ctx->count, ctx->gpu[d].h_state, state);
    return ENS_OK;
}

static ens_status cuda_download_stats(void *vctx, const ens_member_stats *stats, ens_error *err)
{
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    if (!ctx->adaptive)
        return ens_fail(err, ENS_ERR_INTERNAL, "cuda backend: no step counters in this job");
    ens_status st = sync_all(ctx, err);
    for (int d = 0; d < ctx->ngpu && st == ENS_OK; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        const size_t n = (size_t)g->count, real = ctx->real_size;
        if (n == 0)
            continue;
        ens_i64 *counters = (ens_i64 *)malloc(n * ENS_DOPRI5_INT_ROWS * sizeof *counters);
        void *t_fail = malloc(n * real);
        if (!counters || !t_fail) {
            free(counters);
            free(t_fail);
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
        }
        const size_t fail_row = (size_t)ENS_DOPRI5_SCALARS(ctx->job.nvars) + ENS_D5_T_FAIL;
        cudaError_t rc = cudaSetDevice(g->ordinal);
        if (rc == cudaSuccess)
            rc = cudaMemcpyAsync(counters, g->aux_int, n * ENS_DOPRI5_INT_ROWS * sizeof *counters,
                                 cudaMemcpyDeviceToHost, g->stream[0]);
        if (rc == cudaSuccess)
            rc = cudaMemcpyAsync(t_fail, (const char *)g->aux + fail_row * n * real, n * real,
                                 cudaMemcpyDeviceToHost, g->stream[0]);
        if (rc == cudaSuccess)
            rc = cudaStreamSynchronize(g->stream[0]);
        if (rc != cudaSuccess)
            st = ens_cuda_fail(err, "cudaMemcpyAsync", "(step counters to the host)", rc, g);
        if (st == ENS_OK)
            ens_member_stats_from_rows(stats, (size_t)g->first, n, counters, t_fail,
                                       real == sizeof(double));
        free(counters);
        free(t_fail);
    }
    return st;
}

/* The step state between the host's rows over all members (row r of member
 * m at [r * count + m], in double) and each GPU's rows over its own. */
static ens_status move_steps(cuda_ctx *ctx, double *real_rows, long long *int_rows, int to_device,
                             ens_error *err)
{
    if (!ctx->adaptive)
        return ens_fail(err, ENS_ERR_INTERNAL, "cuda backend: no step state in this job");
    ens_status st = sync_all(ctx, err);
    const size_t total = (size_t)ctx->count, real = ctx->real_size;
    const size_t nr = (size_t)ENS_DOPRI5_REAL_ROWS(ctx->job.nvars), ni = ENS_DOPRI5_INT_ROWS;
    for (int d = 0; d < ctx->ngpu && st == ENS_OK; d++) {
        cuda_gpu *g = &ctx->gpu[d];
        const size_t n = (size_t)g->count, first = (size_t)g->first;
        if (n == 0)
            continue;
        void *reals = malloc(n * nr * real);
        ens_i64 *ints = (ens_i64 *)malloc(n * ni * sizeof *ints);
        if (!reals || !ints) {
            free(reals);
            free(ints);
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
        }
        /* Row r: this GPU's members are a slice of the host's row. */
        for (size_t r = 0; to_device && r < nr; r++)
            ens_reals_from_double(real_rows + r * total + first, n, (char *)reals + r * n * real,
                                  real == sizeof(double));
        for (size_t r = 0; to_device && r < ni; r++)
            for (size_t i = 0; i < n; i++)
                ints[r * n + i] = int_rows[r * total + first + i];
        const cudaMemcpyKind kind = to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
        cudaError_t rc = cudaSetDevice(g->ordinal);
        if (rc == cudaSuccess)
            rc = to_device ? cudaMemcpy(g->aux, reals, n * nr * real, kind)
                           : cudaMemcpy(reals, g->aux, n * nr * real, kind);
        if (rc == cudaSuccess)
            rc = to_device ? cudaMemcpy(g->aux_int, ints, n * ni * sizeof *ints, kind)
                           : cudaMemcpy(ints, g->aux_int, n * ni * sizeof *ints, kind);
        if (rc != cudaSuccess)
            st = ens_cuda_fail(err, "cudaMemcpy", "(dopri5 step state)", rc, g);
        for (size_t r = 0; st == ENS_OK && !to_device && r < nr; r++)
            ens_reals_to_double((const char *)reals + r * n * real, real == sizeof(double), n,
                                real_rows + r * total + first);
        for (size_t r = 0; st == ENS_OK && !to_device && r < ni; r++)
            for (size_t i = 0; i < n; i++)
                int_rows[r * total + first + i] = ints[r * n + i];
        free(reals);
        free(ints);
    }
    return st;
}

static ens_status cuda_download_steps(void *vctx, double *real_rows, long long *int_rows,
                                      ens_error *err)
{
    return move_steps((cuda_ctx *)vctx, real_rows, int_rows, 0, err);
}

static ens_status cuda_upload_steps(void *vctx, const double *real_rows,
                                    const long long *int_rows, long long steps_done,
                                    ens_error *err)
{
    cuda_ctx *ctx = (cuda_ctx *)vctx;
    /* Only read when copying to the device. */
    ens_status st = move_steps(ctx, (double *)real_rows, (long long *)int_rows, 1, err);
    if (st == ENS_OK)
        ctx->steps_done = steps_done;
    return st;
}

static const ens_backend_dopri5_ops cuda_dopri5 = {
    /* .download_stats = */ cuda_download_stats,
    /* .download_steps = */ cuda_download_steps,
    /* .upload_steps = */ cuda_upload_steps,
};

extern "C" const ens_backend_ops ens_backend_cuda = {
    /* .name = */ "cuda",
    /* .device_memory = */ 1,
    /* .model_files = */ 0,
    /* .probe = */ ens_cuda_probe,
    /* .auto_eligible = */ NULL,
    /* .create = */ cuda_create,
    /* .describe = */ cuda_describe,
    /* .upload = */ cuda_upload,
    /* .advance = */ cuda_advance,
    /* .download = */ cuda_download,
    /* .destroy = */ cuda_destroy,
    /* .wait = */ cuda_wait,
    /* .setup_note = */ NULL,
    /* .dopri5 = */ &cuda_dopri5,
};
