/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* SIGINT and SIGTERM for the ensol command: the handler only records the
 * signal; long operations poll it and stop cleanly. */
#ifndef ENSOL_CLI_SIGNALS_H
#define ENSOL_CLI_SIGNALS_H

#include <signal.h>

/* The signal received, or 0. */
extern volatile sig_atomic_t cli_stop_signal;

/* SA_RESETHAND: a second Ctrl-C kills at once if a batch is slow to end.
 * A signal ignored at startup (a background job of a script) stays so. */
void cli_install_signal_handlers(void);

#endif
