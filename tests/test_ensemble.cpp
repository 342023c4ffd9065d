/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// The ensemble as a whole, through the public API: results independent of
// batching and threads, initial states and parameters per member as
// documented, and rejection of bad input.
//
// Expected values come from the documented formulas (computed here, with the
// Philox functions of kernels/rng/philox.h that test_philox checks against
// Random123's published vectors), never from a previous ensol run.
#include "ensol/ensol.h"
#include "test_support.h"

#include "rng/philox.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <ostream>
#include <limits>
#include <string>
#include <vector>

namespace {

// ---- helpers ---------------------------------------------------------------

using ensol_test::Config;
using ensol_test::run_cfg;

bool same_bits(const std::vector<double> &a, const std::vector<double> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::string lower(std::string s)
{
    for (char &ch : s)
        ch = (char)std::tolower((unsigned char)ch);
    return s;
}

// ---- results do not depend on batch size or threads -------------------------

struct ReproCase {
    const char *model;
    const char *precision;
};

void PrintTo(const ReproCase &c, std::ostream *os) { *os << c.model << " " << c.precision; }

class Reproducible : public ::testing::TestWithParam<ReproCase> {};

// 1000 members x 200 steps, trajectory mode with save_every 64 (so the last
// interval is 8 steps), noise and per-member parameters (random for
// lorenz63, a sweep with one value per member for lorenz96), so that state,
// parameters and saves all cross batch boundaries.
void configure_repro(ens_config *cfg, const ReproCase &c, long long batch, int threads)
{
    const bool is63 = std::string(c.model) == "lorenz63";
    ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, c.model));
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 1000));
    ENS_OK_OR_FAIL(cfg, ens_config_set_precision(cfg, c.precision));
    ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, "rk4"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, is63 ? 0.01 : 0.005));
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 200));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "trajectory"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 64));
    ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 7));
    ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, is63 ? 0.5 : 1.0));
    if (is63)
        ENS_OK_OR_FAIL(cfg, ens_config_random_param(cfg, "rho", 20.0, 40.0));
    else
        ENS_OK_OR_FAIL(cfg, ens_config_sweep_param(cfg, "F", 6.0, 10.0, 0));
    // Threads are a setting of the CPU backend.
    ENS_OK_OR_FAIL(cfg, ens_config_set_backend(cfg, "openmp"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_batch_members(cfg, batch));
    ENS_OK_OR_FAIL(cfg, ens_config_set_threads(cfg, threads));
}

TEST_P(Reproducible, SameBitsForAnyBatchSizeAndThreadCount)
{
    const ReproCase c = GetParam();
    std::vector<double> ref;
    {
        Config cfg;
        configure_repro(cfg, c, 0, 1);
        if (HasFatalFailure())
            return;
        ASSERT_EQ(ens_config_saved_times(cfg), 5); // 0, 64, 128, 192, 200
        ASSERT_TRUE(run_cfg(cfg, ref));
        for (double v : ref)
            ASSERT_TRUE(std::isfinite(v));
    }
    // Batch sizes at one thread, and thread counts at several batch sizes.
    // Batch size 1 runs 1000 batches of 4 save intervals each; with a team of
    // threads that is 4000 parallel regions, which on a loaded 2-core machine
    // (threads spinning while their partner is descheduled) costs tens of
    // seconds and tests nothing more than batch 7 does, so batch 1 runs on
    // one thread only.
    for (long long batch : {0LL, 1LL, 7LL, 64LL})
        for (int threads : {1, 2, 3}) {
            if ((batch == 0 && threads == 1) || (batch == 1 && threads > 1))
                continue;
            Config cfg;
            configure_repro(cfg, c, batch, threads);
            if (HasFatalFailure())
                return;
            std::vector<double> out;
            ASSERT_TRUE(run_cfg(cfg, out)) << "batch " << batch << " threads " << threads;
            size_t first = 0;
            while (first < out.size() && std::memcmp(&out[first], &ref[first], sizeof(double)) == 0)
                first++;
            EXPECT_TRUE(same_bits(out, ref))
                << "batch " << batch << " threads " << threads << ": first difference at value "
                << first << " (" << (first < out.size() ? out[first] : 0.0) << " vs "
                << (first < ref.size() ? ref[first] : 0.0) << ")";
        }
}

INSTANTIATE_TEST_SUITE_P(ensemble, Reproducible,
                         ::testing::Values(ReproCase{"lorenz63", "double"},
                                           ReproCase{"lorenz63", "float"},
                                           ReproCase{"lorenz96", "double"},
                                           ReproCase{"lorenz96", "float"}),
                         [](const ::testing::TestParamInfo<ReproCase> &info) {
                             return std::string(info.param.model) + "_" + info.param.precision;
                         });

// ---- initial states ----------------------------------------------------------

// Member m, variable v starts at base[v] + perturbation * ens_member_normal(seed, m, v).
// The library may compute base + sd * n with or without a fused multiply-add,
// so allow a couple of ulps; any other formula (another var/member order, a
// missing seed word) is off by O(sd).
void expect_formula(ens_config *cfg, const std::vector<double> &base, double sd, uint64_t seed,
                    const std::vector<long long> &members)
{
    const int nv = ens_config_nvars(cfg);
    ASSERT_EQ((size_t)nv, base.size());
    std::vector<double> x(nv);
    for (long long m : members) {
        ASSERT_EQ(ens_config_member_initial_state(cfg, m, x.data()), ENS_OK)
            << "member " << m << ": " << ens_config_last_error(cfg);
        for (int v = 0; v < nv; v++) {
            double noise = sd * ens_member_normal(seed, (uint64_t)m, (uint32_t)v);
            double expected = base[v] + noise;
            double tol = 4 * std::numeric_limits<double>::epsilon() *
                         (std::fabs(base[v]) + std::fabs(noise));
            ASSERT_NEAR(x[v], expected, tol) << "member " << m << " var " << v;
        }
    }
}

