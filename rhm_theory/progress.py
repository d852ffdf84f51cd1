"""One-line progress on stderr (done/total, elapsed, estimated remaining): no dependency."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """Short human form of a duration.

    >>> format_seconds(5.2), format_seconds(125), format_seconds(3725)
    ('5 s', '2 min 05 s', '1 h 02 min')
    """
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class Progress:
    """Progress of ``total`` units of work, one line on ``stream`` (stderr by default).

    The library's own progress line rather than tqdm, so that progress needs no extra
    dependency: ``sweep: 12/40 cells, 1 min 05 s elapsed, about 2 min 31 s left``. On a
    terminal the line is rewritten in place (at most twice a second); otherwise (a log
    file) a new line is printed every tenth of the work. Disabled, it does nothing.

    Parameters
    ----------
    total : int
        Units of work (cells, curves, ...).
    enabled : bool
        Print anything at all (the CLI enables it when stderr is a terminal and neither
        ``--quiet`` nor ``--json`` is given).
    desc, unit : str
        Label and plural unit name.
    stream : text file, optional
        Where to print (default: ``sys.stderr`` at call time).

    >>> import io
    >>> buf = io.StringIO()
    >>> bar = Progress(2, True, stream=buf)
    >>> bar.update(); bar.update(); bar.close()
    >>> buf.getvalue().splitlines()[-1].startswith("sweep: 2/2 cells")
    True
    """

    def __init__(self, total: int, enabled: bool, *, desc: str = "sweep", unit: str = "cells",
                 stream: TextIO | None = None) -> None:
        self.total, self.done = total, 0
        self.enabled = enabled and total > 0
        self.desc, self.unit = desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._width = 0
        if self.enabled:
            self._show()

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.t0
        text = (f"{self.desc}: {self.done}/{self.total} {self.unit}, "
                f"{format_seconds(elapsed)} elapsed")
        if 0 < self.done < self.total:
            left = elapsed / self.done * (self.total - self.done)
            text += f", about {format_seconds(left)} left"
        return text

    def _show(self) -> None:
        line = self._line()
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._last = time.perf_counter()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done (and redraw when due)."""
        self.done += n
        if not self.enabled:
            return
        if self.tty:
            if self.done >= self.total or time.perf_counter() - self._last >= 0.5:
                self._show()
        elif self.done >= self.total or self.done % max(1, self.total // 10) == 0:
            self._show()

    def close(self) -> None:
        """End the line (on a terminal) so that later output starts on a fresh line."""
        if self.enabled and self.tty:
            self._show()
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False
