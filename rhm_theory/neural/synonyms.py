"""Synonym-swap transformation ``P_l`` of RHM strings (numpy only, no torch needed)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar, tuple_codes
from rhm_theory.model.sampling import Sample

__all__ = ["rule_indices", "synonym_swap"]

IntArray = npt.NDArray[np.int64]


def _levels(grammar: Grammar, data: Sample) -> list[IntArray]:
    p = grammar.params
    if data.levels is None:
        raise ValueError("the sample must hold its latents: sample(..., latents=True)")
    if data.tokens.shape[1] != p.string_length or len(data.levels) != p.L:
        raise ValueError(
            f"sample shape does not match the grammar (s**L = {p.string_length}, L = {p.L})"
        )
    return [np.asarray(data.level(k), dtype=np.int64) for k in range(p.L + 1)]


def rule_indices(grammar: Grammar, data: Sample) -> tuple[IntArray, ...]:
    """Index of the production rule used at every internal node of every string.

    Parameters
    ----------
    grammar : Grammar
    data : Sample
        Strings of ``grammar`` with their latents.

    Returns
    -------
    tuple of ndarray
        ``out[l-1]`` (``l = 1..L``) of shape ``(P, s**(L-l))``: the ``r`` such that
        ``grammar.rules_of(l)[a, r]`` is the children tuple of the node, ``a`` its symbol.

    Raises
    ------
    ValueError
        If a node's children tuple is not one of its symbol's rules.
    """
    p = grammar.params
    syms = _levels(grammar, data)
    out = []
    for level in range(1, p.L + 1):
        table = grammar.rules_of(level)
        flat_codes = tuple_codes(table.reshape(-1, p.s), p.v)  # position a*m + r
        order = np.argsort(flat_codes)
        sorted_codes = flat_codes[order]
        n_nodes = syms[level].shape[1]
        children = syms[level - 1].reshape(-1, n_nodes, p.s)
        codes = tuple_codes(children, p.v)
        pos = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
        flat = order[pos]
        ok = (sorted_codes[pos] == codes) & (flat // p.m == syms[level])
        if not np.all(ok):
            raise ValueError(f"the sample is not a parse of the grammar at level {level}")
        out.append((flat % p.m).astype(np.int64))
    return tuple(out)


def synonym_swap(
    grammar: Grammar,
    data: Sample,
    level: int,
    seed: int | np.random.Generator,
    *,
    resample_below: bool = False,
) -> Sample:
    """Apply the synonym swap ``P_level`` to every string of ``data``.

    Every level-``level`` node keeps its symbol but switches to a uniformly random
    *different* production rule of that symbol (one of its ``m - 1`` synonyms; with
    ``m = 1`` nothing changes), i.e. every level-``level`` tuple (the level-``(level-1)``
    children of each level-``level`` node) is replaced by a synonym. The subtrees below are
    regenerated consistently: by default every lower node keeps its rule *index* (applied to
    its possibly new symbol), so only what the swap forces changes; ``resample_below``
    draws fresh uniform rules for every lower node instead. The result is grammatical and
    has the same latents at levels ``>= level``.

    Parameters
    ----------
    grammar : Grammar
    data : Sample
        Strings with latents (``sample(..., latents=True)``).
    level : int
        Level ``1..L`` whose tuples are swapped.
    seed : int or numpy.random.Generator
        Randomness of the swap.
    resample_below : bool
        Redraw the rules of every node below ``level - 1`` instead of keeping their indices.

    Returns
    -------
    Sample
        The transformed strings, with their (new) latents.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> from rhm_theory.model.sampling import sample
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> x = sample(g, 4, seed=1, latents=True)
    >>> y = synonym_swap(g, x, level=2, seed=0)
    >>> bool((y.level(2) == x.level(2)).all()), bool((y.level(1) != x.level(1)).any())
    (True, True)
    """
    p = grammar.params
    level = p.check_level(level, 1, p.L)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    syms = _levels(grammar, data)
    rules = list(rule_indices(grammar, data))
    if p.m > 1:
        shift = rng.integers(1, p.m, size=rules[level - 1].shape)
        rules[level - 1] = (rules[level - 1] + shift) % p.m
    for k in range(level, 0, -1):
        table = grammar.rules_of(k)
        children = table[syms[k], rules[k - 1]]  # (P, n_k, s)
        syms[k - 1] = children.reshape(children.shape[0], -1)
        if resample_below and k >= 2:
            rules[k - 2] = rng.integers(0, p.m, size=rules[k - 2].shape)
    dtype = data.tokens.dtype
    return Sample(
        tokens=np.ascontiguousarray(syms[0].astype(dtype)),
        levels=tuple(np.ascontiguousarray(a.astype(dtype)) for a in syms[1:]),
    )
