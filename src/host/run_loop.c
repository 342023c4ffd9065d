/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The run loop (see run_loop.h). */
#define _POSIX_C_SOURCE 200809L

#include "host/run_loop.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host/ensemble_stats.h"
#include "host/members.h"
#include "host/restart.h"
#include "host/writer_thread.h"

/* The whole loop's state, shared by its steps. */
typedef struct run_loop {
    ens_config *cfg;
    ens_plan *plan;
    ens_batch_buffers *b;
    double start;
    double total_member_steps;   /* this rank's */
    long long members;           /* this rank's */
    long long interval;          /* steps per backend call */
    int every_save;              /* a saved time after every interval */
    int fixed_steps;
    /* With a backend that computes while the host works (an async one), the
     * next interval starts before the host saves and checks the last one.
     * Fixed steps only: a stopped dopri5 batch would report the step
     * counters of an interval beyond its saved states. */
    int pipelined;
    double compute, member_steps_done;
    /* Fixed steps in one process: an interval goes to the backend in pieces
     * of `piece` steps, sized to take about a tenth of a second, so that a
     * stop asked for mid-interval is seen in time (an interval launched
     * ahead is its first piece). The pieces change nothing: the states are
     * checked and saved where the whole interval ends. MPI ranks stop
     * together, at the end of an interval they agree on. */
    int in_pieces;
    long long piece;
    long long batches;
    ens_member_tally tally;
} run_loop;

/* A batch's steps: done so far, handed to the backend, and when the
 * interval in flight was launched. */
typedef struct batch_steps {
    long long done, launched;
    double launch_time;
} batch_steps;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Steps of the interval after `done` of `total` steps. */
static long long next_interval(long long total, long long done, long long interval)
{
    return total - done < interval ? total - done : interval;
}

/* Steps per backend call when only the final state is kept: long enough
 * that streaming the state through memory between calls costs little next
 * to the integration, short enough for about 100 progress updates. */
static long long final_mode_interval(long long steps)
{
    const long long interval = steps / 100 > 1000 ? steps / 100 : 1000;
    return interval < steps ? interval : steps;
}

/* Saved time t of the batch: states into the slab, moments into the table. */
static ens_status save(run_loop *L, ens_slab *slab, long long t)
{
    if (L->plan->trajectory)
        ens_batch_save_time(L->cfg, L->plan, L->b, slab, t);
    return L->plan->stats ? ens_stats_accumulate(L->cfg, L->plan, L->b, slab, t) : ENS_OK;
}

/* Load the slab's members into the backend, with their initial checks and
 * saved time 0. */
static ens_status start_batch(run_loop *L, ens_slab *slab)
{
    ens_config *cfg = L->cfg;
    ens_plan *plan = L->plan;
    ENS_CHECK(ens_batch_fill(cfg, plan, L->b, slab));
    ENS_CHECK(ens_backend_upload(&plan->backend, slab->m0, slab->count, L->b->state, L->b->params,
                                 &cfg->error));
    if (plan->resume_steps >= 0)
        ENS_CHECK(ens_restart_resume(cfg, plan, L->b, slab));
    ens_members_reset(slab);
    if (L->fixed_steps)
        ens_members_start(cfg, plan, L->b, slab, cfg->init_time);
    return L->every_save ? save(L, slab, 0) : ENS_OK;
}

static ens_status report_progress(run_loop *L, const ens_slab *slab, long long round,
                                  long long steps_done, int last);

/* Steps [first_step, first_step + n) of an interval in pieces (L->piece),
 * the caller's progress callback asked between them; every piece but the
 * last is waited for, the last one as the interval's end. */
static ens_status advance_in_pieces(run_loop *L, const ens_slab *slab, long long round,
                                    long long first_step, long long n)
{
    ens_backend *backend = &L->plan->backend;
    ens_error *err = &L->cfg->error;
    ens_status st = ENS_OK;
    for (long long done = 0; done < n && st == ENS_OK;) {
        const long long piece = n - done < L->piece ? n - done : L->piece;
        const double t0 = now_seconds();
        st = ens_backend_advance(backend, piece, err);
        done += piece;
        if (done == n || st != ENS_OK)
            break;
        st = ens_backend_wait(backend, err);
        const double took = now_seconds() - t0;
        if (took > 0.2 && L->piece > 1)
            L->piece = (long long)((double)L->piece * 0.1 / took) + 1;
        else if (took < 0.05 && piece == L->piece)
            L->piece *= 2;
        if (st == ENS_OK)
            st = report_progress(L, slab, round, first_step + done, 0);
    }
    return st;
}

