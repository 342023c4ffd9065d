/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Each member's outcome (see members.h). */
#include "host/members.h"

#include <math.h>
#include <string.h>

/* The kernels' status codes are the public ones. */
_Static_assert(ENS_MEMBER_OK == ENS_MEMBER_STATUS_OK &&
                   ENS_MEMBER_NONFINITE == ENS_MEMBER_STATUS_NONFINITE &&
                   ENS_MEMBER_DT_MIN == ENS_MEMBER_STATUS_DT_MIN &&
                   ENS_MEMBER_MAX_STEPS == ENS_MEMBER_STATUS_MAX_STEPS &&
                   ENS_MEMBER_BLOWUP == ENS_MEMBER_STATUS_BLOWUP,
               "member status codes of kernels/ens_portable.h and ensol.h differ");

void ens_members_reset(ens_slab *slab)
{
    for (long long i = 0; i < slab->count; i++) {
        slab->members.status[i] = ENS_MEMBER_OK;
        slab->members.failure_time[i] = NAN;
    }
}

/* Mark the members that fail at `time`; returns how many have failed. */
static long long mark_failed(const ens_config *cfg, const ens_plan *plan,
                             const ens_batch_buffers *b, ens_slab *slab, double time)
{
    const long long count = slab->count;
    const size_t n = (size_t)count, nvars = (size_t)cfg->nvars;
    const double bound = cfg->blowup_bound > 0 ? cfg->blowup_bound : INFINITY;
    ens_member_stats *ms = &slab->members;
    long long failed = 0;
#pragma omp parallel for schedule(static) reduction(+ : failed) \
    if (count >= ENS_PARALLEL_MIN_MEMBERS)
    for (long long i = 0; i < count; i++) {
        if (ms->status[i] == ENS_MEMBER_OK) {
            int nonfinite = 0, beyond = 0;
            for (size_t v = 0; v < nvars; v++) {
                const double x = ens_batch_real(plan, b->state, v * n + (size_t)i);
                nonfinite |= !isfinite(x);
                beyond |= fabs(x) > bound;
            }
            if (nonfinite || beyond) {
                ms->status[i] = nonfinite ? ENS_MEMBER_NONFINITE : ENS_MEMBER_BLOWUP;
                ms->failure_time[i] = time;
            }
        }
        failed += ms->status[i] != ENS_MEMBER_OK;
    }
    return failed;
}

void ens_members_check(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                       ens_slab *slab, double time)
{
    const long long count = slab->count;
    const size_t n = (size_t)count, nvars = (size_t)cfg->nvars;
    if (mark_failed(cfg, plan, b, slab, time) == 0) {
        memcpy(b->last_good, b->state, n * nvars * plan->real_size);
        return;
    }
    /* Failed members take their last good state back; the others update it. */
    const ens_member_stats *ms = &slab->members;
#pragma omp parallel for schedule(static) if (count >= ENS_PARALLEL_MIN_MEMBERS)
    for (long long i = 0; i < count; i++) {
        const int ok = ms->status[i] == ENS_MEMBER_OK;
        for (size_t v = 0; v < nvars; v++) {
            const size_t k = (v * n + (size_t)i) * plan->real_size;
            if (ok)
                memcpy((char *)b->last_good + k, (const char *)b->state + k, plan->real_size);
            else
                memcpy((char *)b->state + k, (const char *)b->last_good + k, plan->real_size);
        }
    }
}

void ens_members_start(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                       ens_slab *slab, double time)
{
    /* A member that fails its first check keeps its initial state. */
    memcpy(b->last_good, b->state, (size_t)slab->count * (size_t)cfg->nvars * plan->real_size);
    ens_members_check(cfg, plan, b, slab, time);
}

ens_status ens_members_results(ens_config *cfg, const ens_plan *plan, ens_slab *slab,
                               long long steps, ens_member_tally *tally)
{
    ens_member_stats *ms = &slab->members;
    const long long count = slab->count;
    if (ens_job_adaptive(&plan->job)) {
        ENS_CHECK(ens_backend_dopri5_stats(&plan->backend, ms, &cfg->error));
    } else {
        /* Status and failure time were set at the saves (ens_members_check). */
        for (long long i = 0; i < count; i++) {
            ms->accepted_steps[i] = steps;
            ms->rejected_steps[i] = 0;
        }
    }
    for (long long i = 0; i < count; i++) {
        const int s = ms->status[i];
        tally->by_status[s >= 0 && s < ENS_MEMBER_STATUS_KINDS ? s : ENS_MEMBER_NONFINITE]++;
        tally->accepted += ms->accepted_steps[i];
        tally->rejected += ms->rejected_steps[i];
    }
    return ENS_OK;
}
