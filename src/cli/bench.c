/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
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
 * This file drives the sweep over member counts; the options are in
 * bench_options.c, the contestants in bench_contestants.c, the timed rounds
 * in bench_rounds.c and the table, JSON and CSV in bench_report.c. Uses
 * the public API only (ensol/ensol.h). Tables go to stdout, progress and
 * notes to stderr; --json / --csv write the same rows.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_internal.h"
#include "cli_signals.h"
#include "cli_status.h"

/* One bench: what it runs, where, and what it has measured so far. */
typedef struct bench_state {
    const bench_opts *o;
    problem_facts pf;
    contestant *cs;
    int nc;
    row *rows;
    skipped *skips;
    double *samples;
    char *dir;           /* the temporary directory of output runs, or NULL */
    bp_peak peak;
    report rep;
    double start;
    double prev_wall[MAX_CONTESTANTS];
    long long prev_members;
} bench_state;

/* $TMPDIR/ensol_bench_XXXXXX (or under --tmpdir) for the output runs. */
static int make_tmpdir(bench_state *b)
{
    const char *base = b->o->tmpdir;
    if (!base) {
        base = getenv("TMPDIR");
        if (!base || !*base)
            base = "/tmp";
    }
    size_t len = strlen(base) + 32;
    b->dir = malloc(len);
    if (b->dir)
        snprintf(b->dir, len, "%s/ensol_bench_XXXXXX", base);
    if (!b->dir || !mkdtemp(b->dir)) {
        fprintf(stderr, "ensol: --tmpdir %s: cannot create a directory there: %s\n", base,
                strerror(errno));
        free(b->dir);
        b->dir = NULL;
        return CLI_EXIT_FAILURE;
    }
    return CLI_GO_ON;
}

/* Checks the problem and the results files, and finds the contestants. */
static int prepare(bench_state *b)
{
    const bench_opts *o = b->o;
    int status = check_problem(o, &b->pf);
    if (status != CLI_GO_ON)
        return status;
    if ((status = check_writable("json", o->json)) != CLI_EXIT_OK ||
        (status = check_writable("csv", o->csv)) != CLI_EXIT_OK)
        return status;
    b->cs = calloc(MAX_CONTESTANTS, sizeof *b->cs);
    b->rows = calloc((size_t)MAX_CONTESTANTS * MAX_SIZES, sizeof *b->rows);
    b->skips = calloc(MAX_SIZES, sizeof *b->skips);
    b->samples = calloc((size_t)MAX_CONTESTANTS * NSAMPLES * (size_t)o->repeats,
                        sizeof *b->samples);
    if (!b->cs || !b->rows || !b->skips || !b->samples)
        return cli_out_of_memory();
    const int cores = all_cores();
    b->nc = list_contestants(o, cores, b->cs);
    if (b->nc == 0) {
        fprintf(stderr, "ensol: no backend to run (see 'ensol info')\n");
        return CLI_EXIT_FAILURE;
    }
    if (b->pf.trajectory && (status = make_tmpdir(b)) != CLI_GO_ON)
        return status;
    if (o->peak) {
        fprintf(stderr, "ensol bench: measuring the machine's peak flops and bandwidth...\n");
        bp_measure(&b->peak);
    }
    b->rep = (report){o, &b->pf, o->peak ? &b->peak : NULL, cores, b->rows, 0, b->skips, 0, 0};
    return CLI_GO_ON;
}

/* Why member count n is skipped ("" if it is not): memory, disk or time.
 * The time comes from the previous size, scaled by the members; for the
 * first size, a lower bound from the measured peak. */
static void skip_reason(const bench_state *b, long long n, char *reason, size_t size)
{
    const bench_opts *o = b->o;
    const problem_facts *pf = &b->pf;
    const double values = (double)n * (double)pf->saved_times * pf->nvars;
    reason[0] = '\0';
    if (!pf->trajectory) {
        const double need = values * 8 + (double)n * pf->nvars * pf->real_bytes * 2;
        const double have = memory_available();
        if (need > 0.8 * have)
            snprintf(reason, size, "needs about %.1f GB of memory, %.1f GB available",
                     need * 1e-9, have * 1e-9);
    } else {
        const double need = values * pf->out_bytes;
        const double have = disk_available(b->dir);
        if (need > 0.9 * have)
            snprintf(reason, size, "writes %.1f GB per run, %.1f GB free in %s", need * 1e-9,
                     have * 1e-9, b->dir);
    }
    const double per_size_runs = o->warmup + o->repeats;
    double predicted = 0;
    if (b->prev_members > 0) {
        for (int c = 0; c < b->nc; c++)
            if (isfinite(b->prev_wall[c]))
                predicted +=
                    per_size_runs * b->prev_wall[c] * (double)n / (double)b->prev_members;
    } else if (b->rep.peak && b->peak.gflops > 0) {
        predicted = b->nc * per_size_runs * (double)n * (double)o->steps * pf->flops /
                    (b->peak.gflops * 1e9);
    }
    const double elapsed = bs_now() - b->start;
    if (!reason[0] && elapsed + predicted > o->time_budget)
        snprintf(reason, size,
                 "predicted %.0f s, more than the %.0f s left of the %g s time budget "
                 "(--time-budget)",
                 predicted, fmax(0, o->time_budget - elapsed), o->time_budget);
}

