/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The yardstick: see yardstick.h. Written by hand; no ensol kernel header.
 * Compiled twice, like the library's CPU loops: as is, with the library's
 * kernel flags (which let the compiler contract multiply-adds into FMAs),
 * and through yardstick_strict.c with -ffp-contract=off and YS_STRICT
 * defined, which names the entry points *_strict.
 */
#include "yardstick.h"

#ifdef YS_STRICT
#define YS_ENTRY(name) name##_strict
#else
#define YS_ENTRY(name) name
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#define YS_CAT_(a, b) a##b
#define YS_CAT(a, b) YS_CAT_(a, b)

/* A 512-bit vector preference for one function, where the compiler has a
 * way to say it; it only matters when the build enables AVX-512. */
#if defined(__clang__)
#define YS_ATTR_512 __attribute__((min_vector_width(512)))
#elif defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define YS_ATTR_512 __attribute__((target("prefer-vector-width=512")))
#else
#define YS_ATTR_512
#endif

#define YS_REAL double
#define YS_W YS_LANES_DOUBLE
#define YS_ATTR
#define YS_SUFFIX _d_build
#include "yardstick_tmpl.h"
#undef YS_SUFFIX
#undef YS_ATTR
#define YS_ATTR YS_ATTR_512
#define YS_SUFFIX _d_512
#include "yardstick_tmpl.h"
#undef YS_SUFFIX
#undef YS_ATTR
#undef YS_W
#undef YS_REAL

#define YS_REAL float
#define YS_W YS_LANES_FLOAT
#define YS_ATTR
#define YS_SUFFIX _f_build
#include "yardstick_tmpl.h"
#undef YS_SUFFIX
#undef YS_ATTR
#define YS_ATTR YS_ATTR_512
#define YS_SUFFIX _f_512
#include "yardstick_tmpl.h"
#undef YS_SUFFIX
#undef YS_ATTR
#undef YS_W
#undef YS_REAL

void YS_ENTRY(ys_lorenz63_d)(ys_integrator integrator, long long n, double *state,
                   const double p[3], double dt, long long steps, int threads,
                   ys_vector vector)
{
    if (vector == YS_VEC_512)
        ys_lorenz63_d_512(integrator, n, state, p, dt, steps, threads);
    else
        ys_lorenz63_d_build(integrator, n, state, p, dt, steps, threads);
}

void YS_ENTRY(ys_lorenz63_f)(ys_integrator integrator, long long n, float *state,
                   const float p[3], float dt, long long steps, int threads,
                   ys_vector vector)
{
    if (vector == YS_VEC_512)
        ys_lorenz63_f_512(integrator, n, state, p, dt, steps, threads);
    else
        ys_lorenz63_f_build(integrator, n, state, p, dt, steps, threads);
}

#ifndef YS_STRICT
int ys_have_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}
#endif
