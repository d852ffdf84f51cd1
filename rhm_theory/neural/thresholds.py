"""Thresholds of neural curves: where a probe crosses its criterion, censoring kept."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rhm_theory.algorithms.crossing import crossing_point

__all__ = [
    "add_thresholds",
    "probe_thresholds",
]


_CURVE_METRICS = ("root_probe", "latent_probe", "recovery", "synonymic_sensitivity")


def _censored_crossing(
    Ps: Sequence[float], ys: Sequence[float], target: float, up: bool
) -> tuple[float, str | None]:
    """:func:`crossing_point` (rule ``"last"``) of an upward or downward curve, with censoring.

    A downward crossing of ``target`` is the upward crossing of ``-y`` at ``-target``.
    ``"right"``: the curve ends on the near side (NaN); ``"left"``: every point is already
    across (``P*`` = the smallest ``P``, only an upper bound). An untrained model sits at
    ``P = 0``, outside ``crossing_point``'s log scale: when it is the last point on the near
    side, the crossing is interpolated linearly in ``P`` up to the first ``P > 0``.
    """
    sign = 1.0 if up else -1.0
    p = np.asarray(Ps, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    p, y = p[order], sign * np.asarray(ys, dtype=np.float64)[order]
    t = sign * float(target)
    pos = p > 0
    p_star = crossing_point(p[pos], y[pos], t, rule="last") if pos.any() else math.nan
    if math.isnan(p_star):
        return p_star, "right"
    if bool(np.all(y >= t)):
        return float(p[0]), "left"
    if bool(np.all(y[pos] >= t)):  # only the untrained points (P = 0) are short of it
        i = int(np.flatnonzero(y < t)[-1])
        frac = (t - y[i]) / (y[i + 1] - y[i])
        return float(p[i] + frac * (p[i + 1] - p[i])), None
    return p_star, None


def probe_thresholds(
    rows: Iterable[dict[str, Any]],
    *,
    accuracy_fraction: float = 0.5,
    sensitivity_target: float = 0.5,
) -> list[dict[str, Any]]:
    """Sample-complexity thresholds ``P*`` of the probe curves, against ``v m^3``, ``v m^(L+1)``.

    Curves are the rows of one (method, regime, v, m, s, L, n_c, seed, metric, level, layer)
    ordered by ``P`` (the latest evaluation when one ``P`` has several). Accuracy metrics
    (``root_probe``, ``latent_probe``, ``recovery``) cross upwards at
    ``chance + accuracy_fraction * (1 - chance)`` with ``chance = 1 / vocab``;
    ``synonymic_sensitivity`` crosses downwards at ``sensitivity_target``. ``P*`` is the
    last crossing (:func:`rhm_theory.algorithms.crossing.crossing_point`, rule ``"last"``),
    interpolated linearly in ``log P``, NaN when the curve ends on the near side.

    Returns
    -------
    list of dict
        Rows with ``metric = "threshold:<metric>"``, ``value = P*``, ``censored``
        (``"left"``: already crossed at the smallest ``P``, so ``P*`` is an upper bound;
        ``"right"``: never crossed; else ``None``), ``P_min`` and ``P_max`` (the smallest
        trained and the largest ``P`` of the curve), ``criterion``, ``v_m3``, ``v_mL1``,
        ``P_over_v_m3``, ``P_over_v_mL1``.
    """
    curves: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    keys = ("method", "regime", "v", "m", "s", "L", "n_c", "seed", "grammar_seed", "metric",
            "level", "layer")
    for r in rows:
        if r.get("metric") not in _CURVE_METRICS:
            continue
        curves.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    for key, points in sorted(curves.items(), key=lambda kv: repr(kv[0])):
        last: dict[float, dict[str, Any]] = {}
        for r in points:  # several evaluations at one P (e.g. offline --eval-at): keep the last
            if r["P"] not in last or r.get("steps", 0) >= last[r["P"]].get("steps", 0):
                last[r["P"]] = r
        curve = [last[p] for p in sorted(last)]
        first = curve[0]
        v, m, L = int(first["v"]), int(first["m"]), int(first["L"])
        metric = str(first["metric"])
        if metric == "synonymic_sensitivity":
            target, up = sensitivity_target, False
        else:
            n_sym = int(first["n_c"]) if first["level"] == L else v
            chance = 1.0 / n_sym
            target, up = chance + accuracy_fraction * (1.0 - chance), True
        Ps = [float(r["P"]) for r in curve]
        p_star, censored = _censored_crossing(Ps, [float(r["value"]) for r in curve], target, up)
        trained = [p for p in Ps if p > 0]
        vm3, vml1 = v * m**3, v * m ** (L + 1)
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "metric": f"threshold:{metric}",
                "value": p_star,
                "censored": censored,
                # The grid's ends: a censored threshold is a bound (interval data).
                "P_min": min(trained) if trained else math.nan,
                "P_max": max(Ps),
                "criterion": target,
                "v_m3": vm3,
                "v_mL1": vml1,
                "P_over_v_m3": p_star / vm3,
                "P_over_v_mL1": p_star / vml1,
            }
        )
    return out


def add_thresholds(rows: list[dict[str, Any]], accuracy_fractions: Sequence[float]) -> None:
    """Append :func:`probe_thresholds` rows for every accuracy criterion, without repeats."""
    thresholds = []
    for frac in accuracy_fractions:
        thresholds.extend(probe_thresholds(rows, accuracy_fraction=frac))
    # Sensitivity thresholds do not depend on the accuracy criterion: keep one copy.
    seen: set[tuple[Any, ...]] = set()
    for r in thresholds:
        key = tuple(sorted((k, repr(v)) for k, v in r.items()))
        if key not in seen:
            seen.add(key)
            rows.append(r)
