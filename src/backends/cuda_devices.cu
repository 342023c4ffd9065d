/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The CUDA devices: which ones this build has code for, their
 * descriptions for `ensol info` and messages, and the devices a job's
 * request names (a number, a list, "all" or part of a name; under MPI
 * without a request, one per rank of the node).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda_backend.h"

/* "cuda backend: cudaMalloc failed on device 0 (NVIDIA H100): cudaErrorMemoryAllocation: out
 * of memory". `call` is the call's source text: its name is what precedes '('. */
ens_status ens_cuda_fail(ens_error *err, const char *call, const char *what, cudaError_t rc,
                          const cuda_gpu *g)
{
    (void)cudaGetLastError(); /* clear the error where it is not sticky */
    const ens_status st = rc == cudaErrorMemoryAllocation ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_BACKEND;
    const int name_len = (int)strcspn(call, "( ");
    char device[320] = "";
    if (g)
        snprintf(device, sizeof device, " on device %d (%s)", g->ordinal, g->name);
    return ens_fail(err, st, "cuda backend: %.*s%s%s failed%s: %s: %s", name_len, call,
                    what ? " " : "", what ? what : "", device, cudaGetErrorName(rc),
                    cudaGetErrorString(rc));
}


/* Whether this build has code a device of compute capability major.minor
 * runs: SASS of the same major version and a minor not above its own, or
 * PTX of an architecture not above it (JIT-compiled by the driver). The
 * list is CMAKE_CUDA_ARCHITECTURES, its entries separated by commas
 * ("80-real,90-real,90-virtual"); anything unparsed ("all", "native")
 * counts as runnable. */
int ens_cuda_arch_runnable(int major, int minor)
{
    const char *s = ENSOL_CUDA_ARCHITECTURES;
    const int cc = 10 * major + minor;
    int parsed_any = 0;
    while (*s) {
        char *end = NULL;
        const long arch = strtol(s, &end, 10);
        if (end == s)
            return 1; /* a keyword: cannot tell */
        parsed_any = 1;
        int real = 1, virt = 1;
        if (strncmp(end, "-real", 5) == 0) {
            virt = 0;
            end += 5;
        } else if (strncmp(end, "-virtual", 8) == 0) {
            real = 0;
            end += 8;
        }
        /* "90a": architecture-specific code, for exactly that device */
        const int specific = isalpha((unsigned char)*end);
        while (*end && *end != ',' && *end != ';')
            end++;
        if (specific ? arch == cc
                     : ((real && arch / 10 == major && arch <= cc) || (virt && arch <= cc)))
            return 1;
        s = *end ? end + 1 : end;
    }
    return !parsed_any;
}

/* Why no CUDA device can be used, from cudaGetDeviceCount's answer. */
static void unavailable_reason(cudaError_t rc, char *detail, size_t size)
{
    if (rc == cudaSuccess)
        snprintf(detail, size, "no CUDA device (cudaGetDeviceCount: 0 devices)");
    else if (rc == cudaErrorNoDevice)
        snprintf(detail, size, "no CUDA device (%s: %s)", cudaGetErrorName(rc),
                 cudaGetErrorString(rc));
    else if (rc == cudaErrorInsufficientDriver)
        snprintf(detail, size,
                 "no CUDA driver, or one older than the CUDA %d.%d runtime of this ensol (%s: %s)",
                 CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10, cudaGetErrorName(rc),
                 cudaGetErrorString(rc));
    else
        snprintf(detail, size, "no usable CUDA device (cudaGetDeviceCount: %s: %s)",
                 cudaGetErrorName(rc), cudaGetErrorString(rc));
}

/* The device's description; no context is created. */
static cudaError_t describe_gpu(int ordinal, cuda_gpu *g)
{
    memset(g, 0, sizeof *g);
    g->ordinal = ordinal;
    cudaDeviceProp prop;
    cudaError_t rc = cudaGetDeviceProperties(&prop, ordinal);
    if (rc != cudaSuccess)
        return rc;
    snprintf(g->name, sizeof g->name, "%s", prop.name);
    g->total_mem = prop.totalGlobalMem;
    g->max_pitch = prop.memPitch;
    const struct {
        int *value;
        cudaDeviceAttr attr;
    } attrs[] = {{&g->sms, cudaDevAttrMultiProcessorCount},
                 {&g->threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor},
                 {&g->cc_major, cudaDevAttrComputeCapabilityMajor},
                 {&g->cc_minor, cudaDevAttrComputeCapabilityMinor}};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if ((rc = cudaDeviceGetAttribute(attrs[i].value, attrs[i].attr, ordinal)) != cudaSuccess)
            return rc;
    g->sms = g->sms > 0 ? g->sms : 1;
    g->threads_per_sm = g->threads_per_sm > 0 ? g->threads_per_sm : 2048;
    return cudaSuccess;
}

/* One line per device:
 * "\n    [0] NVIDIA H100 80GB HBM3: GPU, 132 SMs, 79.1 GiB, compute capability 9.0" */
