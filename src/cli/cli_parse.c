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

/* The magnitude of an integer written plainly (12000) or in scientific
 * notation that is exact (1e5, 1.2e4, 12000e-3; not 1.5e0), and its sign
 * (a sign only where `signed_ok`). Batch scripts write counts as 1e6. */
static const char *parse_magnitude(const char *s, int signed_ok, int *negative,
                                   unsigned long long *out)
{
    const char *digits, *point = NULL;
    int ndigits = 0, nfraction = 0;
    long exponent = 0;
    if (starts_blank(s))
        return "not an integer";
    *negative = *s == '-';
    if (*s == '-' || *s == '+') {
        if (!signed_ok)
            return "not an unsigned integer";
        s++;
    }
    digits = s;
    for (; isdigit((unsigned char)*s) || (*s == '.' && !point); s++) {
        if (*s == '.') {
            point = s;
            continue;
        }
        ndigits++;
        if (point)
            nfraction++;
    }
    if (ndigits == 0)
        return "not an integer";
    if (*s == 'e' || *s == 'E') {
        const int minus = s[1] == '-';
        s += 1 + (s[1] == '-' || s[1] == '+');
        if (!isdigit((unsigned char)*s))
            return "not an integer";
        for (; isdigit((unsigned char)*s); s++)
            if (exponent < 100000) /* far beyond any integer; keeps the sum bounded */
                exponent = exponent * 10 + (*s - '0');
        exponent = minus ? -exponent : exponent;
    }
    if (*s != '\0')
        return "not an integer";
    /* value = digits x 10^shift: the last -shift digits must be zeros. */
    const long shift = exponent - nfraction;
    const int keep = shift >= 0 ? ndigits : -shift >= ndigits ? 0 : ndigits - (int)-shift;
    unsigned long long v = 0;
    int i = 0;
    for (const char *c = digits; *c && *c != 'e' && *c != 'E'; c++) {
        if (*c == '.')
            continue;
        const int d = *c - '0';
        if (i++ >= keep) {
            if (d != 0)
                return "not a whole number";
            continue;
        }
        if (v > (ULLONG_MAX - (unsigned)d) / 10)
            return "integer out of range";
        v = v * 10 + (unsigned)d;
    }
    for (long k = 0; k < shift && v != 0; k++) {
        if (v > ULLONG_MAX / 10)
            return "integer out of range";
        v *= 10;
    }
    *out = v;
    return NULL;
}

const char *parse_ll(const char *s, long long *out)
{
    int negative;
    unsigned long long v;
    const char *why = parse_magnitude(s, 1, &negative, &v);
    if (why)
        return why;
    if (v > (unsigned long long)LLONG_MAX + (negative ? 1u : 0u))
        return "integer out of range";
    *out = !negative ? (long long)v : v > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)v;
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
    int negative;
    unsigned long long v;
    const char *why = parse_magnitude(s, 0, &negative, &v);
    if (!why)
        *out = (uint64_t)v;
    return why;
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
