/*
 * Forward Euler: x <- x + dt f(x). First order; what the teaching material
 * uses. Work space: nv values. Flops: rhs + 2 per variable.
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
#define ENS_EULER_WORK_PER_VAR 1

/* One component's update, shared with the CUDA kernel that spreads a
 * member over lanes, so that both round alike. */
ENS_FN ens_real ENS_SYM(ens_euler_update)(ens_real x, ens_real dt, ens_real f)
{
    return x + dt * f;
}

ENS_FN void ENS_SYM(ens_euler_step)(int model, int nv, ens_real *ENS_RESTRICT x,
                                     ens_real *ENS_RESTRICT work,
                                     const ens_real *ENS_RESTRICT p, ens_real dt)
{
    ens_real *f = work;
    ENS_SYM(ens_rhs)(model, nv, x, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++)
        x[v] = ENS_SYM(ens_euler_update)(x[v], dt, f[v]);
}
