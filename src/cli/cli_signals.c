/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
#define _POSIX_C_SOURCE 200809L

#include "cli_signals.h"

#include <string.h>

volatile sig_atomic_t cli_stop_signal;

static void on_signal(int sig)
{
    cli_stop_signal = sig;
}

void cli_install_signal_handlers(void)
{
    static const int signals[] = {SIGINT, SIGTERM};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(signals[i], &sa, NULL);
}
