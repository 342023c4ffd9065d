/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The CPU loops for a model file (openmp_model.h): the embedded loops of
 * openmp_kernels.c with the model's generated right-hand side in place of
 * the built-in ones, and its one entry in the model list. */
#include "backends/openmp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/models.h"

extern const char ens_openmp_source[];
extern const size_t ens_openmp_source_size;

#define MARKER "/* @ens_model_file_source@ */"

/* `text` with every MARKER replaced by `rhs`, after `prefix`, before `suffix`. */
static char *assemble(const char *prefix, const char *text, const char *rhs, const char *suffix)
{
    size_t markers = 0;
    for (const char *s = strstr(text, MARKER); s; s = strstr(s + 1, MARKER))
        markers++;
    const size_t size = strlen(prefix) + strlen(text) + markers * strlen(rhs) + strlen(suffix) + 1;
    char *out = malloc(size), *o = out;
    if (!out)
        return NULL;
    o += sprintf(o, "%s", prefix);
    for (const char *s = text;;) {
        const char *m = strstr(s, MARKER);
        const size_t n = m ? (size_t)(m - s) : strlen(s);
        memcpy(o, s, n);
        o += n;
        if (!m)
            break;
        o += sprintf(o, "%s", rhs);
        s = m + strlen(MARKER);
    }
    sprintf(o, "%s", suffix);
    return out;
}

/* The loops report errors through ens_fail, which the object defines for
 * itself so that it needs nothing from the library that loads it. */
static const char suffix[] =
    "\n#include <stdarg.h>\n#include <stdio.h>\n"
    "__attribute__((visibility(\"hidden\"))) ens_status ens_model_fail(ens_error *err,\n"
    "    ens_status status, const char *fmt, ...)\n{\n"
    "    if (err) {\n        va_list ap;\n        va_start(ap, fmt);\n"
    "        vsnprintf(err->msg, sizeof err->msg, fmt, ap);\n        va_end(ap);\n    }\n"
    "    return status;\n}\n";

ens_status ens_openmp_model_load(const ens_backend_job *job, ens_cc_object *obj,
                                 ens_openmp_advance_fn **fn, ens_error *err)
{
    const ens_model_info *m = job->user_model;
    if (!m)
        return ens_fail(err, ENS_ERR_INTERNAL, "openmp: no model file in the job");
    int sizes[64];
    for (int i = 0; i < m->nsizes && i < 64; i++)
        sizes[i] = m->sizes[i].value;
    /* The properties modelgen gives a built-in model, so that the same
     * specialised loops serve it. */
    const int runtime_size = m->size_param != NULL;
    char prefix[1024];
    snprintf(prefix, sizeof prefix,
             "/* CPU loops for model %s (%s), compiled by ensol at run time. */\n"
             "#define ens_openmp_advance_contract ens_model_advance\n"
             "#define ens_openmp_advance_strict ens_model_advance\n"
             "#define ens_fail ens_model_fail\n"
             "#define ENS_MODEL_FILE_NVARS %d\n#define ENS_MODEL_FILE_NPARAMS %d\n"
             "#define ENS_MODEL_FILE_COMPONENT %d\n#define ENS_MODEL_FILE_COMMON %d\n",
             m->name, m->path, runtime_size ? 0 : m->default_nvars, m->nparams,
             m->component != NULL, runtime_size ? m->default_nvars : 0);
    char *rhs = ens_model_source(m, "file", sizes);
    char *source = rhs ? assemble(prefix, ens_openmp_source, rhs, suffix) : NULL;
    free(rhs);
    if (!source)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "openmp: out of memory");
    char flags[512];
    snprintf(flags, sizeof flags, "%s%s", ens_openmp_cpu_flags(),
             job->strict_fp ? " -ffp-contract=off -DENS_OPENMP_STRICT=1" : "");
    ens_status st = ens_cc_load(source, flags, obj, err);
    free(source);
    if (st != ENS_OK)
        return st;
    *fn = (ens_openmp_advance_fn *)ens_cc_symbol(obj, "ens_model_advance");
    if (!*fn) {
        ens_cc_unload(obj);
        return ens_fail(err, ENS_ERR_INTERNAL, "openmp: the compiled model has no entry point");
    }
    return ENS_OK;
}
