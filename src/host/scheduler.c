/*
 * The host scheduler: picks a backend, splits the ensemble into batches
 * that fit the memory budget, drives the backend through its ops table
 * interval by interval, and hands each finished batch to a sink (the NetCDF
 * writer or the caller's memory).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#ifdef ENSOL_HAVE_MPI
#include <mpi.h>
#endif

#include "backends/backend.h"
#include "core/config.h"
#include "io/ncreader.h"
#include "io/ncwriter.h"
#include "stats/moments.h"

/* Below this many members a host loop runs on one thread: waking a team
 * costs more than the loop. */
#define ENS_PARALLEL_MIN_MEMBERS 4096

/* Default memory budget: a quarter of the available memory, at most this. */
#define ENS_DEFAULT_MAX_MEMORY (1024.0 * 1024.0 * 1024.0)
/* The smallest batch worth running: below it, per-batch costs dominate. */
#define ENS_MIN_BATCH_MEMBERS 64
/* Batches a trajectory run is split into at least, for overlap, unless
 * that makes them smaller than ENS_PIPELINE_MIN_MEMBERS. */
#define ENS_PIPELINE_BATCHES 8
#define ENS_PIPELINE_MIN_MEMBERS 32768
/* Members per block of the statistics reduction. */
#define ENS_MOMENT_BLOCK 1024
/* Models up to this many variables draw a member's state on the stack. */
#define ENS_MAX_INLINE_VARS 64

/* One batch's results on their way to the sink. */
typedef struct ens_slab {
    long long m0, count;
    long long times;     /* saved times filled */
    void *saved;         /* (member, time, var), compute precision; NULL without trajectory */
    double *params;      /* [param * count + i] */
    ens_member_stats members; /* each member's status, steps and failure time */
} ens_slab;

typedef struct ens_sink {
    ens_status (*write)(void *self, const ens_slab *slab, int states_double, ens_error *err);
    void *self;
} ens_sink;

typedef struct ens_plan {
    const ens_backend_ops *ops;
    ens_backend backend;
    char device[128];
    ens_backend_job job;
    long long members;
    long long ntimes;
    long long batch;
    size_t real_size;
    int trajectory;      /* states kept at every save (or the final one) */
    int stats;
    ens_nc_source *source;        /* initial states from a file, or NULL */
    ens_nc_source_info source_info;
    /* Under MPI (ens_run with more than one rank): this rank integrates
     * members [first, end) of the `members`, and every rank makes
     * `rounds` writes (the most batches of any rank). Else 0, members. */
    long long first, end;
    long long rounds;
    /* DOPRI5: the restart file keeps the step state (save_steps), and the
     * initial-state file's step state goes on from resume_steps steps of
     * dt (-1: the members start afresh). */
    int save_steps;
    long long resume_steps;
    int rank, nranks;
    int local_rank;      /* among the ranks of this node; -1 in one process */
} ens_plan;

/* This process's rank and the number of ranks: 0 and 1 unless MPI is
 * initialised (the ensol command does that when started by mpirun). */
static void mpi_layout(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
#ifdef ENSOL_HAVE_MPI
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (initialised && !finalised) {
        MPI_Comm_rank(MPI_COMM_WORLD, rank);
        MPI_Comm_size(MPI_COMM_WORLD, size);
    }
#endif
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

/* NetCDF's chunk cache per state variable: an eighth of the budget over
 * the variables, at most the writer's default. */
static size_t writer_cache_limit(const ens_config *cfg)
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
        *fixed += (double)writer_cache_limit(cfg) * (cfg->model->var_names[0] ? nvars : 1.0);
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

static void report_plan(const ens_config *cfg, const ens_plan *plan)
{
    if (!cfg->plan_fn)
        return;
    double per_member, fixed;
    host_bytes_model(cfg, plan, &per_member, &fixed);
    /* The chunk caches grow only to what a batch's writes touch. */
    const double touched = (double)(plan->batch + 1000) * (double)plan->ntimes *
                           (double)cfg->nvars * 8.0;
    fixed = touched < fixed ? touched : fixed;
    const int output_double = cfg->output_type >= 0 ? cfg->output_type == ENS_PRECISION_ID_DOUBLE
                                                    : plan->real_size == sizeof(double);
    ens_run_plan p = {
        .members = plan->members,
        .batches = (plan->end - plan->first + plan->batch - 1) / plan->batch,
        .batch_members = plan->batch,
        .saved_times = plan->ntimes,
        .host_bytes = fixed + per_member * (double)plan->batch,
        .device_bytes = plan->ops->device_memory
                            ? (double)plan->batch *
                                  ((double)(cfg->nvars + cfg->model->nparams) *
                                       (double)plan->real_size +
                                   (ens_job_adaptive(&plan->job)
                                        ? (double)plan->real_size *
                                                  ENS_DOPRI5_REAL_ROWS(cfg->nvars) +
                                              8.0 * ENS_DOPRI5_INT_ROWS
                                        : 0.0))
                            : 0.0,
        .output_bytes = plan->trajectory ? (double)plan->members * (double)plan->ntimes *
                                               cfg->nvars * (output_double ? 8.0 : 4.0)
                                         : 0.0,
    };
    snprintf(p.backend, sizeof p.backend, "%s", plan->ops->name);
    snprintf(p.device, sizeof p.device, "%s", plan->device);
    cfg->plan_fn(&p, cfg->plan_user);
}

#ifdef ENSOL_HAVE_MPI
/* MPI ranks go on together or stop together: at fixed points (the same
 * number on every rank, see run_batches) each says whether it failed or
 * was stopped, and every rank takes the gravest outcome, with the message
 * of the first rank that had it. Without this, one rank that fails (a
 * device error, a full disk) or is stopped by a signal leaves the others
 * waiting forever in the next collective call. */
static void agree(ens_config *cfg, const ens_plan *plan, ens_status *st)
{
    if (plan->nranks <= 1)
        return;
    const int grave = *st == ENS_OK ? 0 : *st == ENS_ERR_INTERRUPTED ? 1 : 2;
    struct {
        int grave, rank;
    } mine = {grave, plan->rank}, worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_2INT, MPI_MAXLOC, MPI_COMM_WORLD);
    if (worst.grave == 0)
        return;
    int code = *st;
    MPI_Bcast(&code, 1, MPI_INT, worst.rank, MPI_COMM_WORLD);
    ens_error told;
    if (plan->rank == worst.rank)
        told = cfg->error;
    MPI_Bcast(told.msg, (int)sizeof told.msg, MPI_CHAR, worst.rank, MPI_COMM_WORLD);
    if (grave < worst.grave) {
        *st = (ens_status)code;
        ens_fail(&cfg->error, *st, "MPI rank %d: %s", worst.rank, told.msg);
    }
}
#else
static void agree(ens_config *cfg, const ens_plan *plan, ens_status *st)
{
    (void)cfg, (void)plan, (void)st;
}
#endif

