# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""What the file checks share: the skip status ctest knows, numpy and
netCDF4 or a visible skip, and checks that print and count their result."""
import sys

SKIP = 77  # SKIP_RETURN_CODE of the tests
FAILURES = []


def require_netcdf():
    """numpy and netCDF4, or a SKIPPED line and the skip status."""
    try:
        import numpy
        import netCDF4
    except Exception as exc:  # ImportError, or a broken install
        print(f"SKIPPED: cannot import numpy/netCDF4 ({exc}); install with: "
              "apt-get install python3-netcdf4 python3-numpy")
        sys.exit(SKIP)
    return numpy, netCDF4


def expect(cond, what):
    """Print ok or FAILED with `what`; a failure is counted."""
    print(f"{'ok' if cond else 'FAILED'}: {what}")
    if not cond:
        FAILURES.append(what)
    return cond
