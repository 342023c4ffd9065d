/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Reading initial states from a NetCDF file (an ensol file, or another
 * tool's); see ncreader.h: the check of its layout, and the reading of
 * members' states, parameters, step state and recorded settings. */
#include "io/nc_common.h"
#include "io/nc_time.h"
#include "io/ncreader.h"
#include "io/ncwriter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>

/* Where each dimension of a state variable's stored values leads. */
enum { AXIS_MEMBER, AXIS_TIME, AXIS_VALUES };

/* A state variable: its dimensions in the file's order, whatever it is. */
typedef struct state_var {
    int id;
    int ndims;
    int axis[3];
} state_var;

struct ens_nc_source {
    int ncid;
    char *path;
    const ens_model_info *model;
    int nvars;
    int vector;
    long long time_index;
    int member_dim, time_dim;      /* time_dim -1: one saved state, no time axis */
    state_var state[4];
    int param_id[ENS_MAX_PARAMS];  /* -1 where the file has no such variable */
    int steps_real_id, steps_int_id; /* dopri5 step state; -1 when absent */
    double *scratch;               /* count * nvars values of one read */
    size_t scratch_size;
};

static ens_status nc_error(ens_error *err, const char *path, const char *what, int st)
{
    return ens_nc_check(err, st, "initial states from '%s': cannot read %s", path, what);
}

/* "x, y, z" or "X": what the model needs, for messages. */
static void state_names(const ens_nc_source *s, char *out, size_t size)
{
    const ens_model_info *m = s->model;
    size_t used = 0;
    out[0] = '\0';
    for (int v = 0; v < (s->vector ? 1 : s->nvars) && used < size; v++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", v ? ", " : "",
                                 s->vector ? m->vector_name : m->var_names[v]);
}

/* A file that names its model must hold the run's; one that does not
 * (written by other tools) is taken as the run's. */
static ens_status check_model(const ens_nc_source *s, ens_error *err)
{
    char model_name[256] = "";
    size_t len = 0;
    if (nc_inq_attlen(s->ncid, NC_GLOBAL, "model", &len) != NC_NOERR)
        return ENS_OK;
    if (len >= sizeof model_name ||
        nc_get_att_text(s->ncid, NC_GLOBAL, "model", model_name) != NC_NOERR)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': its model attribute is not a model name",
                        s->path);
    model_name[len] = '\0';
    if (strcmp(model_name, s->model->name) != 0)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': the file holds model %s, the run is %s",
                        s->path, model_name, s->model->name);
    return ENS_OK;
}

/* The member dimension, and the time dimension if the file has one; the
 * time index resolved against it (without one, the file is one state). */
static ens_status check_dims(ens_nc_source *s, size_t *members, size_t *times, ens_error *err)
{
    char names[128];
    state_names(s, names, sizeof names);
    if (nc_inq_dimid(s->ncid, "member", &s->member_dim) != NC_NOERR ||
        nc_inq_dimlen(s->ncid, s->member_dim, members) != NC_NOERR)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': no member dimension (model %s needs %s "
                        "over a dimension named member)",
                        s->path, s->model->name, names);
    *times = 1;
    if (nc_inq_dimid(s->ncid, "time", &s->time_dim) != NC_NOERR)
        s->time_dim = -1;
    else if (nc_inq_dimlen(s->ncid, s->time_dim, times) != NC_NOERR)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': cannot read the time dimension", s->path);
    long long index = s->time_index < 0 ? (long long)*times + s->time_index : s->time_index;
    if (index < 0 || index >= (long long)*times)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': time index %lld outside 0..%lld", s->path,
                        s->time_index, (long long)*times - 1);
    s->time_index = index;
    return ENS_OK;
}

/* State variable `name`: over member, optionally time, and for a vector
 * model the axis of its nvars values, in any order. */
