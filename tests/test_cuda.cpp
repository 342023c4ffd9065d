/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// What only the CUDA backend has, through the public API: a clear error
// and `auto` falling back where it cannot run; Lorenz-96 beyond the
// kernels' largest size; Lorenz-96 on groups of lanes
// (ENSOL_CUDA_LANE_KERNEL) against OpenMP and against a thread per member;
// device selection by index, by name and as a list; several GPUs against
// one; chunks on two streams. Its agreement with OpenMP for every model x
// integrator x precision (bit for bit, within a tolerance, batches, a
// stopped run, a restart) is tested with every backend's in
// test_backend_conformance.cpp.
//
// Every test that needs a GPU skips, with the probe's reason ("CUDA: no
// CUDA device (...)"), where the CUDA backend cannot run: not built in, no
// driver, no device. The tests marked "runs everywhere" check what a
// machine without a GPU must do: a clear error for --backend cuda, and
// `auto` falling back to another backend.
#include "backend_support.h"
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace {

#define SKIP_WITHOUT_CUDA() ENS_SKIP_WITHOUT_BACKEND("cuda", "CUDA")

// CUDA devices the probe lists ("N device(s)" on its first line).
int cuda_devices()
{
    char detail[8192] = "";
    int n = 0;
    if (ens_backend_probe("cuda", detail, sizeof detail) == ENS_OK &&
        std::sscanf(detail, "%d device", &n) == 1)
        return n;
    return 0;
}

using ensol_test::Case;
using ensol_test::Config;
using ensol_test::configure;
using ensol_test::first_difference;
using ensol_test::is;
using ensol_test::kMembers;
using ensol_test::MemberOutcomes;
using ensol_test::run_with_outcomes;
using ensol_test::same_bits;

// ---- without a GPU (runs everywhere) ----------------------------------------

// The probe answers either way: devices with their properties, or why not.
TEST(CudaAvailability, ProbeListsDevicesOrSaysWhyNot)
{
    char detail[8192] = "";
    const ens_status st = ens_backend_probe("cuda", detail, sizeof detail);
    std::printf("[ cuda     ] probe: %s: %s\n", st == ENS_OK ? "available" : "unavailable", detail);
    if (st != ENS_OK) {
        EXPECT_EQ(st, ENS_ERR_BACKEND_UNAVAILABLE);
        EXPECT_GT(std::strlen(detail), 10u) << "no reason given";
        return;
    }
    const std::string d = detail;
    EXPECT_NE(d.find("[0] "), std::string::npos) << d;
    EXPECT_NE(d.find(" SMs"), std::string::npos) << d;
    EXPECT_NE(d.find("GiB"), std::string::npos) << d;
    EXPECT_NE(d.find("compute capability"), std::string::npos) << d;
}

// --backend cuda where it cannot run: the run fails as unavailable, and the
// message names the backend and carries the probe's reason.
TEST(CudaAvailability, ExplicitCudaWithoutDeviceFailsClearly)
{
    const std::string why = ensol_test::backend_unavailable("cuda");
    if (why.empty())
        GTEST_SKIP() << "a CUDA device is present: nothing to check here";
    Config c;
    configure(c, {"lorenz63", "rk4", "double"}, "cuda", 0, 0.01, 10, 10);
    std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 3));
    EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr), ENS_ERR_BACKEND_UNAVAILABLE);
    const std::string msg = ens_config_last_error(c);
    std::printf("[ cuda     ] --backend cuda: %s\n", msg.c_str());
    EXPECT_NE(msg.find("cuda"), std::string::npos) << msg;
    EXPECT_NE(msg.find(why), std::string::npos) << "the probe's reason is missing: " << msg;
}

// auto takes CUDA where it runs and falls back to another backend where not.
TEST(CudaAvailability, AutoRunsWithOrWithoutCuda)
{
    const bool have = ensol_test::backend_unavailable("cuda").empty();
    Config c;
    configure(c, {"lorenz63", "rk4", "double"}, "auto", 0, 0.01, 10, 10);
    std::vector<double> out;
    ens_run_info info;
    ASSERT_TRUE(run_with_outcomes(c, out, nullptr, &info));
    if (have) {
        EXPECT_STREQ(info.backend, "cuda");
    } else {
        EXPECT_STRNE(info.backend, "cuda");
    }
}

