/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The NetCDF writer's life of a file (see ncwriter.h): creating
 * PATH.partial, writing batches of members, the ensemble statistics, the
 * members' outcome and step state, and closing it as the run ended. What
 * the file holds is defined in ncwriter_define.c.
 *
 * Every NetCDF call is checked. A failure is reported as ENS_ERR_IO (or
 * ENS_ERR_OUT_OF_MEMORY) with a one-line message naming the file and
 * nc_strerror's text.
 */
#define _POSIX_C_SOURCE 200809L

#include "io/nc_common.h"
#include "io/ncwriter_impl.h"
#include "io/out_file.h"

#include "stats/moments.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netcdf.h>
#include <netcdf_mem.h>
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
#include <mpi.h>
#include <netcdf_par.h>
#endif

static void writer_free(ens_nc_writer *w)
{
    if (!w)
        return;
    free(w->path);
    free(w->partial);
    free(w->scratch);
    free(w->aux_id);
    free(w->times);
    free(w->aux_values);
    free(w->eval_buf);
    free(w);
}

/* ---- opening ---------------------------------------------------------------- */

/* The writer of `spec`, not yet with a file; its path is the file that
 * the run replaces (through symbolic links). */
static ens_status writer_new(const ens_nc_spec *spec, ens_nc_writer **out, ens_error *err)
{
    ens_nc_writer *w = calloc(1, sizeof *w);
    if (w)
        w->path = spec->in_memory ? strdup(spec->path) : ens_out_target(spec->path);
    if (!w || !w->path) {
        writer_free(w);
        return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "output file '%s': out of memory",
                        spec->path);
    }
    w->model = spec->model;
    w->vector = ens_model_states_as_array(spec->model);
    w->nvars = spec->nvars;
    w->first = spec->piece_members > 0 ? spec->first_member : 0;
    w->members = spec->piece_members > 0 ? spec->piece_members : spec->members;
    w->ntimes = spec->ntimes;
    w->disk_double = spec->disk_double != 0;
    w->write_states = spec->write_states != 0;
    w->cache_limit = spec->cache_limit > 0 ? spec->cache_limit : ENS_NC_DEFAULT_CACHE_LIMIT;
    w->write_stats = spec->write_stats != 0;
    w->nstate = w->vector ? 1 : spec->nvars;
    w->counts_only = spec->counts_only != 0;
    w->stop = spec->stop;
    w->stop_user = spec->stop_user;
    w->in_memory = spec->in_memory != 0;
    w->memory_out = spec->memory;
    w->memory_size_out = spec->memory_size;
    ens_nc_state_chunks(w->disk_double, w->vector, w->nvars, w->members, w->ntimes, w->chunk);
    w->naux = spec->write_states && spec->write_aux ? ens_model_naux(spec->model) : 0;
    if (w->naux > 0) {
        ens_nc_state_chunks(w->disk_double, 0, 1, w->members, w->ntimes, w->aux_chunk);
        w->aux_id = malloc((size_t)w->naux * sizeof *w->aux_id);
        w->times = malloc((size_t)w->ntimes * sizeof *w->times);
        w->eval_buf = malloc((size_t)(w->nvars + w->naux) * sizeof *w->eval_buf);
        if (!w->aux_id || !w->times || !w->eval_buf) {
            writer_free(w);
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "output file '%s': out of memory",
                            spec->path);
        }
        memcpy(w->times, spec->times, (size_t)w->ntimes * sizeof *w->times);
    }
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    w->parallel = spec->parallel != 0;
    if (w->parallel)
        MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
#endif
    *out = w;
    return ENS_OK;
}

/* Create the partial file, exclusively (ens_out_create_partial); under
 * MPI rank 0 creates it and tells the others its name, or why it could
 * not, so that all fail together. */