TEST(ensemble, InitialStatesFollowTheDocumentedFormula)
{
    {
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, "lorenz63"));
        const std::vector<double> base{1.0, 2.0, 3.0};
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, base.data(), 3));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.3));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 99));
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 50));
        expect_formula(cfg, base, 0.3, 99, {0, 1, 2, 17, 49});
    }
    {
        // An odd K: variable 6 is the cos half of the fourth Box-Muller pair.
        // A seed with both 32-bit words set.
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, "lorenz96"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "K", 7));
        const double b = 8.0;
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, &b, 1));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 1.5));
        const uint64_t seed = 0x123456789abcdefull;
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, seed));
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 300));
        expect_formula(cfg, std::vector<double>(7, 8.0), 1.5, seed, {0, 5, 299});
        // Members beyond 2^32 use the high word of the member index. Only
        // checked where such a member count is accepted without a run.
        if (ens_config_set_members(cfg, 5000000000LL) == ENS_OK)
            expect_formula(cfg, std::vector<double>(7, 8.0), 1.5, seed,
                           {4294967296LL, 4294967296LL + 5, 4999999999LL});
    }
    {
        // A per-variable base state for lorenz96.
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, "lorenz96"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "K", 4));
        const std::vector<double> base{1.0, -2.0, 3.5, 0.25};
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, base.data(), 4));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.01));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 0));
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 3));
        expect_formula(cfg, base, 0.01, 0, {0, 1, 2});
    }
}

TEST(ensemble, RunStartsFromTheReportedInitialStates)
{
    for (const char *precision : {"double", "float"}) {
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, "lorenz96"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "K", 9));
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 37));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.8));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 4242));
        ENS_OK_OR_FAIL(cfg, ens_config_set_precision(cfg, precision));
        ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 10));
        ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "trajectory"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 5));
        ENS_OK_OR_FAIL(cfg, ens_config_set_batch_members(cfg, 10));
        const long long times = ens_config_saved_times(cfg);
        ASSERT_EQ(times, 3);
        std::vector<double> out;
        ASSERT_TRUE(run_cfg(cfg, out));
        double x[9];
        for (long long m = 0; m < 37; m++) {
            ASSERT_EQ(ens_config_member_initial_state(cfg, m, x), ENS_OK);
            for (int v = 0; v < 9; v++) {
                double expected = std::string(precision) == "float" ? (double)(float)x[v] : x[v];
                ASSERT_EQ(out[(size_t)(m * times * 9 + v)], expected)
                    << precision << " member " << m << " var " << v;
            }
        }
    }
}

TEST(ensemble, SeedsSelectTheEnsemble)
{
    auto run_with_seed = [](uint64_t seed, std::vector<double> &out) {
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 20));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.1));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, seed));
        ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 50));
        ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, 0.01));
        ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "final"));
        ASSERT_TRUE(run_cfg(cfg, out));
    };
    std::vector<double> a, a2, b, hi;
    run_with_seed(1, a);
    run_with_seed(1, a2);
    run_with_seed(2, b);
    run_with_seed(1 + (1ull << 32), hi); // differs from 1 in the high word only
    if (HasFatalFailure())
        return;
    EXPECT_TRUE(same_bits(a, a2)) << "the same seed gave different ensembles";
    ASSERT_EQ(a.size(), b.size());
    ASSERT_EQ(a.size(), hi.size());
    // Every member differs, not just some.
    for (size_t m = 0; m < 20; m++) {
        EXPECT_NE(std::memcmp(&a[m * 3], &b[m * 3], 3 * sizeof(double)), 0) << "member " << m;
        EXPECT_NE(std::memcmp(&a[m * 3], &hi[m * 3], 3 * sizeof(double)), 0)
            << "member " << m << ": the seed's high 32 bits are ignored";
    }
    // And members differ from each other.
    EXPECT_NE(std::memcmp(&a[0], &a[3], 3 * sizeof(double)), 0);
}

// ---- parameter variation -------------------------------------------------------

double param_of(ens_config *cfg, long long m, const char *name)
{
    double v = std::nan("");
    ens_status st = ens_config_member_param(cfg, m, name, &v);
    EXPECT_EQ(st, ENS_OK) << name << " of member " << m << ": " << ens_config_last_error(cfg);
    return v;
}

// The grid point of lo..hi with n points at index i. Implementations differ in
// the last ulps (lo + i*step vs lo + (hi-lo)*i/(n-1)), so compare to 1e-13.
void expect_grid(double got, double lo, double hi, long long n, long long i, const char *what)
{
    double expected = lo + (hi - lo) * (double)i / (double)(n - 1);
    EXPECT_NEAR(got, expected, 1e-13 * std::fmax(std::fabs(lo), std::fabs(hi)))
        << what << " grid point " << i << " of " << n;
}

TEST(ensemble, SweepSetsMembersAndLinearGrid)
{
    Config cfg;
    ENS_OK_OR_FAIL(cfg, ens_config_sweep_param(cfg, "rho", 20.0, 40.0, 1001));
    EXPECT_EQ(ens_config_members(cfg), 1001);
    ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
    for (long long m = 0; m <= 1000; m++)
        expect_grid(param_of(cfg, m, "rho"), 20.0, 40.0, 1001, m, "rho");
    EXPECT_DOUBLE_EQ(param_of(cfg, 0, "rho"), 20.0);
    EXPECT_DOUBLE_EQ(param_of(cfg, 1000, "rho"), 40.0);
    EXPECT_DOUBLE_EQ(param_of(cfg, 500, "rho"), 30.0);
    // The other parameters stay shared, at their documented defaults.
    EXPECT_EQ(param_of(cfg, 123, "sigma"), 10.0);
    EXPECT_DOUBLE_EQ(param_of(cfg, 123, "beta"), 8.0 / 3.0);
    // A descending sweep is a grid too.
    Config down;
    ENS_OK_OR_FAIL(down, ens_config_sweep_param(down, "sigma", 15.0, 5.0, 5));
    EXPECT_EQ(ens_config_members(down), 5);
    for (long long m = 0; m < 5; m++)
        expect_grid(param_of(down, m, "sigma"), 15.0, 5.0, 5, m, "sigma");
}

