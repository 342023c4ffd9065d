/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Planning a run (see plan.h). */
#include "host/plan.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/model_probe.h"
#include "io/ncwriter.h"

/* Default memory budget: a quarter of the available memory, at most this. */
#define ENS_DEFAULT_MAX_MEMORY (1024.0 * 1024.0 * 1024.0)
/* The smallest batch worth running: below it, per-batch costs dominate. */
#define ENS_MIN_BATCH_MEMBERS 64
/* Batches a trajectory run is split into at least, for overlap, unless
 * that makes them smaller than ENS_PIPELINE_MIN_MEMBERS. */
#define ENS_PIPELINE_BATCHES 8
#define ENS_PIPELINE_MIN_MEMBERS 32768

/* The backend `auto` picks: probing device runtimes costs tens of
 * milliseconds, and the devices of a process do not change, so the choice
 * is made once per process. */
static pthread_once_t auto_once = PTHREAD_ONCE_INIT;
static const ens_backend_ops *auto_choice;

static void choose_auto_backend(void)
{
    char detail[256];
    for (int i = 0; i < ens_backends_count() && !auto_choice; i++) {
        const ens_backend_ops *ops = ens_backends_at(i);
        if (ops->probe(detail, sizeof detail) == ENS_OK && ens_backend_auto_eligible(ops))
            auto_choice = ops;
    }
}

static ens_status select_backend(ens_config *cfg, const ens_backend_ops **out)
{
    char detail[256];
    if (strcmp(cfg->backend, "auto") == 0) {
        pthread_once(&auto_once, choose_auto_backend);
        if (!auto_choice)
            return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE, "no backend can run here");
        *out = auto_choice;
        /* A model file runs where it can be compiled at run time. */
        if (cfg->model->id < 0 && !ens_backend_runs_model_files(auto_choice) && ens_backends_find("openmp"))
            *out = ens_backends_find("openmp");
        return ENS_OK;
    }
    const ens_backend_ops *ops = ens_backends_find(cfg->backend);
    if (!ops)
        return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE,
                        "backend %s is not built into this ensol (see 'ensol info')",
                        cfg->backend);
    if (ops->probe(detail, sizeof detail) != ENS_OK)
        return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE, "backend %s cannot run: %s",
                        cfg->backend, detail);
    if (cfg->model->id < 0 && !ens_backend_runs_model_files(ops))
        return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE,
                        "backend %s cannot run a model file given at run time yet (model %s "
                        "from %s): use --backend openmp", cfg->backend, cfg->model->name,
                        cfg->model->path);
    *out = ops;
    return ENS_OK;
}

static double memory_budget(const ens_config *cfg)
{
    if (cfg->max_memory > 0)
        return cfg->max_memory;
    const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const double quarter = pages > 0 && page > 0 ? 0.25 * (double)pages * (double)page
                                                  : ENS_DEFAULT_MAX_MEMORY;
    return quarter < ENS_DEFAULT_MAX_MEMORY ? quarter : ENS_DEFAULT_MAX_MEMORY;
}

size_t ens_plan_cache_limit(const ens_config *cfg)
{
    const double nstate = cfg->model->var_names[0] ? cfg->nvars : 1;
    const double share = memory_budget(cfg) / (8.0 * nstate);
    return share < (double)ENS_NC_DEFAULT_CACHE_LIMIT ? (size_t)share : ENS_NC_DEFAULT_CACHE_LIMIT;
}

/* Host bytes per member of a batch, and bytes that do not grow with it. */
static void host_bytes_model(const ens_config *cfg, const ens_plan *plan, double *per_member,
                             double *fixed)
{
    const double real = (double)plan->real_size, nvars = cfg->nvars;
    const double nparams = cfg->model->nparams;
    const double disk = cfg->output_type == ENS_PRECISION_ID_FLOAT ||
                                (cfg->output_type < 0 && real == 4.0)
                            ? 4.0
                            : 8.0;
    /* State and parameters for the backend, two slabs (one computing, one
     * writing) with their saved times and parameters. */
    *per_member = real * (2.0 * nvars + nparams) + 2.0 * 8.0 * nparams;
    if (cfg->init_path)
        *per_member += 8.0 * (nvars + nparams);
    if (cfg->restart_path)
        *per_member += 8.0 * nvars;
    /* Two slabs' per-member results (status, steps, failure time). */
    *per_member += 2.0 * (sizeof(int) + 3.0 * 8.0);
    /* DOPRI5's step state, which the CPU backend keeps in host memory. */
    if (cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5)
        *per_member += real * ENS_DOPRI5_REAL_ROWS(cfg->nvars) + 8.0 * ENS_DOPRI5_INT_ROWS;
    *fixed = 0.0;
    if (plan->trajectory) {
        *per_member += 2.0 * real * nvars * (double)plan->ntimes;
        /* The writer's de-interleaving slab, and its chunk caches. */
        *per_member += disk * (double)plan->ntimes;
        *fixed += (double)ens_plan_cache_limit(cfg) * (cfg->model->var_names[0] ? nvars : 1.0);
    }
}

