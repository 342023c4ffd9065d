/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Joining ensemble pieces into one file (see ncmerge.h): the order of the
 * work and the copy of the data.
 *
 * The pieces are checked before anything is written (ncmerge_check.c).
 * Then piece 0's header is copied, with the member dimension at its full
 * length and the state variables chunked as a single-process run would
 * chunk them (ncmerge_define.c), and the data follows in blocks. Only
 * piece 0 and one other piece are open at a time, so thousands of pieces
 * do not run into the open-file limit.
 */
#define _POSIX_C_SOURCE 200809L

#include "io/nc_common.h"
#include "io/ncmerge_impl.h"
#include "io/out_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>

/* Bytes moved per read/write pair (a build may set it small to test the
 * blocking). */
#ifndef COPY_BLOCK_BYTES
#define COPY_BLOCK_BYTES ((size_t)64 * 1024 * 1024)
#endif
/* Chunk cache of all state variables of the output together. */
#define STATE_CACHE_BUDGET ((size_t)256 * 1024 * 1024)
/* Cache of one input variable whose chunks a block cuts across. */
#define INPUT_CACHE_LIMIT ((size_t)256 * 1024 * 1024)

/* ---- the output's chunk caches ------------------------------------------- */

/* One state variable's cache: two rows of chunks over all times. */
static ens_status set_state_cache(ens_merge *m, int v, int nstate)
{
    nc_type type;
    int nd, dims[3], storage;
    size_t chunk[3] = {1, 1, 1}, len[3] = {1, 1, 1}, es;
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_var(m->out, v, NULL, &type, &nd, dims, NULL),
                                   m->partial, "a state variable"));
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_var_chunking(m->out, v, &storage, chunk),
                                   m->partial, "a state variable"));
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_type(m->out, type, NULL, &es), m->partial,
                                   "a state variable"));
    for (int i = 0; i < nd; i++)
        ENS_CHECK(ens_merge_read_check(m->err, nc_inq_dimlen(m->out, dims[i], &len[i]),
                                       m->partial, "a state variable"));
    if (storage != NC_CHUNKED)
        return ENS_OK;
    /* Rows along the member dimension (the second: time comes first). */
    const size_t bytes =
        ens_nc_row_cache_bytes(3, len, chunk, es, 1, 2, STATE_CACHE_BUDGET / (size_t)nstate);
    return ens_nc_check(m->err, ens_nc_set_cache(m->out, v, bytes, chunk[0] * chunk[1] * chunk[2] * es),
                        "cannot set the chunk cache in '%s'", m->partial);
}

/* Make each state variable's chunk cache hold two rows of chunks over all
 * times: the row a piece leaves half written stays in memory until the
 * next piece completes it, instead of being compressed, evicted and read
 * back. */
static ens_status set_state_caches(ens_merge *m)
{
    int nvars = 0, mdim, nstate = 0;
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_nvars(m->out, &nvars), m->partial,
                                   "the variables"));
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_dimid(m->out, MEMBER_DIM, &mdim), m->partial,
                                   "the variables"));
    for (int v = 0; v < nvars; v++)
        nstate += ens_merge_is_state(m->out, v, mdim);
    for (int v = 0; v < nvars; v++)
        if (ens_merge_is_state(m->out, v, mdim))
            ENS_CHECK(set_state_cache(m, v, nstate));
    return ENS_OK;
}

/* ---- one variable ------------------------------------------------------------ */

/* How one variable is copied: blocks of `blk` along dimension k, whole
 * along the dimensions after it (inner bytes a step of k). */
typedef struct var_copy {
    nc_type type;
    int nd, k;
    size_t es, inner, blk;
    size_t len[NC_MAX_VAR_DIMS], chunk[NC_MAX_VAR_DIMS];
    int storage;
} var_copy;

/* Blocks of about COPY_BLOCK_BYTES along the outermost dimension that
 * keeps them under it, cut at the input's chunk boundaries so no input
 * chunk is read twice. */
