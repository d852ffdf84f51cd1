"""Claims: data2vec and the SLC network learn the hierarchy at P ~ v m^3, not v m^(L+1).

Both checks train on the grid of :func:`rhm_theory.neural.experiments.scaling_grid`
(``"quick"`` in the default verification, ``"full"`` with ``--full``), decide the law
``v m^3`` on the depth axis with the library's rule (:func:`rhm_theory.scaling.decide`,
through :func:`proofs_checks.neural_compare.neural_verdict`; the token-level competitor
``v m^(L+1)`` reported beside it) and run the same rule on the masked-LM baseline, where
the claim is false, as negative control. The quick grid (two depths, one
``m``, 150 steps) is not built to decide and is expected to be INCONCLUSIVE.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from proofs_checks._framework import (
    UNCALIBRATED,
    Alternative,
    CheckResult,
    CheckTask,
    GridName,
    NegativeControl,
    Verdict,
)
from proofs_checks.neural_compare import (
    CLAIM,
    N_SIM,
    assess_neural,
    neural_rows,
    neural_tasks,
    neural_verdict,
)
from rhm_theory.scaling import ThresholdPoint
from rhm_theory.sweeps.probe_points import MIN_SEEDS, probe_threshold_points
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
_TOLERANCE = (f"the library's rule on the depth axis (log P* - log v m^3 = c + d L; FAIL if "
              f"the 97.5% interval of d excludes 0, PASS if its 90% interval lies inside "
              f"+-log 1.12); cells of >= {MIN_SEEDS} seeds; thresholds outside the P grid "
              f"as interval data")


def _points(rows: Sequence[Mapping[str, Any]], method: str, metric: str,
            level_of: Callable[[int], int]) -> tuple[list[ThresholdPoint], dict[str, Any]]:
    return probe_threshold_points(rows, method, metric, level_of, ACCURACY_FRACTION)


def _shown(p: ThresholdPoint) -> float | str:
    """``P*``, or a censored threshold as its bound (``"> 16384"``, ``"< 256"``)."""
    lo, hi = p.log_interval
    if p.censored and math.isfinite(lo):
        return f"> {math.exp(lo):.0f}"
    if p.censored and math.isfinite(hi):
        return f"< {math.exp(hi):.0f}"
    return p.P_star


def _by_cell(points: Sequence[ThresholdPoint]) -> dict[str, list[float | str]]:
    """``P*`` per cell (:func:`_shown`)."""
    out: dict[str, list[float | str]] = {}
    for p in points:
        out.setdefault(f"v={p.v},m={p.m},L={p.L}", []).append(_shown(p))
    return out


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
        return neural_tasks(grid, self.device)

    def _result(self, grid: GridName, prediction: str, measured: dict[str, Any],
                verdict: Verdict, alternatives: tuple[Alternative, ...],
                negative_control: NegativeControl | None,
                control_cells: dict[str, Any]) -> CheckResult:
        return CheckResult.judged(
            self.name, self.claim, self.source, prediction=prediction, measured=measured,
            predicted={"rescaling": CLAIM}, tolerance=_TOLERANCE, verdict=verdict,
            alternatives=alternatives, negative_control=negative_control,
            # Calibrated only on the decisive CPU grid (cpu_grid_result); here a PASS waits.
            power=None, power_reason=UNCALIBRATED,
            details={"grid": grid, "device": self.device,
                     "accuracy_fraction": ACCURACY_FRACTION, "control_cells": control_cells})


class Data2VecScalingCheck(NeuralClaimCheck):
    """Root-probe threshold of data2vec collapses in ``v m^3``; the MLM's does not."""

    name = "neural_data2vec_scaling"
    claim = ("data2vec (a masked student regressing an EMA teacher's latents) learns the "
             "root at P ~ v m^3, constant in depth, not at the token-level v m^(L+1).")
    source = "docs/theory.md section 6 (reported); Korchinski-Favero-Wyart 2026, section 5"

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        out = neural_rows(grid, self.device, rows)
        root = lambda L: L  # noqa: E731 - the root probe is level L
        cells, info = _points(out, "data2vec", "root_probe", root)
        ctrl_cells, ctrl_info = _points(out, "mlm", "root_probe", root)
        verdict, alts, neg, decision = neural_verdict(
            cells, ctrl_cells,
            "the same rule on the masked-LM baseline (token targets: v m^(L+1))")
        return self._result(
            grid, "log P*(root probe) - log v m^3 has no trend in depth",
            {"P_star_by_cell": _by_cell(cells), "decision": decision.to_dict(),
             "sentence": decision.sentence(), **info},
            verdict, alts, neg, ctrl_info)


