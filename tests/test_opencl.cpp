/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// What only the OpenCL backend has, through the public API: device
// selection by index and by name, `auto` preferring OpenCL for GPUs and
// accelerators only, and the probe's device list. Its agreement with
// OpenMP (bit for bit, within a tolerance, batches, a stopped run, a
// restart) is tested with every backend's in test_backend_conformance.cpp.
//
// Every test skips, with the reason, where the OpenCL backend cannot run
// (not built in, no platform, no device).
#include "backend_support.h"
#include "ensol/ensol.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace {

#define SKIP_WITHOUT_OPENCL() ENS_SKIP_WITHOUT_BACKEND("opencl", "OpenCL")

using ensol_test::Config;
using ensol_test::run_cfg;
using ensol_test::same_bits;

std::string lower(std::string s)
{
    for (char &ch : s)
        ch = (char)std::tolower((unsigned char)ch);
    return s;
}

void small_run(ens_config *c, const char *device)
{
    ensol_test::configure(c, {"lorenz63", "rk4", "float"}, "opencl", 0, 0.01, 50, 10);
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
    const std::string part =
        ensol_test::swap_case(device.substr(slash + 3, std::min<size_t>(6, paren - slash - 3)));
    small_run(by_name, part.c_str());
    ASSERT_TRUE(run_cfg(by_name, c, &third));
    EXPECT_EQ(std::string(third.device), device) << "device request '" << part << "'";

    // The same device runs the same program: identical results.
    if (std::string(first.device) == device) {
        EXPECT_TRUE(same_bits(a, b));
    }
    EXPECT_TRUE(same_bits(b, c));
}

// `auto` leaves CPU-only OpenCL platforms (PoCL) to the OpenMP backend and
// takes OpenCL for a GPU or an accelerator.
TEST(OpenCLDevice, AutoPrefersOpenClOnlyForGpusAndAccelerators)
{
    SKIP_WITHOUT_OPENCL();
    char detail[8192] = "";
    ASSERT_EQ(ens_backend_probe("opencl", detail, sizeof detail), ENS_OK);
    const std::string d = detail;
    const bool gpu_like =
        d.find(": GPU,") != std::string::npos || d.find(": accelerator,") != std::string::npos;
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

} // namespace
