# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Ctrl-C (SIGINT) stops a run within a save interval and raises
KeyboardInterrupt; no file is left under the output name, and what was
computed is kept in NAME.partial, marked incomplete."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent("""
    import sys, time, ensol
    output = sys.argv[1] if len(sys.argv) > 1 else None
    print("start", flush=True)
    t0 = time.monotonic()
    try:
        ensol.run(output=output, members=20000, steps=10**7, save_every=10**6,
                  output_mode="final", progress=False)
        print("finished", flush=True)
    except KeyboardInterrupt as e:
        print(f"interrupted after {time.monotonic() - t0:.2f} s: {e}", flush=True)
""")


def interrupt(tmp_path, *args):
    script = tmp_path / "long_run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout.readline().strip() == "start"
    time.sleep(2.0)  # the run is under way
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    stopped_in = time.monotonic() - sent
    assert proc.returncode == 0, err
    assert "interrupted after" in out, out + err
    assert "stopped" in out, out  # the library's message
    # The library asks the callback about every tenth of a second within a
    # long save interval: the stop comes well within one interval.
    assert stopped_in < 10, stopped_in
    return out


def test_interrupt_in_memory(tmp_path):
    interrupt(tmp_path)


def test_interrupt_with_a_file(tmp_path):
    out = interrupt(tmp_path, "run.nc")
    assert not (tmp_path / "run.nc").exists(), out
    # What was computed is kept beside it, marked incomplete, as the CLI does.
    import xarray as xr
    with xr.open_dataset(tmp_path / "run.nc.partial") as kept:
        assert "stopped" in kept.attrs["incomplete"], kept.attrs


def test_handler_restored():
    import ensol
    before = signal.getsignal(signal.SIGINT)
    ensol.run(members=10, steps=10, progress=False)
    assert signal.getsignal(signal.SIGINT) is before


def test_gil_released_during_run():
    """Another Python thread runs while the library integrates."""
    import threading
    import ensol
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    def slow_run():
        # A progress callback only after each long save interval: the
        # thread must run between them.
        ensol.run(members=20000, steps=200000, save_every=200000, output_mode="final",
                  progress=False)

    t = threading.Thread(target=count)
    t.start()
    start = time.monotonic()
    try:
        slow_run()
    finally:
        done.set()
        t.join()
    took = time.monotonic() - start
    during = [x for x in ticks if start < x < start + took]
    if took < 0.5:
        pytest.skip(f"the run took {took:.2f} s, too short to tell")
    assert len(during) > 0.3 * took / 0.01, (len(during), took)
