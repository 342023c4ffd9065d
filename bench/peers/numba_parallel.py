#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Numba: @njit(parallel=True, fastmath=False), prange over members, the
whole RK4 time loop inside on scalar locals. The fastest thing a
researcher writes in Python without leaving it.

Numba's threads (numba.get_num_threads(), all cores by default) share the
members. fastmath=False keeps IEEE semantics (no reassociation, no
contraction into FMAs), as the NumPy peer has. The first call compiles
(about a second); the peer compiles in __init__, outside any timing. Same
maths and order as ensol (see common.py).
"""
import sys

import numba
import numpy as np
from numba import njit, prange

from common import Params, main


@njit(parallel=True, fastmath=False, cache=False)
def rk4_members(s, steps, sigma, rho, beta, dt):
    half_dt = 0.5 * dt
    sixth_dt = dt / 6.0
    n = s.shape[1]
    for m in prange(n):
        x = s[0, m]
        y = s[1, m]
        z = s[2, m]
        for _ in range(steps):
            f0 = sigma * (y - x)
            f1 = x * (rho - z) - y
            f2 = x * y - beta * z
            s0 = f0
            s1 = f1
            s2 = f2
            ax = x + half_dt * f0
            ay = y + half_dt * f1
            az = z + half_dt * f2
            f0 = sigma * (ay - ax)
            f1 = ax * (rho - az) - ay
            f2 = ax * ay - beta * az
            s0 += 2.0 * f0
            s1 += 2.0 * f1
            s2 += 2.0 * f2
            ax = x + half_dt * f0
            ay = y + half_dt * f1
            az = z + half_dt * f2
            f0 = sigma * (ay - ax)
            f1 = ax * (rho - az) - ay
            f2 = ax * ay - beta * az
            s0 += 2.0 * f0
            s1 += 2.0 * f1
            s2 += 2.0 * f2
            ax = x + dt * f0
            ay = y + dt * f1
            az = z + dt * f2
            f0 = sigma * (ay - ax)
            f1 = ax * (rho - az) - ay
            f2 = ax * ay - beta * az
            x += sixth_dt * (s0 + f0)
            y += sixth_dt * (s1 + f1)
            z += sixth_dt * (s2 + f2)
        s[0, m] = x
        s[1, m] = y
        s[2, m] = z


class NumbaParallel:
    """Numba parallel loop over members (prange), RK4 inside."""
    name = "numba_parallel"

    def __init__(self, members, p=Params()):
        self.p = p
        self.threads = numba.get_num_threads()
        # compile now: the first call's JIT time is not integration time
        rk4_members(np.zeros((3, 4)), 1, p.sigma, p.rho, p.beta, p.dt)

    def integrate(self, s, steps):
        s = np.ascontiguousarray(s)
        p = self.p
        rk4_members(s, steps, p.sigma, p.rho, p.beta, p.dt)
        return s

    def close(self):
        pass


if __name__ == "__main__":
    sys.exit(main(NumbaParallel))
