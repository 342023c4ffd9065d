/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Helpers shared by the test suites that drive the public API.
#ifndef ENSOL_TEST_SUPPORT_H
#define ENSOL_TEST_SUPPORT_H

#include "ensol/ensol.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netcdf.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "core/models.h"
#include "io/ncwriter.h"
}

namespace ensol_test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
struct TempDir {
    std::string path;
    TempDir()
    {
        const char *base = getenv("TMPDIR");
        std::string tmpl = std::string(base && base[0] ? base : "/tmp") + "/ensol_test_XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (mkdtemp(buf.data()))
            path = buf.data();
    }
    ~TempDir()
    {
        if (path.empty())
            return;
        namespace fs = std::filesystem;
        std::error_code ec;
        // A test may have made it read-only.
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string file(const std::string &name) const { return path + "/" + name; }
};

inline bool exists(const std::string &p) { return access(p.c_str(), F_OK) == 0; }

// The whole file as bytes ("" when it cannot be read).
inline std::string read_all(const std::string &p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A text attribute, or "<missing NAME>" / "<unreadable>".
inline std::string text_att(int ncid, int varid, const char *name)
{
    size_t len = 0;
    nc_type type = NC_NAT;
    if (nc_inq_att(ncid, varid, name, &type, &len) != NC_NOERR || type != NC_CHAR)
        return "<missing " + std::string(name) + ">";
    std::string s(len, '\0');
    if (len && nc_get_att_text(ncid, varid, name, &s[0]) != NC_NOERR)
        return "<unreadable>";
    return s;
}

// An ens_config that is destroyed with the scope.
struct Config {
    ens_config *c = nullptr;
    Config() { EXPECT_EQ(ens_config_create(&c), ENS_OK); }
    ~Config() { ens_config_destroy(c); }
    Config(const Config &) = delete;
    Config &operator=(const Config &) = delete;
    operator ens_config *() const { return c; }
};

// The verdict on a run into memory by `call` that returned `st`: it
// succeeded and no member's state became NaN or Inf.
inline ::testing::AssertionResult run_verdict(ens_config *cfg, const char *call, ens_status st,
                                              const ens_run_info &info)
{
    if (st != ENS_OK)
        return ::testing::AssertionFailure()
               << call << ": " << ens_status_string(st) << ": " << ens_config_last_error(cfg);
    if (info.members_failed != 0)
        return ::testing::AssertionFailure() << info.members_failed << " members failed";
    return ::testing::AssertionSuccess();
}

// Run into memory; `out` gets members * saved_times * nvars doubles.
// Members whose state became NaN or Inf count as a failure.
inline ::testing::AssertionResult run_cfg(ens_config *cfg, std::vector<double> &out,
                                          ens_run_info *info_out = nullptr)
{
    long long members = ens_config_members(cfg);
    long long times = ens_config_saved_times(cfg);
    int nvars = ens_config_nvars(cfg);
    if (members <= 0 || times <= 0 || nvars <= 0)
        return ::testing::AssertionFailure()
               << "bad sizes: members " << members << " times " << times << " nvars " << nvars;
    out.assign((size_t)(members * times * nvars), std::nan(""));
    ens_run_info info;
    std::memset(&info, 0, sizeof info);
    ens_status st = ens_run_to_memory(cfg, out.data(), out.size(), &info);
    if (info_out)
        *info_out = info;
    return run_verdict(cfg, "ens_run_to_memory", st, info);
}

// "" when backend `name` can run here, else why not (for a visible skip).
inline std::string backend_unavailable(const char *name)
{
    char detail[8192] = "";
    if (ens_backend_probe(name, detail, sizeof detail) == ENS_OK)
        return "";
    return detail[0] ? detail : "unavailable";
}

// Start the ensol command with `args` in directory `dir`, stdin from
// /dev/null, stdout and stderr to the files `out` and `err`. Everything the
// child needs is prepared before fork. Returns the child's pid (< 0 when
// fork failed).
inline pid_t spawn_ensol(const std::vector<std::string> &args, const std::string &dir,
                         const std::string &out, const std::string &err)
{
    std::vector<std::string> argv_s = {"ensol"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &a : argv_s)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0 || chdir(dir.c_str()) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(ENSOL_CLI_PATH, argv.data());
        _exit(127);
    }
    return pid;
}

// Every value of a variable as NetCDF reads them, a (time, member[, k])
// state variable in member order, (member, time[, k]) as the C API gives
// states in memory; empty when the file or the variable is missing.
inline std::vector<double> read_var(const std::string &path, const char *name)
{
    int ncid = -1, varid = -1, ndims = 0, dimids[NC_MAX_VAR_DIMS];
    std::vector<double> values;
    if (nc_open(path.c_str(), NC_NOWRITE, &ncid) != NC_NOERR)
        return values;
    if (nc_inq_varid(ncid, name, &varid) == NC_NOERR &&
        nc_inq_var(ncid, varid, nullptr, nullptr, &ndims, dimids, nullptr) == NC_NOERR) {
        size_t n = 1;
        for (int d = 0; d < ndims; d++) {
            size_t len = 0;
            nc_inq_dimlen(ncid, dimids[d], &len);
            n *= len;
        }
        values.resize(n);
        if (nc_get_var_double(ncid, varid, values.data()) != NC_NOERR)
            values.clear();
        char d0[NC_MAX_NAME + 1] = "", d1[NC_MAX_NAME + 1] = "";
        if (ndims >= 2 && !values.empty() && nc_inq_dimname(ncid, dimids[0], d0) == NC_NOERR &&
            nc_inq_dimname(ncid, dimids[1], d1) == NC_NOERR && std::string(d0) == "time" &&
            std::string(d1) == "member") {
            size_t T = 0, M = 0;
            nc_inq_dimlen(ncid, dimids[0], &T);
            nc_inq_dimlen(ncid, dimids[1], &M);
            const size_t K = T && M ? n / (T * M) : 0;
            std::vector<double> by_member(n);
            for (size_t t = 0; t < T; t++)
                for (size_t m = 0; m < M; m++)
                    for (size_t k = 0; k < K; k++)
                        by_member[(m * T + t) * K + k] = values[(t * M + m) * K + k];
            values.swap(by_member);
        }
    }
    nc_close(ncid);
    return values;
}

inline bool same_bits(const std::vector<double> &a, const std::vector<double> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Where two results first differ, for a failure message.
inline std::string first_difference(const std::vector<double> &a, const std::vector<double> &b)
{
    for (size_t i = 0; i < a.size() && i < b.size(); i++)
        if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) {
            std::ostringstream s;
            s.precision(17);
            s << "value " << i << ": " << a[i] << " vs " << b[i];
            return s.str();
        }
    return a.size() == b.size() ? "none" : "sizes differ";
}

// One model x integrator x precision combination of a cross-backend test.
struct Case {
    const char *model;
    const char *integrator;
    const char *precision;
};

inline void PrintTo(const Case &k, std::ostream *os)
{
    *os << k.model << " " << k.integrator << " " << k.precision;
}

inline std::string case_name(const ::testing::TestParamInfo<Case> &info)
{
    return std::string(info.param.model) + "_" + info.param.integrator + "_" +
           info.param.precision;
}

// Distinct, non-float-representable value for member m, time t, variable v.
inline double sample_value(long long m, long long t, int v)
{
    return 0.1234567891 + 1000.0 * (double)m + 10.0 * (double)t + 0.01 * v +
           1e-7 * (double)(m % 13);
}

// A writer spec with sample settings, and everything it points at. `model`
// stays null (and the spec empty) when the registry has no `model_name`.
struct SampleSpec {
    const ens_model_info *model = nullptr;
    std::vector<double> times, param_values, base;
    std::vector<int> varies;
    std::string history;
    ens_nc_spec spec{};

