# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol.run: one run of the library, into memory or into a NetCDF file."""
import ctypes
import os
import signal
import sys
import threading

import numpy as np

from . import _lib
from ._config import Config
from ._progress import ProgressBar

_L = _lib.lib


class _Stop:
    """Ctrl-C during a run: a SIGINT handler (main thread only) sets the
    flag, and the progress callback, called after every save interval, asks
    the library to stop."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):
                self.previous = None
        return self

    def _handler(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _history(options):
    args = ", ".join(f"{k}={v!r}" for k, v in options.items())
    return f"ensol.run({args}) (ensol Python package)"


def run(output=None, *, progress=None, chunks=None, history=None, **options):
    """Run an ensemble and return it as an xarray.Dataset.

    Keyword arguments are the long options of `ensol run` with '_' for
    '-' (model, members, steps, dt, save_every, integrator, precision,
    seed, perturb, output_mode, backend, device, threads, rtol, atol, ...),
    with the same defaults; param={"rho": 28}, sweep={"rho": (20, 40, 101)},
    random={"F": (6, 10)}; model may be a name, a path or an ensol.Model.
    NumPy arrays give what varies per member: initial_states of shape
    (members, variables) in place of base state plus noise, and
    param={"rho": values} with one value per member (both copied once).

    output=None: the states go from the library straight into NumPy arrays
    and the Dataset holds the variables, coordinates and attributes of the
    file `ensol run` writes. output="run.nc": the run streams to that file
    as `ensol run -o run.nc` does, and the file is opened lazily with Dask
    (xarray.open_dataset(output, chunks=chunks), chunks={} by default: the
    file's chunks).

    progress: None shows a progress bar for runs longer than about a
    second, True from the start, False never. Ctrl-C stops the run at the
    end of the save interval in flight and raises KeyboardInterrupt.
    """
    cfg = Config()
    try:
        return _run(cfg, output, progress, chunks, history, options)
    finally:
        cfg.close()


def _run(cfg, output, progress, chunks, history, options):
    import xarray as xr

    cfg.apply(options)
    shown = dict(options)
    if output is not None:
        shown = {"output": output, **shown}
        cfg.given["output"] = output
        why = ctypes.create_string_buffer(256)
        path = os.fsencode(output)
        if _L.ens_check_output_path(path, why, len(why)) != _lib.OK:
            raise ValueError(f"output={output!r}: {_lib.text(why.value)}")
        cfg.check(_L.ens_config_set_output_path(cfg.ptr, path), "output", output)
    cfg.check(_L.ens_config_set_history(
        cfg.ptr, (history if history is not None else _history(shown)).encode()))
    cfg.check_whole(_L.ens_config_validate(cfg.ptr))

    stop = _Stop()
    bar = ProgressBar(progress)

    def on_progress(p, user):
        if stop.requested:
            return 1
        try:
            bar.update(p.contents)
        except KeyboardInterrupt:  # raised while the bar was drawn: stop too
            stop.requested = True
            return 1
        except Exception:  # the bar's own failure is not the run's
            bar.turn_off()
        return 0

    callback = _lib.PROGRESS_FN(on_progress)
    cfg.check(_L.ens_config_set_progress(cfg.ptr, callback, None))
    info = _lib.RunInfo()
    with stop:
        try:
            if output is not None:
                st = _L.ens_run(cfg.ptr, ctypes.byref(info))
            else:
                st, states, image = _run_in_memory(cfg, info)
        finally:
            bar.close()
    if st == _lib.ERR_INTERRUPTED and stop.requested:
        raise KeyboardInterrupt(cfg.last_error())
    cfg.check_whole(st)
    if output is not None:
        return xr.open_dataset(output, chunks={} if chunks is None else chunks)
    names = [_lib.text(_L.ens_config_state_variable_name(cfg.ptr, i))
             for i in range(_L.ens_config_state_variable_count(cfg.ptr))]
    return _dataset(image, states, names)


def _run_in_memory(cfg, info):
    """The run into arrays allocated here: the states, and the file's
    image without them (ens_run_to_memory_file)."""
    members = _L.ens_config_members(cfg.ptr)
    times = _L.ens_config_saved_times(cfg.ptr)
    nvars = _L.ens_config_nvars(cfg.ptr)
    stats_only = "output_mode" in cfg.given and cfg.given["output_mode"] == "stats"
    states = None if stats_only else np.empty((members, times, nvars), dtype=np.float64)
    out = states.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) if states is not None \
        else None
    image = ctypes.c_void_p()
    size = ctypes.c_size_t()
    st = _L.ens_run_to_memory_file(cfg.ptr, out, states.size if states is not None else 0,
                                   ctypes.byref(image), ctypes.byref(size),
                                   ctypes.byref(info))
    data = None
    if image.value:
        data = ctypes.string_at(image.value, size.value)
        _L.ens_free(image)
    return st, states, data


def _dataset(image, states, state_names):
    """The file's image opened as `xarray.open_dataset` opens the file,
    with the values of the state variables (state_names) from `states`
    (member, time, var)."""
    import netCDF4
    import xarray as xr

    nc = netCDF4.Dataset("ensol_memory.nc", mode="r", memory=image)
    try:
        ds = xr.open_dataset(xr.backends.NetCDF4DataStore(nc))
        order = list(ds.variables)
        # The states' variables (the model's auxiliary quantities, also
        # over time and member, have their values in the image).
        state_names = [n for n in state_names if n in ds.data_vars]
        meta = {n: (ds[n].dims, ds[n].dtype, dict(ds[n].attrs), dict(ds[n].encoding))
                for n in state_names}
        rest = ds.drop_vars(state_names).load()
    finally:
        nc.close()
    variables = {}
    for i, name in enumerate(state_names):
        dims, dtype, attrs, encoding = meta[name]
        values = states.transpose(1, 0, 2) if len(dims) == 3 else states[:, :, i].T
        if dtype != values.dtype:
            values = values.astype(dtype)
        variables[name] = xr.Variable(dims, values, attrs, encoding)
    data_vars = {n: (variables[n] if n in variables else rest[n].variable)
                 for n in order if n in variables or n in rest.data_vars}
    out = xr.Dataset(data_vars, coords=rest.coords, attrs=rest.attrs)
    out.encoding = rest.encoding
    return out
