/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The writer's definition of a file (see ncwriter.h for the layout): the
 * spec's check, the dimensions, the variables with their chunking,
 * compression and attributes, the global attributes of the run's
 * provenance, and the coordinate values written once at the start.
 */
#include "io/nc_common.h"
#include "io/ncwriter_impl.h"
#include "io/nc_time.h"
#include "io/out_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
#include <mpi.h>
#include <netcdf_par.h>
#endif

/* Members per block when writing the member coordinate. */
#define COORD_BLOCK 65536
/* Blocks between two questions to the spec's stop (not asked for fewer
 * members: a small file opens at once). */
#define COORD_BLOCKS_PER_ASK 16

/* The statuses a member ends in (enum ens_member_status), as CF flags. */
static const signed char status_codes[ENS_NC_STATUSES] = {
    ENS_MEMBER_OK, ENS_MEMBER_NONFINITE, ENS_MEMBER_DT_MIN, ENS_MEMBER_MAX_STEPS,
    ENS_MEMBER_BLOWUP};

/* The dimension and coordinate ids that the variables are defined over. */
typedef struct file_dims {
    int member, time, vec;          /* dimensions; vec -1 without one */
    int var_member, var_time, var_vec;
} file_dims;

static const char *or_empty(const char *s) { return s ? s : ""; }

/* A definition step's NetCDF status, its failure naming what was defined. */
static ens_status defined(ens_nc_writer *w, ens_error *err, int st, const char *what)
{
    if (st != NC_NOERR && ens_out_storage_errno(w->partial))
        w->storage_failed = 1;
    return ens_nc_check_storage(err, st, w->partial, "cannot write %s to output file '%s'", what, w->partial);
}
#define DEFINE(call, what) ENS_CHECK(defined(w, err, (call), (what)))

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

/* A (member[, row]) variable of `rows` values per member, chunked along
 * the members (ens_nc_member_chunk). Returns a NetCDF status. */
static int def_member_var(const ens_nc_writer *w, const char *name, nc_type type, int ndims,
                          const int *dims, size_t rows, int *id)
{
    int st = nc_def_var(w->ncid, name, type, ndims, dims, id);
    size_t chunk[2] = {ens_nc_member_chunk(w->members, rows), rows};
    return st != NC_NOERR ? st : nc_def_var_chunking(w->ncid, *id, NC_CHUNKED, chunk);
}

/* A time variable's CF units and calendar, so that CDO, NCO and xarray
 * see a time axis, and a comment where model time is dimensionless.
 * Returns a NetCDF status. */
static int put_time_units(const ens_model_info *m, int ncid, int varid)
{
    char units[256];
    ens_nc_time_units(m, units, sizeof units);
    int st = put_text(ncid, varid, "units", units);
    if (st == NC_NOERR)
        st = put_text(ncid, varid, "calendar", ENS_NC_TIME_CALENDAR);
    if (st == NC_NOERR && ens_nc_time_dimensionless(m))
        st = put_text(ncid, varid, "comment",
                      "dimensionless model time, one unit written as one day");
    return st;
}

/* ---- the spec ------------------------------------------------------------ */

static ens_status check_variables(const ens_nc_spec *s, ens_error *err)
{
    const ens_model_info *m = s->model;
    if (m->var_names[0] == NULL) {
        if (!m->vector_name || !m->vector_dim)
            return ens_fail(err, ENS_ERR_INTERNAL,
                            "model %s: no variable names and no vector variable", m->name);
        return ENS_OK;
    }
    int n = 0;
    while (n < 4 && m->var_names[n])
        n++;
    if (s->nvars != n)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': model %s has %d variables, not %d", s->path,
                        m->name, n, s->nvars);
    return ENS_OK;
}

ens_status ens_nc_check_spec(const ens_nc_spec *s, ens_error *err)
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
    if (s->counts_only && (s->write_states || s->parallel || s->write_steps))
        return ens_fail(err, ENS_ERR_INTERNAL,
                        "output file '%s': a statistics file has no states, step state or "
                        "MPI ranks sharing it", s->path);
    return check_variables(s, err);
}

/* ---- chunk cache --------------------------------------------------------- */

/* Make each state variable's chunk cache hold every chunk a write of
 * `count` members touches (a block that is not chunk-aligned touches one
 * more member row), so a chunk shared by two batches stays in memory
 * instead of being written half-filled and read back. */
