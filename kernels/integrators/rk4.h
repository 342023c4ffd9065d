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

ENS_FN void ENS_SYM(ens_rk4_step)(int model, int nv, ens_real *ENS_RESTRICT x,
                                   ens_real *ENS_RESTRICT work,
                                   const ens_real *ENS_RESTRICT p, ens_real dt)
{
    ens_real *sum = work;
    ens_real *f = work + nv;
    ens_real *xs = work + 2 * nv;
    const ens_real half_dt = (ens_real)0.5 * dt;
    const ens_real sixth_dt = dt / (ens_real)6;

    ENS_SYM(ens_rhs)(model, nv, x, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++) {
        sum[v] = f[v];
        xs[v] = x[v] + half_dt * f[v];
    }
    ENS_SYM(ens_rhs)(model, nv, xs, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++) {
        sum[v] += (ens_real)2 * f[v];
        xs[v] = x[v] + half_dt * f[v];
    }
    ENS_SYM(ens_rhs)(model, nv, xs, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++) {
        sum[v] += (ens_real)2 * f[v];
        xs[v] = x[v] + dt * f[v];
    }
    ENS_SYM(ens_rhs)(model, nv, xs, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++)
        x[v] += sixth_dt * (sum[v] + f[v]);
}
