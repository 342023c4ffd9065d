# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol.run in a Jupyter kernel and in a script: the progress bar (tqdm:
a widget in a notebook, a text bar on stderr), and the kernel's interrupt
(what the notebook's stop button sends) stopping a run with
KeyboardInterrupt. Skipped, saying why, without tqdm or a Jupyter kernel."""
import os
import subprocess
import sys
import textwrap
import time

import pytest

LONG_RUN = ("ensol.run(members=20000, steps=10**7, save_every=10**6, output_mode='final', "
            "progress=False, output={output!r})")
SHORT_RUN = "ensol.run(members=20000, steps=20000, output_mode='final', progress=True)"


def test_progress_bar_on_stderr(tmp_path):
    pytest.importorskip("tqdm", reason="tqdm is not installed: no progress bar to check")
    script = tmp_path / "bar.py"
    script.write_text(f"import ensol\nds = {SHORT_RUN}\nprint(ds.sizes['member'])\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "20000"
    assert "ensol:" in done.stderr and "%|" in done.stderr, done.stderr


@pytest.fixture
def kernel():
    jc = pytest.importorskip("jupyter_client", reason="no Jupyter client installed")
    pytest.importorskip("ipykernel", reason="no Jupyter kernel (ipykernel) installed")
    km = jc.KernelManager(kernel_name="python3")
    try:
        # This interpreter, whichever ensol it imports (a build tree's or
        # an installed one), not the one the kernel spec names.
        km.kernel_spec.argv = [sys.executable, "-m", "ipykernel_launcher", "-f",
                               "{connection_file}"]
        km.start_kernel(env=dict(os.environ), cwd=os.getcwd())
    except Exception as e:  # no kernel spec, or it cannot start here
        pytest.skip(f"a Jupyter kernel does not start here: {e}")
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield km, client
    client.stop_channels()
    km.shutdown_kernel(now=True)


def execute(client, code, timeout, interrupt_after=None, km=None):
    """Run a cell; its reply and the output messages' types and contents."""
    msg_id = client.execute(code)
    sent = None
    outputs = []
    deadline = time.monotonic() + timeout
    while True:
        if interrupt_after is not None and sent is None and \
                time.monotonic() > deadline - timeout + interrupt_after:
            km.interrupt_kernel()
            sent = time.monotonic()
        try:
            msg = client.get_iopub_msg(timeout=0.2)
        except Exception:
            assert time.monotonic() < deadline, f"cell still running after {timeout} s"
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append((msg["msg_type"], msg["content"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=10)["content"]
    return reply, outputs, (time.monotonic() - sent if sent else None)


def test_notebook_shows_a_widget_bar(kernel):
    pytest.importorskip("tqdm", reason="tqdm is not installed: no progress bar to check")
    _, client = kernel
    reply, outputs, _ = execute(client, f"import ensol\nds = {SHORT_RUN}\nds.sizes['member']",
                                timeout=120)
    assert reply["status"] == "ok", reply
    results = [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"]
    assert results == ["20000"], outputs
    shown = [c["data"] for t, c in outputs if t == "display_data"]
    widget = any("application/vnd.jupyter.widget-view+json" in d for d in shown)
    text_bar = any(t == "stream" and "%|" in c["text"] for t, c in outputs)
    assert widget or text_bar, outputs


def test_notebook_interrupt_stops_the_run(kernel, tmp_path):
    km, client = kernel
    path = tmp_path / "run.nc"
    code = "import ensol\n" + LONG_RUN.format(output=str(path))
    reply, outputs, stopped_in = execute(client, code, timeout=120, interrupt_after=3.0, km=km)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert "stopped" in reply["evalue"], reply
    assert stopped_in < 10, stopped_in
    # What was computed is kept, marked incomplete, never under the output name.
    assert not path.exists()
    assert (tmp_path / "run.nc.partial").exists()
    # The kernel is still usable after the interrupt.
    reply, outputs, _ = execute(client, "ensol.run(members=3, steps=10).sizes['member']",
                                timeout=60)
    assert reply["status"] == "ok", (reply, outputs)