int ens_nc_fit_cache(ens_nc_writer *w, long long count)
{
    const size_t es = w->disk_double ? 8 : 4;
    const size_t len[3] = {(size_t)w->ntimes, (size_t)w->members,
                           w->vector ? (size_t)w->nvars : 1}; /* per variable */
    const size_t rows = ((size_t)count + w->chunk[1] - 1) / w->chunk[1] + 1;
    const size_t bytes = ens_nc_row_cache_bytes(3, len, w->chunk, es, 1, rows, w->cache_limit);
    if (bytes <= w->cache_bytes)
        return NC_NOERR;
    const size_t cb = w->chunk[0] * w->chunk[1] * w->chunk[2] * es;
    for (int i = 0; i < w->nstate; i++) {
        int st = ens_nc_set_cache(w->ncid, w->state_id[i], bytes, cb);
        if (st != NC_NOERR)
            return st;
    }
    w->cache_bytes = bytes;
    return NC_NOERR;
}

/* ---- dimensions and variables -------------------------------------------- */

/* Times per chunk of a variable over time alone (or time and a short
 * dimension): time is unlimited, and the default chunks of an unlimited
 * dimension would make a small file several times its size, and reading
 * the time axis many reads. */
static size_t time_chunk(const ens_nc_spec *s)
{
    return s->ntimes < 4096 ? (size_t)s->ntimes : 4096;
}

/* The time coordinate, and the vector coordinate where there is one. */
static ens_status define_time(ens_nc_writer *w, const ens_nc_spec *s, file_dims *d,
                              ens_error *err)
{
    const ens_model_info *m = s->model;
    const int ncid = w->ncid;
    DEFINE(nc_def_var(ncid, "time", NC_DOUBLE, 1, &d->time, &d->var_time), "variable time");
    DEFINE(put_text(ncid, d->var_time, "long_name", "model time"), "attributes of time");
    DEFINE(put_text(ncid, d->var_time, "standard_name", "time"), "attributes of time");
    DEFINE(put_time_units(m, ncid, d->var_time), "attributes of time");
    DEFINE(put_text(ncid, d->var_time, "axis", "T"), "attributes of time");
    const size_t chunk = time_chunk(s);
    DEFINE(nc_def_var_chunking(ncid, d->var_time, NC_CHUNKED, &chunk), "variable time");
    if (w->vector) {
        DEFINE(nc_def_var(ncid, m->vector_dim, NC_INT, 1, &d->vec, &d->var_vec),
               "vector coordinate");
        DEFINE(put_text(ncid, d->var_vec, "long_name", "variable index"), "vector coordinate");
        DEFINE(put_text(ncid, d->var_vec, "units", "1"), "vector coordinate");
    }
    return ENS_OK;
}

static ens_status define_coordinates(ens_nc_writer *w, const ens_nc_spec *s, file_dims *d,
                                     ens_error *err)
{
    const ens_model_info *m = s->model;
    const int ncid = w->ncid;
    d->vec = d->var_vec = -1;
    /* Time first and unlimited: CDO reads only variables whose first
     * dimension is time, and NCO's ncra and ncrcat want a record dimension. */
    DEFINE(nc_def_dim(ncid, "time", NC_UNLIMITED, &d->time), "dimension time");
    d->member = d->var_member = -1;
    if (!w->counts_only)
        DEFINE(nc_def_dim(ncid, "member", (size_t)w->members, &d->member), "dimension member");
    if (w->vector)
        DEFINE(nc_def_dim(ncid, m->vector_dim, (size_t)s->nvars, &d->vec), "vector dimension");
    ENS_CHECK(define_time(w, s, d, err));
    if (w->counts_only)
        return ENS_OK;
    DEFINE(def_member_var(w, "member", NC_INT64, 1, &d->member, 1, &d->var_member),
           "variable member");
    /* Every value is written at once: filling it first would write it
     * twice. Compressed, 0, 1, 2, ... takes a hundredth of its 8 bytes per
     * member: a huge ensemble's file opens in a fraction of the time. */
    DEFINE(nc_def_var_fill(ncid, d->var_member, NC_NOFILL, NULL), "variable member");
    DEFINE(nc_def_var_deflate(ncid, d->var_member, 1, 1, 1), "variable member");
    DEFINE(put_text(ncid, d->var_member, "long_name", "ensemble member"), "attributes of member");
    DEFINE(put_text(ncid, d->var_member, "standard_name", "realization"), "attributes of member");
    DEFINE(put_text(ncid, d->var_member, "units", "1"), "attributes of member");
    return ENS_OK;
}

