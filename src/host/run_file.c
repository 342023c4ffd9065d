/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ens_run: a run into its NetCDF file (or, under MPI, one file shared by
 * the ranks or one piece per rank) and its restart file. Describes the
 * file from the configuration, opens it, runs the loop with the file as
 * the sink, and closes it: committed on success, kept and marked
 * incomplete when stopped, removed on failure.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "host/outcomes.h"
#include "host/restart.h"
#include "host/run_loop.h"
#include "io/out_file.h"

/* The file's description and the storage it points to. */
typedef struct file_layout {
    ens_nc_spec spec, restart_spec;
    ens_nc_adaptive adaptive;
    double *times;       /* ntimes */
    double *base;        /* nvars */
    double *tol;         /* dopri5: rtol[nvars], atol[nvars]; else NULL */
    double end_time;
    int varies[ENS_MAX_PARAMS];
    double values[ENS_MAX_PARAMS];
    char variation[512];
    char piece_path[4096], restart_piece_path[4096];
    int pieces;          /* one piece per MPI rank */
    int shared_file;     /* one file written by all ranks */
    int stats_file;      /* statistics alone: nothing per member, rank 0 writes it */
    ens_outcomes outcomes; /* a statistics file's failed members */
    ens_config *cfg;     /* whose progress callback may stop the files' opening */
    long long members;   /* this rank's */
    int running;         /* the batches have started (before the writer thread) */
    atomic_int stopping; /* the run was stopped: the writer leaves its batch */
    double *memory_states; /* ens_run_to_memory_file: the caller's array */
} file_layout;

/* Asked while the files are opened, and between blocks of a large batch
 * as it is written: before the first batch the caller's progress
 * callback, with nothing done yet, may stop the run; once the batches
 * run, the run loop says so (the writer may be another thread). */
static int stop_writing(void *user)
{
    file_layout *f = user;
    if (f->running)
        return atomic_load(&f->stopping);
    const ens_progress p = {.members_total = f->members};
    return f->cfg->progress && f->cfg->progress(&p, f->cfg->progress_user);
}

static void free_layout(file_layout *f)
{
    ens_outcomes_free(&f->outcomes);
    free(f->times);
    free(f->base);
    free(f->tol);
}

/* The run's values that the file records: saved times, base state,
 * dopri5's tolerances, the parameters and how they vary. */
static ens_status record_values(ens_config *cfg, const ens_plan *plan, file_layout *f)
{
    f->times = malloc((size_t)plan->ntimes * sizeof *f->times);
    f->base = malloc((size_t)cfg->nvars * sizeof *f->base);
    const int adaptive = cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5;
    f->tol = adaptive ? malloc(2 * (size_t)cfg->nvars * sizeof *f->tol) : NULL;
    if (!f->times || !f->base || (adaptive && !f->tol))
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    for (long long t = 0; t < plan->ntimes; t++)
        f->times[t] = ens_config_time_at(cfg, t);
    for (int v = 0; v < cfg->nvars; v++)
        f->base[v] = cfg->base_state[cfg->base_len == 1 ? 0 : v];
    f->adaptive = (ens_nc_adaptive){.dt_min = cfg->dt_min,
                                    .dt_max = cfg->dt_max,
                                    .max_steps = ens_config_max_steps(cfg)};
    if (adaptive) {
        ens_config_tolerances(cfg, f->tol, f->tol + cfg->nvars);
        f->adaptive.rtol = f->tol;
        f->adaptive.atol = f->tol + cfg->nvars;
    }
    const ens_param_origin *origin = ens_plan_param_origin(plan);
    for (int j = 0; j < cfg->model->nparams; j++) {
        f->varies[j] = ens_param_varies(cfg, origin, j);
        f->values[j] = ens_param_shared_value(cfg, origin, j);
    }
    ens_config_describe_variation(cfg, f->variation, sizeof f->variation);
    f->end_time = cfg->init_time + (double)cfg->steps * cfg->dt;
    return ENS_OK;
}