class NeuralScalingCheck(NeuralClaimCheck):
    """Top non-root level recovery of the SLC network (both arms) collapses in ``v m^3``."""

    name = "neural_slc_scaling"
    claim = ("A stacked latent-clustering network trained by gradient descent to predict its "
             "own latents recovers the latent tree at P ~ v m^3, not v m^(L+1), with or "
             "without stop-gradients between modules.")
    source = "docs/theory.md section 6 (reported); Korchinski-Favero-Wyart 2026, SLC experiments"

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        out = neural_rows(grid, self.device, rows)
        top = lambda L: L - 1  # noqa: E731 - the root is not identifiable without labels
        ctrl_cells, ctrl_info = _points(out, "mlm", "latent_probe", top)
        verdicts, alts, measured = [], [], {}
        neg = None
        for arm in ("slc", "slc-sg"):
            cells, info = _points(out, arm, "recovery", top)
            v, (alt,), neg, decision = neural_verdict(
                cells, ctrl_cells,
                "the same rule on the masked-LM baseline's level-(L-1) probe "
                "(token targets: v m^(L+1))")
            verdicts.append(v)
            alts.append(type(alt)(f"{alt.name} [{arm}]", alt.rejected, alt.score, alt.details))
            measured[arm] = {"P_star_by_cell": _by_cell(cells),
                             "decision": decision.to_dict(), "sentence": decision.sentence(),
                             "verdict": v.value, **info}
        return self._result(
            grid, "log P*(recovery of level L-1) - log v m^3 has no trend in depth, for both "
            "arms",
            measured, _combine(verdicts), tuple(alts), neg, ctrl_info)


def neural_checks(device: str = "auto") -> list[Data2VecScalingCheck | NeuralScalingCheck]:
    """Both neural checks (for :func:`proofs_checks.all_checks`)."""
    return [Data2VecScalingCheck(device), NeuralScalingCheck(device)]


def _mean_log_interval(points: Sequence[ThresholdPoint]) -> tuple[float, float]:
    """The interval holding the mean over ``points`` of ``log P*`` (censored ones bounds)."""
    ends = [p.log_interval for p in points]
    return (sum(a for a, _ in ends) / len(ends), sum(b for _, b in ends) / len(ends))


def step_doubling(points_base: Sequence[ThresholdPoint], points_x2: Sequence[ThresholdPoint],
                  factor: float) -> dict[str, Any]:
    """The step-doubling check of the deepest cell: does ``P*`` move with the step budget?

    Per budget the mean over seeds of ``log P*`` is an interval (a point when no seed is
    censored, a half-line when one is: :attr:`ThresholdPoint.log_interval`), so the move
    ``log(P*_doubled / P*)`` is an interval too. ``moved``: it lies wholly outside
    ``[-log factor, log factor]`` (twice the steps shift ``P*`` by more than ``factor``:
    optimisation-limited); ``stable``: wholly inside. ``ok`` is True when both budgets have
    points and the move is not ``moved``. Without censoring the move is the log of
    ``ratio``, the geometric-mean ``P*`` with twice the steps over that with the grid's
    steps (the rule as first fixed); with censoring ``ratio`` is NaN and ``ratio_bounds``
    bracket it. A seed censored under both budgets leaves the move unbounded: not shown
    to move, so ``ok`` (rule fixed on 2026-12-04, before the stop-gradient arm's doubled
    runs; until then any censored seed made the check fail).
    """
    if not points_base or not points_x2:
        return {"P_star": [_shown(p) for p in points_base],
                "P_star_doubled": [_shown(p) for p in points_x2], "ratio": math.nan,
                "ratio_bounds": [math.nan, math.nan], "factor": factor, "censored": False,
                "moved": False, "stable": False, "ok": False}
    b_lo, b_hi = _mean_log_interval(points_base)
    x_lo, x_hi = _mean_log_interval(points_x2)
    lo, hi = x_lo - b_hi, x_hi - b_lo  # bounds of the mean log move
    censored = any(p.censored for p in (*points_base, *points_x2))
    bound = math.log(factor)
    moved = lo > bound or hi < -bound
    stable = -bound <= lo and hi <= bound
    return {"P_star": [_shown(p) for p in points_base],
            "P_star_doubled": [_shown(p) for p in points_x2],
            "ratio": math.exp(lo) if lo == hi else math.nan,
            "ratio_bounds": [math.exp(lo), math.exp(hi)], "factor": factor,
            "censored": censored, "moved": moved, "stable": stable, "ok": not moved}


