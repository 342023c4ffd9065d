/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * CUDA backend: one thread per ensemble member, its state in registers (or
 * thread-local memory for large Lorenz-96 sizes) for all the steps of an
 * interval, on one GPU or split across several (`--device all` or a list).
 * Lorenz-96 with fixed steps can instead spread each member over a group
 * of 32, 16 or 8 lanes (ENSOL_CUDA_L96_KERNEL, see ens_cuda_lanes).
 *
 * The maths is the single-source code in kernels/ (ens_solver.h, included
 * once per precision below); this file only moves members between host and
 * device memory and launches the kernels.
 *
 * Built twice (src/CMakeLists.txt): as is, with multiply-add contraction
 * (nvcc's default, --fmad=true), and with ENS_CUDA_STRICT defined and
 * --fmad=false -prec-div=true -prec-sqrt=true, so that strict runs round
 * every operation as the CPU backend's strict loops do. Each build exports
 * its kernel table through one C function (ens_cuda_kernel_contract /
 * ens_cuda_kernel_strict); the backend itself (the ops table, with C
 * linkage: ens_backend_cuda) is compiled in the default build only.
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
#include <cuda_runtime.h>

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "backends/backend.h"
}

/* ---- kernels (both builds) --------------------------------------------------- */

#define ENS_REAL double
#define ENS_SUFFIX _d
#include "ens_solver.h"
#undef ENS_REAL
#undef ENS_SUFFIX

#define ENS_REAL float
#define ENS_SUFFIX _f
#include "ens_solver.h"
#undef ENS_REAL
#undef ENS_SUFFIX

/* Threads per block. One member per thread and no shared memory: a few
 * warps per block, enough blocks per SM to hide latency. */
#define ENS_CUDA_BLOCK 128

/* Lorenz-96 sizes: K = 40 (the standard case) compiled with its exact size,
 * so the loops unroll and constant indices keep the state in registers
 * where it fits; other K up to these maxima with the size at run time
 * (per-thread arrays in local memory, cached in L1). */
#define ENS_CUDA_L96_EXACT 40
#define ENS_CUDA_L96_MAX_SMALL 64
#define ENS_CUDA_L96_MAX 256

/* Lorenz-96 with fixed steps: lanes per member, 1 (a thread per member)
 * or 32, 16, 8 (ens_cuda_lanes); ENSOL_CUDA_L96_KERNEL overrides this
 * default (thread, warp, warp16, warp8). */
#define ENS_CUDA_L96_KERNEL_DEFAULT "thread"

/* A kernel, a bound in bytes on the local memory each thread uses, and
 * the lanes (threads) that integrate one member. */
typedef struct ens_cuda_kernel {
    const void *func;
    size_t frame_bytes;
    int lanes;
} ens_cuda_kernel;

namespace {

/* The precision-suffixed maths of ens_solver.h behind one name per type. */
template <typename R> struct maths;

#define ENS_CUDA_MATHS(R, S, LARGEST)                                                      \
    template <> struct maths<R> {                                                          \
        typedef ens_dopri5_ctl_##S ctl;                                                    \
        static __device__ __forceinline__ R largest() { return LARGEST; }                  \
        /* one component's tendency (kernels/models/lorenz96.h) */                        \
        static __device__ __forceinline__ R l96_tendency(R next, R prev2, R prev, R x,     \
                                                         R forcing)                        \
        {                                                                                  \
            return ens_l96_tendency_##S(next, prev2, prev, x, forcing);                    \
        }                                                                                  \
        static __device__ __forceinline__ void advance(int model, int integrator, int nv,  \
                                                       R *x, R *work, const R *p, R dt,    \
                                                       long nsteps)                        \
        {                                                                                  \
            ens_advance_##S(model, integrator, nv, x, work, p, dt, nsteps);                \
        }                                                                                  \
        static __device__ __forceinline__ void dopri5(int model, int nv, int np, ens_u64 m, \
                                                      ens_u64 stride, R *state,            \
                                                      const R *params, R *aux,             \
                                                      ens_i64 *aux_int, const R *tol,      \
                                                      const ctl *c, R *mem, R *work, R *p) \
        {                                                                                  \
            ens_dopri5_member_##S(model, nv, np, m, stride, state, params, aux, aux_int,   \
                                  tol, c, mem, work, p);                                   \
        }                                                                                  \
    };
ENS_CUDA_MATHS(double, d, DBL_MAX)
ENS_CUDA_MATHS(float, f, FLT_MAX)
#undef ENS_CUDA_MATHS

/*
 * Fixed steps (Euler, RK4): members first .. first+n-1 of arrays with row
 * stride `stride` (state[v * stride + m], params[j * stride + m]), each
 * advanced by nsteps steps of dt. NV: the size of the per-thread arrays;
 * EXACT: NV is the model's size (else nv_run <= NV is); NP: parameters.
 * The scalar arguments are doubles, rounded to R here as the CPU backend
 * rounds them.
 */
