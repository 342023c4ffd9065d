/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Configuration setters: each checks its own value; ens_config_check
 * checks what involves several settings. */
#include "core/config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MEMBERS 100000
#define DEFAULT_STEPS 5000
#define DEFAULT_SAVE_EVERY 50
#define DEFAULT_DT 0.01
#define DEFAULT_PERTURBATION 0.5
#define DEFAULT_SEED 1
#define DEFAULT_BLOWUP_BOUND 1e8
#define DEFAULT_RTOL 1e-6
#define DEFAULT_ATOL 1e-9
/* Automatic dopri5 step budget: 100 x steps, at least this. */
#define MIN_AUTO_MAX_STEPS 100000

/* The default save interval: the model's (or ensol's), but no longer than
 * the run, so `--steps 20` alone is not an error. */
static long long default_save_every(const ens_config *cfg)
{
    const ens_model_info *m = cfg->model;
    const long long k = m && m->default_save_every > 0 ? m->default_save_every
                                                       : DEFAULT_SAVE_EVERY;
    return cfg->steps < k ? cfg->steps : k;
}

/* The model's run defaults (steps, save interval, blow-up bound; the
 * integrator and dt in ens_config_reset_ungiven) for what was not set. */
static void apply_model_defaults(ens_config *cfg)
{
    const ens_model_info *m = cfg->model;
    ens_config_reset_ungiven(cfg);
    if (!cfg->steps_set)
        cfg->steps = m->default_steps > 0 ? m->default_steps : DEFAULT_STEPS;
    if (!cfg->save_every_set)
        cfg->save_every = default_save_every(cfg);
    if (!cfg->blowup_set)
        cfg->blowup_bound = m->default_blowup_bound > 0 ? m->default_blowup_bound
                                                        : DEFAULT_BLOWUP_BOUND;
}

/* Parameter j back from given values to a shared value (its current one). */
static void drop_given_values(ens_config *cfg, int j)
{
    free(cfg->params[j].values);
    cfg->params[j].values = NULL;
    if (cfg->params[j].kind == ENS_PARAM_GIVEN)
        cfg->params[j].kind = ENS_PARAM_SHARED;
}

static void drop_given_states(ens_config *cfg)
{
    free(cfg->given_states);
    cfg->given_states = NULL;
    cfg->given_members = 0;
    cfg->given_nvars = 0;
}

static ens_status set_model(ens_config *cfg, const ens_model_info *model)
{
    double *base = malloc((size_t)model->base_state_len * sizeof *base);
    if (!base)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(base, model->base_state, (size_t)model->base_state_len * sizeof *base);
    free(cfg->base_state);
    cfg->base_state = base;
    cfg->base_len = model->base_state_len;
    if (cfg->own_model && cfg->own_model != model) {
        ens_model_free(cfg->own_model);
        cfg->own_model = NULL;
    }
    cfg->model = model;
    cfg->nvars = model->default_nvars;
    cfg->nsweeps = 0;
    drop_given_states(cfg);
    for (int j = 0; j < ENS_MAX_PARAMS; j++) {
        drop_given_values(cfg, j);
        cfg->params[j].kind = ENS_PARAM_SHARED;
        cfg->params[j].value = j < model->nparams ? model->param_defaults[j] : 0.0;
    }
    apply_model_defaults(cfg);
    return ENS_OK;
}

ens_status ens_config_create(ens_config **out)
{
    if (!out)
        return ENS_ERR_INVALID_ARGUMENT;
    ens_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return ENS_ERR_OUT_OF_MEMORY;
    cfg->members = DEFAULT_MEMBERS;
    cfg->perturbation = DEFAULT_PERTURBATION;
    cfg->seed = DEFAULT_SEED;
    cfg->precision = ENS_PRECISION_ID_DOUBLE;
    strcpy(cfg->backend, "auto");
    cfg->output_mode = ENS_OUTPUT_ID_TRAJECTORY;
    cfg->output_type = -1;
    if (set_model(cfg, ens_models_at(0)) != ENS_OK) {
        free(cfg);
        return ENS_ERR_OUT_OF_MEMORY;
    }
    *out = cfg;
    return ENS_OK;
}

void ens_config_destroy(ens_config *cfg)
{
    if (!cfg)
        return;
    ens_model_free(cfg->own_model);
    drop_given_states(cfg);
    for (int j = 0; j < ENS_MAX_PARAMS; j++)
        drop_given_values(cfg, j);
    free(cfg->base_state);
    free(cfg->rtol);
    free(cfg->atol);
    free(cfg->output_path);
    free(cfg->history);
    free(cfg->init_path);
    free(cfg->restart_path);
    free(cfg);
}

