# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Reference trajectories from SciPy for ensol's dopri5 tests.

usage: /usr/bin/python3 make_scipy_reference.py INPUT OUTPUT

Integrates each member of INPUT with scipy.integrate.solve_ivp, method
DOP853 (Hairer's 8th-order Dormand-Prince, an independent code), rtol and
atol 1e-12, and writes its state at the requested times to OUTPUT.

INPUT, whitespace-separated numbers after the first word:
    MODEL NVARS NPARAMS NTIMES NMEMBERS
    t_0 ... t_{NTIMES-1}                       (t_0 = 0)
    then per member: p_1 ... p_NPARAMS x_1 ... x_NVARS
  MODEL is lorenz63 (params sigma rho beta) or lorenz96 (param F).
OUTPUT: one line per member and time, member slowest: NVARS values, %.17g.

tests/test_dopri5.cpp writes INPUT from the ensemble ensol integrates and
runs this script at test time (about a second); run it by hand the same way
to look at the numbers. Exit status: 0 fine, 1 bad input or a failed
integration, 77 SciPy or NumPy cannot be imported (the test then skips).
"""
import sys

try:
    import numpy as np
    from scipy.integrate import solve_ivp
except Exception as exc:  # ImportError, or a broken install
    print(f"cannot import scipy/numpy: {exc}", file=sys.stderr)
    sys.exit(77)

RTOL = ATOL = 1e-12


def lorenz63(p):
    sigma, rho, beta = p

    def f(_t, x):
        return [sigma * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1], x[0] * x[1] - beta * x[2]]

    return f


def lorenz96(p):
    (forcing,) = p

    def f(_t, x):
        return (np.roll(x, -1) - np.roll(x, 2)) * np.roll(x, 1) - x + forcing

    return f


MODELS = {"lorenz63": lorenz63, "lorenz96": lorenz96}


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    with open(argv[1]) as f:
        words = f.read().split()
    model = words[0]
    if model not in MODELS:
        print(f"unknown model {model}", file=sys.stderr)
        return 1
    nvars, nparams, ntimes, nmembers = (int(w) for w in words[1:5])
    numbers = np.array([float(w) for w in words[5:]])
    times = numbers[:ntimes]
    rows = numbers[ntimes:].reshape(nmembers, nparams + nvars)
    lines = []
    for row in rows:
        params, state = row[:nparams], row[nparams:]
        sol = solve_ivp(MODELS[model](params), (times[0], times[-1]), state, method="DOP853",
                        t_eval=times, rtol=RTOL, atol=ATOL)
        if sol.status != 0 or sol.y.shape != (nvars, ntimes):
            print(f"solve_ivp failed: {sol.message}", file=sys.stderr)
            return 1
        for t in range(ntimes):
            lines.append(" ".join(f"{v:.17g}" for v in sol.y[:, t]))
    with open(argv[2], "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
