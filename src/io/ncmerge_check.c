/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The merge's check of its pieces, before anything is written (see
 * ncmerge.h): each is a complete piece of an ensemble, together they cover
 * it exactly once, each pair comes from one run (dimensions, member
 * variables, times and global attributes agree), and the output overwrites
 * none of them. Also the reading helpers the other merge files share.
 */
#include "io/nc_common.h"
#include "io/ncmerge_impl.h"
#include "io/ncwriter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <netcdf.h>

ens_status ens_merge_read_check(ens_error *err, int st, const char *path, const char *what)
{
    return ens_nc_check(err, st, "cannot read %s of '%s'", what, path);
}

/* Global attributes that may differ between the pieces of one run. */
static int exempt_global(const char *name)
{
    static const char *const names[] = {"history", "date_created", ENS_NC_PIECE_FIRST,
                                        ENS_NC_PIECE_TOTAL, "device", "backend"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static int is_integer_type(nc_type t)
{
    return t == NC_BYTE || t == NC_UBYTE || t == NC_SHORT || t == NC_USHORT || t == NC_INT ||
           t == NC_UINT || t == NC_INT64 || t == NC_UINT64;
}

/* What get_int_att found. */
typedef enum int_att {
    INT_ATT_ABSENT,
    INT_ATT_READ,
    INT_ATT_NOT_ONE_INTEGER
} int_att;

/* A one-integer global attribute. */
static int_att get_int_att(int ncid, const char *name, long long *value)
{
    nc_type type;
    size_t len;
    if (nc_inq_att(ncid, NC_GLOBAL, name, &type, &len) != NC_NOERR)
        return INT_ATT_ABSENT;
    if (!is_integer_type(type) || len != 1 ||
        nc_get_att_longlong(ncid, NC_GLOBAL, name, value) != NC_NOERR)
        return INT_ATT_NOT_ONE_INTEGER;
    return INT_ATT_READ;
}

/* A text attribute, NUL-terminated and cut to size; "" when absent. */
static void get_text_att(int ncid, int varid, const char *name, char *buf, size_t size)
{
    char *s = NULL;
    buf[0] = '\0';
    if (ens_nc_get_text(ncid, varid, name, &s) == NC_NOERR && s)
        snprintf(buf, size, "%s", s);
    free(s);
}

/* An attribute's value in a few words, for a message. */
static void describe_att(int ncid, int varid, const char *name, char *buf, size_t size)
{
    nc_type type;
    size_t len;
    if (nc_inq_att(ncid, varid, name, &type, &len) != NC_NOERR) {
        snprintf(buf, size, "absent");
        return;
    }
    if (type == NC_CHAR || type == NC_STRING) {
        char text[64];
        get_text_att(ncid, varid, name, text, sizeof text);
        snprintf(buf, size, "\"%s%s\"", text, strlen(text) + 1 >= sizeof text ? "..." : "");
        return;
    }
    if (type > NC_MAX_ATOMIC_TYPE || len == 0) {
        snprintf(buf, size, "%zu values of type %d", len, (int)type);
        return;
    }
    /* Every value is read (the call has no count); the first few shown. */
    int is_float = type == NC_FLOAT || type == NC_DOUBLE;
    int is_unsigned = type == NC_UBYTE || type == NC_USHORT || type == NC_UINT ||
                      type == NC_UINT64;
    double *d = is_float ? malloc(len * sizeof *d) : NULL;
    unsigned long long *u = is_unsigned ? malloc(len * sizeof *u) : NULL;
    long long *s = !is_float && !is_unsigned ? malloc(len * sizeof *s) : NULL;
    int ok = d   ? nc_get_att_double(ncid, varid, name, d) == NC_NOERR
             : u ? nc_get_att_ulonglong(ncid, varid, name, u) == NC_NOERR
             : s ? nc_get_att_longlong(ncid, varid, name, s) == NC_NOERR
                 : 0;
    size_t shown = len < 4 ? len : 4, used = 0;
    buf[0] = '\0';
    for (size_t i = 0; ok && i < shown && used < size; i++) {
        const char *sep = i ? " " : "";
        int n = d   ? snprintf(buf + used, size - used, "%s%.17g", sep, d[i])
                : u ? snprintf(buf + used, size - used, "%s%llu", sep, u[i])
                    : snprintf(buf + used, size - used, "%s%lld", sep, s[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (!ok)
        snprintf(buf, size, "%zu unreadable values", len);
    else if (len > shown && used < size)
        snprintf(buf + used, size - used, " ... (%zu values)", len);
    free(d);
    free(u);
    free(s);
}

/* Whether attribute `name` of (a, va) and (b, vb) differ in type, length
 * or value (*differs), or NetCDF's status when one cannot be read. */
static int att_differs(int a, int va, int b, int vb, const char *name, int *differs)
{
    nc_type ta, tb;
    size_t la, lb, es;
    int st;
    *differs = 1;
    if (nc_inq_att(b, vb, name, &tb, &lb) != NC_NOERR)
        return NC_NOERR;
    if ((st = nc_inq_att(a, va, name, &ta, &la)) != NC_NOERR)
        return st;
    if (ta != tb || la != lb || ta > NC_MAX_ATOMIC_TYPE)
        return NC_NOERR;
    if (la == 0) {
        *differs = 0;
        return NC_NOERR;
    }
    if (ta == NC_STRING) {
        char **sa = calloc(la, sizeof *sa), **sb = calloc(la, sizeof *sb);
        st = sa && sb ? NC_NOERR : NC_ENOMEM;
        if (st == NC_NOERR && (st = nc_get_att_string(a, va, name, sa)) == NC_NOERR) {
            if ((st = nc_get_att_string(b, vb, name, sb)) == NC_NOERR) {
                *differs = 0;
                for (size_t i = 0; i < la; i++)
                    if (strcmp(sa[i] ? sa[i] : "", sb[i] ? sb[i] : "") != 0)
                        *differs = 1;
                nc_free_string(la, sb);
            }
            nc_free_string(la, sa);
        }
        free(sa);
        free(sb);
        return st;
    }
    if ((st = nc_inq_type(a, ta, NULL, &es)) != NC_NOERR)
        return st;
    char *xa = malloc(la * es), *xb = malloc(la * es);
    st = xa && xb ? NC_NOERR : NC_ENOMEM;
    if (st == NC_NOERR && (st = nc_get_att(a, va, name, xa)) == NC_NOERR &&
        (st = nc_get_att(b, vb, name, xb)) == NC_NOERR)
        *differs = memcmp(xa, xb, la * es) != 0;
    free(xa);
    free(xb);
    return st;
}

/* ---- the pieces' headers ------------------------------------------------ */

ens_status ens_merge_open_piece(const char *path, int *ncid, ens_error *err)
{
    int st = nc_open(path, NC_NOWRITE, ncid);
    if (st == NC_NOERR)
        return ENS_OK;
    *ncid = -1;
    /* HDF5 says "HDF error" for a missing permission; errno says which. */
    FILE *probe = fopen(path, "rb");
    const char *why = probe ? nc_strerror(st) : strerror(errno);
    if (probe)
        fclose(probe);
    return ens_fail(err, ENS_ERR_IO, "cannot open piece '%s': %s", path, why);
}

/* A complete piece: where it lies in which ensemble. */
static ens_status check_piece_header(int ncid, ens_piece *p, ens_error *err)
{
    ens_status rc = ENS_OK;
    char reason[256];
    int dim;
    size_t len = 0;
    const int_att has_first = get_int_att(ncid, ENS_NC_PIECE_FIRST, &p->first);
    const int_att has_total = get_int_att(ncid, ENS_NC_PIECE_TOTAL, &p->total);
    if (has_first == INT_ATT_ABSENT)
        rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                      "'%s' is not a piece of an ensemble (no %s attribute); it is complete "
                      "already or not an ensol file",
                      p->path, ENS_NC_PIECE_FIRST);
    else if (has_first != INT_ATT_READ || has_total != INT_ATT_READ)
        rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                      "'%s': attributes %s and %s must each be one integer", p->path,
                      ENS_NC_PIECE_FIRST, ENS_NC_PIECE_TOTAL);
    else if (nc_inq_att(ncid, NC_GLOBAL, "incomplete", NULL, NULL) == NC_NOERR) {
        get_text_att(ncid, NC_GLOBAL, "incomplete", reason, sizeof reason);
        rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                      "'%s' is from a run that was stopped before its end (%s); only complete "
                      "pieces can be merged",
                      p->path, reason[0] ? reason : "incomplete");
    } else if (nc_inq_dimid(ncid, MEMBER_DIM, &dim) != NC_NOERR ||
               nc_inq_dimlen(ncid, dim, &len) != NC_NOERR)
        rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "'%s' has no %s dimension", p->path,
                      MEMBER_DIM);
    else {
        p->members = (long long)len;
        if (p->total < 1 || p->first < 0 || p->members < 1 ||
            p->first > p->total - p->members)
            rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                          "'%s' holds members %lld..%lld, not within an ensemble of %lld",
                          p->path, p->first, p->first + p->members - 1, p->total);
    }
    return rc;
}