const char *ens_config_last_error(const ens_config *cfg)
{
    return cfg ? cfg->error.msg : "no configuration";
}

/* Every entry point starts here: clears the last error. */
#define ENS_BEGIN(cfg) \
    do { \
        if (!(cfg)) \
            return ENS_ERR_INVALID_ARGUMENT; \
        (cfg)->error.msg[0] = '\0'; \
    } while (0)

static ens_status unknown_name(ens_config *cfg, const char *what, const char *name,
                               const char *choices)
{
    return ens_fail(&cfg->error, ENS_ERR_UNKNOWN_NAME, "unknown %s '%s' (choose from %s)",
                    what, name ? name : "(null)", choices);
}

/* unknown_name with the names of one list, after `first` ("auto, "). */
static ens_status unknown_choice(ens_config *cfg, const char *what, const char *name,
                                 ens_choice kind, const char *first)
{
    char names[256];
    const size_t used = (size_t)snprintf(names, sizeof names, "%s", first);
    ens_choice_join(kind, names + used, sizeof names - used);
    return unknown_name(cfg, what, name, names);
}

ens_status ens_config_set_model(ens_config *cfg, const char *name)
{
    ENS_BEGIN(cfg);
    const ens_model_info *model = ens_models_find(name);
    if (!model) {
        char choices[256] = "";
        for (int i = 0; i < ens_models_count(); i++) {
            if (i)
                strncat(choices, ", ", sizeof choices - strlen(choices) - 1);
            strncat(choices, ens_models_at(i)->name, sizeof choices - strlen(choices) - 1);
        }
        return unknown_name(cfg, "model", name, choices);
    }
    return set_model(cfg, model);
}

/* A model parsed at run time: the configuration owns it from here on. */
static ens_status set_own_model(ens_config *cfg, ens_model_info *model)
{
    ens_model_info *old = cfg->own_model;
    cfg->own_model = NULL; /* set_model frees a previous one: keep it until done */
    ens_status st = set_model(cfg, model);
    if (st != ENS_OK) {
        cfg->own_model = old;
        ens_model_free(model);
        return st;
    }
    ens_model_free(old);
    cfg->own_model = model;
    return ENS_OK;
}

ens_status ens_config_set_model_file(ens_config *cfg, const char *path)
{
    ENS_BEGIN(cfg);
    ens_model_info *model = NULL;
    ENS_CHECK(ens_model_read_file(path, &model, &cfg->error));
    return set_own_model(cfg, model);
}

ens_status ens_config_set_model_source(ens_config *cfg, const char *text,
                                       const char *name_for_messages)
{
    ENS_BEGIN(cfg);
    if (!text)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "model source: no text given");
    ens_model_info *model = NULL;
    ENS_CHECK(ens_model_parse(text, name_for_messages ? name_for_messages : "(model source)",
                                  &model, &cfg->error));
    return set_own_model(cfg, model);
}

static int param_index(const ens_config *cfg, const char *name)
{
    for (int j = 0; name && j < cfg->model->nparams; j++)
        if (strcmp(cfg->model->param_names[j], name) == 0)
            return j;
    return -1;
}

static ens_status unknown_param(ens_config *cfg, const char *name)
{
    char choices[256] = "";
    for (int j = 0; j < cfg->model->nparams; j++) {
        if (j)
            strncat(choices, ", ", sizeof choices - strlen(choices) - 1);
        strncat(choices, cfg->model->param_names[j], sizeof choices - strlen(choices) - 1);
    }
    if (cfg->model->size_param) {
        strncat(choices, ", ", sizeof choices - strlen(choices) - 1);
        strncat(choices, cfg->model->size_param, sizeof choices - strlen(choices) - 1);
    }
    return ens_fail(&cfg->error, ENS_ERR_UNKNOWN_NAME,
                    "model %s has no parameter '%s' (parameters: %s)", cfg->model->name,
                    name ? name : "(null)", choices);
}

static void drop_sweep(ens_config *cfg, int j)
{
    for (int i = 0; i < cfg->nsweeps; i++) {
        if (cfg->sweep_order[i] != j)
            continue;
        for (int k = i; k + 1 < cfg->nsweeps; k++)
            cfg->sweep_order[k] = cfg->sweep_order[k + 1];
        cfg->nsweeps--;
        return;
    }
}

static int is_size_param(const ens_config *cfg, const char *name)
{
    return name && cfg->model->size_param && strcmp(cfg->model->size_param, name) == 0;
}

