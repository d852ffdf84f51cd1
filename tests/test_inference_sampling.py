"""Exact posterior sampling: tree frequencies against brute-force posteriors (Hoeffding)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from rhm_theory.inference import sample_posterior
from rhm_theory.model import Grammar, RHMParams, random_grammar, sample
from tests._bp_reference import (
    brute_posteriors,
    enumerate_weighted_trees,
    explicit_grammar,
    leaf_evidence,
    weighted_version,
)

#: Probability that any one frequency check of a test fails although the sampler is exact.
DELTA = 1e-6


def _hoeffding(n_draws: int, n_events: int) -> float:
    # P(|freq - p| > t) <= 2 exp(-2 N t^2) per event; union bound over the events.
    return math.sqrt(math.log(2 * n_events / DELTA) / (2 * n_draws))


def _tree_keys(levels: list[np.ndarray]) -> np.ndarray:
    # One row per tree: every level's symbols, leaves first.
    return np.concatenate([np.asarray(lv, dtype=np.int64) for lv in levels], axis=1)


def _check_tree_frequencies(g: Grammar, tokens: np.ndarray, mask: np.ndarray | None,
                            noise: float, n_draws: int, seed: int) -> None:
    p = g.params
    _, _, tree_post = brute_posteriors(g, leaf_evidence(g, tokens[None], None if mask is None
                                                        else mask[None], noise))
    levels, _ = enumerate_weighted_trees(g)
    keys = _tree_keys(levels)
    # Distinct symbol trees (several rule choices may give one tree in ambiguous grammars).
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    exact = np.bincount(inverse.ravel(), weights=tree_post[0], minlength=len(uniq))
    draw = sample_posterior(
        g, np.repeat(tokens[None], n_draws, 0), seed=seed,
        mask=None if mask is None else np.repeat(mask[None], n_draws, 0), noise=noise,
    )  # fmt: skip
    got = _tree_keys([draw.tokens, *draw.levels])
    index = {tuple(row): k for k, row in enumerate(uniq.tolist())}
    counts = np.zeros(len(uniq))
    for row in got.tolist():
        counts[index[tuple(row)]] += 1  # a KeyError would be a tree outside the grammar
    tol = _hoeffding(n_draws, len(uniq))
    assert np.max(np.abs(counts / n_draws - exact)) <= tol, (
        np.max(np.abs(counts / n_draws - exact)), tol
    )
    assert (counts[exact == 0] == 0).all()  # never a tree of zero posterior
    assert p.L == len(draw.levels)


def test_tree_frequencies_match_exact_posterior_weighted() -> None:
    g = weighted_version(random_grammar(RHMParams(v=3, m=2, s=2, L=2), seed=4), seed=9)
    x = sample(g, 1, seed=2).tokens[0]
    mask = np.array([False, True, True, False])
    _check_tree_frequencies(g, x, mask, 0.0, 20000, seed=5)
    _check_tree_frequencies(g, x, None, 0.3, 20000, seed=6)


def test_tree_frequencies_match_exact_posterior_ambiguous() -> None:
    p = RHMParams(v=3, m=2, s=2, L=2)
    rules = [
        [[[0, 1], [2, 2]], [[0, 1], [1, 1]], [[1, 1], [2, 0]]],
        [[[0, 1], [2, 2]], [[1, 0], [0, 2]], [[1, 1], [0, 0]]],
    ]
    w = [[[0.7, 0.3], [0.5, 0.5], [0.1, 0.9]], [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]]
    g = explicit_grammar(p, rules, w, [0.5, 0.3, 0.2])
    _check_tree_frequencies(g, np.array([0, 1, 1, 1]), np.array([False, False, True, False]),
                            0.0, 20000, seed=7)


def test_observed_strings_sample_their_parse() -> None:
    g = random_grammar(RHMParams(v=8, m=3, s=2, L=4), seed=0)
    x = sample(g, 30, seed=1, latents=True)
    draw = sample_posterior(g, x.tokens, seed=2)
    np.testing.assert_array_equal(draw.tokens, x.tokens)
    for a, b in zip(draw.levels, x.levels, strict=True):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_bytes_whatever_chunks_threads_and_start() -> None:
    g = weighted_version(random_grammar(RHMParams(v=6, m=3, s=2, L=4), seed=1), seed=2)
    x = sample(g, 50, seed=3).tokens
    mask = np.random.default_rng(0).random(x.shape) < 0.5
    a = sample_posterior(g, x, seed=11, mask=mask, noise=0.2)
    b = sample_posterior(g, x, seed=11, mask=mask, noise=0.2, chunk_size=7)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        c = sample_posterior(g, x, seed=11, mask=mask, noise=0.2)
    finally:
        numba.set_num_threads(threads)
    tail = sample_posterior(g, x[20:], seed=11, mask=mask[20:], noise=0.2, start=20)
    for other in (b, c):
        np.testing.assert_array_equal(a.tokens, other.tokens)
        for la, lb in zip(a.levels, other.levels, strict=True):
            np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(a.tokens[20:], tail.tokens)
    d = sample_posterior(g, x, seed=12, mask=mask, noise=0.2)
    assert not np.array_equal(a.tokens, d.tokens)


def test_bad_seed_is_refused() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    x = sample(g, 2, seed=0).tokens
    with pytest.raises(ValueError, match="seed must satisfy"):
        sample_posterior(g, x, seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        sample_posterior(g, x, seed=1.5)  # type: ignore[arg-type]
