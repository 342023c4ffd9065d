/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * What a statistics file says of the members instead of per-member
 * arrays: the failed members as a list (a few, usually), gathered from
 * every batch and every MPI rank, and from them how many members were in
 * each status at each saved time.
 */
#ifndef ENS_HOST_OUTCOMES_H
#define ENS_HOST_OUTCOMES_H

#include "host/mpi_coord.h"
#include "host/run_loop.h"
#include "host/sink.h"
#include "io/ncwriter.h"

typedef struct ens_outcomes {
    ens_nc_failed *failed;
    long long n, cap;
} ens_outcomes;

/* The failed members of a batch, appended. */
ens_status ens_outcomes_add(ens_outcomes *o, const ens_slab *slab, ens_error *err);

/* Every rank's failed members on rank 0, in member order (the other
 * ranks' lists are left as they are). All ranks call it. */
ens_status ens_outcomes_gather(ens_outcomes *o, const ens_ranks *ranks, ens_error *err);

/* counts[t * ENS_NC_STATUSES + s] for t < ntimes: members of this rank's
 * [first, ...) that reached saved time t (done: how far the run got) in
 * status s then, a member failing at time f in its status from the first
 * saved time >= f. Summed over the ranks on rank 0 when there are several;
 * all ranks call it. */
ens_status ens_outcomes_count(const ens_outcomes *o, const ens_ranks *ranks, long long first,
                              const ens_progress_state *done, const double *times,
                              long long ntimes, long long *counts, ens_error *err);

void ens_outcomes_free(ens_outcomes *o);

#endif