ens_status ens_config_set_param(ens_config *cfg, const char *name, double value)
{
    ENS_BEGIN(cfg);
    if (is_size_param(cfg, name)) {
        if (!(value >= cfg->model->min_nvars && value <= 1e6) || value != floor(value))
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "%s = %g: must be an integer from %d to 1000000", name, value,
                            cfg->model->min_nvars);
        cfg->nvars = (int)value;
        return ENS_OK;
    }
    int j = param_index(cfg, name);
    if (j < 0)
        return unknown_param(cfg, name);
    if (!isfinite(value))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "%s = %g: must be finite",
                        name, value);
    drop_sweep(cfg, j);
    drop_given_values(cfg, j);
    cfg->params[j].kind = ENS_PARAM_SHARED;
    cfg->params[j].value = value;
    return ENS_OK;
}

/* Index of a parameter that may vary across members. */
static ens_status varying_param_index(ens_config *cfg, const char *name, int *index)
{
    *index = param_index(cfg, name);
    if (*index >= 0)
        return ENS_OK;
    if (is_size_param(cfg, name))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "%s sets the number of variables and cannot vary across members", name);
    return unknown_param(cfg, name);
}

ens_status ens_config_sweep_param(ens_config *cfg, const char *name, double lo, double hi,
                                  long long n)
{
    ENS_BEGIN(cfg);
    int j;
    ENS_CHECK(varying_param_index(cfg, name, &j));
    if (!isfinite(lo) || !isfinite(hi))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "sweep of %s from %g to %g: bounds must be finite", name, lo, hi);
    if (n == 1 || n < 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "sweep of %s with %lld values: needs at least 2 (or 0 for one per member)",
                        name, n);
    drop_sweep(cfg, j);
    if (cfg->nsweeps == 2)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "sweep of %s: at most two parameters can be swept", name);
    cfg->params[j] = (ens_param_spec){.kind = ENS_PARAM_SWEEP, .lo = lo, .hi = hi, .n = n,
                                      .value = cfg->params[j].value};
    cfg->sweep_order[cfg->nsweeps++] = j;
    return ENS_OK;
}

ens_status ens_config_random_param(ens_config *cfg, const char *name, double lo, double hi)
{
    ENS_BEGIN(cfg);
    int j;
    ENS_CHECK(varying_param_index(cfg, name, &j));
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "random %s in [%g, %g): needs finite bounds with low < high", name, lo,
                        hi);
    drop_sweep(cfg, j);
    drop_given_values(cfg, j);
    cfg->params[j] = (ens_param_spec){.kind = ENS_PARAM_RANDOM, .lo = lo, .hi = hi,
                                      .value = cfg->params[j].value};
    return ENS_OK;
}

/* A copy of n values, each finite; what names them in a message. */
static ens_status copy_finite(ens_config *cfg, const char *what, const double *values, size_t n,
                              double **out)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "%s: value %zu = %g is not finite", what, i, values[i]);
    *out = malloc(n * sizeof **out);
    if (!*out)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(*out, values, n * sizeof **out);
    return ENS_OK;
}

ens_status ens_config_set_param_values(ens_config *cfg, const char *name, const double *values,
                                       long long n)
{
    ENS_BEGIN(cfg);
    int j;
    ENS_CHECK(varying_param_index(cfg, name, &j));
    if (!values || n < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "values of %s: needs one value per member, at least one", name);
    char what[96];
    snprintf(what, sizeof what, "values of %s", name);
    double *copy;
    ENS_CHECK(copy_finite(cfg, what, values, (size_t)n, &copy));
    drop_sweep(cfg, j);
    drop_given_values(cfg, j);
    cfg->params[j] = (ens_param_spec){.kind = ENS_PARAM_GIVEN, .n = n, .values = copy,
                                      .value = cfg->params[j].value};
    return ENS_OK;
}

ens_status ens_config_set_initial_states(ens_config *cfg, const double *states,
                                         long long members, int nvars)
{
    ENS_BEGIN(cfg);
    if (!states) {
        drop_given_states(cfg);
        return ENS_OK;
    }
    if (members < 1 || nvars < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "initial_states = %lld x %d: needs at least one "
                        "of each", members, nvars);
    if ((double)members * nvars > (double)(SIZE_MAX / sizeof(double)))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "initial_states = %lld x %d: too large", members,
                        nvars);
    double *copy;
    ENS_CHECK(copy_finite(cfg, "initial_states", states, (size_t)members * (size_t)nvars, &copy));
    drop_given_states(cfg);
    cfg->given_states = copy;
    cfg->given_members = members;
    cfg->given_nvars = nvars;
    return ENS_OK;
}