static ens_status find_state(ens_nc_source *s, const char *name, state_var *sv, ens_error *err)
{
    char names[128], mode[16] = "";
    size_t len = 0;
    state_names(s, names, sizeof names);
    if (nc_inq_varid(s->ncid, name, &sv->id) != NC_NOERR) {
        const int stats = nc_inq_attlen(s->ncid, NC_GLOBAL, "output_mode", &len) == NC_NOERR &&
                          len < sizeof mode &&
                          nc_get_att_text(s->ncid, NC_GLOBAL, "output_mode", mode) == NC_NOERR &&
                          strncmp(mode, "stats", len) == 0 && len == 5;
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': no variable %s (model %s needs %s over a "
                        "member dimension%s)",
                        s->path, name, s->model->name, names,
                        stats ? "; a statistics-only file cannot start a run" : "");
    }
    int dims[NC_MAX_VAR_DIMS], values = 0, member = 0;
    if (nc_inq_varndims(s->ncid, sv->id, &sv->ndims) != NC_NOERR || sv->ndims < 1 ||
        sv->ndims > 3 || nc_inq_vardimid(s->ncid, sv->id, dims) != NC_NOERR)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': variable %s must be over member%s%s", s->path,
                        name, s->time_dim >= 0 ? " (and time)" : "",
                        s->vector ? " and its values" : "");
    for (int d = 0; d < sv->ndims; d++) {
        char dim_name[NC_MAX_NAME + 1] = "";
        size_t len = 0;
        nc_inq_dim(s->ncid, dims[d], dim_name, &len);
        if (dims[d] == s->member_dim && !member++) {
            sv->axis[d] = AXIS_MEMBER;
        } else if (dims[d] == s->time_dim && s->time_dim >= 0) {
            sv->axis[d] = AXIS_TIME;
        } else if (s->vector && !values++) {
            if (len != (size_t)s->nvars)
                return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                                "initial states from '%s': %s has %zu values along %s, the "
                                "run %d",
                                s->path, name, len, dim_name, s->nvars);
            sv->axis[d] = AXIS_VALUES;
        } else {
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "initial states from '%s': variable %s is over dimension %s; "
                            "expected member%s%s",
                            s->path, name, dim_name, s->time_dim >= 0 ? " (and time)" : "",
                            s->vector ? " and one of its values" : "");
        }
    }
    if (!member || (s->vector && !values))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': variable %s is not over %s", s->path, name,
                        member ? "a dimension of its values" : "the member dimension");
    return ENS_OK;
}

/* The time coordinate's value at the saved time read (a scalar one
 * without a time dimension) in model time, from the units it was written
 * with; 0 without one. */
static ens_status read_time(ens_nc_source *s, ens_nc_source_info *info, ens_error *err)
{
    int time_id = -1, ndims = -1, dim = -1;
    size_t start = (size_t)s->time_index;
    double value = 0.0;
    info->time = 0.0;
    if (nc_inq_varid(s->ncid, "time", &time_id) != NC_NOERR ||
        nc_inq_varndims(s->ncid, time_id, &ndims) != NC_NOERR)
        return ENS_OK;
    if (ndims == 1 && nc_inq_vardimid(s->ncid, time_id, &dim) == NC_NOERR &&
        dim == s->time_dim && s->time_dim >= 0)
        ENS_CHECK(nc_error(err, s->path, "the time coordinate",
                           nc_get_var1_double(s->ncid, time_id, &start, &value)));
    else if (ndims == 0)
        ENS_CHECK(nc_error(err, s->path, "the time coordinate",
                           nc_get_var_double(s->ncid, time_id, &value)));
    else
        return ENS_OK;
    char *units = NULL, *calendar = NULL;
    int st = ens_nc_get_text(s->ncid, time_id, "units", &units);
    if (st == NC_NOERR)
        st = ens_nc_get_text(s->ncid, time_id, "calendar", &calendar);
    const int bad = st == NC_NOERR &&
                    ens_nc_time_to_model(s->model, units, calendar, value, &info->time) != 0;
    ens_status rc = nc_error(err, s->path, "the time coordinate", st);
    if (rc == ENS_OK && bad)
        rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                      "initial states from '%s': time units '%s' (calendar %s) cannot be "
                      "read as model time",
                      s->path, units, calendar ? calendar : "standard");
    free(units);
    free(calendar);
    return rc;
}

