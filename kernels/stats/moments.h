/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Running moments of an ensemble: count, mean, sum of squared deviations,
 * minimum and maximum. Values enter one at a time (Welford) and partial
 * results merge exactly as if their values had entered one set (Chan,
 * Golub and LeVeque), so threads, batches and devices can each reduce their
 * members and merge, without the cancellation of sum-of-squares formulas.
 * Double precision throughout.
 */
#ifndef ENS_STATS_MOMENTS_H
#define ENS_STATS_MOMENTS_H

#include "../ens_portable.h"

typedef struct ens_moments {
    double n;
    double mean;
    double m2;   /* sum of squared deviations from the mean */
    double min;
    double max;
} ens_moments;

ENS_FN void ens_moments_init(ens_moments *a)
{
    a->n = 0.0;
    a->mean = 0.0;
    a->m2 = 0.0;
    a->min = INFINITY;
    a->max = -INFINITY;
}

ENS_FN void ens_moments_push(ens_moments *a, double x)
{
    a->n += 1.0;
    const double d = x - a->mean;
    a->mean += d / a->n;
    a->m2 += d * (x - a->mean);
    a->min = x < a->min ? x : a->min;
    a->max = x > a->max ? x : a->max;
}

ENS_FN void ens_moments_merge(ens_moments *a, const ens_moments *b)
{
    if (b->n == 0.0)
        return;
    if (a->n == 0.0) {
        *a = *b;
        return;
    }
    const double n = a->n + b->n;
    const double d = b->mean - a->mean;
    a->mean += d * (b->n / n);
    a->m2 += b->m2 + d * d * (a->n * b->n / n);
    a->n = n;
    a->min = b->min < a->min ? b->min : a->min;
    a->max = b->max > a->max ? b->max : a->max;
}

#endif
