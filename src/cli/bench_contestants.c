/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol bench's contestants: the openmp backend at each thread count and
 * each device of the other backends, and the configuration each runs.
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

ens_status configure(ens_config *cfg, const bench_opts *o, const contestant *k,
                     long long members, const char **opt, char *arg, size_t argsize)
{
    ens_status st;
#define APPLY(name, text, call)                                                           \
    do {                                                                                  \
        if ((st = (call)) != ENS_OK) {                                                    \
            *opt = (name);                                                                \
            snprintf(arg, argsize, "%.200s", (text));                                     \
            return st;                                                                    \
        }                                                                                 \
    } while (0)
    char num[64];
    APPLY("model", o->model, cli_set_model(cfg, o->model));
    for (int i = 0; i < o->nparams; i++) {
        char text[160];
        snprintf(text, sizeof text, "%s=%g", o->params[i].name, o->params[i].value);
        APPLY("param", text, ens_config_set_param(cfg, o->params[i].name, o->params[i].value));
    }
    snprintf(num, sizeof num, "%lld", members);
    APPLY("members", num, ens_config_set_members(cfg, members));
    if (o->have_perturb) {
        snprintf(num, sizeof num, "%g", o->perturb);
        APPLY("perturb", num, ens_config_set_perturbation(cfg, o->perturb));
    }
    if (o->have_seed) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)o->seed);
        APPLY("seed", num, ens_config_set_seed(cfg, o->seed));
    }
    APPLY("integrator", o->integrator, ens_config_set_integrator(cfg, o->integrator));
    if (o->have_dt) {
        snprintf(num, sizeof num, "%g", o->dt);
        APPLY("dt", num, ens_config_set_dt(cfg, o->dt));
    }
    snprintf(num, sizeof num, "%lld", o->steps);
    APPLY("steps", num, ens_config_set_steps(cfg, o->steps));
    APPLY("precision", o->precision, ens_config_set_precision(cfg, o->precision));
    APPLY("output-mode", o->output_mode, ens_config_set_output_mode(cfg, o->output_mode));
    if (o->save_every) {
        snprintf(num, sizeof num, "%lld", o->save_every);
        APPLY("save-every", num, ens_config_set_save_every(cfg, o->save_every));
    }
    if (o->output_type)
        APPLY("output-type", o->output_type, ens_config_set_output_type(cfg, o->output_type));
    if (o->strict_fp)
        APPLY("strict-fp", "", ens_config_set_strict_fp(cfg, 1));
    if (k) {
        APPLY("backends", k->backend, ens_config_set_backend(cfg, k->backend));
        if (k->device_arg[0])
            APPLY("backends", k->backend, ens_config_set_device(cfg, k->device_arg));
        if (k->threads > 0) {
            snprintf(num, sizeof num, "%d", k->threads);
            APPLY("threads", num, ens_config_set_threads(cfg, k->threads));
        }
        if (k->path[0])
            APPLY("tmpdir", k->path, ens_config_set_output_path(cfg, k->path));
    }
    *opt = NULL;
    return ens_config_validate(cfg);
