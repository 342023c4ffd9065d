/*
 * ensol bench: throughput of every available backend and device on the
 * same problem, side by side.
 *
 * For each member count (ascending): every contestant (the openmp backend
 * at each thread count asked for, each device of every other backend) gets
 * a warm-up run, then R repeats, interleaved (backend A, backend B, A, B,
 * ...) so that all see the same machine load (bench_stats.c). A row per
 * contestant: member-steps/s from info.compute_seconds (median [min-max]),
 * the rate over the wall time of the whole call, the speedup over the
 * openmp backend on all cores (ratio of medians), GFLOP/s from the
 * kernel's own flop count (ens_config_step_flops) and, for output runs
 * (trajectory mode, NetCDF files in a temporary directory), MB/s written.
 * The header gives the roofline context: flops per member-step, bytes per
 * saved step, and the machine's measured peak flops and bandwidth
 * (bench_peak.c). Sizes whose predicted time overruns --time-budget, or
 * whose buffers do not fit in memory or on disk, are skipped with a note.
 *
 * Uses the public API only (ensol/ensol.h). Tables go to stdout, progress
 * and notes to stderr; --json / --csv write the same rows.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bench_peak.h"
#include "bench_stats.h"
#include "cli_parse.h"
#include "cli_signals.h"
#include "ensol/ensol.h"

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };
enum { MAX_SIZES = 256, MAX_CONTESTANTS = 64 };

/* ---- options ------------------------------------------------------------------ */

typedef struct param_setting {
    char *name;
    double value;
} param_setting;

typedef struct bench_opts {
    /* problem */
    const char *model, *integrator, *precision, *output_mode, *output_type;
    param_setting *params;
    int nparams;
    double dt, perturb;
    int have_dt, have_perturb, have_seed, strict_fp;
    uint64_t seed;
    long long steps, save_every;
    /* sweep */
    long long members[MAX_SIZES];
    int nmembers;
    int threads[MAX_CONTESTANTS];
    int nthreads;
    const char *backends[MAX_CONTESTANTS];
    int nbackends; /* 0: every available one */
    int repeats, warmup, peak;
    double time_budget;
    /* results */
    const char *json, *csv, *tmpdir;
    /* the argument texts, for messages */
    const char *members_arg;
} bench_opts;

enum {
    B_HELP = 'h',
    B_MODEL = 256, B_PARAM, B_INTEGRATOR, B_PRECISION, B_DT, B_STEPS, B_PERTURB, B_SEED,
    B_STRICT_FP, B_OUTPUT_MODE, B_SAVE_EVERY, B_OUTPUT_TYPE, B_TMPDIR, B_MEMBERS, B_THREADS,
    B_BACKENDS, B_REPEATS, B_WARMUP, B_TIME_BUDGET, B_NO_PEAK, B_JSON, B_CSV
};

static const struct option bench_longopts[] = {
    {"model", required_argument, NULL, B_MODEL},
    {"param", required_argument, NULL, B_PARAM},
    {"integrator", required_argument, NULL, B_INTEGRATOR},
    {"precision", required_argument, NULL, B_PRECISION},
    {"dt", required_argument, NULL, B_DT},
    {"steps", required_argument, NULL, B_STEPS},
    {"perturb", required_argument, NULL, B_PERTURB},
    {"seed", required_argument, NULL, B_SEED},
    {"strict-fp", no_argument, NULL, B_STRICT_FP},
    {"output-mode", required_argument, NULL, B_OUTPUT_MODE},
    {"save-every", required_argument, NULL, B_SAVE_EVERY},
    {"output-type", required_argument, NULL, B_OUTPUT_TYPE},
    {"tmpdir", required_argument, NULL, B_TMPDIR},
    {"members", required_argument, NULL, B_MEMBERS},
    {"threads", required_argument, NULL, B_THREADS},
    {"backends", required_argument, NULL, B_BACKENDS},
    {"repeats", required_argument, NULL, B_REPEATS},
    {"warmup", required_argument, NULL, B_WARMUP},
    {"time-budget", required_argument, NULL, B_TIME_BUDGET},
    {"no-peak", no_argument, NULL, B_NO_PEAK},
    {"json", required_argument, NULL, B_JSON},
    {"csv", required_argument, NULL, B_CSV},
    {"help", no_argument, NULL, B_HELP},
    {NULL, 0, NULL, 0}};

static void print_bench_help(void)
{
    printf(
"Usage: ensol bench [options]\n"
"\n"
"Run the same problem on every available backend and device (and each\n"
"thread count of the openmp backend, and each member count asked for):\n"
"a warm-up, then repeats interleaved across backends. Prints member-steps/s\n"
"(median [min-max]), the speedup over the openmp backend on all cores,\n"
"GFLOP/s from the kernel's flop count, the share of the machine's measured\n"
"peak and, for output runs, MB/s written. Defaults are in [brackets].\n"
"\n"
"Problem:\n"
"      --model NAME            lorenz63 or lorenz96 [lorenz63]\n"
"      --param NAME=VALUE      set a parameter, e.g. K=40 (repeatable)\n"
"      --integrator NAME       euler or rk4 [rk4]\n"
"      --precision NAME        float or double [double]\n"
"      --dt X                  time step [the model's, 0.01]\n"
"      --steps N               time steps of each run [1000]\n"
"      --perturb S             initial noise [0.5]\n"
"      --seed N                random seed [1]\n"
"      --strict-fp             no fused multiply-adds on any backend\n"
"\n"
"Output:\n"
"      --output-mode MODE      final: the last states, kept in memory;\n"
"                              trajectory: NetCDF files written to a temporary\n"
"                              directory and deleted after each run [final]\n"
"      --save-every K          trajectory mode: save every K steps [50]\n"
"      --output-type TYPE      values on disk: float or double [the precision]\n"
"      --tmpdir DIR            where output runs write [$TMPDIR or /tmp]\n"
"\n"
"Sweep:\n"
"      --members LIST          member counts: N, a list N1,N2,... or LO:HI[:F]\n"
"                              (LO, LO*F, ... up to HI; F defaults to 10), e.g.\n"
"                              1e2:1e8 [1e6]\n"
"      --threads LIST          thread counts of the openmp backend, e.g. 1,2;\n"
"                              0: all cores; the all-cores run, the baseline\n"
"                              of the speedup, is always included [0]\n"
"      --backends LIST         backends to run, e.g. openmp,opencl\n"
"                              [every available one, every device]\n"
"      --repeats R             timed runs of each, after the warm-up [5]\n"
"      --warmup N              untimed runs of each first [1]\n"
"      --time-budget SECONDS   skip the member counts whose predicted time would\n"
"                              overrun this (counted from the start) [120]\n"
"      --no-peak               do not measure the machine's peak flops and\n"
"                              memory bandwidth (about 1 s)\n"
"\n"
"Results:\n"
"      --json FILE             write the rows (and the roofline context) as JSON\n"
"      --csv FILE              write the rows as CSV\n"
"  -h, --help                  show this help and exit\n"
"\n"
"Member-steps/s counts members x steps over info.compute_seconds, the\n"
"library's time spent integrating; \"wall\" is the same over the whole call.\n"
"\n"
"Examples:\n"
"  ensol bench\n"
"  ensol bench --members 1e2:1e7 --threads 1,2 --repeats 3 --json scaling.json\n"
"  ensol bench --output-mode trajectory --save-every 10 --members 1e5\n"
"  ensol bench --model lorenz96 --integrator rk4 --precision float --csv l96.csv\n"
"\n"
"Exit status: 0 success, 1 a run or a file failed, 2 bad command line.\n");
}

