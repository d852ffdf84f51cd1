"""The sweep grids behind the checks: a quick one for CI-sized machines, a full one."""

from __future__ import annotations

import numpy as np

from proofs_checks._framework import GridName
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["DEPTHS", "SEEDS", "VMS", "depth_cells", "scale_of"]

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


def scale_of(method: str, v: int, m: int, L: int) -> float:
    """The reported sample-complexity scale of a method: v m^3, v m^(L+1), v m^L."""
    return float({"latent": v * m**3, "token": v * m ** (L + 1), "label": v * m**L}[method])


def depth_cells(method: str, grid: GridName) -> list[SweepCell]:
    """Cells of one method: every (v, m), depth and seed, P on a half-octave grid."""
    lo, hi = _LOG2_RANGE[method]
    factors = 2.0 ** np.arange(lo, hi + 1e-9, 0.5)
    cells = []
    for v, m in VMS[grid][method]:
        for L in DEPTHS[grid][method]:
            for seed in SEEDS[grid]:
                for c in factors:
                    P = max(1, round(c * scale_of(method, v, m, L)))
                    cells.append(SweepCell(method, v, m, 2, L, P, seed, 1000 + seed))
    return cells
