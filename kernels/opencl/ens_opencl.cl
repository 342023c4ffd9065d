/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * OpenCL entry of the single-source kernels: one work-item integrates
 * ENS_WIDTH ensemble members. The maths is in ../ens_solver.h and the
 * headers it includes; this file only moves members between global memory
 * (structure-of-arrays, member fastest) and private memory.
 *
 * Embedded into the library at build time (cmake/EmbedKernels.cmake) and
 * built per run by src/backends/opencl.c with these options:
 *   -DENS_USE_DOUBLE=0|1          precision (1 needs cl_khr_fp64)
 *   -DENS_MODEL=n -DENS_INTEGRATOR=n
 *                                 enum ens_model_id / ens_integrator_id
 *   -DENS_NVARS=n -DENS_NPARAMS=n compile-time sizes, so that the private
 *                                 arrays have constant size and the model
 *                                 and integrator dispatch folds away
 *   -DENS_STRICT_FP=0|1           1: no contraction of multiply-adds
 *   -DENS_WIDTH=1|2|4|8|16        members per work-item (vector lanes);
 *                                 1 for DOPRI5, whose steps branch per member,
 *                                 and for noise inputs
 *   -DENS_NNOISE=n                the model's noise inputs (0: none; more
 *                                 need width 1 and cl_khr_fp64)
 *
 * Kernels: ens_advance (fixed steps, any width) and, at width 1,
 * ens_advance_adaptive (DOPRI5).
 */
#if ENS_STRICT_FP
/* Strict runs must round every operation as the CPU backend does (which
 * compiles its strict loops with -ffp-contract=off). */
#pragma OPENCL FP_CONTRACT OFF
#endif

#include "../ens_portable.h"

#if ENS_USE_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define ENS_SCALAR double
#define ENS_SUFFIX _d
#else
#define ENS_SCALAR float
#define ENS_SUFFIX _f
#endif

/* A work-item integrates ENS_WIDTH consecutive members at once, one per
 * lane of an OpenCL vector type: the shared maths is plain arithmetic,
 * which OpenCL C applies lane by lane, so ens_solver.h instantiated with
 * ENS_REAL = double8 is the same maths on 8 members. CPU compilers
 * (PoCL's) turn that into SIMD instructions, which they do not do across
 * the work-items of a kernel with a step loop inside; GPUs use width 1.
 * (Maths that branched on state values would not compile with a vector
 * ENS_REAL: such a model would need select() or width 1.) */
#if ENS_WIDTH == 1
#define ENS_REAL ENS_SCALAR
#define ENS_LOAD(ptr) (*(ptr))
#define ENS_STORE(value, ptr) (*(ptr) = (value))
#else
#define ENS_REAL_IS_VECTOR 1
#define ENS_REAL ENS_CAT(ENS_SCALAR, ENS_WIDTH)
#define ENS_LOAD(ptr) ENS_CAT(vload, ENS_WIDTH)(0, ptr)
#define ENS_STORE(value, ptr) ENS_CAT(vstore, ENS_WIDTH)(value, 0, ptr)
#endif

#include "../ens_solver.h"

#ifndef ENS_NNOISE
#define ENS_NNOISE 0
#endif
#define ENS_PARAMS_ALLOC (ENS_NPARAMS + ENS_NNOISE > 0 ? ENS_NPARAMS + ENS_NNOISE : 1)

/* One value of each of the work-item's members: from global memory at
 * once, or lane by lane at the end of the ensemble, where lanes past the
 * end repeat the last member (valid maths that is never stored). */
ENS_FN ENS_REAL ens_cl_load(__global const ENS_SCALAR *row, ulong m0, ulong count)
{
    if (m0 + ENS_WIDTH <= count)
        return ENS_LOAD(row + m0);
    ENS_SCALAR lanes[ENS_WIDTH];
    for (int l = 0; l < ENS_WIDTH; l++)
        lanes[l] = row[m0 + l < count ? m0 + l : count - 1];
    return ENS_LOAD(lanes);
}

