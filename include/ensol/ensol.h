/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * ensol: integrate large ensembles of ODE trajectories on CPU cores (OpenMP),
 * OpenCL devices or CUDA GPUs, and write them to NetCDF.
 *
 * Usage:
 *   ens_config *cfg;
 *   ens_config_create(&cfg);
 *   ens_config_set_model(cfg, "lorenz63");
 *   ens_config_set_members(cfg, 100000);
 *   ens_config_set_output_path(cfg, "run.nc");
 *   if (ens_run(cfg, &info) != ENS_OK)
 *       fprintf(stderr, "%s\n", ens_config_last_error(cfg));
 *   ens_config_destroy(cfg);
 *
 * Every function returns an ens_status; on failure the configuration keeps
 * a one-line message naming the setting and value at fault
 * (ens_config_last_error). The library never prints and never exits.
 */
#ifndef ENSOL_ENSOL_H
#define ENSOL_ENSOL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ENSOL_VERSION_MAJOR, _MINOR, _PATCH and _STRING ("0.2.0"), generated
 * from the build's project(VERSION). */
#include "ensol/version.h"

typedef enum ens_status {
    ENS_OK = 0,
    ENS_ERR_INVALID_ARGUMENT,    /* a value out of range, NaN, inconsistent settings */
    ENS_ERR_UNKNOWN_NAME,        /* no such model, parameter, integrator or backend */
    ENS_ERR_BACKEND_UNAVAILABLE, /* the requested backend is not built in or has no device */
    ENS_ERR_OUT_OF_MEMORY,
    ENS_ERR_IO,                  /* the output file could not be created, written or renamed */
    ENS_ERR_BACKEND,             /* a device or runtime call failed */
    ENS_ERR_INTERRUPTED,         /* the progress callback asked the run to stop */
    ENS_ERR_INTERNAL
} ens_status;

/* Short fixed text for a status code ("invalid argument", ...). */
const char *ens_status_string(ens_status status);

/* The library's version, e.g. "0.2.0" (ENSOL_VERSION_STRING of the build
 * that made it, which may differ from the header a program was built with). */
const char *ens_version(void);

typedef struct ens_config ens_config;

ens_status ens_config_create(ens_config **out);
void ens_config_destroy(ens_config *cfg);
/* The message of the last failure on this configuration ("" if none). */
const char *ens_config_last_error(const ens_config *cfg);

/* ---- problem: model and parameters ------------------------------------ */

/* Select a model by name ("lorenz63", "lorenz96"). Resets its parameters,
 * size and base state to the model's defaults. Default: lorenz63. */
ens_status ens_config_set_model(ens_config *cfg, const char *name);

/* Select a model file (README, "Your own model") read from `path`, or
 * given as its text (`name_for_messages` names it in FILE:LINE messages).
 * Its declarations are checked here; its right-hand side is compiled when
 * a run starts (OpenMP backend: the system C compiler, cached per user).
 * Resets parameters, size and base state like ens_config_set_model. */
ens_status ens_config_set_model_file(ens_config *cfg, const char *path);
ens_status ens_config_set_model_source(ens_config *cfg, const char *text,
                                       const char *name_for_messages);
/* What the selected model declares (variables, units, sizes, parameters,
 * defaults), as lines of text into buf (truncated to size). */
ens_status ens_config_describe_model(const ens_config *cfg, char *buf, size_t size);

/* Set a parameter shared by all members (sigma, rho, beta; F). The model's
 * size parameter (K for lorenz96) is set here too and must be an integer. */
ens_status ens_config_set_param(ens_config *cfg, const char *name, double value);

/* Sweep a parameter over n values on a linear grid lo..hi (n >= 2, or n == 0
 * for one value per member). With two sweeps the members cover the outer
 * product, the first sweep varying slowest. Member m takes grid point m; the
 * member count must equal the grid size (ens_config_set_members), or is set
 * to it when never set. */
ens_status ens_config_sweep_param(ens_config *cfg, const char *name, double lo,
                                  double hi, long long n);