static ens_status create_file(ens_nc_writer *w, ens_error *err)
{
    int why = 0;
    if (w->in_memory) {
        if (!(w->partial = strdup(w->path)))
            return ens_fail(err, ENS_ERR_OUT_OF_MEMORY, "out of memory");
        return ens_nc_check_storage(err, nc_create_mem(w->path, NC_NETCDF4, 1 << 16, &w->ncid),
                                    w->path, "cannot create output file '%s' in memory",
                                    w->path);
    }
    if (w->rank == 0)
        why = ens_out_create_partial(w->path, &w->partial);
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel) {
        char name[ENS_ERROR_MAX] = "";
        if (w->rank == 0 && !why)
            snprintf(name, sizeof name, "%s", w->partial);
        MPI_Bcast(&why, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Bcast(name, (int)sizeof name, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (w->rank != 0 && !why && !(w->partial = strdup(name)))
            why = ENOMEM; /* this rank then fails the collective create */
    }
#endif
    if (why)
        return ens_fail(err, ENS_ERR_IO, "cannot create output file '%s.partial': %s",
                        w->path, strerror(why));
    int st;
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    if (w->parallel)
        st = nc_create_par(w->partial, NC_NETCDF4 | NC_CLOBBER, MPI_COMM_WORLD, MPI_INFO_NULL,
                           &w->ncid);
    else
#endif
        st = nc_create(w->partial, NC_NETCDF4 | NC_CLOBBER, &w->ncid);
    if (st == NC_NOERR)
        return ENS_OK;
    /* Creation fails as ENS_ERR_IO whatever NetCDF says. */
    ens_nc_check_storage(err, st, w->partial, "cannot create output file '%s'", w->partial);
    if (w->rank == 0)
        remove(w->partial);
    return ENS_ERR_IO;
}

ens_status ens_nc_open(const ens_nc_spec *spec, ens_nc_writer **out, ens_error *err)
{
    if (!out)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT, "output file: no writer pointer given");
    *out = NULL;
    ENS_CHECK(ens_nc_check_spec(spec, err));
#ifndef ENSOL_HAVE_PARALLEL_NETCDF
    if (spec->parallel)
        return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                        "output file '%s': this ensol is built without MPI", spec->path);
#endif
    ens_nc_writer *w = NULL;
    ens_status st;
    int created = 0;
    ens_nc_library_init();
    ENS_TRY(writer_new(spec, &w, err));
    ENS_TRY(create_file(w, err));
    created = 1;
    ENS_TRY(ens_nc_define_file(w, spec, err));
    *out = w;
done:
    if (st != ENS_OK && created) {
        /* Best effort, the file is removed anyway; after a storage failure
         * HDF5 crashes aborting it, so it is left (ens_nc_library_init). */
        if (!w->storage_failed)
            nc_abort(w->ncid);
        if (w->rank == 0 && !w->in_memory)
            remove(w->partial);
    }
    if (st != ENS_OK)
        writer_free(w);
    return st;
}

/* ---- batches ------------------------------------------------------------------ */

/* Grow the scratch buffer (kept across calls) to `bytes`; a zero-size
 * write still passes a buffer. Returns a NetCDF status. */
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

/* Members [m0, m0 + count), global indices, in the file; else a failure. */
static ens_status check_members(const ens_nc_writer *w, long long m0, long long count,
                                ens_error *err)
{
    if (m0 >= w->first && count >= 0 && m0 - w->first <= w->members &&
        count <= w->members - (m0 - w->first))
        return ENS_OK;
    return ens_fail(err, ENS_ERR_INVALID_ARGUMENT,
                    "output file '%s': members %lld..%lld outside %lld..%lld", w->path, m0,
                    m0 + count - 1, w->first, w->first + w->members - 1);
}

/* One batch's states, file-relative members [m0, m0 + n) of the T times in
 * the buffer, TW of them written. */
typedef struct batch {
    size_t m0, n, T, TW, V;
    const void *states;
    int states_double;
    const double *params; /* [param * n + i] */
} batch;

/* The model's aux quantities of members [i0, i0 + nb) of the batch, from
 * their saved states, as (time, member) slabs: NaN at the times the batch
 * did not reach. */
