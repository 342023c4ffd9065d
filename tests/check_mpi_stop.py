#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""MPI ranks stop together: one rank that fails or is stopped must not leave
the others waiting in a collective call.

    check_mpi_stop.py ENSOL MPIRUN WORKDIR CASE

CASE signal: SIGTERM to rank 1 alone, mid-run. Every rank stops at the
  same save interval; the shared file (or each rank's piece) stays as
  NAME.partial, marked incomplete, with the member ranges it holds, whose
  saved values are the single-process run's and NaN after the stop; rank 0
  reports rank 1's stop.
CASE prepare: SIGTERM to rank 1 alone while the file of 10^8 members is
  prepared (seconds of member coordinate): every rank stops, no file left.
CASE open: rank 1 cannot create its piece (--file-per-rank, a directory in
  the way). All ranks fail at once, rank 0 names rank 1 and the path, and
  no file is left.

Exit 77 (ctest's skip) when netCDF4 for Python or mpirun is missing."""
import glob
import os
import signal
import subprocess
import sys
import time

try:
    import numpy as np
    import netCDF4
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)

ensol, mpirun, workdir, case = sys.argv[1:5]
if not os.path.exists(mpirun):
    print(f"SKIP: no mpirun at {mpirun}")
    sys.exit(77)
os.makedirs(workdir, exist_ok=True)
for f in glob.glob(os.path.join(workdir, "*")):
    os.rmdir(f) if os.path.isdir(f) else os.remove(f)
env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none")
LIMIT = 60  # seconds: a hang shows as a timeout, far beyond a clean stop


def rank_pids(parent):
    """{rank: pid} of the ranks mpirun started."""
    out = {}
    kids = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                          text=True).stdout.split()
    for pid in kids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                for item in f.read().split(b"\0"):
                    if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                        out[int(item.split(b"=")[1])] = int(pid)
        except OSError:
            pass
    return out


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


