/*
 * NetCDF-4 writer for ensemble output; see ncwriter.h for the layout.
 *
 * Every NetCDF call is checked. A failure is reported as ENS_ERR_IO with a
 * one-line message naming the file and nc_strerror's text.
 */
#include "io/ncwriter.h"

#include "stats/moments.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netcdf.h>
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
#include <mpi.h>
#include <netcdf_par.h>
#endif

#ifndef ENSOL_VERSION
#define ENSOL_VERSION_TEXT ens_version()
#else
#define ENSOL_VERSION_TEXT ENSOL_VERSION
#endif

/* Chunk shape targets: the write pattern is whole member blocks over all
 * times, the read pattern (xarray) usually per-time ensemble slices or
 * per-member series; a moderate chunk serves both. */
#define CHUNK_MEMBERS 1000
#define CHUNK_TIMES 50
#define CHUNK_MIN_BYTES (512u * 1024u)
#define CHUNK_MAX_BYTES (4u * 1024u * 1024u)
/* Members per block when writing the member coordinate. */
#define COORD_BLOCK 65536

struct ens_nc_writer {
    int ncid;
    char *path;      /* final name */
    char *partial;   /* PATH.partial, the name while writing */
    const ens_model_info *model;
    int vector;      /* one vector variable instead of one per state var */
    int nvars;
    long long first;  /* global index of the file's first member */
    long long members; /* members in this file */
    long long ntimes;
    int disk_double;
    int write_states;
    int write_stats;
    int nstate;                  /* NetCDF state variables: nvars or 1 */
    int state_id[4];             /* scalar models have at most 4 variables */
    int stats_id[4][4];          /* [state variable][mean, std, min, max] */
    int param_id[ENS_MAX_PARAMS]; /* -1 for shared parameters */
    int status_id, accepted_id, rejected_id, failure_id; /* -1 when not written */
    int steps_real_id, steps_int_id; /* step state of a restart file; -1: none */
    size_t chunk[3];             /* member, time, [vector_dim] */
    size_t cache_bytes;          /* current per-variable chunk cache */
    size_t cache_limit;          /* its upper bound */
    void *scratch;               /* one de-interleaved slab (scalar models) */
    size_t scratch_bytes;
    unsigned long long bytes_written;
    int parallel;    /* one file of all MPI ranks (spec->parallel) */
    int rank;        /* this process's rank; 0 without MPI */
};

static const char *or_empty(const char *s) { return s ? s : ""; }

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void iso8601_utc(char *buf, size_t size)
{
    /* gmtime_r is POSIX, not C11; files are opened from one thread. */
    time_t now = time(NULL);
    const struct tm *tm = gmtime(&now);
    if (!tm || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", tm))
        snprintf(buf, size, "1970-01-01T00:00:00Z");
}

/* ---- define helpers: each returns a NetCDF status ---------------------- */

static int put_text(int ncid, int varid, const char *name, const char *value)
{
    return nc_put_att_text(ncid, varid, name, strlen(value), value);
}

static int put_double(int ncid, int varid, const char *name, double value)
{
    return nc_put_att_double(ncid, varid, name, NC_DOUBLE, 1, &value);
}

static int put_int64(int ncid, int varid, const char *name, long long value)
{
    return nc_put_att_longlong(ncid, varid, name, NC_INT64, 1, &value);
}

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

/* Chunk shape: about CHUNK_MEMBERS x CHUNK_TIMES [x nvars], then adjusted
 * so that a chunk holds CHUNK_MIN_BYTES..CHUNK_MAX_BYTES where the shape
 * allows. Too big: shrink members, then times, then the vector dimension.
 * Too small: grow times, then members. */
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
    chunk[0] = cm;
    chunk[1] = ct;
    chunk[2] = cv;
}

static size_t chunk_bytes(const ens_nc_writer *w)
{
    return w->chunk[0] * w->chunk[1] * w->chunk[2] * (w->disk_double ? 8 : 4);
}

/* Make each state variable's chunk cache hold every chunk a write of
 * `count` members touches (a block that is not chunk-aligned touches one
 * more member row), so a chunk shared by two batches stays in memory
 * instead of being written half-filled and read back. Preemption 1 evicts
 * fully written chunks first. */
static int set_cache(ens_nc_writer *w, long long count)
{
    size_t cb = chunk_bytes(w);
    size_t rows = ((size_t)count + w->chunk[0] - 1) / w->chunk[0] + 1;
    size_t V = w->vector ? (size_t)w->nvars : 1; /* per variable */
    size_t per_row = ((size_t)w->ntimes + w->chunk[1] - 1) / w->chunk[1] *
                     ((V + w->chunk[2] - 1) / w->chunk[2]);
    size_t bytes = rows * per_row * cb;
    if (bytes > w->cache_limit)
        bytes = w->cache_limit > cb ? w->cache_limit : cb;
    if (bytes <= w->cache_bytes)
        return NC_NOERR;
    size_t slots = ens_nc_cache_slots(bytes, cb);
    for (int i = 0; i < w->nstate; i++) {
        int st = nc_set_var_chunk_cache(w->ncid, w->state_id[i], bytes, slots, 1.0f);
        if (st != NC_NOERR)
            return st;
    }
    w->cache_bytes = bytes;
    return NC_NOERR;
}

