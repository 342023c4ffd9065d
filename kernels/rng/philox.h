/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
/*
 * Philox4x32-10 counter-based generator (Salmon et al., SC'11; the
 * Random123 reference). A member's random numbers are a pure function of
 * (seed, member, variable, stream), so an ensemble is the same at any batch
 * size, thread count, backend or MPI decomposition.
 */
#ifndef ENS_RNG_PHILOX_H
#define ENS_RNG_PHILOX_H

#include "../ens_portable.h"

#define ENS_PHILOX_M0 0xD2511F53u
#define ENS_PHILOX_M1 0xCD9E8D57u
#define ENS_PHILOX_W0 0x9E3779B9u
#define ENS_PHILOX_W1 0xBB67AE85u

/* Streams keep the draws of different purposes independent. */
#define ENS_STREAM_STATE_NOISE 0u
#define ENS_STREAM_PARAM_DRAW 1u
/* A model's noise inputs (rng/normal.h): the low byte of the counter's
 * last word; its other bytes hold the input pair and the step's high bits. */
#define ENS_STREAM_NOISE_INPUT 2u

typedef struct { ens_u32 v[4]; } ens_philox_ctr;
typedef struct { ens_u32 v[2]; } ens_philox_key;

ENS_FN ens_philox_ctr ens_philox_round(ens_philox_ctr c, ens_philox_key k)
{
    ens_u64 p0 = (ens_u64)ENS_PHILOX_M0 * (ens_u64)c.v[0];
    ens_u64 p1 = (ens_u64)ENS_PHILOX_M1 * (ens_u64)c.v[2];
    ens_philox_ctr r;
    r.v[0] = (ens_u32)(p1 >> 32) ^ c.v[1] ^ k.v[0];
    r.v[1] = (ens_u32)p1;
    r.v[2] = (ens_u32)(p0 >> 32) ^ c.v[3] ^ k.v[1];
    r.v[3] = (ens_u32)p0;
    return r;
}

ENS_FN ens_philox_ctr ens_philox4x32_10(ens_philox_ctr c, ens_philox_key k)
{
    for (int i = 0; i < 10; i++) {
        if (i > 0) {
            k.v[0] += ENS_PHILOX_W0;
            k.v[1] += ENS_PHILOX_W1;
        }
        c = ens_philox_round(c, k);
    }
    return c;
}

#if !defined(ENS_OPENCL) || defined(cl_khr_fp64)
/* 53 random bits mapped to (0, 1]: never 0, so log() below is finite. */
ENS_FN double ens_u01_open0(ens_u32 lo, ens_u32 hi)
{
    ens_u64 bits = (((ens_u64)hi << 32) | lo) >> 11;
    return ((double)bits + 1.0) * (1.0 / 9007199254740992.0);
}

/* The Philox block of (seed, member, word, stream). */
ENS_FN ens_philox_ctr ens_member_block(ens_u64 seed, ens_u64 member, ens_u32 word,
                                       ens_u32 stream)
{
    ens_philox_ctr c;
    ens_philox_key k;
    c.v[0] = word;
    c.v[1] = (ens_u32)member;
    c.v[2] = (ens_u32)(member >> 32);
    c.v[3] = stream;
    k.v[0] = (ens_u32)seed;
    k.v[1] = (ens_u32)(seed >> 32);
    return ens_philox4x32_10(c, k);
}

/* Standard normal number `var` of member `member` (Box-Muller on one
 * Philox block; the block's two normals serve variables 2j and 2j+1). */
ENS_FN double ens_member_normal(ens_u64 seed, ens_u64 member, ens_u32 var)
{
    ens_philox_ctr r = ens_member_block(seed, member, var >> 1, ENS_STREAM_STATE_NOISE);
    double u1 = ens_u01_open0(r.v[0], r.v[1]);
    double u2 = ens_u01_open0(r.v[2], r.v[3]);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586476925286766559 * u2;
    return (var & 1u) ? radius * sin(angle) : radius * cos(angle);
}

/* Uniform number in [0, 1) for parameter `param` of member `member`. */
ENS_FN double ens_member_uniform(ens_u64 seed, ens_u64 member, ens_u32 param)
{
    ens_philox_ctr r = ens_member_block(seed, member, param, ENS_STREAM_PARAM_DRAW);
    return ens_u01_open0(r.v[0], r.v[1]) - (1.0 / 9007199254740992.0);
}
#endif

#endif /* ENS_RNG_PHILOX_H */
