"""The one registry of threshold laws: every named rescaling ``P* ~ scale(v, m, s, L, l)``.

The paper's three objectives (own latents ``v m^3``, tokens ``v m^(L+1)``, labels ``v m^L``),
the other powers and per-level laws the collapse comparisons name, and the near alternatives
that bracket ``v m^3`` on each axis (docs/theory.md sections 4, 5 and 10). The collapse
comparison (:func:`rhm_theory.sweeps.collapse.compare_rescalings`), the measurement of any
learner (:func:`rhm_theory.sweeps.measure.compare_laws`) and the reported scales of the
sweeps (:data:`rhm_theory.sweeps.thresholds.RESCALINGS`) all read this table, so a law added
here is known to all three.

>>> CANDIDATES["v m^3"].scale(16, 4, 2, 5)
1024.0
>>> round(CANDIDATES["v m^3 1.5^L"].scale(8, 2, 2, 2), 9)
144.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "CANDIDATES",
    "MEASURE_LAWS",
    "METHOD_RESCALING",
    "Rescaling",
]


@dataclass(frozen=True)
class Rescaling:
    """A candidate sample-complexity scale ``P* ~ scale(v, m, s, L, level)``.

    ``log_scale(v, m, s, L, level)`` is what the comparisons use. ``per_level`` rescalings
    need the level of the threshold (a per-level threshold); the others apply to whole-tree
    thresholds as well. ``exact`` (optional) is the scale in integer arithmetic,
    ``(v, m, s, L) -> float``: the sweeps build their ``P`` grids from it, so that a grid,
    and the cell keys that name it, never depend on the rounding of ``exp(log_scale)``.
    """

    name: str
    log_scale: Callable[[int, int, int, int, int], float]
    per_level: bool = False
    exact: Callable[[int, int, int, int], float] | None = None

    def scale(self, v: int, m: int, s: int, L: int, level: int = 0) -> float:
        """The scale itself: :attr:`exact` where it exists (whole-tree), else
        ``exp(log_scale)``."""
        if self.exact is not None:
            return self.exact(v, m, s, L)
        return math.exp(self.log_scale(v, m, s, L, level))


def _power(k: int) -> Rescaling:
    return Rescaling(f"v m^{k}", lambda v, m, s, L, lv: math.log(v) + k * math.log(m),
                     exact=lambda v, m, s, L: float(v * m**k))


def _near(name: str, a: float, b: float, c: float = 1.0) -> Rescaling:
    """``v^a m^b c^L``: a near alternative of ``v m^3`` on one axis."""
    lc = math.log(c)
    return Rescaling(name, lambda v, m, s, L, lv: a * math.log(v) + b * math.log(m) + L * lc)


#: Every named law, by name. ``v m^k`` for k = 2..5; the label scale ``v m^L``; the token
#: top-level scale ``v m^(L+1)`` and level-``l`` scale ``v m^(l+2)``; "occurrences per
#: tuple" ``P s^(L-l) / (v m)`` constant, i.e. scale ``v m / s^(L-l)`` (pooling over the
#: ``s^(L-l)`` level-``l`` nodes of a string); the pooling-adjusted claim ``v m^3 /
#: s^(L-l)`` (docs/theory.md section 5); and the near alternatives of ``v m^3`` in depth
#: (``v m^3 c^L``, ``c`` = 1.2, 1.5), in ``v`` (``m^3``, ``v^2 m^3``) and in ``m``
#: (``v m^2.5``, ``v m^3.5``).
CANDIDATES: dict[str, Rescaling] = {
    **{r.name: r for r in (_power(k) for k in (2, 3, 4, 5))},
    "v m^L": Rescaling("v m^L", lambda v, m, s, L, lv: math.log(v) + L * math.log(m),
                       exact=lambda v, m, s, L: float(v * m**L)),
    "v m^(L+1)": Rescaling("v m^(L+1)",
                           lambda v, m, s, L, lv: math.log(v) + (L + 1) * math.log(m),
                           exact=lambda v, m, s, L: float(v * m ** (L + 1))),
    "v m^(l+2)": Rescaling("v m^(l+2)",
                           lambda v, m, s, L, lv: math.log(v) + (lv + 2) * math.log(m),
                           per_level=True),
    "occurrences P s^(L-l)/(v m)": Rescaling(
        "occurrences P s^(L-l)/(v m)",
        lambda v, m, s, L, lv: math.log(v) + math.log(m) - (L - lv) * math.log(s),
        per_level=True),
    "v m^3 / s^(L-l)": Rescaling(
        "v m^3 / s^(L-l)",
        lambda v, m, s, L, lv: math.log(v) + 3 * math.log(m) - (L - lv) * math.log(s),
        per_level=True),
    **{r.name: r for r in (
        _near("v m^3 1.2^L", 1, 3, c=1.2),
        _near("v m^3 1.5^L", 1, 3, c=1.5),
        _near("m^3", 0, 3),
        _near("v^2 m^3", 2, 3),
        _near("v m^2.5", 1, 2.5),
        _near("v m^3.5", 1, 3.5),
    )},
}

#: The laws :func:`rhm_theory.sweeps.measure.compare_laws` compares by default: the three
#: objectives and the six near alternatives of ``v m^3``.
MEASURE_LAWS: tuple[str, ...] = (
    "v m^3", "v m^(L+1)", "v m^L", "v m^3 1.2^L", "v m^3 1.5^L", "m^3", "v^2 m^3",
    "v m^2.5", "v m^3.5",
)

#: The law (a key of :data:`CANDIDATES`) each ILC context kind is predicted to follow.
METHOD_RESCALING: dict[str, str] = {"latent": "v m^3", "token": "v m^(L+1)", "label": "v m^L"}