/* Global attributes: CF conventions and the run's provenance. */
static int define_globals(const ens_nc_writer *w, const ens_nc_spec *s)
{
    const ens_model_info *m = s->model;
    int ncid = w->ncid, st;
    char buf[1024], stamp[32];

#define TRY(call) do { if ((st = (call)) != NC_NOERR) return st; } while (0)
    iso8601_utc(stamp, sizeof stamp);
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    /* Every rank must define the same attributes: rank 0's clock. */
    if (w->parallel)
        MPI_Bcast(stamp, (int)sizeof stamp, MPI_CHAR, 0, MPI_COMM_WORLD);
#endif
    TRY(put_text(ncid, NC_GLOBAL, "Conventions", "CF-1.8"));
    snprintf(buf, sizeof buf, "ensol %s ensemble, %lld members", m->name, s->members);
    TRY(put_text(ncid, NC_GLOBAL, "title", buf));
    snprintf(buf, sizeof buf, "ensol %s", ENSOL_VERSION_TEXT);
    TRY(put_text(ncid, NC_GLOBAL, "source", buf));

    /* history: "<timestamp>: <command line>", as NCO and CDO write it. */
    const char *hist = s->history && s->history[0] ? s->history : "ensol";
    size_t hlen = strlen(stamp) + 2 + strlen(hist) + 1;
    char *h = malloc(hlen);
    if (!h)
        return NC_ENOMEM;
    snprintf(h, hlen, "%s: %s", stamp, hist);
    st = put_text(ncid, NC_GLOBAL, "history", h);
    free(h);
    if (st != NC_NOERR)
        return st;

    TRY(put_text(ncid, NC_GLOBAL, "date_created", stamp));
    if (s->piece_members > 0) {
        TRY(put_int64(ncid, NC_GLOBAL, ENS_NC_PIECE_FIRST, s->first_member));
        TRY(put_int64(ncid, NC_GLOBAL, ENS_NC_PIECE_TOTAL, s->members));
    }
    TRY(put_text(ncid, NC_GLOBAL, "model", m->name));
    TRY(put_text(ncid, NC_GLOBAL, "model_title", or_empty(m->title)));
    TRY(put_text(ncid, NC_GLOBAL, "integrator", or_empty(s->integrator)));
    TRY(put_double(ncid, NC_GLOBAL, "dt", s->dt));
    TRY(put_int64(ncid, NC_GLOBAL, "steps", s->steps));
    TRY(put_int64(ncid, NC_GLOBAL, "save_every", s->save_every));
    TRY(put_text(ncid, NC_GLOBAL, "output_mode", or_empty(s->output_mode)));
    TRY(put_text(ncid, NC_GLOBAL, "precision", or_empty(s->precision)));
    TRY(put_text(ncid, NC_GLOBAL, "output_type", s->disk_double ? "double" : "float"));
    TRY(put_text(ncid, NC_GLOBAL, "backend", or_empty(s->backend)));
    TRY(put_text(ncid, NC_GLOBAL, "device", or_empty(s->device)));
    unsigned long long seed = s->seed;
    TRY(nc_put_att_ulonglong(ncid, NC_GLOBAL, "seed", NC_UINT64, 1, &seed));
    TRY(put_double(ncid, NC_GLOBAL, "perturbation_stddev", s->perturbation));
    if (s->base_state)
        TRY(nc_put_att_double(ncid, NC_GLOBAL, "base_state", NC_DOUBLE,
                              (size_t)s->nvars, s->base_state));
    if (s->param_variation && s->param_variation[0])
        TRY(put_text(ncid, NC_GLOBAL, "parameter_variation", s->param_variation));

    /* Shared parameters: one numeric attribute each for programs, and one
     * line for people reading ncdump -h. */
    size_t used = 0;
    buf[0] = '\0';
    for (int p = 0; p < m->nparams; p++) {
        if (s->param_varies[p])
            continue;
        char name[64];
        snprintf(name, sizeof name, "param_%s", m->param_names[p]);
        TRY(put_double(ncid, NC_GLOBAL, name, s->param_values[p]));
        if (used < sizeof buf) {
            int n = snprintf(buf + used, sizeof buf - used, "%s%s=%g", used ? " " : "",
                             m->param_names[p], s->param_values[p]);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (buf[0])
        TRY(put_text(ncid, NC_GLOBAL, "parameters", buf));
#undef TRY
    return NC_NOERR;
}

/* Write the member coordinate, first..first+members-1, in blocks, so huge
 * ensembles need no huge temporary array. */
static int write_member_coord(int ncid, int varid, long long first, long long members)
{
    long long *block = malloc(sizeof *block * COORD_BLOCK);
    if (!block)
        return NC_ENOMEM;
    int st = NC_NOERR;
    for (long long m0 = 0; m0 < members && st == NC_NOERR; m0 += COORD_BLOCK) {
        long long n = members - m0 < COORD_BLOCK ? members - m0 : COORD_BLOCK;
        for (long long i = 0; i < n; i++)
            block[i] = first + m0 + i;
        size_t start = (size_t)m0, cnt = (size_t)n;
        st = nc_put_vara_longlong(ncid, varid, &start, &cnt, block);
    }
    free(block);
    return st;
}

/* Dimensions, variables and attributes; then the coordinate values.
 * `what` receives the step that failed, for the message. */
/* Per-member outcome: status with CF flags, and an adaptive integrator's
 * step counters, failure times and settings. */
static int define_member_vars(ens_nc_writer *w, const ens_nc_spec *s, int dim_member)
{
    static const signed char flags[5] = {0, 1, 2, 3, 4}; /* enum ens_member_status */
    const ens_nc_adaptive *a = s->adaptive;
    const double nan = NAN;
    int ncid = w->ncid, st;
    w->status_id = w->accepted_id = w->rejected_id = w->failure_id = -1;
#define TRY(call) do { if ((st = (call)) != NC_NOERR) return st; } while (0)
    if (s->write_member_status) {
        TRY(nc_def_var(ncid, "status", NC_BYTE, 1, &dim_member, &w->status_id));
        TRY(put_text(ncid, w->status_id, "long_name", "integration status of the member"));
        TRY(nc_put_att_schar(ncid, w->status_id, "flag_values", NC_BYTE, 5, flags));
        TRY(put_text(ncid, w->status_id, "flag_meanings",
                     "ok non_finite_state step_size_below_dt_min max_steps_exceeded "
                     "blowup_bound_exceeded"));
        TRY(nc_def_var(ncid, "failure_time", NC_DOUBLE, 1, &dim_member, &w->failure_id));
        TRY(put_text(ncid, w->failure_id, "long_name", "model time at which the member stopped"));
        TRY(put_text(ncid, w->failure_id, "units", or_empty(s->model->time_units)));
        TRY(nc_put_att_double(ncid, w->failure_id, "_FillValue", NC_DOUBLE, 1, &nan));
    }
    w->steps_real_id = w->steps_int_id = -1;
    if (a && s->write_steps) {
        int dims[2] = {dim_member, -1};
        TRY(nc_def_dim(ncid, "dopri5_real_row", (size_t)ENS_DOPRI5_REAL_ROWS(s->nvars), &dims[1]));
        TRY(nc_def_var(ncid, ENS_NC_STEPS_REAL, NC_DOUBLE, 2, dims, &w->steps_real_id));
        TRY(put_text(ncid, w->steps_real_id, "long_name",
                     "dopri5 step state: state, derivative, dense output, times, step sizes"));
        TRY(nc_def_dim(ncid, "dopri5_int_row", ENS_DOPRI5_INT_ROWS, &dims[1]));
        TRY(nc_def_var(ncid, ENS_NC_STEPS_INT, NC_INT64, 2, dims, &w->steps_int_id));
        TRY(put_text(ncid, w->steps_int_id, "long_name",
                     "dopri5 step counters: accepted, rejected, status"));
        TRY(put_int64(ncid, NC_GLOBAL, ENS_NC_STEPS_DONE, s->steps_done));
    }
    if (!a)
        return NC_NOERR;
    TRY(nc_def_var(ncid, "accepted_steps", NC_INT64, 1, &dim_member, &w->accepted_id));
    TRY(put_text(ncid, w->accepted_id, "long_name", "accepted integration steps"));
    TRY(nc_def_var(ncid, "rejected_steps", NC_INT64, 1, &dim_member, &w->rejected_id));
    TRY(put_text(ncid, w->rejected_id, "long_name", "rejected integration steps"));
    /* Tolerances: one number when the same for every variable. */
    int same_r = 1, same_a = 1;
    for (int v = 1; v < s->nvars; v++) {
        same_r &= a->rtol[v] == a->rtol[0];
        same_a &= a->atol[v] == a->atol[0];
    }
    TRY(nc_put_att_double(ncid, NC_GLOBAL, "rtol", NC_DOUBLE, same_r ? 1 : (size_t)s->nvars,
                          a->rtol));
    TRY(nc_put_att_double(ncid, NC_GLOBAL, "atol", NC_DOUBLE, same_a ? 1 : (size_t)s->nvars,
                          a->atol));
    TRY(put_double(ncid, NC_GLOBAL, "dt_min", a->dt_min));
    if (a->dt_max > 0)
        TRY(put_double(ncid, NC_GLOBAL, "dt_max", a->dt_max));
    TRY(put_int64(ncid, NC_GLOBAL, "max_steps", a->max_steps));
#undef TRY
    return NC_NOERR;
}

static int define_file(ens_nc_writer *w, const ens_nc_spec *s, const char **what)
{
    const ens_model_info *m = s->model;
    int ncid = w->ncid, st;
    int dim_member, dim_time, dim_vec = -1, var_member, var_time, var_vec = -1;

#define TRY(call, step) do { *what = (step); if ((st = (call)) != NC_NOERR) return st; } while (0)
    TRY(nc_def_dim(ncid, "member", (size_t)w->members, &dim_member), "dimension member");
    TRY(nc_def_dim(ncid, "time", (size_t)s->ntimes, &dim_time), "dimension time");
    if (w->vector)
        TRY(nc_def_dim(ncid, m->vector_dim, (size_t)s->nvars, &dim_vec), "vector dimension");

    TRY(nc_def_var(ncid, "member", NC_INT64, 1, &dim_member, &var_member), "variable member");
    TRY(put_text(ncid, var_member, "long_name", "ensemble member"), "attributes of member");
    TRY(put_text(ncid, var_member, "standard_name", "realization"), "attributes of member");

    /* Model time is not a calendar time: no "since" units, so readers do
     * not try to decode it as dates. */
    TRY(nc_def_var(ncid, "time", NC_DOUBLE, 1, &dim_time, &var_time), "variable time");
    TRY(put_text(ncid, var_time, "long_name", "model time"), "attributes of time");
    TRY(put_text(ncid, var_time, "units", or_empty(m->time_units)), "attributes of time");
    TRY(put_text(ncid, var_time, "axis", "T"), "attributes of time");

    if (w->vector) {
        TRY(nc_def_var(ncid, m->vector_dim, NC_INT, 1, &dim_vec, &var_vec), "vector coordinate");
        TRY(put_text(ncid, var_vec, "long_name", "variable index"), "vector coordinate");
    }

    nc_type type = s->disk_double ? NC_DOUBLE : NC_FLOAT;
    int dims[3] = {dim_member, dim_time, dim_vec};
    for (int v = 0; w->write_states && v < w->nstate; v++) {
        const char *name = w->vector ? m->vector_name : m->var_names[v];
        const char *lname = w->vector ? m->vector_long_name : m->var_long_names[v];
        *what = name;
        if ((st = nc_def_var(ncid, name, type, w->vector ? 3 : 2, dims, &w->state_id[v])) ||
            (st = nc_def_var_chunking(ncid, w->state_id[v], NC_CHUNKED, w->chunk)) ||
            (st = put_text(ncid, w->state_id[v], "long_name", or_empty(lname))) ||
            (st = put_text(ncid, w->state_id[v], "units", or_empty(m->units))))
            return st;
        if (s->deflate_level > 0 &&
            (st = nc_def_var_deflate(ncid, w->state_id[v], 1, 1, s->deflate_level)))
            return st;
        if (s->quantize_bits > 0 &&
            (st = nc_def_var_quantize(ncid, w->state_id[v], NC_QUANTIZE_BITROUND,
                                      s->quantize_bits)))
            return st;
    }
    /* Cache for a chunk-row-sized batch now; write_batch grows it when it
     * sees bigger batches. */
    if (w->write_states)
        TRY(set_cache(w, (long long)w->chunk[0]), "chunk cache");

    /* Statistics over the member axis, with CF cell methods. */
    static const char *const stat_suffix[4] = {"mean", "std", "min", "max"};
    static const char *const stat_words[4] = {"mean", "standard deviation", "minimum",
                                              "maximum"};
    static const char *const stat_method[4] = {"member: mean", "member: standard_deviation",
                                               "member: minimum", "member: maximum"};
    int stat_dims[2] = {dim_time, dim_vec};
    for (int v = 0; w->write_stats && v < w->nstate; v++) {
        const char *base = w->vector ? m->vector_name : m->var_names[v];
        const char *lname = w->vector ? m->vector_long_name : m->var_long_names[v];
        for (int k = 0; k < 4; k++) {
            char name[64], long_name[160];
            snprintf(name, sizeof name, "%s_%s", base, stat_suffix[k]);
            snprintf(long_name, sizeof long_name, "ensemble %s of %s", stat_words[k],
                     or_empty(lname));
            *what = "statistics variable";
            if ((st = nc_def_var(ncid, name, NC_DOUBLE, w->vector ? 2 : 1, stat_dims,
                                 &w->stats_id[v][k])) ||
                (st = put_text(ncid, w->stats_id[v][k], "long_name", long_name)) ||
                (st = put_text(ncid, w->stats_id[v][k], "units", or_empty(m->units))) ||
                (st = put_text(ncid, w->stats_id[v][k], "cell_methods", stat_method[k])))
                return st;
        }
    }

    for (int p = 0; p < m->nparams; p++) {
        w->param_id[p] = -1;
        if (!s->param_varies[p])
            continue;
        *what = m->param_names[p];
        if ((st = nc_def_var(ncid, m->param_names[p], NC_DOUBLE, 1, &dim_member,
                             &w->param_id[p])) ||
            (st = put_text(ncid, w->param_id[p], "long_name", or_empty(m->param_long_names[p]))))
            return st;
    }

    TRY(define_member_vars(w, s, dim_member), "member status");
    TRY(define_globals(w, s), "global attributes");
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    /* Collective access for every variable: writes to compressed variables
     * must be collective, and each rank then makes the same calls (ranks
     * with fewer batches make zero-size ones). */
    if (w->parallel) {
        int nvarids = 0;
        TRY(nc_inq_nvars(ncid, &nvarids), "parallel access");
        for (int v = 0; v < nvarids; v++)
            TRY(nc_var_par_access(ncid, v, NC_COLLECTIVE), "parallel access");
    }
#endif
    TRY(nc_enddef(ncid), "file header");

    TRY(write_member_coord(ncid, var_member, w->first, w->members), "member coordinate");
    size_t start = 0, cnt = (size_t)s->ntimes;
    TRY(nc_put_vara_double(ncid, var_time, &start, &cnt, s->times), "time coordinate");
    if (w->vector) {
        int *idx = malloc(sizeof *idx * (size_t)s->nvars);
        *what = "vector coordinate";
        if (!idx)
            return NC_ENOMEM;
        for (int i = 0; i < s->nvars; i++)
            idx[i] = i;
        cnt = (size_t)s->nvars;
        st = nc_put_vara_int(ncid, var_vec, &start, &cnt, idx);
        free(idx);
        if (st != NC_NOERR)
            return st;
    }
#undef TRY
    return NC_NOERR;
}

static ens_status check_spec(const ens_nc_spec *s, ens_error *err)
{
    if (!s || !s->path || !s->path[0] || !s->model)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "output file: no path or model given");
    const ens_model_info *m = s->model;
    if (s->piece_members < 0 || s->first_member < 0 ||
        (s->piece_members > 0 && s->first_member > s->members - s->piece_members))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': members %lld..%lld of an ensemble of %lld", s->path,
                        s->first_member, s->first_member + s->piece_members - 1, s->members);
    if (s->members < 1 || s->ntimes < 1 || s->nvars < 1)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': members (%lld), times (%lld) and variables (%d) "
                        "must be at least 1", s->path, s->members, s->ntimes, s->nvars);
    if (m->nparams > ENS_MAX_PARAMS)
        return ens_fail(err, ENS_ERR_INTERNAL, "model %s: %d parameters, at most %d",
                        m->name, m->nparams, ENS_MAX_PARAMS);
    int shared = 0;
    for (int p = 0; p < m->nparams && s->param_varies; p++)
        shared += !s->param_varies[p];
    if (!s->times || (m->nparams > 0 && !s->param_varies) || (shared && !s->param_values))
        return ens_fail(err, ENS_ERR_INTERNAL,
                        "output file '%s': times or parameter values missing", s->path);
    if (m->var_names[0] == NULL) {
        if (!m->vector_name || !m->vector_dim)
            return ens_fail(err, ENS_ERR_INTERNAL,
                            "model %s: no variable names and no vector variable", m->name);
    } else {
        int n = 0;
        while (n < 4 && m->var_names[n])
            n++;
        if (s->nvars != n)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "output file '%s': model %s has %d variables, not %d",
                            s->path, m->name, n, s->nvars);
    }
    return ENS_OK;
}