TEST(ensemble, TwoSweepsCoverTheOuterProductFirstSlowest)
{
    Config cfg;
    ENS_OK_OR_FAIL(cfg, ens_config_sweep_param(cfg, "sigma", 5.0, 15.0, 3));
    ENS_OK_OR_FAIL(cfg, ens_config_sweep_param(cfg, "rho", 20.0, 40.0, 5));
    ASSERT_EQ(ens_config_members(cfg), 15);
    ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
    for (long long m = 0; m < 15; m++) {
        expect_grid(param_of(cfg, m, "sigma"), 5.0, 15.0, 3, m / 5, "sigma");
        expect_grid(param_of(cfg, m, "rho"), 20.0, 40.0, 5, m % 5, "rho");
        EXPECT_DOUBLE_EQ(param_of(cfg, m, "beta"), 8.0 / 3.0);
    }
}

TEST(ensemble, SweepWithNZeroGivesOneValuePerMember)
{
    Config cfg;
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 11));
    ENS_OK_OR_FAIL(cfg, ens_config_sweep_param(cfg, "rho", 20.0, 40.0, 0));
    ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
    EXPECT_EQ(ens_config_members(cfg), 11);
    for (long long m = 0; m < 11; m++)
        expect_grid(param_of(cfg, m, "rho"), 20.0, 40.0, 11, m, "rho");
}

TEST(ensemble, RandomParamsAreInRangeReproducibleAndIndependent)
{
    const long long n = 2000;
    auto draw = [&](uint64_t seed, std::vector<double> &sigma, std::vector<double> &rho) {
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, n));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, seed));
        ENS_OK_OR_FAIL(cfg, ens_config_random_param(cfg, "sigma", 5.0, 15.0));
        ENS_OK_OR_FAIL(cfg, ens_config_random_param(cfg, "rho", 20.0, 40.0));
        ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
        sigma.resize(n);
        rho.resize(n);
        for (long long m = 0; m < n; m++) {
            sigma[m] = param_of(cfg, m, "sigma");
            rho[m] = param_of(cfg, m, "rho");
        }
        // beta is not drawn.
        EXPECT_DOUBLE_EQ(param_of(cfg, 7, "beta"), 8.0 / 3.0);
    };
    std::vector<double> s1, r1, s1b, r1b, s2, r2;
    draw(5, s1, r1);
    draw(5, s1b, r1b);
    draw(6, s2, r2);
    if (HasFatalFailure())
        return;
    EXPECT_TRUE(same_bits(s1, s1b) && same_bits(r1, r1b)) << "same seed, different draws";
    int same = 0;
    for (long long m = 0; m < n; m++)
        same += s1[m] == s2[m];
    EXPECT_EQ(same, 0) << "seeds 5 and 6 share draws";

    double mean_s = 0, mean_r = 0;
    for (long long m = 0; m < n; m++) {
        ASSERT_GE(s1[m], 5.0);
        ASSERT_LT(s1[m], 15.0);
        ASSERT_GE(r1[m], 20.0);
        ASSERT_LT(r1[m], 40.0);
        mean_s += s1[m] / n;
        mean_r += r1[m] / n;
    }
    // Uniform on [lo, hi): mean (lo+hi)/2, sd of the mean (hi-lo)/sqrt(12 n).
    EXPECT_NEAR(mean_s, 10.0, 5 * 10.0 / std::sqrt(12.0 * n));
    EXPECT_NEAR(mean_r, 30.0, 5 * 20.0 / std::sqrt(12.0 * n));
    EXPECT_LT(*std::min_element(r1.begin(), r1.end()), 20.1);
    EXPECT_GT(*std::max_element(r1.begin(), r1.end()), 39.9);
    // The two parameters of one member are independent draws: correlation
    // within 5 standard errors (1/sqrt n) of 0.
    double cov = 0, vs = 0, vr = 0;
    for (long long m = 0; m < n; m++) {
        cov += (s1[m] - mean_s) * (r1[m] - mean_r);
        vs += (s1[m] - mean_s) * (s1[m] - mean_s);
        vr += (r1[m] - mean_r) * (r1[m] - mean_r);
    }
    EXPECT_LT(std::fabs(cov / std::sqrt(vs * vr)), 5.0 / std::sqrt((double)n));
}

// A member of a sweep (or of a random draw) evolves exactly like a
// one-member run given that member's initial state (as base state, no noise)
// and parameter values as shared parameters.
TEST(ensemble, SweptMemberEqualsSingleRunWithThatParameter)
{
    for (const char *precision : {"double", "float"})
        for (int variant = 0; variant < 2; variant++) {
            SCOPED_TRACE(std::string(precision) + (variant ? " random sigma" : " sweep rho"));
            Config ens;
            ENS_OK_OR_FAIL(ens, ens_config_set_precision(ens, precision));
            ENS_OK_OR_FAIL(ens, ens_config_set_members(ens, 11));
            if (variant == 0) {
                ENS_OK_OR_FAIL(ens, ens_config_sweep_param(ens, "rho", 20.0, 40.0, 11));
            } else {
                ENS_OK_OR_FAIL(ens, ens_config_sweep_param(ens, "rho", 20.0, 40.0, 11));
                ENS_OK_OR_FAIL(ens, ens_config_random_param(ens, "sigma", 8.0, 12.0));
            }
            ENS_OK_OR_FAIL(ens, ens_config_set_perturbation(ens, 0.5));
            ENS_OK_OR_FAIL(ens, ens_config_set_seed(ens, 3));
            ENS_OK_OR_FAIL(ens, ens_config_set_dt(ens, 0.01));
            ENS_OK_OR_FAIL(ens, ens_config_set_steps(ens, 150));
            ENS_OK_OR_FAIL(ens, ens_config_set_output_mode(ens, "trajectory"));
            ENS_OK_OR_FAIL(ens, ens_config_set_save_every(ens, 50));
            ENS_OK_OR_FAIL(ens, ens_config_set_batch_members(ens, 4));
            const long long times = ens_config_saved_times(ens);
            ASSERT_EQ(times, 4);
            std::vector<double> all;
            ASSERT_TRUE(run_cfg(ens, all));
            for (long long m : {0LL, 4LL, 10LL}) {
                double init[3];
                ASSERT_EQ(ens_config_member_initial_state(ens, m, init), ENS_OK);
                Config one;
                ENS_OK_OR_FAIL(one, ens_config_set_precision(one, precision));
                ENS_OK_OR_FAIL(one, ens_config_set_members(one, 1));
                ENS_OK_OR_FAIL(one, ens_config_set_base_state(one, init, 3));
                ENS_OK_OR_FAIL(one, ens_config_set_perturbation(one, 0.0));
                for (const char *p : {"sigma", "rho", "beta"})
                    ENS_OK_OR_FAIL(one, ens_config_set_param(one, p, param_of(ens, m, p)));
                ENS_OK_OR_FAIL(one, ens_config_set_dt(one, 0.01));
                ENS_OK_OR_FAIL(one, ens_config_set_steps(one, 150));
                ENS_OK_OR_FAIL(one, ens_config_set_output_mode(one, "trajectory"));
                ENS_OK_OR_FAIL(one, ens_config_set_save_every(one, 50));
                std::vector<double> single;
                ASSERT_TRUE(run_cfg(one, single));
                ASSERT_EQ(single.size(), (size_t)(times * 3));
                EXPECT_EQ(std::memcmp(single.data(), &all[(size_t)(m * times * 3)],
                                      single.size() * sizeof(double)),
                          0)
                    << "member " << m << ": final " << all[(size_t)((m * times + times - 1) * 3)]
                    << " vs single run " << single[(size_t)((times - 1) * 3)];
            }
        }
}

