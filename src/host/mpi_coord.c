/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* MPI coordination of a run (see mpi_coord.h). */
#include "host/mpi_coord.h"

#include <stdlib.h>
#include <string.h>

#ifdef ENSOL_HAVE_MPI
#include <mpi.h>
#endif

void ens_ranks_detect(ens_ranks *ranks, int split)
{
    ranks->rank = 0;
    ranks->nranks = 1;
    ranks->local_rank = -1;
#ifdef ENSOL_HAVE_MPI
    /* MPI is initialised when the ensol command was started by mpirun. */
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (!split || !initialised || finalised)
        return;
    MPI_Comm_rank(MPI_COMM_WORLD, &ranks->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks->nranks);
    if (ranks->nranks < 2)
        return;
    /* This rank's number on its node: a GPU backend without a device
     * request takes the node's devices in turn (see ens_backend_job). */
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, ranks->rank, MPI_INFO_NULL,
                            &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &ranks->local_rank);
        MPI_Comm_free(&node);
    }
#else
    (void)split;
#endif
}

#ifdef ENSOL_HAVE_MPI
void ens_ranks_agree(const ens_ranks *ranks, ens_error *err, ens_status *st)
{
    if (ranks->nranks <= 1)
        return;
    const int grave = *st == ENS_OK ? 0 : *st == ENS_ERR_INTERRUPTED ? 1 : 2;
    struct {
        int grave, rank;
    } mine = {grave, ranks->rank}, worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_2INT, MPI_MAXLOC, MPI_COMM_WORLD);
    if (worst.grave == 0)
        return;
    int code = *st;
    MPI_Bcast(&code, 1, MPI_INT, worst.rank, MPI_COMM_WORLD);
    ens_error told;
    if (ranks->rank == worst.rank)
        told = *err;
    MPI_Bcast(told.msg, (int)sizeof told.msg, MPI_CHAR, worst.rank, MPI_COMM_WORLD);
    if (grave < worst.grave) {
        *st = (ens_status)code;
        ens_fail(err, *st, "MPI rank %d: %s", worst.rank, told.msg);
    }
}

static long long reduce_ll(const ens_ranks *ranks, long long value, MPI_Op op)
{
    if (ranks->nranks > 1)
        MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_LONG_LONG, op, MPI_COMM_WORLD);
    return value;
}

long long ens_ranks_max(const ens_ranks *ranks, long long value)
{
    return reduce_ll(ranks, value, MPI_MAX);
}

long long ens_ranks_min(const ens_ranks *ranks, long long value)
{
    return reduce_ll(ranks, value, MPI_MIN);
}

int ens_ranks_all(const ens_ranks *ranks, int value)
{
    if (ranks->nranks > 1)
        MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return value;
}

/* The moment table travels in pieces to bound rank 0's memory. */
#define ENS_REDUCE_PIECE ((size_t)1 << 15) /* moments per gather and rank */

ens_status ens_ranks_reduce_moments(const ens_ranks *ranks, ens_moments *moments, size_t total,
                                    ens_error *err)
{
    const size_t piece = total < ENS_REDUCE_PIECE ? total : ENS_REDUCE_PIECE;
    const int fields = (int)(sizeof(ens_moments) / sizeof(double));
    ens_moments *all = NULL;
    int ok = 1;
    if (ranks->rank == 0) {
        all = malloc((size_t)ranks->nranks * (piece > 0 ? piece : 1) * sizeof *all);
        ok = all != NULL;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                        "out of memory for the statistics of %d MPI ranks", ranks->nranks);
    for (size_t at = 0; at < total; at += piece) {
        const size_t n = total - at < piece ? total - at : piece;
        MPI_Gather(moments + at, (int)n * fields, MPI_DOUBLE, all, (int)n * fields, MPI_DOUBLE,
                   0, MPI_COMM_WORLD);
        if (ranks->rank != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            ens_moments m = all[i];
            for (int r = 1; r < ranks->nranks; r++)
                ens_moments_merge(&m, &all[(size_t)r * n + i]);
            moments[at + i] = m;
        }
    }
    free(all);
    return ENS_OK;
}

long long *ens_ranks_gather(const ens_ranks *ranks, long long *mine, int n)
{
    if (ranks->nranks <= 1)
        return mine;
    long long *all = malloc((size_t)n * (size_t)ranks->nranks * sizeof *all);
    if (!ens_ranks_all(ranks, all != NULL)) {
        free(all);
        return NULL;
    }
    MPI_Allgather(mine, n, MPI_LONG_LONG, all, n, MPI_LONG_LONG, MPI_COMM_WORLD);
    return all;
}

