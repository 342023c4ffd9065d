# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""XPPAUT .ode files run by ensol against XPPAUT itself.

usage: /usr/bin/python3 check_xppaut.py ENSOL WORKDIR [FILE.ode ...]

Each file (by default every example XPPAUT ships, in
/usr/share/doc/xppaut/examples/ode) is copied with
`@ meth=rungekutta, dt=DT, total=TOTAL, nout=1, ...` added before its
`done`, and run by `xppaut COPY -silent` (which writes output.dat: t, the
variables in the order of their equations, then the aux quantities) and by
`ensol run --model COPY --members 1 --perturb 0`, whose defaults the file's
options set. Each file ends in one of:
  agrees         ensol's states and aux quantities equal XPPAUT's to the
                 digits XPPAUT writes (both take the same RK4 steps)
  runs, noise    a file with wiener noise (copied with meth=euler, which
                 noise needs): both run it and write the same times and
                 columns, finite; the values are not compared, as each
                 draws its own noise
  refused        ensol refuses a construct it cannot run: exit status 2,
                 one line naming FILE:LINE, no output file
  xppaut fails   XPPAUT itself writes no full output (or a non-finite one)
A file ensol runs that disagrees, a crash, or a refusal that is not one
clear line is a failure. The counts, and the refusals by construct, are
printed at the end.
Exit status: 0 fine, 1 a failure, 77 xppaut or its examples not installed.
"""
import collections
import concurrent.futures
import glob
import math
import os
import re
import shutil
import subprocess
import sys

from check_common import FAILURES, SKIP, expect, require_netcdf

np, netCDF4 = require_netcdf()

EXAMPLES = "/usr/share/doc/xppaut/examples/ode"
DT, TOTAL = 0.01, 1.0
# XPPAUT writes 8 significant digits (and t as a float); RK4 takes the same
# steps in both, so they agree to those digits plus a little growth.
RTOL, ATOL = 2e-6, 1e-7
OPTIONS = (f"@ meth={{meth}}, dt={DT}, total={TOTAL}, nout=1, trans=0, t0=0, "
           "bound=1e30, maxstor=100000\n")
# `wiener NAME` (XPPAUT reads a keyword by its first letter).
WIENER = re.compile(r"^\s*w(iener)?\s+[a-z_]", re.IGNORECASE | re.MULTILINE)


def with_options(text, meth):
    """The file's text with OPTIONS before its `done` (or at its end)."""
    options = OPTIONS.format(meth=meth)
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if re.match(r"\s*d(one)?\s*$", line, re.IGNORECASE):
            return "".join(lines[:i]) + options + "".join(lines[i:])
    return text + ("" if text.endswith("\n") else "\n") + options + "done\n"


