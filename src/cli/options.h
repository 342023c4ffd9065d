/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The options of the ensol command, each described once (option_table.c),
 * and the machinery that turns a command's list of the options it takes
 * into getopt_long's tables, the parsing of its command line, its error
 * messages and its --help (options.c).
 */
#ifndef ENSOL_CLI_OPTIONS_H
#define ENSOL_CLI_OPTIONS_H

#include <stddef.h>

#include "ensol/ensol.h"

/* Every option; below 256 the id is also the option's short letter. */
typedef enum cli_option_id {
    OPT_HELP = 'h', OPT_OUTPUT = 'o', OPT_QUIET = 'q',
    OPT_MODEL = 256, OPT_PARAM, OPT_SWEEP, OPT_RANDOM,
    OPT_MEMBERS, OPT_BASE_STATE, OPT_PERTURB, OPT_INIT_FROM, OPT_SEED,
    OPT_INTEGRATOR, OPT_DT, OPT_STEPS, OPT_SAVE_EVERY, OPT_RTOL, OPT_ATOL, OPT_DT_MIN,
    OPT_DT_MAX, OPT_MAX_STEPS, OPT_PRECISION, OPT_BLOWUP_BOUND,
    OPT_BACKEND, OPT_DEVICE, OPT_STRICT_FP, OPT_THREADS, OPT_BATCH_MEMBERS, OPT_MAX_MEMORY,
    OPT_OUTPUT_MODE, OPT_OUTPUT_TYPE, OPT_RESTART_OUT, OPT_DEFLATE, OPT_QUANTIZE,
    OPT_FILE_PER_RANK, OPT_FORCE, OPT_PROGRESS,
    OPT_TMPDIR, OPT_BACKENDS, OPT_REPEATS, OPT_WARMUP, OPT_TIME_BUDGET, OPT_NO_PEAK, OPT_JSON,
    OPT_CSV
} cli_option_id;

typedef struct cli_option cli_option;

/* Applies an option's value to a configuration: returns NULL and the
 * setter's status in *st, or the reason the text is malformed (the setter
 * is then not called). */
typedef const char *(*cli_apply_fn)(ens_config *cfg, const cli_option *o, const char *arg,
                                    ens_status *st);

/* The order options are applied in: choosing the model resets the
 * parameters and base state, so --model goes first wherever it was given. */
enum { PRIO_REST, PRIO_PARAMS, PRIO_MODEL }; /* highest applied first */

struct cli_option {
    cli_option_id id;
    const char *name;    /* the long name */
    const char *metavar; /* NULL: takes no value */
    const char *help;    /* '\n' forces a line break; {models}, {integrators},
                            {precisions}, {output-modes} and {backends} are
                            replaced by the names the library knows */
    const char *def;     /* the default shown by --help, NULL for none */
    /* How a value reaches an ens_config (ensol run and ensol bench's
     * problem); NULL where the command stores the value itself. */
    int priority;
    cli_apply_fn apply;
    ens_status (*set_name)(ens_config *, const char *);
    ens_status (*set_count)(ens_config *, long long);
    ens_status (*set_real)(ens_config *, double);
    ens_status (*set_int)(ens_config *, int);
    ens_status (*set_list)(ens_config *, const double *, int);
};

/* The option with this id (every id has one). */
const cli_option *cli_option_by_id(cli_option_id id);

/* One line of a command's option list: a section heading, or an option the
 * command takes, with what it says differently there (NULL: the table's). */
typedef struct cli_use {
    const char *heading;
    cli_option_id id;
    const char *metavar, *help, *def;
} cli_use;

#define CLI_HEADING(title) {.heading = (title)}

typedef struct cli_command {
    const char *name;     /* "run" */
    const char *usage;    /* after "Usage: " */
    const char *intro;    /* the paragraph under the usage line, or NULL */
    const cli_use *uses;  /* the options it takes, in the order --help shows */
    int nuses;
    int takes_operands;   /* arguments after the options (merge's files) */
    void (*epilogue)(void); /* printed after the options: examples, exit status */
} cli_command;

/* An option given on the command line and its value (NULL for a flag). */
typedef struct cli_arg {
    const cli_option *opt;
    const cli_use *use;
    const char *value;
} cli_arg;

/* Parses argv (argv[0] is the command's name) into args[] (room for argc
 * entries), in command-line order. --help prints the help. Returns
 * CLI_GO_ON with *nargs and *first_operand set, or the exit status after
 * the help or a usage message. */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_arg *args, int *nargs,
              int *first_operand);

/* The metavar as the command shows it. */
const char *cli_metavar(const cli_use *use);

/* Prints the command's help to stdout. */
void cli_print_help(const cli_command *cmd);

/* "Models:" and a line per model. */
void cli_print_models(void);

/* Writes "a, b or c": the names of an ens_choice kind, or CLI_MODELS. */
enum { CLI_MODELS = -1 };
void cli_names(int kind, char *out, size_t size);

/* Whether this build has the backend. */
int cli_backend_built_in(const char *name);

/* "ensol: --NAME VALUE: WHY"; returns status. */
int cli_option_error(const cli_option *o, const char *arg, const char *why, int status);

/* --model: a name, or a model file given by path (anything with a '/' or
 * ending in .ens). */
int cli_model_is_path(const char *arg);
ens_status cli_set_model(ens_config *cfg, const char *name_or_path);

#endif /* ENSOL_CLI_OPTIONS_H */
