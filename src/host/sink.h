/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * A batch's results on their way out (a slab), and where they go (a sink:
 * the NetCDF file, the caller's memory or the caller's callback).
 */
#ifndef ENS_HOST_SINK_H
#define ENS_HOST_SINK_H

#include "core/error.h"

typedef struct ens_slab {
    long long m0, count;
    long long times;     /* saved times filled */
    void *saved;         /* (member, time, var), compute precision; NULL without trajectory */
    double *params;      /* [param * count + i] */
    ens_member_stats members; /* each member's status, steps and failure time */
} ens_slab;

typedef struct ens_sink {
    ens_status (*write)(void *self, const ens_slab *slab, int states_double, ens_error *err);
    void *self;
} ens_sink;

#endif
