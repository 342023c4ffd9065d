# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Every example of README.md and of `ensol run --help` runs as shown and
loses no member.

usage: /usr/bin/python3 check_readme_examples.py ENSOL SOURCE_DIR WORKDIR

README.md: each fenced ```sh or ```console block with an `ensol` command,
and each ```python block that uses xarray, runs in document order in one
directory (WORKDIR/readme), so that later blocks read the files earlier
ones wrote; `ensol` is ENSOL, first on PATH. A comment on the line before a
block changes what is expected of it:

    <!-- no-test: REASON -->   not run (a cluster, a GPU, more ranks than
                               this machine has); printed with the reason
    <!-- expect-exit: N -->    every command of the block exits with N

A ```sh block runs as one bash script (set -e). In a ```console block each
`$ COMMAND` line runs, and the lines after it are its output: the lines
printed must have the same shape, line by line (the first two words, any
word with a digit in it standing for any such word; `...` stands for any
number of lines; progress lines are left out). Python blocks run with this
interpreter; those that import the ensol package need it importable
(ENSOL_LIBRARY and PYTHONPATH, which ctest sets where the package is built)
and are skipped, saying why, where it is not. Without matplotlib their
plotting lines are left out, saying so. The examples of `ensol run --help` run each in a directory of its own.

After every example: exit status as expected, no `.partial` file left, and
every NetCDF file it wrote has lost no member: a per-member `status` is 0
everywhere, or a count of members per status (`members_by_status`) has
none but ok at the last save, or a list of failed members is empty.
Exit status: 0 fine, 1 a failure, 77 netCDF4 cannot be imported.
"""
import os
import re
import shutil
import subprocess
import sys

from check_common import FAILURES, expect, require_netcdf

np, netCDF4 = require_netcdf()
SKIPPED = []
RAN = []

ENSOL_COMMAND = re.compile(r"(^|[\s;&|(])(\S*/)?ensol\s+(run|info|bench|merge|help|version|--version|--help)\b",
                           re.M)
# Lines a run prints that depend on the machine and its terminal, not on
# the example: progress, and notes such as a backend unavailable here.
MACHINE_LINES = re.compile(r"^ensol:\s+(\d+% after|note: )")
MARK = re.compile(r"^\s*<!--\s*(no-test|expect-exit)\s*:\s*(.*?)\s*-->\s*$")


# ---- README.md: its fenced blocks -----------------------------------------------------------

class Block:
    def __init__(self, lang, lines, line_no, marks):
        self.lang = lang
        self.lines = lines
        self.line_no = line_no
        self.marks = marks

    @property
    def text(self):
        return "\n".join(self.lines) + "\n"

    def title(self):
        first = next((l for l in self.lines if l.strip()), "")
        return f"README.md:{self.line_no} ({self.lang}) {first.strip()[:70]}"


def read_blocks(path):
    """The fenced blocks of a Markdown file, each with the marks on the
    lines just before it (blank lines between are allowed)."""
    blocks = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    pending = {}
    while i < len(lines):
        line = lines[i]
        m = MARK.match(line)
        if m:
            pending[m.group(1)] = m.group(2)
            i += 1
            continue
        fence = re.match(r"^(\s*)```(\w*)\s*$", line)
        if fence:
            indent = len(fence.group(1))
            lang = fence.group(2)
            body = []
            start = i + 1
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            blocks.append(Block(lang, body, start, pending))
            pending = {}
            i += 1
            continue
        if line.strip():
            pending = {}
        i += 1
    return blocks


# ---- what an example wrote -----------------------------------------------------------------

def members_lost(path):
    """(lost members, how it was read), or (None, why) when the file says
    nothing about its members' status."""
    with netCDF4.Dataset(path) as ds:
        v = ds.variables
        if "members_by_status" in v:
            counts = np.asarray(v["members_by_status"][:])
            if counts.ndim == 1:
                counts = counts[np.newaxis, :]
            last = counts[-1]
            ok = 0
            sdim = v["members_by_status"].dimensions[-1]
            if sdim in v and v[sdim].ndim == 1:
                values = list(np.asarray(v[sdim][:]).ravel())
                if 0 in values:
                    ok = values.index(0)
            lost = int(last.sum() - last[ok])
            if "failed_member" in v:
                lost = max(lost, int(v["failed_member"].size))
            return lost, "members_by_status"
        if "failed_member" in v:
            return int(v["failed_member"].size), "failed_member"
        if "status" in v and "member" in v["status"].dimensions:
            status = np.ma.filled(v["status"][:], 0)
            return int(np.count_nonzero(status)), "status(member)"
    return None, "no member status"


