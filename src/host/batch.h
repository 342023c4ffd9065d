/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * A batch's host buffers, and moving member states between them: initial
 * states and parameters in (from the configuration or the initial-state
 * file), saved times out into the slab the sink receives.
 */
#ifndef ENS_HOST_BATCH_H
#define ENS_HOST_BATCH_H

#include "host/plan.h"
#include "host/sink.h"
#include "stats/moments.h"

/* Below this many members a host loop runs on one thread: waking a team
 * costs more than the loop. */
#define ENS_PARALLEL_MIN_MEMBERS 4096

typedef struct ens_batch_buffers {
    void *state;          /* SoA, compute precision: upload source, download target */
    void *params;         /* SoA, compute precision */
    ens_slab slabs[2];    /* alternate: one filling while the other is written */
    ens_moments *moments; /* [time * nvars + var], all members so far */
    double *from_file;    /* SoA states then parameters read from the initial-state file */
    double *final;        /* (member, var) final states for the restart file */
    double *steps_real;   /* DOPRI5 step state rows, to or from a restart file */
    long long *steps_int;
    void *last_good;      /* SoA, compute precision: fixed-step members' last good state */
} ens_batch_buffers;

/* All of a run's buffers, sized for the plan's batch; on failure none. */
ens_status ens_batch_alloc(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b);
void ens_batch_free(ens_batch_buffers *b);

/* The slab's members' initial states and parameters into b->state and
 * b->params (and the slab's parameters, in double). */
ens_status ens_batch_fill(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                          ens_slab *slab);

/* Copy the batch's current state (SoA) into saved time t of the slab. */
void ens_batch_save_time(const ens_config *cfg, const ens_plan *plan, const ens_batch_buffers *b,
                         ens_slab *slab, long long t);

/* Value i of a buffer of the plan's precision, in double. */
static inline double ens_batch_real(const ens_plan *plan, const void *buf, size_t i)
{
    return plan->real_size == sizeof(float) ? (double)((const float *)buf)[i]
                                            : ((const double *)buf)[i];
}

#endif
