/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Lane blocks of the CPU backend: GCC's vector types as the kernels'
 * ENS_REAL, so that the maths of kernels/ (written once, per member) runs
 * on ENS_LANE_BYTES of members at once, lane by lane, as OpenCL's double8
 * does. A block's state is nv rows of one vector each: structure of
 * arrays, whatever the model's size, with no loop for the compiler to
 * vectorise. Included by openmp_kernels.c; instantiates ens_solver.h for
 * both precisions as ENS_SUFFIX _ld and _lf.
 *
 * The right-hand side must be plain arithmetic on ens_real: GCC's vectors
 * take no cast or initialiser from a scalar and no branch on a value. The
 * libm functions a model may call act lane by lane (the wrappers below;
 * float lanes round double results, as a scalar float member does).
 */
#if defined(__GNUC__) && !defined(ENS_OPENMP_NO_LANES)
#define ENS_OPENMP_LANES 1
#include <math.h>

/* Every function taking or returning lanes is inlined: no calling
 * convention is involved, whatever the instruction set. */
#pragma GCC diagnostic ignored "-Wpsabi"

/* 64 bytes: one AVX-512 register, two AVX2 ones. */
#define ENS_LANE_BYTES 64
typedef double ens_lanes_d __attribute__((vector_size(ENS_LANE_BYTES)));
typedef float ens_lanes_f __attribute__((vector_size(ENS_LANE_BYTES)));
#define ENS_LANES_D (ENS_LANE_BYTES / 8)
#define ENS_LANES_F (ENS_LANE_BYTES / 4)

#define ENS_LANE_FN1(fn) \
    static inline ens_lanes_d ens_lanes_##fn##_d(ens_lanes_d x) \
    { \
        ens_lanes_d r = x; \
        for (int l = 0; l < ENS_LANES_D; l++) \
            r[l] = fn(x[l]); \
        return r; \
    } \
    static inline ens_lanes_f ens_lanes_##fn##_f(ens_lanes_f x) \
    { \
        ens_lanes_f r = x; \
        for (int l = 0; l < ENS_LANES_F; l++) \
            r[l] = (float)fn((double)x[l]); \
        return r; \
    }
#define ENS_LANE_FN2(fn) \
    static inline ens_lanes_d ens_lanes_##fn##_d(ens_lanes_d x, ens_lanes_d y) \
    { \
        ens_lanes_d r = x; \
        for (int l = 0; l < ENS_LANES_D; l++) \
            r[l] = fn(x[l], y[l]); \
        return r; \
    } \
    static inline ens_lanes_f ens_lanes_##fn##_f(ens_lanes_f x, ens_lanes_f y) \
    { \
        ens_lanes_f r = x; \
        for (int l = 0; l < ENS_LANES_F; l++) \
            r[l] = (float)fn((double)x[l], (double)y[l]); \
        return r; \
    }
ENS_LANE_FN1(sin) ENS_LANE_FN1(cos) ENS_LANE_FN1(tan) ENS_LANE_FN1(asin) ENS_LANE_FN1(acos)
ENS_LANE_FN1(atan) ENS_LANE_FN1(sinh) ENS_LANE_FN1(cosh) ENS_LANE_FN1(tanh) ENS_LANE_FN1(exp)
ENS_LANE_FN1(log) ENS_LANE_FN1(log10) ENS_LANE_FN1(sqrt) ENS_LANE_FN1(fabs) ENS_LANE_FN1(floor)
ENS_LANE_FN1(ceil)
ENS_LANE_FN2(pow) ENS_LANE_FN2(atan2) ENS_LANE_FN2(fmod) ENS_LANE_FN2(fmin) ENS_LANE_FN2(fmax)
#undef ENS_LANE_FN1
#undef ENS_LANE_FN2

/* A call on lanes goes to its wrapper, any other to libm. A two-argument
 * call with one scalar argument widens it by adding -0.0, which changes no
 * value. */
#define ENS_LANE_CALL1(fn, x) \
    _Generic((x), ens_lanes_d: ens_lanes_##fn##_d, ens_lanes_f: ens_lanes_##fn##_f, \
             default: fn)(x)
#define ENS_LANE_NEG_ZERO(x, y) \
    _Generic((x) + (y), ens_lanes_d: (ens_lanes_d){0} * -0.0, \
             ens_lanes_f: (ens_lanes_f){0} * -0.0f, default: -0.0)
#define ENS_LANE_CALL2(fn, x, y) \
    _Generic((x) + (y), ens_lanes_d: ens_lanes_##fn##_d, ens_lanes_f: ens_lanes_##fn##_f, \
             default: fn)((x) + ENS_LANE_NEG_ZERO(x, y), (y) + ENS_LANE_NEG_ZERO(x, y))
#define sin(x) ENS_LANE_CALL1(sin, x)
#define cos(x) ENS_LANE_CALL1(cos, x)
#define tan(x) ENS_LANE_CALL1(tan, x)
#define asin(x) ENS_LANE_CALL1(asin, x)
#define acos(x) ENS_LANE_CALL1(acos, x)
#define atan(x) ENS_LANE_CALL1(atan, x)
#define sinh(x) ENS_LANE_CALL1(sinh, x)
#define cosh(x) ENS_LANE_CALL1(cosh, x)
#define tanh(x) ENS_LANE_CALL1(tanh, x)
#define exp(x) ENS_LANE_CALL1(exp, x)
#define log(x) ENS_LANE_CALL1(log, x)
#define log10(x) ENS_LANE_CALL1(log10, x)
#define sqrt(x) ENS_LANE_CALL1(sqrt, x)
#define fabs(x) ENS_LANE_CALL1(fabs, x)
#define floor(x) ENS_LANE_CALL1(floor, x)
#define ceil(x) ENS_LANE_CALL1(ceil, x)
#define pow(x, y) ENS_LANE_CALL2(pow, x, y)
#define atan2(x, y) ENS_LANE_CALL2(atan2, x, y)
#define fmod(x, y) ENS_LANE_CALL2(fmod, x, y)
#define fmin(x, y) ENS_LANE_CALL2(fmin, x, y)
#define fmax(x, y) ENS_LANE_CALL2(fmax, x, y)

#define ENS_REAL_IS_VECTOR 1
#define ENS_REAL ens_lanes_d
#define ENS_SCALAR double
#define ENS_SUFFIX _ld
#include "ens_solver.h"
#undef ENS_REAL
#undef ENS_SCALAR
#undef ENS_SUFFIX
#define ENS_REAL ens_lanes_f
#define ENS_SCALAR float
#define ENS_SUFFIX _lf
#include "ens_solver.h"
#undef ENS_REAL
#undef ENS_SCALAR
#undef ENS_SUFFIX
#undef ENS_REAL_IS_VECTOR

#undef sin
#undef cos
#undef tan
#undef asin
#undef acos
#undef atan
#undef sinh
#undef cosh
#undef tanh
#undef exp
#undef log
#undef log10
#undef sqrt
#undef fabs
#undef floor
#undef ceil
#undef pow
#undef atan2
#undef fmod
#undef fmin
#undef fmax
#endif
