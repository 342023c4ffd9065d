# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol.run against `ensol run`: the same variables, coordinates,
attributes and values, bit for bit."""
import numpy as np
import pytest
import xarray as xr

import ensol
from conftest import SOURCE_DIR, without_run_attrs

ROSSLER_MINE = """model rossler_mine
param a = 0.2
param b = 0.2
param c = 5.7
var x
var y
var z
base 1 1 1
rhs
    ddt(x) = -y - z;
    ddt(y) = x + a * y;
    ddt(z) = b + z * (x - c);
end
"""

CASES = {
    "classic": dict(members=60, steps=500, threads=2),
    "sweep": dict(sweep={"rho": (20.0, 40.0, 11)}, perturb=0, integrator="rk4", steps=300,
                  save_every=7),
    "grid": dict(sweep={"rho": (20.0, 40.0, 5), "sigma": (5.0, 15.0, 3)}, perturb=0,
                 steps=100),
    "lorenz96_float": dict(model="lorenz96", random={"F": (6.0, 10.0)}, integrator="rk4",
                           members=40, steps=200, precision="float", seed=7),
    "dopri5_final": dict(model="lorenz96", integrator="dopri5", rtol=1e-6, members=20,
                         steps=100, output_mode="final", param={"K": 12}),
    "euler_blowup": dict(model="lorenz96", random={"F": (6.0, 10.0)}, members=50, steps=500),
    "stats": dict(members=200, steps=300, output_mode="stats"),
    "both": dict(members=30, steps=100, output_mode="both", output_type="float"),
    "shipped_file": dict(model=str(SOURCE_DIR / "kernels" / "models" / "rossler.ens"),
                         integrator="rk4", members=30, steps=200),
}


def assert_same(a, b):
    a, b = without_run_attrs(a), without_run_attrs(b)
    xr.testing.assert_identical(a, b)
    for name in a.variables:
        x, y = a[name].values, b[name].values
        assert x.dtype == y.dtype, name
        if x.dtype.kind == "f":  # bit for bit, NaN included
            assert np.array_equal(x.view(f"u{x.itemsize}"), y.view(f"u{y.itemsize}")), name


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_as_cli(case, run_cli):
    options = CASES[case]
    with xr.open_dataset(run_cli(**options)) as from_cli:
        from_cli.load()
    ours = ensol.run(progress=False, **options)
    assert_same(from_cli, ours)


def test_user_model_file(run_cli, tmp_path):
    path = tmp_path / "rossler_mine.ens"
    path.write_text(ROSSLER_MINE)
    options = dict(model=str(path), integrator="rk4", members=50, sweep={"c": (4.0, 8.0)},
                   steps=200)
    with xr.open_dataset(run_cli(**options)) as from_cli:
        from_cli.load()
    ours = ensol.run(progress=False, **options)
    assert_same(from_cli, ours)
    # The same model given as an ensol.Model, from its file and from its text.
    for model in (ensol.Model.from_file(path), ensol.Model(source=ROSSLER_MINE,
                                                           name="rossler_mine.ens")):
        again = ensol.run(progress=False, **{**options, "model": model})
        np.testing.assert_array_equal(again.x.values, ours.x.values)


def test_states_not_copied():
    """The Dataset's states are views of the one array the library filled."""
    ds = ensol.run(members=10, steps=100, progress=False)
    base = ds.x.values.base
    assert base is not None and ds.y.values.base is base and ds.z.values.base is base


def test_defaults_are_the_cli_defaults(run_cli):
    """No options at all but a small ensemble: what `ensol run` does."""
    with xr.open_dataset(run_cli(members=20)) as from_cli:
        from_cli.load()
    assert_same(from_cli, ensol.run(members=20, progress=False))


def test_file_output_is_lazy(tmp_path):
    import dask.array
    options = dict(members=100, steps=400, integrator="rk4")
    path = tmp_path / "run.nc"
    lazy = ensol.run(output=str(path), progress=False, **options)
    assert path.exists()
    assert isinstance(lazy.x.data, dask.array.Array)
    assert lazy.x.chunks is not None
    in_memory = ensol.run(progress=False, **options)
    assert_same(lazy.load(), in_memory)
    lazy.close()


def test_file_output_chunks(tmp_path):
    ds = ensol.run(output=str(tmp_path / "c.nc"), members=100, steps=100, progress=False,
                   chunks={"member": 25})
    assert ds.x.chunks[1] == (25, 25, 25, 25)
    ds.close()
