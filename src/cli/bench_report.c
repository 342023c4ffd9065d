/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * What ensol bench prints and writes: the header with the roofline
 * context, the table rows, the scaling summary, and the JSON and CSV files.
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

void print_table_header(void)
{
    printf("%-40s %10s  %-27s %8s %8s %8s %6s %8s\n", "backend / device", "members",
           "member-steps/s [min-max]", "wall", "speedup", "GFLOP/s", "%peak", "MB/s");
}

void print_row(const row *r)
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

int write_json(const report *rep, FILE *f)
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

int write_csv(const report *rep, FILE *f)
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

typedef struct results_file {
    const report *rep;
    int (*writer)(const report *, FILE *);
} results_file;

static int write_results_to(FILE *f, void *user)
{
    const results_file *r = user;
    return r->writer(r->rep, f);
}

/* Written as every ensol output (ens_write_file); returns the exit status. */
int write_results(const char *path, const report *rep, int (*writer)(const report *, FILE *))
{
    results_file r = {rep, writer};
    char why[512];
    if (ens_write_file(path, write_results_to, &r, why, sizeof why) == ENS_OK)
        return CLI_EXIT_OK;
    fprintf(stderr, "ensol: cannot write %s: %s\n", path, why);
    return CLI_EXIT_FAILURE;
}

/* Fails early, before any run, when a results file cannot be written: not
 * a regular file (exit 2), or in a directory this process cannot write. */
int check_writable(const char *opt, const char *path)
{
    if (!path)
        return CLI_EXIT_OK;
    char why[256];
    if (ens_check_output_path(path, why, sizeof why) != ENS_OK) {
        fprintf(stderr, "ensol: --%s %s: %s\n", opt, path, why);
        return CLI_EXIT_USAGE;
    }
    const char *slash = strrchr(path, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
             slash ? path : ".");
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "ensol: --%s %s: cannot write: %s\n", opt, path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* ---- the header: problem and roofline --------------------------------------------- */

void print_header(const bench_opts *o, const problem_facts *pf, const bp_peak *peak,
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
    const int nint = ens_choice_count(ENS_CHOICE_INTEGRATOR);
    for (int m = 0; m < ens_model_count(); m++)
        for (int i = 0; i < nint; i++) {
            const char *integrator = ens_choice_name(ENS_CHOICE_INTEGRATOR, i);
            ens_config *cfg;
            if (ens_config_create(&cfg) != ENS_OK)
                continue;
            if (ens_config_set_model(cfg, ens_model_name(m)) == ENS_OK &&
                ens_config_set_integrator(cfg, integrator) == ENS_OK)
                printf(" %s %s %g%s", ens_model_name(m), integrator, ens_config_step_flops(cfg),
                       m + 1 < ens_model_count() || i + 1 < nint ? "," : "");
            ens_config_destroy(cfg);
        }
    printf(" (lorenz96 at its default size; adaptive steps per attempted step; one flop per "
           "arithmetic operation)\n");
    if (peak)
        printf("machine: %d cores; measured peak %.0f GFLOP/s (double FMA, %d-bit vectors, "
               "%d threads), memory %.1f GB/s (triad); %%peak is against %s\n",
               cores, peak->gflops, peak->vector_bits, peak->threads, peak->gbytes,
               pf->real_bytes == 4 ? "twice that (float)" : "that");
    else
        printf("machine: %d cores; peak not measured (--no-peak)\n", cores);
}

/* Where each contestant saturates and where others overtake the baseline. */
void print_scaling_summary(const report *rep, const contestant *cs, int nc)
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

void print_best(const report *rep)
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
