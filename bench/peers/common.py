# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""What the Python peers share: the problem, the state layout, the check
against ensol and a small command line, so that each peer file holds only
its own way of integrating.

The problem: Lorenz-63 (sigma 10, rho 28, beta 8/3), RK4, dt 0.01, float64,
final state only. The maths and its operation order are ensol's
(kernels/models/lorenz63.h, kernels/integrators/rk4.h):

    f(x,y,z) = (sigma (y - x), x (rho - z) - y, x y - beta z)
    k1 = f(x), k2 = f(x + dt/2 k1), k3 = f(x + dt/2 k2), k4 = f(x + dt k3)
    x <- x + dt/6 ((k1 + 2 k2 + 2 k3) + k4)

State: a float64 array of shape (3, members), x row, y row, z row (the
layout of `ensol_throughput --dump-check` files and of numpy_lorenz63.py).

A peer is a class with
    name, threads             (for the report)
    __init__(members, p)      p: Params; may start pools, compile, ...
    integrate(s, steps)       returns the state after `steps` steps (may
                              work in place on s)
    close()
and `main(PeerClass)` gives it a command line:

    peer.py --members 1e6 --steps 100 --repeats 3        # timing
    peer.py --init I.f64 --expect E.f64 --steps 100      # check

Run with /usr/bin/python3: Debian's python3-numpy, -numba and -dask are
visible only to the system interpreter.
"""
import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Params:
    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0
    dt: float = 0.01


def cores():
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def random_states(members, seed=42, perturbation=0.5):
    """(-10, -10, 25) + perturbation N(0, 1), shape (3, members)."""
    rng = np.random.default_rng(seed)
    base = np.array([-10.0, -10.0, 25.0])
    return base[:, None] + perturbation * rng.standard_normal((3, members))


def read_soa(path):
    v = np.fromfile(path, dtype="<f8")
    if v.size == 0 or v.size % 3:
        sys.exit(f"{path}: expected 3*members float64 values, got {v.size}")
    return v.reshape(3, v.size // 3)


def compare(final, expect):
    """(max |peer - ensol| / max(1, |ensol|), members bit-identical)."""
    final = np.asarray(final)
    rel = np.abs(final - expect) / np.maximum(1.0, np.abs(expect))
    worst = float(np.max(rel)) if np.all(np.isfinite(rel)) else float("inf")
    same = int(np.count_nonzero(np.all(final == expect, axis=0)))
    return worst, same


def time_run(peer, init, steps):
    """Seconds of one integrate() of a fresh copy of init."""
    s = init.copy()
    t0 = time.perf_counter()
    out = peer.integrate(s, steps)
    t = time.perf_counter() - t0
    if not np.all(np.isfinite(out)):
        print(f"{peer.name}: warning: non-finite states", file=sys.stderr)
    return t


def calibrate_steps(peer, init, target_seconds, lo=5, hi=1000):
    """Steps for one timed run of about target_seconds (lo..hi): a short
    run of `lo` steps, scaled. Rates are per member-step, so a peer that
    runs fewer steps measures the same thing."""
    t = time_run(peer, init, lo)
    per_step = t / lo
    return int(min(hi, max(lo, round(target_seconds / max(per_step, 1e-12)))))


def count(text):
    """1000, 1e6 -> int."""
    v = float(text)
    if v < 1 or v != int(v):
        raise argparse.ArgumentTypeError(f"{text}: not a member count")
    return int(v)


def main(peer_class, argv=None):
    ap = argparse.ArgumentParser(description=(peer_class.__doc__ or "").split("\n\n")[0])
    ap.add_argument("--members", type=count, default=100000)
    ap.add_argument("--steps", type=count, default=100)
    ap.add_argument("--repeats", type=count, default=3)
    ap.add_argument("--dt", type=float, default=Params.dt)
    ap.add_argument("--init", help="check mode: initial states (raw float64, 3 x members)")
    ap.add_argument("--expect", help="check mode: ensol's states after --steps steps")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    a = ap.parse_args(argv)
    p = Params(dt=a.dt)
    if a.init:
        init = read_soa(a.init)
        peer = peer_class(init.shape[1], p)
        try:
            final = peer.integrate(init.copy(), a.steps)
        finally:
            peer.close()
        if a.expect:
            worst, same = compare(final, read_soa(a.expect))
            ok = worst <= a.tolerance
            print(f"{peer.name} check members={init.shape[1]} steps={a.steps} "
                  f"max_rel_diff={worst:.3g} bitwise_identical={same}/{init.shape[1]} "
                  f"{'ok' if ok else 'FAIL'}")
            return 0 if ok else 1
        return 0
    init = random_states(a.members)
    peer = peer_class(a.members, p)
    try:
        time_run(peer, init, min(a.steps, 3))   # warm-up (compiles, starts pools)
        secs = [time_run(peer, init, a.steps) for _ in range(a.repeats)]
    finally:
        peer.close()
    rates = [a.members * a.steps / t for t in secs]
    print(f"{peer.name} members={a.members} steps={a.steps} threads={peer.threads} "
          f"repeats={a.repeats} median_member_steps_per_s={np.median(rates):.4g} "
          f"min_member_steps_per_s={min(rates):.4g} max_member_steps_per_s={max(rates):.4g} "
          f"median_seconds={np.median(secs):.4g}")
    return 0
