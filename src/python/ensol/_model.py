# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Models: the shipped ones by name, model files (.ens) and XPPAUT files
(.ode) by path, or a model file's text; parsed and checked by the library."""
import ctypes
import os

from . import _lib
from ._errors import error_for

_L = _lib.lib


def _is_path(s):
    """As the CLI's --model: a path has a '/' or ends in .ens or .ode."""
    s = os.fspath(s)
    return "/" in s or (len(s) > 4 and s[-4:] in (".ens", ".ode"))


class Model:
    """A model for ensol.run(model=...).

    Model("lorenz96") is a shipped model, Model("./mine.ens") or
    Model.from_file(path) a model file (or an XPPAUT .ode file), and
    Model(source=TEXT, name="mine.ens") a model file's text. The library
    checks it here: a bad one raises ValueError with its FILE:LINE message.
    """

    def __init__(self, name=None, *, source=None, path=None):
        if (source is not None and path is not None) or \
                (source is None and (name is None) == (path is None)):
            raise TypeError("Model(): give one of a name, path= or source= "
                            "(with source=, name= names it in messages)")
        self.source = source
        self.path = None
        self.builtin = None
        if source is not None:
            if not isinstance(source, str):
                raise TypeError(f"source={source!r}: expected the text of a model file")
            self.label = name if isinstance(name, str) else "<source>"
            self._given = "<source>"
        else:
            given = path if path is not None else name
            if not isinstance(given, (str, os.PathLike)):
                raise TypeError(f"model={given!r}: expected a model name or a path")
            if path is not None or _is_path(given):
                self.path = os.fspath(given)
            else:
                self.builtin = given
            self._given = os.fspath(given)
        self._description = self._check()

    @classmethod
    def from_file(cls, path):
        """A model file (.ens) or XPPAUT file (.ode)."""
        return cls(path=path)

    def _apply(self, cfg):
        if self.source is not None:
            return _L.ens_config_set_model_source(cfg, self.source.encode(),
                                                  self.label.encode())
        if self.path is not None:
            return _L.ens_config_set_model_file(cfg, os.fsencode(self.path))
        return _L.ens_config_set_model(cfg, self.builtin.encode())

    def _check(self):
        from ._config import Config
        cfg = Config()
        try:
            st = self._apply(cfg.ptr)
            if st != _lib.OK:
                raise error_for(st, cfg.last_error(), "model", self._given)
            buf = ctypes.create_string_buffer(1 << 16)
            cfg.check(_L.ens_config_describe_model(cfg.ptr, buf, len(buf)))
            return _lib.text(buf.value)
        finally:
            cfg.close()

    @property
    def name(self):
        """The model's name as its description gives it."""
        first = self._description.splitlines()[0] if self._description else ""
        return first.split()[1] if first.startswith("model ") and len(first.split()) > 1 \
            else (self.builtin or self._given)

    def describe(self):
        """The library's description: variables, units, sizes, parameters, defaults."""
        return self._description

    def __repr__(self):
        if self.source is not None:
            return f"ensol.Model(source=..., name={self.label!r})"
        return f"ensol.Model({self._given!r})"


def models():
    """The shipped models: name and one-line summary each."""
    return [{"name": _lib.text(_L.ens_model_name(i)),
             "summary": _lib.text(_L.ens_model_summary(i))}
            for i in range(_L.ens_model_count())]
