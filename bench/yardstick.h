/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The yardstick: a plain hand-written SIMD OpenMP loop for a Lorenz-63
 * ensemble, Euler and RK4, float and double. It includes no ensol kernel
 * header; it is what a careful programmer writes by hand for this one
 * problem, and the bench compares the library with it (ensol must reach
 * at least 80% of it).
 *
 * State layout: structure of arrays, member fastest, state[v * n + m] for
 * variable v (x, y, z) of member m, as in the library's backends.
 *
 * The maths is the library's, operation for operation. The compiler may
 * contract multiply-adds into FMAs, as it may in the library's loops (both
 * are built with ${ENSOL_KERNEL_TUNING}, which has -ffp-contract=fast); the
 * *_strict entry points are built without contraction:
 *   f(x,y,z) = (sigma (y - x), x (rho - z) - y, x y - beta z)
 *   Euler:  x <- x + dt f(x)
 *   RK4:    k1 = f(x), k2 = f(x + dt/2 k1), k3 = f(x + dt/2 k2),
 *           k4 = f(x + dt k3),
 *           x <- x + dt/6 ((k1 + 2 k2 + 2 k3) + k4)
 * with dt/2 = 0.5 * dt and dt/6 = dt / 6 computed in the working precision.
 */
#ifndef ENSOL_BENCH_YARDSTICK_H
#define ENSOL_BENCH_YARDSTICK_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ys_integrator { YS_EULER = 0, YS_RK4 = 1 } ys_integrator;

/* Vector width of the loops.
 *   YS_VEC_BUILD: whatever the build flags make the compiler prefer; with
 *     -march=native on an AVX-512 Xeon gcc 12 prefers 256-bit vectors.
 *   YS_VEC_512: the same source with a 512-bit preference (a function
 *     attribute), the fastest plain loop on an AVX-512 machine; identical to
 *     YS_VEC_BUILD where the build does not enable AVX-512. */
typedef enum ys_vector { YS_VEC_BUILD = 0, YS_VEC_512 = 1 } ys_vector;

/* Members per tile (the inner SIMD loop runs over this many lanes): 256
 * bytes per variable, 32 doubles or 64 floats. */
#define YS_LANES_DOUBLE 32
#define YS_LANES_FLOAT 64

/* Advance n members by `steps` steps in place. p = {sigma, rho, beta}.
 * threads <= 0 uses OpenMP's default team size. Any n >= 0 works; the
 * last tile of fewer lanes than a full one is padded internally. */
void ys_lorenz63_d(ys_integrator integrator, long long n, double *state,
                   const double p[3], double dt, long long steps, int threads,
                   ys_vector vector);
void ys_lorenz63_f(ys_integrator integrator, long long n, float *state,
                   const float p[3], float dt, long long steps, int threads,
                   ys_vector vector);
/* The same loops compiled with -ffp-contract=off (no FMA contraction), to
 * compare with ensol's strict floating-point mode (ens_config_set_strict_fp);
 * they then agree with it bit for bit. */
void ys_lorenz63_d_strict(ys_integrator integrator, long long n, double *state,
                          const double p[3], double dt, long long steps, int threads,
                          ys_vector vector);
void ys_lorenz63_f_strict(ys_integrator integrator, long long n, float *state,
                          const float p[3], float dt, long long steps, int threads,
                          ys_vector vector);

/* Whether the yardstick was built with OpenMP (else it runs serially). */
int ys_have_openmp(void);

#ifdef __cplusplus
}
#endif

#endif