static int write_aux_block(ens_nc_writer *w, const batch *b, size_t i0, size_t nb,
                           const char **what)
{
    const size_t A = (size_t)w->naux, T = b->T, np = (size_t)w->model->nparams;
    const size_t out_es = w->disk_double ? sizeof(double) : sizeof(float);
    const size_t bytes = A * T * nb * sizeof(double);
    if (bytes > w->aux_bytes) {
        double *p = realloc(w->aux_values, bytes);
        if (!p)
            return NC_ENOMEM;
        w->aux_values = p;
        w->aux_bytes = bytes;
    }
    int st = reserve_scratch(w, T * nb * out_es);
    if (st != NC_NOERR)
        return st;
    double par[ENS_MAX_PARAMS], *x = w->eval_buf, *aux = w->eval_buf + b->V;
    for (size_t i = 0; i < nb; i++) {
        for (size_t q = 0; q < np; q++)
            par[q] = b->params[q * b->n + i0 + i];
        for (size_t t = 0; t < T; t++) {
            const size_t row = ((i0 + i) * T + t) * b->V;
            for (size_t v = 0; v < b->V; v++)
                x[v] = b->states_double ? ((const double *)b->states)[row + v]
                                        : ((const float *)b->states)[row + v];
            if (t < b->TW)
                ens_model_eval_aux(w->model, w->times[t], x, par, aux);
            for (size_t a = 0; a < A; a++)
                w->aux_values[(a * T + t) * nb + i] = t < b->TW ? aux[a] : NAN;
        }
    }
    size_t start[2] = {0, b->m0 + i0}, cnt[2] = {T, nb};
    for (size_t a = 0; a < A && st == NC_NOERR; a++) {
        const double *values = w->aux_values + a * T * nb;
        *what = ens_model_aux_name(w->model, (int)a);
        if (w->disk_double) {
            st = nc_put_vara_double(w->ncid, w->aux_id[a], start, cnt, values);
        } else {
            float *f = w->scratch;
            for (size_t k = 0; k < T * nb; k++)
                f[k] = (float)values[k];
            st = nc_put_vara_float(w->ncid, w->aux_id[a], start, cnt, f);
        }
    }
    return st;
}

/* Components [v, v + K) of members [i0, i0 + nb) of the batch's (member,
 * time, var) states as the file's (time, member, k) slab, converted to the
 * type on disk here (HDF5's conversion is several times slower); the
 * times the batch did not reach are NaN. */
#define ENS_TRANSPOSE(SRC_T, DST_T)                                           \
    do {                                                                      \
        const SRC_T *src = (const SRC_T *)b->states + v;                      \
        DST_T *dst = w->scratch;                                              \
        for (size_t i = 0; i < nb; i++) {                                     \
            const SRC_T *row = src + (i0 + i) * b->T * b->V;                  \
            for (size_t t = 0; t < b->TW; t++)                                \
                for (size_t k = 0; k < K; k++)                                \
                    dst[(t * nb + i) * K + k] = (DST_T)row[t * b->V + k];     \
            for (size_t t = b->TW; t < b->T; t++)                             \
                for (size_t k = 0; k < K; k++)                                \
                    dst[(t * nb + i) * K + k] = (DST_T)NAN;                   \
        }                                                                     \
    } while (0)

/* Each state variable (or the vector variable) of members [i0, i0 + nb)
 * of the batch, over all T times. `what` names the variable written. */
static int write_state_block(ens_nc_writer *w, const batch *b, size_t i0, size_t nb,
                             const char **what)
{
    const size_t out_es = w->disk_double ? sizeof(double) : sizeof(float);
    const size_t K = w->vector ? b->V : 1; /* components per variable */
    int st = reserve_scratch(w, b->T * nb * K * out_es);
    size_t start[3] = {0, b->m0 + i0, 0}, cnt[3] = {b->T, nb, K};
    /* A file in memory leaves the states to the caller's array. */
    const int nstate = w->in_memory ? 0 : w->nstate;
    for (int var = 0; var < nstate && st == NC_NOERR; var++) {
        const size_t v = (size_t)var;
        *what = w->vector ? w->model->vector_name : w->model->var_names[var];
        if (b->states_double && w->disk_double)
            ENS_TRANSPOSE(double, double);
        else if (b->states_double)
            ENS_TRANSPOSE(double, float);
        else if (w->disk_double)
            ENS_TRANSPOSE(float, double);
        else
            ENS_TRANSPOSE(float, float);
        st = w->disk_double
                 ? nc_put_vara_double(w->ncid, w->state_id[var], start, cnt, w->scratch)
                 : nc_put_vara_float(w->ncid, w->state_id[var], start, cnt, w->scratch);
    }
    if (st == NC_NOERR && w->naux > 0)
        st = write_aux_block(w, b, i0, nb, what);
    return st;
}
#undef ENS_TRANSPOSE


/* Bytes of states written between two questions to the spec's stop: a
 * fraction of a second of writing. */
#define STOP_BLOCK_BYTES ((size_t)8 * 1024 * 1024)

/* Members per block of a batch's states: whole chunk rows of about
 * STOP_BLOCK_BYTES; the whole batch in a file shared by MPI ranks (its
 * writes are collective) or without a stop to ask. */
static size_t block_members(const ens_nc_writer *w, const batch *b)
{
    const size_t row = b->T * b->V * (w->disk_double ? 8 : 4); /* one member's */
    size_t per = STOP_BLOCK_BYTES / (row ? row : 1);
    per = per < w->chunk[1] ? w->chunk[1] : per - per % w->chunk[1];
    return w->parallel || !w->stop || per >= b->n ? b->n : per;
}

