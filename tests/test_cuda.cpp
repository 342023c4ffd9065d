// The CUDA backend against the OpenMP backend, through the public API:
// bit-for-bit agreement with strict floating point (nvcc --fmad=false),
// agreement to a stated tolerance with default options, every model x
// integrator x precision; several GPUs against one; device selection,
// batching, chunking across streams; Lorenz-96 on groups of lanes
// (ENSOL_CUDA_L96_KERNEL) against OpenMP and against a thread per member.
//
// Every test that needs a GPU skips, with the probe's reason ("CUDA: no
// CUDA device (...)"), where the CUDA backend cannot run: not built in, no
// driver, no device. The tests marked "runs everywhere" check what a
// machine without a GPU must do: a clear error for --backend cuda, and
// `auto` falling back to another backend.
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <sstream>
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

using ensol_test::Config;

using ensol_test::Case;
using ensol_test::case_name;

const Case all_cases[] = {
    {"lorenz63", "euler", "float"},  {"lorenz63", "euler", "double"},
    {"lorenz63", "rk4", "float"},    {"lorenz63", "rk4", "double"},
    {"lorenz63", "dopri5", "float"}, {"lorenz63", "dopri5", "double"},
    {"lorenz96", "euler", "float"},  {"lorenz96", "euler", "double"},
    {"lorenz96", "rk4", "float"},    {"lorenz96", "rk4", "double"},
    {"lorenz96", "dopri5", "float"}, {"lorenz96", "dopri5", "double"},
};

// An odd member count: not a multiple of any block size.
constexpr long long kMembers = 1001;

bool is(const char *a, const char *b) { return std::strcmp(a, b) == 0; }

// dopri5's tolerances: tight enough to reject steps, within reach in float.
double rtol_of(const Case &k) { return is(k.precision, "float") ? 1e-5 : 1e-9; }

