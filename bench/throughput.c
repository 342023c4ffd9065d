/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol_throughput: member-steps per second of an ensol run, side by side
 * with the hand-written yardstick loop (yardstick.c) for the same maths.
 *
 *   ensol_throughput [--model lorenz63] [--integrator euler|rk4|both]
 *                    [--precision float|double] [--members N] [--steps N]
 *                    [--output-mode final|trajectory] [--save-every K]
 *                    [--repeats R] [--threads T] [--backend NAME]
 *                    [--no-yardstick] [--csv FILE] ...   (--help for all)
 *
 * For each integrator: a short correctness check of the yardstick against
 * ensol (final states after --check-steps steps, same initial states), one
 * warm-up run of each, then R runs of each interleaved (ensol, yardstick,
 * ensol, yardstick, ...) so that both see the same machine load. ensol runs
 * through the public API (ens_run_to_memory); its throughput is
 * members*steps / info.compute_seconds (the time spent integrating), and
 * its wall time (the whole ens_run_to_memory call) is reported too. The
 * yardstick's time is its loop only. Speed is compared as ratios measured
 * in the same run, because the machine is shared and noisy.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_stats.h" /* src/cli/: shared with ensol bench */
#include "ensol/ensol.h"
#include "yardstick.h"

/* ---- options ------------------------------------------------------------------ */

typedef struct options {
    const char *model;
    const char *integrators[2];
    int n_integrators;
    const char *precision;
    long long members;
    long long steps;
    const char *output_mode;
    long long save_every;       /* 0: library default */
    int repeats;
    int threads;                /* 0: all */
    const char *backend;
    int yardstick;
    ys_vector yardstick_vector;
    const char *csv;
    double dt;                  /* 0: library default (lorenz63: 0.01 is set) */
    double perturbation;
    long long seed;             /* -1: library default */
    long long check_steps;      /* 0: no check */
    long long check_members;    /* the second, odd-sized check set */
    const char *dump_check;
    int strict_fp;              /* ensol strict fp, yardstick *_strict */
} options;

static void usage(FILE *f)
{
    fprintf(f,
"usage: ensol_throughput [options]\n"
"Member-steps per second of ensol (public API, ens_run_to_memory) and of the\n"
"hand-written yardstick loop, side by side, interleaved, in one run.\n"
"  --model NAME            lorenz63 (default) or lorenz96 (no yardstick)\n"
"  --integrator I          euler, rk4 or both (default both)\n"
"  --precision P           double (default) or float\n"
"  --members N             ensemble size (default 1000000)\n"
"  --steps N               steps per member (default 1000)\n"
"  --output-mode M         final (default) or trajectory\n"
"  --save-every K          trajectory mode: save every K steps\n"
"  --repeats R             timed runs of each (default 5), after one warm-up\n"
"  --threads T             CPU threads for both (default 0: all)\n"
"  --backend NAME          ensol backend (default auto)\n"
"  --no-yardstick          time ensol only\n"
"  --yardstick-vector V    512 (default): the loop with a 512-bit vector\n"
"                          preference; build: the build flags' choice\n"
"  --csv FILE              also write the summary rows as CSV\n"
"  --dt DT                 time step (default 0.01 for lorenz63, else the\n"
"                          library's default)\n"
"  --perturbation S        initial noise stddev (default 0.5)\n"
"  --seed S                ensemble seed (default: the library's)\n"
"  --strict-fp             ensol without FMA contraction\n"
"                          (ens_config_set_strict_fp), against the yardstick\n"
"                          built without contraction (default: both contract)\n"
"  --check-steps N         steps of the agreement check (default 100; 0: none)\n"
"  --check-members N       size of the second, odd-sized check set (default 4099)\n"
"  --dump-check PREFIX     write that check set's initial states to\n"
"                          PREFIX.init.f64 and ensol's states after the check\n"
"                          steps to PREFIX.<integrator>.f64 (raw float64,\n"
"                          x block, y block, z block) for bench/peers/\n"
"  --help\n");
}

