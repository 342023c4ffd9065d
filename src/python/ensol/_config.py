# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Keyword arguments onto an ens_config, through the library's setters.

Each keyword is a long option of `ensol run` with '_' for '-'; its value
goes to the setter the CLI's option table (src/cli/option_table.c) uses,
and every check, default and message is the library's. Python checks only
the Python types (an int where a count is expected, a str for a name).
"""
import ctypes
import numbers
import os

import numpy as np

from . import _lib
from ._errors import error_for, setting_of

_L = _lib.lib


def _count(kw, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{kw}={v!r}: expected an integer")
    if isinstance(v, numbers.Integral):
        return int(v)
    f = float(v)
    if not f.is_integer():
        raise ValueError(f"{kw}={v!r}: expected an integer")
    return int(f)


def _real(kw, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{kw}={v!r}: expected a number")
    return float(v)


def _name(kw, v):
    if not isinstance(v, (str, os.PathLike)):
        raise TypeError(f"{kw}={v!r}: expected a string")
    return os.fsencode(v)


def _flag(kw, v):
    if not isinstance(v, (bool, np.bool_, int)):
        raise TypeError(f"{kw}={v!r}: expected True or False")
    return 1 if v else 0


def _list(kw, v):
    values = np.atleast_1d(np.asarray(v, dtype=float)) if not isinstance(v, (str, bytes)) \
        else None
    if values is None or values.ndim != 1:
        raise TypeError(f"{kw}={v!r}: expected a number or a sequence of numbers")
    values = np.ascontiguousarray(values, dtype=np.float64)
    return values.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), len(values), values


class _Shape:
    """An array as messages show it: its shape, not its values."""

    def __init__(self, array):
        self.shape = np.shape(array)

    def __repr__(self):
        return f"<array of shape {self.shape}>"


def _per_member(kw, v, ndim):
    """A NumPy array (or anything np.asarray takes) of one row per member,
    as contiguous doubles: the library copies it."""
    try:
        values = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{kw}={v!r}: expected a number or an array of numbers") from None
    if values.ndim != ndim:
        shape = "(members,)" if ndim == 1 else "(members, variables)"
        raise ValueError(f"{kw}: an array of shape {values.shape}; expected {shape}")
    return np.ascontiguousarray(values)


_SIZE_SUFFIXES = "KMGT"


def _memory(kw, v):
    """Bytes, or a size with a binary suffix as --max-memory takes it."""
    if isinstance(v, str):
        s = v.strip()
        scale = 1.0
        if s and s[-1].upper() in _SIZE_SUFFIXES:
            scale = 1024.0 ** (_SIZE_SUFFIXES.index(s[-1].upper()) + 1)
            s = s[:-1]
        try:
            return float(s) * scale
        except ValueError:
            raise ValueError(f"{kw}={v!r}: expected a size such as '512M' or '2G'") from None
    return _real(kw, v)


# keyword: (conversion, setter); the setter gets the config and the converted value.
_SIMPLE = {
    "members": (_count, _L.ens_config_set_members),
    "perturb": (_real, _L.ens_config_set_perturbation),
    "integrator": (_name, _L.ens_config_set_integrator),
    "dt": (_real, _L.ens_config_set_dt),
    "steps": (_count, _L.ens_config_set_steps),
    "save_every": (_count, _L.ens_config_set_save_every),
    "max_steps": (_count, _L.ens_config_set_max_steps),
    "precision": (_name, _L.ens_config_set_precision),
    "blowup_bound": (_real, _L.ens_config_set_blowup_bound),
    "backend": (_name, _L.ens_config_set_backend),
    "strict_fp": (_flag, _L.ens_config_set_strict_fp),
    "threads": (_count, _L.ens_config_set_threads),
    "batch_members": (_count, _L.ens_config_set_batch_members),
    "max_memory": (_memory, _L.ens_config_set_max_memory),
    "output_mode": (_name, _L.ens_config_set_output_mode),
    "output_type": (_name, _L.ens_config_set_output_type),
    "restart_out": (_name, _L.ens_config_set_restart_path),
    "deflate": (_count, _L.ens_config_set_deflate),
    "quantize": (_count, _L.ens_config_set_quantize),
    "force": (_flag, _L.ens_config_set_force),
}
_LISTS = {
    "base_state": _L.ens_config_set_base_state,
    "rtol": _L.ens_config_set_rtol_vector,
    "atol": _L.ens_config_set_atol_vector,
}
# The library's name for a setting in its messages, where it is not the keyword's.
_SETTING_NAMES = {"perturbation": "perturb", "initial_file": "init_from",
                  "output_path": "output", "restart_path": "restart_out"}

OPTIONS = (["model", "param", "sweep", "random", "init_from", "initial_states", "seed",
            "device", "dt_min", "dt_max"] + list(_SIMPLE) + list(_LISTS))


class Config:
    """An ens_config, destroyed with the object (or by close())."""

    def __init__(self):
        ptr = ctypes.c_void_p()
        st = _L.ens_config_create(ctypes.byref(ptr))
        if st != _lib.OK:
            raise error_for(st, _lib.text(_L.ens_status_string(st)))
        self.ptr = ptr
        self.given = {}

    def close(self):
        if self.ptr:
            _L.ens_config_destroy(self.ptr)
            self.ptr = None

    def __del__(self):
        self.close()

    def last_error(self):
        return _lib.text(_L.ens_config_last_error(self.ptr))

    def check(self, st, kw=None, value=None):
        """Raise the library's error for a failed setter, naming kw=value."""
        if st != _lib.OK:
            raise error_for(st, self.last_error(), kw, value)

    def check_whole(self, st):
        """A failure of validate or run: named as the keyword it is about,
        when the caller gave that one."""
        if st == _lib.OK:
            return
        msg = self.last_error()
        name = setting_of(msg)
        kw = _SETTING_NAMES.get(name, name)
        if kw in self.given:
            raise error_for(st, msg, kw, self.given[kw])
        raise error_for(st, msg)

    # ---- the options --------------------------------------------------------

    def apply(self, options):
        """Every option, the model first (it resets parameters and base
        state), then the parameters, then the rest, as the CLI does."""
        unknown = [k for k in options if k not in OPTIONS]
        if unknown:
            raise TypeError(f"unexpected keyword argument {unknown[0]!r}; "
                            f"ensol.run takes {', '.join(OPTIONS)}")
        self.given = {k: _Shape(v) if k == "initial_states" else v
                      for k, v in options.items()}
        if options.get("model") is not None:
            self.set_model(options["model"])
        varied = set()
        for kw in ("param", "sweep", "random"):
            value = options.get(kw)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise TypeError(f"{kw}={value!r}: expected a dict of parameter names")
            for name, spec in value.items():
                if kw != "param" and name in varied:
                    raise ValueError(f"{kw}={{{name!r}: {spec!r}}}: that parameter is varied "
                                     "already by sweep or random; give it one of them")
                if kw != "param":
                    varied.add(name)
                self._param(kw, name, spec)
        for kw, value in options.items():
            if value is None or kw in ("model", "param", "sweep", "random"):
                continue
            if kw in _SIMPLE:
                conv, setter = _SIMPLE[kw]
                self.check(setter(self.ptr, conv(kw, value)), kw, value)
            elif kw in _LISTS:
                ptr, n, _keep = _list(kw, value)
                self.check(_LISTS[kw](self.ptr, ptr, n), kw, value)
            elif kw == "seed":
                seed = _count(kw, value)
                if not 0 <= seed < 2 ** 64:
                    raise ValueError(f"seed={value!r}: must be an unsigned 64-bit integer")
                self.check(_L.ens_config_set_seed(self.ptr, seed), kw, value)
            elif kw == "device":
                dev = str(value) if isinstance(value, numbers.Integral) else value
                self.check(_L.ens_config_set_device(self.ptr, _name(kw, dev)), kw, value)
            elif kw == "initial_states":
                self._initial_states(value)
            elif kw == "init_from":
                path, index = (value if isinstance(value, tuple) else (value, -1))
                self.check(_L.ens_config_set_initial_file(
                    self.ptr, _name(kw, path), _count(kw, index)), kw, value)
        if options.get("dt_min") is not None or options.get("dt_max") is not None:
            lo = _real("dt_min", options.get("dt_min") or 0.0)
            hi = _real("dt_max", options.get("dt_max") or 0.0)
            kw = "dt_min" if options.get("dt_min") is not None else "dt_max"
            self.check(_L.ens_config_set_dt_limits(self.ptr, lo, hi), kw, options[kw])

    def _initial_states(self, value):
        states = _per_member("initial_states", value, 2)
        members, nvars = states.shape
        self.check(_L.ens_config_set_initial_states(
            self.ptr, states.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), members, nvars),
            "initial_states", _Shape(states))

    def set_model(self, model):
        from ._model import Model
        if not isinstance(model, Model):
            if not isinstance(model, (str, os.PathLike)):
                raise TypeError(f"model={model!r}: expected a model name, a path or "
                                "an ensol.Model")
            model = Model(model)
        self.check(model._apply(self.ptr), "model", model._given)

    def _param(self, kw, name, spec):
        label = f"{kw}[{name!r}]"
        if not isinstance(name, str):
            raise TypeError(f"{kw}={{{name!r}: ...}}: parameter names are strings")
        b = name.encode()
        if kw == "param" and not isinstance(spec, (numbers.Real, str, bytes)):
            values = _per_member(label, spec, 1)
            n = len(values)
            st = _L.ens_config_set_param_values(
                self.ptr, b, values.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), n)
        elif kw == "param":
            st = _L.ens_config_set_param(self.ptr, b, _real(label, spec))
        else:
            try:
                fields = tuple(spec)
            except TypeError:
                raise TypeError(f"{label}={spec!r}: expected (lo, hi)"
                                + (" or (lo, hi, n)" if kw == "sweep" else "")) from None
            if kw == "sweep" and len(fields) in (2, 3):
                n = _count(label, fields[2]) if len(fields) == 3 else 0
                st = _L.ens_config_sweep_param(self.ptr, b, _real(label, fields[0]),
                                               _real(label, fields[1]), n)
            elif kw == "random" and len(fields) == 2:
                st = _L.ens_config_random_param(self.ptr, b, _real(label, fields[0]),
                                                _real(label, fields[1]))
            else:
                raise ValueError(f"{label}={spec!r}: expected (lo, hi)"
                                 + (" or (lo, hi, n)" if kw == "sweep" else ""))
        self.check(st, kw, {name: spec})
