# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Work-precision diagram: error at a fixed time against cost, for Euler,
RK4 at several steps and dopri5 at several tolerances, on Lorenz-63 and
Lorenz-96. Users choose their integrator from it.

usage: /usr/bin/python3 bench/work_precision.py [--ensol BUILD/ensol]
           [--out bench/work_precision.png] [--csv bench/work_precision.csv]
           [--backend openmp] [--threads 0] [--repeats 3] [--quick]

For each model and integrator setting it runs `ensol run --output-mode
final` (the public command line, double precision) and measures
- the error: the largest |x(T) - x_ref(T)| over the first 1000 members and
  all variables, x_ref from ensol's dopri5 at rtol = atol = 1e-13 (checked
  here against SciPy's DOP853 at 1e-13 on a few members, when SciPy is
  there);
- the cost: the integration time per member to reach T, from the run's
  summary line ("N member-steps/s", which counts T/dt nominal steps per
  member for every integrator): the fastest of --repeats runs, with enough
  members for at least 0.2 s of integration where 4 million members allow;
  and the member-steps per second actually taken (dopri5: accepted plus
  rejected steps, read from the file).
Members start from the library's defaults (Lorenz-63 at (-10, -10, 25),
Lorenz-96 K = 40 at X = F, both with noise 0.5); T = 2 for Lorenz-63 and
T = 1 for Lorenz-96: long enough to separate the methods, short enough
that chaos (errors growing like exp(0.9 t), and near X = F like exp(7 t))
does not swamp the differences.
Needs numpy, netCDF4 and matplotlib (Debian: python3-numpy python3-netcdf4
python3-matplotlib), SciPy optionally.
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import netCDF4

HERE = os.path.dirname(os.path.abspath(__file__))
ERROR_MEMBERS = 1000  # members compared with the reference
MIN_SECONDS = 0.2  # integration time each timed run aims at, at least
MAX_MEMBERS = 4_000_000

MODELS = {
    "lorenz63": {"T": 2.0, "vars": ["x", "y", "z"], "label": "Lorenz-63, T = 2",
                 "euler": [1e-2, 3e-3, 1e-3, 3e-4, 1e-4],
                 "rk4": [2e-2, 1e-2, 5e-3, 2.5e-3, 1.25e-3, 6.25e-4]},
    "lorenz96": {"T": 1.0, "vars": ["X"], "label": "Lorenz-96 (K = 40), T = 1",
                 "euler": [2e-3, 1e-3, 5e-4, 2e-4, 1e-4],
                 "rk4": [2e-2, 1e-2, 5e-3, 2.5e-3, 1.25e-3, 6.25e-4]},
}
RTOLS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11]
DOPRI5_DT = 0.01  # first step and save unit
REFERENCE_TOL = 1e-13


