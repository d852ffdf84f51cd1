"""The BP phase-transition claim check: its decision rule, and its run on the quick grid."""

from __future__ import annotations

import numpy as np
import pytest

from proofs_checks import all_checks
from proofs_checks._framework import Verdict
from proofs_checks.bp_phase_transition import (
    TOLERANCE,
    BPPhaseTransitionCheck,
    crossover_verdict,
)

EPS = np.round(np.arange(0.05, 0.851, 0.05), 3)


def _curves(crossing: float, width: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic root-accuracy curves: deeper trees are sharper around ``crossing``."""
    shallow = 0.1 + 0.9 / (1 + np.exp((EPS - crossing) / width))
    deep = 0.1 + 0.9 / (1 + np.exp((EPS - crossing) / (width / 2)))
    return shallow, deep


def test_rule_passes_at_the_prediction_and_fails_away_from_it() -> None:
    shallow, deep = _curves(0.5)
    verdict, measured = crossover_verdict(EPS, shallow, deep, 10000, 0.5)
    assert verdict is Verdict.PASS and measured["crossing"] == pytest.approx(0.5, abs=0.01)
    assert crossover_verdict(EPS, shallow, deep, 10000, 0.5 + 2 * TOLERANCE)[0] is Verdict.FAIL
    assert crossover_verdict(EPS, shallow, deep, 10000, 0.5 - 2 * TOLERANCE)[0] is Verdict.FAIL


def test_rule_is_inconclusive_when_the_grid_cannot_tell() -> None:
    shallow, deep = _curves(0.5)
    # Too few strings: no difference is significant.
    assert crossover_verdict(EPS, shallow, deep, 3, 0.5)[0] is Verdict.INCONCLUSIVE
    # Crossing above the grid, predicted just above it: only rises, no bracket.
    high_s, high_d = _curves(0.95)
    assert crossover_verdict(EPS, high_s, high_d, 10000, 0.9)[0] is Verdict.INCONCLUSIVE


def test_rule_fails_when_accuracy_only_falls_with_depth() -> None:
    shallow = np.linspace(0.9, 0.3, len(EPS))
    deep = shallow - 0.1
    verdict, measured = crossover_verdict(EPS, shallow, deep, 10000, 0.5)
    assert verdict is Verdict.FAIL and measured["significant_rise_at"] == []


def test_check_is_registered() -> None:
    assert "bp_phase_transition" in [c.name for c in all_checks()]


@pytest.mark.slow
def test_quick_grid_runs_and_the_control_fails() -> None:
    result = BPPhaseTransitionCheck().evaluate([], "quick")
    assert result.verdict in (Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE)
    assert result.negative_control is not None and result.negative_control.failed_as_expected
    assert len(result.details["root_accuracy"]["8"]) == len(EPS)
