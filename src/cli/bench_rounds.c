/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol bench's timed rounds: every contestant at one member count, warm-ups
 * then repeats interleaved, and the rows made of their samples.
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
#include <sys/statvfs.h>

/* ---- progress ---------------------------------------------------------------------- */

static int stop_on_signal(const ens_progress *p, void *user)
{
    (void)p;
    (void)user;
    return cli_stop_signal != 0;
}

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
        snprintf(k->error, sizeof k->error, "%s", cli_config_error(k->cfg, st));
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

/* Bytes of memory available (MemAvailable), or a large number if unknown. */
double memory_available(void)
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

double disk_available(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return 1e18;
    return (double)sv.f_bavail * (double)sv.f_frsize;
}


size_outcome run_size(const bench_opts *o, const problem_facts *pf, contestant *cs, int nc,
                      long long members, double *samples, const char *dir)
{
    round_ctx r = {cs, pf->trajectory, NULL, 0, members, 0, nc * (o->warmup + o->repeats)};
    if (!pf->trajectory) {
        r.count = (size_t)members * (size_t)pf->saved_times * (size_t)pf->nvars;
        r.out = malloc(r.count * sizeof *r.out);
        if (!r.out)
            return SIZE_NO_MEMORY;
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
            st = ens_config_set_progress(k->cfg, stop_on_signal, NULL);
        if (st != ENS_OK) {
            k->failed = 1;
            snprintf(k->error, sizeof k->error, "%s",
                     k->cfg ? cli_config_error(k->cfg, st) : "out of memory");
        }
    }
    const int stopped = bs_interleave(nc, o->warmup, o->repeats, NSAMPLES, run_one, &r, samples);
    if (isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    for (int c = 0; c < nc; c++) {
        ens_config_destroy(cs[c].cfg);
        cs[c].cfg = NULL;
    }
    free(r.out);
    return stopped ? SIZE_STOPPED : SIZE_DONE;
}

void make_rows(const bench_opts *o, const problem_facts *pf, const bp_peak *peak,
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