def run(args, ensol, workdir, model, integrator, dt, members, tol=None):
    """One `ensol run`; returns (final states [member, var], integration
    seconds per member, steps taken per member)."""
    T = MODELS[model]["T"]
    steps = int(round(T / dt))
    path = os.path.join(workdir, "run.nc")
    cmd = [ensol, "run", "--model", model, "--integrator", integrator, "--dt", repr(dt),
           "--steps", str(steps), "--members", str(members), "--output-mode", "final",
           "--backend", args.backend, "--threads", str(args.threads), "-o", path]
    if tol is not None:
        cmd += ["--rtol", repr(tol), "--atol", repr(tol)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")
    # "integration 0.42 s, 4.5e6 member-steps/s": the rate has two
    # significant digits however short the run, the seconds do not.
    rate = float(re.search(r"integration [0-9.]+ s, ([0-9.e+-]+) member-steps/s",
                           proc.stderr).group(1))
    per_member = steps / rate
    with netCDF4.Dataset(path) as nc:
        names = MODELS[model]["vars"]
        if len(names) == 1:
            x = np.asarray(nc.variables[names[0]][-1, :, :], dtype=float)
        else:
            x = np.stack([np.asarray(nc.variables[v][-1, :], dtype=float) for v in names], axis=1)
        if "accepted_steps" in nc.variables:
            taken = (np.asarray(nc.variables["accepted_steps"][:]) +
                     np.asarray(nc.variables["rejected_steps"][:])).mean()
        else:
            taken = float(steps)
    os.remove(path)
    return x, per_member, taken


def timed(args, ensol, workdir, model, integrator, dt, tol, reference):
    """Error against the reference and the fastest cost per member."""
    x, per_member, taken = run(args, ensol, workdir, model, integrator, dt, ERROR_MEMBERS, tol)
    diff = np.abs(x - reference)
    error = float(diff.max()) if np.all(np.isfinite(x)) else math.inf
    members = int(min(max(1.5 * MIN_SECONDS / per_member, ERROR_MEMBERS), MAX_MEMBERS))
    cost = math.inf
    for _ in range(args.repeats):
        _, per_member, _ = run(args, ensol, workdir, model, integrator, dt, members, tol)
        cost = min(cost, per_member)
    return {"model": model, "integrator": integrator, "dt": dt, "rtol": tol or "",
            "error": error, "seconds_per_member": cost, "steps_per_member": taken,
            "member_steps_per_second": taken / cost if cost > 0 else math.nan,
            "members_timed": members}


def scipy_check(model, reference, ensol, workdir, args):
    """Largest difference between the reference and SciPy's DOP853 on 5 members."""
    try:
        from scipy.integrate import solve_ivp
    except Exception:
        return None
    # The initial states: a run of zero length is not allowed, so ask for
    # the trajectory's first saved time instead.
    path = os.path.join(workdir, "init.nc")
    subprocess.run([ensol, "run", "--model", model, "--members", "5", "--steps", "1",
                    "-o", path, "-q"], check=True)
    with netCDF4.Dataset(path) as nc:
        names = MODELS[model]["vars"]
        if len(names) == 1:
            x0 = np.asarray(nc.variables[names[0]][0, :, :], dtype=float)
        else:
            x0 = np.stack([np.asarray(nc.variables[v][0, :], dtype=float) for v in names], axis=1)
    os.remove(path)

    def l63(_t, x):
        return [10 * (x[1] - x[0]), x[0] * (28 - x[2]) - x[1], x[0] * x[1] - 8 / 3 * x[2]]

    def l96(_t, x):
        return (np.roll(x, -1) - np.roll(x, 2)) * np.roll(x, 1) - x + 8.0

    worst = 0.0
    for m in range(5):
        sol = solve_ivp(l63 if model == "lorenz63" else l96, (0, MODELS[model]["T"]), x0[m],
                        method="DOP853", rtol=REFERENCE_TOL, atol=REFERENCE_TOL)
        worst = max(worst, float(np.abs(sol.y[:, -1] - reference[m]).max()))
    return worst


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    style = {"euler": ("tab:red", "o", "Euler (dt)"), "rk4": ("tab:blue", "s", "RK4 (dt)"),
             "dopri5": ("tab:green", "^", "dopri5 (rtol)")}
    for ax, model in zip(axes, MODELS):
        for integrator, (color, marker, label) in style.items():
            pts = [r for r in rows if r["model"] == model and r["integrator"] == integrator
                   and math.isfinite(r["error"]) and r["error"] > 0]
            if not pts:
                continue
            cost = [1e6 * r["seconds_per_member"] for r in pts]
            err = [r["error"] for r in pts]
            ax.loglog(cost, err, marker=marker, color=color, label=label)
            for r, c, e in zip(pts, cost, err):
                text = f"{r['rtol']:.0e}" if integrator == "dopri5" else f"{r['dt']:g}"
                ax.annotate(text, (c, e), textcoords="offset points", xytext=(4, 3),
                            fontsize=6.5, color=color)
        ax.set_title(MODELS[model]["label"])
        ax.set_xlabel("integration time per member to reach T [µs]")
        ax.set_ylabel("max error at T over 1000 members")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("ensol work-precision (double, OpenMP backend): lower left is better")
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ensol", default=os.path.join(HERE, "..", "build", "ensol"))
    p.add_argument("--out", default=os.path.join(HERE, "work_precision.png"))
    p.add_argument("--csv", default=os.path.join(HERE, "work_precision.csv"))
    p.add_argument("--backend", default="openmp")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="fewer settings, one repeat")
    args = p.parse_args()
    if args.quick:
        args.repeats = 1
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for model, spec in MODELS.items():
            ref, _, ref_steps = run(args, args.ensol, workdir, model, "dopri5", DOPRI5_DT,
                                    ERROR_MEMBERS, REFERENCE_TOL)
            check = scipy_check(model, ref, args.ensol, workdir, args)
            print(f"{model}: reference dopri5 rtol {REFERENCE_TOL:g} ({ref_steps:.0f} steps per "
                  f"member)" + ("" if check is None else
                                f", differs from SciPy DOP853 by {check:.1e}"), flush=True)
            settings = ([("euler", dt, None) for dt in spec["euler"]] +
                        [("rk4", dt, None) for dt in spec["rk4"]] +
                        [("dopri5", DOPRI5_DT, tol) for tol in RTOLS])
            if args.quick:
                settings = settings[::2]
            for integrator, dt, tol in settings:
                r = timed(args, args.ensol, workdir, model, integrator, dt, tol, ref)
                rows.append(r)
                what = f"rtol {tol:.0e}" if tol else f"dt {dt:g}"
                print(f"  {integrator:7s} {what:11s} error {r['error']:9.2e}  "
                      f"{1e6 * r['seconds_per_member']:9.2f} us/member  "
                      f"{r['steps_per_member']:8.0f} steps/member  "
                      f"{r['member_steps_per_second']:9.3g} member-steps/s", flush=True)
    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plot(rows, args.out)
    print(f"wrote {args.out} and {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