/* One variable of saved states (a state variable, the vector variable or
 * an aux quantity): chunked, NaN where nothing was written, compressed and
 * quantized as the spec says. */
static ens_status define_saved(ens_nc_writer *w, const ens_nc_spec *s, const char *name,
                               const char *long_name, int ndims, const int *dims,
                               const size_t *chunk, const char *coords, int *id, ens_error *err)
{
    const ens_model_info *m = s->model;
    const int ncid = w->ncid;
    const nc_type type = s->disk_double ? NC_DOUBLE : NC_FLOAT;
    DEFINE(nc_def_var(ncid, name, type, ndims, dims, id), name);
    DEFINE(nc_def_var_chunking(ncid, *id, NC_CHUNKED, chunk), name);
    /* NaN where nothing was written (members a stopped run never
     * reached): readers mask it, as they mask missing times. A file
     * shared by MPI ranks records the value but is not filled (see
     * ens_nc_define_file): the attribute is written on its own. */
    const double nan = NAN;
    const float nanf = NAN;
    const void *fill = s->disk_double ? (const void *)&nan : (const void *)&nanf;
    if (w->parallel) {
        DEFINE(nc_def_var_fill(ncid, *id, NC_NOFILL, NULL), name);
        DEFINE(nc_put_att(ncid, *id, "_FillValue", type, 1, fill), name);
    } else {
        DEFINE(nc_def_var_fill(ncid, *id, NC_FILL, fill), name);
    }
    /* A variable its model describes with no words (an XPPAUT file's) is
     * described by its name. */
    DEFINE(put_text(ncid, *id, "long_name", long_name && *long_name ? long_name : name), name);
    DEFINE(put_text(ncid, *id, "units", or_empty(m->units)), name);
    if (coords[0])
        DEFINE(put_text(ncid, *id, "coordinates", coords), name);
    if (s->deflate_level > 0)
        DEFINE(nc_def_var_deflate(ncid, *id, 1, 1, s->deflate_level), name);
    if (s->quantize_bits > 0)
        DEFINE(nc_def_var_quantize(ncid, *id, NC_QUANTIZE_BITROUND, s->quantize_bits), name);
    return ENS_OK;
}

static ens_status define_states(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                                ens_error *err)
{
    const ens_model_info *m = s->model;
    const int dims[3] = {d->time, d->member, d->vec};
    /* The parameters that vary across members are the states' auxiliary
     * coordinates: xarray then rebuilds a sweep's grid with one call,
     * ds.set_index(member=[...]).unstack("member"). */
    char coords[ENS_MAX_PARAMS * 64] = "";
    size_t used = 0;
    for (int p = 0; p < m->nparams; p++)
        if (s->param_varies[p] && used < sizeof coords)
            used += (size_t)snprintf(coords + used, sizeof coords - used, "%s%s",
                                     used ? " " : "", m->param_names[p]);
    for (int v = 0; w->write_states && v < w->nstate; v++)
        ENS_CHECK(define_saved(w, s, w->vector ? m->vector_name : m->var_names[v],
                               w->vector ? m->vector_long_name : m->var_long_names[v],
                               w->vector ? 3 : 2, dims, w->chunk, coords, &w->state_id[v],
                               err));
    for (int a = 0; a < w->naux; a++)
        ENS_CHECK(define_saved(w, s, ens_model_aux_name(m, a), "aux quantity of the model", 2,
                               dims, w->aux_chunk, coords, &w->aux_id[a], err));
    /* Cache for a chunk-row-sized batch now; a write grows it when it sees
     * bigger batches. */
    if (w->write_states)
        DEFINE(ens_nc_fit_cache(w, (long long)w->chunk[1]), "chunk cache");
    return ENS_OK;
}

