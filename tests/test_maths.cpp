/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// The maths of the integration, through the public API only: convergence
// order of the integrators, analytic facts of Lorenz-96, agreement with a
// plain reference integrator written here, and the trajectory bookkeeping.
//
// Every expected value comes from analysis or from the reference code in
// this file, never from a previous ensol run.
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace {

// ---- helpers ---------------------------------------------------------------

using ensol_test::Config;
using ensol_test::run_cfg;

// One member, no noise, double precision: the plain deterministic problem.
void setup_single(ens_config *cfg, const char *model, const char *integrator, double dt,
                  long long steps, const char *mode = "final", const char *precision = "double")
{
    ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, model));
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 1));
    ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.0));
    ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, integrator));
    ENS_OK_OR_FAIL(cfg, ens_config_set_precision(cfg, precision));
    ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, dt));
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, steps));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, mode));
}

// ---- reference right-hand sides and integrators (written independently) ----

template <class T> struct Lorenz63 {
    T sigma, rho, beta;
    int n() const { return 3; }
    void operator()(const T *x, T *f) const
    {
        f[0] = sigma * (x[1] - x[0]);
        f[1] = x[0] * (rho - x[2]) - x[1];
        f[2] = x[0] * x[1] - beta * x[2];
    }
};

template <class T> struct Lorenz96 {
    int K;
    T F;
    int n() const { return K; }
    void operator()(const T *x, T *f) const
    {
        for (int k = 0; k < K; k++) {
            int kp1 = (k + 1) % K, km1 = (k + K - 1) % K, km2 = (k + K - 2) % K;
            f[k] = (x[kp1] - x[km2]) * x[km1] - x[k] + F;
        }
    }
};

template <class T, class Rhs> void ref_euler(const Rhs &rhs, std::vector<T> &x, T dt, long steps)
{
    std::vector<T> f(x.size());
    for (long s = 0; s < steps; s++) {
        rhs(x.data(), f.data());
        for (size_t i = 0; i < x.size(); i++)
            x[i] = x[i] + dt * f[i];
    }
}

template <class T, class Rhs> void ref_rk4(const Rhs &rhs, std::vector<T> &x, T dt, long steps)
{
    const size_t n = x.size();
    std::vector<T> k1(n), k2(n), k3(n), k4(n), y(n);
    for (long s = 0; s < steps; s++) {
        rhs(x.data(), k1.data());
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] + dt / 2 * k1[i];
        rhs(y.data(), k2.data());
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] + dt / 2 * k2[i];
        rhs(y.data(), k3.data());
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] + dt * k3[i];
        rhs(y.data(), k4.data());
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] + dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
}

template <class T, class Rhs>
void ref_integrate(const std::string &integrator, const Rhs &rhs, std::vector<T> &x, T dt, long steps)
{
    if (integrator == "rk4")
        ref_rk4(rhs, x, dt, steps);
    else
        ref_euler(rhs, x, dt, steps);
}

// ---- convergence order -----------------------------------------------------

// Lorenz-63 from the classic (-10, -10, 25) with the classic parameters,
// integrated to T = 0.5. The horizon is short on purpose: Lorenz-63 is
// chaotic (largest Lyapunov exponent ~0.9), and over long horizons the
// global error is amplified by e^(0.9 T) and the asymptotic regime needs
// ever smaller steps; at T = 0.5 the amplification is < 2 while the
// trajectory still moves by O(10) (|f| ~ 40 at the start), so the errors are
// far above roundoff yet in the asymptotic regime. The reference is a
// long-double RK4 with dt = 1e-5 (error ~1e-17, below double roundoff).
//   Euler dt = 1e-3 .. 1.25e-4: errors ~8e-2 .. 1e-2, order 1.008 .. 1.002.
//   RK4   dt = 1e-2 .. 1.25e-3: errors ~1e-5 .. 3e-9, order 3.93 .. 3.99.
std::vector<double> lorenz63_reference(double T)
{
    Lorenz63<long double> rhs{10.0L, 28.0L, 8.0L / 3.0L};
    std::vector<long double> x{-10.0L, -10.0L, 25.0L};
    const long n = 50000;
    ref_rk4(rhs, x, (long double)T / n, n);
    return {(double)x[0], (double)x[1], (double)x[2]};
}

