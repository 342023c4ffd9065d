/*
 * ensol: the command-line tool.
 *
 *   ensol run [options]   integrate an ensemble and write a NetCDF file
 *   ensol info            version, backends and models
 *   ensol bench [options] throughput of every backend and device (bench.c)
 *   ensol version         "ensol X.Y.Z"
 *
 * Built on the public API only (ensol/ensol.h). Exit status: 0 success,
 * 1 the run failed, 2 the command line is wrong, 128+N killed by signal N.
 * Messages go to stderr as one line "ensol: <option> <value>: <reason>";
 * stdout carries only what info, version and --help are asked to print.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli_parse.h"
#include "cli_signals.h"
#include "ensol/ensol.h"

#ifdef ENSOL_HAVE_MPI
#include <mpi.h>
#endif

enum { EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

#define DEFAULT_OUTPUT "ensol_out.nc"

/* Strict number parsing (parse_ll, parse_int, parse_u64, parse_real,
 * field_error) and setter_reason live in cli_parse.c, shared with
 * ensol bench (bench.c). */

/* ---- option table -----------------------------------------------------------
 * One table drives getopt_long, applying the settings and --help. */

typedef struct cli_option cli_option;

/* Applies one option: returns NULL and the setter's status in *st, or the
 * reason the argument text is malformed (the setter is then not called). */
typedef const char *(*apply_fn)(ens_config *cfg, const cli_option *o, const char *arg,
                                ens_status *st);

/* Settings are applied by priority, then in command-line order (the last
 * of a repeated option wins), because choosing the model resets the
 * parameters and base state: --model goes first wherever it was given. */
enum { PRIO_REST, PRIO_PARAMS, PRIO_MODEL }; /* highest applied first */

/* Ids the code refers to; options nobody refers to keep id 0. */
enum opt_id {
    OPT_HELP = 'h', OPT_OUTPUT = 'o', OPT_QUIET = 'q',
    OPT_MODEL = 256, OPT_STEPS, OPT_BACKEND, OPT_INTEGRATOR, OPT_DT_MIN, OPT_DT_MAX,
    OPT_FILE_PER_RANK
};