ens_status ens_merge_read_piece(ens_piece *p, ens_error *err)
{
    int ncid;
    ENS_CHECK(ens_merge_open_piece(p->path, &ncid, err));
    ens_status st;
    ENS_TRY(check_piece_header(ncid, p, err));
done:;
    const int closed = nc_close(ncid);
    if (st == ENS_OK && closed != NC_NOERR)
        st = ens_fail(err, ENS_ERR_IO, "cannot close piece '%s': %s", p->path,
                      nc_strerror(closed));
    return st;
}

static int by_first_member(const void *a, const void *b)
{
    const ens_piece *p = a, *q = b;
    if (p->first != q->first)
        return p->first < q->first ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

void ens_merge_sort_pieces(ens_piece *ps, int n)
{
    qsort(ps, (size_t)n, sizeof *ps, by_first_member);
}

/* Every member in exactly one piece, all of one ensemble size. */
ens_status ens_merge_check_coverage(const ens_piece *ps, int n, ens_error *err)
{
    const long long total = ps[0].total;
    long long next = 0;
    for (int i = 0; i < n; i++) {
        const ens_piece *p = &ps[i], *prev = i ? &ps[i - 1] : NULL;
        if (p->total != total)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "'%s' is a piece of an ensemble of %lld members, '%s' of %lld: "
                            "not pieces of one run",
                            ps[0].path, total, p->path, p->total);
        if (p->first > next) {
            if (prev)
                return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                                "members %lld..%lld are in no piece (between '%s' and '%s')",
                                next, p->first - 1, prev->path, p->path);
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "members %lld..%lld are in no piece (the first, '%s', starts at "
                            "member %lld)",
                            next, p->first - 1, p->path, p->first);
        }
        if (p->first < next && strcmp(p->path, prev->path) == 0)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "piece '%s' is given twice",
                            p->path);
        if (p->first < next)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            "pieces '%s' (members %lld..%lld) and '%s' (members %lld..%lld) "
                            "overlap",
                            prev->path, prev->first, prev->first + prev->members - 1, p->path,
                            p->first, p->first + p->members - 1);
        next = p->first + p->members;
    }
    if (next < total)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "members %lld..%lld are in no piece (the last, '%s', ends at member "
                        "%lld)",
                        next, total - 1, ps[n - 1].path, next - 1);
    return ENS_OK;
}

