/*
 * Joining ensemble pieces into one file; see ncmerge.h.
 *
 * The pieces are checked before anything is written: that they cover the
 * ensemble exactly once and come from one run. Then piece 0's header is
 * copied, with the member dimension at its full length and the state
 * variables chunked as a single-process run would chunk them, and the data
 * follows in blocks. Only piece 0 and one other piece are open at a time,
 * so thousands of pieces do not run into the open-file limit.
 */
#define _POSIX_C_SOURCE 200809L

#include "io/ncmerge.h"
#include "io/ncwriter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <netcdf.h>
#include <netcdf_filter.h>

/* Bytes moved per read/write pair (a build may set it small to test the
 * blocking). */
#ifndef COPY_BLOCK_BYTES
#define COPY_BLOCK_BYTES ((size_t)64 * 1024 * 1024)
#endif
/* Chunk cache of all state variables of the output together. */
#define STATE_CACHE_BUDGET ((size_t)256 * 1024 * 1024)
/* Cache of one input variable whose chunks a block cuts across. */
#define INPUT_CACHE_LIMIT ((size_t)256 * 1024 * 1024)

#define MEMBER_DIM "member"
#define TIME_NAME "time"

typedef struct piece {
    const char *path;
    int index;          /* position in the arguments, for a stable sort */
    long long first;    /* ENS_NC_PIECE_FIRST */
    long long total;    /* ENS_NC_PIECE_TOTAL */
    long long members;  /* length of its member dimension */
} piece;

typedef struct merge {
    const char *output;
    char *partial;
    piece *pieces;       /* sorted by first member */
    int npieces;
    int in0;             /* piece 0 (first member 0), open throughout; -1 */
    int in;              /* another piece while it is read; -1 */
    int out;             /* OUTPUT.partial; -1 */
    int made_partial;    /* OUTPUT.partial was created here: remove it on failure */
    long long total;
    void *buf;
    size_t buf_size;
    ens_merge_progress_fn progress;
    void *progress_user;
    double bytes_total;  /* of the member-dimension variables, all pieces */
    double bytes_done;
    ens_error *err;
} merge;

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

/* A one-integer global attribute: 1 read, 0 absent, -1 not one integer. */
static int get_int_att(int ncid, const char *name, long long *value)
{
    nc_type type;
    size_t len;
    if (nc_inq_att(ncid, NC_GLOBAL, name, &type, &len) != NC_NOERR)
        return 0;
    if (!is_integer_type(type) || len != 1 ||
        nc_get_att_longlong(ncid, NC_GLOBAL, name, value) != NC_NOERR)
        return -1;
    return 1;
}

/* A text attribute, NUL-terminated and cut to size; "" when absent. */
static void get_text_att(int ncid, int varid, const char *name, char *buf, size_t size)
{
    nc_type type;
    size_t len;
    buf[0] = '\0';
    if (nc_inq_att(ncid, varid, name, &type, &len) != NC_NOERR)
        return;
    if (type == NC_CHAR) {
        char *s = malloc(len + 1);
        if (s && nc_get_att_text(ncid, varid, name, s) == NC_NOERR) {
            s[len] = '\0';
            snprintf(buf, size, "%s", s);
        }
        free(s);
    } else if (type == NC_STRING && len > 0) {
        char **s = calloc(len, sizeof *s);
        if (s && nc_get_att_string(ncid, varid, name, s) == NC_NOERR) {
            snprintf(buf, size, "%s", s[0] ? s[0] : "");
            nc_free_string(len, s);
        }
        free(s);
    }
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

static ens_status read_error(ens_error *err, const char *path, const char *what, int st)
{
    return ens_fail(err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                    "cannot read %s of '%s': %s", what, path, nc_strerror(st));
}

/* ---- the pieces' headers ------------------------------------------------ */

static ens_status open_piece(const char *path, int *ncid, ens_error *err)
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

static ens_status read_piece(piece *p, ens_error *err)
{
    int ncid, st;
    ens_status rc = open_piece(p->path, &ncid, err);
    if (rc != ENS_OK)
        return rc;
    char reason[256];
    int dim;
    size_t len = 0;
    int has_first = get_int_att(ncid, ENS_NC_PIECE_FIRST, &p->first);
    int has_total = get_int_att(ncid, ENS_NC_PIECE_TOTAL, &p->total);
    if (has_first == 0)
        rc = ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                      "'%s' is not a piece of an ensemble (no %s attribute); it is complete "
                      "already or not an ensol file",
                      p->path, ENS_NC_PIECE_FIRST);
    else if (has_first < 0 || has_total <= 0)
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
    st = nc_close(ncid);
    if (rc == ENS_OK && st != NC_NOERR)
        rc = ens_fail(err, ENS_ERR_IO, "cannot close piece '%s': %s", p->path, nc_strerror(st));
    return rc;
}

