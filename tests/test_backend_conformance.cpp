/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Every backend against the OpenMP backend, through the public API, written
// once and run for each backend ensol knows but OpenMP (OpenCL, CUDA):
// bit-for-bit agreement with strict floating point for every model x
// integrator x precision (dopri5's step decisions included) and for
// Lorenz-96 sizes compiled at run time; agreement to the stated tolerance
// (backend_support.h) with default options; the same bits for any batch
// size; a run stopped mid-batch keeps exactly the saved states; a dopri5
// run continued from its restart file goes on exactly; an unknown device
// is refused with the device list; a model's noise inputs are drawn alike.
//
// The backend is the first part of each test's parameter
// ("Conformance/Strict.EqualsOpenMpBitForBit/opencl_lorenz63_rk4_double").
// Every test skips, with the probe's reason, where its backend cannot run
// here (not built in, no platform, no device). What only one backend has
// is tested in test_opencl.cpp and test_cuda.cpp.
#include "backend_support.h"
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace {

using ensol_test::Case;
using ensol_test::Config;
using ensol_test::configure;
using ensol_test::first_difference;
using ensol_test::is;
using ensol_test::kMembers;
using ensol_test::run_with_outcomes;
using ensol_test::same_bits;

#define SKIP_WITHOUT(backend) ENS_SKIP_WITHOUT_BACKEND(backend, std::string("backend ") + backend)

// A case on one backend: the parameter of the tests run case by case.
struct BackendCase {
    const char *backend;
    Case k;
};

void PrintTo(const BackendCase &p, std::ostream *os)
{
    *os << p.backend << " " << p.k.model << " " << p.k.integrator << " " << p.k.precision;
}

std::string backend_case_name(const ::testing::TestParamInfo<BackendCase> &info)
{
    const Case &k = info.param.k;
    return std::string(info.param.backend) + "_" + k.model + "_" + k.integrator + "_" + k.precision;
}

std::string backend_name(const ::testing::TestParamInfo<const char *> &info) { return info.param; }

// Every compared backend with each of `cases`.
std::vector<BackendCase> on_every_backend(const std::vector<Case> &cases)
{
    std::vector<BackendCase> all;
    for (const char *backend : ensol_test::compared_backends())
        for (const Case &k : cases)
            all.push_back({backend, k});
    return all;
}

std::vector<Case> dopri5_cases()
{
    std::vector<Case> cases;
    for (const Case &k : ensol_test::all_cases())
        if (is(k.integrator, "dopri5"))
            cases.push_back(k);
    return cases;
}

// ---- strict floating point: bit for bit
// --------------------------------------

class Strict : public ::testing::TestWithParam<BackendCase> {};

// With contraction of multiply-adds off on both sides (nvcc --fmad=false,
// OpenCL without -cl-mad-enable, gcc -ffp-contract=off) and correctly
// rounded division, every operation rounds the same way, so whole
// trajectories agree to the bit however long they are: 500 steps of
// dt = 0.005 (2.5 time units; explicit Euler on Lorenz-96 blows up within
// 500 steps of dt = 0.01), saved every 50 steps.
TEST_P(Strict, EqualsOpenMpBitForBit)
{
    SKIP_WITHOUT(GetParam().backend);
    ensol_test::expect_same_bits_as_openmp(GetParam().backend, GetParam().k, 0.005, 500, 50);
}

INSTANTIATE_TEST_SUITE_P(Conformance, Strict,
                         ::testing::ValuesIn(on_every_backend(ensol_test::all_cases())),
                         backend_case_name);

class Dopri5Strict : public ::testing::TestWithParam<BackendCase> {};

// The step-size controller uses only correctly rounded operations (no pow
// or sqrt), so strict mode fixes every decision: the same steps, accepted
// and rejected, the same counters and the same saved bits. 2 time units
// saved every 0.2, with steps rejected.
TEST_P(Dopri5Strict, SameStepsAndBitsAsOpenMp)
{
    SKIP_WITHOUT(GetParam().backend);
    ens_run_info omp_info;
    std::memset(&omp_info, 0, sizeof omp_info);
    ensol_test::expect_same_bits_as_openmp(GetParam().backend, GetParam().k, 0.01, 200, 20, 40,
                                           &omp_info);
    EXPECT_GT(omp_info.steps_rejected, 0) << "no rejected step: the test misses the controller";
}

INSTANTIATE_TEST_SUITE_P(Conformance, Dopri5Strict,
                         ::testing::ValuesIn(on_every_backend(dopri5_cases())), backend_case_name);

class Lorenz96Sizes : public ::testing::TestWithParam<const char *> {};

// Lorenz-96 sizes other than 40 run kernels sized at run time (CUDA's
// largest, 256, in test_cuda.cpp).
TEST_P(Lorenz96Sizes, StrictEqualsOpenMpBitForBit)
{
    SKIP_WITHOUT(GetParam());
    for (int K : {5, 64, 100})
        for (const char *integrator : {"euler", "rk4", "dopri5"}) {
            SCOPED_TRACE("K = " + std::to_string(K) + " " + integrator);
            ensol_test::expect_same_bits_as_openmp(GetParam(), {"lorenz96", integrator, "double"},
                                                   0.005, 200, 50, K);
        }
}

INSTANTIATE_TEST_SUITE_P(Conformance, Lorenz96Sizes,
                         ::testing::ValuesIn(ensol_test::compared_backends()), backend_name);

// ---- default options: a tolerance over a short horizon
// -------------------------

class Default : public ::testing::TestWithParam<BackendCase> {};

TEST_P(Default, AgreesWithOpenMpOverOneTimeUnit)
{
    const char *backend = GetParam().backend;
    const Case k = GetParam().k;
    SKIP_WITHOUT(backend);
    Config omp, other;
    configure(omp, k, "openmp", 0, 0.01, 100, 10);
    configure(other, k, backend, 0, 0.01, 100, 10);
    std::vector<double> a, b;
    ASSERT_TRUE(run_with_outcomes(omp, a));
    ASSERT_TRUE(run_with_outcomes(other, b));
    ASSERT_EQ(a.size(), b.size());
    const ensol_test::Difference d = ensol_test::largest_difference(a, b);
    const double tol = ensol_test::default_tolerance(k, a, 100, 0.01);
    EXPECT_LE(d.worst, tol) << "at value " << d.at << ": " << a[d.at] << " vs " << b[d.at];
    std::printf("[ %-8s ] %s %s %s: largest difference to openmp %.2e, tolerance %.2e\n", backend,
                k.model, k.integrator, k.precision, d.worst, tol);
}

INSTANTIATE_TEST_SUITE_P(Conformance, Default,
                         ::testing::ValuesIn(on_every_backend(ensol_test::all_cases())),
                         backend_case_name);

// The tolerance above, checked where it can be without another backend: the
// CPU backend's own contracted and strict runs differ by fused
// multiply-adds just as another backend and the CPU do, and must agree
// within it.
class ToleranceModel : public ::testing::TestWithParam<Case> {};

TEST_P(ToleranceModel, HoldsForTheCpusContractedAgainstStrictRuns)
{
    const Case k = GetParam();
    Config contract, strict;
    configure(contract, k, "openmp", 0, 0.01, 100, 10);
    configure(strict, k, "openmp", 1, 0.01, 100, 10);
    std::vector<double> a, b;
    ASSERT_TRUE(run_with_outcomes(strict, a));
    ASSERT_TRUE(run_with_outcomes(contract, b));
    const double worst = ensol_test::largest_difference(a, b).worst;
    const double tol = ensol_test::default_tolerance(k, a, 100, 0.01);
    EXPECT_LE(worst, tol);
    std::printf("[ openmp   ] tolerance model %s %s %s: contracted vs strict %.2e, "
                "tolerance %.2e\n",
                k.model, k.integrator, k.precision, worst, tol);
}

INSTANTIATE_TEST_SUITE_P(Conformance, ToleranceModel, ::testing::ValuesIn(ensol_test::all_cases()),
                         ensol_test::case_name);

// ---- batches, a stopped run, a restart, devices
// ---------------------------------

class Batching : public ::testing::TestWithParam<const char *> {};

// Batches of 100 (the last one a single member) give the same bits as one
// batch: a member's result does not depend on its neighbours.
TEST_P(Batching, SameBitsForAnyBatchSize)
{
    const char *backend = GetParam();
    SKIP_WITHOUT(backend);
    for (const Case &k : {Case{"lorenz63", "rk4", "double"}, Case{"lorenz96", "euler", "float"},
                          Case{"lorenz63", "dopri5", "double"}}) {
        SCOPED_TRACE(::testing::PrintToString(k));
        Config whole, batched;
        configure(whole, k, backend, 0, 0.005, 200, 20);
        configure(batched, k, backend, 0, 0.005, 200, 20);
        ENS_OK_OR_FAIL(batched, ens_config_set_batch_members(batched, 100));
        std::vector<double> a, b;
        ens_run_info info;
        ASSERT_TRUE(run_with_outcomes(whole, a));
        ASSERT_TRUE(run_with_outcomes(batched, b, nullptr, &info));
        EXPECT_EQ(info.batches, 11);
        EXPECT_TRUE(same_bits(a, b)) << "first difference at " << first_difference(a, b);
    }
}

INSTANTIATE_TEST_SUITE_P(Conformance, Batching,
                         ::testing::ValuesIn(ensol_test::compared_backends()), backend_name);

// The scheduler starts interval k+1 on the device before it saves interval
// k. A run stopped mid-batch must still keep exactly the states it saved:
// strict, stopped from the progress callback, against the whole strict
// OpenMP run: complete members bit for bit, the stopped batch up to its
// last saved time, NaN after.
// Counts the calls at the ends of intervals of 10 steps of 0.005 (the
// backend is also asked between pieces of an interval).
int stop_after(const ens_progress *p, void *user)
{
    int *calls_left = static_cast<int *>(user);
    const double intervals = p->sim_time / (10 * 0.005);
    if (std::fabs(intervals - std::round(intervals)) > 1e-6)
        return 0;
    return --*calls_left <= 0;
}

class Pipeline : public ::testing::TestWithParam<const char *> {};

TEST_P(Pipeline, StopMidBatchKeepsExactlyTheSavedStates)
{
    SKIP_WITHOUT(GetParam());
    const Case k = {"lorenz63", "rk4", "double"};
    ensol_test::TempDir dir;
    const std::string out = dir.file("stopped.nc");
    Config whole, stopped;
    configure(whole, k, "openmp", 1, 0.005, 200, 10);
    configure(stopped, k, GetParam(), 1, 0.005, 200, 10);
    ENS_OK_OR_FAIL(stopped, ens_config_set_batch_members(stopped, 300));
    ENS_OK_OR_FAIL(stopped, ens_config_set_output_path(stopped, out.c_str()));
    int calls_left = 20 + 7; // 20 intervals per batch: in the second batch
    ENS_OK_OR_FAIL(stopped, ens_config_set_progress(stopped, stop_after, &calls_left));
    std::vector<double> a;
    ASSERT_TRUE(run_with_outcomes(whole, a));
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
            // x(time, member) in the file, (member, time, var) in memory
            const double got = x[(size_t)(t * kMembers + m)], want = a[(size_t)((m * T + t) * 3)];
            if (m < complete || t <= last)
                ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0)
                    << "member " << m << " time " << t << ": " << got << " != " << want;
            else
                ASSERT_TRUE(std::isnan(got)) << "member " << m << " time " << t << ": " << got;
        }
}