/* ---- one run ------------------------------------------------------------ */

#define NOT_ONE_RUN "'%s' and '%s' are not pieces of one run: "

int ens_merge_member_index(int ncid, int varid, int member_dim, int *at)
{
    int ndims = 0, dims[NC_MAX_VAR_DIMS];
    *at = -1;
    if (nc_inq_varndims(ncid, varid, &ndims) != NC_NOERR || ndims > NC_MAX_VAR_DIMS ||
        nc_inq_vardimid(ncid, varid, dims) != NC_NOERR)
        return 0;
    for (int i = 0; i < ndims; i++)
        if (dims[i] == member_dim) {
            *at = i;
            return 1;
        }
    return 0;
}

static ens_status same_dims(int a, const char *pa, int b, const char *pb, ens_error *err)
{
    int na = 0, nb = 0, ids[NC_MAX_DIMS];
    char name[NC_MAX_NAME + 1];
    size_t la, lb;
    int st, other;
    if ((st = nc_inq_dimids(a, &na, NULL, 0)) != NC_NOERR || na > NC_MAX_DIMS ||
        (st = nc_inq_dimids(a, &na, ids, 0)) != NC_NOERR)
        return ens_merge_read_check(err, st ? st : NC_EMAXDIMS, pa, "the dimensions");
    for (int i = 0; i < na; i++) {
        if ((st = nc_inq_dim(a, ids[i], name, &la)) != NC_NOERR)
            return ens_merge_read_check(err, st, pa, "the dimensions");
        if (nc_inq_dimid(b, name, &other) != NC_NOERR)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "dimension %s is in the first, not in the second", pa,
                            pb, name);
        if ((st = nc_inq_dimlen(b, other, &lb)) != NC_NOERR)
            return ens_merge_read_check(err, st, pb, "the dimensions");
        if (la != lb && strcmp(name, MEMBER_DIM) != 0)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "dimension %s has length %zu in the first, %zu in the "
                            "second",
                            pa, pb, name, la, lb);
    }
    if ((st = nc_inq_dimids(b, &nb, NULL, 0)) != NC_NOERR || nb > NC_MAX_DIMS ||
        (st = nc_inq_dimids(b, &nb, ids, 0)) != NC_NOERR)
        return ens_merge_read_check(err, st ? st : NC_EMAXDIMS, pb, "the dimensions");
    for (int i = 0; i < nb; i++) {
        if ((st = nc_inq_dimname(b, ids[i], name)) != NC_NOERR)
            return ens_merge_read_check(err, st, pb, "the dimensions");
        if (nc_inq_dimid(a, name, &other) != NC_NOERR)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "dimension %s is in the second, not in the first", pa,
                            pb, name);
    }
    return ENS_OK;
}

