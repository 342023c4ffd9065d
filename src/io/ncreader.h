/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Initial states from a NetCDF file (an ensol output or restart file, or
 * any file with the model's state variables over a dimension named
 * member, with or without a time dimension, in any order): the state of
 * every member at one saved time, the parameters the file records
 * (per-member variables or shared global attributes), and how the run
 * that wrote it integrated.
 */
#ifndef ENS_IO_NCREADER_H
#define ENS_IO_NCREADER_H

#include "core/error.h"
#include "core/config.h"

typedef struct ens_nc_source_info {
    long long members;
    long long time_index;        /* the saved time read (negative indices resolved) */
    double time;                 /* its model time */
    ens_param_origin params;      /* where each parameter comes from */
    /* A restart file of an adaptive run holds each member's step state:
     * steps_done is then the steps of dt since its integration started
     * afresh (ens_nc_spec), and dt that step; else steps_done is -1. */
    long long steps_done;
    double dt;
} ens_nc_source_info;

typedef struct ens_nc_source ens_nc_source;

/* Open PATH and check that it holds `model` with `nvars` variables.
 * time_index < 0 counts from the end (-1: the last saved time). */
ens_status ens_nc_source_open(const char *path, long long time_index,
                              const ens_model_info *model, int nvars, ens_nc_source **out,
                              ens_nc_source_info *info, ens_error *err);

/* Members [m0, m0 + count): state[v * count + i] and, for parameters the
 * file holds per member, params[j * count + i] (other rows untouched). */
ens_status ens_nc_source_read(ens_nc_source *src, long long m0, long long count, double *state,
                              double *params, ens_error *err);

/* The step state of members [m0, m0 + count) of a file with steps_done >=
 * 0: real_rows[r * count + i], int_rows[r * count + i] (see
 * ens_nc_write_steps). */
ens_status ens_nc_source_read_steps(ens_nc_source *src, long long m0, long long count,
                                    double *real_rows, long long *int_rows, ens_error *err);

/* How the run that wrote the file integrated, as far as its global
 * attributes say (other tools' files say nothing). */
typedef struct ens_nc_recorded {
    char integrator[16];   /* "" when not recorded */
    double dt;             /* 0 when not recorded */
    double *rtol, *atol;   /* rtol_len, atol_len values (1 or nvars); NULL when not recorded */
    int rtol_len, atol_len;
    int has_dt_limits;     /* dt_min (and dt_max, 0: none) recorded */
    double dt_min, dt_max;
} ens_nc_recorded;

/* Fills *rec (free it with ens_nc_recorded_free). */
ens_status ens_nc_source_recorded(const ens_nc_source *src, ens_nc_recorded *rec,
                                  ens_error *err);
void ens_nc_recorded_free(ens_nc_recorded *rec);

void ens_nc_source_close(ens_nc_source *src);

#endif
