/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Helpers for the tests that compare a backend with the OpenMP backend
// (test_backend_conformance.cpp, test_cuda.cpp, test_opencl.cpp,
// test_dopri5.cpp): the cases, one configuration, runs with each member's
// outcome, and the tolerance allowed with default floating-point options.
#ifndef ENSOL_BACKEND_SUPPORT_H
#define ENSOL_BACKEND_SUPPORT_H

#include "test_support.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace ensol_test {

// An odd member count: not a multiple of any block, work-group or vector
// width, so the last, part-filled one is exercised.
constexpr long long kMembers = 1001;

inline bool is(const char *a, const char *b) { return std::strcmp(a, b) == 0; }

// Largest Lyapunov exponents per time unit: Lorenz-63 with the classic
// parameters, Lorenz-96 with K = 40, F = 8.
inline double lyapunov_exponent(const std::string &model)
{
    return model == "lorenz63" ? 0.91 : 1.7;
}

// Both models (the ones whose exponent is known above) with every
// integrator and every precision ensol has.
inline std::vector<Case> all_cases()
{
    std::vector<Case> cases;
    for (const char *model : {"lorenz63", "lorenz96"})
        for (int i = 0; i < ens_choice_count(ENS_CHOICE_INTEGRATOR); i++)
            for (int p = 0; p < ens_choice_count(ENS_CHOICE_PRECISION); p++)
                cases.push_back({model, ens_choice_name(ENS_CHOICE_INTEGRATOR, i),
                                 ens_choice_name(ENS_CHOICE_PRECISION, p)});
    return cases;
}

// Every backend compared with OpenMP: all that ensol knows, built in or
// not (the ones that cannot run here skip, saying why), but OpenMP itself.
inline std::vector<const char *> compared_backends()
{
    std::vector<const char *> names;
    for (int i = 0; i < ens_choice_count(ENS_CHOICE_BACKEND); i++)
        if (!is(ens_choice_name(ENS_CHOICE_BACKEND, i), "openmp"))
            names.push_back(ens_choice_name(ENS_CHOICE_BACKEND, i));
    return names;
}

// dopri5's tolerances: tight enough to reject steps, within reach in float.
inline double rtol_of(const Case &k) { return is(k.precision, "float") ? 1e-5 : 1e-9; }

// Case k on `backend`: kMembers members, trajectories saved every
// `save_every` steps; Lorenz-96 with K variables, dopri5 with rtol = atol =
// rtol_of(k).
inline void configure(ens_config *c, const Case &k, const char *backend, int strict, double dt,
                      long long steps, long long save_every, int K = 40)
{
    ENS_OK_OR_FAIL(c, ens_config_set_model(c, k.model));
    if (is(k.model, "lorenz96")) {
        ENS_OK_OR_FAIL(c, ens_config_set_param(c, "K", K));
    }
    ENS_OK_OR_FAIL(c, ens_config_set_integrator(c, k.integrator));
    if (is(k.integrator, "dopri5")) {
        ENS_OK_OR_FAIL(c, ens_config_set_tolerances(c, rtol_of(k), rtol_of(k)));
    }
    ENS_OK_OR_FAIL(c, ens_config_set_precision(c, k.precision));
    ENS_OK_OR_FAIL(c, ens_config_set_members(c, kMembers));
    ENS_OK_OR_FAIL(c, ens_config_set_dt(c, dt));
    ENS_OK_OR_FAIL(c, ens_config_set_steps(c, steps));
    ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
    ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, save_every));
    ENS_OK_OR_FAIL(c, ens_config_set_backend(c, backend));
    ENS_OK_OR_FAIL(c, ens_config_set_strict_fp(c, strict));
}

// Each member's outcome: status and dopri5's counters.
struct MemberOutcomes {
    std::vector<int> status;
    std::vector<long long> accepted, rejected;
    std::vector<double> failure_time;

    bool operator==(const MemberOutcomes &o) const
    {
        return status == o.status && accepted == o.accepted && rejected == o.rejected;
    }
};

