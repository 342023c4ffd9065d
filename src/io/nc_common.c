/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* The rules the NetCDF files share; see nc_common.h. Also the writer's
 * public chunk rules, which the merge follows to lay out a merged file as
 * one process would write it. */
#define _POSIX_C_SOURCE 200809L

#include "io/nc_common.h"
#include "io/ncwriter.h"
#include "io/out_file.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netcdf.h>

/* Chunk shape targets: the write pattern is whole member blocks over all
 * times, the read pattern (xarray) usually per-time ensemble slices or
 * per-member series; a moderate chunk serves both. */
#define CHUNK_MEMBERS 1000
#define CHUNK_TIMES 50
#define CHUNK_MIN_BYTES (512u * 1024u)
#define CHUNK_MAX_BYTES (4u * 1024u * 1024u)

ens_status ens_nc_check(ens_error *err, int nc_status, const char *fmt, ...)
{
    if (nc_status == NC_NOERR)
        return ENS_OK;
    char what[ENS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ens_fail(err, nc_status == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO, "%s: %s",
                    what, nc_strerror(nc_status));
}

/* ---- HDF5 under NetCDF ----------------------------------------------------- */

/* HDF5's own calls, found in the HDF5 that NetCDF loaded (dlsym: linking
 * HDF5 here could bring a second, different HDF5 into the process). Their
 * C types as HDF5 1.10+ declares them: hid_t is int64_t, H5E_DEFAULT 0. */
typedef int (*hdf5_dont_atexit_fn)(void);
typedef int (*hdf5_set_auto_fn)(int64_t stack, void *func, void *client_data);

static void *hdf5_call(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

/* H5dont_atexit must come before HDF5 starts, so before any NetCDF call. */
static void library_init_once(void)
{
    hdf5_dont_atexit_fn dont_atexit = (hdf5_dont_atexit_fn)hdf5_call("H5dont_atexit");
    if (dont_atexit)
        dont_atexit();
}

void ens_nc_library_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, library_init_once);
}

void ens_nc_quiet_thread(void)
{
    ens_nc_library_init();
    hdf5_set_auto_fn set_auto = (hdf5_set_auto_fn)hdf5_call("H5Eset_auto2");
    if (set_auto)
        set_auto(0, NULL, NULL);
}

/* ---- chunks and their cache --------------------------------------------- */

/* Smallest prime >= n: HDF5 wants a prime number of chunk cache slots. */
static size_t next_prime(size_t n)
{
    if (n < 3)
        return 3;
    for (n |= 1;; n += 2) {
        size_t d = 3;
        while (d * d <= n && n % d)
            d += 2;
        if (d * d > n)
            return n;
    }
}

size_t ens_nc_cache_slots(size_t cache_bytes, size_t chunk_bytes)
{
    return next_prime(10 * (cache_bytes / (chunk_bytes ? chunk_bytes : 1)) + 1);
}

int ens_nc_set_cache(int ncid, int varid, size_t bytes, size_t chunk_bytes)
{
    return nc_set_var_chunk_cache(ncid, varid, bytes, ens_nc_cache_slots(bytes, chunk_bytes),
                                  1.0f);
}

size_t ens_nc_row_cache_bytes(int nd, const size_t *len, const size_t *chunk, size_t es,
                              int row_dim, size_t rows, size_t cap)
{
    size_t cb = es, per_row = 1;
    for (int i = 0; i < nd; i++) {
        cb *= chunk[i];
        if (i != row_dim)
            per_row *= (len[i] + chunk[i] - 1) / chunk[i];
    }
    const size_t bytes = rows * per_row * cb;
    if (cap < cb)
        cap = cb;
    return bytes > cap ? cap : bytes;
}

size_t ens_nc_member_chunk(long long members, size_t rows)
{
    const size_t values = (size_t)1 << 20, chunk = rows > 0 && rows < values ? values / rows : 1;
    return members > 0 && (size_t)members < chunk ? (size_t)members : chunk;
}

/* Chunk shape: about CHUNK_TIMES x CHUNK_MEMBERS [x nvars], then adjusted
 * so that a chunk holds CHUNK_MIN_BYTES..CHUNK_MAX_BYTES where the shape
 * allows. Too big: shrink members, then times, then the vector dimension.
 * Too small: grow times, then members. A chunk spans many times, so one
 * member's trajectory is read from few chunks although time comes first. */
