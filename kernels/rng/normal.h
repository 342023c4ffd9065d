/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Standard normal numbers with portable arithmetic: Box-Muller on one
 * Philox block, with the logarithm, sine and cosine written here from
 * integer operations, +, -, *, / and sqrt, all correctly rounded in IEEE
 * double on every backend (C, CUDA and OpenCL with cl_khr_fp64), so that
 * with --strict-fp every backend makes the same bits (libm's log, sin and
 * cos differ from one implementation to the next by an ulp).
 *
 * The noise of a model's `noise` inputs (white noise: a standard normal
 * divided by sqrt(dt) at each fixed step, XPPAUT's `wiener`) comes from
 * here, keyed by (seed, member, step, noise index).
 */
#ifndef ENS_RNG_NORMAL_H
#define ENS_RNG_NORMAL_H

#include "philox.h"

#if !defined(ENS_OPENCL) || defined(cl_khr_fp64)

/* log(n / 2^53) for 1 <= n <= 2^53. n = 2^e m with m in [sqrt(1/2),
 * sqrt(2)), found with integer shifts, so m is exact; log m = 2
 * atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its series to s^23
 * (the next term is below 2^-60 of the sum). */
ENS_FN double ens_log_u53(ens_u64 n)
{
    int e = 0;
    ens_u64 v = n;
    if (v >> 32) { v >>= 32; e += 32; }
    if (v >> 16) { v >>= 16; e += 16; }
    if (v >> 8) { v >>= 8; e += 8; }
    if (v >> 4) { v >>= 4; e += 4; }
    if (v >> 2) { v >>= 2; e += 2; }
    if (v >> 1) { e += 1; }
    /* n's leading bit is bit e: scale n to [2^52, 2^53), exactly */
    const ens_u64 norm = e <= 52 ? n << (52 - e) : n >> (e - 52);
    double m = (double)norm * (1.0 / 4503599627370496.0); /* [1, 2) */
    if (m > 1.4142135623730951) {
        m = m * 0.5;
        e += 1;
    }
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double series = 1.0 / 23.0;
    series = series * s2 + 1.0 / 21.0;
    series = series * s2 + 1.0 / 19.0;
    series = series * s2 + 1.0 / 17.0;
    series = series * s2 + 1.0 / 15.0;
    series = series * s2 + 1.0 / 13.0;
    series = series * s2 + 1.0 / 11.0;
    series = series * s2 + 1.0 / 9.0;
    series = series * s2 + 1.0 / 7.0;
    series = series * s2 + 1.0 / 5.0;
    series = series * s2 + 1.0 / 3.0;
    series = series * s2 + 1.0;
    const double k = (double)(e - 53);
    /* ln 2 in two parts: k * hi is exact for |k| <= 53 */
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    return k * ln2_hi + (k * ln2_lo + 2.0 * s * series);
}

/* cos and sin of 2 pi b / 2^53 for 0 <= b < 2^53: the octant from the top
 * three bits, the angle within it (reflected in odd octants) from the
 * rest, exactly, then Taylor series on [0, pi/4]. */
ENS_FN void ens_cos_sin_turn53(ens_u64 b, double *c_out, double *s_out)
{
    const ens_u64 octant = b >> 50, low = b & ((((ens_u64)1) << 50) - 1);
    const ens_u64 r = (octant & 1) ? (((ens_u64)1) << 50) - low : low;
    const double a = (double)r * (0.78539816339744830962 / 1125899906842624.0);
    const double a2 = a * a;
    double s = 1.0 / 6402373705728000.0; /* 1/18! ... */
    s = -s * a2 + 1.0 / 20922789888000.0;
    s = -s * a2 + 1.0 / 87178291200.0;
    s = -s * a2 + 1.0 / 479001600.0;
    s = -s * a2 + 1.0 / 3628800.0;
    s = -s * a2 + 1.0 / 40320.0;
    s = -s * a2 + 1.0 / 720.0;
    s = -s * a2 + 1.0 / 24.0;
    s = -s * a2 + 1.0 / 2.0;
    const double cosa = 1.0 - s * a2;
    double t = 1.0 / 355687428096000.0; /* 1/17! ... */
    t = -t * a2 + 1.0 / 1307674368000.0;
    t = -t * a2 + 1.0 / 6227020800.0;
    t = -t * a2 + 1.0 / 39916800.0;
    t = -t * a2 + 1.0 / 362880.0;
    t = -t * a2 + 1.0 / 5040.0;
    t = -t * a2 + 1.0 / 120.0;
    t = -t * a2 + 1.0 / 6.0;
    const double sina = a - a * a2 * t;
    /* octant k covers [k pi/4, (k+1) pi/4) */
    const int swap = ((octant + 1) >> 1) & 1; /* octants 1, 2, 5, 6 */
    const double c = swap ? sina : cosa, sn = swap ? cosa : sina;
    *c_out = (octant >= 2 && octant <= 5) ? -c : c;
    *s_out = octant >= 4 ? -sn : sn;
}

/* The two standard normals of a Philox block (Box-Muller). */
ENS_FN void ens_normal_pair(ens_philox_ctr r, double *z0, double *z1)
{
    const ens_u64 n = ((((ens_u64)r.v[1] << 32) | r.v[0]) >> 11) + 1; /* [1, 2^53] */
    const ens_u64 b = (((ens_u64)r.v[3] << 32) | r.v[2]) >> 11;       /* [0, 2^53) */
    const double radius = sqrt(-2.0 * ens_log_u53(n));
    double c, s;
    ens_cos_sin_turn53(b, &c, &s);
    *z0 = radius * c;
    *z1 = radius * s;
}

/* Where a batch's noise inputs come from: ensemble member first_member + i
 * for the batch's member i, at absolute step step0 + s (steps counted from
 * model time 0, ens_job_noise_step), each input a standard normal times
 * scale (1 / sqrt(dt)), written after the model's nparams parameters. */
typedef struct ens_noise_key {
    ens_u64 seed;
    ens_u64 first_member;
    ens_i64 step0;
    double scale;
    int nparams;
    int nnoise;
} ens_noise_key;

/* Noise inputs 2j and 2j+1 of a step share a block: its counter is (step's
 * low word, member's two words, stream tag | pair j (10 bits: 1024 inputs)
 * | the step's next 14 bits: 2^46 steps), disjoint from the blocks of the
 * other streams, whose last word is below 256. */
ENS_FN ens_philox_ctr ens_noise_block(ens_u64 seed, ens_u64 member, ens_i64 step, ens_u32 pair)
{
    const ens_u64 s = (ens_u64)step;
    ens_philox_ctr c;
    ens_philox_key k;
    c.v[0] = (ens_u32)s;
    c.v[1] = (ens_u32)member;
    c.v[2] = (ens_u32)(member >> 32);
    c.v[3] = ENS_STREAM_NOISE_INPUT | ((pair & 0x3FFu) << 8) |
             (((ens_u32)(s >> 32) & 0x3FFFu) << 18);
    k.v[0] = (ens_u32)seed;
    k.v[1] = (ens_u32)(seed >> 32);
    return ens_philox4x32_10(c, k);
}

#endif

#endif /* ENS_RNG_NORMAL_H */