struct cli_option {
    const char *name;     /* long name; NULL marks a section heading (help) */
    int id;               /* enum opt_id; below 256 also the short option */
    const char *metavar;  /* NULL: takes no argument */
    const char *help;     /* lines after the first start with '\n' */
    const char *def;      /* default shown by --help, NULL for none */
    int priority;
    apply_fn apply;
    ens_status (*set_name)(ens_config *, const char *);
    ens_status (*set_count)(ens_config *, long long);
    ens_status (*set_real)(ens_config *, double);
    ens_status (*set_int)(ens_config *, int);
    ens_status (*set_list)(ens_config *, const double *, int);
};

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
        field = comma + 1;
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
    {.help = "Problem"},
    {.name = "model", .id = OPT_MODEL, .metavar = "NAME", .def = "lorenz63",
     .help = "model to integrate (see Models below)",
     .priority = PRIO_MODEL, .apply = apply_name, .set_name = ens_config_set_model},
    {.name = "param", .metavar = "NAME=VALUE", .def = "the model's",
     .help = "set a parameter for every member, e.g. rho=28;\n"
             "lorenz96's size K too (repeatable)",
     .priority = PRIO_PARAMS, .apply = apply_param},
    {.name = "sweep", .metavar = "NAME=LO:HI[:N]",
     .help = "sweep a parameter over N values from LO to HI;\n"
             "no N: one value per member. Two sweeps span\n"
             "their outer product, the first varying slowest",
     .priority = PRIO_PARAMS, .apply = apply_sweep},
    {.name = "random", .metavar = "NAME=LO:HI",
     .help = "draw a parameter per member uniformly in [LO, HI)",
     .priority = PRIO_PARAMS, .apply = apply_random},

    {.help = "Ensemble"},
    {.name = "members", .metavar = "N", .def = "100000",
     .help = "ensemble size (with --sweep: grid size)",
     .apply = apply_count, .set_count = ens_config_set_members},
    {.name = "base-state", .metavar = "X[,X...]", .def = "the model's",
     .help = "initial state before the perturbation: one value\n"
             "per variable, or one for all",
     .apply = apply_list, .set_list = ens_config_set_base_state},
    {.name = "perturb", .metavar = "S", .def = "0.5",
     .help = "standard deviation of the Gaussian noise added\nto the base state",
     .apply = apply_real, .set_real = ens_config_set_perturbation},
    {.name = "init-from", .metavar = "FILE[:INDEX]", .def = "none",
     .help = "start from the states of an ensol file at saved\n"
             "time INDEX (default: its last; negative counts\n"
             "from the end); it sets members and parameters",
     .apply = apply_init_from},
    {.name = "seed", .metavar = "N", .def = "1",
     .help = "random seed, an unsigned 64-bit integer", .apply = apply_seed},

    {.help = "Integration"},
    {.name = "integrator", .id = OPT_INTEGRATOR, .metavar = "NAME", .def = "euler",
     .help = "euler or rk4 (fixed steps), or dopri5 (adaptive\n"
             "Dormand-Prince 5(4), see --rtol below)",
     .apply = apply_name, .set_name = ens_config_set_integrator},
    {.name = "dt", .metavar = "X", .def = "0.01",
     .help = "time step; dopri5: the first step, and the unit\n"
             "of --steps and --save-every",
     .apply = apply_real, .set_real = ens_config_set_dt},
    {.name = "steps", .id = OPT_STEPS, .metavar = "N", .def = "5000",
     .help = "number of time steps", .apply = apply_count, .set_count = ens_config_set_steps},
    {.name = "save-every", .metavar = "K", .def = "50, or the steps if fewer",
     .help = "in trajectory mode, save every K steps",
     .apply = apply_count, .set_count = ens_config_set_save_every},
    {.name = "rtol", .metavar = "X[,X...]", .def = "1e-6",
     .help = "dopri5: relative tolerance, one value or one per\nvariable",
     .apply = apply_list, .set_list = ens_config_set_rtol_vector},
    {.name = "atol", .metavar = "X[,X...]", .def = "1e-9",
     .help = "dopri5: absolute tolerance, one value or one per\nvariable",
     .apply = apply_list, .set_list = ens_config_set_atol_vector},
    {.name = "dt-min", .id = OPT_DT_MIN, .metavar = "X", .def = "0",
     .help = "dopri5: smallest step; a member that needs a\n"
             "smaller one stops with status 2",
     .apply = apply_dt_limit},
    {.name = "dt-max", .id = OPT_DT_MAX, .metavar = "X", .def = "0: no limit",
     .help = "dopri5: largest step", .apply = apply_dt_limit},
    {.name = "max-steps", .metavar = "N", .def = "0: 100 x steps, at least 100000",
     .help = "dopri5: steps a member may attempt in the run;\n"
             "one that needs more stops with status 3",
     .apply = apply_count, .set_count = ens_config_set_max_steps},
    {.name = "precision", .metavar = "NAME", .def = "double",
     .help = "arithmetic: float or double",
     .apply = apply_name, .set_name = ens_config_set_precision},

    {.name = "blowup-bound", .metavar = "X", .def = "1e8",
     .help = "a euler/rk4 member with a variable above X (or\n"
             "not finite) at a save fails and stops; 0: none",
     .apply = apply_real, .set_real = ens_config_set_blowup_bound},

    {.help = "Backend"},
    {.name = "backend", .id = OPT_BACKEND, .metavar = "NAME", .def = "auto",
     .help = "auto, openmp, opencl or cuda",
     .apply = apply_name, .set_name = ens_config_set_backend},
    {.name = "device", .metavar = "DEV", .def = "the backend's first",
     .help = "device of the backend: its number in 'ensol info'\n"
             "or part of its name",
     .apply = apply_name, .set_name = ens_config_set_device},
    {.name = "strict-fp", .help = "no fused multiply-adds, correctly rounded\n"
                                  "division: backends agree bit for bit",
     .apply = apply_strict_fp},
    {.name = "threads", .metavar = "N", .def = "0",
     .help = "threads of the openmp backend; 0: all cores", .apply = apply_threads},
    {.name = "batch-members", .metavar = "N", .def = "0",
     .help = "members per batch; 0: chosen from the memory\n"
             "budget (results do not depend on it)",
     .apply = apply_count, .set_count = ens_config_set_batch_members},
    {.name = "max-memory", .metavar = "SIZE", .def = "a quarter of free memory, at most 1G",
     .help = "memory budget of the run (K, M, G, T suffixes):\n"
             "batches are sized to fit it",
     .apply = apply_memory},

    {.help = "Output"},
    {.name = "output", .id = OPT_OUTPUT, .metavar = "FILE", .def = DEFAULT_OUTPUT,
     .help = "NetCDF file to write",
     .apply = apply_name, .set_name = ens_config_set_output_path},
    {.name = "output-mode", .metavar = "MODE", .def = "trajectory",
     .help = "trajectory (every save), final, stats (ensemble\n"
             "mean, std, min, max per save) or both",
     .apply = apply_name, .set_name = ens_config_set_output_mode},
    {.name = "output-type", .metavar = "TYPE", .def = "the precision",
     .help = "values on disk: float or double",
     .apply = apply_name, .set_name = ens_config_set_output_type},
    {.name = "restart-out", .metavar = "FILE", .def = "none",
     .help = "also write the final states, exact, to FILE:\n"
             "continue with --init-from FILE",
     .apply = apply_name, .set_name = ens_config_set_restart_path},
    {.name = "deflate", .metavar = "LEVEL", .def = "0",
     .help = "compress the states, deflate level 1-9 with shuffle",
     .apply = apply_int_setting, .set_int = ens_config_set_deflate},
    {.name = "quantize", .metavar = "BITS", .def = "0",
     .help = "keep BITS significant bits of each value (bit\n"
             "rounding; 0: exact); 12-16 compresses float 2-3x",
     .apply = apply_int_setting, .set_int = ens_config_set_quantize},
    {.name = "file-per-rank", .id = OPT_FILE_PER_RANK,
     .help = "under mpirun: each rank writes its members to\n"
             "FILE.rankNNNN.nc (join them with 'ensol merge')\n"
             "instead of all writing FILE; the default when\n"
             "NetCDF has no parallel I/O",
     .apply = apply_file_per_rank},
    {.name = "quiet", .id = OPT_QUIET, .help = "print nothing but errors"},
    {.name = "help", .id = OPT_HELP, .help = "show this help and exit"},
};

enum { NOPTIONS = sizeof options / sizeof options[0] };

