/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) The ensol authors */
// ensol bench, run as a child process on tiny problems: the JSON and CSV
// rows are well-formed and complete (a row per available backend and
// device, positive rates, openmp on all cores is the speedup's baseline),
// output runs report MB/s and leave nothing behind, and bad options exit
// with status 2 and one line. Speed is never asserted here.
#include <gtest/gtest.h>

#include "test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ensol/ensol.h"

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

namespace {

// ---- a small JSON reader: enough to tell well-formed output ----------------

struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    const Json &operator[](const std::string &key) const
    {
        static const Json missing;
        auto it = fields.find(key);
        return it == fields.end() ? missing : it->second;
    }
    bool has(const std::string &key) const { return fields.count(key) != 0; }
};

class JsonParser {
public:
    explicit JsonParser(const std::string &text) : s_(text) {}

    // Throws std::runtime_error with the offset on malformed input.
    Json parse()
    {
        Json v = value();
        ws();
        if (i_ != s_.size())
            fail("trailing characters");
        return v;
    }

private:
    const std::string &s_;
    size_t i_ = 0;

    [[noreturn]] void fail(const char *what)
    {
        throw std::runtime_error(std::string(what) + " at offset " + std::to_string(i_));
    }
    void ws()
    {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' ||
                                  s_[i_] == '\r'))
            i_++;
    }
    bool literal(const char *word)
    {
        size_t n = std::strlen(word);
        if (s_.compare(i_, n, word) != 0)
            return false;
        i_ += n;
        return true;
    }
    std::string string()
    {
        if (s_[i_] != '"')
            fail("expected a string");
        std::string out;
        for (i_++; i_ < s_.size() && s_[i_] != '"'; i_++) {
            char c = s_[i_];
            if ((unsigned char)c < 0x20)
                fail("control character in a string");
            if (c == '\\') {
                if (++i_ >= s_.size())
                    fail("bad escape");
                switch (s_[i_]) {
                case '"': case '\\': case '/': out += s_[i_]; break;
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u':
                    if (i_ + 4 >= s_.size())
                        fail("bad \\u escape");
                    out += '?';
                    i_ += 4;
                    break;
                default: fail("bad escape");
                }
            } else {
                out += c;
            }
        }
        if (i_ >= s_.size())
            fail("unterminated string");
        i_++;
        return out;
    }
    Json value()
    {
        ws();
        if (i_ >= s_.size())
            fail("unexpected end");
        Json v;
        char c = s_[i_];
        if (c == '{') {
            v.kind = Json::Object;
            i_++;
            ws();
            if (s_[i_] == '}') {
                i_++;
                return v;
            }
            for (;;) {
                ws();
                std::string key = string();
                ws();
                if (s_[i_++] != ':')
                    fail("expected ':'");
                if (v.fields.count(key))
                    fail("duplicate key");
                v.fields[key] = value();
                ws();
                if (s_[i_] == ',') {
                    i_++;
                    continue;
                }
                if (s_[i_++] != '}')
                    fail("expected ',' or '}'");
                return v;
            }
        }
        if (c == '[') {
            v.kind = Json::Array;
            i_++;
            ws();
            if (s_[i_] == ']') {
                i_++;
                return v;
            }
            for (;;) {
                v.items.push_back(value());
                ws();
                if (s_[i_] == ',') {
                    i_++;
                    continue;
                }
                if (s_[i_++] != ']')
                    fail("expected ',' or ']'");
                return v;
            }
        }
        if (c == '"') {
            v.kind = Json::String;
            v.str = string();
            return v;
        }
        if (literal("true") || literal("false")) {
            v.kind = Json::Bool;
            v.b = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u';
            return v;
        }
        if (literal("null"))
            return v;
        // A number, strictly: -?digits[.digits][e[+-]digits]
        size_t start = i_;
        if (s_[i_] == '-')
            i_++;
        if (i_ >= s_.size() || !std::isdigit((unsigned char)s_[i_]))
            fail("expected a value");
        while (i_ < s_.size() && std::isdigit((unsigned char)s_[i_]))
            i_++;
        if (i_ < s_.size() && s_[i_] == '.') {
            i_++;
            if (i_ >= s_.size() || !std::isdigit((unsigned char)s_[i_]))
                fail("bad number");
            while (i_ < s_.size() && std::isdigit((unsigned char)s_[i_]))
                i_++;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            i_++;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'))
                i_++;
            if (i_ >= s_.size() || !std::isdigit((unsigned char)s_[i_]))
                fail("bad exponent");
            while (i_ < s_.size() && std::isdigit((unsigned char)s_[i_]))
                i_++;
        }
        v.kind = Json::Number;
        v.num = std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
        return v;
    }
};

// ---- CSV: RFC 4180 quoting -----------------------------------------------------