void check_order(const char *integrator, const std::vector<long> &nsteps, double lo, double hi)
{
    const double T = 0.5;
    const std::vector<double> ref = lorenz63_reference(T);
    std::vector<double> err;
    for (long n : nsteps) {
        Config cfg;
        setup_single(cfg, "lorenz63", integrator, T / n, n);
        const double base[3] = {-10.0, -10.0, 25.0};
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, base, 3));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "sigma", 10.0));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "rho", 28.0));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "beta", 8.0 / 3.0));
        std::vector<double> out;
        ASSERT_TRUE(run_cfg(cfg, out));
        ASSERT_EQ(out.size(), 3u);
        double e = 0;
        for (int v = 0; v < 3; v++)
            e = std::fmax(e, std::fabs(out[v] - ref[v]));
        err.push_back(e);
    }
    for (size_t i = 0; i + 1 < err.size(); i++) {
        ASSERT_GT(err[i + 1], 0.0) << integrator << " error is 0 at n=" << nsteps[i + 1];
        double order = std::log2(err[i] / err[i + 1]) / std::log2((double)nsteps[i + 1] / nsteps[i]);
        EXPECT_GE(order, lo) << integrator << " n=" << nsteps[i] << "->" << nsteps[i + 1]
                             << " errors " << err[i] << " " << err[i + 1];
        EXPECT_LE(order, hi) << integrator << " n=" << nsteps[i] << "->" << nsteps[i + 1]
                             << " errors " << err[i] << " " << err[i + 1];
    }
    // The errors must be method errors, not roundoff, for the orders to mean anything.
    EXPECT_GT(err.back(), 1e-10) << integrator;
}

TEST(maths, EulerIsFirstOrderOnLorenz63)
{
    check_order("euler", {500, 1000, 2000, 4000}, 0.9, 1.1);
}

TEST(maths, Rk4IsFourthOrderOnLorenz63)
{
    check_order("rk4", {50, 100, 200, 400}, 3.8, 4.2);
}

// The header documents rk4 as the default integrator (and lorenz63 as the
// default model): a run that never sets them equals one that sets them, bit
// for bit, and differs from euler.
TEST(maths, DefaultsAreLorenz63AndEuler)
{
    auto run = [](const char *integrator, const char *model, std::vector<double> &out) {
        Config cfg;
        if (model)
            ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, model));
        if (integrator)
            ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, integrator));
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 3));
        ENS_OK_OR_FAIL(cfg, ens_config_set_precision(cfg, "double"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, 0.01));
        ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 50));
        ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "final"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.5));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 8));
        ASSERT_TRUE(run_cfg(cfg, out));
    };
    std::vector<double> dflt, rk4, euler, explicit_model;
    run(nullptr, nullptr, dflt);
    run("rk4", nullptr, rk4);
    run("euler", nullptr, euler);
    run("rk4", "lorenz63", explicit_model);
    if (HasFatalFailure())
        return;
    EXPECT_EQ(dflt.size(), 9u);
    // The classic experiment integrates with forward Euler.
    EXPECT_TRUE(dflt == euler) << "the default integrator is not euler: " << dflt[0]
                               << " vs euler " << euler[0] << ", rk4 " << rk4[0];
    EXPECT_FALSE(dflt == rk4) << "the default integrator is rk4";
    EXPECT_TRUE(explicit_model == rk4) << "the default model is not lorenz63";
}

// ---- Lorenz-96 analytic facts ---------------------------------------------