// `members` members of case k, strict, on OpenMP and on CUDA, keeping
// every saved time and then the final state only: the same bits.
void expect_final_and_trajectory_as_openmp(const Case &k, long long members, double dt,
                                           long long steps, long long save_every)
{
    for (const char *mode : {"final", "trajectory"}) {
        SCOPED_TRACE(mode);
        Config omp, gpu;
        configure(omp, k, "openmp", 1, dt, steps, save_every);
        configure(gpu, k, "cuda", 1, dt, steps, save_every);
        for (ens_config *c : {(ens_config *)omp, (ens_config *)gpu}) {
            ENS_OK_OR_FAIL(c, ens_config_set_members(c, members));
            ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, mode));
        }
        std::vector<double> a, b;
        ASSERT_TRUE(run_with_outcomes(omp, a));
        ASSERT_TRUE(run_with_outcomes(gpu, b));
        EXPECT_TRUE(same_bits(a, b)) << "first difference at " << first_difference(a, b);
    }
}

// ---- Lorenz-96 at and beyond the largest size ------------------------------

// Lorenz-96 at the kernels' largest size (ENS_CUDA_MAX_VARS in cuda_kernels.h),
// sized at run time like the smaller ones of test_backend_conformance.cpp.
TEST(CudaStrict, Lorenz96LargestSizeBitForBit)
{
    SKIP_WITHOUT_CUDA();
    for (const char *integrator : {"euler", "rk4", "dopri5"}) {
        SCOPED_TRACE(integrator);
        ensol_test::expect_same_bits_as_openmp("cuda", {"lorenz96", integrator, "double"}, 0.005,
                                               200, 50, 256);
    }
}

// Lorenz-96 beyond the kernels' largest size: a clear refusal.
TEST(CudaStrict, Lorenz96BeyondTheLargestSizeIsRefusedClearly)
{
    SKIP_WITHOUT_CUDA();
    Config c;
    configure(c, {"lorenz96", "rk4", "double"}, "cuda", 0, 0.01, 10, 10, 300);
    std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 300));
    EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr), ENS_ERR_BACKEND_UNAVAILABLE);
    const std::string msg = ens_config_last_error(c);
    EXPECT_NE(msg.find("openmp"), std::string::npos) << msg;
}

// ---- Lorenz-96 on groups of lanes (ENSOL_CUDA_LANE_KERNEL)
// --------------------

// ENSOL_CUDA_LANE_KERNEL for a scope (nullptr: unset), restored after; the
// backend reads it at each create.
class LaneKernelEnv {
  public:
    explicit LaneKernelEnv(const char *value)
    {
        const char *old = std::getenv(kVar);
        had_ = old != nullptr;
        if (had_)
            old_ = old;
        if (value)
            setenv(kVar, value, 1);
        else
            unsetenv(kVar);
    }
    ~LaneKernelEnv()
    {
        if (had_)
            setenv(kVar, old_.c_str(), 1);
        else
            unsetenv(kVar);
    }
    LaneKernelEnv(const LaneKernelEnv &) = delete;
    LaneKernelEnv &operator=(const LaneKernelEnv &) = delete;

  private:
    static constexpr const char *kVar = "ENSOL_CUDA_LANE_KERNEL";
    bool had_ = false;
    std::string old_;
};

// A choice of the variable and how the device description names it.
struct LanesKind {
    const char *choice;
    const char *name;
};

const LanesKind lanes_kinds[] = {{"warp", "lane kernel warp-per-member"},
                                 {"warp16", "lane kernel 16-lanes-per-member"},
                                 {"warp8", "lane kernel 8-lanes-per-member"}};

void PrintTo(const LanesKind &k, std::ostream *os) { *os << k.choice; }

std::string lanes_name(const ::testing::TestParamInfo<LanesKind> &info)
{
    return info.param.choice;
}

// K = 40 (compiled with its size), 36 and 100 (not multiples of the group:
// sizes at run time, the last lane part-filled).
const int lanes_sizes[] = {40, 36, 100};

class L96Lanes : public ::testing::TestWithParam<LanesKind> {};

