"""Bottom-up parsing of RHM strings into their latent levels (unambiguous rule look-up)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import AMBIGUOUS, Grammar, tuple_codes
from rhm_theory.validation import check_array, check_choice

__all__ = ["ON_AMBIGUOUS", "is_grammatical", "parse", "validate_tokens"]

#: Rows parsed per block: bounds the int64 temporaries to a few MB whatever ``P``.
_BLOCK_ELEMENTS = 2**21


def validate_tokens(grammar: Grammar, tokens: npt.ArrayLike) -> npt.NDArray[Any]:
    """Check that ``tokens`` are level-0 strings of ``grammar`` and return them as an array.

    Parameters
    ----------
    grammar : Grammar
        The grammar whose strings these are.
    tokens : array_like of int, shape (P, s**L) or (s**L,)
        Symbols in ``[0, v)``; the unknown marker ``params.unknown`` is allowed (a masked or
        unknown token).

    Returns
    -------
    ndarray
        ``tokens`` as an integer array (no copy when it already is one).

    Raises
    ------
    TypeError
        If ``grammar`` is not a Grammar.
    ValueError
        If ``tokens`` has the wrong rank or length, a non-integer dtype, or a symbol
        outside ``[0, v)`` other than the unknown marker.
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    arr = np.asarray(tokens)
    if arr.ndim not in (1, 2) or arr.shape[-1] != p.string_length:
        raise ValueError(
            f"tokens must have shape (P, s**L) or (s**L,) with s**L = {p.string_length}, "
            f"got shape {arr.shape}"
        )
    check_array("tokens", arr, kinds="iu")
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= p.v:
            bad = (arr < 0) | ((arr >= p.v) & (arr != p.unknown))
            if bad.any():
                first = int(arr[np.unravel_index(int(np.argmax(bad)), arr.shape)])
                raise ValueError(
                    f"tokens must hold symbols in [0, v) = [0, {p.v}) or the unknown marker "
                    f"{p.unknown}, found {first}"
                )
    return arr


#: What :func:`parse` does with a tuple that several parents produce (ambiguous grammars).
ON_AMBIGUOUS = ("raise", "unknown")


def _parse_block(
    grammar: Grammar, block: npt.NDArray[Any], on_ambiguous: str
) -> list[npt.NDArray[Any]]:
    p = grammar.params
    out = []
    cur = block.astype(np.int64)
    for level in range(1, p.L + 1):
        tuples = cur.reshape(cur.shape[0], -1, p.s)
        # Children outside [0, v) (the unknown marker) make the tuple unknown, which then
        # propagates up the whole path.
        valid = np.all(tuples < p.v, axis=-1)
        codes = tuple_codes(np.where(valid[..., None], tuples, 0), p.v)
        par = grammar.parent_codes(level, codes)
        if on_ambiguous == "raise" and np.any(valid & (par == AMBIGUOUS)):
            row, k = (int(x) for x in np.argwhere(valid & (par == AMBIGUOUS))[0])
            raise ValueError(
                f"tuple {tuple(int(x) for x in tuples[row, k])} at level {level - 1} has several "
                f"parents (ambiguous grammar): no unique parse; pass on_ambiguous='unknown' "
                f"to mark such nodes unknown, or use belief propagation for the posterior"
            )
        cur = np.where(valid & (par >= 0), par, p.unknown)
        out.append(cur.astype(p.dtype))
    return out


def parse(
    grammar: Grammar, tokens: npt.ArrayLike, *, on_ambiguous: str = "raise"
) -> tuple[npt.NDArray[Any], ...]:
    """Recover every latent level of strings by bottom-up rule look-up.

    In an unambiguous grammar a grammatical tuple has exactly one parent. A tuple that
    is ungrammatical or holds an unknown child gets ``params.unknown``, and so does every
    ancestor of it. In an ambiguous grammar (docs/theory.md section 9) a tuple with several
    parents has no unique parse: by default that raises; ``on_ambiguous="unknown"`` marks
    the node (and its ancestors) unknown instead. The posterior over such latents is what
    belief propagation computes; parsing never guesses.

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    tokens : array_like of int, shape (P, s**L) or (s**L,)
        Level-0 strings (see :func:`validate_tokens`).
    on_ambiguous : {"raise", "unknown"}, default "raise"
        What to do with a tuple that several parents produce.

    Returns
    -------
    tuple of ndarray
        ``L`` arrays, level 1 first: level ``l`` has shape ``(P, s**(L-l))`` (or
        ``(s**(L-l),)`` for a single string) in ``params.dtype``; the last is the root.

    Raises
    ------
    ValueError
        If ``tokens`` is not a valid token array (see :func:`validate_tokens`), or a tuple
        has several parents and ``on_ambiguous="raise"``.

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=2, n_c=2),
    ...             [[[[0, 1]], [[1, 1]]], [[[0, 1]], [[1, 0]]]])
    >>> [lvl.tolist() for lvl in parse(g, [0, 1, 1, 1])]
    [[0, 1], [0]]
    >>> [lvl.tolist() for lvl in parse(g, [1, 0, 1, 1])]  # (1, 0) is ungrammatical
    [[255, 1], [255]]
    >>> amb = Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2), [[[[0, 1]], [[0, 1]]]],
    ...               allow_ambiguous=True)
    >>> [lvl.tolist() for lvl in parse(amb, [0, 1], on_ambiguous="unknown")]
    [[255]]
    """
    on_ambiguous = check_choice("on_ambiguous", on_ambiguous, ON_AMBIGUOUS)
    arr = validate_tokens(grammar, tokens)
    p = grammar.params
    single = arr.ndim == 1
    rows = arr.reshape(1, -1) if single else arr
    n = rows.shape[0]
    levels = [np.empty((n, p.nodes_at_level(lv)), dtype=p.dtype) for lv in range(1, p.L + 1)]
    block = max(1, _BLOCK_ELEMENTS // p.string_length)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        for dst, src in zip(levels, _parse_block(grammar, rows[lo:hi], on_ambiguous), strict=True):
            dst[lo:hi] = src
    if single:
        return tuple(lvl[0] for lvl in levels)
    return tuple(levels)


def is_grammatical(grammar: Grammar, tokens: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each string is generated by ``grammar`` (its root parses to a real symbol).

    Unambiguous grammars only: in an ambiguous grammar a string can be generated along a
    path that bottom-up look-up cannot follow, so this raises there.

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    tokens : array_like of int, shape (P, s**L) or (s**L,)
        Level-0 strings (see :func:`validate_tokens`).

    Returns
    -------
    ndarray of bool
        Shape ``(P,)``, or a 0-d array for a single string.

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2), [[[[0, 1]], [[1, 1]]]])
    >>> is_grammatical(g, [[0, 1], [1, 0], [1, 1]]).tolist()
    [True, False, True]
    """
    if grammar.is_ambiguous:
        raise ValueError("is_grammatical needs an unambiguous grammar (several parses)")
    root = parse(grammar, tokens)[-1]
    unknown = grammar.params.unknown
    return np.asarray(root != unknown).reshape(root.shape[:-1])
