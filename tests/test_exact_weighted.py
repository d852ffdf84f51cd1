"""Exact engine on weighted, ambiguous and s = 3 grammars equals brute force to 1e-12."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.exact import (
    child_matrices,
    context_laws,
    joint_law,
    level_weights,
    node_marginal,
    token_correlation,
    tuple_context_vectors,
)
from rhm_theory.model import Grammar, GrammarSpec, RHMParams, random_grammar, tuple_codes
from rhm_theory.testing import ambiguous_grammars, rhm_params, weighted_grammars
from tests._enumeration import brute_context_laws, enumerate_trees_weighted

TOL = 1e-12

# Tiny (enumerable) parameters, s in {2, 3}; P_max stays below ~1e5.
TINY_S2 = rhm_params(min_v=2, max_v=4, s=2, max_m=2, min_L=2, max_L=3)
TINY_S3 = rhm_params(min_v=2, max_v=3, s=3, max_m=2, min_L=2, max_L=2)
TINY = st.one_of(TINY_S2, TINY_S3)


def _tiny_ambiguous() -> st.SearchStrategy[Grammar]:
    @st.composite
    def params(draw: st.DrawFn) -> RHMParams:
        s = draw(st.sampled_from((2, 3)))
        v = draw(st.integers(2, 4 if s == 2 else 3))
        m = draw(st.integers(1, 2))
        L = draw(st.integers(2, 3 if s == 2 else 2))
        return RHMParams(v=v, m=m, s=s, L=L, n_c=draw(st.integers(2, v)))

    return ambiguous_grammars(params())


def _weighted_ambiguous() -> st.SearchStrategy[Grammar]:
    # Ambiguous grammars with drawn weights on top: every generalisation at once.
    @st.composite
    def build(draw: st.DrawFn) -> Grammar:
        g = draw(_tiny_ambiguous())
        p = g.params
        rows = [
            np.asarray(draw(st.lists(st.integers(1, 8), min_size=p.vocab(lv) * p.m,
                                     max_size=p.vocab(lv) * p.m)), dtype=float)
            .reshape(p.vocab(lv), p.m) for lv in range(1, p.L + 1)
        ]  # fmt: skip
        root = np.asarray(draw(st.lists(st.integers(1, 8), min_size=p.n_c, max_size=p.n_c)),
                          dtype=float)  # fmt: skip
        return g.with_probs([r / r.sum(axis=1, keepdims=True) for r in rows], root / root.sum())

    return build()


FAMILIES = st.one_of(weighted_grammars(TINY), _tiny_ambiguous(), _weighted_ambiguous())


@given(FAMILIES, st.sampled_from(["latent", "token", "label"]), st.data())
@settings(max_examples=60, deadline=None)
def test_context_laws_match_enumeration(g: Grammar, context: str, data: st.DataObject) -> None:
    level = data.draw(st.integers(1, g.params.L - 1))
    laws = context_laws(g, level, context)
    joint, weights = brute_context_laws(g, level, context)
    np.testing.assert_allclose(laws.weights, weights, atol=TOL, rtol=0)
    w = weights[:, None, :, None]
    ok = np.broadcast_to(w > 0, joint.shape)
    cond = np.divide(joint, w, out=np.zeros_like(joint), where=w > 0)
    np.testing.assert_allclose(laws.blocks[ok], cond[ok], atol=TOL, rtol=0)


@given(FAMILIES)
@settings(max_examples=30, deadline=None)
def test_marginals_pair_laws_and_correlations_match_enumeration(g: Grammar) -> None:
    p = g.params
    levels, prob = enumerate_trees_weighted(g)
    assert abs(prob.sum() - 1.0) <= TOL
    weights = level_weights(g)
    for level in range(p.L + 1):
        V = p.vocab(level)
        total = np.zeros(V)
        for k in range(p.nodes_at_level(level)):
            emp = np.bincount(levels[level][:, k], weights=prob, minlength=V)
            total += emp
            np.testing.assert_allclose(node_marginal(g, (level, k)), emp, atol=TOL, rtol=0)
        np.testing.assert_allclose(weights[level], total, atol=TOL, rtol=0)
    nodes = [(lv, k) for lv in range(p.L + 1) for k in range(p.nodes_at_level(lv))]
    for a, b in itertools.islice(itertools.combinations(nodes, 2), 0, None, 5):
        emp2 = np.zeros((p.vocab(a[0]), p.vocab(b[0])))
        np.add.at(emp2, (levels[a[0]][:, a[1]], levels[b[0]][:, b[1]]), prob)
        np.testing.assert_allclose(joint_law(g, a, b), emp2, atol=TOL, rtol=0)
    # Token correlations of the leftmost-leaf pairs, level 1 (see token_correlation).
    tokens = levels[0]
    acc, n = 0.0, 0
    for k in range(p.nodes_at_level(1)):
        for j1, j2 in itertools.combinations(range(p.s), 2):
            joint = np.zeros((p.v, p.v))
            np.add.at(joint, (tokens[:, k * p.s + j1], tokens[:, k * p.s + j2]), prob)
            acc += float(((joint - np.outer(joint.sum(1), joint.sum(0))) ** 2).mean())
            n += 1
    assert abs(token_correlation(g, 1) - np.sqrt(acc / n)) <= TOL


@given(FAMILIES, st.sampled_from(["latent", "token", "label"]), st.data())
@settings(max_examples=40, deadline=None)
def test_tuple_vectors_condition_on_the_tuple(
    g: Grammar, context: str, data: st.DataObject
) -> None:
    """phi_t from the tuple route equals brute-force P(context | T = t), pooled over every
    parent that produces t (ambiguous grammars included)."""
    p = g.params
    level = data.draw(st.integers(1, p.L - 1))
    levels, prob = enumerate_trees_weighted(g)
    phi = tuple_context_vectors(g, level, context)
    R = g.rules_of(level)
    codes = tuple_codes(R.reshape(-1, p.s), p.v)
    # Brute force: joint of (tuple code at position j, context block) over all trees.
    per_sib = {"latent": p.s, "token": p.s**level, "label": 1}[context]
    n_ctx = p.n_c if context == "label" else p.v
    n_blocks = 1 if context == "label" else (p.s - 1) * per_sib
    joint = np.zeros((p.s, n_blocks, p.v**p.s, n_ctx))
    below = levels[level - 1]
    for k in range(p.nodes_at_level(level)):
        j = k % p.s
        t = tuple_codes(below[:, k * p.s : (k + 1) * p.s], p.v)
        if context == "label":
            np.add.at(joint[j, 0], (t, levels[p.L][:, 0]), prob)
            continue
        sibs = [p.s * (k // p.s) + jp for jp in range(p.s) if jp != j]
        for slot, u2 in enumerate(sibs):
            for r in range(per_sib):
                c = (below[:, p.s * u2 + r] if context == "latent"
                     else levels[0][:, u2 * per_sib + r])
                np.add.at(joint[j, slot * per_sib + r], (t, c), prob)
    marg = joint.sum(axis=2)
    marg = marg / marg.sum(axis=-1, keepdims=True)
    tot = joint.sum(axis=-1, keepdims=True)
    cond = np.where(tot > 0, joint / np.where(tot > 0, tot, 1.0), marg[:, :, None, :])
    vec = np.transpose(cond - marg[:, :, None, :], (2, 0, 1, 3)).reshape(p.v**p.s, -1)
    np.testing.assert_allclose(phi, vec[codes], atol=TOL, rtol=0)


def test_child_matrices_carry_the_weights() -> None:
    g = GrammarSpec(RHMParams(v=4, m=3, s=3, L=2), seed=2, rule_probs="zipf:1").build()
    M = child_matrices(g, 1)
    R, W = g.rules_of(1), g.rule_probs_of(1)
    for j in range(3):
        for a in range(4):
            expect = np.zeros(4)
            np.add.at(expect, R[a, :, j], W[a])
            np.testing.assert_allclose(M[j, a], expect, atol=TOL, rtol=0)
    np.testing.assert_allclose(M.sum(axis=2), 1.0, atol=TOL, rtol=0)


@pytest.mark.parametrize("context", ["latent", "token", "label"])
def test_synonym_invariance_holds_weighted_and_fails_ambiguous(context: str) -> None:
    """Weights keep the lemma (phi_t depends on t only through its parent); ambiguity breaks
    it: an ambiguous tuple's vector differs from psi of each of its parents."""
    p = RHMParams(v=6, m=3, s=2, L=3)
    weighted = GrammarSpec(p, seed=1, rule_probs="lognormal:1", root_probs="zipf:1").build()
    parents = np.repeat(np.arange(p.v), p.m)
    for level in (1, 2):
        phi = tuple_context_vectors(weighted, level, context)
        psi = context_laws(weighted, level, context).vectors
        np.testing.assert_allclose(phi, psi[parents], atol=TOL, rtol=0)
    amb = random_grammar(p, seed=1, ambiguity=0.2)
    assert amb.is_ambiguous
    level = 1
    phi = tuple_context_vectors(amb, level, context)
    psi = context_laws(amb, level, context).vectors
    codes = tuple_codes(amb.rules_of(level).reshape(-1, p.s), p.v)
    _, counts = np.unique(codes, return_counts=True)
    shared = np.isin(codes, np.unique(codes)[counts > 1])
    assert shared.any()
    gap = np.sqrt(((phi - psi[parents]) ** 2).sum(axis=1))
    assert gap[~shared].max() <= TOL  # unshared tuples keep the lemma
    assert gap[shared].min() > 1e-6  # the lemma fails for every ambiguous tuple
