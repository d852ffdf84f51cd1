"""The exploration map's decision words: whether the own-latent advantage survives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = [
    "SEPARATION_DECISIONS",
    "SEPARATION_MEANINGS",
    "SeparationDecision",
]

# The library describes rows with words only; whether a claim passes (PASS, FAIL,
# INCONCLUSIVE) is decided in proofs_checks. The decision words on a law are
# rhm_theory.scaling.DECISIONS; the exploration map's words are here.

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