out = os.path.join(workdir, "run.nc")
if case == "signal":
    # Long enough that the signal lands mid-run; small batches and saves so
    # that stops come often.
    args = ["--members", "60000", "--steps", "400000", "--save-every", "20000",
            "--batch-members", "10000", "--threads", "1"]
    p = subprocess.Popen([mpirun, "--oversubscribe", "--allow-run-as-root", "-n", "2",
                          ensol, "run", *args, "-o", out], env=env,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + LIMIT
    pids = {}
    while len(pids) < 2 and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
        pids = rank_pids(p.pid)
    if len(pids) < 2:
        p.kill()
        fail(f"could not find both ranks of mpirun {p.pid}")
    # Let it get into the second batch, past the plan line and one write.
    time.sleep(1.5)
    os.kill(pids[1], signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("the ranks did not stop together: mpirun still runs after "
             f"{LIMIT} s (a rank waits in a collective call)")
    if p.returncode == 0:
        fail("a run stopped by a signal exited 0")
    if "MPI rank 1" not in err or "stopped" not in err:
        fail(f"rank 0 does not report rank 1's stop:\n{err}")
    # One shared file, or one piece per rank (a NetCDF without parallel I/O).
    partials = sorted(glob.glob(os.path.join(workdir, "run*.partial")))
    names = [os.path.basename(f) for f in partials]
    if os.path.exists(out) or names not in (["run.nc.partial"],
                                           ["run.rank0000.nc.partial", "run.rank0001.nc.partial"]):
        fail(f"expected run.nc.partial or one partial piece per rank, found {os.listdir(workdir)}")
    one = os.path.join(workdir, "one.nc")
    subprocess.run([ensol, "run", "-q", *args, "-o", one], check=True)
    complete, partial, lasts = [], [], set()
    with netCDF4.Dataset(one) as b:
        x_b = np.asarray(b.variables["x"][:]).T  # (member, time)
        times = np.asarray(b.variables["time"][:])
    for name in partials:
        with netCDF4.Dataset(name) as a:
            if "incomplete" not in a.ncattrs():
                fail(f"{name} is not marked incomplete")
            last = float(a.getncattr("last_time_written"))
            lasts.add(last)
            t_last = int(np.searchsorted(times, last))
            first = int(a.variables["member"][0])
            x_a = np.asarray(a.variables["x"][:]).T
            ranges = []
            for key in ("members_complete_ranges", "members_partial_ranges"):
                text = a.getncattr(key)
                ranges.append([tuple(int(v) for v in r.split("-")) for r in text.split()])
            counted = sum(hi - lo + 1 for lo, hi in ranges[0])
            if counted != int(a.getncattr("members_complete")):
                fail(f"{name}: members_complete {a.getncattr('members_complete')} "
                     f"but ranges {ranges[0]}")
            for lo, hi in ranges[0]:
                if x_a[lo - first:hi - first + 1].tobytes() != x_b[lo:hi + 1].tobytes():
                    fail(f"{name}: complete members {lo}-{hi} differ from one process")
            for lo, hi in ranges[1]:
                got = x_a[lo - first:hi - first + 1]
                if got[:, :t_last + 1].tobytes() != x_b[lo:hi + 1, :t_last + 1].tobytes():
                    fail(f"{name}: members {lo}-{hi} differ from one process up to t={last}")
                if not np.isnan(got[:, t_last + 1:]).all():
                    fail(f"{name}: members {lo}-{hi}: times after {last} are not NaN")
            complete += ranges[0]
            partial += ranges[1]
    if len(lasts) != 1:
        fail(f"the ranks stopped at different times: {sorted(lasts)}")
    last = lasts.pop()
    if not partial:
        fail("no member in progress recorded: the stop was not mid-batch")
    # Both ranks said what they had (rank 0 has members 0-29999, rank 1
    # 30000-59999).
    starts = [lo for lo, _ in complete + partial]
    if not (any(s < 30000 for s in starts) and any(s >= 30000 for s in starts)):
        fail(f"ranges {complete} / {partial} miss a rank")
    print(f"ok: rank 1 stopped, both ranks stopped at t={last}; complete {complete}, "
          f"partial {partial}")
elif case == "prepare":
    args = ["--members", "100000000", "--steps", "1", "--output-mode", "final",
            "--max-memory", "64M", "--force", "--threads", "1"]
    p = subprocess.Popen([mpirun, "--oversubscribe", "--allow-run-as-root", "-n", "2",
                          ensol, "run", *args, "-o", out], env=env,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + LIMIT
    pids = {}
    while time.time() < deadline and p.poll() is None and \
            (len(pids) < 2 or not glob.glob(os.path.join(workdir, "run*.partial"))):
        time.sleep(0.02)
        pids = rank_pids(p.pid)
    if len(pids) < 2 or p.poll() is not None:
        p.kill()
        fail("the ranks did not start preparing the file")
    time.sleep(0.2)
    sent = time.time()
    os.kill(pids[1], signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        p.kill()
        fail(f"the ranks did not stop together: mpirun still runs after {LIMIT} s")
    took = time.time() - sent
    if p.returncode == 0:
        fail("a run stopped by a signal exited 0")
    if "prepared" not in err:
        fail(f"no rank says the run stopped while its file was prepared:\n{err}")
    left = os.listdir(workdir)
    if left:
        fail(f"files left behind: {left}")
    print(f"ok: rank 1 stopped while the file was prepared; every rank stopped in "
          f"{took:.2f} s, no file left")
elif case == "open":
    # Rank 1's piece is a link into a directory that does not exist: its
    # partial file, made next to the link's target, cannot be created.
    os.symlink("missing/piece.nc", os.path.join(workdir, "run.rank0001.nc"))
    r = subprocess.run([mpirun, "--oversubscribe", "--allow-run-as-root", "-n", "3",
                        ensol, "run", "--members", "3000", "--steps", "100", "--threads", "1",
                        "--file-per-rank", "-o", out], env=env, capture_output=True, text=True,
                       timeout=LIMIT)
    if r.returncode == 0:
        fail("a run whose rank 1 cannot write exited 0")
    if "MPI rank 1" not in r.stderr or "missing/piece.nc.partial" not in r.stderr:
        fail(f"rank 0 does not name rank 1 and its file:\n{r.stderr}")
    left = sorted(set(os.listdir(workdir)) - {"run.rank0001.nc"})
    if left:
        fail(f"files left behind: {left}")
    print("ok: rank 1 could not open its piece; every rank stopped, no file left")
else:
    sys.exit(f"unknown case {case}")
