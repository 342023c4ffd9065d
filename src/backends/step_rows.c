/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/* What every backend does with values of the job's precision: the DOPRI5
 * rows it keeps per member (ens_portable.h) turned into per-member results
 * and moved between the job's precision and double, and the tolerances
 * rounded to that precision. */
#include <math.h>
#include <stddef.h>

#include "backends/backend.h"

void ens_member_stats_from_rows(const ens_member_stats *stats, size_t at, size_t n,
                                const ens_i64 *counters, const void *t_fail, int t_fail_double)
{
    for (size_t i = 0; i < n; i++) {
        const int status = (int)counters[ENS_D5_STATUS * n + i];
        if (stats->status)
            stats->status[at + i] = status;
        if (stats->accepted_steps)
            stats->accepted_steps[at + i] = counters[ENS_D5_ACCEPTED * n + i];
        if (stats->rejected_steps)
            stats->rejected_steps[at + i] = counters[ENS_D5_REJECTED * n + i];
        if (stats->failure_time)
            stats->failure_time[at + i] =
                status == ENS_MEMBER_STATUS_OK ? NAN
                : t_fail_double             ? ((const double *)t_fail)[i]
                                            : (double)((const float *)t_fail)[i];
    }
}

void ens_reals_to_double(const void *src, int src_double, size_t n, double *dst)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src_double ? ((const double *)src)[i] : (double)((const float *)src)[i];
}

void ens_reals_from_double(const double *src, size_t n, void *dst, int dst_double)
{
    for (size_t i = 0; i < n; i++) {
        if (dst_double)
            ((double *)dst)[i] = src[i];
        else
            ((float *)dst)[i] = (float)src[i];
    }
}

size_t ens_job_real_size(const ens_backend_job *job)
{
    return job->precision == ENS_PRECISION_ID_FLOAT ? sizeof(float) : sizeof(double);
}

void ens_job_tolerances(const ens_backend_job *job, void *dst)
{
    const size_t nv = (size_t)job->nvars, real = ens_job_real_size(job);
    const int dbl = real == sizeof(double);
    ens_reals_from_double(job->rtol, nv, dst, dbl);
    ens_reals_from_double(job->atol, nv, (char *)dst + nv * real, dbl);
}
