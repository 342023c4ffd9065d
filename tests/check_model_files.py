# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Model files given by path at run time (`ensol run --model PATH`).

usage: /usr/bin/python3 check_model_files.py ENSOL SOURCE_DIR WORKDIR

Copies of shipped models given by path are compiled by the system C
compiler into a private cache (WORKDIR/cache) and must give the same bits
as the built-in model in strict mode; a second run takes the object from
the cache; bad model files are reported as FILE:LINE: message with exit
status 2 and no output file; a missing compiler is named.
Exit status: 0 fine, 1 a failure, 77 netCDF4 cannot be imported.
"""
import os
import shutil
import stat
import subprocess
import sys

from check_common import FAILURES, expect, require_netcdf

np, netCDF4 = require_netcdf()


def run(ensol, args, env):
    return subprocess.run([ensol] + args, capture_output=True, text=True, env=env)


def same_bits(a, b):
    with netCDF4.Dataset(a) as x, netCDF4.Dataset(b) as y:
        names = [v for v in x.variables if x[v].ndim >= 2]
        return bool(names) and all(
            np.array_equal(np.asarray(x[v][:].data), np.asarray(y[v][:].data)) for v in names)


def check_same_as_builtin(ensol, src, work, env, name, extra):
    path = os.path.join(work, f"{name}_copy.ens")
    shutil.copy(os.path.join(src, "kernels", "models", f"{name}.ens"), path)
    common = ["--strict-fp", "--members", "37", "--steps", "60", "--save-every", "20",
              "--backend", "openmp"] + extra
    a = run(ensol, ["run", "--model", path, "-o", os.path.join(work, f"{name}_p.nc")] + common,
            env)
    b = run(ensol, ["run", "--model", name, "-o", os.path.join(work, f"{name}_b.nc")] + common,
            env)
    expect(a.returncode == 0 and b.returncode == 0, f"{name}: path and built-in runs "
           f"({a.stderr.strip()[-300:]} {b.stderr.strip()[-300:]})")
    if a.returncode == 0 and b.returncode == 0:
        expect("model compiled in" in a.stderr, f"{name}: the plan line says compiled in X s")
        expect(same_bits(os.path.join(work, f"{name}_p.nc"), os.path.join(work, f"{name}_b.nc")),
               f"{name} {' '.join(extra)}: model file by path = built-in, bit for bit (strict)")
    return path


def check_bad(ensol, work, env, name, text, line, words):
    path = os.path.join(work, f"bad_{name}.ens")
    out = os.path.join(work, f"bad_{name}.nc")
    with open(path, "w") as f:
        f.write(text)
    r = run(ensol, ["run", "--model", path, "--steps", "5", "--members", "2", "--backend",
                    "openmp", "-o", out], env)
    msg = r.stderr.strip()
    expect(r.returncode == 2 and f"{path}:{line}:" in msg and all(w in msg for w in words)
           and not os.path.exists(out) and not os.path.exists(out + ".partial"),
           f"bad model file ({name}): exit 2, {path}:{line}: ..., no output [{msg}]")


GOOD = """model m
param a = 1
var x
var y
base 1 0
rhs
    ddt(x) = y;
    ddt(y) = -a * x;
