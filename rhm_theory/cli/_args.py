"""Shared argparse value types of the CLI: integers and floats with bounds.

A value out of range is an argparse error that names the option
(``argument --workers: must be >= 1, got 0``; exit status 2, no traceback).
"""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path

__all__ = ["DEFAULT_SEED", "add_seed", "check_output_dir", "check_output_file", "non_negative_int",
           "positive_int", "probability", "unit_interval"]

#: The default of every command's ``--seed`` (grammar, data or population seed).
DEFAULT_SEED = 0


def _at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """Parse an integer ``>= 0`` (seeds, counts that may be zero, limits).

    >>> non_negative_int("0")
    0
    """
    return _at_least(text, 0)


def positive_int(text: str) -> int:
    """Parse an integer ``>= 1`` (string counts, chunk sizes, workers).

    >>> positive_int("3")
    3
    """
    return _at_least(text, 1)


def add_seed(parser: argparse.ArgumentParser, what: str) -> None:
    """Give a command ``--seed`` (an integer >= 0, default :data:`DEFAULT_SEED` as for every
    command); ``what`` says which seed it is (``"data"``, ``"grammar"``, ...)."""
    parser.add_argument("--seed", type=non_negative_int, default=DEFAULT_SEED,
                        help=f"{what} seed (default {DEFAULT_SEED}, as for every command)")


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if value != value:  # NaN
        raise argparse.ArgumentTypeError("must be a number, got nan")
    return value


def probability(text: str) -> float:
    """Parse a number in ``(0, 1)`` (failure probabilities).

    >>> probability("0.1")
    0.1
    """
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must satisfy 0 < value < 1, got {value:g}")
    return value


def unit_interval(text: str) -> float:
    """Parse a number in ``[0, 1)`` (fractions, noise levels).

    >>> unit_interval("0")
    0.0
    """
    value = _float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must satisfy 0 <= value < 1, got {value:g}")
    return value


def _first_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_file(path: str, option: str = "--out") -> None:
    """Refuse an output file that cannot be written, before any work is done.

    Raises ``OSError`` naming ``option`` and the path: an existing directory, a folder
    that does not exist or is a file, a folder that is not writable.
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"{option} is a directory", path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        base = _first_existing(parent)
        if not base.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{option}: not a directory", str(base))
        raise FileNotFoundError(errno.ENOENT, f"{option}: no such folder", str(parent))
    if not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{option}: not a directory", str(parent))
    if not os.access(parent, os.W_OK):
        raise PermissionError(errno.EACCES, f"{option}: folder not writable", str(parent))


def check_output_dir(path: str, option: str = "--out") -> None:
    """Refuse an output folder that is a file or lies under one (``OSError`` naming both)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{option} is not a directory", path)
    base = _first_existing(p)
    if not base.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{option}: not a directory", str(base))
    if not os.access(base, os.W_OK):
        raise PermissionError(errno.EACCES, f"{option}: not writable", str(base))
