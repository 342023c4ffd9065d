# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""usage: python3 run_pytest.py TEST_FILE [pytest arguments]

The Python package's tests under ctest (tests/CMakeLists.txt): pytest on
one file of tests/python, against the build tree. Exits 77 (ctest: skipped,
with the reason printed) without pytest, NumPy, xarray or netCDF4, or
where ENSOL_PYTHON_SKIP gives a reason."""
import os
import sys

SKIP = 77


def main():
    if os.environ.get("ENSOL_PYTHON_SKIP"):
        print(f"skipped: {os.environ['ENSOL_PYTHON_SKIP']}")
        return SKIP
    for module, package in (("pytest", "python3-pytest"), ("numpy", "python3-numpy"),
                            ("xarray", "python3-xarray"), ("netCDF4", "python3-netcdf4")):
        try:
            __import__(module)
        except ImportError:
            print(f"skipped: {module} is not installed (Debian: apt-get install {package}; "
                  f"else pip install {module})")
            return SKIP
    import pytest
    here = os.path.dirname(os.path.abspath(__file__))
    return pytest.main(["-p", "no:cacheprovider", "-q", "--rootdir", here,
                        os.path.join(here, sys.argv[1])] + sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
