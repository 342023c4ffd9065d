/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Measured peak flops and memory bandwidth (see bench_peak.h). Built with
 * ${ENSOL_KERNEL_TUNING}, like the library's CPU loops; the FMA loop for
 * each vector width the CPU may have.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_peak.h"

#include <stdlib.h>

#include "bench_stats.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* acc <- acc * a + b over CHAINS independent chains of LANES lanes (one
 * vector register each): enough chains to cover the FMA latency (4 cycles)
 * on two FMA units, few enough to stay in registers. With a just below 1
 * the values settle near b / (1 - a) and stay normal. */
#define PEAK_FMA_CHAINS(name, LANES, CHAINS)                                                 \
    static double name(long iters, double a, double b)                                       \
    {                                                                                        \
        double acc[CHAINS][LANES];                                                           \
        for (int k = 0; k < CHAINS; k++)                                                     \
            for (int w = 0; w < LANES; w++)                                                  \
                acc[k][w] = 1.0 + 1e-3 * (k * LANES + w);                                    \
        for (long i = 0; i < iters; i++)                                                     \
            for (int k = 0; k < CHAINS; k++) {                                               \
                PEAK_SIMD                                                                    \
                for (int w = 0; w < LANES; w++)                                              \
                    acc[k][w] = acc[k][w] * a + b;                                           \
            }                                                                                \
        double s = 0;                                                                        \
        for (int k = 0; k < CHAINS; k++)                                                     \
            for (int w = 0; w < LANES; w++)                                                  \
                s += acc[k][w];                                                              \
        return s;                                                                            \
    }
#ifdef _OPENMP
#define PEAK_SIMD _Pragma("omp simd")
#else
#define PEAK_SIMD
#endif

typedef double (*fma_chains_fn)(long iters, double a, double b);
typedef struct fma_kernel {
    fma_chains_fn run;
    int lanes, chains;
} fma_kernel;

/* The peak is the machine's, whatever the build's baseline: on x86-64 each
 * width is compiled with its own target and the widest the CPU (and the
 * operating system, which libgcc's checks include) supports is measured. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
__attribute__((noinline, target("avx512f,fma,prefer-vector-width=512")))
PEAK_FMA_CHAINS(fma_chains_512, 8, 16)
__attribute__((noinline, target("avx2,fma")))
PEAK_FMA_CHAINS(fma_chains_256, 4, 12)
__attribute__((noinline))
PEAK_FMA_CHAINS(fma_chains_128, 2, 12)

static fma_kernel widest_fma(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return (fma_kernel){fma_chains_512, 8, 16};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (fma_kernel){fma_chains_256, 4, 12};
    return (fma_kernel){fma_chains_128, 2, 12};
}
#else
/* Elsewhere: the width this file is compiled for (ENSOL_KERNEL_TUNING). */
#if defined(__AVX512F__)
#define PEAK_LANES 8
#define PEAK_CHAINS 16
#elif defined(__AVX__)
#define PEAK_LANES 4
#define PEAK_CHAINS 12
#else
#define PEAK_LANES 2
#define PEAK_CHAINS 12
#endif
__attribute__((noinline)) PEAK_FMA_CHAINS(fma_chains_built, PEAK_LANES, PEAK_CHAINS)

static fma_kernel widest_fma(void)
{
    return (fma_kernel){fma_chains_built, PEAK_LANES, PEAK_CHAINS};
}
#endif

static volatile double sink;

/* GFLOP/s of `iters` rounds on every thread. */
static double fma_rate(fma_kernel k, long iters, int threads)
{
    double s = 0;
    const double t0 = bs_now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : s)
#endif
    s += k.run(iters, 0.9999999, 1e-7);
    const double t = bs_now() - t0;
    sink = s;
    return (double)threads * (double)iters * k.chains * k.lanes * 2.0 / t * 1e-9;
}

/* GB/s of the triad a = b + s c over n doubles each, counted as 24 bytes
 * per element (as STREAM counts: no write-allocate traffic). */
static double triad_rate(double *a, const double *b, const double *c, long n, int threads)
{
    const double scalar = 3.0;
    const double t0 = bs_now();
#ifdef _OPENMP
#pragma omp parallel for simd num_threads(threads) schedule(static)
#endif
    for (long i = 0; i < n; i++)
        a[i] = b[i] + scalar * c[i];
    const double t = bs_now() - t0;
    sink = a[n / 2];
    return 24.0 * (double)n / t * 1e-9;
}

void bp_measure(bp_peak *out)
{
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const fma_kernel k = widest_fma();
    out->threads = threads;
    out->vector_bits = k.lanes * 64;

    /* Flops: a short calibration, then the best of five ~0.1 s runs (on a
     * shared machine a run that another process disturbs reads low). */
    long iters = 1 << 16;
    double t = 0;
    while (iters < (1L << 40)) {
        const double t0 = bs_now();
        fma_rate(k, iters, threads);
        t = bs_now() - t0;
        if (t > 0.02)
            break;
        iters *= 4;
    }
    iters = (long)((double)iters * 0.1 / (t > 0 ? t : 0.1)) + 1;
    double best = 0;
    for (int r = 0; r < 5; r++) {
        const double g = fma_rate(k, iters, threads);
        best = g > best ? g : best;
    }
    out->gflops = best;

    /* Bandwidth: three arrays of 256 MiB, larger than any cache, touched
     * first by the threads that use them; best of three triads. */
    const long n = 32L << 20;
    double *a = malloc((size_t)n * sizeof *a);
    double *b = malloc((size_t)n * sizeof *b);
    double *c = malloc((size_t)n * sizeof *c);
    out->gbytes = 0;
    if (a && b && c) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
        for (long i = 0; i < n; i++) {
            a[i] = 0;
            b[i] = 1;
            c[i] = 2;
        }
        for (int r = 0; r < 3; r++) {
            const double g = triad_rate(a, b, c, n, threads);
            out->gbytes = g > out->gbytes ? g : out->gbytes;
        }
    }
    free(c);
    free(b);
    free(a);
}
