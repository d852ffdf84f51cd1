"""Thresholds of neural curves: where a probe crosses its criterion, censoring kept."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from rhm_theory.scaling.threshold import THRESHOLD_RULE, threshold_from_curve

__all__ = [
    "add_thresholds",
    "probe_thresholds",
]


_CURVE_METRICS = ("root_probe", "latent_probe", "recovery", "synonymic_sensitivity")
#: The old ``censored`` vocabulary of the threshold rows, by the library's threshold kind.
_CENSORED = {"point": None, "below_grid": "left", "above_grid": "right"}


def _curve_threshold(Ps: Sequence[float], ys: Sequence[float], target: float, up: bool
                     ) -> dict[str, Any]:
    """:func:`~rhm_theory.scaling.threshold.threshold_from_curve` of an upward or downward
    curve; a downward crossing of ``target`` is the upward crossing of ``-y`` at ``-target``.
    Points at ``P = 0`` (an untrained model) are outside the log-``P`` definition and left
    out; a curve already at the criterion at its smallest trained ``P`` is left-censored."""
    sign = 1.0 if up else -1.0
    keep = [(p, sign * y) for p, y in zip(Ps, ys, strict=True) if p > 0 and math.isfinite(y)]
    if not keep:
        return {"value": math.nan, "censored": "right", "last_crossing": math.nan,
                "dips": False, "threshold_kind": "above_grid"}
    t = threshold_from_curve([p for p, _ in keep], [y for _, y in keep], sign * float(target))
    value = t.P_min if t.kind == "below_grid" else t.P_star
    return {"value": value, "censored": _CENSORED[t.kind], "last_crossing": t.last_crossing,
            "dips": t.dips, "threshold_kind": t.kind}


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
    library's one threshold definition
    (:func:`rhm_theory.scaling.threshold.threshold_from_curve`): the first ``P`` at which the
    isotonic (monotone) fit of the curve reaches the criterion, interpolated linearly in
    ``log P``, so a dip after the crossing cannot move it; the last crossing of the raw
    curve is reported beside it. ``P = 0`` points (untrained) are left out.

    Returns
    -------
    list of dict
        Rows with ``metric = "threshold:<metric>"``, ``value = P*``, ``censored``
        (``"left"``: already reached at the smallest ``P``, ``value`` = that ``P``, an upper
        bound; ``"right"``: never reached, ``value`` NaN; else ``None``), ``last_crossing``
        (NaN when the curve ends below the criterion), ``dips`` (falls back below the
        criterion after first reaching it), ``threshold_kind``, ``threshold_rule``,
        ``P_min`` and ``P_max`` (the smallest trained and the largest ``P`` of the curve),
        ``criterion``, ``v_m3``, ``v_mL1``, ``P_over_v_m3``, ``P_over_v_mL1``.
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
        found = _curve_threshold(Ps, [float(r["value"]) for r in curve], target, up)
        p_star = found["value"]
        trained = [p for p in Ps if p > 0]
        vm3, vml1 = v * m**3, v * m ** (L + 1)
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "metric": f"threshold:{metric}",
                **found,
                "threshold_rule": THRESHOLD_RULE,
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
