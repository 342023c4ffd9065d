/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol merge: join the per-rank pieces of an MPI run into one file
 * (cmd_merge.c).
 */
#ifndef ENSOL_CLI_CMD_MERGE_H
#define ENSOL_CLI_CMD_MERGE_H

/* argv[1] is "merge". Returns the exit status (cli_status.h). */
int cmd_merge(int argc, char **argv);

#endif /* ENSOL_CLI_CMD_MERGE_H */