// Every component goes through the same functions on a group of lanes as
// on one thread: with strict fp the same bits as OpenMP.
TEST_P(L96Lanes, StrictEqualsOpenMpBitForBit)
{
    SKIP_WITHOUT_CUDA();
    const LanesKind kind = GetParam();
    const LaneKernelEnv env(kind.choice);
    for (int K : lanes_sizes)
        for (const char *integrator : {"euler", "rk4"})
            for (const char *precision : {"float", "double"}) {
                SCOPED_TRACE("K = " + std::to_string(K) + " " + integrator + " " + precision);
                ens_run_info info;
                std::memset(&info, 0, sizeof info);
                ensol_test::expect_same_bits_as_openmp("cuda", {"lorenz96", integrator, precision},
                                                       0.005, 500, 50, K, nullptr, &info);
                EXPECT_NE(std::string(info.device).find(kind.name), std::string::npos)
                    << info.device;
            }
}

// Default options: both kernels contract multiply-adds, not necessarily
// the same ones; they agree within the tolerance of CUDA against OpenMP.
TEST_P(L96Lanes, DefaultAgreesWithThreadPerMember)
{
    SKIP_WITHOUT_CUDA();
    const LanesKind kind = GetParam();
    for (int K : lanes_sizes)
        for (const char *integrator : {"euler", "rk4"})
            for (const char *precision : {"float", "double"}) {
                const Case k = {"lorenz96", integrator, precision};
                Config thread, lanes;
                configure(thread, k, "cuda", 0, 0.01, 100, 10, K);
                configure(lanes, k, "cuda", 0, 0.01, 100, 10, K);
                std::vector<double> a, b;
                {
                    const LaneKernelEnv env("thread");
                    ASSERT_TRUE(run_with_outcomes(thread, a));
                }
                {
                    const LaneKernelEnv env(kind.choice);
                    ASSERT_TRUE(run_with_outcomes(lanes, b));
                }
                ASSERT_EQ(a.size(), b.size());
                const double worst = ensol_test::largest_difference(a, b).worst;
                const double tol = ensol_test::default_tolerance(k, a, 100, 0.01);
                EXPECT_LE(worst, tol) << "K = " << K << " " << integrator << " " << precision;
                std::printf("[ cuda     ] L96 K = %d %s %s, %s against thread-per-member: "
                            "largest difference %.2e, tolerance %.2e\n",
                            K, integrator, precision, kind.choice, worst, tol);
            }
}

INSTANTIATE_TEST_SUITE_P(CUDA, L96Lanes, ::testing::ValuesIn(lanes_kinds), lanes_name);

// Unset, the variable leaves a thread per member; the description names
// the kernel only for Lorenz-96 with fixed steps.
TEST(CudaLaneKernel, DefaultIsThreadPerMember)
{
    SKIP_WITHOUT_CUDA();
    const LaneKernelEnv env(nullptr);
    const Case cases[] = {{"lorenz96", "rk4", "double"},
                          {"lorenz96", "dopri5", "double"},
                          {"lorenz63", "rk4", "double"}};
    for (const Case &k : cases) {
        Config c;
        configure(c, k, "cuda", 0, 0.01, 20, 10);
        std::vector<double> out;
        ens_run_info info;
        ASSERT_TRUE(run_with_outcomes(c, out, nullptr, &info));
        const bool named =
            std::string(info.device).find("lane kernel thread-per-member") != std::string::npos;
        EXPECT_EQ(named, is(k.model, "lorenz96") && !is(k.integrator, "dopri5"))
            << k.model << " " << k.integrator << ": " << info.device;
    }
}

// Anything else is refused, naming the variable and its value.
TEST(CudaLaneKernel, UnknownChoiceIsRefusedNamingTheVariable)
{
    SKIP_WITHOUT_CUDA();
    const LaneKernelEnv env("block");
    Config c;
    configure(c, {"lorenz96", "rk4", "double"}, "cuda", 0, 0.01, 10, 10);
    std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 40));
    EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr), ENS_ERR_INVALID_ARGUMENT);
    const std::string msg = ens_config_last_error(c);
    EXPECT_NE(msg.find("ENSOL_CUDA_LANE_KERNEL=block"), std::string::npos) << msg;
}

// Enough members for several chunks on two streams (a wave is 32 times
// fewer members with a warp each), the last warp part-filled: the same
// bits as OpenMP, with saves and with the final state only.
TEST(CudaLaneKernel, WarpPerMemberChunksBitForBit)
{
    SKIP_WITHOUT_CUDA();
    const LaneKernelEnv env("warp");
    expect_final_and_trajectory_as_openmp({"lorenz96", "rk4", "double"}, 50003, 0.005, 100, 50);
}

// ---- devices, batches, chunks
// ----------------------------------------------------

