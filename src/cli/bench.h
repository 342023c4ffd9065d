/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol bench: the same problem on every available backend and device,
 * warm-up and interleaved repeats, a table of member-steps/s, speedup over
 * the OpenMP backend on all cores, GFLOP/s and MB/s; member-count and
 * thread-count sweeps; --json / --csv. See 'ensol bench --help' and
 * bench/README.md.
 */
#ifndef ENSOL_CLI_BENCH_H
#define ENSOL_CLI_BENCH_H

/* argv[1] is "bench". Returns the exit status: 0, 1 (a run or a file
 * failed), 2 (bad command line), 128+N (stopped by signal N). */
int cmd_bench(int argc, char **argv);

#endif /* ENSOL_CLI_BENCH_H */
