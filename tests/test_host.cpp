/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// The host layer through the public API: batching does not change what is
// written, the statistics output matches statistics computed here from the
// saved trajectories, the memory budget bounds the batches, and output
// locations that cannot take the file fail cleanly.
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <netcdf.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using ensol_test::Config;
using ensol_test::TempDir;
using ensol_test::read_var;


// A parameter drawn per member, so that the per-member parameter variable
// is part of what the tests compare.
ens_status vary_a_param(ens_config *cfg, const char *model)
{
    if (std::string(model) == "lorenz63")
        return ens_config_random_param(cfg, "rho", 24.0, 32.0);
    return ens_config_random_param(cfg, "F", 6.0, 10.0);
}

void small_run(ens_config *cfg, const char *model, const std::string &path, const char *mode)
{
    ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, model));
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 1003));
    ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, "rk4"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 120));
    ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 25));
    ENS_OK_OR_FAIL(cfg, vary_a_param(cfg, model));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, mode));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(cfg, path.c_str()));
}

}  // namespace

TEST(host, BatchingWritesTheSameFile)
{
    TempDir dir;
    for (const char *model : {"lorenz63", "lorenz96"}) {
        SCOPED_TRACE(model);
        const std::string one = dir.file(std::string(model) + "_one.nc");
        const std::string many = dir.file(std::string(model) + "_many.nc");
        {
            Config cfg;
            small_run(cfg, model, one, "both");
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
        }
        {
            Config cfg;
            small_run(cfg, model, many, "both");
            ENS_OK_OR_FAIL(cfg, ens_config_set_batch_members(cfg, 100));
            ens_run_info info;
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, &info));
            EXPECT_EQ(info.batches, 11);
        }
        const bool l63 = std::string(model) == "lorenz63";
        const std::vector<const char *> vars =
            l63 ? std::vector<const char *>{"x", "y", "z", "rho", "time", "member"}
                : std::vector<const char *>{"X", "F", "time", "member"};
        for (const char *var : vars) {
            std::vector<double> a = read_var(one, var), b = read_var(many, var);
            ASSERT_FALSE(a.empty()) << var;
            ASSERT_EQ(a.size(), b.size()) << var;
            EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0)
                << var << " differs between one batch and batches of 100";
        }
    }
}

// The statistics variables against the same statistics computed here from
// the trajectories in the same file: mean and population standard
// deviation by a two-pass sum in long double, minimum and maximum.
TEST(host, StatsMatchTheTrajectories)
{
    TempDir dir;
    for (const char *model : {"lorenz63", "lorenz96"}) {
        for (long long batch : {0LL, 97LL}) {
            SCOPED_TRACE(std::string(model) + " batch " + std::to_string(batch));
            const std::string path = dir.file("stats.nc");
            Config cfg;
            small_run(cfg, model, path, "both");
            ENS_OK_OR_FAIL(cfg, ens_config_set_batch_members(cfg, batch));
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
            const long long M = ens_config_members(cfg), T = ens_config_saved_times(cfg);
            const int V = ens_config_nvars(cfg);
            const bool l63 = V == 3;
            const std::vector<std::string> names =
                l63 ? std::vector<std::string>{"x", "y", "z"} : std::vector<std::string>{"X"};
            for (size_t n = 0; n < names.size(); n++) {
                const std::vector<double> states = read_var(path, names[n].c_str());
                const std::vector<double> mean = read_var(path, (names[n] + "_mean").c_str());
                const std::vector<double> stdv = read_var(path, (names[n] + "_std").c_str());
                const std::vector<double> lo = read_var(path, (names[n] + "_min").c_str());
                const std::vector<double> hi = read_var(path, (names[n] + "_max").c_str());
                const int W = l63 ? 1 : V; // values per (member, time) in this variable
                ASSERT_EQ(states.size(), (size_t)(M * T * W));
                ASSERT_EQ(mean.size(), (size_t)(T * W));
                for (long long t = 0; t < T; t++) {
                    for (int k = 0; k < W; k++) {
                        long double sum = 0, sq = 0;
                        double mn = INFINITY, mx = -INFINITY;
                        for (long long m = 0; m < M; m++) {
                            const double x = states[(size_t)((m * T + t) * W + k)];
                            sum += x;
                            mn = std::fmin(mn, x);
                            mx = std::fmax(mx, x);
                        }
                        const long double mu = sum / M;
                        for (long long m = 0; m < M; m++) {
                            const long double d = states[(size_t)((m * T + t) * W + k)] - mu;
                            sq += d * d;
                        }
                        const double sd = (double)std::sqrt(sq / M);
                        const size_t i = (size_t)(t * W + k);
                        // Welford/Chan in double against a two-pass sum in
                        // long double: a few ulps of the spread.
                        const double tol = 1e-12 * (std::fabs((double)mu) + sd + 1.0);
                        EXPECT_NEAR(mean[i], (double)mu, tol) << names[n] << " t " << t;
                        EXPECT_NEAR(stdv[i], sd, tol) << names[n] << " t " << t;
                        EXPECT_EQ(lo[i], mn) << names[n] << " t " << t;
                        EXPECT_EQ(hi[i], mx) << names[n] << " t " << t;
                    }
                }
            }
        }
    }
}

