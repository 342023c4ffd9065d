# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Bad arguments raise ValueError or TypeError naming the argument and
value, with the library's message; failed runs raise ensol.Error."""
import os

import pytest

import ensol


@pytest.mark.parametrize("kwargs, name, words", [
    (dict(members=-1), "members=-1", "at least 1"),
    (dict(dt=-0.1), "dt=-0.1", "positive"),
    (dict(perturb=float("nan")), "perturb=nan", ""),
    (dict(integrator="heun"), "integrator='heun'", "euler"),
    (dict(precision="half"), "precision='half'", ""),
    (dict(model="lorenz99"), "model='lorenz99'", "lorenz63"),
    (dict(param={"nope": 1.0}), "param={'nope': 1.0}", ""),
    (dict(sweep={"rho": (20, 40, 1)}), "sweep=", ""),
    (dict(steps=50, save_every=100), "save_every=100", ""),
    (dict(base_state=[1.0, 2.0]), "base_state=[1.0, 2.0]", ""),
    (dict(output_mode="all"), "output_mode='all'", ""),
])
def test_bad_values(kwargs, name, words):
    with pytest.raises(ValueError) as e:
        ensol.run(progress=False, **kwargs)
    assert isinstance(e.value, ValueError)
    assert str(e.value).startswith(name), str(e.value)
    assert words in str(e.value)


@pytest.mark.parametrize("kwargs", [
    dict(members="many"), dict(members=None or [1]), dict(dt="0.1"), dict(integrator=4),
    dict(param=[("rho", 28)]), dict(stepz=10), dict(strict_fp="yes"),
])
def test_bad_types(kwargs):
    with pytest.raises(TypeError):
        ensol.run(progress=False, **kwargs)


def test_non_integer_count():
    with pytest.raises(ValueError, match=r"members=1\.5"):
        ensol.run(members=1.5)
    ensol.run(members=1e1, steps=10, progress=False)  # exact, as the CLI's 1e1


def test_sweep_and_random_of_one_parameter():
    with pytest.raises(ValueError, match="varied already"):
        ensol.run(sweep={"rho": (20, 40)}, random={"rho": (20, 40)}, members=10)


def test_bad_model_file(tmp_path):
    path = tmp_path / "broken.ens"
    path.write_text("model broken\nvar x\nrhs\n    ddt(x) = -x\n")
    with pytest.raises(ValueError, match="broken.ens"):
        ensol.Model.from_file(path)
    with pytest.raises(ValueError, match=r"^model="):
        ensol.run(model=str(path), members=10)


def test_unavailable_backend():
    backends = {b["name"]: b for b in ensol.info()["backends"]}
    if "cuda" in backends and backends["cuda"]["available"]:
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(ensol.Error):
        ensol.run(backend="cuda", members=10, steps=10, progress=False)


def test_failed_run_is_an_ensol_error(tmp_path):
    with pytest.raises(ensol.Error) as e:
        ensol.run(output=str(tmp_path / "no_such_dir" / "x.nc"), members=10, steps=10,
                  progress=False)
    assert "x.nc" in str(e.value)
    assert not os.listdir(tmp_path)


def test_output_not_a_regular_file(tmp_path):
    with pytest.raises(ValueError, match=r"^output="):
        ensol.run(output=str(tmp_path), members=10, steps=10)