def snapshot(workdir):
    """Each file under workdir with its modification time."""
    seen = {}
    for root, _, files in os.walk(workdir):
        for name in files:
            path = os.path.join(root, name)
            seen[path] = os.stat(path).st_mtime_ns
    return seen


def check_outputs(workdir, before, what):
    """Every NetCDF file an example wrote (new or changed since the snapshot
    `before`): no member lost."""
    partial = []
    checked = 0
    for path, mtime in sorted(snapshot(workdir).items()):
        name = os.path.basename(path)
        if name.endswith(".partial"):
            partial.append(path)
            continue
        if not name.endswith(".nc") or before.get(path) == mtime:
            continue
        try:
            lost, how = members_lost(path)
        except Exception as exc:
            expect(False, f"{what}: {name} reads ({exc})")
            continue
        if lost is None:
            print(f"note: {what}: {name}: {how}, not checked")
            continue
        checked += 1
        expect(lost == 0, f"{what}: {name}: no member lost ({lost} lost, from {how})")
    expect(not partial, f"{what}: no .partial file left ({', '.join(partial) or 'none'})")
    return checked


# ---- console output ------------------------------------------------------------------------

def shape(line):
    words = line.split()[:2]
    return tuple("#" if re.search(r"\d", w) else w for w in words)


