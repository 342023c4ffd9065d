/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Lorenz (1963), "Deterministic nonperiodic flow".
 *   dx/dt = sigma (y - x)
 *   dy/dt = x (rho - z) - y
 *   dz/dt = x y - beta z
 * Parameters p = {sigma, rho, beta}; 3 variables; 8 flops per evaluation.
 *
 * Included once per precision by ens_solver.h (no include guard on purpose).
 */
ENS_FN void ENS_SYM(ens_rhs_lorenz63)(int nv, const ens_real *ENS_RESTRICT x,
                                       ens_real *ENS_RESTRICT f,
                                       const ens_real *ENS_RESTRICT p)
{
    (void)nv;
    f[0] = p[0] * (x[1] - x[0]);
    f[1] = x[0] * (p[1] - x[2]) - x[1];
    f[2] = x[0] * x[1] - p[2] * x[2];
}
