"""The library's named defaults: each constant is typed here once and imported everywhere."""

from __future__ import annotations

from typing import Literal

__all__ = [
    "DEFAULT_MERGE_FACTOR",
    "DEFAULT_TARGET",
    "GRID_NAMES",
    "SCALING_GRID_NAMES",
    "GridName",
    "ScalingGridName",
]

#: The grid names every grid-taking entry point accepts: ``quick`` (CI, minutes on 2
#: cores) and ``full`` (hours; the neural checks' grid is GPU-sized). ``rhm-theory verify
#: [--full]``, ``measure --grid``, ``explore`` and the neural scaling grid share them.
#: Re-exported by :mod:`proofs_checks`.
GridName = Literal["quick", "full"]

#: The values of :data:`GridName`, in order of cost (CLI choices are taken from here).
GRID_NAMES: tuple[GridName, ...] = ("quick", "full")

#: Names of the neural scaling grid (:func:`rhm_theory.neural.grids.scaling_grid`): the
#: grid names above (``"full"``: the GPU-sized grid ``verify --full`` runs) and ``"small"``,
#: an older small CPU grid. Here rather than in the neural package so that the CLI can
#: offer them without importing torch.
ScalingGridName = Literal["quick", "full", "small"]

#: The values of :data:`ScalingGridName`.
SCALING_GRID_NAMES: tuple[ScalingGridName, ...] = (*GRID_NAMES, "small")

#: ILC's merge step factor (a project convention fixed before any run, docs/conventions.md):
#: two clusters merge while their G/df is below this factor times the calibrated null level.
#: Re-exported by :mod:`rhm_theory.algorithms.ilc`.
DEFAULT_MERGE_FACTOR = 4.0

#: Accuracy every scored level must reach (the minimum over levels, or per level) for a
#: curve to have crossed its sample-complexity threshold ``P*``. Re-exported by
#: :mod:`rhm_theory.sweeps.measure` and :mod:`rhm_theory.algorithms.crossing`.
DEFAULT_TARGET = 0.95
