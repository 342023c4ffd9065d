// The OpenCL backend against the OpenMP backend, through the public API:
// bit-for-bit agreement with strict floating point, agreement to a stated
// tolerance with default options, device selection, batching.
//
// Every test skips, with the reason, where the OpenCL backend cannot run
// (not built in, no platform, no device).
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <netcdf.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

#define SKIP_WITHOUT_OPENCL() ENS_SKIP_WITHOUT_BACKEND("opencl", "OpenCL")

using ensol_test::Config;
using ensol_test::run_cfg;

using ensol_test::Case;
using ensol_test::case_name;

const Case all_cases[] = {
    {"lorenz63", "euler", "float"}, {"lorenz63", "euler", "double"},
    {"lorenz63", "rk4", "float"},   {"lorenz63", "rk4", "double"},
    {"lorenz96", "euler", "float"}, {"lorenz96", "euler", "double"},
    {"lorenz96", "rk4", "float"},   {"lorenz96", "rk4", "double"},
};

// An odd member count: not a multiple of any work-group or vector width,
// so the last work-item's partial vector is exercised.
constexpr long long kMembers = 1001;

void configure(ens_config *c, const Case &k, const char *backend, int strict, double dt,
               long long steps, long long save_every)
{
    ENS_OK_OR_FAIL(c, ens_config_set_model(c, k.model));
    if (std::strcmp(k.model, "lorenz96") == 0) {
        ENS_OK_OR_FAIL(c, ens_config_set_param(c, "K", 40));
    }
    ENS_OK_OR_FAIL(c, ens_config_set_integrator(c, k.integrator));
    ENS_OK_OR_FAIL(c, ens_config_set_precision(c, k.precision));
    ENS_OK_OR_FAIL(c, ens_config_set_members(c, kMembers));
    ENS_OK_OR_FAIL(c, ens_config_set_dt(c, dt));
    ENS_OK_OR_FAIL(c, ens_config_set_steps(c, steps));
    ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "trajectory"));
    ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, save_every));
    ENS_OK_OR_FAIL(c, ens_config_set_backend(c, backend));
    ENS_OK_OR_FAIL(c, ens_config_set_strict_fp(c, strict));
}

using ensol_test::first_difference;
using ensol_test::same_bits;

std::string lower(std::string s)
{
    for (char &ch : s)
        ch = (char)std::tolower((unsigned char)ch);
    return s;
}

// ---- strict floating point: bit for bit --------------------------------------

class Strict : public ::testing::TestWithParam<Case> {};

// With contraction of multiply-adds off on both sides and correctly rounded
// division, every operation rounds the same way on both backends, so whole
// trajectories agree to the bit however long they are: 500 steps of
// dt = 0.005 (2.5 time units; explicit Euler on Lorenz-96 blows up within
// 500 steps of dt = 0.01), saved every 50 steps.
TEST_P(Strict, OpenClEqualsOpenMpBitForBit)
{
    SKIP_WITHOUT_OPENCL();
    const Case k = GetParam();
    Config omp, ocl;
    configure(omp, k, "openmp", 1, 0.005, 500, 50);
    configure(ocl, k, "opencl", 1, 0.005, 500, 50);
    std::vector<double> a, b;
    ASSERT_TRUE(run_cfg(omp, a));
    ens_run_info info;
    ASSERT_TRUE(run_cfg(ocl, b, &info));
    EXPECT_STREQ(info.backend, "opencl");
    EXPECT_TRUE(same_bits(a, b)) << "first difference at " << first_difference(a, b);
}

INSTANTIATE_TEST_SUITE_P(OpenCL, Strict, ::testing::ValuesIn(all_cases), case_name);

// ---- default options: a tolerance over a short horizon -------------------------

class Default : public ::testing::TestWithParam<Case> {};

