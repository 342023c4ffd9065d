/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Timing and statistics shared by ensol bench and bench/throughput.c. */
#define _POSIX_C_SOURCE 200809L

#include "bench_stats.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double bs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bs_stats bs_summarise(const double *v, int n)
{
    bs_stats r = {0, 0, 0};
    if (n < 1)
        return r;
    /* Small series: sort a copy on the stack when it fits. */
    double local[64];
    double *s = n <= 64 ? local : malloc((size_t)n * sizeof *s);
    if (!s) { /* no memory: the range still works, the median is the mean */
        r.min = r.max = v[0];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            r.min = v[i] < r.min ? v[i] : r.min;
            r.max = v[i] > r.max ? v[i] : r.max;
            sum += v[i];
        }
        r.median = sum / n;
        return r;
    }
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    r.min = s[0];
    r.max = s[n - 1];
    r.median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    if (s != local)
        free(s);
    return r;
}

int bs_interleave(int contestants, int warmups, int repeats, int nsamples, bs_run_fn fn,
                  void *user, double *out)
{
    double scratch[64];
    double *tmp = nsamples <= 64 ? scratch : malloc((size_t)nsamples * sizeof *tmp);
    if (!tmp)
        return -1;
    int status = 0;
    for (int w = 0; w < warmups && !status; w++)
        for (int c = 0; c < contestants && !status; c++)
            status = fn(user, c, -1, tmp);
    for (int r = 0; r < repeats && !status; r++)
        for (int c = 0; c < contestants && !status; c++) {
            status = fn(user, c, r, tmp);
            if (!status)
                for (int s = 0; s < nsamples; s++)
                    out[((long)c * nsamples + s) * repeats + r] = tmp[s];
        }
    if (tmp != scratch)
        free(tmp);
    return status;
}
