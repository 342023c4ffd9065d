/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Each member's outcome: fixed-step members checked at every save (not
 * finite, or beyond the blow-up bound: failed, kept at their last good
 * state), adaptive members' results from the backend, and the run's tally
 * of members per status and steps.
 */
#ifndef ENS_HOST_MEMBERS_H
#define ENS_HOST_MEMBERS_H

#include "host/batch.h"

typedef struct ens_member_tally {
    long long by_status[ENS_MEMBER_STATUS_KINDS];
    long long accepted, rejected;
} ens_member_tally;

/* Every member of the slab ok, with no failure time. */
void ens_members_reset(ens_slab *slab);

/* With fixed steps, at each save: a member whose state is not finite or
 * beyond the blow-up bound fails, with the time of this save; a failed
 * member's state (as saved, reduced and written) stays at its last good
 * state, kept in b->last_good. */
void ens_members_check(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                       ens_slab *slab, double time);

/* The first check of a batch, at its start: as ens_members_check, the
 * last good state being the initial one. */
void ens_members_start(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                       ens_slab *slab, double time);

/* Each member's outcome into the slab and the tally: from the backend for
 * an adaptive integrator; with fixed steps, `steps` accepted steps and the
 * status set by the checks. */
ens_status ens_members_results(ens_config *cfg, const ens_plan *plan, ens_slab *slab,
                               long long steps, ens_member_tally *tally);

#endif
