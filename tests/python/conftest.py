# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The Python package's tests: ensol from the build tree (ENSOL_LIBRARY,
ENSOL_CLI and PYTHONPATH set by tests/CMakeLists.txt) or installed."""
import os
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("ENSOL_SOURCE_DIR", Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def cli():
    import ensol._lib
    exe = ensol._lib.cli_path()
    if not exe:
        pytest.skip("no ensol program (set ENSOL_CLI)")
    return exe


def cli_args(options):
    """ensol.run's keyword arguments as `ensol run` options."""
    args = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if key in ("param", "sweep", "random"):
            for name, spec in value.items():
                spec = spec if isinstance(spec, tuple) else (spec,)
                args += [flag, f"{name}=" + ":".join(repr(v) for v in spec)]
        elif value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(repr(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


@pytest.fixture
def run_cli(cli, tmp_path):
    """Run `ensol run` with ensol.run's keywords; return the file's path."""
    def run(**options):
        out = tmp_path / "cli.nc"
        proc = subprocess.run([cli, "run", "-q", "-o", str(out)] + cli_args(options),
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return out
    return run


# Attributes that differ between any two runs, or between the CLI's and
# Python's: when and how it was run.
RUN_ATTRS = ("history", "date_created", "device")


def without_run_attrs(ds):
    ds = ds.copy()
    for a in RUN_ATTRS:
        ds.attrs.pop(a, None)
    return ds