/* The state variables, and the model time of the saved state read. */
static ens_status find_states(ens_nc_source *s, ens_nc_source_info *info, ens_error *err)
{
    const ens_model_info *m = s->model;
    for (int v = 0; v < (s->vector ? 1 : s->nvars); v++)
        ENS_CHECK(find_state(s, s->vector ? m->vector_name : m->var_names[v], &s->state[v],
                             err));
    return read_time(s, info, err);
}

/* Where each parameter comes from: a variable over member, a shared
 * attribute, or the run's configuration. */
static ens_status find_params(ens_nc_source *s, ens_nc_source_info *info, ens_error *err)
{
    const ens_model_info *m = s->model;
    for (int j = 0; j < m->nparams; j++) {
        char att[64];
        int ndims = 0, dim = -1;
        snprintf(att, sizeof att, "param_%s", m->param_names[j]);
        s->param_id[j] = -1;
        info->params.source[j] = ENS_PARAM_FROM_CONFIG;
        if (nc_inq_varid(s->ncid, m->param_names[j], &s->param_id[j]) == NC_NOERR) {
            if (nc_inq_varndims(s->ncid, s->param_id[j], &ndims) != NC_NOERR || ndims != 1 ||
                nc_inq_vardimid(s->ncid, s->param_id[j], &dim) != NC_NOERR ||
                dim != s->member_dim)
                return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                                "initial states from '%s': parameter variable %s must be over "
                                "member only",
                                s->path, m->param_names[j]);
            info->params.source[j] = ENS_PARAM_FROM_VARIABLE;
        } else if (nc_get_att_double(s->ncid, NC_GLOBAL, att, &info->params.shared[j]) ==
                   NC_NOERR) {
            info->params.source[j] = ENS_PARAM_FROM_ATTRIBUTE;
            s->param_id[j] = -1;
        } else {
            s->param_id[j] = -1;
        }
    }
    return ENS_OK;
}

/* The step state, which goes with the last saved time of a restart file. */
static void find_step_state(ens_nc_source *s, ens_nc_source_info *info, size_t times)
{
    int dim = -1;
    long long done = -1;
    size_t rows = 0;
    s->steps_real_id = s->steps_int_id = -1;
    info->steps_done = -1;
    if (s->time_index == (long long)times - 1 &&
        nc_get_att_longlong(s->ncid, NC_GLOBAL, ENS_NC_STEPS_DONE, &done) == NC_NOERR &&
        nc_get_att_double(s->ncid, NC_GLOBAL, "dt", &info->dt) == NC_NOERR &&
        nc_inq_varid(s->ncid, ENS_NC_STEPS_REAL, &s->steps_real_id) == NC_NOERR &&
        nc_inq_varid(s->ncid, ENS_NC_STEPS_INT, &s->steps_int_id) == NC_NOERR &&
        nc_inq_dimid(s->ncid, "dopri5_real_row", &dim) == NC_NOERR &&
        nc_inq_dimlen(s->ncid, dim, &rows) == NC_NOERR &&
        rows == (size_t)ENS_DOPRI5_REAL_ROWS(s->nvars) && done >= 0)
        info->steps_done = done;
    else
        s->steps_real_id = s->steps_int_id = -1;
}

static ens_status check_layout(ens_nc_source *s, ens_nc_source_info *info, ens_error *err)
{
    size_t members = 0, times = 0;
    ENS_CHECK(check_model(s, err));
    ENS_CHECK(check_dims(s, &members, &times, err));
    ENS_CHECK(find_states(s, info, err));
    ENS_CHECK(find_params(s, info, err));
    find_step_state(s, info, times);
    info->members = (long long)members;
    info->time_index = s->time_index;
    return ENS_OK;
}

/* A stopped run's file holds fill values where members never got: marked
 * incomplete, or a partial file that was never closed (SIGKILL). */
static ens_status check_complete(const ens_nc_source *s, ens_error *err)
{
    const size_t len = strlen(s->path), suffix = strlen(".partial");
    if (nc_inq_att(s->ncid, NC_GLOBAL, "incomplete", NULL, NULL) == NC_NOERR)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': the file is from a run that was stopped "
                        "before its end; start from a complete file",
                        s->path);
    if (len >= suffix && strcmp(s->path + len - suffix, ".partial") == 0)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': a partial file, from a run that has not "
                        "finished or was killed; start from a complete file",
                        s->path);
    return ENS_OK;
}

