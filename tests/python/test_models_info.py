# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol.Model, ensol.info, ensol.bench, the progress bar."""
import numpy as np
import pytest
import xarray as xr

import ensol
from conftest import SOURCE_DIR


def test_info():
    info = ensol.info()
    assert info["version"] == ensol.__version__
    names = [b["name"] for b in info["backends"]]
    assert "openmp" in names
    openmp = info["backends"][names.index("openmp")]
    assert openmp["available"] and openmp["devices"]
    models = [m["name"] for m in info["models"]]
    assert models[0] == "lorenz63" and "lorenz96" in models
    assert "dopri5" in info["integrators"]
    assert "stats" in info["output_modes"]


def test_shipped_models_by_name():
    for m in ensol.info()["models"]:
        model = ensol.Model(m["name"])
        assert model.describe()


def test_model_from_file():
    model = ensol.Model.from_file(SOURCE_DIR / "kernels" / "models" / "rossler.ens")
    assert "rossler" in model.describe()
    ds = ensol.run(model=model, members=5, steps=20, integrator="rk4", progress=False)
    assert ds.attrs["model"] == "rossler"


def test_ode_file(tmp_path, run_cli):
    path = tmp_path / "decay.ode"
    path.write_text("# exponential decay\nx' = -k*x\naux energy = k*x^2/2\nparam k=0.5\n"
                    "init x=1\ndone\n")
    model = ensol.Model.from_file(path)
    options = dict(members=3, steps=100, integrator="rk4")
    ds = ensol.run(model=model, progress=False, **options)
    assert float(ds.x.isel(time=-1, member=0)) < float(ds.x.isel(time=0, member=0))
    # The auxiliary quantity is in the Dataset, as in the CLI's file.
    np.testing.assert_allclose(ds.energy.values, 0.5 * ds.x.values ** 2 / 2, rtol=1e-15)
    with xr.open_dataset(run_cli(model=str(path), **options)) as cli:
        np.testing.assert_array_equal(ds.energy.values, cli.energy.values)
        np.testing.assert_array_equal(ds.x.values, cli.x.values)
        # A variable the file describes with no words is described by its name.
        assert cli.x.attrs["long_name"] == ds.x.attrs["long_name"] == "x"


def test_model_needs_one_source():
    with pytest.raises(TypeError):
        ensol.Model()
    with pytest.raises(TypeError):
        ensol.Model(path="x.ens", source="model x")
    with pytest.raises(ValueError):
        ensol.Model(source="model x\n", name="bad.ens")


def test_progress_off_prints_nothing(capfd):
    ensol.run(members=1000, steps=2000, progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_bench_rows():
    try:
        rows = ensol.bench(members="1000", steps=100, repeats=1, warmup=0, no_peak=True,
                           backends="openmp", time_budget=30)
    except ensol.Error as e:
        pytest.skip(str(e))
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert records and records[0]["backend"] == "openmp"


def test_bench_bad_option():
    with pytest.raises(ValueError, match="--members"):
        ensol.bench(members="lots")
