/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * What the ensol command prints while it works and records after: the
 * progress line of run and merge, rates, durations and sizes as the
 * messages write them, and the command line for the history attribute.
 */
#ifndef ENSOL_CLI_PROGRESS_H
#define ENSOL_CLI_PROGRESS_H

#include <stddef.h>

#include "ensol/ensol.h"

typedef struct progress_line {
    int show;         /* a line redrawn in place: stderr is a terminal and not --quiet */
    int log;          /* instead, lines for a log (stderr not a terminal) */
    double log_after; /* log: seconds of the run before the first line */
    double log_next;  /* log: the fraction done due for the next line */
    int drawn;        /* a line is on screen and must be cleared */
    double last_draw; /* elapsed seconds at the last redraw (or log line) */
} progress_line;

enum { PROGRESS_REDRAW_MS = 100 };

/* Lines for a log: one each tenth of the run or each minute, whichever
 * comes first; with --progress=auto none in a run's first 10 s, so that
 * short runs log only their plan and summary. */
#define PROGRESS_LOG_STEP 0.1
#define PROGRESS_LOG_SECONDS 60.0
#define PROGRESS_LOG_AFTER 10.0

/* --progress WHEN (auto, always or never) and --quiet: how run shows its
 * progress on this stderr. Returns NULL, or why WHEN is refused. */
const char *progress_setup(progress_line *pl, const char *when, int quiet);

#define PROGRESS_BAR_WIDTH 24

/* 1.2e9 rather than printf's 1.2e+09. */
const char *format_rate(double rate, char *buf, size_t size);

/* "12 s", "3 min 04 s", "2 h 05 min"; "?" when unknown. */
const char *format_duration(double s, char *buf, size_t size);

/* "512 B", "1.5 MB" (powers of 1000). */
const char *format_bytes(double bytes, char *buf, size_t size);

/* "[#####...]" for a fraction done, and the time left at the rate so far. */
void progress_bar(double fraction, double elapsed, char bar[PROGRESS_BAR_WIDTH + 1], char *eta,
                  size_t eta_size);

/* Whether a line is due: none drawn yet, the end, or the redraw interval passed. */
int progress_due(const progress_line *pl, double fraction, double elapsed);

void clear_progress(progress_line *pl);

/* ens_run's progress callback (user: a progress_line): draws the line and
 * is where a signal stops the run. */
int on_progress(const ens_progress *p, void *user);

/* argv joined by spaces, arguments quoted the way a POSIX shell reads them
 * back ('it'\''s'); NULL when out of memory. */
char *command_line(int argc, char **argv);

#endif /* ENSOL_CLI_PROGRESS_H */
