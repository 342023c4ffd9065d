/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The option machinery of the ensol command: from a command's list of the
 * options it takes (cli_command) come getopt_long's tables, the parsing of
 * its command line with one wording for mistakes, and its --help.
 */
#define _POSIX_C_SOURCE 200809L

#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_status.h"

enum { MAX_USES = 64, HELP_COLUMN = 30, HELP_WIDTH = 79 };

/* ---- getopt_long ---------------------------------------------------------------- */

static int is_short(cli_option_id id)
{
    return id > 0 && id < 256;
}

/* Fills getopt_long's tables with the command's options. */
static void build_getopt_tables(const cli_command *cmd, struct option *longopts,
                                char *shortopts)
{
    int n = 0;
    if (cmd->takes_operands)
        *shortopts++ = '+'; /* options come before the operands */
    *shortopts++ = ':';     /* report a missing value as ':' */
    for (int i = 0; i < cmd->nuses; i++) {
        if (cmd->uses[i].heading)
            continue;
        const cli_option *o = cli_option_by_id(cmd->uses[i].id);
        longopts[n++] = (struct option){o->name, o->metavar ? required_argument : no_argument,
                                        NULL, (int)o->id};
        if (is_short(o->id)) {
            *shortopts++ = (char)o->id;
            if (o->metavar)
                *shortopts++ = ':';
        }
    }
    longopts[n] = (struct option){0, 0, 0, 0};
    *shortopts = '\0';
}

static const cli_use *use_of(const cli_command *cmd, int id)
{
    for (int i = 0; i < cmd->nuses; i++)
        if (!cmd->uses[i].heading && (int)cmd->uses[i].id == id)
            return &cmd->uses[i];
    return NULL;
}

/* Reports getopt_long's ':' or '?' in our wording (opterr is off). glibc
 * has moved optind past a bad long option, not always past a short one. */
static int getopt_error(const cli_command *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        fprintf(stderr, "ensol: %s: missing value\n", arg);
    else if (optopt == 0)
        fprintf(stderr, "ensol: %s: unknown option (see 'ensol %s --help')\n", arg, cmd->name);
    else if (use_of(cmd, optopt))
        fprintf(stderr, "ensol: %s: this option takes no value\n", arg);
    else
        fprintf(stderr, "ensol: -%c: unknown option (see 'ensol %s --help')\n", optopt,
                cmd->name);
    return CLI_EXIT_USAGE;
}

