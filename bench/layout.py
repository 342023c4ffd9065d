# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The file layout's costs: writing a trajectory file, reading one member's
trajectory and reading every member at one time, each the median of
REPEATS runs, for one or more ensol programs measured side by side.

usage: layout.py WORKDIR ENSOL [ENSOL...]

Writes WORKDIR/layout_N.nc per program (about 250 MB each: 10^6 members,
21 saves, float on disk by default). Reads go through netCDF4 with the
file opened afresh each time (HDF5's chunk cache starts empty; the page
cache does not, as for a user re-reading a file just written).
"""
import os
import statistics
import subprocess
import sys
import time

import netCDF4
import numpy as np

MEMBERS, STEPS, SAVE_EVERY, REPEATS = 1_000_000, 1000, 50, 3


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def member_axis(var):
    return var.dimensions.index("member")


def read_member(path, m):
    with netCDF4.Dataset(path) as ds:
        x = ds["x"]
        idx = [slice(None)] * x.ndim
        idx[member_axis(x)] = m
        return np.asarray(x[tuple(idx)])


def read_time(path, t):
    with netCDF4.Dataset(path) as ds:
        x = ds["x"]
        idx = [slice(None)] * x.ndim
        idx[x.dimensions.index("time")] = t
        return np.asarray(x[tuple(idx)])


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    work, programs = argv[1], argv[2:]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(1)
    print(f"{'program':<40} {'write s':>8} {'one member ms':>14} {'one time ms':>12} layout")
    for i, ensol in enumerate(programs):
        path = os.path.join(work, f"layout_{i}.nc")
        cmd = [ensol, "run", "-q", "--members", str(MEMBERS), "--steps", str(STEPS),
               "--save-every", str(SAVE_EVERY), "--output-type", "float", "-o", path]
        write = statistics.median(timed(lambda: subprocess.run(cmd, check=True))
                                  for _ in range(REPEATS))
        members = rng.integers(0, MEMBERS, 20)
        one_member = statistics.median(timed(lambda m=m: read_member(path, int(m)))
                                       for m in members)
        one_time = statistics.median(timed(lambda t=t: read_time(path, t))
                                     for t in range(0, STEPS // SAVE_EVERY + 1, 4))
        with netCDF4.Dataset(path) as ds:
            layout = f"x{ds['x'].dimensions} chunks {ds['x'].chunking()}"
        print(f"{ensol:<40} {write:8.2f} {one_member * 1e3:14.2f} {one_time * 1e3:12.1f} {layout}")
        os.remove(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