/* Draw a parameter per member uniformly from [lo, hi), keyed by (seed, m). */
ens_status ens_config_random_param(ens_config *cfg, const char *name, double lo,
                                   double hi);

/* Give a parameter one value per member: values[m] for member m (copied).
 * The member count must equal n (ens_config_set_members), or is set to it
 * when never set. */
ens_status ens_config_set_param_values(ens_config *cfg, const char *name, const double *values,
                                       long long n);

/* ---- ensemble ---------------------------------------------------------- */

ens_status ens_config_set_members(ens_config *cfg, long long members);
/* Base state: n values, n equal to the model's variable count, or n == 1 to
 * use one value for every variable. */
ens_status ens_config_set_base_state(ens_config *cfg, const double *values, int n);
/* Standard deviation of the Gaussian noise added to the base state. */
ens_status ens_config_set_perturbation(ens_config *cfg, double stddev);
ens_status ens_config_set_seed(ens_config *cfg, uint64_t seed);
/* Every member's initial state given, in place of base state plus noise:
 * members rows of nvars values, member after member (copied). nvars must
 * be the model's variable count; the member count must equal members, or
 * is set to it when never set. NULL clears it. An initial-state file
 * (ens_config_set_initial_file) and given states exclude each other. */
ens_status ens_config_set_initial_states(ens_config *cfg, const double *states,
                                         long long members, int nvars);

/* ---- integration ------------------------------------------------------- */

/* "euler", "rk4" (fixed steps) or "dopri5" (Dormand-Prince 5(4): each
 * member adapts its own step to the tolerances below). Default: euler (the
 * classic experiment). */
ens_status ens_config_set_integrator(ens_config *cfg, const char *name);
/* The time step; for dopri5 the first step tried and the unit of steps and
 * save_every: the saved times are t = k * save_every * dt as for fixed
 * steps, whatever steps each member takes (dense output). */
ens_status ens_config_set_dt(ens_config *cfg, double dt);
/* Total time = steps * dt (for dopri5 too). */
ens_status ens_config_set_steps(ens_config *cfg, long long steps);
/* In trajectory mode, save the state at t = 0 and every k steps after it;
 * when k does not divide the step count the last interval is shorter, so
 * the final state is always saved. k must not exceed the step count.
 * Default: 50, or the step count when that is smaller. */
ens_status ens_config_set_save_every(ens_config *cfg, long long k);
/* Arithmetic precision of the integration: "float" or "double". */
ens_status ens_config_set_precision(ens_config *cfg, const char *name);

/* dopri5 only (fixed-step integrators ignore them). A step is accepted when
 * the RMS over variables of err_v / (atol_v + rtol_v max(|x_v|, |x_v'|)) is
 * at most 1 (the norm of SciPy's solve_ivp and Hairer's DOPRI5).
 * rtol > 0 and finite, and at least 8 units of roundoff of the precision
 * (2^-50 in double, 2^-21 in float; checked by ens_config_validate);
 * atol >= 0 and finite. Defaults: rtol 1e-6, atol 1e-9. */
ens_status ens_config_set_tolerances(ens_config *cfg, double rtol, double atol);
/* Per-variable tolerances: n values, one per state variable of the model
 * (checked at validation, as the size of lorenz96 may change later), or
 * n == 1 for one value for all. */
ens_status ens_config_set_rtol_vector(ens_config *cfg, const double *rtol, int n);
ens_status ens_config_set_atol_vector(ens_config *cfg, const double *atol, int n);
/* Step size limits: 0 <= dt_min < dt_max, finite; dt_max = 0: no upper
 * limit. A member whose error control needs a step below dt_min stops with
 * ENS_MEMBER_DT_MIN. Defaults: 0 and 0 (no limits). */
ens_status ens_config_set_dt_limits(ens_config *cfg, double dt_min, double dt_max);
/* Steps (accepted and rejected) a member may attempt in the whole run; a
 * member that needs more stops with ENS_MEMBER_MAX_STEPS. 0 (default):
 * 100 x steps, at least 100000. */
ens_status ens_config_set_max_steps(ens_config *cfg, long long max_steps);

/* ---- backend ------------------------------------------------------------ */

