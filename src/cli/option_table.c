/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Every option of the ensol command, described once: its name, value,
 * help, default and how its value reaches an ens_config. The commands
 * (cmd_run.c, bench_options.c, cmd_merge.c, cmd_info.c) list the ones they
 * take; options.c makes the parsing and --help from both.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "options.h"

int cli_model_is_path(const char *arg)
{
    const size_t n = arg ? strlen(arg) : 0;
    return n > 0 && (strchr(arg, '/') || (n > 4 && (strcmp(arg + n - 4, ".ens") == 0 ||
                                                    strcmp(arg + n - 4, ".ode") == 0)));
}

ens_status cli_set_model(ens_config *cfg, const char *name_or_path)
{
    return cli_model_is_path(name_or_path) ? ens_config_set_model_file(cfg, name_or_path)
                                           : ens_config_set_model(cfg, name_or_path);
}

static const char *apply_name(ens_config *cfg, const cli_option *o, const char *arg,
                              ens_status *st)
{
    *st = o->set_name(cfg, arg);
    return NULL;
}

static const char *apply_count(ens_config *cfg, const cli_option *o, const char *arg,
                               ens_status *st)
{
    long long v;
    const char *why = parse_ll(arg, &v);
    if (!why)
        *st = o->set_count(cfg, v);
    return why;
}

static const char *apply_real(ens_config *cfg, const cli_option *o, const char *arg,
                              ens_status *st)
{
    double v;
    const char *why = parse_real(arg, &v);
    if (!why)
        *st = o->set_real(cfg, v);
    return why;
}

static const char *apply_threads(ens_config *cfg, const cli_option *o, const char *arg,
                                 ens_status *st)
{
    (void)o;
    int v;
    const char *why = parse_int(arg, &v);
    if (!why)
        *st = ens_config_set_threads(cfg, v);
    return why;
}

/* A size in bytes with an optional binary suffix: 512M, 2G, 1.5T. */
static const char *apply_memory(ens_config *cfg, const cli_option *o, const char *arg,
                                ens_status *st)
{
    (void)o;
    static const char suffixes[] = "KMGT";
    char number[64];
    size_t len = strlen(arg);
    double scale = 1.0;
    const char *unit = len > 0 ? strchr(suffixes, toupper((unsigned char)arg[len - 1])) : NULL;
    if (unit && *unit) {
        for (const char *u = suffixes; u <= unit; u++)
            scale *= 1024.0;
        len--;
    }
    if (len == 0 || len >= sizeof number)
        return "expected a size such as 512M or 2G";
    memcpy(number, arg, len);
    number[len] = '\0';
    double v;
    const char *why = parse_real(number, &v);
    if (why)
        return "expected a size such as 512M or 2G";
    *st = ens_config_set_max_memory(cfg, v * scale);
    return NULL;
}

static const char *apply_int_setting(ens_config *cfg, const cli_option *o, const char *arg,
                                     ens_status *st)
{
    int v;
    const char *why = parse_int(arg, &v);
    if (!why)
        *st = o->set_int(cfg, v);
    return why;
}

/* FILE or FILE:INDEX; without an index the file's last saved time. */
static const char *apply_init_from(ens_config *cfg, const cli_option *o, const char *arg,
                                   ens_status *st)
{
    (void)o;
    long long index = -1;
    const char *colon = strrchr(arg, ':');
    char path[4096];
    size_t len = strlen(arg);
    if (colon && colon[1] && !parse_ll(colon + 1, &index))
        len = (size_t)(colon - arg);
    if (len == 0 || len >= sizeof path)
        return "expected FILE or FILE:INDEX";
    memcpy(path, arg, len);
    path[len] = '\0';
    *st = ens_config_set_initial_file(cfg, path, index);
    return NULL;
}

static const char *apply_strict_fp(ens_config *cfg, const cli_option *o, const char *arg,
                                   ens_status *st)
{
    (void)o;
    (void)arg;
    *st = ens_config_set_strict_fp(cfg, 1);
    return NULL;
}