// ---- bad input -------------------------------------------------------------------

// The call fails with one of the `allowed` codes and leaves a message that
// names the setting: it contains one of `words` (case-insensitive unless
// `exact_case`).
::testing::AssertionResult rejects(ens_config *cfg, ens_status got, const char *call,
                                   std::initializer_list<ens_status> allowed,
                                   std::initializer_list<const char *> words,
                                   bool exact_case = false)
{
    bool ok = false;
    for (ens_status a : allowed)
        ok = ok || got == a;
    const char *msg = ens_config_last_error(cfg);
    if (!ok)
        return ::testing::AssertionFailure() << call << " returned " << ens_status_string(got)
                                             << " (message \"" << (msg ? msg : "(null)") << "\")";
    if (!msg || !*msg)
        return ::testing::AssertionFailure() << call << ": empty ens_config_last_error";
    std::string m = exact_case ? std::string(msg) : lower(msg);
    for (const char *w : words)
        if (m.find(exact_case ? std::string(w) : lower(w)) != std::string::npos)
            return ::testing::AssertionSuccess();
    std::string list;
    for (const char *w : words)
        list += std::string(" \"") + w + "\"";
    return ::testing::AssertionFailure() << call << ": message \"" << msg
                                         << "\" names none of" << list;
}

const ens_status INVALID = ENS_ERR_INVALID_ARGUMENT;
const ens_status UNKNOWN = ENS_ERR_UNKNOWN_NAME;

