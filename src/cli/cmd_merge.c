/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol merge: the pieces that MPI ranks write joined into the file one
 * process would have written, with a progress line and a clean stop on
 * Ctrl-C.
 */
#define _POSIX_C_SOURCE 200809L

#include "cmd_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_progress.h"
#include "cli_signals.h"
#include "cli_status.h"
#include "ensol/ensol.h"
#include "options.h"

static void print_merge_epilogue(void)
{
    printf("\nExample:\n"
           "  mpirun -n 8 ensol run --file-per-rank -o run.nc\n"
           "  ensol merge run.nc run.rank*.nc && rm run.rank*.nc\n\n"
           "Exit status: 0 success, 1 a file could not be read or written, 2 bad\n"
           "command line or pieces that do not form one run, 130 interrupted.\n");
}

static const cli_use merge_uses[] = {{.id = OPT_QUIET}, {.id = OPT_HELP}};

static const cli_command merge_command = {
    .name = "merge",
    .usage = "ensol merge [-q] OUTPUT PIECE...",
    .intro = "Join the pieces that MPI ranks write with --file-per-rank (or with a NetCDF\n"
             "without parallel I/O), e.g. run.rank0000.nc run.rank0001.nc ..., into OUTPUT,\n"
             "laid out as one process writes it. The pieces may come in any order; they\n"
             "must be all of one finished run. OUTPUT is written as OUTPUT.partial and\n"
             "renamed when complete; the pieces are left as they are. On a terminal a\n"
             "progress line shows the share copied; Ctrl-C stops and leaves no OUTPUT.\n\n",
    .uses = merge_uses,
    .nuses = sizeof merge_uses / sizeof merge_uses[0],
    .takes_operands = 1,
    .epilogue = print_merge_epilogue,
};

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
    if (progress_due(&mp->pl, fraction, elapsed)) {
        char bar[PROGRESS_BAR_WIDTH + 1], eta[32];
        progress_bar(fraction, elapsed, bar, eta, sizeof eta);
        fprintf(stderr, "\r[%s] %5.1f%% merged, ETA %s\033[K", bar, 100 * fraction, eta);
        mp->pl.drawn = 1;
        mp->pl.last_draw = elapsed;
    }
    return 0;
}

/* Merges pieces[0..npieces) into output; returns the exit status. */
static int merge(const char *output, char **pieces, int npieces, const char *history,
                 int quiet)
{
    char error[8192];
    merge_progress mp = {.pl = {.show = !quiet && isatty(STDERR_FILENO)}};
    clock_gettime(CLOCK_MONOTONIC, &mp.start);
    cli_install_signal_handlers();
    ens_status st = ens_merge_files(output, (const char *const *)pieces, npieces, history,
                                    on_merge_progress, &mp, error, sizeof error);
    const double seconds = seconds_since(&mp.start);
    clear_progress(&mp.pl);
    if (st == ENS_ERR_INTERRUPTED && cli_stop_signal) {
        fprintf(stderr, "ensol: merge %s: %s\n", cli_stop_reason(), error);
        return cli_signal_exit();
    }
    if (st != ENS_OK) {
        fprintf(stderr, "ensol: merge: %s\n", error);
        return cli_exit_status(st);
    }
    struct stat sb;
    if (!quiet && stat(output, &sb) == 0)
        fprintf(stderr, "ensol: merged %d piece%s into %s (%.1f MB) in %.2f s\n", npieces,
                npieces == 1 ? "" : "s", output, (double)sb.st_size / 1e6, seconds);
    return CLI_EXIT_OK;
}

int cmd_merge(int argc, char **argv)
{
    int nargs = 0, first = 0, quiet = 0;
    cli_arg *all = malloc((size_t)argc * sizeof *all);
    if (!all)
        return cli_out_of_memory();
    int status = cli_parse(&merge_command, argc - 1, argv + 1, all, &nargs, &first);
    for (int i = 0; i < nargs; i++)
        quiet |= all[i].opt->id == OPT_QUIET;
    free(all);
    if (status != CLI_GO_ON)
        return status;
    first += 1; /* cli_parse saw argv + 1 */
    if (argc - first < 2) {
        fprintf(stderr, "ensol: merge: expected OUTPUT and at least one PIECE "
                        "(see 'ensol merge --help')\n");
        return CLI_EXIT_USAGE;
    }
    char *history = command_line(argc, argv);
    if (!history)
        return cli_out_of_memory();
    status = merge(argv[first], argv + first + 1, argc - first - 1, history, quiet);
    free(history);
    return status;
}
