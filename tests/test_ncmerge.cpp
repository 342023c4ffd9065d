/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Joining ensemble pieces: the merged file is the file one process writes,
// value for value and chunk for chunk; pieces that do not make one complete
// ensemble of one run are refused, naming the file, and leave nothing.
#include <gtest/gtest.h>

#include "test_support.h"

#include <netcdf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include "core/models.h"
#include "io/ncmerge.h"
#include "io/ncwriter.h"
#include "stats/moments.h"
}

namespace {

using ensol_test::exists;
using ensol_test::read_all;
using ensol_test::sample_value;
using ensol_test::TempDir;
using ensol_test::text_att;

// One run's settings; write() produces its whole file or one piece of it.
struct Ensemble : ensol_test::SampleSpec {
    int nvars = 0;
    long long members = 0, ntimes = 0;
    std::vector<double> rtol, atol;
    std::vector<ens_moments> moments; // (time, var) over all members
    ens_nc_adaptive adaptive{};

    Ensemble(const char *model_name, int nv, long long m, long long t, int disk_double)
        : SampleSpec(model_name, nv, m, t, disk_double, "ensol run --members 30 --test"),
          nvars(nv), members(m), ntimes(t)
    {
        if (!model)
            return;
        for (int v = 0; v < nvars; v++) {
            rtol.push_back(1e-6);
            atol.push_back(1e-9 * (v + 1));
        }
        adaptive = {rtol.data(), atol.data(), 1e-8, 0.5, 100000};
        spec.write_stats = 1;
        spec.output_mode = "both";
        moments.resize((size_t)(ntimes * nvars));
        for (auto &x : moments)
            ens_moments_init(&x);
        for (long long i = 0; i < members; i++)
            for (long long k = 0; k < ntimes; k++)
                for (int v = 0; v < nvars; v++)
                    ens_moments_push(&moments[(size_t)(k * nvars + v)], sample_value(i, k, v));
    }
    void vary(const char *name)
    {
        for (int p = 0; p < model->nparams; p++)
            if (std::string(model->param_names[p]) == name) {
                SampleSpec::vary(p);
                spec.param_variation = "per member";
            }
    }
    void with_adaptive()
    {
        spec.adaptive = &adaptive;
        spec.integrator = "dopri5";
    }

