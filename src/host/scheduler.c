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

#include "backends/backend.h"
#include "core/config.h"
#include "io/ncwriter.h"

/* Below this many members a host loop runs on one thread: waking a team
 * costs more than the loop. */
#define ENS_PARALLEL_MIN_MEMBERS 4096

/* Host memory the batch buffers may use when the caller sets no batch size. */
#define ENS_DEFAULT_BATCH_BUDGET_BYTES (1024.0 * 1024.0 * 1024.0)

typedef struct ens_sink {
    /* states: (member, time, var) for members [m0, m0 + count);
     * params: [param * count + i] */
    ens_status (*write)(void *self, long long m0, long long count, const void *states,
                        int states_double, const double *params, ens_error *err);
    void *self;
} ens_sink;

typedef struct ens_plan {
    const ens_backend_ops *ops;
    void *backend;
    char device[128];
    ens_backend_job job;
    long long members;
    long long ntimes;
    long long batch;
    size_t real_size;
} ens_plan;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static ens_status select_backend(ens_config *cfg, const ens_backend_ops **out)
{
    char detail[256];
    if (strcmp(cfg->backend, "auto") == 0) {
        for (int i = 0; i < ens_backends_count(); i++) {
            const ens_backend_ops *ops = ens_backends_at(i);
            if (ops->probe(detail, sizeof detail) == ENS_OK &&
                (!ops->auto_eligible || ops->auto_eligible())) {
                *out = ops;
                return ENS_OK;
            }
        }
        return ens_fail(&cfg->error, ENS_ERR_BACKEND_UNAVAILABLE, "no backend can run here");
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

static long long choose_batch(const ens_config *cfg, long long members, long long ntimes,
                              size_t real_size)
{
    if (cfg->batch_members > 0)
        return cfg->batch_members < members ? cfg->batch_members : members;
    /* Per member: the saved trajectory, the state twice and the parameters. */
    double per_member = (double)real_size * ((double)cfg->nvars * (double)(ntimes + 2) +
                                             (double)cfg->model->nparams) +
                        8.0 * cfg->model->nparams;
    double batch = floor(ENS_DEFAULT_BATCH_BUDGET_BYTES / per_member);
    if (batch < 1)
        batch = 1;
    return batch < (double)members ? (long long)batch : members;
}

static ens_status plan_run(ens_config *cfg, ens_plan *plan)
{
    ens_status st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return st;
    memset(plan, 0, sizeof *plan);
    st = select_backend(cfg, &plan->ops);
    if (st != ENS_OK)
        return st;
    plan->members = ens_config_members(cfg);
    plan->ntimes = ens_config_ntimes(cfg);
    plan->real_size = cfg->precision == ENS_PRECISION_ID_FLOAT ? sizeof(float) : sizeof(double);
    plan->batch = choose_batch(cfg, plan->members, plan->ntimes, plan->real_size);
    plan->job = (ens_backend_job){
        .model = cfg->model->id,
        .nvars = cfg->nvars,
        .nparams = cfg->model->nparams,
        .integrator = cfg->integrator,
        .precision = (ens_precision_id)cfg->precision,
        .dt = cfg->dt,
        .threads = cfg->threads,
        .strict_fp = cfg->strict_fp,
        .device = cfg->device,
        .capacity = plan->batch,
    };
    st = plan->ops->create(&plan->job, &plan->backend, &cfg->error);
    if (st != ENS_OK)
        return st;
    plan->batch = plan->job.capacity;
    plan->ops->describe(plan->backend, plan->device, sizeof plan->device);
    return ENS_OK;
}

/* Buffers of one batch, allocated once for the whole run. */
typedef struct ens_batch_buffers {
    void *state;         /* SoA, compute precision: upload source and download target */
    void *params;        /* SoA, compute precision */
    double *params_out;  /* SoA, double, for the sink */
    void *saved;         /* (member, time, var), compute precision */
} ens_batch_buffers;

static void free_buffers(ens_batch_buffers *b)
{
    free(b->state);
    free(b->params);
    free(b->params_out);
    free(b->saved);
}

static ens_status alloc_buffers(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b)
{
    const size_t batch = (size_t)plan->batch;
    const size_t nparams = (size_t)(cfg->model->nparams > 0 ? cfg->model->nparams : 1);
    memset(b, 0, sizeof *b);
    b->state = malloc(batch * (size_t)cfg->nvars * plan->real_size);
    b->params = malloc(batch * nparams * plan->real_size);
    b->params_out = malloc(batch * nparams * sizeof(double));
    b->saved = malloc(batch * (size_t)plan->ntimes * (size_t)cfg->nvars * plan->real_size);
    if (!b->state || !b->params || !b->params_out || !b->saved) {
        free_buffers(b);
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY,
                        "cannot allocate buffers for a batch of %lld members x %lld saved "
                        "times (set a smaller batch)",
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

static void fill_batch(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                       long long m0, long long count)
{
    const int nvars = cfg->nvars;
    const int nparams = cfg->model->nparams;
#pragma omp parallel if (count >= ENS_PARALLEL_MIN_MEMBERS)
    {
        double *x = malloc((size_t)nvars * sizeof *x);
#pragma omp for schedule(static)
        for (long long i = 0; i < count; i++) {
            if (x) {
                ens_config_initial_state(cfg, m0 + i, x);
                for (int v = 0; v < nvars; v++)
                    put_real(plan, b->state, (size_t)v * (size_t)count + (size_t)i, x[v]);
            }
            for (int j = 0; j < nparams; j++) {
                double value = ens_config_param_value(cfg, j, m0 + i);
                b->params_out[(size_t)j * (size_t)count + (size_t)i] = value;
                put_real(plan, b->params, (size_t)j * (size_t)count + (size_t)i, value);
            }
        }
        free(x);
    }
}

/* Copy the batch's current state (SoA) into saved time t of (member, time, var). */
static void save_time(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                      long long count, long long t)
{
    const size_t nvars = (size_t)cfg->nvars;
    const size_t ntimes = (size_t)plan->ntimes;
    const size_t elt = plan->real_size;
#pragma omp parallel for schedule(static) if (count >= ENS_PARALLEL_MIN_MEMBERS)
    for (long long i = 0; i < count; i++)
        for (size_t v = 0; v < nvars; v++)
            memcpy((char *)b->saved + (((size_t)i * ntimes + (size_t)t) * nvars + v) * elt,
                   (const char *)b->state + (v * (size_t)count + (size_t)i) * elt, elt);
}

static long long count_failed(const ens_config *cfg, const ens_plan *plan,
                              const ens_batch_buffers *b, long long count)
{
    long long failed = 0;
#pragma omp parallel for reduction(+ : failed) schedule(static) \
    if (count >= ENS_PARALLEL_MIN_MEMBERS)
    for (long long i = 0; i < count; i++) {
        int bad = 0;
        for (size_t v = 0; v < (size_t)cfg->nvars; v++)
            bad |= !isfinite(get_real(plan, b->state, v * (size_t)count + (size_t)i));
        failed += bad;
    }
    return failed;
}

/* Steps per backend call when only the final state is kept: long enough
 * that streaming the state through memory between calls costs little next
 * to the integration, short enough for about 100 progress updates. */
static long long final_mode_interval(long long steps)
{
    const long long interval = steps / 100 > 1000 ? steps / 100 : 1000;
    return interval < steps ? interval : steps;
}

static ens_status run_batches(ens_config *cfg, ens_plan *plan, ens_sink *sink,
                              ens_run_info *info)
{
    ens_batch_buffers b;
    ens_status st = alloc_buffers(cfg, plan, &b);
    if (st != ENS_OK)
        return st;
    const double start = now_seconds();
    const double total_member_steps = (double)plan->members * (double)cfg->steps;
    const long long interval = cfg->output_mode == ENS_OUTPUT_ID_TRAJECTORY
                                   ? cfg->save_every
                                   : final_mode_interval(cfg->steps);
    double compute = 0.0;
    double member_steps_done = 0.0;
    long long batches = 0, failed = 0;

    for (long long m0 = 0; m0 < plan->members && st == ENS_OK; m0 += plan->batch) {
        const long long count = plan->members - m0 < plan->batch ? plan->members - m0 : plan->batch;
        fill_batch(cfg, plan, &b, m0, count);
        st = plan->ops->upload(plan->backend, count, b.state, b.params, &cfg->error);
        long long t = 0;
        if (st == ENS_OK && cfg->output_mode == ENS_OUTPUT_ID_TRAJECTORY)
            save_time(cfg, plan, &b, count, t++);
        for (long long done = 0; done < cfg->steps && st == ENS_OK;) {
            const long long n = cfg->steps - done < interval ? cfg->steps - done : interval;
            const double t0 = now_seconds();
            st = plan->ops->advance(plan->backend, n, &cfg->error);
            compute += now_seconds() - t0;
            done += n;
            member_steps_done += (double)count * (double)n;
            const int last = done == cfg->steps;
            if (st == ENS_OK && (cfg->output_mode == ENS_OUTPUT_ID_TRAJECTORY || last)) {
                st = plan->ops->download(plan->backend, b.state, &cfg->error);
                if (st == ENS_OK)
                    save_time(cfg, plan, &b, count, t++);
            }
            if (st == ENS_OK && cfg->progress) {
                const double elapsed = now_seconds() - start;
                ens_progress p = {
                    .members_done = m0 + (last ? count : 0),
                    .members_total = plan->members,
                    .fraction = member_steps_done / total_member_steps,
                    .sim_time = (double)done * cfg->dt,
                    .elapsed_seconds = elapsed,
                    .member_steps_per_second = compute > 0 ? member_steps_done / compute : 0.0,
                };
                if (cfg->progress(&p, cfg->progress_user))
                    st = ens_fail(&cfg->error, ENS_ERR_INTERRUPTED,
                                  "run interrupted after %lld of %lld members", m0,
                                  plan->members);
            }
        }
        if (st == ENS_OK) {
            failed += count_failed(cfg, plan, &b, count);
            st = sink->write(sink->self, m0, count, b.saved, plan->real_size == sizeof(double),
                             b.params_out, &cfg->error);
        }
        batches++;
    }
    free_buffers(&b);
    if (info) {
        snprintf(info->backend, sizeof info->backend, "%s", plan->ops->name);
        snprintf(info->device, sizeof info->device, "%s", plan->device);
        info->seconds = now_seconds() - start;
        info->compute_seconds = compute;
        info->member_steps_per_second = compute > 0 ? member_steps_done / compute : 0.0;
        info->batches = batches;
        info->members_failed = failed;
    }
    return st;
}

/* ---- sink: caller memory ------------------------------------------------ */

typedef struct memory_sink {
    double *out;
    long long ntimes;
    int nvars;
} memory_sink;

static ens_status memory_write(void *self, long long m0, long long count, const void *states,
                               int states_double, const double *params, ens_error *err)
{
    (void)params;
    (void)err;
    memory_sink *ms = self;
    const size_t n = (size_t)count * (size_t)ms->ntimes * (size_t)ms->nvars;
    double *dst = ms->out + (size_t)m0 * (size_t)ms->ntimes * (size_t)ms->nvars;
    if (states_double) {
        memcpy(dst, states, n * sizeof(double));
    } else {
        const float *src = states;
        for (size_t i = 0; i < n; i++)
            dst[i] = (double)src[i];
    }
    return ENS_OK;
}

ens_status ens_run_to_memory(ens_config *cfg, double *out, size_t count, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    ens_status st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return st;
    const double needed = (double)ens_config_members(cfg) * (double)ens_config_ntimes(cfg) *
                          (double)cfg->nvars;
    if (!out || (double)count < needed)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "output buffer holds %zu values but the run produces %.0f", count, needed);
    ens_plan plan;
    st = plan_run(cfg, &plan);
    if (st != ENS_OK)
        return st;
    memory_sink ms = {.out = out, .ntimes = plan.ntimes, .nvars = cfg->nvars};
    ens_sink sink = {.write = memory_write, .self = &ms};
    if (info)
        memset(info, 0, sizeof *info);
    st = run_batches(cfg, &plan, &sink, info);
    plan.ops->destroy(plan.backend);
    return st;
}

/* ---- sink: NetCDF file -------------------------------------------------- */

static ens_status netcdf_write(void *self, long long m0, long long count, const void *states,
                               int states_double, const double *params, ens_error *err)
{
    return ens_nc_write_batch(self, m0, count, states, states_double, params, err);
}

static const char *integrator_name(int id) { return id == ENS_INTEGRATOR_ID_RK4 ? "rk4" : "euler"; }

static const char *precision_name(int id)
{
    return id == ENS_PRECISION_ID_FLOAT ? "float" : "double";
}

ens_status ens_run(ens_config *cfg, ens_run_info *info)
{
    if (!cfg)
        return ENS_ERR_INVALID_ARGUMENT;
    if (!cfg->output_path)
        return ens_fail(&cfg->error, ENS_ERR_INVALID_ARGUMENT,
                        "no output path set (ens_config_set_output_path)");
    ens_plan plan;
    ens_status st = plan_run(cfg, &plan);
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
        plan.ops->destroy(plan.backend);
        return ens_fail(&cfg->error, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (long long t = 0; t < plan.ntimes; t++)
        times[t] = ens_config_time_at(cfg, t);
    for (int v = 0; v < cfg->nvars; v++)
        base[v] = cfg->base_state[cfg->base_len == 1 ? 0 : v];
    for (int j = 0; j < cfg->model->nparams; j++) {
        varies[j] = cfg->params[j].kind != ENS_PARAM_SHARED;
        values[j] = cfg->params[j].value;
    }
    ens_config_describe_variation(cfg, variation, sizeof variation);

    const int output_type = cfg->output_type >= 0 ? cfg->output_type : cfg->precision;
    ens_nc_spec spec = {
        .path = cfg->output_path,
        .model = cfg->model,
        .nvars = cfg->nvars,
        .members = plan.members,
        .ntimes = plan.ntimes,
        .times = times,
        .disk_double = output_type == ENS_PRECISION_ID_DOUBLE,
        .param_varies = varies,
        .param_values = values,
        .history = cfg->history ? cfg->history : "ensol C API",
        .integrator = integrator_name(cfg->integrator),
        .precision = precision_name(cfg->precision),
        .output_mode = cfg->output_mode == ENS_OUTPUT_ID_FINAL ? "final" : "trajectory",
        .backend = plan.ops->name,
        .device = plan.device,
        .param_variation = variation,
        .dt = cfg->dt,
        .steps = cfg->steps,
        .save_every = cfg->save_every,
        .seed = cfg->seed,
        .perturbation = cfg->perturbation,
        .base_state = base,
    };
    ens_nc_writer *writer = NULL;
    st = ens_nc_open(&spec, &writer, &cfg->error);
    if (st == ENS_OK) {
        ens_sink sink = {.write = netcdf_write, .self = writer};
        if (info)
            memset(info, 0, sizeof *info);
        st = run_batches(cfg, &plan, &sink, info);
        unsigned long long bytes = ens_nc_bytes_written(writer);
        /* On failure the writer removes the partial file; keep the first error. */
        ens_error close_err;
        ens_status close_st = ens_nc_close(writer, st == ENS_OK, &close_err);
        if (st == ENS_OK && close_st != ENS_OK) {
            st = close_st;
            cfg->error = close_err;
        }
        if (info)
            info->bytes_written = bytes;
    }
    free(times);
    free(base);
    plan.ops->destroy(plan.backend);
    return st;
}
