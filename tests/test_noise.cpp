/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Noise inputs (a model file's `noise`, an .ode file's `wiener`): the
// portable normal transform (kernels/rng/normal.h) against libm and the
// normal distribution; Euler-Maruyama runs whose statistics theory gives
// (a Wiener process's variance t and independent increments, the
// Ornstein-Uhlenbeck process's stationary variance); the same bits for
// any batch size, thread count and split of a run at a restart; other
// integrators refused. Agreement across backends is in
// test_backend_conformance.cpp.
#include <math.h>

#include "rng/normal.h"

#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

using ensol_test::Config;
using ensol_test::TempDir;

// The next 64 bits of a splitmix64 sequence: test inputs independent of
// the generator under test.
uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

TEST(NormalTransform, LogAgreesWithLibmToAFewRoundings)
{
    uint64_t s = 1;
    std::vector<uint64_t> ns = {1, 2, 3, 1ull << 52, (1ull << 53) - 1, 1ull << 53,
                                6369051672525773ull /* ~ 2^53 / sqrt 2 */};
    for (int i = 0; i < 200000; i++)
        ns.push_back((splitmix(&s) >> (11 + i % 40)) + 1);
    double worst = 0;
    for (uint64_t n : ns) {
        const double want = std::log((double)n / 9007199254740992.0);
        const double got = ens_log_u53(n);
        const double err = std::fabs(got - want) / std::max(1.0, std::fabs(want));
        worst = std::max(worst, err);
        ASSERT_LE(err, 4e-16) << "n = " << n << ": " << got << " against " << want;
    }
    EXPECT_EQ(ens_log_u53(1ull << 53), 0.0);
    std::printf("[ normal   ] log: worst relative difference from libm %.2e\n", worst);
}

TEST(NormalTransform, CosSinAgreeWithLibmOnEveryOctant)
{
    uint64_t s = 2;
    std::vector<uint64_t> bs;
    for (uint64_t k = 0; k < 8; k++) // octant edges
        for (uint64_t d : {0ull, 1ull})
            bs.push_back((k << 50) + d), bs.push_back(((k + 1) << 50) - 1 - d);
    for (int i = 0; i < 200000; i++)
        bs.push_back(splitmix(&s) >> 11);
    double worst = 0;
    for (uint64_t b : bs) {
        const double angle = 6.283185307179586476925286766559 * ((double)b / 9007199254740992.0);
        double c, sn;
        ens_cos_sin_turn53(b, &c, &sn);
        const double err = std::max(std::fabs(c - std::cos(angle)), std::fabs(sn - std::sin(angle)));
        worst = std::max(worst, err);
        ASSERT_LE(err, 1e-15) << "b = " << b;
    }
    std::printf("[ normal   ] cos, sin: worst difference from libm %.2e\n", worst);
}

// 2^20 draws of the noise stream: moments and the Kolmogorov-Smirnov
// distance from the standard normal, at the 0.1% levels.
TEST(NormalTransform, DrawsAreStandardNormal)
{
    const int pairs = 1 << 19;
    std::vector<double> z;
    z.reserve(2 * pairs);
    for (int i = 0; i < pairs; i++) {
        double a, b;
        ens_normal_pair(ens_noise_block(42, (uint64_t)i % 1000, i / 1000, 0), &a, &b);
        z.push_back(a);
        z.push_back(b);
    }
    const double n = (double)z.size();
    double mean = 0, m2 = 0, m4 = 0;
    for (double v : z)
        mean += v;
    mean /= n;
    for (double v : z) {
        const double d = (v - mean) * (v - mean);
        m2 += d;
        m4 += d * d;
    }
    m2 /= n;
    m4 /= n;
    EXPECT_LT(std::fabs(mean), 3.3 / std::sqrt(n));
    EXPECT_LT(std::fabs(m2 - 1), 3.3 * std::sqrt(2 / n));
    EXPECT_LT(std::fabs(m4 / (m2 * m2) - 3), 3.3 * std::sqrt(96 / n));
    std::sort(z.begin(), z.end());
    double ks = 0;
    for (size_t i = 0; i < z.size(); i++) {
        const double cdf = 0.5 * std::erfc(-z[i] / std::sqrt(2.0));
        ks = std::max(ks, std::max(cdf - (double)i / n, (double)(i + 1) / n - cdf));
    }
    EXPECT_LT(ks, 1.95 / std::sqrt(n)) << "Kolmogorov-Smirnov distance";
    std::printf("[ normal   ] %.0f draws: mean %.2e, variance %.5f, kurtosis %.4f, KS %.2e\n", n,
                mean, m2, m4 / (m2 * m2), ks);
}

