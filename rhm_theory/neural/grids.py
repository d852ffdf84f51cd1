"""The grids of neural runs: the checks' quick grid, a small CPU grid, the full (GPU) grid."""

from __future__ import annotations

import math
import warnings
from typing import Any

from rhm_theory.constants import SCALING_GRID_NAMES, ScalingGridName
from rhm_theory.model.params import RHMParams
from rhm_theory.neural.data2vec import Data2VecConfig
from rhm_theory.neural.ema import EMASchedule
from rhm_theory.neural.evaluation import EvalConfig
from rhm_theory.neural.slc import SLCConfig
from rhm_theory.validation import check_choice

__all__ = [
    "SCALING_GRID_NAMES",
    "ScalingGridName",
    "decisive_Ps",
    "scaling_grid",
    "scaling_grid_name",
]

#: Names used before issue 18 (and the old ``full`` flag), accepted with a warning so that
#: old scripts keep working.
_OLD_NAMES: dict[str | bool, ScalingGridName] = {
    "decisive": "full", "cpu": "small", True: "full", False: "small"}


def _pow2_floor(x: float) -> int:
    return 1 << max(0, math.floor(math.log2(max(x, 1.0))))


def decisive_Ps(v: int, m: int, s: int, L: int, margin: float = 2.0) -> tuple[int, ...]:
    """Training-set sizes that bracket both predictions of a cell, powers of 2.

    From below ``v m^3 / margin`` to above ``margin * v m^(L+1)``, never more than a
    quarter of the ``P_max`` distinct strings (a training set must not be most of the
    data space).

    >>> decisive_Ps(8, 3, 2, 3)  # v m^3 = 216, v m^4 = 648
    (64, 128, 256, 512, 1024, 2048)
    """
    lo = _pow2_floor(v * m**3 / margin)
    hi = 2 * _pow2_floor(margin * v * m ** (L + 1))
    cap = RHMParams(v, m, s, L).P_max // 4
    out = []
    P = lo
    while P <= hi and P <= cap:
        out.append(P)
        P *= 2
    return tuple(out)


def scaling_grid_name(name: str | bool) -> ScalingGridName:
    """The current name of a :func:`scaling_grid` name, old spellings included.

    ``"decisive"`` and ``True`` become ``"full"``, ``"cpu"`` and ``False`` become
    ``"small"``, each with a :class:`DeprecationWarning` naming the new name.

    >>> scaling_grid_name("quick")
    'quick'
    """
    if isinstance(name, bool) or name in ("decisive", "cpu"):
        new = _OLD_NAMES[name]
        warnings.warn(f"scaling grid {name!r} is now called {new!r}", DeprecationWarning,
                      stacklevel=3)
        return new
    return check_choice("grid", name, SCALING_GRID_NAMES)


def scaling_grid(name: str | bool = "small") -> dict[str, Any]:
    """A grid of :func:`scaling_experiment` (and of the planner).

    ``"quick"``: the claim checks' CPU configuration (about two minutes on 2 cores; two
    depths, too few to decide). ``"small"``: an older small CPU grid. ``"full"``: the
    planner's default GPU grid (what ``rhm-theory verify --full`` runs), built to separate
    ``v m^3`` from ``v m^(L+1)``: ``v = 8`` (so ``f = m / v < 1`` keeps correlations),
    ``m`` in {3, 4}, ``L`` from 3 to 6 (the two predictions differ by ``m^(L-2)``, a factor
    3 to 256), three grammar seeds, ``P`` from :func:`decisive_Ps`, and
    ``steps = clip(epochs * P / B, min_steps, max_steps)``. The names before issue 18,
    ``"decisive"`` / ``"cpu"`` (and ``True`` / ``False``, the old ``full`` flag), still
    work with a :class:`DeprecationWarning` (:func:`scaling_grid_name`).
    """
    name = scaling_grid_name(name)
    if name == "quick":
        return {
            "v": 8, "s": 2, "Ls": (3, 4), "ms": (3,), "Ps": (128, 2048),
            "epochs": 0, "min_steps": 150, "max_steps": 150, "batch_size": 64,
            "lr": {"data2vec": 3e-3, "mlm": 3e-3, "slc": 1e-3, "slc-sg": 1e-3},
            "seeds": (0, 1),
            "data2vec": Data2VecConfig(depth=2, width=32, heads=4),
            "slc": SLCConfig(hidden=32, ema=EMASchedule(tau0=0.9, tau_end=0.99, tau_steps=50)),
            "eval": EvalConfig(n_probe_train=256, n_probe_test=256, probe_steps=150,
                               n_sensitivity=128),
            "accuracy_fractions": (0.5,),
            "online_evals": (2, 8, 32, 150),
        }
    if name == "small":
        return {
            "v": 8, "s": 2, "Ls": (3,), "ms": (2, 3),
            "Ps": (32, 64, 128, 256, 512, 1024, 2048, 4096),
            "epochs": 0, "min_steps": 800, "max_steps": 800, "batch_size": 64,
            "lr": {"data2vec": 3e-3, "mlm": 3e-3, "slc": 1e-3, "slc-sg": 1e-3},
            "seeds": (0,),
            "data2vec": Data2VecConfig(depth=2, width=32, heads=4),
            "slc": SLCConfig(hidden=64, ema=EMASchedule(tau0=0.99, tau_end=0.999,
                                                         tau_steps=400)),
            "eval": EvalConfig(n_probe_train=512, n_probe_test=512, probe_steps=500,
                               n_sensitivity=512),
            "accuracy_fractions": (0.25, 0.5),
            "online_evals": (2, 4, 8, 16, 32, 64, 128, 256, 512, 800),
        }
    return {
        "v": 8, "s": 2, "Ls": (3, 4, 5, 6), "ms": (3, 4), "Ps": "decisive",
        "epochs": 20, "min_steps": 2000, "max_steps": 20_000, "batch_size": 256,
        "lr": {"data2vec": 1e-3, "mlm": 1e-3, "slc": 1e-3, "slc-sg": 1e-3},
        "seeds": (0, 1, 2),
        "data2vec": Data2VecConfig(depth=4, width=128, heads=4, top_k=3),
        "slc": SLCConfig(hidden=256),
        "eval": EvalConfig(n_probe_train=2048, n_probe_test=1024, probe_steps=1000,
                           n_sensitivity=1024),
        "accuracy_fractions": (0.5,),
        "online_evals": (*(2**k for k in range(15)), 20_000),
    }
