/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol: the command-line tool.
 *
 *   ensol run [options]    integrate an ensemble and write a NetCDF file (cmd_run.c)
 *   ensol info             version, backends and models (cmd_info.c)
 *   ensol bench [options]  throughput of every backend and device (bench.c)
 *   ensol merge OUT PIECE  join the pieces of an MPI run (cmd_merge.c)
 *   ensol version          "ensol X.Y.Z"
 *
 * Built on the public API only (ensol/ensol.h). Exit status (cli_status.h):
 * 0 success, 1 the run failed, 2 the command line is wrong, 128+N killed by
 * signal N. Messages go to stderr as one line "ensol: <option> <value>:
 * <reason>"; stdout carries only what info, version and --help are asked
 * to print. This file picks the subcommand.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli_status.h"
#include "cmd_info.h"
#include "cmd_merge.h"
#include "cmd_run.h"

static int is_any(const char *s, const char *a, const char *b)
{
    return strcmp(s, a) == 0 || strcmp(s, b) == 0;
}

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: ensol <command> [options]\n\n"
               "Integrate ensembles of ODE trajectories on CPU cores and GPUs and write\n"
               "them to NetCDF.\n\n"
               "Commands:\n"
               "  run       integrate an ensemble and write a NetCDF file\n"
               "  info      show the version, the backends of this build and the models\n"
               "  bench     compare the throughput of the backends and devices\n"
               "  merge     join the per-rank pieces of an MPI run into one file\n"
               "  version   print the version\n"
               "  help      show this help\n\n"
               "See 'ensol run --help' and 'ensol bench --help' for their options.\n");
}

/* OpenMP threads that spin between parallel regions take the core the
 * writer thread needs: on 2 cores a run writing trajectories took 3.3x the
 * longer of its integration and its writing, and 1.26x with passive waiting
 * (bench/README.md). The OpenMP runtime reads the policy when it loads, in
 * its library constructor; the program's preinit functions run before any
 * library's constructor, so the policy is set there, unless the user chose
 * one. (Setting it in main and starting again through /proc/self/exe broke
 * valgrind and any tool that runs the program under its own loader.) */
static void prefer_passive_openmp_threads(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    if (!getenv("OMP_WAIT_POLICY"))
        setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
}
__attribute__((section(".preinit_array"), used)) static void (*const set_openmp_policy)(
    int, char **, char **) = prefer_passive_openmp_threads;

#ifdef ENSOL_HAVE_MPI
/* Whether an MPI launcher (mpirun, mpiexec, srun, PBS's mpiexec) started
 * this process, or ENSOL_MPI=1 asks for MPI: a plain `ensol run` then
 * stays a single process that never initialises MPI. */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                                       "PMI_RANK", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE",
                                       "PALS_RANKID"};
    const char *force = getenv("ENSOL_MPI");
    if (force && *force)
        return strcmp(force, "0") != 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}
#endif

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "help";
    if (is_any(cmd, "help", "--help") || strcmp(cmd, "-h") == 0) {
        print_usage(stdout);
        return cli_finish_stdout(CLI_EXIT_OK);
    }
    if (is_any(cmd, "version", "--version"))
        return cmd_version(argc, argv);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc, argv);
#ifdef ENSOL_HAVE_MPI
    if (strcmp(cmd, "run") == 0 && launched_by_mpi())
        return cmd_run_with_mpi(argc, argv);
#endif
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc, argv);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc, argv);
    fprintf(stderr, "ensol: %s: unknown command (see 'ensol help')\n", cmd);
    return CLI_EXIT_USAGE;
}
