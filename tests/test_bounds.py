"""Tests of the analytic bounds: doctests, scalings, limits, the annealed map, input checks."""

from __future__ import annotations

import doctest
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rhm_theory.bounds as bounds
from rhm_theory.bounds import (
    P_max,
    annealed_map,
    annealed_map_derivative_at_one,
    annealed_map_fixed_points,
    f_fraction,
    formulas,
    latent_sample_complexity,
    log_P_max,
    next_token_threshold,
    plateau_loss,
    sample_complexities,
    sampling_noise_floor,
    supervised_sample_complexity,
    theorem_bound,
    theorem_bound_terms,
    token_correlation_magnitude,
    token_ssl_sample_complexity,
    token_ssl_tree_sample_complexity,
    tuple_token_correlation_variance,
    zipf_learning_curve_exponent,
)

VMS = tuple[int, int, int]


@st.composite
def vms(draw: st.DrawFn, strict: bool = False, max_s: int = 4) -> VMS:
    """Valid ``(v, m, s)``; ``strict`` keeps ``f < 1`` (``m < v**(s-1)``)."""
    s = draw(st.integers(2, max_s))
    v = draw(st.integers(2, 30))
    cap = v ** (s - 1) - (1 if strict else 0)
    m = draw(st.integers(1, min(cap, 10_000)))
    return v, m, s


# -- doctests, exports, return types ----------------------------------------------------------
def test_doctests() -> None:
    result = doctest.testmod(formulas, verbose=False)
    assert result.attempted > 20
    assert result.failed == 0


def test_all_exports_exist() -> None:
    from rhm_theory.bounds import predictions, report

    modules = (formulas, predictions, report)
    assert sorted(bounds.__all__) == sorted(n for mod in modules for n in mod.__all__)
    for name in bounds.__all__:
        source = next(mod for mod in modules if name in mod.__all__)
        assert getattr(bounds, name) is getattr(source, name)


BROADCASTING: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
    (f_fraction, ([4, 8, 9], 2, 2)),
    (log_P_max, ([4, 8, 9], 2, 2, [[1], [3]])),
    (supervised_sample_complexity, ([4, 8, 9], 2, [[1], [3]])),
    (token_ssl_sample_complexity, ([4, 8, 9], 2, [[1], [3]])),
    (token_ssl_tree_sample_complexity, ([4, 8, 9], 2, [[1], [3]])),
    (latent_sample_complexity, ([4, 8, 9], [[1], [3]])),
    (theorem_bound, ([4, 8, 9], 2, 2, [[1], [3]])),
    (token_correlation_magnitude, ([4, 8, 9], 2, 2, [[1], [3]])),
    (sampling_noise_floor, ([4, 8, 9], [[1.0], [30.0]])),
    (next_token_threshold, ([4, 8, 9], 2, 2, [[1], [3]])),
    (plateau_loss, ([4, 8, 9], 2, 2, [[1], [3]])),
    (tuple_token_correlation_variance, ([4, 8, 9], 2, 2, [[1], [3]])),
    (zipf_learning_curve_exponent, ([[0.5, 1.0, 2.0]],)),
    (annealed_map, ([0.0, 0.3, 1.0], [[4], [8]], 2, 2)),
    (annealed_map_derivative_at_one, ([4, 8, 9], [[1], [2]], 2)),
]


