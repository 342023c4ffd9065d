/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The machine's measured limits, for the roofline context of `ensol bench`:
 * peak double-precision flops of fused multiply-adds on all cores, and
 * memory bandwidth of a STREAM-like triad, measured with the widest
 * vectors this CPU has (a portable build's baseline is SSE2, its loops
 * AVX2 or AVX-512 where the CPU has them), so that the peak is what code
 * can reach on this CPU, not a datasheet figure.
 */
#ifndef ENSOL_CLI_BENCH_PEAK_H
#define ENSOL_CLI_BENCH_PEAK_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bp_peak {
    int threads;          /* threads used (all cores; 1 without OpenMP) */
    double gflops;        /* double-precision GFLOP/s, an FMA counted as 2 */
    double gbytes;        /* GB/s (1e9 bytes) of a[i] = b[i] + s c[i], 24 bytes per i */
    int vector_bits;      /* width of the vectors the FMA loop used */
} bp_peak;

/* Measures both, best of a few short runs (about 0.5 s in all). */
void bp_measure(bp_peak *out);

#ifdef __cplusplus
}
#endif

#endif /* ENSOL_CLI_BENCH_PEAK_H */