    // The whole ensemble (count 0) or members [first, first + count), in
    // batches of `batch` members as the scheduler hands them over.
    ::testing::AssertionResult write(const std::string &path, long long first = 0,
                                     long long count = 0,
                                     ens_nc_outcome outcome = ENS_NC_COMMIT) const
    {
        ens_nc_spec s = spec;
        s.path = path.c_str();
        s.first_member = count > 0 ? first : 0;
        s.piece_members = count;
        // Only the piece at member 0 carries the statistics.
        s.write_stats = spec.write_stats && s.first_member == 0;
        const long long m0 = s.first_member, n = count > 0 ? count : members;
        ens_nc_writer *w = nullptr;
        ens_error err{};
        if (ens_nc_open(&s, &w, &err) != ENS_OK)
            return ::testing::AssertionFailure() << "ens_nc_open " << path << ": " << err.msg;
        const long long batch = 300;
        for (long long b = m0; b < m0 + n; b += batch) {
            const long long c = std::min(batch, m0 + n - b);
            std::vector<double> states((size_t)(c * ntimes * nvars));
            for (long long i = 0; i < c; i++)
                for (long long k = 0; k < ntimes; k++)
                    for (int v = 0; v < nvars; v++)
                        states[(size_t)((i * ntimes + k) * nvars + v)] = sample_value(b + i, k, v);
            std::vector<double> params((size_t)(model->nparams * c));
            for (int p = 0; p < model->nparams; p++)
                for (long long i = 0; i < c; i++)
                    params[(size_t)(p * c + i)] = varies[(size_t)p]
                                                      ? 20.0 + p + 0.5 * (double)(b + i)
                                                      : param_values[(size_t)p];
            std::vector<int> status((size_t)c);
            std::vector<long long> acc((size_t)c), rej((size_t)c);
            std::vector<double> fail((size_t)c);
            for (long long i = 0; i < c; i++) {
                status[(size_t)i] = (int)((b + i) % 5);
                acc[(size_t)i] = 100 + b + i;
                rej[(size_t)i] = (b + i) % 7;
                fail[(size_t)i] = status[(size_t)i] ? 0.5 * (double)(b + i) : NAN;
            }
            ens_member_stats ms{status.data(), acc.data(), rej.data(), fail.data()};
            if (ens_nc_write_batch(w, b, c, ntimes, states.data(), 1, params.data(), &err) !=
                    ENS_OK ||
                ens_nc_write_members(w, b, c, &ms, &err) != ENS_OK) {
                ens_nc_close(w, ENS_NC_DISCARD, nullptr, nullptr);
                return ::testing::AssertionFailure() << "writing " << path << ": " << err.msg;
            }
        }
        if (ens_nc_write_stats(w, ntimes, moments.data(), &err) != ENS_OK) {
            ens_nc_close(w, ENS_NC_DISCARD, nullptr, nullptr);
            return ::testing::AssertionFailure() << "statistics " << path << ": " << err.msg;
        }
        ens_nc_incomplete inc{};
        inc.reason = "interrupted by SIGINT";
        inc.members_partial = n;
        inc.last_time = times.back();
        if (ens_nc_close(w, outcome, &inc, &err) != ENS_OK)
            return ::testing::AssertionFailure() << "closing " << path << ": " << err.msg;
        return ::testing::AssertionSuccess();
    }
};

// Pieces of `run` with the given member counts, named PREFIX.rankN.nc.
std::vector<std::string> write_pieces(const Ensemble &run, const TempDir &dir,
                                      const std::string &prefix,
                                      const std::vector<long long> &sizes)
{
    std::vector<std::string> paths;
    long long first = 0;
    for (size_t i = 0; i < sizes.size(); i++) {
        std::string p = dir.file(prefix + ".rank" + std::to_string(i) + ".nc");
        EXPECT_TRUE(run.write(p, first, sizes[i]));
        paths.push_back(p);
        first += sizes[i];
    }
    return paths;
}

ens_status merge(const std::string &out, const std::vector<std::string> &pieces,
                 ens_error *err, const char *history = "ensol merge --test",
                 ens_merge_progress_fn progress = nullptr, void *user = nullptr)
{
    std::vector<const char *> p;
    for (const auto &s : pieces)
        p.push_back(s.c_str());
    return ens_nc_merge(out.c_str(), p.data(), (int)p.size(), history, progress, user, err);
}

// ---- reading files back ---------------------------------------------------

// Type, length and raw bytes of an attribute.
std::string att_bytes(int ncid, int varid, const char *name)
{
    nc_type type = NC_NAT;
    size_t len = 0, size = 0;
    if (nc_inq_att(ncid, varid, name, &type, &len) != NC_NOERR ||
        nc_inq_type(ncid, type, nullptr, &size) != NC_NOERR)
        return "<missing>";
    std::string bytes(len * size, '\0');
    if (len && nc_get_att(ncid, varid, name, &bytes[0]) != NC_NOERR)
        return "<unreadable>";
    return std::to_string(type) + ":" + std::to_string(len) + ":" + bytes;
}

std::vector<std::string> att_names(int ncid, int varid)
{
    int n = 0;
    std::vector<std::string> names;
    if (varid == NC_GLOBAL ? nc_inq_natts(ncid, &n) : nc_inq_varnatts(ncid, varid, &n))
        return names;
    for (int i = 0; i < n; i++) {
        char name[NC_MAX_NAME + 1];
        if (nc_inq_attname(ncid, varid, i, name) == NC_NOERR)
            names.push_back(name);
    }
    return names;
}

std::string dim_name(int ncid, int dim)
{
    char name[NC_MAX_NAME + 1] = "";
    nc_inq_dimname(ncid, dim, name);
    return name;
}

struct VarInfo {
    std::string name;
    nc_type type = NC_NAT;
    std::vector<std::string> dims;
    std::vector<size_t> lens;
    int storage = -1;
    std::vector<size_t> chunks;
    int shuffle = -1, deflate = -1, level = -1, qmode = -1, nsd = -1, no_fill = -1;
    std::string data; // raw values
};

::testing::AssertionResult read_var(int ncid, int v, VarInfo &out)
{
    char name[NC_MAX_NAME + 1];
    int nd = 0, dims[NC_MAX_VAR_DIMS];
    if (nc_inq_var(ncid, v, name, &out.type, &nd, dims, nullptr) != NC_NOERR)
        return ::testing::AssertionFailure() << "nc_inq_var " << v;
    out.name = name;
    size_t n = 1, size = 0;
    for (int i = 0; i < nd; i++) {
        size_t len = 0;
        nc_inq_dimlen(ncid, dims[i], &len);
        out.dims.push_back(dim_name(ncid, dims[i]));
        out.lens.push_back(len);
        n *= len;
    }
    out.chunks.assign((size_t)std::max(nd, 1), 0);
    if (nc_inq_var_chunking(ncid, v, &out.storage, out.chunks.data()) != NC_NOERR ||
        nc_inq_var_deflate(ncid, v, &out.shuffle, &out.deflate, &out.level) != NC_NOERR ||
        nc_inq_var_quantize(ncid, v, &out.qmode, &out.nsd) != NC_NOERR ||
        nc_inq_var_fill(ncid, v, &out.no_fill, nullptr) != NC_NOERR ||
        nc_inq_type(ncid, out.type, nullptr, &size) != NC_NOERR)
        return ::testing::AssertionFailure() << "storage of " << name;
    if (out.storage != NC_CHUNKED)
        out.chunks.clear();
    if (!out.deflate)
        out.level = 0;
    out.data.assign(n * size, '\0');
    if (n && nc_get_var(ncid, v, &out.data[0]) != NC_NOERR)
        return ::testing::AssertionFailure() << "values of " << name;
    return ::testing::AssertionSuccess();
}

// The merged file against the single-process file: every dimension,
// variable, value, attribute, chunk shape and filter; the global attributes
// but history and date_created.
void expect_same_file(const std::string &merged, const std::string &whole)
{
    int a, b;
    ASSERT_EQ(nc_open(merged.c_str(), NC_NOWRITE, &a), NC_NOERR) << merged;
    ASSERT_EQ(nc_open(whole.c_str(), NC_NOWRITE, &b), NC_NOERR) << whole;
    int fa = 0, fb = 0;
    nc_inq_format(a, &fa);
    nc_inq_format(b, &fb);
    EXPECT_EQ(fa, NC_FORMAT_NETCDF4);
    EXPECT_EQ(fa, fb);

    int nda = 0, ndb = 0, nva = 0, nvb = 0;
    nc_inq_ndims(a, &nda);
    nc_inq_ndims(b, &ndb);
    EXPECT_EQ(nda, ndb);
    for (int d = 0; d < std::min(nda, ndb); d++) {
        char na[NC_MAX_NAME + 1], nb[NC_MAX_NAME + 1];
        size_t la = 0, lb = 0;
        nc_inq_dim(a, d, na, &la);
        nc_inq_dim(b, d, nb, &lb);
        EXPECT_STREQ(na, nb) << "dimension " << d;
        EXPECT_EQ(la, lb) << "dimension " << na;
    }

    nc_inq_nvars(a, &nva);
    nc_inq_nvars(b, &nvb);
    EXPECT_EQ(nva, nvb);
    for (int v = 0; v < std::min(nva, nvb); v++) {
        VarInfo x, y;
        ASSERT_TRUE(read_var(a, v, x));
        ASSERT_TRUE(read_var(b, v, y));
        SCOPED_TRACE("variable " + y.name);
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.type, y.type);
        EXPECT_EQ(x.dims, y.dims);
        EXPECT_EQ(x.lens, y.lens);
        EXPECT_EQ(x.storage, y.storage);
        EXPECT_EQ(x.chunks, y.chunks);
        EXPECT_EQ(x.shuffle, y.shuffle);
        EXPECT_EQ(x.deflate, y.deflate);
        EXPECT_EQ(x.level, y.level);
        EXPECT_EQ(x.qmode, y.qmode);
        EXPECT_EQ(x.nsd, y.nsd);
        EXPECT_EQ(x.no_fill, y.no_fill);
        EXPECT_TRUE(x.data == y.data) << "values differ";
        std::vector<std::string> ax = att_names(a, v), ay = att_names(b, v);
        EXPECT_EQ(ax, ay);
        for (const auto &n : ay)
            EXPECT_EQ(att_bytes(a, v, n.c_str()), att_bytes(b, v, n.c_str())) << n;
    }

