/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * The CPU backend's compute loops, compiled twice (src/CMakeLists.txt):
 * with multiply-add contraction (ens_openmp_advance_contract) and, with
 * ENS_OPENMP_STRICT defined, without it (ens_openmp_advance_strict), so
 * that strict runs agree bit for bit with the other backends.
 */
#include <float.h>
#include <stdlib.h>

#ifdef ENSOL_HAVE_OPENMP
#include <omp.h>
#endif

#include "backends/openmp_kernels.h"
#include "core/models.h"

#ifdef ENS_OPENMP_STRICT
#define ENS_OPENMP_ENTRY ens_openmp_advance_strict
#else
#define ENS_OPENMP_ENTRY ens_openmp_advance_contract
#endif

/* Members per SIMD tile: 256 bytes per variable (32 doubles or 64 floats)
 * are four AVX-512 registers, enough independent chains to hide FMA
 * latency. */
#define ENS_TILE_BYTES 256
/* The largest compile-time variable count the tiled loop takes; a model
 * of ENS_MODEL_LIST takes it when its size is fixed and at most this, and
 * its parameters fit the tile's. */
#define ENS_TILE_MAX_VARS 3
#define ENS_TILE_MAX_PARAMS 8
#define ENS_TILED(nvars, nparams) \
    ((nvars) > 0 && (nvars) <= ENS_TILE_MAX_VARS && (nparams) <= ENS_TILE_MAX_PARAMS)
/* Adaptive members per scheduling chunk: their cost varies (each takes its
 * own steps), so threads take chunks dynamically. */
#define ENS_ADAPTIVE_CHUNK 16
/* The largest model the lane blocks take: its block, four vectors per
 * variable, then fills about half of a 1 MiB L2. */
#define ENS_LANE_MAX_VARS 2048

static int job_threads(const ens_backend_job *job)
{
#ifdef ENSOL_HAVE_OPENMP
    return job->threads > 0 ? job->threads : omp_get_max_threads();
#else
    (void)job;
    return 1;
#endif
}

#include "backends/openmp_lanes.h"

#define ENS_REAL double
#define ENS_SUFFIX _d
#define ENS_TILE (ENS_TILE_BYTES / 8)
#define ENS_LANE_REAL ens_lanes_d
#define ENS_LANE_SUFFIX _ld
#define ENS_LANES ENS_LANES_D
#include "ens_solver.h"
#include "backends/openmp_loops.h"
#undef ENS_REAL
#undef ENS_SUFFIX
#undef ENS_TILE
#undef ENS_LANE_REAL
#undef ENS_LANE_SUFFIX
#undef ENS_LANES

#define ENS_REAL float
#define ENS_SUFFIX _f
#define ENS_TILE (ENS_TILE_BYTES / 4)
#define ENS_LANE_REAL ens_lanes_f
#define ENS_LANE_SUFFIX _lf
#define ENS_LANES ENS_LANES_F
#include "ens_solver.h"
#include "backends/openmp_loops.h"
#undef ENS_REAL
#undef ENS_SUFFIX
#undef ENS_TILE
#undef ENS_LANE_REAL
#undef ENS_LANE_SUFFIX
#undef ENS_LANES

ens_status ENS_OPENMP_ENTRY(const ens_backend_job *job, long long count, void *state,
                            const void *params, long long nsteps, double t_start,
                            const ens_noise_key *noise, const ens_openmp_adaptive *adaptive,
                            ens_error *err)
{
    if (adaptive)
        return job->precision == ENS_PRECISION_ID_FLOAT
                   ? advance_adaptive_f(job, count, state, params, adaptive, err)
                   : advance_adaptive_d(job, count, state, params, adaptive, err);
    if (job->precision == ENS_PRECISION_ID_FLOAT)
        return advance_f(job, count, state, params, nsteps, t_start, noise, err);
    return advance_d(job, count, state, params, nsteps, t_start, noise, err);
}
