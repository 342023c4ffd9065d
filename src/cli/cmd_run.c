/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol run: the command line applied to a configuration, the checks
 * before the run, the plan line, the run and its summary; under MPI the
 * same on every rank, only rank 0 printing.
 */
#define _POSIX_C_SOURCE 200809L

#include "cmd_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_parse.h"
#include "cli_progress.h"
#include "cli_signals.h"
#include "cli_status.h"
#include "ensol/ensol.h"
#include "options.h"

#ifdef ENSOL_HAVE_MPI
#include <mpi.h>
#endif

/* What the plan line reports; the API has no getters for these. */
typedef struct run_plan {
    const char *model;
    const char *backend;
    const char *output;
    const char *init;     /* --init-from as given; NULL without */
    int adaptive;         /* dopri5, given or taken from the --init-from file */
    int file_per_rank;    /* --file-per-rank */
    const char *restart;  /* --restart-out; NULL without */
    int pieces;           /* the ranks write one piece each (the plan says) */
} run_plan;

/* MPI ranks of this run; 1 without MPI (set by cmd_run_with_mpi). */
static int mpi_ranks = 1;

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
    p->model = cli_option_by_id(OPT_MODEL)->def;
    p->backend = cli_option_by_id(OPT_BACKEND)->def;
    p->output = cli_option_by_id(OPT_OUTPUT)->def;
    p->init = NULL;
    p->adaptive = 0;
    p->file_per_rank = 0;
    p->restart = NULL;
}

static void plan_note(run_plan *p, const cli_option *o, const char *arg)
{
    switch (o->id) {
    case OPT_MODEL: p->model = arg; break;
    case OPT_BACKEND: p->backend = arg; break;
    case OPT_INIT_FROM: p->init = arg; break;
    case OPT_OUTPUT: p->output = arg; break;
    case OPT_FILE_PER_RANK: p->file_per_rank = 1; break;
    case OPT_RESTART_OUT: p->restart = arg; break;
    default: break;
    }
}

/* The options of this command line, for messages about settings. */
static const cli_arg *given_args;
static int given_nargs;

/* The option given for a library setting ("save_every": --save-every),
 * and its value as typed; NULL when the command line has none. */
static const cli_arg *given_for(const char *setting, size_t len)
{
    char name[64];
    if (len == 0 || len >= sizeof name)
        return NULL;
    for (size_t i = 0; i < len; i++)
        name[i] = setting[i] == '_' ? '-' : setting[i];
    name[len] = '\0';
    const cli_arg *found = NULL;
    for (int i = 0; i < given_nargs; i++)
        if (strcmp(given_args[i].opt->name, name) == 0 && given_args[i].value)
            found = &given_args[i];
    return found;
}

/* Prints the configuration's last error; one about a setting the user
 * gave as an option ("save_every = 100: reason", "base_state: reason")
 * names the option and its value as typed: "--save-every 100: reason".
 * Returns the exit status. */
static int config_failure(const ens_config *cfg, ens_status st)
{
    const char *msg = cli_config_error(cfg, st);
    /* The library's "initial states from 'FILE': reason" is about --init-from. */
    static const char init_prefix[] = "initial states from '";
    const cli_arg *init = given_for("init_from", strlen("init_from"));
    const char *init_reason = strstr(msg, "': ");
    if (init && strncmp(msg, init_prefix, sizeof init_prefix - 1) == 0 && init_reason)
        return cli_option_error(init->opt, init->value, init_reason + 3, cli_exit_status(st));
    const size_t name = strspn(msg, "abcdefghijklmnopqrstuvwxyz_");
    const char *reason = strstr(msg, ": ");
    const cli_arg *a = NULL;
    if (reason && (msg[name] == ':' || strncmp(msg + name, " = ", 3) == 0) &&
        !memchr(msg, ':', (size_t)(reason - msg)))
        a = given_for(msg, name);
    if (a)
        return cli_option_error(a->opt, a->value, reason + 2, cli_exit_status(st));
    fprintf(stderr, "ensol: %s\n", msg);
    return cli_exit_status(st);
}

/* The output files, before any work: regular files or none yet (that
 * they are not one file is the library's check). */
