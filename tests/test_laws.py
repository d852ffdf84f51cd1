"""The one registry of threshold laws: every reader sees the same entries, exact scales agree
with the log scales the comparisons use."""

from __future__ import annotations

import math

import pytest

from rhm_theory.sweeps import collapse, measure, thresholds
from rhm_theory.sweeps.collapse import ThresholdPoint, compare_rescalings
from rhm_theory.sweeps.laws import CANDIDATES, MEASURE_LAWS, METHOD_RESCALING

GRID = [(v, m, s, L) for v in (2, 8, 13, 64) for m in (1, 2, 3, 7) if m <= v
        for s in (2, 3) for L in (2, 5, 9)]


def test_every_reader_uses_the_one_registry() -> None:
    assert collapse.CANDIDATES is CANDIDATES
    assert set(MEASURE_LAWS) <= set(CANDIDATES)
    assert all(measure.LAWS[n] is CANDIDATES[n] for n in MEASURE_LAWS)
    assert tuple(measure.LAWS) == measure.DEFAULT_LAWS == MEASURE_LAWS
    assert all(thresholds.RESCALINGS[n] is CANDIDATES[n].exact for n in thresholds.RESCALINGS)
    assert set(METHOD_RESCALING.values()) <= set(thresholds.RESCALINGS)


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_exact_scale_agrees_with_the_log_scale(name: str) -> None:
    law = CANDIDATES[name]
    for v, m, s, L in GRID:
        level = 1 if law.per_level else 0
        assert law.scale(v, m, s, L, level) == pytest.approx(
            math.exp(law.log_scale(v, m, s, L, level)), rel=1e-12)
        if law.exact is not None:  # integer arithmetic: the P grids never move with rounding
            assert law.exact(v, m, s, L).is_integer()


def test_the_objectives_have_the_paper_scales() -> None:
    assert thresholds.method_scale("latent", 16, 4, 2, 5) == 16 * 4**3
    assert thresholds.method_scale("token", 16, 4, 2, 5) == 16 * 4**6
    assert thresholds.method_scale("label", 16, 4, 2, 5) == 16 * 4**5
    assert CANDIDATES["v m^3 1.5^L"].scale(8, 2, 2, 2) == pytest.approx(8 * 8 * 2.25)


def test_a_near_law_is_a_competitor_without_registering_it() -> None:
    """The near alternatives are in the registry itself (measure used to add them to it
    for the time of one comparison, a mutation of module state)."""
    pts = [ThresholdPoint(v, m, 2, L, 0, sd, 10.0 * v * m**3 * 1.5**L * (1 + 0.01 * sd))
           for v, m in ((8, 2), (16, 2), (12, 3)) for L in (3, 4, 5) for sd in range(3)]
    before = dict(CANDIDATES)
    comp = compare_rescalings(pts, "v m^3 1.5^L", ["v m^3", "v m^3 1.2^L"], seed=0,
                              n_bootstrap=200)
    assert comp.decision("v m^3") == "claim"
    assert dict(CANDIDATES) == before
