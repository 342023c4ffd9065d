/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The maths of one ensemble member, instantiated for one precision.
 *
 * Define ENS_REAL and ENS_SUFFIX (a name suffix such as _f or _d) before
 * including; the header may be included once per precision in the same
 * translation unit. ENS_REAL is float or double, or a vector type (OpenCL's
 * double16, a GCC vector in the CPU backend's lane blocks), which runs the
 * same maths on several members at once (so the maths must not branch on
 * state values); ENS_SCALAR is then its element type. The C backend
 * includes it once per precision and lane type, the OpenCL program once per
 * build (with -DENS_REAL=...), the CUDA file twice.
 *
 * Functions defined (NAME followed by ENS_SUFFIX):
 *   ens_rhs(model, nv, t, x, f, p)         model right-hand side dispatch
 *   ens_component_tendency(model, ...)     one component's tendency, for
 *                                          models with a component form
 *   ens_euler_step / ens_rk4_step(...)     one step of an integrator
 *   ens_advance(model, integrator, nv, t0, x, work, p, dt, nsteps)
 *                                          nsteps fixed steps (Euler, RK4) of
 *                                          one member from time t0, step s
 *                                          at t0 + s dt, with its state in
 *                                          private memory
 *   ens_advance_noise(model, nv, t0, x, work, p, dt, nsteps, key, i)
 *                                          Euler-Maruyama: nsteps Euler steps
 *                                          of member i of a batch of a model
 *                                          with noise inputs, drawn at each
 *                                          step into p[nparams...]
 *                                          (rng/normal.h; scalar ENS_REAL)
 *   ens_dopri5_member(...)                 one member of the adaptive
 *                                          integrator advanced to a time
 *                                          (integrators/dopri5.h; only for a
 *                                          scalar ENS_REAL: define
 *                                          ENS_REAL_IS_VECTOR otherwise)
 */
#include "ens_portable.h"

#if !defined(ENS_REAL) || !defined(ENS_SUFFIX)
#error "define ENS_REAL and ENS_SUFFIX before including ens_solver.h"
#endif

#define ens_real ENS_REAL
/* The scalar type of ens_real: constants are written in it, since a vector
 * ens_real need not accept a cast from a scalar (GCC's vector types). */
#ifdef ENS_SCALAR
#define ens_scalar ENS_SCALAR
#else
#define ens_scalar ENS_REAL
#endif
#define ENS_SYM(name) ENS_CAT(name, ENS_SUFFIX)

/* The built-in models' right-hand sides, generated from kernels/models/. */
#include "ens_model_rhs.h"

ENS_FN void ENS_SYM(ens_rhs)(int model, int nv, ens_real t, const ens_real *ENS_RESTRICT x,
                              ens_real *ENS_RESTRICT f, const ens_real *ENS_RESTRICT p)
{
#define ENS_RHS_CASE(id, prefix, nvars, nparams, component, common_nvars) \
    case id: ENS_SYM(ens_rhs_##prefix)(nv, t, x, f, p); break;
    switch (model) { ENS_MODEL_LIST(ENS_RHS_CASE) default: break; }
#undef ENS_RHS_CASE
}

#ifndef ENS_REAL_IS_VECTOR
/* The per-component tendency of a model with a component form
 * (ENS_MODEL_LIST); 0 for the others, which never call it. */
#define ENS_COMPONENT_CASE_0(id, prefix)
#define ENS_COMPONENT_CASE_1(id, prefix) \
    case id: return ENS_SYM(ens_tendency_##prefix)(x_next, x_prev2, x_prev, x, p0);
#define ENS_COMPONENT_CASE(id, prefix, nvars, nparams, component, common_nvars) \
    ENS_CAT(ENS_COMPONENT_CASE_, component)(id, prefix)
ENS_FN ens_real ENS_SYM(ens_component_tendency)(int model, ens_real x_next, ens_real x_prev2,
                                                 ens_real x_prev, ens_real x, ens_real p0)
{
    switch (model) { ENS_MODEL_LIST(ENS_COMPONENT_CASE) default: break; }
    return (ens_real)0;
}
#undef ENS_COMPONENT_CASE
#undef ENS_COMPONENT_CASE_1
#undef ENS_COMPONENT_CASE_0
#endif

#include "integrators/euler.h"
#include "integrators/rk4.h"

#ifndef ENS_REAL_IS_VECTOR
#include "integrators/dopri5.h"
#include "rng/normal.h"
#endif

/* Largest work space a fixed-step integrator needs, in values per state
 * variable (DOPRI5 has its own: ENS_DOPRI5_WORK_PER_VAR). */
#define ENS_MAX_WORK_PER_VAR 3

/* The time of step s of an interval starting at t0: computed afresh, not
 * summed, so that every backend has the same bits and no drift. */
#define ENS_STEP_TIME(S, t0, s, dt) ((t0) + (S)(s) * (dt))

ENS_FN void ENS_SYM(ens_advance)(int model, int integrator, int nv, ens_real t0,
                                  ens_real *ENS_RESTRICT x, ens_real *ENS_RESTRICT work,
                                  const ens_real *ENS_RESTRICT p, ens_real dt, long nsteps)
{
    if (integrator == ENS_INTEGRATOR_ID_RK4) {
        for (long s = 0; s < nsteps; s++)
            ENS_SYM(ens_rk4_step)(model, nv, ENS_STEP_TIME(ens_scalar, t0, s, dt), x, work, p, dt);
    } else {
        for (long s = 0; s < nsteps; s++)
            ENS_SYM(ens_euler_step)(model, nv, ENS_STEP_TIME(ens_scalar, t0, s, dt), x, work, p,
                                    dt);
    }
}

#if !defined(ENS_REAL_IS_VECTOR) && (!defined(ENS_OPENCL) || defined(cl_khr_fp64))
/* A model's noise inputs are white noise (XPPAUT's wiener): at each step a
 * fresh standard normal divided by sqrt(dt), which the Euler step turns
 * into a Wiener increment of variance dt. Drawn in double whatever the
 * precision, so that float and double runs see the same noise. */
ENS_FN void ENS_SYM(ens_advance_noise)(int model, int nv, ens_real t0, ens_real *ENS_RESTRICT x,
                                        ens_real *ENS_RESTRICT work, ens_real *ENS_RESTRICT p,
                                        ens_real dt, long nsteps, const ens_noise_key *key,
                                        ens_u64 i)
{
    const ens_u64 member = key->first_member + i;
    for (long s = 0; s < nsteps; s++) {
        const ens_i64 step = key->step0 + (ens_i64)s;
        for (int k = 0; k < key->nnoise; k += 2) {
            double z0, z1;
            ens_normal_pair(ens_noise_block(key->seed, member, step, (ens_u32)(k >> 1)), &z0,
                            &z1);
            p[key->nparams + k] = (ens_real)(z0 * key->scale);
            if (k + 1 < key->nnoise)
                p[key->nparams + k + 1] = (ens_real)(z1 * key->scale);
        }
        ENS_SYM(ens_euler_step)(model, nv, ENS_STEP_TIME(ens_scalar, t0, s, dt), x, work, p, dt);
    }
}
#endif

#undef ENS_SYM
#undef ens_scalar
#undef ens_real