int ens_ranks_gather_bytes(const ens_ranks *ranks, const void *mine, size_t mine_bytes,
                           void *all, const long long *counts, size_t elem)
{
    if (ranks->nranks <= 1) {
        if (mine_bytes)
            memcpy(all, mine, mine_bytes);
        return 0;
    }
    /* Counts and offsets in bytes, as MPI wants them: int. */
    int *bytes = malloc(2 * (size_t)ranks->nranks * sizeof *bytes), ok = bytes != NULL;
    for (int r = 0; ok && r < ranks->nranks; r++) {
        const long long b = counts[r] * (long long)elem;
        const long long at = r ? (long long)bytes[ranks->nranks + r - 1] + bytes[r - 1] : 0;
        ok = b <= 2147483647LL && at + b <= 2147483647LL;
        bytes[r] = ok ? (int)b : 0;
        bytes[ranks->nranks + r] = ok ? (int)at : 0;
    }
    if (!ens_ranks_all(ranks, ok)) {
        free(bytes);
        return -1;
    }
    const int rc = MPI_Gatherv(mine, (int)mine_bytes, MPI_BYTE, all, bytes,
                               bytes + ranks->nranks, MPI_BYTE, 0, MPI_COMM_WORLD);
    free(bytes);
    return rc == MPI_SUCCESS ? 0 : -1;
}

ens_status ens_ranks_sum_to_root(const ens_ranks *ranks, long long *values, size_t n,
                                 ens_error *err)
{
    if (ranks->nranks <= 1)
        return ENS_OK;
    const int rc = ranks->rank == 0
                       ? MPI_Reduce(MPI_IN_PLACE, values, (int)n, MPI_LONG_LONG, MPI_SUM, 0,
                                    MPI_COMM_WORLD)
                       : MPI_Reduce(values, NULL, (int)n, MPI_LONG_LONG, MPI_SUM, 0,
                                    MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? ENS_OK
                             : ens_fail(err, ENS_ERR_IO, "cannot sum the member counts over "
                                                          "the MPI ranks");
}

void ens_ranks_sum_info(const ens_ranks *ranks, ens_run_info *info)
{
    if (ranks->nranks <= 1)
        return;
    /* The rate is the sum of the ranks' rates. */
    MPI_Allreduce(MPI_IN_PLACE, &info->seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->compute_seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->member_steps_per_second, 1, MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->batches, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->members_failed, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->bytes_written, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, info->members_by_status,
                  (int)(sizeof info->members_by_status / sizeof info->members_by_status[0]),
                  MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->steps_accepted, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &info->steps_rejected, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
}
#else
void ens_ranks_agree(const ens_ranks *ranks, ens_error *err, ens_status *st)
{
    (void)ranks, (void)err, (void)st;
}

long long ens_ranks_max(const ens_ranks *ranks, long long value)
{
    (void)ranks;
    return value;
}

long long ens_ranks_min(const ens_ranks *ranks, long long value)
{
    (void)ranks;
    return value;
}

int ens_ranks_all(const ens_ranks *ranks, int value)
{
    (void)ranks;
    return value;
}

ens_status ens_ranks_reduce_moments(const ens_ranks *ranks, ens_moments *moments, size_t count,
                                    ens_error *err)
{
    (void)ranks, (void)moments, (void)count, (void)err;
    return ENS_OK;
}

long long *ens_ranks_gather(const ens_ranks *ranks, long long *mine, int n)
{
    (void)ranks, (void)n;
    return mine;
}

int ens_ranks_gather_bytes(const ens_ranks *ranks, const void *mine, size_t mine_bytes,
                           void *all, const long long *counts, size_t elem)
{
    (void)ranks, (void)counts, (void)elem;
    if (mine_bytes)
        memcpy(all, mine, mine_bytes);
    return 0;
}

ens_status ens_ranks_sum_to_root(const ens_ranks *ranks, long long *values, size_t n,
                                 ens_error *err)
{
    (void)ranks, (void)values, (void)n, (void)err;
    return ENS_OK;
}

void ens_ranks_sum_info(const ens_ranks *ranks, ens_run_info *info)
{
    (void)ranks, (void)info;
}
#endif