/* The backend, the initial-state file and the batch size of a run; the
 * caller has set the MPI layout (rank, nranks, local_rank). On failure no
 * backend exists and the caller closes plan->source. */
static ens_status plan_resources(ens_config *cfg, ens_plan *plan)
{
    ens_status st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return st;
    st = select_backend(cfg, &plan->ops);
    if (st != ENS_OK)
        return st;
    if (cfg->init_path) {
        st = ens_nc_source_open(cfg->init_path, cfg->init_index, cfg->model, cfg->nvars,
                                &plan->source, &plan->source_info, &cfg->error);
        if (st != ENS_OK)
            return st;
    }
    plan->members = ens_config_members(cfg);
    plan->end = plan->members;
    if (plan->nranks > 1) {
        if (plan->members < plan->nranks)
            return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                            "%lld members for %d MPI ranks: use at most one rank per member",
                            plan->members, plan->nranks);
        /* Contiguous slabs, as even as possible: the first ranks one more. */
        const long long base = plan->members / plan->nranks, extra = plan->members % plan->nranks;
        const long long r = plan->rank;
        plan->first = r * base + (r < extra ? r : extra);
        plan->end = plan->first + base + (r < extra ? 1 : 0);
    }
    plan->ntimes = ens_config_ntimes(cfg);
    plan->real_size = cfg->precision == ENS_PRECISION_ID_FLOAT ? sizeof(float) : sizeof(double);
    plan->trajectory = cfg->output_mode != ENS_OUTPUT_ID_STATS;
    plan->stats = ens_config_writes_stats(cfg);
    st = choose_batch(cfg, plan);
    if (st != ENS_OK)
        return st;
    const int adaptive = cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5;
    double *tol = adaptive ? malloc(2 * (size_t)cfg->nvars * sizeof *tol) : NULL;
    if (adaptive && !ens_backend_runs_dopri5(plan->ops)) {
        free(tol);
        return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE,
                        "backend %s cannot run the adaptive integrator dopri5", plan->ops->name);
    }
    if (adaptive && !tol)
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    if (adaptive)
        ens_config_tolerances(cfg, tol, tol + cfg->nvars);
    plan->job = (ens_backend_job){
        .model = cfg->model->id,
        .nvars = cfg->nvars,
        .nparams = cfg->model->nparams,
        .integrator = cfg->integrator,
        .precision = (ens_precision_id)cfg->precision,
        .dt = cfg->dt,
        .rtol = tol,
        .atol = tol ? tol + cfg->nvars : NULL,
        .dt_min = cfg->dt_min,
        .dt_max = cfg->dt_max,
        .max_steps = ens_config_max_steps(cfg),
        .threads = cfg->threads,
        .strict_fp = cfg->strict_fp,
        .device = cfg->device,
        .local_rank = plan->local_rank,
        .capacity = plan->batch,
    };
    st = ens_backend_create(plan->ops, &plan->job, &plan->backend, &cfg->error);
    /* The backend has copied the tolerances. */
    free(tol);
    plan->job.rtol = plan->job.atol = NULL;
    if (st != ENS_OK)
        return st;
    plan->batch = plan->job.capacity;
    plan->rounds = (plan->end - plan->first + plan->batch - 1) / plan->batch;
    /* A restart file of a run with the same step goes on exactly where
     * that run stood; with another step (or a backend that cannot take the
     * state) the members start afresh from its states. */
    plan->save_steps = adaptive && ens_backend_runs_dopri5(plan->ops);
    plan->resume_steps = adaptive && plan->source && plan->source_info.steps_done >= 0 &&
                                 plan->source_info.dt == cfg->dt &&
                                 ens_backend_runs_dopri5(plan->ops)
                             ? plan->source_info.steps_done
                             : -1;
    return ENS_OK;
}

static void release_plan(ens_plan *plan)
{
    ens_backend_destroy(&plan->backend);
    ens_nc_source_close(plan->source);
}

/* split: members divided across MPI ranks (ens_run only). */
static ens_status plan_run(ens_config *cfg, ens_plan *plan, int split)
{
    memset(plan, 0, sizeof *plan);
    plan->nranks = 1;
    plan->local_rank = -1;
    if (split)
        mpi_layout(&plan->rank, &plan->nranks);
#ifdef ENSOL_HAVE_MPI
    if (plan->nranks > 1) {
        /* This rank's number on its node: a GPU backend without a device
         * request takes the node's devices in turn (see ens_backend_job). */
        MPI_Comm node;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, plan->rank, MPI_INFO_NULL,
                                &node) == MPI_SUCCESS) {
            MPI_Comm_rank(node, &plan->local_rank);
            MPI_Comm_free(&node);
        }
    }
#endif
    ens_status st = plan_resources(cfg, plan);
    const int acquired = st == ENS_OK;
    if (!acquired) {
        ens_nc_source_close(plan->source);
        plan->source = NULL;
    }
    /* A rank whose device or file failed stops all. */
    agree(cfg, plan, &st);
    if (st != ENS_OK) {
        if (acquired)
            release_plan(plan);
        return st;
    }
#ifdef ENSOL_HAVE_MPI
    if (plan->nranks > 1)
        MPI_Allreduce(MPI_IN_PLACE, &plan->rounds, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
#endif
    ens_backend_describe(&plan->backend, plan->device, sizeof plan->device);
    report_plan(cfg, plan);
    return ENS_OK;
}

/* ---- the writer thread: the sink writes batch k while batch k+1 computes */

typedef struct ens_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    const ens_slab *pending;   /* handed over and not yet written */
    int quit;
    ens_sink *sink;
    int states_double;
    ens_status status;         /* the first failure */
    ens_error error;
    int sync;                  /* no thread: submit writes at once */
} ens_writer;

static void *writer_main(void *arg)
{
    ens_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->pending && !w->quit)
            pthread_cond_wait(&w->changed, &w->lock);
        if (!w->pending)
            break;
        const ens_slab *slab = w->pending;
        const int failed = w->status != ENS_OK;
        pthread_mutex_unlock(&w->lock);
        ens_error err;
        ens_status st = failed ? ENS_OK : w->sink->write(w->sink->self, slab, w->states_double, &err);
        pthread_mutex_lock(&w->lock);
        if (st != ENS_OK && w->status == ENS_OK) {
            w->status = st;
            w->error = err;
        }
        w->pending = NULL;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* sync: write from the calling thread (under MPI, where the parallel
 * file's collective calls stay on the thread that initialised MPI). */
static ens_status writer_start(ens_writer *w, ens_sink *sink, int states_double, int sync,
                               ens_error *err)
{
    memset(w, 0, sizeof *w);
    w->sink = sink;
    w->states_double = states_double;
    w->sync = sync;
    if (sync)
        return ENS_OK;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->changed);
        pthread_mutex_destroy(&w->lock);
        return ens_fail(err, ENS_ERR_INTERNAL, "cannot start the output thread");
    }
    return ENS_OK;
}