static void writer_free(ens_nc_writer *w)
{
    if (!w)
        return;
    free(w->path);
    free(w->partial);
    free(w->scratch);
    free(w);
}

ens_status ens_nc_open(const ens_nc_spec *spec, ens_nc_writer **out, ens_error *err)
{
    if (!out)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "output file: no writer pointer given");
    *out = NULL;
    ens_status rc = check_spec(spec, err);
    if (rc != ENS_OK)
        return rc;

    ens_nc_writer *w = calloc(1, sizeof *w);
    size_t plen = strlen(spec->path);
    if (w) {
        w->path = dup_string(spec->path);
        w->partial = malloc(plen + sizeof ".partial");
    }
    if (!w || !w->path || !w->partial) {
        writer_free(w);
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "output file '%s': out of memory",
                        spec->path);
    }
    memcpy(w->partial, spec->path, plen);
    memcpy(w->partial + plen, ".partial", sizeof ".partial");
    w->model = spec->model;
    w->vector = spec->model->var_names[0] == NULL;
    w->nvars = spec->nvars;
    w->first = spec->piece_members > 0 ? spec->first_member : 0;
    w->members = spec->piece_members > 0 ? spec->piece_members : spec->members;
    w->ntimes = spec->ntimes;
    w->disk_double = spec->disk_double != 0;
    w->write_states = spec->write_states != 0;
    w->cache_limit = spec->cache_limit > 0 ? spec->cache_limit : ENS_NC_DEFAULT_CACHE_LIMIT;
    w->write_stats = spec->write_stats != 0;
    w->nstate = w->vector ? 1 : spec->nvars;
    ens_nc_state_chunks(w->disk_double, w->vector, w->nvars, w->members, w->ntimes, w->chunk);
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    w->parallel = spec->parallel != 0;
    if (w->parallel)
        MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