static int usage_error(const char *opt, const char *arg, const char *why)
{
    fprintf(stderr, "ensol: --%s %s: %s\n", opt, arg, why);
    return EXIT_USAGE;
}

/* A member or step count: an integer >= 1, also written as 1e6. */
static const char *parse_count(const char *s, long long *out)
{
    long long v;
    double d;
    if (parse_ll(s, &v) == NULL) {
        if (v < 1)
            return "must be at least 1";
        *out = v;
        return NULL;
    }
    const char *why = parse_real(s, &d);
    if (why)
        return "not a count (an integer such as 1000 or 1e6)";
    if (d < 1)
        return "must be at least 1";
    if (d != floor(d) || d > 9.0e18)
        return "not a whole number of members";
    *out = (long long)d;
    return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* N | N1,N2,... | LO:HI[:F]; sorted, without duplicates. */
static const char *parse_members(const char *arg, long long *out, int *n)
{
    static char why_buf[256];
    char *copy = strdup(arg);
    const char *why = copy ? NULL : "out of memory";
    *n = 0;
    if (!why && strchr(copy, ':')) {
        char *field[3] = {copy, NULL, NULL};
        int nf = 1;
        for (char *c = copy; *c; c++)
            if (*c == ':') {
                *c = '\0';
                if (nf == 3) {
                    nf = 4;
                    break;
                }
                field[nf++] = c + 1;
            }
        long long lo = 0, hi = 0;
        double factor = 10;
        if (nf > 3)
            why = "expected LO:HI[:F]";
        else if ((why = parse_count(field[0], &lo)) != NULL)
            why = field_error("LO", field[0], why);
        else if ((why = parse_count(field[1], &hi)) != NULL)
            why = field_error("HI", field[1], why);
        else if (nf == 3 && (why = parse_real(field[2], &factor)) != NULL)
            why = field_error("F", field[2], why);
        else if (!(factor > 1.0))
            why = field_error("F", field[2], "must be greater than 1");
        else if (hi < lo)
            why = "HI must not be below LO";
        if (!why) {
            for (double v = (double)lo; v <= (double)hi * (1 + 1e-9); v *= factor) {
                if (*n == MAX_SIZES) {
                    snprintf(why_buf, sizeof why_buf, "more than %d member counts", MAX_SIZES);
                    why = why_buf;
                    break;
                }
                out[(*n)++] = llround(v);
            }
        }
    } else if (!why) {
        char *save = NULL;
        for (char *f = strtok_r(copy, ",", &save); f && !why; f = strtok_r(NULL, ",", &save)) {
            long long v;
            if (*n == MAX_SIZES) {
                snprintf(why_buf, sizeof why_buf, "more than %d member counts", MAX_SIZES);
                why = why_buf;
            } else if ((why = parse_count(f, &v)) != NULL) {
                if (strchr(arg, ','))
                    why = field_error("N", f, why);
            } else {
                out[(*n)++] = v;
            }
        }
        if (!why && *n == 0)
            why = "expected a member count, a list N1,N2,... or LO:HI[:F]";
    }
    free(copy);
    if (why)
        return why;
    qsort(out, (size_t)*n, sizeof *out, cmp_ll);
    int k = 0;
    for (int i = 0; i < *n; i++)
        if (k == 0 || out[i] != out[k - 1])
            out[k++] = out[i];
    *n = k;
    return NULL;
}

static const char *parse_threads(const char *arg, int *out, int *n)
{
    char *copy = strdup(arg), *save = NULL;
    const char *why = copy ? NULL : "out of memory";
    *n = 0;
    for (char *f = copy ? strtok_r(copy, ",", &save) : NULL; f && !why;
         f = strtok_r(NULL, ",", &save)) {
        int v;
        if (*n == MAX_CONTESTANTS)
            why = "too many thread counts";
        else if ((why = parse_int(f, &v)) != NULL)
            why = field_error("T", f, why);
        else if (v < 0)
            why = field_error("T", f, "must be 0 (all cores) or more");
        else
            out[(*n)++] = v;
    }
    if (!why && *n == 0)
        why = "expected a thread count or a list T1,T2,...";
    free(copy);
    return why;
}

static int backend_built_in(const char *name)
{
    for (int i = 0; i < ens_backend_count(); i++)
        if (strcmp(ens_backend_name(i), name) == 0)
            return 1;
    return 0;
}

/* The backends of the build, "opencl, openmp". */
static const char *built_in_list(void)
{
    static char buf[256];
    buf[0] = '\0';
    for (int i = 0; i < ens_backend_count(); i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "", ens_backend_name(i));
    }
    return buf;
}

/* Backend names split in place in `storage` (kept for the whole run). */
static const char *parse_backends(char *storage, const char **out, int *n)
{
    static char why_buf[512];
    char *save = NULL;
    *n = 0;
    for (char *f = strtok_r(storage, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (!backend_built_in(f)) {
            snprintf(why_buf, sizeof why_buf, "unknown backend '%s' (built in: %s)", f,
                     built_in_list());
            return why_buf;
        }
        if (*n == MAX_CONTESTANTS)
            return "too many backends";
        out[(*n)++] = f;
    }
    return *n ? NULL : "expected backend names, e.g. openmp,opencl";
}

static const char *parse_param(const char *arg, param_setting *p)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return "expected NAME=VALUE";
    const char *why = parse_real(eq + 1, &p->value);
    if (why)
        return field_error("VALUE", eq + 1, why);
    p->name = strndup(arg, (size_t)(eq - arg));
    return p->name ? NULL : "out of memory";
}

