"""The BP phase-transition claim check: its decision rule, calibration, and the quick grid."""

from __future__ import annotations

import numpy as np
import pytest

from proofs_checks import all_checks
from proofs_checks._framework import Verdict
from proofs_checks.bp_phase_transition import (
    NEAR_OFFSET,
    TOLERANCE,
    BPPhaseTransitionCheck,
    _calibrate,
    crossings,
    unit_verdict,
)

EPS = [0.26, 0.29, 0.32, 0.35, 0.38]


def _curves(crossing: float, depths: tuple[int, ...] = (6, 8, 10), width: float = 0.1,
            drift: float = 0.0) -> dict[int, list[float]]:
    """Synthetic root-accuracy curves: deeper trees are sharper around ``crossing``
    (shifted by ``drift`` per depth step)."""
    eps = np.asarray(EPS)
    out = {}
    for k, L in enumerate(depths):
        c = crossing + drift * k
        out[L] = (0.06 + 0.94 / (1 + np.exp((eps - c) / (width / (k + 1))))).tolist()
    return out


def test_rule_passes_at_the_prediction_and_fails_away_from_it() -> None:
    cross = crossings(EPS, _curves(0.32), 200000)
    assert [c["located"] for c in cross] == [True, True]
    assert all(abs(c["crossing"] - 0.32) < 0.005 for c in cross)
    assert unit_verdict(cross, 0.32) is Verdict.PASS
    assert unit_verdict(cross, 0.32 + 2.5 * TOLERANCE) is Verdict.FAIL
    assert unit_verdict(cross, 0.32 - 2.5 * TOLERANCE) is Verdict.FAIL


def test_rule_fails_when_crossings_drift_with_depth() -> None:
    cross = crossings(EPS, _curves(0.30, drift=0.04), 200000)
    assert unit_verdict(cross, 0.32) is Verdict.FAIL


def test_rule_is_inconclusive_when_the_grid_cannot_tell() -> None:
    assert unit_verdict(crossings(EPS, _curves(0.32), 5), 0.32) is Verdict.INCONCLUSIVE


def test_rule_fails_when_accuracy_only_falls_with_depth() -> None:
    shallow = np.linspace(0.9, 0.5, len(EPS))
    table = {6: shallow.tolist(), 8: (shallow - 0.1).tolist(), 10: (shallow - 0.2).tolist()}
    cross = crossings(EPS, table, 10000)
    assert all(c["all_fall"] for c in cross)
    assert unit_verdict(cross, 0.32) is Verdict.FAIL


def test_calibration_separates_claim_from_near_alternatives() -> None:
    units = []
    for k in range(3):
        eps_c = 0.32 + 0.005 * k
        units.append({"eps_c": eps_c, "lo": eps_c - 0.008, "hi": eps_c + 0.008,
                      "mean_field": 0.55,
                      "crossings": [{"crossing": eps_c + d, "se": 0.003, "located": True}
                                    for d in (-0.002, 0.003)]})
    power = _calibrate(units, np.random.default_rng(0))
    assert power.claim >= 0.8 and power.calibrated
    assert dict(power.alternatives)[f"eps_c + {NEAR_OFFSET}"] <= 0.05
    # Imprecise crossings: the same rule cannot confirm the claim.
    for u in units:
        for c in u["crossings"]:
            c["se"] = 0.02
    assert not _calibrate(units, np.random.default_rng(0)).calibrated


def test_check_is_registered() -> None:
    assert "bp_phase_transition" in [c.name for c in all_checks()]


@pytest.mark.slow
def test_quick_grid_runs_and_the_control_fails() -> None:
    result = BPPhaseTransitionCheck().evaluate([], "quick")
    assert result.negative_control is not None and result.negative_control.failed_as_expected
    assert result.alternatives[0].rejected
    assert result.power is not None and len(result.details["units"]) == 6
