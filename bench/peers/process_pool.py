#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""concurrent.futures.ProcessPoolExecutor over chunks of members, each
chunk integrated by the NumPy peer (numpy_lorenz63.py, vectorised across
the chunk's members): how a researcher puts NumPy on every core.

One worker process per core, started once (outside the timing). A timed
run sends each worker its chunk of initial states (pickled) and gets the
final states back; that transfer is part of the cost, as it is for the
researcher. Same maths and order as ensol (see common.py).
"""
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from common import Params, cores, main
from numpy_lorenz63 import Lorenz63


def integrate_chunk(chunk, steps, p):
    """Runs in a worker: RK4 on a (3, n) chunk with the NumPy peer."""
    chunk = np.ascontiguousarray(chunk)
    model = Lorenz63(chunk.shape[1], p.sigma, p.rho, p.beta, p.dt)
    model.rk4(chunk[0], chunk[1], chunk[2], steps)
    return chunk


class ProcessPool:
    """ProcessPoolExecutor over chunks of members, NumPy in each."""
    name = "process_pool"

    def __init__(self, members, p=Params(), workers=None):
        self.p = p
        self.threads = workers or cores()
        self.pool = ProcessPoolExecutor(max_workers=self.threads)
        # start the workers now (and import NumPy in them), not in the timing
        list(self.pool.map(int, range(self.threads)))

    def integrate(self, s, steps):
        chunks = np.array_split(s, self.threads, axis=1)
        futures = [self.pool.submit(integrate_chunk, c, steps, self.p) for c in chunks]
        return np.concatenate([f.result() for f in futures], axis=1)

    def close(self):
        self.pool.shutdown()


if __name__ == "__main__":
    sys.exit(main(ProcessPool))