void configure(ens_config *c, const Case &k, const char *backend, int strict, double dt,
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

// Each member's outcome, for dopri5's counters.
struct Members {
    std::vector<int> status;
    std::vector<long long> accepted, rejected;
    std::vector<double> failure_time;
};

// Run into memory with each member's outcome; no member may fail.
::testing::AssertionResult run(ens_config *cfg, std::vector<double> &out, Members *m = nullptr,
                               ens_run_info *info_out = nullptr)
{
    const long long members = ens_config_members(cfg);
    out.assign((size_t)(members * ens_config_saved_times(cfg) * ens_config_nvars(cfg)),
               std::nan(""));
    Members local;
    Members &mm = m ? *m : local;
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
    if (st != ENS_OK)
        return ::testing::AssertionFailure() << "ens_run_to_memory_ex: " << ens_status_string(st)
                                             << ": " << ens_config_last_error(cfg);
    if (info.members_failed != 0)
        return ::testing::AssertionFailure() << info.members_failed << " members failed";
    return ::testing::AssertionSuccess();
}

using ensol_test::first_difference;
using ensol_test::same_bits;

// ---- without a GPU (runs everywhere) ----------------------------------------

// The probe answers either way: devices with their properties, or why not.
TEST(CudaAvailability, ProbeListsDevicesOrSaysWhyNot)
{
    char detail[8192] = "";
    const ens_status st = ens_backend_probe("cuda", detail, sizeof detail);
    std::printf("[ cuda     ] probe: %s: %s\n", st == ENS_OK ? "available" : "unavailable",
                detail);
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
    ASSERT_TRUE(run(c, out, nullptr, &info));
    if (have) {
        EXPECT_STREQ(info.backend, "cuda");
    } else {
        EXPECT_STRNE(info.backend, "cuda");
    }
}

// The default-options tolerance below, checked where it can be without a
// GPU: the CPU backend's own contracted and strict runs differ by fused
// multiply-adds just as CUDA and the CPU do, and must agree within it.
double default_tolerance(const Case &k, const std::vector<double> &a, long long steps, double dt);

class ToleranceModel : public ::testing::TestWithParam<Case> {};

TEST_P(ToleranceModel, HoldsForTheCpusContractedAgainstStrictRuns)
{
    const Case k = GetParam();
    Config contract, strict;
    configure(contract, k, "openmp", 0, 0.01, 100, 10);
    configure(strict, k, "openmp", 1, 0.01, 100, 10);
    std::vector<double> a, b;
    ASSERT_TRUE(run(strict, a));
    ASSERT_TRUE(run(contract, b));
    double worst = 0.0;
    for (size_t i = 0; i < a.size(); i++)
        worst = std::max(worst, std::fabs(a[i] - b[i]));
    EXPECT_LE(worst, default_tolerance(k, a, 100, 0.01));
    std::printf("[ cuda     ] tolerance model %s %s %s: CPU contracted vs strict %.2e, "
                "tolerance %.2e\n",
                k.model, k.integrator, k.precision, worst, default_tolerance(k, a, 100, 0.01));
}

INSTANTIATE_TEST_SUITE_P(CUDA, ToleranceModel, ::testing::ValuesIn(all_cases), case_name);

// ---- strict floating point: bit for bit --------------------------------------

class Strict : public ::testing::TestWithParam<Case> {};

// With multiply-add contraction off on both sides (nvcc --fmad=false, gcc
// -ffp-contract=off) and correctly rounded division, every operation
// rounds the same way, so whole trajectories agree to the bit: 500 steps
// of dt = 0.005, saved every 50; for dopri5 also every member's accepted
// and rejected steps.
TEST_P(Strict, CudaEqualsOpenMpBitForBit)
{
    SKIP_WITHOUT_CUDA();
    const Case k = GetParam();
    Config omp, gpu;
    configure(omp, k, "openmp", 1, 0.005, 500, 50);
    configure(gpu, k, "cuda", 1, 0.005, 500, 50);
    std::vector<double> a, b;
    Members ma, mb;
    ens_run_info info;
    ASSERT_TRUE(run(omp, a, &ma));
    ASSERT_TRUE(run(gpu, b, &mb, &info));
    EXPECT_STREQ(info.backend, "cuda");
    EXPECT_TRUE(same_bits(a, b)) << "first difference at " << first_difference(a, b);
    if (is(k.integrator, "dopri5")) {
        EXPECT_TRUE(ma.accepted == mb.accepted);
        EXPECT_TRUE(ma.rejected == mb.rejected);
        EXPECT_TRUE(ma.status == mb.status);
    }
}

INSTANTIATE_TEST_SUITE_P(CUDA, Strict, ::testing::ValuesIn(all_cases), case_name);

// Lorenz-96 sizes other than 40 run kernels sized at run time.
TEST(CudaStrict, Lorenz96OtherSizesBitForBit)
{
    SKIP_WITHOUT_CUDA();
    for (int K : {5, 64, 100, 256})
        for (const char *integrator : {"euler", "rk4", "dopri5"}) {
            const Case k = {"lorenz96", integrator, "double"};
            Config omp, gpu;
            configure(omp, k, "openmp", 1, 0.005, 200, 50, K);
            configure(gpu, k, "cuda", 1, 0.005, 200, 50, K);
            std::vector<double> a, b;
            ASSERT_TRUE(run(omp, a)) << "K = " << K << " " << integrator;
            ASSERT_TRUE(run(gpu, b)) << "K = " << K << " " << integrator;
            EXPECT_TRUE(same_bits(a, b)) << "K = " << K << " " << integrator
                                         << ": first difference at " << first_difference(a, b);
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

// ---- default options: a tolerance over a short horizon -------------------------

// Without strict fp nvcc and gcc fuse different multiply-adds, so each step
// may round differently by a few ulp, and the chaotic models grow a
// difference like exp(lambda t) (lambda ~ 0.91 for Lorenz-63, ~ 1.7 for
// Lorenz-96 with K = 40): over T = 1 (100 steps of 0.01) n steps of
// rounding differences of relative size eps grow to at most about
// eps n exp(lambda T) max|x|; the test allows 100 times that
// (tests/test_opencl.cpp). dopri5 may moreover accept a step on one
// backend that it rejects on the other: its results then differ by about
// the local error the tolerance rtol admits, grown the same way; allowed:
// 100 rtol exp(lambda T) max|x|. A wrong formula differs by O(1).
double default_tolerance(const Case &k, const std::vector<double> &a, long long steps, double dt)
{
    const double lambda = is(k.model, "lorenz63") ? 0.91 : 1.7;
    const double eps = is(k.precision, "float") ? 0x1p-24 : 0x1p-53;
    double scale = 0.0;
    for (double v : a)
        scale = std::max(scale, std::fabs(v));
    const double growth = std::exp(lambda * (double)steps * dt) * scale;
    const double rounding = 100.0 * eps * (double)steps * growth;
    return is(k.integrator, "dopri5") ? std::max(rounding, 100.0 * rtol_of(k) * growth)
                                      : rounding;
}

class Default : public ::testing::TestWithParam<Case> {};

TEST_P(Default, CudaAgreesWithOpenMpOverOneTimeUnit)
{
    SKIP_WITHOUT_CUDA();
    const Case k = GetParam();
    Config omp, gpu;
    configure(omp, k, "openmp", 0, 0.01, 100, 10);
    configure(gpu, k, "cuda", 0, 0.01, 100, 10);
    std::vector<double> a, b;
    ASSERT_TRUE(run(omp, a));
    ASSERT_TRUE(run(gpu, b));
    ASSERT_EQ(a.size(), b.size());
    double worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < a.size(); i++)
        if (std::fabs(a[i] - b[i]) > worst) {
            worst = std::fabs(a[i] - b[i]);
            worst_at = i;
        }
    const double tol = default_tolerance(k, a, 100, 0.01);
    EXPECT_LE(worst, tol) << "at value " << worst_at << ": " << a[worst_at] << " vs "
                          << b[worst_at];
    std::printf("[ cuda     ] %s %s %s: largest difference to openmp %.2e, tolerance %.2e\n",
                k.model, k.integrator, k.precision, worst, tol);
}

INSTANTIATE_TEST_SUITE_P(CUDA, Default, ::testing::ValuesIn(all_cases), case_name);

// ---- Lorenz-96 on groups of lanes (ENSOL_CUDA_L96_KERNEL) --------------------

// ENSOL_CUDA_L96_KERNEL for a scope (nullptr: unset), restored after; the
// backend reads it at each create.
class L96KernelEnv {
  public:
    explicit L96KernelEnv(const char *value)
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
    ~L96KernelEnv()
    {
        if (had_)
            setenv(kVar, old_.c_str(), 1);
        else
            unsetenv(kVar);
    }
    L96KernelEnv(const L96KernelEnv &) = delete;
    L96KernelEnv &operator=(const L96KernelEnv &) = delete;

  private:
    static constexpr const char *kVar = "ENSOL_CUDA_L96_KERNEL";
    bool had_ = false;
    std::string old_;
};

// A choice of the variable and how the device description names it.
struct LanesKind {
    const char *choice;
    const char *name;
};

const LanesKind lanes_kinds[] = {{"warp", "L96 warp-per-member"},
                                 {"warp16", "L96 16-lanes-per-member"},
                                 {"warp8", "L96 8-lanes-per-member"}};

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
    const L96KernelEnv env(kind.choice);
    for (int K : lanes_sizes)
        for (const char *integrator : {"euler", "rk4"})
            for (const char *precision : {"float", "double"}) {
                const Case k = {"lorenz96", integrator, precision};
                Config omp, gpu;
                configure(omp, k, "openmp", 1, 0.005, 500, 50, K);
                configure(gpu, k, "cuda", 1, 0.005, 500, 50, K);
                std::vector<double> a, b;
                ens_run_info info;
                ASSERT_TRUE(run(omp, a)) << "K = " << K << " " << integrator << " " << precision;
                ASSERT_TRUE(run(gpu, b, nullptr, &info))
                    << "K = " << K << " " << integrator << " " << precision;
                EXPECT_NE(std::string(info.device).find(kind.name), std::string::npos)
                    << info.device;
                EXPECT_TRUE(same_bits(a, b)) << "K = " << K << " " << integrator << " "
                                             << precision << ": first difference at "
                                             << first_difference(a, b);
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
                    const L96KernelEnv env("thread");
                    ASSERT_TRUE(run(thread, a));
                }
                {
                    const L96KernelEnv env(kind.choice);
                    ASSERT_TRUE(run(lanes, b));
                }
                ASSERT_EQ(a.size(), b.size());
                double worst = 0.0;
                for (size_t i = 0; i < a.size(); i++)
                    worst = std::max(worst, std::fabs(a[i] - b[i]));
                const double tol = default_tolerance(k, a, 100, 0.01);
                EXPECT_LE(worst, tol) << "K = " << K << " " << integrator << " " << precision;
                std::printf("[ cuda     ] L96 K = %d %s %s, %s against thread-per-member: "
                            "largest difference %.2e, tolerance %.2e\n",
                            K, integrator, precision, kind.choice, worst, tol);
            }
}