/* Statistics over the member axis, with CF cell methods. */
static ens_status define_stats(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                               ens_error *err)
{
    static const char *const suffix[4] = {"mean", "std", "min", "max"};
    static const char *const words[4] = {"mean", "standard deviation", "minimum", "maximum"};
    /* Over the members, named by their standard name: the statistics have
     * no member dimension to name. */
    static const char *const method[4] = {"realization: mean", "realization: standard_deviation",
                                          "realization: minimum", "realization: maximum"};
    const ens_model_info *m = s->model;
    const int ncid = w->ncid, dims[2] = {d->time, d->vec};
    const char *what = "statistics variable";
    /* Every time in one chunk (the default chunks of an unlimited
     * dimension would make a small file several times its size). */
    const size_t V = w->vector ? (size_t)s->nvars : 1, fit = ((size_t)4 << 20) / (8 * V);
    const size_t chunk[2] = {fit < 1 ? 1 : fit < time_chunk(s) ? fit : time_chunk(s), V};
    for (int v = 0; w->write_stats && v < w->nstate; v++) {
        const char *base = w->vector ? m->vector_name : m->var_names[v];
        const char *lname = w->vector ? m->vector_long_name : m->var_long_names[v];
        for (int k = 0; k < 4; k++) {
            char name[64], long_name[160];
            int *id = &w->stats_id[v][k];
            snprintf(name, sizeof name, "%s_%s", base, suffix[k]);
            snprintf(long_name, sizeof long_name, "ensemble %s of %s", words[k],
                     or_empty(lname));
            DEFINE(nc_def_var(ncid, name, NC_DOUBLE, w->vector ? 2 : 1, dims, id), what);
            DEFINE(nc_def_var_chunking(ncid, *id, NC_CHUNKED, chunk), what);
            DEFINE(put_text(ncid, *id, "long_name", long_name), what);
            DEFINE(put_text(ncid, *id, "units", or_empty(m->units)), what);
            DEFINE(put_text(ncid, *id, "cell_methods", method[k]), what);
        }
    }
    return ENS_OK;
}

/* One (member) variable for each parameter that varies across members. */
static ens_status define_params(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                                ens_error *err)
{
    const ens_model_info *m = s->model;
    for (int p = 0; p < m->nparams; p++) {
        const char *name = m->param_names[p];
        w->param_id[p] = -1;
        if (!s->param_varies[p] || w->counts_only)
            continue;
        DEFINE(def_member_var(w, name, NC_DOUBLE, 1, &d->member, 1, &w->param_id[p]), name);
        DEFINE(put_text(w->ncid, w->param_id[p], "long_name", or_empty(m->param_long_names[p])),
               name);
        const char *units = m->params ? m->params[p].units : NULL;
        DEFINE(put_text(w->ncid, w->param_id[p], "units", units && units[0] ? units : "1"),
               name);
    }
    return ENS_OK;
}

/* ---- per-member outcome ---------------------------------------------------- */

#define MEMBER_STATUS "member status"

/* CF flags of a status variable (enum ens_member_status). Returns a
 * NetCDF status. */
static int put_status_flags(int ncid, int varid)
{
    int st = nc_put_att_schar(ncid, varid, "flag_values", NC_BYTE, ENS_NC_STATUSES,
                              status_codes);
    return st != NC_NOERR ? st
                          : put_text(ncid, varid, "flag_meanings",
                                     "ok non_finite_state step_size_below_dt_min "
                                     "max_steps_exceeded blowup_bound_exceeded");
}

/* status with CF flags, and failure_time. */
static ens_status define_status(ens_nc_writer *w, const file_dims *d, ens_error *err)
{
    const double nan = NAN;
    const int ncid = w->ncid;
    DEFINE(def_member_var(w, "status", NC_BYTE, 1, &d->member, 1, &w->status_id),
           MEMBER_STATUS);
    DEFINE(put_text(ncid, w->status_id, "long_name", "integration status of the member"),
           MEMBER_STATUS);
    DEFINE(put_status_flags(ncid, w->status_id), MEMBER_STATUS);
    DEFINE(def_member_var(w, "failure_time", NC_DOUBLE, 1, &d->member, 1, &w->failure_id),
           MEMBER_STATUS);
    DEFINE(put_text(ncid, w->failure_id, "long_name", "model time at which the member stopped"),
           MEMBER_STATUS);
    /* Model time as a number, as the time coordinate holds it: time units
     * would make xarray decode it, and NaN as a date is an error. */
    DEFINE(put_text(ncid, w->failure_id, "units", "1"), MEMBER_STATUS);
    DEFINE(put_text(ncid, w->failure_id, "comment",
                    "the number of the time coordinate at which the member stopped"),
           MEMBER_STATUS);
    DEFINE(nc_put_att_double(ncid, w->failure_id, "_FillValue", NC_DOUBLE, 1, &nan),
           MEMBER_STATUS);
    return ENS_OK;
}