static const char *apply_file_per_rank(ens_config *cfg, const cli_option *o, const char *arg,
                                       ens_status *st)
{
    (void)o;
    (void)arg;
    *st = ens_config_set_file_per_rank(cfg, 1);
    return NULL;
}

static const char *apply_force(ens_config *cfg, const cli_option *o, const char *arg,
                               ens_status *st)
{
    (void)o;
    (void)arg;
    *st = ens_config_set_force(cfg, 1);
    return NULL;
}

static const char *apply_seed(ens_config *cfg, const cli_option *o, const char *arg,
                              ens_status *st)
{
    (void)o;
    uint64_t v;
    const char *why = parse_u64(arg, &v);
    if (!why)
        *st = ens_config_set_seed(cfg, v);
    return why;
}

/* "NAME=F1[:F2[:F3]]" split in place; `copy` owns the storage. */
typedef struct assignment {
    char *copy;
    const char *name;
    char *field[3];
    int nfields;
} assignment;

/* Returns NULL, or `syntax` when arg is not NAME= followed by min..max
 * ':'-separated fields. The caller frees a->copy either way. */
static const char *parse_assignment(const char *arg, int min, int max, const char *syntax,
                                    assignment *a)
{
    a->copy = strdup(arg);
    if (!a->copy)
        return "out of memory";
    char *eq = strchr(a->copy, '=');
    if (!eq || eq == a->copy)
        return syntax;
    *eq = '\0';
    a->name = a->copy;
    a->nfields = 0;
    for (char *f = eq + 1; f; a->nfields++) {
        if (a->nfields == max)
            return syntax;
        a->field[a->nfields] = f;
        f = strchr(f, ':');
        if (f)
            *f++ = '\0';
    }
    return a->nfields < min ? syntax : NULL;
}

/* Reads n fields as finite reals; a bad one is named by its label. */
static const char *parse_fields(char *const *fields, const char *const *labels, int n,
                                double *out)
{
    for (int i = 0; i < n; i++) {
        const char *why = parse_real(fields[i], &out[i]);
        if (why)
            return field_error(labels[i], fields[i], why);
    }
    return NULL;
}

static const char *const range_labels[] = {"LO", "HI"};

static const char *apply_param(ens_config *cfg, const cli_option *o, const char *arg,
                               ens_status *st)
{
    (void)o;
    static const char *const label[] = {"VALUE"};
    assignment a;
    double v;
    const char *why = parse_assignment(arg, 1, 1, "expected NAME=VALUE", &a);
    if (!why)
        why = parse_fields(a.field, label, 1, &v);
    if (!why)
        *st = ens_config_set_param(cfg, a.name, v);
    free(a.copy);
    return why;
}

static const char *apply_sweep(ens_config *cfg, const cli_option *o, const char *arg,
                               ens_status *st)
{
    (void)o;
    assignment a;
    double v[2];
    long long n = 0; /* N omitted: one grid point per member */
    const char *why = parse_assignment(arg, 2, 3, "expected NAME=LO:HI[:N]", &a);
    if (!why)
        why = parse_fields(a.field, range_labels, 2, v);
    if (!why && a.nfields == 3 && (why = parse_ll(a.field[2], &n)) != NULL)
        why = field_error("N", a.field[2], why);
    if (!why)
        *st = ens_config_sweep_param(cfg, a.name, v[0], v[1], n);
    free(a.copy);
    return why;
}

static const char *apply_random(ens_config *cfg, const cli_option *o, const char *arg,
                                ens_status *st)
{
    (void)o;
    assignment a;
    double v[2];
    const char *why = parse_assignment(arg, 2, 2, "expected NAME=LO:HI", &a);
    if (!why)
        why = parse_fields(a.field, range_labels, 2, v);
    if (!why)
        *st = ens_config_random_param(cfg, a.name, v[0], v[1]);
    free(a.copy);
    return why;
}

/* X[,X...] for set_list (--base-state, --rtol, --atol): the library
 * checks the count against the model. */
