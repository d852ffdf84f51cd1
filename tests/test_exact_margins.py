"""The fast margin engine equals the explicit blocks and brute-force enumeration to 1e-12."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.exact import (
    compressed_context_vectors,
    context_laws,
    margin_summaries,
    margin_summary,
    pair_margins,
    pairwise_distances,
    pooled_sibling_joint,
    sibling_joint,
    token_correlation,
)
from rhm_theory.exact.correlations import node_marginals_at_level
from rhm_theory.exact.transitions import child_matrices
from rhm_theory.model import Grammar, RHMParams, random_grammar
from tests._enumeration import brute_context_laws
from tests.test_exact import tiny_grammars
from tests.test_exact_weighted import FAMILIES

TOL = 1e-12
KINDS = ["latent", "token", "label"]


def _numpy_distances(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The engine before this change: full matrix, explicit differences row by row."""
    return np.array([np.sqrt(((x - row) ** 2).sum(axis=1)) for row in x])


def _brute_pairs(g: Grammar, level: int, kind: str) -> npt.NDArray[np.float64]:
    """Pair distances over present symbols from blocks counted over every tree."""
    joint, weights = brute_context_laws(g, level, kind)
    w = weights[:, None, :, None]
    cond = np.divide(joint, w, out=np.zeros_like(joint), where=w > 0)
    marg = joint.sum(axis=2)
    marg = marg / marg.sum(axis=-1, keepdims=True)
    blocks = np.where(w > 0, cond, marg[:, :, None, :])
    vec = np.transpose(blocks - marg[:, :, None, :], (2, 0, 1, 3)).reshape(blocks.shape[2], -1)
    present = np.flatnonzero(weights.sum(axis=0) > 0)
    d = np.array([[np.sqrt(((vec[a] - vec[b]) ** 2).sum()) for b in present] for a in present])
    return d[np.triu_indices(len(present), k=1)] if len(present) else np.zeros(0)


@given(st.one_of(tiny_grammars(), FAMILIES), st.sampled_from(KINDS), st.data())
@settings(max_examples=60, deadline=None)
def test_pair_margins_match_enumeration(g: Grammar, kind: str, data: st.DataObject) -> None:
    level = data.draw(st.integers(1, g.params.L - 1))
    fast = pair_margins(g, level, kind)
    np.testing.assert_allclose(fast, _brute_pairs(g, level, kind), atol=TOL, rtol=0)


@pytest.mark.parametrize(("v", "m", "s", "L", "n_c"),
                         [(16, 4, 2, 6, 16), (32, 8, 2, 5, 32), (9, 3, 3, 4, 4), (24, 2, 2, 5, 5)])
def test_margin_summaries_match_the_explicit_engine(v: int, m: int, s: int, L: int,
                                                    n_c: int) -> None:
    for seed in range(2):
        g = random_grammar(RHMParams(v, m, s, L, n_c), seed=seed)
        fast = iter(margin_summaries(g))
        for kind in KINDS:
            for level in range(1, L):
                laws = context_laws(g, level, kind)
                slow, got = margin_summary(laws), next(fast)
                assert (got.level, got.context, got.n_symbols) == \
                    (slow.level, slow.context, slow.n_symbols)
                for a, b in ((got.margin_min, slow.margin_min),
                             (got.margin_mean, slow.margin_mean),
                             (got.margin_max, slow.margin_max)):
                    assert abs(a - b) <= TOL
                present = np.flatnonzero(laws.present)
                old = _numpy_distances(laws.vectors)[np.ix_(present, present)]
                np.testing.assert_allclose(pair_margins(g, level, kind),
                                           old[np.triu_indices(len(present), k=1)],
                                           atol=TOL, rtol=0)


def test_compressed_vectors_are_short_and_keep_distances() -> None:
    g = random_grammar(RHMParams(8, 2, 2, 5), seed=3)
    X, present = compressed_context_vectors(g, 4, "token")
    psi = context_laws(g, 4, "token").vectors
    # At most s(s-1) x 4v columns (compression threshold) against s(s-1) s^l v.
    assert X.shape[0] == 8 and X.shape[1] <= 2 * 4 * 8 and psi.shape == (8, 2 * 16 * 8)
    assert present.all()
    np.testing.assert_allclose(pairwise_distances(X), _numpy_distances(psi), atol=TOL, rtol=0)


def test_zero_margins_stay_exactly_zero() -> None:
    """m = 2 grammars with two symbols of identical latent context (tests/test_assumptions)."""
    for v, L, seed, level in [(8, 4, 11, 3), (16, 3, 9, 1), (32, 3, 4, 1), (64, 3, 16, 2)]:
        assert pair_margins(random_grammar(RHMParams(v, 2, 2, L), seed), level).min() == 0.0


