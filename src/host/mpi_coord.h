/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * MPI coordination of a run: which rank this process is, ranks that go on
 * or stop together, and the reductions across ranks (ensemble statistics,
 * the stopped file's member ranges, the run's figures). Without MPI (or in
 * one process) every function is a no-op over one rank.
 */
#ifndef ENS_HOST_MPI_COORD_H
#define ENS_HOST_MPI_COORD_H

#include "core/error.h"
#include "stats/moments.h"

typedef struct ens_ranks {
    int rank, nranks;
    int local_rank;      /* among the ranks of this node; -1 in one process */
} ens_ranks;

/* split: the members are divided across MPI ranks (ens_run); else the run
 * is this process's alone (rank 0 of 1). */
void ens_ranks_detect(ens_ranks *ranks, int split);

/* Ranks go on together or stop together: at fixed points (the same number
 * on every rank) each says whether it failed or was stopped, and every rank
 * takes the gravest outcome, with the message of the first rank that had
 * it. Without this, one rank that fails (a device error, a full disk) or is
 * stopped by a signal leaves the others waiting forever in the next
 * collective call. */
void ens_ranks_agree(const ens_ranks *ranks, ens_error *err, ens_status *st);

/* The largest and smallest of a value over the ranks; whether all are true. */
long long ens_ranks_max(const ens_ranks *ranks, long long value);
long long ens_ranks_min(const ens_ranks *ranks, long long value);
int ens_ranks_all(const ens_ranks *ranks, int value);

/* Merge every rank's moments (each over its own members) on rank 0, in
 * rank order, that is in member order, so that the result does not depend
 * on timing. All ranks call this; the merged table is valid on rank 0. */
ens_status ens_ranks_reduce_moments(const ens_ranks *ranks, ens_moments *moments, size_t count,
                                    ens_error *err);

/* Every rank's `n` values in rank order into all[n * nranks] (a file shared
 * by the ranks); returns the buffer (the caller frees it unless it is
 * `mine`), or NULL when out of memory on any rank. */
long long *ens_ranks_gather(const ens_ranks *ranks, long long *mine, int n);

/* Every rank's `mine_bytes` on rank 0, in rank order, into all (rank 0's,
 * of the sum of counts[r] * elem bytes; counts as ens_ranks_gather gives
 * every rank's element count). Returns 0, or -1 on a failed MPI call. */
int ens_ranks_gather_bytes(const ens_ranks *ranks, const void *mine, size_t mine_bytes,
                           void *all, const long long *counts, size_t elem);

/* The sums over the ranks of n values, on rank 0 (the others' unchanged). */
ens_status ens_ranks_sum_to_root(const ens_ranks *ranks, long long *values, size_t n,
                                 ens_error *err);

/* The whole run's figures from each rank's: sums, the slowest rank's times. */
void ens_ranks_sum_info(const ens_ranks *ranks, ens_run_info *info);

#endif
