"""Numbers behind the figures: accuracy curves, thresholds, exact margins, context-vector errors."""

# Everything here is plain NumPy (no matplotlib), so the numbers a figure shows can be
# computed, tested and printed without the `plot` extra.

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.constants import DEFAULT_MERGE_FACTOR
from rhm_theory.empirical.errors import ErrorCurve, context_vector_error_curves
from rhm_theory.sweeps.runner import load_rows, row_context
from rhm_theory.sweeps.thresholds import (
    CONTEXT_LAWS,
    ThresholdSummary,
    cell_thresholds,
    fit_growth_per_level,
    method_scale,
    summarize_thresholds,
)
from rhm_theory.validation import CONTEXT_KINDS

__all__ = [
    "CONTEXT_LAWS",
    "AccuracyCurve",
    "ErrorCurve",
    "MarginRecord",
    "ThresholdSeries",
    "accuracy_curves",
    "context_vector_error_curves",
    "exact_margin_records",
    "load_sweep_rows",
    "margin_configs",
    "method_scale",
    "threshold_series",
]

FloatArray = npt.NDArray[np.float64]



def load_sweep_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a sweep from a file or a folder.

    Parameters
    ----------
    path : str or Path
        A ``rows.jsonl`` (one JSON row a line) or ``rows.json`` (one JSON list) file; or a
        folder holding ``rows.jsonl`` / ``rows.json`` itself or in ``sweep/`` (the report
        folder of ``rhm-theory verify``).

    Returns
    -------
    list of dict

    Raises
    ------
    FileNotFoundError
        If no rows file is found.
    ValueError
        If the file holds no rows or is not valid JSON.
    """
    p = Path(path)
    if p.is_dir():
        candidates = [p / "rows.jsonl", p / "rows.json", p / "sweep" / "rows.jsonl",
                      p / "sweep" / "rows.json"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"no rows.jsonl or rows.json in {p} or {p / 'sweep'}")
        p = found
    if not p.is_file():
        raise FileNotFoundError(f"rows file {p} does not exist")
    if p.suffix == ".json":
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p} is not valid JSON ({exc.msg})") from None
        if not isinstance(data, list):
            raise ValueError(f"{p} must hold a JSON list of rows")
        rows: list[dict[str, Any]] = [dict(r) for r in data]
    else:
        rows = [dict(r) for r in load_rows(p)]
    if not rows:
        raise ValueError(f"{p} holds no rows")
    return rows


# -- accuracy curves --------------------------------------------------------------------------
@dataclass(frozen=True)
class AccuracyCurve:
    """Accuracy of one level of one configuration against ``P``, over grammar seeds.

    Attributes
    ----------
    method : str
        ILC context kind of the rows.
    v, m, s, L : int
        Grammar parameters.
    level : int
        Recovered level (``1 <= level <= L-1``); ``0`` marks the minimum over levels.
    P : ndarray of float64
        Training-set sizes, increasing.
    mean, low, high : ndarray of float64
        Mean, minimum and maximum of the accuracy over the seeds at each ``P``.
    n_seeds : int
        Number of distinct (grammar, data) seed pairs.
    """

    method: str
    v: int
    m: int
    s: int
    L: int
    level: int
    P: FloatArray
    mean: FloatArray
    low: FloatArray
    high: FloatArray
    n_seeds: int

    @property
    def scale(self) -> float:
        """The method's predicted scale (see :func:`method_scale`)."""
        return method_scale(self.method, self.v, self.m, self.s, self.L)