static int takes_options(const cli_command *cmd)
{
    for (int i = 0; i < cmd->nuses; i++)
        if (!cmd->uses[i].heading && cmd->uses[i].id != OPT_HELP)
            return 1;
    return 0;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_arg *args, int *nargs,
              int *first_operand)
{
    struct option longopts[MAX_USES + 1];
    char shortopts[2 * MAX_USES + 3];
    build_getopt_tables(cmd, longopts, shortopts);
    opterr = 0;
    optind = 0; /* glibc: 0 starts afresh, forgetting a previous argv's state */
    *nargs = 0;
    for (int c; (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1;) {
        if (c == '?' || c == ':')
            return getopt_error(cmd, c, argv);
        if (c == OPT_HELP) {
            cli_print_help(cmd);
            return cli_finish_stdout(CLI_EXIT_OK);
        }
        /* Flags grouped in one argument (-qqq) give more options than
         * arguments: args[] holds argc. */
        if (*nargs >= argc) {
            fprintf(stderr, "ensol: %s: too many options\n", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
        const cli_use *use = use_of(cmd, c);
        args[(*nargs)++] = (cli_arg){cli_option_by_id(use->id), use, optarg};
    }
    *first_operand = optind;
    if (optind < argc && !cmd->takes_operands) {
        fprintf(stderr, "ensol: %s: unexpected argument (%s takes %s)\n", argv[optind],
                cmd->name, takes_options(cmd) ? "options only" : "no arguments");
        return CLI_EXIT_USAGE;
    }
    return CLI_GO_ON;
}

int cli_option_error(const cli_option *o, const char *arg, const char *why, int status)
{
    fprintf(stderr, "ensol: --%s %s: %s\n", o->name, arg, why);
    return status;
}

/* ---- names ------------------------------------------------------------------------ */

void cli_names(int kind, char *out, size_t size)
{
    const int n = kind == CLI_MODELS ? ens_model_count() : ens_choice_count((ens_choice)kind);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && len < size; i++) {
        const char *name =
            kind == CLI_MODELS ? ens_model_name(i) : ens_choice_name((ens_choice)kind, i);
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        len += (size_t)snprintf(out + len, size - len, "%s%s", sep, name);
    }
}

int cli_backend_built_in(const char *name)
{
    for (int i = 0; i < ens_backend_count(); i++)
        if (strcmp(ens_backend_name(i), name) == 0)
            return 1;
    return 0;
}

/* The help text with its {placeholders} replaced by the names they stand for. */
static void expand_names(const char *text, char *out, size_t size)
{
    static const struct {
        const char *key;
        int kind;
    } lists[] = {{"{models}", CLI_MODELS},
                 {"{integrators}", ENS_CHOICE_INTEGRATOR},
                 {"{precisions}", ENS_CHOICE_PRECISION},
                 {"{output-modes}", ENS_CHOICE_OUTPUT_MODE},
                 {"{backends}", ENS_CHOICE_BACKEND}};
    size_t len = 0;
    while (*text && len + 1 < size) {
        size_t i = 0, n = sizeof lists / sizeof lists[0];
        while (i < n && strncmp(text, lists[i].key, strlen(lists[i].key)) != 0)
            i++;
        if (i == n) {
            out[len++] = *text++;
            continue;
        }
        cli_names(lists[i].kind, out + len, size - len);
        len += strlen(out + len);
        text += strlen(lists[i].key);
    }
    out[len < size ? len : size - 1] = '\0';
}

/* ---- help ------------------------------------------------------------------------- */

const char *cli_metavar(const cli_use *use)
{
    return use->metavar ? use->metavar : cli_option_by_id(use->id)->metavar;
}

/* Prints words from the current column, wrapping at HELP_WIDTH to
 * HELP_COLUMN; '\n' breaks the line. Returns the column reached. */
static int print_wrapped(const char *text, int column)
{
    for (const char *c = text; *c;) {
        if (*c == '\n') {
            column = printf("\n%*s", HELP_COLUMN, "") - 1;
            c++;
            continue;
        }
        size_t word = strcspn(c, " \n");
        if (*c == ' ') {
            size_t next = strcspn(c + 1, " \n");
            if (column + 1 + (int)next > HELP_WIDTH) {
                column = printf("\n%*s", HELP_COLUMN, "") - 1;
                c++;
                continue;
            }
            word = 1;
        }
        column += printf("%.*s", (int)word, c);
        c += word;
    }
    return column;
}

static void print_option_help(const cli_use *use)
{
    const cli_option *o = cli_option_by_id(use->id);
    const char *metavar = cli_metavar(use), *def = use->def ? use->def : o->def;
    char left[64], shortopt[8] = "    ", help[1024];
    if (is_short(o->id))
        snprintf(shortopt, sizeof shortopt, "-%c, ", o->id);
    snprintf(left, sizeof left, "  %s--%s%s%s", shortopt, o->name, metavar ? " " : "",
             metavar ? metavar : "");
    /* A name too long for the column puts the help on the next line. */
    if (strlen(left) >= HELP_COLUMN)
        printf("%s\n%*s", left, HELP_COLUMN, "");
    else
        printf("%-*s", HELP_COLUMN, left);
    expand_names(use->help ? use->help : o->help, help, sizeof help);
    int column = print_wrapped(help, HELP_COLUMN);
    if (def && column + 3 + (int)strlen(def) > HELP_WIDTH)
        printf("\n%*s", HELP_COLUMN - 1, "");
    if (def)
        printf(" [%s]", def);
    putchar('\n');
}

void cli_print_help(const cli_command *cmd)
{
    printf("Usage: %s\n", cmd->usage);
    if (cmd->intro)
        printf("\n%s", cmd->intro);
    for (int i = 0; i < cmd->nuses; i++) {
        if (cmd->uses[i].heading)
            printf("\n%s:\n", cmd->uses[i].heading);
        else
            print_option_help(&cmd->uses[i]);
    }
    if (cmd->epilogue)
        cmd->epilogue();
}

void cli_print_models(void)
{
    printf("Models:\n");
    for (int i = 0; i < ens_model_count(); i++) {
        const char *name = ens_model_name(i), *summary = ens_model_summary(i);
        /* The summaries start with the model's name; no need to say it twice. */
        if (strncmp(summary, name, strlen(name)) == 0)
            printf("  %s\n", summary);
        else
            printf("  %-10s %s\n", name, summary);
    }
}
