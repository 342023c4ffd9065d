# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol.bench: `ensol bench` (the package's own ensol program) and its
table, read from the JSON file the program writes (--json)."""
import json
import os
import subprocess
import tempfile

from . import _lib
from ._errors import Error


def bench(**options):
    """Run `ensol bench` with these options (its long options, '_' for
    '-': members="1e4:1e5", repeats=3, backends="openmp", ...; True for a
    flag) and return its rows: a pandas DataFrame where pandas is
    installed, else a list of dicts. Bad options raise ValueError with the
    program's message."""
    exe = _lib.cli_path()
    if exe is None:
        raise Error("ensol.bench needs the ensol program: install the package with "
                    "`pip install .`, or set ENSOL_CLI to a build's ensol")
    args = [exe, "bench"]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not False and value is not None:
            args += [flag, str(value)]
    with tempfile.TemporaryDirectory(prefix="ensol_bench_") as tmp:
        out = os.path.join(tmp, "bench.json")
        proc = subprocess.run(args + ["--json", out], capture_output=True, text=True)
        if proc.returncode == 2:
            raise ValueError(proc.stderr.strip().removeprefix("ensol: "))
        if proc.returncode != 0 or not os.path.exists(out):
            raise Error(proc.stderr.strip() or f"ensol bench failed ({proc.returncode})")
        with open(out) as f:
            rows = json.load(f)["rows"]
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)
