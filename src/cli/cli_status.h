/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The exit statuses of the ensol command and the one rule that maps a
 * library status to them, shared by every subcommand.
 */
#ifndef ENSOL_CLI_STATUS_H
#define ENSOL_CLI_STATUS_H

#include "ensol/ensol.h"

typedef enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* the run, a file or the machine failed */
    CLI_EXIT_USAGE = 2,   /* the command line or its input is wrong */
    CLI_EXIT_SIGNAL = 128 /* plus the number of the signal that stopped it */
} cli_exit;

/* Not an exit status: what a step returns when the command goes on. */
enum { CLI_GO_ON = -1 };

/* CLI_EXIT_OK for ENS_OK; CLI_EXIT_USAGE for a bad value or name;
 * CLI_EXIT_SIGNAL + N for a stop asked by signal N; else CLI_EXIT_FAILURE. */
int cli_exit_status(ens_status st);

/* CLI_EXIT_SIGNAL + the signal received (cli_stop_signal). */
int cli_signal_exit(void);

/* "interrupted by SIGINT" or "terminated by SIGTERM", for the signal received. */
const char *cli_stop_reason(void);

/* Flushes stdout; a failed write (full disk, closed pipe) is reported and
 * turns `status` into CLI_EXIT_FAILURE. */
int cli_finish_stdout(int status);

/* Prints "ensol: out of memory"; returns CLI_EXIT_FAILURE. */
int cli_out_of_memory(void);

/* The configuration's last error, or the status's description. */
const char *cli_config_error(const ens_config *cfg, ens_status st);

#endif /* ENSOL_CLI_STATUS_H */
