"""ILC's merge step: the numba kernels against the plain-NumPy reference and scipy's G-test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency

from rhm_theory.algorithms.merge import _g_per_df_lower, g_per_df, merge_indistinguishable
from rhm_theory.testing.reference import g_per_df_numpy, merge_indistinguishable_numpy


def _tables(rng: np.random.Generator, n: int, s: int, blocks: int, ctx: int,
            groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``n`` tuples drawn from ``groups`` parent laws (synonyms share a law)."""
    laws = rng.dirichlet(np.ones(ctx), size=(groups, s, blocks))
    parent = rng.integers(0, groups, n)
    sizes = rng.integers(5, 200, n)
    counts = np.stack([[[rng.multinomial(sizes[t], laws[parent[t], j, k])
                         for k in range(blocks)] for j in range(s)] for t in range(n)])
    return counts.astype(np.int64), parent


def test_g_per_df_matches_scipy_g_test_on_one_block() -> None:
    a = np.array([[[12.0, 3.0, 0.0, 5.0]]])
    b = np.array([[[4.0, 9.0, 2.0, 0.0]]])
    g, _, dof, _ = chi2_contingency(np.vstack([a[0], b[0]]), lambda_="log-likelihood",
                                    correction=False)
    # s = 1: the per-position table has one category, so it adds nothing.
    assert g_per_df(a, b) == pytest.approx(g / dof, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), s=st.integers(1, 3), blocks=st.integers(1, 4),
       ctx=st.integers(2, 6))
def test_g_per_df_matches_the_numpy_reference(seed: int, s: int, blocks: int,
                                               ctx: int) -> None:
    rng = np.random.default_rng(seed)
    counts, _ = _tables(rng, 2, s, blocks, ctx, 2)
    counts[0, 0, 0] = 0  # an empty block on one side carries no information
    a, b = counts.astype(np.float64)
    want = g_per_df_numpy(a, b)
    got = g_per_df(a, b)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12) or (np.isinf(got) and np.isinf(want))


@given(seed=st.integers(0, 2**32 - 1), s=st.integers(1, 3), blocks=st.integers(1, 4),
       ctx=st.integers(2, 40), same=st.booleans())
def test_the_pair_bound_never_exceeds_g_per_df(seed: int, s: int, blocks: int, ctx: int,
                                               same: bool) -> None:
    """The merge kernel skips the exact G/df of a pair whose Pinsker bound is above the
    threshold; the bound must lie below G/df (same-law and different-law pairs)."""
    rng = np.random.default_rng(seed)
    counts, _ = _tables(rng, 2, s, blocks, ctx, 1 if same else 2)
    a, b = counts.astype(np.float64)
    lower = _g_per_df_lower(a, b)
    exact = g_per_df(a, b)
    assert lower <= exact * (1 + 1e-12) or (np.isinf(lower) and np.isinf(exact))


@pytest.mark.parametrize("seed", range(3))
def test_merge_with_many_distinct_clusters_gives_the_reference_labels(seed: int) -> None:
    # Most pairs are far apart here, so most scores take the bound's route.
    rng = np.random.default_rng(100 + seed)
    counts, parent = _tables(rng, 60, 2, 2, 30, 15)
    labels = parent * 2 + (np.arange(60) % 2)
    np.testing.assert_array_equal(merge_indistinguishable(counts, labels, 4.0),
                                  merge_indistinguishable_numpy(counts, labels, 4.0))


@pytest.mark.parametrize("seed", range(6))
def test_merge_gives_the_reference_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts, parent = _tables(rng, 24, 2, 3, 5, 4)
    # A clustering that split each parent's synonyms into two clusters.
    labels = parent * 2 + (np.arange(24) % 2)
    want = merge_indistinguishable_numpy(counts, labels, 4.0)
    got = merge_indistinguishable(counts, labels, 4.0)
    np.testing.assert_array_equal(got, want)
    # The split synonyms are merged back: one cluster per parent.
    assert len(np.unique(got)) == 4


def test_merge_validates_its_input() -> None:
    counts = np.zeros((3, 2, 1, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="labels"):
        merge_indistinguishable(counts, np.zeros(2, dtype=np.int64), 4.0)
    with pytest.raises(ValueError, match="factor > 0"):
        merge_indistinguishable(counts, np.zeros(3, dtype=np.int64), 0.0)
    with pytest.raises(ValueError, match="one shape"):
        g_per_df(np.zeros((1, 2, 3)), np.zeros((1, 2, 4)))
