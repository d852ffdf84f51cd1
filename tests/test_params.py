"""RHMParams: validation messages, derived quantities and the symbol dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rhm_theory.model.params import RHMParams, symbol_dtype, unknown_symbol


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(v=2.5, m=1, s=2, L=1), TypeError, r"v must be an integer"),
        (dict(v=4, m=1.0, s=2, L=1), TypeError, r"m must be an integer"),
        (dict(v=4, m=1, s="2", L=1), TypeError, r"s must be an integer"),
        (dict(v=4, m=1, s=2, L=None), TypeError, r"L must be an integer"),
        (dict(v=4, m=1, s=2, L=1, n_c=2.0), TypeError, r"n_c must be an integer"),
        (dict(v=True, m=1, s=2, L=1), TypeError, r"v must be an integer.*bool"),
        (dict(v=4, m=True, s=2, L=1), TypeError, r"m must be an integer"),
        (dict(v=4, m=1, s=2, L=1, n_c=False), TypeError, r"n_c must be an integer"),
        (dict(v=1, m=1, s=2, L=1), ValueError, r"v must satisfy v >= 2"),
        (dict(v=4, m=0, s=2, L=1), ValueError, r"m must satisfy m >= 1"),
        (dict(v=4, m=1, s=1, L=1), ValueError, r"s must satisfy s >= 2"),
        (dict(v=4, m=1, s=2, L=0), ValueError, r"L must satisfy L >= 1"),
        (dict(v=4, m=1, s=2, L=1, n_c=0), ValueError, r"n_c must satisfy n_c >= 1"),
        (dict(v=4, m=5, s=2, L=1), ValueError, r"m must satisfy m <= v\*\*\(s-1\)"),
        (dict(v=3, m=10, s=3, L=1), ValueError, r"m <= v\*\*\(s-1\).*v\*\*\(s-1\) = 9"),
        (dict(v=4, m=4, s=2, L=1, n_c=5), ValueError, r"n_c must satisfy n_c\*m <= v\*\*s"),
        (dict(v=2**31, m=1, s=2, L=1), ValueError, r"v\*\*s must be < 2\*\*62"),
        (dict(v=2, m=1, s=2, L=40), ValueError, r"string length s\*\*L must be < 2\*\*40"),
        (dict(v=2**16, m=1, s=2, L=1, n_c=2**32), ValueError, r"exceeds what uint32 can hold"),
    ],
)
def test_bad_params_raise_clear_errors(kwargs: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        RHMParams(**kwargs)


def test_numpy_integers_accepted_and_normalised() -> None:
    p = RHMParams(v=np.int64(4), m=np.uint8(2), s=2, L=np.int32(3))
    assert p == RHMParams(v=4, m=2, s=2, L=3)
    assert type(p.v) is int and type(p.m) is int


def test_immutable() -> None:
    p = RHMParams(v=4, m=2, s=2, L=3)
    with pytest.raises(AttributeError):
        p.v = 5  # type: ignore[misc]


def test_derived_quantities() -> None:
    p = RHMParams(v=8, m=2, s=2, L=3, n_c=4)
    assert p.f == 2 / 8
    assert p.string_length == 8
    assert p.n_internal_nodes == 7
    assert p.P_max == 4 * 2**7
    assert math.isclose(p.log_P_max, math.log(p.P_max))
    assert [p.nodes_at_level(lv) for lv in range(4)] == [8, 4, 2, 1]
    assert [p.vocab(lv) for lv in range(4)] == [8, 8, 8, 4]
    assert [p.n_rules(lv) for lv in (1, 2, 3)] == [16, 16, 8]
    assert p.to_dict() == {"v": 8, "m": 2, "s": 2, "L": 3, "n_c": 4}
    assert p.dtype == np.uint8 and p.unknown == 255


def test_p_max_exact_beyond_int64() -> None:
    p = RHMParams(v=32, m=8, s=2, L=8)
    assert p.P_max == 32 * 8**255  # exact Python int, no overflow
    assert math.isclose(p.log_P_max, math.log(32) + 255 * math.log(8))


@pytest.mark.parametrize(
    ("method", "args", "exc", "match"),
    [
        ("nodes_at_level", (4,), ValueError, r"0 <= level <= 3"),
        ("vocab", (-1,), ValueError, r"0 <= level <= 3"),
        ("n_rules", (0,), ValueError, r"1 <= level <= 3"),
        ("nodes_at_level", (1.0,), TypeError, r"level must be an integer"),
        ("vocab", (True,), TypeError, r"level must be an integer"),
    ],
)
def test_level_checks(method: str, args: tuple, exc: type, match: str) -> None:
    p = RHMParams(v=4, m=2, s=2, L=3)
    with pytest.raises(exc, match=match):
        getattr(p, method)(*args)


@pytest.mark.parametrize(
    ("n", "dtype"),
    [(2, np.uint8), (255, np.uint8), (256, np.uint16), (65535, np.uint16), (65536, np.uint32)],
)
def test_symbol_dtype_smallest_unsigned(n: int, dtype: type) -> None:
    assert symbol_dtype(n) == np.dtype(dtype)
    # One value is reserved for the unknown marker: every symbol stays below it.
    assert n - 1 < unknown_symbol(symbol_dtype(n))


def test_dtype_follows_max_of_v_and_n_c() -> None:
    assert RHMParams(v=300, m=1, s=2, L=1).dtype == np.uint16
    assert RHMParams(v=20, m=1, s=2, L=1, n_c=300).dtype == np.uint16
    assert RHMParams(v=20, m=1, s=2, L=1, n_c=300).unknown == 65535


@given(
    v=st.integers(2, 12),
    s=st.integers(2, 4),
    L=st.integers(1, 5),
    data=st.data(),
)
def test_p_max_formula(v: int, s: int, L: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, min(v ** (s - 1), 50)))
    n_c = data.draw(st.integers(1, v**s // m))
    p = RHMParams(v=v, m=m, s=s, L=L, n_c=n_c)
    internal = sum(s**k for k in range(L))  # nodes at depths 0..L-1
    assert p.n_internal_nodes == internal
    assert p.P_max == n_c * m**internal
    assert math.isclose(p.log_P_max, math.log(p.P_max), rel_tol=1e-12, abs_tol=1e-12)
    assert p.n_c * p.m <= v**s and p.m <= v ** (s - 1)