ens_status ens_config_set_members(ens_config *cfg, long long members)
{
    ENS_BEGIN(cfg);
    if (members < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "members = %lld: must be at least 1", members);
    cfg->members = members;
    cfg->members_set = 1;
    return ENS_OK;
}

ens_status ens_config_set_base_state(ens_config *cfg, const double *values, int n)
{
    ENS_BEGIN(cfg);
    if (!values || n < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "base state: needs at least one value");
    for (int i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "base state value %d = %g: must be finite", i + 1, values[i]);
    double *copy = malloc((size_t)n * sizeof *copy);
    if (!copy)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(copy, values, (size_t)n * sizeof *copy);
    free(cfg->base_state);
    cfg->base_state = copy;
    cfg->base_len = n;
    return ENS_OK;
}

ens_status ens_config_set_perturbation(ens_config *cfg, double stddev)
{
    ENS_BEGIN(cfg);
    if (!isfinite(stddev) || stddev < 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "perturbation = %g: must be a finite number >= 0", stddev);
    cfg->perturbation = stddev;
    return ENS_OK;
}

ens_status ens_config_set_seed(ens_config *cfg, uint64_t seed)
{
    ENS_BEGIN(cfg);
    cfg->seed = seed;
    return ENS_OK;
}

ens_status ens_config_set_integrator(ens_config *cfg, const char *name)
{
    ENS_BEGIN(cfg);
    const int id = ens_choice_find(ENS_CHOICE_INTEGRATOR, name);
    if (id < 0)
        return unknown_choice(cfg, "integrator", name, ENS_CHOICE_INTEGRATOR, "");
    cfg->integrator = id;
    cfg->integrator_set = 1;
    return ENS_OK;
}

/* Stores n tolerance values after checking each: rtol > 0, atol >= 0, finite. */
static ens_status set_tolerance(ens_config *cfg, const char *what, double **field, int *len,
                                const double *values, int n)
{
    const int relative = what[0] == 'r';
    if (!values || n < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "%s: needs at least one value",
                        what);
    for (int i = 0; i < n; i++) {
        const double v = values[i];
        if (isfinite(v) && (relative ? v > 0 : v >= 0))
            continue;
        const char *why = relative ? "must be a positive finite number"
                                   : "must be a finite number >= 0";
        if (n == 1)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "%s = %g: %s", what, v, why);
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "%s value %d of %d is %g: %s",
                        what, i + 1, n, v, why);
    }
    double *copy = malloc((size_t)n * sizeof *copy);
    if (!copy)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(copy, values, (size_t)n * sizeof *copy);
    free(*field);
    *field = copy;
    *len = n;
    return ENS_OK;
}

ens_status ens_config_set_tolerances(ens_config *cfg, double rtol, double atol)
{
    ENS_BEGIN(cfg);
    /* Check both before storing either: a rejected call changes nothing. */
    if (!(isfinite(rtol) && rtol > 0))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "rtol = %g: must be a positive finite number", rtol);
    ens_status st = set_tolerance(cfg, "atol", &cfg->atol, &cfg->atol_len, &atol, 1);
    if (st == ENS_OK)
        st = set_tolerance(cfg, "rtol", &cfg->rtol, &cfg->rtol_len, &rtol, 1);
    cfg->rtol_set |= st == ENS_OK;
    cfg->atol_set |= st == ENS_OK;
    return st;
}

ens_status ens_config_set_rtol_vector(ens_config *cfg, const double *rtol, int n)
{
    ENS_BEGIN(cfg);
    const ens_status st = set_tolerance(cfg, "rtol", &cfg->rtol, &cfg->rtol_len, rtol, n);
    cfg->rtol_set |= st == ENS_OK;
    return st;
}

ens_status ens_config_set_atol_vector(ens_config *cfg, const double *atol, int n)
{
    ENS_BEGIN(cfg);
    const ens_status st = set_tolerance(cfg, "atol", &cfg->atol, &cfg->atol_len, atol, n);
    cfg->atol_set |= st == ENS_OK;
    return st;
}

ens_status ens_config_set_dt_limits(ens_config *cfg, double dt_min, double dt_max)
{
    ENS_BEGIN(cfg);
    if (!isfinite(dt_min) || dt_min < 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "dt_min = %g: must be a finite number >= 0", dt_min);
    if (!isfinite(dt_max) || dt_max < 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "dt_max = %g: must be a finite number >= 0 (0: no limit)", dt_max);
    if (dt_max > 0 && !(dt_min < dt_max))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "dt_min = %g must be below dt_max = %g", dt_min, dt_max);
    cfg->dt_min = dt_min;
    cfg->dt_max = dt_max;
    cfg->dt_limits_set = 1;
    return ENS_OK;
}

