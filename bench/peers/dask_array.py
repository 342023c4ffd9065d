#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Dask: x, y, z as dask.array chunked over members, the RK4 step written
as whole-array expressions (as with NumPy, but lazy), computed with the
threaded scheduler on all cores.

One chunk per core (more chunks measured slower here: more tasks, same
arithmetic). Each RK4 step is about seventy array operations, and dask
builds each into the task graph in Python (about 0.35 ms apiece on the
project machine, 25 ms per step whatever the chunk size); dask fuses them
per chunk when it computes. The graph is computed (persisted) every
`persist_every` steps (10) so that it stays small: building and optimising
a graph of thousands of steps costs more than the steps. The expressions
allocate a temporary per operation, as plain dask code does. Same maths
and order as ensol (see common.py).
"""
import sys

import dask
import dask.array as da
import numpy as np

from common import Params, cores, main


def rhs(x, y, z, p):
    return p.sigma * (y - x), x * (p.rho - z) - y, x * y - p.beta * z


def rk4_step(x, y, z, p):
    half_dt = 0.5 * p.dt
    sixth_dt = p.dt / 6.0
    k1 = rhs(x, y, z, p)
    k2 = rhs(x + half_dt * k1[0], y + half_dt * k1[1], z + half_dt * k1[2], p)
    k3 = rhs(x + half_dt * k2[0], y + half_dt * k2[1], z + half_dt * k2[2], p)
    k4 = rhs(x + p.dt * k3[0], y + p.dt * k3[1], z + p.dt * k3[2], p)
    return tuple(v + sixth_dt * (((a + 2.0 * b) + 2.0 * c) + d)
                 for v, a, b, c, d in zip((x, y, z), k1, k2, k3, k4))


class DaskArray:
    """dask.array chunked over members, threaded scheduler."""
    name = "dask_array"

    def __init__(self, members, p=Params(), workers=None, chunks_per_worker=1,
                 persist_every=10):
        self.p = p
        self.threads = workers or cores()
        self.chunk = max(1, -(-members // (self.threads * chunks_per_worker)))
        self.persist_every = persist_every

    def integrate(self, s, steps):
        x, y, z = (da.from_array(s[v], chunks=self.chunk) for v in range(3))
        with dask.config.set(scheduler="threads", num_workers=self.threads):
            for k in range(steps):
                x, y, z = rk4_step(x, y, z, self.p)
                if (k + 1) % self.persist_every == 0 and k + 1 < steps:
                    x, y, z = dask.persist(x, y, z)
            x, y, z = dask.compute(x, y, z)
        return np.stack((x, y, z))

    def close(self):
        pass


if __name__ == "__main__":
    sys.exit(main(DaskArray))
