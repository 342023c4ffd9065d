# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Every kind of output file is valid CF-1.8 for the CF checker (cfchecks,
PyPI package cfchecker) and has the documented layout.

usage: /usr/bin/python3 check_cf.py ENSOL SOURCE_DIR WORKDIR [MPIRUN]

Writes small files of each kind with `ensol run` (trajectory, final, stats,
both, sweeps, random parameters, dopri5, float with quantization, the
restart file, Lorenz-96 and its two-scale form, a model file given by
path; with MPIRUN instead: the pieces of `MPIRUN -n 2 ensol run
--file-per-rank` and their `ensol merge`), runs

    cfchecks -s TABLES/cf-standard-name-table.xml \\
             -a TABLES/area-type-table.xml \\
             -r TABLES/standardized-region-list.xml FILE

on each and fails on any ERROR or WARN line (printed with the file's
kind), but for netCDF-C's own quantization attribute (ALLOWED). The layout checks: time is the first and unlimited dimension of
every state and statistics variable; member is an int64 coordinate with
standard_name realization; time has CF time units and a calendar; every
coordinate and parameter variable has units; the statistics' cell_methods
name the member dimension or realization; stats-only files have no
per-member arrays but members_by_status(time, status) and the failed_*
list over `failed`; swept and random parameters are variables over member
named in the states' coordinates.

cfchecks: $ENSOL_CFCHECKS, else cfchecks on PATH. TABLES: $ENSOL_CF_TABLES,
else SOURCE_DIR/../shared/cf-tables, else those in tests/cf-tables.
Exit status: 0 fine, 1 a failure, 77 (skipped) cfchecks, its tables,
netCDF4 for Python or MPIRUN are missing.
"""
import os
import re
import shutil
import subprocess
import sys

INSTALL = ("install with: python3 -m venv build/cfvenv && build/cfvenv/bin/pip install "
           "cfchecker (needs the Debian package libudunits2-0), then configure with "
           "-DENSOL_CFCHECKS=$PWD/build/cfvenv/bin/cfchecks or set ENSOL_CFCHECKS")
TABLE_FILES = ("cf-standard-name-table.xml", "area-type-table.xml",
               "standardized-region-list.xml")

from check_common import FAILURES, SKIP, expect, require_netcdf

np, netCDF4 = require_netcdf()


def find_cfchecks():
    env = os.environ.get("ENSOL_CFCHECKS")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        print(f"SKIPPED: ENSOL_CFCHECKS={env} is not an executable file ({INSTALL})")
        sys.exit(SKIP)
    path = shutil.which("cfchecks")
    if not path:
        print(f"SKIPPED: the CF checker cfchecks was not found (ENSOL_CFCHECKS unset, "
              f"none on PATH); {INSTALL}")
        sys.exit(SKIP)
    return path


def unpack_tables(source_dir, work):
    """The tables kept in tests/cf-tables (the largest compressed), in a
    folder of `work`."""
    import lzma
    src, dst = os.path.join(source_dir, "tests", "cf-tables"), os.path.join(work, "cf-tables")
    os.makedirs(dst, exist_ok=True)
    for name in TABLE_FILES:
        packed = os.path.join(src, name + ".xz")
        if os.path.isfile(packed):
            with lzma.open(packed) as f, open(os.path.join(dst, name), "wb") as out:
                shutil.copyfileobj(f, out)
        elif os.path.isfile(os.path.join(src, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    return dst


def find_tables(source_dir, work):
    tables = os.environ.get("ENSOL_CF_TABLES") or os.path.join(
        os.path.dirname(os.path.abspath(source_dir)), "shared", "cf-tables")
    if not os.environ.get("ENSOL_CF_TABLES") and not os.path.isdir(tables):
        tables = unpack_tables(source_dir, work)
    missing = [t for t in TABLE_FILES if not os.path.isfile(os.path.join(tables, t))]
    if missing:
        print(f"SKIPPED: the CF tables {', '.join(missing)} are not in {tables} (set "
              "ENSOL_CF_TABLES to a folder with the standard name table, the area type "
              "table and the standardized region list of cfconventions.org; without them "
              "cfchecks downloads them)")
        sys.exit(SKIP)
    return tables


# A model file given by path: physical units, an array over a named
# dimension, parameters with units.
USER_MODEL = """model      springs
title      "Coupled relaxing oscillators"
time_units "s"
size  N = 3  min 2  "number of oscillators"
param gamma = 0.1  units "s-1"  "damping rate"
param omega = 2    units "s-1"  "coupling rate"
var q[N]  dim oscillator  units "m"  "displacement"
base  1
flops 0 per_var 5
rhs
    for (int i = 0; i < N; i++)
        ddt(q)[i] = -gamma * q[i] + omega * (q[(i + 1) % N] - q[i]);
