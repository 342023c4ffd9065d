# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""An XPPAUT .ode model against the same model as a model file and as the
built-in model, in one session, interleaved: integration member-steps/s
of `ensol run` (its summary line) and the ratios to the model file.

usage: /usr/bin/python3 bench/ode_speed.py [--ensol build/ensol] [--repeats 3]
           [--backend openmp]

Cases: Lorenz-63 (bench/ode/lorenz63.ode, kernels/models/lorenz63.ens,
lorenz63) with Euler and RK4, 10^6 members x 1000 steps; Lorenz-96 K=40
(bench/ode/lorenz96.ode: 40 scalar equations, as XPPAUT files write it;
kernels/models/lorenz96.ens, lorenz96) with RK4, 10^5 members x 1000
steps. Final states only, so that the figures are the integration's. Each
model is run once first, so that its compilation (cached) is not timed.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RATE = re.compile(r"integration [0-9.]+ s, ([0-9.e+]+) member-steps/s")

CASES = [
    ("Lorenz-63 euler, 1e6 members", ["--integrator", "euler", "--members", "1e6"],
     {"ode": "bench/ode/lorenz63.ode", "model file": "kernels/models/lorenz63.ens",
      "built-in": "lorenz63"}),
    ("Lorenz-63 rk4, 1e6 members", ["--integrator", "rk4", "--members", "1e6"],
     {"ode": "bench/ode/lorenz63.ode", "model file": "kernels/models/lorenz63.ens",
      "built-in": "lorenz63"}),
    ("Lorenz-96 K=40 rk4, 1e5 members",
     ["--integrator", "rk4", "--members", "1e5", "--base-state", "8"],
     {"ode": "bench/ode/lorenz96.ode", "model file": "kernels/models/lorenz96.ens",
      "built-in": "lorenz96"}),
]


def rate(ensol, model, args, backend, out):
    model = os.path.join(ROOT, model) if "/" in model else model
    cmd = [ensol, "run", "--model", model, "--steps", "1000", "--dt", "0.01",
           "--output-mode", "final", "--backend", backend, "--force", "-o", out] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    m = RATE.search(r.stderr)
    if r.returncode != 0 or not m:
        sys.exit(f"ode_speed: {' '.join(cmd)} failed: {r.stderr.strip()}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ensol", default=os.path.join(ROOT, "build", "ensol"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backend", default="openmp")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.nc")
        print(f"{'case':34} {'form':11} {'member-steps/s':>15} {'vs model file':>14}")
        for title, args, models in CASES:
            for model in models.values():  # warm-up: compile (cached), page in
                rate(a.ensol, model, args, a.backend, out)
            rates = {form: [] for form in models}
            for _ in range(a.repeats):
                for form, model in models.items():
                    rates[form].append(rate(a.ensol, model, args, a.backend, out))
            ref = statistics.median(rates["model file"])
            for form, values in rates.items():
                med = statistics.median(values)
                print(f"{title:34} {form:11} {med:15.3g} {med / ref:13.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
