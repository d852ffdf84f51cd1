"""The exploration map's cells: its curves (ExploreCell), axes, ``P`` ladder and named grids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from rhm_theory.constants import GRID_NAMES, GridName
from rhm_theory.model.params import RHMParams
from rhm_theory.model.spec import GrammarFamily, GrammarSpec
from rhm_theory.validation import ContextKind, check_choice

__all__ = [
    "AXES",
    "CONTEXTS",
    "P_GRID",
    "STOP_AFTER",
    "TARGET",
    "ExploreCell",
    "explore_grid",
]

#: Accuracy every non-root level must reach for a point to count as recovered. Below the
#: library's usual 0.95 because an ambiguous tuple cannot be assigned to one parent with
#: certainty: with ``eps`` of the rules shared, the best achievable accuracy is about
#: ``1 - eps / 2``, so 0.95 would leave ``eps = 0.2`` undefined by construction.
TARGET = 0.9
#: A curve stops after this many consecutive exact points (ambiguous grammars: at or above
#: :data:`TARGET`); the crossings are the last ones inside the measured range.
STOP_AFTER = 2
#: The ``P`` grid of every curve (factor 2 from 32 to 2**18).
P_GRID: tuple[int, ...] = tuple(2**k for k in range(5, 19))
#: The context kinds compared: ILC's own latents (``v m^3``) and the token context
#: (``v m^(L+1)``); a subset of :data:`rhm_theory.validation.CONTEXT_KINDS`.
CONTEXTS: tuple[ContextKind, ...] = ("latent", "token")
#: Axes of the map, in display order.
AXES: tuple[str, ...] = ("baseline", "zipf", "lognormal", "ambiguity", "f", "s")

#: Key spellings of fields renamed since their keys were first written (see ExploreCell.key).
_KEY_NAMES = {"context": "method"}


@dataclass(frozen=True)
class ExploreCell:
    """One curve of the map: a grammar family point, a context kind and a depth.

    Attributes
    ----------
    axis : str
        One of :data:`AXES`; ``value`` is its coordinate (Zipf ``a``, log-normal ``sigma``,
        ambiguity ``eps``, ``f`` or ``s``; ``0`` for the baseline).
    context : {"latent", "token"}
        ILC's context kind (one of :data:`CONTEXTS`).
    v, m, s, L : int
    grammar_seed, data_seed : int
    rule_probs, root_probs : str
        :class:`~rhm_theory.model.GrammarSpec` weight specs.
    ambiguity : float
    n_test : int
        Fresh strings scoring each fit.
    P_top : int
        Largest ``P`` of the curve.
    family : str, default "random"
        Grammar family (a key of :data:`rhm_theory.model.spec.GRAMMAR_CONSTRUCTORS`); the
        map's axes vary the weights and the ambiguity of random grammars.
    """

    axis: str
    value: float
    context: ContextKind
    v: int
    m: int
    s: int
    L: int
    grammar_seed: int = 0
    data_seed: int = 1000
    rule_probs: str = "uniform"
    root_probs: str = "uniform"
    ambiguity: float = 0.0
    n_test: int = 1000
    P_top: int = P_GRID[-1]
    family: GrammarFamily = "random"

    def __post_init__(self) -> None:
        check_choice("axis", self.axis, AXES)
        check_choice("context", self.context, CONTEXTS)
        self.spec()  # validates parameters, weights and ambiguity now, not in a worker

    @property
    def key(self) -> str:
        """Stable identifier used to skip finished curves on resume (the context spelled
        ``method=``, no family part for the default family)."""
        return "explore|" + "|".join(
            f"{_KEY_NAMES.get(f.name, f.name)}={getattr(self, f.name)}" for f in fields(self)
            if not (f.name == "family" and self.family == "random"))

    @property
    def P(self) -> int:
        """Largest ``P`` (the sweep runner orders work by ``P * s**L``)."""
        return self.P_top

    def spec(self) -> GrammarSpec:
        """The grammar specification of this curve."""
        return GrammarSpec(
            RHMParams(self.v, self.m, self.s, self.L),
            self.family,
            self.grammar_seed,
            rule_probs=self.rule_probs,
            root_probs=self.root_probs,
            ambiguity=self.ambiguity,
        )



def explore_grid(grid: GridName = "full", *,
                 seeds: Sequence[int] | None = None) -> list[ExploreCell]:
    """The cells of the map on ``grid`` (``"quick"`` or ``"full"``).

    Base point ``v = 8, m = 3, s = 2`` (``f = 3/8``), ``L = 2, 3, 4``; axes: Zipf rule weights
    ``a = 0, 0.5, 1, 2`` (``w(r) ~ r^-(1+a)`` at every level), log-normal rule weights
    ``sigma = 0.5, 1, 2`` (``sigma = 0`` is the baseline), ambiguity ``eps = 0.05, 0.1, 0.2``,
    ``f`` toward 1 through ``m = 4, 6`` (``f = 0.5, 0.75``; full grid adds ``m = 7``), and
    ``s = 3`` (``L = 2, 3``). The quick grid uses grammar seed 0 only; the full grid seeds
    0, 1, 2 (or ``seeds``).

    >>> len(explore_grid("quick"))  # (1 + 4 + 3 + 3) points x 2 contexts x 3 L + 12
    78
    """
    quick = check_choice("grid", grid, GRID_NAMES) == "quick"
    gseeds = list(seeds) if seeds is not None else ([0] if quick else [0, 1, 2])
    Ls = (2, 3, 4)
    points: list[tuple[str, float, dict[str, Any], tuple[int, ...]]] = [
        ("baseline", 0.0, {}, Ls)
    ]
    points += [("zipf", a, {"rule_probs": f"zipf:{a}"}, Ls) for a in (0.0, 0.5, 1.0, 2.0)]
    points += [("lognormal", sg, {"rule_probs": f"lognormal:{sg}"}, Ls) for sg in (0.5, 1.0, 2.0)]
    points += [("ambiguity", e, {"ambiguity": e}, Ls) for e in (0.05, 0.1, 0.2)]
    for m in (4, 6) if quick else (4, 6, 7):
        points.append(("f", m / 8, {"m": m}, (2, 3)))
    points.append(("s", 3.0, {"s": 3}, (2, 3)))
    cells = []
    for axis, value, extra, depths in points:
        for gs in gseeds:
            for context in CONTEXTS:
                for L in depths:
                    kw: dict[str, Any] = {"v": 8, "m": 3, "s": 2, **extra}
                    cells.append(ExploreCell(axis, value, context, L=L, grammar_seed=gs,
                                             data_seed=1000 + gs, **kw))  # fmt: skip
    return cells
