"""A one-line progress bar on standard error for long runs (many files or patches).

Flow position: command line, around the engine.  Shown only when standard error is a terminal,
the output is the text voice (never JSON, SARIF or any other machine format), and there are at
least `MIN_ITEMS` things to do; otherwise `progress_for` returns None and nothing is written.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

MIN_ITEMS = 8  # files or patches; below this a run is short enough not to need a bar
HUMAN_FORMATS = ("text",)


class Progress:
    """Redraws `label [#####.....] done/total name` in place, at most ~20 times a second."""

    def __init__(self, total: int, label: str, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream
        self.done = 0
        self._last = 0.0
        self._width = 0

    def __call__(self, name: str = "") -> None:
        """One more item is about to start (`name` is shown beside the bar)."""
        now = time.monotonic()
        if self.done and now - self._last < 0.05 and self.done < self.total:
            self.done += 1
            return
        self._last = now
        self._draw(name)
        self.done += 1

    def _draw(self, name: str) -> None:
        try:
            cols = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError):
            cols = 80
        bar_w = 24
        filled = bar_w * self.done // self.total
        head = f"{self.label} [{'#' * filled}{'.' * (bar_w - filled)}] {self.done}/{self.total} "
        room = max(cols - len(head) - 1, 0)
        if len(name) > room:
            name = "..." + name[-(room - 3):] if room > 3 else ""
        line = head + name
        self.stream.write("\r" + line + " " * max(self._width - len(line), 0))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Erase the bar so what follows starts on a clean line."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def progress_for(args, total: int, label: str, stream: TextIO | None = None) -> Progress | None:
    stream = stream if stream is not None else sys.stderr
    if total < MIN_ITEMS or getattr(args, "format", "text") not in HUMAN_FORMATS:
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return Progress(total, label, stream)
