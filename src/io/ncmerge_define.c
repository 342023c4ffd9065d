/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The merge's definition of the merged file: piece 0's dimensions (the
 * member dimension at the ensemble's length), its variables with their
 * storage, filters, quantization, fill and attributes (state variables
 * chunked as a single-process run chunks them), and its global attributes
 * less the piece's own, with the merge's line put before its history.
 */
#include "io/nc_common.h"
#include "io/ncmerge_impl.h"
#include "io/ncwriter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>
#include <netcdf_filter.h>

/* HDF5 filters that merging copies: deflate, shuffle, fletcher32. */
#define FILTER_DEFLATE 1
#define FILTER_SHUFFLE 2
#define FILTER_FLETCHER32 3
#define MAX_FILTERS 16

/* One variable of piece 0 (v) being defined in the output (nv). */
typedef struct var_def {
    int v, nv;
    const char *name;
    int n2d;       /* 2-D state variables of the file */
    int in_mdim;   /* piece 0's member dimension */
} var_def;

static ens_status read_check(const ens_merge *m, int st, const char *what)
{
    return ens_merge_read_check(m->err, st, m->pieces[0].path, what);
}

/* A definition's NetCDF status: ENS_OK, or a failure naming the part of
 * the variable defined. */
static ens_status defined(const ens_merge *m, const var_def *d, int st, const char *what)
{
    return ens_nc_check(m->err, st, "cannot define the %s of variable %s in '%s'", what,
                        d->name, m->partial);
}

/* ---- one variable --------------------------------------------------------- */

/* Chunk shape of a state variable of the merged file, as the writer would
 * choose it for the whole ensemble. */
static int state_chunks(int ncid, int varid, int n2d, long long total, size_t chunk[3])
{
    nc_type type;
    int ndims, dims[3], st;
    size_t ntimes, nvec = 1;
    if ((st = nc_inq_var(ncid, varid, NULL, &type, &ndims, dims, NULL)) != NC_NOERR ||
        (st = nc_inq_dimlen(ncid, dims[0], &ntimes)) != NC_NOERR ||
        (ndims == 3 && (st = nc_inq_dimlen(ncid, dims[2], &nvec)) != NC_NOERR))
        return st;
    ens_nc_state_chunks(type == NC_DOUBLE, ndims == 3, ndims == 3 ? (int)nvec : n2d, total,
                        (long long)ntimes, chunk);
    return NC_NOERR;
}

static ens_status define_storage(ens_merge *m, const var_def *d)
{
    const int in = m->in0;
    int storage = NC_CONTIGUOUS, ndims = 0, dims[NC_MAX_VAR_DIMS];
    size_t chunk[NC_MAX_VAR_DIMS];
    ENS_CHECK(read_check(m, nc_inq_varndims(in, d->v, &ndims), d->name));
    ENS_CHECK(read_check(m, nc_inq_vardimid(in, d->v, dims), d->name));
    ENS_CHECK(read_check(m, nc_inq_var_chunking(in, d->v, &storage, ndims ? chunk : NULL),
                         d->name));
    int has_member = 0;
    for (int i = 0; i < ndims; i++)
        has_member |= dims[i] == d->in_mdim;

    int st = NC_NOERR;
    if (ens_merge_is_state(in, d->v, d->in_mdim)) {
        size_t c3[3];
        ENS_CHECK(read_check(m, state_chunks(in, d->v, d->n2d, m->total, c3), d->name));
        st = nc_def_var_chunking(m->out, d->nv, NC_CHUNKED, c3);
    } else if (storage == NC_CHUNKED && ndims > 0) {
        /* Per-member variables as the writer chunks them for the whole
         * ensemble (a piece's chunks are cut to its members). */
        size_t rows = 1;
        for (int i = 0; i < ndims; i++)
            rows *= dims[i] == d->in_mdim ? 1 : chunk[i];
        for (int i = 0; i < ndims; i++)
            if (dims[i] == d->in_mdim)
                chunk[i] = ens_nc_member_chunk(m->total, rows);
        st = nc_def_var_chunking(m->out, d->nv, NC_CHUNKED, chunk);
#ifdef NC_COMPACT
    } else if (storage == NC_COMPACT && !has_member) {
        st = nc_def_var_chunking(m->out, d->nv, NC_COMPACT, NULL);
#endif
    } else if (ndims > 0) {
        /* Compact storage has a size limit the full member count may pass. */
        st = nc_def_var_chunking(m->out, d->nv, NC_CONTIGUOUS, NULL);
    }
    return defined(m, d, st, "storage");
}

/* Filters: only those the writer can set are copied, none dropped. */
static ens_status copy_filters(ens_merge *m, const var_def *d)
{
    const int in = m->in0;
    size_t nfilters = 0;
    unsigned int ids[MAX_FILTERS];
    int st = nc_inq_var_filter_ids(in, d->v, &nfilters, NULL);
    if (st == NC_NOERR && nfilters > MAX_FILTERS)
        st = NC_EFILTER;
    if (st == NC_NOERR)
        st = nc_inq_var_filter_ids(in, d->v, &nfilters, ids);
    ENS_CHECK(read_check(m, st, d->name));
    for (size_t i = 0; i < nfilters; i++)
        if (ids[i] != FILTER_DEFLATE && ids[i] != FILTER_SHUFFLE && ids[i] != FILTER_FLETCHER32)
            return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                            "variable %s of '%s' uses HDF5 filter %u, which merging "
                            "cannot copy",
                            d->name, m->pieces[0].path, ids[i]);
    if (nfilters == 0)
        return ENS_OK;
    int shuffle = 0, deflate = 0, level = 0, fletcher = 0;
    ENS_CHECK(read_check(m, nc_inq_var_deflate(in, d->v, &shuffle, &deflate, &level), d->name));
    ENS_CHECK(read_check(m, nc_inq_var_fletcher32(in, d->v, &fletcher), d->name));
    if (shuffle || deflate)
        ENS_CHECK(defined(m, d, nc_def_var_deflate(m->out, d->nv, shuffle, deflate,
                                                   deflate ? level : 0),
                          "compression"));
    if (fletcher)
        ENS_CHECK(defined(m, d, nc_def_var_fletcher32(m->out, d->nv, NC_FLETCHER32),
                          "compression"));
    return ENS_OK;
}