/* getopt_long's ':' and '?' in the CLI's wording. */
static int getopt_failure(int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        fprintf(stderr, "ensol: %s: missing value\n", arg);
    else if (optopt == B_HELP || optopt == B_STRICT_FP || optopt == B_NO_PEAK)
        fprintf(stderr, "ensol: %s: this option takes no value\n", arg);
    else if (optopt > 0 && optopt < 256)
        fprintf(stderr, "ensol: -%c: unknown option (see 'ensol bench --help')\n", optopt);
    else
        fprintf(stderr, "ensol: %s: unknown option (see 'ensol bench --help')\n", arg);
    return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit status. argv[0] is "bench". */
static int parse_bench_args(int argc, char **argv, bench_opts *o, char *backends_storage)
{
    memset(o, 0, sizeof *o);
    o->model = "lorenz63";
    o->integrator = "rk4";
    o->precision = "double";
    o->output_mode = "final";
    o->steps = 1000;
    o->members[0] = 1000000;
    o->nmembers = 1;
    o->members_arg = "1e6";
    o->threads[0] = 0;
    o->nthreads = 1;
    o->repeats = 5;
    o->warmup = 1;
    o->peak = 1;
    o->time_budget = 120;
    o->params = calloc((size_t)argc + 1, sizeof *o->params);
    if (!o->params) {
        fprintf(stderr, "ensol: out of memory\n");
        return EXIT_FAILED;
    }

    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", bench_longopts, NULL);
        if (c == -1)
            break;
        if (c == '?' || c == ':')
            return getopt_failure(c, argv);
        const char *name = NULL;
        for (const struct option *l = bench_longopts; l->name; l++)
            if (l->val == c)
                name = l->name;
        const char *why = NULL;
        long long ll;
        int i;
        switch (c) {
        case B_HELP:
            print_bench_help();
            return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_FAILED;
        case B_MODEL: o->model = optarg; break;
        case B_PARAM: why = parse_param(optarg, &o->params[o->nparams++]); break;
        case B_INTEGRATOR: o->integrator = optarg; break;
        case B_PRECISION: o->precision = optarg; break;
        case B_DT: why = parse_real(optarg, &o->dt); o->have_dt = 1; break;
        case B_STEPS: why = parse_count(optarg, &o->steps); break;
        case B_PERTURB: why = parse_real(optarg, &o->perturb); o->have_perturb = 1; break;
        case B_SEED: why = parse_u64(optarg, &o->seed); o->have_seed = 1; break;
        case B_STRICT_FP: o->strict_fp = 1; break;
        case B_OUTPUT_MODE: o->output_mode = optarg; break;
        case B_SAVE_EVERY: why = parse_count(optarg, &o->save_every); break;
        case B_OUTPUT_TYPE: o->output_type = optarg; break;
        case B_TMPDIR: o->tmpdir = optarg; break;
        case B_MEMBERS:
            why = parse_members(optarg, o->members, &o->nmembers);
            o->members_arg = optarg;
            break;
        case B_THREADS: why = parse_threads(optarg, o->threads, &o->nthreads); break;
        case B_BACKENDS:
            strcpy(backends_storage, optarg); /* sized for the longest argument */
            why = parse_backends(backends_storage, o->backends, &o->nbackends);
            break;
        case B_REPEATS:
        case B_WARMUP:
            why = parse_ll(optarg, &ll);
            if (!why && (ll < (c == B_REPEATS) || ll > 1000))
                why = c == B_REPEATS ? "must be from 1 to 1000" : "must be from 0 to 1000";
            i = (int)ll;
            if (!why)
                *(c == B_REPEATS ? &o->repeats : &o->warmup) = i;
            break;
        case B_TIME_BUDGET:
            why = parse_real(optarg, &o->time_budget);
            if (!why && !(o->time_budget > 0))
                why = "must be a positive number of seconds";
            break;
        case B_NO_PEAK: o->peak = 0; break;
        case B_JSON: o->json = optarg; break;
        case B_CSV: o->csv = optarg; break;
        default: break;
        }
        if (why)
            return usage_error(name, optarg, why);
    }
    if (optind < argc) {
        fprintf(stderr, "ensol: %s: unexpected argument (bench takes options only)\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (o->json && o->csv && strcmp(o->json, o->csv) == 0)
        return usage_error("csv", o->csv, "the same file as --json");
    return -1;
}

/* ---- configurations -------------------------------------------------------------- */

typedef struct contestant {
    const char *backend;
    char device_arg[16];   /* "" (the backend's default) or the device number */
    int device_index;      /* -1: no number */
    char device[256];      /* the probe's description (the run's, once it ran) */
    char label[96];        /* short, for the table and the plot's legend */
    int threads;           /* openmp: the thread count; else 0 */
    int is_cpu;            /* runs on this machine's CPU cores */
    int is_baseline;       /* openmp on all cores */
    /* per member count */
    ens_config *cfg;
    int failed;
    char error[256];
    char path[4096];
} contestant;

/* Applies the problem and the contestant's backend to cfg. On failure
 * returns the status and names the option at fault in *opt, *arg. */
static ens_status configure(ens_config *cfg, const bench_opts *o, const contestant *k,
                            long long members, const char **opt, char *arg, size_t argsize)
{
    ens_status st;
#define APPLY(name, text, call)                                                           \
    do {                                                                                  \
        if ((st = (call)) != ENS_OK) {                                                    \
            *opt = (name);                                                                \
            snprintf(arg, argsize, "%.200s", (text));                                     \
            return st;                                                                    \
        }                                                                                 \
    } while (0)
    char num[64];
    APPLY("model", o->model, ens_config_set_model(cfg, o->model));
    for (int i = 0; i < o->nparams; i++) {
        char text[160];
        snprintf(text, sizeof text, "%s=%g", o->params[i].name, o->params[i].value);
        APPLY("param", text, ens_config_set_param(cfg, o->params[i].name, o->params[i].value));
    }
    snprintf(num, sizeof num, "%lld", members);
    APPLY("members", num, ens_config_set_members(cfg, members));
    if (o->have_perturb) {
        snprintf(num, sizeof num, "%g", o->perturb);
        APPLY("perturb", num, ens_config_set_perturbation(cfg, o->perturb));
    }
    if (o->have_seed) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)o->seed);
        APPLY("seed", num, ens_config_set_seed(cfg, o->seed));
    }
    APPLY("integrator", o->integrator, ens_config_set_integrator(cfg, o->integrator));
    if (o->have_dt) {
        snprintf(num, sizeof num, "%g", o->dt);
        APPLY("dt", num, ens_config_set_dt(cfg, o->dt));
    }
    snprintf(num, sizeof num, "%lld", o->steps);
    APPLY("steps", num, ens_config_set_steps(cfg, o->steps));
    APPLY("precision", o->precision, ens_config_set_precision(cfg, o->precision));
    APPLY("output-mode", o->output_mode, ens_config_set_output_mode(cfg, o->output_mode));
    if (o->save_every) {
        snprintf(num, sizeof num, "%lld", o->save_every);
        APPLY("save-every", num, ens_config_set_save_every(cfg, o->save_every));
    }
    if (o->output_type)
        APPLY("output-type", o->output_type, ens_config_set_output_type(cfg, o->output_type));
    if (o->strict_fp)
        APPLY("strict-fp", "", ens_config_set_strict_fp(cfg, 1));
    if (k) {
        APPLY("backends", k->backend, ens_config_set_backend(cfg, k->backend));
        if (k->device_arg[0])
            APPLY("backends", k->backend, ens_config_set_device(cfg, k->device_arg));
        if (k->threads > 0) {
            snprintf(num, sizeof num, "%d", k->threads);
            APPLY("threads", num, ens_config_set_threads(cfg, k->threads));
        }
        if (k->path[0])
            APPLY("tmpdir", k->path, ens_config_set_output_path(cfg, k->path));
    }
    *opt = NULL;
    return ens_config_validate(cfg);
#undef APPLY
}

static int is_usage_status(ens_status st)
{
    return st == ENS_ERR_INVALID_ARGUMENT || st == ENS_ERR_UNKNOWN_NAME;
}

static const char *config_message(const ens_config *cfg, ens_status st)
{
    const char *msg = ens_config_last_error(cfg);
    return msg && *msg ? msg : ens_status_string(st);
}

/* The problem as a whole, checked once before anything runs. Fills the
 * roofline figures. Returns -1 to go on or the exit status. */
typedef struct problem_facts {
    int nvars;
    double flops;               /* per member-step */
    int real_bytes;             /* sizeof the working precision */
    int out_bytes;              /* sizeof the output type */
    long long saved_times;      /* per run */
    int trajectory;             /* output runs: files */
} problem_facts;

