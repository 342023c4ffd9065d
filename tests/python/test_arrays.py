# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Initial states and per-member parameters given as NumPy arrays: the
same run as the ensemble they reproduce, bit for bit, and bad arrays
refused naming the argument."""
import numpy as np
import pytest

import ensol

NAMES = ("x", "y", "z")


def states_at(ds, t):
    """The states at saved time t as (member, variable)."""
    return np.stack([ds[v].isel(time=t).values for v in NAMES], axis=1)


def trajectories(ds):
    return np.stack([ds[v].values for v in NAMES])


def test_given_states_reproduce_the_generated_ensemble():
    base = ensol.run(members=40, steps=300, integrator="rk4", seed=11)
    given = ensol.run(initial_states=states_at(base, 0), steps=300, integrator="rk4")
    assert given.sizes["member"] == 40
    np.testing.assert_array_equal(trajectories(given), trajectories(base))
    assert given.attrs["initial_states"] == "given per member"
    assert "perturbation_stddev" not in given.attrs


def test_given_states_as_written_by_the_caller():
    rng = np.random.default_rng(3)
    states = np.array([-10.0, -10.0, 25.0]) + 0.5 * rng.standard_normal((30, 3))
    ds = ensol.run(initial_states=states, steps=10, save_every=10)
    np.testing.assert_array_equal(states_at(ds, 0), states)
    # One Euler step by hand, from the same starting states.
    one = ensol.run(initial_states=states, steps=1, save_every=1, dt=0.01)
    x, y, z = states.T
    step = states + 0.01 * np.stack([10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z], 1)
    np.testing.assert_allclose(states_at(one, 1), step, rtol=1e-14, atol=1e-13)


def test_given_param_values_equal_the_sweep():
    sweep = ensol.run(sweep={"rho": (20.0, 40.0, 21)}, perturb=0, steps=200)
    rho = 20.0 + (40.0 - 20.0) * (np.arange(21) / 20.0)  # the sweep's own formula
    given = ensol.run(param={"rho": rho}, perturb=0, steps=200)
    np.testing.assert_array_equal(given["rho"].values, sweep["rho"].values)
    np.testing.assert_array_equal(trajectories(given), trajectories(sweep))
    assert "rho: given per member" in given.attrs["parameter_variation"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(initial_states=np.zeros((5, 4))), "initial_states.*4 values per member.*3"),
    (dict(initial_states=np.zeros(3)), "initial_states.*shape"),
    (dict(initial_states=np.zeros((5, 3)), members=6), "members = 6.*5 members"),
    (dict(initial_states=np.full((2, 3), np.nan)), "initial_states.*not finite"),
    (dict(param={"rho": np.ones(4)}, initial_states=np.zeros((5, 3))), "4 values of rho"),
    (dict(param={"nope": np.ones(4)}), "nope"),
])
def test_bad_arrays_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ensol.run(steps=10, **kwargs)


def test_given_states_and_a_file_exclude_each_other(tmp_path):
    path = tmp_path / "start.nc"
    ensol.run(output=str(path), members=5, steps=10).close()
    with pytest.raises(ValueError, match="init_from"):
        ensol.run(initial_states=np.zeros((5, 3)), init_from=str(path), steps=10)