    auto globals = [](int ncid) {
        std::vector<std::string> names = att_names(ncid, NC_GLOBAL);
        names.erase(std::remove_if(names.begin(), names.end(),
                                   [](const std::string &n) {
                                       return n == "history" || n == "date_created";
                                   }),
                    names.end());
        return names;
    };
    std::vector<std::string> ga = globals(a), gb = globals(b);
    EXPECT_EQ(ga, gb);
    for (const auto &n : gb)
        EXPECT_EQ(att_bytes(a, NC_GLOBAL, n.c_str()), att_bytes(b, NC_GLOBAL, n.c_str()))
            << "global attribute " << n;
    EXPECT_NE(nc_inq_att(a, NC_GLOBAL, ENS_NC_PIECE_FIRST, nullptr, nullptr), NC_NOERR);
    EXPECT_NE(nc_inq_att(a, NC_GLOBAL, ENS_NC_PIECE_TOTAL, nullptr, nullptr), NC_NOERR);
    nc_close(a);
    nc_close(b);
}

// history: "<UTC stamp>: <merge command>\n<history of the piece at member 0>".
void expect_history(const std::string &merged, const std::string &piece0, const std::string &line)
{
    int a, p;
    ASSERT_EQ(nc_open(merged.c_str(), NC_NOWRITE, &a), NC_NOERR);
    ASSERT_EQ(nc_open(piece0.c_str(), NC_NOWRITE, &p), NC_NOERR);
    std::string h = text_att(a, NC_GLOBAL, "history"), old = text_att(p, NC_GLOBAL, "history");
    nc_close(a);
    nc_close(p);
    ASSERT_GE(h.size(), 22u) << h;
    EXPECT_EQ(h[4], '-');
    EXPECT_EQ(h[7], '-');
    EXPECT_EQ(h[10], 'T');
    EXPECT_EQ(h.substr(19, 3), "Z: ");
    EXPECT_EQ(h.substr(22), line + "\n" + old);
    EXPECT_NE(old.find("ensol run"), std::string::npos) << old;
}