#else
    if (spec->parallel) {
        writer_free(w);
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': this ensol is built without MPI", spec->path);
    }
#endif

    /* Probe with stdio first: HDF5 reports an unwritable place only as
     * "HDF error", errno says why (permission, missing directory). Under
     * MPI rank 0 probes and tells the others, so all fail together. */
    int probe_errno = 0;
    if (w->rank == 0) {
        FILE *probe = fopen(w->partial, "wb");
        if (!probe)
            probe_errno = errno ? errno : EIO;
        else
            fclose(probe);
    }
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel)
        MPI_Bcast(&probe_errno, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
    if (probe_errno) {
        rc = ens_fail(err, ENS_ERR_IO, "cannot create output file '%s': %s", w->partial,
                      strerror(probe_errno));
        writer_free(w);
        return rc;
    }

    int st;
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel)
        st = nc_create_par(w->partial, NC_NETCDF4 | NC_CLOBBER, MPI_COMM_WORLD, MPI_INFO_NULL,
                           &w->ncid);
    else
#endif
        st = nc_create(w->partial, NC_NETCDF4 | NC_CLOBBER, &w->ncid);
    if (st != NC_NOERR) {
        rc = ens_fail(err, ENS_ERR_IO, "cannot create output file '%s': %s", w->partial,
                      nc_strerror(st));
        if (w->rank == 0)
            remove(w->partial);
        writer_free(w);
        return rc;
    }
    const char *what = "file";
    st = define_file(w, spec, &what);
    if (st != NC_NOERR) {
        rc = ens_fail(err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                      "cannot write %s to output file '%s': %s", what, w->partial,
                      nc_strerror(st));
        nc_abort(w->ncid); /* best effort: the file is removed anyway */
        if (w->rank == 0)
            remove(w->partial);
        writer_free(w);
        return rc;
    }
    *out = w;
    return ENS_OK;
}

