/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * What the NetCDF writer, reader and merge share: a NetCDF status turned
 * into an ens_status with the failing step named, the chunk-cache rule,
 * whole text attributes, the "stamp: command" lines of history, and the
 * PATH.partial handling (its name, the create probe, the final rename).
 * The chunk shape itself is public: ens_nc_state_chunks (ncwriter.h).
 */
#ifndef ENS_IO_NC_COMMON_H
#define ENS_IO_NC_COMMON_H

#include <stddef.h>

#include "core/error.h"

/* ENS_OK when nc_status is NC_NOERR; else a failure with the message
 * formatted from fmt, then ": " and NetCDF's text for the status:
 * ENS_ERR_OUT_OF_MEMORY for NC_ENOMEM, ENS_ERR_IO for every other. */
ens_status ens_nc_check(ens_error *err, int nc_status, const char *fmt, ...)
    ENS_PRINTF_LIKE(3, 4);

/* Bytes of a chunk cache that holds `rows` rows of chunks along the first
 * of nd dimensions (lengths len, chunk shape chunk, es bytes a value), a
 * row being every chunk across the other dimensions; at most `cap`, but
 * never less than one chunk. */
size_t ens_nc_row_cache_bytes(int nd, const size_t *len, const size_t *chunk, size_t es,
                              size_t rows, size_t cap);

/* Give variable varid a chunk cache of `bytes` for chunks of chunk_bytes:
 * a prime count of slots (ens_nc_cache_slots), fully written chunks
 * evicted first. Returns a NetCDF status. */
int ens_nc_set_cache(int ncid, int varid, size_t bytes, size_t chunk_bytes);

/* A text attribute (NC_CHAR, or the first of NC_STRING), whole, in
 * malloc'd memory: *out NULL when absent or of another type. Returns a
 * NetCDF status (NC_NOERR when absent). */
int ens_nc_get_text(int ncid, int varid, const char *name, char **out);

/* The time now, UTC, ISO 8601: "2024-05-01T12:00:00Z". */
void ens_nc_utc_stamp(char *buf, size_t size);

/* A history attribute as NCO and CDO write it: "STAMP: LINE", then
 * "\n" and the older history when there is one. malloc'd; NULL when out
 * of memory. */
char *ens_nc_history_text(const char *stamp, const char *line, const char *older);

/* PATH.partial, the name a file has until it is complete; malloc'd. */
char *ens_nc_partial_name(const char *path);

/* Create `path` empty with stdio: 0, or errno where it cannot be. HDF5
 * reports an unwritable place only as "HDF error"; errno says why
 * (permission, missing directory). */
int ens_nc_probe_create(const char *path);

/* Rename a finished `partial` to `path`; where that fails, remove it and
 * fail with ENS_ERR_IO. */
ens_status ens_nc_commit_partial(const char *partial, const char *path, ens_error *err);

#endif