/* Several ranks write one file together, or each its own piece: when
 * asked to, or when NetCDF cannot write in parallel. */
static ens_status choose_files(ens_config *cfg, const ens_plan *plan, file_layout *f)
{
    const int nranks = plan->ranks.nranks;
    f->pieces = ens_plan_writes_pieces(cfg, plan);
    f->shared_file = nranks > 1 && !f->pieces;
    if (!f->pieces)
        return ENS_OK;
    const int rank = plan->ranks.rank;
    if (ens_piece_path(cfg->output_path, rank, f->piece_path, sizeof f->piece_path) != ENS_OK ||
        (cfg->restart_path && ens_piece_path(cfg->restart_path, rank, f->restart_piece_path,
                                             sizeof f->restart_piece_path) != ENS_OK))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "output path too long: %s",
                        cfg->output_path);
    return ENS_OK;
}

static void describe_file(ens_config *cfg, const ens_plan *plan, file_layout *f)
{
    f->cfg = cfg;
    f->members = plan->end - plan->first;
    const int output_type = cfg->output_type >= 0 ? cfg->output_type : cfg->precision;
    f->spec = (ens_nc_spec){
        .path = f->pieces ? f->piece_path : cfg->output_path,
        .model = cfg->model,
        .nvars = cfg->nvars,
        .members = plan->members,
        .ntimes = plan->ntimes,
        .times = f->times,
        .disk_double = output_type == ENS_PRECISION_ID_DOUBLE,
        .write_states = plan->trajectory,
        .write_aux = plan->trajectory,
        /* Pieces: the statistics over all ranks go in rank 0's. */
        .write_stats = plan->stats && (!f->pieces || plan->ranks.rank == 0),
        .deflate_level = cfg->deflate_level,
        .quantize_bits = cfg->quantize_bits,
        .cache_limit = ens_plan_cache_limit(cfg),
        .param_varies = f->varies,
        .param_values = f->values,
        .history = cfg->history ? cfg->history : "ensol C API",
        .integrator = ens_choice_name(ENS_CHOICE_INTEGRATOR, cfg->integrator),
        .precision = ens_choice_name(ENS_CHOICE_PRECISION, cfg->precision),
        .output_mode = ens_choice_name(ENS_CHOICE_OUTPUT_MODE, cfg->output_mode),
        .backend = plan->ops->name,
        .device = plan->device,
        .param_variation = f->variation,
        .dt = cfg->dt,
        .steps = cfg->steps,
        .save_every = cfg->save_every,
        .seed = cfg->seed,
        .perturbation = cfg->perturbation,
        .base_state = f->base,
        .initial_states = cfg->given_states ? "given per member" : NULL,
        .adaptive = f->tol ? &f->adaptive : NULL,
        .parallel = f->shared_file,
        .first_member = f->pieces ? plan->first : 0,
        .piece_members = f->pieces ? plan->end - plan->first : 0,
        .stop = stop_writing,
        .stop_user = f,
    };
    f->restart_spec = ens_restart_spec(cfg, plan, &f->spec,
                                       f->pieces ? f->restart_piece_path : cfg->restart_path,
                                       &f->end_time);
    /* A statistics file is small whatever the ensemble: one file, which
     * rank 0 writes from every rank's statistics and failed members. */
    f->stats_file = ens_plan_stats_file(plan);
    if (f->stats_file) {
        f->spec.counts_only = 1;
        f->spec.path = cfg->output_path;
        f->spec.parallel = 0;
        f->spec.first_member = f->spec.piece_members = 0;
        f->spec.write_stats = 1;
    }
}

/* Which members a stopped run's file holds whole and which in part, as
 * counts and as ranges of global indices ("0-99 200-299") in one buffer
 * the caller frees; NULL when out of memory. A file shared by MPI ranks
 * gets every rank's (the same on all, as its attributes must be). */