#define EXPECT_REJECTS(cfg, call, allowed, ...)                                           \
    EXPECT_TRUE(rejects(cfg, (call), #call, allowed, __VA_ARGS__))

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

TEST(ensemble, SettersRejectBadValues)
{
    Config c;
    EXPECT_REJECTS(c, ens_config_set_members(c, 0), {INVALID}, {"member"});
    EXPECT_REJECTS(c, ens_config_set_members(c, -5), {INVALID}, {"member"});

    for (double bad : {0.0, -0.01, kNaN, kInf, -kInf})
        EXPECT_REJECTS(c, ens_config_set_dt(c, bad), {INVALID}, {"dt"}) << "dt = " << bad;

    EXPECT_REJECTS(c, ens_config_set_steps(c, 0), {INVALID}, {"step"});
    EXPECT_REJECTS(c, ens_config_set_steps(c, -1), {INVALID}, {"step"});
    EXPECT_REJECTS(c, ens_config_set_save_every(c, 0), {INVALID}, {"save"});
    EXPECT_REJECTS(c, ens_config_set_save_every(c, -3), {INVALID}, {"save"});

    for (double bad : {-1.0, kNaN, kInf})
        EXPECT_REJECTS(c, ens_config_set_perturbation(c, bad), {INVALID}, {"perturb", "stddev"})
            << "perturbation = " << bad;

    for (double bad : {kNaN, kInf, -kInf})
        EXPECT_REJECTS(c, ens_config_set_param(c, "rho", bad), {INVALID}, {"rho"})
            << "rho = " << bad;
    EXPECT_REJECTS(c, ens_config_set_param(c, "kappa", 1.0), {UNKNOWN}, {"kappa"});
    // K belongs to lorenz96, not lorenz63 (the default model).
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", 10.0), {UNKNOWN}, {"K"}, true);

    EXPECT_REJECTS(c, ens_config_set_model(c, "lorenz99"), {UNKNOWN}, {"lorenz99", "model"});
    EXPECT_REJECTS(c, ens_config_set_integrator(c, "rk5"), {UNKNOWN}, {"rk5", "integrator"});
    EXPECT_REJECTS(c, ens_config_set_precision(c, "half"), {INVALID, UNKNOWN},
                   {"half", "precision"});
    EXPECT_REJECTS(c, ens_config_set_backend(c, "vulkan"), {UNKNOWN}, {"vulkan", "backend"});
    EXPECT_REJECTS(c, ens_config_set_output_mode(c, "everything"), {INVALID, UNKNOWN},
                   {"everything", "mode"});
    EXPECT_REJECTS(c, ens_config_set_output_type(c, "int"), {INVALID, UNKNOWN},
                   {"int", "type"});

    EXPECT_REJECTS(c, ens_config_set_threads(c, -1), {INVALID}, {"thread"});
    EXPECT_REJECTS(c, ens_config_set_batch_members(c, -1), {INVALID}, {"batch"});

    // Base state: finite values (the count is checked below, in a fresh
    // configuration, since it may be checked only at validation).
    const double nan3[3] = {1.0, kNaN, 3.0};
    EXPECT_REJECTS(c, ens_config_set_base_state(c, nan3, 3), {INVALID}, {"base", "state"});

    // Sweeps and draws.
    EXPECT_REJECTS(c, ens_config_sweep_param(c, "rho", 20.0, 40.0, 1), {INVALID}, {"rho", "sweep"});
    EXPECT_REJECTS(c, ens_config_sweep_param(c, "rho", 20.0, 40.0, -4), {INVALID}, {"rho", "sweep"});
    EXPECT_REJECTS(c, ens_config_sweep_param(c, "rho", kNaN, 40.0, 5), {INVALID}, {"rho", "sweep"});
    EXPECT_REJECTS(c, ens_config_sweep_param(c, "rho", 20.0, kInf, 5), {INVALID}, {"rho", "sweep"});
    EXPECT_REJECTS(c, ens_config_sweep_param(c, "kappa", 20.0, 40.0, 5), {UNKNOWN}, {"kappa"});
    EXPECT_REJECTS(c, ens_config_random_param(c, "rho", 40.0, 20.0), {INVALID}, {"rho", "random"});
    EXPECT_REJECTS(c, ens_config_random_param(c, "rho", kNaN, 20.0), {INVALID}, {"rho", "random"});
    EXPECT_REJECTS(c, ens_config_random_param(c, "kappa", 0.0, 1.0), {UNKNOWN}, {"kappa"});

    // Introspection out of range.
    double x[3], v;
    EXPECT_REJECTS(c, ens_config_member_initial_state(c, -1, x), {INVALID}, {"member"});
    EXPECT_REJECTS(c, ens_config_member_initial_state(c, ens_config_members(c), x), {INVALID},
                   {"member"});
    EXPECT_REJECTS(c, ens_config_member_param(c, 0, "kappa", &v), {UNKNOWN}, {"kappa"});

    // After all that the configuration is still the default and valid.
    EXPECT_EQ(ens_config_validate(c), ENS_OK) << ens_config_last_error(c);

    // Base state: 3 values (or 1) for lorenz63. The count may depend on K set
    // later (lorenz96), so a library may check it at validation only.
    for (int n : {2, 4}) {
        Config b;
        const double vals[4] = {1.0, 2.0, 3.0, 4.0};
        ens_status st = ens_config_set_base_state(b, vals, n);
        if (st == ENS_OK)
            st = ens_config_validate(b);
        EXPECT_TRUE(rejects(b, st, "lorenz63 base state with n values", {INVALID},
                            {"base", "state"}))
            << "n = " << n;
    }
    {
        Config b;
        ENS_OK_OR_FAIL(b, ens_config_set_model(b, "lorenz96"));
        ENS_OK_OR_FAIL(b, ens_config_set_param(b, "K", 6.0));
        const double vals[6] = {1, 2, 3, 4, 5, 6};
        ENS_OK_OR_FAIL(b, ens_config_set_base_state(b, vals, 6));
        ENS_OK_OR_FAIL(b, ens_config_validate(b));
        ENS_OK_OR_FAIL(b, ens_config_set_param(b, "K", 8.0));
        EXPECT_TRUE(rejects(b, ens_config_validate(b), "6 base values, then K = 8", {INVALID},
                            {"base", "state"}));
        // Every query that needs the ensemble reports the problem too.
        double x[8];
        EXPECT_TRUE(rejects(b, ens_config_member_initial_state(b, 0, x),
                            "ens_config_member_initial_state", {INVALID}, {"base", "state"}));
    }
}

TEST(ensemble, Lorenz96SizeParameter)
{
    Config c;
    ENS_OK_OR_FAIL(c, ens_config_set_model(c, "lorenz96"));
    EXPECT_EQ(ens_config_nvars(c), 40);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", 3.0), {INVALID}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", 0.0), {INVALID}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", -8.0), {INVALID}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", 10.5), {INVALID}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", kNaN), {INVALID}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", kInf), {INVALID}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_set_param(c, "K", 1e30), {INVALID}, {"K"}, true);
    EXPECT_EQ(ens_config_nvars(c), 40) << "a rejected K changed the size";
    ENS_OK_OR_FAIL(c, ens_config_set_param(c, "K", 4.0));
    EXPECT_EQ(ens_config_nvars(c), 4);
    // The size cannot vary per member.
    EXPECT_REJECTS(c, ens_config_sweep_param(c, "K", 4.0, 8.0, 5), {INVALID, UNKNOWN}, {"K"}, true);
    EXPECT_REJECTS(c, ens_config_random_param(c, "K", 4.0, 8.0), {INVALID, UNKNOWN}, {"K"}, true);
    EXPECT_EQ(ens_config_nvars(c), 4);
    EXPECT_EQ(ens_config_validate(c), ENS_OK) << ens_config_last_error(c);
}

// Checks that involve several settings fail at the latest in ens_config_validate.
TEST(ensemble, ValidateRejectsInconsistentSettings)
{
    {
        // A sweep of 5 points with 7 members (members set after the sweep).
        Config c;
        ENS_OK_OR_FAIL(c, ens_config_sweep_param(c, "rho", 20.0, 40.0, 5));
        ens_status st = ens_config_set_members(c, 7);
        if (st == ENS_OK)
            st = ens_config_validate(c);
        EXPECT_TRUE(rejects(c, st, "sweep n=5 then members 7", {INVALID}, {"member", "sweep", "rho"}));
    }
    {
        // ... and with the members set before the sweep.
        Config c;
        ENS_OK_OR_FAIL(c, ens_config_set_members(c, 7));
        ens_status st = ens_config_sweep_param(c, "rho", 20.0, 40.0, 5);
        if (st == ENS_OK)
            st = ens_config_validate(c);
        EXPECT_TRUE(rejects(c, st, "members 7 then sweep n=5", {INVALID}, {"member", "sweep", "rho"}));
    }
    {
        // Two sweeps, 3 x 5 = 15 grid points, 14 members.
        Config c;
        ENS_OK_OR_FAIL(c, ens_config_set_members(c, 14));
        ens_status st = ens_config_sweep_param(c, "sigma", 5.0, 15.0, 3);
        if (st == ENS_OK)
            st = ens_config_sweep_param(c, "rho", 20.0, 40.0, 5);
        if (st == ENS_OK)
            st = ens_config_validate(c);
        EXPECT_TRUE(rejects(c, st, "members 14, sweeps 3 x 5", {INVALID},
                            {"member", "sweep", "rho", "sigma"}));
    }
    {
        // save_every larger than the step count.
        Config c;
        ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
        ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 10));
        ens_status st = ens_config_set_save_every(c, 20);
        if (st == ENS_OK)
            st = ens_config_validate(c);
        EXPECT_TRUE(rejects(c, st, "steps 10, save_every 20", {INVALID}, {"save"}));
    }
    {
        // ... also when the steps are lowered after save_every was set.
        Config c;
        ENS_OK_OR_FAIL(c, ens_config_set_members(c, 1));
        ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
        ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 100));
        ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, 20));
        ens_status st = ens_config_set_steps(c, 10);
        if (st == ENS_OK)
            st = ens_config_validate(c);
        EXPECT_TRUE(rejects(c, st, "save_every 20, then steps 10", {INVALID}, {"save", "step"}));
        // ens_run_to_memory performs the same check.
        if (st == ENS_OK || ens_config_validate(c) != ENS_OK) {
            std::vector<double> out(1000);
            EXPECT_TRUE(rejects(c, ens_run_to_memory(c, out.data(), out.size(), nullptr),
                                "ens_run_to_memory", {INVALID}, {"save", "step"}));
        }
    }
}