@pytest.mark.parametrize(("func", "args"), BROADCASTING, ids=lambda x: getattr(x, "__name__", ""))
def test_broadcasting_matches_scalar_calls(func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    out = func(*args)
    arrays = np.broadcast_arrays(*(np.asarray(a) for a in args))
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    assert out.shape == arrays[0].shape
    for idx in np.ndindex(out.shape):
        scalar = func(*(a[idx].item() for a in arrays))
        assert isinstance(scalar, float)
        assert scalar == out[idx]


def test_numpy_scalars_give_python_float() -> None:
    assert isinstance(f_fraction(np.int64(8), np.int32(2), np.uint8(2)), float)
    assert isinstance(theorem_bound(8.0, 2.0, 2.0, 3.0), float)


# -- theorem bound -----------------------------------------------------------------------------
@settings(deadline=None, max_examples=100)
@given(
    vms(strict=True),
    st.integers(1, 10**6),
    st.floats(1e-6, 0.99),
    st.floats(0.01, 100.0),
)
def test_theorem_bound_grows_logarithmically_in_depth(
    p: VMS, L: int, delta: float, C: float
) -> None:
    v, m, s = p
    b1 = float(theorem_bound(v, m, s, L, delta, C))
    b2 = float(theorem_bound(v, m, s, 2 * L, delta, C))
    assert b2 / b1 <= 1.0 + math.log(2.0) / math.log(L * v * m / delta) + 1e-12
    assert float(theorem_bound(v, m, s, L + 1, delta, C)) >= b1
    coupon, conc = theorem_bound_terms(v, m, s, L, delta, C)
    assert math.isclose(float(coupon) + float(conc), b1, rel_tol=1e-14)
    assert float(conc) >= float(coupon) > 0.0  # m**3 / (1 - f) >= m


def test_theorem_bound_infinite_at_f_one() -> None:
    coupon, conc = theorem_bound_terms(4, 4, 2, 3)
    assert math.isfinite(float(coupon))
    assert conc == math.inf
    assert theorem_bound(4, 4, 2, 3) == math.inf


# -- sample complexities -----------------------------------------------------------------------
@settings(deadline=None, max_examples=100)
@given(st.integers(2, 1000), st.integers(1, 1000), st.integers(1, 40))
def test_token_and_supervised_grow_by_m_per_level(v: int, m: int, level: int) -> None:
    ratio_tok = float(token_ssl_sample_complexity(v, m, level + 1)) / float(
        token_ssl_sample_complexity(v, m, level)
    )
    ratio_sup = float(supervised_sample_complexity(v, m, level + 1)) / float(
        supervised_sample_complexity(v, m, level)
    )
    assert math.isclose(ratio_tok, m, rel_tol=1e-12)
    assert math.isclose(ratio_sup, m, rel_tol=1e-12)
    # At level 1 the tokens below the cousins are the cousin latents themselves.
    assert math.isclose(
        float(token_ssl_sample_complexity(v, m, 1)), float(latent_sample_complexity(v, m))
    )
    assert float(token_ssl_tree_sample_complexity(v, m, level + 1)) == float(
        token_ssl_sample_complexity(v, m, level)
    )
    assert float(supervised_sample_complexity(v, m, level)) == float(
        supervised_sample_complexity(v, m, level, n_c=v)
    )


def test_sample_complexities_hand_values() -> None:
    assert latent_sample_complexity(10, 3) == 270.0
    assert token_ssl_tree_sample_complexity(10, 3, 3) == 810.0
    assert supervised_sample_complexity(10, 3, 4, n_c=2) == 162.0
    assert supervised_sample_complexity(10, 10, 400) == math.inf  # float64 overflow, no error


# -- correlations and the f -> 1 limit ---------------------------------------------------------
@settings(deadline=None, max_examples=100)
@given(vms(), st.integers(1, 6))
def test_correlations_vanish_as_f_goes_to_one(p: VMS, level: int) -> None:
    v, _, s = p
    cap = float(v ** (s - 1))  # m = v**(s-1): f = 1
    assert f_fraction(v, cap, s) == 1.0
    assert token_correlation_magnitude(v, cap, s, level) == 0.0
    assert tuple_token_correlation_variance(v, cap, s, level) == 0.0
    assert next_token_threshold(v, cap, s, level) == math.inf
    assert plateau_loss(v, cap, s, level) == math.inf
    # Approaching f = 1 continuously (real-valued m), the correlations decrease to 0.
    previous = math.inf
    for eps in (1e-2, 1e-4, 1e-6, 1e-8):
        m = cap * (1.0 - eps)
        assume(m >= 1.0)
        corr = float(token_correlation_magnitude(v, m, s, level))
        var = float(tuple_token_correlation_variance(v, m, s, level))
        assert 0.0 < corr < previous
        assert corr <= math.sqrt(eps) * (1 + 1e-9)  # v**3 m**(2l-1) >= 8
        assert var <= eps * (1 + 1e-9)
        previous = corr


@settings(deadline=None, max_examples=100)
@given(vms(strict=True), st.integers(1, 8))
def test_correlation_meets_noise_floor_at_next_token_threshold(p: VMS, level: int) -> None:
    v, m, s = p
    threshold = float(next_token_threshold(v, m, s, level))
    assert math.isclose(
        float(token_correlation_magnitude(v, m, s, level)),
        float(sampling_noise_floor(v, threshold)),
        rel_tol=1e-12,
    )
    # The tuple-token variance is the squared token correlation divided by one more m.
    assert math.isclose(
        float(tuple_token_correlation_variance(v, m, s, level)) * m,
        float(token_correlation_magnitude(v, m, s, level)) ** 2,
        rel_tol=1e-12,
    )


def test_nips_icml_hand_values() -> None:
    assert token_correlation_magnitude(4, 2, 2, 1) == 0.0625
    assert sampling_noise_floor(4, 64) == 0.03125
    assert next_token_threshold(4, 2, 2, 1) == 16.0
    assert math.isclose(float(plateau_loss(4, 2, 2, 1)), math.log(2.0) + 2.0)
    assert tuple_token_correlation_variance(4, 2, 2, 1) == 1 / 512
    assert zipf_learning_curve_exponent(3.0) == 0.75


# -- annealed map (PNAS 2025) ------------------------------------------------------------------
@settings(deadline=None, max_examples=100)
@given(vms(), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_annealed_map_fixes_one_and_maps_unit_interval_into_itself(
    p: VMS, points: list[float]
) -> None:
    v, m, s = p
    assert annealed_map(1.0, v, m, s) == 1.0
    f0 = float(annealed_map(0.0, v, m, s))
    assert math.isclose(f0, (m - 1) / (m * v - 1), rel_tol=1e-12, abs_tol=1e-300)
    xs = np.sort(np.asarray(points))
    ys = np.asarray(annealed_map(xs, v, m, s))
    assert np.all((ys >= 0.0) & (ys <= 1.0))
    assert np.all(ys >= f0 * (1 - 1e-12))
    assert np.all(np.diff(ys) >= -1e-15)  # F is non-decreasing


@settings(deadline=None, max_examples=100)
@given(vms())
def test_annealed_map_derivative_matches_finite_differences(p: VMS) -> None:
    v, m, s = p
    h = 1e-4
    # One-sided second-order difference (p > 1 is outside the domain), then Richardson.
    d_h = (3.0 - 4.0 * annealed_map(1 - h, v, m, s) + annealed_map(1 - 2 * h, v, m, s)) / (2 * h)
    d_2h = (3.0 - 4.0 * annealed_map(1 - 2 * h, v, m, s) + annealed_map(1 - 4 * h, v, m, s)) / (
        4 * h
    )
    numeric = (4.0 * d_h - d_2h) / 3.0
    exact = float(annealed_map_derivative_at_one(v, m, s))
    assert math.isclose(numeric, exact, rel_tol=1e-6)


def test_annealed_map_derivative_hand_value() -> None:
    assert math.isclose(float(annealed_map_derivative_at_one(8, 2, 2)), 7 / 15, rel_tol=1e-15)


@settings(deadline=None, max_examples=60)
@given(vms())
def test_annealed_map_fixed_points_are_fixed(p: VMS) -> None:
    v, m, s = p
    fixed = annealed_map_fixed_points(v, m, s)
    assert fixed.dtype == np.float64
    assert fixed[-1] == 1.0
    assert np.all(np.diff(fixed) > 0.0)
    assert np.all((fixed >= 0.0) & (fixed <= 1.0))
    residual = np.abs(np.asarray(annealed_map(fixed, v, m, s)) - fixed)
    assert np.all(residual <= 1e-12 * np.maximum(fixed, 1e-3))
    assert (fixed[0] == 0.0) == (m == 1)  # F(0) = (m-1)/(m v - 1)
    if m > 1 and float(annealed_map_derivative_at_one(v, m, s)) > 1.0:
        # F(0) > 0 and F(p) < p just below 1: an interior crossing must exist.
        assert fixed.size >= 2


@settings(deadline=None, max_examples=100)
@given(vms(max_s=2))
def test_annealed_map_fixed_points_match_cubic_roots(p: VMS) -> None:
    v, m, _ = p
    # s = 2: F(p) = p  <=>  (1-f) p^3 - (1-c) p^2 + f p - c = 0.
    f = m / v
    c = f * (m - 1) / (m * v - 1)
    roots = np.roots([1.0 - f, -(1.0 - c), f, -c]) if f < 1.0 else np.roots([-(1 - c), 1.0, -c])
    assume(np.all((np.abs(roots.imag) > 1e-6) | (np.abs(roots.imag) == 0.0)))
    real = np.sort(roots.real[(roots.imag == 0.0) & (roots.real > -1e-9)])
    real = real[real < 1.0 - 1e-6]
    assume(real.size == 0 or np.min(np.diff(np.append(real, 1.0))) > 1e-3)  # simple roots only
    expected = np.append(np.clip(real, 0.0, None), 1.0)
    found = annealed_map_fixed_points(v, m, 2)
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, rtol=1e-7, atol=1e-9)


def test_annealed_map_fixed_points_hand_values() -> None:
    np.testing.assert_allclose(annealed_map_fixed_points(8, 2, 2), [1 / 9, 1 / 5, 1.0])
    np.testing.assert_allclose(annealed_map_fixed_points(4, 1, 2), [0.0, 1 / 3, 1.0])
    np.testing.assert_allclose(annealed_map_fixed_points(2, 1, 2), [0.0, 1.0])  # double root 1


# -- P_max -------------------------------------------------------------------------------------
@st.composite
def pmax_params(draw: st.DrawFn) -> tuple[int, int, int, int, int | None]:
    s = draw(st.integers(2, 3))
    v = draw(st.integers(2, 12))
    m = draw(st.integers(1, min(v ** (s - 1), 50)))
    L = draw(st.integers(1, 6))
    n_c = draw(st.none() | st.integers(1, v**s // m))
    return v, m, s, L, n_c


@settings(deadline=None, max_examples=100)
@given(pmax_params())
def test_P_max_exact_and_log(params: tuple[int, int, int, int, int | None]) -> None:
    v, m, s, L, n_c = params
    classes = v if n_c is None else n_c
    exact = P_max(v, m, s, L, n_c)
    assert type(exact) is int
    assert exact == classes * m ** ((s**L - 1) // (s - 1))
    assert math.isclose(
        float(log_P_max(v, m, s, L, n_c)), math.log(exact), rel_tol=1e-12, abs_tol=1e-15
    )


def test_P_max_large_and_guarded() -> None:
    huge = P_max(30, 30, 2, 12)  # 30 * 30**4095: far beyond float64
    assert huge == 30 * 30**4095
    assert math.isclose(float(log_P_max(30, 30, 2, 12)), math.log(huge), rel_tol=1e-12)
    assert P_max(5, 1, 2, 10**9) == 5  # m = 1: a single datum per class at any depth
    with pytest.raises(ValueError, match=r"^L must be small enough"):
        P_max(2, 2, 2, 10**6)
    assert log_P_max(2, 2, 2, 2000) == math.inf


# -- sample_complexities helper ----------------------------------------------------------------
def test_sample_complexities_table() -> None:
    table = sample_complexities(8, 2, 2, 3)
    assert all(isinstance(x, float) for x in table.values())
    assert table["P_max"] == 1024.0
    assert table["theorem_bound"] == theorem_bound(8, 2, 2, 3)
    assert table["theorem_bound_coupon"] + table["theorem_bound_concentration"] == pytest.approx(
        table["theorem_bound"]
    )
    assert [k for k in table if k.startswith("token_ssl_level_")] == [
        "token_ssl_level_1",
        "token_ssl_level_2",
    ]
    for level in (1, 2, 3):
        assert table[f"token_correlation_level_{level}"] == token_correlation_magnitude(
            8, 2, 2, level
        )
        assert table[f"next_token_threshold_level_{level}"] == next_token_threshold(8, 2, 2, level)
        assert f"plateau_loss_level_{level}" in table
        assert f"tuple_token_correlation_variance_level_{level}" in table
    assert table["annealed_map_n_fixed_points"] == 3.0
    assert table["annealed_map_smallest_fixed_point"] == pytest.approx(1 / 9)
    assert not any(k.startswith("token_ssl_level_") for k in sample_complexities(8, 2, 2, 1))
    big = sample_complexities(30, 30, 2, 12, n_c=7)
    assert big["P_max"] == math.inf
    assert big["log_P_max"] == pytest.approx(math.log(7) + 4095 * math.log(30))


# -- input validation ---------------------------------------------------------------------------
BAD_INPUTS: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], str]] = [
    (f_fraction, (1, 1, 2), {}, r"^v must satisfy v >= 2"),
    (f_fraction, (4, 0, 2), {}, r"^m must satisfy m >= 1"),
    (f_fraction, (4, 1, 1), {}, r"^s must satisfy s >= 2"),
    (f_fraction, (4, 5, 2), {}, r"^m must satisfy m <= v\*\*\(s-1\)"),
    (f_fraction, ([4, 8], [2, 9], 2), {}, r"^m must satisfy m <= v\*\*\(s-1\).*m=9, v=8"),
    (f_fraction, (float("nan"), 1, 2), {}, r"^v must be finite"),
    (f_fraction, ([4, 8], [1, 2, 3], 2), {}, r"must be broadcastable"),
    (log_P_max, (8, 2, 2, 0), {}, r"^L must satisfy L >= 1"),
    (log_P_max, (8, 2, 2, 3), {"n_c": 0}, r"^n_c must satisfy n_c >= 1"),
    (log_P_max, (8, 2, 2, 3), {"n_c": 33}, r"^n_c must satisfy n_c\*m <= v\*\*s"),
    (P_max, (8, 9, 2, 3), {}, r"^m must satisfy m <= v\*\*\(s-1\)"),
    (P_max, (8, 2, 2, 3), {"n_c": 33}, r"^n_c must satisfy n_c\*m <= v\*\*s"),
    (P_max, (8, 2, 2, 0), {}, r"^L must satisfy L >= 1"),
    (supervised_sample_complexity, (8, 2, 0), {}, r"^L must satisfy L >= 1"),
    (supervised_sample_complexity, (8, 2, 3), {"n_c": 0}, r"^n_c must satisfy n_c >= 1"),
    (token_ssl_sample_complexity, (8, 2, 0), {}, r"^level must satisfy level >= 1"),
    (token_ssl_tree_sample_complexity, (8, 0, 3), {}, r"^m must satisfy m >= 1"),
    (latent_sample_complexity, (1, 2), {}, r"^v must satisfy v >= 2"),
    (theorem_bound, (8, 2, 2, 3), {"delta": 0.0}, r"^delta must satisfy 0 < delta < 1"),
    (theorem_bound, (8, 2, 2, 3), {"delta": 1.0}, r"^delta must satisfy 0 < delta < 1"),
    (theorem_bound_terms, (8, 2, 2, 3), {"C": 0.0}, r"^C must satisfy C > 0"),
    (theorem_bound, (8, 2, 2, 0.5), {}, r"^L must satisfy L >= 1"),
    (token_correlation_magnitude, (8, 2, 2, 0), {}, r"^level must satisfy level >= 1"),
    (sampling_noise_floor, (8, 0), {}, r"^P must satisfy P > 0"),
    (next_token_threshold, (8, 2, 2, 0), {}, r"^level must satisfy level >= 1"),
    (plateau_loss, (8, 9, 2, 1), {}, r"^m must satisfy m <= v\*\*\(s-1\)"),
    (tuple_token_correlation_variance, (8, 2, 2, 0), {}, r"^level must satisfy level >= 1"),
    (zipf_learning_curve_exponent, (0.0,), {}, r"^a must satisfy a > 0"),
    (annealed_map, (1.5, 8, 2, 2), {}, r"^p must satisfy 0 <= p <= 1"),
    (annealed_map, (-0.1, 8, 2, 2), {}, r"^p must satisfy 0 <= p <= 1"),
    (annealed_map_derivative_at_one, (8, 9, 2), {}, r"^m must satisfy m <= v\*\*\(s-1\)"),
    (annealed_map_fixed_points, ([8, 9], 2, 2), {}, r"^v must be a scalar"),
    (annealed_map_fixed_points, (8, 2, 2), {"grid_size": 2}, r"^grid_size must satisfy"),
    (sample_complexities, (8, 2, 2, 0), {}, r"^L must satisfy L >= 1"),
    (sample_complexities, (8, 2, 2, 3), {"delta": 2.0}, r"^delta must satisfy 0 < delta < 1"),
]


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "pattern"),
    BAD_INPUTS,
    ids=[f"{f.__name__}-{p[1:20]}" for f, _, _, p in BAD_INPUTS],
)
def test_bad_inputs_raise_value_error_naming_parameter(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern):
        func(*args, **kwargs)


@pytest.mark.parametrize(
    ("func", "args", "pattern"),
    [
        (f_fraction, (True, 1, 2), r"^v must be real"),
        (f_fraction, ("8", 1, 2), r"^v must be real"),
        (P_max, (8.0, 2, 2, 3), r"^v must be an integer"),
        (P_max, (8, 2, 2, np.array([3])), r"^L must be an integer"),
        (sample_complexities, (8, 2, 2, 3.0), r"^L must be an integer"),
    ],
)
def test_wrong_types_raise_type_error(
    func: Callable[..., Any], args: tuple[Any, ...], pattern: str
) -> None:
    with pytest.raises(TypeError, match=pattern):
        func(*args)
