/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Timing and statistics shared by `ensol bench` (src/cli/bench.c) and the
 * throughput harness (bench/throughput.c): one copy of the clock, the
 * median [min-max] summary and the interleaved repeat loop.
 *
 * The machines these figures come from are shared and noisy, so
 * contestants (backends, the yardstick, ...) are never timed one after the
 * other in blocks: after the warm-ups, repeat r runs every contestant once,
 * in turn, so that all see the same load, and each is summarised by its
 * median and range over the repeats.
 */
#ifndef ENSOL_CLI_BENCH_STATS_H
#define ENSOL_CLI_BENCH_STATS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds on a monotonic clock. */
double bs_now(void);

typedef struct bs_stats {
    double median, min, max;
} bs_stats;

/* Median and range of v[0..n-1] (n >= 1); v is not modified. The median
 * of an even count is the mean of the two middle values. */
bs_stats bs_summarise(const double *v, int n);

/* Called for contestant c; repeat is -1 for a warm-up, else 0..repeats-1.
 * Writes its `nsamples` measurements (seconds, rates, ...) to samples[].
 * Returns 0 to go on, non-zero to stop the whole loop. */
typedef int (*bs_run_fn)(void *user, int contestant, int repeat, double *samples);

/* `warmups` rounds of every contestant in turn (results discarded), then
 * `repeats` rounds of every contestant in turn. Measurement s of
 * contestant c in repeat r lands in out[(c * nsamples + s) * repeats + r],
 * so each (c, s) series is contiguous for bs_summarise. Returns 0, or the
 * first non-zero value a call returned (the loop stops there). */
int bs_interleave(int contestants, int warmups, int repeats, int nsamples, bs_run_fn fn,
                  void *user, double *out);

/* The series of measurement s of contestant c inside bs_interleave's out. */
static inline const double *bs_series(const double *out, int c, int s, int nsamples,
                                      int repeats)
{
    return out + ((long)c * nsamples + s) * repeats;
}

#ifdef __cplusplus
}
#endif

#endif /* ENSOL_CLI_BENCH_STATS_H */