// Stats mode alone writes the statistics and nothing per member: no
// member dimension, the members per status at each saved time, and the
// bytes written are the file's.
TEST(host, StatsModeWritesNoStates)
{
    TempDir dir;
    const std::string path = dir.file("s.nc");
    Config cfg;
    small_run(cfg, "lorenz63", path, "stats");
    ens_run_info info;
    ENS_OK_OR_FAIL(cfg, ens_run(cfg, &info));
    const size_t T = (size_t)ens_config_saved_times(cfg);
    EXPECT_TRUE(read_var(path, "x").empty());
    EXPECT_TRUE(read_var(path, "member").empty());
    EXPECT_TRUE(read_var(path, "status").size() == 5u);
    EXPECT_EQ(read_var(path, "x_mean").size(), T);
    const std::vector<double> counts = read_var(path, "members_by_status");
    ASSERT_EQ(counts.size(), T * 5);
    for (size_t t = 0; t < T; t++)
        EXPECT_EQ(counts[t * 5], (double)ens_config_members(cfg)) << "time " << t;
    EXPECT_EQ(info.bytes_written, (unsigned long long)std::filesystem::file_size(path));
}

// The plan states the batches and memory; a budget bounds the batch size.
TEST(host, MemoryBudgetBoundsTheBatches)
{
    struct Seen {
        int calls = 0;
        ens_run_plan plan;
    } seen;
    auto on_plan = [](const ens_run_plan *p, void *user) {
        Seen *s = static_cast<Seen *>(user);
        s->calls++;
        s->plan = *p;
    };
    TempDir dir;
    for (double budget : {8.0 * 1024 * 1024, 32.0 * 1024 * 1024}) {
        Config cfg;
        small_run(cfg, "lorenz63", dir.file("m.nc"), "trajectory");
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 200000));
        ENS_OK_OR_FAIL(cfg, ens_config_set_max_memory(cfg, budget));
        ENS_OK_OR_FAIL(cfg, ens_config_set_plan_callback(cfg, on_plan, &seen));
        seen.calls = 0;
        ens_run_info info;
        ENS_OK_OR_FAIL(cfg, ens_run(cfg, &info));
        EXPECT_EQ(seen.calls, 1);
        EXPECT_LE(seen.plan.host_bytes, budget);
        EXPECT_GT(seen.plan.batches, 1);
        EXPECT_EQ(seen.plan.batches, info.batches);
        EXPECT_EQ(seen.plan.batches,
                  (200000 + seen.plan.batch_members - 1) / seen.plan.batch_members);
        // 200000 members x 6 saved times x 3 variables in double, and
        // per member its status, failure time and parameters: the file
        // written, within 5%.
        EXPECT_GT(seen.plan.output_bytes, 200000.0 * 6 * 3 * 8);
        EXPECT_NEAR(seen.plan.output_bytes, (double)info.bytes_written,
                    0.05 * (double)info.bytes_written);
    }
    Config cfg;
    small_run(cfg, "lorenz63", dir.file("tiny.nc"), "trajectory");
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 100000));
    ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 1));
    ENS_OK_OR_FAIL(cfg, ens_config_set_max_memory(cfg, 1024.0 * 1024.0));
    EXPECT_EQ(ens_run(cfg, nullptr), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(ens_config_last_error(cfg)).find("max memory"), std::string::npos)
        << ens_config_last_error(cfg);
    EXPECT_NE(access(dir.file("tiny.nc").c_str(), F_OK), 0);
    EXPECT_NE(access(dir.file("tiny.nc.partial").c_str(), F_OK), 0);
}