/* Type and dimension names of one variable equal in both files. */
static int same_shape(int a, int va, int b, int vb)
{
    nc_type ta, tb;
    int na, nb, da[NC_MAX_VAR_DIMS], db[NC_MAX_VAR_DIMS];
    if (nc_inq_var(a, va, NULL, &ta, &na, NULL, NULL) != NC_NOERR ||
        nc_inq_var(b, vb, NULL, &tb, &nb, NULL, NULL) != NC_NOERR || ta != tb || na != nb ||
        na > NC_MAX_VAR_DIMS || nc_inq_vardimid(a, va, da) != NC_NOERR ||
        nc_inq_vardimid(b, vb, db) != NC_NOERR)
        return 0;
    for (int i = 0; i < na; i++) {
        char x[NC_MAX_NAME + 1], y[NC_MAX_NAME + 1];
        if (nc_inq_dimname(a, da[i], x) != NC_NOERR || nc_inq_dimname(b, db[i], y) != NC_NOERR ||
            strcmp(x, y) != 0)
            return 0;
    }
    return 1;
}

/* "double(member, time)", for a message. */
static void shape_text(int ncid, int varid, char *buf, size_t size)
{
    nc_type type;
    int nd = 0, dims[NC_MAX_VAR_DIMS];
    char name[NC_MAX_NAME + 1] = "?";
    size_t used;
    if (nc_inq_var(ncid, varid, NULL, &type, &nd, dims, NULL) != NC_NOERR) {
        snprintf(buf, size, "unreadable");
        return;
    }
    nc_inq_type(ncid, type, name, NULL);
    snprintf(buf, size, "%s(", name);
    for (int i = 0; i < nd; i++) {
        snprintf(name, sizeof name, "?");
        nc_inq_dimname(ncid, dims[i], name);
        used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "", name);
    }
    used = strlen(buf);
    snprintf(buf + used, size - used, ")");
}

