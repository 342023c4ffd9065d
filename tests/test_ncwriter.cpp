/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// NetCDF writer: files written in batches read back value by value, the
// PATH.partial / rename protocol, failures, and a check with xarray.
#include <gtest/gtest.h>

#include "test_support.h"

#include <netcdf.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include "core/models.h"
#include "io/ncwriter.h"
}

namespace fs = std::filesystem;

namespace {

using ensol_test::exists;
using ensol_test::sample_value;
using ensol_test::TempDir;
using ensol_test::text_att;

// The sample spec, writing to `file`.
struct RunFile : ensol_test::SampleSpec {
    std::string path;

    RunFile(const char *model_name, const std::string &file, int nvars, long long members,
            long long ntimes, int disk_double)
        : SampleSpec(model_name, nvars, members, ntimes, disk_double,
                     "ensol run --members 7 --test"),
          path(file)
    {
        spec.path = path.c_str();
    }
};

int param_index(const ens_model_info *m, const char *name)
{
    for (int p = 0; p < m->nparams; p++)
        if (std::string(m->param_names[p]) == name)
            return p;
    return -1;
}

// Value of varying parameter p for member m.
double param_value(int p, long long m) { return 20.0 + p + 0.5 * (double)m; }

// Write members [m0, m0+count): states (member, time, var) and params
// [param * count + i], as the scheduler hands them over.
ens_status write_batch(ens_nc_writer *w, const RunFile &s, long long m0, long long count,
                       bool as_double, ens_error *err)
{
    const long long T = s.spec.ntimes;
    const int V = s.spec.nvars;
    std::vector<double> d((size_t)(count * T * V));
    std::vector<float> f(d.size());
    for (long long i = 0; i < count; i++)
        for (long long t = 0; t < T; t++)
            for (int v = 0; v < V; v++) {
                size_t k = (size_t)((i * T + t) * V + v);
                d[k] = sample_value(m0 + i, t, v);
                f[k] = (float)d[k];
            }
    std::vector<double> params((size_t)(s.model->nparams * count));
    for (int p = 0; p < s.model->nparams; p++)
        for (long long i = 0; i < count; i++)
            params[(size_t)(p * count + i)] =
                s.varies[(size_t)p] ? param_value(p, m0 + i) : s.param_values[(size_t)p];
    return ens_nc_write_batch(w, m0, count, T, as_double ? (const void *)d.data() : f.data(),
                              as_double ? 1 : 0, params.data(), err);
}

double double_att(int ncid, int varid, const char *name)
{
    double x = NAN;
    size_t len = 0;
    if (nc_inq_attlen(ncid, varid, name, &len) != NC_NOERR || len != 1 ||
        nc_get_att_double(ncid, varid, name, &x) != NC_NOERR)
        return NAN;
    return x;
}

size_t dim_len(int ncid, const char *name)
{
    int id;
    size_t len = 0;
    if (nc_inq_dimid(ncid, name, &id) != NC_NOERR || nc_inq_dimlen(ncid, id, &len) != NC_NOERR)
        return (size_t)-1;
    return len;
}

int var_id(int ncid, const char *name)
{
    int id = -1;
    if (nc_inq_varid(ncid, name, &id) != NC_NOERR)
        return -1;
    return id;
}

// Checks common to every file: dimensions, coordinates, global attributes.
void check_common(int ncid, const RunFile &s)
{
    const long long M = s.spec.members, T = s.spec.ntimes;
    EXPECT_EQ(dim_len(ncid, "member"), (size_t)M);
    EXPECT_EQ(dim_len(ncid, "time"), (size_t)T);

    int mid = var_id(ncid, "member");
    ASSERT_GE(mid, 0);
    nc_type type;
    ASSERT_EQ(nc_inq_vartype(ncid, mid, &type), NC_NOERR);
    EXPECT_EQ(type, NC_INT64);
    std::vector<long long> members((size_t)M, -1);
    ASSERT_EQ(nc_get_var_longlong(ncid, mid, members.data()), NC_NOERR);
    for (long long m = 0; m < M; m++)
        EXPECT_EQ(members[(size_t)m], m);
    EXPECT_EQ(text_att(ncid, mid, "standard_name"), "realization");
    EXPECT_EQ(text_att(ncid, mid, "long_name"), "ensemble member");

    int tid = var_id(ncid, "time");
    ASSERT_GE(tid, 0);
    std::vector<double> times((size_t)T, NAN);
    ASSERT_EQ(nc_get_var_double(ncid, tid, times.data()), NC_NOERR);
    for (long long t = 0; t < T; t++)
        EXPECT_EQ(times[(size_t)t], s.times[(size_t)t]);
    // CF time units (dimensionless model time as days) and a calendar.
    EXPECT_EQ(text_att(ncid, tid, "units"), "days since 1970-01-01 00:00:00");
    EXPECT_EQ(text_att(ncid, tid, "calendar"), "proleptic_gregorian");
    EXPECT_EQ(text_att(ncid, tid, "axis"), "T");
    int unlimited = -1, time_dim = -2;
    ASSERT_EQ(nc_inq_unlimdim(ncid, &unlimited), NC_NOERR);
    ASSERT_EQ(nc_inq_dimid(ncid, "time", &time_dim), NC_NOERR);
    EXPECT_EQ(unlimited, time_dim) << "time must be the record dimension";

    EXPECT_EQ(text_att(ncid, NC_GLOBAL, "Conventions"), "CF-1.8");
    EXPECT_EQ(text_att(ncid, NC_GLOBAL, "model"), s.model->name);
    EXPECT_EQ(text_att(ncid, NC_GLOBAL, "integrator"), "rk4");
    EXPECT_EQ(text_att(ncid, NC_GLOBAL, "output_type"), s.spec.disk_double ? "double" : "float");
    EXPECT_EQ(text_att(ncid, NC_GLOBAL, "source").rfind("ensol ", 0), 0u);
    std::string history = text_att(ncid, NC_GLOBAL, "history");
    EXPECT_NE(history.find(": " + s.history), std::string::npos) << history;
    // "YYYY-MM-DDTHH:MM:SSZ: " prefix
    ASSERT_GE(history.size(), 22u);
    EXPECT_EQ(history[4], '-');
    EXPECT_EQ(history[10], 'T');
    EXPECT_EQ(history.substr(19, 3), "Z: ");
    EXPECT_DOUBLE_EQ(double_att(ncid, NC_GLOBAL, "dt"), 0.01);
    EXPECT_DOUBLE_EQ(double_att(ncid, NC_GLOBAL, "perturbation_stddev"), 0.001);

    nc_type seed_type = NC_NAT;
    ASSERT_EQ(nc_inq_atttype(ncid, NC_GLOBAL, "seed", &seed_type), NC_NOERR);
    EXPECT_EQ(seed_type, NC_UINT64);
    unsigned long long seed = 0;
    ASSERT_EQ(nc_get_att_ulonglong(ncid, NC_GLOBAL, "seed", &seed), NC_NOERR);
    EXPECT_EQ(seed, 0xFFFFFFFFFFFFFFF1ull);
    long long steps = 0;
    ASSERT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "steps", &steps), NC_NOERR);
    EXPECT_EQ(steps, 100);

    size_t blen = 0;
    ASSERT_EQ(nc_inq_attlen(ncid, NC_GLOBAL, "base_state", &blen), NC_NOERR);
    ASSERT_EQ(blen, (size_t)s.spec.nvars);
    std::vector<double> base(blen);
    ASSERT_EQ(nc_get_att_double(ncid, NC_GLOBAL, "base_state", base.data()), NC_NOERR);
    EXPECT_EQ(base, s.base);

    // Parameters: varying ones as (member) variables, shared ones as attributes.
    for (int p = 0; p < s.model->nparams; p++) {
        const char *name = s.model->param_names[p];
        std::string att = std::string("param_") + name;
        int pid = var_id(ncid, name);
        if (s.varies[(size_t)p]) {
            ASSERT_GE(pid, 0) << name;
            std::vector<double> vals((size_t)M, NAN);
            ASSERT_EQ(nc_get_var_double(ncid, pid, vals.data()), NC_NOERR);
            for (long long m = 0; m < M; m++)
                EXPECT_EQ(vals[(size_t)m], param_value(p, m)) << name << " member " << m;
            EXPECT_EQ(text_att(ncid, pid, "long_name"), s.model->param_long_names[p]);
            size_t len;
            EXPECT_NE(nc_inq_attlen(ncid, NC_GLOBAL, att.c_str(), &len), NC_NOERR) << att;
        } else {
            EXPECT_LT(pid, 0) << name << " is shared: no variable expected";
            EXPECT_DOUBLE_EQ(double_att(ncid, NC_GLOBAL, att.c_str()),
                             s.param_values[(size_t)p])
                << att;
        }
    }
}