template <typename R, int MODEL, int INTEGRATOR, int NV, bool EXACT, int NP>
__global__ void __launch_bounds__(ENS_CUDA_BLOCK)
    ens_cuda_fixed(R *__restrict__ state, const R *__restrict__ params, ens_u64 stride,
                   ens_u64 first, ens_u64 n, int nv_run, double dt, long long nsteps)
{
    const ens_u64 i = (ens_u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const ens_u64 m = first + i;
    const int nv = EXACT ? NV : nv_run;
    const int work_per_var =
        INTEGRATOR == ENS_INTEGRATOR_ID_RK4 ? ENS_RK4_WORK_PER_VAR : ENS_EULER_WORK_PER_VAR;
    R x[NV], work[work_per_var * NV], p[NP];
    for (int v = 0; v < nv; v++)
        x[v] = state[(ens_u64)v * stride + m];
    for (int j = 0; j < NP; j++)
        p[j] = params[(ens_u64)j * stride + m];
    maths<R>::advance(MODEL, INTEGRATOR, nv, x, work, p, (R)dt, (long)nsteps);
    for (int v = 0; v < nv; v++)
        state[(ens_u64)v * stride + m] = x[v];
}

/*
 * Lorenz-96, fixed steps, a group of G lanes per member (G = 32: a warp;
 * 16 or 8: part of one, several members per warp). The K components are
 * cut into blocks of B = max(2, ceil(K / G)): lane l holds components
 * l B .. l B + B - 1 in registers; the last lane used, L = (K - 1) / B,
 * holds c <= B of them, the lanes after it none. Only the ends of a block
 * need other lanes' values, x[k+1] from the next lane's first and x[k-1],
 * x[k-2] from the previous lane's last two (cyclic in K): three shuffles
 * per derivative (four when c = 1), where dealing components out round
 * robin (lane l: l, l + G, ...) needs three per component. Each component
 * goes through the same functions as in the thread-per-member kernel, so
 * the strict builds agree bit for bit.
 *
 * J: the bound on B (the register arrays' size); K_EXACT: K where it is a
 * compile-time constant, else 0 and K = nv_run. A group reads and writes
 * its member's values one per row (state[v * stride + m]): unlike a
 * thread per member, these accesses do not coalesce across members; they
 * happen once per launch, not per step.
 */
#define ENS_CUDA_FULL_WARP 0xffffffffu

/* v of lane src of this lane's group of G (src taken modulo G). */
template <int G, typename R> __device__ __forceinline__ R group_shfl(R v, int src)
{
    return __shfl_sync(ENS_CUDA_FULL_WARP, v, src, G);
}

/* v[s] for an s known at run time, without indexing the array (that would
 * move it to local memory). */
template <int J, typename R> __device__ __forceinline__ R pick(const R (&v)[J], int s)
{
    R out = v[0];
#pragma unroll
    for (int j = 1; j < J; j++)
        if (j == s)
            out = v[j];
    return out;
}

/* A member's blocks: K, B, L and c as above, this lane and its count. */
struct l96_blocks {
    int K, B, L, c, lane, count;
};

/* f[j]: the derivative of this lane's component lane B + j, j < count. */
template <typename R, int G, int J>
__device__ __forceinline__ void l96_group_rhs(const l96_blocks &b, const R (&x)[J], R (&f)[J],
                                              R forcing)
{
    const R last = pick<J>(x, b.count - 1), last2 = pick<J>(x, b.count - 2);
    const R next = group_shfl<G>(x[0], b.lane == b.L ? 0 : b.lane + 1);
    const int before = b.lane == 0 ? b.L : b.lane - 1;
    const R prev = group_shfl<G>(last, before);
    R prev2 = group_shfl<G>(last2, before);
    if (b.c == 1) { /* the same K in the whole warp */
        /* lane L holds x[K-1] only: x[K-2] is lane L-1's last */
        const R x_k2 = group_shfl<G>(last, b.L - 1);
        if (b.lane == 0)
            prev2 = x_k2;
    }
#pragma unroll
    for (int j = 0; j < J; j++) {
        if (j < b.B) {
            const R xn = j + 1 < J && j + 1 < b.count ? x[(j + 1) % J] : next;
            const R xp = j >= 1 ? x[(j + J - 1) % J] : prev;
            const R xp2 = j >= 2 ? x[(j + J - 2) % J] : j == 1 ? prev : prev2;
            f[j] = maths<R>::l96_tendency(xn, xp2, xp, x[j], forcing);
        }
    }
}

template <typename R, int INTEGRATOR, int G, int J, int K_EXACT>
__global__ void __launch_bounds__(ENS_CUDA_BLOCK)
    ens_cuda_lanes(R *__restrict__ state, const R *__restrict__ params, ens_u64 stride,
                   ens_u64 first, ens_u64 n, int nv_run, double dt, long long nsteps)
{
    static_assert(G == 8 || G == 16 || G == 32, "a group is a warp or part of one");
    static_assert(ENS_CUDA_BLOCK % 32 == 0, "blocks of whole warps");
    const ens_u64 t = (ens_u64)blockIdx.x * blockDim.x + threadIdx.x;
    /* Whole warps past the end leave; in the others every lane takes part
     * in the shuffles, groups past the end without loading or storing. */
    if ((t & ~(ens_u64)31) / G >= n)
        return;
    const ens_u64 i = t / G, m = first + i;
    l96_blocks b;
    b.K = K_EXACT > 0 ? K_EXACT : nv_run;
    b.B = (b.K + G - 1) / G < 2 ? 2 : (b.K + G - 1) / G;
    b.L = (b.K - 1) / b.B;
    b.c = b.K - b.L * b.B;
    b.lane = (int)(t % G);
    b.count = i >= n ? 0 : b.lane < b.L ? b.B : b.lane == b.L ? b.c : 0;

    R x[J], f[J];
#pragma unroll
    for (int j = 0; j < J; j++)
        x[j] = j < b.count ? state[(ens_u64)(b.lane * b.B + j) * stride + m] : (R)0;
    const R forcing = b.count > 0 ? params[m] : (R)0;
    const R h = (R)dt;
    /* The integrator's step (kernels/integrators/) over this lane's block. */
#define ENS_LANE_RHS(in, out) l96_group_rhs<R, G, J>(b, in, out, forcing)
    if (INTEGRATOR == ENS_INTEGRATOR_ID_RK4) {
        R sum[J], xs[J];
#pragma unroll
        for (int j = 0; j < J; j++)
            sum[j] = xs[j] = (R)0;
        for (long long s = 0; s < nsteps; s++)
            ENS_RK4_STEP(R, J, b.B, x, sum, xs, f, h, ENS_LANE_RHS);
    } else {
        for (long long s = 0; s < nsteps; s++)
            ENS_EULER_STEP(R, J, b.B, x, f, h, ENS_LANE_RHS);
    }
#undef ENS_LANE_RHS
#pragma unroll
    for (int j = 0; j < J; j++)
        if (j < b.count)
            state[(ens_u64)(b.lane * b.B + j) * stride + m] = x[j];
}

/*
 * DOPRI5: the per-member function every backend runs
 * (kernels/integrators/dopri5.h), advancing members first .. first+n-1 to
 * t_end; aux and aux_int hold their step state between calls (rows of
 * ens_portable.h with row stride `stride`); fresh = 1 on the first call
 * after an upload. dt_max <= 0: no limit.
 */
template <typename R, int MODEL, int NV, bool EXACT, int NP>
__global__ void __launch_bounds__(ENS_CUDA_BLOCK)
    ens_cuda_dopri5(R *__restrict__ state, const R *__restrict__ params, R *__restrict__ aux,
                    ens_i64 *__restrict__ aux_int, const R *__restrict__ tol, ens_u64 stride,
                    ens_u64 first, ens_u64 n, int nv_run, double t_end, double h0,
                    double dt_min, double dt_max, long long max_steps, int fresh)
{
    const ens_u64 i = (ens_u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const int nv = EXACT ? NV : nv_run;
    typename maths<R>::ctl ctl;
    ctl.h0 = (R)h0;
    ctl.dt_min = (R)dt_min;
    ctl.dt_max = dt_max > 0 ? (R)dt_max : maths<R>::largest();
    ctl.t_end = (R)t_end;
    ctl.max_steps = max_steps;
    ctl.fresh = fresh;
    R mem[ENS_DOPRI5_REAL_ROWS(NV)], work[ENS_DOPRI5_WORK_PER_VAR * NV], p[NP];
    maths<R>::dopri5(MODEL, nv, NP, first + i, stride, state, params, aux, aux_int, tol, &ctl,
                     mem, work, p);
}

/* A kernel of each kind with a bound on its per-thread arrays: where they
 * do not fit in registers they are its stack frame, which the driver backs
 * with local memory for every thread the device can hold. */
template <typename R, int MODEL, int INTEGRATOR, int NV, bool EXACT, int NP>
ens_cuda_kernel fixed_kernel()
{
    const int work_per_var =
        INTEGRATOR == ENS_INTEGRATOR_ID_RK4 ? ENS_RK4_WORK_PER_VAR : ENS_EULER_WORK_PER_VAR;
    const ens_cuda_kernel k = {(const void *)ens_cuda_fixed<R, MODEL, INTEGRATOR, NV, EXACT, NP>,
                               sizeof(R) * (size_t)(NV * (1 + work_per_var) + NP) + 256, 1};
    return k;
}

template <typename R, int INTEGRATOR, int G, int J, int K_EXACT> ens_cuda_kernel lanes_kernel()
{
    const int work_per_var =
        INTEGRATOR == ENS_INTEGRATOR_ID_RK4 ? ENS_RK4_WORK_PER_VAR : ENS_EULER_WORK_PER_VAR;
    const ens_cuda_kernel k = {(const void *)ens_cuda_lanes<R, INTEGRATOR, G, J, K_EXACT>,
                               sizeof(R) * (size_t)(J * (1 + work_per_var)) + 256, G};
    return k;
}

/* J for sizes up to k on g lanes: the largest block, at least 2. */
constexpr int block_bound(int k, int g) { return (k + g - 1) / g < 2 ? 2 : (k + g - 1) / g; }

/* Lorenz-96 with fixed steps on groups of G lanes: K = 40 exact, other
 * sizes up to the thread kernels' maxima. */
template <typename R, int G> ens_cuda_kernel lanes_kernel_for(bool is_rk4, int nvars)
{
    const int euler = ENS_INTEGRATOR_ID_EULER, rk4 = ENS_INTEGRATOR_ID_RK4;
    const int exact = ENS_CUDA_L96_EXACT, small = ENS_CUDA_L96_MAX_SMALL;
    constexpr int j_exact = block_bound(ENS_CUDA_L96_EXACT, G);
    constexpr int j_small = block_bound(ENS_CUDA_L96_MAX_SMALL, G);
    constexpr int j_large = block_bound(ENS_CUDA_L96_MAX, G);
    if (nvars == exact)
        return is_rk4 ? lanes_kernel<R, rk4, G, j_exact, exact>()
                      : lanes_kernel<R, euler, G, j_exact, exact>();
    if (nvars <= small)
        return is_rk4 ? lanes_kernel<R, rk4, G, j_small, 0>()
                      : lanes_kernel<R, euler, G, j_small, 0>();
    return is_rk4 ? lanes_kernel<R, rk4, G, j_large, 0>()
                  : lanes_kernel<R, euler, G, j_large, 0>();
}

template <typename R, int MODEL, int NV, bool EXACT, int NP>
ens_cuda_kernel dopri5_kernel()
{
    const ens_cuda_kernel k = {
        (const void *)ens_cuda_dopri5<R, MODEL, NV, EXACT, NP>,
        sizeof(R) * (size_t)(ENS_DOPRI5_REAL_ROWS(NV) + ENS_DOPRI5_WORK_PER_VAR * NV + NP) +
            sizeof(ens_i64) * ENS_DOPRI5_INT_ROWS + 256,
        1};
    return k;
}

/* Lorenz-63: 3 variables, 3 parameters, exact size. Lorenz-96: 1
 * parameter; K = 40 exact for the fixed-step integrators, other sizes (and
 * dopri5, whose arrays are 15 K values) up to the next maximum; with fixed
 * steps and lanes > 1, on groups of that many lanes. */
template <typename R>
ens_cuda_kernel kernel_for(int model, int integrator, int nvars, int lanes)
{
    const int l63 = ENS_MODEL_LORENZ63, l96 = ENS_MODEL_LORENZ96;
    const int euler = ENS_INTEGRATOR_ID_EULER, rk4 = ENS_INTEGRATOR_ID_RK4;
    const bool is_rk4 = integrator == rk4;
    if (model == l63 && nvars == 3) {
        if (integrator == ENS_INTEGRATOR_ID_DOPRI5)
            return dopri5_kernel<R, l63, 3, true, 3>();
        return is_rk4 ? fixed_kernel<R, l63, rk4, 3, true, 3>()
                      : fixed_kernel<R, l63, euler, 3, true, 3>();
    }
    if (model != l96 || nvars < 4 || nvars > ENS_CUDA_L96_MAX) {
        const ens_cuda_kernel none = {NULL, 0, 1};
        return none;
    }
    const int small = ENS_CUDA_L96_MAX_SMALL, large = ENS_CUDA_L96_MAX;
    if (integrator == ENS_INTEGRATOR_ID_DOPRI5)
        return nvars <= small ? dopri5_kernel<R, l96, small, false, 1>()
                              : dopri5_kernel<R, l96, large, false, 1>();
    if (lanes == 32)
        return lanes_kernel_for<R, 32>(is_rk4, nvars);
    if (lanes == 16)
        return lanes_kernel_for<R, 16>(is_rk4, nvars);
    if (lanes == 8)
        return lanes_kernel_for<R, 8>(is_rk4, nvars);
    if (nvars == ENS_CUDA_L96_EXACT)
        return is_rk4 ? fixed_kernel<R, l96, rk4, ENS_CUDA_L96_EXACT, true, 1>()
                      : fixed_kernel<R, l96, euler, ENS_CUDA_L96_EXACT, true, 1>();
    if (nvars <= small)
        return is_rk4 ? fixed_kernel<R, l96, rk4, small, false, 1>()
                      : fixed_kernel<R, l96, euler, small, false, 1>();
    return is_rk4 ? fixed_kernel<R, l96, rk4, large, false, 1>()
                  : fixed_kernel<R, l96, euler, large, false, 1>();
}

} // namespace

#ifdef ENS_CUDA_STRICT
#define ENS_CUDA_KERNEL_ENTRY ens_cuda_kernel_strict
#else
#define ENS_CUDA_KERNEL_ENTRY ens_cuda_kernel_contract
#endif

extern "C" {
/* The kernel (its host stub, for cudaLaunchKernel and cudaFuncGetAttributes)
 * of a model, integrator, precision and size, and for Lorenz-96 with fixed
 * steps the lanes per member (1, 8, 16, 32); func is NULL when this build
 * has none. */
ens_cuda_kernel ens_cuda_kernel_contract(int model, int integrator, int dbl, int nvars,
                                         int lanes);
ens_cuda_kernel ens_cuda_kernel_strict(int model, int integrator, int dbl, int nvars, int lanes);
}

ens_cuda_kernel ENS_CUDA_KERNEL_ENTRY(int model, int integrator, int dbl, int nvars, int lanes)
{
    return dbl ? kernel_for<double>(model, integrator, nvars, lanes)
               : kernel_for<float>(model, integrator, nvars, lanes);
}

#ifndef ENS_CUDA_STRICT
/* ---- the backend (default build only) ------------------------------------------ */

#define ENS_CUDA_MAX_DEVICES 64
#define ENS_CUDA_STREAMS 2
/* Chunks per device and batch, alternating between the streams; a chunk
 * is at least one full wave of resident threads, so that cutting the batch
 * costs no occupancy. */
#define ENS_CUDA_MAX_CHUNKS 4
/* Share of the free device memory the buffers may take (the rest: the
 * runtime, kernels' local memory, other programs). */
#define ENS_CUDA_MEMORY_SHARE 0.8

#ifndef ENSOL_CUDA_ARCHITECTURES
#define ENSOL_CUDA_ARCHITECTURES ""
#endif

/* One device: its description, streams and buffers. */
typedef struct cuda_gpu {
    int ordinal;           /* CUDA device number */
    char name[256];
    int sms;
    int threads_per_sm;
    int cc_major, cc_minor;
    size_t total_mem;
    size_t max_pitch;
    cudaStream_t stream[ENS_CUDA_STREAMS];
    /* device memory, `alloc` members */
    void *state, *params, *aux, *tol;
    ens_i64 *aux_int;
    /* pinned host staging, `alloc` members */
    void *h_state, *h_params;
    long long alloc;
    long long fit;         /* members its free memory holds */
    /* the loaded members: [first, first + count) of the batch */
    long long first, count;
} cuda_gpu;

typedef struct cuda_ctx {
    ens_backend_job job;
    size_t real_size;
    int adaptive;
    ens_cuda_kernel kernel;
    const char *l96_kernel; /* the Lorenz-96 fixed-step kernel, for describe(); NULL: none */
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

/* "cuda backend: cudaMalloc failed on device 0 (NVIDIA H100): cudaErrorMemoryAllocation: out
 * of memory". `call` is the call's source text: its name is what precedes '('. */
static ens_status cu_fail(ens_error *err, const char *call, const char *what, cudaError_t rc,
                          const cuda_gpu *g)
{
    (void)cudaGetLastError(); /* clear the error where it is not sticky */
    const ens_status st = rc == cudaErrorMemoryAllocation ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_BACKEND;
    const int name_len = (int)strcspn(call, "( ");
    char device[320] = "";
    if (g)
        snprintf(device, sizeof device, " on device %d (%s)", g->ordinal, g->name);
    return ens_fail(err, st, "cuda backend: %.*s%s%s failed%s: %s: %s", name_len, call,
                    what ? " " : "", what ? what : "", device, cudaGetErrorName(rc),
                    cudaGetErrorString(rc));
}

/* Every CUDA call of the backend goes through these: on failure, return
 * the error naming the call, the error and the device. */
#define CU_CHECK_WHAT(g, what, call)                             \
    do {                                                         \
        const cudaError_t rc_ = (call);                          \
        if (rc_ != cudaSuccess)                                  \
            return cu_fail(err, #call, what, rc_, g);            \
    } while (0)
#define CU_CHECK(g, call) CU_CHECK_WHAT(g, NULL, call)

/* ---- devices ------------------------------------------------------------------- */

/* Whether this build has code a device of compute capability major.minor
 * runs: SASS of the same major version and a minor not above its own, or
 * PTX of an architecture not above it (JIT-compiled by the driver). The
 * list is CMAKE_CUDA_ARCHITECTURES, its entries separated by commas
 * ("80-real,90-real,90-virtual"); anything unparsed ("all", "native")
 * counts as runnable. */
static int arch_runnable(int major, int minor)
{
    const char *s = ENSOL_CUDA_ARCHITECTURES;
    const int cc = 10 * major + minor;
    int parsed_any = 0;
    while (*s) {
        char *end = NULL;
        const long arch = strtol(s, &end, 10);
        if (end == s)
            return 1; /* a keyword: cannot tell */
        parsed_any = 1;
        int real = 1, virt = 1;
        if (strncmp(end, "-real", 5) == 0) {
            virt = 0;
            end += 5;
        } else if (strncmp(end, "-virtual", 8) == 0) {
            real = 0;
            end += 8;
        }
        /* "90a": architecture-specific code, for exactly that device */
        const int specific = isalpha((unsigned char)*end);
        while (*end && *end != ',' && *end != ';')
            end++;
        if (specific ? arch == cc
                     : ((real && arch / 10 == major && arch <= cc) || (virt && arch <= cc)))
            return 1;
        s = *end ? end + 1 : end;
    }
    return !parsed_any;
}

/* Why no CUDA device can be used, from cudaGetDeviceCount's answer. */
static void unavailable_reason(cudaError_t rc, char *detail, size_t size)
{
    if (rc == cudaSuccess)
        snprintf(detail, size, "no CUDA device (cudaGetDeviceCount: 0 devices)");
    else if (rc == cudaErrorNoDevice)
        snprintf(detail, size, "no CUDA device (%s: %s)", cudaGetErrorName(rc),
                 cudaGetErrorString(rc));
    else if (rc == cudaErrorInsufficientDriver)
        snprintf(detail, size,
                 "no CUDA driver, or one older than the CUDA %d.%d runtime of this ensol (%s: %s)",
                 CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10, cudaGetErrorName(rc),
                 cudaGetErrorString(rc));
    else
        snprintf(detail, size, "no usable CUDA device (cudaGetDeviceCount: %s: %s)",
                 cudaGetErrorName(rc), cudaGetErrorString(rc));
}

/* The device's description; no context is created. */
static cudaError_t describe_gpu(int ordinal, cuda_gpu *g)
{
    memset(g, 0, sizeof *g);
    g->ordinal = ordinal;
    cudaDeviceProp prop;
    cudaError_t rc = cudaGetDeviceProperties(&prop, ordinal);
    if (rc != cudaSuccess)
        return rc;
    snprintf(g->name, sizeof g->name, "%s", prop.name);
    g->total_mem = prop.totalGlobalMem;
    g->max_pitch = prop.memPitch;
    const struct {
        int *value;
        cudaDeviceAttr attr;
    } attrs[] = {{&g->sms, cudaDevAttrMultiProcessorCount},
                 {&g->threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor},
                 {&g->cc_major, cudaDevAttrComputeCapabilityMajor},
                 {&g->cc_minor, cudaDevAttrComputeCapabilityMinor}};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if ((rc = cudaDeviceGetAttribute(attrs[i].value, attrs[i].attr, ordinal)) != cudaSuccess)
            return rc;
    g->sms = g->sms > 0 ? g->sms : 1;
    g->threads_per_sm = g->threads_per_sm > 0 ? g->threads_per_sm : 2048;
    return cudaSuccess;
}

/* One line per device:
 * "\n    [0] NVIDIA H100 80GB HBM3: GPU, 132 SMs, 79.1 GiB, compute capability 9.0" */
static void append_gpu_line(const cuda_gpu *g, char *buf, size_t size)
{
    const size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    const char *no_code =
        " (no code for it in this build: CMAKE_CUDA_ARCHITECTURES=" ENSOL_CUDA_ARCHITECTURES ")";
    snprintf(buf + used, size - used,
             "\n    [%d] %s: GPU, %d SMs, %.1f GiB, compute capability %d.%d%s", g->ordinal,
             g->name, g->sms, (double)g->total_mem / (1024.0 * 1024.0 * 1024.0), g->cc_major,
             g->cc_minor, arch_runnable(g->cc_major, g->cc_minor) ? "" : no_code);
}

static ens_status cuda_probe(char *detail, size_t size)
{
    int n = 0;
    const cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n <= 0) {
        (void)cudaGetLastError();
        unavailable_reason(rc, detail, size);
        return ENS_ERR_BACKEND_UNAVAILABLE;
    }
    snprintf(detail, size, "%d device%s", n, n == 1 ? "" : "s");
    int runnable = 0;
    for (int i = 0; i < n; i++) {
        cuda_gpu g;
        const cudaError_t drc = describe_gpu(i, &g);
        if (drc != cudaSuccess) {
            (void)cudaGetLastError();
            const size_t used = strlen(detail);
            snprintf(detail + used, size - used, "\n    [%d] (cannot be queried: %s)", i,
                     cudaGetErrorName(drc));
            continue;
        }
        runnable += arch_runnable(g.cc_major, g.cc_minor);
        append_gpu_line(&g, detail, size);
    }
    return runnable > 0 ? ENS_OK : ENS_ERR_BACKEND_UNAVAILABLE;
}

/* The devices a request names: "" -> device 0; "all" -> every device; a
 * number or a comma-separated list of numbers ("0,2") -> those; anything
 * else -> the first device whose name contains it, ignoring case. Returns
 * how many (0: none matches, -1: a number repeated or out of range). */
static int select_gpus(const char *request, const cuda_gpu *all, int n, int *out)
{
    if (!request || !*request) {
        out[0] = 0;
        return 1;
    }
    if (n > ENS_CUDA_MAX_DEVICES)
        n = ENS_CUDA_MAX_DEVICES;
    if (strcmp(request, "all") == 0 || strcmp(request, "ALL") == 0) {
        for (int i = 0; i < n; i++)
            out[i] = i;
        return n;
    }
    int numbers = 1;
    for (const char *s = request; *s && numbers; s++)
        numbers = isdigit((unsigned char)*s) ||
                  (*s == ',' && s != request && isdigit((unsigned char)s[1]));
    if (numbers) {
        int count = 0;
        for (const char *s = request; *s;) {
            char *end = NULL;
            const long index = strtol(s, &end, 10);
            if (index >= n || count == ENS_CUDA_MAX_DEVICES)
                return -1;
            for (int j = 0; j < count; j++)
                if (out[j] == (int)index)
                    return -1;
            out[count++] = (int)index;
            s = *end == ',' ? end + 1 : end;
        }
        return count;
    }
    for (int i = 0; i < n; i++)
        if (ens_device_name_matches(all[i].name, request)) {
            out[0] = i;
            return 1;
        }
    return 0;
}

/* ---- the backend -------------------------------------------------------------------- */

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
    if (!arch_runnable(g->cc_major, g->cc_minor))
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

/* Lanes per Lorenz-96 member with fixed steps from a choice of
 * ENSOL_CUDA_L96_KERNEL, and its name for describe(); 0: no such choice. */
static int l96_lanes(const char *choice, const char **name)
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

static ens_status cuda_create(ens_backend_job *job, void **out, ens_error *err)
{
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n <= 0) {
        char why[256];
        (void)cudaGetLastError();
        unavailable_reason(rc, why, sizeof why);
        return ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE, "cuda backend: %s", why);
    }
    cuda_ctx *ctx = (cuda_ctx *)calloc(1, sizeof *ctx);
    cuda_gpu *all = (cuda_gpu *)calloc((size_t)n, sizeof *all);
    void *tol = NULL;
    ens_status st = ENS_OK;
    int chosen[ENS_CUDA_MAX_DEVICES];
    if (!ctx || !all) {
        st = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++)
        if ((rc = describe_gpu(i, &all[i])) != cudaSuccess) {
            st = cu_fail(err, "cudaGetDeviceProperties", NULL, rc, &all[i]);
            goto fail;
        }
    {
        /* Under MPI with no request: one device per rank of the node, in
         * turn (local rank modulo the devices this rank sees). */
        const int by_rank = (!job->device || !*job->device) && job->local_rank >= 0;
        if (by_rank)
            chosen[0] = job->local_rank % n;
        const int count = by_rank ? 1 : select_gpus(job->device, all, n, chosen);
        if (count <= 0) {
            char devices[ENS_ERROR_MAX / 2] = "";
            for (int i = 0; i < n; i++)
                append_gpu_line(&all[i], devices, sizeof devices);
            st = ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE,
                          "cuda backend: no device '%s' (a number, a list such as 0,1, 'all', or "
                          "part of a name); devices:%s",
                          job->device, devices);
            goto fail;
        }
        ctx->ngpu = count;
        for (int d = 0; d < count; d++) {
            ctx->gpu[d] = all[chosen[d]];
            ctx->weight_total += ctx->gpu[d].sms;
        }
    }
    free(all);
    all = NULL;

    ctx->job = *job;
    ctx->job.rtol = ctx->job.atol = NULL; /* the caller's; the devices get copies */
    ctx->real_size = job->precision == ENS_PRECISION_ID_FLOAT ? sizeof(float) : sizeof(double);
    ctx->adaptive = ens_job_adaptive(job);
    ctx->prefetch = 1;
    {
        /* read at each create, so that a process can compare the kernels */
        const char *env = getenv("ENSOL_CUDA_L96_KERNEL");
        const char *choice = env && *env ? env : ENS_CUDA_L96_KERNEL_DEFAULT;
        const char *l96_name = NULL;
        const int lanes = l96_lanes(choice, &l96_name);
        if (lanes == 0) {
            st = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                          "cuda backend: ENSOL_CUDA_L96_KERNEL=%s: not a kernel (thread, warp, "
                          "warp16 or warp8)",
                          choice);
            goto fail;
        }
        const int l96_fixed = job->model == ENS_MODEL_LORENZ96 && !ctx->adaptive;
        ctx->l96_kernel = l96_fixed ? l96_name : NULL;
        const int dbl = job->precision != ENS_PRECISION_ID_FLOAT;
        const int use_lanes = l96_fixed ? lanes : 1;
        ctx->kernel = job->strict_fp ? ens_cuda_kernel_strict(job->model, job->integrator, dbl,
                                                              job->nvars, use_lanes)
                                     : ens_cuda_kernel_contract(job->model, job->integrator, dbl,
                                                                job->nvars, use_lanes);
        const int model_params = job->model == ENS_MODEL_LORENZ63 ? 3 : 1;
        if (!ctx->kernel.func || job->nparams != model_params) {
            st = ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE,
                          "cuda backend: no kernel for this model and size (%d variables, %d "
                          "parameters; Lorenz-96 runs with K from 4 to %d); use --backend openmp",
                          job->nvars, job->nparams, ENS_CUDA_L96_MAX);
            goto fail;
        }
    }

    /* Per device: streams, local memory for the kernel, and the members its
     * free memory holds; the batch is the one whose share fits everywhere. */
    {
        long long capacity = job->capacity > 0 ? job->capacity : 1;
        for (int d = 0; d < ctx->ngpu; d++) {
            st = prepare_gpu(ctx, &ctx->gpu[d], err);
            if (st != ENS_OK)
                goto fail;
            const cuda_gpu *g = &ctx->gpu[d];
            const double whole = floor((double)g->fit * (double)ctx->weight_total / g->sms);
            if (whole < (double)capacity)
                capacity = whole < 1.0 ? 1 : (long long)whole;
        }

        /* Tolerances rounded to the job's precision, as every backend does. */
        const size_t nv = (size_t)job->nvars;
        if (ctx->adaptive) {
            tol = malloc(2 * nv * ctx->real_size);
            if (!tol) {
                st = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
                goto fail;
            }
            for (size_t v = 0; v < nv; v++) {
                if (ctx->real_size == sizeof(double)) {
                    ((double *)tol)[v] = job->rtol[v];
                    ((double *)tol)[nv + v] = job->atol[v];
                } else {
                    ((float *)tol)[v] = (float)job->rtol[v];
                    ((float *)tol)[nv + v] = (float)job->atol[v];
                }
            }
        }
        /* Out of memory (other programs on the device, pinned memory
         * limits): halve the batch and try once more. */
        st = allocate(ctx, capacity, tol, err);
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
        if (st != ENS_OK)
            goto fail;
        job->capacity = capacity;
        ctx->job.capacity = capacity;
    }
    free(tol);
    *out = ctx;
    return ENS_OK;

