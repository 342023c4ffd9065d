/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// Nothing lost and nothing wrong under faults and awkward input: output
// paths that are not regular files, symbolic links, two runs writing one
// file, full disks (an LD_PRELOAD shim failing writes with ENOSPC),
// initial-state files that are partial or hold NaN, members that fail at
// their start, the fill value of unwritten states, and the OpenMP policy
// set without starting the program again. The ensol command runs as a
// child in a fresh directory; files are read back with NetCDF.
#include <gtest/gtest.h>

#include "test_support.h"

#include <fcntl.h>
#include <netcdf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ensol_test;
using Args = std::vector<std::string>;

namespace {

std::string read_text(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Result {
    int status = -1; // exit status, or 128 + signal
    std::string err;
};

class faults : public ::testing::Test {
protected:
    TempDir dir;
    fs::path work;

    void SetUp() override
    {
        ASSERT_FALSE(dir.path.empty());
        work = fs::path(dir.path) / "work";
        fs::create_directory(work);
    }

    pid_t start(const Args &args, const std::string &tag = "")
    {
        return spawn_ensol(args, work, dir.path + "/out" + tag,
                                       dir.path + "/err" + tag);
    }

    Result finish(pid_t pid, const std::string &tag = "")
    {
        Result r;
        int ws = 0;
        if (pid > 0 && waitpid(pid, &ws, 0) == pid)
            r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        r.err = read_text(dir.path + "/err" + tag);
        return r;
    }

    Result run(const Args &args) { return finish(start(args)); }

    // SIGTERM to a started run, then its end: the result, and the seconds
    // from the signal to the exit in *seconds.
    Result terminate(pid_t pid, double *seconds)
    {
        const auto sent = std::chrono::steady_clock::now();
        kill(pid, SIGTERM);
        const Result r = finish(pid);
        *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        return r;
    }

    std::vector<std::string> files() const
    {
        std::vector<std::string> names;
        for (const auto &e : fs::directory_iterator(work))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

Args small_run(const std::string &out, const Args &extra = {})
{
    Args a = {"run", "--members", "20", "--steps", "20", "--save-every", "5", "-q", "-o", out};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}


} // namespace

// A device, a FIFO or a directory as the output: refused (exit 2, one
// line naming the option) before any work, and left as it was; ensol
// bench's --json likewise.
TEST_F(faults, OutputThatIsNotARegularFileIsRefusedAndLeftAlone)
{
    // The device is a private null device node, never the system's: an
    // ensol with this bug replaces the node it is given.
    const bool device = mknod((work / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
    ASSERT_EQ(mkfifo((work / "fifo").c_str(), 0644), 0);
    fs::create_directory(work / "dir");
    const struct {
        std::string path, kind;
    } cases[] = {{"null", "character device"}, {"fifo", "FIFO"}, {"dir", "directory"}};
    for (const auto &c : cases) {
        if (c.path == "null" && !device)
            continue;
        SCOPED_TRACE(c.path);
        for (const Args &args :
             {small_run(c.path), small_run("ok.nc", {"--restart-out", c.path})}) {
            const Result r = run(args);
            EXPECT_EQ(r.status, 2) << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
            EXPECT_NE(r.err.find(" " + c.path + ": is a " + c.kind), std::string::npos) << r.err;
        }
        const Result b = run({"bench", "--members", "10", "--steps", "10", "--json", c.path});
        EXPECT_EQ(b.status, 2) << b.err;
        EXPECT_NE(b.err.find("--json " + c.path + ": is a " + c.kind), std::string::npos)
            << b.err;
    }
    struct stat sb;
    if (device) {
        ASSERT_EQ(lstat((work / "null").c_str(), &sb), 0);
        EXPECT_TRUE(S_ISCHR(sb.st_mode)) << "the device was replaced";
    }
    ASSERT_EQ(lstat((work / "fifo").c_str(), &sb), 0);
    EXPECT_TRUE(S_ISFIFO(sb.st_mode));
    std::vector<std::string> expected = {"dir", "fifo"};
    if (device)
        expected.push_back("null");
    EXPECT_EQ(files(), expected);
    if (!device)
        GTEST_SKIP() << "cannot make a device node here (mknod needs root): FIFO and "
                        "directory checked, device not";
}

// The restart file and the output cannot be one file: both would be
// renamed to the same name.
TEST_F(faults, RestartFileThatIsTheOutputIsRefused)
{
    const Result r = run(small_run("o.nc", {"--restart-out", "./o.nc"}));
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--restart-out ./o.nc: is the output file"), std::string::npos)
        << r.err;
    EXPECT_TRUE(files().empty());
}

// Through a symbolic link the link's target is written; the link stays.
TEST_F(faults, SymlinkOutputIsWrittenThrough)
{
    fs::create_directory(work / "data");
    fs::create_symlink("data/real.nc", work / "link.nc");
    const Result r = run(small_run("link.nc"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::is_symlink(work / "link.nc"));
    EXPECT_TRUE(fs::is_regular_file(work / "data" / "real.nc"));
    EXPECT_EQ(read_var((work / "link.nc").string(), "x").size(), 20u * 5u);
    EXPECT_EQ(files(), (std::vector<std::string>{"data", "link.nc"}));
}

// Two runs writing the same -o at once, and the partial file a stopped run
// kept: each run writes its own partial file, both succeed, the last to
// finish holds the name, and the kept partial file is untouched.
TEST_F(faults, ConcurrentRunsToOneOutputKeepEachOthersWork)
{
    const std::string kept = "same.nc.partial", kept_text = "a stopped run's work";
    std::ofstream(work / kept) << kept_text;
    const Args args = {"run", "--members", "20000", "--steps", "400", "--save-every", "20",
                       "--batch-members", "2000", "-q", "-o", "same.nc"};
    const pid_t a = start(args, "a"), b = start(args, "b");
    const Result ra = finish(a, "a"), rb = finish(b, "b");
    EXPECT_EQ(ra.status, 0) << ra.err;
    EXPECT_EQ(rb.status, 0) << rb.err;
    EXPECT_EQ(read_var((work / "same.nc").string(), "x").size(), 20000u * 21u);
    EXPECT_EQ(read_text(work / kept), kept_text);
    EXPECT_EQ(files(), (std::vector<std::string>{"same.nc", kept}));
}

// A full disk in the middle of the run, whatever the output: one line with
// errno's reason, exit 1 (no crash at exit, where HDF5 used to segfault
// on the file it failed to close), no HDF5 diagnostics, nothing left.
TEST_F(faults, FullDiskFailsWithOneLineAndNoFile)
{
    const std::string shim = ENSOL_SHIM_PATH;
    const char *before = std::getenv("ASAN_OPTIONS");
    const std::string saved = before ? before : "";
    const std::string asan_options = saved + (saved.empty() ? "" : ":") +
                                     "verify_asan_link_order=0";
    auto restore_asan_options = [&] {
        if (before)
            setenv("ASAN_OPTIONS", saved.c_str(), 1);
        else
            unsetenv("ASAN_OPTIONS");
    };
    std::vector<Args> modes = {
        {},
        {"--output-mode", "stats", "--restart-out", "r.nc"},
        {"--deflate", "1"},
        {"--output-mode", "final"},
    };
    if (backend_unavailable("opencl").empty())
        modes.push_back({"--backend", "opencl"});
    int tried = 0;
    for (const long long bytes : {0LL, 20000LL, 300000LL}) {
        for (const Args &mode : modes) {
            Args args = {"run", "--members", "20000", "--steps", "200", "--save-every", "10",
                         "-q", "-o", "full.nc"};
            args.insert(args.end(), mode.begin(), mode.end());
            std::string line = "budget " + std::to_string(bytes);
            for (const auto &a : mode)
                line += " " + a;
            SCOPED_TRACE(line);
            setenv("LD_PRELOAD", shim.c_str(), 1);
            // Under AddressSanitizer the shim comes before its runtime.
            setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
            setenv("ENSOL_SHIM_BYTES", std::to_string(bytes).c_str(), 1);
            const pid_t pid = start(args);
            unsetenv("LD_PRELOAD");
            unsetenv("ENSOL_SHIM_BYTES");
            restore_asan_options();
            const Result r = finish(pid);
            tried++;
            EXPECT_EQ(r.status, 1) << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
            EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
            EXPECT_TRUE(files().empty()) << files().front();
            for (const auto &f : files())
                fs::remove_all(work / f);
        }
    }
    std::printf("full-disk faults tried: %d\n", tried);
}

// Initial states from a file: one member's x NaN, a stopped run's file
// marked incomplete, or a partial file never closed: refused, exit 2.
TEST_F(faults, InitialFileWithNaNOrFromAStoppedRunIsRefused)
{
    ASSERT_EQ(run(small_run("first.nc", {"--restart-out", "r.nc"})).status, 0);
    fs::copy_file(work / "r.nc", work / "nan.nc");
    int ncid, varid;
    ASSERT_EQ(nc_open((work / "nan.nc").c_str(), NC_WRITE, &ncid), NC_NOERR);
    ASSERT_EQ(nc_inq_varid(ncid, "x", &varid), NC_NOERR);
    int ndims = 0;
    nc_inq_varndims(ncid, varid, &ndims);
    ASSERT_EQ(ndims, 2);
    size_t at[NC_MAX_VAR_DIMS] = {0, 3}; // x(time, member): member 3
    const double nan = NAN;
    ASSERT_EQ(nc_put_var1_double(ncid, varid, at, &nan), NC_NOERR);
    ASSERT_EQ(nc_close(ncid), NC_NOERR);

    fs::copy_file(work / "r.nc", work / "stopped.nc");
    ASSERT_EQ(nc_open((work / "stopped.nc").c_str(), NC_WRITE, &ncid), NC_NOERR);
    nc_redef(ncid);
    ASSERT_EQ(nc_put_att_text(ncid, NC_GLOBAL, "incomplete", 7, "stopped"), NC_NOERR);
    ASSERT_EQ(nc_close(ncid), NC_NOERR);
    fs::copy_file(work / "r.nc", work / "killed.nc.partial");

    const struct {
        const char *file, *why;
    } cases[] = {{"nan.nc", "member 3: state variable 0 is nan"},
                 {"stopped.nc", "stopped before its end"},
                 {"killed.nc.partial", "a partial file"}};
    for (const auto &c : cases) {
        SCOPED_TRACE(c.file);
        for (const char *integrator : {"rk4", "euler"}) {
            const Result r = run({"run", "--init-from", c.file, "--steps", "10", "--integrator",
                                  integrator, "-q", "-o", "out.nc"});
            EXPECT_EQ(r.status, 2) << r.err;
            EXPECT_NE(r.err.find(c.why), std::string::npos) << r.err;
            EXPECT_FALSE(fs::exists(work / "out.nc"));
            EXPECT_FALSE(fs::exists(work / "out.nc.partial"));
        }
    }
}

// Members beyond the blow-up bound from the start keep their initial
// state (they used to be written with uninitialised memory, 6.9e-310).
TEST_F(faults, MemberFailingAtItsStartKeepsItsInitialState)
{
    for (const char *precision : {"double", "float"}) {
        SCOPED_TRACE(precision);
        const Result r = run({"run", "--members", "5", "--steps", "10", "--save-every", "5",
                              "--base-state", "1e9,1,1", "--precision", precision, "-q", "-o",
                              "b.nc"});
        ASSERT_EQ(r.status, 0) << r.err;
        const std::vector<double> x = read_var((work / "b.nc").string(), "x");
        const std::vector<double> status = read_var((work / "b.nc").string(), "status");
        ASSERT_EQ(x.size(), 5u * 3u);
        for (size_t m = 0; m < 5; m++) {
            EXPECT_EQ(status[m], 4) << "member " << m << " not marked above the bound";
            for (size_t t = 0; t < 3; t++)
                EXPECT_EQ(x[m * 3 + t], x[m * 3]) << "member " << m << " time " << t;
            EXPECT_GT(std::fabs(x[m * 3]), 9e8) << "member " << m;
        }
        fs::remove(work / "b.nc");
    }
}

// The state variables say NaN is their fill value, so that xarray masks
// the members a stopped run never reached.
TEST_F(faults, StateVariablesHaveANaNFillValue)
{
    for (const char *type : {"double", "float"}) {
        ASSERT_EQ(run(small_run("f.nc", {"--output-type", type})).status, 0);
        int ncid, varid, no_fill = 1;
        double fill = 0;
        ASSERT_EQ(nc_open((work / "f.nc").c_str(), NC_NOWRITE, &ncid), NC_NOERR);
        for (const char *v : {"x", "y", "z"}) {
            ASSERT_EQ(nc_inq_varid(ncid, v, &varid), NC_NOERR);
            ASSERT_EQ(nc_get_att_double(ncid, varid, "_FillValue", &fill), NC_NOERR) << v;
            EXPECT_TRUE(std::isnan(fill)) << v << " " << type;
            ASSERT_EQ(nc_inq_var_fill(ncid, varid, &no_fill, nullptr), NC_NOERR);
            EXPECT_EQ(no_fill, 0) << v;
        }
        nc_close(ncid);
        fs::remove(work / "f.nc");
    }
}

// The passive OpenMP wait policy is set before the OpenMP runtime starts,
// without executing the program a second time (which broke valgrind): the
// runtime, asked to show its settings, shows them once, PASSIVE; a policy
// the user set is kept.
TEST_F(faults, OpenMpPolicyIsSetWithoutStartingAgain)
{
    unsetenv("OMP_WAIT_POLICY");
    setenv("OMP_DISPLAY_ENV", "true", 1);
    Result r = finish(start({"run", "--members", "4", "--steps", "4", "-q", "-o", "p.nc"}));
    const std::string passive = read_text(dir.path + "/out") + r.err;
    setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
    r = finish(start({"run", "--members", "4", "--steps", "4", "-q", "-o", "p.nc"}));
    const std::string active = read_text(dir.path + "/out") + r.err;
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("OMP_DISPLAY_ENV");
    auto count = [](const std::string &s, const std::string &what) {
        size_t n = 0;
        for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
            n++;
        return n;
    };
    if (count(passive, "OMP_WAIT_POLICY") == 0)
        GTEST_SKIP() << "this OpenMP runtime does not show its settings (OMP_DISPLAY_ENV)";
    EXPECT_EQ(count(passive, "OMP_WAIT_POLICY"), 1u) << passive;
    EXPECT_EQ(count(passive, "'PASSIVE'"), 1u) << passive;
    EXPECT_EQ(count(active, "'ACTIVE'"), 1u) << active;
}

// An empty OUTPUT for merge: one line saying so, the command named once.
TEST_F(faults, MergeIntoAnEmptyNameIsRefusedInOneLine)
{
    const Result r = run({"merge", "", "a.nc", "b.nc"});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err, "ensol: merge: the output file for the merged pieces has no name\n");
}

// A signal while a huge ensemble's file is prepared (10^8 members: seconds
// of member coordinate) stops the run within a second, and leaves nothing.
TEST_F(faults, SignalWhileTheFileIsPreparedStopsWithinASecond)
{
    const pid_t pid = start({"run", "--members", "100000000", "--steps", "1", "--output-mode",
                             "final", "--max-memory", "64M", "--force", "-o", "huge.nc"});
    ASSERT_GT(pid, 0);
    // The plan line is printed once the handlers are installed, just
    // before the file is created.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (read_text(dir.path + "/err").find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    double seconds = 0;
    const Result r = terminate(pid, &seconds);
    EXPECT_EQ(r.status, 128 + SIGTERM) << r.err;
    EXPECT_LT(seconds, 1.0) << r.err;
    EXPECT_NE(r.err.find("terminated by SIGTERM: run stopped while its output file was "
                         "prepared"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(files().empty());
}

// A signal while the writer writes a large compressed batch (50000
// members x 101 saves, over a second to write) and the next batch waits
// for it: the run stops within a second, and the stopped file holds
// whole the batches it says are complete.
TEST_F(faults, SignalWhileALargeBatchIsWrittenStopsWithinASecond)
{
    const pid_t pid = start({"run", "--members", "400000", "--steps", "2000", "--save-every",
                             "20", "--batch-members", "50000", "--deflate", "1", "--progress",
                             "never", "-o", "big.nc"});
    ASSERT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!fs::exists(work / "big.nc.partial") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // batches being written
    double seconds = 0;
    const Result r = terminate(pid, &seconds);
    ASSERT_EQ(r.status, 128 + SIGTERM) << r.err;
    EXPECT_LT(seconds, 1.0) << r.err;
    int ncid = -1;
    ASSERT_EQ(nc_open((work / "big.nc.partial").c_str(), NC_NOWRITE, &ncid), NC_NOERR) << r.err;
    long long complete = -1, partial = -1;
    EXPECT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "members_complete", &complete), NC_NOERR);
    EXPECT_EQ(nc_get_att_longlong(ncid, NC_GLOBAL, "members_partial", &partial), NC_NOERR);
    nc_close(ncid);
    EXPECT_EQ(complete % 50000, 0) << complete;
    EXPECT_LT(complete, 400000);
    const std::vector<double> x = read_var((work / "big.nc.partial").string(), "x");
    ASSERT_EQ(x.size(), 400000u * 101u);
    for (size_t i = 0; i < (size_t)complete * 101u; i++)
        ASSERT_TRUE(std::isfinite(x[i])) << "member " << i / 101 << " of the complete ones";
}

// Through the library: the progress callback is asked while the file is
// opened (nothing done yet); stopping there leaves no file.
TEST_F(faults, ProgressCallbackStopsTheOpeningOfAHugeFile)
{
    Config c;
    ENS_OK_OR_FAIL(c, ens_config_set_members(c, 3000000));
    ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 1));
    ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "final"));
    ENS_OK_OR_FAIL(c, ens_config_set_max_memory(c, 64e6));
    ENS_OK_OR_FAIL(c, ens_config_set_output_path(c, (work / "huge.nc").c_str()));
    struct Seen {
        int calls = 0;
        double fraction = -1;
        long long done = -1;
    } seen;
    ENS_OK_OR_FAIL(c, ens_config_set_progress(
                          c,
                          [](const ens_progress *p, void *user) {
                              Seen *s = static_cast<Seen *>(user);
                              if (s->calls++ == 0) {
                                  s->fraction = p->fraction;
                                  s->done = p->members_done;
                              }
                              return 1;
                          },
                          &seen));
    EXPECT_EQ(ens_run(c, nullptr), ENS_ERR_INTERRUPTED);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.fraction, 0.0);
    EXPECT_EQ(seen.done, 0);
    EXPECT_NE(std::string(ens_config_last_error(c)).find("prepared"), std::string::npos)
        << ens_config_last_error(c);
    EXPECT_TRUE(files().empty());
}