/* One interval of n steps, ending at s->done: advance (unless launched
 * ahead), wait, download, launch the next one ahead when pipelined, then
 * check, save and reduce. */
static ens_status advance_interval(run_loop *L, ens_slab *slab, long long round, batch_steps *s,
                                   long long n, int last)
{
    ens_config *cfg = L->cfg;
    ens_plan *plan = L->plan;
    ens_status st = ENS_OK;
    if (s->launched < s->done) {
        if (s->launched == s->done - n)
            s->launch_time = now_seconds();
        const long long left = s->done - s->launched;
        st = L->in_pieces ? advance_in_pieces(L, slab, round, s->launched, left)
                          : ens_backend_advance(&plan->backend, left, &cfg->error);
        s->launched = s->done;
    }
    if (st == ENS_OK)
        st = ens_backend_wait(&plan->backend, &cfg->error);
    /* From launch to done: with pipelining this counts the host work it
     * overlapped too, so the rate is never overstated. */
    L->compute += now_seconds() - s->launch_time;
    L->member_steps_done += (double)slab->count * (double)n;
    ENS_CHECK(st);
    const int saves = L->every_save || last;
    if (saves || L->fixed_steps)
        ENS_CHECK(ens_backend_download(&plan->backend, L->b->state, &cfg->error));
    if (L->pipelined && !last) {
        /* Start the next interval before working on this one. */
        long long next = next_interval(cfg->steps, s->done, L->interval);
        if (L->in_pieces && next > L->piece)
            next = L->piece;
        s->launch_time = now_seconds();
        st = ens_backend_advance(&plan->backend, next, &cfg->error);
        s->launched = s->done + next;
        ENS_CHECK(st);
    }
    if (L->fixed_steps)
        ens_members_check(cfg, plan, L->b, slab, cfg->init_time + (double)s->done * cfg->dt);
    return saves ? save(L, slab, slab->times) : ENS_OK;
}

/* The caller's progress callback; a true answer stops the run. */
static ens_status report_progress(run_loop *L, const ens_slab *slab, long long round,
                                  long long steps_done, int last)
{
    ens_config *cfg = L->cfg;
    if (!cfg->progress)
        return ENS_OK;
    ens_progress p = {
        .members_done = slab->m0 - L->plan->first + (last ? slab->count : 0),
        .members_total = L->members,
        .fraction = L->total_member_steps > 0 ? L->member_steps_done / L->total_member_steps
                                              : 1.0,
        .sim_time = (double)steps_done * cfg->dt,
        .elapsed_seconds = now_seconds() - L->start,
        .member_steps_per_second = L->compute > 0 ? L->member_steps_done / L->compute : 0.0,
    };
    if (!cfg->progress(&p, cfg->progress_user))
        return ENS_OK;
    return ens_fail(&cfg->error, ENS_ERR_INTERRUPTED,
                    "run stopped at model time %g of batch %lld (members %lld-%lld)",
                    (double)steps_done * cfg->dt, round + 1, slab->m0,
                    slab->m0 + slab->count - 1);
}

/* Every interval of the batch; returns the steps done. */
static long long integrate_batch(run_loop *L, ens_slab *slab, long long round, ens_status *st)
{
    ens_config *cfg = L->cfg;
    batch_steps s = {0, 0, 0.0};
    while (s.done < cfg->steps && *st == ENS_OK) {
        const long long n = next_interval(cfg->steps, s.done, L->interval);
        s.done += n;
        const int last = s.done == cfg->steps;
        if (slab->count > 0)
            *st = advance_interval(L, slab, round, &s, n, last);
        if (*st == ENS_OK && (L->every_save || last))
            slab->times++;
        if (*st == ENS_OK)
            *st = report_progress(L, slab, round, s.done, last);
        ens_ranks_agree(&L->plan->ranks, &cfg->error, st);
    }
    /* An interval launched ahead when the loop stopped: let it end (its
     * results are not used) before the buffers are reused. */
    if (slab->count > 0 && s.launched > s.done) {
        ens_error ignored;
        ens_backend_wait(&L->plan->backend, &ignored);
    }
    return s.done;
}

