/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* One output file per MPI rank: the pieces' names, and joining them. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "io/ncmerge.h"

int ens_has_parallel_io(void)
{
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    return 1;
#else
    return 0;
#endif
}

ens_status ens_piece_path(const char *path, int rank, char *out, size_t out_size)
{
    if (!path || !*path || rank < 0 || !out || out_size == 0)
        return ENS_ERR_INVALID_ARGUMENT;
    /* The rank goes before the extension, so that the pieces keep it
     * (run.nc: run.rank0003.nc) and a shell glob lists them in rank order. */
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && dot > (slash ? slash + 1 : path) ? (size_t)(dot - path) : strlen(path);
    int n = snprintf(out, out_size, "%.*s.rank%04d%s", (int)stem, path, rank, path + stem);
    return n < 0 || (size_t)n >= out_size ? ENS_ERR_INVALID_ARGUMENT : ENS_OK;
}

ens_status ens_merge_files(const char *output, const char *const *pieces, int npieces,
                           const char *history, ens_merge_progress_fn progress, void *user,
                           char *error, size_t error_size)
{
    ens_error err = {{0}};
    ens_status st = ens_nc_merge(output, pieces, npieces, history, progress, user, &err);
    if (error && error_size > 0)
        snprintf(error, error_size, "%s", st == ENS_OK ? "" : err.msg);
    return st;
}
