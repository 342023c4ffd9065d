/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * What the NetCDF writer, reader and merge share: a NetCDF status turned
 * into an ens_status with the failing step named, the chunk-cache rule,
 * whole text attributes, the "stamp: command" lines of history, and
 * storage errors that NetCDF hides. How output files are named, created
 * and renamed is io/out_file.h.
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

/* Bytes of a chunk cache that holds `rows` rows of chunks along dimension
 * row_dim of nd dimensions (lengths len, chunk shape chunk, es bytes a
 * value), a row being every chunk across the other dimensions; at most
 * `cap`, but never less than one chunk. */
size_t ens_nc_row_cache_bytes(int nd, const size_t *len, const size_t *chunk, size_t es,
                              int row_dim, size_t rows, size_t cap);

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

/* Before the first NetCDF call of the process: HDF5 is told not to close
 * its files at exit (H5dont_atexit). A file whose close failed (a full
 * disk) stays open in HDF5, and HDF5 crashes closing it at exit; ensol
 * removes such a file itself. Once per process; where HDF5 cannot be
 * found, nothing. */
void ens_nc_library_init(void);

/* HDF5 prints its error stack to stderr from every thread but the one
 * NetCDF initialised it on; a thread that calls NetCDF calls this first,
 * so that failures are reported only as ensol's one line. */
void ens_nc_quiet_thread(void);

/* As ens_nc_check, but where storage failed under NetCDF (a full disk,
 * a quota, an I/O error: HDF5 says only "HDF error"), the reason is
 * errno's text (ens_out_storage_errno of `file`). */
ens_status ens_nc_check_storage(ens_error *err, int nc_status, const char *file,
                                const char *fmt, ...) ENS_PRINTF_LIKE(4, 5);

#endif
