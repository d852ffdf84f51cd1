"""The library's decision words: how measured rows relate to a law, a claim or a map point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "COMPARISON_DECISIONS",
    "COMPARISON_MEANINGS",
    "LAW_DECISIONS",
    "LAW_MEANINGS",
    "SEPARATION_DECISIONS",
    "SEPARATION_MEANINGS",
    "ComparisonDecision",
    "LawDecision",
    "SeparationDecision",
    "record_decision",
]

# The library describes rows with these words only; whether a claim passes (PASS, FAIL,
# INCONCLUSIVE) is decided in proofs_checks, which maps the words below to its verdicts in
# one place (proofs_checks.comparison_verdict).

#: What a claim-vs-competitors comparison of rescalings says
#: (:meth:`rhm_theory.sweeps.collapse.CollapseComparison.decision`).
ComparisonDecision = Literal["claim", "rejected", "undecided"]

#: The values of :data:`ComparisonDecision`.
COMPARISON_DECISIONS: tuple[ComparisonDecision, ...] = ("claim", "rejected", "undecided")

#: One line per :data:`ComparisonDecision`.
COMPARISON_MEANINGS: Mapping[ComparisonDecision, str] = {
    "claim": "the claim's rescaling collapses best and the named competitor is rejected",
    "rejected": "a competitor collapses better than the claim's rescaling",
    "undecided": "the grid cannot tell the claim from the named competitor",
}

#: What a law comparison says of one law (:func:`rhm_theory.sweeps.measure.compare_laws`).
LawDecision = Literal["follows", "best", "rejected", "not excluded", "undecided"]

#: The values of :data:`LawDecision`.
LAW_DECISIONS: tuple[LawDecision, ...] = (
    "follows", "best", "rejected", "not excluded", "undecided")

#: One line per :data:`LawDecision` (the thresholds are ``WIN_FRACTION`` and
#: ``REJECT_FRACTION`` of :mod:`rhm_theory.sweeps.collapse`).
LAW_MEANINGS: Mapping[LawDecision, str] = {
    "follows": "best in most resamples, every other law rejected, and calibrated",
    "best": "smallest collapse score, but some other law is not excluded",
    "rejected": "collapses worse than the best law in most resamples",
    "not excluded": "the grid cannot tell it from the best law",
    "undecided": "the grid decides nothing (too few configurations or too many censored)",
}

#: Whether the own-latent advantage survives at one point of the exploration map
#: (:func:`rhm_theory.sweeps.explore.separation_decisions`; EXPLORATORY labels).
SeparationDecision = Literal["survives", "degrades", "vanishes", "undetermined"]

#: The values of :data:`SeparationDecision`.
SEPARATION_DECISIONS: tuple[SeparationDecision, ...] = (
    "survives", "degrades", "vanishes", "undetermined")

#: One line per :data:`SeparationDecision`.
SEPARATION_MEANINGS: Mapping[SeparationDecision, str] = {
    "survives": "token P* grows faster with depth than latent P* and stays above it",
    "degrades": "only one of the two holds (faster growth, or a gap at the deepest L)",
    "vanishes": "neither holds",
    "undetermined": "a threshold is missing (fewer than two depths or a censored curve)",
}


def record_decision(record: Mapping[str, Any]) -> str:
    """The decision word of a JSON record: its ``decision``, or ``verdict`` in records
    written before issue 18 (read-side alias, so old ``summary.json`` and
    ``measurement.json`` files still read).

    >>> record_decision({"decision": "survives"}), record_decision({"verdict": "best"})
    ('survives', 'best')
    """
    return str(record["decision"] if "decision" in record else record["verdict"])