ens_status ens_nc_source_open(const char *path, long long time_index,
                              const ens_model_info *model, int nvars, ens_nc_source **out,
                              ens_nc_source_info *info, ens_error *err)
{
    ens_nc_library_init();
    ens_nc_source *s = calloc(1, sizeof *s);
    if (!s || !(s->path = malloc(strlen(path) + 1))) {
        free(s);
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    }
    strcpy(s->path, path);
    s->model = model;
    s->nvars = nvars;
    s->vector = ens_model_states_as_array(model);
    s->time_index = time_index;
    memset(info, 0, sizeof *info);
    const int opened = nc_open(path, NC_NOWRITE, &s->ncid);
    if (opened != NC_NOERR) {
        free(s->path);
        free(s);
        /* Opening fails as ENS_ERR_IO whatever NetCDF says. */
        return ens_fail(err, ENS_ERR_IO, "initial states from '%s': %s", path,
                        nc_strerror(opened));
    }
    ens_status st;
    ENS_TRY(check_complete(s, err));
    ENS_TRY(check_layout(s, info, err));
    *out = s;
done:
    if (st != ENS_OK)
        ens_nc_source_close(s);
    return st;
}

/* Members [m0, m0 + n) of one state variable at the saved time, as
 * state[v * n + i]: the values come in the variable's dimension order,
 * which the strides undo. */
static int read_state(ens_nc_source *s, const state_var *sv, size_t m0, size_t n, double *state)
{
    const size_t V = s->vector ? (size_t)s->nvars : 1;
    size_t start[3], count[3], stride[3] = {1, 1, 1};
    size_t member_stride = 0, value_stride = 0;
    for (int d = 0; d < sv->ndims; d++) {
        start[d] = sv->axis[d] == AXIS_MEMBER ? m0
                   : sv->axis[d] == AXIS_TIME ? (size_t)s->time_index : 0;
        count[d] = sv->axis[d] == AXIS_MEMBER ? n : sv->axis[d] == AXIS_TIME ? 1 : V;
    }
    for (int d = sv->ndims - 2; d >= 0; d--)
        stride[d] = stride[d + 1] * count[d + 1];
    for (int d = 0; d < sv->ndims; d++) {
        if (sv->axis[d] == AXIS_MEMBER)
            member_stride = stride[d];
        else if (sv->axis[d] == AXIS_VALUES)
            value_stride = stride[d];
    }
    const int st = nc_get_vara_double(s->ncid, sv->id, start, count, s->scratch);
    for (size_t i = 0; st == NC_NOERR && i < n; i++)
        for (size_t v = 0; v < V; v++)
            state[v * n + i] = s->scratch[i * member_stride + v * value_stride];
    return st;
}

ens_status ens_nc_source_read(ens_nc_source *s, long long m0, long long count, double *state,
                              double *params, ens_error *err)
{
    const size_t n = (size_t)count, V = (size_t)s->nvars;
    if (n * V > s->scratch_size) {
        double *p = realloc(s->scratch, n * V * sizeof *p);
        if (!p)
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory reading initial states");
        s->scratch = p;
        s->scratch_size = n * V;
    }
    int st = NC_NOERR;
    for (size_t v = 0; st == NC_NOERR && v < (s->vector ? 1 : V); v++)
        st = read_state(s, &s->state[v], (size_t)m0, n, state + v * n);
    if (st != NC_NOERR)
        return nc_error(err, s->path, "the states", st);
    for (int j = 0; j < s->model->nparams; j++) {
        if (s->param_id[j] < 0)
            continue;
        size_t start = (size_t)m0, cnt = n;
        st = nc_get_vara_double(s->ncid, s->param_id[j], &start, &cnt, params + (size_t)j * n);
        if (st != NC_NOERR)
            return nc_error(err, s->path, s->model->param_names[j], st);
    }
    return ENS_OK;
}