/* Grow the scratch buffer (kept across calls) to `bytes`; a zero-size
 * write still passes a buffer. */
static int reserve_scratch(ens_nc_writer *w, size_t bytes)
{
    if (bytes == 0)
        bytes = sizeof(double);
    if (bytes <= w->scratch_bytes)
        return NC_NOERR;
    void *p = realloc(w->scratch, bytes);
    if (!p)
        return NC_ENOMEM;
    w->scratch = p;
    w->scratch_bytes = bytes;
    return NC_NOERR;
}

static void fill_nan(void *values, size_t count, int is_double)
{
    for (size_t i = 0; i < count; i++) {
        if (is_double)
            ((double *)values)[i] = NAN;
        else
            ((float *)values)[i] = NAN;
    }
}

/* Whether members [m0, m0 + count), global indices, lie in the file. */
static int members_in_file(const ens_nc_writer *w, long long m0, long long count)
{
    return m0 >= w->first && count >= 0 && m0 - w->first <= w->members &&
           count <= w->members - (m0 - w->first);
}

ens_status ens_nc_write_batch(ens_nc_writer *w, long long m0, long long count,
                              long long times, const void *states, int states_double,
                              const double *params, ens_error *err)
{
    if (!w)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file: no writer");
    if (!members_in_file(w, m0, count))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': members %lld..%lld outside %lld..%lld", w->path,
                        m0, m0 + count - 1, w->first, w->first + w->members - 1);
    m0 -= w->first;
    if (times < 0 || times > w->ntimes)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file '%s': %lld saved times of %lld",
                        w->path, times, w->ntimes);
    /* In a parallel file every rank makes the same (collective) calls, a
     * rank with no members in this round with zero counts. */
    if (count == 0 && !w->parallel)
        return ENS_OK;
    static const double no_values[1];
    if (count == 0) {
        states = states ? states : no_values;
        params = params ? params : no_values;
    }
    if (w->write_states && !states)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file '%s': no states given", w->path);
    for (int p = 0; p < w->model->nparams; p++)
        if (w->param_id[p] >= 0 && !params)
            return ens_fail(err, ENS_ERR_INTERNAL,
                            "output file '%s': no parameter values given", w->path);

    int st = w->write_states ? set_cache(w, count) : NC_NOERR;
    const char *what = "chunk cache";
    size_t es = states_double ? sizeof(double) : sizeof(float);
    size_t T = (size_t)w->ntimes, V = (size_t)w->nvars, n = (size_t)count;
    size_t TW = (size_t)times; /* times written of the T in the buffer */

    /* An interrupted batch (TW < T) is written over all T times, those it
     * did not reach as NaN: readers see that they are missing, and whole
     * chunks are written (partial ones cost a read-modify-write each,
     * over a second per batch in a file shared by MPI ranks). */
    if (!w->write_states || TW == 0) {
        /* parameters only */
    } else if (st == NC_NOERR && w->vector) {
        const void *values = states;
        if (TW < T) {
            /* The member (time, k) blocks for the times done, then NaN. */
            const size_t block = T * V * es, done = TW * V * es;
            st = reserve_scratch(w, n * block);
            for (size_t i = 0; i < n && st == NC_NOERR; i++) {
                char *dst = (char *)w->scratch + i * block;
                memcpy(dst, (const char *)states + i * block, done);
                fill_nan(dst + done, (T - TW) * V, states_double);
            }
            values = w->scratch;
        }
        size_t start[3] = {(size_t)m0, 0, 0}, cnt[3] = {n, T, V};
        what = w->model->vector_name;
        if (st == NC_NOERR)
            st = states_double
                     ? nc_put_vara_double(w->ncid, w->state_id[0], start, cnt, values)
                     : nc_put_vara_float(w->ncid, w->state_id[0], start, cnt, values);
    } else if (st == NC_NOERR) {
        /* De-interleave (member, time, var) into one (member, time) slab per
         * variable, converted to the type on disk here (HDF5's conversion
         * is several times slower); the scratch buffer is kept across calls. */
        const size_t out_es = w->disk_double ? sizeof(double) : sizeof(float);
        st = reserve_scratch(w, n * T * out_es);
        size_t start[2] = {(size_t)m0, 0}, cnt[2] = {n, T};
#define ENS_DEINTERLEAVE(SRC_T, DST_T)                                      \
    do {                                                                    \
        const SRC_T *src = (const SRC_T *)states + v;                       \
        DST_T *dst = w->scratch;                                            \
        for (size_t i = 0; i < n; i++) {                                    \
            for (size_t t = 0; t < TW; t++)                                 \
                dst[i * T + t] = (DST_T)src[(i * T + t) * V];               \
            for (size_t t = TW; t < T; t++)                                 \
                dst[i * T + t] = (DST_T)NAN;                                \
        }                                                                   \
    } while (0)
        for (int v = 0; v < w->nstate && st == NC_NOERR; v++) {
            what = w->model->var_names[v];
            if (states_double && w->disk_double)
                ENS_DEINTERLEAVE(double, double);
            else if (states_double)
                ENS_DEINTERLEAVE(double, float);
            else if (w->disk_double)
                ENS_DEINTERLEAVE(float, double);
            else
                ENS_DEINTERLEAVE(float, float);
            st = w->disk_double
                     ? nc_put_vara_double(w->ncid, w->state_id[v], start, cnt, w->scratch)
                     : nc_put_vara_float(w->ncid, w->state_id[v], start, cnt, w->scratch);
        }
#undef ENS_DEINTERLEAVE
    }
    /* Varying parameters: each one's values for the batch are contiguous. */
    for (int p = 0; p < w->model->nparams && st == NC_NOERR; p++) {
        if (w->param_id[p] < 0)
            continue;
        size_t start = (size_t)m0, cnt = n;
        what = w->model->param_names[p];
        st = nc_put_vara_double(w->ncid, w->param_id[p], &start, &cnt, params + (size_t)p * n);
    }
    if (st != NC_NOERR)
        return ens_fail(err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                        "cannot write %s of members %lld..%lld to '%s': %s", what,
                        w->first + m0, w->first + m0 + count - 1, w->partial, nc_strerror(st));
    if (w->write_states)
        w->bytes_written += (unsigned long long)n * TW * V * (w->disk_double ? 8u : 4u);
    return ENS_OK;
}

