/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Planning a run: the backend (explicit or `auto`), the memory budget and
 * the batch size that fits it, this rank's share of the members, the
 * initial-state file, and the plan line reported before the run starts.
 */
#ifndef ENS_HOST_PLAN_H
#define ENS_HOST_PLAN_H

#include "backends/backend.h"
#include "core/config.h"
#include "host/mpi_coord.h"
#include "io/ncreader.h"

typedef struct ens_plan {
    const ens_backend_ops *ops;
    ens_backend backend;
    char device[128];       /* the backend's description, as files record it */
    char device_line[128];  /* with how its code was prepared, for messages */
    ens_backend_job job;
    long long members;
    long long ntimes;
    long long batch;
    size_t real_size;
    int trajectory;      /* states kept at every save (or the final one) */
    int stats;
    ens_nc_source *source;        /* initial states from a file, or NULL */
    ens_nc_source_info source_info;
    /* Under MPI (ens_run with more than one rank): this rank integrates
     * members [first, end) of the `members`, and every rank makes
     * `rounds` writes (the most batches of any rank). Else 0, members. */
    long long first, end;
    long long rounds;
    /* DOPRI5: the restart file keeps the step state (save_steps), and the
     * initial-state file's step state goes on from resume_steps steps of
     * dt (-1: the members start afresh). */
    int save_steps;
    long long resume_steps;
    ens_ranks ranks;
} ens_plan;

/* Plan a run and create its backend; split: members divided across MPI
 * ranks (ens_run only). On failure nothing is left to release. */
ens_status ens_plan_run(ens_config *cfg, ens_plan *plan, int split);
void ens_plan_release(ens_plan *plan);

/* Where the file records the parameters, the run's origin of each
 * (NULL: no initial-state file). */
const ens_param_origin *ens_plan_param_origin(const ens_plan *plan);

/* NetCDF's chunk cache per state variable: an eighth of the budget over
 * the variables, at most the writer's default. */
size_t ens_plan_cache_limit(const ens_config *cfg);

/* Bytes of the states the run's file will hold, uncompressed (0 when it
 * holds no states). */
/* Whether each MPI rank writes its own piece of a file with per-member
 * variables (the run's, or its restart file): asked to, or NetCDF cannot
 * write one file in parallel. */
int ens_plan_writes_pieces(const ens_config *cfg, const ens_plan *plan);

/* Whether the run's file is a statistics file (no states): nothing per
 * member, rank 0's alone, never in pieces. */
int ens_plan_stats_file(const ens_plan *plan);

double ens_plan_output_bytes(const ens_config *cfg, const ens_plan *plan);

/* Hand the plan to the configuration's plan callback, if any (ens_plan_run
 * does, once it has planned). */
void ens_plan_report(const ens_config *cfg, const ens_plan *plan);

#endif
