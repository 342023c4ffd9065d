/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * NetCDF-4 writer for ensemble output (CF-1.8). Writes PATH.partial and
 * renames it to PATH only when the run succeeded; on failure the partial
 * file is removed, so no file that looks complete is ever left behind.
 *
 * Layout (time first and unlimited, as CDO and NCO's record tools want):
 *   dimensions  time = ntimes (unlimited), member = members, [vector_dim = nvars]
 *   member(member)  int64, standard_name "realization"
 *   time(time)      double, model time units
 *   one variable per state variable, (time, member)          e.g. x, y, z
 *   or one vector variable (time, member, vector_dim)        e.g. X
 *   with write_aux: one variable per aux quantity of the model, (time, member)
 *   with stats: NAME_mean, NAME_std, NAME_min, NAME_max (time[, vector_dim])
 *               for every state variable NAME, over the finite members
 *   one variable per parameter that varies across members, (member)
 *   parameters shared by all members as global attributes  param_<name>
 *   status(member) byte, CF flags; for an adaptive integrator also
 *               accepted_steps, rejected_steps (int64) and failure_time
 *               (double, NaN where the member did not fail)
 * A statistics file (counts_only) has no member dimension and nothing per
 * member: the statistics, then
 *   status(status)  byte, CF flags, the statuses a member can end in
 *   members_by_status(time, status)  int64, members in each at each time
 *   failed_member, failed_status, failed_time (failed)  the failed members
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
    int write_states;                 /* the state variables (trajectory or final) */
    int write_aux;                    /* with the states, the model's aux quantities
                                         (ens_model_eval_aux of each saved state),
                                         one (time, member) variable each */
    int write_stats;                  /* ensemble mean, std, min, max per time */
    int deflate_level;                /* 0: no compression; 1-9: deflate + shuffle */
    int quantize_bits;                /* 0: exact; else significant bits kept */
    size_t cache_limit;               /* chunk cache per state variable at most; 0: default */
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
    /* Where the initial states came from when not base state plus noise
     * (then perturbation and base_state are not written), or NULL. */
    const char *initial_states;
    /* A statistics file (no states): nothing per member, no member
     * dimension; how many members were in each status at each saved time
     * and the list of failed members instead (ens_nc_write_outcomes).
     * Else each member's status (ens_nc_write_members). Not shared by MPI
     * ranks (parallel 0): one process writes it. */
    int counts_only;
    const struct ens_nc_adaptive *adaptive; /* adaptive integrator's settings and
                                               step counters; NULL: fixed steps */
    /* 1: one file of all ranks of MPI_COMM_WORLD (MPI builds only): every
     * rank opens it with the same spec, and each call below is collective:
     * all ranks make it, in the same order, a rank with nothing to write
     * with count 0. Rank 0 alone renames or removes the file. */
    int parallel;
    /* A piece of the ensemble (one MPI rank's file when ranks write one
     * file each): members [first_member, first_member + piece_members) of
     * the `members`; the member coordinate holds their global indices and
     * two global attributes say where the piece lies (ens_nc_merge joins
     * the pieces). piece_members 0: the whole ensemble. The m0 given to the
     * calls below are global indices in both cases. */
    long long first_member;
    long long piece_members;
    /* A restart file of an adaptive run: each member's step state too
     * (ens_nc_write_steps), so that a run from it goes on exactly as the
     * whole run would; steps_done is the steps of dt since the
     * integration started afresh, where it stands. */
    int write_steps;
    long long steps_done;
    /* Asked between blocks of the member coordinate of over 10^6 members,
     * which takes seconds for a huge ensemble: non-zero stops ens_nc_open
     * with ENS_ERR_INTERRUPTED, nothing left; in a file shared by MPI ranks
     * every rank asks and all stop when one says so. Asked too between
     * blocks of members of a large batch's states (ens_nc_write_batch, not
     * for a shared file, whose writes are collective), from the thread that
     * writes. NULL: never. */
    int (*stop)(void *user);
    void *stop_user;
    /* 1: the file is made in memory (path only names it in messages), and
     * committing it hands its bytes to *memory and *memory_size (the
     * caller frees *memory); the state variables are defined but not
     * written: ens_nc_write_batch takes the states only for the auxiliary
     * variables made from them (NULL states: none written), and writes
     * the rest. */
    int in_memory;
    void **memory;
    size_t *memory_size;
} ens_nc_spec;

/* The step state of a restart file: variables and the attribute with the
 * steps of dt since the integration started afresh. */
#define ENS_NC_STEPS_REAL "dopri5_step_state"
#define ENS_NC_STEPS_INT "dopri5_step_counters"
#define ENS_NC_STEPS_DONE "dopri5_steps_done"

/* Global attributes of a piece: its first member, and the ensemble's size. */
#define ENS_NC_PIECE_FIRST "first_member"
#define ENS_NC_PIECE_TOTAL "ensemble_members"

/* Settings of an adaptive integrator, stored as global attributes. */
typedef struct ens_nc_adaptive {
    const double *rtol, *atol;        /* nvars values each */
    double dt_min, dt_max;            /* 0: none */
    long long max_steps;
} ens_nc_adaptive;

