"""Claims: data2vec and the SLC network learn the hierarchy at P ~ v m^3, not v m^(L+1).

Both checks train on the grid of :func:`rhm_theory.neural.experiments.scaling_grid`
(``"quick"`` in the default verification, ``"decisive"`` with ``--full``), compare the
collapse of ``log P*`` under the claim's rescaling ``v m^3`` and the token-level
competitor ``v m^(L+1)`` on the same rows (bootstrap over grammar seeds,
:func:`rhm_theory.sweeps.collapse.compare_rescalings`, rows adapted by
:mod:`proofs_checks.neural_compare`), and run the same comparison on the masked-LM
baseline, where the claim is false, as negative control. The quick grid (two depths, one
``m``, 150 steps) is not built to decide and is expected to be INCONCLUSIVE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proofs_checks._framework import (
    Alternative,
    CheckResult,
    GridName,
    NegativeControl,
    Verdict,
)
from proofs_checks.neural_compare import (
    MIN_SEEDS,
    neural_rows,
    scaling_verdict,
    threshold_points_by_cell,
)
from rhm_theory.sweeps.collapse import (
    MAX_MISSING_FRACTION,
    N_BOOTSTRAP,
    REJECT_FRACTION,
    WIN_FRACTION,
    CollapseComparison,
    ThresholdPoint,
    compare_rescalings,
)
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["Data2VecScalingCheck", "NeuralClaimCheck", "NeuralScalingCheck", "neural_checks"]

#: Accuracy criterion of every probe threshold: chance + half the way from chance to 1
#: (the midpoint of the sigmoidal learning curve; fixed before any run).
ACCURACY_FRACTION = 0.5
#: The claim's rescaling and its decisive competitor (docs/theory.md sections 4 and 10).
CLAIM, COMPETITOR = "v m^3", "v m^(L+1)"
_TOLERANCE = (f"bootstrap ({N_BOOTSTRAP} resamples of the grammar seeds) of the collapse "
              f"scores: the claim wins in >= {WIN_FRACTION} and the competitor collapses "
              f"worse in >= {REJECT_FRACTION} of resamples; >= 3 cells, <= "
              f"{MAX_MISSING_FRACTION} censored thresholds; cells need >= {MIN_SEEDS} seeds "
              f"with an uncensored threshold")


def _compare(points: Sequence[ThresholdPoint]) -> CollapseComparison:
    return compare_rescalings(points, CLAIM, [COMPETITOR])


def _by_cell(points: Sequence[ThresholdPoint]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for p in points:
        out.setdefault(f"v={p.v},m={p.m},L={p.L}", []).append(p.P_star)
    return out


def _grid(grid: GridName) -> str:
    return "decisive" if grid == "full" else "quick"


def _combine(verdicts: Sequence[Verdict]) -> Verdict:
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if all(v is Verdict.PASS for v in verdicts):
        return Verdict.PASS
    return Verdict.INCONCLUSIVE


class NeuralClaimCheck:
    """Base of the neural claim checks: the device, no sweep cells, the result's frame.

    Parameters
    ----------
    device : str
        Where the runs train (``"auto"``, ``"cpu"`` or ``"cuda"``).
    """

    name: str
    claim: str
    source: str

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def cells(self, grid: GridName) -> list[SweepCell]:
        """None: the neural runs are not sweep cells (see :func:`neural_rows`)."""
        return []

    def _result(self, grid: GridName, prediction: str, measured: dict[str, Any],
                verdict: Verdict, alternatives: tuple[Alternative, ...],
                negative_control: NegativeControl | None,
                control_cells: dict[str, Any]) -> CheckResult:
        return CheckResult(
            self.name, self.claim, self.source, prediction=prediction, measured=measured,
            predicted={"rescaling": CLAIM}, tolerance=_TOLERANCE, verdict=verdict,
            alternatives=alternatives, negative_control=negative_control,
            details={"grid": _grid(grid), "device": self.device,
                     "accuracy_fraction": ACCURACY_FRACTION, "control_cells": control_cells})


class Data2VecScalingCheck(NeuralClaimCheck):
    """Root-probe threshold of data2vec collapses in ``v m^3``; the MLM's does not."""

    name = "neural_data2vec_scaling"
    claim = ("data2vec (a masked student regressing an EMA teacher's latents) learns the "
             "root at P ~ v m^3, constant in depth, not at the token-level v m^(L+1).")
    source = "docs/theory.md section 6 (reported); Korchinski-Favero-Wyart 2026, section 5"

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        out = neural_rows(_grid(grid), self.device)
        root = lambda L: L  # noqa: E731 - the root probe is level L
        cells, info = threshold_points_by_cell(out, "data2vec", "root_probe", root,
                                               ACCURACY_FRACTION)
        ctrl_cells, ctrl_info = threshold_points_by_cell(out, "mlm", "root_probe", root,
                                                         ACCURACY_FRACTION)
        comparison = _compare(cells)
        verdict, alts, neg = scaling_verdict(
            comparison, _compare(ctrl_cells),
            "the same comparison on the masked-LM baseline (token targets: v m^(L+1))",
            COMPETITOR)
        return self._result(
            grid, "log P*(root probe) collapses under v m^3 better than under v m^(L+1), "
            "the latter rejected",
            {"P_star_by_cell": _by_cell(cells), "comparison": comparison.to_dict(), **info},
            verdict, alts, neg, ctrl_info)


class NeuralScalingCheck(NeuralClaimCheck):
    """Top non-root level recovery of the SLC network (both arms) collapses in ``v m^3``."""

    name = "neural_slc_scaling"
    claim = ("A stacked latent-clustering network trained by gradient descent to predict its "
             "own latents recovers the latent tree at P ~ v m^3, not v m^(L+1), with or "
             "without stop-gradients between modules.")
    source = "docs/theory.md section 6 (reported); Korchinski-Favero-Wyart 2026, SLC experiments"

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        out = neural_rows(_grid(grid), self.device)
        top = lambda L: L - 1  # noqa: E731 - the root is not identifiable without labels
        ctrl_cells, ctrl_info = threshold_points_by_cell(out, "mlm", "latent_probe", top,
                                                         ACCURACY_FRACTION)
        control = _compare(ctrl_cells)
        verdicts, alts, measured = [], [], {}
        neg = None
        for arm in ("slc", "slc-sg"):
            cells, info = threshold_points_by_cell(out, arm, "recovery", top, ACCURACY_FRACTION)
            comparison = _compare(cells)
            v, (alt,), neg = scaling_verdict(
                comparison, control,
                "the same comparison on the masked-LM baseline's level-(L-1) probe "
                "(token targets: v m^(L+1))", COMPETITOR)
            verdicts.append(v)
            alts.append(type(alt)(f"{alt.name} [{arm}]", alt.rejected, alt.score, alt.details))
            measured[arm] = {"P_star_by_cell": _by_cell(cells),
                             "comparison": comparison.to_dict(), "verdict": v.value, **info}
        return self._result(
            grid, "log P*(recovery of level L-1) collapses under v m^3 better than under "
            "v m^(L+1), the latter rejected, for both arms",
            measured, _combine(verdicts), tuple(alts), neg, ctrl_info)


def neural_checks(device: str = "auto") -> list[Data2VecScalingCheck | NeuralScalingCheck]:
    """Both neural checks (for :func:`proofs_checks.all_checks`)."""
    return [Data2VecScalingCheck(device), NeuralScalingCheck(device)]