def accuracy_curves(
    rows: Iterable[Mapping[str, Any]],
    method: str = "latent",
    *,
    metric: str = "accuracy",
) -> list[AccuracyCurve]:
    """Per-level accuracy curves of one method, aggregated over seeds.

    Parameters
    ----------
    rows : iterable of mapping
        Sweep rows (:data:`rhm_theory.sweeps.ROW_FIELDS`).
    method : str
        Keep the rows of this method.
    metric : {"accuracy", "min_accuracy"}
        ``accuracy``: one curve per level; ``min_accuracy``: one curve per configuration
        (the worst level), reported with ``level = 0``.

    Returns
    -------
    list of AccuracyCurve
        Sorted by ``(v, m, s, L, level)``.

    Examples
    --------
    >>> rows = [{"method": "latent", "v": 4, "m": 2, "s": 2, "L": 3, "level": lv, "P": P,
    ...          "grammar_seed": 0, "data_seed": 1, "accuracy": a, "min_accuracy": a}
    ...         for lv in (1, 2) for P, a in ((10, 0.5), (100, 1.0))]
    >>> [(c.level, c.mean.tolist()) for c in accuracy_curves(rows)]
    [(1, [0.5, 1.0]), (2, [0.5, 1.0])]
    """
    if metric not in ("accuracy", "min_accuracy"):
        raise ValueError(f"metric must be 'accuracy' or 'min_accuracy', got {metric!r}")
    per_point: dict[tuple[int, ...], dict[float, dict[tuple[Any, Any], float]]] = defaultdict(
        lambda: defaultdict(dict))
    for r in rows:
        if row_context(r) != method:
            continue
        if metric == "min_accuracy" and r["level"] != 1:  # per-cell value, repeated per level
            continue
        level = int(r["level"]) if metric == "accuracy" else 0
        key = (int(r["v"]), int(r["m"]), int(r["s"]), int(r["L"]), level)
        per_point[key][float(r["P"])][(r["grammar_seed"], r["data_seed"])] = float(r[metric])
    curves = []
    for (v, m, s, L, level), by_P in sorted(per_point.items()):
        Ps = sorted(by_P)
        vals = [np.asarray(list(by_P[P].values()), dtype=np.float64) for P in Ps]
        seeds = {sd for P in Ps for sd in by_P[P]}
        curves.append(AccuracyCurve(
            method, v, m, s, L, level, np.asarray(Ps, dtype=np.float64),
            np.array([x.mean() for x in vals]), np.array([x.min() for x in vals]),
            np.array([x.max() for x in vals]), len(seeds)))
    return curves


# -- thresholds against depth -----------------------------------------------------------------
@dataclass(frozen=True)
class ThresholdSeries:
    """Thresholds ``P*`` of one method and ``(v, m, s)`` against depth, with the prediction.

    Attributes
    ----------
    method : str
    v, m, s : int
    L : ndarray of int64
        Depths with at least one seed's curve.
    P_star : ndarray of float64
        Geometric mean over seeds (``nan`` if a seed never crossed the target).
    per_seed : list of (int, float)
        ``(L, P*)`` of every seed whose curve crossed the target.
    n_missing : ndarray of int64
        Seeds per depth whose curve never crossed the target.
    prefactor : float
        Geometric mean of ``P* / scale`` over the depths: the fitted constant ``c`` of the
        prediction ``P* = c * scale(L)``.
    growth_per_level : float
        Fitted factor by which ``P*`` grows per added level (``nan`` if undetermined).
    predicted_growth : float
        The prediction's factor per level: 1 for ``latent``, ``m`` for the baselines.
    """

    method: str
    v: int
    m: int
    s: int
    L: npt.NDArray[np.int64]
    P_star: FloatArray
    per_seed: list[tuple[int, float]]
    n_missing: npt.NDArray[np.int64]
    prefactor: float
    growth_per_level: float
    predicted_growth: float

    def predicted(self, L: npt.ArrayLike) -> FloatArray:
        """The fitted prediction ``prefactor * scale(L)`` at depths ``L``.

        Parameters
        ----------
        L : array_like of int
            Depths.

        Returns
        -------
        ndarray of float64
        """
        return np.array([self.prefactor * method_scale(self.method, self.v, self.m, self.s,
                                                        int(x)) for x in np.atleast_1d(L)])


