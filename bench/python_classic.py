# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The classic experiment four ways, side by side: a Python loop, NumPy
vectorised across members, a ProcessPoolExecutor, and ensol.run.

usage: /usr/bin/python3 bench/python_classic.py [--members 30,1e5,1e6]
           [--steps 5000] [--budget 60] [--workers N]

Lorenz-63 (sigma 10, rho 28, beta 8/3), members at (-10, -10, 25) plus
Gaussian noise of standard deviation 0.5, forward Euler, dt 0.01, 5000
steps. ensol draws the initial states (its noise is a function of seed and
member); the Python versions start from ensol's states at time 0, so all
four integrate the same members, and the final states are compared. ensol
runs with strict_fp=True (no fused multiply-adds), and each version
computes the right-hand side in the model file's order
(kernels/models/lorenz63.ens), so the four agree bit for bit.

For each member count a version is skipped when its time, predicted from
a short probe (up to 10^4 of the members for 20 steps), would exceed
--budget seconds: at 10^5 and 10^6 members the loops are, and at 10^6
NumPy too on a small machine. Needs the ensol package (pip install ., or PYTHONPATH and
ENSOL_LIBRARY for a build tree) and NumPy.
"""
import argparse
import concurrent.futures
import os
import time

import numpy as np

import ensol

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
DT = 0.01


def loop_members(states, steps):
    """Pure Python: one member after another, one step after another."""
    out = []
    for x, y, z in states:
        for _ in range(steps):
            fx = SIGMA * (y - x)
            fy = x * (RHO - z) - y
            fz = x * y - BETA * z
            x, y, z = x + DT * fx, y + DT * fy, z + DT * fz
        out.append((x, y, z))
    return out


def python_loop(states, steps, workers):
    return np.array(loop_members(states.tolist(), steps))


def numpy_vectorised(states, steps, workers):
    x, y, z = (states[:, i].copy() for i in range(3))
    for _ in range(steps):
        fx = SIGMA * (y - x)
        fy = x * (RHO - z) - y
        fz = x * y - BETA * z
        x += DT * fx
        y += DT * fy
        z += DT * fz
    return np.stack([x, y, z], axis=1)


def process_pool(states, steps, workers):
    """The Python loop over members, split across worker processes."""
    chunks = np.array_split(states, workers * 4)
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(loop_members, [c.tolist() for c in chunks if len(c)],
                         [steps] * len(chunks))
        return np.array([s for part in parts for s in part])


def ensol_run(members, steps):
    ds = ensol.run(members=members, steps=steps, save_every=steps, strict_fp=True,
                   progress=False)
    initial = np.stack([ds[v].isel(time=0).values for v in "xyz"], axis=1)
    final = np.stack([ds[v].isel(time=-1).values for v in "xyz"], axis=1)
    return initial, final


def count(text):
    return int(float(text))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", default="30,1e5,1e6",
                    help="member counts, comma-separated (default 30,1e5,1e6)")
    ap.add_argument("--steps", type=count, default=5000)
    ap.add_argument("--budget", type=float, default=60.0,
                    help="skip a version whose predicted time exceeds this (s)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    counts = [count(m) for m in args.members.split(",")]
    versions = [("Python loop", python_loop), ("NumPy vectorised", numpy_vectorised),
                (f"ProcessPoolExecutor ({args.workers})", process_pool)]
    failed = False
    print(f"Lorenz-63, forward Euler, dt {DT}, {args.steps} steps")
    ensol_run(2, 10)  # warm-up: the first run sets up threads and the backend
    for members in counts:
        t0 = time.perf_counter()
        initial, reference = ensol_run(members, args.steps)
        t_ensol = time.perf_counter() - t0
        print(f"\n{members} members")
        print(f"  {'ensol.run':28s} {t_ensol:9.3f} s")
        for name, fn in versions:
            probe = initial[:10000]
            probe_steps = min(20, args.steps)
            t0 = time.perf_counter()
            fn(probe, probe_steps, args.workers)
            predicted = (time.perf_counter() - t0) * (members / len(probe)) * \
                (args.steps / probe_steps)
            if predicted > args.budget:
                print(f"  {name:28s}   skipped (predicted {predicted:.0f} s)")
                continue
            t0 = time.perf_counter()
            final = fn(initial, args.steps, args.workers)
            took = time.perf_counter() - t0
            same = np.array_equal(final, reference)
            failed |= not same
            verdict = "same states" if same else \
                f"DIFFERENT: max |diff| {np.nanmax(np.abs(final - reference)):.3g}"
            print(f"  {name:28s} {took:9.3f} s  {t_ensol and took / t_ensol:8.1f}x ensol's"
                  f"  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