// A full file system. A run larger than the free space is refused before
// it starts; forced, it fails with one message naming the file and
// errno's reason (HDF5 says only "HDF error"), does not crash (HDF5 used
// to segfault at exit on the file it failed to close), and leaves neither
// the file nor its partial file. Needs a small tmpfs, which only a process
// allowed to mount can make.
TEST(host, FullFileSystemFailsCleanly)
{
    TempDir dir;
    if (mount("ensol-test", dir.path.c_str(), "tmpfs", 0, "size=256k") != 0)
        GTEST_SKIP() << "cannot mount a small tmpfs here (" << std::strerror(errno)
                     << "): the full-disk case is not exercised";
    const std::string path = dir.file("full.nc");
    std::string refused, failed;
    ens_status first, forced;
    {
        Config cfg;
        small_run(cfg, "lorenz63", path, "trajectory");
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 100000));
        first = ens_run(cfg, nullptr);
        refused = ens_config_last_error(cfg);
        ENS_OK_OR_FAIL(cfg, ens_config_set_force(cfg, 1));
        forced = ens_run(cfg, nullptr);
        failed = ens_config_last_error(cfg);
    }
    std::vector<std::string> left;
    for (const auto &e : std::filesystem::directory_iterator(dir.path))
        left.push_back(e.path().filename().string());
    umount(dir.path.c_str());
    EXPECT_EQ(first, ENS_ERR_INVALID_ARGUMENT) << refused;
    EXPECT_NE(refused.find("GB free"), std::string::npos) << refused;
    EXPECT_EQ(forced, ENS_ERR_IO) << failed;
    EXPECT_NE(failed.find("full.nc"), std::string::npos) << failed;
    EXPECT_NE(failed.find(std::strerror(ENOSPC)), std::string::npos) << failed;
    EXPECT_TRUE(left.empty()) << "a failed run left " << left.front();
}

TEST(host, BadBudgetAndCompressionSettingsAreRejected)
{
    Config cfg;
    EXPECT_EQ(ens_config_set_max_memory(cfg, 1000.0), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_config_set_max_memory(cfg, NAN), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_config_set_deflate(cfg, 10), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_config_set_deflate(cfg, -1), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_config_set_quantize(cfg, 53), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ens_config_set_output_mode(cfg, "everything"), ENS_ERR_UNKNOWN_NAME);
    EXPECT_NE(std::string(ens_config_last_error(cfg)).find("everything"), std::string::npos);
    std::vector<double> out(100);
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 10));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "stats"));
    EXPECT_EQ(ens_run_to_memory(cfg, out.data(), out.size(), nullptr), ENS_ERR_INVALID_ARGUMENT);
}

// Compressed and bit-rounded output reads back: deflate is lossless, and
// rounding to 12 significant bits keeps values within 2^-12 relative.
TEST(host, CompressionRoundTrips)
{
    TempDir dir;
    const std::string exact = dir.file("exact.nc"), packed = dir.file("packed.nc"),
                      rounded = dir.file("rounded.nc");
    for (int k = 0; k < 3; k++) {
        Config cfg;
        const std::string &path = k == 0 ? exact : k == 1 ? packed : rounded;
        small_run(cfg, "lorenz63", path, "trajectory");
        ENS_OK_OR_FAIL(cfg, ens_config_set_output_type(cfg, "float"));
        if (k >= 1)
            ENS_OK_OR_FAIL(cfg, ens_config_set_deflate(cfg, 1));
        if (k == 2)
            ENS_OK_OR_FAIL(cfg, ens_config_set_quantize(cfg, 12));
        ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
    }
    const std::vector<double> a = read_var(exact, "z"), b = read_var(packed, "z"),
                              c = read_var(rounded, "z");
    ASSERT_FALSE(a.empty());
    ASSERT_EQ(a.size(), b.size());
    ASSERT_EQ(a.size(), c.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0);
    for (size_t i = 0; i < a.size(); i++)
        ASSERT_NEAR(c[i], a[i], std::fabs(a[i]) * std::ldexp(1.0, -12)) << i;
}