std::vector<std::vector<std::string>> parse_csv(const std::string &text)
{
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                i++;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row.push_back(field);
            field.clear();
        } else if (c == '\n') {
            row.push_back(field);
            rows.push_back(row);
            row.clear();
            field.clear();
        } else {
            field += c;
        }
        any = true;
    }
    if (any && (!field.empty() || !row.empty())) {
        row.push_back(field);
        rows.push_back(row);
    }
    return rows;
}

std::string read_text(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The rows ensol bench should produce for one member count: the openmp
// backend once (all cores), every device of every other available backend.
int expected_contestants(const std::vector<std::string> &only = {})
{
    int n = 0;
    for (int i = 0; i < ens_backend_count(); i++) {
        std::string name = ens_backend_name(i);
        if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end())
            continue;
        char detail[8192] = "";
        if (ens_backend_probe(name.c_str(), detail, sizeof detail) != ENS_OK)
            continue;
        if (name == "openmp") {
            n++;
            continue;
        }
        int devices = 0;
        std::istringstream lines(detail);
        for (std::string line; std::getline(lines, line);) {
            size_t p = line.find_first_not_of(" \t");
            if (p != std::string::npos && line[p] == '[')
                devices++;
        }
        n += devices ? devices : 1;
    }
    return n;
}

int all_cores()
{
    char detail[256] = "";
    int n = 0;
    if (ens_backend_probe("openmp", detail, sizeof detail) == ENS_OK &&
        std::sscanf(detail, "CPU, %d", &n) == 1)
        return n;
    return 1;
}

struct Result {
    int status = -1;
    std::string out, err;
};

class bench : public ::testing::Test {
protected:
    fs::path base, work;

    void SetUp() override
    {
        const char *tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ensol_bench_test_XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        base = tmpl;
        work = base / "work";
        fs::create_directory(work);
    }
    void TearDown() override { fs::remove_all(base); }