/* The DOPRI5 step state of a restart file. */
static ens_status define_step_state(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                                    ens_error *err)
{
    const int ncid = w->ncid;
    int dims[2] = {d->member, -1};
    DEFINE(nc_def_dim(ncid, "dopri5_real_row", (size_t)ENS_DOPRI5_REAL_ROWS(s->nvars), &dims[1]),
           MEMBER_STATUS);
    DEFINE(def_member_var(w, ENS_NC_STEPS_REAL, NC_DOUBLE, 2, dims,
                          (size_t)ENS_DOPRI5_REAL_ROWS(s->nvars), &w->steps_real_id),
           MEMBER_STATUS);
    DEFINE(put_text(ncid, w->steps_real_id, "long_name",
                    "dopri5 step state: state, derivative, dense output, times, step sizes"),
           MEMBER_STATUS);
    DEFINE(nc_def_dim(ncid, "dopri5_int_row", ENS_DOPRI5_INT_ROWS, &dims[1]), MEMBER_STATUS);
    DEFINE(def_member_var(w, ENS_NC_STEPS_INT, NC_INT64, 2, dims, ENS_DOPRI5_INT_ROWS,
                          &w->steps_int_id),
           MEMBER_STATUS);
    DEFINE(put_text(ncid, w->steps_int_id, "long_name",
                    "dopri5 step counters: accepted, rejected, status"),
           MEMBER_STATUS);
    DEFINE(put_int64(ncid, NC_GLOBAL, ENS_NC_STEPS_DONE, s->steps_done), MEMBER_STATUS);
    return ENS_OK;
}

/* An adaptive integrator's step counters and settings. */
static ens_status define_adaptive(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                                  ens_error *err)
{
    const ens_nc_adaptive *a = s->adaptive;
    const int ncid = w->ncid;
    if (!w->counts_only) {
        DEFINE(def_member_var(w, "accepted_steps", NC_INT64, 1, &d->member, 1,
                              &w->accepted_id),
               MEMBER_STATUS);
        DEFINE(put_text(ncid, w->accepted_id, "long_name", "accepted integration steps"),
               MEMBER_STATUS);
        DEFINE(def_member_var(w, "rejected_steps", NC_INT64, 1, &d->member, 1,
                              &w->rejected_id),
               MEMBER_STATUS);
        DEFINE(put_text(ncid, w->rejected_id, "long_name", "rejected integration steps"),
               MEMBER_STATUS);
    }
    /* Tolerances: one number when the same for every variable. */
    int same_r = 1, same_a = 1;
    for (int v = 1; v < s->nvars; v++) {
        same_r &= a->rtol[v] == a->rtol[0];
        same_a &= a->atol[v] == a->atol[0];
    }
    DEFINE(nc_put_att_double(ncid, NC_GLOBAL, "rtol", NC_DOUBLE,
                             same_r ? 1 : (size_t)s->nvars, a->rtol),
           MEMBER_STATUS);
    DEFINE(nc_put_att_double(ncid, NC_GLOBAL, "atol", NC_DOUBLE,
                             same_a ? 1 : (size_t)s->nvars, a->atol),
           MEMBER_STATUS);
    DEFINE(put_double(ncid, NC_GLOBAL, "dt_min", a->dt_min), MEMBER_STATUS);
    if (a->dt_max > 0)
        DEFINE(put_double(ncid, NC_GLOBAL, "dt_max", a->dt_max), MEMBER_STATUS);
    DEFINE(put_int64(ncid, NC_GLOBAL, "max_steps", a->max_steps), MEMBER_STATUS);
    return ENS_OK;
}

/* A statistics file's outcomes: the status coordinate, the members in
 * each status at each saved time, and the failed members as a list. */
