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
