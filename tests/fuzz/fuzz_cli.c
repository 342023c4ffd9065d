/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * libFuzzer target for the command line of `ensol run`: the input, split
 * at NUL bytes, is the argument list; what the parser accepts is applied
 * to a configuration as the command applies it, and the configuration is
 * checked (ens_config_check: no files opened, no backend started). A
 * crash, a sanitizer report or a hang is a finding; a refusal is not (run
 * it with -close_fd_mask=1: --help and the messages are answers too).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_status.h"
#include "cmd_run.h"
#include "core/config.h"
#include "options.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2] = {"run"};
    int argc = 1;
    for (size_t at = 0; at <= size && argc <= MAX_ARGS; at += strlen(text + at) + 1)
        argv[argc++] = text + at;
    argv[argc] = NULL;

    cli_arg args[MAX_ARGS + 1];
    int nargs = 0, first_operand = 0;
    ens_config *cfg = NULL;
    if (cli_parse(&cmd_run_command, argc, argv, args, &nargs, &first_operand) == CLI_GO_ON &&
        ens_config_create(&cfg) == ENS_OK) {
        int ok = 1;
        for (int prio = PRIO_MODEL; prio >= PRIO_REST && ok; prio--)
            for (int i = 0; i < nargs && ok; i++) {
                const cli_option *o = args[i].opt;
                ens_status st = ENS_OK;
                if (o->priority == prio && o->apply)
                    ok = o->apply(cfg, o, args[i].value, &st) == NULL && st == ENS_OK;
            }
        if (ok)
            ens_config_check(cfg);
        ens_config_destroy(cfg);
    }
    free(text);
    return 0;
}