fail:
    free(all);
    free(tol);
    cuda_destroy(ctx);
    return st;
}

static void cuda_describe(void *vctx, char *device, size_t size)
{
    const cuda_ctx *ctx = (const cuda_ctx *)vctx;
    const cuda_gpu *g = &ctx->gpu[0];
    char extra[96];
    snprintf(extra, sizeof extra, "%s%s%s", ctx->job.strict_fp ? ", strict fp" : "",
             ctx->l96_kernel ? ", L96 " : "", ctx->l96_kernel ? ctx->l96_kernel : "");
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

static ens_status cuda_upload(void *vctx, long long count, const void *state, const void *params,
                              ens_error *err)
{
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
                          long long nsteps, int fresh, double t_end, cudaStream_t stream)
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
        void *args[] = {&g->state, &g->params, &g->aux, &g->aux_int, &g->tol,
                        &stride,   &first_u,   &n_u,    &nv,         &t_end,
                        &h0,       &dt_min,    &dt_max, &max_steps,  &fresh};
        return cudaLaunchKernel(ctx->kernel.func, grid, block, args, 0, stream);
    }
    double dt = job->dt;
    void *args[] = {&g->state, &g->params, &stride, &first_u, &n_u, &nv, &dt, &nsteps};
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
                          launch(ctx, g, first, n, nsteps, fresh, t_end, stream));
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
            st = cu_fail(err, "cudaMemcpyAsync", "(step counters to the host)", rc, g);
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
            st = cu_fail(err, "cudaMemcpy", "(dopri5 step state)", rc, g);
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

extern "C" const ens_backend_ops ens_backend_cuda = {
    /* .name = */ "cuda",
    /* .device_memory = */ 1,
    /* .probe = */ cuda_probe,
    /* .auto_eligible = */ NULL,
    /* .create = */ cuda_create,
    /* .describe = */ cuda_describe,
    /* .upload = */ cuda_upload,
    /* .advance = */ cuda_advance,
    /* .download = */ cuda_download,
    /* .download_stats = */ cuda_download_stats,
    /* .destroy = */ cuda_destroy,
    /* .wait = */ cuda_wait,
    /* .download_steps = */ cuda_download_steps,
    /* .upload_steps = */ cuda_upload_steps,
};

#endif /* !ENS_CUDA_STRICT */