// A run continued from its restart file ends on the same bits as the same
// run made whole: the restart file holds the states exactly (double) and
// the parameters drawn per member, and for dopri5 each member's step state
// (step size, controller history, derivative), so that the adaptive
// integration goes on exactly where it stood.
TEST(host, RestartContinuesBitForBit)
{
    TempDir dir;
    for (const char *integrator : {"rk4", "dopri5"})
    for (const char *model : {"lorenz63", "lorenz96"}) {
        for (const char *precision : {"double", "float"}) {
            SCOPED_TRACE(std::string(integrator) + " " + model + " " + precision);
            auto setup = [&](ens_config *cfg, long long steps) {
                ENS_OK_OR_FAIL(cfg, ens_config_set_model(cfg, model));
                ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, integrator));
                ENS_OK_OR_FAIL(cfg, ens_config_set_precision(cfg, precision));
                ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, steps));
                ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "final"));
            };
            const std::string restart = dir.file("restart.nc");
            std::vector<double> whole, second;
            {
                Config cfg;
                setup(cfg, 300);
                ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 501));
                ENS_OK_OR_FAIL(cfg, vary_a_param(cfg, model));
                ASSERT_TRUE(ensol_test::run_cfg(cfg, whole));
            }
            {
                Config cfg;
                setup(cfg, 120);
                ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 501));
                ENS_OK_OR_FAIL(cfg, vary_a_param(cfg, model));
                ENS_OK_OR_FAIL(cfg, ens_config_set_restart_path(cfg, restart.c_str()));
                ENS_OK_OR_FAIL(cfg, ens_config_set_batch_members(cfg, 200));
                ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(cfg, dir.file("first.nc").c_str()));
                ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
            }
            {
                Config cfg;
                setup(cfg, 180);
                ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, restart.c_str(), -1));
                ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
                EXPECT_EQ(ens_config_members(cfg), 501);
                ASSERT_TRUE(ensol_test::run_cfg(cfg, second));
                // The continued file's time axis goes on from the restart.
                ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(cfg, dir.file("second.nc").c_str()));
                ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
                const std::vector<double> time = read_var(dir.file("second.nc"), "time");
                ASSERT_EQ(time.size(), 1u);
                EXPECT_DOUBLE_EQ(time[0], 300 * 0.01);
            }
            ASSERT_EQ(whole.size(), second.size());
            EXPECT_EQ(std::memcmp(whole.data(), second.data(), whole.size() * sizeof(double)), 0)
                << "the continued run differs from the whole run";
        }
    }
}

// A trajectory file starts a run from any of its saved times; a file of
// another model, a bad time index and a member count that disagrees are
// refused with a message naming the file.
TEST(host, InitialStatesFromAnyFileAndBadFilesRefused)
{
    TempDir dir;
    const std::string traj = dir.file("traj.nc");
    std::vector<double> from_index;
    {
        Config cfg;
        small_run(cfg, "lorenz63", traj, "trajectory");
        ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
    }
    {
        Config cfg;
        ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, traj.c_str(), 2));
        ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 1));
        ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "trajectory"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 1));
        ASSERT_TRUE(ensol_test::run_cfg(cfg, from_index));
    }
    // Its first saved state is the file's state at index 2, exactly.
    const std::vector<double> x = read_var(traj, "x");
    const long long T = 6; // 120 steps saved every 25: t = 0, 25, ..., 120
    ASSERT_EQ(x.size(), (size_t)(1003 * T));
    for (long long m = 0; m < 1003; m += 100)
        EXPECT_EQ(from_index[(size_t)(m * 2 * 3)], x[(size_t)(m * T + 2)]) << m;

    Config other;
    ENS_OK_OR_FAIL(other, ens_config_set_model(other, "lorenz96"));
    EXPECT_EQ(ens_config_set_initial_file(other, traj.c_str(), -1), ENS_OK);
    EXPECT_EQ(ens_config_validate(other), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(ens_config_last_error(other)).find("lorenz63"), std::string::npos)
        << ens_config_last_error(other);

    Config index;
    ENS_OK_OR_FAIL(index, ens_config_set_initial_file(index, traj.c_str(), 6));
    EXPECT_EQ(ens_config_validate(index), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(ens_config_last_error(index)).find("time index"), std::string::npos);

    Config members;
    ENS_OK_OR_FAIL(members, ens_config_set_members(members, 10));
    ENS_OK_OR_FAIL(members, ens_config_set_initial_file(members, traj.c_str(), -1));
    EXPECT_EQ(ens_config_validate(members), ENS_ERR_INVALID_ARGUMENT);

    Config missing;
    ENS_OK_OR_FAIL(missing, ens_config_set_initial_file(missing, dir.file("no.nc").c_str(), -1));
    EXPECT_EQ(ens_config_validate(missing), ENS_ERR_IO);
    EXPECT_NE(std::string(ens_config_last_error(missing)).find("no.nc"), std::string::npos);
}