/* The batch's states block by block, the spec's stop asked between them
 * (*stopped). */
static int write_states(ens_nc_writer *w, const batch *b, const char **what, int *stopped)
{
    const size_t per = block_members(w, b);
    if (per >= b->n)
        return write_state_block(w, b, 0, b->n, what);
    int st = NC_NOERR;
    for (size_t i0 = 0; i0 < b->n && st == NC_NOERR; i0 += per) {
        if (i0 > 0 && w->stop(w->stop_user)) {
            *stopped = 1;
            break;
        }
        st = write_state_block(w, b, i0, b->n - i0 < per ? b->n - i0 : per, what);
    }
    return st;
}

/* Varying parameters: each one's values for the batch are contiguous. */
static int write_params(ens_nc_writer *w, size_t m0, size_t n, const double *params,
                        const char **what)
{
    for (int p = 0; p < w->model->nparams; p++) {
        if (w->param_id[p] < 0)
            continue;
        size_t start = m0, cnt = n;
        *what = w->model->param_names[p];
        int st = nc_put_vara_double(w->ncid, w->param_id[p], &start, &cnt,
                                    params + (size_t)p * n);
        if (st != NC_NOERR)
            return st;
    }
    return NC_NOERR;
}

/* What a batch must come with. */
static ens_status check_batch(const ens_nc_writer *w, const void *states,
                              const double *params, ens_error *err)
{
    if (w->write_states && !states && !w->in_memory)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file '%s': no states given", w->path);
    for (int p = 0; p < w->model->nparams; p++)
        if (w->param_id[p] >= 0 && !params)
            return ens_fail(err, ENS_ERR_INTERNAL,
                            "output file '%s': no parameter values given", w->path);
    return ENS_OK;
}

ens_status ens_nc_write_batch(ens_nc_writer *w, long long m0, long long count,
                              long long times, const void *states, int states_double,
                              const double *params, ens_error *err)
{
    if (!w)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file: no writer");
    ENS_CHECK(check_members(w, m0, count, err));
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
    ENS_CHECK(check_batch(w, states, params, err));

    const batch b = {(size_t)(m0 - w->first), (size_t)count, (size_t)w->ntimes, (size_t)times,
                     (size_t)w->nvars, states, states_double, params};
    const char *what = "chunk cache";
    /* The cache holds the chunks of one block (and the row the next batch
     * completes): what a stop leaves to flush is one block's. */
    int st = w->write_states ? ens_nc_fit_cache(w, (long long)block_members(w, &b)) : NC_NOERR;
    /* An interrupted batch (TW < T) is written over all T times, those it
     * did not reach as NaN: readers see that they are missing, and whole
     * chunks are written (partial ones cost a read-modify-write each,
     * over a second per batch in a file shared by MPI ranks). */
    int stopped = 0;
    const int writes_saved = w->write_states && states && b.TW > 0 &&
                             (!w->in_memory || w->naux > 0);
    if (st == NC_NOERR && writes_saved)
        st = write_states(w, &b, &what, &stopped);
    if (st == NC_NOERR && !stopped)
        st = write_params(w, b.m0, b.n, params, &what);
    ENS_CHECK(ens_nc_check_storage(err, st, w->partial, "cannot write %s of members %lld..%lld to '%s'", what, m0,
                           m0 + count - 1, w->partial));
    if (stopped)
        return ens_fail(err, ENS_ERR_INTERRUPTED,
                        "run stopped while members %lld..%lld were written", m0, m0 + count - 1);
    return ENS_OK;
}

/* ---- statistics, member outcomes, step state ------------------------------------ */

/* One statistic k (mean, std, min, max) of every (time, var) moment. */
static void moments_stat(const ens_moments *moments, size_t n, int k, double *values)
{
    for (size_t i = 0; i < n; i++) {
        const ens_moments *m = &moments[i];
        double value = NAN;
        if (m->n > 0) {
            /* Population standard deviation, as xarray's .std() gives. */
            const double stat[4] = {m->mean, sqrt(m->m2 / m->n), m->min, m->max};
            value = stat[k];
        }
        values[i] = value;
    }
}

