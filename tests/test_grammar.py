"""Grammar tables: validation messages, parent look-up, random and balanced constructors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rhm_theory.model import Grammar, RHMParams, balanced_grammar, random_grammar, tuple_codes
from rhm_theory.model.grammar import DENSE_LOOKUP_MAX

P1 = RHMParams(v=3, m=2, s=2, L=1, n_c=2)
GOOD = [[[0, 1], [2, 2]], [[1, 0], [0, 0]]]  # level 1: symbol 0 -> (0,1),(2,2); 1 -> (1,0),(0,0)


def test_valid_table_round_trips() -> None:
    g = Grammar(P1, [GOOD])
    assert g.rules_of(1).tolist() == GOOD
    assert g.rules_of(1).dtype == np.int64
    assert not g.rules_of(1).flags.writeable
    assert g == Grammar(P1, [np.array(GOOD, dtype=np.uint8)])
    assert hash(g) == hash(Grammar(P1, [GOOD]))
    assert repr(g) == "Grammar(v=3, m=2, s=2, L=1, n_c=2)"


@pytest.mark.parametrize(
    ("params", "rules", "exc", "match"),
    [
        ({"v": 3}, [GOOD], TypeError, r"params must be an RHMParams"),
        (P1, "abc", TypeError, r"rules must be a sequence"),
        (P1, 5, TypeError, r"rules must be a sequence"),
        (P1, [GOOD, GOOD], ValueError, r"one table per level 1\.\.L \(L=1\), got 2"),
        (P1, [], ValueError, r"one table per level"),
        (P1, [[[0, 1], [2, 2]]], ValueError, r"shape \(vocab\(level\), m, s\) = \(2, 2, 2\)"),
        (P1, [[[[0, 1, 2], [2, 2, 0]]] * 2], ValueError, r"got \(2, 2, 3\)"),
        (P1, [[[[0, 1], [2]], [[1, 0], [0, 0]]]], ValueError, r"regular array of shape"),
        (P1, [[[[0, 1], [2, 3]], [[1, 0], [0, 0]]]], ValueError, r"\[0, v\) = \[0, 3\)"),
        (P1, [[[[0, -1], [2, 2]], [[1, 0], [0, 0]]]], ValueError, r"found values in \[-1, 2\]"),
        (P1, [[[[0, 1], [0, 1]], [[1, 0], [0, 0]]]], ValueError, r"symbol 0 lists the tuple"),
        (P1, [[[[0, 1], [2, 2]], [[0, 1], [0, 0]]]], ValueError, r"ambiguous.*\(0, 1\).*\[0, 1\]"),
        (P1, [[[[0, 1.5], [2, 2]], [[1, 0], [0, 0]]]], ValueError, r"must hold integers"),
        (P1, [[[["a", "b"], ["c", "d"]]] * 2], ValueError, r"must hold integers"),
    ],
)
def test_bad_tables_raise_clear_errors(
    params: object, rules: object, exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        Grammar(params, rules)  # type: ignore[arg-type]


def test_integral_floats_accepted() -> None:
    g = Grammar(P1, [np.array(GOOD, dtype=np.float64)])
    assert g.rules_of(1).tolist() == GOOD


def test_duplicate_in_a_deeper_level_names_the_level() -> None:
    p = RHMParams(v=2, m=1, s=2, L=2, n_c=2)
    ok = [[[0, 1]], [[1, 1]]]
    with pytest.raises(ValueError, match=r"rules of level 2 are ambiguous"):
        Grammar(p, [ok, [[[0, 1]], [[0, 1]]]])


def test_parent_lookup() -> None:
    g = Grammar(P1, [GOOD])
    assert g.parent_of(1, [[0, 1], [2, 2], [1, 0], [0, 0], [1, 1], [5, 0]]).tolist() == [
        0,
        0,
        1,
        1,
        255,
        255,
    ]
    codes = tuple_codes([[0, 1], [1, 1]], 3)
    assert codes.tolist() == [1, 4]
    assert g.parent_codes(1, codes).tolist() == [0, -1]
    assert g.parent_table(1).tolist() == [1, 0, -1, 1, -1, -1, -1, -1, 0]
    with pytest.raises(ValueError, match=r"last axis of length s=2"):
        g.parent_of(1, [0, 1, 2])


def test_sparse_lookup_matches_dense_semantics() -> None:
    # v**s above DENSE_LOOKUP_MAX: binary search path.
    v = 5000
    assert v**2 > DENSE_LOOKUP_MAX
    g = random_grammar(RHMParams(v=v, m=2, s=2, L=1, n_c=3), seed=0)
    rules = g.rules_of(1).reshape(-1, 2)
    assert g.parent_of(1, rules).tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match=r"exceeds DENSE_LOOKUP_MAX"):
        g.parent_table(1)
    codes = tuple_codes(rules, v)
    free = np.setdiff1d(np.arange(100), codes)
    assert (g.parent_codes(1, free) == -1).all()


def test_synonyms_and_levels() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    assert g.synonyms(2, 1).shape == (2, 2)
    with pytest.raises(ValueError, match=r"symbol must satisfy 0 <= symbol <= 3"):
        g.synonyms(2, 4)
    with pytest.raises(ValueError, match=r"1 <= level <= 3"):
        g.rules_of(0)


def test_random_grammar_reproducible_and_seeded() -> None:
    p = RHMParams(v=4, m=2, s=2, L=3)
    assert random_grammar(p, seed=3) == random_grammar(p, seed=3)
    assert random_grammar(p, seed=3) != random_grammar(p, seed=4)
    assert random_grammar(p, np.random.default_rng(5)) == random_grammar(p, 5)
    with pytest.raises(TypeError, match=r"seed must be an integer"):
        random_grammar(p, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed must satisfy 0 <= seed"):
        random_grammar(p, seed=-1)


def test_balanced_grammar_requires_v_dividing_n_c_m() -> None:
    with pytest.raises(ValueError, match=r"v divides n_c\*m.*n_c=3, m=2, v=4"):
        balanced_grammar(RHMParams(v=4, m=2, s=2, L=2, n_c=3), seed=0)


def test_is_balanced_detects_imbalance() -> None:
    p = RHMParams(v=2, m=1, s=2, L=1, n_c=2)
    assert not Grammar(p, [[[[0, 0]], [[0, 1]]]]).is_balanced()
    assert Grammar(p, [[[[0, 1]], [[1, 0]]]]).is_balanced()


@given(
    v=st.integers(2, 6),
    s=st.integers(2, 3),
    L=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_balanced_grammar_is_balanced(
    v: int, s: int, L: int, seed: int, data: st.DataObject
) -> None:
    m = data.draw(st.integers(1, v ** (s - 1)))
    # n_c * m must be a multiple of v and at most v**s.
    n_c = data.draw(st.sampled_from([k for k in range(1, v**s // m + 1) if (k * m) % v == 0]))
    p = RHMParams(v=v, m=m, s=s, L=L, n_c=n_c)
    g = balanced_grammar(p, seed=seed)
    assert g.is_balanced()
    assert g == balanced_grammar(p, seed=seed)


@given(v=st.integers(2, 6), s=st.integers(2, 3), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_random_grammar_is_valid_and_unambiguous(
    v: int, s: int, seed: int, data: st.DataObject
) -> None:
    m = data.draw(st.integers(1, v ** (s - 1)))
    p = RHMParams(v=v, m=m, s=s, L=2)
    g = random_grammar(p, seed=seed)
    for level in (1, 2):
        codes, parents = g.grammatical_codes(level)
        assert len(np.unique(codes)) == p.n_rules(level)
        assert np.bincount(parents, minlength=p.vocab(level)).tolist() == [m] * p.vocab(level)