// dx = s dW from x = 0: x(t) ~ N(0, s^2 t).
const char *const kWiener = R"(model wiener_test
param s = 1
var x
noise w "white noise"
rhs
    ddt(x) = s * w;
end
)";

// dx = -theta x dt + sigma dW.
const char *const kOu = R"(model ou_test
param theta = 1
param sigma = 0.5
var x
noise w
rhs
    ddt(x) = -theta * x + sigma * w;
end
)";

// members from x = 0, Euler with dt for steps, saved every save_every.
void setup(ens_config *cfg, const char *model, long long members, double dt, long long steps,
           long long save_every)
{
    const double zero = 0;
    ASSERT_EQ(ens_config_set_model_source(cfg, model, "noise.ens"), ENS_OK)
        << ens_config_last_error(cfg);
    ASSERT_EQ(ens_config_set_backend(cfg, "openmp"), ENS_OK);
    ASSERT_EQ(ens_config_set_members(cfg, members), ENS_OK);
    ASSERT_EQ(ens_config_set_base_state(cfg, &zero, 1), ENS_OK);
    ASSERT_EQ(ens_config_set_perturbation(cfg, 0), ENS_OK);
    ASSERT_EQ(ens_config_set_integrator(cfg, "euler"), ENS_OK);
    ASSERT_EQ(ens_config_set_dt(cfg, dt), ENS_OK);
    ASSERT_EQ(ens_config_set_steps(cfg, steps), ENS_OK);
    ASSERT_EQ(ens_config_set_save_every(cfg, save_every), ENS_OK);
}

// out[m * times + k]: member m at saved time k (one variable).
TEST(NoiseRun, WienerProcessHasVarianceTAndIndependentIncrements)
{
    const long long members = 40000;
    Config r;
    setup(r, kWiener, members, 0.01, 200, 100);
    std::vector<double> out;
    ASSERT_TRUE(ensol_test::run_cfg(r, out));
    const double n = (double)members;
    double v1 = 0, v2 = 0, cov = 0;
    for (long long m = 0; m < members; m++) {
        const double a = out[m * 3 + 1], b = out[m * 3 + 2] - a;
        v1 += a * a;
        v2 += b * b;
        cov += a * b;
    }
    v1 /= n, v2 /= n, cov /= n;
    // x(1) and x(2) - x(1): each N(0, 1), independent
    EXPECT_LT(std::fabs(v1 - 1), 4 * std::sqrt(2 / n)) << v1;
    EXPECT_LT(std::fabs(v2 - 1), 4 * std::sqrt(2 / n)) << v2;
    EXPECT_LT(std::fabs(cov), 4 / std::sqrt(n)) << cov;
    std::printf("[ noise    ] Wiener: var x(1) %.4f, var (x(2) - x(1)) %.4f, covariance %.4f\n",
                v1, v2, cov);
}

TEST(NoiseRun, OrnsteinUhlenbeckReachesEulerMaruyamasStationaryVariance)
{
    const long long members = 20000;
    const double dt = 0.01, theta = 1, sigma = 0.5;
    Config r;
    setup(r, kOu, members, dt, 1000, 1000);
    std::vector<double> out;
    ASSERT_TRUE(ensol_test::run_cfg(r, out));
    double mean = 0, var = 0;
    for (long long m = 0; m < members; m++)
        mean += out[m * 2 + 1];
    mean /= members;
    for (long long m = 0; m < members; m++)
        var += (out[m * 2 + 1] - mean) * (out[m * 2 + 1] - mean);
    var /= members - 1;
    // x' = (1 - theta dt) x + sigma sqrt(dt) N: variance sigma^2 / (theta (2 - theta dt))
    const double want = sigma * sigma / (theta * (2 - theta * dt));
    EXPECT_LT(std::fabs(var - want), 4 * want * std::sqrt(2.0 / members)) << var << " vs " << want;
    EXPECT_LT(std::fabs(mean), 4 * std::sqrt(want / members)) << mean;
    std::printf("[ noise    ] Ornstein-Uhlenbeck at t = 10: variance %.5f, theory %.5f\n", var,
                want);
}

