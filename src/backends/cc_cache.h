/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* C source compiled at run time into a shared object, once per user: the
 * system C compiler (the one the build used, or $ENSOL_CC) run without a
 * shell, the object cached in $XDG_CACHE_HOME/ensol (or ~/.cache/ensol,
 * mode 0700) under a hash of (source, compiler, flags, ensol version),
 * written to a temporary name and renamed, so that many processes (MPI
 * ranks) may compile the same source at once. */
#ifndef ENS_BACKENDS_CC_CACHE_H
#define ENS_BACKENDS_CC_CACHE_H

#include <stddef.h>

#include "core/error.h"

/* The symbol every cached object defines: the hash it was built for, so
 * that an object is used only when its recorded hash matches. */
#define ENS_CC_HASH_SYMBOL "ens_cc_object_hash"

typedef struct ens_cc_object {
    void *handle;           /* from dlopen */
    double compile_seconds; /* < 0: taken from the cache */
} ens_cc_object;

/* Compile `source` with the build's flags and `extra_flags` (words
 * separated by spaces) into a shared object, or take it from the cache,
 * and load it. The compiler's first error is the message (FILE:LINE:
 * reason where the source has #line directives), ENS_ERR_INVALID_ARGUMENT;
 * no compiler: a message naming what to install, ENS_ERR_INVALID_ARGUMENT. */
ens_status ens_cc_load(const char *source, const char *extra_flags, ens_cc_object *out,
                       ens_error *err);
/* Whether the compiler ens_cc_load would run can be found (an executable
 * path, or a name on PATH). */
int ens_cc_found(void);
/* Look up a symbol of a loaded object; NULL when absent. */
void *ens_cc_symbol(const ens_cc_object *obj, const char *name);
void ens_cc_unload(ens_cc_object *obj);
/* A compiler's log to its first error, as FILE:LINE: message (the column
 * dropped); backends that compile through a runtime (OpenCL) use it too. */
void ens_cc_first_error(const char *log, char *msg, size_t size);

#endif
