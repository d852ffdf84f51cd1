"""The neural claim checks' decision on the depth axis, on synthetic thresholds (no training)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from proofs_checks._framework import Verdict
from proofs_checks.neural_compare import (
    AXES,
    CLAIM,
    CLUSTER,
    COMPETITOR,
    assess_neural,
    neural_verdict,
)
from rhm_theory.scaling import ScalingDecision, ThresholdPoint, decide, law
from rhm_theory.sweeps.probe_points import probe_threshold_points


def _decide(points: list[ThresholdPoint], claim: str = CLAIM) -> ScalingDecision:
    return decide(points, law(claim), axes=AXES, cluster=CLUSTER)


def _cells(rows: list[dict[str, Any]], method: str, metric: str = "root_probe",
           level_of: Any = lambda L: L) -> list[ThresholdPoint]:
    return probe_threshold_points(rows, method, metric, level_of, 0.5)[0]


def _rows(method: str, metric: str, exponent: str, Ls: tuple[int, ...], seed: int,
          level_offset: int = 0, noise: float = 0.1, balanced: bool = False,
          ) -> list[dict[str, Any]]:
    """Threshold rows P* = c * scale * lognormal noise, three grammar seeds per cell.

    ``balanced``: the seeds of a cell deviate by ``-noise, 0, +noise`` (no trend at all in
    the cell means, so the rule's 5% false-FAIL cannot strike a test of the mapping)."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in (3, 4):
        for L in Ls:
            scale = 8 * m**3 if exponent == "3" else 8 * m ** (L + 1)
            for g in range(3):
                dev = g - 1.0 if balanced else rng.standard_normal()
                level = L - level_offset
                chance = 1 / 8
                rows.append({"method": method, "metric": f"threshold:{metric}", "v": 8,
                             "m": m, "s": 2, "L": L, "n_c": 8, "level": level, "grammar_seed": g,
                             "criterion": chance + 0.5 * (1 - chance), "censored": None,
                             "value": 2.0 * scale * math.exp(noise * dev)})
    return rows


def test_the_rule_decides_the_depth_axis_and_the_control_gates_it() -> None:
    cells = _cells(_rows("data2vec", "root_probe", "3", (3, 4, 5, 6), 0), "data2vec")
    out = _decide(cells)
    assert out.decision == "claim" and [a.axis for a in out.axes] == ["L"]
    assert _decide(cells, COMPETITOR).decision == "rejected"
    tok = _cells(_rows("mlm", "root_probe", "L+1", (3, 4, 5, 6), 1), "mlm")
    assert _decide(tok).decision == "rejected"
    verdict, alts, neg, decision = neural_verdict(cells, tok, "mlm")
    assert verdict is Verdict.PASS and alts[0].name == COMPETITOR and alts[0].rejected
    assert neg.failed_as_expected and decision == out
    # The claim is false on the MLM rows: applied there, the check FAILs.
    assert neural_verdict(tok, tok, "mlm")[0] is Verdict.FAIL
    # Without a failing control, a claim decided on the rows is not enough for PASS.
    assert neural_verdict(cells, cells, "x")[0] is Verdict.INCONCLUSIVE


def test_a_grid_that_cannot_decide_is_inconclusive() -> None:
    # One depth: the depth axis is not identified.
    rows = [r for r in _rows("data2vec", "root_probe", "3", (4,), 0) if r["m"] == 3]
    out = _decide(_cells(rows, "data2vec"))
    assert out.decision == "undecided" and out.axes[0].outcome == "not identified"
    tok = _cells(_rows("mlm", "root_probe", "L+1", (3, 4, 5, 6), 1), "mlm")
    verdict, alts, _, _ = neural_verdict(_cells(rows, "data2vec"), tok, "mlm")
    assert verdict is Verdict.INCONCLUSIVE and not alts[0].rejected
    # Noise far above the depth effect: neither law rejected, nothing pinned.
    noisy = _cells(_rows("data2vec", "root_probe", "3", (3, 4), 2, noise=5.0), "data2vec")
    assert _decide(noisy).decision == "undecided"
    assert _decide(noisy, COMPETITOR).decision != "rejected"


def test_assess_neural_calibrates_against_depth_laws_and_the_competitor() -> None:
    cells = _cells(_rows("data2vec", "root_probe", "3", (3, 4, 5, 6), 0), "data2vec")
    a = assess_neural(cells, n_sim=20, seed=1)
    assert a.power is not None and a.power.n_sim == 20
    names = [n for n, _ in a.power.alternatives]
    assert names == ["v m^3 x 1.15^L", "v m^3 x 1.15^-L", COMPETITOR]
    assert dict(a.power.alternatives)[COMPETITOR] == 0.0
    assert a.decision.decision == "claim"
    again = assess_neural(cells, n_sim=20, seed=1)
    assert again.power == a.power


def test_censored_cells_are_intervals_and_single_seed_cells_are_left_out() -> None:
    rows = _rows("slc", "recovery", "3", (3, 4), 0, level_offset=1)
    for r in rows:
        r["P_min"], r["P_max"] = 10.0, 1e6
    rows[0]["censored"], rows[0]["value"] = "right", math.nan
    rows[3]["censored"] = "left"
    del rows[4:6]  # cell (m=3, L=4): one seed left
    points, info = probe_threshold_points(rows, "slc", "recovery", lambda L: L - 1, 0.5)
    cell = [p for p in points if (p.m, p.L) == (3, 3)]
    assert len(cell) == 3 and sum(math.isnan(p.P_star) for p in cell) == 1
    assert cell[0].log_interval == (math.log(1e6), math.inf)
    assert not any((p.m, p.L) == (3, 4) for p in points)
    assert info["censored_by_cell"] == {"v=8,m=3,L=3": 1, "v=8,m=3,L=4": 1}
    assert info["cells_with_too_few_seeds"] == ["v=8,m=3,L=4"]
    left = probe_threshold_points(rows[3:4] + rows[3:4], "slc", "recovery",
                                  lambda L: L - 1, 0.5)[0]
    assert left[0].P_star == 10.0 and left[0].log_interval == (-math.inf, math.log(10.0))


@pytest.mark.parametrize("truth", ["3", "L+1"])
def test_checks_on_synthetic_rows(truth: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs_checks.neural_scaling import Data2VecScalingCheck, NeuralScalingCheck

    Ls = (3, 4, 5, 6)
    rows = (_rows("data2vec", "root_probe", truth, Ls, 0, balanced=True)
            + _rows("slc", "recovery", truth, Ls, 1, level_offset=1, balanced=True)
            + _rows("slc-sg", "recovery", truth, Ls, 2, level_offset=1, balanced=True)
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
