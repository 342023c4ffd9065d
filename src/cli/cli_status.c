/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The exit statuses of the ensol command (cli_status.h): one mapping from
 * a library status, used by run, bench, merge and info.
 */
#include "cli_status.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli_signals.h"

int cli_exit_status(ens_status st)
{
    switch (st) {
    case ENS_OK:
        return CLI_EXIT_OK;
    case ENS_ERR_INVALID_ARGUMENT:
    case ENS_ERR_UNKNOWN_NAME:
        return CLI_EXIT_USAGE;
    case ENS_ERR_INTERRUPTED:
        return cli_stop_signal ? cli_signal_exit() : CLI_EXIT_FAILURE;
    default:
        return CLI_EXIT_FAILURE;
    }
}

int cli_signal_exit(void)
{
    return CLI_EXIT_SIGNAL + cli_stop_signal;
}

const char *cli_stop_reason(void)
{
    return cli_stop_signal == SIGINT ? "interrupted by SIGINT" : "terminated by SIGTERM";
}

int cli_finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ensol: error writing to standard output: %s\n", strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return status;
}

int cli_out_of_memory(void)
{
    fprintf(stderr, "ensol: out of memory\n");
    return CLI_EXIT_FAILURE;
}

const char *cli_config_error(const ens_config *cfg, ens_status st)
{
    const char *msg = ens_config_last_error(cfg);
    return msg && *msg ? msg : ens_status_string(st);
}
