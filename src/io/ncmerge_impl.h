/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Inside the merge of ensemble pieces (ncmerge.h): the state of one merge,
 * shared by the check of the pieces (ncmerge_check.c), the definition of
 * the merged file (ncmerge_define.c) and the copy of the data (ncmerge.c).
 */
#ifndef ENS_IO_NCMERGE_IMPL_H
#define ENS_IO_NCMERGE_IMPL_H

#include <stddef.h>

#include "io/ncmerge.h"

#define MEMBER_DIM "member"
#define TIME_NAME "time"

typedef struct ens_piece {
    const char *path;
    int index;          /* position in the arguments, for a stable sort */
    long long first;    /* ENS_NC_PIECE_FIRST */
    long long total;    /* ENS_NC_PIECE_TOTAL */
    long long members;  /* length of its member dimension */
} ens_piece;

typedef struct ens_merge {
    const char *output;
    char *partial;
    ens_piece *pieces;   /* sorted by first member */
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
} ens_merge;

/* A read's NetCDF status: ENS_OK, or a failure naming `what` of `path`. */
ens_status ens_merge_read_check(ens_error *err, int st, const char *path, const char *what);

/* Open a piece for reading, a failure saying why (errno where HDF5 would
 * say only "HDF error"). */
ens_status ens_merge_open_piece(const char *path, int *ncid, ens_error *err);

/* Whether variable `varid` has the member dimension; its index in *at. */
int ens_merge_member_index(int ncid, int varid, int member_dim, int *at);

/* A state variable: (time, member[, vector]) float or double. */
int ens_merge_is_state(int ncid, int varid, int member_dim);

/* The checks before anything is written: the output is none of the
 * pieces; each piece is a complete piece of an ensemble (reads its
 * first member, total and size); the pieces, sorted, cover the ensemble
 * exactly once; two pieces come from one run. */
ens_status ens_merge_check_output(const ens_merge *m);
ens_status ens_merge_read_piece(ens_piece *p, ens_error *err);
void ens_merge_sort_pieces(ens_piece *ps, int n);
ens_status ens_merge_check_coverage(const ens_piece *ps, int n, ens_error *err);
ens_status ens_merge_same_run(int a, const char *pa, int b, const char *pb, ens_error *err);

/* Define the merged file from piece 0 (m->in0) and end its definition. */
ens_status ens_merge_define_output(ens_merge *m, const char *history);

#endif