// x_k = F for every k is a fixed point: (F - F) F - F + F = 0 exactly in
// floating point, so each step adds dt * 0 and the state stays exactly F.
TEST(maths, Lorenz96UniformForcingIsAnExactFixedPoint)
{
    struct Case { int K; double F; };
    const Case cases[] = {{0, 8.0}, {5, 3.7}, {36, 8.0}, {40, 11.25}};
    for (const char *integrator : {"euler", "rk4"})
        for (const char *precision : {"double", "float"})
            for (const Case &c : cases) {
                SCOPED_TRACE(std::string(integrator) + " " + precision + " K=" +
                             std::to_string(c.K) + " F=" + std::to_string(c.F));
                Config cfg;
                setup_single(cfg, "lorenz96", integrator, 0.01, 1000, "trajectory", precision);
                if (c.K)
                    ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "K", c.K));
                ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "F", c.F));
                ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, &c.F, 1));
                ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 100));
                int K = c.K ? c.K : 40; // 40 is the documented default
                ASSERT_EQ(ens_config_nvars(cfg), K);
                ASSERT_EQ(ens_config_saved_times(cfg), 11);
                std::vector<double> out;
                ASSERT_TRUE(run_cfg(cfg, out));
                // In float the state and F are F rounded to float.
                const double F = std::string(precision) == "float" ? (double)(float)c.F : c.F;
                for (size_t i = 0; i < out.size(); i++)
                    ASSERT_EQ(out[i], F) << "value " << i << " (time " << i / K << ", k "
                                           << i % K << ")";
            }
}

// With F = 0: dE/dt = sum_k x_k dx_k/dt = sum_k x_k x_{k-1} (x_{k+1} - x_{k-2})
// - 2E, and the advection sum vanishes (sum x_{k-1} x_k x_{k+1} and
// sum x_{k-2} x_{k-1} x_k are the same cyclic sum), so E(t) = E0 exp(-2t)
// exactly. RK4 with dt = 0.01 over t = 2 from N(0, 2^2) states keeps
// E(t)/(E0 e^-2t) within ~1e-7 of 1 (the error is O(dt^4); measured with the
// reference integrator above: 2e-9 .. 3e-7 for K = 5..40); the tolerance
// 1e-5 leaves room for that while any wrong term or coefficient (an error of
// 1e-3 in the damping already gives 4e-3 at t = 2) fails.
TEST(maths, Lorenz96UnforcedEnergyDecaysAsExpMinus2t)
{
    for (int K : {0, 5, 36}) {
        SCOPED_TRACE("K=" + std::to_string(K));
        Config cfg;
        const double dt = 0.01;
        const long long steps = 200, every = 10;
        setup_single(cfg, "lorenz96", "rk4", dt, steps, "trajectory");
        if (K)
            ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "K", K));
        else
            K = 40;
        const double zero = 0.0;
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "F", 0.0));
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, &zero, 1));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 2.0));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 12345));
        ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, every));
        const long long times = ens_config_saved_times(cfg);
        ASSERT_EQ(times, 21);
        std::vector<double> out;
        ASSERT_TRUE(run_cfg(cfg, out));
        auto energy = [&](long long t) {
            double e = 0;
            for (int k = 0; k < K; k++)
                e += out[t * K + k] * out[t * K + k] / 2;
            return e;
        };
        const double E0 = energy(0);
        ASSERT_GT(E0, 0.5 * K); // E[E0] = 2 K for N(0, 4) values
        for (long long t = 1; t < times; t++) {
            double time = (double)(t * every) * dt;
            double expected = E0 * std::exp(-2.0 * time);
            EXPECT_NEAR(energy(t) / expected, 1.0, 1e-5) << "t = " << time;
        }
        // The advection must actually have acted (otherwise the check above
        // would hold for the linear part alone): the final state is not the
        // initial one scaled by e^-T.
        double shape = 0;
        const double decay = std::exp(-(double)steps * dt);
        for (int k = 0; k < K; k++)
            shape = std::fmax(shape, std::fabs(out[(times - 1) * K + k] - out[k] * decay));
        EXPECT_GT(shape, 1e-2);
    }
}

// ---- agreement with the reference integrator ---------------------------------

