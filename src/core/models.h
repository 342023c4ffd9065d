/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The model descriptor: what the host knows of a model (names, sizes,
 * parameters, units, defaults), read from its model file
 * (core/model_file.c) without a C compiler, and the registry of built-in
 * models, whose files are embedded in the library. The maths lives in the
 * file's right-hand side, turned into kernel source by core/model_source.c. */
#ifndef ENS_CORE_MODELS_H
#define ENS_CORE_MODELS_H

#include <stddef.h>

#include "core/error.h"
#include "ens_portable.h"

/* The most real parameters a model declares, and the most noise inputs
 * (which follow the parameters in p[]; kernels/rng/normal.h keys 512
 * pairs). */
#define ENS_MAX_PARAMS 64
#define ENS_MAX_NOISE 1024

/* An XPPAUT file's formulas kept for the host (core/ode_file.c). */
typedef struct ens_ode_program ens_ode_program;

/* A size parameter: an integer that sets array lengths (K of X[K]). */
typedef struct ens_model_size {
    const char *name;
    const char *long_name;
    int value;                      /* default */
    int min;                        /* smallest value allowed */
    int line;                       /* where declared */
} ens_model_size;

/* A real parameter of the right-hand side, in p[] in declaration order. */
typedef struct ens_model_param {
    const char *name;
    const char *long_name;
    const char *units;
    double value;                   /* default */
    int line;
} ens_model_param;

/* A noise input (`noise NAME`): white noise, at each fixed step a fresh
 * standard normal divided by sqrt(dt) (kernels/rng/normal.h), in p[]
 * after the parameters; only Euler (Euler-Maruyama) integrates it. */
typedef struct ens_model_noise {
    const char *name;
    const char *long_name;
    int line;
} ens_model_noise;

/* A state variable: a scalar (length NULL) or an array whose length is an
 * expression of size parameters and integers ("K", "J*K"); stored in the
 * state vector in declaration order. */
typedef struct ens_model_var {
    const char *name;
    const char *long_name;
    const char *units;
    const char *length;             /* NULL: a scalar */
    const char *dim;                /* NetCDF dimension of an array */
    int line;
} ens_model_var;

typedef struct ens_model_info {
    int id;                         /* enum ens_model_id; -1: a model compiled at run time */
    const char *name;               /* "lorenz63" */
    const char *title;              /* "Lorenz (1963) convection model" */
    const char *summary;            /* one line: variables, parameters and defaults */
    const char *path;               /* the model file, for messages */
    const char *time_units;
    int nsizes;
    ens_model_size *sizes;
    int nparams;
    ens_model_param *params;
    int nvardecls;
    ens_model_var *vars;
    int nnoise;
    ens_model_noise *noises;
    /* Default base state: one value per state variable, or one for all. */
    int base_state_len;
    double *base_state;
    /* The run's defaults, for what the caller leaves unset. */
    int default_integrator;         /* enum ens_integrator_id; -1: none declared */
    double default_dt;              /* 0: none declared */
    long long default_steps;        /* 0: none declared */
    long long default_save_every;   /* 0: none declared */
    double default_blowup_bound;    /* 0: none declared */
    char unmapped_method[32];       /* a method the file names that ensol lacks, or "" */
    /* Flops of one right-hand side evaluation: a + b * nvars. */
    double rhs_flops_const, rhs_flops_per_var;
    /* The C source: helper functions, the component function's name (or
     * NULL), the right-hand side body, and the lines they start on. */
    const char *functions, *component, *rhs;
    int functions_line, rhs_line;

    /* Derived (ens_model_finish): the variable count at the default
     * sizes, whether it is fixed (no size parameter), the size parameter
     * that sets the count of a one-array model (K), and the one view the
     * writer takes today: scalars (var_names) or one array (vector_*; the
 * whole state, named "state", for several arrays or more than 4 scalars). */
    int default_nvars;
    int fixed_nvars;
    const char *size_param;
    int min_nvars;
    const char *var_names[4];
    const char *var_long_names[4];
    const char *vector_name;
    const char *vector_long_name;
    const char *vector_dim;
    const char *units;              /* of the state variables */
    const char *param_names[ENS_MAX_PARAMS];
    const char *param_long_names[ENS_MAX_PARAMS];
    double param_defaults[ENS_MAX_PARAMS];
    ens_ode_program *ode;           /* an XPPAUT file's aux formulas; NULL otherwise */
    char summary_buf[256];
    char state_long_name_buf[160];
} ens_model_info;

/* Whether files hold the model's states as one array (vector_name over a
 * component dimension) rather than one variable per state variable. */
static inline int ens_model_states_as_array(const ens_model_info *m)
{
    return m->var_names[0] == NULL;
}

int ens_models_count(void);
const ens_model_info *ens_models_at(int index);
const ens_model_info *ens_models_find(const char *name);

/* Flops of one step of `integrator` (enum ens_integrator_id) for `nvars`. */
double ens_step_flops(const ens_model_info *model, int integrator, int nvars);

/* Parse a model's text: an XPPAUT file when `path` ends in .ode
 * (ens_ode_parse), else a model file (ens_model_parse_text). `path` names
 * it in messages, which read PATH:LINE: reason. On success *out is a new
 * descriptor (ens_model_free). */
ens_status ens_model_parse(const char *text, const char *path, ens_model_info **out,
                           ens_error *err);
/* A model file's text (core/model_file.c). */
ens_status ens_model_parse_text(const char *text, const char *path, ens_model_info **out,
                                ens_error *err);
/* An XPPAUT .ode file's text (core/ode_file.c): its equations become a
 * model file's right-hand side, its options the run's defaults; what
 * ensol cannot run is refused as PATH:LINE: reason. */
ens_status ens_ode_parse(const char *text, const char *path, ens_model_info **out,
                         ens_error *err);
void ens_ode_program_free(ens_ode_program *program);
/* An XPPAUT file's aux quantities: how many, their names, and their values
 * at time t for state x and parameters p (model->nparams values). */
int ens_model_naux(const ens_model_info *model);
const char *ens_model_aux_name(const ens_model_info *model, int i);
void ens_model_eval_aux(const ens_model_info *model, double t, const double *x,
                        const double *p, double *aux);
void ens_model_free(ens_model_info *model);
/* Read and parse the model file at `path` (ens_model_parse). */
ens_status ens_model_read_file(const char *path, ens_model_info **out, ens_error *err);
/* The most size parameters a model file declares. */
#define ENS_MODEL_MAX_SIZES 64
/* The size parameters' defaults, model->nsizes values into `sizes`. */
void ens_model_default_sizes(const ens_model_info *model, int sizes[ENS_MODEL_MAX_SIZES]);
/* Length of declared variable v at sizes `sizes` (model->nsizes values),
 * or -1 with a message when the expression is not a positive integer. */
long long ens_model_var_length(const ens_model_info *model, int v, const int *sizes,
                               ens_error *err);
/* Total state variables at `sizes`; -1 with a message when invalid. */
long long ens_model_nvars(const ens_model_info *model, const int *sizes, ens_error *err);

/* The kernel source of a model (core/model_source.c): its right-hand side
 * as ENS_SYM(ens_rhs_PREFIX), included once per precision like the
 * headers of kernels/models/, with #line directives into the model file.
 * Sizes other than the one a one-array model takes from its variable
 * count are literals of the source, from `sizes` (model->nsizes values).
 * Returns a malloc'ed string, or NULL when out of memory. */
char *ens_model_source(const ens_model_info *model, const char *prefix, const int *sizes);

#endif