static long long parse_ll(const char *opt, const char *s, long long lo)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo) {
        fprintf(stderr, "ensol_throughput: %s %s: expected an integer >= %lld\n", opt, s, lo);
        exit(2);
    }
    return v;
}

static double parse_double(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        fprintf(stderr, "ensol_throughput: %s %s: expected a number\n", opt, s);
        exit(2);
    }
    return v;
}

static void parse_options(int argc, char **argv, options *o)
{
    enum { O_MODEL = 256, O_INTEGRATOR, O_PRECISION, O_MEMBERS, O_STEPS, O_OUTPUT_MODE,
           O_SAVE_EVERY, O_REPEATS, O_THREADS, O_BACKEND, O_NO_YARDSTICK, O_YS_VECTOR,
           O_CSV, O_DT, O_PERTURBATION, O_SEED, O_CHECK_STEPS, O_CHECK_MEMBERS,
           O_DUMP_CHECK, O_STRICT_FP, O_HELP };
    static const struct option longopts[] = {
        {"model", required_argument, NULL, O_MODEL},
        {"integrator", required_argument, NULL, O_INTEGRATOR},
        {"precision", required_argument, NULL, O_PRECISION},
        {"members", required_argument, NULL, O_MEMBERS},
        {"steps", required_argument, NULL, O_STEPS},
        {"output-mode", required_argument, NULL, O_OUTPUT_MODE},
        {"save-every", required_argument, NULL, O_SAVE_EVERY},
        {"repeats", required_argument, NULL, O_REPEATS},
        {"threads", required_argument, NULL, O_THREADS},
        {"backend", required_argument, NULL, O_BACKEND},
        {"no-yardstick", no_argument, NULL, O_NO_YARDSTICK},
        {"yardstick-vector", required_argument, NULL, O_YS_VECTOR},
        {"csv", required_argument, NULL, O_CSV},
        {"dt", required_argument, NULL, O_DT},
        {"perturbation", required_argument, NULL, O_PERTURBATION},
        {"seed", required_argument, NULL, O_SEED},
        {"check-steps", required_argument, NULL, O_CHECK_STEPS},
        {"check-members", required_argument, NULL, O_CHECK_MEMBERS},
        {"dump-check", required_argument, NULL, O_DUMP_CHECK},
        {"strict-fp", no_argument, NULL, O_STRICT_FP},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};

    memset(o, 0, sizeof *o);
    o->model = "lorenz63";
    o->integrators[0] = "euler";
    o->integrators[1] = "rk4";
    o->n_integrators = 2;
    o->precision = "double";
    o->members = 1000000;
    o->steps = 1000;
    o->output_mode = "final";
    o->repeats = 5;
    o->backend = "auto";
    o->yardstick = 1;
    o->yardstick_vector = YS_VEC_512;
    o->perturbation = 0.5;
    o->seed = -1;
    o->check_steps = 100;
    o->check_members = 4099;

    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_INTEGRATOR:
            if (strcmp(optarg, "both") == 0) {
                o->n_integrators = 2;
            } else if (strcmp(optarg, "euler") == 0 || strcmp(optarg, "rk4") == 0) {
                o->integrators[0] = optarg;
                o->n_integrators = 1;
            } else {
                fprintf(stderr, "ensol_throughput: --integrator %s: expected euler, rk4 or both\n", optarg);
                exit(2);
            }
            break;
        case O_PRECISION:
            if (strcmp(optarg, "float") && strcmp(optarg, "double")) {
                fprintf(stderr, "ensol_throughput: --precision %s: expected float or double\n", optarg);
                exit(2);
            }
            o->precision = optarg;
            break;
        case O_MEMBERS: o->members = parse_ll("--members", optarg, 1); break;
        case O_STEPS: o->steps = parse_ll("--steps", optarg, 1); break;
        case O_OUTPUT_MODE:
            if (strcmp(optarg, "final") && strcmp(optarg, "trajectory")) {
                fprintf(stderr, "ensol_throughput: --output-mode %s: expected final or trajectory\n", optarg);
                exit(2);
            }
            o->output_mode = optarg;
            break;
        case O_SAVE_EVERY: o->save_every = parse_ll("--save-every", optarg, 1); break;
        case O_REPEATS: o->repeats = (int)parse_ll("--repeats", optarg, 1); break;
        case O_THREADS: o->threads = (int)parse_ll("--threads", optarg, 0); break;
        case O_BACKEND: o->backend = optarg; break;
        case O_NO_YARDSTICK: o->yardstick = 0; break;
        case O_YS_VECTOR:
            if (strcmp(optarg, "512") == 0)
                o->yardstick_vector = YS_VEC_512;
            else if (strcmp(optarg, "build") == 0)
                o->yardstick_vector = YS_VEC_BUILD;
            else {
                fprintf(stderr, "ensol_throughput: --yardstick-vector %s: expected 512 or build\n", optarg);
                exit(2);
            }
            break;
        case O_CSV: o->csv = optarg; break;
        case O_DT: o->dt = parse_double("--dt", optarg); break;
        case O_PERTURBATION: o->perturbation = parse_double("--perturbation", optarg); break;
        case O_SEED: o->seed = parse_ll("--seed", optarg, 0); break;
        case O_CHECK_STEPS: o->check_steps = parse_ll("--check-steps", optarg, 0); break;
        case O_CHECK_MEMBERS: o->check_members = parse_ll("--check-members", optarg, 1); break;
        case O_DUMP_CHECK: o->dump_check = optarg; break;
        case O_STRICT_FP: o->strict_fp = 1; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ensol_throughput: unexpected argument %s\n", argv[optind]);
        usage(stderr);
        exit(2);
    }
    if (o->dt == 0 && strcmp(o->model, "lorenz63") == 0)
        o->dt = 0.01;
    if (strcmp(o->model, "lorenz63") != 0 && o->yardstick) {
        fprintf(stderr, "ensol_throughput: the yardstick is Lorenz-63 only; timing ensol alone\n");
        o->yardstick = 0;
    }
    if (!o->yardstick) {
        o->check_steps = 0;
        if (o->dump_check)
            fprintf(stderr, "ensol_throughput: --dump-check needs the yardstick's check; ignored\n");
        o->dump_check = NULL;
    }
}