/* Member-dimension variables of `a` all in `b` with the same shape. */
static ens_status member_vars_in(int a, const char *pa, int b, const char *pb, int a_first,
                                 ens_error *err)
{
    int nvars = 0, mdim, at, vb, st;
    char name[NC_MAX_NAME + 1];
    if ((st = nc_inq_nvars(a, &nvars)) != NC_NOERR ||
        (st = nc_inq_dimid(a, MEMBER_DIM, &mdim)) != NC_NOERR)
        return ens_merge_read_check(err, st, pa, "the variables");
    for (int v = 0; v < nvars; v++) {
        if (!ens_merge_member_index(a, v, mdim, &at))
            continue;
        if ((st = nc_inq_varname(a, v, name)) != NC_NOERR)
            return ens_merge_read_check(err, st, pa, "the variables");
        if (nc_inq_varid(b, name, &vb) != NC_NOERR)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "variable %s is in '%s' only", a_first ? pa : pb,
                            a_first ? pb : pa, name, pa);
        if (!same_shape(a, v, b, vb)) {
            char sa[256], sb[256];
            shape_text(a_first ? a : b, a_first ? v : vb, sa, sizeof sa);
            shape_text(a_first ? b : a, a_first ? vb : v, sb, sizeof sb);
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "variable %s is %s in the first, %s in the second",
                            a_first ? pa : pb, a_first ? pb : pa, name, sa, sb);
        }
    }
    return ENS_OK;
}

static ens_status same_times(int a, const char *pa, int b, const char *pb, ens_error *err)
{
    int va, vb, st;
    size_t n = 0;
    int ha = nc_inq_varid(a, TIME_NAME, &va) == NC_NOERR;
    int hb = nc_inq_varid(b, TIME_NAME, &vb) == NC_NOERR;
    if (ha != hb)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        NOT_ONE_RUN "variable time is in '%s' only", pa, pb, ha ? pa : pb);
    if (!ha)
        return ENS_OK;
    int ndims = 0, dim;
    if (!same_shape(a, va, b, vb) || nc_inq_varndims(a, va, &ndims) != NC_NOERR || ndims != 1)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        NOT_ONE_RUN "variable time has different types or dimensions", pa, pb);
    if ((st = nc_inq_vardimid(a, va, &dim)) != NC_NOERR ||
        (st = nc_inq_dimlen(a, dim, &n)) != NC_NOERR)
        return ens_merge_read_check(err, st, pa, "the time dimension");
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    ens_status rc = ENS_OK;
    if (!x || !y)
        rc = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory for %zu times", n);
    else if ((st = nc_get_var_double(a, va, x)) != NC_NOERR)
        rc = ens_merge_read_check(err, st, pa, "variable time");
    else if ((st = nc_get_var_double(b, vb, y)) != NC_NOERR)
        rc = ens_merge_read_check(err, st, pb, "variable time");
    else
        for (size_t i = 0; i < n; i++)
            if (memcmp(&x[i], &y[i], sizeof x[i]) != 0) {
                rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                              NOT_ONE_RUN "their times differ (time[%zu] is %.17g in the "
                              "first, %.17g in the second)",
                              pa, pb, i, x[i], y[i]);
                break;
            }
    free(x);
    free(y);
    return rc;
}