end
"""

COMMON = ["--backend", "openmp", "--threads", "1", "--members", "8", "--steps", "50",
          "--save-every", "10", "-q"]


# The state variables of each model and their dimensions.
STATES = {
    "lorenz63": {"x": (), "y": (), "z": ()},
    "lorenz96": {"X": ("k",)},
    # Several arrays: one variable, the state vector in declaration order.
    "lorenz96_2scale": {"state": ("state_index",)},
    "springs": {"q": ("oscillator",)},
}
# Units declared in the model file, for its variables and parameters.
USER_UNITS = {"q": "m", "omega": "s-1", "gamma": "s-1"}


def kinds(work):
    """(kind, model, varied parameters, ensol run arguments, files to check)."""
    model = os.path.join(work, "springs.ens")
    with open(model, "w") as f:
        f.write(USER_MODEL)
    out = lambda k: os.path.join(work, f"{k}.nc")  # noqa: E731
    return [
        ("trajectory", "lorenz63", [], ["--output-mode", "trajectory"], [out("trajectory")]),
        ("final", "lorenz63", [], ["--output-mode", "final"], [out("final")]),
        ("stats", "lorenz63", [], ["--output-mode", "stats"], [out("stats")]),
        ("both", "lorenz63", [], ["--output-mode", "both"], [out("both")]),
        ("sweep", "lorenz63", ["rho", "sigma"],
         ["--sweep", "rho=20:40:4", "--sweep", "sigma=5:15:2", "--perturb", "0"],
         [out("sweep")]),
        ("sweep_stats", "lorenz63", [], ["--sweep", "rho=20:40:8", "--output-mode", "stats"],
         [out("sweep_stats")]),
        ("random", "lorenz63", ["rho", "beta"], ["--random", "rho=20:40", "--random", "beta=2:3"],
         [out("random")]),
        ("dopri5", "lorenz63", [], ["--integrator", "dopri5", "--output-mode", "both"],
         [out("dopri5")]),
        ("float_quantized", "lorenz63", [],
         ["--precision", "float", "--deflate", "1", "--quantize", "12"], [out("float_quantized")]),
        ("restart", "lorenz63", [], ["--integrator", "rk4", "--restart-out", out("restart")],
         [out("restart"), out("restart_run")]),
        ("lorenz96", "lorenz96", [], ["--model", "lorenz96", "--param", "K=8", "--integrator",
                                      "rk4"], [out("lorenz96")]),
        ("lorenz96_stats", "lorenz96", [], ["--model", "lorenz96", "--param", "K=8",
                                            "--output-mode", "stats"], [out("lorenz96_stats")]),
        ("lorenz96_2scale", "lorenz96_2scale", [],
         ["--model", "lorenz96_2scale", "--integrator", "rk4", "--dt", "0.001"],
         [out("lorenz96_2scale")]),
        ("model_file", "springs", ["omega"],
         ["--model", model, "--integrator", "rk4", "--sweep", "omega=1:3"], [out("model_file")]),
    ]


# Findings that are not the file's: the attribute netCDF-C itself writes for
# nc_def_var_quantize (names starting with '_' are the library's; CF 1.11
# section 8.4 describes it), which the CF-1.8 check reports as a bad name.
ALLOWED = [(re.compile(r"ERROR: Invalid attribute name: _Quantize(BitRound|GranularBitRound|"
                       r"BitGroom)Number"), "netCDF-C's quantization attribute")]


def cfcheck(cfchecks, tables, kind, path):
    cmd = [cfchecks, "-s", os.path.join(tables, TABLE_FILES[0]),
           "-a", os.path.join(tables, TABLE_FILES[1]),
           "-r", os.path.join(tables, TABLE_FILES[2]), path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    text = r.stdout + r.stderr
    # The checker's findings per variable: print the variable with each.
    findings, var = [], None
    for line in text.splitlines():
        m = re.match(r"Checking variable: (\S+)", line.strip())
        if m:
            var = m.group(1)
        if re.match(r"\s*(ERROR|WARN):", line):
            why = [w for pat, w in ALLOWED if pat.search(line)]
            if why:
                print(f"  allowed [{kind}] {os.path.basename(path)}: {var}: {line.strip()} "
                      f"({why[0]})")
            else:
                findings.append(f"{var or '(global)'}: {line.strip()}")
    counts = re.search(r"ERRORS detected: (\d+)", text)
    if not counts:
        print(f"--- cfchecks {path} (exit {r.returncode}) ---\n{text.strip()[-3000:]}")
    for f in findings:
        print(f"  cfchecks [{kind}] {os.path.basename(path)}: {f}")
    expect(counts is not None and not findings,
           f"{kind}: cfchecks {os.path.basename(path)}: no ERROR or WARN "
           f"({len(findings)} found{'' if counts else '; the checker did not finish'})")


def attr(var, name, default=None):
    return var.getncattr(name) if name in var.ncattrs() else default


def check_layout(kind, model, varied, path):
    """The documented layout, whatever the checker accepts."""
    name = f"{kind}: {os.path.basename(path)}"
    with netCDF4.Dataset(path) as nc:
        dims, vs = nc.dimensions, nc.variables
        mode = attr(nc, "output_mode", "")
        expect("time" in dims and dims["time"].isunlimited(), f"{name}: time is unlimited")
        t = vs.get("time")
        if expect(t is not None and t.dimensions == ("time",) and t.dtype == np.float64,
                  f"{name}: time(time) double"):
            units = attr(t, "units", "")
            expect(re.match(r"^\S+ since \S+", units) is not None,
                   f"{name}: time units '{units}' are CF time units (UNIT since DATE)")
            expect(attr(t, "calendar") is not None, f"{name}: time has a calendar")
        if "member" in dims:
            m = vs.get("member")
            expect(m is not None and m.dimensions == ("member",) and m.dtype == np.int64
                   and attr(m, "standard_name") == "realization",
                   f"{name}: member(member) int64, standard_name realization")
        # Coordinates (a variable over its own dimension) have units.
        for v in vs.values():
            if v.dimensions == (v.name,) and v.name in dims and v.name != "status":
                expect(attr(v, "units") is not None, f"{name}: coordinate {v.name} has units")
        states = STATES[model]
        per_member = [v for v in vs.values() if "member" in v.dimensions and v.ndim >= 2]
        if mode == "stats":
            expect(not per_member and "member" not in dims,
                   f"{name}: stats-only file without per-member arrays "
                   f"({[v.name for v in per_member]})")
            mbs = vs.get("members_by_status")
            expect(mbs is not None and mbs.dimensions == ("time", "status"),
                   f"{name}: members_by_status(time, status)")
            for f in ("failed_member", "failed_status", "failed_time"):
                expect(f in vs and vs[f].dimensions == ("failed",), f"{name}: {f}(failed)")
        else:
            for var, extra in states.items():
                want = ("time", "member", *extra)
                got = vs[var].dimensions if var in vs else None
                expect(got == want, f"{name}: {var}{want} (found {got})")
        for v in per_member:
            expect(v.dimensions[:2] == ("time", "member"),
                   f"{name}: {v.name}{v.dimensions} starts with (time, member)")
        if mode in ("stats", "both") and not kind.endswith("_file"):
            for var, extra in states.items():
                for stat in ("mean", "std", "min", "max"):
                    v = vs.get(f"{var}_{stat}")
                    if v is None and kind == "piece":
                        continue  # the statistics are in one piece (rank 0's)
                    if not expect(v is not None and v.dimensions == ("time", *extra),
                                  f"{name}: {var}_{stat}{('time', *extra)}"):
                        continue
                    cm = attr(v, "cell_methods", "")
                    expect(re.match(r"^(member|realization): ", cm) is not None,
                           f"{name}: {v.name} cell_methods '{cm}' over member or realization")
        # Parameters varied by member: variables over member with units,
        # auxiliary coordinates of the states.
        for p in varied:
            v = vs.get(p)
            if not expect(v is not None and v.dimensions == ("member",),
                          f"{name}: parameter {p}(member)"):
                continue
            expect(attr(v, "units") is not None, f"{name}: parameter {p} has units")
            for var in states:
                if var in vs:
                    coords = (attr(vs[var], "coordinates", "") or "").split()
                    expect(p in coords, f"{name}: {p} is in {var}:coordinates {coords}")
        if model == "springs":
            for var, units in USER_UNITS.items():
                if var in vs:
                    expect(attr(vs[var], "units") == units,
                           f"{name}: {var} has the model file's units '{units}' "
                           f"(found {attr(vs[var], 'units')!r})")


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    ensol, source_dir, work = argv[1:4]
    mpirun = argv[4] if len(argv) == 5 else None
    if mpirun is not None and not os.path.exists(mpirun):
        print(f"SKIPPED: no mpirun at {mpirun} for the pieces of an MPI run; install with: "
              "apt-get install openmpi-bin libopenmpi-dev, and build with ENSOL_MPI")
        return SKIP
    cfchecks = find_cfchecks()
    os.makedirs(work, exist_ok=True)
    tables = find_tables(source_dir, work)
    print(f"cfchecks: {cfchecks}; tables: {tables}")

    checked = []
    if mpirun is None:
        for kind, model, varied, args, files in kinds(work):
            for f in files:
                if os.path.exists(f):
                    os.remove(f)
            r = subprocess.run([ensol, "run", *COMMON, *args, "-o", files[-1]],
                               capture_output=True, text=True)
            if expect(r.returncode == 0, f"{kind}: ensol run {' '.join(args)} "
                                         f"[{r.stderr.strip()[-400:]}]"):
                checked += [(kind if f == files[-1] else f"{kind}_file", model, varied, f)
                            for f in files]
    else:
        # MPI pieces, and their merge.
        base = os.path.join(work, "merged.nc")
        pieces = [os.path.join(work, f"merged.rank{r:04d}.nc") for r in range(2)]
        for f in (base, *pieces):
            if os.path.exists(f):
                os.remove(f)
        # Containers often forbid the shared-memory transport's single-copy
        # mode (ptrace), as in check_mpi.py.
        env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1",
                   OMPI_MCA_btl_vader_single_copy_mechanism="none")
        r = subprocess.run([mpirun, "--oversubscribe", "--allow-run-as-root", "-n", "2",
                            ensol, "run", *COMMON, "--output-mode", "both",
                            "--sweep", "rho=20:40", "--file-per-rank", "-o", base],
                           capture_output=True, text=True, env=env)
        if expect(r.returncode == 0 and all(map(os.path.exists, pieces)),
                  f"merged: mpirun -n 2 ensol run --file-per-rank [{r.stderr.strip()[-400:]}]"):
            m = subprocess.run([ensol, "merge", "-q", base, *pieces], capture_output=True,
                               text=True)
            if expect(m.returncode == 0, f"merged: ensol merge [{m.stderr.strip()[-400:]}]"):
                checked.append(("merged", "lorenz63", ["rho"], base))
            checked += [("piece", "lorenz63", ["rho"], p) for p in pieces]

    for kind, model, varied, path in checked:
        cfcheck(cfchecks, tables, kind, path)
        check_layout(kind, model, varied, path)

    if FAILURES:
        print(f"\n{len(FAILURES)} failure(s):")
        for f in FAILURES:
            print(f"  {f}")
        return 1
    print(f"\nall {len(checked)} files pass")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
