/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* Reading initial states from an ensol output file (restart); see ncreader.h:
 * the check of its layout, and the reading of members' states, parameters
 * and step state. */
#include "io/nc_common.h"
#include "io/ncreader.h"
#include "io/ncwriter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>

struct ens_nc_source {
    int ncid;
    char *path;
    const ens_model_info *model;
    int nvars;
    int vector;
    long long time_index;
    int state_id[4];
    int param_id[ENS_MAX_PARAMS];  /* -1 where the file has no such variable */
    int steps_real_id, steps_int_id; /* dopri5 step state; -1 when absent */
    double *scratch;               /* count * nvars values of one read */
    size_t scratch_size;
};

static ens_status nc_error(ens_error *err, const char *path, const char *what, int st)
{
    return ens_nc_check(err, st, "initial states from '%s': cannot read %s", path, what);
}

/* The file holds the run's model. */
static ens_status check_model(const ens_nc_source *s, ens_error *err)
{
    char model_name[64] = "";
    size_t len = 0;
    if (nc_inq_attlen(s->ncid, NC_GLOBAL, "model", &len) != NC_NOERR || len >= sizeof model_name ||
        nc_get_att_text(s->ncid, NC_GLOBAL, "model", model_name) != NC_NOERR)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': not an ensol output file (no model attribute)",
                        s->path);
    model_name[len] = '\0';
    if (strcmp(model_name, s->model->name) != 0)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': the file holds model %s, the run is %s",
                        s->path, model_name, s->model->name);
    return ENS_OK;
}

/* Members, times and variables; the time index resolved against them. */
static ens_status check_dims(ens_nc_source *s, size_t *members, size_t *times, ens_error *err)
{
    int dim = -1;
    size_t nvars = (size_t)s->nvars;
    if (nc_inq_dimid(s->ncid, "member", &dim) || nc_inq_dimlen(s->ncid, dim, members) ||
        nc_inq_dimid(s->ncid, "time", &dim) || nc_inq_dimlen(s->ncid, dim, times))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': no member and time dimensions", s->path);
    if (s->vector && (nc_inq_dimid(s->ncid, s->model->vector_dim, &dim) ||
                      nc_inq_dimlen(s->ncid, dim, &nvars) || nvars != (size_t)s->nvars))
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': %zu variables in the file, %d in the run",
                        s->path, nvars, s->nvars);
    long long index = s->time_index < 0 ? (long long)*times + s->time_index : s->time_index;
    if (index < 0 || index >= (long long)*times)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "initial states from '%s': time index %lld outside 0..%zu", s->path,
                        s->time_index, *times - 1);
    s->time_index = index;
    return ENS_OK;
}

/* The state variables, and the model time of the saved time read. */
static ens_status find_states(ens_nc_source *s, ens_nc_source_info *info, ens_error *err)
{
    const ens_model_info *m = s->model;
    for (int v = 0; v < (s->vector ? 1 : s->nvars); v++) {
        const char *name = s->vector ? m->vector_name : m->var_names[v];
        if (nc_inq_varid(s->ncid, name, &s->state_id[v]) != NC_NOERR)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "initial states from '%s': no state variable %s (a statistics-only "
                            "file cannot start a run)",
                            s->path, name);
    }
    int time_id = -1;
    size_t start = (size_t)s->time_index;
    int st = nc_inq_varid(s->ncid, "time", &time_id);
    if (st == NC_NOERR)
        st = nc_get_var1_double(s->ncid, time_id, &start, &info->time);
    return st == NC_NOERR ? ENS_OK : nc_error(err, s->path, "the time coordinate", st);
}

/* Where each parameter comes from: a variable, a shared attribute, or
 * the run's configuration. */
static void find_params(ens_nc_source *s, ens_nc_source_info *info)
{
    const ens_model_info *m = s->model;
    for (int j = 0; j < m->nparams; j++) {
        char att[64];
        snprintf(att, sizeof att, "param_%s", m->param_names[j]);
        s->param_id[j] = -1;
        info->params.source[j] = ENS_PARAM_FROM_CONFIG;
        if (nc_inq_varid(s->ncid, m->param_names[j], &s->param_id[j]) == NC_NOERR)
            info->params.source[j] = ENS_PARAM_FROM_VARIABLE;
        else if (nc_get_att_double(s->ncid, NC_GLOBAL, att, &info->params.shared[j]) == NC_NOERR)
            info->params.source[j] = ENS_PARAM_FROM_ATTRIBUTE;
        else
            s->param_id[j] = -1;
    }
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
    find_params(s, info);
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
    s->vector = model->var_names[0] == NULL;
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
    if (s->vector) {
        /* X(member, time, k) at one time: (member, k), transposed to SoA. */
        size_t start[3] = {(size_t)m0, (size_t)s->time_index, 0}, cnt[3] = {n, 1, V};
        st = nc_get_vara_double(s->ncid, s->state_id[0], start, cnt, s->scratch);
        for (size_t i = 0; st == NC_NOERR && i < n; i++)
            for (size_t v = 0; v < V; v++)
                state[v * n + i] = s->scratch[i * V + v];
    } else {
        for (size_t v = 0; st == NC_NOERR && v < V; v++) {
            size_t start[2] = {(size_t)m0, (size_t)s->time_index}, cnt[2] = {n, 1};
            st = nc_get_vara_double(s->ncid, s->state_id[v], start, cnt, state + v * n);
        }
    }
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

void ens_nc_source_close(ens_nc_source *s)
{
    if (!s)
        return;
    nc_close(s->ncid);
    free(s->scratch);
    free(s->path);
    free(s);
}