ens_status ens_nc_write_stats(ens_nc_writer *w, long long times, const ens_moments *moments,
                              ens_error *err)
{
    if (!w || !w->write_stats || times <= 0)
        return ENS_OK;
    const size_t T = (size_t)times, V = (size_t)w->nvars;
    /* A parallel file: rank 0 holds the statistics merged over all ranks
     * and writes them; the others make the same collective calls with
     * zero-size counts. */
    const size_t W = w->parallel && w->rank != 0 ? 0 : T;
    double *values = malloc(T * V * sizeof *values);
    double *column = malloc(T * sizeof *column); /* one scalar variable's */
    int st = values && column ? NC_NOERR : NC_ENOMEM;
    for (int k = 0; k < 4 && st == NC_NOERR; k++) {
        moments_stat(moments, T * V, k, values);
        for (int v = 0; v < w->nstate && st == NC_NOERR; v++) {
            if (w->vector) {
                size_t start[2] = {0, 0}, cnt[2] = {W, W ? V : 0};
                st = nc_put_vara_double(w->ncid, w->stats_id[0][k], start, cnt, values);
                continue;
            }
            for (size_t t = 0; t < T; t++)
                column[t] = values[t * V + (size_t)v];
            size_t start = 0, cnt = W;
            st = nc_put_vara_double(w->ncid, w->stats_id[v][k], &start, &cnt, column);
        }
    }
    free(values);
    free(column);
    return ens_nc_check_storage(err, st, w->partial, "cannot write the ensemble statistics to '%s'", w->partial);
}

ens_status ens_nc_write_steps(ens_nc_writer *w, long long m0, long long count,
                              const double *real_rows, const long long *int_rows,
                              ens_error *err)
{
    if (!w || w->steps_real_id < 0)
        return ENS_OK;
    ENS_CHECK(check_members(w, m0, count, err));
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
    return ens_nc_check_storage(err, st, w->partial,
                        "cannot write the dopri5 step state of members %lld..%lld to '%s'", m0,
                        m0 + count - 1, w->partial);
}

ens_status ens_nc_write_outcomes(ens_nc_writer *w, long long times, const long long *counts,
                                 long long n, const ens_nc_failed *failed, ens_error *err)
{
    if (!w || w->counts_id < 0 || times < 0 || times > w->ntimes || n < 0)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file: no statistics file or bad counts");
    size_t start[2] = {0, 0}, cnt[2] = {(size_t)times, ENS_NC_STATUSES};
    int st = nc_put_vara_longlong(w->ncid, w->counts_id, start, cnt, counts);
    /* One column at a time: member, status, time. */
    const size_t N = n > 0 ? (size_t)n : 1;
    long long *member = malloc(N * sizeof *member);
    signed char *code = malloc(N);
    double *time = malloc(N * sizeof *time);
    st = st != NC_NOERR ? st : member && code && time ? NC_NOERR : NC_ENOMEM;
    for (long long i = 0; st == NC_NOERR && i < n; i++) {
        member[i] = failed[i].member;
        code[i] = (signed char)failed[i].status;
        time[i] = failed[i].time;
    }
    cnt[0] = (size_t)n;
    if (st == NC_NOERR && n > 0)
        st = nc_put_vara_longlong(w->ncid, w->failed_ids[0], start, cnt, member);
    if (st == NC_NOERR && n > 0)
        st = nc_put_vara_schar(w->ncid, w->failed_ids[1], start, cnt, code);
    if (st == NC_NOERR && n > 0)
        st = nc_put_vara_double(w->ncid, w->failed_ids[2], start, cnt, time);
    free(member);
    free(code);
    free(time);
    return ens_nc_check_storage(err, st, w->partial,
                                "cannot write the members' outcomes to '%s'", w->partial);
}

/* status(member) of members [start, start + cnt) as bytes. */
static int write_status_codes(ens_nc_writer *w, size_t start, size_t cnt,
                              const int *status)
{
    signed char *codes = malloc(cnt > 0 ? cnt : 1);
    if (!codes)
        return NC_ENOMEM;
    for (size_t i = 0; i < cnt; i++)
        codes[i] = (signed char)status[i];
    int st = nc_put_vara_schar(w->ncid, w->status_id, &start, &cnt, codes);
    free(codes);
    return st;
}

ens_status ens_nc_write_members(ens_nc_writer *w, long long m0, long long count,
                                const ens_member_stats *stats, ens_error *err)
{
    if (!w || !stats)
        return ens_fail(err, ENS_ERR_INTERNAL, "output file: no writer or member results");
    ENS_CHECK(check_members(w, m0, count, err));
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
    if (w->status_id >= 0 && stats->status)
        st = write_status_codes(w, start, cnt, stats->status);
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
    return ens_nc_check_storage(err, st, w->partial, "cannot write %s of members %lld..%lld to '%s'", what, m0,
                        m0 + count - 1, w->partial);
}