ens_status ens_config_set_max_steps(ens_config *cfg, long long max_steps)
{
    ENS_BEGIN(cfg);
    if (max_steps < 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "max_steps = %lld: must be 0 (automatic) or more", max_steps);
    cfg->max_steps = max_steps;
    return ENS_OK;
}

void ens_config_reset_ungiven(ens_config *cfg)
{
    const ens_model_info *m = cfg->model;
    if (!cfg->integrator_set)
        cfg->integrator = m && m->default_integrator >= 0 ? m->default_integrator
                                                          : ENS_INTEGRATOR_ID_EULER;
    if (!cfg->dt_set)
        cfg->dt = m && m->default_dt > 0 ? m->default_dt : DEFAULT_DT;
    if (!cfg->rtol_set) {
        free(cfg->rtol);
        cfg->rtol = NULL;
        cfg->rtol_len = 0;
    }
    if (!cfg->atol_set) {
        free(cfg->atol);
        cfg->atol = NULL;
        cfg->atol_len = 0;
    }
    if (!cfg->dt_limits_set)
        cfg->dt_min = cfg->dt_max = 0;
}

void ens_config_tolerances(const ens_config *cfg, double *rtol, double *atol)
{
    for (int v = 0; v < cfg->nvars; v++) {
        rtol[v] = !cfg->rtol ? DEFAULT_RTOL : cfg->rtol[cfg->rtol_len == 1 ? 0 : v];
        atol[v] = !cfg->atol ? DEFAULT_ATOL : cfg->atol[cfg->atol_len == 1 ? 0 : v];
    }
}

long long ens_config_max_steps(const ens_config *cfg)
{
    if (cfg->max_steps > 0)
        return cfg->max_steps;
    if (cfg->steps > LLONG_MAX / 100)
        return LLONG_MAX;
    return cfg->steps * 100 > MIN_AUTO_MAX_STEPS ? cfg->steps * 100 : MIN_AUTO_MAX_STEPS;
}

/* dopri5's settings against the model and precision. */
static ens_status validate_adaptive(ens_config *cfg)
{
    const struct {
        const char *name;
        const double *values;
        int len;
    } tol[2] = {{"rtol", cfg->rtol, cfg->rtol_len}, {"atol", cfg->atol, cfg->atol_len}};
    for (int i = 0; i < 2; i++)
        if (tol[i].values && tol[i].len != 1 && tol[i].len != cfg->nvars)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "%s: %d values, but model %s has %d variables", tol[i].name,
                            tol[i].len, cfg->model->name, cfg->nvars);
    /* Below a few units of roundoff no step can meet the tolerance: every
     * member would shrink its step to nothing. */
    const int single = cfg->precision == ENS_PRECISION_ID_FLOAT;
    const double floor = single ? 0x1p-21 : 0x1p-50;
    for (int v = 0; cfg->rtol && v < cfg->rtol_len; v++)
        if (cfg->rtol[v] < floor)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "rtol = %g: below what %s precision resolves (at least %.2g)",
                            cfg->rtol[v], single ? "float" : "double", floor);
    return ENS_OK;
}

ens_status ens_config_set_dt(ens_config *cfg, double dt)
{
    ENS_BEGIN(cfg);
    if (!isfinite(dt) || dt <= 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "dt = %g: must be a positive finite number", dt);
    cfg->dt = dt;
    cfg->dt_set = 1;
    return ENS_OK;
}

ens_status ens_config_set_steps(ens_config *cfg, long long steps)
{
    ENS_BEGIN(cfg);
    if (steps < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "steps = %lld: must be at least 1", steps);
    cfg->steps = steps;
    cfg->steps_set = 1;
    /* An interval the caller chose is kept as is. */
    if (!cfg->save_every_set)
        cfg->save_every = default_save_every(cfg);
    return ENS_OK;
}

ens_status ens_config_set_save_every(ens_config *cfg, long long k)
{
    ENS_BEGIN(cfg);
    if (k < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "save_every = %lld: must be at least 1", k);
    cfg->save_every = k;
    cfg->save_every_set = 1;
    return ENS_OK;
}

ens_status ens_config_set_precision(ens_config *cfg, const char *name)
{
    ENS_BEGIN(cfg);
    const int p = ens_choice_find(ENS_CHOICE_PRECISION, name);
    if (p < 0)
        return unknown_choice(cfg, "precision", name, ENS_CHOICE_PRECISION, "");
    cfg->precision = p;
    return ENS_OK;
}

