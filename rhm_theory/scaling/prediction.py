"""Does a quantitative prediction of ``P*`` beat a naive law? A grouped seed bootstrap."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rhm_theory.scaling.threshold import ThresholdPoint
from rhm_theory.validation import check_int, check_random_state

__all__ = ["N_BOOT_SCATTER", "log_scatter_comparison"]

#: Default resamples of :func:`log_scatter_comparison`.
N_BOOT_SCATTER = 400


def log_scatter_comparison(
    points: Sequence[ThresholdPoint], log_pred: Callable[[ThresholdPoint], float],
    naive: Mapping[str, Callable[[ThresholdPoint], float]], seed: int = 0,
    n_boot: int = N_BOOT_SCATTER,
) -> dict[str, Any]:
    """Log scatter of ``P* / prediction`` against that of ``P* / law`` for rival laws.

    Scatter is the standard deviation of the log ratio over the runs inside the grid
    (censored runs left out), so every law gets its own fitted constant. A grouped
    bootstrap (seeds redrawn within each configuration) gives the fraction of resamples in
    which the prediction's scatter is smaller, and larger, than each rival's.

    Parameters
    ----------
    points : sequence of ThresholdPoint
        Thresholds (:func:`rhm_theory.sweeps.thresholds.threshold_points`).
    log_pred : callable
        ``log`` of the prediction of a point.
    naive : mapping of str to callable
        Rival laws by name, each giving the ``log`` of a point's law (constant free).
    seed : int, optional
        Seed of the resampling.
    n_boot : int, optional
        Resamples (default :data:`N_BOOT_SCATTER`).

    Returns
    -------
    dict
        ``n_runs``; with at least 3 runs inside the grid also ``prediction`` (its scatter),
        ``naive`` (each rival's), ``prediction_better`` and ``prediction_worse`` (fractions
        of resamples, per rival).

    Examples
    --------
    A prediction exact up to a constant scatters less than a wrong exponent, in every
    resample:

    >>> pts = [ThresholdPoint(v, 2, 2, 3, 0, g, 3.0 * v * (1.1 if g else 0.9))
    ...        for v in (4, 8, 16) for g in (0, 1)]
    >>> out = log_scatter_comparison(pts, lambda p: math.log(p.v),
    ...                              {"v^2": lambda p: 2 * math.log(p.v)}, n_boot=50)
    >>> out["prediction"] < out["naive"]["v^2"], out["prediction_better"]["v^2"]
    (True, 1.0)
    """
    n_boot = check_int("n_boot", n_boot, minimum=1)
    inside = [p for p in points if not p.censored]
    if len(inside) < 3:
        return {"n_runs": len(inside)}
    y = np.array([math.log(p.P_star) for p in inside])
    pred = y - np.array([log_pred(p) for p in inside])
    rivals = {name: y - np.array([law(p) for p in inside]) for name, law in naive.items()}
    by: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(inside):
        by.setdefault(p.config, []).append(i)
    groups = [np.asarray(ix) for ix in by.values()]
    rng = check_random_state(seed)
    # (n_boot, n) indices: seeds redrawn within each configuration.
    idx = np.concatenate([g[rng.integers(0, g.size, (n_boot, g.size))] for g in groups],
                         axis=1)
    out: dict[str, Any] = {"n_runs": len(inside), "prediction": float(np.std(pred)),
                           "naive": {}, "prediction_better": {}, "prediction_worse": {}}
    sp = pred[idx].std(axis=1)
    for name, r in rivals.items():
        sn = r[idx].std(axis=1)
        out["naive"][name] = float(np.std(r))
        out["prediction_better"][name] = float(np.mean(sp < sn))
        out["prediction_worse"][name] = float(np.mean(sp > sn))
    return out