/* Hand a slab over once the previous one is written; returns the writer's
 * first failure so far. */
static ens_status writer_submit(ens_writer *w, const ens_slab *slab, ens_error *err)
{
    if (w->sync) {
        if (w->status == ENS_OK)
            w->status = w->sink->write(w->sink->self, slab, w->states_double, &w->error);
        if (w->status != ENS_OK)
            *err = w->error;
        return w->status;
    }
    pthread_mutex_lock(&w->lock);
    while (w->pending)
        pthread_cond_wait(&w->changed, &w->lock);
    ens_status st = w->status;
    if (st != ENS_OK)
        *err = w->error;
    else
        w->pending = slab;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    return st;
}

/* Wait for the last slab, stop the thread; returns its first failure. */
static ens_status writer_finish(ens_writer *w, ens_error *err)
{
    if (w->sync) {
        if (w->status != ENS_OK)
            *err = w->error;
        return w->status;
    }
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->status != ENS_OK)
        *err = w->error;
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    return w->status;
}

/* ---- batch buffers -------------------------------------------------------- */

typedef struct ens_batch_buffers {
    void *state;          /* SoA, compute precision: upload source, download target */
    void *params;         /* SoA, compute precision */
    ens_slab slabs[2];    /* alternate: one filling while the other is written */
    ens_moments *moments; /* [time * nvars + var], all members so far */
    double *from_file;    /* SoA states then parameters read from the initial-state file */
    double *final;        /* (member, var) final states for the restart file */
    double *steps_real;   /* DOPRI5 step state rows, to or from a restart file */
    long long *steps_int;
    void *last_good;      /* SoA, compute precision: fixed-step members' last good state */
} ens_batch_buffers;

static void free_buffers(ens_batch_buffers *b)
{
    free(b->state);
    free(b->params);
    for (int i = 0; i < 2; i++) {
        free(b->slabs[i].saved);
        free(b->slabs[i].params);
        free(b->slabs[i].members.status);
        free(b->slabs[i].members.accepted_steps);
        free(b->slabs[i].members.rejected_steps);
        free(b->slabs[i].members.failure_time);
    }
    free(b->moments);
    free(b->from_file);
    free(b->final);
    free(b->last_good);
    free(b->steps_real);
    free(b->steps_int);
}

static ens_status alloc_buffers(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b)
{
    const size_t batch = (size_t)plan->batch;
    const size_t nparams = (size_t)(cfg->model->nparams > 0 ? cfg->model->nparams : 1);
    const size_t nvars = (size_t)cfg->nvars;
    int ok = 1;
    memset(b, 0, sizeof *b);
    b->state = malloc(batch * nvars * plan->real_size);
    b->last_good = malloc(batch * nvars * plan->real_size);
    b->params = malloc(batch * nparams * plan->real_size);
    ok = b->state && b->params && b->last_good;
    for (int i = 0; i < 2 && ok; i++) {
        b->slabs[i].params = malloc(batch * nparams * sizeof(double));
        if (plan->trajectory)
            b->slabs[i].saved = malloc(batch * (size_t)plan->ntimes * nvars * plan->real_size);
        ok = b->slabs[i].params && (!plan->trajectory || b->slabs[i].saved);
        ens_member_stats *ms = &b->slabs[i].members;
        ms->status = malloc(batch * sizeof *ms->status);
        ms->accepted_steps = malloc(batch * sizeof *ms->accepted_steps);
        ms->rejected_steps = malloc(batch * sizeof *ms->rejected_steps);
        ms->failure_time = malloc(batch * sizeof *ms->failure_time);
        ok = ok && ms->status && ms->accepted_steps && ms->rejected_steps && ms->failure_time;
    }
    if (ok && cfg->restart_path) {
        b->final = malloc(batch * nvars * sizeof(double));
        ok = b->final != NULL;
    }
    if (ok && plan->source) {
        b->from_file = malloc(batch * (nvars + nparams) * sizeof(double));
        ok = b->from_file != NULL;
    }
    if (ok && ((cfg->restart_path && plan->save_steps) || plan->resume_steps >= 0)) {
        b->steps_real = malloc(batch * (size_t)ENS_DOPRI5_REAL_ROWS(cfg->nvars) * sizeof(double));
        b->steps_int = malloc(batch * ENS_DOPRI5_INT_ROWS * sizeof(long long));
        ok = b->steps_real && b->steps_int;
    }
    if (ok && plan->stats) {
        b->moments = malloc((size_t)plan->ntimes * nvars * sizeof *b->moments);
        ok = b->moments != NULL;
        for (size_t i = 0; ok && i < (size_t)plan->ntimes * nvars; i++)
            ens_moments_init(&b->moments[i]);
    }
    if (!ok) {
        free_buffers(b);
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY,
                        "cannot allocate buffers for a batch of %lld members x %lld saved "
                        "times (set a smaller --max-memory or batch)",
                        plan->batch, plan->ntimes);
    }
    return ENS_OK;
}

/* Store a real value at index i of a buffer of the plan's precision. */
static inline void put_real(const ens_plan *plan, void *buf, size_t i, double value)
{
    if (plan->real_size == sizeof(float))
        ((float *)buf)[i] = (float)value;
    else
        ((double *)buf)[i] = value;
}

static inline double get_real(const ens_plan *plan, const void *buf, size_t i)
{
    return plan->real_size == sizeof(float) ? (double)((const float *)buf)[i]
                                            : ((const double *)buf)[i];
}

/* A member's parameter: from the initial-state file where it records it,
 * else from the configuration. */
static double member_param(const ens_config *cfg, const ens_plan *plan, const double *file_params,
                           int j, long long count, long long i, long long m)
{
    return ens_member_param_value(
        cfg, plan->source ? &plan->source_info : NULL,
        file_params ? file_params[(size_t)j * (size_t)count + (size_t)i] : 0.0, j, m);
}

