"""Brute-force enumeration of every tree of a tiny grammar (the exact engine's referee).

Independent of the library's sampler and exact engine: plain numpy over all P_max trees,
each of probability 1/P_max (uniform grammars) or root prior times the product of its rule
weights (weighted grammars, :func:`enumerate_trees_weighted`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rhm_theory.model import Grammar


def enumerate_trees(grammar: Grammar) -> tuple[list[npt.NDArray[np.int64]], float]:
    """All trees: ``levels[l]`` of shape (P_max, s**(L-l)) for l = 0..L, and 1/P_max."""
    p = grammar.params
    n_trees = p.P_max
    assert n_trees <= 2_000_000, "enumeration is for tiny grammars only"
    code = np.arange(n_trees, dtype=np.int64)
    levels: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)] * (p.L + 1)
    levels[p.L] = (code % p.n_c)[:, None]
    code //= p.n_c
    for level in range(p.L, 0, -1):
        parents = levels[level]
        width = parents.shape[1]
        choice = np.empty_like(parents)
        for k in range(width):
            choice[:, k] = code % p.m
            code //= p.m
        kids = grammar.rules_of(level)[parents, choice]  # (P, width, s)
        levels[level - 1] = kids.reshape(n_trees, width * p.s)
    return levels, 1.0 / n_trees


def enumerate_trees_weighted(
    grammar: Grammar,
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.float64]]:
    """All trees and the probability of each: root prior times its rules' weights."""
    p = grammar.params
    levels, _ = enumerate_trees(grammar)
    prob = grammar.root_probs[levels[p.L][:, 0]].copy()
    for level in range(p.L, 0, -1):
        parents = levels[level]
        kids = levels[level - 1].reshape(parents.shape[0], parents.shape[1], p.s)
        table = grammar.rules_of(level)  # (V, m, s)
        # Recover each node's rule index from its children (distinct within a parent).
        match = (table[parents] == kids[:, :, None, :]).all(axis=-1)  # (P, width, m)
        assert (match.sum(axis=-1) == 1).all()
        rule = match.argmax(axis=-1)
        prob *= grammar.rule_probs_of(level)[parents, rule].prod(axis=1)
    return levels, prob


def brute_context_laws(
    grammar: Grammar, level: int, kind: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Pooled ``joint[j, k, a, c]`` and ``weights[j, a]`` by direct counting over all trees."""
    p = grammar.params
    s = p.s
    levels, w = enumerate_trees_weighted(grammar)
    V = p.vocab(level)
    if kind == "latent":
        per_sib, n_ctx = s, p.v
    elif kind == "token":
        per_sib, n_ctx = s**level, p.v
    else:
        per_sib, n_ctx = 1, p.n_c
    n_blocks = 1 if kind == "label" else (s - 1) * per_sib
    joint = np.zeros((s, n_blocks, V, n_ctx))
    weights = np.zeros((s, V))
    for k in range(p.nodes_at_level(level)):
        j = k % s
        a = levels[level][:, k]
        np.add.at(weights[j], a, w)
        if kind == "label":
            np.add.at(joint[j, 0], (a, levels[p.L][:, 0]), w)
            continue
        sibs = [s * (k // s) + jp for jp in range(s) if jp != j]
        for slot, u2 in enumerate(sibs):
            for r in range(per_sib):
                if kind == "latent":
                    c = levels[level - 1][:, s * u2 + r]
                else:
                    c = levels[0][:, u2 * s**level + r]
                np.add.at(joint[j, slot * per_sib + r], (a, c), w)
    return joint, weights
