/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The ensemble: each member's initial state and parameters, as pure
 * functions of (configuration, member index). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "rng/philox.h"

void ens_config_initial_state(const ens_config *cfg, long long m, double *state)
{
    if (cfg->given_states) {
        memcpy(state, cfg->given_states + (size_t)m * (size_t)cfg->nvars,
               (size_t)cfg->nvars * sizeof *state);
        return;
    }
    for (int v = 0; v < cfg->nvars; v++) {
        double base = cfg->base_state[cfg->base_len == 1 ? 0 : v];
        double noise = cfg->perturbation > 0
                           ? cfg->perturbation * ens_member_normal(cfg->seed, (ens_u64)m, (ens_u32)v)
                           : 0.0;
        state[v] = base + noise;
    }
}

/* Grid point of member m along sweep number `which` (0 = slowest). */
static long long sweep_index(const ens_config *cfg, int which, long long m)
{
    if (cfg->nsweeps == 1)
        return m;
    long long inner = cfg->params[cfg->sweep_order[1]].n;
    return which == 0 ? m / inner : m % inner;
}

double ens_config_param_value(const ens_config *cfg, int j, long long m)
{
    const ens_param_spec *p = &cfg->params[j];
    switch (p->kind) {
    case ENS_PARAM_SWEEP: {
        int which = cfg->sweep_order[0] == j ? 0 : 1;
        long long n = p->n > 0 ? p->n : ens_config_members(cfg);
        if (n < 2)
            return p->lo;
        long long i = sweep_index(cfg, which, m);
        return p->lo + (p->hi - p->lo) * ((double)i / (double)(n - 1));
    }
    case ENS_PARAM_RANDOM:
        return p->lo + (p->hi - p->lo) * ens_member_uniform(cfg->seed, (ens_u64)m, (ens_u32)j);
    case ENS_PARAM_GIVEN:
        return p->values[m];
    case ENS_PARAM_SHARED:
        break;
    }
    return p->value;
}

static ens_param_source source_of(const ens_param_origin *origin, int j)
{
    return origin ? origin->source[j] : ENS_PARAM_FROM_CONFIG;
}

double ens_member_param_value(const ens_config *cfg, const ens_param_origin *origin,
                              double file_value, int j, long long m)
{
    const ens_param_source source = source_of(origin, j);
    if (source == ENS_PARAM_FROM_VARIABLE)
        return file_value;
    if (source == ENS_PARAM_FROM_ATTRIBUTE)
        return origin->shared[j];
    return ens_config_param_value(cfg, j, m);
}

int ens_param_varies(const ens_config *cfg, const ens_param_origin *origin, int j)
{
    const ens_param_source source = source_of(origin, j);
    return source == ENS_PARAM_FROM_VARIABLE ||
           (source == ENS_PARAM_FROM_CONFIG && cfg->params[j].kind != ENS_PARAM_SHARED);
}

double ens_param_shared_value(const ens_config *cfg, const ens_param_origin *origin, int j)
{
    return source_of(origin, j) == ENS_PARAM_FROM_ATTRIBUTE ? origin->shared[j]
                                                             : cfg->params[j].value;
}

void ens_config_describe_variation(const ens_config *cfg, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int j = 0; j < cfg->model->nparams && used < size; j++) {
        const ens_param_spec *p = &cfg->params[j];
        const char *sep = used ? "; " : "";
        int n = 0;
        if (p->kind == ENS_PARAM_SWEEP)
            n = snprintf(out + used, size - used, "%s%s: linear sweep %g to %g, %lld values",
                         sep, cfg->model->param_names[j], p->lo, p->hi,
                         p->n > 0 ? p->n : ens_config_members(cfg));
        else if (p->kind == ENS_PARAM_RANDOM)
            n = snprintf(out + used, size - used, "%s%s: uniform in [%g, %g) per member", sep,
                         cfg->model->param_names[j], p->lo, p->hi);
        else if (p->kind == ENS_PARAM_GIVEN)
            n = snprintf(out + used, size - used, "%s%s: given per member", sep,
                         cfg->model->param_names[j]);
        if (n > 0)
            used += (size_t)n;
    }
}
