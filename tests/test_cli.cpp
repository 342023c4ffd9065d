/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// The ensol command-line tool, run as a child process in a fresh temporary
// directory: exit status, stdout and stderr, and the files it leaves.
#include <gtest/gtest.h>

#include "test_support.h"

#include <fcntl.h>
#include <netcdf.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ensol/ensol.h"

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

namespace {

struct CliResult {
    int status = -1;  // exit status, or 128 + signal number
    std::string out;  // stdout
    std::string err;  // stderr
};

std::string read_text(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string join(const Args &args)
{
    std::string s = "ensol";
    for (const auto &a : args)
        s += " " + a;
    return s;
}

std::vector<std::string> lines_of(const std::string &text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

bool backend_built_in(const std::string &name)
{
    for (int i = 0; i < ens_backend_count(); i++)
        if (name == ens_backend_name(i))
            return true;
    return false;
}

// Lower case so that the test names match `ctest -R cli`.
class cli : public ::testing::Test {
protected:
    fs::path base;  // holds the captured output
    fs::path work;  // the child's working directory: only what ensol writes

    void SetUp() override
    {
        const char *tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ensol_cli_XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        base = tmpl;
        work = base / "work";
        fs::create_directory(work);
    }

    void TearDown() override { fs::remove_all(base); }

    pid_t start(const Args &args)
    {
        return ensol_test::spawn_ensol(args, work, base / "stdout", base / "stderr");
    }

    CliResult finish(pid_t pid)
    {
        CliResult r;
        int wstatus = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (waitpid(pid, &wstatus, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill(pid, SIGKILL);
                waitpid(pid, &wstatus, 0);
                ADD_FAILURE() << "ensol did not finish within 60 s";
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        r.out = read_text(base / "stdout");
        r.err = read_text(base / "stderr");
        return r;
    }

    CliResult run(const Args &args)
    {
        pid_t pid = start(args);
        EXPECT_GT(pid, 0);
        return pid > 0 ? finish(pid) : CliResult{};
    }

    std::vector<std::string> files() const
    {
        std::vector<std::string> names;
        for (const auto &e : fs::directory_iterator(work))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

    // Bad input: the status, one line on stderr that starts "ensol: " and
    // names each of `mentions`, nothing on stdout, no file left behind.
    void expect_rejected(const Args &args, int status, const Args &mentions)
    {
        SCOPED_TRACE(join(args));
        CliResult r = run(args);
        EXPECT_EQ(r.status, status) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.rfind("ensol: ", 0), 0u) << r.err;
        for (const auto &m : mentions)
            EXPECT_NE(r.err.find(m), std::string::npos) << "'" << m << "' not in: " << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_FALSE(fs::exists(work / "out.nc"));
        EXPECT_FALSE(fs::exists(work / "out.nc.partial"));
        EXPECT_EQ(files(), std::vector<std::string>{});
    }

    // A signal stops the run between batches: no file, exit 128 + signal.
    // The run stops at the end of the interval in flight: what was computed
    // stays in NAME.partial, readable and marked incomplete, and nothing
    // appears under the final name.
    void stop_with(int sig, const char *word)
    {
        // Far more work than the test lets it do; small batches so the
        // progress callback, where the stop happens, comes often.
        pid_t pid = start({"run", "--members", "1000000", "--batch-members", "1000", "--steps",
                           "100000", "--save-every", "10000", "-o", "big.nc"});
        ASSERT_GT(pid, 0);
        // The plan line is printed once the handlers are installed.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (read_text(base / "stderr").find('\n') == std::string::npos &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        kill(pid, sig);
        CliResult r = finish(pid);
        EXPECT_EQ(r.status, 128 + sig) << r.err;
        std::vector<std::string> lines = lines_of(r.err);
        ASSERT_FALSE(lines.empty());
        EXPECT_NE(lines.back().find(word), std::string::npos) << r.err;
        EXPECT_NE(lines.back().find("big.nc.partial"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
        ASSERT_EQ(files(), std::vector<std::string>{"big.nc.partial"});

        int ncid = -1;
        ASSERT_EQ(nc_open((work / "big.nc.partial").c_str(), NC_NOWRITE, &ncid), NC_NOERR);
        size_t len = 0;
        EXPECT_EQ(nc_inq_attlen(ncid, NC_GLOBAL, "incomplete", &len), NC_NOERR)
            << "an interrupted file says so";
        long long complete = -1, partial = -1;
        EXPECT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "members_complete", &complete), NC_NOERR);
        EXPECT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "members_partial", &partial), NC_NOERR);
        EXPECT_GE(complete, 0);
        EXPECT_LT(complete, 1000000);
        double last_time = -1;
        EXPECT_EQ(nc_get_att_double(ncid, NC_GLOBAL, "last_time_written", &last_time), NC_NOERR);
        EXPECT_GE(last_time, 0.0);
        // The first member's initial state was written, and is the base
        // state plus its perturbation: a real value, not a fill value.
        int varid = -1;
        ASSERT_EQ(nc_inq_varid(ncid, "x", &varid), NC_NOERR);
        size_t start[2] = {0, 0};
        double x0 = 0;
        EXPECT_EQ(nc_get_var1_double(ncid, varid, start, &x0), NC_NOERR);
        EXPECT_GT(x0, -15.0);
        EXPECT_LT(x0, -5.0);
        nc_close(ncid);
    }
};

// A run that would take well under a second if the CLI wrongly accepted
// the bad option appended to it (later options override earlier ones).
Args tiny_run(const Args &extra)
{
    Args a = {"run", "--members", "10", "--steps", "10", "--save-every", "5", "-o", "out.nc"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

struct BadCase {
    const char *name;
    Args extra;      // appended to tiny_run
    int status;      // expected exit status
    Args mentions;   // substrings the message must contain
};

// Shown by gtest (and ctest's test list) instead of the bytes of the case.
void PrintTo(const BadCase &c, std::ostream *os) { *os << c.name; }

class BadInput : public cli, public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadInput, OneLineAndNoFile)
{
    const BadCase &c = GetParam();
    expect_rejected(tiny_run(c.extra), c.status, c.mentions);
}

const BadCase bad_cases[] = {
    {"unknown_model", {"--model", "lorenz99"}, 2, {"--model", "lorenz99"}},
    {"unknown_option", {"--frobnicate"}, 2, {"--frobnicate"}},
    {"unknown_short_option", {"-x"}, 2, {"-x"}},
    {"flag_with_value", {"--quiet=3"}, 2, {"--quiet=3"}},
    {"missing_value", {"--dt"}, 2, {"--dt"}},
    {"positional_argument", {"extra"}, 2, {"extra"}},
    {"members_zero", {"--members", "0"}, 2, {"--members 0"}},
    {"members_negative", {"--members", "-5"}, 2, {"--members -5"}},
    {"members_trailing_junk", {"--members", "12abc"}, 2, {"--members 12abc"}},
    {"members_empty", {"--members", ""}, 2, {"--members"}},
    {"members_blank", {"--members", " 12"}, 2, {"--members  12"}},
    {"dt_zero", {"--dt", "0"}, 2, {"--dt 0"}},
    {"dt_negative", {"--dt", "-0.1"}, 2, {"--dt -0.1"}},
    {"dt_nan", {"--dt", "nan"}, 2, {"--dt nan"}},
    {"dt_inf", {"--dt", "inf"}, 2, {"--dt inf"}},
    {"dt_overflow", {"--dt", "1e999"}, 2, {"--dt 1e999"}},
    {"dt_trailing_junk", {"--dt", "0.1s"}, 2, {"--dt 0.1s"}},
    {"steps_zero", {"--steps", "0"}, 2, {"--steps 0"}},
    {"steps_overflow", {"--steps", "99999999999999999999"}, 2, {"--steps 99999999999999999999"}},
    {"member_steps_overflow", {"--steps", "9223372036854775807", "--members", "4"}, 2,
     {"9223372036854775807", "overflow"}},
    {"save_every_beyond_steps", {"--steps", "10", "--save-every", "20"}, 2,
     {"--save-every 20", "10 steps"}},
    {"save_every_zero", {"--save-every", "0"}, 2, {"--save-every 0"}},
    {"unknown_integrator", {"--integrator", "heun"}, 2, {"--integrator heun"}},
    {"bad_precision", {"--precision", "half"}, 2, {"--precision half"}},
    {"bad_output_mode", {"--output-mode", "movie"}, 2, {"--output-mode movie"}},
    {"bad_output_type", {"--output-type", "int"}, 2, {"--output-type int"}},
    {"param_unknown_name", {"--param", "foo=1"}, 2, {"--param foo=1", "foo"}},
    {"param_bad_value", {"--param", "rho=abc"}, 2, {"--param rho=abc", "abc"}},
    {"param_no_value", {"--param", "rho"}, 2, {"--param rho", "NAME=VALUE"}},
    {"param_nan", {"--param", "rho=nan"}, 2, {"--param rho=nan"}},
    {"param_size_not_integer", {"--model", "lorenz96", "--param", "K=3.5"}, 2, {"--param K=3.5"}},
    {"sweep_one_bound", {"--sweep", "rho=20"}, 2, {"--sweep rho=20", "NAME=LO:HI[:N]"}},
    {"sweep_bad_count", {"--sweep", "rho=40:20:x"}, 2, {"--sweep rho=40:20:x", "'x'"}},
    {"sweep_too_many_fields", {"--sweep", "rho=1:2:3:4"}, 2, {"--sweep rho=1:2:3:4"}},
    {"sweep_no_name", {"--sweep", "=1:2"}, 2, {"--sweep =1:2"}},
    {"sweep_one_point", {"--sweep", "rho=20:40:1"}, 2, {"--sweep rho=20:40:1"}},
    {"sweep_unknown_name", {"--sweep", "foo=1:2:10"}, 2, {"--sweep foo=1:2:10", "foo"}},
    {"sweep_grid_mismatch", {"--sweep", "rho=20:40:11"}, 2, {"10", "11"}},
    {"three_sweeps",
     {"--sweep", "rho=1:2:2", "--sweep", "sigma=1:2:2", "--sweep", "beta=1:2:2"}, 2,
     {"--sweep beta=1:2:2"}},
    {"random_reversed", {"--random", "rho=3:1"}, 2, {"--random rho=3:1"}},
    {"random_malformed", {"--random", "rho=1"}, 2, {"--random rho=1"}},
    {"seed_negative", {"--seed", "-1"}, 2, {"--seed -1"}},
    {"seed_overflow", {"--seed", "18446744073709551616"}, 2, {"--seed 18446744073709551616"}},
    {"threads_negative", {"--threads", "-1"}, 2, {"--threads -1"}},
    {"threads_overflow", {"--threads", "99999999999"}, 2, {"--threads 99999999999"}},
    {"batch_members_negative", {"--batch-members", "-1"}, 2, {"--batch-members -1"}},
    {"perturb_negative", {"--perturb", "-1"}, 2, {"--perturb -1"}},
    {"base_state_wrong_count", {"--base-state", "1,2"}, 2, {"--base-state 1,2", "2 values"}},
    {"base_state_bad_value", {"--base-state", "1,x,2"}, 2, {"--base-state 1,x,2", "'x'"}},
    {"unknown_backend", {"--backend", "nosuch"}, 2, {"--backend nosuch"}},
    {"unwritable_output", {"-o", "/nonexistent-dir/x.nc"}, 1, {"/nonexistent-dir/x.nc"}},
    {"output_is_directory", {"-o", "."}, 2, {"--output .", "is a directory"}},
    {"quantize_beyond_float", {"--output-type", "float", "--quantize", "24"}, 2,
     {"--quantize 24", "23"}},
    {"rtol_with_euler", {"--integrator", "euler", "--rtol", "1e-3"}, 2, {"--rtol 1e-3", "dopri5"}},
    {"atol_with_rk4", {"--atol", "1e-9"}, 2, {"--atol 1e-9", "dopri5"}},
    {"dt_min_with_rk4", {"--dt-min", "0.001"}, 2, {"--dt-min 0.001", "dopri5"}},
    {"dt_max_with_euler", {"--integrator", "euler", "--dt-max", "1"}, 2, {"--dt-max 1"}},
    {"restart_is_output", {"--restart-out", "out.nc"}, 2, {"--restart-out out.nc", "is the output file"}},
    {"sweep_and_random_one_param", {"--sweep", "rho=20:40:10", "--random", "rho=1:2"}, 2,
     {"--random rho=1:2", "varied already"}},
    {"device_on_openmp", {"--backend", "openmp", "--device", "1"}, 2,
     {"--device 1", "openmp backend", "no devices"}},
    {"max_memory_below_one_member",
     {"--model", "lorenz96", "--param", "K=1000000", "--max-memory", "1M"}, 2,
     {"max memory = 1 MB", "one member with 3 saved times needs 64 MB"}},
    {"grouped_flags", {"-" + std::string(200, 'q')}, 2, {"too many options"}},
    {"members_fraction", {"--members", "1.5"}, 2, {"--members 1.5", "not a whole number"}},
    {"members_fraction_exponent", {"--members", "1.5e0"}, 2,
     {"--members 1.5e0", "not a whole number"}},
    {"members_exponent_overflow", {"--members", "1e30"}, 2, {"--members 1e30", "out of range"}},
    {"members_exponent_no_digits", {"--members", "1e"}, 2, {"--members 1e", "not an integer"}},
    {"steps_negative_exponent", {"--steps", "1e-2"}, 2, {"--steps 1e-2", "not a whole number"}},
    {"seed_exponent_overflow", {"--seed", "2e19"}, 2, {"--seed 2e19", "out of range"}},
    {"progress_unknown", {"--progress", "sometimes"}, 2,
     {"--progress sometimes", "auto, always or never"}},
    {"init_from_missing", {"--init-from", "no.nc"}, 1, {"--init-from no.nc", "No such file"}},
    {"larger_than_the_disk", {"--members", "10000000000", "--steps", "100"}, 2,
     {"--output out.nc", "GB free"}},
};

INSTANTIATE_TEST_SUITE_P(cli, BadInput, ::testing::ValuesIn(bad_cases),
                         [](const ::testing::TestParamInfo<BadCase> &info) {
                             return std::string(info.param.name);
                         });

TEST_F(cli, AbsentBackendIsARunFailure)
{
    for (const char *name : {"cuda", "opencl"}) {
        if (backend_built_in(name))
            continue;
        expect_rejected(tiny_run({"--backend", name}), 1, {"--backend", name});
    }
}

TEST_F(cli, UnknownCommand)
{
    expect_rejected({"frobnicate"}, 2, {"frobnicate"});
    expect_rejected({"info", "extra"}, 2, {"extra"});
    expect_rejected({"version", "extra"}, 2, {"extra"});
}

TEST_F(cli, Version)
{
    // "ensol X.Y.Z", with " (git DESCRIBE)" in a build from a checkout.
    const std::string expected = std::string("ensol ") + ens_version();
    for (const Args &args : {Args{"--version"}, Args{"version"}}) {
        CliResult r = run(args);
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.out.rfind(expected, 0), 0u) << r.out;
        const std::string rest = r.out.substr(std::min(expected.size(), r.out.size()));
        EXPECT_TRUE(rest == "\n" || (rest.rfind(" (git ", 0) == 0 && rest.size() > 8 &&
                                     rest.compare(rest.size() - 2, 2, ")\n") == 0))
            << r.out;
        EXPECT_EQ(r.err, "");
    }
}

TEST_F(cli, TopLevelHelp)
{
    for (const Args &args : {Args{}, Args{"help"}, Args{"--help"}, Args{"-h"}}) {
        SCOPED_TRACE(join(args));
        CliResult r = run(args);
        EXPECT_EQ(r.status, 0);
        for (const char *word : {"Usage: ensol", "run", "info", "version", "merge"})
            EXPECT_NE(r.out.find(word), std::string::npos) << word;
        EXPECT_EQ(r.err, "");
    }
}

TEST_F(cli, RunHelpListsEveryOptionModelAndExample)
{
    CliResult r = run({"run", "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.err, "");
    for (const char *opt :
         {"--model", "--members", "--steps", "--dt", "--integrator", "--precision", "--save-every",
          "--output-mode", "--output-type", "--seed", "--perturb", "--base-state", "--param",
          "--sweep", "--random", "--backend", "--threads", "--batch-members", "-o, --output",
          "-q, --quiet", "-h, --help", "[100000]", "[ensol_out.nc]"})
        EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
    for (int i = 0; i < ens_model_count(); i++)
        EXPECT_NE(r.out.find(ens_model_summary(i)), std::string::npos) << ens_model_name(i);
    EXPECT_NE(r.out.find("ensol run --sweep rho=20:40:1001 --perturb 0 -o rho_sweep.nc"),
              std::string::npos);
    EXPECT_EQ(files(), std::vector<std::string>{});
}

TEST_F(cli, InfoListsBackendsAndModels)
{
    CliResult r = run({"info"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find(ens_version()), std::string::npos);
    EXPECT_NE(r.out.find("openmp"), std::string::npos);
    for (const char *name : {"opencl", "cuda"}) {
        if (backend_built_in(name))
            continue;
        auto lines = lines_of(r.out);
        EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string &l) {
            return l.find(name) != std::string::npos && l.find("not built in") != std::string::npos;
        })) << name << " not reported as not built in:\n" << r.out;
    }
    for (int i = 0; i < ens_model_count(); i++)
        EXPECT_NE(r.out.find(ens_model_name(i)), std::string::npos);
    // How MPI ranks write: one shared file exactly when the library can.
    if (ens_has_parallel_io())
        EXPECT_NE(r.out.find("MPI: built in; ranks write one file together"), std::string::npos)
            << r.out;
    else
        EXPECT_TRUE(r.out.find("MPI: not built in") != std::string::npos ||
                    r.out.find("MPI: built in; ranks write one piece each") != std::string::npos)
            << r.out;
}

const Args tiny_ok = {"run", "--members", "100", "--steps", "20", "--save-every", "5", "-o",
                      "t.nc"};

TEST_F(cli, QuietRunWritesTheFileAndPrintsNothing)
{
    Args args = tiny_ok;
    args.push_back("-q");
    CliResult r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(files(), std::vector<std::string>{"t.nc"});
}

TEST_F(cli, RunPrintsPlanAndSummaryOnStderrOnly)
{
    Args args = tiny_ok;
    args.insert(args.end(), {"--backend", "openmp"});
    CliResult r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
    std::vector<std::string> lines = lines_of(r.err);
    ASSERT_EQ(lines.size(), 2u) << r.err;
    for (const char *word : {"lorenz63", "100 members", "20 steps", "openmp", "batch", "host memory", "t.nc"})
        EXPECT_NE(lines[0].find(word), std::string::npos) << word << " in " << lines[0];
    for (const char *word : {"ensol: wrote t.nc", "100 members", "openmp", "member-steps/s"})
        EXPECT_NE(lines[1].find(word), std::string::npos) << word << " in " << lines[1];
    EXPECT_EQ(files(), std::vector<std::string>{"t.nc"});
}

long long member_count(const fs::path &path)
{
    int nc, dim;
    size_t len = 0;
    if (nc_open(path.c_str(), NC_NOWRITE, &nc) != NC_NOERR)
        return -1;
    if (nc_inq_dimid(nc, "member", &dim) != NC_NOERR || nc_inq_dimlen(nc, dim, &len) != NC_NOERR)
        len = 0;
    nc_close(nc);
    return (long long)len;
}

TEST_F(cli, SweepWithoutMembersTakesTheGridSize)
{
    CliResult r = run({"run", "--sweep", "rho=20:40:11", "--steps", "20", "--save-every", "5",
                       "-q", "-o", "s.nc"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(files(), std::vector<std::string>{"s.nc"});
    EXPECT_EQ(member_count(work / "s.nc"), 11);
}

TEST_F(cli, SweepWithoutCountTakesOneValuePerMember)
{
    CliResult r = run({"run", "--sweep", "rho=20:40", "--members", "7", "--steps", "20",
                       "--save-every", "5", "-q", "-o", "s.nc"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(member_count(work / "s.nc"), 7);
}

TEST_F(cli, OptionOrderDoesNotMatter)
{
    // --param and --base-state before --model: the model is set first anyway.
    CliResult r = run({"run", "--param", "K=8", "--base-state", "8", "--model", "lorenz96",
                       "--members", "5", "--steps", "20", "--save-every", "5", "-q", "-o",
                       "l96.nc"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(member_count(work / "l96.nc"), 5);
}

TEST_F(cli, HistoryHoldsTheQuotedCommandLine)
{
    CliResult r = run({"run", "--members", "3", "--steps", "10", "--save-every", "5", "-q", "-o",
                       "my out.nc", "--base-state", "1"});
    ASSERT_EQ(r.status, 0) << r.err;
    int nc;
    ASSERT_EQ(nc_open((work / "my out.nc").c_str(), NC_NOWRITE, &nc), NC_NOERR);
    size_t len = 0;
    ASSERT_EQ(nc_inq_attlen(nc, NC_GLOBAL, "history", &len), NC_NOERR);
    std::string history(len, '\0');
    ASSERT_EQ(nc_get_att_text(nc, NC_GLOBAL, "history", history.data()), NC_NOERR);
    nc_close(nc);
    EXPECT_NE(history.find("ensol run --members 3 --steps 10 --save-every 5 -q -o 'my out.nc' "
                           "--base-state 1"),
              std::string::npos)
        << history;
}

TEST_F(cli, InterruptKeepsAPartialFileMarkedIncomplete) { stop_with(SIGINT, "interrupted"); }

TEST_F(cli, TerminateKeepsAPartialFileMarkedIncomplete) { stop_with(SIGTERM, "terminated"); }

// ensol merge joins the pieces MPI ranks write (tests/check_mpi.py runs it
// on real pieces); here what it must refuse, each with one line naming the
// problem and no output file.
TEST_F(cli, MergeRejectsBadCommandLines)
{
    expect_rejected({"merge"}, 2, {"merge", "OUTPUT", "PIECE"});
    expect_rejected({"merge", "out.nc"}, 2, {"OUTPUT", "PIECE"});
    expect_rejected({"merge", "--frobnicate", "out.nc", "a.nc"}, 2, {"--frobnicate"});
    expect_rejected({"merge", "out.nc", "missing.nc"}, 1, {"missing.nc"});
}

TEST_F(cli, MergeRejectsAFileThatIsNotAPiece)
{
    ASSERT_EQ(run({"run", "-q", "--members", "10", "--steps", "10", "-o", "whole.nc"}).status, 0);
    CliResult r = run({"merge", "out.nc", "whole.nc"});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("whole.nc"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not a piece"), std::string::npos) << r.err;
    EXPECT_EQ(files(), std::vector<std::string>{"whole.nc"});
}

TEST_F(cli, MergeHelp)
{
    CliResult r = run({"merge", "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("Usage: ensol merge"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--file-per-rank"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
}


bool same_bits(const std::vector<double> &a, const std::vector<double> &b)
{
    return !a.empty() && a.size() == b.size() &&
           std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// A dopri5 run continued from its restart file with neither --integrator
// nor --dt nor --rtol goes on with those the file records, step state
// included: the bits of the run made whole. Given ones win.
TEST_F(cli, RestartGoesOnWithTheRecordedIntegration)
{
    const Args dopri5 = {"--integrator", "dopri5", "--dt", "0.005", "--rtol", "1e-8",
                         "--atol", "1e-10", "--dt-max", "0.05"};
    auto run_ok = [&](Args args, const Args &extra) {
        args.insert(args.end(), extra.begin(), extra.end());
        CliResult r = run(args);
        EXPECT_EQ(r.status, 0) << join(args) << "\n" << r.err;
        return r;
    };
    const Args common = {"run", "--output-mode", "final", "--batch-members", "64"};
    Args whole = common, first = common;
    whole.insert(whole.end(), {"-q", "--members", "150", "--steps", "300", "-o", "whole.nc"});
    first.insert(first.end(), {"-q", "--members", "150", "--steps", "120", "-o", "first.nc",
                               "--restart-out", "r.nc"});
    run_ok(whole, dopri5);
    run_ok(first, dopri5);
    CliResult r = run_ok({"run", "--init-from", "r.nc", "--steps", "180", "--output-mode",
                          "final", "-o", "second.nc"},
                         {});
    EXPECT_NE(r.err.find("from r.nc x 180 steps (dopri5, dt 0.005, going on with its step state)"),
              std::string::npos)
        << r.err;
    for (const char *v : {"x", "y", "z", "accepted_steps"})
        EXPECT_TRUE(same_bits(ensol_test::read_var(work / "whole.nc", v), ensol_test::read_var(work / "second.nc", v)))
            << v << ": the continued run differs from the whole run";

    // Given settings win, and dopri5's are not forced on another integrator.
    run_ok({"run", "-q", "--init-from", "r.nc", "--steps", "180", "--output-mode", "final",
            "--integrator", "rk4", "-o", "rk4.nc"},
           {});
    EXPECT_FALSE(same_bits(ensol_test::read_var(work / "whole.nc", "x"), ensol_test::read_var(work / "rk4.nc", "x")));
    r = run_ok({"run", "--init-from", "r.nc", "--steps", "90", "--dt", "0.01", "--output-mode",
                "final", "-o", "dt.nc"},
               {});
    EXPECT_NE(r.err.find("x 90 steps (dopri5, dt 0.01) on"), std::string::npos) << r.err;
}

// A file made without ensol: the model's variables over member, (time,
// member) or (k, member), no ensol attributes, starts the same run as the
// ensol file it was made from (write_initial_file.py, with xarray).
#ifdef ENSOL_PYTHON
TEST_F(cli, InitialFileWrittenByXarray)
{
    const struct {
        Args model;
        const char *vars, *param;
    } cases[] = {{{"--model", "lorenz63", "--random", "rho=20:30"}, "x,y,z", "rho"},
                 {{"--model", "lorenz96", "--param", "K=6", "--random", "F=6:10"}, "X", "F"}};
    for (const auto &c : cases) {
        SCOPED_TRACE(c.vars);
        Args src = {"run", "-q", "--members", "37", "--steps", "40", "--integrator", "rk4",
                    "--output-mode", "final", "-o", "src.nc", "--restart-out", "r.nc"};
        src.insert(src.end(), c.model.begin(), c.model.end());
        ASSERT_EQ(run(src).status, 0);
        auto continued = [&](const std::string &from, const std::string &out) {
            Args a = {"run", "-q", "--init-from", from, "--integrator", "rk4", "--steps", "30",
                      "--output-mode", "final", "-o", out};
            a.insert(a.end(), c.model.begin(), c.model.begin() + 2);
            if (c.model.size() > 4)
                a.insert(a.end(), c.model.begin() + 2, c.model.begin() + 4); // K
            CliResult r = run(a);
            EXPECT_EQ(r.status, 0) << join(a) << "\n" << r.err;
        };
        continued("r.nc", "ref.nc");
        for (const std::string layout : {"member", "time_member", "values_first"}) {
            SCOPED_TRACE(layout);
            const std::string made = (work / (layout + ".nc")).string();
            const std::string cmd = std::string("'") + ENSOL_PYTHON + "' '" + ENSOL_TESTS_DIR +
                                    "/write_initial_file.py' '" + (work / "r.nc").string() +
                                    "' '" + made + "' " + layout + " " + c.vars + " 2>&1";
            std::string output;
            FILE *p = popen(cmd.c_str(), "r");
            ASSERT_NE(p, nullptr);
            char buf[512];
            while (fgets(buf, sizeof buf, p))
                output += buf;
            const int status = pclose(p);
            ASSERT_TRUE(WIFEXITED(status)) << output;
            if (WEXITSTATUS(status) == 77)
                GTEST_SKIP() << "xarray not available to " << ENSOL_PYTHON << ": " << output;
            ASSERT_EQ(WEXITSTATUS(status), 0) << cmd << "\n" << output;
            continued(made, layout + "_out.nc");
            std::string names = std::string(c.vars) + "," + c.param;
            for (size_t at = 0; at < names.size();) {
                const size_t comma = std::min(names.find(',', at), names.size());
                const std::string v = names.substr(at, comma - at);
                at = comma + 1;
                EXPECT_TRUE(same_bits(ensol_test::read_var(work / "ref.nc", v.c_str()),
                                      ensol_test::read_var(work / (layout + "_out.nc"), v.c_str())))
                    << v;
            }
            // Without a time dimension or coordinate the run starts at t = 0.
            const double t_ref = ensol_test::read_var(work / "ref.nc", "time").at(0);
            const double t = ensol_test::read_var(work / (layout + "_out.nc"), "time").at(0);
            EXPECT_EQ(t, layout == "values_first" ? 30 * 0.01 : t_ref);
        }
    }
}
#else
TEST_F(cli, InitialFileWrittenByXarray)
{
    GTEST_SKIP() << "no python3 found at configure time: xarray-written file not tried";
}
#endif

// A file that lacks what the model needs: one line naming --init-from and
// what is missing, exit 2, no output. The files lie outside the run's
// directory (expect_rejected wants it empty).
TEST_F(cli, InitialFileLackingWhatTheModelNeedsIsRefused)
{
    struct Made {
        const char *name, *member_dim, *vars, *model, *extra_dim;
        Args mentions;
    } const made[] = {
        {"no_z.nc", "member", "x,y", nullptr, nullptr, {"no variable z", "x, y, z", "member"}},
        {"no_member.nc", "ens", "x,y,z", nullptr, nullptr, {"no member dimension", "x, y, z"}},
        {"other_model.nc", "member", "x,y,z", "lorenz96", nullptr, {"lorenz96", "lorenz63"}},
        {"extra_dim.nc", "member", "x,y,z", nullptr, "level", {"variable x", "level"}},
    };
    for (const auto &m : made) {
        const std::string path = (base / m.name).string();
        int ncid, dims[2], varid;
        ASSERT_EQ(nc_create(path.c_str(), NC_CLOBBER | NC_NETCDF4, &ncid), NC_NOERR);
        ASSERT_EQ(nc_def_dim(ncid, m.member_dim, 4, &dims[0]), NC_NOERR);
        if (m.extra_dim) {
            ASSERT_EQ(nc_def_dim(ncid, m.extra_dim, 2, &dims[1]), NC_NOERR);
        }
        if (m.model)
            nc_put_att_text(ncid, NC_GLOBAL, "model", strlen(m.model), m.model);
        for (const char *v = m.vars; *v; v += v[1] ? 2 : 1) {
            const char name[2] = {*v, '\0'};
            ASSERT_EQ(nc_def_var(ncid, name, NC_DOUBLE, m.extra_dim ? 2 : 1, dims, &varid),
                      NC_NOERR);
        }
        ASSERT_EQ(nc_close(ncid), NC_NOERR);
        Args mentions = m.mentions;
        mentions.push_back("--init-from " + path + ": ");
        expect_rejected(tiny_run({"--members", "4", "--init-from", path}), 2, mentions);
    }
}

// Counts as batch scripts write them: exact scientific notation.
TEST_F(cli, IntegersInScientificNotation)
{
    CliResult r = run({"run", "-q", "--members", "1e5", "--steps", "2e0", "--output-mode",
                       "final", "--seed", "1e3", "-o", "big.nc"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(member_count(work / "big.nc"), 100000);
    for (const char *n : {"1.2e3", "12000e-1", "1200"}) {
        r = run({"run", "-q", "--members", n, "--steps", "4", "--save-every", "2", "-o",
                 "s.nc"});
        EXPECT_EQ(r.status, 0) << n << ": " << r.err;
        EXPECT_EQ(member_count(work / "s.nc"), 1200) << n;
    }
}

// Where stderr is not a terminal (a batch job's log) progress comes as
// whole lines between the plan and the summary: --progress=always from the
// start, auto only in runs longer than 10 s; never and --quiet give none.
TEST_F(cli, ProgressLinesForALog)
{
    const Args longer = {"run", "--members", "20000", "--steps", "2000", "--output-mode",
                         "final", "--batch-members", "1000", "--backend", "openmp", "-o",
                         "p.nc"};
    auto with = [&](const Args &extra) {
        Args a = longer;
        a.insert(a.end(), extra.begin(), extra.end());
        CliResult r = run(a);
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no redrawn line in a log";
        return lines_of(r.err);
    };
    std::vector<std::string> lines = with({"--progress=always"});
    ASSERT_GE(lines.size(), 5u);
    EXPECT_NE(lines.front().find("20000 members x 2000 steps"), std::string::npos);
    EXPECT_EQ(lines.back().rfind("ensol: wrote p.nc", 0), 0u);
    int last = -1;
    for (size_t i = 1; i + 1 < lines.size(); i++) {
        SCOPED_TRACE(lines[i]);
        int percent = -1;
        ASSERT_EQ(std::sscanf(lines[i].c_str(), "ensol: %d%% after", &percent), 1);
        EXPECT_GT(percent, last) << "each line a further tenth";
        EXPECT_LT(percent, 100);
        EXPECT_NE(lines[i].find("member-steps/s"), std::string::npos);
        EXPECT_NE(lines[i].find(" left"), std::string::npos);
        last = percent;
    }
    EXPECT_EQ(with({"--progress", "never"}).size(), 2u);
    EXPECT_EQ(with({"--progress=always", "-q"}).size(), 0u);
    EXPECT_EQ(with({}).size(), 2u) << "a run of a few seconds logs plan and summary only";
}

}  // namespace
