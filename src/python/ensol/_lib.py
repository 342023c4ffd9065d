# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The C library (include/ensol/ensol.h) through ctypes.

The shared library is the one installed beside this file by
``pip install .`` (libensol.so), or the one named by the environment
variable ENSOL_LIBRARY (a build tree's build/python/libensol.so). ctypes
releases the GIL for the duration of every foreign call and takes it back
for the Python callbacks (progress).
"""
import ctypes
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _library_path():
    env = os.environ.get("ENSOL_LIBRARY")
    if env:
        return env
    names = ["libensol.dylib"] if sys.platform == "darwin" else ["libensol.so"]
    for name in names:
        if (_HERE / name).exists():
            return str(_HERE / name)
    raise ImportError(
        "ensol: its shared library is not installed beside the package "
        f"({_HERE}); install the package with `pip install .`, or set "
        "ENSOL_LIBRARY to a build's python/libensol.so")


def cli_path():
    """The ensol program of this package (bench, tests), or None."""
    env = os.environ.get("ENSOL_CLI")
    if env:
        return env
    exe = _HERE / "bin" / "ensol"
    return str(exe) if exe.exists() else None


c_ll = ctypes.c_longlong
c_dbl = ctypes.c_double
c_int = ctypes.c_int
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_size_t = ctypes.c_size_t


class Progress(ctypes.Structure):
    _fields_ = [("members_done", c_ll), ("members_total", c_ll), ("fraction", c_dbl),
                ("sim_time", c_dbl), ("elapsed_seconds", c_dbl),
                ("member_steps_per_second", c_dbl)]


class RunInfo(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_char * 32), ("device", ctypes.c_char * 128),
                ("seconds", c_dbl), ("compute_seconds", c_dbl),
                ("member_steps_per_second", c_dbl), ("batches", c_ll),
                ("members_failed", c_ll), ("bytes_written", ctypes.c_ulonglong),
                ("members_by_status", c_ll * 5), ("steps_accepted", c_ll),
                ("steps_rejected", c_ll)]


PROGRESS_FN = ctypes.CFUNCTYPE(c_int, ctypes.POINTER(Progress), c_void_p)

lib = ctypes.CDLL(_library_path())

_PROTOTYPES = {
    "ens_status_string": (c_char_p, [c_int]),
    "ens_version": (c_char_p, []),
    "ens_config_create": (c_int, [ctypes.POINTER(c_void_p)]),
    "ens_config_destroy": (None, [c_void_p]),
    "ens_config_last_error": (c_char_p, [c_void_p]),
    "ens_config_set_model": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_model_file": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_model_source": (c_int, [c_void_p, c_char_p, c_char_p]),
    "ens_config_describe_model": (c_int, [c_void_p, c_char_p, c_size_t]),
    "ens_config_set_param": (c_int, [c_void_p, c_char_p, c_dbl]),
    "ens_config_state_variable_count": (c_int, [c_void_p]),
    "ens_config_state_variable_name": (c_char_p, [c_void_p, c_int]),
    "ens_config_set_param_values": (c_int, [c_void_p, c_char_p, ctypes.POINTER(c_dbl), c_ll]),
    "ens_config_set_initial_states": (c_int, [c_void_p, ctypes.POINTER(c_dbl), c_ll, c_int]),
    "ens_config_sweep_param": (c_int, [c_void_p, c_char_p, c_dbl, c_dbl, c_ll]),
    "ens_config_random_param": (c_int, [c_void_p, c_char_p, c_dbl, c_dbl]),
    "ens_config_set_members": (c_int, [c_void_p, c_ll]),
    "ens_config_set_base_state": (c_int, [c_void_p, ctypes.POINTER(c_dbl), c_int]),
    "ens_config_set_perturbation": (c_int, [c_void_p, c_dbl]),
    "ens_config_set_seed": (c_int, [c_void_p, ctypes.c_uint64]),
    "ens_config_set_integrator": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_dt": (c_int, [c_void_p, c_dbl]),
    "ens_config_set_steps": (c_int, [c_void_p, c_ll]),
    "ens_config_set_save_every": (c_int, [c_void_p, c_ll]),
    "ens_config_set_precision": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_rtol_vector": (c_int, [c_void_p, ctypes.POINTER(c_dbl), c_int]),
    "ens_config_set_atol_vector": (c_int, [c_void_p, ctypes.POINTER(c_dbl), c_int]),
    "ens_config_set_dt_limits": (c_int, [c_void_p, c_dbl, c_dbl]),
    "ens_config_set_max_steps": (c_int, [c_void_p, c_ll]),
    "ens_config_set_backend": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_device": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_strict_fp": (c_int, [c_void_p, c_int]),
    "ens_config_set_blowup_bound": (c_int, [c_void_p, c_dbl]),
    "ens_config_set_threads": (c_int, [c_void_p, c_int]),
    "ens_config_set_batch_members": (c_int, [c_void_p, c_ll]),
    "ens_config_set_max_memory": (c_int, [c_void_p, c_dbl]),
    "ens_config_set_output_mode": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_deflate": (c_int, [c_void_p, c_int]),
    "ens_config_set_quantize": (c_int, [c_void_p, c_int]),
    "ens_config_set_output_type": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_output_path": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_initial_file": (c_int, [c_void_p, c_char_p, c_ll]),
    "ens_config_set_restart_path": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_force": (c_int, [c_void_p, c_int]),
    "ens_config_set_history": (c_int, [c_void_p, c_char_p]),
    "ens_config_set_progress": (c_int, [c_void_p, PROGRESS_FN, c_void_p]),
    "ens_check_output_path": (c_int, [c_char_p, c_char_p, c_size_t]),
    "ens_config_nvars": (c_int, [c_void_p]),
    "ens_config_members": (c_ll, [c_void_p]),
    "ens_config_saved_times": (c_ll, [c_void_p]),
    "ens_config_validate": (c_int, [c_void_p]),
    "ens_run": (c_int, [c_void_p, ctypes.POINTER(RunInfo)]),
    "ens_run_to_memory_file": (c_int, [c_void_p, ctypes.POINTER(c_dbl), c_size_t,
                                       ctypes.POINTER(c_void_p), ctypes.POINTER(c_size_t),
                                       ctypes.POINTER(RunInfo)]),
    "ens_free": (None, [c_void_p]),
    "ens_backend_count": (c_int, []),
    "ens_backend_name": (c_char_p, [c_int]),
    "ens_backend_probe": (c_int, [c_char_p, c_char_p, c_size_t]),
    "ens_choice_count": (c_int, [c_int]),
    "ens_choice_name": (c_char_p, [c_int, c_int]),
    "ens_model_count": (c_int, []),
    "ens_model_name": (c_char_p, [c_int]),
    "ens_model_summary": (c_char_p, [c_int]),
    "ens_has_parallel_io": (c_int, []),
}

for _name, (_res, _args) in _PROTOTYPES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

# enum ens_status
OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_UNKNOWN_NAME = 2
ERR_BACKEND_UNAVAILABLE = 3
ERR_OUT_OF_MEMORY = 4
ERR_IO = 5
ERR_BACKEND = 6
ERR_INTERRUPTED = 7
ERR_INTERNAL = 8

# enum ens_choice
CHOICE_INTEGRATOR, CHOICE_PRECISION, CHOICE_OUTPUT_MODE, CHOICE_BACKEND = range(4)


def text(b):
    return b.decode("utf-8", "replace") if b else ""


def choices(kind):
    return [text(lib.ens_choice_name(kind, i)) for i in range(lib.ens_choice_count(kind))]
