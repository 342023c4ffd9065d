/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Strict number parsing for the ensol command (src/cli/main.c and
 * src/cli/bench.c). Each parser returns NULL on success or the reason the
 * text is rejected; the whole string must be the number: no blanks, no
 * trailing junk.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int starts_blank(const char *s)
{
    return *s == '\0' || isspace((unsigned char)*s);
}

const char *parse_ll(const char *s, long long *out)
{
    char *end;
    if (starts_blank(s))
        return "not an integer";
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return "not an integer";
    if (errno == ERANGE)
        return "integer out of range";
    *out = v;
    return NULL;
}

const char *parse_int(const char *s, int *out)
{
    long long v;
    const char *why = parse_ll(s, &v);
    if (!why && (v < INT_MIN || v > INT_MAX))
        why = "integer out of range";
    if (!why)
        *out = (int)v;
    return why;
}

/* strtoull would silently wrap "-1" to 2^64-1, so a sign is refused. */
const char *parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (starts_blank(s) || *s == '-' || *s == '+')
        return "not an unsigned integer";
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return "not an unsigned integer";
    if (errno == ERANGE)
        return "integer out of range";
    *out = (uint64_t)v;
    return NULL;
}

const char *parse_real(const char *s, double *out)
{
    char *end;
    if (starts_blank(s))
        return "not a number";
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0')
        return "not a number";
    if (errno == ERANGE && isinf(v))
        return "number out of range";
    if (!isfinite(v))
        return "not a finite number";
    *out = v; /* underflow to 0 or a subnormal is accepted as such */
    return NULL;
}

char *next_field(char **rest)
{
    char *field = *rest;
    if (!field)
        return NULL;
    char *comma = strchr(field, ',');
    if (comma)
        *comma = '\0';
    *rest = comma ? comma + 1 : NULL;
    return field;
}

/* A rejected field of a compound argument, e.g. "N 'x': not an integer". */
const char *field_error(const char *label, const char *field, const char *why)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s '%s': %s", label, field, why);
    return buf;
}

/* The library's setter messages read "name = value: reason"; after the
 * CLI's "--option value: " only the reason is new. Other messages stay
 * whole. */
const char *setter_reason(const char *msg)
{
    const char *colon = strstr(msg, ": ");
    const char *eq = strstr(msg, " = ");
    return colon && eq && eq < colon ? colon + 2 : msg;
}
