/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* A growing string for generated source: appends that remember a failed
 * allocation, so a generator checks once at the end. */
#ifndef ENS_CORE_TEXT_H
#define ENS_CORE_TEXT_H

#include <stddef.h>

#include "core/error.h"

typedef struct ens_text {
    char *s;        /* NUL-terminated once anything was added */
    size_t len, cap;
    int failed;     /* an allocation failed: s is incomplete */
} ens_text;

void ens_text_add(ens_text *b, const char *fmt, ...) ENS_PRINTF_LIKE(2, 3);
/* A #line directive into `path` (quotes and backslashes escaped). */
void ens_text_line(ens_text *b, int line, const char *path);
/* The string (the caller frees it), or NULL after a failed allocation. */
char *ens_text_take(ens_text *b);

#endif