static void append_gpu_line(const cuda_gpu *g, char *buf, size_t size)
{
    const size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    const char *no_code =
        " (no code for it in this build: CMAKE_CUDA_ARCHITECTURES=" ENSOL_CUDA_ARCHITECTURES ")";
    snprintf(buf + used, size - used,
             "\n    [%d] %s: GPU, %d SMs, %.1f GiB, compute capability %d.%d%s", g->ordinal,
             g->name, g->sms, (double)g->total_mem / (1024.0 * 1024.0 * 1024.0), g->cc_major,
             g->cc_minor, ens_cuda_arch_runnable(g->cc_major, g->cc_minor) ? "" : no_code);
}

ens_status ens_cuda_probe(char *detail, size_t size)
{
    int n = 0;
    const cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n <= 0) {
        (void)cudaGetLastError();
        unavailable_reason(rc, detail, size);
        return ENS_ERR_BACKEND_UNAVAILABLE;
    }
    snprintf(detail, size, "%d device%s", n, n == 1 ? "" : "s");
    int runnable = 0;
    for (int i = 0; i < n; i++) {
        cuda_gpu g;
        const cudaError_t drc = describe_gpu(i, &g);
        if (drc != cudaSuccess) {
            (void)cudaGetLastError();
            const size_t used = strlen(detail);
            snprintf(detail + used, size - used, "\n    [%d] (cannot be queried: %s)", i,
                     cudaGetErrorName(drc));
            continue;
        }
        runnable += ens_cuda_arch_runnable(g.cc_major, g.cc_minor);
        append_gpu_line(&g, detail, size);
    }
    return runnable > 0 ? ENS_OK : ENS_ERR_BACKEND_UNAVAILABLE;
}

/* The devices a request names: "" -> device 0; "all" -> every device; a
 * number or a comma-separated list of numbers ("0,2") -> those; anything
 * else -> the first device whose name contains it, ignoring case. Returns
 * how many (0: none matches, -1: a number repeated or out of range). */
static int select_gpus(const char *request, const cuda_gpu *all, int n, int *out)
{
    if (!request || !*request) {
        out[0] = 0;
        return 1;
    }
    if (n > ENS_CUDA_MAX_DEVICES)
        n = ENS_CUDA_MAX_DEVICES;
    if (strcmp(request, "all") == 0 || strcmp(request, "ALL") == 0) {
        for (int i = 0; i < n; i++)
            out[i] = i;
        return n;
    }
    int numbers = 1;
    for (const char *s = request; *s && numbers; s++)
        numbers = isdigit((unsigned char)*s) ||
                  (*s == ',' && s != request && isdigit((unsigned char)s[1]));
    if (numbers) {
        int count = 0;
        for (const char *s = request; *s;) {
            char *end = NULL;
            const long index = strtol(s, &end, 10);
            if (index >= n || count == ENS_CUDA_MAX_DEVICES)
                return -1;
            for (int j = 0; j < count; j++)
                if (out[j] == (int)index)
                    return -1;
            out[count++] = (int)index;
            s = *end == ',' ? end + 1 : end;
        }
        return count;
    }
    for (int i = 0; i < n; i++)
        if (ens_device_name_matches(all[i].name, request)) {
            out[0] = i;
            return 1;
        }
    return 0;
}

ens_status ens_cuda_choose_gpus(const ens_backend_job *job, cuda_gpu *gpus, int *count,
                                long long *weight, ens_error *err)
{
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n <= 0) {
        char why[256];
        (void)cudaGetLastError();
        unavailable_reason(rc, why, sizeof why);
        return ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE, "cuda backend: %s", why);
    }
    cuda_gpu *all = (cuda_gpu *)calloc((size_t)n, sizeof *all);
    if (!all)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
    ens_status st = ENS_OK;
    int chosen[ENS_CUDA_MAX_DEVICES];
    for (int i = 0; i < n; i++)
        if ((rc = describe_gpu(i, &all[i])) != cudaSuccess) {
            st = ens_cuda_fail(err, "cudaGetDeviceProperties", NULL, rc, &all[i]);
            goto done;
        }
    {
        /* Under MPI with no request: one device per rank of the node, in
         * turn (local rank modulo the devices this rank sees). */
        const int by_rank = (!job->device || !*job->device) && job->local_rank >= 0;
        if (by_rank)
            chosen[0] = job->local_rank % n;
        *count = by_rank ? 1 : select_gpus(job->device, all, n, chosen);
    }
    if (*count <= 0) {
        char devices[ENS_ERROR_MAX / 2] = "";
        for (int i = 0; i < n; i++)
            append_gpu_line(&all[i], devices, sizeof devices);
        st = ens_fail(err, ENS_ERR_BACKEND_UNAVAILABLE,
                      "cuda backend: no device '%s' (a number, a list such as 0,1, 'all', or "
                      "part of a name); devices:%s",
                      job->device, devices);
        goto done;
    }
    *weight = 0;
    for (int d = 0; d < *count; d++) {
        gpus[d] = all[chosen[d]];
        *weight += gpus[d].sms;
    }
done:
    free(all);
    return st;
}