ens_status ens_nc_source_read_steps(ens_nc_source *src, long long m0, long long count,
                                    double *real_rows, long long *int_rows, ens_error *err)
{
    if (src->steps_real_id < 0)
        return ens_fail(err, ENS_ERR_INTERNAL, "initial states from '%s': no step state",
                        src->path);
    const size_t n = (size_t)count, nr = (size_t)ENS_DOPRI5_REAL_ROWS(src->nvars);
    const size_t ni = ENS_DOPRI5_INT_ROWS;
    double *reals = malloc((n > 0 ? n : 1) * nr * sizeof *reals);
    long long *ints = malloc((n > 0 ? n : 1) * ni * sizeof *ints);
    size_t start[2] = {(size_t)m0, 0}, cnt[2] = {n, nr};
    int st = reals && ints ? NC_NOERR : NC_ENOMEM;
    if (st == NC_NOERR)
        st = nc_get_vara_double(src->ncid, src->steps_real_id, start, cnt, reals);
    cnt[1] = ni;
    if (st == NC_NOERR)
        st = nc_get_vara_longlong(src->ncid, src->steps_int_id, start, cnt, ints);
    /* Rows of members in memory from (member, row) on disk. */
    for (size_t i = 0; st == NC_NOERR && i < n; i++) {
        for (size_t r = 0; r < nr; r++)
            real_rows[r * n + i] = reals[i * nr + r];
        for (size_t r = 0; r < ni; r++)
            int_rows[r * n + i] = ints[i * ni + r];
    }
    free(reals);
    free(ints);
    return st == NC_NOERR ? ENS_OK : nc_error(err, src->path, "the dopri5 step state", st);
}

/* A global attribute of 1 or nvars doubles, allocated; NULL when absent
 * or of another length. */
static ens_status read_tolerance(const ens_nc_source *s, const char *name, double **out,
                                 int *len, ens_error *err)
{
    size_t n = 0;
    *out = NULL;
    *len = 0;
    if (nc_inq_attlen(s->ncid, NC_GLOBAL, name, &n) != NC_NOERR ||
        (n != 1 && n != (size_t)s->nvars))
        return ENS_OK;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
    if (nc_get_att_double(s->ncid, NC_GLOBAL, name, v) != NC_NOERR) {
        free(v);
        return ENS_OK;
    }
    *out = v;
    *len = (int)n;
    return ENS_OK;
}

ens_status ens_nc_source_recorded(const ens_nc_source *s, ens_nc_recorded *rec,
                                  ens_error *err)
{
    memset(rec, 0, sizeof *rec);
    size_t len = 0;
    if (nc_inq_attlen(s->ncid, NC_GLOBAL, "integrator", &len) == NC_NOERR &&
        len < sizeof rec->integrator &&
        nc_get_att_text(s->ncid, NC_GLOBAL, "integrator", rec->integrator) == NC_NOERR)
        rec->integrator[len] = '\0';
    else
        rec->integrator[0] = '\0';
    if (nc_get_att_double(s->ncid, NC_GLOBAL, "dt", &rec->dt) != NC_NOERR)
        rec->dt = 0;
    rec->has_dt_limits =
        nc_get_att_double(s->ncid, NC_GLOBAL, "dt_min", &rec->dt_min) == NC_NOERR;
    if (!rec->has_dt_limits ||
        nc_get_att_double(s->ncid, NC_GLOBAL, "dt_max", &rec->dt_max) != NC_NOERR)
        rec->dt_max = 0;
    ens_status st = read_tolerance(s, "rtol", &rec->rtol, &rec->rtol_len, err);
    if (st == ENS_OK)
        st = read_tolerance(s, "atol", &rec->atol, &rec->atol_len, err);
    if (st != ENS_OK)
        ens_nc_recorded_free(rec);
    return st;
}

void ens_nc_recorded_free(ens_nc_recorded *rec)
{
    free(rec->rtol);
    free(rec->atol);
    rec->rtol = rec->atol = NULL;
}

void ens_nc_source_close(ens_nc_source *s)
{
    if (!s)
        return;
    nc_close(s->ncid);
    free(s->scratch);
    free(s->path);
    free(s);
}
