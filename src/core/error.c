/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Error messages and status texts of the library (see error.h). */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

ens_status ens_fail(ens_error *err, ens_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *ens_status_string(ens_status status)
{
    switch (status) {
    case ENS_OK: return "success";
    case ENS_ERR_INVALID_ARGUMENT: return "invalid argument";
    case ENS_ERR_UNKNOWN_NAME: return "unknown name";
    case ENS_ERR_BACKEND_UNAVAILABLE: return "backend unavailable";
    case ENS_ERR_OUT_OF_MEMORY: return "out of memory";
    case ENS_ERR_IO: return "input/output error";
    case ENS_ERR_BACKEND: return "backend error";
    case ENS_ERR_INTERRUPTED: return "interrupted";
    case ENS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *ens_version(void) { return ENSOL_VERSION_STRING; }
