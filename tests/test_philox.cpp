/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Philox4x32-10 (kernels/rng/philox.h) against the Random123 known-answer
// vectors, and statistical sanity of the per-member normal and uniform
// numbers built on it.
//
// Expected outputs come from Random123's examples/kat_vectors (D. E. Shaw
// Research), not from ensol: the three "philox4x32 10" lines of the short
// list (counter/key all zeros, all ones, pi digits) and a few lines of the
// generated list in the same file (gentests.py, "nameNxW R CTR KEY EXPECTED").

// kernels/rng/philox.h calls sqrt/log/sin/cos but includes no maths header
// itself (kernels/ens_portable.h only brings in <stdint.h> on the host), so
// in C++ it does not compile unless <math.h> is included first.
#include <math.h>

#include "rng/philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <vector>

namespace {

struct Kat {
    uint32_t ctr[4];
    uint32_t key[2];
    uint32_t expected[4];
};

// Random123 examples/kat_vectors, lines "philox4x32 10 ...".
const Kat kKats[] = {
    // The short list.
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    // From the generated list: single bits in each counter word and in each
    // key word, so that a swapped word or a wrong key schedule shows.
    {{0x00000001, 0x00000000, 0x00000000, 0x00000000}, {0x00000001, 0x00000000},
     {0xac08141b, 0xdfc5ccbe, 0x79c07a47, 0xa7f66093}},
    {{0x00000000, 0x00000001, 0x00000000, 0x00000000}, {0x00000001, 0x00000000},
     {0x833ff8dc, 0x225c963c, 0x232b88b3, 0x0b334b07}},
    {{0x00000000, 0x00000000, 0x00000001, 0x00000000}, {0x00000001, 0x00000000},
     {0x07071c12, 0x428264b6, 0x3909104b, 0x6da2bda2}},
    {{0x00000000, 0x00000000, 0x00000000, 0x00000001}, {0x00000001, 0x00000000},
     {0x127bee41, 0x1e047488, 0x48842b20, 0x0a393496}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0x00000001, 0x00000000},
     {0x38527b8f, 0xfad9a48c, 0x20e675c0, 0xf2fea26a}},
    {{0x00000001, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000001},
     {0xccf3076a, 0x6306f434, 0xbea71965, 0xd96fe48a}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0x00000000, 0x00000001},
     {0x126514c3, 0xd1898b69, 0xda2707b3, 0x6e6fb436}},
    {{0x00000000, 0x00000000, 0x00000000, 0x80000000}, {0x00000000, 0xffffffff},
     {0x2a460458, 0x0a2709e5, 0x47bc9115, 0x0f96d8af}},
    {{0x452821e6, 0x38d01377, 0xbe5466cf, 0x34e90c6c}, {0x00000000, 0xffffffff},
     {0x72ce44b3, 0xb44f9b78, 0x49af0267, 0x726813ac}},
    {{0x00000000, 0x80000000, 0x00000000, 0x00000000}, {0x00000000, 0x80000000},
     {0x1b89d963, 0x0defe9af, 0x60c9d3fb, 0x3cfae97d}},
    {{0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89}, {0x00000000, 0x80000000},
     {0xaa74e81c, 0xc9ddb97b, 0x2c2cd881, 0x9390c78d}},
};

std::string hex4(const uint32_t *v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%08x %08x %08x %08x", (unsigned)v[0], (unsigned)v[1],
                  (unsigned)v[2], (unsigned)v[3]);
    return buf;
}

TEST(philox, Random123KnownAnswers)
{
    for (const Kat &kat : kKats) {
        ens_philox_ctr c;
        ens_philox_key k;
        for (int i = 0; i < 4; i++)
            c.v[i] = kat.ctr[i];
        k.v[0] = kat.key[0];
        k.v[1] = kat.key[1];
        ens_philox_ctr r = ens_philox4x32_10(c, k);
        uint32_t got[4] = {r.v[0], r.v[1], r.v[2], r.v[3]};
        EXPECT_EQ(hex4(got), hex4(kat.expected))
            << "ctr " << hex4(kat.ctr) << " key " << std::hex << kat.key[0] << " " << kat.key[1];
    }
}

// The 53-bit mapping is documented as (0, 1]: its extremes are analytic.
TEST(philox, OpenZeroMappingExtremes)
{
    EXPECT_EQ(ens_u01_open0(0u, 0u), 1.0 / 9007199254740992.0); // 2^-53
    EXPECT_EQ(ens_u01_open0(0xffffffffu, 0xffffffffu), 1.0);
    // Only the top 53 of the 64 bits count: the low 11 bits of `lo` are dropped.
    EXPECT_EQ(ens_u01_open0(0x7ffu, 0u), ens_u01_open0(0u, 0u));
    EXPECT_GT(ens_u01_open0(0x800u, 0u), ens_u01_open0(0u, 0u));
}