def cpu_grid_result(rows: Sequence[Mapping[str, Any]], progress: Mapping[str, Any],
                    grid: Any, *, n_sim: int = N_SIM) -> CheckResult:
    """Verdict of the SLC claim from the rows of ``rhm-theory neural verify-cpu``.

    Both arms (``slc``, ``slc-sg``): recovery of level ``L-1`` at the fixed criterion
    (``ACCURACY_FRACTION``), the law ``v m^3`` decided on the depth axis by the library's
    rule (:func:`~proofs_checks.neural_compare.neural_verdict`; censored thresholds as
    interval data); negative control: the same rule on the masked LM's level-``(L-1)``
    probe. The verdict is INCONCLUSIVE, whatever the
    rule says on the rows that exist, when an arm is incomplete, when an arm's
    step-doubling check (:func:`step_doubling`, the deepest cell with twice the steps:
    ``slc-x2``, ``slc-sg-x2``) shows ``P*`` moved by more than ``grid.doubling_factor``
    (optimisation-limited), or (through :func:`~proofs_checks._framework.judge`) when the
    rule's simulated error rates (:func:`~proofs_checks.neural_compare.assess_neural`, the
    noise of the end-to-end arm's own rows) are not calibrated in the verdict's direction.
    """
    from rhm_theory.neural.cpu_grid import DOUBLED_ARMS
    from rhm_theory.neural.experiments import add_thresholds

    all_rows = [dict(r) for r in rows]
    add_thresholds(all_rows, (ACCURACY_FRACTION,))
    top = lambda L: L - 1  # noqa: E731
    ctrl_points, ctrl_info = _points(all_rows, "mlm", "latent_probe", top)
    verdicts: list[Verdict] = []
    alts: list[Alternative] = []
    measured: dict[str, Any] = {}
    neg = None
    slc_points: list[ThresholdPoint] = []
    deepest = max(grid.Ls)
    doubling: dict[str, dict[str, Any]] = {}
    for arm in ("slc", "slc-sg"):
        pts, info = _points(all_rows, arm, "recovery", top)
        if arm == "slc":
            slc_points = pts
        v, (alt,), neg, decision = neural_verdict(
            pts, ctrl_points, "the same rule on the masked LM's level-(L-1) probe "
            "(token targets: v m^(L+1))")
        verdicts.append(v)
        alts.append(type(alt)(f"{alt.name} [{arm}]", alt.rejected, alt.score, alt.details))
        x2_pts, _ = _points(all_rows, DOUBLED_ARMS[arm], "recovery", top)
        doubling[arm] = step_doubling([p for p in pts if p.L == deepest], x2_pts,
                                      grid.doubling_factor)
        measured[arm] = {"P_star_by_cell": _by_cell(pts), "decision": decision.to_dict(),
                         "sentence": decision.sentence(), "rule_verdict": v.value,
                         "step_doubling": doubling[arm], **info}
    rule = _combine(verdicts)
    # Calibration on the noise of the end-to-end arm's own rows.
    assessment = assess_neural(slc_points, n_sim=n_sim) if slc_points else None
    power = None if assessment is None else assessment.power
    incomplete = sorted(a for a, p in progress.items() if p["done"] < p["planned"])
    reasons = []
    if incomplete:
        reasons.append("grid incomplete: " + ", ".join(
            f"{a} {progress[a]['done']}/{progress[a]['planned']} runs" for a in incomplete))
    for arm, d in doubling.items():
        if not (d["P_star"] and d["P_star_doubled"]):
            # No ratio to show: say which budget has no runs, not a NaN interval.
            missing = [name for name, pts in (("grid's", d["P_star"]),
                                              ("doubled", d["P_star_doubled"])) if not pts]
            reasons.append(f"step-doubling check of {arm} not run (no thresholds with the "
                           f"{' and the '.join(missing)} step budget)")
        elif not d["ok"]:
            lo, hi = d["ratio_bounds"]
            reasons.append(f"step-doubling check of {arm} not passed (P* ratio in "
                           f"[{lo:.3g}, {hi:.3g}], allowed factor {grid.doubling_factor}): "
                           "optimisation-limited")
    verdict = Verdict.INCONCLUSIVE if reasons else rule
    measured.update({"rule_verdict_on_rows_present": rule.value,
                     "step_doubling": doubling["slc"], "progress": dict(progress),
                     "calibration": None if assessment is None
                     else assessment.to_dict(),
                     "inconclusive_reasons": reasons})
    return CheckResult.judged(
        "neural_slc_scaling_cpu",
        NeuralScalingCheck.claim,
        NeuralScalingCheck.source,
        prediction="log P*(recovery of level L-1) - log v m^3 has no trend in depth, for both "
        "arms; P* not moved by step doubling",
        measured=measured, predicted={"rescaling": CLAIM}, tolerance=_TOLERANCE,
        verdict=verdict, alternatives=tuple(alts), negative_control=neg,
        details={"grid": grid.to_dict(), "device": "cpu",
                 "accuracy_fraction": ACCURACY_FRACTION, "control_cells": ctrl_info},
        power=power, power_reason=None if power is not None else "no SLC thresholds")
