#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Plain Python: a loop over members, and inside it a loop over steps, on
Python floats. Where researchers start, before NumPy.

One interpreter thread. About a microsecond per arithmetic operation, so
only small ensembles are feasible (run_peers.py times it at 10^3 members;
its rate is per member-step and does not depend on the member count).
Same operation order as ensol (see common.py).
"""
import sys

from common import Params, main


def rk4(x, y, z, steps, sigma, rho, beta, dt):
    half_dt = 0.5 * dt
    sixth_dt = dt / 6.0
    for _ in range(steps):
        f0 = sigma * (y - x)
        f1 = x * (rho - z) - y
        f2 = x * y - beta * z
        s0, s1, s2 = f0, f1, f2
        ax, ay, az = x + half_dt * f0, y + half_dt * f1, z + half_dt * f2
        f0 = sigma * (ay - ax)
        f1 = ax * (rho - az) - ay
        f2 = ax * ay - beta * az
        s0 += 2.0 * f0
        s1 += 2.0 * f1
        s2 += 2.0 * f2
        ax, ay, az = x + half_dt * f0, y + half_dt * f1, z + half_dt * f2
        f0 = sigma * (ay - ax)
        f1 = ax * (rho - az) - ay
        f2 = ax * ay - beta * az
        s0 += 2.0 * f0
        s1 += 2.0 * f1
        s2 += 2.0 * f2
        ax, ay, az = x + dt * f0, y + dt * f1, z + dt * f2
        f0 = sigma * (ay - ax)
        f1 = ax * (rho - az) - ay
        f2 = ax * ay - beta * az
        x += sixth_dt * (s0 + f0)
        y += sixth_dt * (s1 + f1)
        z += sixth_dt * (s2 + f2)
    return x, y, z


class PythonLoop:
    """Plain Python loop over members (one thread)."""
    name = "python_loop"
    threads = 1

    def __init__(self, members, p=Params()):
        self.p = p

    def integrate(self, s, steps):
        p = self.p
        xs, ys, zs = s[0].tolist(), s[1].tolist(), s[2].tolist()
        for m in range(len(xs)):
            xs[m], ys[m], zs[m] = rk4(xs[m], ys[m], zs[m], steps, p.sigma, p.rho, p.beta, p.dt)
        s[0], s[1], s[2] = xs, ys, zs
        return s

    def close(self):
        pass


if __name__ == "__main__":
    sys.exit(main(PythonLoop))