/* Runs member count n and prints its rows, or notes why not; *failed is
 * set once a row failed. SIZE_STOPPED ends the sweep. */
static size_outcome run_members(bench_state *b, long long n, int *failed)
{
    char reason[256];
    skip_reason(b, n, reason, sizeof reason);
    if (reason[0]) {
        skipped *s = &b->skips[b->rep.nskips++];
        s->members = n;
        snprintf(s->reason, sizeof s->reason, "%s", reason);
        fprintf(stderr, "ensol bench: skipping %lld members: %s\n", n, reason);
        return SIZE_DONE;
    }
    const size_outcome outcome = run_size(b->o, &b->pf, b->cs, b->nc, n, b->samples, b->dir);
    if (outcome == SIZE_NO_MEMORY)
        fprintf(stderr, "ensol bench: %lld members: out of memory for the states\n", n);
    if (outcome != SIZE_DONE || cli_stop_signal)
        return outcome == SIZE_NO_MEMORY ? SIZE_DONE : SIZE_STOPPED;
    row *rows = &b->rows[b->rep.nrows];
    make_rows(b->o, &b->pf, b->rep.peak, b->cs, b->nc, n, b->samples, rows);
    for (int c = 0; c < b->nc; c++) {
        print_row(&rows[c]);
        b->prev_wall[c] = rows[c].ok ? rows[c].wall_s : NAN;
        *failed |= !rows[c].ok;
    }
    b->rep.nrows += b->nc;
    b->prev_members = n;
    return SIZE_DONE;
}

/* The summaries and the results files after the sweep; returns the exit status. */
static int finish(bench_state *b, int status)
{
    if (cli_stop_signal) {
        b->rep.interrupted = 1;
        fprintf(stderr, "\nensol bench: %s: stopped; the rows so far are kept\n",
                cli_stop_signal == SIGINT ? "interrupted" : "terminated");
    }
    if (b->rep.nrows == 0 && !cli_stop_signal) {
        fprintf(stderr, "ensol bench: nothing was run (every member count was skipped)\n");
        status = CLI_EXIT_FAILURE;
    }
    print_scaling_summary(&b->rep, b->cs, b->nc);
    print_best(&b->rep);
    printf("(member-steps/s: members x steps / info.compute_seconds, median [min-max] over the "
           "repeats; wall: over the whole call; speedup: against openmp on all cores, ratio of "
           "medians; %%peak: CPU rows only)\n");
    if (b->o->json && write_results(b->o->json, &b->rep, write_json) != CLI_EXIT_OK)
        status = CLI_EXIT_FAILURE;
    if (b->o->csv && write_results(b->o->csv, &b->rep, write_csv) != CLI_EXIT_OK)
        status = CLI_EXIT_FAILURE;
    status = cli_finish_stdout(status);
    return cli_stop_signal ? cli_signal_exit() : status;
}

static int bench(const bench_opts *o)
{
    bench_state b;
    memset(&b, 0, sizeof b);
    b.o = o;
    int status = prepare(&b);
    if (status == CLI_GO_ON) {
        bench_opts shown = *o;
        shown.tmpdir = b.dir;
        setvbuf(stdout, NULL, _IOLBF, 0);
        print_header(&shown, &b.pf, b.rep.peak, b.rep.cores, b.nc);
        printf("\n");
        print_table_header();
        cli_install_signal_handlers();
        b.start = bs_now();
        int failed = 0;
        for (int s = 0; s < o->nmembers && !cli_stop_signal; s++)
            if (run_members(&b, o->members[s], &failed) == SIZE_STOPPED)
                break;
        status = finish(&b, failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK);
    }
    if (b.dir) {
        rmdir(b.dir);
        free(b.dir);
    }
    free(b.samples);
    free(b.skips);
    free(b.rows);
    free(b.cs);
    return status;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o;
    size_t longest = 1;
    for (int i = 0; i < argc; i++)
        longest = strlen(argv[i]) + 1 > longest ? strlen(argv[i]) + 1 : longest;
    char *backends_storage = malloc(longest);
    if (!backends_storage)
        return cli_out_of_memory();
    int status = parse_bench_args(argc - 1, argv + 1, &o, backends_storage);
    if (status == CLI_GO_ON)
        status = bench(&o);
    for (int i = 0; i < o.nparams; i++)
        free(o.params[i].name);
    free(o.params);
    free(backends_storage);
    return status;
}
