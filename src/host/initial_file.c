/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * What needs the initial-state file before a run: checking it as part of
 * ens_config_validate (it sets the member count and the start time) and
 * answering the member queries from it. Core holds the settings; reading
 * files is the layer below this one (io/ncreader).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "io/ncreader.h"
#include "io/out_file.h"

/* A run from a file goes on as the run that wrote it integrated: its
 * integrator and dt, and for dopri5 its tolerances and step limits, each
 * where the file records it and the run was not given its own. Values go
 * through the setters' checks; the flags stay "not given" so that the
 * next validation (or another file) starts again from the defaults. */
static ens_status adopt_recorded(ens_config *cfg, const ens_nc_source *src)
{
    ens_nc_recorded rec;
    ENS_CHECK(ens_nc_source_recorded(src, &rec, &cfg->error));
    const int given[5] = {cfg->integrator_set, cfg->dt_set, cfg->rtol_set, cfg->atol_set,
                          cfg->dt_limits_set};
    ens_status st = ENS_OK;
    if (!given[0] && ens_choice_find(ENS_CHOICE_INTEGRATOR, rec.integrator) >= 0)
        st = ens_config_set_integrator(cfg, rec.integrator);
    if (st == ENS_OK && !given[1] && rec.dt > 0)
        st = ens_config_set_dt(cfg, rec.dt);
    if (cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5) {
        if (st == ENS_OK && !given[2] && rec.rtol)
            st = ens_config_set_rtol_vector(cfg, rec.rtol, rec.rtol_len);
        if (st == ENS_OK && !given[3] && rec.atol)
            st = ens_config_set_atol_vector(cfg, rec.atol, rec.atol_len);
        if (st == ENS_OK && !given[4] && rec.has_dt_limits)
            st = ens_config_set_dt_limits(cfg, rec.dt_min, rec.dt_max);
    }
    ens_nc_recorded_free(&rec);
    cfg->integrator_set = given[0];
    cfg->dt_set = given[1];
    cfg->rtol_set = given[2];
    cfg->atol_set = given[3];
    cfg->dt_limits_set = given[4];
    if (st != ENS_OK) {
        char why[sizeof cfg->error.msg];
        snprintf(why, sizeof why, "%s", cfg->error.msg);
        return ens_fail(&cfg->error, st, "initial states from '%s': its recorded %s",
                        cfg->init_path, why);
    }
    return ENS_OK;
}

/* An initial-state file sets the member count and the start time, and
 * the integration settings not given. */
static ens_status check_initial_file(ens_config *cfg)
{
    cfg->init_time = 0.0;
    ens_config_reset_ungiven(cfg);
    if (!cfg->init_path)
        return ENS_OK;
    ens_nc_source *src;
    ens_nc_source_info info;
    ENS_CHECK(ens_nc_source_open(cfg->init_path, cfg->init_index, cfg->model, cfg->nvars, &src,
                                 &info, &cfg->error));
    const ens_status adopted = adopt_recorded(cfg, src);
    ens_nc_source_close(src);
    ENS_CHECK(adopted);
    if (cfg->members_set && cfg->members != info.members)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "members = %lld but the initial-state file '%s' has %lld",
                        cfg->members, cfg->init_path, info.members);
    cfg->members = info.members;
    cfg->init_time = info.time;
    return ENS_OK;
}

/* The output and restart files: regular files or none yet, and not one
 * file (both would be renamed to the same name). */
static ens_status check_output_files(ens_config *cfg)
{
    if (cfg->output_path)
        ENS_CHECK(ens_out_check(cfg->output_path, &cfg->error));
    if (!cfg->restart_path)
        return ENS_OK;
    ENS_CHECK(ens_out_check(cfg->restart_path, &cfg->error));
    char *out = cfg->output_path ? ens_out_target(cfg->output_path) : NULL;
    char *restart = ens_out_target(cfg->restart_path);
    const int same = out && restart && strcmp(out, restart) == 0;
    free(out);
    free(restart);
    if (same)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "restart_out = %s: is the output file; name another",
                        cfg->restart_path);
    return ENS_OK;
}

ens_status ens_config_validate(ens_config *cfg)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    cfg->error.msg[0] = '\0';
    ENS_CHECK(check_output_files(cfg));
    ENS_CHECK(check_initial_file(cfg));
    return ens_config_check(cfg);
}

/* A member query needs a valid configuration and a member inside it. */
static ens_status check_member(ens_config *cfg, long long m)
{
    ENS_CHECK(ens_config_validate(cfg));
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
    ENS_CHECK(check_member(cfg, m));
    if (cfg->init_path) {
        double params[ENS_MAX_PARAMS];
        ens_nc_source_info info;
        return read_member(cfg, m, state, params, &info);
    }
    ens_config_initial_state(cfg, m, state);
    return ENS_OK;
}

/* Parameter j of member m as the run would give it. */
static ens_status member_param(ens_config *cfg, long long m, int j, double *value)
{
    if (!cfg->init_path) {
        *value = ens_config_param_value(cfg, j, m);
        return ENS_OK;
    }
    double *state = malloc((size_t)cfg->nvars * sizeof *state);
    double params[ENS_MAX_PARAMS] = {0};
    ens_nc_source_info info;
    ens_status st = state ? read_member(cfg, m, state, params, &info)
                          : ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    free(state);
    if (st == ENS_OK)
        *value = ens_member_param_value(cfg, &info.params, params[j], j, m);
    return st;
}

ens_status ens_config_member_param(ens_config *cfg, long long m, const char *name, double *value)
{
    if (!cfg || !value || !name)
        return ENS_ERR_INVALID_ARGUMENT;
    ENS_CHECK(check_member(cfg, m));
    if (cfg->model->size_param && strcmp(name, cfg->model->size_param) == 0) {
        *value = cfg->nvars;
        return ENS_OK;
    }
    for (int j = 0; j < cfg->model->nparams; j++)
        if (strcmp(cfg->model->param_names[j], name) == 0)
            return member_param(cfg, m, j, value);
    return ens_fail(&cfg->error, ENS_ERR_UNKNOWN_NAME, "model %s has no parameter '%s'",
                    cfg->model->name, name);
}