static ens_status choose_batch(ens_config *cfg, ens_plan *plan)
{
    const long long members = plan->end - plan->first; /* this rank's */
    if (cfg->batch_members > 0) {
        plan->batch = cfg->batch_members < members ? cfg->batch_members : members;
        return ENS_OK;
    }
    double per_member, fixed;
    host_bytes_model(cfg, plan, &per_member, &fixed);
    const double budget = memory_budget(cfg);
    const double batch = floor((budget - fixed) / per_member);
    const double least = members < ENS_MIN_BATCH_MEMBERS ? (double)members
                                                         : ENS_MIN_BATCH_MEMBERS;
    /* Blame one member when even one does not fit: that is the need. */
    if (batch < 1)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "max memory = %.0f MB is too small: one member with %lld saved times "
                        "needs %.0f MB",
                        budget / 1e6, plan->ntimes, (fixed + per_member) / 1e6);
    if (batch < least)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "max memory = %.0f MB is too small: a batch of %.0f members with %lld "
                        "saved times needs %.0f MB",
                        budget / 1e6, least, plan->ntimes, (fixed + least * per_member) / 1e6);
    plan->batch = batch < (double)members ? (long long)batch : members;
    /* Writing overlaps the next batch's integration only: with trajectories,
     * several batches keep both busy (the last write is the only one not
     * hidden), as long as a batch stays large enough to fill the cores. */
    if (plan->trajectory) {
        long long share = (members + ENS_PIPELINE_BATCHES - 1) / ENS_PIPELINE_BATCHES;
        share = share > ENS_PIPELINE_MIN_MEMBERS ? share : ENS_PIPELINE_MIN_MEMBERS;
        plan->batch = share < plan->batch ? share : plan->batch;
    }
    return ENS_OK;
}

/* Device bytes of a batch: state, parameters and DOPRI5's step state. */
static double device_bytes(const ens_config *cfg, const ens_plan *plan)
{
    if (!plan->ops->device_memory)
        return 0.0;
    const double real = (double)plan->real_size;
    double per_member = (double)(cfg->nvars + cfg->model->nparams) * real;
    if (ens_job_adaptive(&plan->job))
        per_member += real * ENS_DOPRI5_REAL_ROWS(cfg->nvars) + 8.0 * ENS_DOPRI5_INT_ROWS;
    return (double)plan->batch * per_member;
}

int ens_plan_writes_pieces(const ens_config *cfg, const ens_plan *plan)
{
    return plan->ranks.nranks > 1 && (cfg->file_per_rank || !ens_has_parallel_io());
}

int ens_plan_stats_file(const ens_plan *plan) { return plan->stats && !plan->trajectory; }

double ens_plan_output_bytes(const ens_config *cfg, const ens_plan *plan)
{
    const int output_double = cfg->output_type >= 0 ? cfg->output_type == ENS_PRECISION_ID_DOUBLE
                                                    : plan->real_size == sizeof(double);
    /* The states and the model's aux quantities, computed from them. */
    const int saved = cfg->nvars + ens_model_naux(cfg->model);
    const double states = plan->trajectory ? (double)plan->members * (double)plan->ntimes *
                                                 saved * (output_double ? 8.0 : 4.0)
                                           : 0.0;
    /* A file with states holds per member its status (1 byte), failure
     * time (8), dopri5's step counts (16), each varying parameter (8) and
     * the compressed member coordinate (about half a byte). */
    double per_member = 9.5 + (cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5 ? 16.0 : 0.0);
    const ens_param_origin *origin = ens_plan_param_origin(plan);
    for (int j = 0; j < cfg->model->nparams; j++)
        per_member += ens_param_varies(cfg, origin, j) ? 8.0 : 0.0;
    const double members = plan->trajectory ? per_member * (double)plan->members : 0.0;
    /* Statistics: mean, std, min, max of each variable, and a statistics
     * file's members per status, at each saved time. */
    const double stats = plan->stats ? (double)plan->ntimes * (4.0 * cfg->nvars + 5.0) * 8.0 : 0.0;
    /* HDF5's own structures: about 3 kB per variable (states or their
     * statistics, coordinates and the per-member ones). */
    const double header = 3000.0 * (8.0 + (plan->trajectory ? saved : 0.0) +
                                    (plan->stats ? 4.0 * cfg->nvars : 0.0));
    return states + members + stats + header;
}

