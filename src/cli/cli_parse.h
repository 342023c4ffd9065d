/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Strict number parsing shared by the ensol command's subcommands (run in
 * main.c, bench in bench.c). Each parser returns NULL on success or the
 * reason the text is rejected ("not an integer", "integer out of range",
 * ...); the whole string must be the number: no blanks, no trailing junk.
 * *out is written only on success.
 */
#ifndef ENSOL_CLI_PARSE_H
#define ENSOL_CLI_PARSE_H

#include <stdint.h>

/* Integers are written plainly or in exact scientific notation: 1e5 and
 * 1.5e3 are integers, 1.5e0 is "not a whole number", 1e30 "integer out
 * of range". */
const char *parse_ll(const char *s, long long *out);
const char *parse_int(const char *s, int *out);
/* A sign is refused (strtoull would wrap "-1" to 2^64-1). */
const char *parse_u64(const char *s, uint64_t *out);
/* A finite double; underflow to 0 or a subnormal is accepted as such. */
const char *parse_real(const char *s, double *out);

/* The next comma-separated field of *rest (advanced past it), or NULL
 * after the last; empty fields are returned as "", where strtok would
 * skip them and take "1,,2" for "1,2". */
char *next_field(char **rest);

/* A rejected field of a compound argument, e.g. "N 'x': not an integer"
 * (a static buffer, overwritten by the next call). */
const char *field_error(const char *label, const char *field, const char *why);

/* The reason part of a library setter message "name = value: reason";
 * other messages are returned whole. */
const char *setter_reason(const char *msg);

#endif /* ENSOL_CLI_PARSE_H */
