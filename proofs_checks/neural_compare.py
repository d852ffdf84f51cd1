"""Neural runs as tasks, their rows as threshold points, and the neural checks' verdict.

The decision is the library's one rule (:func:`rhm_theory.scaling.decide`) on the depth
axis: a neural grid has one ``(v, m)``, so the law ``v m^3`` speaks about depth alone.
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
    decision_verdict,
    task_results,
)
from rhm_theory.scaling import (
    Assessment,
    Law,
    ScalingDecision,
    ThresholdPoint,
    assess,
    decide,
    law,
    near_alternatives,
)

__all__ = [
    "AXES",
    "CLAIM",
    "COMPETITOR",
    "DECISIVE_WORKERS",
    "NEURAL_TASKS",
    "N_SIM",
    "assess_neural",
    "neural_rows",
    "neural_run",
    "neural_tasks",
    "neural_verdict",
]

#: The law the neural claims make, and the token-level competitor (docs/theory.md section 6).
CLAIM, COMPETITOR = "v m^3", "v m^(L+1)"
#: The axes a neural grid (one ``(v, m)``, several depths) can speak about.
AXES = ("L",)

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


def neural_verdict(
    points: Sequence[ThresholdPoint], control_points: Sequence[ThresholdPoint],
    control_description: str,
) -> tuple[Verdict, tuple[Alternative, ...], NegativeControl, ScalingDecision]:
    """Verdict of the neural claim on ``points``, before calibration: the library's rule
    (:func:`rhm_theory.scaling.decide`, law :data:`CLAIM`, axes :data:`AXES`) mapped by
    :func:`~proofs_checks._framework.decision_verdict`, gated by its negative control (the
    same rule on ``control_points``, where the claim is false: it must FAIL). The
    competitor's own decision is reported as the alternative.
    """
    claim = law(CLAIM)
    decision = decide(points, claim, axes=AXES)
    ctrl = decide(control_points, claim, axes=AXES)
    neg = NegativeControl(control_description, decision_verdict(ctrl.decision),
                          {"sentence": ctrl.sentence(), **ctrl.to_dict()})
    comp = decide(points, law(COMPETITOR), axes=AXES)
    alt = Alternative(COMPETITOR, comp.decision == "rejected", math.nan,
                      {"decision": comp.decision, "sentence": comp.sentence()})
    return (control_gate(decision_verdict(decision.decision), neg), (alt,), neg, decision)


#: Grids simulated per law in the calibration of a neural verdict (rates to about +-0.03).
N_SIM = 200


def assess_neural(points: Sequence[ThresholdPoint], *, n_sim: int = N_SIM,
                  seed: int = 0) -> Assessment:
    """The claim's decision and its error rates on rows simulated from ``points``' own noise
    (:func:`rhm_theory.scaling.assess`): near alternatives in depth (``1.15^L`` either way)
    and the token-level competitor."""
    claim: Law = law(CLAIM)
    alternatives = {**near_alternatives(claim, AXES), COMPETITOR: law(COMPETITOR)}
    return assess(points, claim, axes=AXES, alternatives=alternatives, n_sim=n_sim, seed=seed)