static int check_problem(const bench_opts *o, problem_facts *f)
{
    ens_config *cfg;
    if (ens_config_create(&cfg) != ENS_OK) {
        fprintf(stderr, "ensol: cannot create a configuration: out of memory\n");
        return EXIT_FAILED;
    }
    const char *opt = NULL;
    char arg[256] = "";
    ens_status st = configure(cfg, o, NULL, o->members[0], &opt, arg, sizeof arg);
    int status = -1;
    if (st != ENS_OK) {
        const char *msg = config_message(cfg, st);
        if (opt && strcmp(opt, "members") == 0)
            fprintf(stderr, "ensol: --members %s: %s\n", o->members_arg, setter_reason(msg));
        else if (opt && *arg)
            fprintf(stderr, "ensol: --%s %s: %s\n", opt, arg, setter_reason(msg));
        else if (opt)
            fprintf(stderr, "ensol: --%s: %s\n", opt, setter_reason(msg));
        else
            fprintf(stderr, "ensol: %s\n", msg);
        status = is_usage_status(st) ? EXIT_USAGE : EXIT_FAILED;
    } else {
        f->nvars = ens_config_nvars(cfg);
        f->flops = ens_config_step_flops(cfg);
        f->real_bytes = strcmp(o->precision, "float") == 0 ? 4 : 8;
        f->out_bytes = o->output_type ? (strcmp(o->output_type, "float") == 0 ? 4 : 8)
                                      : f->real_bytes;
        f->saved_times = ens_config_saved_times(cfg);
        f->trajectory = strcmp(o->output_mode, "final") != 0;
    }
    ens_config_destroy(cfg);
    return status;
}

/* ---- contestants ------------------------------------------------------------------ */

/* All cores, as the openmp backend's probe says ("CPU, 2 threads"). */
static int all_cores(void)
{
    char detail[256] = "";
    int n = 0;
    if (ens_backend_probe("openmp", detail, sizeof detail) == ENS_OK &&
        sscanf(detail, "CPU, %d", &n) == 1 && n > 0)
        return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

static int wanted(const bench_opts *o, const char *backend)
{
    if (o->nbackends == 0)
        return 1;
    for (int i = 0; i < o->nbackends; i++)
        if (strcmp(o->backends[i], backend) == 0)
            return 1;
    return 0;
}

/* A short name for the table and the plot's legend: "Platform / Device
 * Name: CPU, ..." -> "Device Name (CPU)", without (R) and (TM), cut at a
 * word or hyphen boundary to at most 24 characters. */
static void short_device(const char *desc, char *out, size_t size)
{
    const char *start = strstr(desc, " / ");
    start = start ? start + 3 : desc;
    const char *end = strchr(start, ':');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    char name[256];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof name; i++) {
        if (strncmp(start + i, "(R)", 3) == 0 || strncmp(start + i, "(TM)", 4) == 0) {
            i += start[i + 1] == 'R' ? 2 : 3;
            continue;
        }
        name[n++] = start[i];
    }
    name[n] = '\0';
    if (n > 24) {
        size_t cut = 24;
        while (cut > 8 && name[cut] != ' ' && name[cut] != '-')
            cut--;
        name[cut] = '\0';
    }
    const char *type = end ? end + 1 : "";
    while (*type == ' ')
        type++;
    size_t tlen = strcspn(type, ",");
    if (tlen > 0 && tlen < 16)
        snprintf(out, size, "%s (%.*s)", name, (int)tlen, type);
    else
        snprintf(out, size, "%s", name);
}

static int add_contestant(contestant *cs, int *n, const contestant *k)
{
    if (*n == MAX_CONTESTANTS)
        return 0;
    cs[(*n)++] = *k;
    return 1;
}

/* One contestant per openmp thread count and per device of every other
 * backend. Notes about unavailable backends go to stderr. */
static int list_contestants(const bench_opts *o, int cores, contestant *cs)
{
    int n = 0;
    for (int b = 0; b < ens_backend_count(); b++) {
        const char *name = ens_backend_name(b);
        if (!wanted(o, name))
            continue;
        char detail[8192] = "";
        if (ens_backend_probe(name, detail, sizeof detail) != ENS_OK) {
            fprintf(stderr, "ensol bench: backend %s not available here: %s\n", name, detail);
            continue;
        }
        contestant k;
        memset(&k, 0, sizeof k);
        k.backend = name;
        k.device_index = -1;
        if (strcmp(name, "openmp") == 0) {
            /* all cores first: the baseline; then the others in the order given */
            int seen[MAX_CONTESTANTS + 1], nseen = 0;
            seen[nseen++] = cores;
            k.is_cpu = 1;
            for (int i = -1; i < o->nthreads; i++) {
                int t = i < 0 ? cores : (o->threads[i] == 0 ? cores : o->threads[i]);
                int dup = 0;
                for (int j = 0; j < nseen && i >= 0; j++)
                    dup |= seen[j] == t;
                if (dup)
                    continue;
                if (i >= 0)
                    seen[nseen++] = t;
                k.threads = t;
                k.is_baseline = t == cores;
                snprintf(k.device, sizeof k.device, "CPU, %d thread%s", t, t == 1 ? "" : "s");
                snprintf(k.label, sizeof k.label, "openmp, %d thread%s", t, t == 1 ? "" : "s");
                add_contestant(cs, &n, &k);
            }
            continue;
        }
        /* Devices: the probe's lines "  [N] description". */
        int found = 0;
        for (char *line = detail; line && *line;) {
            char *next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char *p = line;
            while (*p == ' ' || *p == '\t')
                p++;
            int idx, used = 0;
            if (sscanf(p, "[%d]%n", &idx, &used) == 1 && used > 0) {
                p += used;
                while (*p == ' ')
                    p++;
                k.device_index = idx;
                snprintf(k.device_arg, sizeof k.device_arg, "%d", idx);
                snprintf(k.device, sizeof k.device, "%s", p);
                char shortname[64];
                short_device(p, shortname, sizeof shortname);
                snprintf(k.label, sizeof k.label, "%s [%d] %s", name, idx, shortname);
                k.is_cpu = strstr(p, ": CPU") != NULL;
                add_contestant(cs, &n, &k);
                found = 1;
            }
            line = next;
        }
        if (!found) { /* a backend that lists no devices: its default */
            snprintf(k.device, sizeof k.device, "%s", detail);
            snprintf(k.label, sizeof k.label, "%s", name);
            add_contestant(cs, &n, &k);
        }
    }
    return n;
}

/* ---- progress ---------------------------------------------------------------------- */

static int on_progress(const ens_progress *p, void *user)
{
    (void)p;
    (void)user;
    return cli_stop_signal != 0;
}

/* ---- running ---------------------------------------------------------------------- */

enum { S_COMPUTE, S_WALL, S_BYTES, NSAMPLES };

typedef struct round_ctx {
    contestant *cs;
    int trajectory;
    double *out;
    size_t count;
    long long members;
    int done, total;
} round_ctx;

