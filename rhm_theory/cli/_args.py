"""Shared argparse value types of the CLI: integers with a lower bound."""

from __future__ import annotations

import argparse

__all__ = ["non_negative_int", "positive_int"]


def _at_least(text: str, minimum: int) -> int:
    value = int(text)
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
    """Parse an integer ``>= 1`` (string counts, chunk sizes).

    >>> positive_int("3")
    3
    """
    return _at_least(text, 1)
