/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol_overlap: does writing the trajectories hide behind the integration?
 *
 * Three contestants on the same problem, interleaved repeat by repeat:
 *   file     ens_run writing the NetCDF file (writer thread overlapping)
 *   discard  ens_run_to_callback with a callback that does nothing: the
 *            same integration and saves, no output
 *   writer   the NetCDF writer alone writing the same bytes in the same
 *            batches (src/io/ncwriter.h), no integration
 * With perfect overlap, file = max(discard, writer); the target is
 * file <= 1.15 x max(discard, writer).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "core/models.h"
#include "ensol/ensol.h"
#include "io/ncwriter.h"

typedef struct options {
    long long members, steps, save_every;
    const char *integrator, *output_type, *dir;
    int repeats;
} options;

typedef struct bench {
    options o;
    char path[4096];
    long long batch;      /* members per batch of the ensol run (from its plan) */
    long long ntimes;
    double bytes;         /* state bytes written */
} bench;

static void die(const char *what, ens_config *cfg)
{
    fprintf(stderr, "ensol_overlap: %s: %s\n", what, cfg ? ens_config_last_error(cfg) : "");
    exit(1);
}

static void on_plan(const ens_run_plan *p, void *user)
{
    bench *b = user;
    b->batch = p->batch_members;
    b->ntimes = p->saved_times;
    b->bytes = p->output_bytes;
}

static ens_config *make_config(bench *b)
{
    ens_config *cfg;
    if (ens_config_create(&cfg) != ENS_OK)
        die("ens_config_create", NULL);
    if (ens_config_set_members(cfg, b->o.members) || ens_config_set_steps(cfg, b->o.steps) ||
        ens_config_set_save_every(cfg, b->o.save_every) ||
        ens_config_set_integrator(cfg, b->o.integrator) ||
        ens_config_set_output_type(cfg, b->o.output_type) ||
        ens_config_set_output_path(cfg, b->path) ||
        ens_config_set_plan_callback(cfg, on_plan, b))
        die("configuration", cfg);
    return cfg;
}

static int discard(const ens_batch *batch, void *user)
{
    (void)batch;
    (void)user;
    return 0;
}

/* The writer alone: the file's layout and batches, values from a buffer
 * filled once (uncompressed output does not depend on the values). */
static double time_writer(bench *b)
{
    const ens_model_info *model = ens_models_find("lorenz63");
    const long long T = b->ntimes, batch = b->batch;
    double *times = malloc((size_t)T * sizeof *times);
    double *states = malloc((size_t)batch * (size_t)T * 3 * sizeof *states);
    double *params = malloc((size_t)batch * 3 * sizeof *params);
    if (!times || !states || !params)
        die("out of memory", NULL);
    for (long long t = 0; t < T; t++)
        times[t] = (double)t;
    for (size_t i = 0; i < (size_t)batch * (size_t)T * 3; i++)
        states[i] = (double)(i % 1000) * 0.01 - 5.0;
    int varies[3] = {0, 0, 0};
    double base[3] = {-10, -10, 25};
    ens_nc_spec spec = {
        .path = b->path, .model = model, .nvars = 3, .members = b->o.members, .ntimes = T,
        .times = times, .disk_double = strcmp(b->o.output_type, "double") == 0,
        .write_states = 1, .param_varies = varies, .param_values = model->param_defaults,
        .history = "ensol_overlap", .integrator = b->o.integrator, .precision = "double",
        .output_mode = "trajectory", .backend = "none", .device = "none",
        .param_variation = "", .dt = 0.01, .steps = b->o.steps, .save_every = b->o.save_every,
        .base_state = base,
    };
    ens_error err;
    ens_nc_writer *w;
    const double t0 = bs_now();
    if (ens_nc_open(&spec, &w, &err) != ENS_OK) {
        fprintf(stderr, "ensol_overlap: %s\n", err.msg);
        exit(1);
    }
    for (long long m0 = 0; m0 < b->o.members; m0 += batch) {
        const long long n = b->o.members - m0 < batch ? b->o.members - m0 : batch;
        if (ens_nc_write_batch(w, m0, n, T, states, 1, params, &err) != ENS_OK) {
            fprintf(stderr, "ensol_overlap: %s\n", err.msg);
            exit(1);
        }
    }
    if (ens_nc_close(w, ENS_NC_COMMIT, NULL, &err) != ENS_OK) {
        fprintf(stderr, "ensol_overlap: %s\n", err.msg);
        exit(1);
    }
    const double seconds = bs_now() - t0;
    remove(b->path);
    free(times);
    free(states);
    free(params);
    return seconds;
}

