"""The library's named defaults: each constant is typed here once and imported everywhere."""

from __future__ import annotations

__all__ = ["DEFAULT_MERGE_FACTOR", "DEFAULT_TARGET"]

#: ILC's merge step factor (a project convention fixed before any run, docs/conventions.md):
#: two clusters merge while their G/df is below this factor times the calibrated null level.
#: Re-exported by :mod:`rhm_theory.algorithms.ilc`.
DEFAULT_MERGE_FACTOR = 4.0

#: Accuracy every scored level must reach (the minimum over levels, or per level) for a
#: curve to have crossed its sample-complexity threshold ``P*``. Re-exported by
#: :mod:`rhm_theory.sweeps.measure` and :mod:`rhm_theory.algorithms.crossing`.
DEFAULT_TARGET = 0.95
