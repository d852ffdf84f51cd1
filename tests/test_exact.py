"""The exact engine equals brute-force enumeration of tiny grammars, to 1e-12."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.exact import (
    context_laws,
    joint_law,
    level_weights,
    margin_summary,
    node_marginal,
    pairwise_distances,
    tuple_context_vectors,
)
from rhm_theory.model import Grammar, RHMParams, random_grammar
from tests._enumeration import brute_context_laws, enumerate_trees

TOL = 1e-12


@st.composite
def tiny_grammars(draw: st.DrawFn) -> Grammar:
    """Random grammars with v <= 4, m <= 2, s in {2, 3}, L <= 3 (all trees enumerable)."""
    s = draw(st.sampled_from([2, 3]))
    L = draw(st.integers(2, 3))
    v = draw(st.integers(2, 4))
    m = draw(st.integers(1, 2))
    n_c = draw(st.integers(1, v))
    if s == 3 and L == 3:
        n_c = min(n_c, 2)  # keep P_max at most 2 * 2**13
    return random_grammar(RHMParams(v, m, s, L, n_c), seed=draw(st.integers(0, 2**31)))


@given(tiny_grammars(), st.sampled_from(["latent", "token", "label"]), st.data())
@settings(max_examples=40, deadline=None)
def test_context_laws_match_enumeration(g: Grammar, kind: str, data: st.DataObject) -> None:
    level = data.draw(st.integers(1, g.params.L - 1))
    laws = context_laws(g, level, kind)
    joint, weights = brute_context_laws(g, level, kind)
    np.testing.assert_allclose(laws.weights, weights, atol=TOL, rtol=0)
    # Conditional laws where the conditioning event has positive probability.
    w = weights[:, None, :, None]
    ok = np.broadcast_to(w > 0, joint.shape)
    cond = np.divide(joint, w, out=np.zeros_like(joint), where=w > 0)
    np.testing.assert_allclose(laws.blocks[ok], cond[ok], atol=TOL, rtol=0)
    # Vectors and margins from brute-force blocks (marginal fill for empty rows).
    marg = joint.sum(axis=2)
    marg = marg / marg.sum(axis=-1, keepdims=True)
    blocks = np.where(ok, cond, marg[:, :, None, :])
    vec = np.transpose(blocks - marg[:, :, None, :], (2, 0, 1, 3)).reshape(blocks.shape[2], -1)
    np.testing.assert_allclose(laws.vectors, vec, atol=TOL, rtol=0)
    present = weights.sum(axis=0) > 0
    d = pairwise_distances(vec)[np.ix_(present, present)]
    pairs = d[np.triu_indices(int(present.sum()), k=1)]
    summary = margin_summary(laws)
    if pairs.size:
        assert abs(summary.margin_min - pairs.min()) <= TOL
        assert abs(summary.margin_mean - pairs.mean()) <= TOL


@given(tiny_grammars())
@settings(max_examples=25, deadline=None)
def test_marginals_and_pair_laws_match_enumeration(g: Grammar) -> None:
    p = g.params
    levels, w = enumerate_trees(g)
    weights = level_weights(g)
    for level in range(p.L + 1):
        V = p.vocab(level)
        counts = sum(
            np.bincount(levels[level][:, k], minlength=V) for k in range(p.nodes_at_level(level))
        )
        np.testing.assert_allclose(weights[level], counts * w, atol=TOL, rtol=0)
        for k in range(p.nodes_at_level(level)):
            emp = np.bincount(levels[level][:, k], minlength=V) * w
            np.testing.assert_allclose(node_marginal(g, (level, k)), emp, atol=TOL, rtol=0)
    nodes = [(lv, k) for lv in range(p.L + 1) for k in range(p.nodes_at_level(lv))]
    for a, b in itertools.islice(itertools.combinations(nodes, 2), 0, None, 3):
        Va, Vb = p.vocab(a[0]), p.vocab(b[0])
        emp = np.zeros((Va, Vb))
        np.add.at(emp, (levels[a[0]][:, a[1]], levels[b[0]][:, b[1]]), w)
        np.testing.assert_allclose(joint_law(g, a, b), emp, atol=TOL, rtol=0)


@pytest.mark.parametrize("L", [2, 5, 8])
@pytest.mark.parametrize("kind", ["latent", "token", "label"])
def test_synonym_invariance_random_grammars(L: int, kind: str) -> None:
    """Tuples with one parent have identical exact context vectors, equal to psi_parent."""
    p = RHMParams(v=6, m=3, s=2, L=L)
    g = random_grammar(p, seed=L)
    for level in range(1, L):
        phi = tuple_context_vectors(g, level, kind)
        parents = np.repeat(np.arange(p.vocab(level)), p.m)
        for a in range(p.vocab(level)):
            group = phi[parents == a]
            assert np.max(np.abs(group - group[0])) <= TOL
        np.testing.assert_allclose(
            phi, context_laws(g, level, kind).vectors[parents], atol=TOL, rtol=0
        )


@given(tiny_grammars())
@settings(max_examples=15, deadline=None)
def test_token_correlation_matches_enumeration(g: Grammar) -> None:
    from rhm_theory.exact import token_correlation

    p = g.params
    levels, w = enumerate_trees(g)
    tokens = levels[0]
    for level in range(1, p.L + 1):
        acc, n = 0.0, 0
        for k in range(p.nodes_at_level(level)):
            for j1, j2 in itertools.combinations(range(p.s), 2):
                i = k * p.s**level + j1 * p.s ** (level - 1)
                jj = k * p.s**level + j2 * p.s ** (level - 1)
                joint = np.zeros((p.v, p.v))
                np.add.at(joint, (tokens[:, i], tokens[:, jj]), w)
                conn = joint - np.outer(joint.sum(1), joint.sum(0))
                acc += float((conn**2).mean())
                n += 1
        assert abs(token_correlation(g, level) - np.sqrt(acc / n)) <= TOL
