/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The named choices of a run, each defined by one list: integrators
 * (ENS_INTEGRATOR_LIST in kernels/ens_portable.h, which the kernels see
 * too), precisions, output modes and backends. The configuration, the
 * scheduler, the file's attributes, the CLI's help and every message take
 * their names from these lists (public queries: ens_choice_count/name).
 */
#ifndef ENS_CORE_CHOICES_H
#define ENS_CORE_CHOICES_H

#include <stddef.h>

#include "ens_portable.h"
#include "ensol/ensol.h"

#define ENS_PRECISION_LIST(X) \
    X(ENS_PRECISION_ID_DOUBLE, double) \
    X(ENS_PRECISION_ID_FLOAT, float)

#define ENS_OUTPUT_MODE_LIST(X) \
    X(ENS_OUTPUT_ID_TRAJECTORY, trajectory) /* every saved time */ \
    X(ENS_OUTPUT_ID_FINAL, final)           /* the last state only */ \
    X(ENS_OUTPUT_ID_STATS, stats)           /* ensemble statistics at every saved time */ \
    X(ENS_OUTPUT_ID_BOTH, both)             /* trajectories and statistics */

/* Every backend ensol knows, built in or not, in the order `auto` tries
 * them: the fastest kind of device first, the CPU last. */
#define ENS_BACKEND_LIST(X) \
    X(ENS_BACKEND_ID_CUDA, cuda) \
    X(ENS_BACKEND_ID_OPENCL, opencl) \
    X(ENS_BACKEND_ID_OPENMP, openmp)

#define ENS_CHOICE_ENUM_ENTRY(id, name) id,
typedef enum ens_precision_id {
    ENS_PRECISION_LIST(ENS_CHOICE_ENUM_ENTRY) ENS_PRECISION_COUNT
} ens_precision_id;
typedef enum ens_output_mode_id {
    ENS_OUTPUT_MODE_LIST(ENS_CHOICE_ENUM_ENTRY) ENS_OUTPUT_MODE_COUNT
} ens_output_mode_id;
typedef enum ens_backend_id { ENS_BACKEND_LIST(ENS_CHOICE_ENUM_ENTRY) ENS_BACKEND_COUNT } ens_backend_id;
#undef ENS_CHOICE_ENUM_ENTRY

/* The identifier of `name` among the choices of `kind`, or -1. */
int ens_choice_find(ens_choice kind, const char *name);
/* The names of `kind` joined by ", " ("euler, rk4, dopri5"), for messages. */
void ens_choice_join(ens_choice kind, char *out, size_t size);

#endif