ens_status ens_nc_write_stats(ens_nc_writer *w, long long times, const ens_moments *moments,
                              ens_error *err)
{
    if (!w || !w->write_stats || times <= 0)
        return ENS_OK;
    const size_t T = (size_t)times, V = (size_t)w->nvars;
    double *values = malloc(T * V * sizeof *values);
    if (!values)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "output file '%s': out of memory", w->path);
    /* A parallel file: rank 0 holds the statistics merged over all ranks
     * and writes them; the others make the same collective calls with
     * zero-size counts. */
    const size_t W = w->parallel && w->rank != 0 ? 0 : T;
    int st = NC_NOERR;
    for (int k = 0; k < 4 && st == NC_NOERR; k++) {
        for (size_t i = 0; i < T * V; i++) {
            const ens_moments *m = &moments[i];
            double value = NAN;
            if (m->n > 0) {
                /* Population standard deviation, as xarray's .std() gives. */
                const double stat[4] = {m->mean, sqrt(m->m2 / m->n), m->min, m->max};
                value = stat[k];
            }
            values[i] = value;
        }
        for (int v = 0; v < w->nstate && st == NC_NOERR; v++) {
            if (w->vector) {
                size_t start[2] = {0, 0}, cnt[2] = {W, W ? V : 0};
                st = nc_put_vara_double(w->ncid, w->stats_id[0][k], start, cnt, values);
            } else {
                /* One scalar variable: its column of the (time, var) table. */
                double *column = malloc(T * sizeof *column);
                if (!column) {
                    st = NC_ENOMEM;
                    break;
                }
                for (size_t t = 0; t < T; t++)
                    column[t] = values[t * V + (size_t)v];
                size_t start = 0, cnt = W;
                st = nc_put_vara_double(w->ncid, w->stats_id[v][k], &start, &cnt, column);
                free(column);
            }
        }
    }
    free(values);
    if (st != NC_NOERR)
        return ens_fail(err, ENS_ERR_IO, "cannot write the ensemble statistics to '%s': %s",
                        w->partial, nc_strerror(st));
    return ENS_OK;
}

