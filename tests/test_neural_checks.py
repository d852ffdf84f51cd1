"""The neural claim checks' competitor comparison, on synthetic thresholds (no training)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from proofs_checks import neural_compare
from proofs_checks._framework import Verdict
from proofs_checks.neural_compare import scaling_verdict, threshold_points_by_cell
from rhm_theory.sweeps.collapse import CollapseComparison, ThresholdPoint, compare_rescalings

CLAIM, COMPETITOR = "v m^3", "v m^(L+1)"


def _compare(points: list[ThresholdPoint]) -> CollapseComparison:
    return compare_rescalings(points, CLAIM, [COMPETITOR])


def _rows(method: str, metric: str, exponent: str, Ls: tuple[int, ...], seed: int,
          level_offset: int = 0, noise: float = 0.2) -> list[dict[str, Any]]:
    """Threshold rows P* = c * scale * lognormal noise, three grammar seeds per cell."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in (3, 4):
        for L in Ls:
            scale = 8 * m**3 if exponent == "3" else 8 * m ** (L + 1)
            for g in range(3):
                level = L - level_offset
                chance = 1 / 8
                rows.append({"method": method, "metric": f"threshold:{metric}", "v": 8,
                             "m": m, "s": 2, "L": L, "n_c": 8, "level": level, "grammar_seed": g,
                             "criterion": chance + 0.5 * (1 - chance), "censored": None,
                             "value": 2.0 * scale * math.exp(noise * rng.standard_normal())})
    return rows


def test_comparison_rejects_the_wrong_rescaling() -> None:
    cells, _ = threshold_points_by_cell(_rows("data2vec", "root_probe", "3", (3, 4, 5, 6), 0),
                                        "data2vec", "root_probe", lambda L: L, 0.5)
    out = _compare(cells)
    assert out.decision(COMPETITOR) == "claim" and out.rejected(COMPETITOR)
    tok, _ = threshold_points_by_cell(_rows("mlm", "root_probe", "L+1", (3, 4, 5, 6), 1),
                                      "mlm", "root_probe", lambda L: L, 0.5)
    ctrl = _compare(tok)
    assert ctrl.decision(COMPETITOR) == "rejected" and not ctrl.rejected(COMPETITOR)
    verdict, alts, neg = scaling_verdict(out, ctrl, "mlm", COMPETITOR)
    assert verdict is Verdict.PASS and alts[0].rejected and neg.failed_as_expected
    # The claim is false on the MLM rows: applied there, the check FAILs.
    assert scaling_verdict(ctrl, ctrl, "mlm", COMPETITOR)[0] is Verdict.FAIL
    # Without a failing control, rejecting the competitor is not enough for PASS.
    assert scaling_verdict(out, out, "x", COMPETITOR)[0] is Verdict.INCONCLUSIVE


def test_a_grid_that_cannot_decide_is_inconclusive() -> None:
    # One m and one L: the two rescalings differ by a constant, nothing to compare.
    rows = [r for r in _rows("data2vec", "root_probe", "3", (4,), 0) if r["m"] == 3]
    cells, _ = threshold_points_by_cell(rows, "data2vec", "root_probe", lambda L: L, 0.5)
    out = _compare(cells)
    assert out.decision(COMPETITOR) == "undecided"
    verdict, alts, _ = scaling_verdict(out, out, "x", COMPETITOR)
    assert verdict is Verdict.INCONCLUSIVE and not alts[0].rejected
    # Noise far above the depth effect: neither rescaling rejected.
    noisy, _ = threshold_points_by_cell(
        _rows("data2vec", "root_probe", "3", (3, 4), 2, noise=5.0),
        "data2vec", "root_probe", lambda L: L, 0.5)
    out = _compare(noisy)
    assert not out.rejected(COMPETITOR) and not out.claim_rejected_by
    assert out.decision(COMPETITOR) == "undecided"
    # Too many censored thresholds: the grid cannot decide, however clean the rest.
    rows = _rows("data2vec", "root_probe", "3", (3, 4, 5, 6), 0)
    for r in rows[::4]:
        r["censored"], r["value"] = "right", math.nan
    cells, _ = threshold_points_by_cell(rows, "data2vec", "root_probe", lambda L: L, 0.5)
    out = _compare(cells)
    assert out.missing_fraction > 0.1 and out.decision(COMPETITOR) == "undecided"


def test_censored_and_single_seed_cells_are_left_out() -> None:
    rows = _rows("slc", "recovery", "3", (3, 4), 0, level_offset=1)
    rows[0]["censored"], rows[0]["value"] = "right", math.nan
    rows[3]["censored"], rows[4]["censored"] = "left", "left"  # cell (3, 4): one seed left
    points, info = threshold_points_by_cell(rows, "slc", "recovery", lambda L: L - 1, 0.5)
    cell = [p for p in points if (p.m, p.L) == (3, 3)]
    assert len(cell) == 3 and sum(math.isnan(p.P_star) for p in cell) == 1
    assert not any((p.m, p.L) == (3, 4) for p in points)
    assert info["censored_by_cell"] == {"v=8,m=3,L=3": 1, "v=8,m=3,L=4": 2}
    assert info["cells_with_too_few_seeds"] == ["v=8,m=3,L=4"]


@pytest.mark.parametrize("truth", ["3", "L+1"])
def test_checks_on_synthetic_rows(truth: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs_checks.neural_scaling import Data2VecScalingCheck, NeuralScalingCheck

    Ls = (3, 4, 5, 6)
    rows = (_rows("data2vec", "root_probe", truth, Ls, 0)
            + _rows("slc", "recovery", truth, Ls, 1, level_offset=1)
            + _rows("slc-sg", "recovery", truth, Ls, 2, level_offset=1)
            + _rows("mlm", "root_probe", "L+1", Ls, 3)
            + _rows("mlm", "latent_probe", "L+1", Ls, 4, level_offset=1))
    from proofs_checks import neural_scaling

    seen: list[int] = []

    def given_rows(grid: str, device: str, task_rows: Any = ()) -> list[dict[str, Any]]:
        seen.append(len(task_rows))
        return rows

    monkeypatch.setattr(neural_scaling, "neural_rows", given_rows)
    from proofs_checks._framework import UNCALIBRATED

    for check in (Data2VecScalingCheck("cpu"), NeuralScalingCheck("cpu")):
        res = check.evaluate([], "quick")
        if truth == "3":
            # The rule PASSes; the check, not calibrated on this grid, withholds the PASS
            # (the note is written only when a PASS is withheld).
            assert res.verdict is Verdict.INCONCLUSIVE, (check.name, res.measured)
            assert res.details["note"] == UNCALIBRATED
        else:
            assert res.verdict is Verdict.FAIL, (check.name, res.measured)
        assert res.negative_control is not None and res.negative_control.failed_as_expected
