#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The NumPy peer: a Lorenz-63 ensemble vectorised across members.

State as structure of arrays: x, y, z of shape (members,), float64. Each step
is a handful of whole-array ufunc calls (written with out= into preallocated
buffers, so the peer does not pay for temporaries; it is a fair NumPy
version, not a straw man). Same maths and operation order as ensol:

    f(x,y,z) = (sigma (y - x), x (rho - z) - y, x y - beta z)
    Euler:  x <- x + dt f(x)
    RK4:    k1 = f(x), k2 = f(x + dt/2 k1), k3 = f(x + dt/2 k2),
            k4 = f(x + dt k3),  x <- x + dt/6 ((k1 + 2 k2 + 2 k3) + k4)

Timing mode (default): base state (-10, -10, 25) + 0.5 N(0, 1) per member
(NumPy's generator, not ensol's Philox draws, so not the same members as an
ensol run; throughput does not depend on which members), `--repeats` timed
runs after one warm-up of a few steps, and one parseable line per integrator:

    numpy_lorenz63 integrator=rk4 members=1000000 steps=100 repeats=3
        median_member_steps_per_s=... min_member_steps_per_s=...
        max_member_steps_per_s=... median_seconds=...

Check mode (--init FILE [--expect FILE]): start from the initial states in
FILE (raw float64, x block then y block then z block, as written by
`ensol_throughput --dump-check PREFIX`: PREFIX.init.f64), integrate --steps
steps, optionally write the result (--write-final FILE, same layout) and
compare it with --expect (PREFIX.<integrator>.f64, ensol's states after the
same steps). Exit status 1 when they disagree.

