"""Checks of the claims of THEORY.md: one module per claim, each returning measured vs predicted.

Run them all with ``rhm-theory verify`` (quick grid) or ``rhm-theory verify --full``.
"""

from __future__ import annotations

from proofs_checks._framework import CheckResult, ClaimCheck, GridName
from proofs_checks.bp_phase_transition import BPPhaseTransitionCheck
from proofs_checks.concentration import ConcentrationCheck
from proofs_checks.depth_scaling import BaselineDepthCheck, IlcDepthCheck
from proofs_checks.finite_size import FiniteSizePredictionCheck
from proofs_checks.margin_scaling import MarginScalingCheck
from proofs_checks.synonym_invariance import SynonymInvarianceCheck
from proofs_checks.theorem_bound import TheoremBoundCheck

__all__ = ["CheckResult", "ClaimCheck", "GridName", "all_checks"]


def all_checks(device: str = "auto") -> list[ClaimCheck]:
    """Every claim check, in report order (``device``: where the neural check trains)."""
    checks: list[ClaimCheck] = [
        SynonymInvarianceCheck(),
        MarginScalingCheck(),
        ConcentrationCheck(),
        IlcDepthCheck(),
        BaselineDepthCheck("token"),
        BaselineDepthCheck("label"),
        TheoremBoundCheck(),
        FiniteSizePredictionCheck(),
        BPPhaseTransitionCheck(),
    ]
    from rhm_theory.neural import torch_available

    if torch_available():  # the neural claim needs the `torch` extra
        from proofs_checks.neural_scaling import NeuralScalingCheck

        checks.append(NeuralScalingCheck(device))
    return checks