/* ---- helpers -------------------------------------------------------------------- */

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "ensol_throughput: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

typedef bs_stats stats;
#define summarise bs_summarise

#define CHECK_ENS(cfg, call)                                                        \
    do {                                                                           \
        ens_status st_ = (call);                                                   \
        if (st_ != ENS_OK) {                                                       \
            fprintf(stderr, "ensol_throughput: %s: %s (%s)\n", #call,             \
                    ens_status_string(st_), ens_config_last_error(cfg));           \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

static ens_config *make_config(const options *o, const char *integrator, long long members,
                               long long steps, const char *output_mode)
{
    ens_config *cfg = NULL;
    if (ens_config_create(&cfg) != ENS_OK || !cfg) {
        fprintf(stderr, "ensol_throughput: ens_config_create failed\n");
        exit(1);
    }
    CHECK_ENS(cfg, ens_config_set_model(cfg, o->model));
    CHECK_ENS(cfg, ens_config_set_members(cfg, members));
    CHECK_ENS(cfg, ens_config_set_perturbation(cfg, o->perturbation));
    if (o->seed >= 0)
        CHECK_ENS(cfg, ens_config_set_seed(cfg, (uint64_t)o->seed));
    CHECK_ENS(cfg, ens_config_set_integrator(cfg, integrator));
    if (o->dt > 0)
        CHECK_ENS(cfg, ens_config_set_dt(cfg, o->dt));
    CHECK_ENS(cfg, ens_config_set_steps(cfg, steps));
    CHECK_ENS(cfg, ens_config_set_precision(cfg, o->precision));
    CHECK_ENS(cfg, ens_config_set_backend(cfg, o->backend));
    CHECK_ENS(cfg, ens_config_set_threads(cfg, o->threads));
    if (o->strict_fp)
        CHECK_ENS(cfg, ens_config_set_strict_fp(cfg, 1));
    CHECK_ENS(cfg, ens_config_set_output_mode(cfg, output_mode));
    if (strcmp(output_mode, "trajectory") == 0 && o->save_every > 0)
        CHECK_ENS(cfg, ens_config_set_save_every(cfg, o->save_every));
    CHECK_ENS(cfg, ens_config_validate(cfg));
    return cfg;
}

/* Run ensol; returns the wall seconds of the call. */
static double run_ensol(ens_config *cfg, double *out, size_t count, ens_run_info *info)
{
    memset(info, 0, sizeof *info);
    double t0 = bs_now();
    CHECK_ENS(cfg, ens_run_to_memory(cfg, out, count, info));
    double wall = bs_now() - t0;
    if (info->members_failed)
        fprintf(stderr, "ensol_throughput: warning: %lld members became NaN or Inf\n",
                info->members_failed);
    return wall;
}

/* Initial states of all members, SoA: init[v * n + m]. */
static double *initial_states(ens_config *cfg, long long n)
{
    double *init = xmalloc((size_t)n * 3 * sizeof *init);
    double s[3];
    for (long long m = 0; m < n; m++) {
        CHECK_ENS(cfg, ens_config_member_initial_state(cfg, m, s));
        for (int v = 0; v < 3; v++)
            init[v * n + m] = s[v];
    }
    return init;
}

/* The yardstick on a working copy of `init` (SoA doubles, converted to the
 * working precision outside the timed region). Returns its loop's seconds;
 * the final state, as doubles, goes to `final` (SoA) when not NULL. */
typedef struct yardstick_problem {
    int is_float;
    ys_integrator integrator;
    long long n;
    double p[3];
    double dt;
    int threads;
    ys_vector vector;
    int strict;
    void *work;                 /* n*3 values of the precision */
} yardstick_problem;

static double run_yardstick(yardstick_problem *y, const double *init, double *final,
                            long long steps)
{
    const size_t nv = (size_t)y->n * 3;
    double t0, t1;
    if (y->is_float) {
        float *w = y->work;
        const float pf[3] = {(float)y->p[0], (float)y->p[1], (float)y->p[2]};
        for (size_t i = 0; i < nv; i++)
            w[i] = (float)init[i];
        t0 = bs_now();
        (y->strict ? ys_lorenz63_f_strict : ys_lorenz63_f)(y->integrator, y->n, w, pf,
                                                           (float)y->dt, steps, y->threads,
                                                           y->vector);
        t1 = bs_now();
        if (final)
            for (size_t i = 0; i < nv; i++)
                final[i] = w[i];
    } else {
        double *w = y->work;
        memcpy(w, init, nv * sizeof *w);
        t0 = bs_now();
        (y->strict ? ys_lorenz63_d_strict : ys_lorenz63_d)(y->integrator, y->n, w, y->p, y->dt,
                                                           steps, y->threads, y->vector);
        t1 = bs_now();
        if (final)
            memcpy(final, w, nv * sizeof *w);
    }
    return t1 - t0;
}

static void write_raw(const char *path, const double *v, size_t count)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof *v, count, f) != count || fclose(f) != 0) {
        fprintf(stderr, "ensol_throughput: cannot write %s\n", path);
        exit(1);
    }
}

