/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* A model file checked before a run on any backend: its right-hand side,
 * compiled for the host, evaluated once into a buffer with guard zones on
 * both sides. A write outside the state, or a derivative left unset, is
 * reported at the file's `rhs` line. Indices may depend on sizes and
 * parameters but not on state values (the maths does not branch on them),
 * so one evaluation sees every write. */
#ifndef ENS_BACKENDS_MODEL_PROBE_H
#define ENS_BACKENDS_MODEL_PROBE_H

#include "core/error.h"
#include "core/models.h"

/* nvars: the state's length in this run; params: the run's parameters
 * (nparams of them). Without a C compiler the check is skipped (a backend
 * that needs one says so itself). */
ens_status ens_model_probe(const ens_model_info *model, int nvars, const double *params,
                           ens_error *err);

#endif