def run_xppaut(xppaut, path, work):
    """XPPAUT's output rows, or None where it writes no full, finite output."""
    out = os.path.join(work, "output.dat")
    try:
        subprocess.run([xppaut, os.path.basename(path), "-silent"], cwd=work,
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    if not os.path.exists(out):
        return None
    try:
        rows = np.loadtxt(out, ndmin=2)
    except ValueError:
        return None
    expected = int(round(TOTAL / DT)) + 1
    if rows.shape[0] != expected or not np.all(np.isfinite(rows)):
        return None
    return rows


def ensol_columns(nc):
    """ensol's states (in the model's order) then aux quantities, (time, k)."""
    with netCDF4.Dataset(nc) as f:
        cols = []
        aux = []
        for name, var in f.variables.items():
            if var.dimensions[:2] != ("time", "member"):
                continue
            values = np.asarray(var[:].data, dtype=float)[:, 0]
            if getattr(var, "long_name", "") == "aux quantity of the model":
                aux.append(values[:, None])
            else:
                cols.append(values if values.ndim == 2 else values[:, None])
        times = np.asarray(f["time"][:], dtype=float)
    return times, np.hstack(cols + aux)


def check_file(ensol, xppaut, source, work):
    """(outcome, detail) of one example file."""
    name = os.path.splitext(os.path.basename(source))[0]
    work = os.path.join(work, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    path = os.path.join(work, name + ".ode")
    with open(source, errors="replace") as f:
        text = f.read()
    noise = WIENER.search(text) is not None
    with open(path, "w") as f:
        f.write(with_options(text, "euler" if noise else "rungekutta"))
    ref = run_xppaut(xppaut, path, work)
    nc = os.path.join(work, "ensol.nc")
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(os.path.dirname(work), "cache"))
    p = subprocess.run([ensol, "run", "--model", path, "--members", "1", "--perturb", "0",
                        "--backend", "openmp", "-o", nc], capture_output=True, text=True,
                       timeout=300, env=env)
    err = p.stderr.strip().splitlines()
    if p.returncode == 2:
        line = err[-1] if err else ""
        where = re.search(re.escape(path) + r":(\d+)(:\d+)?: (.*)", line)
        if len(err) != 1 or not where or os.path.exists(nc):
            return "failure", f"refusal not one FILE:LINE line: {p.stderr.strip()[:200]}"
        if ref is not None and "not supported" not in where.group(3):
            return "failure", f"XPPAUT runs it, ensol reads it wrong: {where.group(3)[:160]}"
        return "refused", construct(where.group(3))
    if p.returncode != 0:
        return "failure", f"exit status {p.returncode}: {p.stderr.strip()[:200]}"
    if ref is None:
        return "xppaut fails", ""
    times, mine = ensol_columns(nc)
    if mine.shape != (ref.shape[0], ref.shape[1] - 1):
        return "failure", f"ensol wrote {mine.shape}, XPPAUT {ref.shape[0]} x {ref.shape[1] - 1}"
    if noise:
        if not (np.all(np.isfinite(mine)) and np.allclose(times, ref[:, 0], rtol=1e-6, atol=1e-6)):
            return "failure", "with noise: non-finite states, or other times than XPPAUT's"
        return "runs, noise", f"{mine.shape[1]} columns x {mine.shape[0]} times, not compared"
    scale = np.maximum(np.abs(ref[:, 1:]), 1.0)
    worst = float(np.max(np.abs(mine - ref[:, 1:]) / scale - RTOL)) if mine.size else -1.0
    if not (worst <= ATOL and np.allclose(times, ref[:, 0], rtol=1e-6, atol=1e-6)):
        rel = float(np.max(np.abs(mine - ref[:, 1:]) / scale))
        return "failure", f"differs from XPPAUT: max |difference|/max(1,|x|) {rel:.2e}"
    return "agrees", f"{mine.shape[1]} columns x {mine.shape[0]} times"


def construct(message):
    """The construct a refusal names, for the tally: the message up to
    "not supported", one name for every variable's x(t)=... or x(t+1)=..."""
    text = re.split(r":? (are |is )?not supported", message)[0].strip()
    text = re.sub(r"\([a-z_][a-z0-9_.]*\((t|t[+-][^)]*)\)=\.\.\.\)", r"(x(\1)=...)", text)
    return re.sub(r"\(t[+-][^)]*\)", "(t+1)", text)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    ensol, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    xppaut = shutil.which("xppaut")
    files = sys.argv[3:] or sorted(glob.glob(os.path.join(EXAMPLES, "*.ode")))
    if not xppaut or not files:
        print("SKIPPED: xppaut or its examples not found; install with: apt-get install xppaut")
        return SKIP
    os.makedirs(work, exist_ok=True)
    outcomes = collections.Counter()
    refusals = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda f: (f, check_file(ensol, xppaut, f, work)), files))
    for source, (outcome, detail) in results:
        name = os.path.basename(source)
        outcomes[outcome] += 1
        if outcome == "refused":
            refusals[detail] += 1
        if outcome == "failure":
            expect(False, f"{name}: {detail}")
        else:
            print(f"{outcome}: {name}{': ' + detail if detail else ''}")
    print(f"\n{len(files)} files: " + ", ".join(f"{n} {k}" for k, n in outcomes.most_common()))
    print("refused, by construct: " + "; ".join(f"{k} {n}" for k, n in refusals.most_common()))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
