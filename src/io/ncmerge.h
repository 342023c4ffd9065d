/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Joins the pieces of an ensemble (the files MPI ranks write when they do
 * not share one, see ens_nc_spec.piece_members) into one file with the
 * layout of a single-process run: member-dimension variables concatenated
 * in member order, everything else from the piece that starts at member 0
 * (which alone carries the ensemble statistics). Written as OUTPUT.partial
 * and renamed when complete; removed on failure.
 */
#ifndef ENS_IO_NCMERGE_H
#define ENS_IO_NCMERGE_H

#include "core/error.h"

/* pieces: npieces paths, in any order. history: the command line, put
 * before the pieces' history. progress (may be NULL) is called as the data
 * is copied with the fraction done; a non-zero return stops the merge
 * (ENS_ERR_INTERRUPTED, no file left). Fails with ENS_ERR_INVALID_ARGUMENT
 * (naming the file and what is wrong) when the pieces do not form one
 * complete ensemble of one run, ENS_ERR_IO when a file cannot be read or
 * written. */
ens_status ens_nc_merge(const char *output, const char *const *pieces, int npieces,
                        const char *history, ens_merge_progress_fn progress, void *user,
                        ens_error *err);

#endif