static ens_status define_counts(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                                ens_error *err)
{
    static const char *const what = "member counts";
    const int ncid = w->ncid;
    int sdim, fdim, sid;
    DEFINE(nc_def_dim(ncid, "status", ENS_NC_STATUSES, &sdim), what);
    DEFINE(nc_def_var(ncid, "status", NC_BYTE, 1, &sdim, &sid), what);
    DEFINE(put_text(ncid, sid, "long_name", "integration status"), what);
    DEFINE(put_text(ncid, sid, "units", "1"), what);
    DEFINE(put_status_flags(ncid, sid), what);
    const int cdims[2] = {d->time, sdim};
    DEFINE(nc_def_var(ncid, "members_by_status", NC_INT64, 2, cdims, &w->counts_id), what);
    const size_t cchunk[2] = {time_chunk(s), ENS_NC_STATUSES}, fchunk = 4096;
    DEFINE(nc_def_var_chunking(ncid, w->counts_id, NC_CHUNKED, cchunk), what);
    DEFINE(put_text(ncid, w->counts_id, "long_name", "members in each status at the time"),
           what);
    DEFINE(put_text(ncid, w->counts_id, "units", "1"), what);
    DEFINE(nc_def_dim(ncid, "failed", NC_UNLIMITED, &fdim), what);
    static const char *const names[3] = {"failed_member", "failed_status", "failed_time"};
    static const char *const lnames[3] = {"ensemble member that failed",
                                          "integration status of the failed member",
                                          "model time at which the member stopped"};
    static const nc_type types[3] = {NC_INT64, NC_BYTE, NC_DOUBLE};
    for (int i = 0; i < 3; i++) {
        DEFINE(nc_def_var(ncid, names[i], types[i], 1, &fdim, &w->failed_ids[i]), what);
        DEFINE(nc_def_var_chunking(ncid, w->failed_ids[i], NC_CHUNKED, &fchunk), what);
        DEFINE(put_text(ncid, w->failed_ids[i], "long_name", lnames[i]), what);
    }
    DEFINE(put_status_flags(ncid, w->failed_ids[1]), what);
    DEFINE(put_text(ncid, w->failed_ids[2], "units", "1"), what);
    DEFINE(put_text(ncid, w->failed_ids[2], "comment",
                    "the number of the time coordinate at which the member stopped"),
           what);
    return ENS_OK;
}

static ens_status define_member_outcome(ens_nc_writer *w, const ens_nc_spec *s,
                                        const file_dims *d, ens_error *err)
{
    w->status_id = w->accepted_id = w->rejected_id = w->failure_id = -1;
    w->steps_real_id = w->steps_int_id = w->counts_id = -1;
    if (w->counts_only)
        ENS_CHECK(define_counts(w, s, d, err));
    else
        ENS_CHECK(define_status(w, d, err));
    if (s->adaptive && s->write_steps && !w->counts_only)
        ENS_CHECK(define_step_state(w, s, d, err));
    if (s->adaptive)
        ENS_CHECK(define_adaptive(w, s, d, err));
    return ENS_OK;
}

/* ---- global attributes ----------------------------------------------------- */

#define GLOBALS "global attributes"

/* Conventions, title, source, history and the creation date. */
static ens_status define_identity(ens_nc_writer *w, const ens_nc_spec *s, ens_error *err)
{
    const int ncid = w->ncid;
    char buf[1024], stamp[32];
    ens_nc_utc_stamp(stamp, sizeof stamp);
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    /* Every rank must define the same attributes: rank 0's clock. */
    if (w->parallel)
        MPI_Bcast(stamp, (int)sizeof stamp, MPI_CHAR, 0, MPI_COMM_WORLD);
#endif
    DEFINE(put_text(ncid, NC_GLOBAL, "Conventions", "CF-1.8"), GLOBALS);
    snprintf(buf, sizeof buf, "ensol %s ensemble, %lld members", s->model->name, s->members);
    DEFINE(put_text(ncid, NC_GLOBAL, "title", buf), GLOBALS);
    snprintf(buf, sizeof buf, "ensol %s", ens_version());
    DEFINE(put_text(ncid, NC_GLOBAL, "source", buf), GLOBALS);

    char *h = ens_nc_history_text(stamp, s->history && s->history[0] ? s->history : "ensol",
                                  NULL);
    DEFINE(h ? put_text(ncid, NC_GLOBAL, "history", h) : NC_ENOMEM, GLOBALS);
    free(h);
    DEFINE(put_text(ncid, NC_GLOBAL, "date_created", stamp), GLOBALS);
    return ENS_OK;
}

