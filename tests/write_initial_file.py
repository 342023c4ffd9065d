# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Write the last saved states of an ensol file as another tool would.

usage: write_initial_file.py SRC DST LAYOUT VAR[,VAR...]

Reads SRC (an ensol file) with xarray and writes DST with xarray alone:
no ensol attributes (no model, integrator or dt), the variables VAR at
SRC's last saved time, and SRC's per-member parameter variables. LAYOUT:
  member       each variable over (member), the time a scalar coordinate
               (model time as a number, read with decode_times=False)
  time_member  each over (time, member), one time, as xarray decodes and
               encodes it again (dates, "... since ..." units of its choice)
  values_first each over (its other dimension, member), no time at all
               (so the run starts at t = 0)
Exit status: 0 written, 1 bad usage, 77 xarray cannot be imported.
"""
import sys

try:
    import xarray as xr
except Exception as exc:  # ImportError, or a broken install
    print(f"cannot import xarray: {exc}", file=sys.stderr)
    sys.exit(77)


def main(argv):
    if len(argv) != 5 or argv[3] not in ("member", "time_member", "values_first"):
        print(__doc__, file=sys.stderr)
        return 1
    src, dst, layout, names = argv[1], argv[2], argv[3], argv[4].split(",")
    with xr.open_dataset(src, decode_times=False) as ds, xr.open_dataset(src) as dates:
        last = ds.isel(time=-1)
        out = {}
        for name in names:
            var = last[name].drop_vars("time")
            if layout == "time_member":
                var = var.expand_dims(time=[dates["time"].values[-1]])
            elif layout == "values_first":
                var = var.transpose(*reversed(var.dims))
            out[name] = xr.Variable(var.dims, var.values)
        # The per-member parameters, coordinates of the states.
        for name, var in ds.variables.items():
            if var.dims == ("member",) and name not in ("member", "status", "failure_time") \
                    and not name.endswith("_steps"):
                out[name] = xr.Variable(("member",), var.values)
        t = float(last["time"])
        coords = {"member": {"time": t},
                  "time_member": {"time": [dates["time"].values[-1]]}}.get(layout, {})
        xr.Dataset(out, coords=coords).to_netcdf(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
