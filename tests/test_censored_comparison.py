"""Censored thresholds as interval data in the rescaling comparison (``censoring="interval"``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.sweeps.collapse import (
    ThresholdPoint,
    censored_scatter,
    compare_rescalings,
)

CLAIM, TOKEN = "v m^3", "v m^(L+1)"


def _points(p_star_of_L: dict[int, float], jitter: float = 0.1, seeds: int = 2,
            P_range: tuple[float, float] = (256.0, 16384.0)) -> list[ThresholdPoint]:
    """Thresholds per depth and seed, read through a grid ``P_range`` (outside: censored)."""
    out = []
    for L, p in p_star_of_L.items():
        for sd in range(seeds):
            x = p * math.exp(jitter * (sd - (seeds - 1) / 2))
            if x > P_range[1]:
                x = math.nan
            elif x < P_range[0]:
                x = P_range[0]
            out.append(ThresholdPoint(8, 3, 2, L, L - 1, sd, x, *P_range))
    return out


def _brute_scatter(lo: np.ndarray, hi: np.ndarray) -> float:
    """Maximum-likelihood scatter by a grid over (c, log sd): an independent route."""
    from scipy.stats import norm

    exact = lo == hi
    best, best_sd = -math.inf, math.nan
    for c in np.linspace(-3, 8, 441):
        for log_sd in np.linspace(-4, 2, 241):
            sd = math.exp(log_sd)
            ll = float(norm.logpdf(lo[exact], c, sd).sum())
            right = ~exact & np.isfinite(lo)
            ll += float(norm.logsf(lo[right], c, sd).sum())
            left = ~exact & ~np.isfinite(lo)
            ll += float(norm.logcdf(hi[left], c, sd).sum())
            if ll > best:
                best, best_sd = ll, sd
    return best_sd


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=8))
def test_scatter_without_censoring_is_the_standard_deviation(ys: list[float]) -> None:
    y = np.array(ys)
    assert censored_scatter(y, y) == pytest.approx(float(y.std()), abs=1e-12)


def test_scatter_with_censoring_agrees_with_a_grid_search() -> None:
    lo = np.array([0.0, 1.0, 3.0, -math.inf])
    hi = np.array([0.0, 1.0, math.inf, 0.5])
    # Grid steps: 0.025 in c, 0.025 in log sd: agreement to a few grid steps.
    assert censored_scatter(lo, hi) == pytest.approx(_brute_scatter(lo, hi), rel=0.06)


def test_scatter_checks_its_input() -> None:
    with pytest.raises(ValueError, match="equal or a half-line"):
        censored_scatter([0.0, 1.0], [0.5, 1.0])
    with pytest.raises(ValueError, match="1-d arrays"):
        censored_scatter([0.0], [0.0, 1.0])
    assert math.isnan(censored_scatter([-math.inf], [math.inf]))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_interval_mode_equals_the_missing_mode_without_censoring(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = [ThresholdPoint(v, m, 2, L, 0, sd, float(np.exp(rng.normal(6, 1))), 1.0, 1e9)
           for v, m in ((8, 2), (16, 3)) for L in (3, 4) for sd in range(3)]
    a = compare_rescalings(pts, CLAIM, [TOKEN, "v m^2"], n_bootstrap=100, seed=seed)
    b = compare_rescalings(pts, CLAIM, [TOKEN, "v m^2"], n_bootstrap=100, seed=seed,
                           censoring="interval")
    assert b.n_censored == 0 and b.censoring == "interval"
    for name in (CLAIM, TOKEN, "v m^2"):
        assert b.scores[name] == pytest.approx(a.scores[name], abs=1e-12)
    # Ties are measure-zero without censoring, so the bootstrap decisions agree.
    assert b.decision(TOKEN) == a.decision(TOKEN)


def test_a_learner_that_leaves_the_grid_is_rejected_only_as_interval_data() -> None:
    token = _points({3: 400.0, 4: 1e5, 5: 1e6})  # leaves the grid after L = 3
    missing = compare_rescalings(token, CLAIM, [TOKEN], n_bootstrap=200)
    interval = compare_rescalings(token, CLAIM, [TOKEN], n_bootstrap=200, censoring="interval")
    assert missing.decision(TOKEN) == "undecided"  # 4 of 6 thresholds missing
    assert interval.decision(TOKEN) == "rejected" and interval.n_censored == 4


def test_a_flat_learner_still_passes_with_a_censored_seed_below_the_grid() -> None:
    flat = _points({3: 270.0, 4: 400.0, 5: 400.0}, jitter=0.2)  # one L = 3 seed < 256
    assert sum(p.censored for p in flat) == 1
    c = compare_rescalings(flat, CLAIM, [TOKEN], n_bootstrap=200, censoring="interval")
    assert c.decision(TOKEN) == "claim"


def test_one_sided_bounds_decide_nothing() -> None:
    out = _points({3: 1e5, 4: 1e6, 5: 1e7})  # every threshold above the grid
    c = compare_rescalings(out, CLAIM, [TOKEN], n_bootstrap=100, censoring="interval")
    assert c.scores[CLAIM] == c.scores[TOKEN] == 1e-6
    assert c.ties[TOKEN] == 1.0 and c.decision(TOKEN) == "undecided"
    assert not c.rejected(TOKEN) and c.claim_rejected_by == ()
    # A seed of every cell below the grid: each cell's mean is only bounded above.
    low = _points({3: 300.0, 4: 300.0, 5: 300.0}, jitter=0.4)
    c = compare_rescalings(low, CLAIM, [TOKEN], n_bootstrap=200, censoring="interval")
    assert c.scores[CLAIM] == c.scores[TOKEN] and c.decision(TOKEN) == "undecided"


def test_unknown_grid_ends_are_missing() -> None:
    pts = [ThresholdPoint(8, 3, 2, L, L - 1, sd, math.nan) for L in (3, 4, 5) for sd in (0, 1)]
    c = compare_rescalings(pts, CLAIM, [TOKEN], n_bootstrap=10, censoring="interval")
    assert c.n_missing == 6 and c.n_configs == 0 and c.decision(TOKEN) == "undecided"


def test_bad_censoring_mode_is_named() -> None:
    with pytest.raises(ValueError, match="censoring"):
        compare_rescalings(_points({3: 400.0}), CLAIM, [TOKEN], censoring="drop")  # type: ignore[arg-type]
