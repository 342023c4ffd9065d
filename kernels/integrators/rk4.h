/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Classic fourth-order Runge-Kutta:
 *   k1 = f(t, x), k2 = f(t + dt/2, x + dt/2 k1), k3 = f(t + dt/2, x + dt/2 k2),
 *   k4 = f(t + dt, x + dt k3)
 *   x <- x + dt/6 (k1 + 2 k2 + 2 k3 + k4)
 * Work space: 3 nv values (stage sum, stage derivative, stage state).
 * Flops: 4 rhs + 13 per variable (2 + 4 + 4 + 3 over the four stages).
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
#define ENS_RK4_WORK_PER_VAR 3

/* One RK4 step at time t of components 0..n-1 of x, in type T (whose
 * scalar type is S: T itself, or the element type of a vector T), every
 * backend's: the whole member on one thread, or one lane's block of it
 * when a GPU spreads a member over lanes. RHS(time, in, out) stores the
 * derivative at (time, in) into out for those components; an autonomous
 * model ignores the time, and the compiler drops the stage times. The loops run to BOUND (BOUND >= n), a constant
 * where GPU arrays must stay in registers, else n itself. */
#define ENS_RK4_STEP(T, S, BOUND, n, t, x, sum, xs, f, dt, RHS)                \
    do {                                                                      \
        const T ens_half_dt_ = (S)0.5 * (dt);                                 \
        const T ens_sixth_dt_ = (dt) / (S)6;                                  \
        const T ens_t_half_ = (t) + ens_half_dt_;                             \
        RHS((t), x, f);                                                            \
        ENS_UNROLL                                                            \
        for (int v_ = 0; v_ < (BOUND); v_++)                                  \
            if (v_ < (n)) {                                                   \
                (sum)[v_] = (f)[v_];                                          \
                (xs)[v_] = (x)[v_] + ens_half_dt_ * (f)[v_];                  \
            }                                                                 \
        RHS(ens_t_half_, xs, f);                                              \
        ENS_UNROLL                                                            \
        for (int v_ = 0; v_ < (BOUND); v_++)                                  \
            if (v_ < (n)) {                                                   \
                (sum)[v_] += (S)2 * (f)[v_];                                  \
                (xs)[v_] = (x)[v_] + ens_half_dt_ * (f)[v_];                  \
            }                                                                 \
        RHS(ens_t_half_, xs, f);                                              \
        ENS_UNROLL                                                            \
        for (int v_ = 0; v_ < (BOUND); v_++)                                  \
            if (v_ < (n)) {                                                   \
                (sum)[v_] += (S)2 * (f)[v_];                                  \
                (xs)[v_] = (x)[v_] + (dt) * (f)[v_];                          \
            }                                                                 \
        RHS((t) + (dt), xs, f);                                               \
        ENS_UNROLL                                                            \
        for (int v_ = 0; v_ < (BOUND); v_++)                                  \
            if (v_ < (n))                                                     \
                (x)[v_] += ens_sixth_dt_ * ((sum)[v_] + (f)[v_]);             \
    } while (0)

ENS_FN void ENS_SYM(ens_rk4_step)(int model, int nv, ens_real t, ens_real *ENS_RESTRICT x,
                                   ens_real *ENS_RESTRICT work,
                                   const ens_real *ENS_RESTRICT p, ens_real dt)
{
    ens_real *sum = work;
    ens_real *f = work + nv;
    ens_real *xs = work + 2 * nv;
#define ENS_RK4_MEMBER_RHS(tt, in, out) ENS_SYM(ens_rhs)(model, nv, tt, in, out, p)
    ENS_RK4_STEP(ens_real, ens_scalar, nv, nv, t, x, sum, xs, f, dt, ENS_RK4_MEMBER_RHS);
#undef ENS_RK4_MEMBER_RHS
}