    Result run(const Args &args, int timeout_s = 120)
    {
        Args full = {"bench"};
        full.insert(full.end(), args.begin(), args.end());
        pid_t pid = ensol_test::spawn_ensol(full, work, base / "stdout", base / "stderr");
        Result r;
        if (pid < 0) {
            ADD_FAILURE() << "fork failed";
            return r;
        }
        int wstatus = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
        while (waitpid(pid, &wstatus, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill(pid, SIGKILL);
                waitpid(pid, &wstatus, 0);
                ADD_FAILURE() << "ensol bench did not finish within " << timeout_s << " s";
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        r.out = read_text(base / "stdout");
        r.err = read_text(base / "stderr");
        return r;
    }

    Json read_json(const std::string &name)
    {
        std::string text = read_text(work / name);
        try {
            return JsonParser(text).parse();
        } catch (const std::exception &e) {
            ADD_FAILURE() << name << " is not well-formed JSON: " << e.what() << "\n" << text;
            return Json{};
        }
    }

    // One line on stderr naming the option, status 2, nothing on stdout,
    // no file left.
    void expect_rejected(const Args &args, const std::string &mention)
    {
        std::string joined = "ensol bench";
        for (const auto &a : args)
            joined += " " + a;
        SCOPED_TRACE(joined);
        Result r = run(args);
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.rfind("ensol: ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(mention), std::string::npos) << "'" << mention << "' not in " << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_TRUE(fs::is_empty(work));
    }
};

// Checks one JSON row; returns its rate.
void expect_good_row(const Json &row, long long members, long long steps)
{
    SCOPED_TRACE(row["label"].str + " at " + std::to_string(members));
    EXPECT_EQ(row["status"].str, "ok") << row["error"].str;
    EXPECT_EQ(row["members"].num, members);
    EXPECT_EQ(row["steps"].num, steps);
    EXPECT_EQ(row["backend"].kind, Json::String);
    EXPECT_FALSE(row["device"].str.empty());
    EXPECT_FALSE(row["label"].str.empty());
    const double med = row["median_member_steps_per_s"].num;
    EXPECT_GT(med, 0);
    EXPECT_LE(row["min_member_steps_per_s"].num, med);
    EXPECT_GE(row["max_member_steps_per_s"].num, med);
    EXPECT_GT(row["median_wall_member_steps_per_s"].num, 0);
    EXPECT_GT(row["median_compute_seconds"].num, 0);
    EXPECT_GE(row["median_wall_seconds"].num, row["median_compute_seconds"].num * 0.999);
    EXPECT_GT(row["gflops"].num, 0);
    EXPECT_EQ(row["speedup_vs_openmp"].kind, Json::Number);
    EXPECT_GT(row["speedup_vs_openmp"].num, 0);
}

} // namespace

TEST_F(bench, json_and_csv_have_a_row_per_backend_and_device)
{
    Result r = run({"--members", "1000", "--steps", "50", "--repeats", "1", "--json", "r.json",
                    "--csv", "r.csv"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("member-steps/s"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("roofline: 71 flops per member-step"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("measured peak"), std::string::npos) << r.out;

    Json j = read_json("r.json");
    ASSERT_EQ(j.kind, Json::Object);
    EXPECT_EQ(j["ensol_version"].str, ens_version());
    EXPECT_EQ(j["problem"]["model"].str, "lorenz63");
    EXPECT_EQ(j["problem"]["integrator"].str, "rk4");
    EXPECT_EQ(j["problem"]["precision"].str, "double");
    EXPECT_EQ(j["problem"]["steps"].num, 50);
    EXPECT_EQ(j["roofline"]["flops_per_member_step"].num, 71);
    EXPECT_EQ(j["roofline"]["bytes_per_saved_step_per_member"].num, 24);
    EXPECT_GT(j["machine"]["peak_gflops_double"].num, 0);
    EXPECT_GT(j["machine"]["peak_gbytes_per_s"].num, 0);
    EXPECT_EQ(j["machine"]["cores"].num, all_cores());

    const Json &rows = j["rows"];
    ASSERT_EQ(rows.kind, Json::Array);
    ASSERT_EQ((int)rows.items.size(), expected_contestants());
    int baselines = 0;
    std::map<std::string, int> per_backend;
    for (const Json &row : rows.items) {
        expect_good_row(row, 1000, 50);
        per_backend[row["backend"].str]++;
        EXPECT_GT(row["percent_of_peak_flops"].num, 0) << row["label"].str;
        EXPECT_EQ(row["mb_per_s"].kind, Json::Null) << "final-state runs write nothing";
        if (row["baseline"].b) {
            baselines++;
            EXPECT_EQ(row["backend"].str, "openmp");
            EXPECT_EQ(row["threads"].num, all_cores());
            EXPECT_EQ(row["speedup_vs_openmp"].num, 1.0);
        }
    }
    EXPECT_EQ(baselines, 1);
    EXPECT_EQ(per_backend["openmp"], 1);
    EXPECT_TRUE(j["skipped"].items.empty());

    // The CSV holds the same rows.
    auto csv = parse_csv(read_text(work / "r.csv"));
    ASSERT_EQ(csv.size(), rows.items.size() + 1);
    const auto &header = csv[0];
    auto col = [&](const std::string &name) {
        auto it = std::find(header.begin(), header.end(), name);
        EXPECT_NE(it, header.end()) << name;
        return (size_t)(it - header.begin());
    };
    const size_t c_backend = col("backend"), c_members = col("members"),
                 c_rate = col("median_member_steps_per_s"), c_speed = col("speedup_vs_openmp"),
                 c_base = col("baseline"), c_status = col("status");
    for (size_t i = 1; i < csv.size(); i++) {
        ASSERT_EQ(csv[i].size(), header.size()) << "CSV row " << i;
        EXPECT_EQ(csv[i][c_backend], rows.items[i - 1]["backend"].str);
        EXPECT_EQ(csv[i][c_members], "1000");
        EXPECT_EQ(csv[i][c_status], "ok");
        EXPECT_GT(std::strtod(csv[i][c_rate].c_str(), nullptr), 0);
        if (csv[i][c_base] == "1") {
            EXPECT_EQ(std::strtod(csv[i][c_speed].c_str(), nullptr), 1.0);
        }
    }
    // Only the two results files are left.
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(work))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"r.csv", "r.json"}));
}

TEST_F(bench, sweeps_members_and_threads)
{
    Result r = run({"--backends", "openmp", "--members", "100:10000", "--threads", "1,0",
                    "--steps", "20", "--repeats", "2", "--no-peak", "--json", "s.json"});
    ASSERT_EQ(r.status, 0) << r.err;
    Json j = read_json("s.json");
    const int per_size = all_cores() > 1 ? 2 : 1; // 1 thread and all cores
    ASSERT_EQ((int)j["rows"].items.size(), 3 * per_size);
    std::map<long long, int> sizes;
    for (const Json &row : j["rows"].items) {
        EXPECT_EQ(row["backend"].str, "openmp");
        sizes[(long long)row["members"].num]++;
        expect_good_row(row, (long long)row["members"].num, 20);
        if (row["threads"].num == all_cores()) {
            EXPECT_EQ(row["speedup_vs_openmp"].num, 1.0);
        }
    }
    EXPECT_EQ(sizes, (std::map<long long, int>{{100, per_size}, {1000, per_size},
                                               {10000, per_size}}));
    EXPECT_EQ(j["machine"]["peak_gflops_double"].kind, Json::Null);
    EXPECT_EQ(j["problem"]["repeats"].num, 2);
}

TEST_F(bench, output_runs_report_bytes_and_leave_nothing)
{
    fs::create_directory(work / "scratch");
    Result r = run({"--backends", "openmp", "--members", "500", "--steps", "20",
                    "--output-mode", "trajectory", "--save-every", "10", "--repeats", "1",
                    "--no-peak", "--tmpdir", "scratch", "--csv", "o.csv"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto csv = parse_csv(read_text(work / "o.csv"));
    ASSERT_EQ(csv.size(), 2u);
    const auto &h = csv[0];
    auto at = [&](const std::string &name) {
        return csv[1][(size_t)(std::find(h.begin(), h.end(), name) - h.begin())];
    };
    EXPECT_EQ(at("output_mode"), "trajectory");
    // 3 saved times x 3 variables x 8 bytes x 500 members at least
    EXPECT_GE(std::strtod(at("bytes_written").c_str(), nullptr), 3 * 3 * 8 * 500.0);
    EXPECT_GT(std::strtod(at("mb_per_s").c_str(), nullptr), 0);
    EXPECT_TRUE(fs::is_empty(work / "scratch")) << "the temporary files are deleted";
}

TEST_F(bench, sizes_over_the_time_budget_or_memory_are_skipped)
{
    Result r = run({"--backends", "openmp", "--members", "1000,1e13", "--steps", "10",
                    "--repeats", "1", "--no-peak", "--time-budget", "5", "--json", "k.json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("skipping 10000000000000 members"), std::string::npos) << r.err;
    Json j = read_json("k.json");
    ASSERT_EQ(j["skipped"].items.size(), 1u);
    EXPECT_EQ(j["skipped"].items[0]["members"].num, 1e13);
    EXPECT_FALSE(j["skipped"].items[0]["reason"].str.empty());
    EXPECT_EQ(j["rows"].items.size(), 1u);
}

TEST_F(bench, help)
{
    Result r = run({"--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out.rfind("Usage: ensol bench", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("--time-budget"), std::string::npos);
    EXPECT_EQ(r.err, "");
}

TEST_F(bench, bad_options_exit_2_with_one_line)
{
    expect_rejected({"--members", "0"}, "--members 0: must be at least 1");
    expect_rejected({"--members", "abc"}, "--members abc");
    expect_rejected({"--members", "1.5"}, "--members 1.5");
    expect_rejected({"--members", "1e2:x"}, "HI 'x'");
    expect_rejected({"--members", "1e4:1e2"}, "--members 1e4:1e2");
    expect_rejected({"--members", "1e2:1e4:1"}, "F '1'");
    expect_rejected({"--threads", "-1"}, "--threads -1");
    expect_rejected({"--threads", "1,x"}, "--threads 1,x: T 'x'");
    expect_rejected({"--members", "100,x"}, "--members 100,x: N 'x'");
    expect_rejected({"--members", "1,,2"}, "--members 1,,2: N ''");
    expect_rejected({"--members", "1,2,"}, "--members 1,2,: N ''");
    expect_rejected({"--threads", "1,,2"}, "--threads 1,,2: T ''");
    expect_rejected({"--threads", "100000"}, "--threads 100000: must be from 0 (all cores) to");
    expect_rejected({"--threads", "1,100000"}, "--threads 1,100000: T '100000'");
    expect_rejected({"--backends", "openmp,"}, "unknown backend ''");
    expect_rejected({"--backends", "nosuch"}, "unknown backend 'nosuch'");
    expect_rejected({"--repeats", "0"}, "--repeats 0");
    expect_rejected({"--warmup", "-1"}, "--warmup -1");
    expect_rejected({"--time-budget", "-3"}, "--time-budget -3");
    expect_rejected({"--steps", "0"}, "--steps 0");
    expect_rejected({"--model", "lorenz99"}, "--model lorenz99");
    expect_rejected({"--integrator", "rk5"}, "--integrator rk5");
    expect_rejected({"--precision", "half"}, "--precision half");
    expect_rejected({"--output-mode", "some"}, "--output-mode some");
    expect_rejected({"--param", "rho"}, "--param rho");
    expect_rejected({"--param", "nosuch=1"}, "--param nosuch=1");
    expect_rejected({"--dt", "x"}, "--dt x");
    expect_rejected({"--frobnicate"}, "--frobnicate");
    expect_rejected({"--no-peak=1"}, "--no-peak=1");
    expect_rejected({"--json"}, "--json");
    expect_rejected({"stray"}, "stray");
    expect_rejected({"--json", "same", "--csv", "same"}, "--csv same");
}

TEST_F(bench, unwritable_results_file_fails_before_running)
{
    Result r = run({"--members", "100", "--steps", "5", "--no-peak", "--json",
                    "no/such/dir/r.json"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--json no/such/dir/r.json"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}