// Run into memory with each member's outcome; no member may fail.
inline ::testing::AssertionResult run_with_outcomes(ens_config *cfg, std::vector<double> &out,
                                                    MemberOutcomes *m = nullptr,
                                                    ens_run_info *info_out = nullptr)
{
    const long long members = ens_config_members(cfg);
    out.assign((size_t)(members * ens_config_saved_times(cfg) * ens_config_nvars(cfg)),
               std::nan(""));
    MemberOutcomes local;
    MemberOutcomes &mm = m ? *m : local;
    mm.status.assign((size_t)members, -1);
    mm.accepted.assign((size_t)members, -1);
    mm.rejected.assign((size_t)members, -1);
    mm.failure_time.assign((size_t)members, -1.0);
    ens_member_stats stats{mm.status.data(), mm.accepted.data(), mm.rejected.data(),
                           mm.failure_time.data()};
    ens_run_info info;
    std::memset(&info, 0, sizeof info);
    const ens_status st = ens_run_to_memory_ex(cfg, out.data(), out.size(), &stats, &info);
    if (info_out)
        *info_out = info;
    return run_verdict(cfg, "ens_run_to_memory_ex", st, info);
}

// Case k, strict, on OpenMP and on `backend`: the same bits at every saved
// time and, for dopri5, the same steps, accepted and rejected, and status
// for every member. `omp_info` and `backend_info` receive the two runs'
// info.
inline void expect_same_bits_as_openmp(const char *backend, const Case &k, double dt,
                                       long long steps, long long save_every, int K = 40,
                                       ens_run_info *omp_info = nullptr,
                                       ens_run_info *backend_info = nullptr)
{
    Config omp, other;
    configure(omp, k, "openmp", 1, dt, steps, save_every, K);
    configure(other, k, backend, 1, dt, steps, save_every, K);
    std::vector<double> a, b;
    MemberOutcomes ma, mb;
    ens_run_info info;
    ASSERT_TRUE(run_with_outcomes(omp, a, &ma, omp_info));
    ASSERT_TRUE(run_with_outcomes(other, b, &mb, &info));
    if (backend_info)
        *backend_info = info;
    EXPECT_STREQ(info.backend, backend);
    EXPECT_TRUE(same_bits(a, b)) << "first difference at " << first_difference(a, b);
    if (is(k.integrator, "dopri5")) {
        EXPECT_TRUE(ma == mb) << "the members' steps or status differ";
    }
}

// The largest absolute difference of two results and where it is.
struct Difference {
    double worst = 0.0;
    size_t at = 0;
};

inline Difference largest_difference(const std::vector<double> &a, const std::vector<double> &b)
{
    Difference d;
    for (size_t i = 0; i < a.size() && i < b.size(); i++)
        if (std::fabs(a[i] - b[i]) > d.worst) {
            d.worst = std::fabs(a[i] - b[i]);
            d.at = i;
        }
    return d;
}

// The difference allowed between a backend and OpenMP with default
// options, after `steps` steps of dt, `a` being one of the two results.
//
// Without strict fp the two compilers may fuse different multiply-adds, so
// each step may round differently by a few ulp. The models are chaotic: a
// difference grows like exp(lambda t) (lyapunov_exponent). Over a horizon
// of T = 1 (100 steps of 0.01), n steps of rounding differences of relative
// size eps grow to at most about
//     eps * n * exp(lambda T) * max|x|,
// about 1e-12 in double and 5e-3 in float; the test allows 100 times that,
// for the several operations per step and for local growth faster than the
// mean. (Measured on PoCL: 2e-14 in double and 8e-6 in float; the CPU's own
// contracted and strict runs differ by up to 4e-12 and 2e-3.) dopri5 may
// moreover accept a step on one backend that it rejects on the other: its
// results then differ by about the local error the tolerance rtol admits,
// grown the same way; allowed: 100 rtol exp(lambda T) max|x|. A mistake in
// the maths differs by O(1) within this horizon; much longer horizons would
// need tolerances as large as the attractor.
inline double default_tolerance(const Case &k, const std::vector<double> &a, long long steps,
                                double dt)
{
    const double eps = is(k.precision, "float") ? 0x1p-24 : 0x1p-53;
    double scale = 0.0;
    for (double v : a)
        scale = std::max(scale, std::fabs(v));
    const double growth = std::exp(lyapunov_exponent(k.model) * (double)steps * dt) * scale;
    const double rounding = 100.0 * eps * (double)steps * growth;
    return is(k.integrator, "dopri5") ? std::max(rounding, 100.0 * rtol_of(k) * growth) : rounding;
}

// `s` with the case of every letter swapped: a device request that must
// match ignoring case.
inline std::string swap_case(std::string s)
{
    for (char &ch : s)
        ch = (char)(std::isupper((unsigned char)ch) ? std::tolower((unsigned char)ch)
                                                    : std::toupper((unsigned char)ch));
    return s;
}

} // namespace ensol_test

#endif