ens_status ens_config_set_output_type(ens_config *cfg, const char *name)
{
    ENS_BEGIN(cfg);
    const int p = ens_choice_find(ENS_CHOICE_PRECISION, name);
    if (p < 0)
        return unknown_choice(cfg, "output type", name, ENS_CHOICE_PRECISION, "");
    cfg->output_type = p;
    return ENS_OK;
}

ens_status ens_config_set_backend(ens_config *cfg, const char *name)
{
    ENS_BEGIN(cfg);
    if (!name || (strcmp(name, "auto") != 0 && ens_choice_find(ENS_CHOICE_BACKEND, name) < 0))
        return unknown_choice(cfg, "backend", name, ENS_CHOICE_BACKEND, "auto, ");
    snprintf(cfg->backend, sizeof cfg->backend, "%s", name);
    return ENS_OK;
}

ens_status ens_config_set_device(ens_config *cfg, const char *device)
{
    ENS_BEGIN(cfg);
    if (device && strlen(device) >= sizeof cfg->device)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "device '%s': name too long",
                        device);
    snprintf(cfg->device, sizeof cfg->device, "%s", device ? device : "");
    return ENS_OK;
}

ens_status ens_config_set_blowup_bound(ens_config *cfg, double bound)
{
    ENS_BEGIN(cfg);
    if (!(bound >= 0) || !isfinite(bound))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "blow-up bound = %g: must be a finite number >= 0 (0: none)", bound);
    cfg->blowup_bound = bound;
    cfg->blowup_set = 1;
    return ENS_OK;
}

ens_status ens_config_set_strict_fp(ens_config *cfg, int strict)
{
    ENS_BEGIN(cfg);
    cfg->strict_fp = strict != 0;
    return ENS_OK;
}

ens_status ens_config_set_threads(ens_config *cfg, int threads)
{
    ENS_BEGIN(cfg);
    if (threads < 0 || threads > 65536)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "threads = %d: must be from 0 (all cores) to 65536", threads);
    cfg->threads = threads;
    return ENS_OK;
}

ens_status ens_config_set_batch_members(ens_config *cfg, long long members)
{
    ENS_BEGIN(cfg);
    if (members < 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "batch members = %lld: must be 0 (automatic) or more", members);
    cfg->batch_members = members;
    return ENS_OK;
}

ens_status ens_config_set_output_mode(ens_config *cfg, const char *name)
{
    ENS_BEGIN(cfg);
    const int mode = ens_choice_find(ENS_CHOICE_OUTPUT_MODE, name);
    if (mode < 0)
        return unknown_choice(cfg, "output mode", name, ENS_CHOICE_OUTPUT_MODE, "");
    cfg->output_mode = mode;
    return ENS_OK;
}

int ens_config_saves_trajectory(const ens_config *cfg)
{
    return cfg->output_mode == ENS_OUTPUT_ID_TRAJECTORY || cfg->output_mode == ENS_OUTPUT_ID_BOTH;
}

int ens_config_writes_stats(const ens_config *cfg)
{
    return cfg->output_mode == ENS_OUTPUT_ID_STATS || cfg->output_mode == ENS_OUTPUT_ID_BOTH;
}

ens_status ens_config_set_max_memory(ens_config *cfg, double bytes)
{
    ENS_BEGIN(cfg);
    if (!isfinite(bytes) || (bytes != 0 && bytes < 1024.0 * 1024.0))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "max memory = %g bytes: must be 0 (automatic) or at least 1 MiB", bytes);
    cfg->max_memory = bytes;
    return ENS_OK;
}

ens_status ens_config_set_deflate(ens_config *cfg, int level)
{
    ENS_BEGIN(cfg);
    if (level < 0 || level > 9)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "deflate level = %d: must be from 0 (none) to 9", level);
    cfg->deflate_level = level;
    return ENS_OK;
}

ens_status ens_config_set_quantize(ens_config *cfg, int bits)
{
    ENS_BEGIN(cfg);
    if (bits < 0 || bits > 52)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "quantize bits = %d: must be from 0 (exact) to 52", bits);
    cfg->quantize_bits = bits;
    return ENS_OK;
}

ens_status ens_config_set_plan_callback(ens_config *cfg, ens_plan_fn fn, void *user)
{
    ENS_BEGIN(cfg);
    cfg->plan_fn = fn;
    cfg->plan_user = user;
    return ENS_OK;
}

static ens_status set_string(ens_config *cfg, char **field, const char *value, const char *what)
{
    char *copy = NULL;
    if (value) {
        copy = malloc(strlen(value) + 1);
        if (!copy)
            return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory storing %s", what);
        strcpy(copy, value);
    }
    free(*field);
    *field = copy;
    return ENS_OK;
}