ens_status ens_nc_write_steps(ens_nc_writer *w, long long m0, long long count,
                              const double *real_rows, const long long *int_rows,
                              ens_error *err)
{
    if (!w || w->steps_real_id < 0)
        return ENS_OK;
    if (!members_in_file(w, m0, count))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': members %lld..%lld outside %lld..%lld", w->path,
                        m0, m0 + count - 1, w->first, w->first + w->members - 1);
    if (count == 0 && !w->parallel)
        return ENS_OK;
    const size_t n = (size_t)count, nr = (size_t)ENS_DOPRI5_REAL_ROWS(w->nvars);
    const size_t ni = ENS_DOPRI5_INT_ROWS;
    /* (member, row) on disk from rows of members in memory. */
    double *reals = malloc((n > 0 ? n : 1) * nr * sizeof *reals);
    long long *ints = malloc((n > 0 ? n : 1) * ni * sizeof *ints);
    int st = reals && ints ? NC_NOERR : NC_ENOMEM;
    for (size_t i = 0; st == NC_NOERR && i < n; i++) {
        for (size_t r = 0; r < nr; r++)
            reals[i * nr + r] = real_rows[r * n + i];
        for (size_t r = 0; r < ni; r++)
            ints[i * ni + r] = int_rows[r * n + i];
    }
    size_t start[2] = {(size_t)(m0 - w->first), 0}, cnt[2] = {n, nr};
    if (st == NC_NOERR)
        st = nc_put_vara_double(w->ncid, w->steps_real_id, start, cnt, reals);
    cnt[1] = ni;
    if (st == NC_NOERR)
        st = nc_put_vara_longlong(w->ncid, w->steps_int_id, start, cnt, ints);
    free(reals);
    free(ints);
    if (st != NC_NOERR)
        return ens_fail(err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                        "cannot write the dopri5 step state of members %lld..%lld to '%s': %s",
                        m0, m0 + count - 1, w->partial, nc_strerror(st));
    return ENS_OK;
}

