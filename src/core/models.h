/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Host-side model registry: names, parameters, variables, defaults, flops.
 * The maths lives in kernels/models/; this is what the host needs to know. */
#ifndef ENS_CORE_MODELS_H
#define ENS_CORE_MODELS_H

#include "ens_portable.h"

#define ENS_MAX_PARAMS 8

typedef struct ens_model_info {
    int id;                         /* enum ens_model_id */
    const char *name;               /* "lorenz63" */
    const char *title;              /* "Lorenz (1963) convection model" */
    const char *summary;            /* one line: parameters and defaults */
    int default_nvars;
    const char *size_param;         /* parameter that sets the variable count (K), or NULL */
    int min_nvars;
    int nparams;
    const char *param_names[ENS_MAX_PARAMS];
    const char *param_long_names[ENS_MAX_PARAMS];
    double param_defaults[ENS_MAX_PARAMS];
    /* Variables: either one NetCDF variable per state variable (var_names
     * has nvars entries), or one vector variable `vector_name` along the
     * dimension `vector_dim` when var_names[0] is NULL. */
    const char *var_names[4];
    const char *var_long_names[4];
    const char *vector_name;
    const char *vector_long_name;
    const char *vector_dim;
    const char *units;              /* of the state variables */
    const char *time_units;
    /* Default base state: default_nvars values, or one value for all. */
    int base_state_len;
    double base_state[4];
    /* Flops of one right-hand side evaluation: a + b * nvars. */
    double rhs_flops_const, rhs_flops_per_var;
} ens_model_info;

int ens_models_count(void);
const ens_model_info *ens_models_at(int index);
const ens_model_info *ens_models_find(const char *name);

/* Flops of one step of `integrator` (enum ens_integrator_id) for `nvars`. */
double ens_step_flops(const ens_model_info *model, int integrator, int nvars);

#endif