static const char *const run_examples[] = {
    "ensol run -o l63.nc",
    ("ensol run --model lorenz96 --param K=40 --param F=8 --members 1000000 \\\n"
     "      --integrator rk4 --output-mode final -o l96.nc"),
    "ensol run --sweep rho=20:40:1001 --perturb 0 -o rho_sweep.nc",
    "ensol run --sweep rho=20:40:101 --sweep sigma=5:15:11 --perturb 0 -o grid.nc",
    "ensol run --model lorenz96 --random F=6:10 --members 10000 -o f.nc",
};

/* Fills getopt_long's tables from `options`. */
static void build_getopt_tables(struct option *longopts, char *shortopts)
{
    int n = 0;
    *shortopts++ = ':'; /* report a missing argument as ':' */
    for (int i = 0; i < NOPTIONS; i++) {
        const cli_option *o = &options[i];
        if (!o->name)
            continue;
        longopts[n++] = (struct option){o->name, o->metavar ? required_argument : no_argument,
                                        NULL, o->id};
        if (o->id > 0 && o->id < 256) {
            *shortopts++ = (char)o->id;
            if (o->metavar)
                *shortopts++ = ':';
        }
    }
    longopts[n] = (struct option){0, 0, 0, 0};
    *shortopts = '\0';
}

/* The table entry getopt_long matched: by index for long options, by letter
 * for short ones. */
static const cli_option *matched_option(const struct option *longopts, int c, int longindex)
{
    const char *name = longindex >= 0 ? longopts[longindex].name : NULL;
    for (int i = 0; i < NOPTIONS; i++) {
        const cli_option *o = &options[i];
        if (o->name && (name ? strcmp(o->name, name) == 0 : o->id == c))
            return o;
    }
    return NULL;
}

static const cli_option *option_by_id(int id)
{
    for (int i = 0; i < NOPTIONS; i++)
        if (options[i].name && options[i].id == id)
            return &options[i];
    return NULL;
}

/* ---- help ------------------------------------------------------------------ */

enum { HELP_COLUMN = 30, HELP_WIDTH = 79 };

static void print_option_help(const cli_option *o)
{
    char left[64], shortopt[8] = "    ";
    if (o->id > 0 && o->id < 256)
        snprintf(shortopt, sizeof shortopt, "-%c, ", o->id);
    snprintf(left, sizeof left, "  %s--%s%s%s", shortopt, o->name, o->metavar ? " " : "",
             o->metavar ? o->metavar : "");
    int column = printf("%-*s", HELP_COLUMN, left);
    for (const char *c = o->help; *c; c++) {
        if (*c == '\n')
            column = printf("\n%*s", HELP_COLUMN, "") - 1;
        else
            column += putchar(*c) != EOF;
    }
    if (o->def && column + 3 + (int)strlen(o->def) > HELP_WIDTH)
        printf("\n%*s", HELP_COLUMN - 1, "");
    if (o->def)
        printf(" [%s]", o->def);
    putchar('\n');
}

static void print_models(void)
{
    printf("Models:\n");
    for (int i = 0; i < ens_model_count(); i++) {
        const char *name = ens_model_name(i), *summary = ens_model_summary(i);
        /* The summaries start with the model's name; no need to say it twice. */
        if (strncmp(summary, name, strlen(name)) == 0)
            printf("  %s\n", summary);
        else
            printf("  %-10s %s\n", name, summary);
    }
}

static void print_run_help(void)
{
    printf("Usage: ensol run [options]\n\n"
           "Integrate an ensemble of ODE trajectories and write it to a NetCDF file\n"
           "(written as FILE.partial, renamed to FILE when the run succeeds).\n"
           "With no options: the classic Lorenz-63 experiment with 100000 members.\n"
           "Defaults are in [brackets].\n");
    for (int i = 0; i < NOPTIONS; i++) {
        if (options[i].name)
            print_option_help(&options[i]);
        else
            printf("\n%s:\n", options[i].help);
    }
    printf("\n");
    print_models();
    printf("\nExamples:\n");
    for (size_t i = 0; i < sizeof run_examples / sizeof run_examples[0]; i++)
        printf("  %s\n", run_examples[i]);
    printf("\nExit status: 0 success, 1 the run failed, 2 bad command line,\n"
           "130 interrupted (Ctrl-C), 143 terminated; no output file is left\n"
           "behind on failure.\n");
}

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: ensol <command> [options]\n\n"
               "Integrate ensembles of ODE trajectories on CPU cores and GPUs and write\n"
               "them to NetCDF.\n\n"
               "Commands:\n"
               "  run       integrate an ensemble and write a NetCDF file\n"
               "  info      show the version, the backends of this build and the models\n"
               "  bench     compare the throughput of the backends and devices\n"
               "  merge     join the per-rank pieces of an MPI run into one file\n"
               "  version   print the version\n"
               "  help      show this help\n\n"
               "See 'ensol run --help' and 'ensol bench --help' for their options.\n");
}

/* Flushes stdout and reports a failed write (full disk, closed pipe). */
static int finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ensol: error writing to standard output: %s\n", strerror(errno));
        return EXIT_RUN_FAILED;
    }
    return status;
}

/* ---- errors -------------------------------------------------------------------- */

static int is_usage_status(ens_status st)
{
    return st == ENS_ERR_INVALID_ARGUMENT || st == ENS_ERR_UNKNOWN_NAME;
}

static const char *config_error(const ens_config *cfg, ens_status st)
{
    const char *msg = ens_config_last_error(cfg);
    return msg && *msg ? msg : ens_status_string(st);
}

