/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The parts of ensol bench shared by its files: the options (bench_options.c),
 * the contestants and their configurations (bench_contestants.c), the timed
 * rounds (bench_rounds.c) and the table, JSON and CSV (bench_report.c).
 */
#ifndef ENSOL_CLI_BENCH_INTERNAL_H
#define ENSOL_CLI_BENCH_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "bench_peak.h"
#include "bench_stats.h"
#include "ensol/ensol.h"

enum { MAX_SIZES = 256, MAX_CONTESTANTS = 64 };

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
    const char *threads_arg;
} bench_opts;

/* Parses argv (argv[0] is "bench") into o; the backend names are split in
 * backends_storage (as long as the longest argument). Returns CLI_GO_ON or
 * the exit status after the help or a usage message. */
int parse_bench_args(int argc, char **argv, bench_opts *o, char *backends_storage);

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

/* What the whole problem implies, for the header and the roofline. */
typedef struct problem_facts {
    int nvars;
    double flops;               /* per member-step */
    int real_bytes;             /* sizeof the working precision */
    int out_bytes;              /* sizeof the output type */
    long long saved_times;      /* per run */
    int trajectory;             /* output runs: files */
} problem_facts;

/* Applies the problem and the contestant's backend (none: k NULL) to cfg.
 * On failure returns the status and names the option at fault in *opt, *arg. */
ens_status configure(ens_config *cfg, const bench_opts *o, const contestant *k,
                     long long members, const char **opt, char *arg, size_t argsize);

/* The problem as a whole, checked once before anything runs; fills the
 * roofline figures. Returns CLI_GO_ON or the exit status. */
int check_problem(const bench_opts *o, problem_facts *f);

/* All cores, as the openmp backend's probe says. */
int all_cores(void);

/* One contestant per openmp thread count and per device of every other
 * backend; returns how many. */
int list_contestants(const bench_opts *o, int cores, contestant *cs);

/* The samples of each run. */
enum { S_COMPUTE, S_WALL, S_BYTES, NSAMPLES };

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


/* How one member count went. */
typedef enum size_outcome { SIZE_DONE, SIZE_NO_MEMORY, SIZE_STOPPED } size_outcome;

/* Warm-ups and repeats of every contestant at `members`, interleaved. */
size_outcome run_size(const bench_opts *o, const problem_facts *pf, contestant *cs, int nc,
                      long long members, double *samples, const char *dir);

/* Fills rows from the samples of one member count. */
void make_rows(const bench_opts *o, const problem_facts *pf, const bp_peak *peak,
               const contestant *cs, int nc, long long members, const double *samples,
               row *rows);

/* Bytes of memory available, or a large number if unknown; bytes free in dir. */
double memory_available(void);
double disk_available(const char *dir);

void print_header(const bench_opts *o, const problem_facts *pf, const bp_peak *peak, int cores,
                  int ncontestants);
void print_table_header(void);
void print_row(const row *r);
void print_scaling_summary(const report *rep, const contestant *cs, int nc);
void print_best(const report *rep);

int write_json(const report *rep, FILE *f);
int write_csv(const report *rep, FILE *f);

/* Writes to path via path.partial, renamed when complete; returns the exit status. */
int write_results(const char *path, const report *rep, int (*writer)(const report *, FILE *));

/* Fails early, before any run, when a results file cannot be created. */
int check_writable(const char *opt, const char *path);

#endif /* ENSOL_CLI_BENCH_INTERNAL_H */