void ens_plan_report(const ens_config *cfg, const ens_plan *plan)
{
    if (!cfg->plan_fn)
        return;
    double per_member, fixed;
    host_bytes_model(cfg, plan, &per_member, &fixed);
    /* The chunk caches grow only to what a batch's writes touch. */
    const double touched = (double)(plan->batch + 1000) * (double)plan->ntimes *
                           (double)cfg->nvars * 8.0;
    fixed = touched < fixed ? touched : fixed;
    ens_run_plan p = {
        .members = plan->members,
        .batches = (plan->end - plan->first + plan->batch - 1) / plan->batch,
        .batch_members = plan->batch,
        .saved_times = plan->ntimes,
        .host_bytes = fixed + per_member * (double)plan->batch,
        .device_bytes = device_bytes(cfg, plan),
        .output_bytes = ens_plan_output_bytes(cfg, plan),
        .steps = cfg->steps,
        .dt = cfg->dt,
        .resumes_steps = plan->resume_steps >= 0,
        .output_pieces = !ens_plan_stats_file(plan) && ens_plan_writes_pieces(cfg, plan),
    };
    snprintf(p.integrator, sizeof p.integrator, "%s",
             ens_choice_name(ENS_CHOICE_INTEGRATOR, cfg->integrator));
    snprintf(p.backend, sizeof p.backend, "%s", plan->ops->name);
    snprintf(p.device, sizeof p.device, "%s", plan->device_line);
    cfg->plan_fn(&p, cfg->plan_user);
}

/* This rank's members: contiguous slabs, as even as possible, the first
 * ranks one more. */
static ens_status split_members(ens_config *cfg, ens_plan *plan)
{
    plan->members = ens_config_members(cfg);
    plan->first = 0;
    plan->end = plan->members;
    const int nranks = plan->ranks.nranks;
    if (nranks <= 1)
        return ENS_OK;
    if (plan->members < nranks)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "%lld members for %d MPI ranks: use at most one rank per member",
                        plan->members, nranks);
    const long long base = plan->members / nranks, extra = plan->members % nranks;
    const long long r = plan->ranks.rank;
    plan->first = r * base + (r < extra ? r : extra);
    plan->end = plan->first + base + (r < extra ? 1 : 0);
    return ENS_OK;
}

/* The backend's job: what it integrates, how, and the most members one
 * upload carries. tol: dopri5's rtol then atol (nvars each), or NULL. */
static ens_backend_job backend_job(const ens_config *cfg, const ens_plan *plan, const double *tol)
{
    return (ens_backend_job){
        .model = cfg->model->id,
        .user_model = cfg->model->id < 0 ? cfg->model : NULL,
        .nvars = cfg->nvars,
        .nparams = cfg->model->nparams,
        .nnoise = cfg->model->nnoise,
        .seed = cfg->seed,
        .integrator = cfg->integrator,
        .precision = (ens_precision_id)cfg->precision,
        .dt = cfg->dt,
        /* Resumed step state counts its steps from the first run's start. */
        .t0 = cfg->init_time -
              (plan->resume_steps > 0 ? (double)plan->resume_steps * cfg->dt : 0.0),
        .rtol = tol,
        .atol = tol ? tol + cfg->nvars : NULL,
        .dt_min = cfg->dt_min,
        .dt_max = cfg->dt_max,
        .max_steps = ens_config_max_steps(cfg),
        .threads = cfg->threads,
        .strict_fp = cfg->strict_fp,
        .device = cfg->device,
        .local_rank = plan->ranks.local_rank,
        .capacity = plan->batch,
    };
}

