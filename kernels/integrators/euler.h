/*
 * Forward Euler: x <- x + dt f(x). First order; what the teaching material
 * uses. Work space: nv values. Flops: rhs + 2 per variable.
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
#define ENS_EULER_WORK_PER_VAR 1

ENS_FN void ENS_SYM(ens_euler_step)(int model, int nv, ens_real *ENS_RESTRICT x,
                                     ens_real *ENS_RESTRICT work,
                                     const ens_real *ENS_RESTRICT p, ens_real dt)
{
    ens_real *f = work;
    ENS_SYM(ens_rhs)(model, nv, x, f, p);
    ENS_UNROLL
    for (int v = 0; v < nv; v++)
        x[v] += dt * f[v];
}