INSTANTIATE_TEST_SUITE_P(CUDA, L96Lanes, ::testing::ValuesIn(lanes_kinds), lanes_name);

// Unset, the variable leaves a thread per member; the description names
// the kernel only for Lorenz-96 with fixed steps.
TEST(CudaL96Kernel, DefaultIsThreadPerMember)
{
    SKIP_WITHOUT_CUDA();
    const L96KernelEnv env(nullptr);
    const Case cases[] = {{"lorenz96", "rk4", "double"}, {"lorenz96", "dopri5", "double"},
                          {"lorenz63", "rk4", "double"}};
    for (const Case &k : cases) {
        Config c;
        configure(c, k, "cuda", 0, 0.01, 20, 10);
        std::vector<double> out;
        ens_run_info info;
        ASSERT_TRUE(run(c, out, nullptr, &info));
        const bool named = std::string(info.device).find("L96 thread-per-member") !=
                           std::string::npos;
        EXPECT_EQ(named, is(k.model, "lorenz96") && !is(k.integrator, "dopri5"))
            << k.model << " " << k.integrator << ": " << info.device;
    }
}

// Anything else is refused, naming the variable and its value.
TEST(CudaL96Kernel, UnknownChoiceIsRefusedNamingTheVariable)
{
    SKIP_WITHOUT_CUDA();
    const L96KernelEnv env("block");
    Config c;
    configure(c, {"lorenz96", "rk4", "double"}, "cuda", 0, 0.01, 10, 10);
    std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 40));
    EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr), ENS_ERR_INVALID_ARGUMENT);
    const std::string msg = ens_config_last_error(c);
    EXPECT_NE(msg.find("ENSOL_CUDA_L96_KERNEL=block"), std::string::npos) << msg;
}