static ens_status create_backend(ens_config *cfg, ens_plan *plan)
{
    const int adaptive = cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5;
    if (adaptive && !ens_backend_runs_dopri5(plan->ops))
        return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE,
                        "backend %s cannot run the adaptive integrator dopri5", plan->ops->name);
    double *tol = adaptive ? malloc(2 * (size_t)cfg->nvars * sizeof *tol) : NULL;
    if (adaptive && !tol)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    if (adaptive)
        ens_config_tolerances(cfg, tol, tol + cfg->nvars);
    plan->job = backend_job(cfg, plan, tol);
    /* A model file is checked on the host before any backend runs it. */
    ens_status st = ENS_OK;
    if (plan->job.user_model) {
        double params[ENS_MAX_PARAMS + ENS_MAX_NOISE] = {0}; /* noise inputs 0 */
        for (int j = 0; j < cfg->model->nparams; j++)
            params[j] = ens_config_param_value(cfg, j, plan->first);
        st = ens_model_probe(plan->job.user_model, cfg->nvars, params, &cfg->error);
    }
    if (st != ENS_OK) {
        free(tol);
        return st;
    }
    st = ens_backend_create(plan->ops, &plan->job, &plan->backend, &cfg->error);
    /* The backend has copied the tolerances. */
    free(tol);
    plan->job.rtol = plan->job.atol = NULL;
    return st;
}

/* The backend, the initial-state file and the batch size of a run; the
 * caller has set the MPI layout. On failure no backend exists and the
 * caller closes plan->source. */
static ens_status plan_resources(ens_config *cfg, ens_plan *plan)
{
    ENS_CHECK(ens_config_validate(cfg));
    ENS_CHECK(select_backend(cfg, &plan->ops));
    if (cfg->init_path)
        ENS_CHECK(ens_nc_source_open(cfg->init_path, cfg->init_index, cfg->model, cfg->nvars,
                                     &plan->source, &plan->source_info, &cfg->error));
    ENS_CHECK(split_members(cfg, plan));
    plan->ntimes = ens_config_ntimes(cfg);
    plan->real_size = cfg->precision == ENS_PRECISION_ID_FLOAT ? sizeof(float) : sizeof(double);
    plan->trajectory = cfg->output_mode != ENS_OUTPUT_ID_STATS;
    plan->stats = ens_config_writes_stats(cfg);
    ENS_CHECK(choose_batch(cfg, plan));
    /* A restart file of a run with the same step goes on exactly where
     * that run stood; with another step the members start afresh from its
     * states. */
    const int adaptive = cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5;
    plan->save_steps = adaptive;
    plan->resume_steps = adaptive && plan->source && plan->source_info.steps_done >= 0 &&
                                 plan->source_info.dt == cfg->dt
                             ? plan->source_info.steps_done
                             : -1;
    ENS_CHECK(create_backend(cfg, plan));
    plan->batch = plan->job.capacity;
    plan->rounds = (plan->end - plan->first + plan->batch - 1) / plan->batch;
    return ENS_OK;
}

void ens_plan_release(ens_plan *plan)
{
    ens_backend_destroy(&plan->backend);
    ens_nc_source_close(plan->source);
}

const ens_param_origin *ens_plan_param_origin(const ens_plan *plan)
{
    return plan->source ? &plan->source_info.params : NULL;
}

ens_status ens_plan_run(ens_config *cfg, ens_plan *plan, int split)
{
    memset(plan, 0, sizeof *plan);
    ens_ranks_detect(&plan->ranks, split);
    ens_status st = plan_resources(cfg, plan);
    const int acquired = st == ENS_OK;
    if (!acquired) {
        ens_nc_source_close(plan->source);
        plan->source = NULL;
    }
    /* A rank whose device or file failed stops all. */
    ens_ranks_agree(&plan->ranks, &cfg->error, &st);
    if (st != ENS_OK) {
        if (acquired)
            ens_plan_release(plan);
        return st;
    }
    plan->rounds = ens_ranks_max(&plan->ranks, plan->rounds);
    ens_backend_describe(&plan->backend, plan->device, sizeof plan->device);
    char note[64];
    ens_backend_setup_note(&plan->backend, note, sizeof note);
    if (snprintf(plan->device_line, sizeof plan->device_line, "%s%s%s", plan->device,
                 note[0] ? ", " : "", note) >= (int)sizeof plan->device_line)
        memcpy(plan->device_line, plan->device, sizeof plan->device_line); /* no room */
    ens_plan_report(cfg, plan);
    return ENS_OK;
}