/* How the run was made. */
static ens_status define_provenance(ens_nc_writer *w, const ens_nc_spec *s, ens_error *err)
{
    const int ncid = w->ncid;
    const unsigned long long seed = s->seed;
    if (s->piece_members > 0) {
        DEFINE(put_int64(ncid, NC_GLOBAL, ENS_NC_PIECE_FIRST, s->first_member), GLOBALS);
        DEFINE(put_int64(ncid, NC_GLOBAL, ENS_NC_PIECE_TOTAL, s->members), GLOBALS);
    }
    DEFINE(put_text(ncid, NC_GLOBAL, "model", s->model->name), GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "model_title", or_empty(s->model->title)), GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "integrator", or_empty(s->integrator)), GLOBALS);
    DEFINE(put_double(ncid, NC_GLOBAL, "dt", s->dt), GLOBALS);
    DEFINE(put_int64(ncid, NC_GLOBAL, "steps", s->steps), GLOBALS);
    DEFINE(put_int64(ncid, NC_GLOBAL, "save_every", s->save_every), GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "output_mode", or_empty(s->output_mode)), GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "precision", or_empty(s->precision)), GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "output_type", s->disk_double ? "double" : "float"),
           GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "backend", or_empty(s->backend)), GLOBALS);
    DEFINE(put_text(ncid, NC_GLOBAL, "device", or_empty(s->device)), GLOBALS);
    DEFINE(nc_put_att_ulonglong(ncid, NC_GLOBAL, "seed", NC_UINT64, 1, &seed), GLOBALS);
    if (s->model->nnoise > 0) {
        /* What the noise is and how it is drawn, so that it can be made again. */
        char noise[512];
        size_t used = 0;
        for (int k = 0; k < s->model->nnoise && used < sizeof noise; k++)
            used += (size_t)snprintf(noise + used, sizeof noise - used, "%s%s", k ? ", " : "",
                                     s->model->noises[k].name);
        if (used < sizeof noise)
            snprintf(noise + used, sizeof noise - used,
                     ": white noise, a standard normal / sqrt(dt) at each step (Euler-Maruyama), "
                     "Box-Muller on Philox4x32-10 keyed by (seed, member, step from time 0, "
                     "input)");
        DEFINE(put_text(ncid, NC_GLOBAL, "noise_inputs", noise), GLOBALS);
    }
    if (s->initial_states)
        DEFINE(put_text(ncid, NC_GLOBAL, "initial_states", s->initial_states), GLOBALS);
    else
        DEFINE(put_double(ncid, NC_GLOBAL, "perturbation_stddev", s->perturbation), GLOBALS);
    if (s->base_state && !s->initial_states)
        DEFINE(nc_put_att_double(ncid, NC_GLOBAL, "base_state", NC_DOUBLE, (size_t)s->nvars,
                                 s->base_state),
               GLOBALS);
    if (s->param_variation && s->param_variation[0])
        DEFINE(put_text(ncid, NC_GLOBAL, "parameter_variation", s->param_variation), GLOBALS);
    return ENS_OK;
}

/* Shared parameters: one numeric attribute each for programs, and one
 * line for people reading ncdump -h. */
