/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Error reporting inside the library: a status plus a message (one line,
 * except a device compiler's log, which is kept whole). */
#ifndef ENS_CORE_ERROR_H
#define ENS_CORE_ERROR_H

#include "ensol/ensol.h"

#define ENS_ERROR_MAX 8192

typedef struct ens_error {
    char msg[ENS_ERROR_MAX];
} ens_error;

#if defined(__GNUC__)
#define ENS_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define ENS_PRINTF_LIKE(f, a)
#endif

/* The one error style of the library: a function returns an ens_status;
 * a call that can fail is wrapped in ENS_CHECK where nothing needs undoing
 * (it returns the failure at once), or in ENS_TRY where the function has
 * one exit path: a local `ens_status st` and a label `done:` that releases
 * what was acquired and returns st. */
#define ENS_CHECK(call) \
    do { \
        const ens_status ens_check_st_ = (call); \
        if (ens_check_st_ != ENS_OK) \
            return ens_check_st_; \
    } while (0)
#define ENS_TRY(call) \
    do { \
        st = (call); \
        if (st != ENS_OK) \
            goto done; \
    } while (0)

/* Record a message in `err` (may be NULL) and return `status`. */
ens_status ens_fail(ens_error *err, ens_status status, const char *fmt, ...)
    ENS_PRINTF_LIKE(3, 4);

#endif
