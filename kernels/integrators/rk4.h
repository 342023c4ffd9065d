/*
 * Classic fourth-order Runge-Kutta:
 *   k1 = f(x), k2 = f(x + dt/2 k1), k3 = f(x + dt/2 k2), k4 = f(x + dt k3)
 *   x <- x + dt/6 (k1 + 2 k2 + 2 k3 + k4)
 * Work space: 3 nv values (stage sum, stage derivative, stage state).
 * Flops: 4 rhs + 13 per variable (2 + 4 + 4 + 3 over the four stages).
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
#define ENS_RK4_WORK_PER_VAR 3

/* One component's updates, shared with the CUDA kernel that spreads a
 * member over lanes, so that both round alike. */
ENS_FN ens_real ENS_SYM(ens_rk4_half_dt)(ens_real dt) { return (ens_real)0.5 * dt; }
ENS_FN ens_real ENS_SYM(ens_rk4_sixth_dt)(ens_real dt) { return dt / (ens_real)6; }
/* a stage's state: x + h f */
ENS_FN ens_real ENS_SYM(ens_rk4_stage)(ens_real x, ens_real h, ens_real f) { return x + h * f; }
/* the stage sum after the second and third stages */
ENS_FN ens_real ENS_SYM(ens_rk4_accumulate)(ens_real sum, ens_real f)
{
    return sum + (ens_real)2 * f;
}
ENS_FN ens_real ENS_SYM(ens_rk4_finish)(ens_real x, ens_real sixth_dt, ens_real sum, ens_real f)
{
    return x + sixth_dt * (sum + f);
}

ENS_FN void ENS_SYM(ens_rk4_step)(int model, int nv, ens_real *ENS_RESTRICT x,
                                   ens_real *ENS_RESTRICT work,
                                   const ens_real *ENS_RESTRICT p, ens_real dt)
{
    ens_real *sum = work;
    ens_real *f = work + nv;
    ens_real *xs = work + 2 * nv;
    const ens_real half_dt = ENS_SYM(ens_rk4_half_dt)(dt);
    const ens_real sixth_dt = ENS_SYM(ens_rk4_sixth_dt)(dt);

    ENS_SYM(ens_rhs)(model, nv, x, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++) {
        sum[v] = f[v];
        xs[v] = ENS_SYM(ens_rk4_stage)(x[v], half_dt, f[v]);
    }
    ENS_SYM(ens_rhs)(model, nv, xs, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++) {
        sum[v] = ENS_SYM(ens_rk4_accumulate)(sum[v], f[v]);
        xs[v] = ENS_SYM(ens_rk4_stage)(x[v], half_dt, f[v]);
    }
    ENS_SYM(ens_rhs)(model, nv, xs, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++) {
        sum[v] = ENS_SYM(ens_rk4_accumulate)(sum[v], f[v]);
        xs[v] = ENS_SYM(ens_rk4_stage)(x[v], dt, f[v]);
    }
    ENS_SYM(ens_rhs)(model, nv, xs, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++)
        x[v] = ENS_SYM(ens_rk4_finish)(x[v], sixth_dt, sum[v], f[v]);
}
