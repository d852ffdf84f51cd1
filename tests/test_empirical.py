"""Empirical counts: their population limit is the exact engine; Monte Carlo concentrates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.empirical import ContextCounts
from rhm_theory.exact import context_laws
from rhm_theory.model import Grammar, RHMParams, random_grammar, tuple_codes
from rhm_theory.model.sampling import iter_samples, sample
from tests._enumeration import enumerate_trees
from tests.test_exact import tiny_grammars


def _counts_for(g: Grammar, level: int, kind: str, levels: list[np.ndarray]) -> ContextCounts:
    p = g.params
    n_ctx = p.n_c if kind == "label" else p.v
    acc = ContextCounts(p.s, level, kind, p.v, n_ctx)
    acc.update(levels[level - 1], tokens=levels[0], labels=levels[p.L][:, 0])
    return acc


@given(tiny_grammars(), st.sampled_from(["latent", "token", "label"]), st.data())
@settings(max_examples=30, deadline=None)
def test_population_limit_equals_exact(g: Grammar, kind: str, data: st.DataObject) -> None:
    """Counting over all P_max trees (each once = each with its probability) gives the
    exact pooled laws: the empirical vectors' population limit is the exact engine."""
    p = g.params
    level = data.draw(st.integers(1, p.L - 1))
    levels, w = enumerate_trees(g)
    acc = _counts_for(g, level, kind, levels)
    laws = context_laws(g, level, kind)
    R = g.rules_of(level)
    codes = tuple_codes(R.reshape(-1, p.s), p.v)
    parents = np.repeat(np.arange(p.vocab(level)), p.m)
    # Joint counts / P_max = exact pooled joint P(T = t at j, block = c).
    joint = np.transpose(acc.counts_[:, codes], (1, 0, 2, 3)) * w
    expected = laws.blocks[:, :, parents] * (laws.weights[:, parents] / p.m)[:, None, :, None]
    np.testing.assert_allclose(joint, np.transpose(expected, (2, 0, 1, 3)), atol=1e-12, rtol=0)
    # Vectors of observed tuples equal psi of their parent.
    _, vec = acc.vectors(codes)
    np.testing.assert_allclose(vec, laws.vectors[parents], atol=1e-12, rtol=0)
    np.testing.assert_allclose(acc.block_marginals(), laws.marginals, atol=1e-12, rtol=0)


def test_chunking_does_not_change_counts() -> None:
    g = random_grammar(RHMParams(v=6, m=2, s=2, L=4), seed=3)
    one = ContextCounts(2, 2, "token", 6, 6)
    full = sample(g, 3000, seed=9, latents=True)
    one.update(full.level(1), tokens=full.tokens)
    many = ContextCounts(2, 2, "token", 6, 6)
    for chunk in iter_samples(g, 3000, seed=9, chunk_size=701, latents=True):
        many.update(chunk.level(1), tokens=chunk.tokens)
    assert np.array_equal(one.counts_, many.counts_)


