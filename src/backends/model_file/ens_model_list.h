/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The model list of CPU loops compiled at run time for one model file
 * (backends/openmp_model.c): one entry, its properties defined by the
 * source that openmp_model.c puts before the loops. Stands in for the
 * generated list of the built-in models when the loops are embedded. */
#define ENS_MODEL_LIST(X) \
    X(ENS_MODEL_FILE, file, ENS_MODEL_FILE_NVARS, ENS_MODEL_FILE_NPARAMS, \
      ENS_MODEL_FILE_COMPONENT, ENS_MODEL_FILE_COMMON)