/* After its intervals: the batch's member results and restart states;
 * records how far the run got. Returns 0 when the loop must stop without
 * handing the slab to the writer. */
static int finish_batch(run_loop *L, ens_slab *slab, long long steps_done,
                        const ens_run_outputs *out, ens_progress_state *done, ens_status *st)
{
    ens_config *cfg = L->cfg;
    ens_plan *plan = L->plan;
    const long long count = slab->count;
    /* Each member's outcome goes with its states, a stopped batch's too. */
    if (count > 0 && (*st == ENS_OK || *st == ENS_ERR_INTERRUPTED)) {
        const ens_status rst = ens_members_results(cfg, plan, slab, steps_done, &L->tally);
        *st = rst != ENS_OK ? rst : *st;
    }
    if (count > 0)
        L->batches++;
    if (*st == ENS_OK && out->restart)
        *st = ens_restart_write(cfg, plan, L->b, slab, out->restart, &cfg->error);
    ens_ranks_agree(&plan->ranks, &cfg->error, st);
    if (*st == ENS_OK) {
        done->members_complete = slab->m0 + count - plan->first;
        done->stats_times = plan->ntimes;
        return 1;
    }
    if (*st == ENS_ERR_INTERRUPTED && slab->times > 0) {
        /* Keep what the stopped batch reached: its saved times so far. */
        done->members_partial = count;
        done->times_partial = slab->times;
        if (plan->stats && done->members_complete == 0)
            done->stats_times = slab->times;
        return 1;
    }
    return 0;
}

/* A finished batch waiting for the writer: the caller's progress callback
 * may stop the run meanwhile, and the writer then leaves its batch. */
typedef struct waiting {
    run_loop *L;
    const ens_slab *slab;
    long long round, steps_done;
    const ens_run_outputs *out;
} waiting;

static int stop_while_waiting(void *user)
{
    const waiting *w = user;
    if (report_progress(w->L, w->slab, w->round, w->steps_done, 1) != ENS_ERR_INTERRUPTED)
        return 0;
    if (w->out->stopping)
        atomic_store(w->out->stopping, 1);
    return 1;
}

/* One round: this rank's batch `round` (possibly empty under MPI) from
 * loading to its hand-over to the writer. Returns 0 to stop the loop. */
static int run_round(run_loop *L, ens_writer *writer, long long round,
                     const ens_run_outputs *out, ens_progress_state *done, ens_status *st)
{
    ens_plan *plan = L->plan;
    const long long m0 = plan->first + round * plan->batch;
    ens_slab *slab = &L->b->slabs[round % 2];
    slab->m0 = m0 < plan->end ? m0 : plan->end;
    slab->count = m0 >= plan->end ? 0 : plan->end - m0 < plan->batch ? plan->end - m0 : plan->batch;
    slab->times = 0;
    if (slab->count > 0)
        *st = start_batch(L, slab);
    if (*st == ENS_OK && L->every_save)
        slab->times = 1;
    ens_ranks_agree(&plan->ranks, &L->cfg->error, st);
    const long long steps_done = integrate_batch(L, slab, round, st);
    if (*st == ENS_ERR_INTERRUPTED && out->stopping)
        atomic_store(out->stopping, 1); /* the batch being written is left */
    if (!finish_batch(L, slab, steps_done, out, done, st))
        return 0;
    ens_error err;
    waiting wait = {L, slab, round, steps_done, out};
    /* Under MPI the ranks stop together where they agree, not here. */
    const int ask = *st == ENS_OK && plan->ranks.nranks <= 1;
    const ens_status wst = ens_writer_submit(writer, slab, ask ? stop_while_waiting : NULL,
                                             &wait, &err);
    if (wst == ENS_ERR_INTERRUPTED && *st == ENS_OK)
        *st = wst; /* stop_while_waiting has said why */
    else if (wst != ENS_OK && *st == ENS_OK) {
        *st = wst;
        L->cfg->error = err;
    }
    ens_ranks_agree(&plan->ranks, &L->cfg->error, st);
    return 1;
}

