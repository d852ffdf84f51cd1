"""The shape of a claim check: what it claims, what it needs run, and its verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from rhm_theory.sweeps.runner import SweepCell

__all__ = ["CheckResult", "ClaimCheck", "GridName", "finite"]

GridName = Literal["quick", "full"]


@dataclass(frozen=True)
class CheckResult:
    """Measured against predicted for one claim, with the tolerance and the verdict."""

    name: str
    claim: str
    source: str
    prediction: str
    measured: Mapping[str, Any]
    predicted: Mapping[str, Any]
    tolerance: str
    passed: bool
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``PASS`` or ``FAIL``."""
        return "PASS" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for the JSON report."""
        return {
            "name": self.name, "claim": self.claim, "source": self.source,
            "prediction": self.prediction, "measured": dict(self.measured),
            "predicted": dict(self.predicted), "tolerance": self.tolerance,
            "verdict": self.verdict, "details": dict(self.details),
        }


class ClaimCheck(Protocol):
    """One claim of THEORY.md turned into a measurement.

    ``cells(grid)`` lists the ILC sweep cells the check needs (possibly none); the
    verification runs the union of all checks' cells once, then calls ``evaluate`` with
    the rows.
    """

    name: str
    claim: str
    source: str

    def cells(self, grid: GridName) -> Sequence[SweepCell]: ...

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult: ...


def finite(x: float) -> bool:
    """Whether ``x`` is a finite float (NaN marks a threshold the grid did not reach)."""
    return isinstance(x, (int, float)) and math.isfinite(x)