// Several members with noise, a seed and non-default parameters, integrated
// by the library and by the reference loops above from the library's own
// initial states (ens_config_member_initial_state). The library and the
// reference do the same arithmetic but not necessarily in the same order
// (the RK4 stage sums are grouped differently, and the compiler may contract
// a*b+c into a fused multiply-add in one and not the other), so they agree to
// roundoff, not bit for bit. Over 100 steps of dt = 0.01 (t = 1) the
// amplification of a 1e-16 difference is O(10) at most, so 1e-12 relative to
// the state's size is tight yet safe in double; in float the per-step
// roundoff is 6e-8 and 100 steps give O(1e-5), so 2e-4 relative.
struct AgreementCase {
    const char *model;
    const char *integrator;
    const char *precision;
};

void PrintTo(const AgreementCase &c, std::ostream *os)
{
    *os << c.model << " " << c.integrator << " " << c.precision;
}

class Agreement : public ::testing::TestWithParam<AgreementCase> {};

template <class T>
void compare_member(const AgreementCase &c, ens_config *cfg, const std::vector<double> &out,
                    long long m, long long times, long long every, long long steps, double dt,
                    double tol)
{
    const int nv = ens_config_nvars(cfg);
    std::vector<double> init(nv);
    ASSERT_EQ(ens_config_member_initial_state(cfg, m, init.data()), ENS_OK)
        << ens_config_last_error(cfg);
    std::vector<T> x(init.begin(), init.end()); // the run's precision
    auto param = [&](const char *name) {
        double v = std::nan("");
        EXPECT_EQ(ens_config_member_param(cfg, m, name, &v), ENS_OK) << name;
        return v;
    };
    double scale = 1.0;
    long long done = 0;
    for (long long t = 0; t < times; t++) {
        long long target = std::min(t * every, steps);
        long n = (long)(target - done);
        if (std::string(c.model) == "lorenz63") {
            Lorenz63<T> rhs{(T)param("sigma"), (T)param("rho"), (T)param("beta")};
            ref_integrate(c.integrator, rhs, x, (T)dt, n);
        } else {
            Lorenz96<T> rhs{nv, (T)param("F")};
            ref_integrate(c.integrator, rhs, x, (T)dt, n);
        }
        done = target;
        for (int v = 0; v < nv; v++)
            scale = std::fmax(scale, std::fabs((double)x[v]));
        for (int v = 0; v < nv; v++) {
            double got = out[(size_t)((m * times + t) * nv + v)];
            ASSERT_NEAR(got, (double)x[v], tol * scale)
                << "member " << m << " saved time " << t << " (step " << target << ") var " << v;
        }
    }
}

TEST_P(Agreement, LibraryMatchesReferenceLoop)
{
    const AgreementCase c = GetParam();
    const bool is63 = std::string(c.model) == "lorenz63";
    const bool dbl = std::string(c.precision) == "double";
    const double dt = 0.01;
    const long long steps = 100, every = 30; // last interval is 10 steps
    const long long members = 4;
    Config cfg;
    ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, c.model));
    if (is63) {
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "sigma", 9.5));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "rho", 31.7));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "beta", 2.4));
        const double base[3] = {1.5, -2.0, 20.0};
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, base, 3));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.7));
    } else {
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "K", 12));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "F", 7.3));
        const double base = 7.3;
        ENS_OK_OR_FAIL(cfg, ens_config_set_base_state(cfg, &base, 1));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.5));
    }
    ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 20240601));
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, members));
    ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, c.integrator));
    ENS_OK_OR_FAIL(cfg, ens_config_set_precision(cfg, c.precision));
    ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, dt));
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, steps));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "trajectory"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, every));
    const long long times = ens_config_saved_times(cfg);
    ASSERT_EQ(times, 5); // t = 0, 30, 60, 90, 100
    std::vector<double> out;
    ASSERT_TRUE(run_cfg(cfg, out));
    for (long long m = 0; m < members; m++) {
        if (dbl)
            compare_member<double>(c, cfg, out, m, times, every, steps, dt, 1e-12);
        else
            compare_member<float>(c, cfg, out, m, times, every, steps, dt, 2e-4);
        if (HasFatalFailure())
            return;
    }
}

