/*
 * NetCDF-4 writer for ensemble output (CF-1.8). Writes PATH.partial and
 * renames it to PATH only when the run succeeded; on failure the partial
 * file is removed, so no file that looks complete is ever left behind.
 *
 * Layout:
 *   dimensions  member = members, time = ntimes, [vector_dim = nvars]
 *   member(member)  int64, standard_name "realization"
 *   time(time)      double, model time units
 *   one variable per state variable, (member, time)          e.g. x, y, z
 *   or one vector variable (member, time, vector_dim)        e.g. X
 *   one variable per parameter that varies across members, (member)
 *   parameters shared by all members as global attributes  param_<name>
 */
#ifndef ENS_IO_NCWRITER_H
#define ENS_IO_NCWRITER_H

#include <stdint.h>

#include "core/error.h"
#include "core/models.h"

typedef struct ens_nc_spec {
    const char *path;                 /* final name */
    const ens_model_info *model;
    int nvars;
    long long members;
    long long ntimes;
    const double *times;              /* ntimes model times */
    int disk_double;                  /* 1: float64 on disk, 0: float32 */
    /* parameters, in the model's order */
    const int *param_varies;          /* model->nparams flags */
    const double *param_values;       /* value of each shared parameter */
    /* provenance, stored as global attributes */
    const char *history;              /* command line or caller's text */
    const char *integrator;           /* "rk4" */
    const char *precision;            /* "double" */
    const char *output_mode;          /* "trajectory" or "final" */
    const char *backend;
    const char *device;
    const char *param_variation;      /* e.g. "rho: sweep 20..40, 1001 values" or "" */
    double dt;
    long long steps;
    long long save_every;
    uint64_t seed;
    double perturbation;
    const double *base_state;         /* nvars values */
} ens_nc_spec;

typedef struct ens_nc_writer ens_nc_writer;

/* Create PATH.partial with every dimension, variable and attribute. Fails
 * with ENS_ERR_IO and a message naming the path when it cannot. */
ens_status ens_nc_open(const ens_nc_spec *spec, ens_nc_writer **out, ens_error *err);

/* Write members [m0, m0 + count):
 *   states: (member, time, var) C order, count * ntimes * nvars values,
 *           double when states_double, else float
 *   params: [param * count + i] for every model parameter (shared ones too;
 *           only the varying ones are stored) */
ens_status ens_nc_write_batch(ens_nc_writer *w, long long m0, long long count,
                              const void *states, int states_double,
                              const double *params, ens_error *err);

/* success != 0: close and rename PATH.partial to PATH.
 * success == 0: close and remove PATH.partial. Frees w in both cases. */
ens_status ens_nc_close(ens_nc_writer *w, int success, ens_error *err);

/* Bytes of state data written so far. */
unsigned long long ens_nc_bytes_written(const ens_nc_writer *w);

#endif