static int run_one(void *user, int c, int repeat, double *samples)
{
    (void)repeat;
    round_ctx *r = user;
    contestant *k = &r->cs[c];
    samples[S_COMPUTE] = samples[S_WALL] = samples[S_BYTES] = NAN;
    r->done++;
    if (cli_stop_signal)
        return 1;
    if (k->failed)
        return 0;
    ens_run_info info;
    memset(&info, 0, sizeof info);
    const double t0 = bs_now();
    ens_status st = r->trajectory ? ens_run(k->cfg, &info)
                                  : ens_run_to_memory(k->cfg, r->out, r->count, &info);
    const double wall = bs_now() - t0;
    if (r->trajectory) { /* the file, or what an interrupted run left */
        char partial[sizeof k->path + 16];
        snprintf(partial, sizeof partial, "%s.partial", k->path);
        unlink(k->path);
        unlink(partial);
    }
    if (st == ENS_ERR_INTERRUPTED && cli_stop_signal)
        return 1;
    if (st != ENS_OK) {
        k->failed = 1;
        snprintf(k->error, sizeof k->error, "%s", config_message(k->cfg, st));
        fprintf(stderr, "\nensol bench: %s, %lld members: %s\n", k->label, r->members, k->error);
        return 0;
    }
    if (info.device[0])
        snprintf(k->device, sizeof k->device, "%s", info.device);
    samples[S_COMPUTE] = info.compute_seconds > 0 ? info.compute_seconds : wall;
    samples[S_WALL] = wall;
    samples[S_BYTES] = (double)info.bytes_written;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r  %lld members: run %d/%d\033[K", r->members, r->done, r->total);
    return 0;
}

typedef struct row {
    const contestant *who;  /* backend, label, threads, is_cpu, baseline */
    char device[256];
    char error[256];
    long long members, steps;
    int ok;
    bs_stats rate;          /* member-steps/s over compute seconds */
    bs_stats wall_rate;     /* over the wall time of the call */
    double compute_s, wall_s, bytes, mbps, speedup, gflops, pct_peak;
} row;

typedef struct skipped {
    long long members;
    char reason[256];
} skipped;

/* Bytes of memory available (MemAvailable), or a large number if unknown. */
static double memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    if (kb > 0)
        return kb * 1024;
    long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 1e18;
}

static double disk_available(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return 1e18;
    return (double)sv.f_bavail * (double)sv.f_frsize;
}

/* 2.16e9 rather than printf's 2.16e+09; "-" for NaN. */
static const char *sci(double v, char *buf, size_t size)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (v == 0) {
        snprintf(buf, size, "0");
        return buf;
    }
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%.3g", v);
    char *e = strchr(tmp, 'e');
    if (!e) {
        snprintf(buf, size, "%s", tmp);
        return buf;
    }
    *e = '\0';
    snprintf(buf, size, "%.8se%d", tmp, atoi(e + 1));
    return buf;
}

static void print_table_header(void)
{
    printf("%-40s %10s  %-27s %8s %8s %8s %6s %8s\n", "backend / device", "members",
           "member-steps/s [min-max]", "wall", "speedup", "GFLOP/s", "%peak", "MB/s");
}

static void print_row(const row *r)
{
    char a[16], b[16], c[16], w[16], range[64];
    if (!r->ok) {
        printf("%-40s %10lld  failed: %s\n", r->who->label, r->members, r->error);
        return;
    }
    snprintf(range, sizeof range, "%s [%s-%s]", sci(r->rate.median, a, sizeof a),
             sci(r->rate.min, b, sizeof b), sci(r->rate.max, c, sizeof c));
    char speed[16] = "-", pct[16] = "-", mbps[16] = "-";
    if (isfinite(r->speedup))
        snprintf(speed, sizeof speed, "%.2f", r->speedup);
    if (isfinite(r->pct_peak))
        snprintf(pct, sizeof pct, "%.0f%%", r->pct_peak);
    if (isfinite(r->mbps))
        snprintf(mbps, sizeof mbps, "%.0f", r->mbps);
    printf("%-40.40s %10lld  %-27s %8s %8s %8.1f %6s %8s\n", r->who->label, r->members, range,
           sci(r->wall_rate.median, w, sizeof w), speed, r->gflops, pct, mbps);
}