ens_status ens_config_set_output_path(ens_config *cfg, const char *path)
{
    ENS_BEGIN(cfg);
    if (!path || !*path)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "output path: must not be empty");
    return set_string(cfg, &cfg->output_path, path, "the output path");
}

ens_status ens_config_set_initial_file(ens_config *cfg, const char *path, long long time_index)
{
    ENS_BEGIN(cfg);
    if (path && !*path)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "initial-state file: the path must not be empty");
    cfg->init_index = time_index;
    return set_string(cfg, &cfg->init_path, path, "the initial-state path");
}

ens_status ens_config_set_force(ens_config *cfg, int force)
{
    ENS_BEGIN(cfg);
    cfg->force = force != 0;
    return ENS_OK;
}

ens_status ens_config_set_file_per_rank(ens_config *cfg, int per_rank)
{
    ENS_BEGIN(cfg);
    cfg->file_per_rank = per_rank != 0;
    return ENS_OK;
}

ens_status ens_config_set_restart_path(ens_config *cfg, const char *path)
{
    ENS_BEGIN(cfg);
    if (path && !*path)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "restart file: the path must not be empty");
    return set_string(cfg, &cfg->restart_path, path, "the restart path");
}

ens_status ens_config_set_history(ens_config *cfg, const char *history)
{
    ENS_BEGIN(cfg);
    return set_string(cfg, &cfg->history, history, "the history");
}

ens_status ens_config_set_progress(ens_config *cfg, ens_progress_fn fn, void *user)
{
    ENS_BEGIN(cfg);
    cfg->progress = fn;
    cfg->progress_user = user;
    return ENS_OK;
}

int ens_config_nvars(const ens_config *cfg) { return cfg ? cfg->nvars : 0; }

int ens_config_state_variable_count(const ens_config *cfg)
{
    if (!cfg)
        return 0;
    return ens_model_states_as_array(cfg->model) ? 1 : cfg->nvars;
}

const char *ens_config_state_variable_name(const ens_config *cfg, int index)
{
    if (index < 0 || index >= ens_config_state_variable_count(cfg))
        return NULL;
    return ens_model_states_as_array(cfg->model) ? cfg->model->vector_name
                                                 : cfg->model->var_names[index];
}

/* Grid size of the sweeps, 0 when a sweep takes one value per member, or
 * -1 when the grid has more points than a 64-bit count holds. */
static long long sweep_grid_size(const ens_config *cfg)
{
    long long size = 1;
    for (int i = 0; i < cfg->nsweeps; i++) {
        long long n = cfg->params[cfg->sweep_order[i]].n;
        if (n == 0)
            return 0;
        if (size > LLONG_MAX / n)
            return -1;
        size *= n;
    }
    return size;
}

long long ens_config_given_members(const ens_config *cfg)
{
    if (cfg->given_states)
        return cfg->given_members;
    for (int j = 0; j < cfg->model->nparams; j++)
        if (cfg->params[j].kind == ENS_PARAM_GIVEN)
            return cfg->params[j].n;
    return 0;
}

long long ens_config_members(const ens_config *cfg)
{
    if (!cfg)
        return 0;
    if (cfg->members_set)
        return cfg->members;
    long long given = ens_config_given_members(cfg);
    if (given > 0)
        return given;
    long long grid = sweep_grid_size(cfg);
    if (cfg->nsweeps > 0 && grid > 0)
        return grid;
    return cfg->members;
}

/* Every given per-member array has one row per member, and given states
 * one value per variable, from no initial-state file. */
static ens_status check_given(ens_config *cfg, long long members)
{
    if (cfg->given_states) {
        if (cfg->init_path)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "initial_states: given, and so is init_from = %s; give one of them",
                            cfg->init_path);
        if (cfg->given_nvars != cfg->nvars)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "initial_states: %d values per member, but model %s has %d "
                            "variables",
                            cfg->given_nvars, cfg->model->name, cfg->nvars);
        if (cfg->given_members != members)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "members = %lld but the initial states given are of %lld members",
                            members, cfg->given_members);
    }
    for (int j = 0; j < cfg->model->nparams; j++)
        if (cfg->params[j].kind == ENS_PARAM_GIVEN && cfg->params[j].n != members)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "members = %lld but %lld values of %s are given", members,
                            cfg->params[j].n, cfg->model->param_names[j]);
    return ENS_OK;
}

long long ens_config_steps(const ens_config *cfg) { return cfg ? cfg->steps : 0; }

