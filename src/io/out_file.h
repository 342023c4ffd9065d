/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * How every output file of ensol is written (run files, restart files,
 * merged files, bench reports): the final name is only ever a regular
 * file, created or replaced; through a symbolic link the link's target is
 * written; the work goes to a partial file created exclusively next to
 * the target, so that concurrent runs never touch each other's, and the
 * last run to finish takes the final name with one atomic rename. Also
 * errno's reason for a failed write that NetCDF/HDF5 report only as
 * "HDF error".
 */
#ifndef ENS_IO_OUT_FILE_H
#define ENS_IO_OUT_FILE_H

#include "core/error.h"

/* The file that writing `path` replaces: path itself, or where its chain
 * of symbolic links ends (a dangling link: the name it points to), its
 * directory made absolute and free of links where it exists, so that one
 * file has one name. malloc'd; NULL when out of memory or the chain loops. */
char *ens_out_target(const char *path);

/* Why ensol may not write `path`: NULL when it names (through links) no
 * file or a regular one, else "is a FIFO, not a regular file" and the like. */
const char *ens_out_refusal(const char *path);

/* ENS_OK when path (through links) names no file or a regular one; else
 * ENS_ERR_INVALID_ARGUMENT, "'PATH': " and the refusal. */
ens_status ens_out_check(const char *path, ens_error *err);

/* TARGET.partial, the partial file's first choice of name; malloc'd. */
char *ens_out_partial_name(const char *target);

/* Create the partial file of `target` exclusively and empty: TARGET.partial,
 * or, when that exists (another run's work, or what a stopped run kept),
 * TARGET.XXXXXX.partial. 0 with *partial malloc'd, or errno. */
int ens_out_create_partial(const char *target, char **partial);

/* Rename a finished `partial` to `target`, which must still be absent or a
 * regular file; where that fails, remove partial and fail with ENS_ERR_IO. */
ens_status ens_out_commit(const char *partial, const char *target, ens_error *err);

/* Why a write to or close of `path` failed when the library in between
 * hides it: errno when it is a storage error (ENOSPC, EDQUOT, EIO, EFBIG,
 * EROFS), else ENOSPC when path's file system has no space left, else 0. */
int ens_out_storage_errno(const char *path);

#endif