// Enough members for several chunks on two streams (a wave is 32 times
// fewer members with a warp each), the last warp part-filled: the same
// bits as OpenMP, with saves and with the final state only.
TEST(CudaL96Kernel, WarpPerMemberChunksBitForBit)
{
    SKIP_WITHOUT_CUDA();
    const L96KernelEnv env("warp");
    for (const char *mode : {"final", "trajectory"}) {
        Config omp, gpu;
        const Case k = {"lorenz96", "rk4", "double"};
        for (ens_config *c : {(ens_config *)omp, (ens_config *)gpu}) {
            configure(c, k, c == (ens_config *)omp ? "openmp" : "cuda", 1, 0.005, 100, 50);
            ENS_OK_OR_FAIL(c, ens_config_set_members(c, 50003));
            ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, mode));
        }
        std::vector<double> a, b;
        ASSERT_TRUE(run(omp, a));
        ASSERT_TRUE(run(gpu, b));
        EXPECT_TRUE(same_bits(a, b)) << mode << ": first difference at " << first_difference(a, b);
    }
}

// ---- devices, batches, chunks ----------------------------------------------------

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
    ASSERT_TRUE(run(by_default, a, nullptr, &first));
    ASSERT_TRUE(run(by_index, b, nullptr, &second));
    EXPECT_STREQ(second.backend, "cuda");
    EXPECT_EQ(std::string(first.device), std::string(second.device));
    EXPECT_TRUE(same_bits(a, b));
    // describe(): "NAME (device 0, N SMs, cc M.m)": part of the name, in
    // the other case
    const std::string device = second.device;
    const size_t paren = device.find(" (device ");
    ASSERT_NE(paren, std::string::npos) << device;
    std::string part = device.substr(0, std::min<size_t>(6, paren));
    for (char &ch : part)
        ch = (char)(std::isupper((unsigned char)ch) ? std::tolower((unsigned char)ch)
                                                    : std::toupper((unsigned char)ch));
    Config by_name;
    small_run(by_name, part.c_str());
    ASSERT_TRUE(run(by_name, c, nullptr, &third));
    EXPECT_NE(std::string(third.device).find(device.substr(0, paren)), std::string::npos);
}