void small_run(ens_config *c, const char *device)
{
    configure(c, {"lorenz63", "rk4", "float"}, "cuda", 0, 0.01, 50, 10);
    ENS_OK_OR_FAIL(c, ens_config_set_device(c, device));
}

TEST(CudaDevice, SelectedByIndexAndByName)
{
    SKIP_WITHOUT_CUDA();
    Config by_default, by_index;
    small_run(by_default, "");
    small_run(by_index, "0");
    std::vector<double> a, b, c;
    ens_run_info first, second, third;
    ASSERT_TRUE(run_with_outcomes(by_default, a, nullptr, &first));
    ASSERT_TRUE(run_with_outcomes(by_index, b, nullptr, &second));
    EXPECT_STREQ(second.backend, "cuda");
    EXPECT_EQ(std::string(first.device), std::string(second.device));
    EXPECT_TRUE(same_bits(a, b));
    // describe(): "NAME (device 0, N SMs, cc M.m)": part of the name, in
    // the other case
    const std::string device = second.device;
    const size_t paren = device.find(" (device ");
    ASSERT_NE(paren, std::string::npos) << device;
    const std::string part = ensol_test::swap_case(device.substr(0, std::min<size_t>(6, paren)));
    Config by_name;
    small_run(by_name, part.c_str());
    ASSERT_TRUE(run_with_outcomes(by_name, c, nullptr, &third));
    EXPECT_NE(std::string(third.device).find(device.substr(0, paren)), std::string::npos);
}

// A list that names a device twice is refused like an unknown device
// (test_backend_conformance.cpp): unavailable, with the device list.
TEST(CudaDevice, ListNamingADeviceTwiceIsUnavailableWithTheDeviceList)
{
    SKIP_WITHOUT_CUDA();
    Config c;
    small_run(c, "0,0");
    std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 3));
    EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr), ENS_ERR_BACKEND_UNAVAILABLE);
    const std::string msg = ens_config_last_error(c);
    EXPECT_NE(msg.find("0,0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[0]"), std::string::npos) << "no device list in: " << msg;
}

// Members split across every GPU give the same bits as one GPU: a
// member's result does not depend on where it runs (identical GPUs).
TEST(CudaDevice, AllGpusGiveTheSameBitsAsOne)
{
    SKIP_WITHOUT_CUDA();
    const int n = cuda_devices();
    if (n < 2)
        GTEST_SKIP() << "CUDA: " << n << " device; several GPUs are needed";
    for (const Case &k : {Case{"lorenz63", "rk4", "double"}, Case{"lorenz96", "dopri5", "float"}}) {
        Config one, all, list;
        configure(one, k, "cuda", 0, 0.005, 200, 20);
        configure(all, k, "cuda", 0, 0.005, 200, 20);
        configure(list, k, "cuda", 0, 0.005, 200, 20);
        ENS_OK_OR_FAIL(one, ens_config_set_device(one, "0"));
        ENS_OK_OR_FAIL(all, ens_config_set_device(all, "all"));
        ENS_OK_OR_FAIL(list, ens_config_set_device(list, "1,0"));
        std::vector<double> a, b, c;
        MemberOutcomes ma, mb;
        ens_run_info info;
        ASSERT_TRUE(run_with_outcomes(one, a, &ma));
        ASSERT_TRUE(run_with_outcomes(all, b, &mb, &info));
        ASSERT_TRUE(run_with_outcomes(list, c));
        EXPECT_NE(std::string(info.device).find(std::to_string(n) + " GPUs"), std::string::npos)
            << info.device;
        EXPECT_TRUE(same_bits(a, b))
            << k.model << ": first difference at " << first_difference(a, b);
        EXPECT_TRUE(same_bits(a, c))
            << k.model << ": first difference at " << first_difference(a, c);
        EXPECT_TRUE(ma.accepted == mb.accepted);
    }
}

// A batch of several waves of threads is cut into chunks on two streams,
// and with the final state only the copies wait for download(): the same
// bits as the CPU in strict mode, both with saves at every interval and
// with the final state only (several intervals of 1000 steps).
TEST(CudaBatching, ChunksOnTwoStreamsBitForBit)
{
    SKIP_WITHOUT_CUDA();
    expect_final_and_trajectory_as_openmp({"lorenz63", "euler", "float"}, 1000003, 0.002, 2500,
                                          500);
}

} // namespace