def threshold_series(
    rows: Iterable[Mapping[str, Any]], *, event: str = "tuple_error"
) -> list[ThresholdSeries]:
    """Threshold ``P*`` against depth ``L``, per method and ``(v, m, s)``.

    ``P*`` is where the run's curve of the success ``event`` reaches its criterion
    (:func:`rhm_theory.sweeps.thresholds.cell_thresholds`).

    Parameters
    ----------
    rows : iterable of mapping
        Sweep rows (rows of ILC variants, ``pool_positions=False`` or a non-default
        ``merge_factor``, are left out).
    event : str
        A key of :data:`rhm_theory.sweeps.thresholds.SUCCESS_EVENTS`.

    Returns
    -------
    list of ThresholdSeries
        Sorted by ``(method, v, m, s)``.
    """
    # Default ILC only: variant rows (positions separate, merge off) are other methods.
    rows = [r for r in rows if r.get("pool_positions", True)
            and r.get("merge_factor", DEFAULT_MERGE_FACTOR) == DEFAULT_MERGE_FACTOR]
    per_seed = cell_thresholds(rows, event=event)
    groups: dict[tuple[str, int, int, int], list[Mapping[str, Any]]] = defaultdict(list)
    for t in per_seed:
        groups[(t["context"], int(t["v"]), int(t["m"]), int(t["s"]))].append(t)
    out = []
    for (method, v, m, s), ts in sorted(groups.items()):
        summaries: list[ThresholdSummary] = summarize_thresholds(ts)
        Ls = np.array([sm.L for sm in summaries], dtype=np.int64)
        P_star = np.array([sm.P_star for sm in summaries], dtype=np.float64)
        missing = np.array([sm.n_missing for sm in summaries], dtype=np.int64)
        points = [(int(t["L"]), float(t["P_star"])) for t in ts if math.isfinite(t["P_star"])]
        scales = np.array([method_scale(method, v, m, s, int(L)) for L in Ls])
        ok = np.isfinite(P_star)
        prefactor = (float(np.exp(np.mean(np.log(P_star[ok] / scales[ok]))))
                     if ok.any() else math.nan)
        growth = fit_growth_per_level(Ls[ok].tolist(), P_star[ok].tolist())
        predicted_growth = 1.0 if method == "latent" else float(m)
        out.append(ThresholdSeries(method, v, m, s, Ls, P_star, sorted(points), missing,
                                   prefactor, growth, predicted_growth))
    return out


# -- exact margins ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MarginRecord:
    """Exact separation margins of one level and context kind of one grammar.

    Attributes
    ----------
    v, m, s, L, grammar_seed : int
        The random grammar (:func:`rhm_theory.model.random_grammar`).
    level : int
        ``1 <= level <= L-1``.
    context : str
        Context kind.
    margin_min, margin_mean : float
        ``Delta_l`` and the mean pairwise distance of the centred context vectors.
    reference : float
        ``sqrt(1 - f) / m``, the reported latent-context scaling.
    """

    v: int
    m: int
    s: int
    L: int
    grammar_seed: int
    level: int
    context: str
    margin_min: float
    margin_mean: float
    reference: float


def margin_configs(rows: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, int, int]]:
    """``(v, m, s, L)`` per ``(v, m, s)`` of the rows, with the largest depth swept.

    Examples
    --------
    >>> margin_configs([{"v": 16, "m": 4, "s": 2, "L": 3}, {"v": 16, "m": 4, "s": 2, "L": 6}])
    [(16, 4, 2, 6)]
    """
    deepest: dict[tuple[int, int, int], int] = {}
    for r in rows:
        key = (int(r["v"]), int(r["m"]), int(r["s"]))
        deepest[key] = max(deepest.get(key, 0), int(r["L"]))
    return [(v, m, s, L) for (v, m, s), L in sorted(deepest.items()) if L >= 2]


def exact_margin_records(
    configs: Sequence[tuple[int, int, int, int]],
    grammar_seeds: Sequence[int],
    contexts: Sequence[str] = CONTEXT_KINDS,
) -> list[MarginRecord]:
    """Exact margins of every level and context kind of random grammars.

    Parameters
    ----------
    configs : sequence of (v, m, s, L)
        Grammar parameters (``L >= 2``).
    grammar_seeds : sequence of int
        Seeds of :func:`rhm_theory.model.random_grammar`.
    contexts : sequence of str
        Context kinds (default all).

    Returns
    -------
    list of MarginRecord
    """
    from rhm_theory.exact import context_laws, margin_summary
    from rhm_theory.model import RHMParams, random_grammar

    out = []
    for v, m, s, L in configs:
        params = RHMParams(v, m, s, L)
        ref = math.sqrt(1.0 - params.f) / m
        for seed in grammar_seeds:
            g = random_grammar(params, seed=seed)
            for kind in contexts:
                for level in range(1, L):
                    ms = margin_summary(context_laws(g, level, kind))
                    out.append(MarginRecord(v, m, s, L, int(seed), level, kind,
                                            ms.margin_min, ms.margin_mean, ref))
    return out


# -- context-vector errors: empirical against exact -------------------------------------------
