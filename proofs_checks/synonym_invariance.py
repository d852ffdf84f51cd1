"""Claim: synonyms (tuples with one parent) have identical context vectors, exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import (
    EXACT_IDENTITY,
    CheckResult,
    CheckTask,
    GridName,
    NegativeControl,
    Verdict,
    task_results,
)
from rhm_theory.exact import CONTEXT_KINDS, context_laws, tuple_context_vectors
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["SynonymInvarianceCheck", "control_spread_at", "synonym_spread_at"]


def synonym_spread_at(L: int, grammar_seed: int) -> dict[str, float]:
    """Within-parent spread of ``phi_t`` and its largest gap to ``psi_parent`` over the
    levels and context kinds of one random grammar (``v=8, m=3, s=2``, seed
    ``100 L + grammar_seed``): a task of :class:`SynonymInvarianceCheck`."""
    p = RHMParams(v=8, m=3, s=2, L=L)
    g = random_grammar(p, seed=100 * L + grammar_seed)
    spread, gap, n = 0.0, 0.0, 0
    for level in range(1, L):
        for kind in CONTEXT_KINDS:
            phi = tuple_context_vectors(g, level, kind)
            grouped = phi.reshape(p.vocab(level), p.m, -1)
            spread = max(spread, float(np.abs(grouped - grouped[:, :1]).max()))
            psi = context_laws(g, level, kind).vectors
            gap = max(gap, float(np.abs(grouped - psi[:, None, :]).max()))
            n += 1
    return {"spread": spread, "gap": gap, "n": n}


def control_spread_at(L: int, ambiguity: float) -> float:
    """Largest within-parent spread of ``phi_t`` over the levels of one ambiguous grammar
    (``v=8, m=3, s=2``, seed ``100 L``; per parent, over the tuples it produces)."""
    p = RHMParams(v=8, m=3, s=2, L=L)
    g = random_grammar(p, seed=100 * L, ambiguity=ambiguity)
    spread = 0.0
    for level in range(1, L):
        for kind in CONTEXT_KINDS:
            grouped = tuple_context_vectors(g, level, kind).reshape(p.vocab(level), p.m, -1)
            spread = max(spread, float(np.abs(grouped - grouped[:, :1]).max()))
    return spread


class SynonymInvarianceCheck:
    """Max within-parent spread of tuple context vectors (exact, tuple-level route)."""

    name = "synonym_invariance"
    claim = ("Given T = t, the context depends on t only through its parent: phi_t = "
             "psi_parent(t), so synonyms have identical context vectors.")
    source = "docs/theory.md section 3 (exact lemma)"
    tol = 1e-12
    #: Fraction of ambiguous rules in the control's grammars (issue 17: data where the
    #: claim is false, through the same statistic; the earlier control regrouped the
    #: claim's own vectors by a shifted parent map, which could not fail to fail).
    control_ambiguity = 0.25

    def control_spread(self, depths: Sequence[int]) -> float:
        """Largest within-parent spread of ``phi_t`` over the levels of ambiguous grammars
        (per parent, over the tuples it produces; rows of a shared tuple are pooled)."""
        return max((control_spread_at(L, self.control_ambiguity) for L in depths),
                   default=0.0)

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    @staticmethod
    def _depths(grid: GridName) -> Sequence[int]:
        return range(2, 9) if grid == "full" else (2, 4, 8)

    def _claim_tasks(self, grid: GridName) -> list[CheckTask]:
        return [CheckTask(self.name, synonym_spread_at, (("L", L), ("grammar_seed", seed)),
                          cost=float(2**L)) for L in self._depths(grid) for seed in range(2)]

    def _control_tasks(self, grid: GridName) -> list[CheckTask]:
        return [CheckTask(self.name, control_spread_at,
                          (("L", L), ("ambiguity", self.control_ambiguity)),
                          cost=float(2**L)) for L in self._depths(grid)]

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """One task per depth and grammar seed, and one per depth of the control."""
        return [*self._claim_tasks(grid), *self._control_tasks(grid)]

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        depths = self._depths(grid)
        # Maxima (and a count): the same numbers whatever the order of the tasks.
        claim = task_results(self._claim_tasks(grid), rows)
        worst_spread = max([0.0, *(c["spread"] for c in claim)])
        worst_gap = max([0.0, *(c["gap"] for c in claim)])
        n_checked = sum(int(c["n"]) for c in claim)
        control_spread = max([0.0, *task_results(self._control_tasks(grid), rows)])
        return CheckResult.judged(
            self.name, self.claim, self.source,
            prediction="within-parent spread of phi_t = 0; phi_t = psi_parent",
            measured={"max_within_parent_spread": worst_spread,
                      "max_abs_phi_minus_psi": worst_gap, "level_kind_pairs": n_checked},
            predicted={"max_within_parent_spread": 0.0},
            tolerance=f"<= {self.tol} (machine precision)",
            verdict=Verdict.of(worst_spread <= self.tol and worst_gap <= self.tol),
            negative_control=NegativeControl(
                f"the same spread on ambiguous grammars (random, ambiguity "
                f"{self.control_ambiguity}: some tuples have two parents, where the lemma's "
                f"premise is false): largest spread over their levels",
                Verdict.of(control_spread <= self.tol), {"max_spread": control_spread}),
            power=None,
            power_reason=f"{EXACT_IDENTITY} (machine-precision spread; no sampling noise "
                         "to simulate)",
            details={"grammars": f"random, v=8, m=3, s=2, L in {list(depths)}, 2 seeds each"},
        )