enum { FILE_RUN, DISCARD_RUN, WRITER_ONLY, CONTESTANTS };
static const char *const names[CONTESTANTS] = {"file", "discard", "writer"};

static int run_one(void *user, int contestant, int repeat, double *samples)
{
    (void)repeat;
    bench *b = user;
    if (contestant == WRITER_ONLY) {
        samples[0] = time_writer(b);
        return 0;
    }
    ens_config *cfg = make_config(b);
    const double t0 = bs_now();
    ens_status st = contestant == FILE_RUN ? ens_run(cfg, NULL)
                                           : ens_run_to_callback(cfg, discard, NULL, NULL);
    samples[0] = bs_now() - t0;
    if (st != ENS_OK)
        die(names[contestant], cfg);
    ens_config_destroy(cfg);
    remove(b->path);
    return 0;
}

int main(int argc, char **argv)
{
    bench b = {.o = {.members = 1000000, .steps = 5000, .save_every = 50,
                     .integrator = "euler", .output_type = "float", .dir = ".", .repeats = 3}};
    static const struct option longopts[] = {
        {"members", required_argument, 0, 'm'},     {"steps", required_argument, 0, 's'},
        {"save-every", required_argument, 0, 'k'},  {"integrator", required_argument, 0, 'i'},
        {"output-type", required_argument, 0, 't'}, {"dir", required_argument, 0, 'd'},
        {"repeats", required_argument, 0, 'r'},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'm': b.o.members = atoll(optarg); break;
        case 's': b.o.steps = atoll(optarg); break;
        case 'k': b.o.save_every = atoll(optarg); break;
        case 'i': b.o.integrator = optarg; break;
        case 't': b.o.output_type = optarg; break;
        case 'd': b.o.dir = optarg; break;
        case 'r': b.o.repeats = atoi(optarg); break;
        default:
            printf("usage: ensol_overlap [--members N] [--steps N] [--save-every K]\n"
                   "       [--integrator euler|rk4] [--output-type float|double]\n"
                   "       [--dir DIR] [--repeats R]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (b.o.members < 1 || b.o.steps < 1 || b.o.save_every < 1 || b.o.repeats < 1) {
        fprintf(stderr, "ensol_overlap: members, steps, save-every and repeats must be >= 1\n");
        return 2;
    }
    snprintf(b.path, sizeof b.path, "%s/ensol_overlap.nc", b.o.dir);

    /* A warm-up run; its plan gives the batch size the writer-only run uses. */
    {
        ens_config *cfg = make_config(&b);
        if (ens_run_to_callback(cfg, discard, NULL, NULL) != ENS_OK)
            die("warm-up", cfg);
        ens_config_destroy(cfg);
    }

    double *out = malloc(sizeof(double) * CONTESTANTS * (size_t)b.o.repeats);
    if (!out || bs_interleave(CONTESTANTS, 0, b.o.repeats, 1, run_one, &b, out) != 0)
        return 1;
    bs_stats s[CONTESTANTS];
    for (int c = 0; c < CONTESTANTS; c++)
        s[c] = bs_summarise(bs_series(out, c, 0, 1, b.o.repeats), b.o.repeats);
    printf("lorenz63 %s, %lld members x %lld steps, saved every %lld (%lld times), %s on disk: "
           "%.0f MB in batches of %lld members\n",
           b.o.integrator, b.o.members, b.o.steps, b.o.save_every, b.ntimes, b.o.output_type,
           b.bytes / 1e6, b.batch);
    for (int c = 0; c < CONTESTANTS; c++)
        printf("  %-8s %7.2f s [%.2f-%.2f]\n", names[c], s[c].median, s[c].min, s[c].max);
    const double bound = s[DISCARD_RUN].median > s[WRITER_ONLY].median ? s[DISCARD_RUN].median
                                                                         : s[WRITER_ONLY].median;
    printf("  file / max(discard, writer) = %.3f (target <= 1.15); writer alone %.0f MB/s, "
           "file run %.0f MB/s\n",
           s[FILE_RUN].median / bound, b.bytes / 1e6 / s[WRITER_ONLY].median,
           b.bytes / 1e6 / s[FILE_RUN].median);
    free(out);
    return 0;
}