long long ens_config_ntimes(const ens_config *cfg)
{
    if (cfg->output_mode == ENS_OUTPUT_ID_FINAL)
        return 1;
    return 1 + (cfg->steps + cfg->save_every - 1) / cfg->save_every;
}

long long ens_config_saved_times(const ens_config *cfg) { return cfg ? ens_config_ntimes(cfg) : 0; }

double ens_config_time_at(const ens_config *cfg, long long t)
{
    if (cfg->output_mode == ENS_OUTPUT_ID_FINAL)
        return cfg->init_time + (double)cfg->steps * cfg->dt;
    long long step = t * cfg->save_every;
    return cfg->init_time + (double)(step < cfg->steps ? step : cfg->steps) * cfg->dt;
}

/* Quantizing keeps at most the bits the type on disk has. */
static ens_status check_output_type(ens_config *cfg)
{
    const int type = cfg->output_type >= 0 ? cfg->output_type : cfg->precision;
    if (type != ENS_PRECISION_ID_DOUBLE && cfg->quantize_bits > 23)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "quantize = %d: float output keeps at most 23 significant bits (52 "
                        "when the output type is double)",
                        cfg->quantize_bits);
    return ENS_OK;
}

/* The adaptive integrator's settings mean nothing to the fixed-step ones:
 * given with them they are a mistake, not to be ignored. */
static ens_status check_fixed_step_settings(ens_config *cfg)
{
    const char *integrator = ens_choice_name(ENS_CHOICE_INTEGRATOR, cfg->integrator);
    const char *setting = cfg->rtol      ? "rtol"
                          : cfg->atol    ? "atol"
                          : cfg->dt_min  ? "dt_min"
                          : cfg->dt_max  ? "dt_max"
                                         : NULL;
    if (!setting)
        return ENS_OK;
    return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                    "%s: only the adaptive integrator dopri5 uses it, not %s", setting,
                    integrator);
}

ens_status ens_config_check(ens_config *cfg)
{
    ENS_BEGIN(cfg);
    const long long members = ens_config_members(cfg);
    if (cfg->nsweeps > 0) {
        if (cfg->nsweeps == 2 && sweep_grid_size(cfg) == 0)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "with two sweeps, each needs its number of values");
        long long grid = sweep_grid_size(cfg);
        if (grid < 0)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "the parameter sweeps have more points than a 64-bit count holds");
        if (grid > 0 && grid != members)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "members = %lld but the parameter sweep has %lld points", members,
                            grid);
    }
    ENS_CHECK(check_given(cfg, members));
    if (cfg->output_mode != ENS_OUTPUT_ID_FINAL && cfg->save_every > cfg->steps)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "save_every = %lld: larger than the %lld steps", cfg->save_every,
                        cfg->steps);
    if (cfg->base_len != 1 && cfg->base_len != cfg->nvars)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "base_state: %d values, but model %s has %d variables",
                        cfg->base_len, cfg->model->name, cfg->nvars);
    /* Counters of member-steps and output values must fit in 63 bits. */
    const double member_steps = (double)members * (double)cfg->steps;
    if (member_steps > 9.0e18)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "members x steps = %lld x %lld overflows a 64-bit step count",
                        members, cfg->steps);
    if ((double)cfg->steps * cfg->dt > 1e300 || !isfinite((double)cfg->steps * cfg->dt))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "steps x dt = %lld x %g is not a finite time", cfg->steps, cfg->dt);
    const double values = (double)members * (double)ens_config_ntimes(cfg) * cfg->nvars;
    if (values > 9.0e18)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output of %lld members x %lld times x %d variables is too large",
                        members, ens_config_ntimes(cfg), cfg->nvars);
    ENS_CHECK(check_output_type(cfg));
    /* The CPU backend has no devices: a request for one is a mistake (with
     * `auto` the backend refuses it, if auto comes to the CPU). */
    if (cfg->device[0] &&
        strcmp(cfg->backend, ens_choice_name(ENS_CHOICE_BACKEND, ENS_BACKEND_ID_OPENMP)) == 0)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "device = %s: the openmp backend runs on this machine's CPU and has "
                        "no devices to choose from",
                        cfg->device);
    if (cfg->model->nnoise > 0 && cfg->integrator != ENS_INTEGRATOR_ID_EULER)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "integrator = %s: model %s has noise inputs (%s%s), which only euler "
                        "(Euler-Maruyama) integrates",
                        ens_choice_name(ENS_CHOICE_INTEGRATOR, cfg->integrator),
                        cfg->model->name, cfg->model->noises[0].name,
                        cfg->model->nnoise > 1 ? ", ..." : "");
    if (cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5)
        return validate_adaptive(cfg);
    return check_fixed_step_settings(cfg);
}