ens_status ens_nc_write_members(ens_nc_writer *w, long long m0, long long count,
                                const ens_member_stats *stats, ens_error *err)
{
    if (!w || !stats)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file: no writer or member results");
    if (!members_in_file(w, m0, count))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': members %lld..%lld outside %lld..%lld", w->path,
                        m0, m0 + count - 1, w->first, w->first + w->members - 1);
    m0 -= w->first;
    if (count == 0 && !w->parallel)
        return ENS_OK;
    size_t start = (size_t)m0, cnt = (size_t)count;
    static const long long no_counts[1];
    static const double no_times[1];
    ens_member_stats none = *stats;
    if (count == 0) {
        none.accepted_steps = none.accepted_steps ? none.accepted_steps : (long long *)no_counts;
        none.rejected_steps = none.rejected_steps ? none.rejected_steps : (long long *)no_counts;
        none.failure_time = none.failure_time ? none.failure_time : (double *)no_times;
        stats = &none;
    }
    int st = NC_NOERR;
    const char *what = "status";
    if (w->status_id >= 0 && stats->status) {
        signed char *codes = malloc(cnt > 0 ? cnt : 1);
        if (!codes)
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "output file '%s': out of memory",
                            w->path);
        for (size_t i = 0; i < cnt; i++)
            codes[i] = (signed char)stats->status[i];
        st = nc_put_vara_schar(w->ncid, w->status_id, &start, &cnt, codes);
        free(codes);
    }
    if (st == NC_NOERR && w->accepted_id >= 0 && stats->accepted_steps) {
        what = "accepted_steps";
        st = nc_put_vara_longlong(w->ncid, w->accepted_id, &start, &cnt, stats->accepted_steps);
    }
    if (st == NC_NOERR && w->rejected_id >= 0 && stats->rejected_steps) {
        what = "rejected_steps";
        st = nc_put_vara_longlong(w->ncid, w->rejected_id, &start, &cnt, stats->rejected_steps);
    }
    if (st == NC_NOERR && w->failure_id >= 0 && stats->failure_time) {
        what = "failure_time";
        st = nc_put_vara_double(w->ncid, w->failure_id, &start, &cnt, stats->failure_time);
    }
    if (st != NC_NOERR)
        return ens_fail(err, ENS_ERR_IO, "cannot write %s of members %lld..%lld to '%s': %s",
                        what, m0, m0 + count - 1, w->partial, nc_strerror(st));
    return ENS_OK;
}

const char *ens_nc_partial_path(const ens_nc_writer *w) { return w ? w->partial : ""; }

/* Global attributes that tell a reader what an interrupted file holds. */
static int mark_incomplete(ens_nc_writer *w, const ens_nc_incomplete *inc)
{
    int st = nc_redef(w->ncid);
    if (st == NC_NOERR)
        st = put_text(w->ncid, NC_GLOBAL, "incomplete",
                      inc && inc->reason ? inc->reason : "run stopped before its end");
    if (st == NC_NOERR)
        st = put_int64(w->ncid, NC_GLOBAL, "members_complete", inc ? inc->members_complete : 0);
    if (st == NC_NOERR)
        st = put_int64(w->ncid, NC_GLOBAL, "members_partial", inc ? inc->members_partial : 0);
    if (st == NC_NOERR)
        st = put_text(w->ncid, NC_GLOBAL, "members_complete_ranges",
                      inc && inc->complete_ranges ? inc->complete_ranges : "");
    if (st == NC_NOERR)
        st = put_text(w->ncid, NC_GLOBAL, "members_partial_ranges",
                      inc && inc->partial_ranges ? inc->partial_ranges : "");
    if (st == NC_NOERR)
        st = put_double(w->ncid, NC_GLOBAL, "last_time_written", inc ? inc->last_time : 0.0);
    if (st == NC_NOERR)
        st = nc_enddef(w->ncid);
    return st;
}

ens_status ens_nc_close(ens_nc_writer *w, ens_nc_outcome outcome,
                        const ens_nc_incomplete *incomplete, ens_error *err)
{
    if (!w)
        return ENS_OK;
    ens_status rc = ENS_OK;
    int marked = outcome == ENS_NC_KEEP_PARTIAL ? mark_incomplete(w, incomplete) : NC_NOERR;
    int st = nc_close(w->ncid);
    if (st == NC_NOERR)
        st = marked;
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel) {
        /* Every rank has closed before rank 0 alone renames or removes. */
        MPI_Barrier(MPI_COMM_WORLD);
        if (w->rank != 0) {
            if (st != NC_NOERR)
                rc = ens_fail(err, ENS_ERR_IO, "cannot close output file '%s': %s",
                              w->partial, nc_strerror(st));
            writer_free(w);
            return rc;
        }
    }
#endif
    if (outcome == ENS_NC_DISCARD) {
        /* The run failed: nothing under either name may look complete. */
        remove(w->partial);
        if (st != NC_NOERR)
            rc = ens_fail(err, ENS_ERR_IO, "cannot close output file '%s': %s", w->partial,
                          nc_strerror(st));
    } else if (st != NC_NOERR) {
        rc = ens_fail(err, ENS_ERR_IO, "cannot close output file '%s': %s", w->partial,
                      nc_strerror(st));
        remove(w->partial);
    } else if (outcome == ENS_NC_COMMIT && rename(w->partial, w->path) != 0) {
        rc = ens_fail(err, ENS_ERR_IO, "cannot rename '%s' to '%s': %s", w->partial, w->path,
                      strerror(errno));
        remove(w->partial);
    }
    writer_free(w);
    return rc;
}

unsigned long long ens_nc_bytes_written(const ens_nc_writer *w)
{
    return w ? w->bytes_written : 0;
}
