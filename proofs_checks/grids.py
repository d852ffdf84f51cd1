"""The sweep grids behind the checks: a quick one for CI-sized machines, a full one."""

from __future__ import annotations

import math

import numpy as np

from proofs_checks._framework import GridName
from rhm_theory.assumptions import separation_margins
from rhm_theory.bounds.predictions import predicted_tree_threshold
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.sweeps.thresholds import method_scale

__all__ = ["DEPTHS", "SEEDS", "VMS", "depth_cells", "has_positive_margins"]

#: Depths swept per method and grid.
DEPTHS: dict[GridName, dict[str, list[int]]] = {
    "quick": {"latent": [3, 4, 5, 6, 7, 8], "token": [3, 4, 5], "label": [3, 4, 5]},
    "full": {"latent": [3, 4, 5, 6, 7, 8, 9, 10], "token": [3, 4, 5, 6], "label": [3, 4, 5, 6]},
}
#: (v, m) pairs per grid: the depth claims use (16, 4); the full grid adds others for the
#: collapse of the latent threshold across (v, m).
VMS: dict[GridName, dict[str, list[tuple[int, int]]]] = {
    "quick": {"latent": [(16, 4)], "token": [(16, 4)], "label": [(16, 4)]},
    "full": {"latent": [(16, 4), (8, 2), (32, 4), (16, 2)], "token": [(16, 4)],
             "label": [(16, 4)]},
}
SEEDS: dict[GridName, list[int]] = {"quick": [0, 1, 2], "full": [0, 1, 2, 3, 4]}

#: log2 range of P / scale per method (half-octave steps).
_LOG2_RANGE = {"latent": (-1.0, 5.0), "token": (-2.0, 5.0), "label": (-1.0, 6.0)}


#: Upper end of the grid extended to cover 4x a grammar's exact predicted threshold, but
#: never beyond this (log2 of P / scale).
_LOG2_CAP = 9.0


def _log2_top(method: str, v: int, m: int, L: int, seed: int, hi: float) -> float:
    """Top of the P grid: ``hi``, raised (in half octaves) to reach 4x the exact
    finite-size prediction of this grammar, so a grammar that needs more is not cut off."""
    if method != "latent":
        return hi
    pred = predicted_tree_threshold(random_grammar(RHMParams(v, m, 2, L), seed), "latent")
    if not math.isfinite(pred):  # Delta = 0: no sample size suffices; keep the grid
        return hi
    need = math.ceil(2 * math.log2(4 * pred / method_scale(method, v, m, 2, L))) / 2
    return float(min(max(hi, need), _LOG2_CAP))


def has_positive_margins(v: int, m: int, L: int, seed: int) -> bool:
    """Whether the random grammar of a cell separates every level (``Delta_l > 0``).

    A few random grammars with ``m = 2`` have two symbols with identical contexts
    (``Delta = 0`` exactly): no sample size recovers them, and the theorem excludes them.
    """
    g = random_grammar(RHMParams(v, m, 2, L), seed)
    return bool(separation_margins(g, "latent").min() > 1e-9)


def depth_cells(method: str, grid: GridName) -> list[SweepCell]:
    """Cells of one method: every (v, m), depth and seed, P on a half-octave grid."""
    lo, hi = _LOG2_RANGE[method]
    cells = []
    for v, m in VMS[grid][method]:
        for L in DEPTHS[grid][method]:
            for seed in SEEDS[grid]:
                top = _log2_top(method, v, m, L, seed, hi)
                for c in 2.0 ** np.arange(lo, top + 1e-9, 0.5):
                    P = max(1, round(c * method_scale(method, v, m, 2, L)))
                    cells.append(SweepCell(method, v, m, 2, L, P, seed, 1000 + seed))
    return cells
