/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol info and ensol version: what this build is and knows (the
 * version, the backends and their devices, MPI, the models).
 */
#include "cmd_info.h"

#include <stdio.h>
#include <string.h>

#include "cli_build_info.h" /* ENSOL_GIT_DESCRIBE, generated at build time */
#include "cli_status.h"
#include "ensol/ensol.h"
#include "options.h"

static const cli_use help_only[] = {{.id = OPT_HELP}};
static const cli_use info_uses[] = {{.id = OPT_MODEL}, {.id = OPT_HELP}};

/* ensol info --model NAME|PATH: what the model declares. */
static int print_model(const char *name_or_path)
{
    ens_config *cfg = NULL;
    if (ens_config_create(&cfg) != ENS_OK) {
        fprintf(stderr, "ensol: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    const ens_status st = cli_set_model(cfg, name_or_path);
    if (st != ENS_OK) {
        fprintf(stderr, "ensol: --model %s: %s\n", name_or_path, ens_config_last_error(cfg));
        ens_config_destroy(cfg);
        return cli_exit_status(st);
    }
    char text[8192];
    ens_config_describe_model(cfg, text, sizeof text);
    fputs(text, stdout);
    ens_config_destroy(cfg);
    return cli_finish_stdout(CLI_EXIT_OK);
}

/* Parses a command that takes only --help. */
static int parse_help_only(const cli_command *cmd, int argc, char **argv)
{
    cli_arg args[1];
    int nargs, first_operand;
    return cli_parse(cmd, argc - 1, argv + 1, args, &nargs, &first_operand);
}

/* "ensol 0.2.0", with the commit of a build from a git checkout. */
static void print_version(void)
{
    if (ENSOL_GIT_DESCRIBE[0])
        printf("ensol %s (git %s)\n", ens_version(), ENSOL_GIT_DESCRIBE);
    else
        printf("ensol %s\n", ens_version());
}

static void print_backends(void)
{
    char detail[8192];
    printf("Backends (in auto-selection order):\n");
    for (int i = 0; i < ens_backend_count(); i++) {
        const char *name = ens_backend_name(i);
        detail[0] = '\0';
        ens_status st = ens_backend_probe(name, detail, sizeof detail);
        printf("  %-8s %s%s%s\n", name, st == ENS_OK ? "available" : "unavailable",
               *detail ? ": " : "", detail);
    }
    for (int i = 0; i < ens_choice_count(ENS_CHOICE_BACKEND); i++) {
        const char *name = ens_choice_name(ENS_CHOICE_BACKEND, i);
        if (!cli_backend_built_in(name))
            printf("  %-8s not built in\n", name);
    }
}

int cmd_info(int argc, char **argv)
{
    static const cli_command info = {
        .name = "info",
        .usage = "ensol info [--model NAME|PATH]",
        .intro = "Show the version, the backends of this build and their devices, MPI\n"
                 "and the models; with --model, what that model (file) declares.\n\n",
        .uses = info_uses,
        .nuses = 2};
    cli_arg args[8];
    int nargs = 0, first_operand;
    int status = argc - 1 <= 8 ? cli_parse(&info, argc - 1, argv + 1, args, &nargs,
                                           &first_operand)
                               : CLI_EXIT_USAGE;
    if (status != CLI_GO_ON)
        return status;
    for (int i = nargs - 1; i >= 0; i--)
        if (args[i].opt->id == OPT_MODEL)
            return print_model(args[i].value);
    print_version();
    printf("\n");
    print_backends();
#ifdef ENSOL_HAVE_MPI
    printf("\nMPI: built in; ranks write %s\n",
           ens_has_parallel_io() ? "one file together (parallel NetCDF)"
                                 : "one piece each (no parallel NetCDF; join with 'ensol merge')");
#else
    printf("\nMPI: not built in\n");
#endif
    printf("\n");
    cli_print_models();
    return cli_finish_stdout(CLI_EXIT_OK);
}

int cmd_version(int argc, char **argv)
{
    static const cli_command version = {
        .name = "version",
        .usage = "ensol version",
        .intro = "Print the version.\n\n",
        .uses = help_only,
        .nuses = 1};
    int status = parse_help_only(&version, argc, argv);
    if (status != CLI_GO_ON)
        return status;
    print_version();
    return cli_finish_stdout(CLI_EXIT_OK);
}
