/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The CPU loops for a model file (openmp_model.h): the embedded loops of
 * openmp_kernels.c with the model's generated right-hand side in place of
 * the built-in ones, and its one entry in the model list. */
#include "backends/openmp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/model_program.h"

extern const char ens_openmp_source[];

#define NO_LANES " -DENS_OPENMP_NO_LANES=1"

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
    static const char before[] = "#define ens_openmp_advance_contract ens_model_advance\n"
                                 "#define ens_openmp_advance_strict ens_model_advance\n"
                                 "#define ens_fail ens_model_fail\n";
    char *source = ens_model_program(m, ens_openmp_source, before, suffix);
    if (!source)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "openmp: out of memory");
    /* Lane blocks first (openmp_lanes.h), unless the model has noise
     * inputs, which are drawn member by member. A right-hand side that is
     * not plain arithmetic on lanes (a branch on a value, a cast from a
     * scalar) does not compile so: it then runs member by member. */
    const int lanes = m->nnoise == 0;
    char flags[512];
    snprintf(flags, sizeof flags, "%s%s%s", ens_openmp_cpu_flags(),
             job->strict_fp ? " -ffp-contract=off -DENS_OPENMP_STRICT=1" : "",
             lanes ? "" : NO_LANES);
    ens_status st = ens_cc_load(source, flags, obj, err);
    if (st == ENS_ERR_INVALID_ARGUMENT && lanes && ens_cc_found()) {
        strncat(flags, NO_LANES, sizeof flags - strlen(flags) - 1);
        st = ens_cc_load(source, flags, obj, err);
    }
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