static char *describe_progress(const ens_plan *plan, const ens_progress_state *done,
                               int shared_file, ens_nc_incomplete *inc)
{
    long long mine[3] = {plan->first, done->members_complete, done->members_partial};
    const int n = shared_file ? plan->ranks.nranks : 1;
    long long *all = shared_file ? ens_ranks_gather(&plan->ranks, mine, 3) : mine;
    if (!all)
        return NULL;
    const size_t half = (size_t)n * 48 + 1; /* two numbers of up to 20 digits per range */
    char *text = malloc(2 * half);
    if (text) {
        char *complete = text, *partial = text + half;
        size_t cu = 0, pu = 0;
        complete[0] = partial[0] = '\0';
        inc->members_complete = inc->members_partial = 0;
        for (int r = 0; r < n; r++) {
            const long long first = all[3 * r], whole = all[3 * r + 1], part = all[3 * r + 2];
            if (whole > 0)
                cu += (size_t)snprintf(complete + cu, half - cu, "%s%lld-%lld", cu ? " " : "",
                                       first, first + whole - 1);
            if (part > 0)
                pu += (size_t)snprintf(partial + pu, half - pu, "%s%lld-%lld", pu ? " " : "",
                                       first + whole, first + whole + part - 1);
            inc->members_complete += whole;
            inc->members_partial += part;
        }
        inc->complete_ranges = complete;
        inc->partial_ranges = partial;
    }
    if (all != mine)
        free(all);
    return text;
}

/* The statistics over all ranks (every rank takes part in the reduction
 * and the collective write, or none does) into the file. */
static ens_status write_stats(ens_config *cfg, const ens_plan *plan, ens_nc_writer *writer,
                              ens_status st, const ens_progress_state *done,
                              const ens_batch_buffers *b)
{
    ens_error err;
    long long stats_times = done->stats_times;
    if (plan->ranks.nranks > 1) {
        const int ok = ens_ranks_all(&plan->ranks, st == ENS_OK || st == ENS_ERR_INTERRUPTED);
        stats_times = ens_ranks_min(&plan->ranks, stats_times);
        if (!ok)
            return st == ENS_OK || st == ENS_ERR_INTERRUPTED
                       ? ens_fail(&cfg->error, ENS_ERR_IO, "another MPI rank failed")
                       : st;
        const ens_status rst = ens_ranks_reduce_moments(
            &plan->ranks, b->moments, (size_t)plan->ntimes * (size_t)cfg->nvars, &err);
        if (rst != ENS_OK && st == ENS_OK) {
            st = rst;
            cfg->error = err;
        }
    }
    if (st != ENS_OK && st != ENS_ERR_INTERRUPTED)
        return st;
    const ens_status sst = ens_nc_write_stats(writer, stats_times, b->moments, &err);
    if (sst != ENS_OK && st == ENS_OK) {
        st = sst;
        cfg->error = err;
    }
    return st;
}

/* A statistics file's member outcomes over all ranks: every rank counts
 * its members per status and sends its failed members to rank 0, which
 * writes them. */
