# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The shipped models against SciPy: each model's ensol run is compared
with scipy.integrate.solve_ivp on the same initial states and parameters.

usage: /usr/bin/python3 check_shipped_models.py ENSOL WORKDIR

For every model below, on the OpenMP backend and, where `ensol info`
lists it as available, on OpenCL: `ensol run --model NAME --integrator
dopri5` with
tight tolerances writes a file; the initial states (time 0) and the
parameters are read back from it with xarray, integrated again with
solve_ivp (DOP853, an independent code, rtol = atol = 1e-12) from the
equations written out here from the papers, and every saved state must
agree within the tolerance stated per model (relative to the state's
size, max over members, times and variables).
Exit status: 0 fine, 1 a mismatch or a failed run, 77 xarray or SciPy
cannot be imported.
"""
import os
import subprocess
import sys

try:
    import numpy as np
    import xarray as xr
    from scipy.integrate import solve_ivp
except Exception as exc:
    print(f"cannot import numpy/xarray/scipy: {exc}", file=sys.stderr)
    sys.exit(77)


def rossler(p, t, s):  # Rossler (1976)
    x, y, z = s
    return [-y - z, x + p["a"] * y, p["b"] + z * (x - p["c"])]


def lorenz84(p, t, s):  # Lorenz (1984)
    x, y, z = s
    a, b, F, G = p["a"], p["b"], p["F"], p["G"]
    return [-y * y - z * z - a * x + a * F, x * y - b * x * z - y + G, b * x * y + x * z - z]


def duffing(p, t, s):  # forced Duffing oscillator: the right-hand side depends on t
    x, v = s
    return [v, p["gamma"] * np.cos(p["omega"] * t) - p["delta"] * v - p["alpha"] * x
            - p["beta"] * x ** 3]


def lorenz96_2scale(p, t, s):  # Lorenz (1996), two scales, as issue 13 defines it
    K, J = 36, 10
    X, Y = s[:K], s[K:]
    F, h, c, b = p["F"], p["h"], p["c"], p["b"]
    Ysum = Y.reshape(K, J).sum(axis=1)  # j fastest within each k
    dX = np.roll(X, 1) * (np.roll(X, -1) - np.roll(X, 2)) - X + F - h * c / b * Ysum
    # Y cyclic over the whole array of J*K values
    dY = (-c * b * np.roll(Y, -1) * (np.roll(Y, -2) - np.roll(Y, 1)) - c * Y
          + h * c / b * np.repeat(X, J))
    return np.concatenate([dX, dY])


def lorenz63(p, t, s):
    x, y, z = s
    return [p["sigma"] * (y - x), x * (p["rho"] - z) - y, x * y - p["beta"] * z]


# name: (right-hand side, parameters, variables, steps of dt 0.01, tolerance);
# variables: the names of scalars, or the one vector variable the file holds
MODELS = {
    "duffing": (duffing, ["delta", "alpha", "beta", "gamma", "omega"], ["x", "v"], 1000, 1e-8),
    "lorenz96_2scale": (lorenz96_2scale, ["F", "h", "c", "b"], "state", 30, 1e-7),
    "lorenz63": (lorenz63, ["sigma", "rho", "beta"], ["x", "y", "z"], 100, 1e-8),
    "rossler": (rossler, ["a", "b", "c"], ["x", "y", "z"], 500, 1e-8),
    "lorenz84": (lorenz84, ["a", "b", "F", "G"], ["x", "y", "z"], 300, 1e-8),
}


def states(ds, variables, m):
    """Member m's saved states as [variable, time]."""
    if isinstance(variables, str):
        return np.asarray(ds[variables].isel(member=m).values).T
    return np.array([ds[v].isel(member=m).values for v in variables])


def check(ensol, workdir, name, backend):
    f, params, variables, steps, tol = MODELS[name]
    path = os.path.join(workdir, f"shipped_{name}_{backend}.nc")
    cmd = [ensol, "run", "--model", name, "--integrator", "dopri5", "--rtol", "1e-11",
           "--atol", "1e-11", "--members", "5", "--steps", str(steps), "--save-every",
           str(steps // 5), "--backend", backend, "--output", path]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{name} on {backend}: ensol failed: {run.stderr}", file=sys.stderr)
        return False
    ds = xr.open_dataset(path, decode_times=False)
    times = ds["time"].values
    worst = 0.0
    for m in range(ds.sizes["member"]):
        p = {k: float(ds[k].values[m]) if k in ds else float(ds.attrs[f"param_{k}"])
             for k in params}
        x0 = states(ds, variables, m)[:, 0]
        ref = solve_ivp(lambda t, s: f(p, t, s), (times[0], times[-1]), x0, method="DOP853",
                        t_eval=times, rtol=1e-12, atol=1e-12)
        if not ref.success:
            print(f"{name}: solve_ivp failed: {ref.message}", file=sys.stderr)
            return False
        got = states(ds, variables, m)
        scale = np.maximum(np.abs(ref.y), 1.0)
        worst = max(worst, float(np.max(np.abs(got - ref.y) / scale)))
    ok = worst <= tol
    print(f"{name} on {backend}: largest relative difference to solve_ivp {worst:.3g} "
          f"(tolerance {tol:g}) over t in [0, {times[-1]:g}]: {'ok' if ok else 'FAILED'}")
    return ok


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    info = subprocess.run([argv[1], "info"], capture_output=True, text=True).stdout
    backends = ["openmp"] + [b for b in ["opencl"]
                             if any(line.split()[:2] == [b, "available:"]
                                    for line in info.splitlines())]
    if "opencl" not in backends:
        print("opencl: not available here, checked on openmp only")
    results = [check(argv[1], argv[2], name, b) for b in backends for name in MODELS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