/* Prints the configuration's last error alone; returns `status`. */
static int config_failure(const ens_config *cfg, ens_status st, int status)
{
    fprintf(stderr, "ensol: %s\n", config_error(cfg, st));
    return status;
}

static int option_error(const cli_option *o, const char *arg, const char *why, int status)
{
    fprintf(stderr, "ensol: --%s %s: %s\n", o->name, arg, why);
    return status;
}

/* ---- command line for the history attribute ------------------------------------ */

static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_./=:,+@%^", *s))
            return 0;
    return 1;
}

/* argv joined by spaces, arguments quoted the way a POSIX shell reads them
 * back ('it'\''s'); NULL when out of memory. */
static char *command_line(int argc, char **argv)
{
    size_t size = 1;
    for (int i = 0; i < argc; i++)
        size += 4 * strlen(argv[i]) + 3;
    char *out = malloc(size), *p = out;
    if (!out)
        return NULL;
    for (int i = 0; i < argc; i++) {
        if (i > 0)
            *p++ = ' ';
        if (shell_safe(argv[i])) {
            p = stpcpy(p, argv[i]);
            continue;
        }
        *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'')
                p = stpcpy(p, "'\\''"); /* close, escaped quote, reopen */
            else
                *p++ = *c;
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

/* ---- progress ------------------------------------------------------------------- */

/* 1.2e9 rather than printf's 1.2e+09. */
static const char *format_rate(double rate, char *buf, size_t size)
{
    if (!(rate > 0) || !isfinite(rate)) {
        snprintf(buf, size, "0");
        return buf;
    }
    int exponent = (int)floor(log10(rate));
    double mantissa = rate / pow(10, exponent);
    if (mantissa >= 9.95) { /* would print as 10.0 */
        mantissa /= 10;
        exponent++;
    }
    snprintf(buf, size, "%.1fe%d", mantissa, exponent);
    return buf;
}

static const char *format_duration(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.0f s", s);
    else if (s < 3600)
        snprintf(buf, size, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

typedef struct progress_line {
    int show;         /* stderr is a terminal and not --quiet */
    int drawn;        /* a line is on screen and must be cleared */
    double last_draw; /* elapsed seconds at the last redraw */
} progress_line;

enum { PROGRESS_REDRAW_MS = 100 };

#define PROGRESS_BAR_WIDTH 24

/* "[#####...]" for a fraction done, and the time left at the rate so far. */
static void progress_bar(double fraction, double elapsed, char bar[PROGRESS_BAR_WIDTH + 1],
                         char *eta, size_t eta_size)
{
    const int filled = (int)(fraction * PROGRESS_BAR_WIDTH + 0.5);
    for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[PROGRESS_BAR_WIDTH] = '\0';
    format_duration(fraction > 0 ? elapsed * (1 - fraction) / fraction : NAN, eta, eta_size);
}

static void draw_progress(progress_line *pl, const ens_progress *p)
{
    char rate[32], eta[32], bar[PROGRESS_BAR_WIDTH + 1], line[320];
    progress_bar(p->fraction, p->elapsed_seconds, bar, eta, sizeof eta);
    snprintf(line, sizeof line,
             "\r[%s] %5.1f%% %lld/%lld members, t=%g, %s member-steps/s, ETA %s\033[K", bar,
             100 * p->fraction, p->members_done, p->members_total, p->sim_time,
             format_rate(p->member_steps_per_second, rate, sizeof rate), eta);
    fputs(line, stderr);
    pl->drawn = 1;
    pl->last_draw = p->elapsed_seconds;
}

static void clear_progress(progress_line *pl)
{
    if (pl->drawn)
        fputs("\r\033[K", stderr);
    pl->drawn = 0;
}

/* Called by the library after each save interval: the place a signal stops
 * the run cleanly (the library then keeps what was computed in the partial
 * file, marked incomplete). */
static int on_progress(const ens_progress *p, void *user)
{
    progress_line *pl = user;
    if (cli_stop_signal)
        return 1;
    if (pl->show && (!pl->drawn || p->fraction >= 1 ||
                     p->elapsed_seconds - pl->last_draw >= PROGRESS_REDRAW_MS / 1000.0))
        draw_progress(pl, p);
    return 0;
}

/* ---- ensol run ------------------------------------------------------------------ */

typedef struct setting {
    const cli_option *opt;
    const char *arg;
} setting;

/* What the plan line reports; the API has no getters for these. */
typedef struct run_plan {
    const char *model;
    long long steps;
    const char *backend;
    const char *output;
    int adaptive;         /* --integrator dopri5 */
    int file_per_rank;    /* --file-per-rank */
} run_plan;

/* MPI ranks of this run; 1 without MPI (set by run_with_mpi). */
static int mpi_ranks = 1;

/* Whether the ranks write one piece each (see ens_config_set_file_per_rank). */
static int writes_pieces(const run_plan *plan)
{
    return mpi_ranks > 1 && (plan->file_per_rank || !ens_has_parallel_io());
}

/* "run.rank*.nc", the pieces of run.nc as a shell pattern. */
static void pieces_pattern(const char *output, char *out, size_t size)
{
    if (ens_piece_path(output, 0, out, size) != ENS_OK) {
        snprintf(out, size, "%s", output);
        return;
    }
    char *at = NULL; /* the last ".rank0000" is the inserted one */
    for (char *p = strstr(out, ".rank0000"); p; p = strstr(p + 1, ".rank0000"))
        at = p;
    if (at) {
        at[5] = '*';
        memmove(at + 6, at + 9, strlen(at + 9) + 1);
    }
}

static void plan_defaults(run_plan *p)
{
    p->model = option_by_id(OPT_MODEL)->def;
    p->steps = strtoll(option_by_id(OPT_STEPS)->def, NULL, 10);
    p->backend = option_by_id(OPT_BACKEND)->def;
    p->output = DEFAULT_OUTPUT;
    p->adaptive = 0;
    p->file_per_rank = 0;
}

static void plan_note(run_plan *p, const cli_option *o, const char *arg)
{
    switch (o->id) {
    case OPT_MODEL: p->model = arg; break;
    case OPT_STEPS: p->steps = strtoll(arg, NULL, 10); break;
    case OPT_BACKEND: p->backend = arg; break;
    case OPT_INTEGRATOR: p->adaptive = strcmp(arg, "dopri5") == 0; break;
    case OPT_OUTPUT: p->output = arg; break;
    case OPT_FILE_PER_RANK: p->file_per_rank = 1; break;
    default: break;
    }
}

/* Reports getopt_long's ':' or '?' in our wording (opterr is off). glibc
 * has moved optind past a bad long option, not always past a short one. */
static int getopt_error(int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        fprintf(stderr, "ensol: %s: missing value\n", arg);
    else if (optopt == 0)
        fprintf(stderr, "ensol: %s: unknown option (see 'ensol run --help')\n", arg);
    else if (option_by_id(optopt))
        fprintf(stderr, "ensol: %s: this option takes no value\n", arg);
    else
        fprintf(stderr, "ensol: -%c: unknown option (see 'ensol run --help')\n", optopt);
    return EXIT_USAGE;
}

/* Parses argv (argv[0] is "run") into settings[]; returns -1 to go on,
 * else the exit status (help printed, or a usage error). */
static int parse_run_args(int argc, char **argv, setting *settings, int *count, int *quiet)
{
    struct option longopts[NOPTIONS + 1];
    char shortopts[2 * NOPTIONS + 2];
    build_getopt_tables(longopts, shortopts);
    opterr = 0;
    optind = 1;
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv, shortopts, longopts, &longindex);
        if (c == -1)
            break;
        if (c == '?' || c == ':')
            return getopt_error(c, argv);
        const cli_option *o = matched_option(longopts, c, longindex);
        if (c == OPT_HELP) {
            print_run_help();
            return finish_stdout(0);
        }
        if (c == OPT_QUIET)
            *quiet = 1;
        else
            settings[(*count)++] = (setting){o, optarg};
    }
    if (optind < argc) {
        fprintf(stderr, "ensol: %s: unexpected argument (run takes options only)\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

/* Applies the settings by priority, then validates the whole. Returns 0
 * or the exit status after printing the error. */
static int apply_settings(ens_config *cfg, const setting *settings, int count, run_plan *plan)
{
    ens_status st = ens_config_set_output_path(cfg, DEFAULT_OUTPUT);
    if (st != ENS_OK)
        return config_failure(cfg, st, EXIT_RUN_FAILED);
    for (int prio = PRIO_MODEL; prio >= PRIO_REST; prio--) {
        for (int i = 0; i < count; i++) {
            const cli_option *o = settings[i].opt;
            const char *arg = settings[i].arg;
            st = ENS_OK;
            if (o->priority != prio)
                continue;
            const char *why = o->apply(cfg, o, arg, &st);
            if (why)
                return option_error(o, arg, why, EXIT_USAGE);
            if (st != ENS_OK)
                return option_error(o, arg, setter_reason(config_error(cfg, st)),
                                    is_usage_status(st) ? EXIT_USAGE : EXIT_RUN_FAILED);
            plan_note(plan, o, arg);
        }
    }
    st = ens_config_validate(cfg);
    if (st != ENS_OK)
        return config_failure(cfg, st, is_usage_status(st) ? EXIT_USAGE : EXIT_RUN_FAILED);
    return 0;
}

/* The directory part of path ("." or "/" at the least); caller frees. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* Catches, before the plan line, the failures ens_run would report only
 * after setting up (or, for a directory in the way, after the whole run),
 * so that they get one line naming the option like other bad input. The
 * library still has the last word. */
static int preflight(const run_plan *plan)
{
    char detail[256] = "";
    struct stat sb;
    if (strcmp(plan->backend, "auto") != 0 &&
        ens_backend_probe(plan->backend, detail, sizeof detail) != ENS_OK) {
        fprintf(stderr, "ensol: --backend %s: %s\n", plan->backend, detail);
        return EXIT_RUN_FAILED;
    }
    if (stat(plan->output, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "ensol: --output %s: is a directory\n", plan->output);
        return EXIT_RUN_FAILED;
    }
    char *dir = directory_of(plan->output);
    int ok = !dir || access(dir, W_OK | X_OK) == 0;
    if (!ok)
        fprintf(stderr, "ensol: --output %s: cannot write in directory '%s': %s\n",
                plan->output, dir, strerror(errno));
    free(dir);
    return ok ? 0 : EXIT_RUN_FAILED;
}

/* Whole-run rate first (what the user waited for), then the integration
 * alone, so that output cost is visible rather than hidden. */
static void print_summary(const ens_config *cfg, const run_plan *plan, const ens_run_info *info)
{
    char total_rate[32], compute_rate[32];
    const double member_steps = (double)ens_config_members(cfg) * (double)plan->steps;
    char written[4200];
    if (writes_pieces(plan)) {
        char pattern[4096];
        pieces_pattern(plan->output, pattern, sizeof pattern);
        snprintf(written, sizeof written, "%d pieces %s", mpi_ranks, pattern);
    } else {
        snprintf(written, sizeof written, "%s", plan->output);
    }
    char ranks[48] = "";
    if (mpi_ranks > 1)
        snprintf(ranks, sizeof ranks, "%d MPI ranks, each ", mpi_ranks);
    fprintf(stderr,
            "ensol: wrote %s (%.1f MB): %lld members x %lld steps in %.2f s, %s member-steps/s; "
            "integration %.2f s, %s member-steps/s on %s%s (%s)",
            written, (double)info->bytes_written / 1e6, ens_config_members(cfg), plan->steps,
            info->seconds,
            format_rate(info->seconds > 0 ? member_steps / info->seconds : 0.0, total_rate,
                        sizeof total_rate),
            info->compute_seconds,
            format_rate(info->member_steps_per_second, compute_rate, sizeof compute_rate),
            ranks, info->backend, info->device);
    if (plan->adaptive && ens_config_members(cfg) > 0)
        fprintf(stderr, "; per member %.1f accepted and %.1f rejected steps",
                (double)info->steps_accepted / (double)ens_config_members(cfg),
                (double)info->steps_rejected / (double)ens_config_members(cfg));
    if (info->members_failed > 0) {
        static const char *const why[5] = {"", "NaN or Inf", "below --dt-min",
                                           "at --max-steps", "above --blowup-bound"};
        fprintf(stderr, ", %lld members failed (", info->members_failed);
        for (int s = 1, first = 1; s < 5; s++)
            if (info->members_by_status[s] > 0) {
                fprintf(stderr, "%s%lld %s", first ? "" : ", ", info->members_by_status[s],
                        why[s]);
                first = 0;
            }
        fputc(')', stderr);
    }
    fputc('\n', stderr);
    if (writes_pieces(plan)) {
        char pattern[4096];
        pieces_pattern(plan->output, pattern, sizeof pattern);
        fprintf(stderr, "ensol: join the pieces with: ensol merge %s %s\n", plan->output,
                pattern);
    }
}

static const char *format_bytes(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 5) {
        bytes /= 1000.0;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

typedef struct plan_context {
    const run_plan *plan;
    const ens_config *cfg;
} plan_context;

/* With --backend auto: one note per backend ahead of the chosen one in the
 * auto order that could not run here, and why. */
static void note_skipped_backends(const char *chosen)
{
    for (int i = 0; i < ens_backend_count(); i++) {
        const char *name = ens_backend_name(i);
        if (strcmp(name, chosen) == 0)
            return;
        char detail[512] = "";
        if (ens_backend_probe(name, detail, sizeof detail) != ENS_OK)
            fprintf(stderr, "ensol: note: %s unavailable (%s); using %s\n", name,
                    strtok(detail, "\n"), chosen);
    }
}

/* The plan line: what the run will do and allocate, before it starts. */
static void on_plan(const ens_run_plan *p, void *user)
{
    const plan_context *ctx = user;
    if (strcmp(ctx->plan->backend, "auto") == 0)
        note_skipped_backends(p->backend);
    char host[32], device[32], output[32], ranks[48] = "";
    /* Under MPI the batches and memory are rank 0's: each rank's share. */
    if (mpi_ranks > 1)
        snprintf(ranks, sizeof ranks, "%d MPI ranks, each ", mpi_ranks);
    fprintf(stderr,
            "ensol: %s, %lld members x %lld steps on %s%s (%s): %lld batch%s of %lld members, "
            "host memory %s",
            ctx->plan->model, p->members, ctx->plan->steps, ranks, p->backend, p->device,
            p->batches, p->batches == 1 ? "" : "es", p->batch_members,
            format_bytes(p->host_bytes, host, sizeof host));
    if (p->device_bytes > 0)
        fprintf(stderr, ", device memory %s", format_bytes(p->device_bytes, device, sizeof device));
    char pattern[4096];
    if (writes_pieces(ctx->plan))
        pieces_pattern(ctx->plan->output, pattern, sizeof pattern);
    fprintf(stderr, ", output %s -> %s\n", format_bytes(p->output_bytes, output, sizeof output),
            writes_pieces(ctx->plan) ? pattern : ctx->plan->output);
    if (writes_pieces(ctx->plan) && !ctx->plan->file_per_rank)
        fprintf(stderr, "ensol: note: this ensol's NetCDF cannot write one file from %d MPI "
                        "ranks: each writes its own piece, %s; join them with "
                        "'ensol merge %s %s'\n",
                mpi_ranks, pattern, ctx->plan->output, pattern);
}

static int execute(ens_config *cfg, const run_plan *plan, const char *history, int quiet)
{
    progress_line pl = {.show = !quiet && isatty(STDERR_FILENO)};
    ens_run_info info;
    memset(&info, 0, sizeof info);
    ens_status st = ens_config_set_history(cfg, history);
    if (st == ENS_OK)
        st = ens_config_set_progress(cfg, on_progress, &pl);
    if (st != ENS_OK)
        return config_failure(cfg, st, EXIT_RUN_FAILED);
    plan_context plan_ctx = {plan, cfg};
    if (!quiet && ens_config_set_plan_callback(cfg, on_plan, &plan_ctx) != ENS_OK)
        return config_failure(cfg, st, EXIT_RUN_FAILED);
    cli_install_signal_handlers();
    st = ens_run(cfg, &info);
    clear_progress(&pl);
    if (st == ENS_ERR_INTERRUPTED && cli_stop_signal) {
        fprintf(stderr, "ensol: %s by SIG%s: %s\n",
                cli_stop_signal == SIGINT ? "interrupted" : "terminated",
                cli_stop_signal == SIGINT ? "INT" : "TERM", ens_config_last_error(cfg));
        return 128 + cli_stop_signal;
    }
    if (st != ENS_OK)
        return config_failure(cfg, st, EXIT_RUN_FAILED);
    if (!quiet)
        print_summary(cfg, plan, &info);
    return 0;
}

static int configure_and_run(const setting *settings, int count, int quiet,
                             const char *history)
{
    ens_config *cfg;
    run_plan plan;
    if (ens_config_create(&cfg) != ENS_OK) {
        fprintf(stderr, "ensol: cannot create a configuration: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    plan_defaults(&plan);
    int status = apply_settings(cfg, settings, count, &plan);
    if (status == 0)
        status = preflight(&plan);
    if (status == 0)
        status = execute(cfg, &plan, history, quiet);
    ens_config_destroy(cfg);
    return status;
}

/* argv[1] is "run". */
static int cmd_run(int argc, char **argv)
{
    char *history = command_line(argc, argv);
    setting *settings = malloc((size_t)argc * sizeof *settings);
    int count = 0, quiet = 0, status = EXIT_RUN_FAILED;
    if (!history || !settings)
        fprintf(stderr, "ensol: out of memory\n");
    else if ((status = parse_run_args(argc - 1, argv + 1, settings, &count, &quiet)) == -1)
        status = configure_and_run(settings, count, quiet, history);
    free(settings);
    free(history);
    return status;
}

/* ---- ensol info, ensol version ------------------------------------------------- */

static int backend_built_in(const char *name)
{
    for (int i = 0; i < ens_backend_count(); i++)
        if (strcmp(ens_backend_name(i), name) == 0)
            return 1;
    return 0;
}

static int is_any(const char *s, const char *a, const char *b)
{
    return strcmp(s, a) == 0 || strcmp(s, b) == 0;
}

/* info and version take no arguments but --help. */
static int no_arguments(int argc, char **argv, const char *usage)
{
    if (argc > 2 && is_any(argv[2], "-h", "--help")) {
        printf("Usage: %s\n", usage);
        return finish_stdout(0);
    }
    if (argc > 2) {
        fprintf(stderr, "ensol: %s: unexpected argument to %s\n", argv[2], argv[1]);
        return EXIT_USAGE;
    }
    return -1;
}

static int cmd_info(int argc, char **argv)
{
    static const char *const known[] = {"openmp", "opencl", "cuda"};
    char detail[8192];
    int status = no_arguments(argc, argv, "ensol info");
    if (status != -1)
        return status;
    printf("ensol %s\n\nBackends (in auto-selection order):\n", ens_version());
    for (int i = 0; i < ens_backend_count(); i++) {
        const char *name = ens_backend_name(i);
        detail[0] = '\0';
        ens_status st = ens_backend_probe(name, detail, sizeof detail);
        printf("  %-8s %s%s%s\n", name, st == ENS_OK ? "available" : "unavailable",
               *detail ? ": " : "", detail);
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!backend_built_in(known[i]))
            printf("  %-8s not built in\n", known[i]);
#ifdef ENSOL_HAVE_MPI
    printf("\nMPI: built in; ranks write %s\n",
           ens_has_parallel_io() ? "one file together (parallel NetCDF)"
                                 : "one piece each (no parallel NetCDF; join with 'ensol merge')");
#else
    printf("\nMPI: not built in\n");
#endif
    printf("\n");
    print_models();
    return finish_stdout(0);
}

static int cmd_version(int argc, char **argv)
{
    int status = no_arguments(argc, argv, "ensol version");
    if (status != -1)
        return status;
    printf("ensol %s\n", ens_version());
    return finish_stdout(0);
}

/* ---- ensol merge ---------------------------------------------------------------- */

static void print_merge_help(void)
{
    printf("Usage: ensol merge [-q] OUTPUT PIECE...\n\n"
           "Join the pieces that MPI ranks write with --file-per-rank (or with a NetCDF\n"
           "without parallel I/O), e.g. run.rank0000.nc run.rank0001.nc ..., into OUTPUT,\n"
           "laid out as one process writes it. The pieces may come in any order; they\n"
           "must be all of one finished run. OUTPUT is written as OUTPUT.partial and\n"
           "renamed when complete; the pieces are left as they are. On a terminal a\n"
           "progress line shows the share copied; Ctrl-C stops and leaves no OUTPUT.\n\n"
           "  -q, --quiet   print nothing but errors\n\n"
           "Example:\n"
           "  mpirun -n 8 ensol run --file-per-rank -o run.nc\n"
           "  ensol merge run.nc run.rank*.nc && rm run.rank*.nc\n\n"
           "Exit status: 0 success, 1 a file could not be read or written, 2 bad\n"
           "command line or pieces that do not form one run, 130 interrupted.\n");
}

typedef struct merge_progress {
    progress_line pl;
    struct timespec start;
} merge_progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* Called by the library as it copies: a progress line on a terminal, and
 * the place a signal stops the merge (which then leaves no file). */
static int on_merge_progress(double fraction, void *user)
{
    merge_progress *mp = user;
    if (cli_stop_signal)
        return 1;
    const double elapsed = seconds_since(&mp->start);
    if (mp->pl.show && (!mp->pl.drawn || fraction >= 1 ||
                        elapsed - mp->pl.last_draw >= PROGRESS_REDRAW_MS / 1000.0)) {
        char bar[PROGRESS_BAR_WIDTH + 1], eta[32];
        progress_bar(fraction, elapsed, bar, eta, sizeof eta);
        fprintf(stderr, "\r[%s] %5.1f%% merged, ETA %s\033[K", bar, 100 * fraction, eta);
        mp->pl.drawn = 1;
        mp->pl.last_draw = elapsed;
    }
    return 0;
}

static int cmd_merge(int argc, char **argv)
{
    int quiet = 0, first = 2;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        if (is_any(argv[first], "-h", "--help")) {
            print_merge_help();
            return finish_stdout(0);
        }
        if (!is_any(argv[first], "-q", "--quiet")) {
            if (strcmp(argv[first], "--") == 0) {
                first++;
                break;
            }
            fprintf(stderr, "ensol: merge: %s: unknown option (see 'ensol merge --help')\n",
                    argv[first]);
            return EXIT_USAGE;
        }
        quiet = 1;
    }
    if (argc - first < 2) {
        fprintf(stderr, "ensol: merge: expected OUTPUT and at least one PIECE "
                        "(see 'ensol merge --help')\n");
        return EXIT_USAGE;
    }
    char *history = command_line(argc, argv);
    if (!history) {
        fprintf(stderr, "ensol: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    const char *output = argv[first];
    const int npieces = argc - first - 1;
    char error[8192];
    merge_progress mp = {.pl = {.show = !quiet && isatty(STDERR_FILENO)}};
    clock_gettime(CLOCK_MONOTONIC, &mp.start);
    cli_install_signal_handlers();
    ens_status st = ens_merge_files(output, (const char *const *)argv + first + 1, npieces,
                                    history, on_merge_progress, &mp, error, sizeof error);
    const double seconds = seconds_since(&mp.start);
    clear_progress(&mp.pl);
    free(history);
    if (st == ENS_ERR_INTERRUPTED && cli_stop_signal) {
        fprintf(stderr, "ensol: merge %s by SIG%s: %s\n",
                cli_stop_signal == SIGINT ? "interrupted" : "terminated",
                cli_stop_signal == SIGINT ? "INT" : "TERM", error);
        return 128 + cli_stop_signal;
    }
    if (st != ENS_OK) {
        fprintf(stderr, "ensol: merge: %s\n", error);
        return is_usage_status(st) ? EXIT_USAGE : EXIT_RUN_FAILED;
    }
    struct stat sb;
    if (!quiet && stat(output, &sb) == 0)
        fprintf(stderr, "ensol: merged %d piece%s into %s (%.1f MB) in %.2f s\n", npieces,
                npieces == 1 ? "" : "s", output, (double)sb.st_size / 1e6, seconds);
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

/* OpenMP threads that spin between parallel regions take the core the
 * writer thread needs: on 2 cores a run writing trajectories took 3.3x the
 * longer of its integration and its writing, and 1.26x with passive waiting
 * (bench/README.md). The OpenMP runtime reads the policy when it loads, so
 * the command sets it and starts itself again, unless the user chose one. */
static void prefer_passive_openmp_threads(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "PASSIVE", 0) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* Without /proc the run goes on with the default policy. */
}

#ifdef ENSOL_HAVE_MPI
/* Whether an MPI launcher (mpirun, mpiexec, srun, PBS's mpiexec) started
 * this process, or ENSOL_MPI=1 asks for MPI: a plain `ensol run` then
 * stays a single process that never initialises MPI. */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                                       "PMI_RANK", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE",
                                       "PALS_RANKID"};
    const char *force = getenv("ENSOL_MPI");
    if (force && *force)
        return strcmp(force, "0") != 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

/* `ensol run` under MPI: members split across the ranks (see ens_run), one
 * file written by all; only rank 0 prints (plan, progress, summary and
 * errors, which every rank meets alike). MPI is used from the main thread
 * only (the file is written from it under MPI), so FUNNELED suffices. */
static int run_with_mpi(int argc, char **argv)
{
    int provided = 0, rank = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "ensol: cannot initialise MPI\n");
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_ranks);
    if (rank != 0 && !freopen("/dev/null", "w", stderr))
        fclose(stderr);
    const int rc = cmd_run(argc, argv);
    fflush(stderr);
    MPI_Finalize();
    return rc;
}
#endif

int main(int argc, char **argv)
{
    prefer_passive_openmp_threads(argv);
    const char *cmd = argc > 1 ? argv[1] : "help";
    if (is_any(cmd, "help", "--help") || strcmp(cmd, "-h") == 0) {
        print_usage(stdout);
        return finish_stdout(0);
    }
    if (is_any(cmd, "version", "--version"))
        return cmd_version(argc, argv);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc, argv);
#ifdef ENSOL_HAVE_MPI
    if (strcmp(cmd, "run") == 0 && launched_by_mpi())
        return run_with_mpi(argc, argv);
#endif
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc, argv);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc, argv);
    fprintf(stderr, "ensol: %s: unknown command (see 'ensol help')\n", cmd);
    return EXIT_USAGE;
}
