/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The CUDA backend's kernels: one thread per ensemble member, its state in
 * registers (or thread-local memory for large run-time sizes) for all the
 * steps of an interval; a model with a component form (ENS_MODEL_LIST)
 * with fixed steps can instead spread each member over a group of 32, 16
 * or 8 lanes (ENSOL_CUDA_LANE_KERNEL, see cuda.cu). Kernels are
 * instantiated for every model of the list from its properties.
 *
 * The maths is the single-source code in kernels/ (ens_solver.h, included
 * once per precision below); this file only arranges members into threads.
 *
 * Built twice (src/CMakeLists.txt): as is, with multiply-add contraction
 * (nvcc's default, --fmad=true), and with ENS_CUDA_STRICT defined and
 * --fmad=false -prec-div=true -prec-sqrt=true, so that strict runs round
 * every operation as the CPU backend's strict loops do. Each build exports
 * its kernel table through one C function (ens_cuda_kernel_contract /
 * ens_cuda_kernel_strict, cuda_kernels.h).
 */
#include <float.h>
#include <stddef.h>

#include "backends/cuda_kernels.h"
#include "ens_portable.h"

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

namespace {

/* The precision-suffixed maths of ens_solver.h behind one name per type. */
template <typename R> struct maths;

#define ENS_CUDA_MATHS(R, S, LARGEST)                                                      \
    template <> struct maths<R> {                                                          \
        typedef ens_dopri5_ctl_##S ctl;                                                    \
        static __device__ __forceinline__ R largest() { return LARGEST; }                  \
        /* one component's tendency (the model list's component form) */                 \
        static __device__ __forceinline__ R component(int model, R next, R prev2, R prev,  \
                                                      R x, R p0)                           \
        {                                                                                  \
            return ens_component_tendency_##S(model, next, prev2, prev, x, p0);            \
        }                                                                                  \
        static __device__ __forceinline__ void advance(int model, int integrator, int nv,  \
                                                       R t0, R *x, R *work, const R *p,    \
                                                       R dt, long nsteps)                  \
        {                                                                                  \
            ens_advance_##S(model, integrator, nv, t0, x, work, p, dt, nsteps);            \
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
 * advanced by nsteps steps of dt from model time t_start. NV: the size of the per-thread arrays;
 * EXACT: NV is the model's size (else nv_run <= NV is); NP: parameters.
 * The scalar arguments are doubles, rounded to R here as the CPU backend
 * rounds them.
 */
template <typename R, int MODEL, int INTEGRATOR, int NV, bool EXACT, int NP>
__global__ void __launch_bounds__(ENS_CUDA_BLOCK)
    ens_cuda_fixed(R *__restrict__ state, const R *__restrict__ params, ens_u64 stride,
                   ens_u64 first, ens_u64 n, int nv_run, double dt, long long nsteps,
                   double t_start)
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
    maths<R>::advance(MODEL, INTEGRATOR, nv, (R)t_start, x, work, p, (R)dt, (long)nsteps);
    for (int v = 0; v < nv; v++)
        state[(ens_u64)v * stride + m] = x[v];
}

/*
 * A model with a component form (ENS_MODEL_LIST: f_k from x[k+1], x[k-2],
 * x[k-1], x[k] and the first parameter, k cyclic), fixed steps, a group
 * of G lanes per member (G = 32: a warp; 16 or 8: part of one, several
 * members per warp). The K components are
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
struct lane_blocks {
    int K, B, L, c, lane, count;
};

/* f[j]: the derivative of this lane's component lane B + j, j < count. */
template <typename R, int MODEL, int G, int J>
__device__ __forceinline__ void group_rhs(const lane_blocks &b, const R (&x)[J], R (&f)[J],
                                          R p0)
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
            f[j] = maths<R>::component(MODEL, xn, xp2, xp, x[j], p0);
        }
    }
}