INSTANTIATE_TEST_SUITE_P(Conformance, Pipeline,
                         ::testing::ValuesIn(ensol_test::compared_backends()), backend_name);

class Restart : public ::testing::TestWithParam<const char *> {};

// A dopri5 run continued from its restart file (each member's step state
// taken back onto the device) gives the whole run's bits.
TEST_P(Restart, Dopri5GoesOnExactly)
{
    const char *backend = GetParam();
    SKIP_WITHOUT(backend);
    for (const char *precision : {"double", "float"}) {
        SCOPED_TRACE(precision);
        ensol_test::TempDir dir;
        const std::string restart = dir.file("restart.nc");
        const Case k = {"lorenz96", "dopri5", precision};
        std::vector<double> whole, second;
        {
            Config cfg;
            configure(cfg, k, backend, 0, 0.01, 300, 300);
            ASSERT_TRUE(run_with_outcomes(cfg, whole));
        }
        {
            Config cfg;
            configure(cfg, k, backend, 0, 0.01, 120, 120);
            ENS_OK_OR_FAIL(cfg, ens_config_set_restart_path(cfg, restart.c_str()));
            ENS_OK_OR_FAIL(cfg, ens_config_set_output_path(cfg, dir.file("first.nc").c_str()));
            ENS_OK_OR_FAIL(cfg, ens_run(cfg, nullptr));
        }
        {
            Config cfg;
            configure(cfg, k, backend, 0, 0.01, 180, 180);
            ENS_OK_OR_FAIL(cfg, ens_config_set_initial_file(cfg, restart.c_str(), -1));
            ENS_OK_OR_FAIL(cfg, ens_config_validate(cfg));
            ASSERT_TRUE(run_with_outcomes(cfg, second));
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

INSTANTIATE_TEST_SUITE_P(Conformance, Restart, ::testing::ValuesIn(ensol_test::compared_backends()),
                         backend_name);

class Device : public ::testing::TestWithParam<const char *> {};

// A device request that names no device: unavailable, the message naming
// the request and listing the devices there are.
TEST_P(Device, UnknownNameOrIndexIsUnavailableWithTheDeviceList)
{
    SKIP_WITHOUT(GetParam());
    for (const char *request : {"no-such-device-xyz", "9999"}) {
        Config c;
        configure(c, {"lorenz63", "rk4", "float"}, GetParam(), 0, 0.01, 50, 10);
        ENS_OK_OR_FAIL(c, ens_config_set_device(c, request));
        std::vector<double> out((size_t)(kMembers * ens_config_saved_times(c) * 3));
        EXPECT_EQ(ens_run_to_memory(c, out.data(), out.size(), nullptr),
                  ENS_ERR_BACKEND_UNAVAILABLE);
        const std::string msg = ens_config_last_error(c);
        EXPECT_NE(msg.find(request), std::string::npos) << msg;
        EXPECT_NE(msg.find("[0]"), std::string::npos) << "no device list in: " << msg;
    }
}

INSTANTIATE_TEST_SUITE_P(Conformance, Device, ::testing::ValuesIn(ensol_test::compared_backends()),
                         backend_name);

// ---- noise inputs
// -------------------------------------------------------------

class Noise : public ::testing::TestWithParam<const char *> {};

// Three noise inputs (two share a Philox block, one has its own), drawn in
// double with portable arithmetic (kernels/rng/normal.h): in strict fp,
// Euler-Maruyama gives the same bits as on OpenMP, in both precisions,
// over 300 steps saved every 30, on 1001 members in batches of 400.
TEST_P(Noise, StrictEqualsOpenMpBitForBit)
{
    const char *backend = GetParam();
    SKIP_WITHOUT(backend);
    if (std::strcmp(backend, "cuda") == 0)
        GTEST_SKIP() << "the cuda backend runs the built-in models only, which have no noise "
                        "inputs";
    static const char kModel[] = "model noisy\nparam a = 1\nvar x\nvar y\nnoise u\nnoise v\n"
                                 "noise w\nrhs\n    ddt(x) = -a * x + u + 0.5 * w;\n"
                                 "    ddt(y) = x - y + v * y;\nend\n";
    for (const char *precision : {"double", "float"}) {
        SCOPED_TRACE(precision);
        std::vector<double> out[2];
        const char *backends[2] = {"openmp", backend};
        for (int i = 0; i < 2; i++) {
            Config c;
            ENS_OK_OR_FAIL(c, ens_config_set_model_source(c, kModel, "noisy.ens"));
            ENS_OK_OR_FAIL(c, ens_config_set_backend(c, backends[i]));
            ENS_OK_OR_FAIL(c, ens_config_set_members(c, 1001));
            ENS_OK_OR_FAIL(c, ens_config_set_precision(c, precision));
            ENS_OK_OR_FAIL(c, ens_config_set_strict_fp(c, 1));
            ENS_OK_OR_FAIL(c, ens_config_set_dt(c, 0.01));
            ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 300));
            ENS_OK_OR_FAIL(c, ens_config_set_save_every(c, 30));
            ENS_OK_OR_FAIL(c, ens_config_set_batch_members(c, 400));
            ASSERT_TRUE(ensol_test::run_cfg(c, out[i]));
        }
        EXPECT_TRUE(same_bits(out[0], out[1])) << "first difference at "
                                               << first_difference(out[0], out[1]);
    }
}

INSTANTIATE_TEST_SUITE_P(Conformance, Noise, ::testing::ValuesIn(ensol_test::compared_backends()),
                         backend_name);

} // namespace
