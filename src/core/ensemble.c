/* The ensemble: each member's initial state and parameters, as pure
 * functions of (configuration, member index). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "io/ncreader.h"
#include "rng/philox.h"

void ens_config_initial_state(const ens_config *cfg, long long m, double *state)
{
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
    case ENS_PARAM_SHARED:
        break;
    }
    return p->value;
}

double ens_member_param_value(const ens_config *cfg, const ens_nc_source_info *info,
                              double file_value, int j, long long m)
{
    const int source = info ? info->param_source[j] : ENS_PARAM_FROM_CONFIG;
    if (source == ENS_PARAM_FROM_VARIABLE)
        return file_value;
    if (source == ENS_PARAM_FROM_ATTRIBUTE)
        return info->param_shared[j];
    return ens_config_param_value(cfg, j, m);
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
        if (n > 0)
            used += (size_t)n;
    }
}

/* A member query needs a valid configuration and a member inside it. */
static ens_status check_member(ens_config *cfg, long long m)
{
    ens_status st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return st;
    if (m < 0 || m >= ens_config_members(cfg))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "member %lld: outside 0..%lld", m,
                        ens_config_members(cfg) - 1);
    return ENS_OK;
}

/* Member m's state and per-member parameters as an initial-state file
 * holds them (params[j] for the parameters it records per member). */
static ens_status read_member(ens_config *cfg, long long m, double *state, double *params,
                              ens_nc_source_info *info)
{
    ens_nc_source *src = NULL;
    ens_status st = ens_nc_source_open(cfg->init_path, cfg->init_index, cfg->model, cfg->nvars,
                                       &src, info, &cfg->error);
    if (st == ENS_OK)
        st = ens_nc_source_read(src, m, 1, state, params, &cfg->error);
    ens_nc_source_close(src);
    return st;
}

ens_status ens_config_member_initial_state(ens_config *cfg, long long m, double *state)
{
    if (!cfg || !state)
        return ENS_ERR_INVALID_ARGUMENT;
    ens_status st = check_member(cfg, m);
    if (st != ENS_OK)
        return st;
    if (cfg->init_path) {
        double params[ENS_MAX_PARAMS];
        ens_nc_source_info info;
        return read_member(cfg, m, state, params, &info);
    }
    ens_config_initial_state(cfg, m, state);
    return ENS_OK;
}

ens_status ens_config_member_param(ens_config *cfg, long long m, const char *name, double *value)
{
    if (!cfg || !value || !name)
        return ENS_ERR_INVALID_ARGUMENT;
    ens_status st = check_member(cfg, m);
    if (st != ENS_OK)
        return st;
    if (cfg->model->size_param && strcmp(name, cfg->model->size_param) == 0) {
        *value = cfg->nvars;
        return ENS_OK;
    }
    for (int j = 0; j < cfg->model->nparams; j++) {
        if (strcmp(cfg->model->param_names[j], name) != 0)
            continue;
        if (!cfg->init_path) {
            *value = ens_config_param_value(cfg, j, m);
            return ENS_OK;
        }
        double *state = malloc((size_t)cfg->nvars * sizeof *state);
        double params[ENS_MAX_PARAMS] = {0};
        ens_nc_source_info info;
        st = state ? read_member(cfg, m, state, params, &info)
                   : ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
        free(state);
        if (st == ENS_OK)
            *value = ens_member_param_value(cfg, &info, params[j], j, m);
        return st;
    }
    return ens_fail(&cfg->error, ENS_ERR_UNKNOWN_NAME, "model %s has no parameter '%s'",
                    cfg->model->name, name);
}
