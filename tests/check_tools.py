# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""CDO and NCO work on the state variables of ensol's files.

usage: /usr/bin/python3 check_tools.py ENSOL WORKDIR

On a Lorenz-63 trajectory file (x, y, z over (time, member)) and a
Lorenz-96 one (X over (time, member, k)):

    cdo sinfon FILE               lists every state variable, skips none
    cdo -s timmean FILE OUT       the mean over time of each member
    ncra FILE OUT                 the same, as NCO's record average
    ncwa -a member FILE OUT       the ensemble mean at each time
    ncks -d member,2 FILE OUT     member 2 alone, bit for bit
    ncks -d time,1,3 FILE OUT     saves 1 to 3, bit for bit
    ncks -v x FILE OUT            x alone (X for Lorenz-96), bit for bit

Every result must hold all the state variables (only the one asked for
with -v), over the dimensions the operator leaves, and agree with numpy on
the original file to 1e-12 relative (to the larger of the value and the
variable's RMS) for the means, exactly for the subsets.
Tools: cdo, ncra, ncwa, ncks on PATH (Debian packages cdo and nco).
Exit status: 0 fine, 1 a failure, 77 (skipped) CDO or NCO missing (the
other is still checked) or netCDF4 for Python missing.
"""
import os
import shutil
import subprocess
import sys

from check_common import FAILURES, SKIP, expect, require_netcdf

np, netCDF4 = require_netcdf()
RTOL = 1e-12


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    expect(r.returncode == 0, f"{' '.join(cmd)} (exit {r.returncode})"
           + (f" [{out[-600:]}]" if r.returncode else ""))
    return r.returncode == 0, out


def read(path):
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_mask(False)
        return {n: (v.dimensions, np.asarray(v[:])) for n, v in nc.variables.items()}


def close(got, want, scale):
    """|got - want| <= RTOL * max(|want|, scale), element by element."""
    if got.shape != want.shape:
        return False, f"shape {got.shape}, expected {want.shape}"
    tol = RTOL * np.maximum(np.abs(want), scale)
    err = np.abs(got - want)
    bad = ~(err <= tol)
    worst = float(np.max(err / np.maximum(np.abs(want), scale))) if err.size else 0.0
    return not bad.any(), f"max relative difference {worst:.3g}"


def check_result(label, path, orig, names, want_dims, want_fn, exact=False):
    """Each of names in the result at path, over want_dims(the original's
    dimensions), equal to want_fn(the original's dimensions, its values)
    (exactly, or to RTOL)."""
    if not os.path.exists(path):
        expect(False, f"{label}: no result {path}")
        return
    res = read(path)
    missing = [n for n in names if n not in res]
    expect(not missing, f"{label}: holds {', '.join(names)}"
           + (f" (missing {missing}; has {sorted(res)})" if missing else ""))
    for n in names:
        if n not in res:
            continue
        dims, got = res[n]
        odims, ovals = orig[n]
        wd = want_dims(odims)
        expect(dims == wd, f"{label}: {n}{dims}, expected {wd}")
        want = want_fn(odims, ovals)
        if exact:
            ok = got.shape == want.shape and np.array_equal(got, want, equal_nan=True)
            expect(ok, f"{label}: {n} equals the original's, bit for bit")
        else:
            scale = float(np.sqrt(np.mean(ovals.astype(np.float64) ** 2)))
            ok, how = close(got.astype(np.float64), want, scale)
            expect(ok, f"{label}: {n} = numpy's, to {RTOL:g} ({how})")


def without(dims, *names):
    return tuple(d for d in dims if d not in names)


def check_file(label, path, names, work, have_cdo, have_nco):
    orig = read(path)
    for n in names:
        expect(n in orig and orig[n][0][:2] == ("time", "member"),
               f"{label}: {n}{orig[n][0] if n in orig else None} starts with (time, member)")
    if any(n not in orig for n in names):
        return
    # numpy's results, by dimension name (whatever the order on disk).
    def tmean(d, v):
        return v.mean(axis=d.index("time"), keepdims=True)

    def mmean(d, v):
        return v.mean(axis=d.index("member"))

    def take(dim, idx):
        return lambda d, v: np.take(v, idx, axis=d.index(dim))

    out = lambda op: os.path.join(work, f"{label}_{op}.nc")  # noqa: E731
    for op in ("timmean", "ncra", "ncwa", "member2", "time13", "v"):
        if os.path.exists(out(op)):
            os.remove(out(op))

    if have_cdo:
        ok, text = run(["cdo", "sinfon", path])
        if ok:
            listed = {line.split(":")[-1].strip() for line in text.splitlines() if ":" in line}
            expect(all(n in listed for n in names),
                   f"{label}: cdo sinfon lists {', '.join(names)}")
            expect("skipped variable" not in text.lower(),
                   f"{label}: cdo sinfon skips no variable"
                   + ("" if "skipped variable" not in text.lower() else f" [{text[-800:]}]"))
        if run(["cdo", "-s", "timmean", path, out("timmean")])[0]:
            check_result(f"{label}: cdo timmean", out("timmean"), orig, names,
                         lambda d: d, tmean)

    if have_nco:
        if run(["ncra", "-O", path, out("ncra")])[0]:
            check_result(f"{label}: ncra", out("ncra"), orig, names, lambda d: d, tmean)
        if run(["ncwa", "-O", "-a", "member", path, out("ncwa")])[0]:
            check_result(f"{label}: ncwa -a member", out("ncwa"), orig, names,
                         lambda d: without(d, "member"), mmean)
        if run(["ncks", "-O", "-d", "member,2", path, out("member2")])[0]:
            check_result(f"{label}: ncks -d member,2", out("member2"), orig, names,
                         lambda d: d, take("member", [2]), exact=True)
        if run(["ncks", "-O", "-d", "time,1,3", path, out("time13")])[0]:
            check_result(f"{label}: ncks -d time,1,3", out("time13"), orig, names,
                         lambda d: d, take("time", [1, 2, 3]), exact=True)
        if run(["ncks", "-O", "-v", names[0], path, out("v")])[0]:
            check_result(f"{label}: ncks -v {names[0]}", out("v"), orig, names[:1],
                         lambda d: d, lambda d, v: v, exact=True)
            res = read(out("v"))
            expect(all(c in res for c in ("time", "member")),
                   f"{label}: ncks -v {names[0]} keeps the coordinates time and member")


def check_sweep_grid(ensol, work, have_cdo):
    """A (rho, sigma) sweep opens as its grid with the one call the README
    shows, each grid point holding its member's values; CDO still reads
    the states."""
    try:
        import xarray as xr
    except ImportError as exc:
        print(f"SKIPPED: sweep grid (cannot import xarray: {exc})")
        return
    path = os.path.join(work, "sweep.nc")
    if os.path.exists(path):
        os.remove(path)
    r = subprocess.run([ensol, "run", "-q", "--backend", "openmp", "--threads", "1",
                        "--sweep", "rho=20:40:3", "--sweep", "sigma=8:12:2", "--steps", "50",
                        "--save-every", "10", "--integrator", "rk4", "-o", path],
                       capture_output=True, text=True)
    if not expect(r.returncode == 0, f"sweep: ensol run [{r.stderr.strip()[-400:]}]"):
        return
    with xr.open_dataset(path) as ds:
        grid = ds.set_index(member=["rho", "sigma"]).unstack("member")
        expect(grid["x"].dims == ("time", "rho", "sigma") and grid["x"].shape[1:] == (3, 2),
               f"sweep: set_index(member=['rho', 'sigma']).unstack('member') gives x"
               f"{grid['x'].dims} {grid['x'].shape}")
        same = all(np.array_equal(grid["x"].sel(rho=float(ds["rho"][m]),
                                                sigma=float(ds["sigma"][m])).values,
                                  ds["x"].isel(member=m).values)
                   for m in range(ds.sizes["member"]))
        expect(same, "sweep: each grid point holds its member's trajectory")
    if have_cdo:
        r = subprocess.run(["cdo", "sinfon", path], capture_output=True, text=True)
        out = r.stdout + r.stderr
        expect(r.returncode == 0 and "skipped variable x" not in out and
               all(f" {v} " in out or out.rstrip().endswith(f" {v}") for v in ("x", "y", "z")),
               f"sweep: cdo sinfon lists x, y, z [{out.strip()[-300:]}]")


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ensol, work = argv[1:3]
    have_cdo = shutil.which("cdo") is not None
    have_nco = all(shutil.which(t) for t in ("ncra", "ncwa", "ncks"))
    skipped = []
    if not have_cdo:
        skipped.append("CDO (cdo not on PATH; install with: apt-get install cdo)")
    if not have_nco:
        skipped.append("NCO (ncra, ncwa or ncks not on PATH; install with: apt-get install nco)")
    if not have_cdo and not have_nco:
        print(f"SKIPPED: {'; '.join(skipped)}")
        return SKIP
    os.makedirs(work, exist_ok=True)
    common = ["--backend", "openmp", "--threads", "1", "--members", "8", "--steps", "50",
              "--save-every", "10", "-q"]
    files = [("lorenz63", ["--integrator", "rk4"], ["x", "y", "z"]),
             ("lorenz96", ["--model", "lorenz96", "--param", "K=8", "--integrator", "rk4"],
              ["X"])]
    for label, args, names in files:
        path = os.path.join(work, f"{label}.nc")
        if os.path.exists(path):
            os.remove(path)
        r = subprocess.run([ensol, "run", *common, *args, "-o", path], capture_output=True,
                           text=True)
        if expect(r.returncode == 0, f"{label}: ensol run {' '.join(args)} "
                                     f"[{r.stderr.strip()[-400:]}]"):
            check_file(label, path, names, work, have_cdo, have_nco)

    check_sweep_grid(ensol, work, have_cdo)

    if FAILURES:
        print(f"\n{len(FAILURES)} failure(s):")
        for f in FAILURES:
            print(f"  {f}")
        return 1
    if skipped:
        print(f"SKIPPED: {'; '.join(skipped)}")
        return SKIP
    print("\nCDO and NCO: all checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