void ens_nc_state_chunks(int disk_double, int vector, int nvars, long long members,
                         long long ntimes, size_t chunk[3])
{
    size_t es = disk_double ? 8 : 4;
    size_t M = (size_t)members, T = (size_t)ntimes;
    size_t V = vector ? (size_t)nvars : 1;
    size_t cm = M < CHUNK_MEMBERS ? M : CHUNK_MEMBERS;
    size_t ct = T < CHUNK_TIMES ? T : CHUNK_TIMES;
    size_t cv = V;

    if (cm * ct * cv * es > CHUNK_MAX_BYTES) {
        size_t fit = CHUNK_MAX_BYTES / (ct * cv * es);
        cm = fit > 0 ? fit : 1;
        if (cm * ct * cv * es > CHUNK_MAX_BYTES) {
            fit = CHUNK_MAX_BYTES / (cv * es);
            ct = fit > 0 ? fit : 1;
            if (ct * cv * es > CHUNK_MAX_BYTES)
                cv = CHUNK_MAX_BYTES / es;
        }
    } else if (cm * ct * cv * es < CHUNK_MIN_BYTES) {
        size_t want = (CHUNK_MIN_BYTES + cm * cv * es - 1) / (cm * cv * es);
        ct = want < T ? want : T;
        if (cm * ct * cv * es < CHUNK_MIN_BYTES) {
            want = (CHUNK_MIN_BYTES + ct * cv * es - 1) / (ct * cv * es);
            cm = want < M ? want : M;
        }
    }
    /* Even out the time chunks so that the last is not mostly empty (101
     * times in chunks of 66 store 132): the same number of chunks, or one
     * fewer, whichever keeps the chunk size within bounds. */
    const size_t row = cm * cv * es, nt = (T + ct - 1) / ct;
    for (size_t n = nt; n >= 1 && n + 1 >= nt; n--) {
        const size_t even = (T + n - 1) / n;
        if (even * row >= CHUNK_MIN_BYTES && even * row <= CHUNK_MAX_BYTES) {
            ct = even;
            break;
        }
    }
    chunk[0] = ct;
    chunk[1] = cm;
    chunk[2] = cv;
}

/* ---- text attributes and history ---------------------------------------- */

int ens_nc_get_text(int ncid, int varid, const char *name, char **out)
{
    nc_type type;
    size_t len;
    *out = NULL;
    if (nc_inq_att(ncid, varid, name, &type, &len) != NC_NOERR)
        return NC_NOERR;
    if (type == NC_CHAR) {
        char *s = malloc(len + 1);
        int st = s ? nc_get_att_text(ncid, varid, name, s) : NC_ENOMEM;
        if (st != NC_NOERR) {
            free(s);
            return st;
        }
        s[len] = '\0';
        *out = s;
    } else if (type == NC_STRING && len > 0) {
        char **s = calloc(len, sizeof *s);
        int st = s ? nc_get_att_string(ncid, varid, name, s) : NC_ENOMEM;
        if (st == NC_NOERR) {
            *out = strdup(s[0] ? s[0] : "");
            nc_free_string(len, s);
            st = *out ? NC_NOERR : NC_ENOMEM;
        }
        free(s);
        return st;
    }
    return NC_NOERR;
}

void ens_nc_utc_stamp(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "1970-01-01T00:00:00Z");
}

char *ens_nc_history_text(const char *stamp, const char *line, const char *older)
{
    const int more = older && older[0];
    size_t n = strlen(stamp) + 2 + strlen(line) + 1 + (more ? strlen(older) : 0) + 1;
    char *h = malloc(n);
    if (h)
        snprintf(h, n, "%s: %s%s%s", stamp, line, more ? "\n" : "", more ? older : "");
    return h;
}

/* ---- storage errors ------------------------------------------------------ */

ens_status ens_nc_check_storage(ens_error *err, int nc_status, const char *file,
                                const char *fmt, ...)
{
    if (nc_status == NC_NOERR)
        return ENS_OK;
    const int why = nc_status == NC_ENOMEM ? 0 : ens_out_storage_errno(file);
    char what[ENS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (why)
        return ens_fail(err, ENS_ERR_IO, "%s: %s", what, strerror(why));
    return ens_nc_check(err, nc_status, "%s", what);
}
