/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Portability layer for the single-source device code in kernels/.
 *
 * Everything under kernels/ is written in the common subset of C11, CUDA C
 * and OpenCL C. This header is the only place that knows which compiler is
 * reading it; the rest uses the macros below.
 *
 *   ENS_FN        qualifiers of a device-and-host inline function
 *   ENS_GLOBAL    address space of a pointer into device global memory
 *   ENS_RESTRICT  restrict where the dialect has it
 *   ens_u32/u64   fixed-width unsigned integers
 *   ens_i64       64-bit signed integer (step counters)
 */
#ifndef ENS_PORTABLE_H
#define ENS_PORTABLE_H

#if defined(__OPENCL_C_VERSION__) || defined(__OPENCL_VERSION__)
#define ENS_OPENCL 1
#define ENS_FN static inline
#define ENS_GLOBAL __global
#define ENS_RESTRICT restrict
typedef uint ens_u32;
typedef ulong ens_u64;
typedef long ens_i64;
#elif defined(__CUDACC__)
#define ENS_CUDA 1
#define ENS_FN static __host__ __device__ __forceinline__
#define ENS_GLOBAL
#define ENS_RESTRICT __restrict__
typedef unsigned int ens_u32;
typedef unsigned long long ens_u64;
typedef long long ens_i64;
#else
#include <math.h>
#include <stdint.h>
#define ENS_HOST_C 1
#if defined(__GNUC__)
#define ENS_FN static inline __attribute__((always_inline))
#else
#define ENS_FN static inline
#endif
#define ENS_GLOBAL
#if defined(__cplusplus)
#define ENS_RESTRICT __restrict__
#else
#define ENS_RESTRICT restrict
#endif
typedef uint32_t ens_u32;
typedef uint64_t ens_u64;
typedef int64_t ens_i64;
#endif

/* Before a loop over a model's variables: fully unrolled where the count
 * is a compile-time constant, so that a member's state stays in registers.
 * gcc does this by itself; LLVM as used by OpenCL compilers (PoCL) kept
 * the state in memory and ran 2.3x slower. */
#if defined(ENS_OPENCL) || defined(__CUDA_ARCH__)
#define ENS_UNROLL _Pragma("unroll")
#else
#define ENS_UNROLL
#endif

#define ENS_CAT_(a, b) a##b
#define ENS_CAT(a, b) ENS_CAT_(a, b)

/* The models, with what the backends' loops need to know of each; every
 * backend instantiates its specialised loops for every entry by expanding
 * this list, choosing by these properties, never by name:
 *   id, prefix  identifier, and the name of the model whose right-hand
 *               side is ens_rhs_PREFIX(nv, t, x, f, p)
 *   nvars       variable count when fixed at compile time; 0: set at run time
 *   nparams     parameter count
 *   component   1: the model also provides its per-component tendency,
 *               ens_tendency_PREFIX(x[k+1], x[k-2], x[k-1], x[k], p[0]),
 *               k cyclic, which kernels spreading one member over several
 *               lanes use; 0: it does not
 *   common_nvars  for a run-time size: a size common enough that backends
 *               compile it as a literal; 0: none
 * The list and the right-hand sides are generated at build time from the
 * model files kernels/models/NAME.ens (src/tools/modelgen.c); adding a
 * built-in model is adding its file there. */
#ifndef ENS_NO_MODEL_LIST
#include "ens_model_list.h"
#else
#define ENS_MODEL_LIST(X)
#endif

#define ENS_MODEL_ENUM_ENTRY(id, prefix, nvars, nparams, component, common_nvars) id,
enum ens_model_id { ENS_MODEL_LIST(ENS_MODEL_ENUM_ENTRY) ENS_MODEL_COUNT };
#undef ENS_MODEL_ENUM_ENTRY

/* Integrators, by identifier and name: Euler and RK4 take fixed steps;
 * DOPRI5 adapts each member's step. The one list of them (names for the
 * API, the CLI and messages come from it, src/core/choices.c). */
#define ENS_INTEGRATOR_LIST(X) \
    X(ENS_INTEGRATOR_ID_EULER, euler) \
    X(ENS_INTEGRATOR_ID_RK4, rk4) \
    X(ENS_INTEGRATOR_ID_DOPRI5, dopri5)

#define ENS_INTEGRATOR_ENUM_ENTRY(id, name) id,
enum ens_integrator_id { ENS_INTEGRATOR_LIST(ENS_INTEGRATOR_ENUM_ENTRY) ENS_INTEGRATOR_COUNT };
#undef ENS_INTEGRATOR_ENUM_ENTRY

/* Outcome of a member's integration; the same values as enum
 * ens_member_status of the public API (include/ensol/ensol.h). */
#define ENS_MEMBER_STATUS_OK 0
#define ENS_MEMBER_STATUS_NONFINITE 1 /* state or derivative not finite */
#define ENS_MEMBER_STATUS_DT_MIN 2    /* needed a step below dt_min */
#define ENS_MEMBER_STATUS_MAX_STEPS 3 /* used up its step budget */
#define ENS_MEMBER_STATUS_BLOWUP 4    /* a variable exceeded the blow-up bound */
#define ENS_MEMBER_STATUS_KINDS 5

/* What a backend keeps per member between calls for DOPRI5, as rows of
 * structure-of-arrays buffers (row r of member m at [r * count + m]):
 *   reals: the state at the member's own time (nv rows), its derivative
 *          (nv, first-same-as-last), the dense-output coefficients of the
 *          last step (5 nv), then the scalars below;
 *   int64: the counters below. */
#define ENS_DOPRI5_REAL_ROWS(nv) (7 * (nv) + 6)
#define ENS_DOPRI5_SCALARS(nv) (7 * (nv)) /* first scalar row */
enum ens_dopri5_scalar {
    ENS_D5_T,       /* the member's time: the state above is there */
    ENS_D5_T_PREV,  /* start of the last accepted step */
    ENS_D5_H_LAST,  /* size of the last accepted step */
    ENS_D5_H,       /* next step size to try */
    ENS_D5_LFACOLD, /* log2 of the PI controller's previous error */
    ENS_D5_T_FAIL   /* time the member stopped at (status != 0) */
};
enum ens_dopri5_counter { ENS_D5_ACCEPTED, ENS_D5_REJECTED, ENS_D5_STATUS, ENS_DOPRI5_INT_ROWS };

#endif /* ENS_PORTABLE_H */