// Without strict fp the two compilers may fuse different multiply-adds, so
// each step may round differently by a few ulp. The models are chaotic:
// a difference grows like exp(lambda t), with largest Lyapunov exponents
// lambda ~ 0.91 (Lorenz-63) and ~ 1.7 (Lorenz-96, K = 40, F = 8) per time
// unit. Over a horizon of T = 1 (100 steps of 0.01), n steps of rounding
// differences of relative size eps grow to at most about
//     eps * n * exp(lambda T) * max|x|,
// about 1e-12 in double and 5e-3 in float; the test allows 100 times that,
// for the several operations per step and for local growth faster than the
// mean. (Measured on PoCL: 2e-14 in double and 8e-6 in float; the CPU's own
// contracted and strict runs differ by up to 4e-12 and 2e-3.) A mistake in
// the maths differs by O(1) within this horizon; much longer horizons would
// need tolerances as large as the attractor.
TEST_P(Default, OpenClAgreesWithOpenMpOverOneTimeUnit)
{
    SKIP_WITHOUT_OPENCL();
    const Case k = GetParam();
    const long long steps = 100;
    const double dt = 0.01;
    const double lambda = std::strcmp(k.model, "lorenz63") == 0 ? 0.91 : 1.7;
    const double eps = std::strcmp(k.precision, "float") == 0 ? 0x1p-24 : 0x1p-53;
    Config omp, ocl;
    configure(omp, k, "openmp", 0, dt, steps, 10);
    configure(ocl, k, "opencl", 0, dt, steps, 10);
    std::vector<double> a, b;
    ASSERT_TRUE(run_cfg(omp, a));
    ASSERT_TRUE(run_cfg(ocl, b));
    ASSERT_EQ(a.size(), b.size());
    double scale = 0.0, worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < a.size(); i++) {
        scale = std::max(scale, std::fabs(a[i]));
        if (std::fabs(a[i] - b[i]) > worst) {
            worst = std::fabs(a[i] - b[i]);
            worst_at = i;
        }
    }
    const double tol = 100.0 * eps * (double)steps * std::exp(lambda * (double)steps * dt) * scale;
    EXPECT_LE(worst, tol) << "at value " << worst_at << ": " << a[worst_at] << " vs "
                          << b[worst_at] << " (max |x| " << scale << ")";
}

INSTANTIATE_TEST_SUITE_P(OpenCL, Default, ::testing::ValuesIn(all_cases), case_name);

// ---- devices ------------------------------------------------------------------

void small_run(ens_config *c, const char *device)
{
    const Case k = {"lorenz63", "rk4", "float"};
    configure(c, k, "opencl", 0, 0.01, 50, 10);
    ENS_OK_OR_FAIL(c, ens_config_set_device(c, device));
}

TEST(OpenCLDevice, SelectedByIndexAndByNameIgnoringCase)
{
    SKIP_WITHOUT_OPENCL();
    Config by_default, by_index, by_name;
    small_run(by_default, "");
    small_run(by_index, "0");
    std::vector<double> a, b, c;
    ens_run_info first, second, third;
    ASSERT_TRUE(run_cfg(by_default, a, &first));
    ASSERT_TRUE(run_cfg(by_index, b, &second));
    EXPECT_STREQ(second.backend, "opencl");

    // describe() gives "platform / device (N CUs)": pick part of the name
    // of device 0, in the other case.
    const std::string device = second.device;
    const size_t slash = device.find(" / ");
    ASSERT_NE(slash, std::string::npos) << device;
    const size_t paren = device.rfind(" (");
    ASSERT_NE(paren, std::string::npos) << device;
    std::string part = device.substr(slash + 3, std::min<size_t>(6, paren - slash - 3));
    for (char &ch : part)
        ch = (char)(std::isupper((unsigned char)ch) ? std::tolower((unsigned char)ch)
                                                    : std::toupper((unsigned char)ch));
    small_run(by_name, part.c_str());
    ASSERT_TRUE(run_cfg(by_name, c, &third));
    EXPECT_EQ(std::string(third.device), device) << "device request '" << part << "'";

    // The same device runs the same program: identical results.
    if (std::string(first.device) == device) {
        EXPECT_TRUE(same_bits(a, b));
    }
    EXPECT_TRUE(same_bits(b, c));
}

