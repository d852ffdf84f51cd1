"""The neural claim checks' competitor comparison, on synthetic thresholds (no training)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from proofs_checks import neural_compare
from proofs_checks._framework import Verdict
from proofs_checks.neural_compare import compare_rescalings, scaling_verdict, thresholds_by_cell


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
                             "m": m, "L": L, "n_c": 8, "level": level, "grammar_seed": g,
                             "criterion": chance + 0.5 * (1 - chance), "censored": None,
                             "value": 2.0 * scale * math.exp(noise * rng.standard_normal())})
    return rows


def test_comparison_rejects_the_wrong_rescaling() -> None:
    cells, _ = thresholds_by_cell(_rows("data2vec", "root_probe", "3", (3, 4, 5, 6), 0),
                                  "data2vec", "root_probe", lambda L: L, 0.5)
    out = compare_rescalings(cells, "v m^3", "v m^(L+1)")
    assert out["decidable"] and out["competitor_rejected"] and not out["claim_rejected"]
    tok, _ = thresholds_by_cell(_rows("mlm", "root_probe", "L+1", (3, 4, 5, 6), 1),
                                "mlm", "root_probe", lambda L: L, 0.5)
    ctrl = compare_rescalings(tok, "v m^3", "v m^(L+1)")
    assert ctrl["claim_rejected"] and not ctrl["competitor_rejected"]
    verdict, alts, neg = scaling_verdict(out, ctrl, "mlm")
    assert verdict is Verdict.PASS and alts[0].rejected and neg.failed_as_expected
    # The claim is false on the MLM rows: applied there, the check FAILs.
    assert scaling_verdict(ctrl, ctrl, "mlm")[0] is Verdict.FAIL
    # Without a failing control, rejecting the competitor is not enough for PASS.
    assert scaling_verdict(out, out, "x")[0] is Verdict.INCONCLUSIVE


def test_a_grid_that_cannot_decide_is_inconclusive() -> None:
    # One m and one L: the two rescalings differ by a constant, nothing to compare.
    rows = [r for r in _rows("data2vec", "root_probe", "3", (4,), 0) if r["m"] == 3]
    cells, _ = thresholds_by_cell(rows, "data2vec", "root_probe", lambda L: L, 0.5)
    out = compare_rescalings(cells, "v m^3", "v m^(L+1)")
    assert not out["decidable"] and not out["competitor_rejected"]
    assert scaling_verdict(out, out, "x")[0] is Verdict.INCONCLUSIVE
    # Noise far above the depth effect: neither rescaling rejected.
    noisy, _ = thresholds_by_cell(_rows("data2vec", "root_probe", "3", (3, 4), 2, noise=5.0),
                                  "data2vec", "root_probe", lambda L: L, 0.5)
    out = compare_rescalings(noisy, "v m^3", "v m^(L+1)")
    assert not out["competitor_rejected"] and not out["claim_rejected"]


def test_censored_and_single_seed_cells_are_left_out() -> None:
    rows = _rows("slc", "recovery", "3", (3, 4), 0, level_offset=1)
    rows[0]["censored"], rows[0]["value"] = "right", math.nan
    rows[3]["censored"], rows[4]["censored"] = "left", "left"  # cell (3, 4): one seed left
    cells, info = thresholds_by_cell(rows, "slc", "recovery", lambda L: L - 1, 0.5)
    assert len(cells[(8, 3, 3)]) == 2 and (8, 3, 4) not in cells
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
    monkeypatch.setattr(neural_compare, "_ROWS_CACHE", {("quick", "cpu"): rows})
    expected = Verdict.PASS if truth == "3" else Verdict.FAIL
    for check in (Data2VecScalingCheck("cpu"), NeuralScalingCheck("cpu")):
        res = check.evaluate([], "quick")
        assert res.verdict is expected, (check.name, res.measured)
        assert res.negative_control is not None and res.negative_control.failed_as_expected
