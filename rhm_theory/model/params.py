"""Validated, immutable parameters of a Random Hierarchy Model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.validation import check_int

__all__ = ["RHMParams", "symbol_dtype", "unknown_symbol"]

#: Largest tuple code space ``v**s`` we accept: tuple codes are int64 in the kernels.
_MAX_TUPLE_CODES = 2**62


def symbol_dtype(n_symbols: int) -> np.dtype[Any]:
    """Smallest unsigned integer dtype holding ``n_symbols`` symbols plus one marker.

    The largest value of the dtype is reserved as the *unknown / ungrammatical* marker,
    so ``n_symbols <= iinfo(dtype).max``.

    >>> symbol_dtype(8)
    dtype('uint8')
    >>> symbol_dtype(255), symbol_dtype(256)
    (dtype('uint8'), dtype('uint16'))
    """
    for dt in (np.uint8, np.uint16, np.uint32):
        if n_symbols <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(
        f"n_symbols={n_symbols} exceeds what uint32 can hold with one reserved marker "
        f"(n_symbols <= {np.iinfo(np.uint32).max})"
    )


def unknown_symbol(dtype: npt.DTypeLike) -> int:
    """The reserved *unknown-symbol* marker of an unsigned symbol dtype: its largest value.

    One of the library's two markers, never mixed (see also
    :data:`rhm_theory.empirical.counts.UNKNOWN_CLUSTER`): stored symbols of any level (tokens,
    latents, parses, posterior draws) live in an unsigned dtype, so a symbol that is
    ungrammatical, masked or not determined holds that dtype's largest value, which
    :func:`symbol_dtype` keeps free (:attr:`RHMParams.unknown` for a grammar's dtype).

    Parameters
    ----------
    dtype : dtype_like
        An unsigned integer dtype.

    Returns
    -------
    int

    Examples
    --------
    >>> unknown_symbol(np.uint8), unknown_symbol(np.uint16)
    (255, 65535)
    """
    return int(np.iinfo(np.dtype(dtype)).max)


@dataclass(frozen=True, init=False)
class RHMParams:
    """Parameters ``(v, m, s, L, n_c)`` of a Random Hierarchy Model.

    Levels are numbered from the leaves: level 0 holds the ``s**L`` visible tokens, level
    ``L`` the root. Every non-root level has vocabulary ``v``; the root has ``n_c`` symbols.
    Each symbol owns ``m`` distinct s-tuples of lower-level symbols (its production rules, or
    *synonyms*), and no tuple belongs to two symbols (unambiguity), hence
    ``m <= v**(s-1)`` and ``n_c * m <= v**s``.

    Parameters
    ----------
    v : int
        Vocabulary size of every non-root level, ``v >= 2``.
    m : int
        Number of production rules per symbol, ``1 <= m <= v**(s-1)``.
    s : int
        Branching factor, ``s >= 2``.
    L : int
        Depth, ``L >= 1``.
    n_c : int, optional
        Number of root symbols (classes); defaults to ``v``. ``n_c * m <= v**s``.

    Examples
    --------
    >>> p = RHMParams(v=8, m=2, s=2, L=3)
    >>> p.n_c, p.f, p.string_length, p.nodes_at_level(1)
    (8, 0.25, 8, 4)
    >>> p.P_max  # 8 * 2**7: one rule choice per internal node
    1024
    """

    v: int
    m: int
    s: int
    L: int
    n_c: int

    def __init__(self, v: int, m: int, s: int, L: int, n_c: int | None = None) -> None:
        v = check_int("v", v, minimum=2)
        m = check_int("m", m, minimum=1)
        s = check_int("s", s, minimum=2)
        L = check_int("L", L, minimum=1)
        n_c = check_int("n_c", v if n_c is None else n_c, minimum=1)
        if v**s >= _MAX_TUPLE_CODES:
            raise ValueError(
                f"v**s must be < 2**62 so that tuple codes fit int64, got v={v}, s={s} "
                f"(v**s = {v**s})"
            )
        if m > v ** (s - 1):
            raise ValueError(
                f"m must satisfy m <= v**(s-1) (unambiguous rules: v*m tuples among v**s), "
                f"got m={m}, v={v}, s={s} (v**(s-1) = {v ** (s - 1)})"
            )
        if n_c * m > v**s:
            raise ValueError(
                f"n_c must satisfy n_c*m <= v**s (unambiguous root rules), got n_c={n_c}, "
                f"m={m}, v={v}, s={s} (n_c*m = {n_c * m} > v**s = {v**s})"
            )
        if s**L >= 2**40:
            raise ValueError(
                f"string length s**L must be < 2**40 to be addressable, got s={s}, L={L}"
            )
        symbol_dtype(max(v, n_c))  # raises if no supported dtype holds the symbols
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "m", m)
        object.__setattr__(self, "s", s)
        object.__setattr__(self, "L", L)
        object.__setattr__(self, "n_c", n_c)

    # -- derived quantities -------------------------------------------------------------
    @property
    def f(self) -> float:
        """Fraction ``m / v**(s-1)`` of the ``v**s`` tuples that are grammatical."""
        return float(self.m / self.v ** (self.s - 1))

    @property
    def string_length(self) -> int:
        """Number of visible tokens, ``s**L``."""
        return int(self.s**self.L)

    @property
    def n_internal_nodes(self) -> int:
        """Number of internal (non-leaf) nodes, ``(s**L - 1) / (s - 1)``."""
        return int((self.s**self.L - 1) // (self.s - 1))

    @property
    def P_max(self) -> int:
        """Number of distinct data, ``n_c * m**((s**L-1)/(s-1))``, as an exact Python int."""
        return int(self.n_c * self.m**self.n_internal_nodes)

    @property
    def log_P_max(self) -> float:
        """Natural log of :attr:`P_max`, computed without forming the integer."""
        return math.log(self.n_c) + self.n_internal_nodes * math.log(self.m)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Smallest unsigned dtype holding every symbol of every level plus the marker."""
        return symbol_dtype(max(self.v, self.n_c))

    @property
    def unknown(self) -> int:
        """The unknown-symbol marker of :attr:`dtype` (its largest value; :func:`unknown_symbol`).

        Marks ungrammatical, masked or undetermined stored symbols; never a real symbol.
        """
        return unknown_symbol(self.dtype)

    def nodes_at_level(self, level: int) -> int:
        """Number of nodes ``s**(L - level)`` at ``level`` (0 = tokens, L = root)."""
        self.check_level(level, 0, self.L)
        return int(self.s ** (self.L - level))

    def vocab(self, level: int) -> int:
        """Vocabulary size of ``level``: ``n_c`` at the root, ``v`` elsewhere."""
        self.check_level(level, 0, self.L)
        return self.n_c if level == self.L else self.v

    def n_rules(self, level: int) -> int:
        """Number of production rules at ``level`` (1..L): ``vocab(level) * m``."""
        self.check_level(level, 1, self.L)
        return self.vocab(level) * self.m

    def check_level(self, level: int, lo: int, hi: int, name: str = "level") -> int:
        """Validate ``lo <= level <= hi`` and return it as an int."""
        return check_int(name, level, minimum=lo, maximum=hi)

    def to_dict(self) -> dict[str, int]:
        """Plain dict ``{v, m, s, L, n_c}``."""
        return {"v": self.v, "m": self.m, "s": self.s, "L": self.L, "n_c": self.n_c}