static ens_status fill_batch(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                             ens_slab *slab)
{
    const int nvars = cfg->nvars;
    const int nparams = cfg->model->nparams;
    const long long m0 = slab->m0, count = slab->count;
    const double *file_states = b->from_file;
    const double *file_params = b->from_file ? b->from_file + (size_t)count * (size_t)nvars : NULL;
    if (plan->source) {
        ens_status st = ens_nc_source_read(plan->source, m0, count, b->from_file,
                                           b->from_file + (size_t)count * (size_t)nvars,
                                           &cfg->error);
        if (st != ENS_OK)
            return st;
    }
#pragma omp parallel if (count >= ENS_PARALLEL_MIN_MEMBERS)
    {
        double x[ENS_MAX_INLINE_VARS];
        double *xs = nvars <= ENS_MAX_INLINE_VARS ? x : malloc((size_t)nvars * sizeof *xs);
#pragma omp for schedule(static)
        for (long long i = 0; i < count; i++) {
            if (file_states)
                for (int v = 0; v < nvars; v++)
                    put_real(plan, b->state, (size_t)v * (size_t)count + (size_t)i,
                             file_states[(size_t)v * (size_t)count + (size_t)i]);
            else if (xs) {
                ens_config_initial_state(cfg, m0 + i, xs);
                for (int v = 0; v < nvars; v++)
                    put_real(plan, b->state, (size_t)v * (size_t)count + (size_t)i, xs[v]);
            }
            for (int j = 0; j < nparams; j++) {
                double value = member_param(cfg, plan, file_params, j, count, i, m0 + i);
                slab->params[(size_t)j * (size_t)count + (size_t)i] = value;
                put_real(plan, b->params, (size_t)j * (size_t)count + (size_t)i, value);
            }
        }
        if (xs != x)
            free(xs);
    }
    return ENS_OK;
}

/* Copy the batch's current state (SoA) into saved time t of the slab. */
static void save_time(const ens_config *cfg, const ens_plan *plan, const ens_batch_buffers *b,
                      ens_slab *slab, long long t)
{
    const size_t nvars = (size_t)cfg->nvars, ntimes = (size_t)plan->ntimes;
    const size_t n = (size_t)slab->count;
    const long long count = slab->count;
    if (plan->real_size == sizeof(double)) {
        const double *src = b->state;
        double *dst = (double *)slab->saved + (size_t)t * nvars;
#pragma omp parallel for schedule(static) if (count >= ENS_PARALLEL_MIN_MEMBERS)
        for (long long i = 0; i < count; i++)
            for (size_t v = 0; v < nvars; v++)
                dst[(size_t)i * ntimes * nvars + v] = src[v * n + (size_t)i];
    } else {
        const float *src = b->state;
        float *dst = (float *)slab->saved + (size_t)t * nvars;
#pragma omp parallel for schedule(static) if (count >= ENS_PARALLEL_MIN_MEMBERS)
        for (long long i = 0; i < count; i++)
            for (size_t v = 0; v < nvars; v++)
                dst[(size_t)i * ntimes * nvars + v] = src[v * n + (size_t)i];
    }
}

/* Moments of one block of values (two passes: mean, then squared
 * deviations), leaving out members that are not ok. Vectorises; the
 * blocks then merge with Chan's formula. */
static void block_moments(const ens_plan *plan, const void *values, const int *status,
                          size_t first, size_t n, ens_moments *out)
{
    double sum = 0.0, cnt = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = first; i < first + n; i++) {
        const double x = get_real(plan, values, i);
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
        const double x = get_real(plan, values, i);
        const int ok = status[i - first] == ENS_MEMBER_OK && isfinite(x);
        m2 += ok ? (x - mean) * (x - mean) : 0.0;
    }
    out->n = cnt;
    out->mean = mean;
    out->m2 = m2;
    out->min = lo;
    out->max = hi;
}

/* Merge the moments of the batch's current state into saved time t, over
 * its ok members. Blocks of ENS_MOMENT_BLOCK members reduce in parallel and
 * merge in block order, so the result does not depend on the thread count.
 * A member with a non-finite variable is left out of every variable. */
static ens_status accumulate_moments(ens_config *cfg, const ens_plan *plan,
                                     ens_batch_buffers *b, const ens_slab *slab, long long t)
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
    /* A member non-finite in one variable counts in none: recount from
     * the finite-in-all test only when some variable's count differs. */
    for (size_t k = 0; k < nblocks; k++) {
        int differ = 0;
        for (size_t v = 1; v < nvars; v++)
            differ |= part[k * nvars + v].n != part[k * nvars].n;
        if (differ) {
            const size_t first = k * ENS_MOMENT_BLOCK;
            const size_t len = n - first < ENS_MOMENT_BLOCK ? n - first : ENS_MOMENT_BLOCK;
            for (size_t v = 0; v < nvars; v++)
                ens_moments_init(&part[k * nvars + v]);
            for (size_t i = first; i < first + len; i++) {
                int finite = status[i] == ENS_MEMBER_OK;
                for (size_t v = 0; v < nvars; v++)
                    finite &= isfinite(get_real(plan, b->state, v * n + i));
                for (size_t v = 0; finite && v < nvars; v++)
                    ens_moments_push(&part[k * nvars + v], get_real(plan, b->state, v * n + i));
            }
        }
        for (size_t v = 0; v < nvars; v++)
            ens_moments_merge(&b->moments[(size_t)t * nvars + v], &part[k * nvars + v]);
    }
    free(part);
    return ENS_OK;
}

/* The kernels' status codes are the public ones. */
_Static_assert(ENS_MEMBER_OK == ENS_MEMBER_STATUS_OK &&
                   ENS_MEMBER_NONFINITE == ENS_MEMBER_STATUS_NONFINITE &&
                   ENS_MEMBER_DT_MIN == ENS_MEMBER_STATUS_DT_MIN &&
                   ENS_MEMBER_MAX_STEPS == ENS_MEMBER_STATUS_MAX_STEPS &&
                   ENS_MEMBER_BLOWUP == ENS_MEMBER_STATUS_BLOWUP,
               "member status codes of kernels/ens_portable.h and ensol.h differ");

/* Members per status and steps over the run so far. */
typedef struct ens_member_tally {
    long long by_status[ENS_MEMBER_STATUS_KINDS];
    long long accepted, rejected;
} ens_member_tally;

/* Each member's outcome into the slab and the tally: from the backend for
 * an adaptive integrator; with fixed steps, whether the state is finite
 * after `steps` steps. */