/* ---- JSON and CSV ------------------------------------------------------------------ */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void csv_string(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

typedef struct report {
    const bench_opts *o;
    const problem_facts *facts;
    const bp_peak *peak;        /* NULL: not measured */
    int cores;
    row *rows;
    int nrows;
    skipped *skips;
    int nskips;
    int interrupted;
} report;

/* Per-row fields, shared by the JSON objects and the CSV columns. */
#define ROW_FIELDS(X)                                                                    \
    X(median_member_steps_per_s, r->rate.median)                                         \
    X(min_member_steps_per_s, r->rate.min)                                               \
    X(max_member_steps_per_s, r->rate.max)                                               \
    X(median_wall_member_steps_per_s, r->wall_rate.median)                               \
    X(median_compute_seconds, r->compute_s)                                              \
    X(median_wall_seconds, r->wall_s)                                                    \
    X(speedup_vs_openmp, r->speedup)                                                     \
    X(gflops, r->gflops)                                                                 \
    X(percent_of_peak_flops, r->pct_peak)                                                \
    X(bytes_written, r->bytes)                                                           \
    X(mb_per_s, r->mbps)

static int write_json(const report *rep, FILE *f)
{
    const bench_opts *o = rep->o;
    const problem_facts *pf = rep->facts;
    fprintf(f, "{\n  \"tool\": \"ensol bench\",\n  \"ensol_version\": ");
    json_string(f, ens_version());
    fprintf(f, ",\n  \"problem\": {\"model\": ");
    json_string(f, o->model);
    fprintf(f, ", \"integrator\": ");
    json_string(f, o->integrator);
    fprintf(f, ", \"precision\": ");
    json_string(f, o->precision);
    fprintf(f, ", \"steps\": %lld, \"dt\": ", o->steps);
    json_number(f, o->have_dt ? o->dt : NAN);
    fprintf(f, ", \"output_mode\": ");
    json_string(f, o->output_mode);
    fprintf(f, ", \"saved_times\": %lld, \"nvars\": %d, \"strict_fp\": %s, \"repeats\": %d, "
               "\"warmup\": %d, \"time_budget_s\": ",
            pf->saved_times, pf->nvars, o->strict_fp ? "true" : "false", o->repeats, o->warmup);
    json_number(f, o->time_budget);
    fprintf(f, "},\n  \"roofline\": {\"flops_per_member_step\": ");
    json_number(f, pf->flops);
    fprintf(f, ", \"state_bytes_per_member\": %d, \"bytes_per_saved_step_per_member\": %d",
            pf->nvars * pf->real_bytes, pf->nvars * pf->out_bytes);
    fprintf(f, "},\n  \"machine\": {\"cores\": %d, \"peak_gflops_double\": ", rep->cores);
    json_number(f, rep->peak ? rep->peak->gflops : NAN);
    fprintf(f, ", \"peak_gbytes_per_s\": ");
    json_number(f, rep->peak ? rep->peak->gbytes : NAN);
    fprintf(f, ", \"peak_threads\": %d, \"peak_vector_bits\": %d},\n",
            rep->peak ? rep->peak->threads : 0, rep->peak ? rep->peak->vector_bits : 0);
    fprintf(f, "  \"interrupted\": %s,\n  \"rows\": [", rep->interrupted ? "true" : "false");
    for (int i = 0; i < rep->nrows; i++) {
        const row *r = &rep->rows[i];
        fprintf(f, "%s\n    {\"backend\": ", i ? "," : "");
        json_string(f, r->who->backend);
        fprintf(f, ", \"device\": ");
        json_string(f, r->device);
        fprintf(f, ", \"device_index\": ");
        if (r->who->device_index >= 0)
            fprintf(f, "%d", r->who->device_index);
        else
            fputs("null", f);
        fprintf(f, ", \"label\": ");
        json_string(f, r->who->label);
        fprintf(f, ", \"threads\": ");
        if (r->who->threads > 0)
            fprintf(f, "%d", r->who->threads);
        else
            fputs("null", f);
        fprintf(f, ", \"baseline\": %s, \"cpu\": %s, \"members\": %lld, \"steps\": %lld, "
                   "\"status\": \"%s\"",
                r->who->is_baseline ? "true" : "false", r->who->is_cpu ? "true" : "false",
                r->members, r->steps, r->ok ? "ok" : "failed");
        if (!r->ok) {
            fprintf(f, ", \"error\": ");
            json_string(f, r->error);
        }
#define JSON_FIELD(name, value) fprintf(f, ", \"" #name "\": "); json_number(f, r->ok ? (value) : NAN);
        ROW_FIELDS(JSON_FIELD)
#undef JSON_FIELD
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n  \"skipped\": [");
    for (int i = 0; i < rep->nskips; i++) {
        fprintf(f, "%s\n    {\"members\": %lld, \"reason\": ", i ? "," : "",
                rep->skips[i].members);
        json_string(f, rep->skips[i].reason);
        fputc('}', f);
    }
    fprintf(f, "\n  ]\n}\n");
    return 0;
}

static int write_csv(const report *rep, FILE *f)
{
    const bench_opts *o = rep->o;
    fprintf(f, "backend,device,device_index,label,threads,baseline,cpu,model,integrator,"
               "precision,output_mode,members,steps,repeats,status,error");
#define CSV_NAME(name, value) fputs("," #name, f);
    ROW_FIELDS(CSV_NAME)
#undef CSV_NAME
    fputs(",flops_per_member_step,peak_gflops_double,peak_gbytes_per_s\n", f);
    for (int i = 0; i < rep->nrows; i++) {
        const row *r = &rep->rows[i];
        csv_string(f, r->who->backend);
        fputc(',', f);
        csv_string(f, r->device);
        fputc(',', f);
        if (r->who->device_index >= 0)
            fprintf(f, "%d", r->who->device_index);
        fputc(',', f);
        csv_string(f, r->who->label);
        fputc(',', f);
        if (r->who->threads > 0)
            fprintf(f, "%d", r->who->threads);
        fprintf(f, ",%d,%d,", r->who->is_baseline, r->who->is_cpu);
        csv_string(f, o->model);
        fputc(',', f);
        csv_string(f, o->integrator);
        fprintf(f, ",%s,%s,%lld,%lld,%d,%s,", o->precision, o->output_mode, r->members,
                r->steps, o->repeats, r->ok ? "ok" : "failed");
        csv_string(f, r->ok ? "" : r->error);
#define CSV_FIELD(name, value)                                                           \
    fputc(',', f);                                                                      \
    if (r->ok && isfinite(value))                                                       \
        fprintf(f, "%.6g", (value));
        ROW_FIELDS(CSV_FIELD)
#undef CSV_FIELD
        fprintf(f, ",%g,", rep->facts->flops);
        if (rep->peak)
            fprintf(f, "%.6g,%.6g", rep->peak->gflops, rep->peak->gbytes);
        else
            fputc(',', f);
        fputc('\n', f);
    }
    return 0;
}

/* Writes to path via path.partial, renamed when complete. */
static int write_results(const char *path, const report *rep,
                         int (*writer)(const report *, FILE *))
{
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp)
        return EXIT_FAILED;
    snprintf(tmp, len, "%s.partial", path);
    FILE *f = fopen(tmp, "w");
    int ok = f != NULL;
    if (ok) {
        writer(rep, f);
        ok = !ferror(f);
        ok = (fclose(f) == 0) && ok;
    }
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok) {
        fprintf(stderr, "ensol: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : EXIT_FAILED;
}

/* Fails early, before any run, when a results file cannot be created. */
static int check_writable(const char *opt, const char *path)
{
    if (!path)
        return 0;
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp)
        return EXIT_FAILED;
    snprintf(tmp, len, "%s.partial", path);
    FILE *f = fopen(tmp, "w");
    int err = errno;
    if (f) {
        fclose(f);
        unlink(tmp);
    }
    free(tmp);
    if (!f) {
        fprintf(stderr, "ensol: --%s %s: cannot write: %s\n", opt, path, strerror(err));
        return EXIT_FAILED;
    }
    return 0;
}

/* ---- the header: problem and roofline --------------------------------------------- */

static void print_header(const bench_opts *o, const problem_facts *pf, const bp_peak *peak,
                         int cores, int ncontestants)
{
    printf("ensol bench: ensol %s, %s %s %s, %lld steps", ens_version(), o->model,
           o->integrator, o->precision, o->steps);
    if (o->have_dt)
        printf(", dt %g", o->dt);
    if (pf->trajectory)
        printf(", trajectory output (%lld saved times) to NetCDF files in %s", pf->saved_times,
               o->tmpdir);
    else
        printf(", final state only, kept in memory");
    printf("\n%d backend/device runs per member count, %d warm-up%s then %d repeat%s "
           "interleaved; time budget %g s\n",
           ncontestants, o->warmup, o->warmup == 1 ? "" : "s", o->repeats,
           o->repeats == 1 ? "" : "s", o->time_budget);

    printf("roofline: %g flops per member-step (%s %s); state %d bytes per member "
           "(%d x %s)",
           pf->flops, o->model, o->integrator, pf->nvars * pf->real_bytes, pf->nvars,
           o->precision);
    if (pf->trajectory) {
        const long long every = o->save_every ? o->save_every : (o->steps < 50 ? o->steps : 50);
        printf("; a saved step writes %d bytes per member (%d x %s): %.0f flops per byte "
               "written at every %lld steps",
               pf->nvars * pf->out_bytes, pf->nvars, pf->out_bytes == 4 ? "float" : "double",
               pf->flops * (double)every / (pf->nvars * pf->out_bytes), every);
    } else {
        printf("; a saved step would write %d bytes per member", pf->nvars * pf->out_bytes);
    }
    printf("\n");
    /* Flops of the other model x integrator pairs, for context. */
    printf("          flops per member-step:");
    static const char *const integrators[] = {"euler", "rk4"};
    for (int m = 0; m < ens_model_count(); m++)
        for (int i = 0; i < 2; i++) {
            ens_config *cfg;
            if (ens_config_create(&cfg) != ENS_OK)
                continue;
            if (ens_config_set_model(cfg, ens_model_name(m)) == ENS_OK &&
                ens_config_set_integrator(cfg, integrators[i]) == ENS_OK)
                printf(" %s %s %g%s", ens_model_name(m), integrators[i],
                       ens_config_step_flops(cfg),
                       m + 1 < ens_model_count() || i == 0 ? "," : "");
            ens_config_destroy(cfg);
        }
    printf(" (lorenz96 at its default size; one flop per arithmetic operation)\n");
    if (peak)
        printf("machine: %d cores; measured peak %.0f GFLOP/s (double FMA, %d-bit vectors, "
               "%d threads), memory %.1f GB/s (triad); %%peak is against %s\n",
               cores, peak->gflops, peak->vector_bits, peak->threads, peak->gbytes,
               pf->real_bytes == 4 ? "twice that (float)" : "that");
    else
        printf("machine: %d cores; peak not measured (--no-peak)\n", cores);
}

