#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol against the Python approaches researchers start from, on the same
problem in one run: Lorenz-63, RK4, float64, dt 0.01, final state only.

Peers (one file each, in this directory):
  python_loop     plain Python loop over members (one thread)
  numpy           numpy_lorenz63.py: vectorised across members (one thread)
  process_pool    ProcessPoolExecutor over chunks of members, NumPy in each
  dask_array      dask.array chunked over members, threaded scheduler
  numba_parallel  Numba @njit(parallel=True), prange over members

1. Check. `ensol run` integrates --check-members members (4099, odd, so
   that chunked peers get uneven chunks) for --check-steps steps (100) and
   writes the initial and final states (trajectory mode, save every 100
   steps); every peer integrates the same initial states, and its final
   states must agree with ensol's to --tolerance (1e-9) relative,
   max |peer - ensol| / max(1, |ensol|). The horizon is short on purpose:
   Lorenz-63 is chaotic (largest Lyapunov exponent about 0.9 per time
   unit), so a last-bit difference (ensol contracts multiply-adds into
   FMAs, the peers do not) grows like e^(0.9 t); after 100 steps (t = 1)
   such differences stay near 1e-13, while a wrong formula shows at 1e-3
   or more. A peer that fails is not timed.
2. Timing, for each member count (--members, 10^5 and 10^6): --repeats
   rounds (3), each running ensol and then every peer once, interleaved,
   so that all see the same machine load. ensol: `ensol bench --backends
   openmp` (all cores, --ensol-steps steps, 1000; one warm-up run and one
   timed run per round; member-steps/s over info.compute_seconds, and over
   the wall time of the call). Peers integrate ensol's initial states (the
   first N members of one `ensol run`); each is set up once per size
   (worker processes started, Numba compiled: outside the timing), warmed
   up, and runs as many steps as fill about --target-seconds (1 s; between
   5 and 1000): member-steps/s is a per-step rate, so fewer steps measure
   the same thing. The plain Python loop runs at --python-loop-members
   (10^3) members whatever the size: its rate per member-step does not
   depend on the member count, and 10^6 members would take minutes.
3. Prints a table and the ratios ensol / peer (median over the rounds of
   the per-round ratios) and writes --json (for bench/plot.py).

Run with /usr/bin/python3 (Debian's numpy, numba and dask are visible only
to it); reading ensol's NetCDF output uses python3-netcdf4.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
from common import Params, compare, count  # noqa: E402

PEERS = ("python_loop", "numpy", "process_pool", "dask_array", "numba_parallel")


class NumpyPeer:
    """numpy_lorenz63.py's Lorenz63, vectorised across members (one thread)."""
    name = "numpy"
    threads = 1

    def __init__(self, members, p=Params()):
        from numpy_lorenz63 import Lorenz63
        self.model = Lorenz63(members, p.sigma, p.rho, p.beta, p.dt)

    def integrate(self, s, steps):
        self.model.rk4(s[0], s[1], s[2], steps)
        return s

    def close(self):
        pass


def peer_class(name):
    if name == "numpy":
        return NumpyPeer
    if name == "python_loop":
        from python_loop import PythonLoop
        return PythonLoop
    if name == "process_pool":
        from process_pool import ProcessPool
        return ProcessPool
    if name == "dask_array":
        from dask_array import DaskArray
        return DaskArray
    if name == "numba_parallel":
        from numba_parallel import NumbaParallel
        return NumbaParallel
    raise SystemExit(f"run_peers.py: unknown peer {name} (choose from {', '.join(PEERS)})")