#undef APPLY
}
int check_problem(const bench_opts *o, problem_facts *f)
{
    ens_config *cfg;
    if (ens_config_create(&cfg) != ENS_OK) {
        fprintf(stderr, "ensol: cannot create a configuration: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    const char *opt = NULL;
    char arg[256] = "";
    ens_status st = configure(cfg, o, NULL, o->members[0], &opt, arg, sizeof arg);
    int status = CLI_GO_ON;
    if (st != ENS_OK) {
        const char *msg = cli_config_error(cfg, st);
        if (opt && strcmp(opt, "members") == 0)
            fprintf(stderr, "ensol: --members %s: %s\n", o->members_arg, setter_reason(msg));
        else if (opt && *arg)
            fprintf(stderr, "ensol: --%s %s: %s\n", opt, arg, setter_reason(msg));
        else if (opt)
            fprintf(stderr, "ensol: --%s: %s\n", opt, setter_reason(msg));
        else
            fprintf(stderr, "ensol: %s\n", msg);
        status = cli_exit_status(st);
    }
    /* Each thread count as the library takes it, before any work: one out
     * of range is bad input, not a failed row. */
    for (int i = 0; i < o->nthreads && status == CLI_GO_ON; i++) {
        st = ens_config_set_threads(cfg, o->threads[i]);
        if (st != ENS_OK) {
            const char *why = setter_reason(cli_config_error(cfg, st));
            char num[32];
            snprintf(num, sizeof num, "%d", o->threads[i]);
            fprintf(stderr, "ensol: --threads %s: %s\n", o->threads_arg,
                    o->nthreads > 1 ? field_error("T", num, why) : why);
            status = cli_exit_status(st);
        }
    }
    if (status == CLI_GO_ON) {
        f->nvars = ens_config_nvars(cfg);
        f->flops = ens_config_step_flops(cfg);
        f->real_bytes = strcmp(o->precision, "float") == 0 ? 4 : 8;
        f->out_bytes = o->output_type ? (strcmp(o->output_type, "float") == 0 ? 4 : 8)
                                      : f->real_bytes;
        f->saved_times = ens_config_saved_times(cfg);
        f->trajectory = strcmp(o->output_mode, "final") != 0;
    }
    ens_config_destroy(cfg);
    return status;
}

/* ---- contestants ------------------------------------------------------------------ */

/* All cores, as the openmp backend's probe says ("CPU, 2 threads"). */
int all_cores(void)
{
    char detail[256] = "";
    int n = 0;
    if (ens_backend_probe("openmp", detail, sizeof detail) == ENS_OK &&
        sscanf(detail, "CPU, %d", &n) == 1 && n > 0)
        return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

static int wanted(const bench_opts *o, const char *backend)
{
    if (o->nbackends == 0)
        return 1;
    for (int i = 0; i < o->nbackends; i++)
        if (strcmp(o->backends[i], backend) == 0)
            return 1;
    return 0;
}

/* A short name for the table and the plot's legend: "Platform / Device
 * Name: CPU, ..." -> "Device Name (CPU)", without (R) and (TM), cut at a
 * word or hyphen boundary to at most 24 characters. */
static void short_device(const char *desc, char *out, size_t size)
{
    const char *start = strstr(desc, " / ");
    start = start ? start + 3 : desc;
    const char *end = strchr(start, ':');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    char name[256];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof name; i++) {
        if (strncmp(start + i, "(R)", 3) == 0 || strncmp(start + i, "(TM)", 4) == 0) {
            i += start[i + 1] == 'R' ? 2 : 3;
            continue;
        }
        name[n++] = start[i];
    }
    name[n] = '\0';
    if (n > 24) {
        size_t cut = 24;
        while (cut > 8 && name[cut] != ' ' && name[cut] != '-')
            cut--;
        name[cut] = '\0';
    }
    const char *type = end ? end + 1 : "";
    while (*type == ' ')
        type++;
    size_t tlen = strcspn(type, ",");
    if (tlen > 0 && tlen < 16)
        snprintf(out, size, "%s (%.*s)", name, (int)tlen, type);
    else
        snprintf(out, size, "%s", name);
}

static int add_contestant(contestant *cs, int *n, const contestant *k)
{
    if (*n == MAX_CONTESTANTS)
        return 0;
    cs[(*n)++] = *k;
    return 1;
}

/* One contestant per openmp thread count and per device of every other
 * backend. Notes about unavailable backends go to stderr. */
int list_contestants(const bench_opts *o, int cores, contestant *cs)
{
    int n = 0;
    for (int b = 0; b < ens_backend_count(); b++) {
        const char *name = ens_backend_name(b);
        if (!wanted(o, name))
            continue;
        char detail[8192] = "";
        if (ens_backend_probe(name, detail, sizeof detail) != ENS_OK) {
            fprintf(stderr, "ensol bench: backend %s not available here: %s\n", name, detail);
            continue;
        }
        contestant k;
        memset(&k, 0, sizeof k);
        k.backend = name;
        k.device_index = -1;
        if (strcmp(name, "openmp") == 0) {
            /* all cores first: the baseline; then the others in the order given */
            int seen[MAX_CONTESTANTS + 1], nseen = 0;
            seen[nseen++] = cores;
            k.is_cpu = 1;
            for (int i = -1; i < o->nthreads; i++) {
                int t = i < 0 ? cores : (o->threads[i] == 0 ? cores : o->threads[i]);
                int dup = 0;
                for (int j = 0; j < nseen && i >= 0; j++)
                    dup |= seen[j] == t;
                if (dup)
                    continue;
                if (i >= 0)
                    seen[nseen++] = t;
                k.threads = t;
                k.is_baseline = t == cores;
                snprintf(k.device, sizeof k.device, "CPU, %d thread%s", t, t == 1 ? "" : "s");
                snprintf(k.label, sizeof k.label, "openmp, %d thread%s", t, t == 1 ? "" : "s");
                add_contestant(cs, &n, &k);
            }
            continue;
        }
        /* Devices: the probe's lines "  [N] description". */
        int found = 0;
        for (char *line = detail; line && *line;) {
            char *next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char *p = line;
            while (*p == ' ' || *p == '\t')
                p++;
            int idx, used = 0;
            if (sscanf(p, "[%d]%n", &idx, &used) == 1 && used > 0) {
                p += used;
                while (*p == ' ')
                    p++;
                k.device_index = idx;
                snprintf(k.device_arg, sizeof k.device_arg, "%d", idx);
                snprintf(k.device, sizeof k.device, "%s", p);
                char shortname[64];
                short_device(p, shortname, sizeof shortname);
                snprintf(k.label, sizeof k.label, "%s [%d] %s", name, idx, shortname);
                k.is_cpu = strstr(p, ": CPU") != NULL;
                add_contestant(cs, &n, &k);
                found = 1;
            }
            line = next;
        }
        if (!found) { /* a backend that lists no devices: its default */
            snprintf(k.device, sizeof k.device, "%s", detail);
            snprintf(k.label, sizeof k.label, "%s", name);
            add_contestant(cs, &n, &k);
        }
    }
    return n;
}
