/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The right-hand side of a model file compiled at run time: the marker
 * below is replaced with its generated source (core/model_source.c) by
 * backends/openmp_model.c, once for each precision that includes it. */
/* @ens_model_file_source@ */