/* "auto" (default), "openmp", "opencl" or "cuda". */
ens_status ens_config_set_backend(ens_config *cfg, const char *name);
/* Device of the backend: NULL or "" for the backend's default, a number
 * (as listed by ensol info) or a case-insensitive part of the device name. */
ens_status ens_config_set_device(ens_config *cfg, const char *device);
/* Strict floating point: no contraction of multiply-adds into FMAs and
 * correctly rounded division on every backend, so that backends agree bit
 * for bit. Default off: contraction is faster and as accurate. */
ens_status ens_config_set_strict_fp(ens_config *cfg, int strict);
/* A euler or rk4 member whose state is not finite, or has a variable above
 * `bound` in magnitude, at a save (every interval in final mode) fails: it
 * gets a status and the time of that save, its saved states stay at its
 * last good state, and statistics leave it out. Default 1e8; 0: no bound,
 * only non-finite states fail. */
ens_status ens_config_set_blowup_bound(ens_config *cfg, double bound);
/* CPU threads for the OpenMP backend; 0 (default) uses all cores. */
ens_status ens_config_set_threads(ens_config *cfg, int threads);
/* Members integrated per batch; 0 (default) chooses from the memory budget.
 * Results do not depend on it. */
ens_status ens_config_set_batch_members(ens_config *cfg, long long members);
/* Memory budget of a run in bytes (host buffers, and device buffers on a
 * device backend); 0 (default): a quarter of the available memory, at most
 * 1 GiB. Batches are sized to fit; peak memory does not grow with members. */
ens_status ens_config_set_max_memory(ens_config *cfg, double bytes);

/* ---- output ------------------------------------------------------------- */

/* "trajectory" (every save), "final" (the last state only), "stats" (the
 * ensemble mean, standard deviation, minimum and maximum of each variable
 * at every save, over the members whose state is finite: kilobytes for any
 * member count) or "both" (trajectory and stats). */
ens_status ens_config_set_output_mode(ens_config *cfg, const char *name);
/* NetCDF deflate compression of the state variables, with the shuffle
 * filter: level 0 (none, the default) to 9. It runs on one thread inside
 * NetCDF and is slow next to the integration (bench/README.md). */
ens_status ens_config_set_deflate(ens_config *cfg, int level);
/* Bit rounding before compression: keep `bits` significant bits of each
 * value (1-52; 0, the default, keeps values exact). Float output rounded to
 * 12-16 bits compresses 2-3x better. */
ens_status ens_config_set_quantize(ens_config *cfg, int bits);
/* Type of the values on disk: "float" or "double"; default: the precision. */
ens_status ens_config_set_output_type(ens_config *cfg, const char *name);
/* NetCDF file written by ens_run. The file appears under this name only
 * when the run succeeds; until then it is PATH.partial. */
ens_status ens_config_set_output_path(ens_config *cfg, const char *path);
/* Start from the states of a NetCDF file at saved time `time_index`
 * (negative counts from the end: -1 is the last) instead of base state plus
 * noise. The file is an ensol output or restart file, or any file with the
 * model's state variables (x, y, z; X for lorenz96) over a dimension named
 * member: (member), or (member, k) for a vector model, with or without a
 * time dimension, dimensions in any order; a file without a time
 * dimension is one state, at the time of a scalar time variable or 0. A
 * file with a `model` attribute must name the configured model. The file
 * fixes the member count and the start time, and supplies the parameters
 * it records (per-member variables, over member only, or shared
 * attributes param_NAME). Where it records them (ensol files do), the run
 * takes its integrator and dt, and for dopri5 its tolerances and step
 * limits, unless they were set on this configuration.
 * NULL clears it. Continuing a run from its restart file gives the same
 * bits as running it whole (euler, rk4: the file holds the states in
 * double; dopri5: it also holds each member's step state, used when the
 * run keeps the same dt; with another dt, or from a trajectory file, dopri5
 * members start afresh from the states, with the first step dt). */
