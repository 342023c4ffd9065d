/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Inside the NetCDF writer: the open file's state, shared by its
 * definition (ncwriter_define.c: dimensions, variables, attributes and the
 * coordinates) and its writing (ncwriter.c: batches, statistics, member
 * outcomes, closing).
 */
#ifndef ENS_IO_NCWRITER_IMPL_H
#define ENS_IO_NCWRITER_IMPL_H

#include "io/ncwriter.h"

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
    int naux;                    /* aux quantities written (spec write_aux) */
    int *aux_id;                 /* their variables */
    double *times;               /* the ntimes model times, for the aux formulas */
    double *aux_values;          /* one block's aux values, (aux, member, time) */
    size_t aux_bytes;
    double *eval_buf;            /* one state and its aux values */
    size_t aux_chunk[3];         /* time, member (and an unused third) */
    int status_id, accepted_id, rejected_id, failure_id; /* -1 when not written */
    int steps_real_id, steps_int_id; /* step state of a restart file; -1: none */
    int counts_only;             /* a statistics file: no member dimension */
    int (*stop)(void *user);     /* the spec's; asked between blocks of a batch */
    void *stop_user;
    int counts_id, failed_ids[3]; /* its members_by_status, failed_member,
                                    failed_status, failed_time */
    size_t chunk[3];             /* time, member, [vector_dim] */
    size_t cache_bytes;          /* current per-variable chunk cache */
    size_t cache_limit;          /* its upper bound */
    void *scratch;               /* one batch's states in the file's order */
    size_t scratch_bytes;
    int parallel;    /* one file of all MPI ranks (spec->parallel) */
    int rank;        /* this process's rank; 0 without MPI */
    int in_memory;   /* spec->in_memory: no file; its bytes go to memory_out */
    void **memory_out;
    size_t *memory_size_out;
    int storage_failed; /* a write failed for want of space or an I/O error:
                           HDF5 then crashes aborting the file, so it is left */
};



/* Whether the spec describes a file that can be written. */
ens_status ens_nc_check_spec(const ens_nc_spec *s, ens_error *err);

/* Define every dimension, variable and attribute of the created file, end
 * its definition and write the coordinates. */
ens_status ens_nc_define_file(ens_nc_writer *w, const ens_nc_spec *s, ens_error *err);

/* Grow each state variable's chunk cache to hold every chunk a write of
 * `count` members touches. Returns a NetCDF status. */
int ens_nc_fit_cache(ens_nc_writer *w, long long count);

#endif
