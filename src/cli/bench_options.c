/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol bench's command line: the options it takes (most shared with
 * ensol run through option_table.c), its --help, and their values stored
 * in a bench_opts.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_signals.h"
#include "cli_status.h"
#include "cli_parse.h"
#include "options.h"


/* A member or step count: an integer >= 1, also written as 1e6. */
static const char *parse_count(const char *s, long long *out)
{
    long long v;
    const char *why = parse_ll(s, &v);
    if (!why && v < 1)
        why = "must be at least 1";
    if (!why)
        *out = v;
    return why;
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
        char *rest = copy;
        for (char *f = next_field(&rest); f && !why; f = next_field(&rest)) {
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
    char *copy = strdup(arg), *rest = copy;
    const char *why = copy ? NULL : "out of memory";
    *n = 0;
    for (char *f = next_field(&rest); f && !why; f = next_field(&rest)) {
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
    char *rest = storage;
    *n = 0;
    for (char *f = next_field(&rest); f; f = next_field(&rest)) {
        if (!cli_backend_built_in(f)) {
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

/* ---- the options and --help ---------------------------------------------------- */

static void print_bench_epilogue(void)
{
    printf("\nMember-steps/s counts members x steps over info.compute_seconds, the\n"
           "library's time spent integrating; \"wall\" is the same over the whole call.\n"
           "\n"
           "Examples:\n"
           "  ensol bench\n"
           "  ensol bench --members 1e2:1e7 --threads 1,2 --repeats 3 --json scaling.json\n"
           "  ensol bench --output-mode trajectory --save-every 10 --members 1e5\n"
           "  ensol bench --model lorenz96 --integrator rk4 --precision float --csv l96.csv\n"
           "\n"
           "Exit status: 0 success, 1 a run or a file failed, 2 bad command line,\n"
           "130 interrupted (Ctrl-C), 143 terminated.\n");
}

static const cli_use bench_uses[] = {
    CLI_HEADING("Problem"),
    {.id = OPT_MODEL}, {.id = OPT_PARAM},
    {.id = OPT_INTEGRATOR, .def = "rk4"},
    {.id = OPT_PRECISION},
    {.id = OPT_DT, .help = "time step", .def = "the model's, 0.01"},
    {.id = OPT_STEPS, .help = "time steps of each run", .def = "1000"},
    {.id = OPT_PERTURB}, {.id = OPT_SEED}, {.id = OPT_STRICT_FP},
    CLI_HEADING("Output"),
    {.id = OPT_OUTPUT_MODE, .def = "final",
     .help = "final: the last states, kept in memory;\n"
             "trajectory (or stats, both): NetCDF files written\n"
             "to a temporary directory and deleted after each run"},
    {.id = OPT_SAVE_EVERY, .def = "50"},
    {.id = OPT_OUTPUT_TYPE}, {.id = OPT_TMPDIR},
    CLI_HEADING("Sweep"),
    {.id = OPT_MEMBERS, .metavar = "LIST", .def = "1e6",
     .help = "member counts: N, a list N1,N2,... or LO:HI[:F]\n"
             "(LO, LO*F, ... up to HI; F defaults to 10), e.g.\n"
             "1e2:1e8"},
    {.id = OPT_THREADS, .metavar = "LIST",
     .help = "thread counts of the openmp backend, e.g. 1,2;\n"
             "0: all cores; the all-cores run, the baseline\n"
             "of the speedup, is always included"},
    {.id = OPT_BACKENDS}, {.id = OPT_REPEATS}, {.id = OPT_WARMUP}, {.id = OPT_TIME_BUDGET},
    {.id = OPT_NO_PEAK},
    CLI_HEADING("Results"),
    {.id = OPT_JSON}, {.id = OPT_CSV}, {.id = OPT_HELP},
};

static const cli_command bench_command = {
    .name = "bench",
    .usage = "ensol bench [options]",
    .intro = "Run the same problem on every available backend and device (and each\n"
             "thread count of the openmp backend, and each member count asked for):\n"
             "a warm-up, then repeats interleaved across backends. Prints member-steps/s\n"
             "(median [min-max]), the speedup over the openmp backend on all cores,\n"
             "GFLOP/s from the kernel's flop count, the share of the machine's measured\n"
             "peak and, for output runs, MB/s written. Defaults are in [brackets].\n",
    .uses = bench_uses,
    .nuses = sizeof bench_uses / sizeof bench_uses[0],
    .epilogue = print_bench_epilogue,
};

static void set_defaults(bench_opts *o)
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
    o->threads_arg = "0";
    o->nthreads = 1;
    o->repeats = 5;
    o->warmup = 1;
    o->peak = 1;
    o->time_budget = 120;
}

/* --repeats (1 to 1000) and --warmup (0 to 1000). */
static const char *parse_rounds(const char *arg, int least, int *out)
{
    long long v;
    const char *why = parse_ll(arg, &v);
    if (!why && (v < least || v > 1000))
        why = least ? "must be from 1 to 1000" : "must be from 0 to 1000";
    if (!why)
        *out = (int)v;
    return why;
}

/* Stores one option's value in o; returns NULL or why it is rejected. */
static const char *store(bench_opts *o, cli_option_id id, const char *arg, char *backends_storage)
{
    const char *why = NULL;
    switch (id) {
    case OPT_MODEL: o->model = arg; break;
    case OPT_PARAM: return parse_param(arg, &o->params[o->nparams++]);
    case OPT_INTEGRATOR: o->integrator = arg; break;
    case OPT_PRECISION: o->precision = arg; break;
    case OPT_DT: o->have_dt = 1; return parse_real(arg, &o->dt);
    case OPT_STEPS: return parse_count(arg, &o->steps);
    case OPT_PERTURB: o->have_perturb = 1; return parse_real(arg, &o->perturb);
    case OPT_SEED: o->have_seed = 1; return parse_u64(arg, &o->seed);
    case OPT_STRICT_FP: o->strict_fp = 1; break;
    case OPT_OUTPUT_MODE: o->output_mode = arg; break;
    case OPT_SAVE_EVERY: return parse_count(arg, &o->save_every);
    case OPT_OUTPUT_TYPE: o->output_type = arg; break;
    case OPT_TMPDIR: o->tmpdir = arg; break;
    case OPT_MEMBERS: o->members_arg = arg; return parse_members(arg, o->members, &o->nmembers);
    case OPT_THREADS: o->threads_arg = arg; return parse_threads(arg, o->threads, &o->nthreads);
    case OPT_BACKENDS:
        strcpy(backends_storage, arg); /* sized for the longest argument */
        return parse_backends(backends_storage, o->backends, &o->nbackends);
    case OPT_REPEATS: return parse_rounds(arg, 1, &o->repeats);
    case OPT_WARMUP: return parse_rounds(arg, 0, &o->warmup);
    case OPT_TIME_BUDGET:
        why = parse_real(arg, &o->time_budget);
        return why || o->time_budget > 0 ? why : "must be a positive number of seconds";
    case OPT_NO_PEAK: o->peak = 0; break;
    case OPT_JSON: o->json = arg; break;
    case OPT_CSV: o->csv = arg; break;
    default: break;
    }
    return why;
}

int parse_bench_args(int argc, char **argv, bench_opts *o, char *backends_storage)
{
    set_defaults(o);
    o->params = calloc((size_t)argc + 1, sizeof *o->params);
    cli_arg *args = malloc(((size_t)argc + 1) * sizeof *args);
    int nargs = 0, first_operand, status = CLI_EXIT_FAILURE;
    if (!o->params || !args)
        cli_out_of_memory();
    else
        status = cli_parse(&bench_command, argc, argv, args, &nargs, &first_operand);
    for (int i = 0; i < nargs && status == CLI_GO_ON; i++) {
        const char *why = store(o, args[i].opt->id, args[i].value, backends_storage);
        if (why)
            status = cli_option_error(args[i].opt, args[i].value, why, CLI_EXIT_USAGE);
    }
    free(args);
    if (status == CLI_GO_ON && o->json && o->csv && strcmp(o->json, o->csv) == 0)
        status = cli_option_error(cli_option_by_id(OPT_CSV), o->csv, "the same file as --json",
                                  CLI_EXIT_USAGE);
    return status;
}