static int check_output_options(const run_plan *plan)
{
    char why[256];
    if (ens_check_output_path(plan->output, why, sizeof why) != ENS_OK) {
        fprintf(stderr, "ensol: --output %s: %s\n", plan->output, why);
        return CLI_EXIT_USAGE;
    }
    if (plan->restart && ens_check_output_path(plan->restart, why, sizeof why) != ENS_OK) {
        fprintf(stderr, "ensol: --restart-out %s: %s\n", plan->restart, why);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* A parameter both swept and drawn at random: the library keeps the last
 * setting, which the user cannot have meant. Returns the exit status. */
static int check_param_variation(const cli_arg *args, int nargs)
{
    for (int i = 0; i < nargs; i++)
        for (int j = 0; j < i; j++) {
            const cli_option_id a = args[j].opt->id, b = args[i].opt->id;
            if (!((a == OPT_SWEEP && b == OPT_RANDOM) || (a == OPT_RANDOM && b == OPT_SWEEP)))
                continue;
            const size_t n = strcspn(args[i].value, "=");
            if (strcspn(args[j].value, "=") == n && strncmp(args[i].value, args[j].value, n) == 0)
                return cli_option_error(args[i].opt, args[i].value,
                                        "that parameter is varied already by --sweep or "
                                        "--random; give it one of them",
                                        CLI_EXIT_USAGE);
        }
    return CLI_EXIT_OK;
}

/* Applies the settings by priority, then validates the whole. Returns
 * CLI_EXIT_OK or the exit status after printing the error. */
static int apply_settings(ens_config *cfg, const cli_arg *args, int nargs, run_plan *plan)
{
    if (check_param_variation(args, nargs) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    ens_status st = ens_config_set_output_path(cfg, plan->output);
    if (st != ENS_OK)
        return config_failure(cfg, st);
    for (int prio = PRIO_MODEL; prio >= PRIO_REST; prio--) {
        for (int i = 0; i < nargs; i++) {
            const cli_option *o = args[i].opt;
            const char *arg = args[i].value;
            st = ENS_OK;
            if (o->priority != prio || !o->apply)
                continue;
            const char *why = o->apply(cfg, o, arg, &st);
            if (why)
                return cli_option_error(o, arg, why, CLI_EXIT_USAGE);
            if (st != ENS_OK)
                return cli_option_error(o, arg, setter_reason(cli_config_error(cfg, st)),
                                        cli_exit_status(st));
            plan_note(plan, o, arg);
        }
    }
    const int status = check_output_options(plan);
    if (status != CLI_EXIT_OK)
        return status;
    st = ens_config_validate(cfg);
    return st == ENS_OK ? CLI_EXIT_OK : config_failure(cfg, st);
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
    if (strcmp(plan->backend, "auto") != 0 &&
        ens_backend_probe(plan->backend, detail, sizeof detail) != ENS_OK) {
        fprintf(stderr, "ensol: --backend %s: %s\n", plan->backend, detail);
        return CLI_EXIT_FAILURE;
    }
    char *dir = directory_of(plan->output);
    int ok = !dir || access(dir, W_OK | X_OK) == 0;
    if (!ok)
        fprintf(stderr, "ensol: --output %s: cannot write in directory '%s': %s\n",
                plan->output, dir, strerror(errno));
    free(dir);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

/* Whole-run rate first (what the user waited for), then the integration
 * alone, so that output cost is visible rather than hidden. */
static void print_summary(const ens_config *cfg, const run_plan *plan, const ens_run_info *info)
{
    char total_rate[32], compute_rate[32];
    const double member_steps = (double)ens_config_members(cfg) * (double)ens_config_steps(cfg);
    char written[4200];
    if (plan->pieces) {
        char pattern[4096];
        pieces_pattern(plan->output, pattern, sizeof pattern);
        snprintf(written, sizeof written, "%d pieces %s", mpi_ranks, pattern);
    } else {
        snprintf(written, sizeof written, "%s", plan->output);
    }
    char ranks[48] = "", size[32];
    if (mpi_ranks > 1)
        snprintf(ranks, sizeof ranks, "%d MPI ranks, each ", mpi_ranks);
    fprintf(stderr,
            "ensol: wrote %s (%s): %lld members x %lld steps in %.2f s, %s member-steps/s; "
            "integration %.2f s, %s member-steps/s on %s%s (%s)",
            written, format_bytes((double)info->bytes_written, size, sizeof size),
            ens_config_members(cfg), ens_config_steps(cfg),
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
    if (plan->pieces) {
        char pattern[4096];
        pieces_pattern(plan->output, pattern, sizeof pattern);
        fprintf(stderr, "ensol: join the pieces with: ensol merge %s %s\n", plan->output,
                pattern);
    }
}

typedef struct plan_context {
    run_plan *plan;
    const ens_config *cfg;
} plan_context;

/* With --backend auto: one short note naming the backends ahead of the
 * chosen one in the auto order that cannot run here. On a CPU node it
 * comes with every run, so the reasons are left to 'ensol info'. */
static void note_skipped_backends(const char *chosen)
{
    char names[256] = "";
    size_t used = 0;
    int skipped = 0;
    for (int i = 0; i < ens_backend_count() && strcmp(ens_backend_name(i), chosen) != 0; i++) {
        char detail[512] = "";
        if (ens_backend_probe(ens_backend_name(i), detail, sizeof detail) == ENS_OK ||
            used >= sizeof names)
            continue;
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                 skipped++ ? ", " : "", ens_backend_name(i));
    }
    if (skipped)
        fprintf(stderr, "ensol: note: %s unavailable here ('ensol info' says why); using %s\n",
                names, chosen);
}

/* The plan line: what the run will do and allocate, before it starts. */
static void on_plan(const ens_run_plan *p, void *user)
{
    const plan_context *ctx = user;
    if (strcmp(ctx->plan->backend, "auto") == 0)
        note_skipped_backends(p->backend);
    char host[32], device[32], output[32], ranks[48] = "";
    ctx->plan->adaptive = strcmp(p->integrator, "dopri5") == 0;
    ctx->plan->pieces = p->output_pieces;
    /* Under MPI the batches and memory are rank 0's: each rank's share. */
    if (mpi_ranks > 1)
        snprintf(ranks, sizeof ranks, "%d MPI ranks, each ", mpi_ranks);
    fprintf(stderr, "ensol: %s, %lld members", ctx->plan->model, p->members);
    if (ctx->plan->init)
        fprintf(stderr, " from %s", ctx->plan->init);
    /* The integration is shown because a run from a file may take it from there. */
    fprintf(stderr,
            " x %lld steps (%s, dt %g%s) on %s%s (%s): %lld batch%s of %lld members, "
            "host memory %s",
            p->steps, p->integrator, p->dt,
            p->resumes_steps ? ", going on with its step state" : "", ranks, p->backend,
            p->device, p->batches, p->batches == 1 ? "" : "es", p->batch_members,
            format_bytes(p->host_bytes, host, sizeof host));
    if (p->device_bytes > 0)
        fprintf(stderr, ", device memory %s", format_bytes(p->device_bytes, device, sizeof device));
    char pattern[4096];
    if (ctx->plan->pieces)
        pieces_pattern(ctx->plan->output, pattern, sizeof pattern);
    fprintf(stderr, ", output %s -> %s\n", format_bytes(p->output_bytes, output, sizeof output),
            ctx->plan->pieces ? pattern : ctx->plan->output);
    if (ctx->plan->pieces && !ctx->plan->file_per_rank)
        fprintf(stderr, "ensol: note: this ensol's NetCDF cannot write one file from %d MPI "
                        "ranks: each writes its own piece, %s; join them with "
                        "'ensol merge %s %s'\n",
                mpi_ranks, pattern, ctx->plan->output, pattern);
}

static int execute(ens_config *cfg, run_plan *plan, const char *history, int quiet,
                   const progress_line *shown)
{
    progress_line pl = *shown;
    ens_run_info info;
    memset(&info, 0, sizeof info);
    ens_status st = ens_config_set_history(cfg, history);
    if (st == ENS_OK)
        st = ens_config_set_progress(cfg, on_progress, &pl);
    plan_context plan_ctx = {plan, cfg};
    if (st == ENS_OK && !quiet)
        st = ens_config_set_plan_callback(cfg, on_plan, &plan_ctx);
    if (st != ENS_OK)
        return config_failure(cfg, st);
    cli_install_signal_handlers();
    st = ens_run(cfg, &info);
    clear_progress(&pl);
    if (st == ENS_ERR_INTERRUPTED && cli_stop_signal) {
        fprintf(stderr, "ensol: %s: %s\n", cli_stop_reason(), ens_config_last_error(cfg));
        return cli_signal_exit();
    }
    if (st != ENS_OK)
        return config_failure(cfg, st);
    if (!quiet)
        print_summary(cfg, plan, &info);
    return CLI_EXIT_OK;
}

static int configure_and_run(const cli_arg *args, int nargs, int quiet, const char *history,
                             const progress_line *pl)
{
    ens_config *cfg;
    run_plan plan;
    if (ens_config_create(&cfg) != ENS_OK) {
        fprintf(stderr, "ensol: cannot create a configuration: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    plan_defaults(&plan);
    given_args = args;
    given_nargs = nargs;
    int status = apply_settings(cfg, args, nargs, &plan);
    if (status == CLI_EXIT_OK)
        status = preflight(&plan);
    if (status == CLI_EXIT_OK)
        status = execute(cfg, &plan, history, quiet, pl);
    ens_config_destroy(cfg);
    return status;
}

/* ---- the command line and --help ----------------------------------------------- */

static void print_run_epilogue(void)
{
    static const char *const examples[] = {
        "ensol run -o l63.nc",
        ("ensol run --model lorenz96 --param K=40 --param F=8 --members 10000 \\\n"
         "      --steps 1000 --integrator rk4 --output-mode final -o l96.nc"),
        "ensol run --sweep rho=20:40:1001 --perturb 0 -o rho_sweep.nc",
        "ensol run --sweep rho=20:40:101 --sweep sigma=5:15:11 --perturb 0 -o grid.nc",
        "ensol run --model lorenz96 --random F=6:10 --integrator rk4 --members 1000 -o f.nc",
    };
    printf("\n");
    cli_print_models();
    printf("\nExamples:\n");
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        printf("  %s\n", examples[i]);
    printf("\nExit status: 0 success, 1 the run failed, 2 bad command line,\n"
           "130 interrupted (Ctrl-C), 143 terminated; no output file is left\n"
           "behind on failure.\n");
}

static const cli_use run_uses[] = {
    CLI_HEADING("Problem"),
    {.id = OPT_MODEL}, {.id = OPT_PARAM}, {.id = OPT_SWEEP}, {.id = OPT_RANDOM},
    CLI_HEADING("Ensemble"),
    {.id = OPT_MEMBERS}, {.id = OPT_BASE_STATE}, {.id = OPT_PERTURB}, {.id = OPT_INIT_FROM},
    {.id = OPT_SEED},
    CLI_HEADING("Integration"),
    {.id = OPT_INTEGRATOR}, {.id = OPT_DT}, {.id = OPT_STEPS}, {.id = OPT_SAVE_EVERY},
    {.id = OPT_RTOL}, {.id = OPT_ATOL}, {.id = OPT_DT_MIN}, {.id = OPT_DT_MAX},
    {.id = OPT_MAX_STEPS}, {.id = OPT_PRECISION}, {.id = OPT_BLOWUP_BOUND},
    CLI_HEADING("Backend"),
    {.id = OPT_BACKEND}, {.id = OPT_DEVICE}, {.id = OPT_STRICT_FP}, {.id = OPT_THREADS},
    {.id = OPT_BATCH_MEMBERS}, {.id = OPT_MAX_MEMORY},
    CLI_HEADING("Output"),
    {.id = OPT_OUTPUT}, {.id = OPT_OUTPUT_MODE}, {.id = OPT_OUTPUT_TYPE},
    {.id = OPT_RESTART_OUT}, {.id = OPT_DEFLATE}, {.id = OPT_QUANTIZE},
    {.id = OPT_FILE_PER_RANK}, {.id = OPT_FORCE}, {.id = OPT_PROGRESS}, {.id = OPT_QUIET},
    {.id = OPT_HELP},
};

const cli_command cmd_run_command = {
    .name = "run",
    .usage = "ensol run [options]",
    .intro = "Integrate an ensemble of ODE trajectories and write it to a NetCDF file\n"
             "(written as FILE.partial, renamed to FILE when the run succeeds).\n"
             "With no options: the classic Lorenz-63 experiment with 100000 members.\n"
             "Defaults are in [brackets].\n",
    .uses = run_uses,
    .nuses = sizeof run_uses / sizeof run_uses[0],
    .epilogue = print_run_epilogue,
};

int cmd_run(int argc, char **argv)
{
    char *history = command_line(argc, argv);
    cli_arg *args = malloc((size_t)argc * sizeof *args);
    int nargs = 0, first_operand, status = CLI_EXIT_FAILURE;
    if (!history || !args)
        cli_out_of_memory();
    else if ((status = cli_parse(&cmd_run_command, argc - 1, argv + 1, args, &nargs,
                                 &first_operand)) == CLI_GO_ON) {
        int quiet = 0;
        const cli_arg *when = NULL; /* the last --progress */
        for (int i = 0; i < nargs; i++) {
            quiet |= args[i].opt->id == OPT_QUIET;
            if (args[i].opt->id == OPT_PROGRESS)
                when = &args[i];
        }
        progress_line pl;
        const char *why = progress_setup(&pl, when ? when->value : NULL, quiet);
        status = why ? cli_option_error(when->opt, when->value, why, CLI_EXIT_USAGE)
                     : configure_and_run(args, nargs, quiet, history, &pl);
    }
    free(args);
    free(history);
    return status;
}

#ifdef ENSOL_HAVE_MPI
/* `ensol run` under MPI: members split across the ranks (see ens_run), one
 * file written by all; only rank 0 prints (plan, progress, summary and
 * errors, which every rank meets alike). MPI is used from the main thread
 * only (the file is written from it under MPI), so FUNNELED suffices. */
int cmd_run_with_mpi(int argc, char **argv)
{
    int provided = 0, rank = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "ensol: cannot initialise MPI\n");
        return CLI_EXIT_FAILURE;
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
#endif /* ENSOL_HAVE_MPI */
