/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* A batch's host buffers (see batch.h). */
#include "host/batch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Models up to this many variables draw a member's state on the stack. */
#define ENS_MAX_INLINE_VARS 64

void ens_batch_free(ens_batch_buffers *b)
{
    free(b->state);
    free(b->params);
    for (int i = 0; i < 2; i++) {
        free(b->slabs[i].saved);
        free(b->slabs[i].params);
        free(b->slabs[i].members.status);
        free(b->slabs[i].members.accepted_steps);
        free(b->slabs[i].members.rejected_steps);
        free(b->slabs[i].members.failure_time);
    }
    free(b->moments);
    free(b->from_file);
    free(b->final);
    free(b->last_good);
    free(b->steps_real);
    free(b->steps_int);
    memset(b, 0, sizeof *b);
}

/* The two slabs: saved times, parameters and per-member results. */
static int alloc_slabs(const ens_plan *plan, size_t batch, size_t nvars, size_t nparams,
                       ens_batch_buffers *b)
{
    int ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
        b->slabs[i].params = malloc(batch * nparams * sizeof(double));
        if (plan->trajectory)
            b->slabs[i].saved = malloc(batch * (size_t)plan->ntimes * nvars * plan->real_size);
        ok = b->slabs[i].params && (!plan->trajectory || b->slabs[i].saved);
        ens_member_stats *ms = &b->slabs[i].members;
        ms->status = malloc(batch * sizeof *ms->status);
        ms->accepted_steps = malloc(batch * sizeof *ms->accepted_steps);
        ms->rejected_steps = malloc(batch * sizeof *ms->rejected_steps);
        ms->failure_time = malloc(batch * sizeof *ms->failure_time);
        ok = ok && ms->status && ms->accepted_steps && ms->rejected_steps && ms->failure_time;
    }
    return ok;
}

/* What only some runs need: restart file, initial-state file, DOPRI5
 * step state, statistics. */
static int alloc_optional(const ens_config *cfg, const ens_plan *plan, size_t batch,
                          size_t nvars, size_t nparams, ens_batch_buffers *b)
{
    if (cfg->restart_path && !(b->final = malloc(batch * nvars * sizeof(double))))
        return 0;
    if (plan->source && !(b->from_file = malloc(batch * (nvars + nparams) * sizeof(double))))
        return 0;
    if ((cfg->restart_path && plan->save_steps) || plan->resume_steps >= 0) {
        b->steps_real = malloc(batch * (size_t)ENS_DOPRI5_REAL_ROWS(cfg->nvars) * sizeof(double));
        b->steps_int = malloc(batch * ENS_DOPRI5_INT_ROWS * sizeof(long long));
        if (!b->steps_real || !b->steps_int)
            return 0;
    }
    if (plan->stats) {
        const size_t n = (size_t)plan->ntimes * nvars;
        if (!(b->moments = malloc(n * sizeof *b->moments)))
            return 0;
        for (size_t i = 0; i < n; i++)
            ens_moments_init(&b->moments[i]);
    }
    return 1;
}

ens_status ens_batch_alloc(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b)
{
    const size_t batch = (size_t)plan->batch;
    const size_t nparams = (size_t)(cfg->model->nparams > 0 ? cfg->model->nparams : 1);
    const size_t nvars = (size_t)cfg->nvars;
    memset(b, 0, sizeof *b);
    b->state = malloc(batch * nvars * plan->real_size);
    b->last_good = malloc(batch * nvars * plan->real_size);
    b->params = malloc(batch * nparams * plan->real_size);
    const int ok = b->state && b->params && b->last_good &&
                   alloc_slabs(plan, batch, nvars, nparams, b) &&
                   alloc_optional(cfg, plan, batch, nvars, nparams, b);
    if (!ok) {
        ens_batch_free(b);
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY,
                        "cannot allocate buffers for a batch of %lld members x %lld saved "
                        "times (set a smaller --max-memory or batch)",
                        plan->batch, plan->ntimes);
    }
    return ENS_OK;
}

