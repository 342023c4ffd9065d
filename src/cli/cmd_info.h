/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol info and ensol version (cmd_info.c).
 */
#ifndef ENSOL_CLI_CMD_INFO_H
#define ENSOL_CLI_CMD_INFO_H

/* argv[1] is "info" or "version". Return the exit status (cli_status.h). */
int cmd_info(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif /* ENSOL_CLI_CMD_INFO_H */