constexpr int kDraws = 200000;

TEST(philox, MemberNormalMoments)
{
    // 100000 members x variables 0 and 1 (the two halves of one Box-Muller
    // pair): 200000 draws. Limits are 5 standard errors of each statistic
    // for a true N(0,1) sample, so a correct generator fails with
    // probability well below 1e-5.
    const double n = kDraws;
    double sum = 0, sum2 = 0, sum4 = 0, sum_xy = 0;
    long inside1 = 0;
    double maxabs = 0;
    for (uint64_t m = 0; m < kDraws / 2; m++) {
        double a = ens_member_normal(12345u, m, 0u);
        double b = ens_member_normal(12345u, m, 1u);
        ASSERT_TRUE(std::isfinite(a) && std::isfinite(b)) << "member " << m;
        for (double x : {a, b}) {
            sum += x;
            sum2 += x * x;
            sum4 += x * x * x * x;
            inside1 += std::fabs(x) < 1.0;
            maxabs = std::fmax(maxabs, std::fabs(x));
        }
        sum_xy += a * b;
    }
    double mean = sum / n;
    double var = sum2 / n - mean * mean;
    EXPECT_LT(std::fabs(mean), 5.0 / std::sqrt(n)) << "mean " << mean;
    // Var of the sample variance of N(0,1) is 2/n.
    EXPECT_LT(std::fabs(var - 1.0), 5.0 * std::sqrt(2.0 / n)) << "variance " << var;
    // E x^4 = 3, Var x^4 = 105 - 9 = 96.
    EXPECT_LT(std::fabs(sum4 / n - 3.0), 5.0 * std::sqrt(96.0 / n)) << "4th moment " << sum4 / n;
    // P(|x| < 1) = erf(1/sqrt 2) = 0.682689...
    double p1 = std::erf(1.0 / std::sqrt(2.0));
    EXPECT_LT(std::fabs(inside1 / n - p1), 5.0 * std::sqrt(p1 * (1 - p1) / n))
        << "P(|x|<1) " << inside1 / n;
    // The pair members of one block are independent (cos and sin halves).
    double npairs = kDraws / 2;
    EXPECT_LT(std::fabs(sum_xy / npairs), 5.0 / std::sqrt(npairs)) << "E[xy] " << sum_xy / npairs;
    // Tails exist but stay below the largest Box-Muller radius
    // sqrt(-2 ln 2^-53) = 8.57.
    EXPECT_GT(maxabs, 3.5);
    EXPECT_LE(maxabs, 8.58);
}

TEST(philox, MemberUniformRangeAndMoments)
{
    const double n = kDraws;
    double sum = 0;
    double minv = 1, maxv = 0;
    const int bins = 20;
    std::vector<long> hist(bins, 0);
    for (uint64_t m = 0; m < kDraws; m++) {
        double u = ens_member_uniform(777u, m, 2u);
        ASSERT_GE(u, 0.0) << "member " << m;
        ASSERT_LT(u, 1.0) << "member " << m;
        sum += u;
        minv = std::fmin(minv, u);
        maxv = std::fmax(maxv, u);
        hist[(int)(u * bins)]++;
    }
    double mean = sum / n;
    EXPECT_LT(std::fabs(mean - 0.5), 5.0 * std::sqrt(1.0 / 12.0 / n)) << "mean " << mean;
    EXPECT_LT(minv, 1e-3);
    EXPECT_GT(maxv, 1.0 - 1e-3);
    // Chi-square with 19 degrees of freedom: P(chi2 > 50) ~ 1e-4.
    double expected = n / bins, chi2 = 0;
    for (long h : hist)
        chi2 += (h - expected) * (h - expected) / expected;
    EXPECT_LT(chi2, 50.0);
}

TEST(philox, DistinctInputsGiveDistinctNumbers)
{
    std::set<double> normals, uniforms;
    const uint64_t seeds[] = {0u, 1u, 0x100000000ull, 0xffffffffffffffffull};
    const uint64_t members[] = {0u, 1u, 2u, 0x100000000ull, 0x100000001ull};
    int count = 0;
    for (uint64_t s : seeds)
        for (uint64_t m : members)
            for (uint32_t v = 0; v < 6; v++) {
                normals.insert(ens_member_normal(s, m, v));
                uniforms.insert(ens_member_uniform(s, m, v));
                count++;
            }
    // Every (seed, member, var) triple, including ones that differ only in
    // the high 32 bits of the seed or of the member, gives its own number.
    EXPECT_EQ((int)normals.size(), count);
    EXPECT_EQ((int)uniforms.size(), count);
    // The same inputs give the same number (a pure function).
    EXPECT_EQ(ens_member_normal(42u, 17u, 3u), ens_member_normal(42u, 17u, 3u));
    EXPECT_EQ(ens_member_uniform(42u, 17u, 3u), ens_member_uniform(42u, 17u, 3u));
}

} // namespace
