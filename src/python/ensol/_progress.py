# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""The progress bar of ensol.run: tqdm where installed (tqdm.auto: a
widget in Jupyter), else a line on a terminal's stderr, else nothing."""
import sys

_DELAY = 1.0  # seconds before a bar appears (progress=None)


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
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=100, unit="%", desc="ensol", leave=False,
                                bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                                           "[{elapsed}<{remaining}]")
            except ImportError:
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

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.plain and self.last >= 0:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
