/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Names of the run's choices, from the lists of core/choices.h. */
#include "core/choices.h"

#include <stdio.h>
#include <string.h>

#define ENS_CHOICE_NAME_ENTRY(id, name) #name,
static const char *const integrators[] = {ENS_INTEGRATOR_LIST(ENS_CHOICE_NAME_ENTRY)};
static const char *const precisions[] = {ENS_PRECISION_LIST(ENS_CHOICE_NAME_ENTRY)};
static const char *const output_modes[] = {ENS_OUTPUT_MODE_LIST(ENS_CHOICE_NAME_ENTRY)};
static const char *const backends[] = {ENS_BACKEND_LIST(ENS_CHOICE_NAME_ENTRY)};
#undef ENS_CHOICE_NAME_ENTRY

static const char *const *names_of(ens_choice kind, int *count)
{
    switch (kind) {
    case ENS_CHOICE_INTEGRATOR: *count = ENS_INTEGRATOR_COUNT; return integrators;
    case ENS_CHOICE_PRECISION: *count = ENS_PRECISION_COUNT; return precisions;
    case ENS_CHOICE_OUTPUT_MODE: *count = ENS_OUTPUT_MODE_COUNT; return output_modes;
    case ENS_CHOICE_BACKEND: *count = ENS_BACKEND_COUNT; return backends;
    }
    *count = 0;
    return NULL;
}

int ens_choice_count(ens_choice kind)
{
    int count;
    names_of(kind, &count);
    return count;
}

const char *ens_choice_name(ens_choice kind, int index)
{
    int count;
    const char *const *names = names_of(kind, &count);
    return index >= 0 && index < count ? names[index] : NULL;
}

int ens_choice_find(ens_choice kind, const char *name)
{
    int count;
    const char *const *names = names_of(kind, &count);
    for (int i = 0; name && i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

void ens_choice_join(ens_choice kind, char *out, size_t size)
{
    int count;
    const char *const *names = names_of(kind, &count);
    size_t used = 0;
    if (size > 0)
        out[0] = '\0';
    for (int i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
}
