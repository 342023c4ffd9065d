# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Check that an ensol NetCDF file opens cleanly in xarray.

usage: check_xarray.py FILE VAR[,VAR...] MEMBERS

Checks the dimensions, coordinates, the expected variables and the CF
attributes through xarray, and every variable's values against a plain
netCDF4 read. Exit status: 0 fine, 1 a check failed (message on stderr),
77 xarray or netCDF4 cannot be imported (the caller skips the test).
"""
import sys

try:
    import numpy as np
    import netCDF4
    import xarray as xr
except Exception as exc:  # ImportError, or a broken install
    print(f"cannot import xarray/netCDF4/numpy: {exc}", file=sys.stderr)
    sys.exit(77)


def fail(msg):
    print(f"check_xarray: {msg}", file=sys.stderr)
    sys.exit(1)


def main(argv):
    if len(argv) != 4:
        fail("usage: check_xarray.py FILE VAR[,VAR...] MEMBERS")
    path, names, members = argv[1], argv[2].split(","), int(argv[3])

    with xr.open_dataset(path) as ds, netCDF4.Dataset(path) as nc:
        if ds.sizes.get("member") != members:
            fail(f"member dimension is {ds.sizes.get('member')}, expected {members}")
        if "time" not in ds.dims:
            fail(f"no time dimension: {dict(ds.sizes)}")
        for coord in ("member", "time"):
            if coord not in ds.coords:
                fail(f"{coord} is not a coordinate: {list(ds.coords)}")
        if not np.array_equal(ds["member"].values, np.arange(members)):
            fail(f"member coordinate is {ds['member'].values}")
        if ds["member"].attrs.get("standard_name") != "realization":
            fail("member has no standard_name realization")
        if ds.attrs.get("Conventions") != "CF-1.8":
            fail(f"Conventions is {ds.attrs.get('Conventions')!r}")
        for attr in ("title", "history", "source", "model"):
            if not ds.attrs.get(attr):
                fail(f"global attribute {attr} missing")
        for name in names:
            if name not in ds.variables:
                fail(f"variable {name} missing: {list(ds.variables)}")
            # Parameters varying across members are coordinates of the states.
            if ds[name].dims == ("member",) and name not in ds.coords:
                fail(f"parameter {name} is not a coordinate: {list(ds.coords)}")
            var = ds[name]
            want_first = "time" if "time" in var.dims else "member"
            if var.dims[0] != want_first:
                fail(f"{name} has dims {var.dims}, expected {want_first} first")
            if not var.attrs.get("long_name"):
                fail(f"{name} has no long_name")
            expected = np.asarray(nc.variables[name][:])
            if var.shape != expected.shape:
                fail(f"{name}: shape {var.shape} in xarray, {expected.shape} in netCDF4")
            if not np.array_equal(var.values, expected):
                fail(f"{name}: values differ between xarray and netCDF4")
        # Model time decodes as a time axis, and stays numbers on request.
        if not np.issubdtype(ds["time"].dtype, np.datetime64):
            fail(f"time decodes as {ds['time'].dtype}, not as dates")
        with xr.open_dataset(path, decode_times=False) as raw:
            if not np.array_equal(raw["time"].values, np.asarray(nc.variables["time"][:])):
                fail("time with decode_times=False is not the model time")
        # One selection the way a user would make it.
        first = ds[names[0]].sel(member=members - 1)
        if first.sizes.get("member") is not None:
            fail("selecting one member kept the member dimension")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
