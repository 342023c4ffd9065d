# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""ensol from Python: large ensembles of ODE trajectories as xarray Datasets.

    import ensol
    ds = ensol.run(members=1000, integrator="rk4")   # an xarray.Dataset
    ds = ensol.run(members=10**6, output="run.nc")   # streamed to NetCDF, opened lazily

Every option, default, check and message is the C library's (libensol,
loaded with ctypes); see src/python/README.md.
"""
import ctypes as _ctypes

from . import _lib
from ._errors import (ArgumentError, BackendError, BackendUnavailableError, Error, FileError,
                      InternalError, OutOfMemoryError, StoppedError, UnknownNameError)
from ._model import Model, models as _models
from ._run import run
from ._bench import bench

__version__ = _lib.text(_lib.lib.ens_version())

__all__ = ["run", "Model", "info", "bench", "Error", "ArgumentError", "UnknownNameError",
           "BackendUnavailableError", "OutOfMemoryError", "FileError", "BackendError",
           "StoppedError", "InternalError", "__version__"]


def info():
    """What `ensol info` reports, as data: the version, each backend built
    in (whether it can run here, and its devices or why not), the models,
    and the names each choice takes."""
    backends = []
    for i in range(_lib.lib.ens_backend_count()):
        name = _lib.lib.ens_backend_name(i)
        detail = _ctypes.create_string_buffer(4096)
        st = _lib.lib.ens_backend_probe(name, detail, len(detail))
        text = _lib.text(detail.value)
        backends.append({"name": _lib.text(name), "available": st == _lib.OK,
                         "devices": [d.strip() for d in text.splitlines() if d.strip()]
                         if st == _lib.OK else [],
                         "detail": text})
    return {
        "version": __version__,
        "backends": backends,
        "models": _models(),
        "integrators": _lib.choices(_lib.CHOICE_INTEGRATOR),
        "precisions": _lib.choices(_lib.CHOICE_PRECISION),
        "output_modes": _lib.choices(_lib.CHOICE_OUTPUT_MODE),
        "parallel_io": bool(_lib.lib.ens_has_parallel_io()),
    }
