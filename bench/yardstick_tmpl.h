/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Body of the yardstick for one precision and vector width; included four
 * times by yardstick.c with YS_REAL (float, double), YS_SUFFIX (a name
 * suffix), YS_W (lanes per tile) and YS_ATTR (function attributes: empty, or
 * a 512-bit vector preference) defined.
 *
 * Why this shape: `#pragma omp parallel for simd` over members with the
 * step loop inside is not vectorised by gcc 12 (the inner step loop makes
 * the member loop's body a loop). Here the member loop is cut into tiles of
 * YS_W members; each tile's state lives in small local arrays (which the
 * compiler keeps in vector registers), the step loop is outside, and the
 * loop inside it is a straight-line `omp simd` loop over the lanes. The
 * lanes are independent, so they also hide the latency of each member's
 * serial chain of dependent operations.
 */
#define ys_real YS_REAL
#define YS_SYM(name) YS_CAT(name, YS_SUFFIX)

YS_ATTR static void YS_SYM(ys_euler_tile)(ys_real *restrict px, ys_real *restrict py,
                                  ys_real *restrict pz, int lanes,
                                  const ys_real sigma, const ys_real rho,
                                  const ys_real beta, const ys_real dt,
                                  long long steps)
{
    ys_real x[YS_W], y[YS_W], z[YS_W];
    /* A short last tile is padded with copies of its first member. */
    for (int i = 0; i < YS_W; i++) {
        const int j = i < lanes ? i : 0;
        x[i] = px[j];
        y[i] = py[j];
        z[i] = pz[j];
    }
    for (long long s = 0; s < steps; s++) {
#pragma omp simd
        for (int i = 0; i < YS_W; i++) {
            const ys_real xi = x[i], yi = y[i], zi = z[i];
            const ys_real fx = sigma * (yi - xi);
            const ys_real fy = xi * (rho - zi) - yi;
            const ys_real fz = xi * yi - beta * zi;
            x[i] = xi + dt * fx;
            y[i] = yi + dt * fy;
            z[i] = zi + dt * fz;
        }
    }
    for (int i = 0; i < lanes; i++) {
        px[i] = x[i];
        py[i] = y[i];
        pz[i] = z[i];
    }
}

YS_ATTR static void YS_SYM(ys_rk4_tile)(ys_real *restrict px, ys_real *restrict py,
                                ys_real *restrict pz, int lanes,
                                const ys_real sigma, const ys_real rho,
                                const ys_real beta, const ys_real dt,
                                long long steps)
{
    const ys_real h = (ys_real)0.5 * dt;     /* dt/2 */
    const ys_real sixth = dt / (ys_real)6;   /* dt/6 */
    ys_real x[YS_W], y[YS_W], z[YS_W];
    for (int i = 0; i < YS_W; i++) {
        const int j = i < lanes ? i : 0;
        x[i] = px[j];
        y[i] = py[j];
        z[i] = pz[j];
    }
    for (long long s = 0; s < steps; s++) {
#pragma omp simd
        for (int i = 0; i < YS_W; i++) {
            const ys_real xi = x[i], yi = y[i], zi = z[i];
            ys_real fx, fy, fz, ax, ay, az, sx, sy, sz;
            /* k1 = f(x) */
            fx = sigma * (yi - xi);
            fy = xi * (rho - zi) - yi;
            fz = xi * yi - beta * zi;
            sx = fx; sy = fy; sz = fz;
            ax = xi + h * fx; ay = yi + h * fy; az = zi + h * fz;
            /* k2 = f(x + dt/2 k1) */
            fx = sigma * (ay - ax);
            fy = ax * (rho - az) - ay;
            fz = ax * ay - beta * az;
            sx += (ys_real)2 * fx; sy += (ys_real)2 * fy; sz += (ys_real)2 * fz;
            ax = xi + h * fx; ay = yi + h * fy; az = zi + h * fz;
            /* k3 = f(x + dt/2 k2) */
            fx = sigma * (ay - ax);
            fy = ax * (rho - az) - ay;
            fz = ax * ay - beta * az;
            sx += (ys_real)2 * fx; sy += (ys_real)2 * fy; sz += (ys_real)2 * fz;
            ax = xi + dt * fx; ay = yi + dt * fy; az = zi + dt * fz;
            /* k4 = f(x + dt k3) */
            fx = sigma * (ay - ax);
            fy = ax * (rho - az) - ay;
            fz = ax * ay - beta * az;
            /* x += dt/6 ((k1 + 2 k2 + 2 k3) + k4) */
            x[i] = xi + sixth * (sx + fx);
            y[i] = yi + sixth * (sy + fy);
            z[i] = zi + sixth * (sz + fz);
        }
    }
    for (int i = 0; i < lanes; i++) {
        px[i] = x[i];
        py[i] = y[i];
        pz[i] = z[i];
    }
}

YS_ATTR static void YS_SYM(ys_lorenz63)(ys_integrator integrator, long long n, ys_real *state,
                         const ys_real p[3], ys_real dt, long long steps, int threads)
{
    const ys_real sigma = p[0], rho = p[1], beta = p[2];
    const long long tiles = (n + YS_W - 1) / YS_W;
    ys_real *const sx = state, *const sy = state + n, *const sz = state + 2 * n;
#ifdef _OPENMP
    const int team = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(team)
#else
    (void)threads;
#endif
    for (long long t = 0; t < tiles; t++) {
        const long long m0 = t * YS_W;
        const int lanes = (int)(n - m0 < YS_W ? n - m0 : YS_W);
        if (integrator == YS_RK4)
            YS_SYM(ys_rk4_tile)(sx + m0, sy + m0, sz + m0, lanes, sigma, rho, beta, dt, steps);
        else
            YS_SYM(ys_euler_tile)(sx + m0, sy + m0, sz + m0, lanes, sigma, rho, beta, dt, steps);
    }
}

#undef YS_SYM
#undef ys_real
