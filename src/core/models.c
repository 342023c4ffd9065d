/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The host-side model registry. Adding a model: its maths in
 * kernels/models/NAME.h, its id in ENS_MODEL_LIST (kernels/ens_portable.h)
 * and one entry below. */
#include "core/config.h"
#include "core/models.h"

#include <string.h>

static const ens_model_info models[] = {
    {
        .id = ENS_MODEL_LORENZ63,
        .name = "lorenz63",
        .title = "Lorenz (1963) convection model",
        .summary = "lorenz63  3 variables x, y, z; parameters sigma=10 rho=28 beta=8/3",
        .default_nvars = 3,
        .nparams = 3,
        .param_names = {"sigma", "rho", "beta"},
        .param_long_names = {"Prandtl number", "normalised Rayleigh number", "geometric factor"},
        .param_defaults = {10.0, 28.0, 8.0 / 3.0},
        .var_names = {"x", "y", "z"},
        .var_long_names = {"convective intensity", "horizontal temperature difference",
                           "vertical temperature difference"},
        .units = "1",
        .time_units = "1",
        .base_state_len = 3,
        .base_state = {-10.0, -10.0, 25.0},
        .rhs_flops_const = 8.0,
        .rhs_flops_per_var = 0.0,
    },
    {
        .id = ENS_MODEL_LORENZ96,
        .name = "lorenz96",
        .title = "Lorenz (1996) model",
        .summary = "lorenz96  K variables X (K=40, K >= 4); parameter F=8",
        .default_nvars = 40,
        .size_param = "K",
        .min_nvars = 4,
        .nparams = 1,
        .param_names = {"F"},
        .param_long_names = {"forcing"},
        .param_defaults = {8.0},
        .vector_name = "X",
        .vector_long_name = "Lorenz-96 state",
        .vector_dim = "k",
        .units = "1",
        .time_units = "1",
        .base_state_len = 1,
        .base_state = {8.0},
        .rhs_flops_const = 0.0,
        .rhs_flops_per_var = 4.0,
    },
};

int ens_models_count(void) { return (int)(sizeof models / sizeof models[0]); }

const ens_model_info *ens_models_at(int index)
{
    return index >= 0 && index < ens_models_count() ? &models[index] : NULL;
}

const ens_model_info *ens_models_find(const char *name)
{
    for (int i = 0; name && i < ens_models_count(); i++)
        if (strcmp(models[i].name, name) == 0)
            return &models[i];
    return NULL;
}

/* Per-variable flops of each integrator beyond its right-hand sides, as
 * counted in kernels/integrators/. */
double ens_step_flops(const ens_model_info *model, int integrator, int nvars)
{
    double rhs = model->rhs_flops_const + model->rhs_flops_per_var * nvars;
    if (integrator == ENS_INTEGRATOR_ID_RK4)
        return 4.0 * rhs + 13.0 * nvars;
    if (integrator == ENS_INTEGRATOR_ID_DOPRI5) /* per attempted step */
        return 6.0 * rhs + 82.0 * nvars;
    return rhs + 2.0 * nvars;
}

double ens_config_step_flops(const ens_config *cfg)
{
    return cfg ? ens_step_flops(cfg->model, cfg->integrator, cfg->nvars) : 0.0;
}

int ens_model_count(void) { return ens_models_count(); }

const char *ens_model_name(int index)
{
    const ens_model_info *m = ens_models_at(index);
    return m ? m->name : NULL;
}

const char *ens_model_summary(int index)
{
    const ens_model_info *m = ens_models_at(index);
    return m ? m->summary : NULL;
}
