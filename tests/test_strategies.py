"""The public Hypothesis strategies build valid values directly, within their caps."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from rhm_theory.assumptions import (
    balance_deviation,
    is_separated,
    separation_margins,
    separation_requirement,
)
from rhm_theory.model import Grammar, RHMParams
from rhm_theory.testing import (
    SEPARATION_C_MAX,
    ambiguous_grammars,
    balanced_grammars,
    balanced_params,
    cyclic_grammar,
    cyclic_grammars,
    grammars,
    rhm_params,
    separated_grammars,
    weighted_grammars,
)
from rhm_theory.testing import strategies as strategies_module


def _assert_valid(p: RHMParams) -> None:
    assert RHMParams(p.v, p.m, p.s, p.L, p.n_c) == p  # re-validates every constraint
    assert 1 <= p.m <= p.v ** (p.s - 1) and 1 <= p.n_c and p.n_c * p.m <= p.v**p.s


@given(rhm_params())
@settings(max_examples=100, deadline=None)
def test_rhm_params_default_caps(p: RHMParams) -> None:
    _assert_valid(p)
    assert 2 <= p.v <= 8 and p.s in (2, 3) and p.m <= 4 and 1 <= p.L <= 4 and p.n_c <= p.v


@given(rhm_params(min_v=3, max_v=5, s=st.integers(2, 4), max_m=30, min_L=2, max_L=3,
                  max_n_c=40))
@settings(max_examples=100, deadline=None)
def test_rhm_params_custom_caps(p: RHMParams) -> None:
    _assert_valid(p)
    assert 3 <= p.v <= 5 and 2 <= p.s <= 4 and p.m <= 30 and 2 <= p.L <= 3 and p.n_c <= 40


@given(rhm_params(max_v=3, s=2, max_m=9, max_n_c=9))
@settings(max_examples=60, deadline=None)
def test_rhm_params_reach_the_unambiguity_limits(p: RHMParams) -> None:
    _assert_valid(p)
    assert p.m <= p.v and p.n_c <= p.v**2 // p.m  # m = v, n_c*m = v**2 are reachable


def test_rhm_params_reject_bad_caps() -> None:
    for kwargs in ({"max_v": 1}, {"min_v": 5, "max_v": 4}, {"max_m": 0}, {"min_L": 0},
                   {"max_L": 0}, {"max_n_c": 0}, {"s": 1}):
        with pytest.raises(InvalidArgument):
            rhm_params(**kwargs)


@given(grammars())
@settings(max_examples=60, deadline=None)
def test_grammars_are_valid(g: Grammar) -> None:
    _assert_valid(g.params)
    assert Grammar(g.params, g.rules) == g  # the constructor re-validates the tables


@given(balanced_params(max_v=12, max_m=6, max_n_c=3))
@settings(max_examples=80, deadline=None)
def test_balanced_params_divide(p: RHMParams) -> None:
    _assert_valid(p)
    assert (p.n_c * p.m) % p.v == 0 and p.n_c <= 3 and p.m <= 6


def test_balanced_params_without_a_balanceable_choice() -> None:
    # v >= 5 needs v | n_c*m with n_c = 1 and m <= 2: impossible.
    strategy = balanced_params(min_v=5, max_v=6, s=2, max_m=2, max_n_c=1)
    with pytest.raises(InvalidArgument, match="balanceable"):
        @given(strategy)
        @settings(max_examples=1, deadline=None)
        def draw(p: RHMParams) -> None:
            pass

        draw()


@given(balanced_grammars(max_v=8, max_m=4, max_L=4))
@settings(max_examples=60, deadline=None)
def test_balanced_grammars_are_exactly_balanced(g: Grammar) -> None:
    assert g.is_balanced()
    assert balance_deviation(g) <= 1e-12


@pytest.mark.parametrize("c_sep", [0.5, 1.0, SEPARATION_C_MAX])
@pytest.mark.parametrize("balanced", [False, True])
def test_separated_grammars_meet_the_margin(c_sep: float, balanced: bool) -> None:
    @given(separated_grammars(c_sep, balanced=balanced, max_v=8, max_m=4, max_L=4))
    @settings(max_examples=40, deadline=None)
    def check(g: Grammar) -> None:
        need = separation_requirement(g.params, c_sep)
        assert np.all(separation_margins(g) >= need)
        assert is_separated(g, c_sep)
        assert g.params.L >= 2 and g.params.n_c <= g.params.v
        if balanced:
            assert balance_deviation(g) <= 1e-12

    check()


@given(separated_grammars(1.0, max_v=4, s=2, max_m=4, max_n_c=16, max_reseeds=1))
@settings(max_examples=40, deadline=None)
def test_separated_grammars_with_large_root_caps(g: Grammar) -> None:
    # n_c above v cannot always be separated (n_c*m = v**s gives Delta_{L-1} = 0): clamped.
    assert g.params.n_c <= g.params.v and is_separated(g, 1.0)


def test_separated_grammars_reject_bad_arguments() -> None:
    for c_sep in (0.0, -1.0, SEPARATION_C_MAX * 1.01, math.inf, math.nan):
        with pytest.raises(InvalidArgument):
            separated_grammars(c_sep)
    with pytest.raises(InvalidArgument):
        separated_grammars(1.0, max_reseeds=0)


@pytest.mark.parametrize("s", [2, 3])
def test_cyclic_grammar_margin_bound(s: int) -> None:
    """Proven for s = 2 (n_c = v, m < v): Delta_l >= 2/m at every level; holds for s = 3."""
    for v in range(2, 13 if s == 2 else 7):
        for m in range(1, min(v ** (s - 1) - 1, 12) + 1):
            p = RHMParams(v, m, s, 3)
            g = cyclic_grammar(p)
            assert g.is_balanced()
            assert np.all(separation_margins(g) >= 2.0 / m - 1e-12)
            assert is_separated(g, SEPARATION_C_MAX)
    full = cyclic_grammar(RHMParams(4, 4, 2, 3))  # m = v: f = 1, nothing to separate
    assert is_separated(full, SEPARATION_C_MAX)


def test_strategies_never_filter() -> None:
    source = inspect.getsource(strategies_module)
    assert ".filter(" not in source and "assume(" not in source


@given(weighted_grammars(max_v=4, max_L=3))
@settings(max_examples=25, deadline=None)
def test_new_families_are_valid(g: Grammar) -> None:
    p = g.params
    for level in range(1, p.L + 1):
        w = g.rule_probs_of(level)
        assert w.shape == (p.vocab(level), p.m) and (w >= 0).all()
        assert np.abs(w.sum(axis=1) - 1).max() <= 1e-12
    assert not g.is_ambiguous


@given(ambiguous_grammars())
@settings(max_examples=25, deadline=None)
def test_ambiguous_grammars_are_ambiguous(g: Grammar) -> None:
    assert g.is_ambiguous and g.allow_ambiguous
    for level in range(1, g.params.L + 1):
        table = g.rules_of(level)
        for a in range(table.shape[0]):  # tuples distinct within a parent
            assert len({tuple(t) for t in table[a].tolist()}) == g.params.m


@given(separated_grammars(1.0, max_v=3, s=2, max_m=3, max_L=3))
@settings(max_examples=60, deadline=None)
def test_separated_grammars_never_have_a_zero_margin(g: Grammar) -> None:
    # v = m = s = 2 (f = 1) made the requirement 0 and a margin-0 grammar "separated".
    assert g.params.f < 1
    assert separation_requirement(g.params, 1.0) > 0
    assert np.all(separation_margins(g) > 0)


def test_separated_grammars_exclude_f_one_even_when_it_is_all_the_bounds_allow() -> None:
    # v = 2, s = 2: m = 2 would be f = 1, so only m = 1 is drawn.
    g = find(separated_grammars(1.0, max_v=2, s=2, max_m=2), lambda g: True)
    assert (g.params.v, g.params.m) == (2, 1) and np.all(separation_margins(g) > 0)


GRAMMAR_STRATEGIES = [grammars, balanced_grammars, cyclic_grammars, separated_grammars,
                      weighted_grammars, ambiguous_grammars]
BOUNDS = ("min_v", "max_v", "s", "max_m", "min_L", "max_L", "min_n_c", "max_n_c")


@pytest.mark.parametrize("strategy", GRAMMAR_STRATEGIES, ids=lambda f: f.__name__)
def test_one_signature_style(strategy: Callable[..., st.SearchStrategy[Grammar]]) -> None:
    sig = inspect.signature(strategy)
    for name in BOUNDS:
        assert sig.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    for params_strategy in (rhm_params, balanced_params):
        names = inspect.signature(params_strategy).parameters
        assert all(names[b].kind is inspect.Parameter.KEYWORD_ONLY for b in BOUNDS)
    if strategy is not cyclic_grammars:  # deterministic family: no seed
        assert "seeds" in sig.parameters
    g = find(strategy(max_v=4, max_L=2), lambda g: True)  # the bounds are honoured
    assert g.params.v <= 4 and g.params.L <= 2


@pytest.mark.parametrize("strategy", [grammars, weighted_grammars, ambiguous_grammars],
                         ids=lambda f: f.__name__)
def test_params_or_bounds_not_both(strategy: Callable[..., st.SearchStrategy[Grammar]]) -> None:
    with pytest.raises(InvalidArgument, match="either params or the bounds"):
        find(strategy(rhm_params(), max_v=3), lambda g: True)


@pytest.mark.parametrize("strategy", GRAMMAR_STRATEGIES, ids=lambda f: f.__name__)
def test_the_repr_rebuilds_the_grammar(
        strategy: Callable[..., st.SearchStrategy[Grammar]]) -> None:
    import rhm_theory.model as model

    @given(strategy(max_v=4, max_L=3))
    @settings(max_examples=15, deadline=None)
    def check(g: Grammar) -> None:
        assert g.origin is not None and repr(g).endswith(" = " + g.origin)
        namespace = {name: getattr(model, name) for name in model.__all__}
        rebuilt = eval(g.origin, namespace)  # what a user pastes from Hypothesis's report
        assert rebuilt == g

    check()