/* ---- closing ---------------------------------------------------------------------- */

static int put_text(int ncid, const char *name, const char *value)
{
    return nc_put_att_text(ncid, NC_GLOBAL, name, strlen(value), value);
}

static int put_int64(int ncid, const char *name, long long value)
{
    return nc_put_att_longlong(ncid, NC_GLOBAL, name, NC_INT64, 1, &value);
}

/* Global attributes that tell a reader what an interrupted file holds.
 * Returns a NetCDF status. */
static int mark_incomplete(ens_nc_writer *w, const ens_nc_incomplete *inc)
{
    const ens_nc_incomplete none = {0};
    if (!inc)
        inc = &none;
    int st = nc_redef(w->ncid);
    if (st == NC_NOERR)
        st = put_text(w->ncid, "incomplete",
                      inc->reason ? inc->reason : "run stopped before its end");
    if (st == NC_NOERR)
        st = put_int64(w->ncid, "members_complete", inc->members_complete);
    if (st == NC_NOERR)
        st = put_int64(w->ncid, "members_partial", inc->members_partial);
    if (st == NC_NOERR)
        st = put_text(w->ncid, "members_complete_ranges",
                      inc->complete_ranges ? inc->complete_ranges : "");
    if (st == NC_NOERR)
        st = put_text(w->ncid, "members_partial_ranges",
                      inc->partial_ranges ? inc->partial_ranges : "");
    if (st == NC_NOERR)
        st = nc_put_att_double(w->ncid, NC_GLOBAL, "last_time_written", NC_DOUBLE, 1,
                               &inc->last_time);
    if (st == NC_NOERR)
        st = nc_enddef(w->ncid);
    return st;
}

/* A file in memory: committed, its bytes go to the spec's memory; else
 * they are dropped. */
static ens_status close_memory(ens_nc_writer *w, ens_nc_outcome outcome, ens_error *err)
{
    ens_status rc = ENS_OK;
    if (outcome == ENS_NC_COMMIT) {
        NC_memio memio = {0};
        rc = ens_nc_check_storage(err, nc_close_memio(w->ncid, &memio), w->path,
                                  "cannot close output file '%s' in memory", w->path);
        if (rc == ENS_OK && w->memory_out && w->memory_size_out) {
            *w->memory_out = memio.memory;
            *w->memory_size_out = memio.size;
        } else {
            free(memio.memory);
        }
    } else {
        nc_abort(w->ncid);
    }
    writer_free(w);
    return rc;
}

ens_status ens_nc_close(ens_nc_writer *w, ens_nc_outcome outcome,
                        const ens_nc_incomplete *incomplete, ens_error *err)
{
    if (!w)
        return ENS_OK;
    if (w->in_memory)
        return close_memory(w, outcome, err);
    int marked = outcome == ENS_NC_KEEP_PARTIAL ? mark_incomplete(w, incomplete) : NC_NOERR;
    /* A failed close leaves the file open in HDF5, which can then neither
     * close nor abort it (both crash): it is left as it is, and removed. */
    const int st = nc_close(w->ncid);
    ens_status rc = ENS_OK;
    /* Closing fails as ENS_ERR_IO whatever NetCDF says. */
    if (st != NC_NOERR) {
        ens_nc_check_storage(err, st, w->partial, "cannot close output file '%s'", w->partial);
        rc = ENS_ERR_IO;
    } else if (marked != NC_NOERR) {
        ens_nc_check_storage(err, marked, w->partial, "cannot mark output file '%s' incomplete",
                             w->partial);
        rc = ENS_ERR_IO;
    }
    int renames = 1;
#ifdef ENSOL_HAVE_PARALLEL_NETCDF
    /* Every rank has closed before rank 0 alone renames or removes. */
    if (w->parallel) {
        MPI_Barrier(MPI_COMM_WORLD);
        renames = w->rank == 0;
    }
#endif
    if (renames && (outcome == ENS_NC_DISCARD || rc != ENS_OK))
        remove(w->partial); /* nothing under either name may look complete */
    else if (renames && outcome == ENS_NC_COMMIT)
        rc = ens_out_commit(w->partial, w->path, err);
    writer_free(w);
    return rc;
}

const char *ens_nc_partial_path(const ens_nc_writer *w) { return w ? w->partial : ""; }

const char *ens_nc_final_path(const ens_nc_writer *w) { return w ? w->path : ""; }