/* Chunk shape {time, member, vector} of a state variable of a file with
 * `members` members and `ntimes` times (vector: one (time, member, k)
 * variable of nvars components, else one (time, member) per variable). */
void ens_nc_state_chunks(int disk_double, int vector, int nvars, long long members,
                         long long ntimes, size_t chunk[3]);

/* Members per chunk of a per-member variable of `rows` values per member
 * in a file of `members` members: a chunked variable is filled chunk by
 * chunk as it is written, where a contiguous one is filled whole at its
 * first write (seconds for 10^9 members, which no signal interrupts). */
size_t ens_nc_member_chunk(long long members, size_t rows);

/* Slots for a chunk cache of `cache_bytes` holding chunks of `chunk_bytes`
 * (0 counts as 1): the smallest prime >= 10 * chunks + 1, as HDF5 wants. */
size_t ens_nc_cache_slots(size_t cache_bytes, size_t chunk_bytes);

/* Chunk cache per state variable when the spec sets no limit. */
#define ENS_NC_DEFAULT_CACHE_LIMIT ((size_t)64 * 1024 * 1024)

typedef struct ens_nc_writer ens_nc_writer;

/* Create PATH.partial with every dimension, variable and attribute. Fails
 * with ENS_ERR_IO and a message naming the path when it cannot. */
ens_status ens_nc_open(const ens_nc_spec *spec, ens_nc_writer **out, ens_error *err);

/* Write members [m0, m0 + count), their first `times` saved times:
 *   states: (member, time, var) C order with ntimes times per member,
 *           double when states_double, else float; NULL without states
 *   params: [param * count + i] for every model parameter (shared ones too;
 *           only the varying ones are stored) */
ens_status ens_nc_write_batch(ens_nc_writer *w, long long m0, long long count,
                              long long times, const void *states, int states_double,
                              const double *params, ens_error *err);
/* A batch stopped between its blocks (the spec's stop) fails with
 * ENS_ERR_INTERRUPTED; its members are then written in part. */

/* Write the status of members [m0, m0 + count), with the step counters and
 * failure times when the spec has `adaptive`: stats->...[i] for member m0 + i. */
ens_status ens_nc_write_members(ens_nc_writer *w, long long m0, long long count,
                                const ens_member_stats *stats, ens_error *err);

/* A member that failed: its global index, status and model time. */
typedef struct ens_nc_failed {
    long long member;
    double time;
    int status;
} ens_nc_failed;

/* Write a statistics file's outcomes (spec counts_only): counts[t *
 * ENS_NC_STATUSES + s] members in status s at saved time t for the first
 * `times` times, and the n failed members in member order. Once, before
 * closing. */
#define ENS_NC_STATUSES 5
ens_status ens_nc_write_outcomes(ens_nc_writer *w, long long times, const long long *counts,
                                 long long n, const ens_nc_failed *failed, ens_error *err);

/* Write the DOPRI5 step state of members [m0, m0 + count) (spec
 * write_steps): rows as the backends keep them, real_rows[r * count + i]
 * for the ENS_DOPRI5_REAL_ROWS(nvars) rows and int_rows[r * count + i]
 * for the ENS_DOPRI5_INT_ROWS. */
ens_status ens_nc_write_steps(ens_nc_writer *w, long long m0, long long count,
                              const double *real_rows, const long long *int_rows,
                              ens_error *err);

/* Write the ensemble statistics of the first `times` saved times:
 * moments[t * nvars + v]. In a parallel file every rank calls it with the
 * same `times`; rank 0's moments (merged over all ranks) are written, the
 * other ranks' are ignored. */
struct ens_moments;
ens_status ens_nc_write_stats(ens_nc_writer *w, long long times,
                              const struct ens_moments *moments, ens_error *err);

typedef enum ens_nc_outcome {
    ENS_NC_COMMIT,       /* the run succeeded: rename PATH.partial to PATH */
    ENS_NC_DISCARD,      /* the run failed: remove PATH.partial */
    ENS_NC_KEEP_PARTIAL  /* the run was stopped: keep PATH.partial, marked incomplete */
} ens_nc_outcome;

/* What an interrupted file holds, recorded in its global attributes. */
typedef struct ens_nc_incomplete {
    const char *reason;           /* e.g. "interrupted by SIGINT" */
    long long members_complete;   /* members with every saved time */
    long long members_partial;    /* members with the times up to last_time */
    const char *complete_ranges;  /* which members: "0-99 200-299" (global indices) */
    const char *partial_ranges;   /* "" when none */
    double last_time;             /* model time of the last state written */
} ens_nc_incomplete;

/* Close the file as `outcome` says (`incomplete` is read for
 * ENS_NC_KEEP_PARTIAL only). Frees w in every case. */
ens_status ens_nc_close(ens_nc_writer *w, ens_nc_outcome outcome,
                        const ens_nc_incomplete *incomplete, ens_error *err);

/* The name the file has while it is written (PATH.partial), and the name
 * it takes when committed ("" for no writer). */
const char *ens_nc_partial_path(const ens_nc_writer *w);
const char *ens_nc_final_path(const ens_nc_writer *w);


#endif
