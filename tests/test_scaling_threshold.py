"""The one threshold definition: isotonic fit, first reaching, censoring, dips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import isotonic_regression

from rhm_theory.algorithms.crossing import crossing_point
from rhm_theory.scaling import Threshold, isotonic_fit, threshold_from_curve

curves = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=12)


@given(curves)
def test_isotonic_fit_agrees_with_scipy(y: list[float]) -> None:
    ours = isotonic_fit(y)
    ref = isotonic_regression(np.asarray(y)).x
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    assert np.all(np.diff(ours) >= -1e-15)


@given(curves)
def test_monotone_curve_threshold_is_the_first_crossing(y: list[float]) -> None:
    """On a non-decreasing curve the definition is the plain first crossing."""
    y = sorted(y)
    P = [2.0**k for k in range(len(y))]
    t = threshold_from_curve(P, y, 0.5)
    assert not t.dips
    first = crossing_point(P, y, 0.5, rule="first")
    if t.kind == "point":
        assert t.P_star == pytest.approx(first, rel=1e-12)
    elif t.kind == "below_grid":
        assert first == P[0]
    else:
        assert math.isnan(first)


def test_a_late_dip_moves_the_last_crossing_not_the_threshold() -> None:
    P = [64, 128, 256, 512, 1024]
    clean = threshold_from_curve(P, [0.1, 0.97, 0.99, 1.0, 1.0], 0.95)
    dipped = threshold_from_curve(P, [0.1, 0.97, 0.99, 0.90, 1.0], 0.95)
    assert dipped.dips and not clean.dips
    assert dipped.last_crossing > 512 > clean.last_crossing
    # The dip is pooled with its neighbours (0.97, 0.99, 0.90 -> 0.953): the fit still
    # first reaches 0.95 at P = 128, so P* stays between the same two grid points.
    assert 64 < clean.P_star <= dipped.P_star <= 128


def test_censoring_kinds_and_intervals() -> None:
    above = threshold_from_curve([10, 20], [0.0, 0.5], 0.95)
    below = threshold_from_curve([10, 20], [1.0, 1.0], 0.95)
    assert (above.kind, below.kind) == ("above_grid", "below_grid")
    assert above.log_interval == (math.log(20), math.inf)
    assert below.log_interval == (-math.inf, math.log(10))
    assert above.censored and below.censored


def test_bad_curves_name_the_problem() -> None:
    with pytest.raises(ValueError, match="distinct"):
        threshold_from_curve([10, 10], [0.0, 1.0], 0.5)
    with pytest.raises(ValueError, match="0 < P"):
        threshold_from_curve([0, 10], [0.0, 1.0], 0.5)
    with pytest.raises(ValueError, match="finite"):
        threshold_from_curve([1, 10], [0.0, math.nan], 0.5)
    with pytest.raises(ValueError, match="P_lo <= P_hi"):
        Threshold.from_bounds(10, 5)
    with pytest.raises(ValueError, match="neither a point"):
        Threshold.from_bounds(10, 20)
