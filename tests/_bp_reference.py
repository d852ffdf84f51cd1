"""Brute-force referee for BP: enumerate every (symbol, rule) tree of a tiny, possibly weighted
or ambiguous grammar, and weight it by its prior probability times the leaf evidence.

Plain numpy, independent of the library's kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rhm_theory.model import Grammar, RHMParams

FloatArray = npt.NDArray[np.float64]


def explicit_grammar(
    params: RHMParams,
    rules: Sequence[npt.ArrayLike],
    rule_probs: Sequence[npt.ArrayLike] | None = None,
    root_probs: npt.ArrayLike | None = None,
) -> Grammar:
    """A grammar with explicit rule weights and root prior, ambiguity allowed."""
    return Grammar(params, rules, rule_probs=rule_probs, root_probs=root_probs,
                   allow_ambiguous=True)


def weighted_version(grammar: Grammar, seed: int) -> Grammar:
    """``grammar`` with random Dirichlet rule weights and root prior (some weights tiny)."""
    p = grammar.params
    rng = np.random.default_rng(seed)
    w = [rng.dirichlet(np.full(p.m, 0.7), size=p.vocab(lv)) for lv in range(1, p.L + 1)]
    root = rng.dirichlet(np.full(p.n_c, 0.7))
    return explicit_grammar(p, [grammar.rules_of(lv) for lv in range(1, p.L + 1)], w, root)


def enumerate_weighted_trees(grammar: Grammar) -> tuple[list[npt.NDArray[np.int64]], FloatArray]:
    """Every (root, rule choices) tree: ``levels[l]`` of shape (T, s**(L-l)), probabilities."""
    p = grammar.params
    roots = np.arange(p.n_c, dtype=np.int64)
    levels: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)] * (p.L + 1)
    levels[p.L] = roots[:, None]
    prob = np.asarray(grammar.root_probs, dtype=np.float64).copy()
    for level in range(p.L, 0, -1):
        parents = levels[level]
        n_trees, width = parents.shape
        choices = np.stack(
            np.unravel_index(np.arange(p.m**width), (p.m,) * width), axis=-1
        ).astype(np.int64)  # (m**width, width)
        par = np.repeat(parents, len(choices), axis=0)
        ch = np.tile(choices, (n_trees, 1))
        prob = np.repeat(prob, len(choices)) * np.prod(
            grammar.rule_probs_of(level)[par, ch], axis=1
        )
        kids = grammar.rules_of(level)[par, ch]  # (T, width, s)
        for lv in range(level, p.L + 1):
            levels[lv] = np.repeat(levels[lv], len(choices), axis=0)
        levels[level - 1] = kids.reshape(len(par), width * p.s)
    return levels, prob


def leaf_evidence(
    grammar: Grammar,
    tokens: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    noise: float = 0.0,
) -> FloatArray:
    """Leaf likelihoods ``e[i, pos, b]`` of docs/theory.md section 8 (or soft evidence as given)."""
    p = grammar.params
    arr = np.asarray(tokens)
    if arr.dtype.kind == "f":
        e = arr.astype(np.float64).copy()
        if noise:
            e = (1.0 - noise) * e + noise / p.v * e.sum(axis=-1, keepdims=True)
    else:
        e = np.zeros((*arr.shape, p.v))
        for b in range(p.v):
            e[..., b] = (arr == b) * (1.0 - noise) + noise / p.v
    if mask is not None:
        e[np.asarray(mask, dtype=bool)] = 1.0
    return e


def brute_posteriors(
    grammar: Grammar, evidence: FloatArray
) -> tuple[list[FloatArray], FloatArray, FloatArray]:
    """Exact posteriors ``post[l]`` of shape (n, s**(L-l), vocab(l)), log-evidence (n,),
    and the posterior of every enumerated tree (n, T)."""
    p = grammar.params
    levels, prob = enumerate_weighted_trees(grammar)
    n = evidence.shape[0]
    leaves = levels[0]
    posts = [np.zeros((n, p.nodes_at_level(lv), p.vocab(lv))) for lv in range(p.L + 1)]
    log_ev = np.empty(n)
    tree_post = np.empty((n, len(prob)))
    for i in range(n):
        lik = np.prod(evidence[i, np.arange(leaves.shape[1]), leaves], axis=1)
        w = prob * lik
        z = w.sum()
        log_ev[i] = np.log(z) if z > 0 else -np.inf
        w = w / z if z > 0 else w * np.nan
        tree_post[i] = w
        for lv in range(p.L + 1):
            for k in range(p.nodes_at_level(lv)):
                posts[lv][i, k] = np.bincount(levels[lv][:, k], weights=w, minlength=p.vocab(lv))
    return posts, log_ev, tree_post
