"""A progress line on stderr for long runs: "Linting 120/412 files…", rewritten in place and erased
at the end (as pytest and ruff do). Only on a terminal and only once a run has taken ``DELAY``
seconds, so short runs, pipes, CI logs and machine-readable output never see it."""

from __future__ import annotations

import sys
import time
from typing import TextIO

DELAY = 1.0  # seconds before the line appears
INTERVAL = 0.1  # seconds between redraws


class Progress:
    def __init__(self, stream: TextIO | None = None, *, delay: float | None = None, interval: float | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.enabled = bool(self.stream.isatty())
        except (AttributeError, ValueError):  # closed or unusual streams
            self.enabled = False
        self.delay = DELAY if delay is None else delay  # read at call time: tests set DELAY in a subprocess
        self.interval = INTERVAL if interval is None else interval
        self.start = time.monotonic()
        self._last = float("-inf")
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or (now - self._last < self.interval and done < total):
            return
        self._last = now
        line = f"Linting {done}/{total} files\u2026"
        self._write("\r" + line + " " * max(0, self._width - len(line)))
        self._width = len(line)

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError, UnicodeEncodeError):
            self.enabled = False
