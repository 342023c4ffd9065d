/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Ensemble statistics at each saved time: moments (count, mean, M2, min,
 * max) of each variable over the members that are ok, merged batch by
 * batch with Chan's formula.
 */
#ifndef ENS_HOST_ENSEMBLE_STATS_H
#define ENS_HOST_ENSEMBLE_STATS_H

#include "host/batch.h"

/* Merge the moments of the batch's current state into saved time t of
 * b->moments, over its ok members. The result does not depend on the
 * thread count. A member with a non-finite variable is left out of every
 * variable. */
ens_status ens_stats_accumulate(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                                const ens_slab *slab, long long t);

#endif
