/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The CPU backend's loops for one precision: included by openmp.c once per
 * precision after kernels/ens_solver.h, with ENS_REAL and ENS_SUFFIX set.
 * The maths comes from kernels/; this file only arranges members into
 * SIMD lanes and threads.
 */
#define ens_real ENS_REAL
#define ENS_SYM(name) ENS_CAT(name, ENS_SUFFIX)

/*
 * Models with a small, compile-time variable count (ENS_TILED): tiles of
 * ENS_TILE members, the step loop outside and the lane loop inside, so the
 * lane loop vectorises across members and a tile's state stays in
 * registers for all the steps of an interval. (An `omp simd` loop over
 * members with the step loop inside is not vectorised by gcc 12, and
 * `omp simd` on the lane loop turns the per-lane arrays into memory; the
 * plain lane loop with a constant trip count is vectorised fully.)
 */
ENS_FN void ENS_SYM(advance_tile)(const ens_backend_job *job, const int model, const int nv,
                                  long long count, ens_real *state,
                                  const ens_real *params, long long nsteps, ens_real t_start,
                                  long long tile)
{
    const int nparams = job->nparams;
    const ens_real dt = (ens_real)job->dt;
    {
        ens_real x[ENS_TILE_MAX_VARS][ENS_TILE];
        ens_real p[ENS_TILE_MAX_PARAMS][ENS_TILE];
        const long long m0 = tile * ENS_TILE;
        const int lanes = count - m0 < ENS_TILE ? (int)(count - m0) : ENS_TILE;

        /* Lanes past the end repeat the tile's first member: valid maths
         * that is never stored. */
        for (int l = 0; l < ENS_TILE; l++) {
            const long long m = m0 + (l < lanes ? l : 0);
            for (int v = 0; v < nv; v++)
                x[v][l] = state[v * count + m];
            for (int j = 0; j < ENS_TILE_MAX_PARAMS; j++)
                p[j][l] = j < nparams ? params[j * count + m] : (ens_real)0;
        }

#define ENS_TILE_STEPS(step_fn, work_per_var) \
    for (long long s = 0; s < nsteps; s++) { \
        const ens_real t = ENS_STEP_TIME(ens_real, t_start, s, dt); \
        _Pragma("GCC ivdep") \
        for (int l = 0; l < ENS_TILE; l++) { \
            ens_real xl[ENS_TILE_MAX_VARS], pl[ENS_TILE_MAX_PARAMS]; \
            ens_real work[(work_per_var) * ENS_TILE_MAX_VARS]; \
            for (int v = 0; v < nv; v++) \
                xl[v] = x[v][l]; \
            for (int j = 0; j < ENS_TILE_MAX_PARAMS; j++) \
                pl[j] = p[j][l]; \
            step_fn(model, nv, t, xl, work, pl, dt); \
            for (int v = 0; v < nv; v++) \
                x[v][l] = xl[v]; \
        } \
    }
        if (job->integrator == ENS_INTEGRATOR_ID_RK4) {
            ENS_TILE_STEPS(ENS_SYM(ens_rk4_step), ENS_RK4_WORK_PER_VAR)
        } else {
            ENS_TILE_STEPS(ENS_SYM(ens_euler_step), ENS_EULER_WORK_PER_VAR)
        }
#undef ENS_TILE_STEPS

        for (int l = 0; l < lanes; l++)
            for (int v = 0; v < nv; v++)
                state[v * count + m0 + l] = x[v][l];
    }
}

#ifdef ENS_OPENMP_LANES
#define ens_lanes ENS_LANE_REAL
#define ENS_LSYM(name) ENS_CAT(name, ENS_LANE_SUFFIX)
/*
 * Models too large for a register tile, or sized at run time (up to
 * ENS_LANE_MAX_VARS variables): blocks of ENS_LANES members, each block
 * integrated through the vector instantiation of kernels/ens_solver.h
 * (openmp_lanes.h), its state nv rows of one vector in a per-thread buffer
 * that stays in L1 (or L2 for hundreds of variables) for all the steps of
 * an interval. Lane by lane the same operations as one member at a time.
 * Inlined with literal model and size for every fixed-size model.
 */
