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

import math
from collections.abc import Mapping, Sequence
from typing import Any

from proofs_checks._framework import (
    UNCALIBRATED,
    Alternative,
    CheckResult,
    CheckTask,
    GridName,
    NegativeControl,
    Power,
    Verdict,
)
from proofs_checks.neural_compare import (
    DEFAULT_LOG_SCATTER,
    MIN_SEEDS,
    N_SIM,
    neural_rows,
    neural_tasks,
    pooled_log_scatter,
    scaling_verdict,
    simulate_rule_power,
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

__all__ = [
    "Data2VecScalingCheck",
    "NeuralClaimCheck",
    "NeuralScalingCheck",
    "cpu_grid_result",
    "neural_checks",
    "step_doubling",
]

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

    #: Checks of one evaluation group run in one process (``evaluate_checks``); both neural
    #: checks read the same runs, one task per run shared under this name
    #: (:data:`~proofs_checks.neural_compare.NEURAL_TASKS`), trained once.
    evaluation_group = "neural"

    name: str
    claim: str
    source: str

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def cells(self, grid: GridName) -> list[SweepCell]:
        """None: the neural runs are not sweep cells (see :meth:`tasks`)."""
        return []

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """One task per neural run of the grid, the same for both neural checks
        (:func:`~proofs_checks.neural_compare.neural_tasks`)."""
        return neural_tasks(_grid(grid), self.device)

    def _result(self, grid: GridName, prediction: str, measured: dict[str, Any],
                verdict: Verdict, alternatives: tuple[Alternative, ...],
                negative_control: NegativeControl | None,
                control_cells: dict[str, Any]) -> CheckResult:
        return CheckResult(
            self.name, self.claim, self.source, prediction=prediction, measured=measured,
            predicted={"rescaling": CLAIM}, tolerance=_TOLERANCE, verdict=verdict,
            alternatives=alternatives, negative_control=negative_control,
            # Calibrated only on the decisive CPU grid (cpu_grid_result); here a PASS waits.
            power=None, power_reason=UNCALIBRATED,
            details={"grid": _grid(grid), "device": self.device,
                     "accuracy_fraction": ACCURACY_FRACTION, "control_cells": control_cells})


class Data2VecScalingCheck(NeuralClaimCheck):
    """Root-probe threshold of data2vec collapses in ``v m^3``; the MLM's does not."""

    name = "neural_data2vec_scaling"
    claim = ("data2vec (a masked student regressing an EMA teacher's latents) learns the "
             "root at P ~ v m^3, constant in depth, not at the token-level v m^(L+1).")
    source = "docs/theory.md section 6 (reported); Korchinski-Favero-Wyart 2026, section 5"

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        out = neural_rows(_grid(grid), self.device, rows)
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
        out = neural_rows(_grid(grid), self.device, rows)
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


def _geo_mean(xs: Sequence[float]) -> float:
    finite_xs = [x for x in xs if math.isfinite(x) and x > 0]
    if not finite_xs:
        return math.nan
    return math.exp(sum(math.log(x) for x in finite_xs) / len(finite_xs))


def step_doubling(points_base: Sequence[ThresholdPoint], points_x2: Sequence[ThresholdPoint],
                  factor: float) -> dict[str, Any]:
    """The step-doubling check of the deepest cell: does ``P*`` move with the step budget?

    ``ratio`` = geometric-mean ``P*`` with twice the steps over that with the grid's steps
    (crossed seeds only). ``ok`` is False when the ratio is outside ``[1/factor, factor]``,
    when either budget has a censored seed (the move is then unbounded), or when a budget
    has no point at all (not run).
    """
    base = [p.P_star for p in points_base]
    x2 = [p.P_star for p in points_x2]
    censored = any(not math.isfinite(x) for x in (*base, *x2))
    ratio = _geo_mean(x2) / _geo_mean(base) if base and x2 else math.nan
    ok = bool(base and x2 and not censored and math.isfinite(ratio)
              and 1.0 / factor <= ratio <= factor)
    return {"P_star": base, "P_star_doubled": x2, "ratio": ratio, "factor": factor,
            "censored": censored, "ok": ok}


def cpu_grid_result(rows: Sequence[Mapping[str, Any]], progress: Mapping[str, Any],
                    grid: Any, *, n_sim: int = N_SIM) -> CheckResult:
    """Verdict of the SLC claim from the rows of ``rhm-theory neural verify-cpu``.

    Both arms (``slc``, ``slc-sg``): recovery of level ``L-1`` at the fixed criterion
    (``ACCURACY_FRACTION``), compared under ``v m^3`` and ``v m^(L+1)`` by the
    library's rule (:func:`scaling_verdict`); negative control: the same comparison on the
    masked LM's level-``(L-1)`` probe. The verdict is INCONCLUSIVE, whatever the rule says
    on the rows that exist, when an arm is incomplete, when the step-doubling check of the
    deepest cell moved ``P*`` by more than ``grid.doubling_factor`` (optimisation-limited),
    or (through :class:`CheckResult`) when the rule's simulated power or false-PASS rate
    (:func:`simulate_rule_power` at the measured scatter) is not calibrated.
    """
    from rhm_theory.neural.experiments import add_thresholds

    all_rows = [dict(r) for r in rows]
    add_thresholds(all_rows, (ACCURACY_FRACTION,))
    top = lambda L: L - 1  # noqa: E731
    ctrl_points, ctrl_info = threshold_points_by_cell(all_rows, "mlm", "latent_probe", top,
                                                      ACCURACY_FRACTION)
    control = _compare(ctrl_points)
    verdicts: list[Verdict] = []
    alts: list[Alternative] = []
    measured: dict[str, Any] = {}
    neg = None
    slc_points: list[ThresholdPoint] = []
    for arm in ("slc", "slc-sg"):
        pts, info = threshold_points_by_cell(all_rows, arm, "recovery", top, ACCURACY_FRACTION)
        if arm == "slc":
            slc_points = pts
        comparison = _compare(pts)
        v, (alt,), neg = scaling_verdict(
            comparison, control, "the same comparison on the masked LM's level-(L-1) probe "
            "(token targets: v m^(L+1))", COMPETITOR)
        verdicts.append(v)
        alts.append(type(alt)(f"{alt.name} [{arm}]", alt.rejected, alt.score, alt.details))
        measured[arm] = {"P_star_by_cell": _by_cell(pts), "comparison": comparison.to_dict(),
                         "rule_verdict": v.value, **info}
    rule = _combine(verdicts)
    deepest = max(grid.Ls)
    base_pts, _ = threshold_points_by_cell(all_rows, "slc", "recovery", top, ACCURACY_FRACTION)
    x2_pts, _ = threshold_points_by_cell(all_rows, "slc-x2", "recovery", top,
                                         ACCURACY_FRACTION)
    doubling = step_doubling([p for p in base_pts if p.L == deepest], x2_pts,
                             grid.doubling_factor)
    # Calibration at the measured scatter (the prior DEFAULT_LOG_SCATTER when unmeasured).
    scatter = pooled_log_scatter(slc_points)
    center_pts = [math.log(p.P_star) for p in slc_points if math.isfinite(p.P_star)]
    center = (sum(center_pts) / len(center_pts) if center_pts
              else 0.5 * (math.log(min(grid.Ps)) + math.log(max(grid.Ps))))
    cells = [(grid.v, grid.m, grid.s, L, L - 1) for L in grid.Ls]
    power_claim, false_pass = simulate_rule_power(
        cells, grid.seeds, (min(grid.Ps), max(grid.Ps)), center,
        scatter if scatter is not None else DEFAULT_LOG_SCATTER, CLAIM, [COMPETITOR],
        n_sim=n_sim)
    power = Power(power_claim, false_pass, n_sim)
    incomplete = sorted(a for a, p in progress.items() if p["done"] < p["planned"])
    reasons = []
    if incomplete:
        reasons.append("grid incomplete: " + ", ".join(
            f"{a} {progress[a]['done']}/{progress[a]['planned']} runs" for a in incomplete))
    if not doubling["ok"]:
        reasons.append(f"step-doubling check not passed (ratio {doubling['ratio']:.3g}, "
                       f"allowed factor {grid.doubling_factor}, censored "
                       f"{doubling['censored']}): optimisation-limited or not run")
    verdict = Verdict.INCONCLUSIVE if reasons else rule
    measured.update({"rule_verdict_on_rows_present": rule.value, "step_doubling": doubling,
                     "progress": dict(progress), "log_scatter": scatter,
                     "log_center": center, "inconclusive_reasons": reasons})
    return CheckResult(
        "neural_slc_scaling_cpu",
        NeuralScalingCheck.claim,
        NeuralScalingCheck.source,
        prediction="log P*(recovery of level L-1) collapses under v m^3 better than under "
        "v m^(L+1), the latter rejected, for both arms; P* stable under step doubling",
        measured=measured, predicted={"rescaling": CLAIM}, tolerance=_TOLERANCE,
        verdict=verdict, alternatives=tuple(alts), negative_control=neg,
        details={"grid": grid.to_dict(), "device": "cpu",
                 "accuracy_fraction": ACCURACY_FRACTION, "control_cells": ctrl_info,
                 "control_comparison": control.to_dict()},
        power=power)