def _dense_reference(seq: np.ndarray, ctx: np.ndarray, s: int, span: int, alphabet: int,
                     n_ctx: int, n_blocks: int) -> np.ndarray:
    # The count tensor by plain loops over strings, nodes and context symbols.
    out = np.zeros((s, alphabet**s, n_blocks, n_ctx), dtype=np.int64)
    for i in range(seq.shape[0]):
        for k in range(seq.shape[1] // s):
            tup = seq[i, k * s:(k + 1) * s]
            if (tup < 0).any() or (tup >= alphabet).any():
                continue
            code = int(sum(int(x) * alphabet ** (s - 1 - q) for q, x in enumerate(tup)))
            j, first = k % s, k - k % s
            if ctx.ndim == 1:  # label: one block
                out[j, code, 0, ctx[i]] += 1
                continue
            slot = 0
            for jp in range(s):
                if jp == j:
                    continue
                for r in range(span):
                    x = ctx[i, (first + jp) * span + r]
                    if 0 <= x < n_ctx:
                        out[j, code, slot * span + r, x] += 1
                slot += 1
    return out


@pytest.mark.parametrize("kind", ["latent", "label"])
def test_compact_rows_equal_the_dense_tensor(kind: str) -> None:
    """The accumulator keeps one row per tuple code seen; with more codes than its first
    capacity (1,600 possible codes, > 1,024), fed in uneven chunks and with unknown
    symbols, the dense tensor, the per-tuple tables and the observed codes equal a plain
    loop's."""
    rng = np.random.default_rng(5)
    alphabet, s, n = 40, 2, 900
    seq = rng.integers(-1, alphabet, size=(n, 8))  # -1: unknown symbols
    labels = rng.integers(0, 3, size=n)
    n_ctx = 3 if kind == "label" else alphabet
    acc = ContextCounts(s, 2, kind, alphabet, n_ctx)
    for lo, hi in [(0, 1), (1, 300), (300, 900)]:
        acc.update(seq[lo:hi], labels=labels[lo:hi])
    ref = _dense_reference(seq, labels if kind == "label" else seq, s, s, alphabet, n_ctx,
                           acc.n_blocks)
    assert np.array_equal(acc.counts_, ref)
    observed = np.flatnonzero(ref.sum(axis=(0, 2, 3)) > 0)
    assert observed.size > 1024
    assert np.array_equal(acc.observed_codes(), observed)
    codes = np.array([observed[0], 7 * alphabet + 7, observed[-1], 0])
    assert np.array_equal(acc.tuple_tables(codes), np.transpose(ref[:, codes], (1, 0, 2, 3)))
    assert np.array_equal(acc.tuple_counts(), ref.sum(axis=3).max(axis=2))


@pytest.mark.parametrize("kind", ["latent", "token", "label"])
def test_monte_carlo_within_hoeffding(kind: str) -> None:
    """Each empirical block frequency of each level-1 tuple at position 0 lies within a
    Hoeffding bound of the exact conditional law (union bound over all cells, alpha=1e-6).

    Given the tuple count n of a tuple (fixed after conditioning), the block entries are
    means of n i.i.d. Bernoulli draws only for a single node per string; with pooling the
    draws of one string can be dependent, so we bound per string: each string contributes
    a value in [0, k] (k = level-l nodes of one position class), and Hoeffding applies to
    the pooled count over P independent strings."""
    p = RHMParams(v=5, m=2, s=2, L=3)
    g = random_grammar(p, seed=11)
    P = 200_000
    level = 1
    n_ctx = p.n_c if kind == "label" else p.v
    acc = ContextCounts(p.s, level, kind, p.v, n_ctx)
    for chunk in iter_samples(g, P, seed=5, chunk_size=50_000, latents=True):
        acc.update(chunk.tokens, tokens=chunk.tokens, labels=chunk.labels)
    laws = context_laws(g, level, kind)
    R = g.rules_of(level)
    codes = tuple_codes(R.reshape(-1, p.s), p.v)
    parents = np.repeat(np.arange(p.v), p.m)
    k = p.nodes_at_level(level) // p.s  # nodes of one position class per string
    # Joint frequency (per string) of (tuple t at j, block value c): each string adds a
    # value in [0, k]; Hoeffding: |mean - E| <= k * sqrt(log(2N/alpha) / (2P)).
    joint = np.transpose(acc.counts_[:, codes], (1, 0, 2, 3)) / P
    expected = laws.blocks[:, :, parents] * (laws.weights[:, parents] / p.m)[:, None, :, None]
    expected = np.transpose(expected, (2, 0, 1, 3))
    n_cells = joint.size
    tol = k * math.sqrt(math.log(2 * n_cells / 1e-6) / (2 * P))
    assert np.max(np.abs(joint - expected)) <= tol
    # And the error is not trivially small: the bound is within 100x of what we see.
    assert np.max(np.abs(joint - expected)) > tol / 100