static void plan_blocks(int in, int iv, var_copy *c)
{
    c->k = c->nd - 1;
    c->inner = c->es;
    while (c->k > 0 && c->inner * c->len[c->k] <= COPY_BLOCK_BYTES) {
        c->inner *= c->len[c->k];
        c->k--;
    }
    c->blk = 1;
    if (c->nd == 0)
        return;
    const int k = c->k;
    c->blk = COPY_BLOCK_BYTES / c->inner;
    if (c->blk > c->len[k])
        c->blk = c->len[k];
    if (c->blk < 1)
        c->blk = 1;
    if (c->storage != NC_CHUNKED || c->blk == c->len[k])
        return; /* one block along k, or no chunks: nothing to align */
    if (c->chunk[k] > 0 && c->blk >= c->chunk[k]) {
        c->blk -= c->blk % c->chunk[k];
        return;
    }
    /* A block within one chunk row: keep that row in the cache. */
    size_t row = c->es, cb = c->es;
    for (int i = 0; i < c->nd; i++) {
        row *= i <= k ? c->chunk[i] : (c->len[i] + c->chunk[i] - 1) / c->chunk[i] * c->chunk[i];
        cb *= c->chunk[i];
    }
    if (row > INPUT_CACHE_LIMIT)
        row = INPUT_CACHE_LIMIT;
    ens_nc_set_cache(in, iv, row, cb); /* only speed depends on it */
}

static int grow_buffer(ens_merge *m, size_t need)
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

/* The progress after a block of `count` values of a member variable. */
static ens_status count_progress(ens_merge *m, const var_copy *c, const size_t *count)
{
    double bytes = (double)c->es;
    for (int i = 0; i < c->nd; i++)
        bytes *= (double)count[i];
    m->bytes_done += bytes;
    if (m->progress &&
        m->progress(m->bytes_total > 0 ? m->bytes_done / m->bytes_total : 1.0, m->progress_user))
        return ens_fail(m->err, ENS_ERR_INTERRUPTED, "merge into '%s' stopped; nothing written",
                        m->output);
    return ENS_OK;
}

/* One block: read at `start`, written with the member dimension shifted. */
static ens_status copy_block(ens_merge *m, int in, const char *ipath, int iv, int ov,
                             const var_copy *c, const size_t *start, const size_t *count,
                             int mdim, size_t moff, const char *name)
{
    size_t ostart[NC_MAX_VAR_DIMS];
    for (int i = 0; i < c->nd; i++)
        ostart[i] = start[i] + (i == mdim ? moff : 0);
    ENS_CHECK(ens_merge_read_check(m->err, nc_get_vara(in, iv, start, count, m->buf), ipath,
                                   name));
    int st = nc_put_vara(m->out, ov, ostart, count, m->buf);
    if (c->type == NC_STRING) {
        size_t n = 1;
        for (int i = 0; i < c->nd; i++)
            n *= count[i];
        nc_free_string(n, m->buf);
    }
    ENS_CHECK(ens_nc_check(m->err, st, "cannot write variable %s to '%s'", name, m->partial));
    return mdim >= 0 ? count_progress(m, c, count) : ENS_OK;
}

/* Copy variable iv of file `in` (path ipath) into ov of the output, its
 * member dimension (index mdim, or -1) shifted by `moff`. */
static ens_status copy_var(ens_merge *m, int in, const char *ipath, int iv, int ov, int mdim,
                           size_t moff, const char *name)
{
    var_copy c = {.storage = NC_CONTIGUOUS};
    int dims[NC_MAX_VAR_DIMS];
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_var(in, iv, NULL, &c.type, &c.nd, dims, NULL),
                                   ipath, name));
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_type(in, c.type, NULL, &c.es), ipath, name));
    ENS_CHECK(ens_merge_read_check(
        m->err, nc_inq_var_chunking(in, iv, &c.storage, c.nd ? c.chunk : NULL), ipath, name));
    for (int i = 0; i < c.nd; i++) {
        ENS_CHECK(ens_merge_read_check(m->err, nc_inq_dimlen(in, dims[i], &c.len[i]), ipath,
                                       name));
        if (c.len[i] == 0)
            return ENS_OK;
    }
    plan_blocks(in, iv, &c);
    if (!grow_buffer(m, c.blk * c.inner))
        return ens_fail(m->err, ENS_ERR_OUT_OF_MEMORY,
                        "out of memory for %zu bytes to copy variable %s", c.blk * c.inner, name);
    size_t start[NC_MAX_VAR_DIMS], count[NC_MAX_VAR_DIMS];
    const int k = c.k;
    for (int i = 0; i < c.nd; i++) {
        start[i] = 0;
        count[i] = i < k ? 1 : c.len[i];
    }
    for (;;) {
        if (c.nd > 0)
            count[k] = c.len[k] - start[k] < c.blk ? c.len[k] - start[k] : c.blk;
        ENS_CHECK(copy_block(m, in, ipath, iv, ov, &c, start, count, mdim, moff, name));
        if (c.nd == 0)
            return ENS_OK;
        /* Next block: odometer over dimensions 0..k. */
        int j = k;
        start[k] += count[k];
        while (j > 0 && start[j] >= c.len[j]) {
            start[j] = 0;
            start[--j]++;
        }
        if (start[0] >= c.len[0])
            return ENS_OK;
    }
}