static const char *apply_list(ens_config *cfg, const cli_option *o, const char *arg,
                              ens_status *st)
{
    size_t n = 1;
    for (const char *c = arg; *c; c++)
        n += *c == ',';
    if (n > INT_MAX)
        return "too many values";
    char *copy = strdup(arg);
    double *values = malloc(n * sizeof *values);
    const char *why = copy && values ? NULL : "out of memory";
    char *field = copy;
    for (size_t i = 0; !why && i < n; i++) {
        char *comma = strchr(field, ',');
        if (comma)
            *comma = '\0';
        why = parse_real(field, &values[i]);
        if (why)
            why = field_error("value", field, why);
        field = comma ? comma + 1 : NULL; /* the last field has no comma */
    }
    if (!why)
        *st = o->set_list(cfg, values, (int)n);
    free(values);
    free(copy);
    return why;
}

/* --dt-min and --dt-max: the library takes both at once, so each keeps
 * the latest value of the other (one run per process). */
static const char *apply_dt_limit(ens_config *cfg, const cli_option *o, const char *arg,
                                  ens_status *st)
{
    static double limits[2]; /* dt_min, dt_max: the library's defaults */
    double v;
    const char *why = parse_real(arg, &v);
    if (!why) {
        limits[o->id == OPT_DT_MAX] = v;
        *st = ens_config_set_dt_limits(cfg, limits[0], limits[1]);
    }
    return why;
}
static const cli_option options[] = {
    /* The problem */
    {.id = OPT_MODEL, .name = "model", .metavar = "NAME|PATH", .def = "lorenz63",
     .help = "model to integrate: {models}; or a model file (a path with '/' or ending in "
             ".ens) or an XPPAUT file (.ode), compiled at run time",
     .priority = PRIO_MODEL, .apply = apply_name, .set_name = cli_set_model},
    {.id = OPT_PARAM, .name = "param", .metavar = "NAME=VALUE", .def = "the model's",
     .help = "set a parameter for every member, e.g. rho=28;\n"
             "lorenz96's size K too (repeatable)",
     .priority = PRIO_PARAMS, .apply = apply_param},
    {.id = OPT_SWEEP, .name = "sweep", .metavar = "NAME=LO:HI[:N]",
     .help = "sweep a parameter over N values from LO to HI;\n"
             "no N: one value per member. Two sweeps span\n"
             "their outer product, the first varying slowest",
     .priority = PRIO_PARAMS, .apply = apply_sweep},
    {.id = OPT_RANDOM, .name = "random", .metavar = "NAME=LO:HI",
     .help = "draw a parameter per member uniformly in [LO, HI)",
     .priority = PRIO_PARAMS, .apply = apply_random},

    /* The ensemble */
    {.id = OPT_MEMBERS, .name = "members", .metavar = "N", .def = "100000",
     .help = "ensemble size (with --sweep: grid size)",
     .apply = apply_count, .set_count = ens_config_set_members},
    {.id = OPT_BASE_STATE, .name = "base-state", .metavar = "X[,X...]", .def = "the model's",
     .help = "initial state before the perturbation: one value\n"
             "per variable, or one for all",
     .apply = apply_list, .set_list = ens_config_set_base_state},
    {.id = OPT_PERTURB, .name = "perturb", .metavar = "S", .def = "0.5",
     .help = "standard deviation of the Gaussian noise added\nto the base state",
     .apply = apply_real, .set_real = ens_config_set_perturbation},
    {.id = OPT_INIT_FROM, .name = "init-from", .metavar = "FILE[:INDEX]", .def = "none",
     .help = "start from the states of a NetCDF file at saved\n"
             "time INDEX (default: its last; negative counts\n"
             "from the end): an ensol file, or any other with\n"
             "the model's variables over a dimension named\n"
             "member (time optional, dimensions in any order).\n"
             "It sets members and the parameters it holds; from\n"
             "an ensol file also the integrator, dt, tolerances\n"
             "and step limits not given",
     .apply = apply_init_from},
    {.id = OPT_SEED, .name = "seed", .metavar = "N", .def = "1",
     .help = "random seed, an unsigned 64-bit integer", .apply = apply_seed},

    /* The integration */
    {.id = OPT_INTEGRATOR, .name = "integrator", .metavar = "NAME",
     .def = "euler, or the --init-from file's",
     .help = "{integrators}: dopri5 adapts its steps "
             "(Dormand-Prince 5(4)), the others take fixed steps",
     .apply = apply_name, .set_name = ens_config_set_integrator},
    {.id = OPT_DT, .name = "dt", .metavar = "X", .def = "0.01, or the --init-from file's",
     .help = "time step; dopri5: the first step, and the unit\n"
             "of --steps and --save-every",
     .apply = apply_real, .set_real = ens_config_set_dt},
    {.id = OPT_STEPS, .name = "steps", .metavar = "N", .def = "5000",
     .help = "number of time steps", .apply = apply_count, .set_count = ens_config_set_steps},
    {.id = OPT_SAVE_EVERY, .name = "save-every", .metavar = "K",
     .def = "50, or the steps if fewer", .help = "in trajectory mode, save every K steps",
     .apply = apply_count, .set_count = ens_config_set_save_every},
    {.id = OPT_RTOL, .name = "rtol", .metavar = "X[,X...]", .def = "1e-6",
     .help = "dopri5: relative tolerance, one value or one per\nvariable",
     .apply = apply_list, .set_list = ens_config_set_rtol_vector},
    {.id = OPT_ATOL, .name = "atol", .metavar = "X[,X...]", .def = "1e-9",
     .help = "dopri5: absolute tolerance, one value or one per\nvariable",
     .apply = apply_list, .set_list = ens_config_set_atol_vector},
    {.id = OPT_DT_MIN, .name = "dt-min", .metavar = "X", .def = "0",
     .help = "dopri5: smallest step; a member that needs a\n"
             "smaller one stops with status 2",
     .apply = apply_dt_limit},
    {.id = OPT_DT_MAX, .name = "dt-max", .metavar = "X", .def = "0: no limit",
     .help = "dopri5: largest step", .apply = apply_dt_limit},
    {.id = OPT_MAX_STEPS, .name = "max-steps", .metavar = "N",
     .def = "0: 100 x steps, at least 100000",
     .help = "dopri5: steps a member may attempt in the run;\n"
             "one that needs more stops with status 3",
     .apply = apply_count, .set_count = ens_config_set_max_steps},
    {.id = OPT_PRECISION, .name = "precision", .metavar = "NAME", .def = "double",
     .help = "arithmetic: {precisions}",
     .apply = apply_name, .set_name = ens_config_set_precision},
    {.id = OPT_BLOWUP_BOUND, .name = "blowup-bound", .metavar = "X", .def = "1e8",
     .help = "a euler/rk4 member with a variable above X (or\n"
             "not finite) at a save fails and stops; 0: none",
     .apply = apply_real, .set_real = ens_config_set_blowup_bound},

    /* Where it runs */
    {.id = OPT_BACKEND, .name = "backend", .metavar = "NAME", .def = "auto",
     .help = "auto or one of {backends}",
     .apply = apply_name, .set_name = ens_config_set_backend},
    {.id = OPT_DEVICE, .name = "device", .metavar = "DEV", .def = "the backend's first",
     .help = "device of the backend: its number in 'ensol info'\n"
             "or part of its name",
     .apply = apply_name, .set_name = ens_config_set_device},
    {.id = OPT_STRICT_FP, .name = "strict-fp",
     .help = "no fused multiply-adds, correctly rounded\n"
             "division: backends agree bit for bit",
     .apply = apply_strict_fp},
    {.id = OPT_THREADS, .name = "threads", .metavar = "N", .def = "0",
     .help = "threads of the openmp backend; 0: all cores", .apply = apply_threads},
    {.id = OPT_BATCH_MEMBERS, .name = "batch-members", .metavar = "N", .def = "0",
     .help = "members per batch; 0: chosen from the memory\n"
             "budget (results do not depend on it)",
     .apply = apply_count, .set_count = ens_config_set_batch_members},
    {.id = OPT_MAX_MEMORY, .name = "max-memory", .metavar = "SIZE",
     .def = "a quarter of free memory, at most 1G",
     .help = "memory budget of the run (K, M, G, T suffixes):\n"
             "batches are sized to fit it",
     .apply = apply_memory},

    /* The output */
    {.id = OPT_OUTPUT, .name = "output", .metavar = "FILE", .def = "ensol_out.nc",
     .help = "NetCDF file to write",
     .apply = apply_name, .set_name = ens_config_set_output_path},
    {.id = OPT_OUTPUT_MODE, .name = "output-mode", .metavar = "MODE", .def = "trajectory",
     .help = "{output-modes}: trajectory writes every save, "
             "final the last states, stats the ensemble mean, std, min and max per "
             "save, both trajectory and stats",
     .apply = apply_name, .set_name = ens_config_set_output_mode},
    {.id = OPT_OUTPUT_TYPE, .name = "output-type", .metavar = "TYPE", .def = "the precision",
     .help = "values on disk: {precisions}",
     .apply = apply_name, .set_name = ens_config_set_output_type},
    {.id = OPT_RESTART_OUT, .name = "restart-out", .metavar = "FILE", .def = "none",
     .help = "also write the final states, exact, to FILE:\n"
             "continue with --init-from FILE",
     .apply = apply_name, .set_name = ens_config_set_restart_path},
    {.id = OPT_DEFLATE, .name = "deflate", .metavar = "LEVEL", .def = "0",
     .help = "compress the states, deflate level 1-9 with shuffle",
     .apply = apply_int_setting, .set_int = ens_config_set_deflate},
    {.id = OPT_QUANTIZE, .name = "quantize", .metavar = "BITS", .def = "0",
     .help = "keep BITS significant bits of each value (bit\n"
             "rounding; 0: exact); 12-16 compresses float 2-3x",
     .apply = apply_int_setting, .set_int = ens_config_set_quantize},
    {.id = OPT_FILE_PER_RANK, .name = "file-per-rank",
     .help = "under mpirun: each rank writes its members to\n"
             "FILE.rankNNNN.nc (join them with 'ensol merge')\n"
             "instead of all writing FILE; the default when\n"
             "NetCDF has no parallel I/O",
     .apply = apply_file_per_rank},
    {.id = OPT_FORCE, .name = "force",
     .help = "write the output even when it is larger than\n"
             "the free space of its file system",
     .apply = apply_force},

    /* ensol bench's own: the command stores their values itself */
    {.id = OPT_TMPDIR, .name = "tmpdir", .metavar = "DIR", .def = "$TMPDIR or /tmp",
     .help = "where output runs write"},
    {.id = OPT_BACKENDS, .name = "backends", .metavar = "LIST",
     .def = "every available one, every device",
     .help = "backends to run, e.g. openmp,opencl"},
    {.id = OPT_REPEATS, .name = "repeats", .metavar = "R", .def = "5",
     .help = "timed runs of each, after the warm-up"},
    {.id = OPT_WARMUP, .name = "warmup", .metavar = "N", .def = "1",
     .help = "untimed runs of each first"},
    {.id = OPT_TIME_BUDGET, .name = "time-budget", .metavar = "SECONDS", .def = "120",
     .help = "skip the member counts whose predicted time would\n"
             "overrun this (counted from the start)"},
    {.id = OPT_NO_PEAK, .name = "no-peak",
     .help = "do not measure the machine's peak flops and\n"
             "memory bandwidth (about 1 s)"},
    {.id = OPT_JSON, .name = "json", .metavar = "FILE",
     .help = "write the rows (and the roofline context) as JSON"},
    {.id = OPT_CSV, .name = "csv", .metavar = "FILE", .help = "write the rows as CSV"},

    /* ensol run's own: the command reads it itself */
    {.id = OPT_PROGRESS, .name = "progress", .metavar = "WHEN", .def = "auto",
     .help = "auto, always or never: auto redraws a progress\n"
             "line on a terminal and, elsewhere (a batch job's\n"
             "log), prints one every 10% of the run or every\n"
             "minute once it has run 10 s; always prints those\n"
             "from the start; --quiet means never"},

    /* Every command's */
    {.id = OPT_QUIET, .name = "quiet", .help = "print nothing but errors"},
    {.id = OPT_HELP, .name = "help", .help = "show this help and exit"},
};

const cli_option *cli_option_by_id(cli_option_id id)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (options[i].id == id)
            return &options[i];
    return NULL;
}