ENS_FN void ENS_SYM(lane_blocks)(const ens_backend_job *job, const int model, const int nv,
                                 long long count, ens_real *state, const ens_real *params,
                                 long long nsteps, ens_real t_start, int *failed)
{
    const int nparams = job->nparams;
    const long long nblocks = (count + ENS_LANES - 1) / ENS_LANES;
#pragma omp parallel num_threads(job_threads(job)) if (nblocks > 1)
    {
        const size_t rows = (size_t)nv * (1 + ENS_MAX_WORK_PER_VAR) + (size_t)nparams + 1;
        ens_lanes *buf = aligned_alloc(ENS_LANE_BYTES, sizeof(ens_lanes) * rows);
        if (!buf) {
#pragma omp atomic write
            *failed = 1;
        }
#pragma omp barrier
        if (!*failed) {
            ens_lanes *x = buf;
            ens_lanes *work = x + nv;
            ens_lanes *p = work + (size_t)nv * ENS_MAX_WORK_PER_VAR;
            ens_lanes t0, dt;
            for (int l = 0; l < ENS_LANES; l++) {
                t0[l] = t_start;
                dt[l] = (ens_real)job->dt;
            }
#pragma omp for schedule(static)
            for (long long b = 0; b < nblocks; b++) {
                const long long m0 = b * ENS_LANES;
                const int lanes = count - m0 < ENS_LANES ? (int)(count - m0) : ENS_LANES;
                /* Lanes past the end repeat the block's first member: valid
                 * maths that is never stored. */
                for (int v = 0; v < nv; v++)
                    for (int l = 0; l < ENS_LANES; l++)
                        x[v][l] = state[v * count + m0 + (l < lanes ? l : 0)];
                for (int j = 0; j < nparams; j++)
                    for (int l = 0; l < ENS_LANES; l++)
                        p[j][l] = params[j * count + m0 + (l < lanes ? l : 0)];
                ENS_LSYM(ens_advance)(model, job->integrator, nv, t0, x, work, p, dt,
                                      (long)nsteps);
                for (int v = 0; v < nv; v++)
                    for (int l = 0; l < lanes; l++)
                        state[v * count + m0 + l] = x[v][l];
            }
        }
        free(buf);
    }
}
#undef ENS_LSYM
#undef ens_lanes
#endif

/*
 * Models whose size is known only at run time, or too large for a tile,
 * and models with noise inputs: one member at a time per thread, its state in a small
 * per-thread buffer that stays in L1; the loops over variables vectorise.
 */
static ens_status ENS_SYM(advance_members)(const ens_backend_job *job, long long count,
                                           ens_real *state, const ens_real *params,
                                           long long nsteps, ens_real t_start,
                                           const ens_noise_key *noise, ens_error *err)
{
    const int nv = job->nvars;
    const int nparams = job->nparams;
    int failed = 0;

#pragma omp parallel num_threads(job_threads(job)) if (count > 1)
    {
        ens_real *buf = malloc(sizeof(ens_real) * ((size_t)nv * (1 + ENS_MAX_WORK_PER_VAR) +
                                                   (size_t)nparams + (size_t)job->nnoise + 1));
        if (!buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        if (!failed) {
            ens_real *x = buf;
            ens_real *work = buf + nv;
            ens_real *p = work + (size_t)nv * ENS_MAX_WORK_PER_VAR;
#pragma omp for schedule(static)
            for (long long m = 0; m < count; m++) {
                for (int v = 0; v < nv; v++)
                    x[v] = state[v * count + m];
                for (int j = 0; j < nparams; j++)
                    p[j] = params[j * count + m];
                if (job->nnoise > 0)
                    ENS_SYM(ens_advance_noise)(job->model, nv, t_start, x, work, p,
                                               (ens_real)job->dt, (long)nsteps, noise,
                                               (ens_u64)m);
                else
                    ENS_SYM(ens_advance)(job->model, job->integrator, nv, t_start, x, work, p,
                                         (ens_real)job->dt, (long)nsteps);
                for (int v = 0; v < nv; v++)
                    state[v * count + m] = x[v];
            }
        }
        free(buf);
    }
    if (failed)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "openmp backend: out of memory for %d variables",
                        nv);
    return ENS_OK;
}

/*
 * DOPRI5: one member at a time per thread, through the same per-member
 * function as every other backend (kernels/integrators/dopri5.h); members
 * take different numbers of steps, so chunks are handed out dynamically.
 * Inlined with literal model and size for every fixed-size model.
 */