static ens_status same_globals(int a, const char *pa, int b, const char *pb, ens_error *err)
{
    char name[NC_MAX_NAME + 1], va[160], vb[160];
    int n = 0, st, differs;
    if ((st = nc_inq_natts(a, &n)) != NC_NOERR)
        return ens_merge_read_check(err, st, pa, "the global attributes");
    for (int i = 0; i < n; i++) {
        if ((st = nc_inq_attname(a, NC_GLOBAL, i, name)) != NC_NOERR)
            return ens_merge_read_check(err, st, pa, "the global attributes");
        if (exempt_global(name))
            continue;
        if ((st = att_differs(a, NC_GLOBAL, b, NC_GLOBAL, name, &differs)) != NC_NOERR)
            return ens_merge_read_check(err, st, pb, "the global attributes");
        if (differs) {
            describe_att(a, NC_GLOBAL, name, va, sizeof va);
            describe_att(b, NC_GLOBAL, name, vb, sizeof vb);
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "global attribute %s is %s in the first, %s in the "
                            "second",
                            pa, pb, name, va, vb);
        }
    }
    if ((st = nc_inq_natts(b, &n)) != NC_NOERR)
        return ens_merge_read_check(err, st, pb, "the global attributes");
    for (int i = 0; i < n; i++) {
        if ((st = nc_inq_attname(b, NC_GLOBAL, i, name)) != NC_NOERR)
            return ens_merge_read_check(err, st, pb, "the global attributes");
        if (!exempt_global(name) && nc_inq_att(a, NC_GLOBAL, name, NULL, NULL) != NC_NOERR) {
            describe_att(b, NC_GLOBAL, name, vb, sizeof vb);
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "global attribute %s is absent in the first, %s in the "
                            "second",
                            pa, pb, name, vb);
        }
    }
    return ENS_OK;
}

ens_status ens_merge_same_run(int a, const char *pa, int b, const char *pb, ens_error *err)
{
    ENS_CHECK(same_dims(a, pa, b, pb, err));
    ENS_CHECK(member_vars_in(a, pa, b, pb, 1, err));
    ENS_CHECK(member_vars_in(b, pb, a, pa, 0, err));
    ENS_CHECK(same_times(a, pa, b, pb, err));
    return same_globals(a, pa, b, pb, err);
}

/* ---- the output and the pieces ---------------------------------------------- */

ens_status ens_merge_check_output(const ens_merge *m)
{
    struct stat so, sp, sq;
    int have_out = stat(m->output, &so) == 0, have_partial = stat(m->partial, &sp) == 0;
    for (int i = 0; i < m->npieces; i++) {
        const char *p = m->pieces[i].path;
        int same_out = strcmp(p, m->output) == 0, same_partial = strcmp(p, m->partial) == 0;
        if (!same_out && !same_partial && stat(p, &sq) == 0) {
            same_out = have_out && so.st_dev == sq.st_dev && so.st_ino == sq.st_ino;
            same_partial = have_partial && sp.st_dev == sq.st_dev && sp.st_ino == sq.st_ino;
        }
        if (same_out)
            return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                            "the output '%s' is the piece '%s': merging would overwrite it; "
                            "name another output",
                            m->output, p);
        if (same_partial)
            return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                            "the output's temporary file '%s' is the piece '%s': merging would "
                            "overwrite it; name another output",
                            m->partial, p);
    }
    return ENS_OK;
}

int ens_merge_is_state(int ncid, int varid, int member_dim)
{
    nc_type type;
    int ndims = 0, dims[NC_MAX_VAR_DIMS];
    char name[NC_MAX_NAME + 1];
    if (nc_inq_var(ncid, varid, NULL, &type, &ndims, NULL, NULL) != NC_NOERR ||
        (type != NC_FLOAT && type != NC_DOUBLE) || (ndims != 2 && ndims != 3) ||
        nc_inq_vardimid(ncid, varid, dims) != NC_NOERR || dims[1] != member_dim ||
        nc_inq_dimname(ncid, dims[0], name) != NC_NOERR)
        return 0;
    return strcmp(name, TIME_NAME) == 0;
}