// Two sweeps whose grid has more than 2^63 points (2^32 x (2^32 + 1)
// wraps to 2^32 in 64-bit arithmetic): the member count cannot match it.
TEST(ensemble, HugeSweepGridIsRejected)
{
    Config c;
    ens_status st = ens_config_sweep_param(c, "sigma", 5.0, 15.0, 4294967296LL);
    if (st == ENS_OK)
        st = ens_config_sweep_param(c, "rho", 20.0, 40.0, 4294967297LL);
    if (st == ENS_OK)
        st = ens_config_validate(c);
    EXPECT_TRUE(rejects(c, st, "sweeps of 2^32 and 2^32 + 1 points", {INVALID},
                        {"sweep", "member", "grid", "point", "large", "overflow", "rho"}))
        << "ens_config_members reports " << ens_config_members(c);
}

// member-steps = steps * members beyond 2^63: a library that counts them in
// 64 bits must refuse rather than overflow; one that does not count them may
// accept the configuration (it is not run here).
TEST(ensemble, HugeMemberStepCountsDoNotOverflowSilently)
{
    Config c;
    ens_status st = ens_config_set_members(c, 1LL << 40);
    if (st == ENS_OK)
        st = ens_config_set_steps(c, 1LL << 30);
    if (st == ENS_OK)
        st = ens_config_validate(c);
    if (st != ENS_OK) {
        EXPECT_TRUE(rejects(c, st, "members 2^40, steps 2^30", {INVALID, ENS_ERR_OUT_OF_MEMORY},
                            {"member", "step", "overflow", "large", "many"}));
    }
}

int stop_at_once(const ens_progress *, void *calls)
{
    ++*static_cast<int *>(calls);
    return 1;
}

// The value count members * times * nvars must be checked without
// overflowing: with K = 4 and 2^62 saved times the product is 2^64, which
// wraps to 0 in 64 bits and would pass a naive `count >= product` test. The
// progress callback stops a run that (wrongly) starts, so the test cannot
// hang; the buffer has room for the first two saves so that it cannot crash
// on them either.
TEST(ensemble, RunToMemoryValueCountDoesNotWrap)
{
    Config c;
    ENS_OK_OR_FAIL(c, ens_config_set_model(c, "lorenz96"));
    ENS_OK_OR_FAIL(c, ens_config_set_param(c, "K", 4.0));
    ENS_OK_OR_FAIL(c, ens_config_set_members(c, 1));
    ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
    int calls = 0;
    ENS_OK_OR_FAIL(c, ens_config_set_progress(c, stop_at_once, &calls));
    ens_status st = ens_config_set_steps(c, (1LL << 62) - 1);
    if (st != ENS_OK) {
        EXPECT_TRUE(rejects(c, st, "steps 2^62 - 1", {INVALID}, {"step"}));
        return;
    }
    ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, 1));
    EXPECT_EQ(ens_config_saved_times(c), 1LL << 62);
    std::vector<double> out(16, 0.0);
    st = ens_run_to_memory(c, out.data(), out.size(), nullptr);
    EXPECT_TRUE(rejects(c, st, "ens_run_to_memory with 2^64 values", {INVALID},
                        {"count", "buffer", "value", "memory", "small", "large", "overflow"}))
        << "progress callback calls: " << calls;
}

TEST(ensemble, RunToMemoryRejectsTooSmallBuffer)
{
    Config c;
    ENS_OK_OR_FAIL(c, ens_config_set_members(c, 3));
    ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 10));
    ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
    ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, 5));
    ASSERT_EQ(ens_config_saved_times(c), 3);
    const size_t need = 3 * 3 * 3;
    std::vector<double> out(need, -12345.0);
    EXPECT_TRUE(rejects(c, ens_run_to_memory(c, out.data(), need - 1, nullptr),
                        "ens_run_to_memory with count need-1", {INVALID},
                        {"count", "buffer", "value", "memory", "small"}));
    EXPECT_EQ(out[need - 1], -12345.0) << "wrote past the count it was given";
    // The exact size works (and the configuration is still usable).
    ens_run_info info;
    EXPECT_EQ(ens_run_to_memory(c, out.data(), need, &info), ENS_OK) << ens_config_last_error(c);
    EXPECT_NE(out[need - 1], -12345.0);
}