static ens_status write_outcomes(ens_config *cfg, const ens_plan *plan, file_layout *f,
                                 ens_nc_writer *writer, ens_status st,
                                 const ens_progress_state *done)
{
    if (st != ENS_OK && st != ENS_ERR_INTERRUPTED)
        return st;
    ens_error err;
    long long *counts = malloc((size_t)plan->ntimes * ENS_NC_STATUSES * sizeof *counts);
    ens_status ost = counts ? ENS_OK
                            : ens_fail(&err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    if (!ens_ranks_all(&plan->ranks, ost == ENS_OK) && ost == ENS_OK)
        ost = ens_fail(&err, ENS_ERR_OUT_OF_MEMORY, "another MPI rank is out of memory");
    if (ost == ENS_OK)
        ost = ens_outcomes_count(&f->outcomes, &plan->ranks, plan->first, done, f->times,
                                 plan->ntimes, counts, &err);
    if (ost == ENS_OK)
        ost = ens_outcomes_gather(&f->outcomes, &plan->ranks, &err);
    /* Every rank takes part; rank 0 alone writes. */
    const long long times = ens_ranks_min(&plan->ranks, done->stats_times);
    if (ost == ENS_OK && writer)
        ost = ens_nc_write_outcomes(writer, times, counts, f->outcomes.n, f->outcomes.failed,
                                    &err);
    free(counts);
    if (ost != ENS_OK && st == ENS_OK) {
        st = ost;
        cfg->error = err;
    }
    return st;
}

/* Bytes of the file at `path`; 0 when there is none. */
static unsigned long long file_bytes(const char *path)
{
    struct stat sb;
    return path && path[0] && stat(path, &sb) == 0 ? (unsigned long long)sb.st_size : 0;
}

/* Close the file after the run: committed on success, kept and marked
 * incomplete when the run was stopped, removed on failure. *bytes: the
 * size of what is left. */
static ens_status close_file(ens_config *cfg, const ens_plan *plan, ens_nc_writer *writer,
                             int shared_file, ens_status st, const ens_progress_state *done,
                             unsigned long long *bytes, const file_layout *f)
{
    ens_nc_outcome outcome = st == ENS_OK                 ? ENS_NC_COMMIT
                             : st == ENS_ERR_INTERRUPTED && !f->spec.in_memory
                                 ? ENS_NC_KEEP_PARTIAL
                                 : ENS_NC_DISCARD; /* a stopped file in memory is dropped */
    const long long last_index = done->members_partial > 0 ? done->times_partial - 1
                                                           : plan->ntimes - 1;
    ens_nc_incomplete incomplete = {
        .reason = "run stopped before its end",
        .last_time = ens_config_time_at(cfg, last_index > 0 ? last_index : 0),
    };
    char *ranges = NULL;
    if (outcome == ENS_NC_KEEP_PARTIAL) {
        ranges = describe_progress(plan, done, shared_file, &incomplete);
        if (!ranges)
            outcome = ENS_NC_DISCARD;
    }
    char partial[4096], final[4096];
    snprintf(partial, sizeof partial, "%s", ens_nc_partial_path(writer));
    snprintf(final, sizeof final, "%s", ens_nc_final_path(writer));
    ens_error err;
    const ens_status cst = ens_nc_close(writer, outcome, &incomplete, &err);
    *bytes = f->spec.in_memory ? (cst == ENS_OK && outcome == ENS_NC_COMMIT
                                      ? (unsigned long long)*f->spec.memory_size : 0)
             : writer && (!shared_file || plan->ranks.rank == 0)
                 ? file_bytes(cst == ENS_OK && outcome == ENS_NC_COMMIT ? final : partial)
                 : 0;
    if (cst != ENS_OK && st == ENS_OK) {
        st = cst;
        cfg->error = err;
    } else if (st == ENS_ERR_INTERRUPTED && cst == ENS_OK && outcome == ENS_NC_KEEP_PARTIAL) {
        const size_t used = strlen(cfg->error.msg);
        snprintf(cfg->error.msg + used, sizeof cfg->error.msg - used,
                 "; what was computed is in %s, marked incomplete", partial);
    }
    free(ranges);
    return st;
}

/* The file as the run loop's sink: a batch's states and parameters, then
 * its members' outcomes. */
static ens_status netcdf_write(void *self, const ens_slab *slab, int states_double,
                               ens_error *err)
{
    ENS_CHECK(ens_nc_write_batch(self, slab->m0, slab->count, slab->times, slab->saved,
                                 states_double, slab->params, err));
    return ens_nc_write_members(self, slab->m0, slab->count, &slab->members, err);
}

/* A file in memory (ens_run_to_memory_file): the states into the
 * caller's array, the rest (auxiliary variables made from the states
 * among it) into the file. */
typedef struct memory_file_sink {
    ens_nc_writer *writer;
    double *out;
    long long ntimes;
    int nvars;
} memory_file_sink;

static ens_status memory_file_write(void *self, const ens_slab *slab, int states_double,
                                    ens_error *err)
{
    memory_file_sink *ms = self;
    if (ms->out && slab->saved)
        ens_copy_states(ms->out, ms->ntimes, ms->nvars, slab, states_double);
    return netcdf_write(ms->writer, slab, states_double, err);
}

/* A statistics file's sink: the batch's failed members, kept for the end. */
static ens_status outcomes_write(void *self, const ens_slab *slab, int states_double,
                                 ens_error *err)
{
    (void)states_double;
    return ens_outcomes_add(self, slab, err);
}

/* Close the restart file, committed only when the run succeeded; a
 * failure becomes the run's when it had none. */
static ens_status close_restart(ens_config *cfg, ens_nc_writer **restart, ens_status st)
{
    if (!*restart)
        return st;
    ens_error err;
    const ens_status rst =
        ens_nc_close(*restart, st == ENS_OK ? ENS_NC_COMMIT : ENS_NC_DISCARD, NULL, &err);
    *restart = NULL;
    if (st == ENS_OK && rst != ENS_OK) {
        st = rst;
        cfg->error = err;
    }
    return st;
}

/* Open the run's file, run into it, close it: the restart file first, so
 * that the run's file is committed only when both are complete. */
static ens_status run_into_file(ens_config *cfg, ens_plan *plan, file_layout *f,
                                ens_batch_buffers *b, ens_nc_writer **restart,
                                ens_run_info *info)
{
    ens_nc_writer *writer = NULL;
    const int writes = !f->stats_file || plan->ranks.rank == 0;
    ens_status st = writes ? ens_nc_open(&f->spec, &writer, &cfg->error) : ENS_OK;
    const int opened = writes && st == ENS_OK;
    ens_ranks_agree(&plan->ranks, &cfg->error, &st);
    if (st != ENS_OK) {
        ens_error ignored;
        if (opened)
            ens_nc_close(writer, ENS_NC_DISCARD, NULL, &ignored);
        return st;
    }
    memory_file_sink ms = {.writer = writer, .out = f->memory_states, .ntimes = plan->ntimes,
                           .nvars = cfg->nvars};
    ens_sink sink = f->stats_file ? (ens_sink){.write = outcomes_write, .self = &f->outcomes}
                    : f->spec.in_memory ? (ens_sink){.write = memory_file_write, .self = &ms}
                                        : (ens_sink){.write = netcdf_write, .self = writer};
    const ens_run_outputs out = {.sink = &sink, .restart = *restart,
                                 .shared_file = f->shared_file, .stopping = &f->stopping};
    ens_progress_state done;
    if (info)
        memset(info, 0, sizeof *info);
    f->running = 1;
    st = ens_run_batches(cfg, plan, b, &out, info, &done);
    if (plan->stats)
        st = write_stats(cfg, plan, writer, st, &done, b);
    if (f->stats_file)
        st = write_outcomes(cfg, plan, f, writer, st, &done);
    st = close_restart(cfg, restart, st);
    ens_ranks_agree(&plan->ranks, &cfg->error, &st);
    unsigned long long bytes = 0;
    st = close_file(cfg, plan, writer, f->shared_file || f->stats_file, st, &done, &bytes, f);
    if (info) {
        info->bytes_written = bytes;
        ens_ranks_sum_info(&plan->ranks, info);
    }
    return st;
}

/* Buffers, then the restart file, then the run's file: every rank opens
 * its files, or none goes on. */
static ens_status run_with_files(ens_config *cfg, ens_plan *plan, file_layout *f,
                                 ens_run_info *info)
{
    ens_batch_buffers b;
    ens_nc_writer *restart = NULL;
    ens_status st = ens_batch_alloc(cfg, plan, &b);
    ens_ranks_agree(&plan->ranks, &cfg->error, &st);
    if (st == ENS_OK && cfg->restart_path) {
        st = ens_nc_open(&f->restart_spec, &restart, &cfg->error);
        ens_ranks_agree(&plan->ranks, &cfg->error, &st);
    }
    if (st == ENS_OK)
        st = run_into_file(cfg, plan, f, &b, &restart, info);
    st = close_restart(cfg, &restart, st);
    ens_batch_free(&b);
    return st;
}

/* Free bytes for an unprivileged writer on the file system of `path`'s
 * target; -1 when unknown. */
static double free_bytes(const char *path)
{
    char *target = ens_out_target(path);
    char *slash = target ? strrchr(target, '/') : NULL;
    if (slash)
        slash[slash == target ? 1 : 0] = '\0'; /* its directory, "/" kept */
    struct statvfs fs;
    const int ok = target && statvfs(slash ? target : ".", &fs) == 0;
    free(target);
    return ok ? (double)fs.f_bavail * (double)fs.f_frsize : -1.0;
}

/* A run whose output cannot fit stops before it starts, unless forced:
 * filling a disk hurts everyone on it. Compression may shrink the file,
 * so this is for the uncompressed size only. */
static ens_status check_free_space(ens_config *cfg, const ens_plan *plan)
{
    if (cfg->force || cfg->deflate_level > 0 || plan->ranks.rank != 0)
        return ENS_OK;
    const double need = ens_plan_output_bytes(cfg, plan);
    const double have = free_bytes(cfg->output_path);
    if (have < 0 || need <= have)
        return ENS_OK;
    return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                    "output = %s: the run would write %.3g GB, but its file system has "
                    "%.3g GB free (force it to write anyway)",
                    cfg->output_path, need / 1e9, have / 1e9);
}

