/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The host-side model registry: the built-in model files, embedded in the
 * library at build time (src/tools/modelgen.c), parsed on first use by
 * the same parser as a model file given at run time. Adding a built-in
 * model: its file kernels/models/NAME.ens and its name in
 * ENSOL_BUILTIN_MODELS (src/CMakeLists.txt). */
#include "core/config.h"
#include "core/models.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char *const ens_builtin_model_text[];
extern const char *const ens_builtin_model_path[];
extern const int ens_builtin_model_count;

enum { MAX_BUILTIN_MODELS = 64 };
static ens_model_info *builtin[MAX_BUILTIN_MODELS];
static int builtin_count;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

/* The files were parsed when they were generated, so they parse here; a
 * failure is a broken build, reported once and leaving the model out. */
static void parse_builtin(void)
{
    for (int i = 0; i < ens_builtin_model_count && i < MAX_BUILTIN_MODELS; i++) {
        ens_error err = {{0}};
        ens_model_info *m = NULL;
        if (ens_model_parse(ens_builtin_model_text[i], ens_builtin_model_path[i], &m, &err) !=
            ENS_OK) {
            fprintf(stderr, "ensol: built-in model: %s\n", err.msg);
            continue;
        }
        m->id = i;
        builtin[builtin_count++] = m;
    }
}

int ens_models_count(void)
{
    pthread_once(&builtin_once, parse_builtin);
    return builtin_count;
}

const ens_model_info *ens_models_at(int index)
{
    return index >= 0 && index < ens_models_count() ? builtin[index] : NULL;
}

const ens_model_info *ens_models_find(const char *name)
{
    for (int i = 0; name && i < ens_models_count(); i++)
        if (strcmp(builtin[i]->name, name) == 0)
            return builtin[i];
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

/* What a model file declares, for `ensol info --model PATH`. */
static void describe(const ens_model_info *m, char *buf, size_t size)
{
    size_t used = 0;
#define PUT(...) \
    do { \
        if (used < size) \
            used += (size_t)snprintf(buf + used, size - used, __VA_ARGS__); \
    } while (0)
    PUT("model %s: %s\n  file: %s\n  time units: %s\n", m->name, m->title ? m->title : "",
        m->path, m->time_units);
    PUT("  state: %d variables\n", m->default_nvars);
    for (int v = 0; v < m->nvardecls; v++) {
        const ens_model_var *var = &m->vars[v];
        PUT("    var %s%s%s%s", var->name, var->length ? "[" : "", var->length ? var->length : "",
            var->length ? "]" : "");
        if (var->dim)
            PUT(" dim %s", var->dim);
        PUT(" units \"%s\"%s%s%s\n", var->units, var->long_name ? " \"" : "",
            var->long_name ? var->long_name : "", var->long_name ? "\"" : "");
    }
    for (int i = 0; i < m->nsizes; i++)
        PUT("    size %s = %d (>= %d)%s%s%s\n", m->sizes[i].name, m->sizes[i].value,
            m->sizes[i].min, m->sizes[i].long_name ? " \"" : "",
            m->sizes[i].long_name ? m->sizes[i].long_name : "",
            m->sizes[i].long_name ? "\"" : "");
    for (int j = 0; j < m->nparams; j++)
        PUT("    param %s = %g%s%s%s\n", m->params[j].name, m->params[j].value,
            m->params[j].long_name ? " \"" : "",
            m->params[j].long_name ? m->params[j].long_name : "",
            m->params[j].long_name ? "\"" : "");
    for (int k = 0; k < m->nnoise; k++)
        PUT("    noise %s: white noise, N(0,1)/sqrt(dt) per step%s%s%s\n", m->noises[k].name,
            m->noises[k].long_name ? " \"" : "",
            m->noises[k].long_name ? m->noises[k].long_name : "",
            m->noises[k].long_name ? "\"" : "");
    for (int a = 0; a < ens_model_naux(m); a++)
        PUT("    aux %s\n", ens_model_aux_name(m, a));
    PUT("  base state:");
    for (int i = 0; i < m->base_state_len && i < 16; i++)
        PUT(" %g", m->base_state[i]);
    PUT("%s\n", m->base_state_len > 16 ? " ..." : "");
    if (m->default_integrator >= 0)
        PUT("  integrator: %s", ens_choice_name(ENS_CHOICE_INTEGRATOR, m->default_integrator));
    else if (m->unmapped_method[0])
        PUT("  integrator: the run's (meth=%s has no counterpart)", m->unmapped_method);
    if (m->default_integrator >= 0 && m->default_dt > 0)
        PUT(", dt %g", m->default_dt);
    if (m->default_steps > 0)
        PUT(", %lld steps", m->default_steps);
    if (m->default_save_every > 0)
        PUT(", saved every %lld", m->default_save_every);
    if (m->default_blowup_bound > 0)
        PUT(", blow-up bound %g", m->default_blowup_bound);
    if (m->default_integrator >= 0 || m->unmapped_method[0])
        PUT("\n");
    PUT("  right-hand side: line %d%s%s\n", m->rhs_line, m->component ? "; component form " : "",
        m->component ? m->component : "");
#undef PUT
}

ens_status ens_config_describe_model(const ens_config *cfg, char *buf, size_t size)
{
    if (!cfg || !buf || size == 0)
        return ENS_ERR_INVALID_ARGUMENT;
    describe(cfg->model, buf, size);
    return ENS_OK;
}