/* How far the file got when the run stopped: the members up to the last
 * slab the writer wrote whole, and that slab's saved times when it was the
 * stopped batch. */
static void written_progress(const ens_writer *w, const ens_plan *plan,
                             ens_progress_state *done)
{
    const int whole = w->written_count > 0 && w->written_times == plan->ntimes;
    done->members_complete = w->written_count == 0 ? 0
                             : whole ? w->written_m0 + w->written_count - plan->first
                                     : w->written_m0 - plan->first;
    done->members_partial = w->written_count > 0 && !whole ? w->written_count : 0;
    done->times_partial = done->members_partial > 0 ? w->written_times : 0;
}

static void fill_info(const run_loop *L, ens_run_info *info)
{
    snprintf(info->backend, sizeof info->backend, "%s", L->plan->ops->name);
    snprintf(info->device, sizeof info->device, "%s", L->plan->device_line);
    info->seconds = now_seconds() - L->start;
    info->compute_seconds = L->compute;
    info->member_steps_per_second = L->compute > 0 ? L->member_steps_done / L->compute : 0.0;
    info->batches = L->batches;
    info->members_failed = 0;
    for (int k = ENS_MEMBER_OK + 1; k < ENS_MEMBER_STATUS_KINDS; k++)
        info->members_failed += L->tally.by_status[k];
    memcpy(info->members_by_status, L->tally.by_status, sizeof L->tally.by_status);
    info->steps_accepted = L->tally.accepted;
    info->steps_rejected = L->tally.rejected;
}

/* The writer thread calls NetCDF while this thread integrates. This thread
 * calls it too with a restart file or initial states from a file; HDF5
 * built for MPI is not thread-safe, so an MPI build then writes from this
 * thread. So it does for a file shared by the ranks (collective calls stay
 * on the thread that initialised MPI). */
static int writes_on_this_thread(const ens_plan *plan, const ens_run_outputs *out)
{
#ifdef ENSOL_HAVE_MPI
    return out->shared_file || out->restart || plan->source;
#else
    (void)plan, (void)out;
    return 0;
#endif
}

ens_status ens_run_batches(ens_config *cfg, ens_plan *plan, ens_batch_buffers *b,
                           const ens_run_outputs *out, ens_run_info *info,
                           ens_progress_state *done)
{
    run_loop L = {.cfg = cfg, .plan = plan, .b = b, .start = now_seconds()};
    L.members = plan->end - plan->first;
    L.total_member_steps = (double)L.members * (double)cfg->steps;
    L.every_save = cfg->output_mode != ENS_OUTPUT_ID_FINAL;
    L.fixed_steps = !ens_job_adaptive(&plan->job);
    L.interval = L.every_save ? cfg->save_every : final_mode_interval(cfg->steps);
    L.pipelined = ens_backend_computes_async(&plan->backend) && L.fixed_steps;
    L.in_pieces = L.fixed_steps && plan->ranks.nranks <= 1;
    L.piece = 1;
    memset(done, 0, sizeof *done);

    ens_writer writer;
    ens_status st = ens_writer_start(&writer, out->sink, plan->real_size == sizeof(double),
                                     writes_on_this_thread(plan, out), &cfg->error);
    if (st != ENS_OK)
        return st;
    for (long long round = 0; round < plan->rounds && st == ENS_OK; round++)
        if (!run_round(&L, &writer, round, out, done, &st))
            break;
    ens_error err;
    const ens_status wst = ens_writer_finish(&writer, &err);
    /* A stopped run's file holds what the writer wrote: a batch handed
     * over may have been left, and one that waited may never have been. */
    if (st == ENS_ERR_INTERRUPTED || wst == ENS_ERR_INTERRUPTED)
        written_progress(&writer, plan, done);
    if (wst != ENS_OK && (st == ENS_OK || (st == ENS_ERR_INTERRUPTED && wst != st))) {
        st = wst;
        cfg->error = err;
    }
    if (info)
        fill_info(&L, info);
    return st;
}