TEST(ensemble, UnavailableBackendsAreReported)
{
    const int n = ens_backend_count();
    ASSERT_GE(n, 1);
    auto built = [&](const char *name) {
        for (int i = 0; i < n; i++)
            if (ens_backend_name(i) && std::string(ens_backend_name(i)) == name)
                return true;
        return false;
    };
    EXPECT_TRUE(built("openmp")) << "the CPU backend is always built";
    char detail[256];
    EXPECT_EQ(ens_backend_probe("openmp", detail, sizeof detail), ENS_OK);
    int checked = 0;
    for (const char *name : {"cuda", "opencl"}) {
        detail[0] = '\0';
        ens_status probe = ens_backend_probe(name, detail, sizeof detail);
        if (!built(name)) {
            EXPECT_EQ(probe, ENS_ERR_BACKEND_UNAVAILABLE) << name << " is not built in";
        }
        if (probe == ENS_OK)
            continue; // built and has a device here
        checked++;
        EXPECT_EQ(probe, ENS_ERR_BACKEND_UNAVAILABLE) << name;
        EXPECT_NE(detail[0], '\0') << "probe of " << name << " gives no reason";
        Config c;
        ENS_OK_OR_FAIL(c, ens_config_set_members(c, 1));
        ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 10));
        ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "final"));
        // A known backend name is a valid setting; the run finds it missing.
        ENS_OK_OR_FAIL(c, ens_config_set_backend(c, name));
        std::vector<double> out(3 * 100);
        EXPECT_TRUE(rejects(c, ens_run_to_memory(c, out.data(), out.size(), nullptr),
                            "ens_run_to_memory", {ENS_ERR_BACKEND_UNAVAILABLE}, {name}))
            << name;
        // The configuration stays usable.
        ENS_OK_OR_FAIL(c, ens_config_set_backend(c, "auto"));
        ens_run_info info;
        EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), &info), ENS_OK)
            << ens_config_last_error(c);
        EXPECT_TRUE(built(info.backend)) << "ran on '" << info.backend << "'";
    }
    if (!checked)
        GTEST_SKIP() << "cuda and opencl both have a device here";
}

// Failed setters leave the configuration as it was: a run afterwards equals a
// run of a fresh configuration with only the good settings, bit for bit.
// States and parameter values given per member: each member starts where
// it was given and has the value given, so a run from the states and
// values the generator made is the same run, bit for bit.
TEST(ensemble, GivenStatesAndValuesReproduceTheGeneratedEnsemble)
{
    const long long members = 37;
    Config made;
    ENS_OK_OR_FAIL(made, ens_config_set_members(made, members));
    ENS_OK_OR_FAIL(made, ens_config_random_param(made, "rho", 20.0, 40.0));
    ENS_OK_OR_FAIL(made, ens_config_set_steps(made, 200));
    ENS_OK_OR_FAIL(made, ens_config_set_integrator(made, "rk4"));
    ENS_OK_OR_FAIL(made, ens_config_validate(made));
    std::vector<double> states(members * 3), rho(members);
    for (long long m = 0; m < members; m++) {
        ENS_OK_OR_FAIL(made, ens_config_member_initial_state(made, m, &states[m * 3]));
        ENS_OK_OR_FAIL(made, ens_config_member_param(made, m, "rho", &rho[m]));
    }
    Config given;
    ENS_OK_OR_FAIL(given, ens_config_set_initial_states(given, states.data(), members, 3));
    ENS_OK_OR_FAIL(given, ens_config_set_param_values(given, "rho", rho.data(), members));
    ENS_OK_OR_FAIL(given, ens_config_set_steps(given, 200));
    ENS_OK_OR_FAIL(given, ens_config_set_integrator(given, "rk4"));
    states.assign(states.size(), 0.0);  // copied, not borrowed
    rho.assign(rho.size(), 0.0);
    ENS_OK_OR_FAIL(given, ens_config_validate(given));
    EXPECT_EQ(ens_config_members(given), members);
    std::vector<double> a, b;
    ASSERT_TRUE(run_cfg(made, a));
    ASSERT_TRUE(run_cfg(given, b));
    EXPECT_TRUE(same_bits(a, b));
}

TEST(ensemble, GivenStatesAndValuesMustFitTheRun)
{
    const double zeros[12] = {0};
    {
        Config c;  // 4 values per member for a 3-variable model
        ENS_OK_OR_FAIL(c, ens_config_set_initial_states(c, zeros, 3, 4));
        EXPECT_TRUE(rejects(c, ens_config_validate(c), "4 variables", {INVALID},
                            {"initial_states", "3 variables"}));
    }
    {
        Config c;  // 4 members of states, 3 values of rho
        ENS_OK_OR_FAIL(c, ens_config_set_initial_states(c, zeros, 4, 3));
        ENS_OK_OR_FAIL(c, ens_config_set_param_values(c, "rho", zeros, 3));
        EXPECT_TRUE(rejects(c, ens_config_validate(c), "3 values of rho", {INVALID},
                            {"rho", "3 values"}));
    }
    {
        Config c;  // an explicit member count wins, and must agree
        ENS_OK_OR_FAIL(c, ens_config_set_param_values(c, "rho", zeros, 3));
        ENS_OK_OR_FAIL(c, ens_config_set_members(c, 5));
        EXPECT_TRUE(rejects(c, ens_config_validate(c), "members 5", {INVALID},
                            {"members = 5", "rho"}));
    }
    Config c;
    const double nan3[3] = {1.0, std::nan(""), 3.0};
    EXPECT_REJECTS(c, ens_config_set_initial_states(c, nan3, 1, 3), {INVALID},
                   {"initial_states", "not finite"});
    EXPECT_REJECTS(c, ens_config_set_initial_states(c, zeros, 0, 3), {INVALID},
                   {"initial_states"});
    EXPECT_REJECTS(c, ens_config_set_param_values(c, "rho", nan3, 3), {INVALID},
                   {"rho", "not finite"});
    EXPECT_REJECTS(c, ens_config_set_param_values(c, "kappa", zeros, 3), {UNKNOWN}, {"kappa"});
    EXPECT_EQ(ens_config_validate(c), ENS_OK) << ens_config_last_error(c);
}

