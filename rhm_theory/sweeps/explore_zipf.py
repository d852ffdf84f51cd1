"""Zipf tracking: how far the exact prediction's error drifts under Zipf rule weights."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "TrackingDrifts",
    "zipf_tracking_drifts",
]


@dataclass(frozen=True)
class TrackingDrifts:
    """How far the exact prediction's error under Zipf weights drifts from the uniform
    grammar's (a measurement; the claim check and its verdict are
    :mod:`proofs_checks.zipf_tracking`).

    Attributes
    ----------
    max_drift : float
        Largest ``max(q, 1/q)`` over Zipf points and depths, ``q`` the measured/predicted
        ratio over the uniform grammar's ratio at the same ``L`` (``nan`` without points).
    control_drift : float
        The same with the uniform-formula prediction (weights ignored in the noise): the
        negative control's statistic.
    missing : bool
        Whether a threshold needed for some point (or every Zipf point) is missing.
    drifts : tuple of dict
        Per (a, L): the drift of the exact prediction and the control's.
    """

    max_drift: float
    control_drift: float
    missing: bool
    drifts: tuple[dict[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {**asdict(self), "drifts": list(self.drifts)}


def zipf_tracking_drifts(summary: Sequence[Mapping[str, Any]]) -> TrackingDrifts:
    """Drift of the exact finite-size prediction under Zipf rule weights (latent context).

    For every Zipf point and depth, ``q`` = (measured / predicted threshold) over the uniform
    grammar's (measured / predicted) at the same ``L``; the drift is ``max(q, 1/q)``. The
    measured threshold is ``P_star_exact`` (every tuple, the rarest included, partitioned
    by parent): the event the prediction is derived for. The control's drift uses the
    prediction that ignores the weights in the noise (``uniform_formula_threshold`` of the
    rows of :func:`rhm_theory.sweeps.explore_run.run_explore_cell`).
    """
    base = {r["L"]: r for r in summary
            if r["axis"] == "baseline" and r["context"] == "latent"}
    zipf = [r for r in summary if r["axis"] == "zipf" and r["context"] == "latent"]
    drifts: list[dict[str, float]] = []
    missing = not zipf
    for r in zipf:
        b = base.get(r["L"])
        if b is None:
            missing = True
            continue
        vals = (r["P_star_exact"], r["predicted"], r["uniform_formula"], b["P_star_exact"],
                b["predicted"])  # fmt: skip
        if not all(x is not None and math.isfinite(x) and x > 0 for x in vals):
            missing = True
            continue
        q = (r["P_star_exact"] / r["predicted"]) / (b["P_star_exact"] / b["predicted"])
        qc = (r["P_star_exact"] / r["uniform_formula"]) / (b["P_star_exact"] / b["predicted"])
        drifts.append({"a": float(r["value"]), "L": float(r["L"]), "drift": max(q, 1 / q),
                       "control_drift": max(qc, 1 / qc)})  # fmt: skip
    worst = max((d["drift"] for d in drifts), default=math.nan)
    worst_c = max((d["control_drift"] for d in drifts), default=math.nan)
    return TrackingDrifts(worst, worst_c, missing, tuple(drifts))
