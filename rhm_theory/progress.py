"""Progress on stderr (done/total, elapsed, estimated remaining) and plans: no dependency."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

__all__ = ["LOG_INTERVAL", "Progress", "format_bytes", "format_count", "format_seconds",
           "refusal"]

#: Seconds between two progress lines when the stream is not a terminal (a log file): a
#: run that writes its stderr to a file shows a line at least this often.
LOG_INTERVAL = 20.0

#: Seconds between two redraws of the live line on a terminal.
_TTY_INTERVAL = 0.5


def format_seconds(seconds: float) -> str:
    """Short human form of a duration.

    >>> format_seconds(5.2), format_seconds(125), format_seconds(3725)
    ('5 s', '2 min 05 s', '1 h 02 min')
    >>> format_seconds(3 * 86400 + 7200)
    '74 h 00 min'
    """
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def format_count(n: float) -> str:
    """A large count in a few digits: ``1.0e+11`` from a billion on, else with separators.

    >>> format_count(65536), format_count(100_000_000_000)
    ('65,536', '1.0e+11')
    """
    return f"{n:,.0f}" if n < 1e9 else f"{n:.1e}"


def format_bytes(n: float) -> str:
    """A size in bytes with a binary unit.

    >>> format_bytes(512), format_bytes(3 * 2**20), format_bytes(1.5 * 2**40)
    ('512 B', '3.0 MiB', '1.5 TiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def refusal(what: str, seconds: float, limit: float, flag: str = "--force") -> str:
    """The one-line message of a refused input: the estimate, the limit and how to force it.

    >>> print(refusal("--P 100000000000", 1.04e4, 600))  # doctest: +NORMALIZE_WHITESPACE
    refused: --P 100000000000 would take about 2 h 53 min (estimate), over the limit of
    10 min 00 s; pass --force to run it anyway
    """
    return (f"refused: {what} would take about {format_seconds(seconds)} (estimate), over "
            f"the limit of {format_seconds(limit)}; pass {flag} to run it anyway")


class Progress:
    """Progress of ``total`` units of work (or of one phase, ``total=None``) on ``stream``.

    The library's own progress line rather than tqdm, so that progress needs no extra
    dependency: ``sweep: 12/40 cells, 1 min 05 s elapsed, about 2 min 31 s left``. On a
    terminal the line is rewritten in place (at most twice a second); otherwise (stderr
    sent to a file or a pipe) a new line is printed at the start, then every
    :data:`LOG_INTERVAL` seconds, and at the end. A background thread (``heartbeat``)
    redraws the line while no unit finishes, so a long cell or an evaluation phase without
    units still shows its elapsed time. Disabled, it does nothing.

    Parameters
    ----------
    total : int or None
        Units of work (cells, curves, ...); ``None``: one phase of unknown length (the line
        shows only the elapsed time).
    enabled : bool
        Print anything at all (the CLI enables it unless ``--quiet``, ``--json`` or
        ``--no-progress`` is given).
    desc, unit : str
        Label and plural unit name.
    stream : text file, optional
        Where to print (default: ``sys.stderr`` at call time).
    expected_seconds : float, optional
        The cost model's estimate: shown as the time left until a unit has finished.
    clock : callable, optional
        Seconds of a monotonic clock (default :func:`time.monotonic`; tests pass a fake).
    interval : float
        Seconds between two lines when ``stream`` is not a terminal.
    heartbeat : bool
        Redraw from a background thread while the work is silent (default ``True``).
    show_start : bool
        Print a line at once (default); ``False``: the first line comes after ``interval``
        seconds, so a phase that ends sooner prints nothing.
    total_weight : float, optional
        The units' summed weight (their estimated seconds): the time left is then
        extrapolated from the weight done (``update(weight=...)``), not from the count, so
        that a sweep which starts with its costliest cells does not announce days.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> with Progress(2, True, stream=buf, heartbeat=False) as bar:
    ...     bar.update(); bar.update()
    >>> buf.getvalue().splitlines()[-1].startswith("sweep: 2/2 cells")
    True
    """

    def __init__(self, total: int | None, enabled: bool, *, desc: str = "sweep",
                 unit: str = "cells", stream: TextIO | None = None,
                 expected_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 interval: float = LOG_INTERVAL, heartbeat: bool = True,
                 show_start: bool = True, total_weight: float | None = None) -> None:
        self.total, self.done = total, 0
        self.total_weight, self.done_weight = total_weight, 0.0
        self.enabled = enabled and (total is None or total > 0)
        self.desc, self.unit = desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.expected_seconds = expected_seconds
        self.clock = clock
        self.interval = _TTY_INTERVAL if self.tty else interval
        self.t0 = clock()
        self._last = self.t0
        self._width = 0
        self._shown = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.enabled:
            if show_start:
                self._show()
            if heartbeat:
                self._thread = threading.Thread(target=self._beat, name="rhm-progress",
                                                daemon=True)
                self._thread.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _line(self) -> str:
        elapsed = self.clock() - self.t0
        if self.total is None:
            text = f"{self.desc}: {format_seconds(elapsed)} elapsed"
        else:
            text = (f"{self.desc}: {self.done}/{self.total} {self.unit}, "
                    f"{format_seconds(elapsed)} elapsed")
        if self.total is not None and 0 < self.done < self.total:
            if self.total_weight and self.done_weight > 0:
                left = elapsed / self.done_weight * max(0.0, self.total_weight
                                                        - self.done_weight)
            else:
                left = elapsed / self.done * (self.total - self.done)
            text += f", about {format_seconds(left)} left"
        elif self.done == 0 and self.expected_seconds is not None:
            left = self.expected_seconds - elapsed
            text += (f", about {format_seconds(left)} left (estimate)" if left > 0
                     else f", estimate {format_seconds(self.expected_seconds)} passed")
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
        self._last = self.clock()
        self._shown = self.done

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.interval)):
            self.poll()

    def poll(self) -> None:
        """Redraw the line if ``interval`` seconds passed since the last one."""
        with self._lock:
            if self.enabled and self.clock() - self._last >= self.interval:
                self._show()

    def update(self, n: int = 1, weight: float = 0.0) -> None:
        """Count ``n`` more units done, of summed ``weight`` (and redraw when due or
        finished)."""
        with self._lock:
            self.done += n
            self.done_weight += weight
            if not self.enabled:
                return
            finished = self.total is not None and self.done >= self.total
            if finished or self.clock() - self._last >= self.interval:
                self._show()

    def close(self) -> None:
        """Stop the heartbeat and print the final line (on a terminal, end it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if not self.enabled:
                return
            if self.tty and self._shown >= 0:
                self._show()
                self.stream.write("\n")
                self.stream.flush()
            elif self._shown >= 0 if self.total is None else self._shown != self.done:
                self._show()
            self.enabled = False