template <typename R, int MODEL, int INTEGRATOR, int G, int J, int K_EXACT>
__global__ void __launch_bounds__(ENS_CUDA_BLOCK)
    ens_cuda_lanes(R *__restrict__ state, const R *__restrict__ params, ens_u64 stride,
                   ens_u64 first, ens_u64 n, int nv_run, double dt, long long nsteps,
                   double t_start)
{
    static_assert(G == 8 || G == 16 || G == 32, "a group is a warp or part of one");
    static_assert(ENS_CUDA_BLOCK % 32 == 0, "blocks of whole warps");
    const ens_u64 t = (ens_u64)blockIdx.x * blockDim.x + threadIdx.x;
    /* Whole warps past the end leave; in the others every lane takes part
     * in the shuffles, groups past the end without loading or storing. */
    if ((t & ~(ens_u64)31) / G >= n)
        return;
    const ens_u64 i = t / G, m = first + i;
    lane_blocks b;
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
    const R p0 = b.count > 0 ? params[m] : (R)0;
    const R h = (R)dt;
    /* The integrator's step (kernels/integrators/) over this lane's block. */
    /* A component form is autonomous: the stage times go unused. */
    const R t0 = (R)t_start;
#define ENS_LANE_RHS(tt, in, out) group_rhs<R, MODEL, G, J>(b, in, out, p0)
    if (INTEGRATOR == ENS_INTEGRATOR_ID_RK4) {
        R sum[J], xs[J];
#pragma unroll
        for (int j = 0; j < J; j++)
            sum[j] = xs[j] = (R)0;
        for (long long s = 0; s < nsteps; s++)
            ENS_RK4_STEP(R, R, J, b.B, ENS_STEP_TIME(R, t0, s, h), x, sum, xs, f, h, ENS_LANE_RHS);
    } else {
        for (long long s = 0; s < nsteps; s++)
            ENS_EULER_STEP(R, J, b.B, ENS_STEP_TIME(R, t0, s, h), x, f, h, ENS_LANE_RHS);
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
                    double dt_min, double dt_max, long long max_steps, int fresh, double t0)
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
    ctl.t0 = (R)t0;
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

template <typename R, int MODEL, int INTEGRATOR, int G, int J, int K_EXACT>
ens_cuda_kernel lanes_kernel()
{
    const int work_per_var =
        INTEGRATOR == ENS_INTEGRATOR_ID_RK4 ? ENS_RK4_WORK_PER_VAR : ENS_EULER_WORK_PER_VAR;
    const ens_cuda_kernel k = {(const void *)ens_cuda_lanes<R, MODEL, INTEGRATOR, G, J, K_EXACT>,
                               sizeof(R) * (size_t)(J * (1 + work_per_var)) + 256, G};
    return k;
}

/* J for sizes up to k on g lanes: the largest block, at least 2. */
constexpr int block_bound(int k, int g) { return (k + g - 1) / g < 2 ? 2 : (k + g - 1) / g; }

/* A model with a component form, fixed steps, on groups of G lanes: its
 * common size exact (COMMON > 0), other sizes up to the thread kernels'
 * maxima. */
template <typename R, int MODEL, int COMMON, int G>
ens_cuda_kernel lanes_kernel_for(bool is_rk4, int nvars)
{
    const int euler = ENS_INTEGRATOR_ID_EULER, rk4 = ENS_INTEGRATOR_ID_RK4;
    constexpr int j_small = block_bound(ENS_CUDA_MAX_VARS_SMALL, G);
    constexpr int j_large = block_bound(ENS_CUDA_MAX_VARS, G);
    if constexpr (COMMON > 0) {
        constexpr int j_common = block_bound(COMMON, G);
        if (nvars == COMMON)
            return is_rk4 ? lanes_kernel<R, MODEL, rk4, G, j_common, COMMON>()
                          : lanes_kernel<R, MODEL, euler, G, j_common, COMMON>();
    }
    if (nvars <= ENS_CUDA_MAX_VARS_SMALL)
        return is_rk4 ? lanes_kernel<R, MODEL, rk4, G, j_small, 0>()
                      : lanes_kernel<R, MODEL, euler, G, j_small, 0>();
    return is_rk4 ? lanes_kernel<R, MODEL, rk4, G, j_large, 0>()
                  : lanes_kernel<R, MODEL, euler, G, j_large, 0>();
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

/* The fixed-step kernel with NV-sized arrays: RK4 or Euler. */
template <typename R, int MODEL, int NV, bool EXACT, int NP>
ens_cuda_kernel fixed_kernel_for(bool is_rk4)
{
    return is_rk4 ? fixed_kernel<R, MODEL, ENS_INTEGRATOR_ID_RK4, NV, EXACT, NP>()
                  : fixed_kernel<R, MODEL, ENS_INTEGRATOR_ID_EULER, NV, EXACT, NP>();
}

/* One model of the list: a fixed size (NV_FIXED > 0) compiled exactly; a
 * run-time size up to ENS_CUDA_MAX_VARS, its common size exactly for the
 * fixed-step integrators, others (and dopri5, whose arrays are 15 nvars
 * values) up to the next maximum; with a component form, fixed steps and
 * lanes > 1, on groups of that many lanes. */
template <typename R, int MODEL, int NV_FIXED, int NP, int COMPONENT, int COMMON>
ens_cuda_kernel model_kernel(int integrator, int nvars, int nparams, int lanes)
{
    const ens_cuda_kernel none = {NULL, 0, 1};
    const bool is_rk4 = integrator == ENS_INTEGRATOR_ID_RK4;
    const bool dopri5 = integrator == ENS_INTEGRATOR_ID_DOPRI5;
    if (nparams != NP)
        return none;
    if constexpr (NV_FIXED > 0) {
        if (nvars != NV_FIXED)
            return none;
        return dopri5 ? dopri5_kernel<R, MODEL, NV_FIXED, true, NP>()
                      : fixed_kernel_for<R, MODEL, NV_FIXED, true, NP>(is_rk4);
    } else {
        const int small = ENS_CUDA_MAX_VARS_SMALL, large = ENS_CUDA_MAX_VARS;
        if (nvars < 1 || nvars > large)
            return none;
        if (dopri5)
            return nvars <= small ? dopri5_kernel<R, MODEL, small, false, NP>()
                                  : dopri5_kernel<R, MODEL, large, false, NP>();
        if constexpr (COMPONENT) {
            if (lanes == 32)
                return lanes_kernel_for<R, MODEL, COMMON, 32>(is_rk4, nvars);
            if (lanes == 16)
                return lanes_kernel_for<R, MODEL, COMMON, 16>(is_rk4, nvars);
            if (lanes == 8)
                return lanes_kernel_for<R, MODEL, COMMON, 8>(is_rk4, nvars);
        }
        if constexpr (COMMON > 0) {
            if (nvars == COMMON)
                return fixed_kernel_for<R, MODEL, COMMON, true, NP>(is_rk4);
        }
        return nvars <= small ? fixed_kernel_for<R, MODEL, small, false, NP>(is_rk4)
                              : fixed_kernel_for<R, MODEL, large, false, NP>(is_rk4);
    }
}

/* Every model of the list, by its properties. */
template <typename R>
ens_cuda_kernel kernel_for(int model, int integrator, int nvars, int nparams, int lanes)
{
    switch (model) {
#define ENS_CUDA_MODEL_CASE(id, prefix, nv, np, component, common_nvars) \
    case id: \
        return model_kernel<R, id, nv, np, component, common_nvars>(integrator, nvars, nparams, \
                                                                    lanes);
        ENS_MODEL_LIST(ENS_CUDA_MODEL_CASE)
#undef ENS_CUDA_MODEL_CASE
    default:
        break;
    }
    const ens_cuda_kernel none = {NULL, 0, 1};
    return none;
}

} // namespace

#ifdef ENS_CUDA_STRICT
#define ENS_CUDA_KERNEL_ENTRY ens_cuda_kernel_strict
#else
#define ENS_CUDA_KERNEL_ENTRY ens_cuda_kernel_contract
#endif

ens_cuda_kernel ENS_CUDA_KERNEL_ENTRY(int model, int integrator, int dbl, int nvars, int nparams,
                                      int lanes)
{
    return dbl ? kernel_for<double>(model, integrator, nvars, nparams, lanes)
               : kernel_for<float>(model, integrator, nvars, nparams, lanes);
}