/* ---- the data ------------------------------------------------------------------ */

/* The variables of piece `in` that have the member dimension, at the
 * piece's first member; with member_vars 0, the other variables instead,
 * from piece 0 (in0), whose variable ids match the output's. */
static ens_status copy_vars(ens_merge *m, int in, const ens_piece *p, int member_vars)
{
    int nvars = 0, out_mdim, at, iv;
    char name[NC_MAX_NAME + 1];
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_nvars(m->out, &nvars), m->partial,
                                   "the variables"));
    ENS_CHECK(ens_merge_read_check(m->err, nc_inq_dimid(m->out, MEMBER_DIM, &out_mdim),
                                   m->partial, "the variables"));
    for (int v = 0; v < nvars; v++) {
        if (ens_merge_member_index(m->out, v, out_mdim, &at) != member_vars)
            continue;
        ENS_CHECK(ens_merge_read_check(m->err, nc_inq_varname(m->out, v, name), m->partial,
                                       "the variables"));
        if (!member_vars) {
            ENS_CHECK(copy_var(m, in, p->path, v, v, -1, 0, name));
            continue;
        }
        ENS_CHECK(ens_merge_read_check(m->err, nc_inq_varid(in, name, &iv), p->path, name));
        ENS_CHECK(copy_var(m, in, p->path, iv, v, at, (size_t)p->first, name));
    }
    return ENS_OK;
}

/* What the progress counts: every value of a member-dimension variable. */
static double member_bytes(const ens_merge *m)
{
    int nvars = 0, out_mdim, at;
    double total = 0;
    if (nc_inq_nvars(m->out, &nvars) != NC_NOERR ||
        nc_inq_dimid(m->out, MEMBER_DIM, &out_mdim) != NC_NOERR)
        return 0;
    for (int v = 0; v < nvars; v++) {
        int nd = 0, dims[NC_MAX_VAR_DIMS];
        nc_type type;
        size_t es = 0, len = 0;
        if (!ens_merge_member_index(m->out, v, out_mdim, &at) ||
            nc_inq_var(m->out, v, NULL, &type, &nd, dims, NULL) != NC_NOERR ||
            nc_inq_type(m->out, type, NULL, &es) != NC_NOERR)
            continue;
        double bytes = (double)es;
        for (int i = 0; i < nd; i++)
            bytes *= nc_inq_dimlen(m->out, dims[i], &len) == NC_NOERR ? (double)len : 0.0;
        total += bytes;
    }
    return total;
}

static ens_status copy_data(ens_merge *m)
{
    ENS_CHECK(copy_vars(m, m->in0, &m->pieces[0], 0));
    m->bytes_total += member_bytes(m);
    ENS_CHECK(set_state_caches(m));
    ENS_CHECK(copy_vars(m, m->in0, &m->pieces[0], 1));
    for (int i = 1; i < m->npieces; i++) {
        ENS_CHECK(ens_merge_open_piece(m->pieces[i].path, &m->in, m->err));
        const ens_status st = copy_vars(m, m->in, &m->pieces[i], 1);
        nc_close(m->in);
        m->in = -1;
        ENS_CHECK(st);
    }
    return ENS_OK;
}

/* ---- entry point ------------------------------------------------------------------ */