static ens_status define_shared_params(ens_nc_writer *w, const ens_nc_spec *s, ens_error *err)
{
    const ens_model_info *m = s->model;
    char line[1024] = "";
    size_t used = 0;
    for (int p = 0; p < m->nparams; p++) {
        if (s->param_varies[p])
            continue;
        char name[64];
        snprintf(name, sizeof name, "param_%s", m->param_names[p]);
        DEFINE(put_double(w->ncid, NC_GLOBAL, name, s->param_values[p]), GLOBALS);
        if (used < sizeof line) {
            int n = snprintf(line + used, sizeof line - used, "%s%s=%g", used ? " " : "",
                             m->param_names[p], s->param_values[p]);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (line[0])
        DEFINE(put_text(w->ncid, NC_GLOBAL, "parameters", line), GLOBALS);
    return ENS_OK;
}

/* ---- the coordinates' values ----------------------------------------------- */

/* Whether the spec's stop says to stop; in a file shared by MPI ranks
 * (whose every rank writes the same blocks) whether any rank's does, so
 * that all stop at the same block. */
static int coord_stop(const ens_nc_writer *w, const ens_nc_spec *s)
{
    int mine = s->stop(s->stop_user) != 0;
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel) {
        int any = 0;
        MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        return any;
    }
#else
    (void)w;
#endif
    return mine;
}

/* The member coordinate, first..first+members-1, in blocks, so huge
 * ensembles need no huge temporary array; between blocks the spec's stop
 * may end it (*stopped). */
static int write_member_coord(const ens_nc_writer *w, const ens_nc_spec *s, int varid,
                              int *stopped)
{
    long long *block = malloc(sizeof *block * COORD_BLOCK);
    if (!block)
        return NC_ENOMEM;
    int st = NC_NOERR;
    long long k = 0;
    for (long long m0 = 0; m0 < w->members && st == NC_NOERR; m0 += COORD_BLOCK, k++) {
        if (s->stop && k > 0 && k % COORD_BLOCKS_PER_ASK == 0 && coord_stop(w, s)) {
            *stopped = 1;
            break;
        }
        long long n = w->members - m0 < COORD_BLOCK ? w->members - m0 : COORD_BLOCK;
        for (long long i = 0; i < n; i++)
            block[i] = w->first + m0 + i;
        size_t start = (size_t)m0, cnt = (size_t)n;
        st = nc_put_vara_longlong(w->ncid, varid, &start, &cnt, block);
    }
    free(block);
    return st;
}

/* The vector coordinate 0..nvars-1. */
static int write_vector_coord(int ncid, int varid, int nvars)
{
    int *idx = malloc(sizeof *idx * (size_t)nvars);
    if (!idx)
        return NC_ENOMEM;
    for (int i = 0; i < nvars; i++)
        idx[i] = i;
    size_t start = 0, cnt = (size_t)nvars;
    int st = nc_put_vara_int(ncid, varid, &start, &cnt, idx);
    free(idx);
    return st;
}

static ens_status write_coordinates(ens_nc_writer *w, const ens_nc_spec *s, const file_dims *d,
                                    ens_error *err)
{
    size_t start = 0, cnt = (size_t)s->ntimes;
    int stopped = 0;
    if (d->var_member >= 0)
        DEFINE(write_member_coord(w, s, d->var_member, &stopped), "member coordinate");
    if (stopped)
        return ens_fail(err, ENS_ERR_INTERRUPTED,
                        "run stopped while its output file was prepared; nothing was written");
    DEFINE(nc_put_vara_double(w->ncid, d->var_time, &start, &cnt, s->times), "time coordinate");
    if (w->vector)
        DEFINE(write_vector_coord(w->ncid, d->var_vec, s->nvars), "vector coordinate");
    if (w->counts_only) {
        int sid = -1;
        size_t n = ENS_NC_STATUSES;
        DEFINE(nc_inq_varid(w->ncid, "status", &sid), "status coordinate");
        DEFINE(nc_put_vara_schar(w->ncid, sid, &start, &n, status_codes), "status coordinate");
    }
    return ENS_OK;
}

/* ---- the whole file ---------------------------------------------------------- */

#ifdef ENSOL_HAVE_PARALLEL_NETCDF
/* Collective access for every variable: writes to compressed variables
 * must be collective, and each rank then makes the same calls (ranks with
 * fewer batches make zero-size ones). */
static ens_status make_collective(ens_nc_writer *w, ens_error *err)
{
    int nvarids = 0;
    DEFINE(nc_inq_nvars(w->ncid, &nvarids), "parallel access");
    for (int v = 0; v < nvarids; v++)
        DEFINE(nc_var_par_access(w->ncid, v, NC_COLLECTIVE), "parallel access");
    return ENS_OK;
}
#endif

ens_status ens_nc_define_file(ens_nc_writer *w, const ens_nc_spec *s, ens_error *err)
{
    file_dims d;
    /* Parallel HDF5 writes fill values when it creates a variable, with a
     * barrier; a rank whose write fails (a full disk) skips it and the
     * others wait forever. Every value is written anyway, so none is
     * filled. */
    int old_fill;
    if (w->parallel)
        DEFINE(nc_set_fill(w->ncid, NC_NOFILL, &old_fill), "fill mode");
    ENS_CHECK(define_coordinates(w, s, &d, err));
    ENS_CHECK(define_states(w, s, &d, err));
    ENS_CHECK(define_stats(w, s, &d, err));
    ENS_CHECK(define_params(w, s, &d, err));
    ENS_CHECK(define_member_outcome(w, s, &d, err));
    ENS_CHECK(define_identity(w, s, err));
    ENS_CHECK(define_provenance(w, s, err));
    ENS_CHECK(define_shared_params(w, s, err));
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel)
        ENS_CHECK(make_collective(w, err));
#endif
    DEFINE(nc_enddef(w->ncid), "file header");
    return write_coordinates(w, s, &d, err);
}