static ens_status member_results(ens_config *cfg, const ens_plan *plan,
                                 const ens_batch_buffers *b, ens_slab *slab, long long steps,
                                 ens_member_tally *tally)
{
    ens_member_stats *ms = &slab->members;
    const long long count = slab->count;
    if (ens_job_adaptive(&plan->job)) {
        ens_status st = ens_backend_dopri5_stats(&plan->backend, ms, &cfg->error);
        if (st != ENS_OK)
            return st;
    } else {
        /* Status and failure time were set at the saves (check_members). */
        (void)b;
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

/* With fixed steps, at each save: a member whose state is not finite or
 * beyond the blow-up bound fails, with the time of this save; a failed
 * member's state (as saved, reduced and written) stays at its last good
 * state, kept in b->last_good. */
static void check_members(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                          ens_slab *slab, double time)
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
                const double x = get_real(plan, b->state, v * n + (size_t)i);
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
    const size_t bytes = n * nvars * plan->real_size;
    if (failed == 0) {
        memcpy(b->last_good, b->state, bytes);
        return;
    }
    /* Failed members take their last good state back; the others update it. */
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

static void reset_members(ens_slab *slab)
{
    for (long long i = 0; i < slab->count; i++) {
        slab->members.status[i] = ENS_MEMBER_OK;
        slab->members.failure_time[i] = NAN;
    }
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

/* How far a run got, for the summary and for an interrupted file. */
typedef struct ens_progress_state {
    long long members_complete;   /* members with every saved time */
    long long members_partial;    /* members of the batch stopped midway */
    long long times_partial;      /* saved times that batch reached */
    long long stats_times;        /* saved times with statistics */
} ens_progress_state;

/* The batch's final states, in double, to the restart file. */
static ens_status write_restart(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                                const ens_slab *slab, ens_nc_writer *restart, ens_error *err)
{
    const size_t count = (size_t)slab->count, nvars = (size_t)cfg->nvars;
    for (size_t i = 0; i < count; i++)
        for (size_t v = 0; v < nvars; v++)
            b->final[i * nvars + v] = get_real(plan, b->state, v * count + i);
    ens_status st =
        ens_nc_write_batch(restart, slab->m0, slab->count, 1, b->final, 1, slab->params, err);
    if (st == ENS_OK && plan->save_steps && slab->count > 0)
        st = ens_backend_dopri5_download_steps(&plan->backend, b->steps_real, b->steps_int, err);
    if (st == ENS_OK && plan->save_steps)
        st = ens_nc_write_steps(restart, slab->m0, slab->count, b->steps_real, b->steps_int,
                                err);
    return st;
}

/* Integrate batch by batch; each finished batch goes to the writer thread
 * while the next one computes. Under MPI every rank makes plan->rounds
 * rounds with the same save intervals, a rank past its last batch with no
 * members, so that the ranks meet at the same points (agree) and make the
 * same collective writes. */
static ens_status run_batches(ens_config *cfg, ens_plan *plan, ens_sink *sink,
                              ens_nc_writer *restart, int shared_file, ens_run_info *info,
                              ens_progress_state *done, ens_batch_buffers *b)
{
    const double start = now_seconds();
    const long long members = plan->end - plan->first; /* this rank's */
    const double total_member_steps = (double)members * (double)cfg->steps;
    const int every_save = cfg->output_mode != ENS_OUTPUT_ID_FINAL;
    const int fixed_steps = !ens_job_adaptive(&plan->job);
    const long long interval = every_save ? cfg->save_every : final_mode_interval(cfg->steps);
    /* With a backend that computes while the host works (an async one), the
     * next interval starts before the host saves and checks the last one.
     * Fixed steps only: a stopped dopri5 batch would report the step
     * counters of an interval beyond its saved states. */
    const int pipelined = ens_backend_computes_async(&plan->backend) && fixed_steps;
    double compute = 0.0, member_steps_done = 0.0;
    long long batches = 0;
    ens_member_tally tally;
    memset(&tally, 0, sizeof tally);

    memset(done, 0, sizeof *done);
    ens_writer writer;
    /* The writer thread calls NetCDF while this thread integrates. This
     * thread calls it too with a restart file or initial states from a
     * file; HDF5 built for MPI is not thread-safe, so an MPI build then
     * writes from this thread. So it does for a file shared by the ranks
     * (collective calls stay on the thread that initialised MPI). */
#ifdef ENSOL_HAVE_MPI
    const int one_thread = shared_file || restart || plan->source;
#else
    const int one_thread = 0;
    (void)shared_file;
#endif
    ens_status st = writer_start(&writer, sink, plan->real_size == sizeof(double), one_thread,
                                 &cfg->error);
    if (st != ENS_OK)
        return st;

    for (long long round = 0; round < plan->rounds && st == ENS_OK; round++) {
        const long long m0 = plan->first + round * plan->batch;
        ens_slab *slab = &b->slabs[round % 2];
        slab->m0 = m0 < plan->end ? m0 : plan->end;
        slab->count = m0 >= plan->end ? 0 : plan->end - m0 < plan->batch ? plan->end - m0
                                                                            : plan->batch;
        slab->times = 0;
        const long long count = slab->count;
        if (count > 0) {
            st = fill_batch(cfg, plan, b, slab);
            if (st == ENS_OK)
                st = ens_backend_upload(&plan->backend, count, b->state, b->params, &cfg->error);
            if (st == ENS_OK && plan->resume_steps >= 0)
                st = ens_nc_source_read_steps(plan->source, m0, count, b->steps_real,
                                              b->steps_int, &cfg->error);
            if (st == ENS_OK && plan->resume_steps >= 0)
                st = ens_backend_dopri5_upload_steps(&plan->backend, b->steps_real,
                                                     b->steps_int, plan->resume_steps,
                                                     &cfg->error);
            reset_members(slab);
            if (st == ENS_OK && fixed_steps)
                check_members(cfg, plan, b, slab, cfg->init_time);
            if (st == ENS_OK && every_save && plan->trajectory)
                save_time(cfg, plan, b, slab, 0);
            if (st == ENS_OK && every_save && plan->stats)
                st = accumulate_moments(cfg, plan, b, slab, 0);
        }
        if (st == ENS_OK && every_save)
            slab->times = 1;
        agree(cfg, plan, &st);
        long long steps_done = 0;
        long long launched = 0;  /* steps handed to the backend */
        double launch_time = 0;  /* when the interval in flight was */
        for (; steps_done < cfg->steps && st == ENS_OK;) {
            const long long n = next_interval(cfg->steps, steps_done, interval);
            steps_done += n;
            const int last = steps_done == cfg->steps;
            if (count > 0) {
                if (launched < steps_done) {
                    launch_time = now_seconds();
                    st = ens_backend_advance(&plan->backend, n, &cfg->error);
                    launched = steps_done;
                }
                if (st == ENS_OK)
                    st = ens_backend_wait(&plan->backend, &cfg->error);
                /* From launch to done: with pipelining this counts the host
                 * work it overlapped too, so the rate is never overstated. */
                compute += now_seconds() - launch_time;
                member_steps_done += (double)count * (double)n;
                if (st == ENS_OK && (every_save || last || fixed_steps))
                    st = ens_backend_download(&plan->backend, b->state, &cfg->error);
                if (st == ENS_OK && pipelined && !last) {
                    /* Start the next interval before working on this one. */
                    const long long next = next_interval(cfg->steps, steps_done, interval);
                    launch_time = now_seconds();
                    st = ens_backend_advance(&plan->backend, next, &cfg->error);
                    launched = steps_done + next;
                }
                if (st == ENS_OK && fixed_steps)
                    check_members(cfg, plan, b, slab,
                                  cfg->init_time + (double)steps_done * cfg->dt);
                if (st == ENS_OK && (every_save || last) && plan->trajectory)
                    save_time(cfg, plan, b, slab, slab->times);
                if (st == ENS_OK && (every_save || last) && plan->stats)
                    st = accumulate_moments(cfg, plan, b, slab, slab->times);
            }
            if (st == ENS_OK && (every_save || last))
                slab->times++;
            if (st == ENS_OK && cfg->progress) {
                const double elapsed = now_seconds() - start;
                ens_progress p = {
                    .members_done = slab->m0 - plan->first + (last ? count : 0),
                    .members_total = members,
                    .fraction = total_member_steps > 0 ? member_steps_done / total_member_steps
                                                       : 1.0,
                    .sim_time = (double)steps_done * cfg->dt,
                    .elapsed_seconds = elapsed,
                    .member_steps_per_second = compute > 0 ? member_steps_done / compute : 0.0,
                };
                if (cfg->progress(&p, cfg->progress_user))
                    st = ens_fail(&cfg->error, ENS_ERR_INTERRUPTED,
                                  "run stopped at model time %g of batch %lld (members %lld-%lld)",
                                  (double)steps_done * cfg->dt, round + 1, slab->m0,
                                  slab->m0 + count - 1);
            }
            agree(cfg, plan, &st);
        }
        /* An interval launched ahead when the loop stopped: let it end
         * (its results are not used) before the buffers are reused. */
        if (count > 0 && launched > steps_done) {
            ens_error ignored;
            ens_backend_wait(&plan->backend, &ignored);
        }
        /* Each member's outcome goes with its states, a stopped batch's too. */
        if (count > 0 && (st == ENS_OK || st == ENS_ERR_INTERRUPTED)) {
            ens_status rst = member_results(cfg, plan, b, slab, steps_done, &tally);
            st = rst != ENS_OK ? rst : st;
        }
        if (count > 0)
            batches++;
        if (st == ENS_OK && restart)
            st = write_restart(cfg, plan, b, slab, restart, &cfg->error);
        agree(cfg, plan, &st);
        if (st == ENS_OK) {
            done->members_complete = slab->m0 + count - plan->first;
            done->stats_times = plan->ntimes;
        } else if (st == ENS_ERR_INTERRUPTED && slab->times > 0) {
            /* Keep what the stopped batch reached: its saved times so far. */
            done->members_partial = count;
            done->times_partial = slab->times;
            if (plan->stats && done->members_complete == 0)
                done->stats_times = slab->times;
        } else {
            break;
        }
        ens_error err;
        ens_status wst = writer_submit(&writer, slab, &err);
        if (wst != ENS_OK && st == ENS_OK) {
            st = wst;
            cfg->error = err;
        }
        agree(cfg, plan, &st);
    }
    ens_error err;
    ens_status wst = writer_finish(&writer, &err);
    if (wst != ENS_OK && (st == ENS_OK || st == ENS_ERR_INTERRUPTED)) {
        st = wst;
        cfg->error = err;
    }
    if (info) {
        snprintf(info->backend, sizeof info->backend, "%s", plan->ops->name);
        snprintf(info->device, sizeof info->device, "%s", plan->device);
        info->seconds = now_seconds() - start;
        info->compute_seconds = compute;
        info->member_steps_per_second = compute > 0 ? member_steps_done / compute : 0.0;
        info->batches = batches;
        info->members_failed = 0;
        for (int k = ENS_MEMBER_OK + 1; k < ENS_MEMBER_STATUS_KINDS; k++)
            info->members_failed += tally.by_status[k];
        memcpy(info->members_by_status, tally.by_status, sizeof tally.by_status);
        info->steps_accepted = tally.accepted;
        info->steps_rejected = tally.rejected;
    }
    return st;
}

/* A whole run into a sink in memory (not the NetCDF file of ens_run). */
static ens_status run_to_sink(ens_config *cfg, ens_sink *sink, ens_run_info *info)
{
    ens_plan plan;
    ens_status st = plan_run(cfg, &plan, 0);
    if (st != ENS_OK)
        return st;
    ens_batch_buffers b;
    st = alloc_buffers(cfg, &plan, &b);
    if (st == ENS_OK) {
        ens_progress_state done;
        if (info)
            memset(info, 0, sizeof *info);
        st = run_batches(cfg, &plan, sink, NULL, 0, info, &done, &b);
        free_buffers(&b);
    }
    release_plan(&plan);
    return st;
}

/* ---- sink: caller memory ------------------------------------------------ */

typedef struct memory_sink {
    double *out;
    long long ntimes;
    int nvars;
    const ens_member_stats *stats; /* the caller's arrays, or NULL */
} memory_sink;

static ens_status memory_write(void *self, const ens_slab *slab, int states_double, ens_error *err)
{
    (void)err;
    memory_sink *ms = self;
    const size_t per_member = (size_t)ms->ntimes * (size_t)ms->nvars;
    const size_t n = (size_t)slab->count * per_member;
    double *dst = ms->out + (size_t)slab->m0 * per_member;
    const ens_member_stats *from = &slab->members, *to = ms->stats;
    const size_t m0 = (size_t)slab->m0, count = (size_t)slab->count;
    if (to && to->status)
        memcpy(to->status + m0, from->status, count * sizeof *to->status);
    if (to && to->accepted_steps)
        memcpy(to->accepted_steps + m0, from->accepted_steps, count * sizeof *to->accepted_steps);
    if (to && to->rejected_steps)
        memcpy(to->rejected_steps + m0, from->rejected_steps, count * sizeof *to->rejected_steps);
    if (to && to->failure_time)
        memcpy(to->failure_time + m0, from->failure_time, count * sizeof *to->failure_time);
    if (states_double) {
        memcpy(dst, slab->saved, n * sizeof(double));
    } else {
        const float *src = slab->saved;
        for (size_t i = 0; i < n; i++)
            dst[i] = (double)src[i];
    }
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
    ens_status st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return st;
    if (cfg->output_mode == ENS_OUTPUT_ID_STATS || cfg->output_mode == ENS_OUTPUT_ID_BOTH)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output mode %s writes statistics to a file: use ens_run",
                        cfg->output_mode == ENS_OUTPUT_ID_STATS ? "stats" : "both");
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

/* ---- sink: the caller's callback --------------------------------------- */

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
    ens_status st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return st;
    if (cfg->output_mode == ENS_OUTPUT_ID_STATS)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output mode stats has no states to hand over: use ens_run");
    callback_sink cs = {.fn = fn, .user = user, .nvars = cfg->nvars};
    ens_sink sink = {.write = callback_write, .self = &cs};
    return run_to_sink(cfg, &sink, info);
}

/* ---- sink: NetCDF file -------------------------------------------------- */

static ens_status netcdf_write(void *self, const ens_slab *slab, int states_double,
                               ens_error *err)
{
    ens_status st = ens_nc_write_batch(self, slab->m0, slab->count, slab->times, slab->saved,
                                       states_double, slab->params, err);
    return st != ENS_OK ? st : ens_nc_write_members(self, slab->m0, slab->count, &slab->members, err);
}

#ifdef ENSOL_HAVE_MPI
/* Statistics across ranks: rank 0 gathers every rank's moments (each over
 * its own members) and merges them in rank order, that is in member order,
 * with Chan's formula, so that the result does not depend on timing. The
 * table travels in pieces to bound rank 0's memory. The merged table is
 * then valid on rank 0 only: the others write no statistics (the writer
 * gives them zero-size counts). All ranks call this. */
#define ENS_REDUCE_PIECE ((size_t)1 << 15) /* moments per gather and rank */
static ens_status reduce_moments(ens_config *cfg, const ens_plan *plan, ens_moments *moments,
                                 ens_error *err)
{

    const size_t total = (size_t)plan->ntimes * (size_t)cfg->nvars;
    const size_t piece = total < ENS_REDUCE_PIECE ? total : ENS_REDUCE_PIECE;
    const int fields = (int)(sizeof(ens_moments) / sizeof(double));
    ens_moments *all = NULL;
    int ok = 1;
    if (plan->rank == 0) {
        all = malloc((size_t)plan->nranks * (piece > 0 ? piece : 1) * sizeof *all);
        ok = all != NULL;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY,
                        "out of memory for the statistics of %d MPI ranks", plan->nranks);
    for (size_t at = 0; at < total; at += piece) {
        const size_t n = total - at < piece ? total - at : piece;
        MPI_Gather(moments + at, (int)n * fields, MPI_DOUBLE, all, (int)n * fields, MPI_DOUBLE,
                   0, MPI_COMM_WORLD);
        if (plan->rank != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            ens_moments m = all[i];
            for (int r = 1; r < plan->nranks; r++)
                ens_moments_merge(&m, &all[(size_t)r * n + i]);
            moments[at + i] = m;
        }
    }
    free(all);
    return ENS_OK;
}
#endif

/* Which members a stopped run's file holds whole and which in part, as
 * counts and as ranges of global indices ("0-99 200-299") in one buffer
 * the caller frees; NULL when out of memory. A file shared by MPI ranks
 * gets every rank's (the same on all, as its attributes must be). */
static char *describe_progress(const ens_plan *plan, const ens_progress_state *done,
                               int shared_file, ens_nc_incomplete *inc)
{
    long long mine[3] = {plan->first, done->members_complete, done->members_partial};
    long long *all = mine;
    int n = 1;
#ifdef ENSOL_HAVE_MPI
    if (shared_file) {
        n = plan->nranks;
        all = malloc(3 * (size_t)n * sizeof *all);
        int ok = all != NULL;
        MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (!ok) {
            free(all);
            return NULL;
        }
        MPI_Allgather(mine, 3, MPI_LONG_LONG, all, 3, MPI_LONG_LONG, MPI_COMM_WORLD);
    }
#else
    (void)shared_file;
#endif
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

/* Close the file after run_batches: committed on success, kept and marked
 * incomplete when the run was stopped, removed on failure. */
static ens_status finish_file(ens_config *cfg, const ens_plan *plan, ens_nc_writer *writer,
                              int shared_file, ens_status st, const ens_progress_state *done,
                              const ens_batch_buffers *b)
{
    ens_error err;
    long long stats_times = done->stats_times;
#ifdef ENSOL_HAVE_MPI
    if (plan->stats && plan->nranks > 1) {
        /* Every rank takes part in the reduction and the (collective)
         * write, or none does. */
        int ok = st == ENS_OK || st == ENS_ERR_INTERRUPTED;
        MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, &stats_times, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
        if (ok) {
            ens_status rst = reduce_moments(cfg, plan, b->moments, &err);
            if (rst != ENS_OK && st == ENS_OK) {
                st = rst;
                cfg->error = err;
            }
        } else if (st == ENS_OK || st == ENS_ERR_INTERRUPTED) {
            st = ens_fail(&cfg->error, ENS_ERR_IO, "another MPI rank failed");
        }
    }
#endif
    if (plan->stats && (st == ENS_OK || st == ENS_ERR_INTERRUPTED)) {
        ens_status sst = ens_nc_write_stats(writer, stats_times, b->moments, &err);
        if (sst != ENS_OK && st == ENS_OK) {
            st = sst;
            cfg->error = err;
        }
    }
    ens_nc_outcome outcome = st == ENS_OK                 ? ENS_NC_COMMIT
                             : st == ENS_ERR_INTERRUPTED ? ENS_NC_KEEP_PARTIAL
                                                          : ENS_NC_DISCARD;
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
    char partial[4096];
    snprintf(partial, sizeof partial, "%s", ens_nc_partial_path(writer));
    ens_status cst = ens_nc_close(writer, outcome, &incomplete, &err);
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

ens_status ens_run(ens_config *cfg, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    if (!cfg->output_path)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "no output path set (ens_config_set_output_path)");
    ens_plan plan;
    ens_status st = plan_run(cfg, &plan, 1);
    if (st != ENS_OK)
        return st;

    double *times = malloc((size_t)plan.ntimes * sizeof *times);
    double *base = malloc((size_t)cfg->nvars * sizeof *base);
    int varies[ENS_MAX_PARAMS];
    double values[ENS_MAX_PARAMS];
    char variation[512];
    if (!times || !base) {
        free(times);
        free(base);
        release_plan(&plan);
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (long long t = 0; t < plan.ntimes; t++)
        times[t] = ens_config_time_at(cfg, t);
    /* dopri5's settings for the file's attributes. */
    ens_nc_adaptive adaptive = {.dt_min = cfg->dt_min,
                                .dt_max = cfg->dt_max,
                                .max_steps = ens_config_max_steps(cfg)};
    double *tol = NULL;
    if (cfg->integrator == ENS_INTEGRATOR_ID_DOPRI5) {
        tol = malloc(2 * (size_t)cfg->nvars * sizeof *tol);
        if (!tol) {
            free(times);
            free(base);
            release_plan(&plan);
            return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
        }
        ens_config_tolerances(cfg, tol, tol + cfg->nvars);
        adaptive.rtol = tol;
        adaptive.atol = tol + cfg->nvars;
    }
    for (int v = 0; v < cfg->nvars; v++)
        base[v] = cfg->base_state[cfg->base_len == 1 ? 0 : v];
    for (int j = 0; j < cfg->model->nparams; j++) {
        const int source = plan.source ? plan.source_info.param_source[j] : ENS_PARAM_FROM_CONFIG;
        varies[j] = source == ENS_PARAM_FROM_VARIABLE ||
                    (source == ENS_PARAM_FROM_CONFIG && cfg->params[j].kind != ENS_PARAM_SHARED);
        values[j] = source == ENS_PARAM_FROM_ATTRIBUTE ? plan.source_info.param_shared[j]
                                                       : cfg->params[j].value;
    }
    ens_config_describe_variation(cfg, variation, sizeof variation);

    const int output_type = cfg->output_type >= 0 ? cfg->output_type : cfg->precision;
    /* Several ranks write one file together, or each its own piece: when
     * asked to, or when NetCDF cannot write in parallel. */
    const int pieces = plan.nranks > 1 && (cfg->file_per_rank || !ens_has_parallel_io());
    const int shared_file = plan.nranks > 1 && !pieces;
    char piece_path[4096], restart_piece_path[4096];
    if (pieces && (ens_piece_path(cfg->output_path, plan.rank, piece_path,
                                  sizeof piece_path) != ENS_OK ||
                   (cfg->restart_path &&
                    ens_piece_path(cfg->restart_path, plan.rank, restart_piece_path,
                                   sizeof restart_piece_path) != ENS_OK))) {
        free(times);
        free(base);
        free(tol);
        release_plan(&plan);
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT, "output path too long: %s",
                        cfg->output_path);
    }
    ens_nc_spec spec = {
        .path = pieces ? piece_path : cfg->output_path,
        .model = cfg->model,
        .nvars = cfg->nvars,
        .members = plan.members,
        .ntimes = plan.ntimes,
        .times = times,
        .disk_double = output_type == ENS_PRECISION_ID_DOUBLE,
        .write_states = plan.trajectory,
        /* Pieces: the statistics over all ranks go in rank 0's. */
        .write_stats = plan.stats && (!pieces || plan.rank == 0),
        .deflate_level = cfg->deflate_level,
        .quantize_bits = cfg->quantize_bits,
        .cache_limit = writer_cache_limit(cfg),
        .param_varies = varies,
        .param_values = values,
        .history = cfg->history ? cfg->history : "ensol C API",
        .integrator = ens_choice_name(ENS_CHOICE_INTEGRATOR, cfg->integrator),
        .precision = ens_choice_name(ENS_CHOICE_PRECISION, cfg->precision),
        .output_mode = ens_choice_name(ENS_CHOICE_OUTPUT_MODE, cfg->output_mode),
        .backend = plan.ops->name,
        .device = plan.device,
        .param_variation = variation,
        .dt = cfg->dt,
        .steps = cfg->steps,
        .save_every = cfg->save_every,
        .seed = cfg->seed,
        .perturbation = cfg->perturbation,
        .base_state = base,
        .write_member_status = 1,
        .adaptive = tol ? &adaptive : NULL,
        .parallel = shared_file,
        .first_member = pieces ? plan.first : 0,
        .piece_members = pieces ? plan.end - plan.first : 0,
    };
    /* The restart file: every member's final state, exact, in double. */
    const double end_time = cfg->init_time + (double)cfg->steps * cfg->dt;
    ens_nc_spec restart_spec = spec;
    restart_spec.path = pieces ? restart_piece_path : cfg->restart_path;
    restart_spec.ntimes = 1;
    restart_spec.times = &end_time;
    restart_spec.disk_double = 1;
    restart_spec.write_states = 1;
    restart_spec.write_stats = 0;
    restart_spec.deflate_level = 0;
    restart_spec.quantize_bits = 0;
    restart_spec.output_mode = "final";
    restart_spec.write_steps = plan.save_steps;
    restart_spec.steps_done = (plan.resume_steps > 0 ? plan.resume_steps : 0) + cfg->steps;

    ens_nc_writer *writer = NULL, *restart = NULL;
    ens_batch_buffers b;
    /* Every rank opens its files, or none goes on (agree). */
    st = alloc_buffers(cfg, &plan, &b);
    agree(cfg, &plan, &st);
    if (st == ENS_OK && cfg->restart_path) {
        st = ens_nc_open(&restart_spec, &restart, &cfg->error);
        agree(cfg, &plan, &st);
    }
    if (st == ENS_OK) {
        st = ens_nc_open(&spec, &writer, &cfg->error);
        const int opened = st == ENS_OK;
        agree(cfg, &plan, &st);
        if (opened && st != ENS_OK) {
            ens_error ignored;
            ens_nc_close(writer, ENS_NC_DISCARD, NULL, &ignored);
        }
        if (st == ENS_OK) {
            ens_sink sink = {.write = netcdf_write, .self = writer};
            ens_progress_state done;
            if (info)
                memset(info, 0, sizeof *info);
            st = run_batches(cfg, &plan, &sink, restart, shared_file, info, &done, &b);
            unsigned long long bytes = ens_nc_bytes_written(writer);
            st = finish_file(cfg, &plan, writer, shared_file, st, &done, &b);
            if (info)
                info->bytes_written = bytes;
#ifdef ENSOL_HAVE_MPI
            if (info && plan.nranks > 1) {
                /* The whole run's figures: sums over ranks, the slowest
                 * rank's times; the rate is the sum of the ranks' rates. */
                MPI_Allreduce(MPI_IN_PLACE, &info->seconds, 1, MPI_DOUBLE, MPI_MAX,
                              MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->compute_seconds, 1, MPI_DOUBLE, MPI_MAX,
                              MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->member_steps_per_second, 1, MPI_DOUBLE,
                              MPI_SUM, MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->batches, 1, MPI_LONG_LONG, MPI_SUM,
                              MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->members_failed, 1, MPI_LONG_LONG, MPI_SUM,
                              MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->bytes_written, 1, MPI_UNSIGNED_LONG_LONG,
                              MPI_SUM, MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, info->members_by_status,
                              (int)(sizeof info->members_by_status /
                                    sizeof info->members_by_status[0]),
                              MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->steps_accepted, 1, MPI_LONG_LONG, MPI_SUM,
                              MPI_COMM_WORLD);
                MPI_Allreduce(MPI_IN_PLACE, &info->steps_rejected, 1, MPI_LONG_LONG, MPI_SUM,
                              MPI_COMM_WORLD);
            }
#endif
        }
    }
    if (restart) {
        ens_error err;
        ens_status rst = ens_nc_close(restart, st == ENS_OK ? ENS_NC_COMMIT : ENS_NC_DISCARD,
                                      NULL, &err);
        if (st == ENS_OK && rst != ENS_OK) {
            st = rst;
            cfg->error = err;
        }
    }
    if (b.state)
        free_buffers(&b);
    free(times);
    free(base);
    free(tol);
    release_plan(&plan);
    return st;
}