def same_shape(expected, actual):
    """expected: shapes and "..." (any lines); actual: shapes."""
    memo = {}

    def match(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(expected):
            r = j == len(actual)
        elif expected[i] == "...":
            r = any(match(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            r = j < len(actual) and expected[i] == actual[j] and match(i + 1, j + 1)
        memo[(i, j)] = r
        return r

    return match(0, 0)


def console_commands(block):
    """[(command, expected output lines)] of a console block."""
    out = []
    for line in block.lines:
        if line.startswith("$ "):
            out.append([line[2:], []])
        elif out:
            if out[-1][1] == [] and out[-1][0].endswith("\\"):
                out[-1][0] = out[-1][0][:-1] + line
            else:
                out[-1][1].append(line)
    return out


# ---- running -------------------------------------------------------------------------------

def bash(script, cwd, env, timeout=600):
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def tail(text, n=600):
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


def run_sh(block, cwd, env, exit_code):
    what = block.title()
    start = snapshot(cwd)
    r = bash(block.text, cwd, env)
    RAN.append(what)
    expect(r.returncode == exit_code,
           f"{what}: exit status {r.returncode}, expected {exit_code} ({tail(r.stderr)})")
    check_outputs(cwd, start, what)


def run_console(block, cwd, env, exit_code):
    for command, expected in console_commands(block):
        what = f"README.md:{block.line_no} $ {command[:70]}"
        start = snapshot(cwd)
        r = bash(command, cwd, env)
        RAN.append(what)
        expect(r.returncode == exit_code,
               f"{what}: exit status {r.returncode}, expected {exit_code} ({tail(r.stderr)})")
        printed = [l for l in (r.stdout + r.stderr).split("\n")
                   if l.strip() and not MACHINE_LINES.match(l)]
        want = ["..." if l.strip() == "..." else shape(l) for l in expected if l.strip()]
        if want:
            expect(same_shape(want, [shape(l) for l in printed]),
                   f"{what}: the output has the shape shown\n  shown:   "
                   + "\n           ".join(l for l in expected if l.strip())
                   + "\n  printed: " + "\n           ".join(printed))
        check_outputs(cwd, start, what)


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except Exception:
        return False


def ensol_importable(env):
    """Why the ensol package cannot be imported here, or None."""
    r = subprocess.run([sys.executable, "-c", "import ensol"], env=env, capture_output=True,
                       text=True)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["fails"])[-1]


def run_python(block, cwd, env):
    what = block.title()
    source = block.lines
    if not have_matplotlib():
        kept = [l for l in source if not re.search(r"matplotlib|plt\.|\.plot\(|savefig", l)]
        if len(kept) != len(source):
            print(f"note: {what}: matplotlib is not installed, so its plotting lines are "
                  f"left out: {'; '.join(l.strip() for l in source if l not in kept)}")
        source = kept
    penv = dict(env, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-c", "\n".join(source) + "\n"], cwd=cwd, env=penv,
                       capture_output=True, text=True, timeout=600)
    RAN.append(what)
    expect(r.returncode == 0, f"{what}: runs ({tail(r.stdout)} {tail(r.stderr)})")
    if r.stdout.strip():
        print("  " + r.stdout.strip().replace("\n", "\n  "))


def help_examples(ensol, command):
    r = subprocess.run([ensol, command, "--help"], capture_output=True, text=True)
    expect(r.returncode == 0, f"ensol {command} --help exits with 0")
    lines = r.stdout.split("\n")
    out = []
    inside = False
    for line in lines:
        if re.match(r"^Examples?:\s*$", line):
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            if out and out[-1].endswith("\\"):
                out[-1] = out[-1][:-1].rstrip() + " " + line.strip()
            else:
                out.append(line.strip())
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    ensol = os.path.abspath(sys.argv[1])
    source_dir = os.path.abspath(sys.argv[2])
    work = os.path.abspath(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    os.symlink(ensol, os.path.join(bindir, "ensol"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               XDG_CACHE_HOME=os.path.join(work, "cache"), LC_ALL="C")

    # README.md, in document order, in one directory.
    readme_dir = os.path.join(work, "readme")
    os.makedirs(os.path.join(readme_dir, "build"))
    os.symlink(ensol, os.path.join(readme_dir, "build", "ensol"))
    for block in read_blocks(os.path.join(source_dir, "README.md")):
        runnable = ((block.lang in ("sh", "console") and ENSOL_COMMAND.search(block.text))
                    or (block.lang == "python" and "xarray" in block.text))
        if not runnable:
            continue
        if "no-test" in block.marks:
            SKIPPED.append(f"{block.title()}: {block.marks['no-test']}")
            continue
        if block.lang == "python" and "import ensol" in block.text:
            why = ensol_importable(env)
            if why:
                SKIPPED.append(f"{block.title()}: the ensol package cannot be imported ({why})")
                continue
        exit_code = int(block.marks.get("expect-exit", "0"))
        if block.lang == "sh":
            run_sh(block, readme_dir, env, exit_code)
        elif block.lang == "console":
            run_console(block, readme_dir, env, exit_code)
        else:
            run_python(block, readme_dir, env)

    # The examples of `ensol run --help`, each in its own directory.
    examples = help_examples(ensol, "run")
    expect(len(examples) > 0, "ensol run --help has examples")
    for i, command in enumerate(examples):
        what = f"ensol run --help: {command}"
        cwd = os.path.join(work, f"help_{i}")
        os.makedirs(cwd)
        start = snapshot(cwd)
        r = bash(command, cwd, env)
        RAN.append(what)
        expect(r.returncode == 0, f"{what}: exit status {r.returncode} ({tail(r.stderr)})")
        expect(check_outputs(cwd, start, what) > 0, f"{what}: wrote a file with member status")
        shutil.rmtree(cwd, ignore_errors=True)
    for command in ("bench", "merge"):
        for example in help_examples(ensol, command):
            SKIPPED.append(f"ensol {command} --help: {example}: "
                           + ("measures speed, for up to minutes; tests/test_bench.cpp runs ensol bench "
                              "on tiny problems" if command == "bench" else
                              "needs mpirun -n 8; the MPI tests run merges with 2 and 3 ranks"))

    print(f"\nran {len(RAN)} examples:")
    for what in RAN:
        print(f"  {what}")
    print(f"skipped {len(SKIPPED)}:")
    for what in SKIPPED:
        print(f"  {what}")
    if FAILURES:
        print(f"\n{len(FAILURES)} failed:", file=sys.stderr)
        for f in FAILURES:
            print(f"  {f}", file=sys.stderr)
        return 1
    shutil.rmtree(readme_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
