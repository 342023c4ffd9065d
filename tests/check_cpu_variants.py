#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Every compiled copy of the CPU loops (src/backends/openmp_dispatch.c)
gives the same bits in strict floating-point mode: `ensol run --strict-fp`
with ENSOL_CPU_VARIANT set to each x86-64 level this CPU has, read back
with netCDF4, against the narrowest (x86-64, SSE2). `ensol info` must name
the variant asked for. Exit 77 (skipped) for a build with one copy
(ENSOL_NATIVE=ON, or not x86-64) or without netCDF4.

    check_cpu_variants.py ENSOL WORKDIR
"""
import os
import pathlib
import re
import subprocess
import sys

try:
    import netCDF4
    import numpy as np
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

ensol, work = sys.argv[1], pathlib.Path(sys.argv[2])
work.mkdir(parents=True, exist_ok=True)
LEVELS = ["x86-64", "x86-64-v3", "x86-64-v4"]
RUNS = {
    "lorenz63_rk4": ["--members", "5000", "--steps", "200", "--save-every", "50",
                     "--integrator", "rk4"],
    "lorenz96_dopri5_float": ["--model", "lorenz96", "--members", "300", "--steps", "40",
                              "--save-every", "10", "--integrator", "dopri5",
                              "--precision", "float"],
}


def variant_running(level):
    env = dict(os.environ, ENSOL_CPU_VARIANT=level)
    out = subprocess.run([ensol, "info"], env=env, check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"openmp .*?, (\S+) loops", out)
    return m.group(1) if m else None


widest = variant_running("")
if widest not in LEVELS:
    print(f"skipped: this build has one copy of the CPU loops ({widest})")
    sys.exit(77)
levels = LEVELS[: LEVELS.index(widest) + 1]
failures = []
for level in levels:
    if variant_running(level) != level:
        failures.append(f"ENSOL_CPU_VARIANT={level}: ensol info says {variant_running(level)}")

for name, args in RUNS.items():
    reference = None
    for level in levels:
        path = work / f"{name}_{level}.nc"
        env = dict(os.environ, ENSOL_CPU_VARIANT=level)
        subprocess.run([ensol, "run", "--strict-fp", "--backend", "openmp", "-q", *args,
                        "-o", str(path)], env=env, check=True)
        with netCDF4.Dataset(path) as ds:
            values = {v: np.array(ds.variables[v][:]) for v in ds.variables}
        if reference is None:
            reference = values
            continue
        for v, a in values.items():
            b = reference[v]
            if a.shape != b.shape or a.tobytes() != b.tobytes():
                failures.append(f"{name}: {v} differs between {levels[0]} and {level}")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"strict-fp runs bit-identical across {', '.join(levels)}")
