/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* A backend's embedded kernel source with a model file in place of the
 * built-in models: the stand-in model list of backends/model_file/ gets
 * the model's properties, and its right-hand side (core/model_source.c)
 * goes where the built-in ones would be. The model's id there is
 * ENS_MODEL_FILE_ID. */
#ifndef ENS_BACKENDS_MODEL_PROGRAM_H
#define ENS_BACKENDS_MODEL_PROGRAM_H

#include "core/models.h"

#define ENS_MODEL_FILE_ID 0

/* `before`, the properties, `kernels` (embedded with backends/model_file/
 * as its model list) with the right-hand side in place, then `after`;
 * malloc'ed, NULL when out of memory. */
char *ens_model_program(const ens_model_info *model, const char *kernels, const char *before,
                        const char *after);

#endif