/* Store a real value at index i of a buffer of the plan's precision. */
static inline void put_real(const ens_plan *plan, void *buf, size_t i, double value)
{
    if (plan->real_size == sizeof(float))
        ((float *)buf)[i] = (float)value;
    else
        ((double *)buf)[i] = value;
}

/* Member i of the batch (m0 + i of the ensemble): state and parameters. */
static void fill_member(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                        ens_slab *slab, long long i, double *xs)
{
    const int nvars = cfg->nvars, nparams = cfg->model->nparams;
    const size_t count = (size_t)slab->count;
    const double *file_states = b->from_file;
    const double *file_params = b->from_file ? b->from_file + count * (size_t)nvars : NULL;
    const long long m = slab->m0 + i;
    if (file_states)
        for (int v = 0; v < nvars; v++)
            put_real(plan, b->state, (size_t)v * count + (size_t)i,
                     file_states[(size_t)v * count + (size_t)i]);
    else if (xs) {
        ens_config_initial_state(cfg, m, xs);
        for (int v = 0; v < nvars; v++)
            put_real(plan, b->state, (size_t)v * count + (size_t)i, xs[v]);
    }
    for (int j = 0; j < nparams; j++) {
        const size_t k = (size_t)j * count + (size_t)i;
        const double value = ens_member_param_value(cfg, ens_plan_param_origin(plan),
                                                    file_params ? file_params[k] : 0.0, j, m);
        slab->params[k] = value;
        put_real(plan, b->params, k, value);
    }
}

/* An initial state from a file must be finite: a NaN member would start
 * from garbage or be taken for a failure of the run. */
static ens_status check_file_states(ens_config *cfg, const double *states, const ens_slab *slab)
{
    const size_t n = (size_t)slab->count;
    for (size_t v = 0; v < (size_t)cfg->nvars; v++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(states[v * n + i]))
                return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                                "initial-state file '%s': member %lld: state variable %zu is "
                                "%g; initial states must be finite",
                                cfg->init_path, slab->m0 + (long long)i, v, states[v * n + i]);
    return ENS_OK;
}

ens_status ens_batch_fill(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                          ens_slab *slab)
{
    const int nvars = cfg->nvars;
    const long long count = slab->count;
    if (plan->source) {
        ENS_CHECK(ens_nc_source_read(plan->source, slab->m0, count, b->from_file,
                                     b->from_file + (size_t)count * (size_t)nvars, &cfg->error));
        ENS_CHECK(check_file_states(cfg, b->from_file, slab));
    }
#pragma omp parallel if (count >= ENS_PARALLEL_MIN_MEMBERS)
    {
        double x[ENS_MAX_INLINE_VARS];
        double *xs = nvars <= ENS_MAX_INLINE_VARS ? x : malloc((size_t)nvars * sizeof *xs);
#pragma omp for schedule(static)
        for (long long i = 0; i < count; i++)
            fill_member(cfg, plan, b, slab, i, xs);
        if (xs != x)
            free(xs);
    }
    return ENS_OK;
}

void ens_batch_save_time(const ens_config *cfg, const ens_plan *plan, const ens_batch_buffers *b,
                         ens_slab *slab, long long t)
{
    const size_t nvars = (size_t)cfg->nvars, ntimes = (size_t)plan->ntimes;
    const size_t n = (size_t)slab->count;
    const long long count = slab->count;
    if (plan->real_size == sizeof(double)) {
        const double *src = b->state;
        double *dst = (double *)slab->saved + (size_t)t * nvars;
#pragma omp parallel for schedule(static) if (count >= ENS_PARALLEL_MIN_MEMBERS)
        for (long long i = 0; i < count; i++)
            for (size_t v = 0; v < nvars; v++)
                dst[(size_t)i * ntimes * nvars + v] = src[v * n + (size_t)i];
    } else {
        const float *src = b->state;
        float *dst = (float *)slab->saved + (size_t)t * nvars;
#pragma omp parallel for schedule(static) if (count >= ENS_PARALLEL_MIN_MEMBERS)
        for (long long i = 0; i < count; i++)
            for (size_t v = 0; v < nvars; v++)
                dst[(size_t)i * ntimes * nvars + v] = src[v * n + (size_t)i];
    }
}