// Members per chunk of a (time, member) state variable.
size_t state_member_chunk(const std::string &path, const char *var)
{
    int ncid, id, storage = -1;
    size_t chunks[3] = {0, 0, 0};
    if (nc_open(path.c_str(), NC_NOWRITE, &ncid) != NC_NOERR)
        return 0;
    if (nc_inq_varid(ncid, var, &id) != NC_NOERR ||
        nc_inq_var_chunking(ncid, id, &storage, chunks) != NC_NOERR)
        chunks[1] = 0;
    nc_close(ncid);
    return chunks[1];
}

// A refused merge: the status, the message (one line) naming `mentions`,
// and neither OUTPUT nor OUTPUT.partial left.
void expect_refused(const std::string &out, const std::vector<std::string> &pieces,
                    ens_status want, const std::vector<std::string> &mentions)
{
    ens_error err{};
    ens_status st = merge(out, pieces, &err);
    EXPECT_EQ(st, want) << ens_status_string(st) << ": " << err.msg;
    std::string msg = err.msg;
    for (const auto &m : mentions)
        EXPECT_NE(msg.find(m), std::string::npos) << "no \"" << m << "\" in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_FALSE(exists(out)) << out;
    EXPECT_FALSE(exists(out + ".partial")) << out << ".partial";
}

} // namespace

// ---- merging ---------------------------------------------------------------