TEST(CudaDevice, UnknownNameOrIndexIsUnavailableWithTheDeviceList)
{
    SKIP_WITHOUT_CUDA();
    for (const char *request : {"no-such-device-xyz", "9999", "0,0"}) {
        Config c;
        small_run(c, request);
        std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 3));
        EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr),
                  ENS_ERR_BACKEND_UNAVAILABLE);
        const std::string msg = ens_config_last_error(c);
        EXPECT_NE(msg.find(request), std::string::npos) << msg;
        EXPECT_NE(msg.find("[0]"), std::string::npos) << "no device list in: " << msg;
    }
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
        Members ma, mb;
        ens_run_info info;
        ASSERT_TRUE(run(one, a, &ma));
        ASSERT_TRUE(run(all, b, &mb, &info));
        ASSERT_TRUE(run(list, c));
        EXPECT_NE(std::string(info.device).find(std::to_string(n) + " GPUs"), std::string::npos)
            << info.device;
        EXPECT_TRUE(same_bits(a, b)) << k.model << ": first difference at "
                                     << first_difference(a, b);
        EXPECT_TRUE(same_bits(a, c)) << k.model << ": first difference at "
                                     << first_difference(a, c);
        EXPECT_TRUE(ma.accepted == mb.accepted);
    }
}

// Batches of 100 (the last one a single member) give the same bits as one
// batch.
TEST(CudaBatching, SameBitsForAnyBatchSize)
{
    SKIP_WITHOUT_CUDA();
    for (const Case &k : {Case{"lorenz63", "rk4", "double"}, Case{"lorenz96", "euler", "float"},
                          Case{"lorenz63", "dopri5", "double"}}) {
        Config whole, batched;
        configure(whole, k, "cuda", 0, 0.005, 200, 20);
        configure(batched, k, "cuda", 0, 0.005, 200, 20);
        ENS_OK_OR_FAIL(batched, ens_config_set_batch_members(batched, 100));
        std::vector<double> a, b;
        ens_run_info info;
        ASSERT_TRUE(run(whole, a));
        ASSERT_TRUE(run(batched, b, nullptr, &info));
        EXPECT_EQ(info.batches, 11);
        EXPECT_TRUE(same_bits(a, b)) << k.model << " " << k.precision << ": first difference at "
                                     << first_difference(a, b);
    }
}

// A batch of several waves of threads is cut into chunks on two streams,
// and with the final state only the copies wait for download(): the same
// bits as the CPU in strict mode, both with saves at every interval and
// with the final state only (several intervals of 1000 steps).
TEST(CudaBatching, ChunksOnTwoStreamsBitForBit)
{
    SKIP_WITHOUT_CUDA();
    for (const char *mode : {"final", "trajectory"}) {
        Config omp, gpu;
        const Case k = {"lorenz63", "euler", "float"};
        for (ens_config *c : {(ens_config *)omp, (ens_config *)gpu}) {
            configure(c, k, c == (ens_config *)omp ? "openmp" : "cuda", 1, 0.002, 2500, 500);
            ENS_OK_OR_FAIL(c, ens_config_set_members(c, 1000003));
            ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, mode));
        }
        std::vector<double> a, b;
        ASSERT_TRUE(run(omp, a));
        ASSERT_TRUE(run(gpu, b));
        EXPECT_TRUE(same_bits(a, b)) << mode << ": first difference at " << first_difference(a, b);
    }
}

} // namespace