INSTANTIATE_TEST_SUITE_P(
    maths, Agreement,
    ::testing::Values(AgreementCase{"lorenz63", "euler", "double"},
                      AgreementCase{"lorenz63", "rk4", "double"},
                      AgreementCase{"lorenz96", "euler", "double"},
                      AgreementCase{"lorenz96", "rk4", "double"},
                      AgreementCase{"lorenz63", "euler", "float"},
                      AgreementCase{"lorenz63", "rk4", "float"},
                      AgreementCase{"lorenz96", "euler", "float"},
                      AgreementCase{"lorenz96", "rk4", "float"}),
    [](const ::testing::TestParamInfo<AgreementCase> &info) {
        return std::string(info.param.model) + "_" + info.param.integrator + "_" +
               info.param.precision;
    });

// ---- trajectory bookkeeping ----------------------------------------------------

void trajectory_case(const char *precision, long long steps, long long every)
{
    SCOPED_TRACE(std::string(precision) + " steps=" + std::to_string(steps) +
                 " save_every=" + std::to_string(every));
    auto configure = [&](ens_config *cfg, const char *mode, long long nsteps) {
        setup_single(cfg, "lorenz63", "rk4", 0.01, nsteps, mode, precision);
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 2));
        ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 1.0));
        ENS_OK_OR_FAIL(cfg, ens_config_set_seed(cfg, 31337));
        ENS_OK_OR_FAIL(cfg, ens_config_set_param(cfg, "rho", 24.5));
        if (std::string(mode) == "trajectory")
            ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, every));
    };
    Config traj;
    configure(traj, "trajectory", steps);
    if (::testing::Test::HasFatalFailure())
        return;
    const long long times = 1 + (steps + every - 1) / every;
    ASSERT_EQ(ens_config_saved_times(traj), times);
    ASSERT_EQ(ens_config_validate(traj), ENS_OK) << ens_config_last_error(traj);
    std::vector<double> out;
    ASSERT_TRUE(run_cfg(traj, out));
    const int nv = 3;
    const long long members = 2;
    const bool dbl = std::string(precision) == "double";
    for (long long m = 0; m < members; m++) {
        // The first saved state is the initial state itself (in float, the
        // initial state rounded to float).
        double init[3];
        ASSERT_EQ(ens_config_member_initial_state(traj, m, init), ENS_OK);
        for (int v = 0; v < nv; v++) {
            double expected = dbl ? init[v] : (double)(float)init[v];
            EXPECT_EQ(out[(size_t)((m * times + 0) * nv + v)], expected) << "member " << m << " var " << v;
        }
    }
    // Saved state t equals a final-mode run of min(t * every, steps) steps,
    // bit for bit; t = times - 1 is the full run.
    for (long long t = 1; t < times; t++) {
        long long nsteps = std::min(t * every, steps);
        Config fin;
        configure(fin, "final", nsteps);
        if (::testing::Test::HasFatalFailure())
            return;
        ASSERT_EQ(ens_config_saved_times(fin), 1);
        std::vector<double> fout;
        ASSERT_TRUE(run_cfg(fin, fout));
        for (long long m = 0; m < members; m++)
            EXPECT_EQ(std::memcmp(&out[(size_t)((m * times + t) * nv)], &fout[(size_t)(m * nv)],
                                  nv * sizeof(double)),
                      0)
                << "member " << m << " saved time " << t << " (step " << nsteps
                << ") differs from a final-mode run of that many steps: "
                << out[(size_t)((m * times + t) * nv)] << " vs " << fout[(size_t)(m * nv)];
    }
}

TEST(maths, TrajectorySavesAndFinalModeAgree)
{
    for (const char *precision : {"double", "float"}) {
        trajectory_case(precision, 103, 10); // 12 times, last interval 3 steps
        trajectory_case(precision, 100, 10); // 11 times
        trajectory_case(precision, 7, 7);    // 2 times
        trajectory_case(precision, 5, 1);    // 6 times
        trajectory_case(precision, 50, 49);  // 3 times, last interval 1 step
    }
}

} // namespace