end
"""


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 1
    ensol, src, work = argv[1], argv[2], argv[3]
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(work, "cache")
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    env.pop("ENSOL_CC", None)

    l63 = check_same_as_builtin(ensol, src, work, env, "lorenz63", ["--integrator", "rk4"])
    check_same_as_builtin(ensol, src, work, env, "lorenz96", ["--integrator", "rk4"])
    check_same_as_builtin(ensol, src, work, env, "duffing", ["--integrator", "rk4"])
    mode = stat.S_IMODE(os.stat(os.path.join(cache, "ensol")).st_mode)
    expect(mode == 0o700, f"the cache folder is private (mode {mode:o})")

    # The second run of the same source, compiler and flags: from the cache.
    out = os.path.join(work, "cached.nc")
    r = run(ensol, ["run", "--model", l63, "--strict-fp", "--members", "37", "--steps", "60",
                    "--save-every", "20", "--backend", "openmp", "--integrator", "rk4", "-o",
                    out], env)
    expect(r.returncode == 0 and "model from the cache" in r.stderr,
           f"a second run takes the object from the cache [{r.stderr.strip()[-200:]}]")
    expect(r.returncode == 0 and same_bits(out, os.path.join(work, "lorenz63_b.nc")),
           "the cached object gives the same bits")

    # A cached object whose recorded hash differs is not used: the object of
    # another model put in its place is compiled again.
    objects = sorted(os.path.join(cache, "ensol", f) for f in os.listdir(os.path.join(cache, "ensol")))
    expect(len(objects) == 6 and all(f.endswith(".so") for f in objects),
           f"two objects per compiled model (its loops, its host check), no temporary files "
           f"left ({objects})")
    first = os.path.join(work, "l63_first.nc")
    before = set(objects)
    r = run(ensol, ["run", "--model", l63, "--members", "37", "--steps", "6", "--backend",
                    "openmp", "-o", first], env)
    new = set(os.path.join(cache, "ensol", f) for f in os.listdir(os.path.join(cache, "ensol")))
    added = sorted(new - before)
    if r.returncode == 0 and len(added) == 1:
        shutil.copy(objects[0], added[0])
        r = run(ensol, ["run", "--model", l63, "--members", "37", "--steps", "6", "--backend",
                        "openmp", "-o", os.path.join(work, "l63_again.nc")], env)
        expect(r.returncode == 0 and "model compiled in" in r.stderr,
               f"an object with another recorded hash is compiled again [{r.stderr[-200:]}]")
    else:
        expect(False, f"a new mode compiles one new object [{r.stderr[-300:]}]")
    # No C compiler: one line naming what to install, exit 2.
    good = os.path.join(work, "good.ens")
    with open(good, "w") as f:
        f.write(GOOD)
    r = run(ensol, ["run", "--model", good, "--steps", "5", "--backend", "openmp", "-o",
                    os.path.join(work, "nocc.nc")], dict(env, ENSOL_CC="/nonexistent/cc"))
    expect(r.returncode == 2 and "install" in r.stderr and r.stderr.count("\n") == 1,
           f"no compiler: one line naming what to install, exit 2 [{r.stderr.strip()}]")

    # Bad model files: FILE:LINE: message, exit 2, no output file.
    check_bad(ensol, work, env, "syntax", GOOD.replace("ddt(y) = -a * x;", "ddt(y) = -a * ;"),
              8, ["expected expression"])
    check_bad(ensol, work, env, "novars", "model m\nparam a = 1\nrhs\nend\n", 4,
              ["no variables"])
    check_bad(ensol, work, env, "duplicate", GOOD.replace("var y", "var x"), 4,
              ["duplicate name 'x'"])
    check_bad(ensol, work, env, "clash", GOOD.replace("param a = 1", "param a = 1\nparam y = 2"),
              5, ["duplicate name 'y'"])
    check_bad(ensol, work, env, "size",
              "model m\nsize K = 0\nvar X[K]\nrhs\n    ddt(X)[0] = 0;\nend\n", 2, ["positive integer"])
    # A right-hand side that writes outside its state, or leaves a derivative
    # unset: found by the host check before the run, on every backend.
    past = "model m\nsize K = 8\nvar X[K]\nrhs\n    for (int k = 0; k <= K; k++)\n" \
           "        ddt(X)[k] = -X[k % K];\nend\n"
    check_bad(ensol, work, env, "past_end", past, 5, ["writes outside the state",
                                                     "1 past the end of ddt(X)"])
    check_bad(ensol, work, env, "before_start", past.replace("k <= K", "k < K").replace(
              "ddt(X)[k]", "ddt(X)[k - 2]"), 5, ["writes outside the state", "2 before ddt(X)"])
    check_bad(ensol, work, env, "unset", GOOD.replace("    ddt(y) = -a * x;\n", ""), 7,
              ["does not set ddt(y)"])

    # What works on a built-in model works on a model file (small runs).
    r = run(ensol, ["info", "--model", good], env)
    expect(r.returncode == 0 and "var x" in r.stdout and "param a = 1" in r.stdout,
           f"ensol info --model PATH prints the declarations [{r.stdout.strip()[:200]}]")
    r = run(ensol, ["bench", "--model", good, "--members", "64", "--steps", "20", "--repeats",
                    "1", "--warmup", "0", "--no-peak", "--backends", "openmp"], env)
    expect(r.returncode == 0 and "64" in r.stdout,
           f"ensol bench --model PATH [{(r.stdout + r.stderr).strip()[-300:]}]")
    out = os.path.join(work, "sweep.nc")
    r = run(ensol, ["run", "--model", good, "--sweep", "a=1:4:4", "--steps", "50",
                    "--backend", "openmp", "-o", out], env)
    if r.returncode == 0:
        with netCDF4.Dataset(out) as d:
            a = np.asarray(d["a"][:])
            x = np.asarray(d["x"][:]).T  # (member, time)
        expect(np.allclose(a, [1, 2, 3, 4]) and not np.allclose(x[0, -1], x[3, -1]),
               "per-member parameters (--sweep) on a model file")
    else:
        expect(False, f"--sweep on a model file [{r.stderr.strip()}]")
    # dopri5 on the harmonic oscillator: x = cos(sqrt(a) t) from x=1, y=0.
    out = os.path.join(work, "d5.nc")
    r = run(ensol, ["run", "--model", good, "--integrator", "dopri5", "--rtol", "1e-10",
                    "--atol", "1e-10", "--perturb", "0", "--members", "2", "--steps", "100",
                    "--param", "a=4", "--backend", "openmp", "-o", out], env)
    if r.returncode == 0:
        with netCDF4.Dataset(out) as d:
            t = np.asarray(d["time"][:])
            x = np.asarray(d["x"][:]).T  # (member, time)
        expect(np.max(np.abs(x[0] - np.cos(2 * t))) < 1e-8, "dopri5 on a model file")
    else:
        expect(False, f"dopri5 on a model file [{r.stderr.strip()}]")
    out = os.path.join(work, "stats.nc")
    r = run(ensol, ["run", "--model", good, "--output-mode", "stats", "--members", "50",
                    "--steps", "20", "--backend", "openmp", "-o", out], env)
    expect(r.returncode == 0 and os.path.exists(out), f"stats mode on a model file "
           f"[{r.stderr.strip()[-200:]}]")
    # A restart continues exactly as one run (the forced model: the time goes on too).
    duff = os.path.join(work, "duffing_copy.ens")
    common = ["--model", duff, "--integrator", "rk4", "--members", "5", "--backend", "openmp",
              "--output-mode", "final"]
    one, half, rest = (os.path.join(work, f"{n}.nc") for n in ["one", "half", "rest"])
    restart = os.path.join(work, "restart.nc")
    r1 = run(ensol, ["run"] + common + ["--steps", "200", "-o", one], env)
    r2 = run(ensol, ["run"] + common + ["--steps", "100", "-o", half, "--restart-out", restart],
             env)
    r3 = run(ensol, ["run", "--model", duff, "--integrator", "rk4", "--backend", "openmp",
                     "--output-mode", "final", "--steps", "100", "--init-from", restart,
                     "-o", rest], env)
    ok = r1.returncode == r2.returncode == r3.returncode == 0
    if ok:
        with netCDF4.Dataset(one) as a, netCDF4.Dataset(rest) as b:
            ok = np.array_equal(np.asarray(a["x"][:]), np.asarray(b["x"][:]))
    expect(ok, f"restart of a forced model file = one run [{r2.stderr[-200:]} {r3.stderr[-200:]}]")

    # OpenCL builds the model file into the program it builds per run.
    info = run(ensol, ["info"], env).stdout
    if any(line.split()[:2] == ["opencl", "available:"] for line in info.splitlines()):
        common = ["--backend", "opencl", "--strict-fp", "--members", "37", "--steps", "60",
                  "--save-every", "20", "--integrator", "rk4"]
        out = os.path.join(work, "lorenz63_cl.nc")
        r = run(ensol, ["run", "--model", os.path.join(work, "lorenz63_copy.ens"), "-o", out]
                + common, env)
        expect(r.returncode == 0 and same_bits(out, os.path.join(work, "lorenz63_b.nc")),
               f"lorenz63 by path on OpenCL = built-in on OpenMP, bit for bit (strict) "
               f"[{r.stderr.strip()[-200:]}]")
        # cos() of OpenCL and of the C library differ in the last bits: the
        # forced model by path against the built-in on OpenCL itself.
        out, ref = os.path.join(work, "duffing_cl.nc"), os.path.join(work, "duffing_clb.nc")
        r = run(ensol, ["run", "--model", os.path.join(work, "duffing_copy.ens"), "-o", out]
                + common, env)
        b = run(ensol, ["run", "--model", "duffing", "-o", ref] + common, env)
        expect(r.returncode == 0 and b.returncode == 0 and same_bits(out, ref),
               f"duffing by path on OpenCL = built-in on OpenCL, bit for bit (strict) "
               f"[{r.stderr.strip()[-200:]}]")
        bad = os.path.join(work, "bad_syntax.ens")
        out = os.path.join(work, "bad_cl.nc")
        r = run(ensol, ["run", "--model", bad, "--backend", "opencl", "--steps", "5", "-o", out],
                env)
        expect(r.returncode == 2 and f"{bad}:8: " in r.stderr and not os.path.exists(out),
               f"a syntax error on OpenCL: {bad}:8: ..., exit 2 [{r.stderr.strip()}]")
        bad = os.path.join(work, "bad_past_end.ens")
        r = run(ensol, ["run", "--model", bad, "--backend", "opencl", "--steps", "5", "-o", out],
                env)
        expect(r.returncode == 2 and f"{bad}:5: " in r.stderr and "outside" in r.stderr
               and not os.path.exists(out),
               f"a write outside the state on OpenCL: {bad}:5: ..., exit 2 [{r.stderr.strip()}]")
    else:
        print("opencl: not available here, not checked")

    print(f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