/* ---- the agreement check ----------------------------------------------------------
 * The yardstick must compute what ensol computes: same initial states (from
 * ens_config_member_initial_state), same formulas in the same order, so
 * the final states agree to rounding. The horizon is short on purpose:
 * Lorenz-63 is chaotic (largest Lyapunov exponent ~0.9 per time unit), so
 * a last-bit difference (an FMA contraction, a different operation order)
 * grows roughly like e^(0.9 t), locally faster; after 1000 steps of 0.01
 * (t = 10) float differences reach the size of the attractor and the
 * comparison would say nothing. 100 steps (t = 1) keeps rounding-level
 * differences around 1e-13 (double) or 1e-5 (float) relative, while a wrong
 * formula shows up at O(1e-3) or more. */
static int check_agreement(const options *o, const char *integrator, long long n,
                           const char *dump_prefix)
{
    ens_config *cfg = make_config(o, integrator, n, o->check_steps, "final");
    double *init = initial_states(cfg, n);
    double *ens_out = xmalloc((size_t)n * 3 * sizeof *ens_out);
    double *ys_final = xmalloc((size_t)n * 3 * sizeof *ys_final);
    ens_run_info info;
    run_ensol(cfg, ens_out, (size_t)n * 3, &info);

    const int is_float = strcmp(o->precision, "float") == 0;
    yardstick_problem y = {is_float, strcmp(integrator, "rk4") == 0 ? YS_RK4 : YS_EULER, n,
                           {0, 0, 0}, o->dt, o->threads, o->yardstick_vector, o->strict_fp, NULL};
    static const char *pnames[3] = {"sigma", "rho", "beta"};
    for (int i = 0; i < 3; i++)
        CHECK_ENS(cfg, ens_config_member_param(cfg, 0, pnames[i], &y.p[i]));
    y.work = xmalloc((size_t)n * 3 * (is_float ? sizeof(float) : sizeof(double)));
    run_yardstick(&y, init, ys_final, o->check_steps);

    const double tol = is_float ? 1e-4 : 1e-9;
    double max_rel = 0;
    long long identical = 0, bad = 0, worst = 0;
    for (long long m = 0; m < n; m++) {
        int same = 1;
        for (int v = 0; v < 3; v++) {
            const double a = ens_out[m * 3 + v], b = ys_final[v * n + m];
            const double rel = fabs(a - b) / fmax(1.0, fabs(a));
            if (a != b)
                same = 0;
            if (!(rel <= tol))
                bad++;
            if (!(rel <= max_rel)) {
                max_rel = rel;
                worst = m;
            }
        }
        identical += same;
    }
    printf("check %-5s %lld members x %lld steps: max |ensol - yardstick| / max(1,|ensol|)"
           " = %.2g (member %lld), %lld/%lld members bitwise identical: %s\n",
           integrator, n, o->check_steps, max_rel, worst, identical, n,
           bad ? "FAIL" : "ok");

    if (dump_prefix) {
        char path[4096];
        double *ens_soa = xmalloc((size_t)n * 3 * sizeof *ens_soa);
        for (long long m = 0; m < n; m++)
            for (int v = 0; v < 3; v++)
                ens_soa[v * n + m] = ens_out[m * 3 + v];
        snprintf(path, sizeof path, "%s.init.f64", dump_prefix);
        write_raw(path, init, (size_t)n * 3);
        snprintf(path, sizeof path, "%s.%s.f64", dump_prefix, integrator);
        write_raw(path, ens_soa, (size_t)n * 3);
        free(ens_soa);
    }
    free(y.work);
    free(ys_final);
    free(ens_out);
    free(init);
    ens_config_destroy(cfg);
    return bad == 0;
}