/* BitRound of rounded values changes nothing, so the library may round
 * again and write its own attribute. The other modes are not exact under
 * a second pass (BitGroom alternates by position in the write): their
 * values and attribute are copied as they are. *bitround: whether the
 * library writes the attribute. */
static ens_status copy_quantize(ens_merge *m, const var_def *d, int *bitround)
{
    int qmode = NC_NOQUANTIZE, nsd = 0;
    int st = nc_inq_var_quantize(m->in0, d->v, &qmode, &nsd);
    if (st == NC_EINVAL) { /* a type that cannot be quantized */
        st = NC_NOERR;
        qmode = NC_NOQUANTIZE;
    }
    ENS_CHECK(read_check(m, st, d->name));
    *bitround = qmode == NC_QUANTIZE_BITROUND;
    if (*bitround)
        ENS_CHECK(defined(m, d, nc_def_var_quantize(m->out, d->nv, qmode, nsd), "quantization"));
    return ENS_OK;
}

static ens_status copy_fill_and_atts(ens_merge *m, const var_def *d, int bitround)
{
    int no_fill = 0, natts = 0;
    ENS_CHECK(read_check(m, nc_inq_var_fill(m->in0, d->v, &no_fill, NULL), d->name));
    if (no_fill)
        ENS_CHECK(defined(m, d, nc_def_var_fill(m->out, d->nv, NC_NOFILL, NULL), "fill mode"));
    ENS_CHECK(read_check(m, nc_inq_varnatts(m->in0, d->v, &natts), d->name));
    for (int i = 0; i < natts; i++) {
        char att[NC_MAX_NAME + 1];
        ENS_CHECK(read_check(m, nc_inq_attname(m->in0, d->v, i, att), d->name));
        if (bitround && strncmp(att, "_Quantize", 9) == 0)
            continue;
        ENS_CHECK(defined(m, d, nc_copy_att(m->in0, d->v, att, m->out, d->nv), "attributes"));
    }
    return ENS_OK;
}

/* Variable v of piece 0 in the output, with everything but its data. */
static ens_status define_var(ens_merge *m, int v, int n2d, int in_mdim)
{
    const int in = m->in0;
    const char *src = m->pieces[0].path;
    char name[NC_MAX_NAME + 1];
    nc_type type;
    int nd = 0, dims[NC_MAX_VAR_DIMS], odims[NC_MAX_VAR_DIMS], nv, bitround;
    ENS_CHECK(read_check(m, nc_inq_var(in, v, name, &type, &nd, dims, NULL), "the variables"));
    if (type > NC_MAX_ATOMIC_TYPE)
        return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                        "variable %s of '%s' has a user-defined type, which merging "
                        "cannot copy",
                        name, src);
    for (int i = 0; i < nd; i++) {
        char dname[NC_MAX_NAME + 1];
        ENS_CHECK(read_check(m, nc_inq_dimname(in, dims[i], dname), name));
        if (nc_inq_dimid(m->out, dname, &odims[i]) != NC_NOERR)
            return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                            "variable %s of '%s' uses dimension %s of a parent group, "
                            "which merging cannot copy",
                            name, src, dname);
    }
    ENS_CHECK(ens_nc_check(m->err, nc_def_var(m->out, name, type, nd, odims, &nv),
                           "cannot define variable %s in '%s'", name, m->partial));
    const var_def d = {v, nv, name, n2d, in_mdim};
    ENS_CHECK(define_storage(m, &d));
    ENS_CHECK(copy_filters(m, &d));
    ENS_CHECK(copy_quantize(m, &d, &bitround));
    return copy_fill_and_atts(m, &d, bitround);
}

/* ---- the file -------------------------------------------------------------- */