TEST(OpenCLDevice, UnknownNameOrIndexIsUnavailableWithTheDeviceList)
{
    SKIP_WITHOUT_OPENCL();
    for (const char *request : {"no-such-device-xyz", "9999"}) {
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

// `auto` leaves CPU-only OpenCL platforms (PoCL) to the OpenMP backend and
// takes OpenCL for a GPU or an accelerator.
TEST(OpenCLDevice, AutoPrefersOpenClOnlyForGpusAndAccelerators)
{
    SKIP_WITHOUT_OPENCL();
    char detail[8192] = "";
    ASSERT_EQ(ens_backend_probe("opencl", detail, sizeof detail), ENS_OK);
    const std::string d = detail;
    const bool gpu_like = d.find(": GPU,") != std::string::npos ||
                          d.find(": accelerator,") != std::string::npos;
    Config c;
    small_run(c, "");
    ENS_OK_OR_FAIL(c, ens_config_set_backend(c, "auto"));
    std::vector<double> out;
    ens_run_info info;
    ASSERT_TRUE(run_cfg(c, out, &info));
    // A CUDA device, where there is one, comes first in the auto order.
    const bool cuda = ens_backend_probe("cuda", nullptr, 0) == ENS_OK;
    EXPECT_STREQ(info.backend, cuda ? "cuda" : gpu_like ? "opencl" : "openmp") << d;
}

TEST(OpenCLDevice, ProbeListsEveryDeviceWithItsProperties)
{
    SKIP_WITHOUT_OPENCL();
    char detail[8192] = "";
    ASSERT_EQ(ens_backend_probe("opencl", detail, sizeof detail), ENS_OK);
    const std::string d = lower(detail);
    EXPECT_NE(d.find("[0] "), std::string::npos) << detail;
    EXPECT_NE(d.find("compute unit"), std::string::npos) << detail;
    EXPECT_NE(d.find("gib"), std::string::npos) << detail;
    EXPECT_NE(d.find("fp64 "), std::string::npos) << detail;
}

// ---- batching -------------------------------------------------------------------

// Batches of 100 (the last one a single member) give the same bits as one
// batch: a member's result does not depend on its neighbours.
TEST(OpenCLBatching, SameBitsForAnyBatchSize)
{
    SKIP_WITHOUT_OPENCL();
    for (const Case &k : {Case{"lorenz63", "rk4", "double"}, Case{"lorenz96", "euler", "float"}}) {
        Config whole, batched;
        configure(whole, k, "opencl", 0, 0.005, 200, 20);
        configure(batched, k, "opencl", 0, 0.005, 200, 20);
        ENS_OK_OR_FAIL(batched, ens_config_set_batch_members(batched, 100));
        std::vector<double> a, b;
        ens_run_info info;
        ASSERT_TRUE(run_cfg(whole, a));
        ASSERT_TRUE(run_cfg(batched, b, &info));
        EXPECT_EQ(info.batches, 11);
        EXPECT_TRUE(same_bits(a, b)) << k.model << " " << k.precision << ": first difference at "
                                     << first_difference(a, b);
    }
}

// ---- the next interval runs while the host saves the last one -------------------

// The scheduler starts interval k+1 on the device before it saves interval
// k. A run stopped mid-batch must still keep exactly the states it saved:
// strict OpenCL, stopped from the progress callback, against the whole
// strict OpenMP run: complete members bit for bit, the stopped batch up to
// its last saved time, NaN after.
int stop_after(const ens_progress *, void *user)
{
    int *calls_left = static_cast<int *>(user);
    return --*calls_left <= 0;
}

TEST(OpenCLPipeline, StopMidBatchKeepsExactlyTheSavedStates)
{
    SKIP_WITHOUT_OPENCL();
    const Case k = {"lorenz63", "rk4", "double"};
    ensol_test::TempDir dir;
    const std::string out = dir.file("stopped.nc");
    Config whole, stopped;
    configure(whole, k, "openmp", 1, 0.005, 200, 10);
    configure(stopped, k, "opencl", 1, 0.005, 200, 10);
    ENS_OK_OR_FAIL(stopped, ens_config_set_batch_members(stopped, 300));
    ENS_OK_OR_FAIL(stopped, ens_config_set_output_path(stopped, out.c_str()));
    int calls_left = 20 + 7; // 20 intervals per batch: in the second batch
    ENS_OK_OR_FAIL(stopped, ens_config_set_progress(stopped, stop_after, &calls_left));
    std::vector<double> a;
    ASSERT_TRUE(run_cfg(whole, a));
    ASSERT_EQ(ens_run(stopped, nullptr), ENS_ERR_INTERRUPTED);

    int ncid = -1, varid = -1;
    ASSERT_EQ(nc_open((out + ".partial").c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    long long complete = -1, partial = -1;
    double last_time = -1;
    EXPECT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "members_complete", &complete), NC_NOERR);
    EXPECT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "members_partial", &partial), NC_NOERR);
    EXPECT_EQ(nc_get_att_double(ncid, NC_GLOBAL, "last_time_written", &last_time), NC_NOERR);
    EXPECT_EQ(complete, 300);
    EXPECT_EQ(partial, 300);
    const long long T = 21, last = (long long)std::llround(last_time / (10 * 0.005));
    EXPECT_EQ(last, 7); // the seventh interval of the batch, saved at index 7
    std::vector<double> x((size_t)(kMembers * T));
    ASSERT_EQ(nc_inq_varid(ncid, "x", &varid), NC_NOERR);
    ASSERT_EQ(nc_get_var_double(ncid, varid, x.data()), NC_NOERR);
    nc_close(ncid);
    for (long long m = 0; m < complete + partial; m++)
        for (long long t = 0; t < T; t++) {
            const double got = x[(size_t)(m * T + t)], want = a[(size_t)((m * T + t) * 3)];
            if (m < complete || t <= last)
                ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0)
                    << "member " << m << " time " << t << ": " << got << " != " << want;
            else
                ASSERT_TRUE(std::isnan(got)) << "member " << m << " time " << t << ": " << got;
        }
}