// States of a scalar model, one (time, member) variable per state variable.
template <typename Real>
void check_scalar_states(int ncid, const RunFile &s, nc_type want_type)
{
    const long long M = s.spec.members, T = s.spec.ntimes;
    for (int v = 0; v < s.spec.nvars; v++) {
        const char *name = s.model->var_names[v];
        int id = var_id(ncid, name);
        ASSERT_GE(id, 0) << name;
        nc_type type;
        int ndims = 0, dims[NC_MAX_VAR_DIMS];
        ASSERT_EQ(nc_inq_var(ncid, id, nullptr, &type, &ndims, dims, nullptr), NC_NOERR);
        EXPECT_EQ(type, want_type);
        ASSERT_EQ(ndims, 2);
        char d0[NC_MAX_NAME + 1], d1[NC_MAX_NAME + 1];
        nc_inq_dimname(ncid, dims[0], d0);
        nc_inq_dimname(ncid, dims[1], d1);
        EXPECT_STREQ(d0, "time");
        EXPECT_STREQ(d1, "member");
        EXPECT_EQ(text_att(ncid, id, "long_name"), s.model->var_long_names[v]);
        EXPECT_EQ(text_att(ncid, id, "units"), s.model->units);
        int storage = -1;
        size_t chunks[2];
        ASSERT_EQ(nc_inq_var_chunking(ncid, id, &storage, chunks), NC_NOERR);
        EXPECT_EQ(storage, NC_CHUNKED);

        for (long long m = 0; m < M; m++)
            for (long long t = 0; t < T; t++) {
                size_t idx[2] = {(size_t)t, (size_t)m};
                double got = NAN;
                ASSERT_EQ(nc_get_var1_double(ncid, id, idx, &got), NC_NOERR);
                EXPECT_EQ(got, (double)(Real)sample_value(m, t, v))
                    << name << "[" << m << "," << t << "]";
            }
    }
}

