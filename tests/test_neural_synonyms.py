"""The synonym swap P_l keeps strings grammatical and the latents at levels >= l (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.model import Grammar, RHMParams, random_grammar
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.neural.synonyms import rule_indices, synonym_swap


def _parse(grammar: Grammar, tokens: np.ndarray) -> list[np.ndarray]:
    """Bottom-up parse of every level by table look-up (unknown marker if ungrammatical)."""
    p = grammar.params
    levels = [tokens]
    for lvl in range(1, p.L + 1):
        prev = levels[-1]
        levels.append(grammar.parent_of(lvl, prev.reshape(prev.shape[0], -1, p.s)))
    return levels


@st.composite
def grammars(draw: st.DrawFn) -> Grammar:
    s = draw(st.sampled_from([2, 3]))
    L = draw(st.integers(1, 3 if s == 2 else 2))
    v = draw(st.integers(2, 5))
    m = draw(st.integers(1, min(3, v ** (s - 1))))
    n_c = draw(st.integers(1, min(v, v**s // m)))
    return random_grammar(RHMParams(v, m, s, L, n_c), seed=draw(st.integers(0, 2**20)))


@settings(max_examples=40, deadline=None)
@given(grammars(), st.integers(0, 2**20), st.booleans(), st.data())
def test_swap_is_grammatical_and_keeps_upper_latents(
    grammar: Grammar, seed: int, resample: bool, data: st.DataObject
) -> None:
    p = grammar.params
    level = data.draw(st.integers(1, p.L))
    x = sample(grammar, 64, seed, latents=True)
    y = synonym_swap(grammar, x, level, seed + 1, resample_below=resample)
    parsed = _parse(grammar, y.tokens)
    for k in range(1, p.L + 1):
        # The parse of the new string is its own latent tree: it is grammatical.
        np.testing.assert_array_equal(parsed[k], y.level(k))
    for k in range(level, p.L + 1):
        np.testing.assert_array_equal(y.level(k), x.level(k))
    old = x.level(level - 1).reshape(len(x), -1, p.s)
    new = y.level(level - 1).reshape(len(y), -1, p.s)
    changed = np.any(old != new, axis=-1)
    if p.m > 1:
        assert changed.all(), "every level-l tuple must switch to a different synonym"
    else:
        assert not changed.any()


def test_rule_indices_rebuild_the_strings() -> None:
    g = random_grammar(RHMParams(v=6, m=3, s=2, L=3), seed=4)
    x = sample(g, 200, seed=9, latents=True)
    rules = rule_indices(g, x)
    for lvl in range(1, 4):
        table = g.rules_of(lvl)
        rebuilt = table[x.level(lvl).astype(np.int64), rules[lvl - 1]].reshape(200, -1)
        np.testing.assert_array_equal(rebuilt, x.level(lvl - 1))


def test_swap_keeps_lower_rule_indices_by_default() -> None:
    g = random_grammar(RHMParams(v=8, m=4, s=2, L=3), seed=1)
    x = sample(g, 300, seed=2, latents=True)
    y = synonym_swap(g, x, 3, seed=5)
    rx, ry = rule_indices(g, x), rule_indices(g, y)
    np.testing.assert_array_equal(rx[0], ry[0])
    np.testing.assert_array_equal(rx[1], ry[1])
    assert np.all(rx[2] != ry[2])
    z = synonym_swap(g, x, 3, seed=5, resample_below=True)
    assert np.any(rule_indices(g, z)[0] != rx[0])


def test_swapped_synonym_is_uniform_over_the_others() -> None:
    g = random_grammar(RHMParams(v=4, m=4, s=2, L=1), seed=3)
    x = sample(g, 6000, seed=1, latents=True)
    before = rule_indices(g, x)[0][:, 0]
    after = rule_indices(g, synonym_swap(g, x, 1, seed=2))[0][:, 0]
    shift = (after - before) % 4
    counts = np.bincount(shift, minlength=4)
    assert counts[0] == 0
    # Each of the 3 other synonyms gets ~2000 draws (sd ~37): 6 sd bounds.
    assert np.all(np.abs(counts[1:] - 2000) < 230), counts


def test_swap_needs_latents_and_valid_level() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    x = sample(g, 5, seed=0)
    with pytest.raises(ValueError, match="latents"):
        synonym_swap(g, x, 1, seed=0)
    xl = sample(g, 5, seed=0, latents=True)
    with pytest.raises(ValueError):
        synonym_swap(g, xl, 3, seed=0)
    bad = Sample(xl.tokens[:, ::-1].copy(), xl.levels)
    with pytest.raises(ValueError, match="not a parse"):
        rule_indices(g, bad)