static ens_status define_dims(ens_merge *m)
{
    const int in = m->in0;
    int ndims = 0, nunlim = 0, ids[NC_MAX_DIMS], unlim[NC_MAX_DIMS], in_mdim;
    char name[NC_MAX_NAME + 1];
    size_t len;
    int st = nc_inq_dimids(in, &ndims, NULL, 0);
    if (st == NC_NOERR && ndims > NC_MAX_DIMS)
        st = NC_EMAXDIMS;
    ENS_CHECK(read_check(m, st, "the dimensions"));
    ENS_CHECK(read_check(m, nc_inq_dimids(in, &ndims, ids, 0), "the dimensions"));
    ENS_CHECK(read_check(m, nc_inq_unlimdims(in, &nunlim, unlim), "the dimensions"));
    ENS_CHECK(read_check(m, nc_inq_dimid(in, MEMBER_DIM, &in_mdim), "the dimensions"));
    for (int i = 0; i < ndims; i++) {
        int is_unlim = 0, id;
        ENS_CHECK(read_check(m, nc_inq_dim(in, ids[i], name, &len), "the dimensions"));
        for (int u = 0; u < nunlim; u++)
            is_unlim |= unlim[u] == ids[i];
        if (ids[i] == in_mdim)
            len = (size_t)m->total;
        ENS_CHECK(ens_nc_check(m->err, nc_def_dim(m->out, name, is_unlim ? NC_UNLIMITED : len, &id),
                               "cannot define dimension %s in '%s'", name, m->partial));
    }
    int out_mdim;
    if (nc_inq_dimid(m->out, MEMBER_DIM, &out_mdim) != NC_NOERR)
        return ens_fail(m->err, ENS_ERR_INTERNAL, "'%s': no member dimension", m->partial);
    return ENS_OK;
}

static ens_status define_vars(ens_merge *m)
{
    int nvars = 0, n2d = 0, in_mdim;
    ENS_CHECK(read_check(m, nc_inq_dimid(m->in0, MEMBER_DIM, &in_mdim), "the dimensions"));
    ENS_CHECK(read_check(m, nc_inq_nvars(m->in0, &nvars), "the variables"));
    /* For 2-D state variables the writer's chunk call takes the count of
     * state variables (it does not change their shape, but pass it). */
    for (int v = 0; v < nvars; v++) {
        int nd = 0;
        if (ens_merge_is_state(m->in0, v, in_mdim) && nc_inq_varndims(m->in0, v, &nd) == NC_NOERR &&
            nd == 2)
            n2d++;
    }
    for (int v = 0; v < nvars; v++)
        ENS_CHECK(define_var(m, v, n2d, in_mdim));
    return ENS_OK;
}

/* history: the merge's line first, then piece 0's lines (NCO's order),
 * whole: histories grow with each tool. Returns a NetCDF status. */
static int put_history(ens_merge *m, const char *history)
{
    char stamp[32], *old = NULL;
    ens_nc_utc_stamp(stamp, sizeof stamp);
    int st = ens_nc_get_text(m->in0, NC_GLOBAL, "history", &old);
    if (st != NC_NOERR)
        return st;
    char *h = ens_nc_history_text(stamp, history && history[0] ? history : "ensol merge", old);
    st = h ? nc_put_att_text(m->out, NC_GLOBAL, "history", strlen(h), h) : NC_ENOMEM;
    free(h);
    free(old);
    return st;
}

/* Piece 0's global attributes less the piece's own; history extended. */
static ens_status copy_globals(ens_merge *m, const char *history)
{
    int natts = 0, have_history = 0;
    char name[NC_MAX_NAME + 1];
    ENS_CHECK(read_check(m, nc_inq_natts(m->in0, &natts), "the global attributes"));
    for (int i = 0; i < natts; i++) {
        ENS_CHECK(read_check(m, nc_inq_attname(m->in0, NC_GLOBAL, i, name),
                             "the global attributes"));
        if (strcmp(name, ENS_NC_PIECE_FIRST) == 0 || strcmp(name, ENS_NC_PIECE_TOTAL) == 0)
            continue;
        int st;
        if (strcmp(name, "history") == 0) {
            have_history = 1;
            st = put_history(m, history);
        } else {
            st = nc_copy_att(m->in0, NC_GLOBAL, name, m->out, NC_GLOBAL);
        }
        ENS_CHECK(ens_nc_check(m->err, st, "cannot write global attribute %s to '%s'", name,
                               m->partial));
    }
    if (!have_history)
        ENS_CHECK(ens_nc_check(m->err, put_history(m, history),
                               "cannot write global attribute history to '%s'", m->partial));
    return ENS_OK;
}

ens_status ens_merge_define_output(ens_merge *m, const char *history)
{
    ENS_CHECK(define_dims(m));
    ENS_CHECK(define_vars(m));
    ENS_CHECK(copy_globals(m, history));
    return ens_nc_check(m->err, nc_enddef(m->out), "cannot write the header of '%s'", m->partial);
}
