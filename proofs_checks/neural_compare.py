"""Competitor comparison for the neural scaling claims: collapse of log P* under rescalings.

Self-contained on purpose (issue 13): the library helpers for this comparison are being
written in ``rhm_theory/sweeps`` in parallel; this module should be unified with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs_checks._framework import Alternative, NegativeControl, Verdict

__all__ = [
    "BOOTSTRAP",
    "DECISIVE_RUNS_DIR",
    "DECISIVE_WORKERS",
    "MIN_SEEDS",
    "SCALES",
    "compare_rescalings",
    "neural_rows",
    "scaling_verdict",
    "thresholds_by_cell",
]

#: Rescalings compared on the same rows: ``(v, m, L) -> scale``.
SCALES: dict[str, Callable[[int, int, int], float]] = {
    "v m^3": lambda v, m, L: float(v * m**3),
    "v m^(L+1)": lambda v, m, L: float(v * m ** (L + 1)),
    "v m^L": lambda v, m, L: float(v * m**L),
}
#: Bootstrap resamples of the grammar seeds (within each cell) and the two-sided level:
#: 2,000 resamples put the Monte Carlo error of a 2.5% quantile well below its spread.
BOOTSTRAP = (2000, 0.05)
#: A cell enters the comparison only with at least this many grammar seeds that crossed
#: (a single seed has no spread to bootstrap).
MIN_SEEDS = 2

_ROWS_CACHE: dict[tuple[str, str], list[dict[str, Any]]] = {}


#: Where the decisive grid's runs are kept by ``verify --full`` (resumable).
DECISIVE_RUNS_DIR = "neural-verify-runs"
#: Runs sharing the device at once for the decisive grid.
DECISIVE_WORKERS = 4


def neural_rows(grid: str, device: str) -> list[dict[str, Any]]:
    """Rows of every neural method on ``grid`` (computed once per process and device).

    Both neural checks read the same runs: the masked-LM runs are the negative control of
    each, so they are trained once. The quick grid runs in this process; the decisive grid
    runs as a plan (:func:`rhm_theory.neural.plan.run_plan`, :data:`DECISIVE_WORKERS`
    processes, checkpoints in :data:`DECISIVE_RUNS_DIR`, so an interrupted verification
    resumes).
    """
    key = (grid, device)
    if key not in _ROWS_CACHE:
        from rhm_theory.neural.experiments import METHODS, scaling_experiment

        if grid == "decisive":
            from rhm_theory.neural.plan import make_plan, run_plan
            from rhm_theory.neural.training import resolve_device

            kind = resolve_device(device).type
            plan = make_plan(kind, None, runs_per_device=DECISIVE_WORKERS)
            _ROWS_CACHE[key] = run_plan(plan, DECISIVE_RUNS_DIR, device=device,
                                        threads=1 if kind == "cpu" else 0)
        else:
            _ROWS_CACHE[key] = scaling_experiment(METHODS, grid_name=grid, device=device)
    return _ROWS_CACHE[key]


def thresholds_by_cell(
    rows: Sequence[Mapping[str, Any]], method: str, metric: str, level_of: Callable[[int], int],
    criterion_fraction: float | None = None,
) -> tuple[dict[tuple[int, int, int], list[float]], dict[str, Any]]:
    """``{(v, m, L): [P* per grammar seed]}`` of one method's threshold rows.

    Censored thresholds (never crossed, or already crossed at the smallest ``P``) are left
    out and counted; so are cells with fewer than :data:`MIN_SEEDS` seeds.
    """
    cells: dict[tuple[int, int, int], list[float]] = {}
    censored: dict[str, int] = {}
    for r in rows:
        if r.get("method") != method or r.get("metric") != f"threshold:{metric}":
            continue
        L = int(r["L"])
        if r.get("level") != level_of(L):
            continue
        if criterion_fraction is not None and metric != "synonymic_sensitivity":
            n_sym = int(r["n_c"]) if r["level"] == L else int(r["v"])
            chance = 1.0 / n_sym
            want = chance + criterion_fraction * (1.0 - chance)
            if not math.isclose(float(r["criterion"]), want, rel_tol=1e-9):
                continue
        key = (int(r["v"]), int(r["m"]), L)
        value = r.get("value")
        if r.get("censored") is not None or value is None or not math.isfinite(float(value)):
            label = f"v={key[0]},m={key[1]},L={key[2]}"
            censored[label] = censored.get(label, 0) + 1
            continue
        cells.setdefault(key, []).append(float(value))
    kept = {k: v for k, v in cells.items() if len(v) >= MIN_SEEDS}
    info = {"censored_by_cell": censored,
            "cells_with_too_few_seeds": sorted(f"v={k[0]},m={k[1]},L={k[2]}"
                                               for k in cells if k not in kept)}
    return kept, info


def _spread(cells: Mapping[tuple[int, int, int], npt.ArrayLike], scale: str) -> float:
    # Variance across cells of the seed-mean of log(P* / scale): 0 for a perfect collapse.
    means = [float(np.mean(np.log(v))) - math.log(SCALES[scale](*k)) for k, v in cells.items()]
    return float(np.var(means))


def compare_rescalings(
    cells: Mapping[tuple[int, int, int], Sequence[float]],
    claim: str,
    competitor: str,
    seed: int = 0,
) -> dict[str, Any]:
    """Which rescaling collapses ``log P*`` better, with a bootstrap over grammar seeds.

    ``d = spread(competitor) - spread(claim)`` (:func:`_spread`); the seeds of every cell
    are resampled with replacement (``numpy.random.Generator`` seeded by ``seed``).
    ``competitor_rejected``: the lower bootstrap quantile of ``d`` is above 0;
    ``claim_rejected``: the upper one is below 0. ``decidable`` is False when the cells do
    not vary ``scale_competitor / scale_claim`` (then ``d = 0`` identically).

    >>> cells = {(8, 3, 3): [216.0, 230.0], (8, 3, 5): [220.0, 200.0], (8, 4, 4): [500, 540]}
    >>> out = compare_rescalings(cells, "v m^3", "v m^(L+1)")
    >>> out["competitor_rejected"], out["claim_rejected"]
    (True, False)
    """
    ratios = {round(math.log(SCALES[competitor](*k) / SCALES[claim](*k)), 9) for k in cells}
    out: dict[str, Any] = {
        "n_cells": len(cells), "claim": claim, "competitor": competitor,
        "spread": {s: (_spread(cells, s) if cells else math.nan) for s in (claim, competitor)},
        "decidable": len(cells) >= 2 and len(ratios) >= 2,
    }
    if not out["decidable"]:
        out.update(d_interval=[math.nan, math.nan], competitor_rejected=False,
                   claim_rejected=False)
        return out
    n_boot, alpha = BOOTSTRAP
    rng = np.random.default_rng([seed, 0xC011A])
    keys = list(cells)
    arrays = [np.asarray(cells[k], dtype=np.float64) for k in keys]
    ds = np.empty(n_boot)
    for b in range(n_boot):
        res = {k: a[rng.integers(0, len(a), len(a))] for k, a in zip(keys, arrays, strict=True)}
        ds[b] = _spread(res, competitor) - _spread(res, claim)
    lo, hi = (float(q) for q in np.quantile(ds, [alpha / 2, 1 - alpha / 2]))
    out.update(d_interval=[lo, hi], competitor_rejected=lo > 0, claim_rejected=hi < 0)
    return out


def scaling_verdict(
    comparison: Mapping[str, Any], control: Mapping[str, Any], control_description: str,
) -> tuple[Verdict, tuple[Alternative, ...], NegativeControl]:
    """Verdict of a claim from its comparison and its negative control's comparison.

    FAIL when the data reject the claim's rescaling; PASS only when they reject the
    competitor *and* the negative control fails (the same comparison on rows where the
    claim is false rejects the claim there); INCONCLUSIVE otherwise.
    """
    if control["claim_rejected"]:
        c_verdict = Verdict.FAIL
    elif control["competitor_rejected"]:
        c_verdict = Verdict.PASS
    else:
        c_verdict = Verdict.INCONCLUSIVE
    neg = NegativeControl(control_description, c_verdict, dict(control))
    alt = Alternative(str(comparison["competitor"]), bool(comparison["competitor_rejected"]),
                      float(comparison["spread"][comparison["competitor"]]), dict(comparison))
    if comparison["claim_rejected"]:
        verdict = Verdict.FAIL
    elif comparison["competitor_rejected"] and neg.failed_as_expected:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
    return verdict, (alt,), neg
