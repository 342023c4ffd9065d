/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Compiled-in backends, in the order `auto` tries them: that of
 * ENS_BACKEND_LIST (core/choices.h), the fastest kind of device first, the
 * CPU last. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"

/* ENS_BUILT_name: the backend's table and a comma where it is built in,
 * nothing otherwise. */
#ifdef ENSOL_HAVE_CUDA
#define ENS_BUILT_cuda &ens_backend_cuda,
#else
#define ENS_BUILT_cuda
#endif
#ifdef ENSOL_HAVE_OPENCL
#define ENS_BUILT_opencl &ens_backend_opencl,
#else
#define ENS_BUILT_opencl
#endif
#define ENS_BUILT_openmp &ens_backend_openmp,

#define ENS_BACKEND_ENTRY(id, name) ENS_BUILT_##name
static const ens_backend_ops *const backends[] = {ENS_BACKEND_LIST(ENS_BACKEND_ENTRY)};
#undef ENS_BACKEND_ENTRY

int ens_backends_count(void) { return (int)(sizeof backends / sizeof backends[0]); }

const ens_backend_ops *ens_backends_at(int index)
{
    return index >= 0 && index < ens_backends_count() ? backends[index] : NULL;
}

const ens_backend_ops *ens_backends_find(const char *name)
{
    for (int i = 0; name && i < ens_backends_count(); i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

int ens_device_name_matches(const char *name, const char *request)
{
    for (; *name; name++) {
        size_t i = 0;
        while (request[i] && name[i] &&
               tolower((unsigned char)name[i]) == tolower((unsigned char)request[i]))
            i++;
        if (!request[i])
            return 1;
    }
    return 0;
}

int ens_backend_count(void) { return ens_backends_count(); }

const char *ens_backend_name(int index)
{
    const ens_backend_ops *ops = ens_backends_at(index);
    return ops ? ops->name : NULL;
}

ens_status ens_backend_probe(const char *name, char *detail, size_t detail_size)
{
    char scratch[8];
    if (!detail || detail_size == 0) {
        detail = scratch;
        detail_size = sizeof scratch;
    }
    const ens_backend_ops *ops = ens_backends_find(name);
    if (ops)
        return ops->probe(detail, detail_size);
    if (ens_choice_find(ENS_CHOICE_BACKEND, name) >= 0) {
        snprintf(detail, detail_size, "not built into this ensol");
        return ENS_ERR_BACKEND_UNAVAILABLE;
    }
    snprintf(detail, detail_size, "unknown backend '%s'", name ? name : "(null)");
    return ENS_ERR_UNKNOWN_NAME;
}