def test_pairwise_distances_brute_force_and_exact_ties() -> None:
    rng = np.random.default_rng(0)
    for n, d in ((1, 3), (2, 1), (7, 5), (20, 5000)):  # 5000 > one column block
        x = rng.standard_normal((n, d))
        x[-1] = x[0]  # an exact tie
        got = pairwise_distances(x)
        brute = np.array([[np.sqrt(sum((x[a, k] - x[b, k]) ** 2 for k in range(d)))
                           for b in range(n)] for a in range(n)]) if d < 100 \
            else _numpy_distances(x)
        np.testing.assert_allclose(got, brute, atol=TOL, rtol=1e-14)
        assert got[0, n - 1] == 0.0 and np.all(np.diag(got) == 0.0)
        assert np.array_equal(got, got.T)


def test_validation_errors() -> None:
    g = random_grammar(RHMParams(8, 2, 2, 3), seed=0)
    with pytest.raises(ValueError, match="vectors"):
        pairwise_distances(np.zeros(3))
    with pytest.raises(ValueError, match="vectors must be finite"):
        pairwise_distances([[0.0, np.nan], [1.0, 2.0]])
    with pytest.raises(TypeError, match="vectors"):
        pairwise_distances([["a", "b"]])
    with pytest.raises(ValueError, match="level"):
        pair_margins(g, 3)
    with pytest.raises(ValueError, match="level"):
        margin_summaries(g, levels=[0])
    with pytest.raises(ValueError, match="context"):
        compressed_context_vectors(g, 1, "cousins")
    with pytest.raises(ValueError, match="contexts"):
        margin_summaries(g, ["latent", "cousins"])
    with pytest.raises(ValueError, match="L >= 2"):
        pair_margins(random_grammar(RHMParams(8, 2, 2, 1), seed=0), 1)


def _einsum_token_correlation(g: Grammar, level: int) -> float:
    """The previous formula (three-operand einsum), the referee of the fast one."""
    p = g.params
    pi = node_marginals_at_level(g, level)
    down = np.eye(p.v)
    for lev in range(level - 1, 0, -1):
        down = down @ child_matrices(g, lev)[0]
    total, count = 0.0, 0
    for j1 in range(p.s):
        for j2 in range(j1 + 1, p.s):
            pair = np.einsum("kb,bxy->kxy", pi, sibling_joint(g, level, j1, j2))
            joint = np.einsum("xa,kxy,yb->kab", down, pair, down)
            conn = joint - joint.sum(axis=2)[:, :, None] * joint.sum(axis=1)[:, None, :]
            total += float((conn**2).mean(axis=(1, 2)).sum())
            count += pi.shape[0]
    return float(np.sqrt(total / count))


@pytest.mark.parametrize(("v", "m", "s", "L"), [(6, 2, 2, 4), (5, 3, 3, 3), (12, 4, 2, 5)])
def test_token_correlation_matches_the_einsum(v: int, m: int, s: int, L: int) -> None:
    g = random_grammar(RHMParams(v, m, s, L), seed=1)
    for level in range(1, L + 1):
        assert token_correlation(g, level) == pytest.approx(
            _einsum_token_correlation(g, level), rel=1e-12, abs=1e-15)


@given(tiny_grammars(), st.data())
@settings(max_examples=30, deadline=None)
def test_pooled_sibling_joint_equals_the_weighted_tensor(g: Grammar, data: st.DataObject) -> None:
    """The pooled joint of two siblings, built from the rules, equals the dense tensor
    ``sibling_joint`` contracted with the parent weights."""
    p = g.params
    level = data.draw(st.integers(1, p.L))
    j = data.draw(st.integers(0, p.s - 1))
    jp = data.draw(st.integers(0, p.s - 1).filter(lambda x: x != j))
    w = data.draw(st.lists(st.floats(0.0, 3.0), min_size=p.vocab(level),
                           max_size=p.vocab(level)))
    want = np.einsum("b,bxy->xy", np.asarray(w), sibling_joint(g, level, j, jp))
    np.testing.assert_allclose(pooled_sibling_joint(g, level, j, jp, w), want,
                               atol=TOL, rtol=0)


def test_pooled_sibling_joint_checks_the_weights() -> None:
    g = random_grammar(RHMParams(4, 2, 2, 2), seed=0)
    with pytest.raises(ValueError, match=r"parent_weights must have shape \(vocab\(level\),\)"):
        pooled_sibling_joint(g, 1, 0, 1, [1.0, 2.0])