ens_nc_writer *open_ok(const RunFile &s)
{
    ens_nc_writer *w = nullptr;
    ens_error err{};
    ens_status st = ens_nc_open(&s.spec, &w, &err);
    EXPECT_EQ(st, ENS_OK) << err.msg;
    return w;
}

} // namespace

TEST(ncwriter, ScalarModelDoubleTwoBatches)
{
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    RunFile s("lorenz63", dir.file("l63.nc"), 3, 7, 5, 1);
    ASSERT_NE(s.model, nullptr) << "lorenz63 not in the model registry";
    int rho = param_index(s.model, "rho");
    ASSERT_GE(rho, 0);
    s.vary(rho);
    s.spec.param_variation = "rho: per member";

    ens_nc_writer *w = open_ok(s);
    ASSERT_NE(w, nullptr);
    EXPECT_TRUE(exists(s.path + ".partial"));
    EXPECT_FALSE(exists(s.path));
    ens_error err{};
    ASSERT_EQ(write_batch(w, s, 0, 4, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(write_batch(w, s, 4, 3, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(ens_nc_close(w, ENS_NC_COMMIT, nullptr, &err), ENS_OK) << err.msg;

    EXPECT_FALSE(exists(s.path + ".partial"));
    ASSERT_TRUE(exists(s.path));
    int ncid;
    ASSERT_EQ(nc_open(s.path.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    int format = 0;
    nc_inq_format(ncid, &format);
    EXPECT_EQ(format, NC_FORMAT_NETCDF4);
    check_common(ncid, s);
    check_scalar_states<double>(ncid, s, NC_DOUBLE);
    EXPECT_EQ(text_att(ncid, NC_GLOBAL, "parameter_variation"), "rho: per member");
    std::string params = text_att(ncid, NC_GLOBAL, "parameters");
    EXPECT_NE(params.find("sigma=10"), std::string::npos) << params;
    EXPECT_EQ(params.find("rho="), std::string::npos) << params;
    nc_close(ncid);
}

TEST(ncwriter, ScalarModelFloatOnDisk)
{
    TempDir dir;
    RunFile s("lorenz63", dir.file("l63f.nc"), 3, 7, 5, 0);
    ASSERT_NE(s.model, nullptr);
    ens_nc_writer *w = open_ok(s);
    ASSERT_NE(w, nullptr);
    ens_error err{};
    // One batch from a double buffer, one from a float buffer.
    ASSERT_EQ(write_batch(w, s, 0, 4, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(write_batch(w, s, 4, 3, false, &err), ENS_OK) << err.msg;
    ASSERT_EQ(ens_nc_close(w, ENS_NC_COMMIT, nullptr, &err), ENS_OK) << err.msg;

    EXPECT_FALSE(exists(s.path + ".partial"));
    int ncid;
    ASSERT_EQ(nc_open(s.path.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    check_common(ncid, s);
    check_scalar_states<float>(ncid, s, NC_FLOAT);
    size_t len;
    EXPECT_NE(nc_inq_attlen(ncid, NC_GLOBAL, "parameter_variation", &len), NC_NOERR)
        << "empty parameter_variation must be omitted";
    nc_close(ncid);
}

TEST(ncwriter, VectorModel)
{
    TempDir dir;
    const int K = 6;
    const long long M = 5, T = 4;
    RunFile s("lorenz96", dir.file("l96.nc"), K, M, T, 1);
    ASSERT_NE(s.model, nullptr) << "lorenz96 not in the model registry";
    ASSERT_EQ(s.model->var_names[0], nullptr);
    int k = param_index(s.model, "K");
    if (k >= 0)
        s.param_values[(size_t)k] = K;

    ens_nc_writer *w = open_ok(s);
    ASSERT_NE(w, nullptr);
    ens_error err{};
    ASSERT_EQ(write_batch(w, s, 0, 2, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(write_batch(w, s, 2, 3, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(ens_nc_close(w, ENS_NC_COMMIT, nullptr, &err), ENS_OK) << err.msg;
    EXPECT_FALSE(exists(s.path + ".partial"));

    int ncid;
    ASSERT_EQ(nc_open(s.path.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    check_common(ncid, s);
    const char *vdim = s.model->vector_dim;
    EXPECT_EQ(dim_len(ncid, vdim), (size_t)K);
    int cid = var_id(ncid, vdim);
    ASSERT_GE(cid, 0) << "coordinate variable " << vdim;
    std::vector<int> idx(K, -1);
    ASSERT_EQ(nc_get_var_int(ncid, cid, idx.data()), NC_NOERR);
    for (int i = 0; i < K; i++)
        EXPECT_EQ(idx[(size_t)i], i);
    EXPECT_EQ(text_att(ncid, cid, "long_name"), "variable index");

    int id = var_id(ncid, s.model->vector_name);
    ASSERT_GE(id, 0);
    int ndims = 0;
    ASSERT_EQ(nc_inq_varndims(ncid, id, &ndims), NC_NOERR);
    ASSERT_EQ(ndims, 3);
    int dims[3];
    ASSERT_EQ(nc_inq_vardimid(ncid, id, dims), NC_NOERR);
    char name[NC_MAX_NAME + 1];
    nc_inq_dimname(ncid, dims[0], name);
    EXPECT_STREQ(name, "time");
    nc_inq_dimname(ncid, dims[2], name);
    EXPECT_STREQ(name, vdim);
    EXPECT_EQ(text_att(ncid, id, "long_name"), s.model->vector_long_name);
    std::vector<double> got((size_t)(M * T * K), NAN);
    ASSERT_EQ(nc_get_var_double(ncid, id, got.data()), NC_NOERR);
    for (long long m = 0; m < M; m++)
        for (long long t = 0; t < T; t++)
            for (int v = 0; v < K; v++)
                EXPECT_EQ(got[(size_t)((t * M + m) * K + v)], sample_value(m, t, v))
                    << "X[" << m << "," << t << "," << v << "]";
    nc_close(ncid);
}

TEST(ncwriter, ChunksStayWithinBounds)
{
    TempDir dir;
    struct Case {
        const char *model;
        int nvars;
        long long members, ntimes;
        int dbl;
    } cases[] = {
        {"lorenz63", 3, 100000, 1001, 1}, // big ensemble, long trajectory
        {"lorenz63", 3, 100000, 1, 0},    // final mode: one time
        {"lorenz96", 40, 100000, 201, 1},
        {"lorenz96", 2000000, 3, 2, 1}, // one state alone is 16 MB
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(std::string(c.model) + " nvars " + std::to_string(c.nvars) + " members " +
                     std::to_string(c.members) + " ntimes " + std::to_string(c.ntimes));
        RunFile s(c.model, dir.file("chunks.nc"), c.nvars, c.members, c.ntimes, c.dbl);
        ASSERT_NE(s.model, nullptr);
        ens_nc_writer *w = open_ok(s);
        ASSERT_NE(w, nullptr);
        ens_error err{};
        ASSERT_EQ(ens_nc_close(w, ENS_NC_COMMIT, nullptr, &err), ENS_OK) << err.msg;
        int ncid;
        ASSERT_EQ(nc_open(s.path.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
        const char *name = s.model->var_names[0] ? s.model->var_names[0] : s.model->vector_name;
        int id = var_id(ncid, name);
        int storage = -1, ndims = 0;
        size_t chunks[3] = {1, 1, 1};
        ASSERT_EQ(nc_inq_varndims(ncid, id, &ndims), NC_NOERR);
        ASSERT_EQ(nc_inq_var_chunking(ncid, id, &storage, chunks), NC_NOERR);
        // The member coordinate is written in blocks: check the last one.
        long long last = -1;
        size_t at = (size_t)c.members - 1;
        ASSERT_EQ(nc_get_var1_longlong(ncid, var_id(ncid, "member"), &at, &last), NC_NOERR);
        EXPECT_EQ(last, c.members - 1);
        nc_close(ncid);
        EXPECT_EQ(storage, NC_CHUNKED);
        double bytes = (c.dbl ? 8.0 : 4.0) * (double)chunks[0] * (double)chunks[1] *
                       (ndims == 3 ? (double)chunks[2] : 1.0);
        EXPECT_LE(bytes, 4.0 * 1024 * 1024 + 1);
        // At least half a megabyte whenever the variable is that large.
        double total = (c.dbl ? 8.0 : 4.0) * (double)c.members * (double)c.ntimes *
                       (ndims == 3 ? c.nvars : 1);
        if (total >= 0.5 * 1024 * 1024) {
            EXPECT_GE(bytes, 0.5 * 1024 * 1024 - 1);
        }
    }
}

TEST(ncwriter, FailedRunLeavesNoFile)
{
    TempDir dir;
    RunFile s("lorenz63", dir.file("fail.nc"), 3, 7, 5, 1);
    ASSERT_NE(s.model, nullptr);
    ens_nc_writer *w = open_ok(s);
    ASSERT_NE(w, nullptr);
    ens_error err{};
    ASSERT_EQ(write_batch(w, s, 0, 4, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(ens_nc_close(w, ENS_NC_DISCARD, nullptr, &err), ENS_OK) << err.msg;
    EXPECT_FALSE(exists(s.path));
    EXPECT_FALSE(exists(s.path + ".partial"));
}

TEST(ncwriter, FailedRunKeepsExistingFileAndSuccessReplacesIt)
{
    TempDir dir;
    RunFile s("lorenz63", dir.file("keep.nc"), 3, 7, 5, 1);
    ASSERT_NE(s.model, nullptr);
    {
        std::ofstream out(s.path, std::ios::binary);
        out << "sentinel: an earlier result";
    }
    ens_nc_writer *w = open_ok(s);
    ASSERT_NE(w, nullptr);
    ens_error err{};
    ASSERT_EQ(write_batch(w, s, 0, 7, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(ens_nc_close(w, ENS_NC_DISCARD, nullptr, &err), ENS_OK) << err.msg;
    EXPECT_EQ(ensol_test::read_all(s.path), "sentinel: an earlier result");
    EXPECT_FALSE(exists(s.path + ".partial"));

    w = open_ok(s);
    ASSERT_NE(w, nullptr);
    ASSERT_EQ(write_batch(w, s, 0, 7, true, &err), ENS_OK) << err.msg;
    ASSERT_EQ(ens_nc_close(w, ENS_NC_COMMIT, nullptr, &err), ENS_OK) << err.msg;
    int ncid;
    ASSERT_EQ(nc_open(s.path.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    check_scalar_states<double>(ncid, s, NC_DOUBLE);
    nc_close(ncid);
}

TEST(ncwriter, MissingDirectoryFailsWithIoError)
{
    TempDir dir;
    RunFile s("lorenz63", dir.file("no/such/dir/out.nc"), 3, 7, 5, 1);
    ASSERT_NE(s.model, nullptr);
    ens_nc_writer *w = nullptr;
    ens_error err{};
    EXPECT_EQ(ens_nc_open(&s.spec, &w, &err), ENS_ERR_IO);
    EXPECT_EQ(w, nullptr);
    EXPECT_NE(std::string(err.msg).find(s.path), std::string::npos) << err.msg;
    EXPECT_EQ(std::string(err.msg).find('\n'), std::string::npos) << err.msg;
    EXPECT_FALSE(exists(s.path + ".partial"));
    EXPECT_FALSE(exists(s.path));
}

TEST(ncwriter, ReadOnlyDirectoryFailsWithIoError)
{
    TempDir dir;
    std::string ro = dir.file("ro");
    ASSERT_EQ(mkdir(ro.c_str(), 0755), 0);
    ASSERT_EQ(chmod(ro.c_str(), 0555), 0);
    RunFile s("lorenz63", ro + "/out.nc", 3, 7, 5, 1);
    ASSERT_NE(s.model, nullptr);
    ens_nc_writer *w = nullptr;
    ens_error err{};
    ens_status st = ens_nc_open(&s.spec, &w, &err);
    if (st == ENS_OK && geteuid() == 0) {
        ens_nc_close(w, ENS_NC_DISCARD, nullptr, &err);
        GTEST_SKIP() << "running as root: permissions not enforced";
    }
    EXPECT_EQ(st, ENS_ERR_IO);
    EXPECT_EQ(w, nullptr);
    EXPECT_NE(std::string(err.msg).find(s.path), std::string::npos) << err.msg;
    EXPECT_NE(std::string(err.msg).find("Permission denied"), std::string::npos) << err.msg;
    EXPECT_FALSE(exists(s.path + ".partial"));
    EXPECT_FALSE(exists(s.path));
}

TEST(ncwriter, RejectsBadArguments)
{
    TempDir dir;
    RunFile s("lorenz63", dir.file("bad.nc"), 3, 7, 5, 1);
    ASSERT_NE(s.model, nullptr);
    ens_error err{};
    ens_nc_writer *w = nullptr;

    s.spec.nvars = 4; // lorenz63 has 3 variables
    EXPECT_EQ(ens_nc_open(&s.spec, &w, &err), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(w, nullptr);
    EXPECT_FALSE(exists(s.path + ".partial"));
    s.spec.nvars = 3;

    w = open_ok(s);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(write_batch(w, s, 5, 3, true, &err), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(err.msg).find("members"), std::string::npos) << err.msg;
    EXPECT_EQ(write_batch(w, s, -1, 2, true, &err), ENS_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(ens_nc_close(w, ENS_NC_DISCARD, nullptr, &err), ENS_OK) << err.msg;
    EXPECT_FALSE(exists(s.path + ".partial"));
}

#ifdef ENSOL_PYTHON
TEST(ncwriter, XarrayOpensTheFile)
{
    TempDir dir;
    const char *cases[] = {"lorenz63", "lorenz96"};
    for (const char *model : cases) {
        SCOPED_TRACE(model);
        bool l96 = std::string(model) == "lorenz96";
        RunFile s(model, dir.file(std::string(model) + ".nc"), l96 ? 8 : 3, 11, 6, l96 ? 0 : 1);
        ASSERT_NE(s.model, nullptr);
        if (!l96)
            s.vary(param_index(s.model, "rho"));
        ens_nc_writer *w = open_ok(s);
        ASSERT_NE(w, nullptr);
        ens_error err{};
        ASSERT_EQ(write_batch(w, s, 0, 6, true, &err), ENS_OK) << err.msg;
        ASSERT_EQ(write_batch(w, s, 6, 5, true, &err), ENS_OK) << err.msg;
        ASSERT_EQ(ens_nc_close(w, ENS_NC_COMMIT, nullptr, &err), ENS_OK) << err.msg;

        std::string vars = l96 ? "X" : "x,y,z,rho";
        std::string cmd = std::string("'") + ENSOL_PYTHON + "' '" + ENSOL_TESTS_DIR +
                          "/check_xarray.py' '" + s.path + "' " + vars + " 11 2>&1";
        FILE *p = popen(cmd.c_str(), "r");
        ASSERT_NE(p, nullptr);
        std::string output;
        char buf[512];
        while (fgets(buf, sizeof buf, p))
            output += buf;
        int status = pclose(p);
        ASSERT_TRUE(WIFEXITED(status)) << output;
        if (WEXITSTATUS(status) == 77)
            GTEST_SKIP() << "xarray not available to " << ENSOL_PYTHON << ": " << output;
        EXPECT_EQ(WEXITSTATUS(status), 0) << cmd << "\n" << output;
    }
}
#else
TEST(ncwriter, XarrayOpensTheFile)
{
    GTEST_SKIP() << "no python3 found at configure time: xarray check not run";
}
#endif
