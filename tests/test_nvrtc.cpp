// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) The ensol authors
//
// NVRTC, part of the CUDA toolkit, compiles every shipped model file and a
// model given as text with the CUDA kernels for model files
// (kernels/cuda/ens_cuda_file.cu) to cubins for sm_80 and sm_90. Needs no
// GPU; skips, saying why, where libnvrtc cannot be loaded. Prints the
// registers and spills of each kernel (ptxas' report), double precision.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" {
#include "backends/model_program.h"
#include "core/models.h"
extern const char ens_cuda_file_source[];
}

namespace {

// The few NVRTC calls used, loaded at run time so that no build needs NVRTC.
typedef struct nvrtc_program *nvrtc_prog;
struct nvrtc_api {
    void *lib = nullptr;
    int (*create)(nvrtc_prog *, const char *, const char *, int, const char *const *,
                  const char *const *) = nullptr;
    int (*compile)(nvrtc_prog, int, const char *const *) = nullptr;
    int (*log_size)(nvrtc_prog, size_t *) = nullptr;
    int (*log)(nvrtc_prog, char *) = nullptr;
    int (*cubin_size)(nvrtc_prog, size_t *) = nullptr;
    int (*destroy)(nvrtc_prog *) = nullptr;
};

const nvrtc_api *nvrtc()
{
    static nvrtc_api api;
    static bool tried = false;
    if (!tried) {
        tried = true;
        const char *names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
                               "/usr/local/cuda/lib64/libnvrtc.so"};
        for (const char *n : names)
            if (!api.lib)
                api.lib = dlopen(n, RTLD_NOW | RTLD_LOCAL);
        if (api.lib) {
            api.create = (decltype(api.create))dlsym(api.lib, "nvrtcCreateProgram");
            api.compile = (decltype(api.compile))dlsym(api.lib, "nvrtcCompileProgram");
            api.log_size = (decltype(api.log_size))dlsym(api.lib, "nvrtcGetProgramLogSize");
            api.log = (decltype(api.log))dlsym(api.lib, "nvrtcGetProgramLog");
            api.cubin_size = (decltype(api.cubin_size))dlsym(api.lib, "nvrtcGetCUBINSize");
            api.destroy = (decltype(api.destroy))dlsym(api.lib, "nvrtcDestroyProgram");
        }
    }
    return api.lib && api.create && api.compile && api.log_size && api.log &&
                   api.cubin_size && api.destroy
               ? &api
               : nullptr;
}

// Compile the model's CUDA source for `arch`; the log (ptxas' report) into
// *log; true on success with a cubin.
bool compile(const ens_model_info *m, const char *arch, std::string *log)
{
    const nvrtc_api *api = nvrtc();
    char *source = ens_model_program(m, ens_cuda_file_source, "", "");
    if (!source)
        return false;
    nvrtc_prog prog = nullptr;
    bool ok = api->create(&prog, source, m->name, 0, nullptr, nullptr) == 0;
    free(source);
    const std::string gpu = std::string("--gpu-architecture=") + arch;
    // The double kernels: the float ones are the same code, and the suite
    // runs on two cores.
    const char *options[] = {gpu.c_str(), "--std=c++17", "--ptxas-options=-v",
                             "-DENS_FILE_DOUBLE_ONLY=1"};
    ok = ok && api->compile(prog, 4, options) == 0;
    size_t n = 0;
    if (prog && api->log_size(prog, &n) == 0 && n > 1) {
        log->resize(n);
        api->log(prog, &(*log)[0]);
    }
    size_t cubin = 0;
    ok = ok && api->cubin_size(prog, &cubin) == 0 && cubin > 0;
    if (prog)
        api->destroy(&prog);
    return ok;
}

// "ptxas info    : Used 40 registers, ..." lines of the log, with the
// kernel names before them, one line per kernel.
std::string resources(const std::string &log)
{
    std::string out, kernel;
    size_t pos = 0;
    while (pos < log.size()) {
        size_t end = log.find('\n', pos);
        if (end == std::string::npos)
            end = log.size();
        const std::string line = log.substr(pos, end - pos);
        pos = end + 1;
        const size_t f = line.find("Function properties for ");
        if (f != std::string::npos)
            kernel = line.substr(f + 24);
        const size_t s = line.find("bytes spill stores");
        if (s != std::string::npos)
            out += "    " + kernel + ": " + line.substr(line.find_first_not_of(' ')) + "\n";
        const size_t u = line.find("Used ");
        if (u != std::string::npos)
            out += "    " + kernel + ": " + line.substr(u) + "\n";
    }
    return out;
}

void compile_for_both(const ens_model_info *m)
{
    for (const char *arch : {"sm_80", "sm_90"}) {
        std::string log;
        const bool ok = compile(m, arch, &log);
        EXPECT_TRUE(ok) << m->name << " for " << arch << ":\n" << log;
        std::printf("%s for %s:\n%s", m->name, arch, resources(log).c_str());
    }
}

TEST(Nvrtc, CompilesEveryShippedModelForSm80AndSm90)
{
    if (!nvrtc())
        GTEST_SKIP() << "NVRTC (libnvrtc.so, CUDA toolkit) cannot be loaded here";
    ASSERT_GT(ens_models_count(), 0);
    for (int i = 0; i < ens_models_count(); i++)
        compile_for_both(ens_models_at(i));
}

TEST(Nvrtc, CompilesAModelGivenAsText)
{
    if (!nvrtc())
        GTEST_SKIP() << "NVRTC (libnvrtc.so, CUDA toolkit) cannot be loaded here";
    const char *text = "model pendulum\n"
                       "param g = 9.81\nparam L = 1\nparam A = 0.5\n"
                       "var theta\nvar omega\nbase 0.1 0\n"
                       "rhs\n"
                       "    ddt(theta) = omega;\n"
                       "    ddt(omega) = -g / L * sin(theta) + A * cos(t);\n"
                       "end\n";
    ens_error err = {{0}};
    ens_model_info *m = nullptr;
    ASSERT_EQ(ens_model_parse(text, "pendulum.ens", &m, &err), ENS_OK) << err.msg;
    compile_for_both(m);
    ens_model_free(m);
}

// Noise inputs: the Euler kernels draw them (kernels/rng/normal.h).
TEST(Nvrtc, CompilesAModelWithNoiseInputs)
{
    if (!nvrtc())
        GTEST_SKIP() << "NVRTC (libnvrtc.so, CUDA toolkit) cannot be loaded here";
    const char *text = "model ou\nparam theta = 1\nvar x\nnoise w\nnoise v\nnoise u\nrhs\n"
                       "    ddt(x) = -theta * x + w + v * u;\nend\n";
    ens_error err = {{0}};
    ens_model_info *m = nullptr;
    ASSERT_EQ(ens_model_parse(text, "ou.ens", &m, &err), ENS_OK) << err.msg;
    compile_for_both(m);
    ens_model_free(m);
}

TEST(Nvrtc, ReportsAnErrorInTheModelFileAtItsLine)
{
    if (!nvrtc())
        GTEST_SKIP() << "NVRTC (libnvrtc.so, CUDA toolkit) cannot be loaded here";
    const char *text = "model bad\nvar x\nrhs\n    ddt(x) = -x +;\nend\n";
    ens_error err = {{0}};
    ens_model_info *m = nullptr;
    ASSERT_EQ(ens_model_parse(text, "bad.ens", &m, &err), ENS_OK) << err.msg;
    std::string log;
    EXPECT_FALSE(compile(m, "sm_80", &log));
    EXPECT_NE(log.find("bad.ens(4)"), std::string::npos) << log;
    ens_model_free(m);
}

} // namespace