// dopri5 across three legs: each restart file records the steps since the
// integration started, so 100 + 100 + 100 steps give the bits of 300. A
// leg with another dt cannot take the step state: it starts afresh from
// the states, and ends near (not on) the whole run.
TEST(host, Dopri5RestartChainsAndAnotherStepStartsAfresh)
{
    TempDir dir;
    auto setup = [&](ens_config *cfg, long long steps, double dt) {
        ENS_OK_OR_FAIL(cfg, ens_config_set_integrator(cfg, "dopri5"));
        ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, dt));
        ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, steps));
        ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "final"));
    };
    std::vector<double> whole, chained, other_dt;
    {
        Config cfg;
        setup(cfg, 300, 0.01);
        ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 301));
        ASSERT_TRUE(ensol_test::run_cfg(cfg, whole));
    }
    std::string from;
    for (int leg = 0; leg < 3; leg++) {
        Config cfg;
        setup(cfg, 100, 0.01);
        if (from.empty())
            ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 301));
        else
            ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, from.c_str(), -1));
        ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg)); // takes the file's member count
        if (leg < 2) {
            from = dir.file("leg" + std::to_string(leg) + ".nc");
            ENS_OK_OR_FAIL(cfg, ens_config_set_restart_path(cfg, from.c_str()));
            ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(
                                    cfg, dir.file("out" + std::to_string(leg) + ".nc").c_str()));
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
        } else {
            ASSERT_TRUE(ensol_test::run_cfg(cfg, chained));
        }
    }
    ASSERT_EQ(whole.size(), chained.size());
    EXPECT_EQ(std::memcmp(whole.data(), chained.data(), whole.size() * sizeof(double)), 0)
        << "three legs differ from the whole run";
    {
        Config cfg;
        setup(cfg, 50, 0.02); // the last 100 steps of 0.01 as 50 of 0.02
        ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, from.c_str(), -1));
        ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
        ASSERT_TRUE(ensol_test::run_cfg(cfg, other_dt));
    }
    ASSERT_EQ(whole.size(), other_dt.size());
    double worst = 0;
    for (size_t i = 0; i < whole.size(); i++)
        worst = std::max(worst, std::fabs(whole[i] - other_dt[i]));
    EXPECT_GT(worst, 0.0) << "a fresh start cannot give the same bits";
    EXPECT_LT(worst, 1e-2) << "but it integrates the same trajectory to the tolerance";
}