/* The pieces checked, sorted and found to be of one run; piece 0 open. */
static ens_status check_pieces(ens_merge *m, const char *const *paths)
{
    for (int i = 0; i < m->npieces; i++) {
        m->pieces[i].path = paths[i];
        m->pieces[i].index = i;
    }
    ENS_CHECK(ens_merge_check_output(m));
    for (int i = 0; i < m->npieces; i++)
        ENS_CHECK(ens_merge_read_piece(&m->pieces[i], m->err));
    /* Arguments come in any order, e.g. a glob that puts rank10 before rank2. */
    ens_merge_sort_pieces(m->pieces, m->npieces);
    ENS_CHECK(ens_merge_check_coverage(m->pieces, m->npieces, m->err));
    m->total = m->pieces[0].total;

    const char *p0 = m->pieces[0].path;
    ENS_CHECK(ens_merge_open_piece(p0, &m->in0, m->err));
    for (int i = 1; i < m->npieces; i++) {
        const char *pi = m->pieces[i].path;
        ENS_CHECK(ens_merge_open_piece(pi, &m->in, m->err));
        const ens_status st = ens_merge_same_run(m->in0, p0, m->in, pi, m->err);
        nc_close(m->in);
        m->in = -1;
        ENS_CHECK(st);
    }
    return ENS_OK;
}

/* The output's partial file, created exclusively next to the file the
 * merge replaces (ens_out_create_partial). */
static ens_status create_output(ens_merge *m)
{
    char *target = ens_out_target(m->output);
    if (!target)
        return ens_fail(m->err, ENS_ERR_OUT_OF_MEMORY, "merge into '%s': out of memory",
                        m->output);
    char *partial = NULL;
    const int why = ens_out_create_partial(target, &partial);
    free(target);
    if (why)
        return ens_fail(m->err, ENS_ERR_IO, "cannot create output file '%s': %s", m->partial,
                        strerror(why));
    free(m->partial);
    m->partial = partial;
    m->made_partial = 1;
    const int st = nc_create(m->partial, NC_NETCDF4 | NC_CLOBBER, &m->out);
    if (st == NC_NOERR)
        return ENS_OK;
    m->out = -1;
    /* Creation fails as ENS_ERR_IO whatever NetCDF says. */
    ens_nc_check_storage(m->err, st, m->partial, "cannot create output file '%s'", m->partial);
    return ENS_ERR_IO;
}

static ens_status run_merge(ens_merge *m, const char *const *paths, const char *history)
{
    ENS_CHECK(check_pieces(m, paths));
    ENS_CHECK(create_output(m));
    ENS_CHECK(ens_merge_define_output(m, history));
    ENS_CHECK(copy_data(m));
    const int st = nc_close(m->out);
    /* A file that failed to close is left alone (see ens_nc_library_init). */
    m->out = -1;
    if (st != NC_NOERR) {
        ens_nc_check_storage(m->err, st, m->partial, "cannot close output file '%s'",
                             m->partial);
        return ENS_ERR_IO;
    }
    char *target = ens_out_target(m->output);
    if (!target)
        return ens_fail(m->err, ENS_ERR_OUT_OF_MEMORY, "merge into '%s': out of memory",
                        m->output);
    const ens_status cst = ens_out_commit(m->partial, target, m->err);
    free(target);
    m->made_partial = cst == ENS_OK ? 0 : m->made_partial;
    return cst;
}

ens_status ens_nc_merge(const char *output, const char *const *pieces, int npieces,
                        const char *history, ens_merge_progress_fn progress, void *user,
                        ens_error *err)
{
    if (!output || !output[0])
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "the output file for the merged pieces has no name");
    if (!pieces || npieces < 1)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "no pieces to merge into '%s'", output);
    for (int i = 0; i < npieces; i++)
        if (!pieces[i] || !pieces[i][0])
            return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "piece %d has no name", i + 1);

    ens_nc_library_init();
    ens_merge m = {.output = output, .npieces = npieces, .in0 = -1, .in = -1, .out = -1,
                   .progress = progress, .progress_user = user, .err = err};
    ens_status st;
    m.partial = ens_out_partial_name(output);
    m.pieces = calloc((size_t)npieces, sizeof *m.pieces);
    if (!m.partial || !m.pieces) {
        st = ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "merge into '%s': out of memory", output);
        goto done;
    }
    ENS_TRY(run_merge(&m, pieces, history));
done:
    if (m.out >= 0)
        nc_abort(m.out);
    if (m.in >= 0)
        nc_close(m.in);
    if (m.in0 >= 0)
        nc_close(m.in0);
    if (st != ENS_OK && m.made_partial)
        remove(m.partial);
    free(m.partial);
    free(m.pieces);
    free(m.buf);
    return st;
}