ens_status ens_config_set_initial_file(ens_config *cfg, const char *path, long long time_index);
/* Also write every member's final state, in double precision, to this
 * NetCDF file: the initial-state file of a run that continues this one
 * (for dopri5 with each member's step state: step size, controller
 * history, last derivative and dense output, step counters). */
ens_status ens_config_set_restart_path(ens_config *cfg, const char *path);
/* Under MPI (ens_run with several ranks): 1 makes each rank write its own
 * members to its own file, PATH with the rank before the extension
 * (run.nc: run.rank0000.nc, run.rank0001.nc, ...; the restart file too),
 * instead of all ranks writing PATH together with parallel NetCDF. Join
 * the pieces with ens_merge_files or `ensol merge`. It is what ranks do
 * regardless when the library has no parallel NetCDF (ens_has_parallel_io). */
ens_status ens_config_set_file_per_rank(ens_config *cfg, int per_rank);
/* 1: ens_run writes its file even when its uncompressed size exceeds the
 * free space of the file system (by default such a run is refused with
 * ENS_ERR_INVALID_ARGUMENT before it starts). */
ens_status ens_config_set_force(ens_config *cfg, int force);
/* Whether this library writes one file from many MPI ranks (1), or one
 * file per rank (0; and 0 without MPI). */
int ens_has_parallel_io(void);
/* The name of rank `rank`'s piece of PATH (see ens_config_set_file_per_rank). */
ens_status ens_piece_path(const char *path, int rank, char *out, size_t out_size);
/* Whether ensol may write PATH: ENS_OK when it names no file or (through
 * symbolic links) a regular one; else ENS_ERR_INVALID_ARGUMENT with the
 * reason ("is a FIFO, not a regular file") in why. */
ens_status ens_check_output_path(const char *path, char *why, size_t why_size);
/* Write a file as ensol writes its output files: `write` (returning 0 on
 * success) fills a partial file created exclusively next to PATH (or next
 * to its target when PATH is a symbolic link), renamed over it when
 * complete; a PATH that is not a regular file is refused. On failure
 * nothing is left and why says what failed. */
ens_status ens_write_file(const char *path, int (*write)(FILE *f, void *user), void *user,
                          char *why, size_t why_size);
/* Called while ens_merge_files copies, with the fraction of the data done;
 * return non-zero to stop it (ENS_ERR_INTERRUPTED, no output left). */
typedef int (*ens_merge_progress_fn)(double fraction, void *user);
/* Join the per-rank pieces of one run, in any order, into OUTPUT, laid out
 * as a single-process run writes it (written as OUTPUT.partial, renamed
 * when complete). history goes before the pieces' history; progress may be
 * NULL. On failure the message (naming the file and the problem) goes to
 * `error`. */
ens_status ens_merge_files(const char *output, const char *const *pieces, int npieces,
                           const char *history, ens_merge_progress_fn progress, void *user,
                           char *error, size_t error_size);
/* Recorded in the file's `history` attribute (the CLI stores its command line). */
ens_status ens_config_set_history(ens_config *cfg, const char *history);

/* Called after each batch and save interval from the calling thread, about
 * every tenth of a second within a long interval of fixed steps on the
 * openmp backend, and (with nothing done yet) while a huge ensemble's
 * files are opened.
 * Return non-zero to stop the run (it then fails with ENS_ERR_INTERRUPTED;
 * stopped before its first batch, it leaves no file). */
typedef struct ens_progress {
    long long members_done;   /* members whose whole run has finished */
    long long members_total;
    double fraction;          /* of all member-steps, 0..1 */
    double sim_time;          /* model time reached by the current batch */
    double elapsed_seconds;
    double member_steps_per_second;
} ens_progress;
typedef int (*ens_progress_fn)(const ens_progress *progress, void *user);
ens_status ens_config_set_progress(ens_config *cfg, ens_progress_fn fn, void *user);

/* What a run will do, known once its backend is chosen and before it
 * starts: passed to the plan callback. */
