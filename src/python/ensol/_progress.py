# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The progress bar of ensol.run: tqdm where installed (tqdm.auto: a
widget in Jupyter, or tqdm's text bar where the widget cannot be shown),
else a line on a terminal's stderr, else nothing. A bar that fails is
turned off; it never stops the run."""
import sys

_DELAY = 1.0  # seconds before a bar appears (progress=None)


def _tqdm_bar():
    """tqdm.auto's bar; its text bar where the notebook widget fails (no
    ipywidgets, or one tqdm cannot use); None without tqdm."""
    try:
        import tqdm.auto
        import tqdm.std
    except ImportError:
        return None
    options = dict(total=100, unit="%", desc="ensol", leave=False,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
    try:
        return tqdm.auto.tqdm(**options)
    except Exception:
        return tqdm.std.tqdm(**options)


class ProgressBar:
    def __init__(self, progress):
        self.mode = progress
        self.bar = None
        self.plain = False
        self.last = -1

    def update(self, p):
        if self.mode is False:
            return
        if self.bar is None and not self.plain:
            if self.mode is None and p.elapsed_seconds < _DELAY:
                return
            self.bar = _tqdm_bar()
            if self.bar is None:
                self.plain = sys.stderr is not None and sys.stderr.isatty()
                if not self.plain:
                    self.mode = False
                    return
        percent = int(100 * p.fraction)
        if self.bar is not None:
            self.bar.n = min(100, 100 * p.fraction)
            self.bar.refresh()
        elif self.plain and percent != self.last:
            sys.stderr.write(f"\rensol: {percent:3d}% of {p.members_total} members, "
                             f"{p.elapsed_seconds:.1f} s")
            sys.stderr.flush()
        self.last = percent

    def turn_off(self):
        """After a failure of the bar itself: no more output from it."""
        self.mode = False
        self.bar = None

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.plain and self.last >= 0:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
