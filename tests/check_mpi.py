#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol under MPI against one process: the same run with N ranks must give
the same file bit for bit (with --file-per-rank: the pieces joined by
`ensol merge`) (every variable, dimension and attribute except
the creation time and the command line in history/date_created). The
ensemble statistics (variables with cell_methods "realization: ...", from
--output-mode stats or both) merge the ranks' moments in another order, so
they must agree to 1e-12 of the values' scale instead (min and max exactly
in practice, mean and std to a few roundings).

    check_mpi.py ENSOL MPIRUN NRANKS WORKDIR [ensol run options...]

Exit 77 (ctest's skip) when netCDF4 for Python or mpirun is missing."""
import os
import subprocess
import sys

try:
    import numpy as np
    import netCDF4
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)

ensol, mpirun, nranks, workdir = sys.argv[1:5]
args = sys.argv[5:]
if not os.path.exists(mpirun):
    print(f"SKIP: no mpirun at {mpirun}")
    sys.exit(77)
os.makedirs(workdir, exist_ok=True)
one = os.path.join(workdir, "one.nc")
many = os.path.join(workdir, f"ranks{nranks}.nc")
for f in (one, many, *[os.path.join(workdir, f"ranks{nranks}.rank{r:04d}.nc")
                       for r in range(int(nranks))]):
    if os.path.exists(f):
        os.remove(f)

# Containers (CI) often forbid the shared-memory transport's single-copy
# mode (ptrace); the copy-in/copy-out mode works everywhere.
env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none")
subprocess.run([ensol, "run", "-q", *args, "-o", one], check=True)
subprocess.run([mpirun, "--oversubscribe", "--allow-run-as-root", "-n", nranks,
                ensol, "run", *args, "-o", many], check=True, env=env)
if os.path.exists(many + ".partial"):
    sys.exit(f"FAIL: {many}.partial left behind")
# Pieces: asked for, or written because this build's NetCDF has no
# parallel I/O.
pieces = [os.path.join(workdir, f"ranks{nranks}.rank{r:04d}.nc") for r in range(int(nranks))]
merged = "--file-per-rank" in args or os.path.exists(pieces[0])
mf_note = ""
if merged:
    missing = [p for p in pieces if not os.path.exists(p)]
    if missing or os.path.exists(many):
        sys.exit(f"FAIL: expected the pieces {pieces} and no {many}; missing {missing}")
    # In reverse order: the merge puts them in member order itself.
    subprocess.run([ensol, "merge", "-q", many, *reversed(pieces)], check=True)
    # xarray reads the pieces as one dataset without merging them (dask).
    try:
        import dask  # noqa: F401
        import xarray as xr
    except ImportError:
        mf_note = "; xarray's open_mfdataset not tried (no dask)"
    else:
        with xr.open_mfdataset(pieces, combine="nested", concat_dim="member",
                               data_vars="minimal", coords="minimal",
                               compat="override") as mf, xr.open_dataset(many) as whole:
            for name in whole.data_vars:
                if not np.array_equal(mf[name].values, whole[name].values, equal_nan=True):
                    sys.exit(f"FAIL: {name} read from the pieces with open_mfdataset differs "
                             f"from the merged file")
        mf_note = "; open_mfdataset on the pieces reads the same values"
    for p in pieces:
        os.remove(p)

SKIP_ATTRS = {"history", "date_created"}
STATS_RTOL = 1e-12
errors = []
with netCDF4.Dataset(one) as a, netCDF4.Dataset(many) as b:
    if {k: len(v) for k, v in a.dimensions.items()} != {k: len(v) for k, v in b.dimensions.items()}:
        errors.append("dimensions differ")
    for k in set(a.ncattrs()) | set(b.ncattrs()):
        if k in SKIP_ATTRS:
            continue
        if k not in a.ncattrs() or k not in b.ncattrs():
            errors.append(f"global attribute {k} only in one file")
        elif not np.array_equal(np.asarray(a.getncattr(k)), np.asarray(b.getncattr(k))):
            errors.append(f"global attribute {k}: {a.getncattr(k)!r} != {b.getncattr(k)!r}")
    if set(a.variables) != set(b.variables):
        errors.append(f"variables differ: {sorted(a.variables)} vs {sorted(b.variables)}")
    for name in sorted(set(a.variables) & set(b.variables)):
        va, vb = a.variables[name], b.variables[name]
        va.set_auto_maskandscale(False)
        vb.set_auto_maskandscale(False)
        if va.dimensions != vb.dimensions or va.dtype != vb.dtype:
            errors.append(f"{name}: dimensions or type differ")
            continue
        if va.chunking() != vb.chunking() or va.filters() != vb.filters():
            errors.append(f"{name}: chunking or filters differ")
        for k in set(va.ncattrs()) | set(vb.ncattrs()):
            if k not in va.ncattrs() or k not in vb.ncattrs() or \
               not np.array_equal(np.asarray(va.getncattr(k)), np.asarray(vb.getncattr(k)),
                                  equal_nan=np.asarray(va.getncattr(k)).dtype.kind == "f"):
                errors.append(f"{name}: attribute {k} differs")
        xa, xb = np.asarray(va[:]), np.asarray(vb[:])
        method = va.getncattr("cell_methods") if "cell_methods" in va.ncattrs() else ""
        if method.startswith("realization:") and xa.shape == xb.shape:
            # Statistics merge the ranks' moments in another order than one
            # process merges its batches': equal to a few roundings, relative
            # to the values' scale (the larger of |min| and |max| there).
            base = name.rsplit("_", 1)[0]
            scale = np.maximum(np.abs(np.asarray(a.variables[base + "_min"][:])),
                               np.abs(np.asarray(a.variables[base + "_max"][:])))
            close = (np.abs(xa - xb) <= STATS_RTOL * scale) | (np.isnan(xa) & np.isnan(xb))
            if not close.all():
                worst = np.nanmax(np.abs(xa - xb) / np.where(scale > 0, scale, 1))
                errors.append(f"{name}: statistics differ beyond {STATS_RTOL:g} "
                              f"(relative {worst:.3g} at worst)")
            continue
        if xa.tobytes() != xb.tobytes():
            diff = np.count_nonzero(xa.view(np.uint8) != xb.view(np.uint8))
            errors.append(f"{name}: values differ ({diff} bytes)")
if errors:
    print("FAIL:\n  " + "\n  ".join(errors))
    sys.exit(1)
print(f"ok: {nranks} ranks{' (pieces merged)' if merged else ''} give "
      f"the single-process file bit for bit, statistics to "
      f"{STATS_RTOL:g}{mf_note} ({' '.join(args)})")
