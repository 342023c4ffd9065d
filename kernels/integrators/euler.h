/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Forward Euler: x <- x + dt f(t, x). First order; what the teaching material
 * uses. Work space: nv values. Flops: rhs + 2 per variable.
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
#define ENS_EULER_WORK_PER_VAR 1

/* One Euler step at time t of components 0..n-1 of x, every backend's
 * (see ENS_RK4_STEP for T, BOUND and RHS). */
#define ENS_EULER_STEP(T, BOUND, n, t, x, f, dt, RHS)                          \
    do {                                                                      \
        RHS((t), x, f);                                                       \
        ENS_UNROLL                                                            \
        for (int v_ = 0; v_ < (BOUND); v_++)                                  \
            if (v_ < (n))                                                     \
                (x)[v_] += (dt) * (f)[v_];                                    \
    } while (0)

ENS_FN void ENS_SYM(ens_euler_step)(int model, int nv, ens_real t, ens_real *ENS_RESTRICT x,
                                     ens_real *ENS_RESTRICT work,
                                     const ens_real *ENS_RESTRICT p, ens_real dt)
{
    ens_real *f = work;
#define ENS_EULER_MEMBER_RHS(tt, in, out) ENS_SYM(ens_rhs)(model, nv, tt, in, out, p)
    ENS_EULER_STEP(ens_real, nv, nv, t, x, f, dt, ENS_EULER_MEMBER_RHS);
#undef ENS_EULER_MEMBER_RHS
}
