/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The kernel source of a model file: its right-hand side as a function of
 * the portable C subset of kernels/ (C, CUDA C and OpenCL C alike), with
 * named access to variables, parameters and sizes through macros bound to
 * offsets of x[], f[] and p[], and #line directives so that a compiler's
 * diagnostics name the user's file and line. */
#include "core/models.h"
#include "core/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offsets of the variables in the state vector at `sizes`. */
static void add_variable_macros(ens_text *b, const ens_model_info *m, const int *sizes)
{
    long long offset = 0;
    for (int v = 0; v < m->nvardecls; v++) {
        const ens_model_var *var = &m->vars[v];
        if (var->length) {
            ens_text_add(b, "#define %s (ens_x_ + %lld)\n#define ENS_DDT_%s (ens_f_ + %lld)\n",
                var->name, offset, var->name, offset);
        } else {
            ens_text_add(b, "#define %s (ens_x_[%lld])\n#define ENS_DDT_%s (ens_f_[%lld])\n", var->name,
                offset, var->name, offset);
        }
        const long long n = ens_model_var_length(m, v, sizes, NULL);
        offset += n > 0 ? n : 0;
    }
}

/* The helpers of the functions block, each `ENS_FN TYPE NAME(`: the block
 * is included once per precision, so each name is made the precision's
 * own through ENS_SYM (define = 1) and released after the model (0). */
static void add_function_names(ens_text *b, const ens_model_info *m, int define)
{
    for (const char *s = m->functions; s && (s = strstr(s, "ENS_FN")) != NULL;) {
        s += 6;
        const char *name = NULL, *end = NULL;
        for (const char *c = s; *c && *c != ';' && *c != '{';) {
            if (isalpha((unsigned char)*c) || *c == '_') {
                const char *w = c;
                while (isalnum((unsigned char)*c) || *c == '_')
                    c++;
                const char *next = c;
                while (isspace((unsigned char)*next))
                    next++;
                if (*next == '(') {
                    name = w;
                    end = c;
                    break;
                }
            } else {
                c++;
            }
        }
        if (!name)
            continue;
        const int len = (int)(end - name);
        if (m->component && strlen(m->component) == (size_t)len &&
            strncmp(m->component, name, (size_t)len) == 0)
            continue;
        if (define)
            ens_text_add(b, "#define %.*s ENS_SYM(ens_fn_%.*s)\n", len, name, len, name);
        else
            ens_text_add(b, "#undef %.*s\n", len, name);
    }
}

char *ens_model_source(const ens_model_info *m, const char *prefix, const int *sizes)
{
    ens_text b = {0};
    ens_text_add(&b, "/* Kernel source of model %s, generated from %s: edit that file. */\n", m->name,
        m->path);
    if (m->component)
        ens_text_add(&b, "#define %s ENS_SYM(ens_tendency_%s)\n", m->component, prefix);
    if (m->functions) {
        add_function_names(&b, m, 1);
        ens_text_line(&b, m->functions_line, m->path);
        ens_text_add(&b, "%s", m->functions);
    }
    /* The time is the argument t, which an autonomous model leaves unused
     * (inlined, its computation then disappears). */
    ens_text_add(&b, "\nENS_FN void ENS_SYM(ens_rhs_%s)(int ens_nv_, ens_real t,\n"
            "    const ens_real *ENS_RESTRICT ens_x_, ens_real *ENS_RESTRICT ens_f_,\n"
            "    const ens_real *ENS_RESTRICT ens_p_)\n{\n"
            "    (void)ens_nv_;\n    (void)t;\n    (void)ens_p_;\n", prefix);
    /* A model with one array of size K takes K from the run's variable
     * count; other sizes are literals of this source. */
    for (int i = 0; i < m->nsizes; i++) {
        if (m->size_param && strcmp(m->size_param, m->sizes[i].name) == 0)
            ens_text_add(&b, "#define %s ens_nv_\n", m->sizes[i].name);
        else
            ens_text_add(&b, "#define %s %d\n", m->sizes[i].name, sizes[i]);
    }
    for (int j = 0; j < m->nparams; j++)
        ens_text_add(&b, "#define %s (ens_p_[%d])\n", m->params[j].name, j);
    for (int k = 0; k < m->nnoise; k++)
        ens_text_add(&b, "#define %s (ens_p_[%d])\n", m->noises[k].name, m->nparams + k);
    add_variable_macros(&b, m, sizes);
    ens_text_add(&b, "#define ddt(v) ENS_DDT_##v\n");
    ens_text_line(&b, m->rhs_line, m->path);
    ens_text_add(&b, "%s", m->rhs);
    ens_text_add(&b, "#undef ddt\n");
    for (int v = 0; v < m->nvardecls; v++)
        ens_text_add(&b, "#undef %s\n#undef ENS_DDT_%s\n", m->vars[v].name, m->vars[v].name);
    for (int j = 0; j < m->nparams; j++)
        ens_text_add(&b, "#undef %s\n", m->params[j].name);
    for (int k = 0; k < m->nnoise; k++)
        ens_text_add(&b, "#undef %s\n", m->noises[k].name);
    for (int i = 0; i < m->nsizes; i++)
        ens_text_add(&b, "#undef %s\n", m->sizes[i].name);
    ens_text_add(&b, "}\n");
    if (m->component)
        ens_text_add(&b, "#undef %s\n", m->component);
    add_function_names(&b, m, 0);
    return ens_text_take(&b);
}