TEST(NoiseRun, SameBitsForAnyBatchSizeAndThreadCount)
{
    Config whole, batched, one_thread;
    for (Config *c : {&whole, &batched, &one_thread})
        setup(*c, kOu, 1001, 0.01, 300, 30);
    ASSERT_EQ(ens_config_set_batch_members(batched, 100), ENS_OK);
    ASSERT_EQ(ens_config_set_threads(one_thread, 1), ENS_OK);
    std::vector<double> a, b, c;
    ASSERT_TRUE(ensol_test::run_cfg(whole, a));
    ASSERT_TRUE(ensol_test::run_cfg(batched, b));
    ASSERT_TRUE(ensol_test::run_cfg(one_thread, c));
    EXPECT_TRUE(ensol_test::same_bits(a, b)) << ensol_test::first_difference(a, b);
    EXPECT_TRUE(ensol_test::same_bits(a, c)) << ensol_test::first_difference(a, c);
    // the noise is a member's own: no two members alike
    EXPECT_NE(a[1 * 11 + 10], a[2 * 11 + 10]);
}

TEST(NoiseRun, ARunSplitAtARestartDrawsWhatTheWholeRunDraws)
{
    TempDir dir;
    Config whole, first, second, reseeded;
    setup(whole, kOu, 50, 0.01, 200, 200);
    setup(first, kOu, 50, 0.01, 120, 120);
    ASSERT_EQ(ens_config_set_restart_path(first, dir.file("r.nc").c_str()), ENS_OK);
    std::vector<double> a, c;
    ASSERT_TRUE(ensol_test::run_cfg(whole, a));
    ASSERT_EQ(ens_config_set_output_path(first, dir.file("first.nc").c_str()), ENS_OK);
    ens_run_info info;
    ASSERT_EQ(ens_run(first, &info), ENS_OK) << ens_config_last_error(first);
    // the file gives the members, the start time, the integrator and dt
    ASSERT_EQ(ens_config_set_model_source(second, kOu, "noise.ens"), ENS_OK);
    ASSERT_EQ(ens_config_set_backend(second, "openmp"), ENS_OK);
    ASSERT_EQ(ens_config_set_initial_file(second, dir.file("r.nc").c_str(), -1), ENS_OK)
        << ens_config_last_error(second);
    ASSERT_EQ(ens_config_set_steps(second, 80), ENS_OK);
    ASSERT_EQ(ens_config_set_save_every(second, 80), ENS_OK);
    ASSERT_TRUE(ensol_test::run_cfg(second, c));
    for (int m = 0; m < 50; m++)
        EXPECT_EQ(a[m * 2 + 1], c[m * 2 + 1]) << "member " << m;
    // another seed, other noise
    setup(reseeded, kOu, 50, 0.01, 200, 200);
    ASSERT_EQ(ens_config_set_seed(reseeded, 7), ENS_OK);
    std::vector<double> d;
    ASSERT_TRUE(ensol_test::run_cfg(reseeded, d));
    EXPECT_NE(a[1], d[1]);
}

TEST(NoiseRun, OnlyEulerIntegratesNoise)
{
    for (const char *integrator : {"rk4", "dopri5"}) {
        Config r;
        setup(r, kOu, 10, 0.01, 10, 10);
        ASSERT_EQ(ens_config_set_integrator(r, integrator), ENS_OK);
        std::vector<double> out(20);
        EXPECT_EQ(ens_run_to_memory(r, out.data(), out.size(), nullptr),
                  ENS_ERR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(ens_config_last_error(r)).find("only euler"), std::string::npos)
            << ens_config_last_error(r);
    }
}

} // namespace