static int by_first_member(const void *a, const void *b)
{
    const piece *p = a, *q = b;
    if (p->first != q->first)
        return p->first < q->first ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

/* Every member in exactly one piece, all of one ensemble size. */
static ens_status check_coverage(const piece *ps, int n, ens_error *err)
{
    const long long total = ps[0].total;
    long long next = 0;
    for (int i = 0; i < n; i++) {
        const piece *p = &ps[i], *prev = i ? &ps[i - 1] : NULL;
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

/* Whether variable `varid` has the member dimension; its index in *at. */
static int member_index(int ncid, int varid, int member_dim, int *at)
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
        return read_error(err, pa, "the dimensions", st ? st : NC_EMAXDIMS);
    for (int i = 0; i < na; i++) {
        if ((st = nc_inq_dim(a, ids[i], name, &la)) != NC_NOERR)
            return read_error(err, pa, "the dimensions", st);
        if (nc_inq_dimid(b, name, &other) != NC_NOERR)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "dimension %s is in the first, not in the second", pa,
                            pb, name);
        if ((st = nc_inq_dimlen(b, other, &lb)) != NC_NOERR)
            return read_error(err, pb, "the dimensions", st);
        if (la != lb && strcmp(name, MEMBER_DIM) != 0)
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                            NOT_ONE_RUN "dimension %s has length %zu in the first, %zu in the "
                            "second",
                            pa, pb, name, la, lb);
    }
    if ((st = nc_inq_dimids(b, &nb, NULL, 0)) != NC_NOERR || nb > NC_MAX_DIMS ||
        (st = nc_inq_dimids(b, &nb, ids, 0)) != NC_NOERR)
        return read_error(err, pb, "the dimensions", st ? st : NC_EMAXDIMS);
    for (int i = 0; i < nb; i++) {
        if ((st = nc_inq_dimname(b, ids[i], name)) != NC_NOERR)
            return read_error(err, pb, "the dimensions", st);
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
        return read_error(err, pa, "the variables", st);
    for (int v = 0; v < nvars; v++) {
        if (!member_index(a, v, mdim, &at))
            continue;
        if ((st = nc_inq_varname(a, v, name)) != NC_NOERR)
            return read_error(err, pa, "the variables", st);
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
        return read_error(err, pa, "the time dimension", st);
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    ens_status rc = ENS_OK;
    if (!x || !y)
        rc = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory for %zu times", n);
    else if ((st = nc_get_var_double(a, va, x)) != NC_NOERR)
        rc = read_error(err, pa, "variable time", st);
    else if ((st = nc_get_var_double(b, vb, y)) != NC_NOERR)
        rc = read_error(err, pb, "variable time", st);
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
        return read_error(err, pa, "the global attributes", st);
    for (int i = 0; i < n; i++) {
        if ((st = nc_inq_attname(a, NC_GLOBAL, i, name)) != NC_NOERR)
            return read_error(err, pa, "the global attributes", st);
        if (exempt_global(name))
            continue;
        if ((st = att_differs(a, NC_GLOBAL, b, NC_GLOBAL, name, &differs)) != NC_NOERR)
            return read_error(err, pb, "the global attributes", st);
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
        return read_error(err, pb, "the global attributes", st);
    for (int i = 0; i < n; i++) {
        if ((st = nc_inq_attname(b, NC_GLOBAL, i, name)) != NC_NOERR)
            return read_error(err, pb, "the global attributes", st);
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

static ens_status same_run(int a, const char *pa, int b, const char *pb, ens_error *err)
{
    ens_status rc = same_dims(a, pa, b, pb, err);
    if (rc == ENS_OK)
        rc = member_vars_in(a, pa, b, pb, 1, err);
    if (rc == ENS_OK)
        rc = member_vars_in(b, pb, a, pa, 0, err);
    if (rc == ENS_OK)
        rc = same_times(a, pa, b, pb, err);
    if (rc == ENS_OK)
        rc = same_globals(a, pa, b, pb, err);
    return rc;
}

/* ---- the output --------------------------------------------------------- */

static ens_status check_output(const merge *m)
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

/* A state variable: (member, time[, vector]) float or double. */
static int is_state(int ncid, int varid, int member_dim)
{
    nc_type type;
    int ndims = 0, dims[NC_MAX_VAR_DIMS];
    char name[NC_MAX_NAME + 1];
    if (nc_inq_var(ncid, varid, NULL, &type, &ndims, NULL, NULL) != NC_NOERR ||
        (type != NC_FLOAT && type != NC_DOUBLE) || (ndims != 2 && ndims != 3) ||
        nc_inq_vardimid(ncid, varid, dims) != NC_NOERR || dims[0] != member_dim ||
        nc_inq_dimname(ncid, dims[1], name) != NC_NOERR)
        return 0;
    return strcmp(name, TIME_NAME) == 0;
}

/* Chunk shape of a state variable of the merged file, as the writer would
 * choose it for the whole ensemble. */
static int state_chunks(int ncid, int varid, int n2d, long long total, size_t chunk[3])
{
    nc_type type;
    int ndims, dims[3], st;
    size_t ntimes, nvec = 1;
    if ((st = nc_inq_var(ncid, varid, NULL, &type, &ndims, dims, NULL)) != NC_NOERR ||
        (st = nc_inq_dimlen(ncid, dims[1], &ntimes)) != NC_NOERR ||
        (ndims == 3 && (st = nc_inq_dimlen(ncid, dims[2], &nvec)) != NC_NOERR))
        return st;
    ens_nc_state_chunks(type == NC_DOUBLE, ndims == 3, ndims == 3 ? (int)nvec : n2d, total,
                        (long long)ntimes, chunk);
    return NC_NOERR;
}

/* Storage, filters, fill and attributes of variable v of piece 0 for the
 * new variable nv. */
static ens_status define_var_storage(merge *m, int v, int nv, int n2d, int in_mdim,
                                     const char *name)
{
    const int in = m->in0, out = m->out;
    int st, storage = NC_CONTIGUOUS, ndims = 0, dims[NC_MAX_VAR_DIMS];
    size_t chunk[NC_MAX_VAR_DIMS];
    const char *what = "storage";
    const char *src = m->pieces[0].path;

    if ((st = nc_inq_varndims(in, v, &ndims)) != NC_NOERR ||
        (st = nc_inq_vardimid(in, v, dims)) != NC_NOERR ||
        (st = nc_inq_var_chunking(in, v, &storage, ndims ? chunk : NULL)) != NC_NOERR)
        return read_error(m->err, src, name, st);
    int has_member = 0;
    for (int i = 0; i < ndims; i++)
        has_member |= dims[i] == in_mdim;

    if (is_state(in, v, in_mdim)) {
        size_t c3[3];
        if ((st = state_chunks(in, v, n2d, m->total, c3)) != NC_NOERR)
            return read_error(m->err, src, name, st);
        st = nc_def_var_chunking(out, nv, NC_CHUNKED, c3);
    } else if (storage == NC_CHUNKED && ndims > 0) {
        for (int i = 0; i < ndims; i++)
            if (dims[i] == in_mdim && chunk[i] > (size_t)m->total)
                chunk[i] = (size_t)m->total;
        st = nc_def_var_chunking(out, nv, NC_CHUNKED, chunk);
#ifdef NC_COMPACT
    } else if (storage == NC_COMPACT && !has_member) {
        st = nc_def_var_chunking(out, nv, NC_COMPACT, NULL);
#endif
    } else if (ndims > 0) {
        /* Compact storage has a size limit the full member count may pass. */
        st = nc_def_var_chunking(out, nv, NC_CONTIGUOUS, NULL);
    } else {
        st = NC_NOERR;
    }

    /* Filters: only those the writer can set are copied, none dropped. */
    size_t nfilters = 0;
    unsigned int ids[16];
    if (st == NC_NOERR) {
        int rst = nc_inq_var_filter_ids(in, v, &nfilters, NULL);
        if (rst == NC_NOERR && nfilters > sizeof ids / sizeof ids[0])
            rst = NC_EFILTER;
        if (rst == NC_NOERR)
            rst = nc_inq_var_filter_ids(in, v, &nfilters, ids);
        if (rst != NC_NOERR)
            return read_error(m->err, src, name, rst);
        for (size_t i = 0; i < nfilters; i++)
            if (ids[i] != 1 && ids[i] != 2 && ids[i] != 3) /* deflate, shuffle, fletcher32 */
                return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                                "variable %s of '%s' uses HDF5 filter %u, which merging "
                                "cannot copy",
                                name, src, ids[i]);
    }
    int shuffle = 0, deflate = 0, level = 0, fletcher = 0;
    if (st == NC_NOERR && nfilters > 0) {
        int rst = nc_inq_var_deflate(in, v, &shuffle, &deflate, &level);
        if (rst == NC_NOERR)
            rst = nc_inq_var_fletcher32(in, v, &fletcher);
        if (rst != NC_NOERR)
            return read_error(m->err, src, name, rst);
        what = "compression";
        if (shuffle || deflate)
            st = nc_def_var_deflate(out, nv, shuffle, deflate, deflate ? level : 0);
        if (st == NC_NOERR && fletcher)
            st = nc_def_var_fletcher32(out, nv, NC_FLETCHER32);
    }

    /* BitRound of rounded values changes nothing, so the library may round
     * again and write its own attribute. The other modes are not exact
     * under a second pass (BitGroom alternates by position in the write):
     * their values and attribute are copied as they are. */
    int qmode = NC_NOQUANTIZE, nsd = 0;
    if (st == NC_NOERR) {
        int rst = nc_inq_var_quantize(in, v, &qmode, &nsd);
        if (rst != NC_NOERR && rst != NC_EINVAL)
            return read_error(m->err, src, name, rst);
        if (rst != NC_NOERR)
            qmode = NC_NOQUANTIZE;
        what = "quantization";
        if (qmode == NC_QUANTIZE_BITROUND)
            st = nc_def_var_quantize(out, nv, qmode, nsd);
    }

    int no_fill = 0;
    if (st == NC_NOERR) {
        int rst = nc_inq_var_fill(in, v, &no_fill, NULL);
        if (rst != NC_NOERR)
            return read_error(m->err, src, name, rst);
        what = "fill mode";
        if (no_fill)
            st = nc_def_var_fill(out, nv, NC_NOFILL, NULL);
    }

    int natts = 0;
    if (st == NC_NOERR && (st = nc_inq_varnatts(in, v, &natts)) != NC_NOERR)
        return read_error(m->err, src, name, st);
    for (int i = 0; i < natts && st == NC_NOERR; i++) {
        char att[NC_MAX_NAME + 1];
        if ((st = nc_inq_attname(in, v, i, att)) != NC_NOERR)
            return read_error(m->err, src, name, st);
        if (qmode == NC_QUANTIZE_BITROUND && strncmp(att, "_Quantize", 9) == 0)
            continue;
        what = "attributes";
        st = nc_copy_att(in, v, att, out, nv);
    }
    if (st != NC_NOERR)
        return ens_fail(m->err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                        "cannot define the %s of variable %s in '%s': %s", what, name,
                        m->partial, nc_strerror(st));
    return ENS_OK;
}

static void utc_stamp(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "1970-01-01T00:00:00Z");
}

/* history: the merge's line first, then piece 0's lines (NCO's order). */
static int put_history(merge *m, const char *history)
{
    char stamp[32];
    utc_stamp(stamp, sizeof stamp);
    const char *line = history && history[0] ? history : "ensol merge";
    char *old = NULL;
    nc_type type;
    size_t len = 0;
    if (nc_inq_att(m->in0, NC_GLOBAL, "history", &type, &len) == NC_NOERR &&
        (type == NC_CHAR || type == NC_STRING) && len > 0) {
        /* Whole, not cut to a fixed buffer: histories grow with each tool. */
        if (type == NC_CHAR) {
            old = malloc(len + 1);
            if (!old)
                return NC_ENOMEM;
            int st = nc_get_att_text(m->in0, NC_GLOBAL, "history", old);
            if (st != NC_NOERR) {
                free(old);
                return st;
            }
            old[len] = '\0';
        } else {
            char **s = calloc(len, sizeof *s);
            int st = s ? nc_get_att_string(m->in0, NC_GLOBAL, "history", s) : NC_ENOMEM;
            if (st == NC_NOERR) {
                old = strdup(s[0] ? s[0] : "");
                nc_free_string(len, s);
            }
            free(s);
            if (st != NC_NOERR)
                return st;
            if (!old)
                return NC_ENOMEM;
        }
    }
    size_t n = strlen(stamp) + 2 + strlen(line) + 1 + (old ? strlen(old) : 0) + 1;
    char *h = malloc(n);
    int st = NC_ENOMEM;
    if (h) {
        snprintf(h, n, "%s: %s%s%s", stamp, line, old && old[0] ? "\n" : "", old ? old : "");
        st = nc_put_att_text(m->out, NC_GLOBAL, "history", strlen(h), h);
    }
    free(h);
    free(old);
    return st;
}

static ens_status define_output(merge *m, const char *history)
{
    const int in = m->in0, out = m->out;
    const char *src = m->pieces[0].path;
    int st, ndims = 0, nunlim = 0, ids[NC_MAX_DIMS], unlim[NC_MAX_DIMS], in_mdim, out_mdim;
    char name[NC_MAX_NAME + 1];
    size_t len;

    if ((st = nc_inq_dimids(in, &ndims, NULL, 0)) != NC_NOERR || ndims > NC_MAX_DIMS ||
        (st = nc_inq_dimids(in, &ndims, ids, 0)) != NC_NOERR ||
        (st = nc_inq_unlimdims(in, &nunlim, unlim)) != NC_NOERR ||
        (st = nc_inq_dimid(in, MEMBER_DIM, &in_mdim)) != NC_NOERR)
        return read_error(m->err, src, "the dimensions", st ? st : NC_EMAXDIMS);
    for (int i = 0; i < ndims; i++) {
        int is_unlim = 0, id;
        if ((st = nc_inq_dim(in, ids[i], name, &len)) != NC_NOERR)
            return read_error(m->err, src, "the dimensions", st);
        for (int u = 0; u < nunlim; u++)
            is_unlim |= unlim[u] == ids[i];
        if (ids[i] == in_mdim)
            len = (size_t)m->total;
        if ((st = nc_def_dim(out, name, is_unlim ? NC_UNLIMITED : len, &id)) != NC_NOERR)
            return ens_fail(m->err, ENS_ERR_IO, "cannot define dimension %s in '%s': %s", name,
                            m->partial, nc_strerror(st));
    }
    if ((st = nc_inq_dimid(out, MEMBER_DIM, &out_mdim)) != NC_NOERR)
        return ens_fail(m->err, ENS_ERR_INTERNAL, "'%s': no member dimension", m->partial);

    /* For 2-D state variables the writer's chunk call takes the count of
     * state variables (it does not change their shape, but pass it). */
    int nvars = 0, n2d = 0;
    if ((st = nc_inq_nvars(in, &nvars)) != NC_NOERR)
        return read_error(m->err, src, "the variables", st);
    for (int v = 0; v < nvars; v++) {
        int nd = 0;
        if (is_state(in, v, in_mdim) && nc_inq_varndims(in, v, &nd) == NC_NOERR && nd == 2)
            n2d++;
    }

    for (int v = 0; v < nvars; v++) {
        nc_type type;
        int nd = 0, dims[NC_MAX_VAR_DIMS], odims[NC_MAX_VAR_DIMS], nv;
        if ((st = nc_inq_var(in, v, name, &type, &nd, dims, NULL)) != NC_NOERR)
            return read_error(m->err, src, "the variables", st);
        if (type > NC_MAX_ATOMIC_TYPE)
            return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                            "variable %s of '%s' has a user-defined type, which merging "
                            "cannot copy",
                            name, src);
        for (int i = 0; i < nd; i++) {
            char dname[NC_MAX_NAME + 1];
            if ((st = nc_inq_dimname(in, dims[i], dname)) != NC_NOERR)
                return read_error(m->err, src, name, st);
            if ((st = nc_inq_dimid(out, dname, &odims[i])) != NC_NOERR)
                return ens_fail(m->err, ENS_ERR_INVALID_ARGUMENT,
                                "variable %s of '%s' uses dimension %s of a parent group, "
                                "which merging cannot copy",
                                name, src, dname);
        }
        if ((st = nc_def_var(out, name, type, nd, odims, &nv)) != NC_NOERR)
            return ens_fail(m->err, ENS_ERR_IO, "cannot define variable %s in '%s': %s", name,
                            m->partial, nc_strerror(st));
        ens_status rc = define_var_storage(m, v, nv, n2d, in_mdim, name);
        if (rc != ENS_OK)
            return rc;
    }

    int natts = 0, have_history = 0;
    if ((st = nc_inq_natts(in, &natts)) != NC_NOERR)
        return read_error(m->err, src, "the global attributes", st);
    for (int i = 0; i < natts; i++) {
        if ((st = nc_inq_attname(in, NC_GLOBAL, i, name)) != NC_NOERR)
            return read_error(m->err, src, "the global attributes", st);
        if (strcmp(name, ENS_NC_PIECE_FIRST) == 0 || strcmp(name, ENS_NC_PIECE_TOTAL) == 0)
            continue;
        if (strcmp(name, "history") == 0) {
            have_history = 1;
            st = put_history(m, history);
        } else {
            st = nc_copy_att(in, NC_GLOBAL, name, out, NC_GLOBAL);
        }
        if (st != NC_NOERR)
            return ens_fail(m->err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                            "cannot write global attribute %s to '%s': %s", name, m->partial,
                            nc_strerror(st));
    }
    if (!have_history && (st = put_history(m, history)) != NC_NOERR)
        return ens_fail(m->err, ENS_ERR_IO, "cannot write global attribute history to '%s': %s",
                        m->partial, nc_strerror(st));
    if ((st = nc_enddef(out)) != NC_NOERR)
        return ens_fail(m->err, ENS_ERR_IO, "cannot write the header of '%s': %s", m->partial,
                        nc_strerror(st));
    return ENS_OK;
}

/* Make each state variable's chunk cache hold two rows of chunks over all
 * times: the row a piece leaves half written stays in memory until the
 * next piece completes it, instead of being compressed, evicted and read
 * back. Preemption 1 evicts complete chunks first. */
static ens_status set_state_caches(merge *m)
{
    int nvars = 0, mdim, st, nstate = 0;
    if ((st = nc_inq_nvars(m->out, &nvars)) != NC_NOERR ||
        (st = nc_inq_dimid(m->out, MEMBER_DIM, &mdim)) != NC_NOERR)
        return read_error(m->err, m->partial, "the variables", st);
    for (int v = 0; v < nvars; v++)
        nstate += is_state(m->out, v, mdim);
    for (int v = 0; v < nvars; v++) {
        nc_type type;
        int nd, dims[3], storage;
        size_t chunk[3] = {1, 1, 1}, len[3] = {1, 1, 1}, es;
        if (!is_state(m->out, v, mdim))
            continue;
        if ((st = nc_inq_var(m->out, v, NULL, &type, &nd, dims, NULL)) != NC_NOERR ||
            (st = nc_inq_var_chunking(m->out, v, &storage, chunk)) != NC_NOERR ||
            (st = nc_inq_type(m->out, type, NULL, &es)) != NC_NOERR)
            return read_error(m->err, m->partial, "a state variable", st);
        for (int i = 1; i < nd; i++)
            if ((st = nc_inq_dimlen(m->out, dims[i], &len[i])) != NC_NOERR)
                return read_error(m->err, m->partial, "a state variable", st);
        if (storage != NC_CHUNKED)
            continue;
        size_t cb = chunk[0] * chunk[1] * chunk[2] * es;
        size_t per_row = (len[1] + chunk[1] - 1) / chunk[1] * ((len[2] + chunk[2] - 1) / chunk[2]);
        size_t bytes = 2 * per_row * cb;
        size_t cap = STATE_CACHE_BUDGET / (size_t)nstate;
        if (cap < cb)
            cap = cb;
        if (bytes > cap)
            bytes = cap;
        if ((st = nc_set_var_chunk_cache(m->out, v, bytes, ens_nc_cache_slots(bytes, cb),
                                         1.0f)) != NC_NOERR)
            return ens_fail(m->err, ENS_ERR_IO, "cannot set the chunk cache in '%s': %s",
                            m->partial, nc_strerror(st));
    }
    return ENS_OK;
}

static int grow_buffer(merge *m, size_t need)
{
    if (need <= m->buf_size)
        return 1;
    void *p = realloc(m->buf, need);
    if (!p)
        return 0;
    m->buf = p;
    m->buf_size = need;
    return 1;
}

/* Copy variable iv of file `in` (path ipath) into ov of the output, its
 * member dimension (index mdim, or -1) shifted by `moff`. Blocks of about
 * COPY_BLOCK_BYTES along the outermost dimension that keeps them under it,
 * cut at the input's chunk boundaries so no input chunk is read twice. */
static ens_status copy_var(merge *m, int in, const char *ipath, int iv, int ov, int mdim,
                           size_t moff, const char *name)
{
    nc_type type;
    int nd = 0, dims[NC_MAX_VAR_DIMS], st, storage = NC_CONTIGUOUS;
    size_t len[NC_MAX_VAR_DIMS], chunk[NC_MAX_VAR_DIMS], es;
    if ((st = nc_inq_var(in, iv, NULL, &type, &nd, dims, NULL)) != NC_NOERR ||
        (st = nc_inq_type(in, type, NULL, &es)) != NC_NOERR ||
        (st = nc_inq_var_chunking(in, iv, &storage, nd ? chunk : NULL)) != NC_NOERR)
        return read_error(m->err, ipath, name, st);
    for (int i = 0; i < nd; i++) {
        if ((st = nc_inq_dimlen(in, dims[i], &len[i])) != NC_NOERR)
            return read_error(m->err, ipath, name, st);
        if (len[i] == 0)
            return ENS_OK;
    }
    size_t start[NC_MAX_VAR_DIMS], count[NC_MAX_VAR_DIMS], ostart[NC_MAX_VAR_DIMS];
    int k = nd - 1;
    size_t inner = es;
    while (k > 0 && inner * len[k] <= COPY_BLOCK_BYTES) {
        inner *= len[k];
        k--;
    }
    size_t blk = 1;
    if (nd > 0) {
        blk = COPY_BLOCK_BYTES / inner;
        if (blk > len[k])
            blk = len[k];
        if (blk < 1)
            blk = 1;
        if (storage != NC_CHUNKED || blk == len[k]) {
            /* one block along k, or no chunks: nothing to align */
        } else if (chunk[k] > 0 && blk >= chunk[k]) {
            blk -= blk % chunk[k];
        } else {
            /* A block within one chunk row: keep that row in the cache. */
            size_t row = es;
            for (int i = 0; i < nd; i++)
                row *= i <= k ? chunk[i] : (len[i] + chunk[i] - 1) / chunk[i] * chunk[i];
            if (row > INPUT_CACHE_LIMIT)
                row = INPUT_CACHE_LIMIT;
            size_t cb = es;
            for (int i = 0; i < nd; i++)
                cb *= chunk[i];
            nc_set_var_chunk_cache(in, iv, row, ens_nc_cache_slots(row, cb),
                                   1.0f); /* only speed depends on it */
        }
    }
    if (!grow_buffer(m, blk * inner))
        return ens_fail(m->err, ENS_ERR_OUT_OF_MEMORY,
                        "out of memory for %zu bytes to copy variable %s", blk * inner, name);
    for (int i = 0; i < nd; i++) {
        start[i] = 0;
        count[i] = i < k ? 1 : len[i];
    }
    for (;;) {
        if (nd > 0)
            count[k] = len[k] - start[k] < blk ? len[k] - start[k] : blk;
        for (int i = 0; i < nd; i++)
            ostart[i] = start[i] + (i == mdim ? moff : 0);
        if ((st = nc_get_vara(in, iv, start, count, m->buf)) != NC_NOERR)
            return read_error(m->err, ipath, name, st);
        st = nc_put_vara(m->out, ov, ostart, count, m->buf);
        if (type == NC_STRING) {
            size_t n = 1;
            for (int i = 0; i < nd; i++)
                n *= count[i];
            nc_free_string(n, m->buf);
        }
        if (st != NC_NOERR)
            return ens_fail(m->err, st == NC_ENOMEM ? ENS_ERR_OUT_OF_MEMORY : ENS_ERR_IO,
                            "cannot write variable %s to '%s': %s", name, m->partial,
                            nc_strerror(st));
        if (mdim >= 0) {
            double bytes = (double)es;
            for (int i = 0; i < nd; i++)
                bytes *= (double)count[i];
            m->bytes_done += bytes;
            if (m->progress &&
                m->progress(m->bytes_total > 0 ? m->bytes_done / m->bytes_total : 1.0,
                            m->progress_user))
                return ens_fail(m->err, ENS_ERR_INTERRUPTED,
                                "merge into '%s' stopped; nothing written", m->output);
        }
        if (nd == 0)
            break;
        /* Next block: odometer over dimensions 0..k. */
        int j = k;
        start[k] += count[k];
        while (j > 0 && start[j] >= len[j]) {
            start[j] = 0;
            start[--j]++;
        }
        if (start[0] >= len[0])
            break;
    }
    return ENS_OK;
}

/* The variables of piece `in` that have the member dimension, at the
 * piece's first member. */
static ens_status copy_member_vars(merge *m, int in, const piece *p)
{
    int nvars = 0, out_mdim, st, at, iv;
    char name[NC_MAX_NAME + 1];
    if ((st = nc_inq_nvars(m->out, &nvars)) != NC_NOERR ||
        (st = nc_inq_dimid(m->out, MEMBER_DIM, &out_mdim)) != NC_NOERR)
        return read_error(m->err, m->partial, "the variables", st);
    for (int v = 0; v < nvars; v++) {
        if (!member_index(m->out, v, out_mdim, &at))
            continue;
        if ((st = nc_inq_varname(m->out, v, name)) != NC_NOERR)
            return read_error(m->err, m->partial, "the variables", st);
        if ((st = nc_inq_varid(in, name, &iv)) != NC_NOERR)
            return read_error(m->err, p->path, name, st);
        ens_status rc = copy_var(m, in, p->path, iv, v, at, (size_t)p->first, name);
        if (rc != ENS_OK)
            return rc;
    }
    return ENS_OK;
}

static ens_status copy_data(merge *m)
{
    int nvars = 0, out_mdim, st, at;
    char name[NC_MAX_NAME + 1];
    if ((st = nc_inq_nvars(m->out, &nvars)) != NC_NOERR ||
        (st = nc_inq_dimid(m->out, MEMBER_DIM, &out_mdim)) != NC_NOERR)
        return read_error(m->err, m->partial, "the variables", st);
    /* Without the member dimension: from piece 0, whose variable ids match. */
    for (int v = 0; v < nvars; v++) {
        if (member_index(m->out, v, out_mdim, &at))
            continue;
        if ((st = nc_inq_varname(m->out, v, name)) != NC_NOERR)
            return read_error(m->err, m->partial, "the variables", st);
        ens_status rc = copy_var(m, m->in0, m->pieces[0].path, v, v, -1, 0, name);
        if (rc != ENS_OK)
            return rc;
    }
    /* What the progress counts: every value of a member-dimension variable. */
    for (int v = 0; v < nvars; v++) {
        int nd = 0, dims[NC_MAX_VAR_DIMS];
        nc_type type;
        size_t es = 0, len = 0;
        if (!member_index(m->out, v, out_mdim, &at) ||
            nc_inq_var(m->out, v, NULL, &type, &nd, dims, NULL) != NC_NOERR ||
            nc_inq_type(m->out, type, NULL, &es) != NC_NOERR)
            continue;
        double bytes = (double)es;
        for (int i = 0; i < nd; i++)
            bytes *= nc_inq_dimlen(m->out, dims[i], &len) == NC_NOERR ? (double)len : 0.0;
        m->bytes_total += bytes;
    }
    ens_status rc = set_state_caches(m);
    for (int i = 0; i < m->npieces && rc == ENS_OK; i++) {
        const piece *p = &m->pieces[i];
        int in = m->in0;
        if (i > 0) {
            if ((rc = open_piece(p->path, &m->in, m->err)) != ENS_OK)
                return rc;
            in = m->in;
        }
        rc = copy_member_vars(m, in, p);
        if (i > 0) {
            nc_close(m->in);
            m->in = -1;
        }
    }
    return rc;
}

/* ---- entry point -------------------------------------------------------- */

static ens_status run_merge(merge *m, const char *const *paths, const char *history)
{
    ens_status rc;
    int st;
    for (int i = 0; i < m->npieces; i++) {
        m->pieces[i].path = paths[i];
        m->pieces[i].index = i;
    }
    if ((rc = check_output(m)) != ENS_OK)
        return rc;
    for (int i = 0; i < m->npieces; i++)
        if ((rc = read_piece(&m->pieces[i], m->err)) != ENS_OK)
            return rc;
    /* Arguments come in any order, e.g. a glob that puts rank10 before rank2. */
    qsort(m->pieces, (size_t)m->npieces, sizeof *m->pieces, by_first_member);
    if ((rc = check_coverage(m->pieces, m->npieces, m->err)) != ENS_OK)
        return rc;
    m->total = m->pieces[0].total;

    const char *p0 = m->pieces[0].path;
    if ((rc = open_piece(p0, &m->in0, m->err)) != ENS_OK)
        return rc;
    for (int i = 1; i < m->npieces; i++) {
        const char *pi = m->pieces[i].path;
        if ((rc = open_piece(pi, &m->in, m->err)) != ENS_OK)
            return rc;
        rc = same_run(m->in0, p0, m->in, pi, m->err);
        nc_close(m->in);
        m->in = -1;
        if (rc != ENS_OK)
            return rc;
    }

    /* HDF5 reports an unwritable place only as "HDF error"; errno says why. */
    FILE *probe = fopen(m->partial, "wb");
    if (!probe)
        return ens_fail(m->err, ENS_ERR_IO, "cannot create output file '%s': %s", m->partial,
                        strerror(errno));
    fclose(probe);
    m->made_partial = 1;
    if ((st = nc_create(m->partial, NC_NETCDF4 | NC_CLOBBER, &m->out)) != NC_NOERR) {
        m->out = -1;
        return ens_fail(m->err, ENS_ERR_IO, "cannot create output file '%s': %s", m->partial,
                        nc_strerror(st));
    }
    if ((rc = define_output(m, history)) != ENS_OK || (rc = copy_data(m)) != ENS_OK)
        return rc;
    st = nc_close(m->out);
    m->out = -1;
    if (st != NC_NOERR)
        return ens_fail(m->err, ENS_ERR_IO, "cannot close output file '%s': %s", m->partial,
                        nc_strerror(st));
    if (rename(m->partial, m->output) != 0)
        return ens_fail(m->err, ENS_ERR_IO, "cannot rename '%s' to '%s': %s", m->partial,
                        m->output, strerror(errno));
    return ENS_OK;
}

ens_status ens_nc_merge(const char *output, const char *const *pieces, int npieces,
                        const char *history, ens_merge_progress_fn progress, void *user,
                        ens_error *err)
{
    if (!output || !output[0] || !pieces || npieces < 1)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "merge: an output file and at least one piece are needed");
    for (int i = 0; i < npieces; i++)
        if (!pieces[i] || !pieces[i][0])
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "merge: piece %d has no name", i);

    merge m = {.output = output, .npieces = npieces, .in0 = -1, .in = -1, .out = -1,
               .progress = progress, .progress_user = user, .err = err};
    size_t olen = strlen(output);
    m.partial = malloc(olen + sizeof ".partial");
    m.pieces = calloc((size_t)npieces, sizeof *m.pieces);
    ens_status rc;
    if (!m.partial || !m.pieces) {
        rc = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "merge into '%s': out of memory", output);
    } else {
        memcpy(m.partial, output, olen);
        memcpy(m.partial + olen, ".partial", sizeof ".partial");
        rc = run_merge(&m, pieces, history);
    }
    if (m.out >= 0)
        nc_abort(m.out);
    if (m.in >= 0)
        nc_close(m.in);
    if (m.in0 >= 0)
        nc_close(m.in0);
    if (rc != ENS_OK && m.made_partial)
        remove(m.partial);
    free(m.partial);
    free(m.pieces);
    free(m.buf);
    return rc;
}
