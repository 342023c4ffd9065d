/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The kernel source of a model file: its right-hand side as a function of
 * the portable C subset of kernels/ (C, CUDA C and OpenCL C alike), with
 * named access to variables, parameters and sizes through macros bound to
 * offsets of x[], f[] and p[], and #line directives so that a compiler's
 * diagnostics name the user's file and line. */
#include "core/models.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text_buf {
    char *s;
    size_t len, cap;
    int failed;
} text_buf;

static void add(text_buf *b, const char *fmt, ...) ENS_PRINTF_LIKE(2, 3);
static void add(text_buf *b, const char *fmt, ...)
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

/* A #line directive into the model file (its path with quotes and
 * backslashes escaped). */
static void add_line(text_buf *b, int line, const char *path)
{
    add(b, "#line %d \"", line);
    for (const char *c = path; *c; c++)
        add(b, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
    add(b, "\"\n");
}

/* Offsets of the variables in the state vector at `sizes`. */
static void add_variable_macros(text_buf *b, const ens_model_info *m, const int *sizes)
{
    long long offset = 0;
    for (int v = 0; v < m->nvardecls; v++) {
        const ens_model_var *var = &m->vars[v];
        if (var->length) {
            add(b, "#define %s (ens_x_ + %lld)\n#define ENS_DDT_%s (ens_f_ + %lld)\n",
                var->name, offset, var->name, offset);
        } else {
            add(b, "#define %s (ens_x_[%lld])\n#define ENS_DDT_%s (ens_f_[%lld])\n", var->name,
                offset, var->name, offset);
        }
        const long long n = ens_model_var_length(m, v, sizes, NULL);
        offset += n > 0 ? n : 0;
    }
}

char *ens_model_source(const ens_model_info *m, const char *prefix, const int *sizes)
{
    text_buf b = {0};
    add(&b, "/* Kernel source of model %s, generated from %s: edit that file. */\n", m->name,
        m->path);
    if (m->component)
        add(&b, "#define %s ENS_SYM(ens_tendency_%s)\n", m->component, prefix);
    if (m->functions) {
        add_line(&b, m->functions_line, m->path);
        add(&b, "%s", m->functions);
    }
    /* The time is the argument t, which an autonomous model leaves unused
     * (inlined, its computation then disappears). */
    add(&b, "\nENS_FN void ENS_SYM(ens_rhs_%s)(int ens_nv_, ens_real t,\n"
            "    const ens_real *ENS_RESTRICT ens_x_, ens_real *ENS_RESTRICT ens_f_,\n"
            "    const ens_real *ENS_RESTRICT ens_p_)\n{\n"
            "    (void)ens_nv_;\n    (void)t;\n    (void)ens_p_;\n", prefix);
    /* A model with one array of size K takes K from the run's variable
     * count; other sizes are literals of this source. */
    for (int i = 0; i < m->nsizes; i++) {
        if (m->size_param && strcmp(m->size_param, m->sizes[i].name) == 0)
            add(&b, "#define %s ens_nv_\n", m->sizes[i].name);
        else
            add(&b, "#define %s %d\n", m->sizes[i].name, sizes[i]);
    }
    for (int j = 0; j < m->nparams; j++)
        add(&b, "#define %s (ens_p_[%d])\n", m->params[j].name, j);
    add_variable_macros(&b, m, sizes);
    add(&b, "#define ddt(v) ENS_DDT_##v\n");
    add_line(&b, m->rhs_line, m->path);
    add(&b, "%s", m->rhs);
    add(&b, "#undef ddt\n");
    for (int v = 0; v < m->nvardecls; v++)
        add(&b, "#undef %s\n#undef ENS_DDT_%s\n", m->vars[v].name, m->vars[v].name);
    for (int j = 0; j < m->nparams; j++)
        add(&b, "#undef %s\n", m->params[j].name);
    for (int i = 0; i < m->nsizes; i++)
        add(&b, "#undef %s\n", m->sizes[i].name);
    add(&b, "}\n");
    if (m->component)
        add(&b, "#undef %s\n", m->component);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