ENS_FN void ens_cl_store(ENS_REAL value, __global ENS_SCALAR *row, ulong m0, ulong count)
{
    if (m0 + ENS_WIDTH <= count) {
        ENS_STORE(value, row + m0);
        return;
    }
    ENS_SCALAR lanes[ENS_WIDTH];
    ENS_STORE(value, lanes);
    for (int l = 0; m0 + l < count; l++)
        row[m0 + l] = lanes[l];
}

/* state[v * count + m], params[j * count + m]: structure of arrays, member
 * fastest, as everywhere in ensol. With noise inputs, the noise key's
 * fields follow (rng/normal.h). */
__kernel void ens_advance(__global ENS_SCALAR *restrict state,
                          __global const ENS_SCALAR *restrict params,
                          const ulong count, const ENS_SCALAR dt, const long nsteps,
                          const ENS_SCALAR t_start
#if ENS_NNOISE > 0
                          , const ulong seed, const ulong first_member, const long step0,
                          const double scale
#endif
                          )
{
    const ulong m0 = (ulong)get_global_id(0) * ENS_WIDTH;
    if (m0 >= count)
        return; /* the global size is rounded up to whole work-groups */
    ENS_REAL x[ENS_NVARS];
    ENS_REAL work[ENS_MAX_WORK_PER_VAR * ENS_NVARS];
    ENS_REAL p[ENS_PARAMS_ALLOC];

    for (int v = 0; v < ENS_NVARS; v++)
        x[v] = ens_cl_load(state + v * count, m0, count);
    for (int j = 0; j < ENS_NPARAMS; j++)
        p[j] = ens_cl_load(params + j * count, m0, count);

#if ENS_NNOISE > 0
    ens_noise_key key;
    key.seed = seed;
    key.first_member = first_member;
    key.step0 = step0;
    key.scale = scale;
    key.nparams = ENS_NPARAMS;
    key.nnoise = ENS_NNOISE;
    ENS_CAT(ens_advance_noise, ENS_SUFFIX)(ENS_MODEL, ENS_NVARS, (ENS_REAL)t_start, x, work, p,
                                           (ENS_REAL)dt, nsteps, &key, m0);
#else
    ENS_CAT(ens_advance, ENS_SUFFIX)(ENS_MODEL, ENS_INTEGRATOR, ENS_NVARS, (ENS_REAL)t_start, x,
                                     work, p, (ENS_REAL)dt, nsteps);
#endif

    for (int v = 0; v < ENS_NVARS; v++)
        ens_cl_store(x[v], state + v * count, m0, count);
}

#if ENS_WIDTH == 1
/* DOPRI5: one member per work-item, advanced to t_end by the per-member
 * function every backend runs (integrators/dopri5.h). aux and aux_int
 * hold each member's step state between calls (rows of ens_portable.h);
 * fresh = 1 on the first call after an upload. */
__kernel void ens_advance_adaptive(__global ENS_SCALAR *restrict state,
                                   __global const ENS_SCALAR *restrict params,
                                   __global ENS_SCALAR *restrict aux,
                                   __global long *restrict aux_int,
                                   __global const ENS_SCALAR *restrict tol,
                                   const ulong count, const ENS_SCALAR t_end,
                                   const ENS_SCALAR h0, const ENS_SCALAR dt_min,
                                   const ENS_SCALAR dt_max, const long max_steps,
                                   const int fresh, const ENS_SCALAR t0)
{
    const ulong m = (ulong)get_global_id(0);
    if (m >= count)
        return;
    ENS_REAL mem[ENS_DOPRI5_REAL_ROWS(ENS_NVARS)];
    ENS_REAL work[ENS_DOPRI5_WORK_PER_VAR * ENS_NVARS];
    ENS_REAL p[ENS_PARAMS_ALLOC];
    const ENS_CAT(ens_dopri5_ctl, ENS_SUFFIX) ctl = {
        .h0 = h0, .dt_min = dt_min, .dt_max = dt_max, .t_end = t_end,
        .max_steps = max_steps, .fresh = fresh, .t0 = t0,
    };
    ENS_CAT(ens_dopri5_member, ENS_SUFFIX)(ENS_MODEL, ENS_NVARS, ENS_NPARAMS, m, count, state,
                                           params, aux, aux_int, tol, &ctl, mem, work, p);
}
#endif
