/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Ensemble statistics at each saved time (see ensemble_stats.h). */
#include "host/ensemble_stats.h"

#include <math.h>
#include <stdlib.h>

/* Members per block of the reduction: blocks reduce in parallel and merge
 * in block order. */
#define ENS_MOMENT_BLOCK 1024

/* Moments of one block of values (two passes: mean, then squared
 * deviations), leaving out members that are not ok. Vectorises; the
 * blocks then merge with Chan's formula. */
static void block_moments(const ens_plan *plan, const void *values, const int *status,
                          size_t first, size_t n, ens_moments *out)
{
    double sum = 0.0, cnt = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = first; i < first + n; i++) {
        const double x = ens_batch_real(plan, values, i);
        const int ok = status[i - first] == ENS_MEMBER_OK && isfinite(x);
        sum += ok ? x : 0.0;
        cnt += ok ? 1.0 : 0.0;
        lo = ok && x < lo ? x : lo;
        hi = ok && x > hi ? x : hi;
    }
    ens_moments_init(out);
    if (cnt == 0.0)
        return;
    const double mean = sum / cnt;
    double m2 = 0.0;
    for (size_t i = first; i < first + n; i++) {
        const double x = ens_batch_real(plan, values, i);
        const int ok = status[i - first] == ENS_MEMBER_OK && isfinite(x);
        m2 += ok ? (x - mean) * (x - mean) : 0.0;
    }
    out->n = cnt;
    out->mean = mean;
    out->m2 = m2;
    out->min = lo;
    out->max = hi;
}

/* A member non-finite in one variable counts in none: block k again from
 * the finite-in-all test, when some variable's count differs. */
static void recount_block(const ens_plan *plan, const void *state, const int *status, size_t n,
                          size_t nvars, size_t k, ens_moments *part)
{
    int differ = 0;
    for (size_t v = 1; v < nvars; v++)
        differ |= part[k * nvars + v].n != part[k * nvars].n;
    if (!differ)
        return;
    const size_t first = k * ENS_MOMENT_BLOCK;
    const size_t len = n - first < ENS_MOMENT_BLOCK ? n - first : ENS_MOMENT_BLOCK;
    for (size_t v = 0; v < nvars; v++)
        ens_moments_init(&part[k * nvars + v]);
    for (size_t i = first; i < first + len; i++) {
        int finite = status[i] == ENS_MEMBER_OK;
        for (size_t v = 0; v < nvars; v++)
            finite &= isfinite(ens_batch_real(plan, state, v * n + i));
        for (size_t v = 0; finite && v < nvars; v++)
            ens_moments_push(&part[k * nvars + v], ens_batch_real(plan, state, v * n + i));
    }
}

ens_status ens_stats_accumulate(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                                const ens_slab *slab, long long t)
{
    const size_t n = (size_t)slab->count, nvars = (size_t)cfg->nvars;
    const size_t nblocks = (n + ENS_MOMENT_BLOCK - 1) / ENS_MOMENT_BLOCK;
    const int *status = slab->members.status;
    ens_moments *part = malloc(nblocks * nvars * sizeof *part);
    if (!part)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory for statistics");
    const long long blocks = (long long)nblocks;
#pragma omp parallel for schedule(static) if (slab->count >= ENS_PARALLEL_MIN_MEMBERS)
    for (long long k = 0; k < blocks; k++) {
        const size_t first = (size_t)k * ENS_MOMENT_BLOCK;
        const size_t len = n - first < ENS_MOMENT_BLOCK ? n - first : ENS_MOMENT_BLOCK;
        for (size_t v = 0; v < nvars; v++)
            block_moments(plan, b->state, status + first, v * n + first, len,
                          &part[(size_t)k * nvars + v]);
    }
    for (size_t k = 0; k < nblocks; k++) {
        recount_block(plan, b->state, status, n, nvars, k, part);
        for (size_t v = 0; v < nvars; v++)
            ens_moments_merge(&b->moments[(size_t)t * nvars + v], &part[k * nvars + v]);
    }
    free(part);
    return ENS_OK;
}