TEST(ensemble, FailedCallsLeaveTheConfigurationUsable)
{
    auto good = [](ens_config *c) {
        ENS_OK_OR_FAIL(c, ens_config_set_members(c, 5));
        ENS_OK_OR_FAIL(c, ens_config_set_dt(c, 0.005));
        ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 40));
        ENS_OK_OR_FAIL(c, ens_config_set_seed(c, 11));
        ENS_OK_OR_FAIL(c, ens_config_set_perturbation(c, 0.2));
        ENS_OK_OR_FAIL(c, ens_config_set_param(c, "rho", 35.0));
        ENS_OK_OR_FAIL(c, ens_config_set_integrator(c, "euler"));
        ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
        ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, 10));
    };
    Config fresh, used;
    good(fresh);
    good(used);
    if (HasFatalFailure())
        return;
    const double two[2] = {1, 2};
    EXPECT_NE(ens_config_set_members(used, 0), ENS_OK);
    EXPECT_NE(ens_config_set_dt(used, kNaN), ENS_OK);
    EXPECT_NE(ens_config_set_dt(used, -1.0), ENS_OK);
    EXPECT_NE(ens_config_set_steps(used, -7), ENS_OK);
    EXPECT_NE(ens_config_set_perturbation(used, kInf), ENS_OK);
    EXPECT_NE(ens_config_set_param(used, "rho", kNaN), ENS_OK);
    EXPECT_NE(ens_config_set_param(used, "kappa", 1.0), ENS_OK);
    EXPECT_NE(ens_config_set_model(used, "lorenz99"), ENS_OK);
    EXPECT_NE(ens_config_set_integrator(used, "rk5"), ENS_OK);
    EXPECT_NE(ens_config_set_precision(used, "half"), ENS_OK);
    EXPECT_NE(ens_config_set_output_mode(used, "everything"), ENS_OK);
    EXPECT_NE(ens_config_set_save_every(used, 0), ENS_OK);
    const double nan3[3] = {1, kNaN, 3};
    EXPECT_NE(ens_config_set_base_state(used, nan3, 3), ENS_OK);
    EXPECT_NE(ens_config_set_base_state(used, two, 0), ENS_OK);
    EXPECT_NE(ens_config_sweep_param(used, "rho", 1.0, 2.0, 1), ENS_OK);
    EXPECT_NE(ens_config_random_param(used, "rho", 2.0, 1.0), ENS_OK);
    std::vector<double> small(3);
    EXPECT_NE(ens_run_to_memory(used, small.data(), small.size(), nullptr), ENS_OK);
    EXPECT_EQ(ens_config_members(used), 5);
    EXPECT_EQ(ens_config_saved_times(used), 5);
    EXPECT_EQ(ens_config_validate(used), ENS_OK) << ens_config_last_error(used);
    std::vector<double> a, b;
    ASSERT_TRUE(run_cfg(fresh, a));
    ASSERT_TRUE(run_cfg(used, b));
    EXPECT_TRUE(same_bits(a, b)) << "a failed call changed the configuration";
}

TEST(ensemble, StatusStringsAreDistinctAndNonEmpty)
{
    const ens_status all[] = {ENS_OK,
                              ENS_ERR_INVALID_ARGUMENT,
                              ENS_ERR_UNKNOWN_NAME,
                              ENS_ERR_BACKEND_UNAVAILABLE,
                              ENS_ERR_OUT_OF_MEMORY,
                              ENS_ERR_IO,
                              ENS_ERR_BACKEND,
                              ENS_ERR_INTERRUPTED,
                              ENS_ERR_INTERNAL};
    std::vector<std::string> seen;
    for (ens_status s : all) {
        const char *t = ens_status_string(s);
        ASSERT_NE(t, nullptr);
        EXPECT_STRNE(t, "");
        EXPECT_EQ(std::find(seen.begin(), seen.end(), t), seen.end()) << t;
        seen.push_back(t);
    }
}

} // namespace

// MPI ranks that write one file each put the rank before the extension, so
// that the pieces keep it and a shell glob lists them in rank order.
TEST(ensemble, PiecePathPutsTheRankBeforeTheExtension)
{
    struct Case {
        const char *path;
        int rank;
        const char *piece;
    };
    const Case cases[] = {
        {"run.nc", 3, "run.rank0003.nc"},
        {"out", 0, "out.rank0000"},
        {"dir.d/out", 12, "dir.d/out.rank0012"},
        {"/scratch/a.b/run.v2.nc", 7, "/scratch/a.b/run.v2.rank0007.nc"},
        {".hidden", 1, ".hidden.rank0001"},
        {"big.nc", 123456, "big.rank123456.nc"},
    };
    for (const Case &c : cases) {
        char out[256];
        ASSERT_EQ(ens_piece_path(c.path, c.rank, out, sizeof out), ENS_OK) << c.path;
        EXPECT_STREQ(out, c.piece);
    }
    char small[8];
    EXPECT_EQ(ens_piece_path("run.nc", 1, small, sizeof small), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_piece_path("", 1, small, sizeof small), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_piece_path("run.nc", -1, small, sizeof small), ENS_ERR_INVALID_ARGUMENT);
}

// In one process the setting changes nothing: the file is whole.
TEST(ensemble, FilePerRankInOneProcessWritesTheWholeFile)
{
    ensol_test::TempDir dir;
    ens_config *cfg = nullptr;
    ASSERT_EQ(ens_config_create(&cfg), ENS_OK);
    const std::string out = dir.file("one.nc");
    ASSERT_EQ(ens_config_set_members(cfg, 10), ENS_OK);
    ASSERT_EQ(ens_config_set_steps(cfg, 10), ENS_OK);
    ASSERT_EQ(ens_config_set_output_path(cfg, out.c_str()), ENS_OK);
    EXPECT_EQ(ens_config_set_file_per_rank(cfg, 1), ENS_OK);
    EXPECT_EQ(ens_config_set_file_per_rank(nullptr, 1), ENS_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(ens_run(cfg, nullptr), ENS_OK) << ens_config_last_error(cfg);
    EXPECT_EQ(access(out.c_str(), F_OK), 0);
    char piece[4096];
    ASSERT_EQ(ens_piece_path(out.c_str(), 0, piece, sizeof piece), ENS_OK);
    EXPECT_NE(access(piece, F_OK), 0) << piece;
    ens_config_destroy(cfg);
}

TEST(ensemble, MergeFilesRejectsMissingArgumentsWithAMessage)
{
    char error[256] = "untouched";
    const char *pieces[] = {"a.nc"};
    EXPECT_EQ(ens_merge_files(nullptr, pieces, 1, "h", nullptr, nullptr, error, sizeof error),
              ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(error).find("piece"), std::string::npos) << error;
    EXPECT_EQ(ens_merge_files("out.nc", pieces, 0, "h", nullptr, nullptr, error, sizeof error),
              ENS_ERR_INVALID_ARGUMENT);
}
