/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The run configuration behind the opaque ens_config handle. */
#ifndef ENS_CORE_CONFIG_H
#define ENS_CORE_CONFIG_H

#include "core/choices.h"
#include "core/error.h"
#include "core/models.h"

typedef enum ens_param_kind {
    ENS_PARAM_SHARED,
    ENS_PARAM_SWEEP,
    ENS_PARAM_RANDOM,
    ENS_PARAM_GIVEN    /* one value per member, given by the caller */
} ens_param_kind;

typedef struct ens_param_spec {
    ens_param_kind kind;
    double value;      /* shared value */
    double lo, hi;     /* sweep or random range */
    long long n;       /* sweep points (0 = one per member); given values */
    double *values;    /* the given values (ENS_PARAM_GIVEN), owned */
} ens_param_spec;

struct ens_config {
    const ens_model_info *model;
    ens_model_info *own_model;   /* a model file given at run time (model), or NULL */
    int nvars;
    ens_param_spec params[ENS_MAX_PARAMS];
    int sweep_order[2];          /* parameter indices of the sweeps, in order given */
    int nsweeps;

    long long members;
    int members_set;
    double *base_state;          /* base_len values; 1 = the same for all variables */
    int base_len;
    double perturbation;
    uint64_t seed;
    double *given_states;        /* members x nvars initial states given, or NULL */
    long long given_members;
    int given_nvars;

    int integrator;              /* enum ens_integrator_id */
    double dt;
    long long steps;
    long long save_every;
    int steps_set, save_every_set, blowup_set;
    int precision;               /* enum ens_precision_id (core/choices.h) */
    /* dopri5: tolerances of 1 or nvars values (NULL: the defaults), step
     * limits (0: none) and the step budget (0: automatic) */
    double *rtol;
    int rtol_len;
    double *atol;
    int atol_len;
    double dt_min, dt_max;
    long long max_steps;
    /* Which of the settings a run takes from its initial-state file were
     * given (a setter called): those the file does not override. */
    int integrator_set, dt_set, rtol_set, atol_set, dt_limits_set;

    char backend[32];
    char device[128];
    int strict_fp;
    double blowup_bound;         /* 0: none */
    int threads;
    long long batch_members;

    int output_mode;             /* ens_output_mode_id */
    double max_memory;           /* bytes the run may allocate; 0: automatic */
    int deflate_level;
    int quantize_bits;
    int output_type;             /* -1: as precision; else enum ens_precision_id */
    char *output_path;
    char *history;
    char *init_path;             /* initial states from this file, or NULL */
    long long init_index;        /* its saved time; negative counts from the end */
    double init_time;            /* model time of those states (set by validate) */
    char *restart_path;          /* final states written here, or NULL */
    int file_per_rank;           /* under MPI: one piece per rank, not one shared file */
    int force;                   /* write even an output larger than the free space */

    ens_progress_fn progress;
    void *progress_user;
    ens_plan_fn plan_fn;
    void *plan_user;

    ens_error error;
};

/* Whether the run keeps member states at every save (trajectory, both). */
int ens_config_saves_trajectory(const ens_config *cfg);
/* Whether the run writes ensemble statistics (stats, both). */
int ens_config_writes_stats(const ens_config *cfg);
/* dopri5's tolerances for each of the nvars variables. */
void ens_config_tolerances(const ens_config *cfg, double *rtol, double *atol);
/* dopri5's step budget per member: max_steps or its automatic value. */
long long ens_config_max_steps(const ens_config *cfg);
/* Number of saved times: 1 + ceil(steps / save_every), or 1 in final mode. */
long long ens_config_ntimes(const ens_config *cfg);
/* Model time of saved time t. */
double ens_config_time_at(const ens_config *cfg, long long t);
/* Parameter j of member m, from the configuration. */
double ens_config_param_value(const ens_config *cfg, int j, long long m);
/* Where a run that starts from an initial-state file takes each parameter
 * from (the file layer fills it in from what the file records). */
typedef enum ens_param_source {
    ENS_PARAM_FROM_CONFIG = 0,   /* the file does not record it */
    ENS_PARAM_FROM_VARIABLE,     /* a (member) variable */
    ENS_PARAM_FROM_ATTRIBUTE     /* a global attribute param_NAME shared by all */
} ens_param_source;

typedef struct ens_param_origin {
    ens_param_source source[ENS_MAX_PARAMS];
    double shared[ENS_MAX_PARAMS];  /* values of ENS_PARAM_FROM_ATTRIBUTE */
} ens_param_origin;

/* Parameter j of member m of a run that starts from an initial-state file:
 * the file's value where it records one (file_value: the member's value
 * of a per-member variable), else the configuration's. origin NULL: no file. */
double ens_member_param_value(const ens_config *cfg, const ens_param_origin *origin,
                              double file_value, int j, long long m);
/* Whether parameter j differs between members, and its value when not. */
int ens_param_varies(const ens_config *cfg, const ens_param_origin *origin, int j);
double ens_param_shared_value(const ens_config *cfg, const ens_param_origin *origin, int j);

/* The integrator, dt, tolerances and step limits that were not given,
 * back to their defaults (a run from an initial-state file then takes
 * what the file records: src/host/initial_file.c). */
void ens_config_reset_ungiven(ens_config *cfg);

/* The settings checked together (sweeps against members, save interval,
 * base state, sizes, dopri5's tolerances). The initial-state file, which
 * sets members and init_time, is checked before this, above core
 * (ens_config_validate, src/host/initial_file.c). */
ens_status ens_config_check(ens_config *cfg);
/* The member count that given per-member values imply (initial states,
 * parameter values), or 0 when none are given. */
long long ens_config_given_members(const ens_config *cfg);
/* Initial state of member m into state[nvars]. */
void ens_config_initial_state(const ens_config *cfg, long long m, double *state);
/* Text describing the per-member parameter variation ("" when none). */
void ens_config_describe_variation(const ens_config *cfg, char *out, size_t size);

#endif