// A final-state run calls its backend for long intervals (10^4 steps of
// 10^5 members here: seconds); the progress callback, where a signal stops
// the run, is asked within them too, so the stop comes before the
// interval's end.
// Intervals of 10^4 steps (1% of the run), each well over 0.1 s for a
// batch: the callback must also be asked at a step inside one.
void expect_asked_within_a_long_interval(const char *backend, const fs::path &work)
{
    Config c;
    ENS_OK_OR_FAIL(c, ens_config_set_backend(c, backend));
    ENS_OK_OR_FAIL(c, ens_config_set_integrator(c, "rk4"));
    ENS_OK_OR_FAIL(c, ens_config_set_members(c, 100000));
    ENS_OK_OR_FAIL(c, ens_config_set_steps(c, 1000000));
    ENS_OK_OR_FAIL(c, ens_config_set_output_mode(c, "final"));
    ENS_OK_OR_FAIL(c, ens_config_set_output_path(c, (work / "long.nc").c_str()));
    struct Seen {
        std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
        double inside = -1; // a model time asked at that is not an interval's end
    } seen;
    ENS_OK_OR_FAIL(c, ens_config_set_progress(
                          c,
                          [](const ens_progress *p, void *user) {
                              Seen *s = static_cast<Seen *>(user);
                              const double interval = 10000 * 0.01;
                              const double r = std::fmod(p->sim_time, interval);
                              if (r > 1e-9 && interval - r > 1e-9)
                                  s->inside = p->sim_time;
                              return s->inside > 0 || std::chrono::steady_clock::now() - s->start >
                                                          std::chrono::seconds(20)
                                         ? 1
                                         : 0;
                          },
                          &seen));
    EXPECT_EQ(ens_run(c, nullptr), ENS_ERR_INTERRUPTED);
    EXPECT_GT(seen.inside, 0.0) << backend << ": asked only where intervals ended";
}

TEST_F(faults, ProgressCallbackIsAskedWithinALongInterval)
{
    expect_asked_within_a_long_interval("openmp", work);
}

// On a backend that computes while the host waits, the pieces are waited
// for one by one (the interval launched ahead is its first piece).
TEST_F(faults, ProgressCallbackIsAskedWithinALongIntervalOnOpenCL)
{
    ENS_SKIP_WITHOUT_BACKEND("opencl", "opencl");
    expect_asked_within_a_long_interval("opencl", work);
}