    SampleSpec(const char *model_name, int nvars, long long members, long long ntimes,
               int disk_double, const std::string &history_text)
        : history(history_text)
    {
        model = ens_models_find(model_name);
        if (!model)
            return;
        for (long long t = 0; t < ntimes; t++)
            times.push_back(0.25 * (double)t);
        for (int p = 0; p < model->nparams; p++) {
            param_values.push_back(model->param_defaults[p]);
            varies.push_back(0);
        }
        for (int v = 0; v < nvars; v++)
            base.push_back(1.5 + v);
        spec.model = model;
        spec.nvars = nvars;
        spec.members = members;
        spec.ntimes = ntimes;
        spec.times = times.data();
        spec.disk_double = disk_double;
        spec.write_states = 1;
        spec.param_varies = varies.data();
        spec.param_values = param_values.data();
        spec.history = history.c_str();
        spec.integrator = "rk4";
        spec.precision = "double";
        spec.output_mode = "trajectory";
        spec.backend = "openmp";
        spec.device = "CPU, 2 threads";
        spec.param_variation = "";
        spec.dt = 0.01;
        spec.steps = 100;
        spec.save_every = 25;
        spec.seed = 0xFFFFFFFFFFFFFFF1ull; // above INT64_MAX: must stay unsigned
        spec.perturbation = 0.001;
        spec.base_state = base.data();
    }
    // The spec points into this object.
    SampleSpec(const SampleSpec &) = delete;
    SampleSpec &operator=(const SampleSpec &) = delete;

    // Parameter p varies across members; its shared value must not be used.
    void vary(int p)
    {
        varies[(size_t)p] = 1;
        param_values[(size_t)p] = NAN;
    }
};

} // namespace ensol_test

// Skip the test, saying why, when backend `name` cannot run here.
#define ENS_SKIP_WITHOUT_BACKEND(name, label)                                 \
    do {                                                                      \
        const std::string why_ = ensol_test::backend_unavailable(name);      \
        if (!why_.empty())                                                    \
            GTEST_SKIP() << label << ": " << why_;                            \
    } while (0)

// Assert that an API call succeeded, showing the configuration's message.
#define ENS_OK_OR_FAIL(cfg, call)                                                     \
    do {                                                                              \
        ens_status st_ = (call);                                                      \
        ASSERT_EQ(st_, ENS_OK) << #call << " -> " << ens_status_string(st_) << ": "   \
                               << ens_config_last_error(cfg);                         \
    } while (0)

#endif
