/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol run: integrate an ensemble and write a NetCDF file (cmd_run.c).
 */
#ifndef ENSOL_CLI_CMD_RUN_H
#define ENSOL_CLI_CMD_RUN_H

/* The options `ensol run` takes, for its parser and --help. */
struct cli_command;
extern const struct cli_command cmd_run_command;

/* argv[1] is "run". Returns the exit status (cli_status.h). */
int cmd_run(int argc, char **argv);

#ifdef ENSOL_HAVE_MPI
/* cmd_run inside MPI_Init_thread and MPI_Finalize, for a process that an
 * MPI launcher started: only rank 0 prints. */
int cmd_run_with_mpi(int argc, char **argv);
#endif

#endif /* ENSOL_CLI_CMD_RUN_H */