// A dopri5 run continued on OpenCL from its restart file (each member's
// step state taken back onto the device) gives the whole run's bits.
TEST(OpenCLRestart, Dopri5GoesOnExactly)
{
    SKIP_WITHOUT_OPENCL();
    for (const char *precision : {"double", "float"}) {
        SCOPED_TRACE(precision);
        ensol_test::TempDir dir;
        const std::string restart = dir.file("restart.nc");
        const Case k = {"lorenz96", "dopri5", precision};
        std::vector<double> whole, second;
        {
            Config cfg;
            configure(cfg, k, "opencl", 0, 0.01, 300, 300);
            ASSERT_TRUE(run_cfg(cfg, whole));
        }
        {
            Config cfg;
            configure(cfg, k, "opencl", 0, 0.01, 120, 120);
            ENS_OK_OR_FAIL(cfg, ens_config_set_restart_path(cfg, restart.c_str()));
            ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(cfg, dir.file("first.nc").c_str()));
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
        }
        {
            Config cfg;
            configure(cfg, k, "opencl", 0, 0.01, 180, 180);
            ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, restart.c_str(), -1));
            ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
            ASSERT_TRUE(run_cfg(cfg, second));
        }
        // Saved every 300 or 120/180 steps: compare the last saved time.
        const size_t per = (size_t)(40 * kMembers);
        ASSERT_EQ(whole.size(), 2 * per);
        ASSERT_EQ(second.size(), 2 * per);
        std::vector<double> a, b;
        for (long long m = 0; m < kMembers; m++)
            for (int v = 0; v < 40; v++) {
                a.push_back(whole[(size_t)((m * 2 + 1) * 40 + v)]);
                b.push_back(second[(size_t)((m * 2 + 1) * 40 + v)]);
            }
        EXPECT_TRUE(same_bits(a, b)) << "first difference at " << first_difference(a, b);
    }
}

} // namespace
