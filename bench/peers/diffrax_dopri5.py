# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol's dopri5 against diffrax (JAX, CPU) on the same ensemble, checked
then timed in one run: Lorenz-63, float64, rtol 1e-6, atol 1e-9 (ensol's
defaults), first step 0.01, from t = 0 to 10, final states only.

usage: PYTHON bench/peers/diffrax_dopri5.py [--ensol build/ensol]
           [--members 1e4,1e5] [--repeats 3]

PYTHON is an interpreter with jax, diffrax and netCDF4 (a virtual
environment: pip install jax diffrax netCDF4).

diffrax: jax.jit(jax.vmap(diffeqsolve)) with Dopri5 and a PIDController
set to ensol's controller (kernels/integrators/dopri5.h): Hairer's PI
control, h_new = h err^-alpha errold^beta with alpha = 0.17, beta = 0.04,
safety 0.9, step ratio within [0.2, 10]; in diffrax's terms pcoeff = k beta
and icoeff = k (alpha - beta) with k its error order. Each member keeps its
own steps, as in ensol. JAX's compilation is done by a first call, outside
the timing.

1. Check: ensol integrates 4099 members to t = 1 (trajectory mode, initial
   and final states saved); diffrax integrates the same initial states and
   must agree to 1e-4 relative, max |diffrax - ensol| / max(1, |ensol|):
   both are 1e-6-accurate solutions (the differences of two controllers,
   amplified about e^0.9 by the chaos over t = 1), where a wrong model or
   tolerance shows at 1e-2 or more. A failed check stops the run.
2. Timing, at each member count: --repeats rounds, each running `ensol
   bench --backends openmp --integrator dopri5` (1 and all threads) and
   then diffrax once, interleaved. Rates are member-steps/s in units of
   the nominal step 0.01 (members x 1000 / seconds), so a ratio of rates
   is a ratio of times.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import netCDF4  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
RTOL, ATOL, DT0 = 1e-6, 1e-9, 0.01
ALPHA, BETA_PI = 0.2 - 0.75 * 0.04, 0.04
STEPS = 1000  # nominal steps of DT0: t = 0 to 10


def lorenz63(t, y, args):
    x, yy, z = y[0], y[1], y[2]
    return jnp.stack([SIGMA * (yy - x), x * (RHO - z) - yy, x * yy - BETA * z])


def make_solver(t1):
    term = diffrax.ODETerm(lorenz63)
    solver = diffrax.Dopri5()
    k = solver.error_order(term)
    controller = diffrax.PIDController(rtol=RTOL, atol=ATOL, pcoeff=k * BETA_PI,
                                       icoeff=k * (ALPHA - BETA_PI), safety=0.9,
                                       factormin=0.2, factormax=10.0)

    def one(y0):
        sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=t1, dt0=DT0, y0=y0,
                                  stepsize_controller=controller,
                                  saveat=diffrax.SaveAt(t1=True), max_steps=10**6)
        return sol.ys[-1]

    return jax.jit(jax.vmap(one))


def ensol_states(ensol, tmp, members, steps):
    """ensol's dopri5 run: initial and final states as (members, 3)."""
    out = os.path.join(tmp, f"check_{members}_{steps}.nc")
    subprocess.run([ensol, "run", "--integrator", "dopri5", "--members", str(members),
                    "--steps", str(steps), "--save-every", str(steps), "--dt", repr(DT0),
                    "-q", "--force", "-o", out], check=True)
    with netCDF4.Dataset(out) as ds:
        s = np.stack([ds[v][:].filled(np.nan) for v in ("x", "y", "z")], axis=-1)
    return s[0], s[-1]


def ensol_rates(ensol, tmp, members):
    """member-steps/s of ensol bench's openmp rows, by thread count."""
    out = os.path.join(tmp, "bench.json")
    subprocess.run([ensol, "bench", "--backends", "openmp", "--integrator", "dopri5",
                    "--members", str(members), "--steps", str(STEPS), "--dt", repr(DT0),
                    "--threads", f"1,{os.cpu_count()}", "--repeats", "1", "--warmup", "1",
                    "--no-peak", "--json", out], check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        rows = json.load(f)["rows"]
    return {r["threads"]: r["median_member_steps_per_s"] for r in rows}


def count(text):
    v = float(text)
    if v < 1 or v != int(v):
        raise argparse.ArgumentTypeError(f"{text}: not a member count")
    return int(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ensol", default=os.path.join(ROOT, "build", "ensol"))
    ap.add_argument("--members", type=lambda s: [count(v) for v in s.split(",")],
                    default=[10**4, 10**5])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print(f"jax {jax.__version__}, diffrax {diffrax.__version__}, "
          f"{os.cpu_count()} CPUs; Lorenz-63 dopri5, rtol {RTOL:g}, atol {ATOL:g}")
    with tempfile.TemporaryDirectory() as tmp:
        y0, expect = ensol_states(a.ensol, tmp, 4099, 100)
        got = np.asarray(make_solver(1.0)(jnp.asarray(y0)))
        worst = float(np.max(np.abs(got - expect) / np.maximum(1.0, np.abs(expect))))
        ok = np.isfinite(worst) and worst < 1e-4
        print(f"check, 4099 members to t = 1: max relative difference {worst:.2e} "
              f"({'agrees' if ok else 'DISAGREES'}, limit 1e-4)")
        if not ok:
            return 1
        solve = make_solver(STEPS * DT0)
        print(f"{'members':>8} {'ensol 1 thread':>15} {'ensol all':>12} {'diffrax':>10} "
              f"{'ensol/diffrax (1 thread, all)':>30}")
        for n in a.members:
            init, _ = ensol_states(a.ensol, tmp, n, 1)
            y = jnp.asarray(init)
            solve(y).block_until_ready()  # compile
            ens1, ensall, dfx = [], [], []
            for _ in range(a.repeats):
                rates = ensol_rates(a.ensol, tmp, n)
                ens1.append(rates[1])
                ensall.append(rates[max(rates)])
                t0 = time.perf_counter()
                solve(y).block_until_ready()
                dfx.append(n * STEPS / (time.perf_counter() - t0))
            r1 = statistics.median(e / d for e, d in zip(ens1, dfx))
            rall = statistics.median(e / d for e, d in zip(ensall, dfx))
            print(f"{n:8d} {statistics.median(ens1):15.3g} {statistics.median(ensall):12.3g} "
                  f"{statistics.median(dfx):10.3g} {r1:14.1f}x {rall:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