/* ---- timing ---------------------------------------------------------------------- */

typedef struct result {
    const char *integrator;
    int nvars;
    double flops;
    stats ens, ens_wall_rate, ys, paired_ratio;
    double ens_seconds, ens_wall_seconds, ys_seconds;   /* medians */
    char backend[32];
    char device[128];
} result;

/* Contestant 0 is ensol, 1 the yardstick; repeat -1 is the warm-up.
 * Samples: seconds (ensol: info.compute_seconds), wall seconds. */
enum { T_SECONDS, T_WALL, T_NSAMPLES };

typedef struct timing_ctx {
    ens_config *cfg;
    double *out;
    size_t count;
    yardstick_problem *y;
    const double *init;
    long long steps;
    double work;
    const char *integrator;
    int repeats;
    int yardstick;         /* time the yardstick too */
    double ens_rate;       /* ensol's rate in the current repeat */
    ens_run_info info;     /* of the last ensol run */
} timing_ctx;

static int time_one(void *user, int contestant, int repeat, double *samples)
{
    timing_ctx *t = user;
    if (contestant == 0) {
        const double wall = run_ensol(t->cfg, t->out, t->count, &t->info);
        samples[T_SECONDS] = t->info.compute_seconds > 0 ? t->info.compute_seconds : wall;
        samples[T_WALL] = wall;
        t->ens_rate = t->work / samples[T_SECONDS];
        if (repeat >= 0)
            fprintf(stderr, "  %s repeat %d/%d: ensol %.3g/s (compute %.3fs, wall %.3fs)%s",
                    t->integrator, repeat + 1, t->repeats, t->ens_rate, samples[T_SECONDS],
                    wall, t->yardstick ? "" : "\n");
    } else {
        samples[T_SECONDS] = samples[T_WALL] = run_yardstick(t->y, t->init, NULL, t->steps);
        const double ys_rate = t->work / samples[T_SECONDS];
        if (repeat >= 0)
            fprintf(stderr, ", yardstick %.3g/s (%.3fs), ratio %.3f\n", ys_rate,
                    samples[T_SECONDS], t->ens_rate / ys_rate);
    }
    return 0;
}

