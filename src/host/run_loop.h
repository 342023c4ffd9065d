/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The run loop: batch by batch, interval by interval, drive the backend,
 * check and save the members, reduce the statistics, hand each finished
 * batch to the writer thread while the next one computes, and report
 * progress. Under MPI every rank makes plan->rounds rounds with the same
 * save intervals, a rank past its last batch with no members, so that the
 * ranks meet at the same points (ens_ranks_agree) and make the same
 * collective writes.
 */
#ifndef ENS_HOST_RUN_LOOP_H
#define ENS_HOST_RUN_LOOP_H

#include <stdatomic.h>

#include "host/batch.h"
#include "io/ncwriter.h"

/* Where the batches go: the sink, and the restart file (or NULL). */
typedef struct ens_run_outputs {
    ens_sink *sink;
    ens_nc_writer *restart;
    int shared_file;     /* one file written by all MPI ranks together */
    atomic_int *stopping; /* set when the run is stopped, so that the
                             writer leaves the batch it writes; may be NULL */
} ens_run_outputs;

/* How far a run got, for the summary and for an interrupted file. */
typedef struct ens_progress_state {
    long long members_complete;   /* members with every saved time */
    long long members_partial;    /* members of the batch stopped midway */
    long long times_partial;      /* saved times that batch reached */
    long long stats_times;        /* saved times with statistics */
} ens_progress_state;

/* info may be NULL. */
ens_status ens_run_batches(ens_config *cfg, ens_plan *plan, ens_batch_buffers *b,
                           const ens_run_outputs *out, ens_run_info *info,
                           ens_progress_state *done);

/* A slab's states into out[(m * ntimes + t) * nvars + v], as doubles
 * (sinks.c: the caller's memory of ens_run_to_memory and of
 * ens_run_to_memory_file). */
void ens_copy_states(double *out, long long ntimes, int nvars, const ens_slab *slab,
                     int states_double);

#endif
