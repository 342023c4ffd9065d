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

/* Record a message in `err` (may be NULL) and return `status`. */
ens_status ens_fail(ens_error *err, ens_status status, const char *fmt, ...)
    ENS_PRINTF_LIKE(3, 4);

#endif