typedef struct ens_run_plan {
    char backend[32];
    char device[128];
    long long members;
    long long batches;
    long long batch_members;
    long long saved_times;
    double host_bytes;     /* host memory of the batch buffers */
    double device_bytes;   /* device memory (0 for the CPU backend) */
    double output_bytes;   /* the file's expected size, uncompressed: states,
                              per-member variables, statistics, headers */
    /* The integration, as given or taken from the initial-state file. */
    char integrator[16];
    long long steps;
    double dt;
    int resumes_steps;     /* dopri5 goes on with the file's step state */
    int output_pieces;     /* each MPI rank writes its own piece of the file
                              (ens_merge_files joins them) */
} ens_run_plan;
typedef void (*ens_plan_fn)(const ens_run_plan *plan, void *user);
ens_status ens_config_set_plan_callback(ens_config *cfg, ens_plan_fn fn, void *user);

/* ---- introspection ------------------------------------------------------- */

/* Number of state variables of the configured model (3; K). */
int ens_config_nvars(const ens_config *cfg);
/* The variables a file holds the states in: one per state variable, or
 * one array (time, member, component) for a model written as one; their
 * count and names (NULL out of range). */
int ens_config_state_variable_count(const ens_config *cfg);
const char *ens_config_state_variable_name(const ens_config *cfg, int index);
long long ens_config_members(const ens_config *cfg);
/* Steps of the run: --steps, else the model file's default (an XPPAUT
 * file's total/dt), else 5000. */
long long ens_config_steps(const ens_config *cfg);
/* Number of saved times the run produces (1 in final mode). */
long long ens_config_saved_times(const ens_config *cfg);
/* Floating-point operations of one member-step of the configured model and
 * integrator, one per arithmetic operation (a fused multiply-add counts 2),
 * as counted in kernels/integrators/. */
double ens_config_step_flops(const ens_config *cfg);
/* Initial state of member m (nvars values), exactly as the run uses it
 * (with an initial-state file: read from it, each call). */
ens_status ens_config_member_initial_state(ens_config *cfg, long long m, double *state);
/* Value of parameter `name` for member m, as the run uses it (shared,
 * swept, drawn, or recorded in the initial-state file). */
ens_status ens_config_member_param(ens_config *cfg, long long m, const char *name,
                                   double *value);

/* ---- running -------------------------------------------------------------- */

/* Check the whole configuration (the checks that involve several settings,
 * such as save_every against steps) without running. ens_run does it too. */
ens_status ens_config_validate(ens_config *cfg);

typedef struct ens_run_info {
    char backend[32];            /* backend that ran ("openmp", ...) */
    char device[128];            /* its device, e.g. "CPU, 2 threads" */
    double seconds;              /* wall time of the whole run */
    double compute_seconds;      /* time spent integrating */
    double member_steps_per_second;
    long long batches;
    long long members_failed;    /* members with status != ENS_MEMBER_OK */
    unsigned long long bytes_written;
    long long members_by_status[5]; /* members per enum ens_member_status */
    long long steps_accepted;    /* over all members; fixed steps: members x steps */
    long long steps_rejected;    /* over all members (dopri5) */
} ens_run_info;

/* Outcome of each member. A dopri5 member that fails stops where it failed
 * and keeps its last state in all later saves; euler and rk4 members carry
 * on with NaN or Inf. */
typedef enum ens_member_status {
    ENS_MEMBER_OK = 0,
    ENS_MEMBER_NONFINITE = 1,  /* its state became NaN or Inf (dopri5: every
                                  smaller step did too, down to the limit) */
    ENS_MEMBER_DT_MIN = 2,     /* dopri5: needed a step below dt_min, or too
                                  small to advance the time */
    ENS_MEMBER_MAX_STEPS = 3,  /* dopri5: used up max_steps */
    ENS_MEMBER_BLOWUP = 4      /* euler, rk4: a variable exceeded the blow-up bound */
} ens_member_status;

/* Caller arrays receiving per-member results, each with
 * ens_config_members() entries; NULL arrays are skipped. For euler and rk4
 * the status says whether the final state is finite, accepted_steps is
 * the step count, rejected_steps 0 and failure_time NaN. */
