/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Restart files: every member's final state, exact, in double, and for
 * DOPRI5 each member's step state, so that a run continued from the file
 * goes on as the whole run would have; and resuming from such a file.
 */
#ifndef ENS_HOST_RESTART_H
#define ENS_HOST_RESTART_H

#include "host/batch.h"
#include "io/ncwriter.h"

/* The restart file's description from the run's file: one saved time at
 * *end_time, double, no compression, the step state where the plan keeps it. */
ens_nc_spec ens_restart_spec(const ens_config *cfg, const ens_plan *plan,
                             const ens_nc_spec *run_file, const char *path,
                             const double *end_time);

/* The batch's final states (and step state) into the restart file. */
ens_status ens_restart_write(const ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                             const ens_slab *slab, ens_nc_writer *restart, ens_error *err);

/* After upload: the batch's members take the initial-state file's step
 * state (plan->resume_steps >= 0 only). */
ens_status ens_restart_resume(ens_config *cfg, const ens_plan *plan, ens_batch_buffers *b,
                              const ens_slab *slab);

#endif
