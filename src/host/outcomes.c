/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The members' outcomes of a statistics file (see outcomes.h). */
#include "host/outcomes.h"

#include <stdlib.h>
#include <string.h>

static ens_status grow(ens_outcomes *o, long long need, ens_error *err)
{
    if (need <= o->cap)
        return ENS_OK;
    long long cap = o->cap > 0 ? o->cap : 64;
    while (cap < need)
        cap *= 2;
    ens_nc_failed *p = realloc(o->failed, (size_t)cap * sizeof *p);
    if (!p)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory for %lld failed members",
                        need);
    o->failed = p;
    o->cap = cap;
    return ENS_OK;
}

ens_status ens_outcomes_add(ens_outcomes *o, const ens_slab *slab, ens_error *err)
{
    const ens_member_stats *m = &slab->members;
    for (long long i = 0; m->status && i < slab->count; i++) {
        if (m->status[i] == ENS_MEMBER_OK)
            continue;
        ENS_CHECK(grow(o, o->n + 1, err));
        o->failed[o->n++] = (ens_nc_failed){.member = slab->m0 + i,
                                            .time = m->failure_time ? m->failure_time[i] : 0.0,
                                            .status = m->status[i]};
    }
    return ENS_OK;
}

static int by_member(const void *a, const void *b)
{
    const long long x = ((const ens_nc_failed *)a)->member, y = ((const ens_nc_failed *)b)->member;
    return (x > y) - (x < y);
}

ens_status ens_outcomes_gather(ens_outcomes *o, const ens_ranks *ranks, ens_error *err)
{
    long long *counts = ens_ranks_gather(ranks, &o->n, 1);
    if (!counts)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory gathering failed members");
    long long total = 0;
    for (int r = 0; r < ranks->nranks; r++)
        total += counts[r];
    ens_status st = ENS_OK;
    if (ranks->nranks > 1) {
        ens_outcomes all = {0};
        st = ranks->rank == 0 ? grow(&all, total > 0 ? total : 1, err) : ENS_OK;
        if (!ens_ranks_all(ranks, st == ENS_OK))
            st = st == ENS_OK ? ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "another MPI rank failed")
                              : st;
        else if (ens_ranks_gather_bytes(ranks, o->failed, (size_t)o->n * sizeof *o->failed,
                                        all.failed, counts, sizeof *o->failed) != 0)
            st = ens_fail(err, ENS_ERR_IO, "cannot gather the failed members of %d MPI ranks",
                          ranks->nranks);
        else if (ranks->rank == 0) {
            free(o->failed);
            *o = all;
            o->n = total;
            all.failed = NULL;
        }
        free(all.failed);
        free(counts);
    }
    if (st == ENS_OK && ranks->rank == 0 && o->n > 1)
        qsort(o->failed, (size_t)o->n, sizeof *o->failed, by_member);
    return st;
}

ens_status ens_outcomes_count(const ens_outcomes *o, const ens_ranks *ranks, long long first,
                              const ens_progress_state *done, const double *times,
                              long long ntimes, long long *counts, ens_error *err)
{
    const long long whole = done->members_complete, part = done->members_partial;
    for (long long t = 0; t < ntimes; t++) {
        long long *row = counts + t * ENS_NC_STATUSES;
        memset(row, 0, ENS_NC_STATUSES * sizeof *row);
        row[ENS_MEMBER_OK] = whole + (t < done->times_partial ? part : 0);
    }
    for (long long i = 0; i < o->n; i++) {
        const ens_nc_failed *f = &o->failed[i];
        const long long reached = f->member - first < whole ? ntimes : done->times_partial;
        const int s = f->status >= 0 && f->status < ENS_NC_STATUSES ? f->status : 0;
        for (long long t = 0; t < reached && t < ntimes; t++) {
            if (times[t] < f->time)
                continue;
            counts[t * ENS_NC_STATUSES + ENS_MEMBER_OK]--;
            counts[t * ENS_NC_STATUSES + s]++;
        }
    }
    return ens_ranks_sum_to_root(ranks, counts, (size_t)ntimes * ENS_NC_STATUSES, err);
}

void ens_outcomes_free(ens_outcomes *o)
{
    free(o->failed);
    memset(o, 0, sizeof *o);
}