typedef struct ens_member_stats {
    int *status;                 /* enum ens_member_status */
    long long *accepted_steps;
    long long *rejected_steps;
    double *failure_time;        /* model time a failed member stopped at; NaN if ok */
} ens_member_stats;

/* Run and write the NetCDF file set by ens_config_set_output_path. Besides
 * the states it holds status(member) for every integrator, and for dopri5
 * accepted_steps, rejected_steps and failure_time (member); a statistics
 * file (output mode "stats") nothing per member: members_by_status(time,
 * status) and the failed members' failed_member, failed_status and
 * failed_time. info->bytes_written is the size of the file(s) written. */
ens_status ens_run(ens_config *cfg, ens_run_info *info);

/* Run and return the saved states in caller memory instead of a file:
 * out[(m * times + t) * nvars + v] for member m, saved time t, variable v,
 * where times = ens_config_saved_times(). `count` is the number of doubles
 * `out` holds; it must be at least members * times * nvars. */
ens_status ens_run_to_memory(ens_config *cfg, double *out, size_t count,
                             ens_run_info *info);

/* ens_run_to_memory that also fills the arrays of `stats` (may be NULL). */
ens_status ens_run_to_memory_ex(ens_config *cfg, double *out, size_t count,
                                const ens_member_stats *stats, ens_run_info *info);

/* Run as ens_run does, with its file made in memory instead of on disk:
 * on success *image holds the bytes of the NetCDF-4 file ens_run would
 * write (every dimension, variable, attribute and coordinate, the
 * per-member variables and the statistics) except the state variables'
 * values, which go to `out` as for ens_run_to_memory (out may be NULL in
 * output mode "stats"). Free *image with ens_free. The output path, if
 * set, only names the file in messages; a restart file is written as
 * ens_run writes it. A stopped or failed run leaves *image NULL. */
ens_status ens_run_to_memory_file(ens_config *cfg, double *out, size_t count, void **image,
                                  size_t *image_size, ens_run_info *info);
/* Release memory the library handed out (ens_run_to_memory_file's image). */
void ens_free(void *p);

/* One finished batch, as handed to an ens_batch_fn. */
typedef struct ens_batch {
    long long first_member;
    long long members;
    long long times;           /* saved times per member */
    int nvars;
    int states_are_double;     /* else float (the run's precision) */
    const void *states;        /* (member, time, var) C order */
} ens_batch;
/* Return non-zero to stop the run (it then fails with ENS_ERR_INTERRUPTED). */
typedef int (*ens_batch_fn)(const ens_batch *batch, void *user);

/* Run and hand each finished batch to `fn`, on a thread of its own while
 * the next batch integrates: for callers that store or reduce the states
 * themselves. The states are valid during the call only. */
ens_status ens_run_to_callback(ens_config *cfg, ens_batch_fn fn, void *user, ens_run_info *info);

/* ---- backends --------------------------------------------------------------- */

/* Names of the backends compiled into this build, in auto-selection order. */
int ens_backend_count(void);
const char *ens_backend_name(int index);
/* Whether backend `name` can run here; `detail` receives a description of
 * its devices, or why it cannot run. */
ens_status ens_backend_probe(const char *name, char *detail, size_t detail_size);

/* ---- named choices ------------------------------------------------------------ */

/* The names each setting takes (ens_config_set_integrator, _precision,
 * _output_mode, _backend), in order: for help texts and menus. The
 * backends are every one ensol knows, built in or not (see above for the
 * ones of this build); `auto` is accepted besides them. */
typedef enum ens_choice {
    ENS_CHOICE_INTEGRATOR,
    ENS_CHOICE_PRECISION,
    ENS_CHOICE_OUTPUT_MODE,
    ENS_CHOICE_BACKEND
} ens_choice;
int ens_choice_count(ens_choice kind);
/* NULL when index is out of range. */
const char *ens_choice_name(ens_choice kind, int index);

/* ---- models ------------------------------------------------------------------ */

int ens_model_count(void);
const char *ens_model_name(int index);
/* One line describing the model's parameters and defaults. */
const char *ens_model_summary(int index);

#ifdef __cplusplus
}
#endif

#endif /* ENSOL_ENSOL_H */
