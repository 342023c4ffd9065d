# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The library's ens_status codes as Python exceptions."""
import re

from . import _lib


class Error(Exception):
    """A run or call of the ensol library failed; `status` is the
    library's ens_status code and the message the library's own."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ArgumentError(Error, ValueError):
    """A setting's value is out of range or inconsistent (ENS_ERR_INVALID_ARGUMENT)."""


class UnknownNameError(Error, ValueError):
    """No such model, parameter, integrator or backend (ENS_ERR_UNKNOWN_NAME)."""


class BackendUnavailableError(Error):
    """The backend is not built in or has no device (ENS_ERR_BACKEND_UNAVAILABLE)."""


class OutOfMemoryError(Error, MemoryError):
    """ENS_ERR_OUT_OF_MEMORY."""


class FileError(Error, OSError):
    """The output file could not be created, written or renamed (ENS_ERR_IO)."""


class BackendError(Error):
    """A device or runtime call failed (ENS_ERR_BACKEND)."""


class StoppedError(Error):
    """The run was stopped (ENS_ERR_INTERRUPTED) other than by Ctrl-C."""


class InternalError(Error):
    """ENS_ERR_INTERNAL."""


_BY_STATUS = {
    _lib.ERR_INVALID_ARGUMENT: ArgumentError,
    _lib.ERR_UNKNOWN_NAME: UnknownNameError,
    _lib.ERR_BACKEND_UNAVAILABLE: BackendUnavailableError,
    _lib.ERR_OUT_OF_MEMORY: OutOfMemoryError,
    _lib.ERR_IO: FileError,
    _lib.ERR_BACKEND: BackendError,
    _lib.ERR_INTERRUPTED: StoppedError,
    _lib.ERR_INTERNAL: InternalError,
}

# The library's messages about one setting start "name = value: " or
# "name: " (the CLI drops it the same way, naming its option instead).
_SETTING = re.compile(r"^([a-z_]+)(?: = [^:]*)?: ")


def setting_of(message):
    """The library setting a message is about ("save_every"), or None."""
    m = _SETTING.match(message)
    return m.group(1) if m else None


def reason_of(message):
    """The message without its leading "name = value: "."""
    m = _SETTING.match(message)
    return message[m.end():] if m else message


def error_for(status, message, argument=None, value=None):
    """The exception for a failed call; with `argument`, named as the
    keyword argument and value the caller gave."""
    cls = _BY_STATUS.get(status, Error)
    if argument is not None:
        message = f"{argument}={value!r}: {reason_of(message)}"
    return cls(message, status)
