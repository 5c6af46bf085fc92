"""A dependency-free text progress bar for command-line runs of progress generators."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator


def drain(gen: Generator, report: Callable[[float, str], None] | None = None):
    """Run a progress generator (yielding (fraction, message)) to its end, passing progress to
    `report(fraction, message)` when given; returns the generator's return value."""
    while True:
        try:
            fraction, message = next(gen)
        except StopIteration as stop:
            return stop.value
        if report is not None:
            report(fraction, message)


def scaled(gen: Generator, lo: float, hi: float, label: str | None = None):
    """Re-yield a progress generator's fractions mapped into [lo, hi] (messages prefixed with
    `label: ` when given); returns the generator's return value. For one stage of a longer job."""
    while True:
        try:
            fraction, message = next(gen)
        except StopIteration as stop:
            return stop.value
        yield lo + (hi - lo) * fraction, f"{label}: {message}" if label else message


class TextProgress:
    """`report(fraction, message)` callable that redraws one line on a terminal (or prints sparsely when piped)."""

    def __init__(self, label: str, stream=None, width: int = 30, min_interval: float = 0.2) -> None:
        self.label, self.stream, self.width, self.min_interval = label, stream or sys.stderr, width, min_interval
        self.start = time.monotonic()
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < (self.min_interval if self._tty else 10.0):
            return
        self._last = now
        done = int(self.width * max(0.0, min(1.0, fraction)))
        elapsed = now - self.start
        eta = f"{elapsed / fraction - elapsed:5.0f}s" if fraction > 0 else "    ?s"  # unknown before any progress
        line = f"{self.label} [{'#' * done}{'.' * (self.width - done)}] {fraction:6.1%} {elapsed:6.0f}s eta {eta} {message}"
        self.stream.write(("\r" + line) if self._tty else line + "\n")
        if self._tty and fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()
