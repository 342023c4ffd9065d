#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""A run continued under MPI from its restart file ends on the bits of the
same run made whole in one process: 120 steps on 3 ranks with
--restart-out, then 180 more from it (--init-from), against 300 steps;
with rk4, and with dopri5, whose restart file carries each member's step
state.

    check_mpi_restart.py ENSOL MPIRUN WORKDIR [--file-per-rank]

With --file-per-rank the restart and output pieces are joined by
`ensol merge` before they are read. Exit 77 (ctest's skip) when netCDF4
for Python or mpirun is missing."""
import glob
import os
import subprocess
import sys

try:
    import numpy as np
    import netCDF4
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)

ensol, mpirun, workdir = sys.argv[1:4]
pieces = "--file-per-rank" in sys.argv[4:]
if not os.path.exists(mpirun):
    print(f"SKIP: no mpirun at {mpirun}")
    sys.exit(77)
os.makedirs(workdir, exist_ok=True)
for f in glob.glob(os.path.join(workdir, "*.nc*")):
    os.remove(f)
env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none")
mpi = [mpirun, "--oversubscribe", "--allow-run-as-root", "-n", "3", ensol, "run", "-q"]
first = ["--members", "1001", "--batch-members", "200", "--random", "rho=20:30"]
per_rank = ["--file-per-rank"] if pieces else []


def path(name):
    return os.path.join(workdir, name)


def joined(name):
    """The file `name`, merged from its pieces first when there are some
    (asked for, or written because this build's NetCDF has no parallel
    I/O)."""
    parts = sorted(glob.glob(path(name.replace(".nc", ".rank*.nc"))))
    if pieces or parts:
        if len(parts) != 3:
            sys.exit(f"FAIL: expected 3 pieces of {name}, found {parts}")
        subprocess.run([ensol, "merge", "-q", path(name), *parts], check=True)
    return path(name)


errors = []
for integrator in ("rk4", "dopri5"):
    for f in glob.glob(os.path.join(workdir, "*.nc*")):
        os.remove(f)
    common = ["--integrator", integrator, "--threads", "1", "--output-mode", "final"]
    subprocess.run([ensol, "run", "-q", *common, *first, "--steps", "300",
                    "-o", path("whole.nc")], check=True)
    subprocess.run([*mpi, *common, *first, *per_rank, "--steps", "120",
                    "--restart-out", path("restart.nc"), "-o", path("first.nc")],
                   check=True, env=env)
    restart = joined("restart.nc")
    subprocess.run([*mpi, *common, *per_rank, "--steps", "180", "--init-from", restart,
                    "-o", path("second.nc")], check=True, env=env)
    second = joined("second.nc")
    with netCDF4.Dataset(path("whole.nc")) as a, netCDF4.Dataset(second) as b:
        names = ["x", "y", "z", "rho", "time"]
        if integrator == "dopri5":
            names += ["accepted_steps", "rejected_steps", "status"]
        for name in names:
            xa, xb = np.asarray(a.variables[name][:]), np.asarray(b.variables[name][:])
            if xa.shape != xb.shape or xa.tobytes() != xb.tobytes():
                errors.append(f"{integrator}: {name} differs from the whole run")
if errors:
    print("FAIL:\n  " + "\n  ".join(errors))
    sys.exit(1)
print(f"ok: 120 + 180 steps on 3 ranks{' (pieces merged)' if pieces else ''} give the bits "
      f"of 300 steps in one process, rk4 and dopri5")