TEST(ncmerge, Lorenz63PiecesMakeTheSingleProcessFile)
{
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    // 2500 members: the whole file's member chunk (2185) is neither a
    // piece's size nor aligned with the piece boundaries.
    Ensemble run("lorenz63", 3, 2500, 30, 1);
    ASSERT_NE(run.model, nullptr);
    run.vary("rho");
    run.with_adaptive();
    std::string whole = dir.file("whole.nc"), out = dir.file("merged.nc");
    ASSERT_TRUE(run.write(whole));
    auto p = write_pieces(run, dir, "l63", {1000, 700, 800});
    ASSERT_EQ(p.size(), 3u);
    std::vector<std::string> before;
    for (const auto &f : p)
        before.push_back(read_all(f));
    EXPECT_NE(state_member_chunk(p[0], "x"), state_member_chunk(whole, "x"))
        << "the pieces must be chunked differently for this test to mean something";

    ens_error err{};
    ASSERT_EQ(merge(out, {p[2], p[0], p[1]}, &err), ENS_OK) << err.msg;
    EXPECT_FALSE(exists(out + ".partial"));
    expect_same_file(out, whole);
    expect_history(out, p[0], "ensol merge --test");
    EXPECT_EQ(state_member_chunk(out, "x"), state_member_chunk(whole, "x"));
    for (size_t i = 0; i < p.size(); i++)
        EXPECT_TRUE(read_all(p[i]) == before[i]) << "piece " << p[i] << " was changed";
}

// Progress: fractions that never go back, ending at 1; a non-zero return
// stops the merge and leaves no file.
struct Fractions {
    std::vector<double> seen;
    size_t stop_at = 0; // 0: never
};

int record_fraction(double fraction, void *user)
{
    auto *f = static_cast<Fractions *>(user);
    f->seen.push_back(fraction);
    return f->stop_at > 0 && f->seen.size() >= f->stop_at;
}

TEST(ncmerge, ProgressReachesOneAndCanStop)
{
    TempDir dir;
    Ensemble run("lorenz63", 3, 600, 20, 1);
    ASSERT_NE(run.model, nullptr);
    std::string whole = dir.file("whole.nc"), out = dir.file("merged.nc");
    ASSERT_TRUE(run.write(whole));
    auto p = write_pieces(run, dir, "pr", {200, 200, 200});
    Fractions all;
    ens_error err{};
    ASSERT_EQ(merge(out, p, &err, "h", record_fraction, &all), ENS_OK) << err.msg;
    ASSERT_GE(all.seen.size(), 3u); // at least once per piece
    EXPECT_TRUE(std::is_sorted(all.seen.begin(), all.seen.end()));
    EXPECT_GT(all.seen.front(), 0.0);
    EXPECT_DOUBLE_EQ(all.seen.back(), 1.0);
    expect_same_file(out, whole);

    std::remove(out.c_str());
    Fractions stop;
    stop.stop_at = 2;
    EXPECT_EQ(merge(out, p, &err, "h", record_fraction, &stop), ENS_ERR_INTERRUPTED);
    EXPECT_EQ(stop.seen.size(), 2u);
    EXPECT_NE(std::string(err.msg).find("stopped"), std::string::npos) << err.msg;
    EXPECT_FALSE(exists(out));
    EXPECT_FALSE(exists(out + ".partial"));
}