def versions():
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("numba", "dask"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = None
    return out


def find_ensol(arg):
    cands = [arg] if arg else [os.environ.get("ENSOL"),
                               os.path.join(HERE, "..", "..", "build", "ensol")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            return os.path.abspath(c)
    raise SystemExit("run_peers.py: no ensol binary (build it, then --ensol BUILD/ensol)")


def ensol_states(ensol, members, steps, dt, path):
    """ensol's initial states and its states after `steps` steps, (3, members)
    each, through `ensol run` (trajectory mode, saved at 0 and `steps`)."""
    import netCDF4
    subprocess.run([ensol, "run", "--members", str(members), "--integrator", "rk4",
                    "--dt", repr(dt), "--steps", str(steps), "--save-every", str(steps),
                    "--output-mode", "trajectory", "--output-type", "double", "-q",
                    "-o", path], check=True)
    with netCDF4.Dataset(path) as ds:
        # (variable, time, member): the file's x(time, member)
        s = np.stack([np.asarray(ds[v][:, :], dtype=np.float64) for v in ("x", "y", "z")])
    os.unlink(path)
    return s[:, 0, :].copy(), s[:, -1, :].copy()


def ensol_rate(ensol, members, steps, dt, threads, tmp):
    """(compute rate, wall rate, device) of one `ensol bench` timed run."""
    out = os.path.join(tmp, "ensol.json")
    cmd = [ensol, "bench", "--backends", "openmp", "--members", str(members), "--steps",
           str(steps), "--dt", repr(dt), "--integrator", "rk4", "--precision", "double",
           "--repeats", "1", "--warmup", "1", "--no-peak", "--json", out]
    if threads:
        cmd += ["--threads", str(threads)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        rows = json.load(f)["rows"]
    row = next(r for r in rows if (r["threads"] == threads if threads else r["baseline"]))
    return row["median_member_steps_per_s"], row["median_wall_member_steps_per_s"], row


def summary(v):
    return {"median": float(np.median(v)), "min": float(min(v)), "max": float(max(v))}


def fmt(v):
    """2.16e9 rather than 2.16e+09."""
    s = f"{v:.3g}"
    if "e" not in s:
        return s
    m, e = s.split("e")
    return f"{m}e{int(e)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--ensol", help="the ensol binary [$ENSOL or build/ensol]")
    ap.add_argument("--members", default="1e5,1e6", help="member counts [1e5,1e6]")
    ap.add_argument("--ensol-steps", type=count, default=1000)
    ap.add_argument("--threads", type=int, default=0, help="ensol's threads [0: all cores]")
    ap.add_argument("--repeats", type=count, default=3)
    ap.add_argument("--target-seconds", type=float, default=1.0)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--python-loop-members", type=count, default=1000)
    ap.add_argument("--check-members", type=count, default=4099)
    ap.add_argument("--check-steps", type=count, default=100)
    ap.add_argument("--tolerance", type=float, default=1e-9)
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    sizes = sorted({count(m) for m in a.members.split(",")})
    names = [n for n in a.peers.split(",") if n]
    classes = {n: peer_class(n) for n in names}
    ensol = find_ensol(a.ensol)
    p = Params()
    out = {"tool": "bench/peers/run_peers.py", "problem": "lorenz63 rk4 float64 dt=0.01 final",
           "ensol": ensol, "ensol_steps": a.ensol_steps, "repeats": a.repeats,
           "cores": common.cores(), "versions": versions(), "checks": [], "rows": []}
    print(f"run_peers: Lorenz-63 RK4 float64, dt {p.dt}, final state only; "
          f"{common.cores()} cores; " + ", ".join(f"{k} {v}" for k, v in out["versions"].items()
                                                  if v), flush=True)

    with tempfile.TemporaryDirectory(prefix="ensol_peers_") as tmp:
        # 1. check
        init, expect = ensol_states(ensol, a.check_members, a.check_steps, p.dt,
                                    os.path.join(tmp, "check.nc"))
        print(f"== check: {a.check_members} members x {a.check_steps} steps from ensol's "
              f"initial states; tolerance {a.tolerance:g} relative", flush=True)
        ok = {}
        for n in names:
            peer = classes[n](a.check_members, p)
            try:
                final = peer.integrate(init.copy(), a.check_steps)
            finally:
                peer.close()
            worst, same = compare(final, expect)
            ok[n] = worst <= a.tolerance
            out["checks"].append({"peer": n, "members": a.check_members,
                                  "steps": a.check_steps, "max_rel_diff": worst,
                                  "bitwise_identical": same, "ok": ok[n]})
            print(f"   {n:15s} max |peer - ensol| / max(1,|ensol|) = {worst:.2g}, "
                  f"{same}/{a.check_members} members bit-identical: "
                  f"{'ok' if ok[n] else 'FAIL (not timed)'}", flush=True)

        # 2. timing: ensol's initial states for the largest size; smaller
        # sizes take its first members (member m is the same in any size)
        big, _ = ensol_states(ensol, sizes[-1], 1, p.dt, os.path.join(tmp, "init.nc"))
        if not np.array_equal(big[:, :a.check_members], init):
            raise SystemExit("run_peers.py: ensol's ensemble depends on its size?")
        timed = [n for n in names if ok[n]]
        for N in sizes:
            print(f"== {N} members: {a.repeats} rounds of ensol ({a.ensol_steps} steps) and "
                  f"{', '.join(timed)}, interleaved", flush=True)
            peers, steps, members = {}, {}, {}
            for n in timed:
                members[n] = min(N, a.python_loop_members) if n == "python_loop" else N
                peers[n] = classes[n](members[n], p)
                s0 = np.ascontiguousarray(big[:, :members[n]])
                common.time_run(peers[n], s0, 3)                       # warm-up
                steps[n] = common.calibrate_steps(peers[n], s0, a.target_seconds)
            e_rate, e_wall, rates = [], [], {n: [] for n in timed}
            ratios = {n: [] for n in timed}
            row0 = None
            for r in range(a.repeats):
                c, w, row0 = ensol_rate(ensol, N, a.ensol_steps, p.dt, a.threads, tmp)
                e_rate.append(c)
                e_wall.append(w)
                line = [f"ensol {fmt(c)}"]
                for n in timed:
                    t = common.time_run(peers[n], np.ascontiguousarray(big[:, :members[n]]),
                                        steps[n])
                    rates[n].append(members[n] * steps[n] / t)
                    ratios[n].append(c / rates[n][-1])
                    line.append(f"{n} {fmt(rates[n][-1])}")
                print(f"   round {r + 1}: " + ", ".join(line), flush=True)
            for n in timed:
                peers[n].close()
            out["rows"].append({"members": N, "impl": "ensol", "label": "ensol openmp",
                                "threads": row0["threads"], "steps": a.ensol_steps,
                                "members_timed": N, "rate": summary(e_rate),
                                "wall_rate": summary(e_wall), "ratio": None})
            for n in timed:
                out["rows"].append({
                    "members": N, "impl": n, "label": n, "threads": peers[n].threads,
                    "steps": steps[n], "members_timed": members[n], "rate": summary(rates[n]),
                    "ratio": summary(ratios[n]),
                    "ratio_wall": float(np.median(e_wall) / np.median(rates[n]))})

    # 3. report
    print("\nensol / peer, member-steps/s (median [min-max] over the rounds; ensol on "
          f"{out['rows'][0]['threads']} threads, its rate over info.compute_seconds)")
    print(f"{'members':>9}  {'impl':15s} {'threads':>7} {'steps':>6} {'timed at':>9}  "
          f"{'member-steps/s [min-max]':28s} {'ensol/peer':>18}")
    for row in out["rows"]:
        rr = row["rate"]
        rate = f"{fmt(rr['median'])} [{fmt(rr['min'])}-{fmt(rr['max'])}]"
        ratio = "" if row["ratio"] is None else \
            f"{row['ratio']['median']:.3g}x [{row['ratio']['min']:.3g}-{row['ratio']['max']:.3g}]"
        print(f"{row['members']:>9}  {row['impl']:15s} {row['threads']:>7} {row['steps']:>6} "
              f"{row['members_timed']:>9}  {rate:28s} {ratio:>18}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {a.json}")
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
