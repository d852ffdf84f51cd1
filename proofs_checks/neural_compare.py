"""Neural rows as the library's threshold points, and the neural checks' verdict rule.

The competitor comparison itself is :func:`rhm_theory.sweeps.collapse.compare_rescalings`
(bootstrap over grammar seeds, decision rule of :class:`CollapseComparison`): the neural
threshold rows of :func:`rhm_theory.neural.experiments.probe_thresholds` are adapted into
its :class:`~rhm_theory.sweeps.collapse.ThresholdPoint` s here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from proofs_checks._framework import (
    Alternative,
    CheckTask,
    NegativeControl,
    Verdict,
    control_gate,
    task_results,
)
from proofs_checks.depth_scaling import decision_verdict
from rhm_theory.sweeps.collapse import Censoring, CollapseComparison, ThresholdPoint
from rhm_theory.sweeps.decisions import COMPARISON_DECISIONS
from rhm_theory.sweeps.probe_points import MIN_SEEDS as MIN_SEEDS
from rhm_theory.sweeps.probe_points import pooled_log_scatter as pooled_log_scatter
from rhm_theory.sweeps.probe_points import probe_threshold_points

#: The library's :func:`~rhm_theory.sweeps.probe_points.probe_threshold_points` under the
#: name the neural checks first gave it (importable; not re-documented here).
threshold_points_by_cell = probe_threshold_points

__all__ = [
    "CENSORING",
    "DECISIVE_WORKERS",
    "DEFAULT_LOG_SCATTER",
    "NEURAL_TASKS",
    "N_SIM",
    "N_SIM_BOOTSTRAP",
    "neural_rows",
    "neural_run",
    "neural_tasks",
    "scaling_verdict",
    "simulate_rule_power",
    "simulate_rule_rates",
]

#: How the neural comparisons read a threshold outside the ``P`` grid: as interval data
#: (``"interval"`` of :func:`~rhm_theory.sweeps.collapse.compare_rescalings`). It was
#: ``"missing"`` until 2026-12-04, when the CPU grid's masked-LM control never crossed at
#: ``L >= 4`` and so could not FAIL: a learner whose threshold leaves the grid is the
#: strongest evidence against a flat law, not an absence of evidence (docs/results.md,
#: design changes: a rule changed after seeing the rows).
CENSORING: Censoring = "interval"

#: The ``check`` of the neural runs' tasks: both neural checks (evaluation group
#: ``"neural"``) read the same runs, so each run is one task shared by both.
NEURAL_TASKS = "neural"
#: Runs sharing the device at once in the decisive grid's plan (its estimated hours; the
#: runs themselves go to the verification's workers, one run per task).
DECISIVE_WORKERS = 4


def neural_run(spec: dict[str, Any], device: str, threads: int) -> list[dict[str, Any]]:
    """The rows of one neural run (:func:`rhm_theory.neural.experiments.execute_run`) on
    ``device`` with ``threads`` torch threads (0: torch's default): a task's value."""
    from rhm_theory.neural.experiments import RunSpec, execute_run

    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return execute_run(RunSpec.from_dict(spec), device=device)


def _runs(grid: str, device: str) -> tuple[list[dict[str, Any]], tuple[float, ...], str]:
    from rhm_theory.neural.experiments import METHODS, grid_runs, scaling_grid
    from rhm_theory.neural.training import resolve_device

    kind = resolve_device(device).type
    if grid == "full":
        from rhm_theory.neural.plan import make_plan

        plan = make_plan(kind, None, runs_per_device=DECISIVE_WORKERS)
        return [dict(r) for r in plan.runs], tuple(plan.accuracy_fractions), kind
    g = scaling_grid(grid)
    return ([spec.to_dict() for spec in grid_runs(g, METHODS)],
            tuple(g["accuracy_fractions"]), kind)


def neural_tasks(grid: str, device: str) -> list[CheckTask]:
    """One task per run of every neural method on ``grid`` (``"quick"`` or ``"full"``).

    The device is resolved here (``"auto"`` becomes ``"cpu"`` or ``"cuda"``, part of the
    key); the decisive grid on a CPU trains each run on one torch thread, as its plan did,
    the quick grid with torch's default threads, as the in-process runs did before.
    """
    runs, _, kind = _runs(grid, device)
    threads = 1 if grid == "full" and kind == "cpu" else 0
    return [CheckTask(NEURAL_TASKS, neural_run,
                      (("spec", run), ("device", kind), ("threads", threads)),
                      cost=float(run["steps"] * run["batch_size"] * run["s"] ** run["L"]))
            for run in runs]


def neural_rows(grid: str, device: str,
                rows: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Rows of every neural method on ``grid``: each run's rows (from its task's row in
    ``rows``, the verification's ``OUT/tasks``; a run missing there is trained here), in
    the grid's order, followed by the threshold rows of every accuracy criterion."""
    from rhm_theory.neural.experiments import add_thresholds

    tasks = neural_tasks(grid, device)
    out = [dict(r) for run in task_results(tasks, rows) for r in run]
    add_thresholds(out, _runs(grid, device)[1])
    return out


def scaling_verdict(
    comparison: CollapseComparison, control: CollapseComparison, control_description: str,
    competitor: str,
) -> tuple[Verdict, tuple[Alternative, ...], NegativeControl]:
    """Verdict of a claim from its comparison and its negative control's comparison.

    Both comparisons come from :func:`rhm_theory.sweeps.collapse.compare_rescalings`
    and are read with its fixed rule (:meth:`CollapseComparison.decision`). FAIL when a
    competitor is preferred to the claim's rescaling (``"rejected"``); PASS only when the
    decision is ``"claim"`` (the ``competitor`` rejected) *and* the negative control fails
    (the same comparison on rows where the claim is false rejects the claim there);
    INCONCLUSIVE otherwise.
    """
    neg = NegativeControl(control_description, decision_verdict(control, competitor),
                          control.to_dict())
    alt = Alternative(competitor, comparison.rejected(competitor),
                      float(comparison.scores.get(competitor, math.nan)), comparison.to_dict())
    return control_gate(decision_verdict(comparison, competitor), neg), (alt,), neg


#: Grids simulated per law by :func:`simulate_rule_power` (PASS rates known to about +-0.03).
N_SIM = 200
#: Bootstrap resamples inside each simulated comparison (the real check uses N_BOOTSTRAP;
#: fewer keep the simulation cheap and move the win fractions by about +-0.015).
N_SIM_BOOTSTRAP = 200
#: Within-cell scatter of ``log P*`` assumed when the rows give no estimate (fewer than
#: two cells with two crossed seeds): ``log 2 / 2``, half a factor of two per seed.
DEFAULT_LOG_SCATTER = 0.35


def simulate_rule_rates(
    cells: Sequence[tuple[int, int, int, int, int]],
    seeds: Sequence[int],
    P_range: tuple[float, float],
    log_center: float,
    log_scatter: float,
    claim: str,
    alternatives: Sequence[str],
    *,
    n_sim: int = N_SIM,
    seed: int = 0,
    censoring: Censoring = "missing",
    also_simulate: Sequence[str] = (),
) -> dict[str, dict[str, float]]:
    """Rates of each decision of the comparison rule on grids simulated under each law.

    Each simulated grid has one threshold per ``cell`` ``(v, m, s, L, level)`` and grammar
    seed: ``log P* = log_center + (log scale_law(cell) - mean over cells) + N(0,
    log_scatter^2)``, so every law is anchored at the same overall level ``log_center``
    (the measured one); thresholds outside ``P_range`` (the grid's smallest and largest
    ``P``) are censored, as the real curves are, and read as ``censoring`` says
    (:func:`~rhm_theory.sweeps.collapse.compare_rescalings`). Returns, for the claim and
    each alternative law, the fraction of grids on which
    :meth:`CollapseComparison.decision` against the first alternative says ``"claim"``,
    ``"rejected"`` and ``"undecided"``. ``also_simulate`` names further laws (keys of
    ``CANDIDATES``, e.g. the near alternatives of the claim) under which grids are simulated
    and scored by the same, unchanged rule: their ``"claim"`` rate is a false-PASS rate.
    """
    import numpy as np

    from rhm_theory.sweeps.collapse import CANDIDATES, compare_rescalings
    from rhm_theory.validation import check_random_state

    rng = check_random_state(seed)
    lo, hi = math.log(P_range[0]), math.log(P_range[1])

    def rates(law: str) -> dict[str, float]:
        scale = np.array([CANDIDATES[law].log_scale(*c) for c in cells])
        mu = log_center + scale - scale.mean()
        counts = dict.fromkeys(COMPARISON_DECISIONS, 0)
        for _ in range(n_sim):
            pts = []
            for j, c in enumerate(cells):
                for sd in seeds:
                    x = float(mu[j] + log_scatter * rng.standard_normal())
                    if lo <= x <= hi:
                        p_star = math.exp(x)
                    else:  # below the grid: crossed at P_min already; above: never
                        p_star = P_range[0] if x < lo and censoring == "interval" else math.nan
                    pts.append(ThresholdPoint(*c, int(sd), p_star, P_range[0], P_range[1]))
            cmp_ = compare_rescalings(pts, claim, list(alternatives),
                                      seed=int(rng.integers(2**31)),
                                      n_bootstrap=N_SIM_BOOTSTRAP, censoring=censoring)
            counts[cmp_.decision(alternatives[0])] += 1
        return {k: n / n_sim for k, n in counts.items()}

    laws = dict.fromkeys((claim, *alternatives, *also_simulate))  # ordered, no repeats
    return {law: rates(law) for law in laws}


def simulate_rule_power(
    cells: Sequence[tuple[int, int, int, int, int]],
    seeds: Sequence[int],
    P_range: tuple[float, float],
    log_center: float,
    log_scatter: float,
    claim: str,
    alternatives: Sequence[str],
    *,
    n_sim: int = N_SIM,
    seed: int = 0,
    censoring: Censoring = "missing",
) -> tuple[float, tuple[tuple[str, float], ...]]:
    """PASS rates of the comparison rule on grids simulated under the claim and each law.

    A grid PASSes when :meth:`CollapseComparison.decision` says ``"claim"`` against the
    first alternative (the rule of :func:`scaling_verdict` before its negative-control
    gate); the simulation is :func:`simulate_rule_rates`'.

    Returns
    -------
    (power, ((alternative, false_pass), ...))
    """
    r = simulate_rule_rates(cells, seeds, P_range, log_center, log_scatter, claim,
                            alternatives, n_sim=n_sim, seed=seed, censoring=censoring)
    return r[claim]["claim"], tuple((a, r[a]["claim"]) for a in alternatives)