// With an initial-state file, the member queries answer what a run would
// use: the file's states and the parameters it records, not the
// configuration's noise and draws.
TEST(host, MemberQueriesReadTheInitialStateFile)
{
    TempDir dir;
    const std::string traj = dir.file("traj.nc");
    {
        Config cfg;
        small_run(cfg, "lorenz63", traj, "trajectory"); // rho drawn per member
        ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
    }
    const std::vector<double> x = read_var(traj, "x"), rho = read_var(traj, "rho");
    const long long T = 6;
    Config cfg;
    ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, traj.c_str(), 3));
    // A different draw in the configuration, which the file overrides.
    ENS_OK_OR_FAIL(cfg, ens_config_random_param(cfg, "rho", 100.0, 200.0));
    ASSERT_EQ(rho.size(), 1003u);
    for (long long m : {0LL, 1LL, 500LL, 1002LL}) {
        double state[3] = {0, 0, 0}, value = 0;
        ENS_OK_OR_FAIL(cfg, ens_config_member_initial_state(cfg, m, state));
        EXPECT_EQ(state[0], x[(size_t)(m * T + 3)]) << m;
        ENS_OK_OR_FAIL(cfg, ens_config_member_param(cfg, m, "rho", &value));
        EXPECT_EQ(value, rho[(size_t)m]) << m;
        // sigma is shared: the file's attribute, the default here.
        ENS_OK_OR_FAIL(cfg, ens_config_member_param(cfg, m, "sigma", &value));
        EXPECT_EQ(value, 10.0);
    }
    // And a run from the file integrates from exactly those states.
    std::vector<double> out;
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 1));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "trajectory"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 1));
    ASSERT_TRUE(ensol_test::run_cfg(cfg, out));
    double first[3];
    ENS_OK_OR_FAIL(cfg, ens_config_member_initial_state(cfg, 7, first));
    EXPECT_EQ(out[(size_t)(7 * 2 * 3)], first[0]);
}

// A member started far outside the attractor with a large step blows up:
// it gets a status and the time of the save where it failed, its saved
// states stay at its last good state, the statistics leave it out, and
// the other members run on.
TEST(host, BlownUpMembersAreMarkedAndFrozen)
{
    TempDir dir;
    const std::string path = dir.file("blowup.nc");
    Config cfg;
    ENS_OK_OR_FAIL(cfg, ens_config_set_members(cfg, 64));
    ENS_OK_OR_FAIL(cfg, ens_config_set_perturbation(cfg, 0.0));
    // rho swept up to 2e4 with dt 0.01: the members with the largest rho
    // leave the attractor and overflow; those near rho = 28 stay bounded.
    ENS_OK_OR_FAIL(cfg, ens_config_sweep_param(cfg, "rho", 28.0, 2.0e4, 0));
    ENS_OK_OR_FAIL(cfg, ens_config_set_dt(cfg, 0.01));
    ENS_OK_OR_FAIL(cfg, ens_config_set_steps(cfg, 400));
    ENS_OK_OR_FAIL(cfg, ens_config_set_save_every(cfg, 10));
    ENS_OK_OR_FAIL(cfg, ens_config_set_blowup_bound(cfg, 1e4));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_mode(cfg, "both"));
    ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(cfg, path.c_str()));
    ens_run_info info;
    ENS_OK_OR_FAIL(cfg, ens_run(cfg, &info));
    EXPECT_GT(info.members_failed, 0);
    EXPECT_LT(info.members_failed, 64);

    const std::vector<double> status = read_var(path, "status");
    const std::vector<double> failure = read_var(path, "failure_time");
    const std::vector<double> x = read_var(path, "x");
    const std::vector<double> mean = read_var(path, "x_mean");
    const long long T = ens_config_saved_times(cfg);
    ASSERT_EQ(status.size(), 64u);
    ASSERT_EQ(x.size(), (size_t)(64 * T));
    long long failed = 0;
    for (long long m = 0; m < 64; m++) {
        if (status[(size_t)m] == ENS_MEMBER_OK) {
            EXPECT_TRUE(std::isnan(failure[(size_t)m])) << m;
            continue;
        }
        failed++;
        EXPECT_TRUE(status[(size_t)m] == ENS_MEMBER_BLOWUP ||
                    status[(size_t)m] == ENS_MEMBER_NONFINITE) << m;
        const double tf = failure[(size_t)m];
        ASSERT_GT(tf, 0.0) << m;
        ASSERT_LE(tf, 4.0) << m;
        // From the save where it failed on, the saved state is the last
        // good one: finite, within the bound, and constant.
        const long long tk = (long long)std::llround(tf / 0.1);
        for (long long t = tk; t < T; t++) {
            const double v = x[(size_t)(m * T + t)];
            EXPECT_TRUE(std::isfinite(v) && std::fabs(v) <= 1e4) << m << " t " << t;
            EXPECT_EQ(v, x[(size_t)(m * T + tk)]) << m << " t " << t;
        }
    }
    EXPECT_EQ(failed, info.members_failed);
    // Statistics over the members still running at the last save.
    long double sum = 0;
    long long n = 0;
    for (long long m = 0; m < 64; m++)
        if (status[(size_t)m] == ENS_MEMBER_OK) {
            sum += x[(size_t)(m * T + T - 1)];
            n++;
        }
    ASSERT_GT(n, 0);
    EXPECT_NEAR(mean[(size_t)(T - 1)], (double)(sum / n), 1e-9);
}

