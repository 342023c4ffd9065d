/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The progress line of ensol run and merge, the formatting of rates,
 * durations and sizes in messages, and the command line recorded in the
 * history attribute (cli_progress.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_progress.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cli_signals.h"

static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_./=:,+@%^", *s))
            return 0;
    return 1;
}

char *command_line(int argc, char **argv)
{
    size_t size = 1;
    for (int i = 0; i < argc; i++)
        size += 4 * strlen(argv[i]) + 3;
    char *out = malloc(size), *p = out;
    if (!out)
        return NULL;
    for (int i = 0; i < argc; i++) {
        if (i > 0)
            *p++ = ' ';
        if (shell_safe(argv[i])) {
            p = stpcpy(p, argv[i]);
            continue;
        }
        *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'')
                p = stpcpy(p, "'\\''"); /* close, escaped quote, reopen */
            else
                *p++ = *c;
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}


const char *format_rate(double rate, char *buf, size_t size)
{
    if (!(rate > 0) || !isfinite(rate)) {
        snprintf(buf, size, "0");
        return buf;
    }
    int exponent = (int)floor(log10(rate));
    double mantissa = rate / pow(10, exponent);
    if (mantissa >= 9.95) { /* would print as 10.0 */
        mantissa /= 10;
        exponent++;
    }
    snprintf(buf, size, "%.1fe%d", mantissa, exponent);
    return buf;
}

const char *format_bytes(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 5) {
        bytes /= 1000.0;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

const char *format_duration(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.0f s", s);
    else if (s < 3600)
        snprintf(buf, size, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
    return buf;
}

void progress_bar(double fraction, double elapsed, char bar[PROGRESS_BAR_WIDTH + 1],
                         char *eta, size_t eta_size)
{
    const int filled = (int)(fraction * PROGRESS_BAR_WIDTH + 0.5);
    for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[PROGRESS_BAR_WIDTH] = '\0';
    format_duration(fraction > 0 ? elapsed * (1 - fraction) / fraction : NAN, eta, eta_size);
}

const char *progress_setup(progress_line *pl, const char *when, int quiet)
{
    const int always = when && strcmp(when, "always") == 0;
    if (when && !always && strcmp(when, "auto") != 0 && strcmp(when, "never") != 0)
        return "expected auto, always or never";
    memset(pl, 0, sizeof *pl);
    if (quiet || (when && strcmp(when, "never") == 0))
        return NULL;
    pl->show = isatty(STDERR_FILENO);
    pl->log = !pl->show;
    pl->log_after = always ? 0.0 : PROGRESS_LOG_AFTER;
    pl->log_next = PROGRESS_LOG_STEP;
    return NULL;
}

/* A line for a log: the next tenth done, or a minute since the last line;
 * none at the end, where the summary follows. */
static void log_progress(progress_line *pl, const ens_progress *p)
{
    if (p->fraction >= 1 || p->elapsed_seconds < pl->log_after ||
        (p->fraction < pl->log_next &&
         p->elapsed_seconds - pl->last_draw < PROGRESS_LOG_SECONDS))
        return;
    char rate[32], eta[32], bar[PROGRESS_BAR_WIDTH + 1], elapsed[32];
    progress_bar(p->fraction, p->elapsed_seconds, bar, eta, sizeof eta);
    fprintf(stderr,
            "ensol: %3.0f%% after %s, %lld/%lld members, t=%g, %s member-steps/s, %s left\n",
            floor(100 * p->fraction), format_duration(p->elapsed_seconds, elapsed, sizeof elapsed),
            p->members_done, p->members_total, p->sim_time,
            format_rate(p->member_steps_per_second, rate, sizeof rate), eta);
    pl->last_draw = p->elapsed_seconds;
    pl->log_next = (floor(p->fraction / PROGRESS_LOG_STEP + 1e-9) + 1) * PROGRESS_LOG_STEP;
}

static void draw_progress(progress_line *pl, const ens_progress *p)
{
    char rate[32], eta[32], bar[PROGRESS_BAR_WIDTH + 1], line[320];
    progress_bar(p->fraction, p->elapsed_seconds, bar, eta, sizeof eta);
    snprintf(line, sizeof line,
             "\r[%s] %5.1f%% %lld/%lld members, t=%g, %s member-steps/s, ETA %s\033[K", bar,
             100 * p->fraction, p->members_done, p->members_total, p->sim_time,
             format_rate(p->member_steps_per_second, rate, sizeof rate), eta);
    fputs(line, stderr);
    pl->drawn = 1;
    pl->last_draw = p->elapsed_seconds;
}

int progress_due(const progress_line *pl, double fraction, double elapsed)
{
    return pl->show && (!pl->drawn || fraction >= 1 ||
                        elapsed - pl->last_draw >= PROGRESS_REDRAW_MS / 1000.0);
}

void clear_progress(progress_line *pl)
{
    if (pl->drawn)
        fputs("\r\033[K", stderr);
    pl->drawn = 0;
}

/* Called by the library after each save interval: the place a signal stops
 * the run cleanly (the library then keeps what was computed in the partial
 * file, marked incomplete). */
int on_progress(const ens_progress *p, void *user)
{
    progress_line *pl = user;
    if (cli_stop_signal)
        return 1;
    if (progress_due(pl, p->fraction, p->elapsed_seconds))
        draw_progress(pl, p);
    else if (pl->log)
        log_progress(pl, p);
    return 0;
}
