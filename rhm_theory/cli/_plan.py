"""What a command is about to do, before it starts: its estimate, and a refusal over the limit."""

from __future__ import annotations

import argparse
import sys

from rhm_theory.cost import LIMIT_BYTES, LIMIT_SECONDS
from rhm_theory.progress import Progress, format_bytes, format_seconds, refusal

__all__ = ["add_force", "announce", "phase"]


def add_force(parser: argparse.ArgumentParser) -> None:
    """Give a command ``--force``: run even when the estimate exceeds the limit."""
    parser.add_argument("--force", action="store_true",
                        help=f"run even if the estimate exceeds {format_seconds(LIMIT_SECONDS)} "
                        f"or the output {format_bytes(LIMIT_BYTES)} (refused otherwise)")


def announce(args: argparse.Namespace, plan: str, seconds: float, what: str,
             nbytes: float | None = None) -> None:
    """Print ``plan`` and its estimate on stderr (unless ``--quiet``/``--json``), or refuse.

    ``seconds`` is the cost model's estimate (:mod:`rhm_theory.cost`), ``nbytes`` the size
    of the file the command writes; over :data:`~rhm_theory.cost.LIMIT_SECONDS` or
    :data:`~rhm_theory.cost.LIMIT_BYTES` without ``--force`` this raises ``ValueError``
    naming ``what`` (the option at fault), the estimate and the flag, before any work.
    """
    force = getattr(args, "force", False)
    if seconds > LIMIT_SECONDS and not force:
        raise ValueError(f"{refusal(what, seconds, LIMIT_SECONDS)} ({plan})")
    if nbytes is not None and nbytes > LIMIT_BYTES and not force:
        raise ValueError(f"refused: {what} would write about {format_bytes(nbytes)}, over the "
                         f"limit of {format_bytes(LIMIT_BYTES)}; pass --force to write it "
                         f"anyway ({plan})")
    if not (getattr(args, "quiet", False) or getattr(args, "json", False)):
        about = "under a second" if seconds < 1 else f"about {format_seconds(seconds)}"
        print(f"{plan}: {about} by the cost model",
              file=sys.stderr, flush=True)


def phase(args: argparse.Namespace, desc: str, seconds: float | None = None) -> Progress:
    """A progress line of one phase of unknown length (elapsed time and the estimate left),
    off with ``--quiet`` or ``--json``; use it as a context manager."""
    on = not (getattr(args, "quiet", False) or getattr(args, "json", False))
    return Progress(None, on, desc=desc, expected_seconds=seconds, show_start=False)
