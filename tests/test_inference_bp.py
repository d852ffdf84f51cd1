"""Belief propagation against brute-force enumeration of every tree of tiny grammars."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.inference import belief_propagation, iter_belief_propagation, sample_posterior
from rhm_theory.model import Grammar, RHMParams, parse, random_grammar, sample
from rhm_theory.testing.strategies import cyclic_grammar, grammars
from tests._bp_reference import (
    brute_posteriors,
    enumerate_weighted_trees,
    explicit_grammar,
    leaf_evidence,
    weighted_version,
)

TOL = 1e-12


def _evidence_cases(g: Grammar, n: int, seed: int) -> list[tuple[object, object, float]]:
    """(tokens, mask, noise): observed, masked, noisy, masked+noisy, soft (+ noise)."""
    p = g.params
    rng = np.random.default_rng(seed)
    x = sample(g, n, seed=seed).tokens
    mask = rng.random(x.shape) < 0.4
    # Sparse random likelihoods plus weight on a sampled string: possible, but not one-hot.
    soft = rng.random((n, p.string_length, p.v)) * (rng.random((n, p.string_length, p.v)) < 0.5)
    soft += 0.5 * (x[..., None] == np.arange(p.v))
    noisy = x.copy()
    flip = rng.random(x.shape) < 0.3
    noisy[flip] = rng.integers(0, p.v, size=int(flip.sum()))
    return [
        (x, None, 0.0),
        (x, mask, 0.0),
        (noisy, None, 0.2),
        (noisy, mask, 0.35),
        (soft, None, 0.0),
        (soft, mask, 0.1),
    ]


def _assert_matches(g: Grammar, tokens: object, mask: object, noise: float) -> None:
    post = belief_propagation(g, tokens, mask=mask, noise=noise)  # type: ignore[arg-type]
    ref, log_ev, _ = brute_posteriors(g, leaf_evidence(g, tokens, mask, noise))  # type: ignore[arg-type]
    np.testing.assert_allclose(post.log_evidence, log_ev, rtol=0, atol=TOL)
    for level in range(g.params.L + 1):
        got = post.level(level)
        assert got.shape == ref[level].shape
        np.testing.assert_allclose(got, ref[level], rtol=0, atol=TOL, err_msg=f"level {level}")


FIXED = [
    random_grammar(RHMParams(v=3, m=2, s=2, L=3), seed=0),
    random_grammar(RHMParams(v=4, m=2, s=2, L=2, n_c=2), seed=5),
    random_grammar(RHMParams(v=3, m=2, s=3, L=2), seed=1),
    cyclic_grammar(RHMParams(v=3, m=3, s=2, L=2)),
]


@pytest.mark.parametrize("g", FIXED, ids=repr)
@pytest.mark.parametrize("weighted", [False, True])
def test_posteriors_equal_enumeration(g: Grammar, weighted: bool) -> None:
    gram = weighted_version(g, seed=11) if weighted else g
    for tokens, mask, noise in _evidence_cases(gram, 6, seed=3):
        _assert_matches(gram, tokens, mask, noise)


def test_ambiguous_weighted_grammar() -> None:
    # Level-1 tuple (0, 1) belongs to symbols 0 and 1; (1, 1) to symbols 1 and 2.
    p = RHMParams(v=3, m=2, s=2, L=2)
    rules = [
        [[[0, 1], [2, 2]], [[0, 1], [1, 1]], [[1, 1], [2, 0]]],
        [[[0, 1], [2, 2]], [[1, 0], [0, 2]], [[1, 1], [0, 0]]],
    ]
    w = [[[0.7, 0.3], [0.5, 0.5], [0.1, 0.9]], [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]]
    g = explicit_grammar(p, rules, w, [0.5, 0.3, 0.2])
    for tokens, mask, noise in _evidence_cases(g, 6, seed=4):
        _assert_matches(g, tokens, mask, noise)
    # Ambiguity is real here: an observed string leaves its level-1 latents uncertain.
    post = belief_propagation(g, np.array([[0, 1, 1, 1]]))
    assert 0.0 < post.level(1)[0, 0, 0] < 1.0


@given(
    grammars(max_v=3, max_m=2, max_L=3, s=st.sampled_from((2, 3))),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
@settings(max_examples=25, deadline=None)
def test_posteriors_equal_enumeration_hypothesis(g: Grammar, seed: int, weighted: bool) -> None:
    if g.params.s == 3 and g.params.L == 3 and g.params.m == 2:
        g = random_grammar(RHMParams(g.params.v, 2, 3, 2, g.params.n_c), seed=seed)
    gram = weighted_version(g, seed) if weighted else g
    for tokens, mask, noise in _evidence_cases(gram, 3, seed=seed % 1000):
        _assert_matches(gram, tokens, mask, noise)


def test_log_evidence_is_log_probability_of_the_string() -> None:
    g = random_grammar(RHMParams(v=8, m=3, s=2, L=5), seed=2)
    p = g.params
    x = sample(g, 20, seed=0).tokens
    post = belief_propagation(g, x, levels=[p.L])
    # A grammatical string has exactly one tree (unambiguous rules): P = 1/n_c * m**-(#nodes).
    expected = -math.log(p.n_c) - p.n_internal_nodes * math.log(p.m)
    np.testing.assert_allclose(post.log_evidence, expected, rtol=1e-13)


def test_no_underflow_on_deep_trees() -> None:
    g = random_grammar(RHMParams(v=8, m=4, s=2, L=11), seed=0)
    p = g.params
    x = sample(g, 3, seed=0, latents=True)
    post = belief_propagation(g, x.tokens, mask=np.zeros(x.tokens.shape, bool), levels=[p.L])
    expected = -math.log(p.n_c) - p.n_internal_nodes * math.log(p.m)  # about -2840
    assert expected < -2000
    np.testing.assert_allclose(post.log_evidence, expected, rtol=1e-12)
    np.testing.assert_array_equal(post.map_symbols(p.L)[:, 0], x.labels)
    noisy = belief_propagation(g, x.tokens, noise=0.3, levels=[p.L])
    assert np.all(np.isfinite(noisy.log_evidence)) and np.all(np.isfinite(noisy.root))


@pytest.mark.parametrize("g", [*FIXED, random_grammar(RHMParams(v=16, m=4, s=2, L=4), seed=3)],
                         ids=repr)
def test_observed_strings_give_the_parse(g: Grammar) -> None:
    p = g.params
    x = sample(g, 50, seed=7).tokens
    post = belief_propagation(g, x)
    parsed = parse(g, x)
    for level in range(1, p.L + 1):
        np.testing.assert_array_equal(post.map_symbols(level), parsed[level - 1])
        # Posteriors are one-hot: the latents are certain.
        np.testing.assert_allclose(post.level(level).max(axis=-1), 1.0, rtol=0, atol=TOL)
    np.testing.assert_allclose(
        np.take_along_axis(post.level(0), x[..., None].astype(np.int64), -1), 1.0, atol=TOL
    )


def test_impossible_evidence_gives_minus_inf_and_nan() -> None:
    g = Grammar(RHMParams(v=2, m=1, s=2, L=1), [[[[0, 1]], [[1, 1]]]])
    post = belief_propagation(g, [[1, 0], [0, 1]])
    assert post.log_evidence[0] == -np.inf and np.isnan(post.root[0]).all()
    assert post.root[1].tolist() == [1.0, 0.0]
    draw = sample_posterior(g, [[1, 0], [0, 1]], seed=0)
    assert draw.tokens[0].tolist() == [g.params.unknown] * 2
    assert draw.tokens[1].tolist() == [0, 1] and draw.labels.tolist()[1] == 0


def test_chunking_levels_and_threads_do_not_change_results() -> None:
    g = weighted_version(random_grammar(RHMParams(v=6, m=3, s=2, L=4), seed=1), seed=2)
    x = sample(g, 70, seed=3).tokens
    mask = np.random.default_rng(0).random(x.shape) < 0.3
    full = belief_propagation(g, x, mask=mask, noise=0.1)
    small = belief_propagation(g, x, mask=mask, noise=0.1, chunk_size=7, levels=[0, 2])
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = belief_propagation(g, x, mask=mask, noise=0.1, levels=[4])
    finally:
        numba.set_num_threads(threads)
    for level in (0, 2):
        np.testing.assert_array_equal(small.level(level), full.level(level))
    np.testing.assert_array_equal(one.level(4), full.level(4))
    np.testing.assert_array_equal(one.log_evidence, full.log_evidence)
    chunks = list(iter_belief_propagation(g, x, mask=mask, noise=0.1, chunk_size=30))
    assert [len(c) for c in chunks] == [30, 30, 10]
    np.testing.assert_array_equal(np.concatenate([c.level(1) for c in chunks]), full.level(1))
    with pytest.raises(ValueError, match="level 1 was not computed"):
        small.level(1)


# -- bad input ---------------------------------------------------------------------------------
G = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"tokens": np.zeros((2, 5), np.uint8)}, ValueError, r"tokens must have shape \(\*, 4\)"),
        ({"tokens": np.zeros(4, np.uint8)}, ValueError, "tokens must have shape"),
        ({"tokens": np.full((2, 4), 4, np.uint8)}, ValueError, r"\[0, v\) = \[0, 4\)"),
        ({"tokens": -np.ones((2, 4), np.int64)}, ValueError, "found -1"),
        ({"tokens": np.zeros((2, 4), bool)}, TypeError, "tokens must have"),
        ({"tokens": np.zeros((2, 4, 3))}, ValueError, r"shape \(\*, 4, 4\)"),
        ({"tokens": -np.ones((2, 4, 4))}, ValueError, "non-negative"),
        ({"mask": np.zeros((2, 3), bool)}, ValueError, r"mask must have shape \(2, 4\)"),
        ({"mask": np.zeros((2, 4), np.int8)}, TypeError, "mask must have a boolean dtype"),
        ({"noise": 1.0}, ValueError, r"0.0 <= noise < 1.0"),
        ({"noise": -0.1}, ValueError, "noise must satisfy"),
        ({"noise": "0.1"}, TypeError, "noise must be a real number"),
        ({"levels": [5]}, ValueError, "levels must satisfy"),
        ({"chunk_size": 0}, ValueError, "chunk_size must satisfy"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], exc: type, match: str) -> None:
    args: dict[str, object] = {"tokens": np.zeros((2, 4), np.uint8)}
    args.update(kwargs)
    tokens = args.pop("tokens")
    with pytest.raises(exc, match=match):
        belief_propagation(G, tokens, **args)  # type: ignore[arg-type]


def test_grammar_type_and_bad_weights_are_refused() -> None:
    with pytest.raises(TypeError, match="grammar must be a Grammar"):
        belief_propagation("g", np.zeros((1, 4), np.uint8))  # type: ignore[arg-type]
    p = G.params
    with pytest.raises(ValueError, match="rule_probs"):  # refused before BP can see them
        explicit_grammar(p, list(G.rules), [np.full((4, 2), 0.6)] * 2)


def test_unknown_marker_counts_as_hidden() -> None:
    x = sample(G, 4, seed=0).tokens
    hidden = x.copy()
    hidden[:, 1] = G.params.unknown
    mask = np.zeros(x.shape, bool)
    mask[:, 1] = True
    a = belief_propagation(G, hidden)
    b = belief_propagation(G, x, mask=mask)
    np.testing.assert_array_equal(a.level(0), b.level(0))
    np.testing.assert_array_equal(a.log_evidence, b.log_evidence)


def test_enumeration_referee_sums_to_one() -> None:
    # The referee itself: tree probabilities of a weighted grammar sum to 1.
    g = weighted_version(FIXED[0], seed=0)
    _, prob = enumerate_weighted_trees(g)
    assert abs(prob.sum() - 1.0) < 1e-12