static void time_integrator(const options *o, const char *integrator, result *r)
{
    const long long n = o->members;
    const double work = (double)n * (double)o->steps;
    ens_config *cfg = make_config(o, integrator, n, o->steps, o->output_mode);
    const int nvars = ens_config_nvars(cfg);
    const long long times = ens_config_saved_times(cfg);
    const size_t count = (size_t)n * (size_t)times * (size_t)nvars;
    double *out = xmalloc(count * sizeof *out);

    memset(r, 0, sizeof *r);
    r->integrator = integrator;
    r->nvars = nvars;
    r->flops = ens_config_step_flops(cfg);

    const int is_float = strcmp(o->precision, "float") == 0;
    yardstick_problem y = {is_float, strcmp(integrator, "rk4") == 0 ? YS_RK4 : YS_EULER, n,
                           {0, 0, 0}, o->dt, o->threads, o->yardstick_vector, o->strict_fp, NULL};
    double *init = NULL;
    if (o->yardstick) {
        static const char *pnames[3] = {"sigma", "rho", "beta"};
        for (int i = 0; i < 3; i++)
            CHECK_ENS(cfg, ens_config_member_param(cfg, 0, pnames[i], &y.p[i]));
        init = initial_states(cfg, n);
        y.work = xmalloc((size_t)n * 3 * (is_float ? sizeof(float) : sizeof(double)));
    }

    /* One warm-up of each (pages in the buffers, starts the thread pools),
     * then R rounds of ensol and the yardstick in turn (bench_stats.c). */
    timing_ctx t = (timing_ctx){.cfg = cfg, .out = out, .count = count, .y = &y, .init = init,
                     .steps = o->steps, .work = work, .integrator = integrator,
                     .repeats = o->repeats, .yardstick = o->yardstick};
    const int contestants = o->yardstick ? 2 : 1;
    double *samples = xmalloc((size_t)contestants * T_NSAMPLES * (size_t)o->repeats *
                              sizeof(double));
    bs_interleave(contestants, 1, o->repeats, T_NSAMPLES, time_one, &t, samples);
    const ens_run_info info = t.info;
    const int R = o->repeats;
    double *ens_rate = xmalloc((size_t)R * sizeof(double));
    double *ens_wall_rate = xmalloc((size_t)R * sizeof(double));
    double *ratio = xmalloc((size_t)R * sizeof(double));
    const double *ens_sec = bs_series(samples, 0, T_SECONDS, T_NSAMPLES, R);
    const double *ens_wall = bs_series(samples, 0, T_WALL, T_NSAMPLES, R);
    const double *ys_sec = bs_series(samples, 1, T_SECONDS, T_NSAMPLES, R);
    double *ys_rate = xmalloc((size_t)R * sizeof(double));
    for (int k = 0; k < R; k++) {
        ens_rate[k] = work / ens_sec[k];
        ens_wall_rate[k] = work / ens_wall[k];
        if (o->yardstick) {
            ys_rate[k] = work / ys_sec[k];
            ratio[k] = ens_rate[k] / ys_rate[k];
        }
    }
    snprintf(r->backend, sizeof r->backend, "%s", info.backend);
    snprintf(r->device, sizeof r->device, "%s", info.device);
    r->ens = summarise(ens_rate, o->repeats);
    r->ens_wall_rate = summarise(ens_wall_rate, o->repeats);
    r->ens_seconds = summarise(ens_sec, o->repeats).median;
    r->ens_wall_seconds = summarise(ens_wall, o->repeats).median;
    if (o->yardstick) {
        r->ys = summarise(ys_rate, o->repeats);
        r->ys_seconds = summarise(ys_sec, o->repeats).median;
        r->paired_ratio = summarise(ratio, o->repeats);
    }
    free(ratio);
    free(ys_rate);
    free(ens_wall_rate);
    free(ens_rate);
    free(samples);
    free(y.work);
    free(init);
    free(out);
    ens_config_destroy(cfg);
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout in step with the progress on stderr */

    int ys_threads = o.threads;
#ifdef _OPENMP
    if (ys_threads <= 0)
        ys_threads = omp_get_max_threads();
#else
    ys_threads = 1;
#endif

    printf("ensol_throughput: ensol %s, %s, %s, %lld members x %lld steps, output %s",
           ens_version(), o.model, o.precision, o.members, o.steps, o.output_mode);
    if (o.save_every)
        printf(" (save every %lld)", o.save_every);
    printf(", %d repeats interleaved after one warm-up each\n", o.repeats);
    if (o.yardstick)
        printf("yardstick: hand-written OpenMP SIMD loop (bench/yardstick.c), %s vectors%s, "
               "%d thread%s%s\n",
               o.yardstick_vector == YS_VEC_512 ? "512-bit" : "build-default-width",
               o.strict_fp ? ", no FMA contraction" : "",
               ys_threads, ys_threads == 1 ? "" : "s",
               ys_have_openmp() ? "" : " (built without OpenMP)");

    int checks_ok = 1;
    if (o.check_steps > 0) {
        for (int i = 0; i < o.n_integrators; i++) {
            checks_ok &= check_agreement(&o, o.integrators[i], o.members, NULL);
            if (o.check_members != o.members || o.dump_check)
                checks_ok &= check_agreement(&o, o.integrators[i], o.check_members, o.dump_check);
        }
        if (!checks_ok) {
            fprintf(stderr, "ensol_throughput: the yardstick and ensol disagree; "
                            "no timing (--check-steps 0 skips the check)\n");
            return 1;
        }
    }

    result res[2];
    for (int i = 0; i < o.n_integrators; i++)
        time_integrator(&o, o.integrators[i], &res[i]);

    printf("ensol: backend %s (%s); member-steps/s from info.compute_seconds (time spent "
           "integrating); wall: member-steps per second of the whole ens_run_to_memory call\n",
           res[0].backend, res[0].device);
    printf("%-10s %8s %6s  %-27s %9s  %-27s %-20s %7s %7s %7s\n", "integrator", "members",
           "steps", "ensol median [min-max]", "ens wall", "yardstick median [min-max]",
           "ratio [min-max]", "med/med", "GF ens", "GF yard");
    for (int i = 0; i < o.n_integrators; i++) {
        const result *r = &res[i];
        char ens[64], ys[64], ratio[40], medmed[16], gys[16];
        snprintf(ens, sizeof ens, "%.3g [%.3g-%.3g]", r->ens.median, r->ens.min, r->ens.max);
        if (o.yardstick) {
            snprintf(ys, sizeof ys, "%.3g [%.3g-%.3g]", r->ys.median, r->ys.min, r->ys.max);
            snprintf(ratio, sizeof ratio, "%.3f [%.3f-%.3f]", r->paired_ratio.median,
                     r->paired_ratio.min, r->paired_ratio.max);
            snprintf(medmed, sizeof medmed, "%.3f", r->ens.median / r->ys.median);
            snprintf(gys, sizeof gys, "%.1f", r->ys.median * r->flops * 1e-9);
        } else {
            snprintf(ys, sizeof ys, "-");
            snprintf(ratio, sizeof ratio, "-");
            snprintf(medmed, sizeof medmed, "-");
            snprintf(gys, sizeof gys, "-");
        }
        printf("%-10s %8lld %6lld  %-27s %9.3g  %-27s %-20s %7s %7.1f %7s\n", r->integrator,
               o.members, o.steps, ens, r->ens_wall_rate.median, ys, ratio, medmed,
               r->ens.median * r->flops * 1e-9, gys);
    }
    printf("(member-steps/s. ratio: ensol/yardstick, median [min-max] over the interleaved pairs;"
           " med/med: ratio of the two medians. GF: GFLOP/s at %s flops per member-step)\n",
           strcmp(o.model, "lorenz63") == 0 ? "14 (euler), 71 (rk4)" : "the counted");
    if (o.yardstick)
        for (int i = 0; i < o.n_integrators; i++)
            printf("target ensol >= 0.80 x yardstick, %s: %s (ratio %.3f)\n", res[i].integrator,
                   res[i].paired_ratio.median >= 0.8 ? "met" : "NOT met",
                   res[i].paired_ratio.median);

    if (o.csv) {
        FILE *f = fopen(o.csv, "w");
        if (!f) {
            fprintf(stderr, "ensol_throughput: cannot write %s\n", o.csv);
            return 1;
        }
        fprintf(f, "model,integrator,precision,members,steps,output_mode,impl,backend,threads,"
                   "repeats,median_member_steps_per_s,min_member_steps_per_s,"
                   "max_member_steps_per_s,median_wall_member_steps_per_s,median_seconds,"
                   "median_wall_seconds,flops_per_member_step,gflops,ratio_to_yardstick,"
                   "ratio_of_medians\n");
        for (int i = 0; i < o.n_integrators; i++) {
            const result *r = &res[i];
            fprintf(f, "%s,%s,%s,%lld,%lld,%s,ensol,%s%s,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%g,"
                       "%.4g,",
                    o.model, r->integrator, o.precision, o.members, o.steps, o.output_mode,
                    r->backend, o.strict_fp ? "-strict" : "", ys_threads, o.repeats,
                    r->ens.median, r->ens.min, r->ens.max, r->ens_wall_rate.median,
                    r->ens_seconds, r->ens_wall_seconds, r->flops,
                    r->ens.median * r->flops * 1e-9);
            if (o.yardstick)
                fprintf(f, "%.4f,%.4f\n", r->paired_ratio.median, r->ens.median / r->ys.median);
            else
                fprintf(f, ",\n");
            if (o.yardstick)
                fprintf(f, "%s,%s,%s,%lld,%lld,final,yardstick,%s%s,%d,%d,%.6g,%.6g,%.6g,%.6g,"
                           "%.6g,%.6g,%g,%.4g,1,1\n",
                        o.model, r->integrator, o.precision, o.members, o.steps,
                        o.yardstick_vector == YS_VEC_512 ? "openmp-simd-512" : "openmp-simd",
                        o.strict_fp ? "-strict" : "", ys_threads, o.repeats, r->ys.median,
                        r->ys.min, r->ys.max, r->ys.median, r->ys_seconds, r->ys_seconds,
                        r->flops, r->ys.median * r->flops * 1e-9);
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "ensol_throughput: cannot write %s\n", o.csv);
            return 1;
        }
    }
    return 0;
}
