/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void ens_text_add(ens_text *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
        const size_t cap = (b->cap + (size_t)(n > 0 ? n : 0) + 1) * 2;
        char *grown = n < 0 ? NULL : realloc(b->s, cap);
        if (!grown) {
            b->failed = 1;
            va_end(again);
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, again);
    va_end(again);
    b->len += (size_t)n;
}

void ens_text_line(ens_text *b, int line, const char *path)
{
    ens_text_add(b, "#line %d \"", line);
    for (const char *c = path; *c; c++)
        ens_text_add(b, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
    ens_text_add(b, "\"\n");
}

char *ens_text_take(ens_text *b)
{
    if (b->failed) {
        free(b->s);
        b->s = NULL;
    }
    char *s = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return s;
}