ENS_FN void ENS_SYM(adaptive_members)(const ens_backend_job *job, const int model, const int nv,
                                      long long count, ens_real *state, const ens_real *params,
                                      const ens_openmp_adaptive *a, int *failed)
{
    /* No upper limit: the precision's largest finite value. */
    const ens_real no_limit = (ens_real)(sizeof(ens_real) == sizeof(float) ? FLT_MAX : DBL_MAX);
    const ENS_SYM(ens_dopri5_ctl) ctl = {
        .h0 = (ens_real)ens_job_first_step(job),
        .dt_min = (ens_real)job->dt_min,
        .dt_max = job->dt_max > 0 ? (ens_real)job->dt_max : no_limit,
        .t_end = (ens_real)a->t_end,
        .t0 = (ens_real)job->t0,
        .max_steps = job->max_steps,
        .fresh = a->fresh,
    };
    const int nparams = job->nparams;
#pragma omp parallel num_threads(job_threads(job)) if (count > 1)
    {
        ens_real *buf = malloc(sizeof(ens_real) * ((size_t)ENS_DOPRI5_REAL_ROWS(nv) +
                                                   (size_t)nv * ENS_DOPRI5_WORK_PER_VAR +
                                                   ENS_MAX_PARAMS));
        if (!buf) {
#pragma omp atomic write
            *failed = 1;
        }
#pragma omp barrier
        if (!*failed) {
            ens_real *mem = buf;
            ens_real *work = mem + ENS_DOPRI5_REAL_ROWS(nv);
            ens_real *p = work + (size_t)nv * ENS_DOPRI5_WORK_PER_VAR;
#pragma omp for schedule(dynamic, ENS_ADAPTIVE_CHUNK)
            for (long long m = 0; m < count; m++)
                ENS_SYM(ens_dopri5_member)(model, nv, nparams, (ens_u64)m, (ens_u64)count, state,
                                           params, (ens_real *)a->aux, a->aux_int,
                                           (const ens_real *)a->tol, &ctl, mem, work, p);
        }
        free(buf);
    }
}

static ens_status ENS_SYM(advance_adaptive)(const ens_backend_job *job, long long count,
                                            void *state, const void *params,
                                            const ens_openmp_adaptive *a, ens_error *err)
{
    int failed = 0, specialised = 0;
    /* A fixed-size model's id and size as literals: the dispatch folds away. */
#define ENS_LITERAL_DOPRI5(id, prefix, nvars, nparams, component, common_nvars) \
    if (nvars > 0 && job->model == id) { \
        ENS_SYM(adaptive_members)(job, id, nvars, count, (ens_real *)state, \
                                  (const ens_real *)params, a, &failed); \
        specialised = 1; \
    }
    ENS_MODEL_LIST(ENS_LITERAL_DOPRI5)
#undef ENS_LITERAL_DOPRI5
    if (!specialised)
        ENS_SYM(adaptive_members)(job, job->model, job->nvars, count, (ens_real *)state,
                                  (const ens_real *)params, a, &failed);
    if (failed)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                        "openmp backend: out of memory for %d variables", job->nvars);
    return ENS_OK;
}

static ens_status ENS_SYM(advance)(const ens_backend_job *job, long long count, void *state,
                                   const void *params, long long nsteps, double t_start,
                                   const ens_noise_key *noise, ens_error *err)
{
    const ens_real t_start_r = (ens_real)t_start;
    const long long ntiles = (count + ENS_TILE - 1) / ENS_TILE;
    /* Model and variable count are literals inside the parallel region so
     * that the inlined tile loop is specialised: the right-hand side
     * dispatch folds away and the tile stays in registers. */
#define ENS_TILED_ADVANCE(id, prefix, nvars, nparams, component, common_nvars) \
    if (ENS_TILED(nvars, nparams) && job->model == id && job->nnoise == 0) { \
        _Pragma("omp parallel for schedule(static) num_threads(job_threads(job)) if (ntiles > 1)") \
        for (long long tile = 0; tile < ntiles; tile++) \
            ENS_SYM(advance_tile)(job, id, nvars, count, (ens_real *)state, \
                                  (const ens_real *)params, nsteps, t_start_r, tile); \
        return ENS_OK; \
    }
    ENS_MODEL_LIST(ENS_TILED_ADVANCE)
#undef ENS_TILED_ADVANCE
#ifdef ENS_OPENMP_LANES
    if (job->nnoise == 0 && job->nvars <= ENS_LANE_MAX_VARS) {
        int failed = 0, specialised = 0;
#define ENS_LITERAL_LANES(id, prefix, nvars, nparams, component, common_nvars) \
    if (nvars > 0 && job->model == id) { \
        ENS_SYM(lane_blocks)(job, id, nvars, count, (ens_real *)state, (const ens_real *)params, \
                             nsteps, t_start_r, &failed); \
        specialised = 1; \
    }
        ENS_MODEL_LIST(ENS_LITERAL_LANES)
#undef ENS_LITERAL_LANES
        if (!specialised)
            ENS_SYM(lane_blocks)(job, job->model, job->nvars, count, (ens_real *)state,
                                 (const ens_real *)params, nsteps, t_start_r, &failed);
        if (failed)
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                            "openmp backend: out of memory for %d variables", job->nvars);
        return ENS_OK;
    }
#endif
    return ENS_SYM(advance_members)(job, count, (ens_real *)state, (const ens_real *)params,
                                    nsteps, t_start_r, noise, err);
}

#undef ENS_SYM
#undef ens_real
