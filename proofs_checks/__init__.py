"""Checks of the claims of docs/theory.md: one module per claim, measured vs predicted.

Run them all with ``rhm-theory verify`` (quick grid) or ``rhm-theory verify --full``.
"""

from __future__ import annotations

from proofs_checks._framework import (
    DECISION_VERDICTS,
    CheckResult,
    CheckTask,
    ClaimCheck,
    GridName,
    TaskCheck,
    decision_verdict,
    judge,
    task_results,
)
from proofs_checks.bp_phase_transition import BPPhaseTransitionCheck
from proofs_checks.concentration import ConcentrationCheck
from proofs_checks.depth_scaling import ilc_merge_ablation_check, scaling_checks
from proofs_checks.finite_size import FiniteSizePredictionCheck
from proofs_checks.margin_scaling import margin_checks
from proofs_checks.one_minus_f import OneMinusFCheck
from proofs_checks.synonym_invariance import SynonymInvarianceCheck
from proofs_checks.zipf_tracking import ZipfTrackingCheck

__all__ = [
    "DECISION_VERDICTS",
    "CheckResult",
    "CheckTask",
    "ClaimCheck",
    "GridName",
    "TaskCheck",
    "all_checks",
    "decision_verdict",
    "judge",
    "task_results",
]


def all_checks(device: str = "auto") -> list[ClaimCheck]:
    """Every claim check, in report order (``device``: where the neural checks train).

    To add a check, append an object with ``name``, ``claim``, ``source``, ``cells(grid)``
    and ``evaluate(rows, grid)`` (:class:`ClaimCheck`) to the list; work that is not an ILC
    cell goes in an optional ``tasks(grid)`` (:class:`CheckTask`),
    run resumably in ``OUT/tasks`` by ``rhm-theory verify``.
    """
    checks: list[ClaimCheck] = [
        SynonymInvarianceCheck(),
        *margin_checks(),
        ConcentrationCheck(),
        *scaling_checks(),
        ilc_merge_ablation_check(),
        OneMinusFCheck(),
        FiniteSizePredictionCheck(),
        BPPhaseTransitionCheck(),
        ZipfTrackingCheck(),
    ]
    from rhm_theory.neural import torch_available

    if torch_available():  # the neural claims need the `torch` extra
        from proofs_checks.neural_scaling import neural_checks

        checks.extend(neural_checks(device))
    return checks