/* ---- the sweep -------------------------------------------------------------------- */

static int run_size(const bench_opts *o, const problem_facts *pf, contestant *cs, int nc,
                    long long members, double *samples, const char *dir)
{
    round_ctx r = {cs, pf->trajectory, NULL, 0, members, 0, nc * (o->warmup + o->repeats)};
    if (!pf->trajectory) {
        r.count = (size_t)members * (size_t)pf->saved_times * (size_t)pf->nvars;
        r.out = malloc(r.count * sizeof *r.out);
        if (!r.out)
            return -2;
    }
    for (int c = 0; c < nc; c++) {
        contestant *k = &cs[c];
        k->failed = 0;
        k->error[0] = '\0';
        k->path[0] = '\0';
        if (pf->trajectory)
            snprintf(k->path, sizeof k->path, "%s/run%d.nc", dir, c);
        const char *opt = NULL;
        char arg[256];
        ens_status st = ens_config_create(&k->cfg);
        if (st == ENS_OK)
            st = configure(k->cfg, o, k, members, &opt, arg, sizeof arg);
        if (st == ENS_OK)
            st = ens_config_set_progress(k->cfg, on_progress, NULL);
        if (st != ENS_OK) {
            k->failed = 1;
            snprintf(k->error, sizeof k->error, "%s",
                     k->cfg ? config_message(k->cfg, st) : "out of memory");
        }
    }
    int status = bs_interleave(nc, o->warmup, o->repeats, NSAMPLES, run_one, &r, samples);
    if (isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    for (int c = 0; c < nc; c++) {
        ens_config_destroy(cs[c].cfg);
        cs[c].cfg = NULL;
    }
    free(r.out);
    return status;
}

/* Fills rows from the samples of one member count. */
static void make_rows(const bench_opts *o, const problem_facts *pf, const bp_peak *peak,
                      const contestant *cs, int nc, long long members, const double *samples,
                      row *rows)
{
    const double work = (double)members * (double)o->steps;
    const int R = o->repeats;
    double *rate = malloc((size_t)R * sizeof *rate), *wrate = malloc((size_t)R * sizeof *wrate);
    double base = NAN;
    for (int c = 0; c < nc; c++) {
        row *w = &rows[c];
        memset(w, 0, sizeof *w);
        w->who = &cs[c];
        w->members = members;
        w->steps = o->steps;
        snprintf(w->device, sizeof w->device, "%s", cs[c].device);
        w->ok = !cs[c].failed && rate && wrate;
        snprintf(w->error, sizeof w->error, "%s", cs[c].error);
        w->speedup = w->pct_peak = w->mbps = NAN;
        if (!w->ok)
            continue;
        const double *comp = bs_series(samples, c, S_COMPUTE, NSAMPLES, R);
        const double *wall = bs_series(samples, c, S_WALL, NSAMPLES, R);
        const double *bytes = bs_series(samples, c, S_BYTES, NSAMPLES, R);
        for (int i = 0; i < R; i++) {
            rate[i] = work / comp[i];
            wrate[i] = work / wall[i];
        }
        w->rate = bs_summarise(rate, R);
        w->wall_rate = bs_summarise(wrate, R);
        w->compute_s = bs_summarise(comp, R).median;
        w->wall_s = bs_summarise(wall, R).median;
        w->bytes = bs_summarise(bytes, R).median;
        w->gflops = w->rate.median * pf->flops * 1e-9;
        if (pf->trajectory) {
            for (int i = 0; i < R; i++)
                rate[i] = bytes[i] / wall[i] * 1e-6;
            w->mbps = bs_summarise(rate, R).median;
        }
        if (peak && cs[c].is_cpu && peak->gflops > 0)
            w->pct_peak = 100 * w->gflops / (peak->gflops * (pf->real_bytes == 4 ? 2 : 1));
        if (cs[c].is_baseline)
            base = w->rate.median;
    }
    for (int c = 0; c < nc; c++)
        if (rows[c].ok)
            rows[c].speedup = rows[c].rate.median / base;
    free(rate);
    free(wrate);
}

/* Where each contestant saturates and where others overtake the baseline. */
static void print_scaling_summary(const report *rep, const contestant *cs, int nc)
{
    char a[16], b[16];
    int sizes = 0;
    for (int i = 0; i < rep->nrows; i++)
        sizes += rep->rows[i].who == &cs[0];
    if (sizes < 2)
        return;
    printf("\nscaling:\n");
    for (int c = 0; c < nc; c++) {
        double best = 0;
        long long best_n = 0, sat_n = 0, over_n = 0;
        for (int i = 0; i < rep->nrows; i++) {
            const row *r = &rep->rows[i];
            if (r->who == &cs[c] && r->ok && r->rate.median > best) {
                best = r->rate.median;
                best_n = r->members;
            }
        }
        if (best <= 0)
            continue;
        for (int i = 0; i < rep->nrows && !sat_n; i++) {
            const row *r = &rep->rows[i];
            if (r->who == &cs[c] && r->ok && r->rate.median >= 0.9 * best)
                sat_n = r->members;
        }
        for (int i = 0; i < rep->nrows && !over_n; i++) {
            const row *r = &rep->rows[i];
            if (r->who == &cs[c] && r->ok && r->speedup >= 1.0)
                over_n = r->members;
        }
        char d[16];
        printf("  %-40s best %s member-steps/s at %s members; 90%% of it from %s members",
               cs[c].label, sci(best, a, sizeof a), sci((double)best_n, b, sizeof b),
               sci((double)sat_n, d, sizeof d));
        if (!cs[c].is_baseline) {
            if (over_n)
                printf("; at least as fast as openmp on all cores from %s members",
                       sci((double)over_n, b, sizeof b));
            else
                printf("; slower than openmp on all cores at every size run");
        }
        printf("\n");
    }
}

static void print_best(const report *rep)
{
    const row *best = NULL;
    for (int i = 0; i < rep->nrows; i++) {
        const row *r = &rep->rows[i];
        if (r->ok && isfinite(r->pct_peak) && (!best || r->pct_peak > best->pct_peak))
            best = r;
    }
    if (!best)
        return;
    printf("closest to the limit: %s at %lld members, %.1f GFLOP/s = %.0f%% of the measured "
           "peak",
           best->who->label, best->members, best->gflops, best->pct_peak);
    if (isfinite(best->mbps) && rep->peak && rep->peak->gbytes > 0)
        printf("; writes %.0f MB/s = %.1f%% of the memory bandwidth", best->mbps,
               100 * best->mbps * 1e-3 / rep->peak->gbytes);
    printf("\n");
    if (best->pct_peak > 100)
        printf("note: above 100%% of the measured peak: the machine was busy while the peak "
               "was measured, so %%peak reads high; run again on a quiet machine\n");
}

static int bench(const bench_opts *o)
{
    problem_facts pf;
    int status = check_problem(o, &pf);
    if (status != -1)
        return status;
    status = check_writable("json", o->json);
    if (!status)
        status = check_writable("csv", o->csv);
    if (status)
        return status;

    const int cores = all_cores();
    contestant *cs = calloc(MAX_CONTESTANTS, sizeof *cs);
    row *rows = calloc((size_t)MAX_CONTESTANTS * MAX_SIZES, sizeof *rows);
    skipped *skips = calloc(MAX_SIZES, sizeof *skips);
    double *samples = calloc((size_t)MAX_CONTESTANTS * NSAMPLES * (size_t)o->repeats,
                             sizeof *samples);
    char *dir = NULL;
    if (!cs || !rows || !skips || !samples) {
        fprintf(stderr, "ensol: out of memory\n");
        status = EXIT_FAILED;
        goto done;
    }
    const int nc = list_contestants(o, cores, cs);
    if (nc == 0) {
        fprintf(stderr, "ensol: no backend to run (see 'ensol info')\n");
        status = EXIT_FAILED;
        goto done;
    }
    if (pf.trajectory) {
        const char *base = o->tmpdir;
        if (!base) {
            base = getenv("TMPDIR");
            if (!base || !*base)
                base = "/tmp";
        }
        size_t len = strlen(base) + 32;
        dir = malloc(len);
        if (dir)
            snprintf(dir, len, "%s/ensol_bench_XXXXXX", base);
        if (!dir || !mkdtemp(dir)) {
            fprintf(stderr, "ensol: --tmpdir %s: cannot create a directory there: %s\n", base,
                    strerror(errno));
            free(dir);
            dir = NULL;
            status = EXIT_FAILED;
            goto done;
        }
    }

    bp_peak peak;
    const int have_peak = o->peak;
    if (have_peak) {
        fprintf(stderr, "ensol bench: measuring the machine's peak flops and bandwidth...\n");
        bp_measure(&peak);
    }
    bench_opts shown = *o;
    shown.tmpdir = dir;
    setvbuf(stdout, NULL, _IOLBF, 0);
    print_header(&shown, &pf, have_peak ? &peak : NULL, cores, nc);
    printf("\n");
    print_table_header();
    cli_install_signal_handlers();

    report rep = {o, &pf, have_peak ? &peak : NULL, cores, rows, 0, skips, 0, 0};
    const double start = bs_now();
    double prev_wall[MAX_CONTESTANTS];
    long long prev_members = 0;
    const double per_size_runs = o->warmup + o->repeats;
    for (int s = 0; s < o->nmembers && !cli_stop_signal; s++) {
        const long long n = o->members[s];
        const double values = (double)n * (double)pf.saved_times * pf.nvars;
        char reason[256] = "";
        /* Memory and disk. */
        if (!pf.trajectory) {
            const double need = values * 8 + (double)n * pf.nvars * pf.real_bytes * 2;
            const double have = memory_available();
            if (need > 0.8 * have)
                snprintf(reason, sizeof reason,
                         "needs about %.1f GB of memory, %.1f GB available", need * 1e-9,
                         have * 1e-9);
        } else {
            const double need = values * pf.out_bytes;
            const double have = disk_available(dir);
            if (need > 0.9 * have)
                snprintf(reason, sizeof reason,
                         "writes %.1f GB per run, %.1f GB free in %s", need * 1e-9,
                         have * 1e-9, dir);
        }
        /* Time: from the previous size, scaled by the members; for the first
         * size, a lower bound from the measured peak. */
        double predicted = 0;
        if (prev_members > 0) {
            for (int c = 0; c < nc; c++)
                if (isfinite(prev_wall[c]))
                    predicted += per_size_runs * prev_wall[c] * (double)n / (double)prev_members;
        } else if (have_peak && peak.gflops > 0) {
            predicted = nc * per_size_runs * (double)n * (double)o->steps * pf.flops /
                        (peak.gflops * 1e9);
        }
        const double elapsed = bs_now() - start;
        if (!reason[0] && elapsed + predicted > o->time_budget)
            snprintf(reason, sizeof reason,
                     "predicted %.0f s, more than the %.0f s left of the %g s time budget "
                     "(--time-budget)",
                     predicted, fmax(0, o->time_budget - elapsed), o->time_budget);
        if (reason[0]) {
            skips[rep.nskips].members = n;
            snprintf(skips[rep.nskips].reason, sizeof skips[rep.nskips].reason, "%s", reason);
            rep.nskips++;
            fprintf(stderr, "ensol bench: skipping %lld members: %s\n", n, reason);
            continue;
        }
        const int st = run_size(o, &pf, cs, nc, n, samples, dir);
        if (st == -2) {
            fprintf(stderr, "ensol bench: %lld members: out of memory for the states\n", n);
            continue;
        }
        if (st != 0 || cli_stop_signal)
            break;
        make_rows(o, &pf, have_peak ? &peak : NULL, cs, nc, n, samples, &rows[rep.nrows]);
        for (int c = 0; c < nc; c++) {
            print_row(&rows[rep.nrows + c]);
            prev_wall[c] = rows[rep.nrows + c].ok ? rows[rep.nrows + c].wall_s : NAN;
            if (!rows[rep.nrows + c].ok)
                status = EXIT_FAILED;
        }
        rep.nrows += nc;
        prev_members = n;
    }
    if (cli_stop_signal) {
        rep.interrupted = 1;
        fprintf(stderr, "\nensol bench: %s: stopped; the rows so far are kept\n",
                cli_stop_signal == SIGINT ? "interrupted" : "terminated");
    }
    if (rep.nrows == 0 && !cli_stop_signal) {
        fprintf(stderr, "ensol bench: nothing was run (every member count was skipped)\n");
        status = EXIT_FAILED;
    }
    print_scaling_summary(&rep, cs, nc);
    print_best(&rep);
    printf("(member-steps/s: members x steps / info.compute_seconds, median [min-max] over the "
           "repeats; wall: over the whole call; speedup: against openmp on all cores, ratio of "
           "medians; %%peak: CPU rows only)\n");
    if (o->json && write_results(o->json, &rep, write_json))
        status = EXIT_FAILED;
    if (o->csv && write_results(o->csv, &rep, write_csv))
        status = EXIT_FAILED;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ensol: error writing to standard output: %s\n", strerror(errno));
        status = EXIT_FAILED;
    }
    if (cli_stop_signal)
        status = 128 + cli_stop_signal;
done:
    if (dir) {
        rmdir(dir);
        free(dir);
    }
    free(samples);
    free(skips);
    free(rows);
    free(cs);
    return status;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    size_t longest = 1;
    for (int i = 0; i < argc; i++)
        longest = strlen(argv[i]) + 1 > longest ? strlen(argv[i]) + 1 : longest;
    char *backends_storage = malloc(longest);
    if (!backends_storage) {
        fprintf(stderr, "ensol: out of memory\n");
        return EXIT_FAILED;
    }
    int status = parse_bench_args(argc - 1, argv + 1, &o, backends_storage);
    if (status == -1)
        status = bench(&o);
    for (int i = 0; i < o.nparams; i++)
        free(o.params[i].name);
    free(o.params);
    free(backends_storage);
    return status;
}