Run it with /usr/bin/python3: on Debian, python3-numpy is visible to the
system interpreter only. NumPy's elementwise ufuncs run on one thread and do
not use BLAS (OPENBLAS_CORETYPE, when set, does not matter here).
"""
import argparse
import sys
import time

import numpy as np


class Lorenz63:
    def __init__(self, members, sigma, rho, beta, dt):
        self.sigma, self.rho, self.beta, self.dt = sigma, rho, beta, dt
        self.half_dt = 0.5 * dt
        self.sixth_dt = dt / 6.0
        buf = lambda: np.empty(members, dtype=np.float64)
        self.fx, self.fy, self.fz = buf(), buf(), buf()   # stage derivative
        self.ax, self.ay, self.az = buf(), buf(), buf()   # stage state
        self.sx, self.sy, self.sz = buf(), buf(), buf()   # stage sum
        self.t = buf()

    def rhs(self, x, y, z):
        fx, fy, fz, t = self.fx, self.fy, self.fz, self.t
        np.subtract(y, x, out=fx)              # sigma (y - x)
        fx *= self.sigma
        np.subtract(self.rho, z, out=fy)       # x (rho - z) - y
        fy *= x
        fy -= y
        np.multiply(x, y, out=fz)              # x y - beta z
        np.multiply(z, self.beta, out=t)
        fz -= t

    def euler(self, x, y, z, steps):
        fx, fy, fz, dt = self.fx, self.fy, self.fz, self.dt
        for _ in range(steps):
            self.rhs(x, y, z)
            fx *= dt
            fy *= dt
            fz *= dt
            x += fx
            y += fy
            z += fz

    def _stage_state(self, x, y, z, h):
        # a = x + h f
        for a, s, f in ((self.ax, x, self.fx), (self.ay, y, self.fy), (self.az, z, self.fz)):
            np.multiply(f, h, out=a)
            a += s

    def _add_twice(self):
        # sum += 2 f
        t = self.t
        for s, f in ((self.sx, self.fx), (self.sy, self.fy), (self.sz, self.fz)):
            np.multiply(f, 2.0, out=t)
            s += t

    def rk4(self, x, y, z, steps):
        fx, fy, fz = self.fx, self.fy, self.fz
        sx, sy, sz = self.sx, self.sy, self.sz
        ax, ay, az = self.ax, self.ay, self.az
        for _ in range(steps):
            self.rhs(x, y, z)                              # k1
            np.copyto(sx, fx)
            np.copyto(sy, fy)
            np.copyto(sz, fz)
            self._stage_state(x, y, z, self.half_dt)
            self.rhs(ax, ay, az)                           # k2
            self._add_twice()
            self._stage_state(x, y, z, self.half_dt)
            self.rhs(ax, ay, az)                           # k3
            self._add_twice()
            self._stage_state(x, y, z, self.dt)
            self.rhs(ax, ay, az)                           # k4
            for s, f, v in ((sx, fx, x), (sy, fy, y), (sz, fz, z)):
                s += f                                     # (k1 + 2k2 + 2k3) + k4
                s *= self.sixth_dt
                v += s

    def run(self, integrator, x, y, z, steps):
        (self.rk4 if integrator == "rk4" else self.euler)(x, y, z, steps)


def read_soa(path):
    v = np.fromfile(path, dtype="<f8")
    if v.size == 0 or v.size % 3:
        sys.exit(f"numpy_lorenz63: {path}: expected 3*members float64 values, got {v.size}")
    return v.reshape(3, v.size // 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=1000000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--integrator", choices=("euler", "rk4", "both"), default="both")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dt", type=float, default=0.01)
    ap.add_argument("--sigma", type=float, default=10.0)
    ap.add_argument("--rho", type=float, default=28.0)
    ap.add_argument("--beta", type=float, default=8.0 / 3.0)
    ap.add_argument("--perturbation", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--init", help="check mode: initial states (raw float64, SoA)")
    ap.add_argument("--expect", help="check mode: ensol's final states to compare with")
    ap.add_argument("--write-final", help="check mode: write the final states here")
    ap.add_argument("--tolerance", type=float, default=1e-9,
                    help="check mode: max |numpy - ensol| / max(1, |ensol|)")
    a = ap.parse_args()
    if a.members < 1 or a.steps < 1 or a.repeats < 1:
        sys.exit("numpy_lorenz63: --members, --steps and --repeats must be >= 1")
    integrators = ("euler", "rk4") if a.integrator == "both" else (a.integrator,)

    if a.init:
        if len(integrators) != 1:
            sys.exit("numpy_lorenz63: check mode needs --integrator euler or rk4")
        s = read_soa(a.init).copy()
        model = Lorenz63(s.shape[1], a.sigma, a.rho, a.beta, a.dt)
        model.run(integrators[0], s[0], s[1], s[2], a.steps)
        if a.write_final:
            s.astype("<f8").tofile(a.write_final)
        if a.expect:
            e = read_soa(a.expect)
            if e.shape != s.shape:
                sys.exit(f"numpy_lorenz63: {a.expect}: {e.shape[1]} members, expected {s.shape[1]}")
            rel = np.abs(s - e) / np.maximum(1.0, np.abs(e))
            worst = float(np.nanmax(rel)) if np.all(np.isfinite(rel)) else float("inf")
            same = int(np.count_nonzero(np.all(s == e, axis=0)))
            ok = worst <= a.tolerance
            print(f"numpy_lorenz63 check integrator={integrators[0]} members={s.shape[1]} "
                  f"steps={a.steps} max_rel_diff={worst:.3g} bitwise_identical={same}/{s.shape[1]} "
                  f"{'ok' if ok else 'FAIL'}")
            return 0 if ok else 1
        return 0

    rng = np.random.default_rng(a.seed)
    base = np.array([-10.0, -10.0, 25.0])
    init = base[:, None] + a.perturbation * rng.standard_normal((3, a.members))
    model = Lorenz63(a.members, a.sigma, a.rho, a.beta, a.dt)
    for integrator in integrators:
        s = init.copy()
        model.run(integrator, s[0], s[1], s[2], min(a.steps, 5))   # warm-up
        rates, secs = [], []
        for _ in range(a.repeats):
            np.copyto(s, init)
            t0 = time.perf_counter()
            model.run(integrator, s[0], s[1], s[2], a.steps)
            dt = time.perf_counter() - t0
            secs.append(dt)
            rates.append(a.members * a.steps / dt)
        if not np.all(np.isfinite(s)):
            print("numpy_lorenz63: warning: non-finite states", file=sys.stderr)
        print(f"numpy_lorenz63 integrator={integrator} members={a.members} steps={a.steps} "
              f"repeats={a.repeats} median_member_steps_per_s={np.median(rates):.4g} "
              f"min_member_steps_per_s={min(rates):.4g} max_member_steps_per_s={max(rates):.4g} "
              f"median_seconds={np.median(secs):.4g} numpy={np.__version__}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
