/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Runs into the caller's memory or the caller's callback instead of a file
 * (ens_run_to_memory, ens_run_to_memory_ex, ens_run_to_callback): their
 * sinks and the run around them.
 */
#include <string.h>

#include "host/run_loop.h"

/* A whole run into a sink in memory (not the NetCDF file of ens_run). */
static ens_status run_to_sink(ens_config *cfg, ens_sink *sink, ens_run_info *info)
{
    ens_plan plan;
    ENS_CHECK(ens_plan_run(cfg, &plan, 0));
    ens_batch_buffers b;
    ens_status st = ens_batch_alloc(cfg, &plan, &b);
    if (st == ENS_OK) {
        ens_progress_state done;
        if (info)
            memset(info, 0, sizeof *info);
        const ens_run_outputs out = {.sink = sink};
        st = ens_run_batches(cfg, &plan, &b, &out, info, &done);
        ens_batch_free(&b);
    }
    ens_plan_release(&plan);
    return st;
}

/* ---- the caller's memory -------------------------------------------------- */

typedef struct memory_sink {
    double *out;
    long long ntimes;
    int nvars;
    const ens_member_stats *stats; /* the caller's arrays, or NULL */
} memory_sink;

/* Each per-member result the caller asked for, at its members' places. */
static void copy_member_stats(const ens_member_stats *to, const ens_slab *slab)
{
    const ens_member_stats *from = &slab->members;
    const size_t m0 = (size_t)slab->m0, count = (size_t)slab->count;
    if (!to)
        return;
    if (to->status)
        memcpy(to->status + m0, from->status, count * sizeof *to->status);
    if (to->accepted_steps)
        memcpy(to->accepted_steps + m0, from->accepted_steps, count * sizeof *to->accepted_steps);
    if (to->rejected_steps)
        memcpy(to->rejected_steps + m0, from->rejected_steps, count * sizeof *to->rejected_steps);
    if (to->failure_time)
        memcpy(to->failure_time + m0, from->failure_time, count * sizeof *to->failure_time);
}

void ens_copy_states(double *out, long long ntimes, int nvars, const ens_slab *slab,
                     int states_double)
{
    const size_t per_member = (size_t)ntimes * (size_t)nvars;
    const size_t n = (size_t)slab->count * per_member;
    double *dst = out + (size_t)slab->m0 * per_member;
    if (states_double) {
        memcpy(dst, slab->saved, n * sizeof(double));
    } else {
        const float *src = slab->saved;
        for (size_t i = 0; i < n; i++)
            dst[i] = (double)src[i];
    }
}

static ens_status memory_write(void *self, const ens_slab *slab, int states_double, ens_error *err)
{
    (void)err;
    memory_sink *ms = self;
    copy_member_stats(ms->stats, slab);
    ens_copy_states(ms->out, ms->ntimes, ms->nvars, slab, states_double);
    return ENS_OK;
}

ens_status ens_run_to_memory(ens_config *cfg, double *out, size_t count, ens_run_info *info)
{
    return ens_run_to_memory_ex(cfg, out, count, NULL, info);
}

ens_status ens_run_to_memory_ex(ens_config *cfg, double *out, size_t count,
                                const ens_member_stats *stats, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    ENS_CHECK(ens_config_validate(cfg));
    if (ens_config_writes_stats(cfg))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output mode %s writes statistics to a file: use ens_run",
                        ens_choice_name(ENS_CHOICE_OUTPUT_MODE, cfg->output_mode));
    const double needed = (double)ens_config_members(cfg) * (double)ens_config_ntimes(cfg) *
                          (double)cfg->nvars;
    if (!out || (double)count < needed)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output buffer holds %zu values but the run produces %.0f", count, needed);
    memory_sink ms = {.out = out, .ntimes = ens_config_ntimes(cfg), .nvars = cfg->nvars,
                      .stats = stats};
    ens_sink sink = {.write = memory_write, .self = &ms};
    return run_to_sink(cfg, &sink, info);
}

/* ---- the caller's callback ------------------------------------------------ */

typedef struct callback_sink {
    ens_batch_fn fn;
    void *user;
    int nvars;
} callback_sink;

static ens_status callback_write(void *self, const ens_slab *slab, int states_double,
                                 ens_error *err)
{
    const callback_sink *cs = self;
    ens_batch batch = {
        .first_member = slab->m0,
        .members = slab->count,
        .times = slab->times,
        .nvars = cs->nvars,
        .states_are_double = states_double,
        .states = slab->saved,
    };
    if (cs->fn(&batch, cs->user))
        return ens_fail(err, ENS_ERR_INTERRUPTED,
                        "the batch callback stopped the run at members %lld-%lld", slab->m0,
                        slab->m0 + slab->count - 1);
    return ENS_OK;
}

ens_status ens_run_to_callback(ens_config *cfg, ens_batch_fn fn, void *user, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    if (!fn)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "no batch callback given");
    ENS_CHECK(ens_config_validate(cfg));
    if (cfg->output_mode == ENS_OUTPUT_ID_STATS)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output mode stats has no states to hand over: use ens_run");
    callback_sink cs = {.fn = fn, .user = user, .nvars = cfg->nvars};
    ens_sink sink = {.write = callback_write, .self = &cs};
    return run_to_sink(cfg, &sink, info);
}