/* The run of ens_run; with `image`, its file in memory instead (ens_run_to_memory_file). */
static ens_status run_file(ens_config *cfg, ens_run_info *info, double *states, void **image,
                           size_t *image_size)
{
    /* The plan is reported once the run is known to fit: a refused run
     * says only why. */
    ens_plan plan;
    const ens_plan_fn report = cfg->plan_fn;
    cfg->plan_fn = NULL;
    ens_status st = ens_plan_run(cfg, &plan, !image);
    cfg->plan_fn = report;
    ENS_CHECK(st);
    file_layout f;
    memset(&f, 0, sizeof f);
    st = image ? ENS_OK : check_free_space(cfg, &plan);
    ens_ranks_agree(&plan.ranks, &cfg->error, &st);
    if (st != ENS_OK)
        goto done;
    ens_plan_report(cfg, &plan);
    ENS_TRY(record_values(cfg, &plan, &f));
    if (!image)
        ENS_TRY(choose_files(cfg, &plan, &f));
    describe_file(cfg, &plan, &f);
    if (image) {
        f.spec.in_memory = 1;
        f.spec.memory = image;
        f.spec.memory_size = image_size;
        f.memory_states = states;
    }
    st = run_with_files(cfg, &plan, &f, info);
done:
    free_layout(&f);
    ens_plan_release(&plan);
    return st;
}

ens_status ens_run(ens_config *cfg, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    if (!cfg->output_path)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "no output path set (ens_config_set_output_path)");
    return run_file(cfg, info, NULL, NULL, NULL);
}

ens_status ens_run_to_memory_file(ens_config *cfg, double *out, size_t count, void **image,
                                  size_t *image_size, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    if (!image || !image_size)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "no image pointers given");
    *image = NULL;
    *image_size = 0;
    ENS_CHECK(ens_config_validate(cfg));
    const double needed = cfg->output_mode != ENS_OUTPUT_ID_STATS
                              ? (double)ens_config_members(cfg) *
                                    (double)ens_config_saved_times(cfg) * (double)cfg->nvars
                              : 0.0;
    if (needed > 0 && (!out || (double)count < needed))
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output buffer holds %zu values but the run produces %.0f", count, needed);
    /* The file's name in its messages; nothing is written under it. */
    char *path = cfg->output_path;
    char memory_name[] = "memory";
    if (!path)
        cfg->output_path = memory_name;
    const ens_status st = run_file(cfg, info, needed > 0 ? out : NULL, image, image_size);
    cfg->output_path = path;
    return st;
}

void ens_free(void *p) { free(p); }