// ens_run_to_memory_file: the file ens_run writes, made in memory, with
// the states in the caller's array instead (out[(m * times + t) * nvars +
// v]) and only their fill values in the file; no file appears.
TEST(host, FileInMemoryIsTheFileWithTheStatesInTheArray)
{
    TempDir dir;
    for (const char *model : {"lorenz63", "lorenz96"}) {
        SCOPED_TRACE(model);
        const std::string disk = dir.file(std::string(model) + "_disk.nc");
        const std::string image_copy = dir.file(std::string(model) + "_image.nc");
        {
            Config cfg;
            small_run(cfg, model, disk, "both");
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
        }
        Config cfg;
        small_run(cfg, model, dir.file("never_written.nc"), "both");
        const size_t members = (size_t)ens_config_members(cfg);
        const size_t times = (size_t)ens_config_saved_times(cfg);
        const size_t nvars = (size_t)ens_config_nvars(cfg);
        std::vector<double> out(members * times * nvars);
        void *image = nullptr;
        size_t size = 0;
        ens_run_info info;
        EXPECT_EQ(ens_run_to_memory_file(cfg, out.data(), out.size() - 1, &image, &size, &info),
                  ENS_ERR_INVALID_ARGUMENT);
        ENS_OK_OR_FAIL(cfg, ens_run_to_memory_file(cfg, out.data(), out.size(), &image, &size,
                                                   &info));
        ASSERT_NE(image, nullptr);
        EXPECT_EQ(info.bytes_written, size);
        EXPECT_FALSE(std::filesystem::exists(dir.file("never_written.nc")));
        EXPECT_FALSE(std::filesystem::exists(dir.file("never_written.nc.partial")));
        FILE *f = fopen(image_copy.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(fwrite(image, 1, size, f), size);
        fclose(f);
        ens_free(image);
        const bool l63 = std::string(model) == "lorenz63";
        const std::vector<const char *> same =
            l63 ? std::vector<const char *>{"rho", "time", "member", "status", "x_mean", "z_max"}
                : std::vector<const char *>{"F", "time", "member", "status", "X_std"};
        for (const char *var : same) {
            std::vector<double> a = read_var(disk, var), b = read_var(image_copy, var);
            ASSERT_FALSE(a.empty()) << var;
            ASSERT_EQ(a.size(), b.size()) << var;
            EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0) << var;
        }
        // The states: read_var gives them (member, time[, k]), out (member, time, var).
        const std::vector<const char *> states =
            l63 ? std::vector<const char *>{"x", "y", "z"} : std::vector<const char *>{"X"};
        for (size_t s = 0; s < states.size(); s++) {
            std::vector<double> a = read_var(disk, states[s]);
            std::vector<double> fill = read_var(image_copy, states[s]);
            ASSERT_EQ(fill.size(), a.size()) << states[s];
            EXPECT_TRUE(std::isnan(fill[0]) && std::isnan(fill.back())) << states[s];
            const size_t per = l63 ? 1 : nvars;
            for (size_t t = 0; t < times; t++)
                for (size_t m = 0; m < members; m++)
                    for (size_t k = 0; k < per; k++)
                        ASSERT_EQ(a[(m * times + t) * per + k],
                                  out[(m * times + t) * nvars + (l63 ? s : k)])
                            << states[s] << " t " << t << " m " << m << " k " << k;
        }
    }
    // Statistics alone: no states, no array needed.
    Config cfg;
    small_run(cfg, "lorenz63", dir.file("stats.nc"), "stats");
    void *image = nullptr;
    size_t size = 0;
    ENS_OK_OR_FAIL(cfg, ens_run_to_memory_file(cfg, nullptr, 0, &image, &size, nullptr));
    EXPECT_GT(size, 0u);
    ens_free(image);
    EXPECT_FALSE(std::filesystem::exists(dir.file("stats.nc")));
}