TEST(ncmerge, Lorenz96VectorPiecesInFloat)
{
    TempDir dir;
    Ensemble run("lorenz96", 40, 301, 11, 0);
    ASSERT_NE(run.model, nullptr);
    ASSERT_EQ(run.model->var_names[0], nullptr);
    run.vary("F");
    std::string whole = dir.file("whole.nc"), out = dir.file("merged.nc");
    ASSERT_TRUE(run.write(whole));
    auto p = write_pieces(run, dir, "l96", {100, 150, 51});
    ens_error err{};
    ASSERT_EQ(merge(out, {p[1], p[2], p[0]}, &err), ENS_OK) << err.msg;
    EXPECT_FALSE(exists(out + ".partial"));
    expect_same_file(out, whole);
    expect_history(out, p[0], "ensol merge --test");

    // The statistics come from the piece at member 0.
    int ncid, id;
    ASSERT_EQ(nc_open(out.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    ASSERT_EQ(nc_inq_varid(ncid, "X_mean", &id), NC_NOERR);
    EXPECT_EQ(text_att(ncid, id, "cell_methods"), "realization: mean");
    double mean = NAN;
    size_t at[2] = {3, 7};
    ASSERT_EQ(nc_get_var1_double(ncid, id, at, &mean), NC_NOERR);
    EXPECT_DOUBLE_EQ(mean, run.moments[3 * 40 + 7].mean);
    nc_close(ncid);
}

TEST(ncmerge, DeflateAndQuantizationCarryOver)
{
    TempDir dir;
    Ensemble run("lorenz96", 8, 517, 21, 1);
    ASSERT_NE(run.model, nullptr);
    run.spec.deflate_level = 1;
    run.spec.quantize_bits = 20;
    std::string whole = dir.file("whole.nc"), out = dir.file("merged.nc");
    ASSERT_TRUE(run.write(whole));
    auto p = write_pieces(run, dir, "q", {200, 117, 200});
    ens_error err{};
    ASSERT_EQ(merge(out, {p[2], p[1], p[0]}, &err), ENS_OK) << err.msg;
    expect_same_file(out, whole);

    int ncid, id, shuffle = 0, deflate = 0, level = 0, mode = 0, nsd = 0;
    ASSERT_EQ(nc_open(out.c_str(), NC_NOWRITE, &ncid), NC_NOERR);
    ASSERT_EQ(nc_inq_varid(ncid, "X", &id), NC_NOERR);
    ASSERT_EQ(nc_inq_var_deflate(ncid, id, &shuffle, &deflate, &level), NC_NOERR);
    ASSERT_EQ(nc_inq_var_quantize(ncid, id, &mode, &nsd), NC_NOERR);
    EXPECT_EQ(shuffle, 1);
    EXPECT_EQ(deflate, 1);
    EXPECT_EQ(level, 1);
    EXPECT_EQ(mode, NC_QUANTIZE_BITROUND);
    EXPECT_EQ(nsd, 20);
    // Rounded: the values are not the exact ones written.
    double got = 0;
    size_t at[3] = {5, 300, 3}; // (time, member, k)
    ASSERT_EQ(nc_get_var1_double(ncid, id, at, &got), NC_NOERR);
    EXPECT_NE(got, sample_value(300, 5, 3));
    EXPECT_NEAR(got, sample_value(300, 5, 3), 1e-5 * std::fabs(sample_value(300, 5, 3)));
    nc_close(ncid);
}

TEST(ncmerge, ManyPiecesInGlobOrder)
{
    TempDir dir;
    Ensemble run("lorenz63", 3, 23, 4, 1);
    ASSERT_NE(run.model, nullptr);
    std::string whole = dir.file("whole.nc"), out = dir.file("merged.nc");
    ASSERT_TRUE(run.write(whole));
    std::vector<long long> sizes(11, 2);
    sizes.back() = 3;
    auto p = write_pieces(run, dir, "out", sizes);
    // As a shell glob lists them: rank0, rank1, rank10, rank2, ...
    std::vector<std::string> glob = p;
    std::sort(glob.begin(), glob.end());
    ASSERT_EQ(glob[2], p[10]);
    ens_error err{};
    ASSERT_EQ(merge(out, glob, &err), ENS_OK) << err.msg;
    expect_same_file(out, whole);
}

TEST(ncmerge, OnePieceAndAnExistingOutputReplaced)
{
    TempDir dir;
    Ensemble run("lorenz63", 3, 7, 5, 1);
    ASSERT_NE(run.model, nullptr);
    std::string whole = dir.file("whole.nc"), out = dir.file("merged.nc");
    ASSERT_TRUE(run.write(whole));
    auto p = write_pieces(run, dir, "one", {7});
    {
        std::ofstream old(out, std::ios::binary);
        old << "an earlier result";
    }
    ens_error err{};
    ASSERT_EQ(merge(out, p, &err, nullptr), ENS_OK) << err.msg;
    expect_same_file(out, whole);
    expect_history(out, p[0], "ensol merge");
}

// ---- refusals ----------------------------------------------------------------

struct ncmerge_refuses : ::testing::Test {
    TempDir dir;
    Ensemble run{"lorenz63", 3, 30, 5, 1};
    std::vector<std::string> p; // members 0..9, 10..16, 17..29
    std::string out;
    void SetUp() override
    {
        ASSERT_FALSE(dir.path.empty());
        ASSERT_NE(run.model, nullptr);
        run.vary("rho");
        p = write_pieces(run, dir, "run", {10, 7, 13});
        ASSERT_EQ(p.size(), 3u);
        out = dir.file("merged.nc");
    }
};

TEST_F(ncmerge_refuses, MissingPieces)
{
    expect_refused(out, {p[2], p[0]}, ENS_ERR_INVALID_ARGUMENT,
                   {"members 10..16 are in no piece", p[0], p[2]});
    expect_refused(out, {p[1], p[0]}, ENS_ERR_INVALID_ARGUMENT,
                   {"members 17..29 are in no piece", p[1]});
    expect_refused(out, {p[2], p[1]}, ENS_ERR_INVALID_ARGUMENT,
                   {"members 0..9 are in no piece", p[1]});
}

TEST_F(ncmerge_refuses, OverlappingPieces)
{
    std::string extra = dir.file("extra.nc");
    ASSERT_TRUE(run.write(extra, 5, 7));
    expect_refused(out, {p[0], p[1], extra, p[2]}, ENS_ERR_INVALID_ARGUMENT,
                   {"overlap", p[0], extra, "members 5..11"});
    // The same piece twice.
    expect_refused(out, {p[0], p[1], p[2], p[1]}, ENS_ERR_INVALID_ARGUMENT,
                   {"given twice", p[1]});
}

TEST_F(ncmerge_refuses, PiecesOfDifferentRuns)
{
    struct Case {
        const char *name;
        void (*change)(Ensemble &);
        const char *mention;
    } cases[] = {
        {"seed", [](Ensemble &r) { r.spec.seed = 42; }, "global attribute seed"},
        {"dt", [](Ensemble &r) { r.spec.dt = 0.02; }, "global attribute dt"},
        {"disk type", [](Ensemble &r) { r.spec.disk_double = 0; },
         "variable x is double(time, member) in the first, float(time, member) in the second"},
        {"integrator", [](Ensemble &r) { r.spec.integrator = "euler"; },
         "global attribute integrator"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        Ensemble other("lorenz63", 3, 30, 5, 1);
        other.vary("rho");
        c.change(other);
        std::string f = dir.file(std::string("other_") + c.name + ".nc");
        ASSERT_TRUE(other.write(f, 10, 7));
        expect_refused(out, {p[0], f, p[2]}, ENS_ERR_INVALID_ARGUMENT,
                       {"not pieces of one run", c.mention, p[0], f});
    }

    // Another ensemble size.
    Ensemble bigger("lorenz63", 3, 31, 5, 1);
    bigger.vary("rho");
    std::string f = dir.file("bigger.nc");
    ASSERT_TRUE(bigger.write(f, 17, 14));
    expect_refused(out, {p[0], p[1], f}, ENS_ERR_INVALID_ARGUMENT, {"31", f});

    // Other times: first one more, then the same number at other values.
    Ensemble longer("lorenz63", 3, 30, 6, 1);
    longer.vary("rho");
    f = dir.file("longer.nc");
    ASSERT_TRUE(longer.write(f, 10, 7));
    expect_refused(out, {p[0], f, p[2]}, ENS_ERR_INVALID_ARGUMENT, {"dimension time", f});
    Ensemble shifted("lorenz63", 3, 30, 5, 1);
    shifted.vary("rho");
    shifted.times[4] = 1.5;
    f = dir.file("shifted.nc");
    ASSERT_TRUE(shifted.write(f, 10, 7));
    expect_refused(out, {p[0], f, p[2]}, ENS_ERR_INVALID_ARGUMENT, {"time[4]", f});

    // rho shared instead of varying: a variable missing.
    Ensemble shared("lorenz63", 3, 30, 5, 1);
    f = dir.file("shared.nc");
    ASSERT_TRUE(shared.write(f, 10, 7));
    expect_refused(out, {p[0], f, p[2]}, ENS_ERR_INVALID_ARGUMENT, {"variable rho", f});
}

TEST_F(ncmerge_refuses, StoppedPiece)
{
    std::string stopped = dir.file("again.rank1.nc");
    ASSERT_TRUE(run.write(stopped, 10, 7, ENS_NC_KEEP_PARTIAL));
    ASSERT_TRUE(exists(stopped + ".partial"));
    const std::string before = read_all(stopped + ".partial");
    expect_refused(out, {p[0], stopped + ".partial", p[2]}, ENS_ERR_INVALID_ARGUMENT,
                   {stopped + ".partial", "stopped before its end", "interrupted by SIGINT"});
    // Alone, with nothing else to compare it with.
    Ensemble small("lorenz63", 3, 4, 5, 1);
    std::string alone = dir.file("alone.nc");
    ASSERT_TRUE(small.write(alone, 0, 4, ENS_NC_KEEP_PARTIAL));
    expect_refused(out, {alone + ".partial"}, ENS_ERR_INVALID_ARGUMENT,
                   {alone + ".partial", "stopped before its end"});
    EXPECT_TRUE(read_all(stopped + ".partial") == before) << "a piece must stay as it was";
}

TEST_F(ncmerge_refuses, FileThatIsNotAPiece)
{
    std::string whole = dir.file("whole.nc");
    ASSERT_TRUE(run.write(whole));
    expect_refused(out, {p[0], whole, p[1], p[2]}, ENS_ERR_INVALID_ARGUMENT,
                   {whole, "not a piece", ENS_NC_PIECE_FIRST});
}

TEST_F(ncmerge_refuses, UnreadableFiles)
{
    std::string missing = dir.file("no_such_piece.nc");
    expect_refused(out, {p[0], missing, p[2]}, ENS_ERR_IO, {missing, "No such file"});
    std::string text = dir.file("notes.nc");
    {
        std::ofstream f(text);
        f << "not a NetCDF file\n";
    }
    expect_refused(out, {p[0], p[1], p[2], text}, ENS_ERR_IO, {text});
}

TEST_F(ncmerge_refuses, PieceWithoutReadPermission)
{
    std::string locked = dir.file("locked.nc");
    ASSERT_TRUE(run.write(locked, 10, 7));
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    if (access(locked.c_str(), R_OK) == 0)
        GTEST_SKIP() << "running as root: permissions not enforced";
    expect_refused(out, {p[0], locked, p[2]}, ENS_ERR_IO, {locked, "Permission denied"});
}

TEST_F(ncmerge_refuses, OutputThatIsAPiece)
{
    const std::string before = read_all(p[1]);
    ens_error err{};
    EXPECT_EQ(merge(p[1], p, &err), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(err.msg).find(p[1]), std::string::npos) << err.msg;
    EXPECT_TRUE(read_all(p[1]) == before);
    EXPECT_FALSE(exists(p[1] + ".partial"));

    // The same file under another name: a hard link and a symbolic link.
    std::string hard = dir.file("hard.nc"), soft = dir.file("soft.nc");
    ASSERT_EQ(link(p[1].c_str(), hard.c_str()), 0);
    ASSERT_EQ(symlink(p[2].c_str(), soft.c_str()), 0);
    EXPECT_EQ(merge(hard, p, &err), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(err.msg).find(p[1]), std::string::npos) << err.msg;
    EXPECT_EQ(merge(soft, p, &err), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(err.msg).find(p[2]), std::string::npos) << err.msg;
    EXPECT_FALSE(exists(hard + ".partial"));
    EXPECT_FALSE(exists(soft + ".partial"));
    EXPECT_TRUE(read_all(p[1]) == before);

    // A piece named like the output's temporary file.
    std::string renamed = out + ".partial";
    ASSERT_EQ(rename(p[0].c_str(), renamed.c_str()), 0);
    const std::string piece0 = read_all(renamed);
    EXPECT_EQ(merge(out, {renamed, p[1], p[2]}, &err), ENS_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(err.msg).find(renamed), std::string::npos) << err.msg;
    EXPECT_TRUE(read_all(renamed) == piece0);
    EXPECT_FALSE(exists(out));
}

TEST_F(ncmerge_refuses, UnwritableOutput)
{
    std::string nowhere = dir.file("no/such/dir/merged.nc");
    expect_refused(nowhere, p, ENS_ERR_IO, {nowhere + ".partial", "No such file"});
}

TEST_F(ncmerge_refuses, NoPieces)
{
    ens_error err{};
    EXPECT_EQ(ens_nc_merge(out.c_str(), nullptr, 0, "x", nullptr, nullptr, &err),
              ENS_ERR_INVALID_ARGUMENT);
    EXPECT_FALSE(exists(out));
}
