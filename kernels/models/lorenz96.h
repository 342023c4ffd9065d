/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Lorenz (1996), "Predictability: a problem partly solved".
 *   dX_k/dt = (X_{k+1} - X_{k-2}) X_{k-1} - X_k + F,   k cyclic in 0..K-1
 * Parameters p = {F}; K = nv variables (K >= 4); 4 flops per variable.
 * The edges are written out so that the interior loop has no modulo and
 * vectorises.
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */

/* The tendency of one component from its neighbours; also used by the
 * CUDA kernel that spreads a member over lanes, so that both round alike. */
ENS_FN ens_real ENS_SYM(ens_l96_tendency)(ens_real x_next, ens_real x_prev2, ens_real x_prev,
                                           ens_real x, ens_real forcing)
{
    return (x_next - x_prev2) * x_prev - x + forcing;
}

ENS_FN void ENS_SYM(ens_rhs_lorenz96)(int nv, const ens_real *ENS_RESTRICT x,
                                       ens_real *ENS_RESTRICT f,
                                       const ens_real *ENS_RESTRICT p)
{
    const ens_real forcing = p[0];
    f[0] = ENS_SYM(ens_l96_tendency)(x[1], x[nv - 2], x[nv - 1], x[0], forcing);
    f[1] = ENS_SYM(ens_l96_tendency)(x[2], x[nv - 1], x[0], x[1], forcing);
    for (int k = 2; k < nv - 1; k++)
        f[k] = ENS_SYM(ens_l96_tendency)(x[k + 1], x[k - 2], x[k - 1], x[k], forcing);
    f[nv - 1] = ENS_SYM(ens_l96_tendency)(x[0], x[nv - 3], x[nv - 2], x[nv - 1], forcing);
}
