/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * CUDA entry points for one model file, compiled at run time by NVRTC
 * (embedded with the stand-in model list of src/backends/model_file/, the
 * model put in by src/backends/model_program.c): one thread per member,
 * fixed steps (Euler, RK4) and DOPRI5, in double and float, through the
 * same per-member functions as the built-in kernels
 * (src/backends/cuda_kernels.cu). Per-thread arrays are sized for the
 * model's fixed size, or its common size when the size is set at run time.
 *
 * state[v * stride + m], params[j * stride + m]: members first .. first+n-1.
 * A model with noise inputs (Euler only) draws them keyed by the noise
 * key's fields, the last arguments of the Euler kernels (rng/normal.h);
 * member first + i of the upload is ensemble member first_member + first + i.
 */
#define ENS_REAL double
#define ENS_SUFFIX _d
#include "../ens_solver.h"
#undef ENS_REAL
#undef ENS_SUFFIX

/* ENS_FILE_DOUBLE_ONLY: the double kernels alone (half the compile time). */
#ifndef ENS_FILE_DOUBLE_ONLY
#define ENS_REAL float
#define ENS_SUFFIX _f
#include "../ens_solver.h"
#undef ENS_REAL
#undef ENS_SUFFIX
#endif

#define ENS_FILE_NV (ENS_MODEL_FILE_NVARS > 0 ? ENS_MODEL_FILE_NVARS : ENS_MODEL_FILE_COMMON)
#define ENS_FILE_NP \
    (ENS_MODEL_FILE_NPARAMS + ENS_MODEL_FILE_NNOISE > 0 \
         ? ENS_MODEL_FILE_NPARAMS + ENS_MODEL_FILE_NNOISE : 1)

/* nsteps fixed steps of one member: with noise inputs Euler-Maruyama. */
#if ENS_MODEL_FILE_NNOISE > 0
#define ENS_FILE_ADVANCE(S, INTEGRATOR, R)                                                   \
    do {                                                                                   \
        ens_noise_key key;                                                                 \
        key.seed = seed;                                                                   \
        key.first_member = first_member;                                                   \
        key.step0 = step0;                                                                 \
        key.scale = scale;                                                                 \
        key.nparams = ENS_MODEL_FILE_NPARAMS;                                              \
        key.nnoise = ENS_MODEL_FILE_NNOISE;                                                \
        ens_advance_noise_##S(ENS_MODEL_FILE, ENS_FILE_NV, (R)t_start, x, work, p, (R)dt,  \
                              (long)nsteps, &key, m);                                      \
    } while (0)
#else
#define ENS_FILE_ADVANCE(S, INTEGRATOR, R)                                                   \
    ens_advance_##S(ENS_MODEL_FILE, INTEGRATOR, ENS_FILE_NV, (R)t_start, x, work, p, (R)dt, \
                    (long)nsteps)
#endif

#define ENS_FILE_FIXED(R, S, NAME, INTEGRATOR, WORK)                                         \
    extern "C" __global__ void NAME(R *__restrict__ state, const R *__restrict__ params,    \
                                    ens_u64 stride, ens_u64 first, ens_u64 n, double dt,    \
                                    long long nsteps, double t_start, ens_u64 seed,        \
                                    ens_u64 first_member, long long step0, double scale)   \
    {                                                                                      \
        (void)seed, (void)first_member, (void)step0, (void)scale;                          \
        const ens_u64 i = (ens_u64)blockIdx.x * blockDim.x + threadIdx.x;                  \
        if (i >= n)                                                                        \
            return;                                                                        \
        const ens_u64 m = first + i;                                                       \
        R x[ENS_FILE_NV], work[(WORK) * ENS_FILE_NV], p[ENS_FILE_NP];                      \
        for (int v = 0; v < ENS_FILE_NV; v++)                                              \
            x[v] = state[(ens_u64)v * stride + m];                                         \
        for (int j = 0; j < ENS_MODEL_FILE_NPARAMS; j++)                                   \
            p[j] = params[(ens_u64)j * stride + m];                                        \
        ENS_FILE_ADVANCE(S, INTEGRATOR, R);                                                \
        for (int v = 0; v < ENS_FILE_NV; v++)                                              \
            state[(ens_u64)v * stride + m] = x[v];                                         \
    }

#define ENS_FILE_DOPRI5(R, S, NAME)                                                          \
    extern "C" __global__ void NAME(R *__restrict__ state, const R *__restrict__ params,    \
                                    R *__restrict__ aux, ens_i64 *__restrict__ aux_int,     \
                                    const R *__restrict__ tol, ens_u64 stride,              \
                                    ens_u64 first, ens_u64 n, double t_end, double h0,     \
                                    double dt_min, double dt_max, long long max_steps,      \
                                    int fresh, double t0)                                   \
    {                                                                                      \
        const ens_u64 i = (ens_u64)blockIdx.x * blockDim.x + threadIdx.x;                  \
        if (i >= n)                                                                        \
            return;                                                                        \
        ens_dopri5_ctl_##S ctl;                                                            \
        ctl.h0 = (R)h0;                                                                    \
        ctl.dt_min = (R)dt_min;                                                            \
        ctl.dt_max = (R)dt_max;                                                            \
        ctl.t_end = (R)t_end;                                                              \
        ctl.t0 = (R)t0;                                                                    \
        ctl.max_steps = max_steps;                                                         \
        ctl.fresh = fresh;                                                                 \
        R mem[ENS_DOPRI5_REAL_ROWS(ENS_FILE_NV)], work[ENS_DOPRI5_WORK_PER_VAR * ENS_FILE_NV]; \
        R p[ENS_FILE_NP];                                                                  \
        ens_dopri5_member_##S(ENS_MODEL_FILE, ENS_FILE_NV, ENS_MODEL_FILE_NPARAMS, first + i, \
                              stride, state, params, aux, aux_int, tol, &ctl, mem, work, p); \
    }

ENS_FILE_FIXED(double, d, ens_file_euler_d, ENS_INTEGRATOR_ID_EULER, ENS_EULER_WORK_PER_VAR)
ENS_FILE_FIXED(double, d, ens_file_rk4_d, ENS_INTEGRATOR_ID_RK4, ENS_RK4_WORK_PER_VAR)
ENS_FILE_DOPRI5(double, d, ens_file_dopri5_d)
#ifndef ENS_FILE_DOUBLE_ONLY
ENS_FILE_FIXED(float, f, ens_file_euler_f, ENS_INTEGRATOR_ID_EULER, ENS_EULER_WORK_PER_VAR)
ENS_FILE_FIXED(float, f, ens_file_rk4_f, ENS_INTEGRATOR_ID_RK4, ENS_RK4_WORK_PER_VAR)
ENS_FILE_DOPRI5(float, f, ens_file_dopri5_f)
#endif
