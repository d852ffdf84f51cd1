"""Claims on the exact separation margin: its typical scaling, and whether grammars are separated.

docs/theory.md section 3 splits the reported ``Delta ~ sqrt(1-f) / m`` in two questions:

- :class:`MarginTypicalScalingCheck` (``margin_typical_scaling``): the *typical* margin
  (mean and median of ``||psi_a - psi_b||`` over symbol pairs) scales as ``sqrt(1-f) / m``;
- :class:`SeparationCheck` (``separation_of_random_grammars``): the *minimum* margin over
  ``sqrt(1-f) / m`` stays bounded away from 0 as ``v`` and ``m`` grow (``v >= m^2``).

Both read exact margins of random grammars (:func:`rhm_theory.exact.pair_margins`, no
sampling), fit a log-linear law on configuration means over grammar seeds with a
``t`` interval from the residual scatter (scatter between configurations included; these
measurements are :mod:`rhm_theory.exact.margin_fits`, this module decides), and are
calibrated (docs/theory.md section 10): a noise model fitted to the check's own rows (scatter
between seeds, scatter between configurations) simulates grids under the claim and under
near alternatives, and the unchanged rule is run on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import (
    Alternative,
    CheckResult,
    CheckTask,
    ClaimCheck,
    GridName,
    NegativeControl,
    Power,
    Verdict,
    task_results,
)
from rhm_theory.exact.margin_fits import (
    fit_margin_exponents,
    fit_separation_ratio,
    fit_typical_margin,
    margin_records,
    ratio_records,
    separation_fit,
    simulate_records,
)
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.validation import ContextKind, check_random_state

__all__ = [
    "EXPONENT_M",
    "EXPONENT_ONE_MINUS_F",
    "N_SIM",
    "RIVAL_EXPONENTS_M",
    "SEPARATION_GRID",
    "SEPARATION_MARGIN",
    "TYPICAL_GRID",
    "MarginTypicalScalingCheck",
    "SeparationCheck",
    "margin_checks",
    "margin_tasks",
    "margin_verdict",
    "separation_verdict",
]

Record = Mapping[str, Any]
#: Predicted exponent of m in the typical margin (``sqrt(1-f) / m``).
EXPONENT_M = -1.0
#: Predicted exponent of ``1 - f``.
EXPONENT_ONE_MINUS_F = 0.5
#: Near rival exponents of m that the typical-margin interval must exclude for a PASS
#: (the issue's bracket: a quarter on either side of the claim).
RIVAL_EXPONENTS_M = (-0.75, -1.25)
#: Non-inferiority margin of the separation check: the one-sided 95% lower bounds of the
#: trends of ``log(min margin m / sqrt(1-f))`` (in ``log v`` at fixed ``m``, and along
#: ``v = m^2``) must lie above ``-SEPARATION_MARGIN``. Rows decaying exactly this fast (the
#: registered alternatives ``v^-0.25`` and ``m^-0.25``) then PASS at most 5% of the time by
#: construction of a one-sided 95% bound.
SEPARATION_MARGIN = 0.25
#: Simulated grids per hypothesis in the calibration: the binomial standard error of a
#: rate near 0.05 is then sqrt(0.05 * 0.95 / 200) = 0.015.
N_SIM = 200
# s = 2, L = 3 (margin_records' defaults): levels 1 (parent at level 2) and 2 (parent =
# root) both fitted.
_LEVELS = (1, 2)

#: Typical-margin grid: v, m (m < v), grammar seeds.
TYPICAL_GRID: dict[GridName, dict[str, list[int]]] = {
    "quick": {"v": [16, 32, 64, 128], "m": [2, 3, 4, 6, 8, 12], "seeds": [0, 1, 2]},
    "full": {"v": [16, 32, 64, 128, 256], "m": [2, 3, 4, 6, 8, 12, 16],
             "seeds": [0, 1, 2, 3, 4]},
}
#: Separation grid: m, multiples k of m^2 (v = k m^2 >= m^2), grammar seeds. m starts at 4:
#: at m = 2 a random grammar has exactly zero margins with a probability that grows with v
#: (tests/test_assumptions.py), the known small-m regime the question is not about.
SEPARATION_GRID: dict[GridName, dict[str, list[int]]] = {
    "quick": {"m": [4, 6, 8, 12, 16], "k": [1, 2], "seeds": [0, 1, 2]},
    "full": {"m": [4, 6, 8, 12, 16, 20], "k": [1, 2, 4], "seeds": [0, 1, 2, 3, 4]},
}


def margin_tasks(check: str, configs: Sequence[tuple[int, int]], seeds: Sequence[int],
                 context: ContextKind = "latent",
                 levels: Sequence[int] = _LEVELS) -> list[CheckTask]:
    """:func:`margin_records` split into one task per configuration (their values, joined in
    order, are the records of one call on all ``configs``)."""
    return [CheckTask(check, margin_records,
                      (("configs", [[int(v), int(m)]]), ("seeds", [int(x) for x in seeds]),
                       ("context", context), ("levels", [int(x) for x in levels])),
                      # pair margins: v^2 pairs of context vectors of v * m entries
                      cost=float(v) ** 3 * m * len(seeds))
            for v, m in configs]


def _records(tasks: Sequence[CheckTask], rows: Sequence[Record]) -> list[dict[str, Any]]:
    return [rec for part in task_results(tasks, rows) for rec in part]


def _latent_and_token_tasks(name: str, configs: Sequence[tuple[int, int]],
                            seeds: Sequence[int]) -> tuple[list[CheckTask], list[CheckTask]]:
    """A margin check's tasks: the latent margins (the claim) and the token ones (the
    control, level 2)."""
    return (margin_tasks(name, configs, seeds),
            margin_tasks(name, configs, seeds, "token", levels=(2,)))


def _power(rule: Callable[[Sequence[Record]], Verdict],
           simulate: Callable[[str, np.random.Generator], list[dict[str, Any]]],
           hypotheses: Sequence[str], n_sim: int, seed: int) -> dict[str, float]:
    """PASS rate of ``rule`` on ``n_sim`` grids simulated under each hypothesis."""
    out = {}
    for h_index, name in enumerate(hypotheses):
        rng = check_random_state(seed, h_index)
        passes = sum(rule(simulate(name, rng)) is Verdict.PASS for _ in range(n_sim))
        out[name] = passes / n_sim
    return out


# -- (a) the typical margin -------------------------------------------------------------------
def margin_verdict(fit: Mapping[str, list[float]]) -> Verdict:
    """The typical-margin rule on one :func:`fit_margin_exponents` result.

    PASS: ``-1`` inside the interval of the exponent of m, ``0.5`` inside that of ``1-f``,
    and both :data:`RIVAL_EXPONENTS_M` outside; FAIL: a predicted exponent outside its
    interval; INCONCLUSIVE: otherwise (or no interval: too few configurations).
    """
    _, blo, bhi = fit["m"]
    _, elo, ehi = fit["one_minus_f"]
    if not all(math.isfinite(x) for x in (blo, bhi, elo, ehi)):
        return Verdict.INCONCLUSIVE
    if not (blo <= EXPONENT_M <= bhi and elo <= EXPONENT_ONE_MINUS_F <= ehi):
        return Verdict.FAIL
    if any(blo <= r <= bhi for r in RIVAL_EXPONENTS_M):
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def typical_verdict(recs: Sequence[Record]) -> Verdict:
    """Rule of ``margin_typical_scaling``: the mean and the median over pairs both PASS
    :func:`margin_verdict` (FAIL if either FAILs, else INCONCLUSIVE)."""
    verdicts = [margin_verdict(fit_margin_exponents(recs, key))
                for key in ("margin_mean", "margin_median")]
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    return Verdict.PASS if all(v is Verdict.PASS for v in verdicts) else Verdict.INCONCLUSIVE


def _typical_hypotheses() -> dict[str, tuple[float | None, float | None]]:
    """Name -> (exponent of m, exponent of 1-f) to impose; ``None`` keeps the fitted one."""
    return {"claim: sqrt(1-f) / m": (EXPONENT_M, EXPONENT_ONE_MINUS_F),
            **{f"sqrt(1-f) m^{r}": (r, EXPONENT_ONE_MINUS_F) for r in RIVAL_EXPONENTS_M},
            "1 / m (no f dependence)": (EXPONENT_M, 0.0),
            "(1-f) / m": (EXPONENT_M, 1.0)}


def typical_power(recs: Sequence[Record], n_sim: int = N_SIM, seed: int = 0) -> Power:
    """Calibration of ``typical_verdict`` on rows simulated from its own noise model.

    For each hypothesis the fitted coefficients (intercept, ``log v``, level offsets, the
    noise scales) of the mean and of the median are kept and the exponents of m and
    ``1-f`` are set to the hypothesis; both statistics are redrawn independently.
    """
    fits = {key: fit_typical_margin(recs, key) for key in ("margin_mean", "margin_median")}
    hyp = _typical_hypotheses()

    def simulate(name: str, rng: np.random.Generator) -> list[dict[str, Any]]:
        b, e = hyp[name]
        out: list[dict[str, Any]] = [dict(r) for r in recs]
        for key, fit in fits.items():
            coef = fit.coef.copy()
            coef[1], coef[2] = b, e
            out = simulate_records(fit, coef, out, key, rng)
        return out

    rates = _power(typical_verdict, simulate, list(hyp), n_sim, seed)
    names = list(hyp)
    return Power(rates[names[0]], tuple((n, rates[n]) for n in names[1:]), n_sim)


class MarginTypicalScalingCheck:
    """The typical (mean and median over pairs) latent margin scales as ``sqrt(1-f) / m``.

    Rule (``typical_verdict``): for the mean and for the median over symbol pairs, the
    95% interval of the exponent of m contains ``-1`` and excludes ``-0.75`` and ``-1.25``,
    and that of ``1-f`` contains ``0.5``. Negative control: the same rule on the token
    context of level 2 (the four tokens under each cousin, a noisier view whose typical
    margin decays faster in m), real data where the claim is false. Calibrated on rows
    simulated from the fitted noise model (``typical_power``).
    """

    name = "margin_typical_scaling"
    claim = "The typical (mean, median over pairs) latent margin scales as sqrt(1 - f) / m."
    source = "docs/theory.md section 3 (typical margin)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def _tasks(self, grid: GridName) -> tuple[list[CheckTask], list[CheckTask]]:
        g = TYPICAL_GRID[grid]
        return _latent_and_token_tasks(self.name, [(v, m) for v in g["v"] for m in g["m"]
                                                   if m < v], g["seeds"])

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """The exact margins (latent, and token for the control), one task per (v, m)."""
        return [task for part in self._tasks(grid) for task in part]

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        g = TYPICAL_GRID[grid]
        latent_tasks, token_tasks = self._tasks(grid)
        recs = _records(latent_tasks, rows)
        fits = {key: fit_margin_exponents(recs, key) for key in ("margin_mean",
                                                                 "margin_median")}
        verdict = typical_verdict(recs)
        token = _records(token_tasks, rows)
        control = typical_verdict(token)
        power = typical_power(recs)
        return CheckResult.judged(
            self.name, self.claim, self.source,
            prediction=f"exponent of m = {EXPONENT_M}, of (1-f) = {EXPONENT_ONE_MINUS_F} "
                       "(mean and median over pairs)",
            measured={"mean_exponent_m": fits["margin_mean"]["m"],
                      "mean_exponent_one_minus_f": fits["margin_mean"]["one_minus_f"],
                      "mean_exponent_v": fits["margin_mean"]["v"],
                      "median_exponent_m": fits["margin_median"]["m"],
                      "median_exponent_one_minus_f": fits["margin_median"]["one_minus_f"],
                      "median_exponent_v": fits["margin_median"]["v"],
                      "n_records": len(recs)},
            predicted={"exponent_m": EXPONENT_M, "exponent_one_minus_f": EXPONENT_ONE_MINUS_F},
            tolerance="predicted exponents inside the 95% t intervals of the fit of "
                      "configuration means (seed-averaged logs); rival exponents of m "
                      f"{RIVAL_EXPONENTS_M} outside ([coef, low, high]), for the mean and "
                      "the median",
            verdict=verdict,
            alternatives=tuple(
                Alternative(f"typical margin ~ m^{r}",
                            all(not fits[k]["m"][1] <= r <= fits[k]["m"][2] for k in fits), r)
                for r in RIVAL_EXPONENTS_M),
            negative_control=NegativeControl(
                "the same rule on token-context margins of level 2 (tokens under the "
                "cousins)", control,
                {"mean_exponent_m": fit_margin_exponents(token, "margin_mean")["m"]}),
            power=power,
            details={"grid": f"v in {g['v']}, m in {g['m']}, m < v, s=2, L=3, levels 1-2, "
                             f"seeds {g['seeds']}"},
        )


# -- (b) are random grammars separated? -------------------------------------------------------
def separation_verdict(fit: Mapping[str, list[float]]) -> Verdict:
    """Rule of ``separation_of_random_grammars`` on a :func:`separation_fit` result.

    FAIL: an upper bound below 0 (the ratio decays: not bounded away from 0); PASS: both
    lower bounds above ``-SEPARATION_MARGIN`` (no decay as fast as ``v^-0.25`` or
    ``m^-0.25`` along ``v = m^2``); INCONCLUSIVE otherwise or without intervals.
    """
    bounds = [x for k in ("v", "diagonal") for x in fit[k][1:]]
    if not all(math.isfinite(x) for x in bounds):
        return Verdict.INCONCLUSIVE
    if fit["v"][2] < 0 or fit["diagonal"][2] < 0:
        return Verdict.FAIL
    if fit["v"][1] > -SEPARATION_MARGIN and fit["diagonal"][1] > -SEPARATION_MARGIN:
        return Verdict.PASS
    return Verdict.INCONCLUSIVE


def _separation_rule(recs: Sequence[Record]) -> Verdict:
    return separation_verdict(separation_fit(recs))


def separation_power(recs: Sequence[Record], n_sim: int = N_SIM, seed: int = 0) -> Power:
    """Calibration of the separation rule on ratios simulated from its own noise model.

    Claim: a flat ratio (``a = g = 0``, the boundary of "bounded away from 0"); near
    alternatives: ``v^-0.25`` at fixed m (``g = -0.25, a = 0.5``: flat along
    ``v = m^2``), ``m^-0.25`` along ``v = m^2`` (``a = -0.25, g = 0``); far: ``m^-0.5``.
    """
    fit = fit_separation_ratio(recs)
    hyp: dict[str, tuple[float, float]] = {
        "claim: bounded (flat ratio)": (0.0, 0.0),
        f"ratio ~ v^-{SEPARATION_MARGIN} at fixed m": (2 * SEPARATION_MARGIN,
                                                        -SEPARATION_MARGIN),
        f"ratio ~ m^-{SEPARATION_MARGIN} along v = m^2": (-SEPARATION_MARGIN, 0.0),
        "ratio ~ m^-0.5 along v = m^2": (-0.5, 0.0),
    }
    ratios = ratio_records(recs)

    def simulate(name: str, rng: np.random.Generator) -> list[dict[str, Any]]:
        coef = fit.coef.copy()
        coef[1], coef[2] = hyp[name]
        sim = simulate_records(fit, coef, ratios, "ratio", rng)
        # The rule reads margins: undo the ratio.
        return [{**r, "margin": r["ratio"] * math.sqrt(1 - r["f"]) / r["m"]} for r in sim]

    rates = _power(_separation_rule, simulate, list(hyp), n_sim, seed)
    names = list(hyp)
    return Power(rates[names[0]], tuple((n, rates[n]) for n in names[1:]), n_sim)


class SeparationCheck:
    """Random grammars are separated: ``min margin / (sqrt(1-f)/m)`` stays away from 0.

    Exact latent minima of random grammars with ``v = k m^2`` (``k >= 1``) and ``m >= 4``;
    rule :func:`separation_verdict` on the trends of the log ratio in ``v`` and along
    ``v = m^2``. Negative control: the same rule on the token context of level 2, whose
    minimum decays faster than ``1/m`` (real data where the ratio goes to 0). Calibrated by
    ``separation_power``.
    """

    name = "separation_of_random_grammars"
    claim = ("Random grammars are separated: the minimum latent margin over sqrt(1 - f) / m "
             "is bounded away from 0 as v and m grow (v >= m^2).")
    source = "docs/theory.md section 3 (separated grammars)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def _tasks(self, grid: GridName) -> tuple[list[CheckTask], list[CheckTask]]:
        g = SEPARATION_GRID[grid]
        return _latent_and_token_tasks(
            self.name, [(k * m * m, m) for m in g["m"] for k in g["k"]], g["seeds"])

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """The exact minima (latent, and token for the control), one task per (v, m)."""
        return [task for part in self._tasks(grid) for task in part]

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        g = SEPARATION_GRID[grid]
        latent_tasks, token_tasks = self._tasks(grid)
        recs = _records(latent_tasks, rows)
        fit = separation_fit(recs)
        verdict = separation_verdict(fit)
        token = _records(token_tasks, rows)
        cfit = separation_fit(token)
        ratios = [r["ratio"] for r in ratio_records(recs)]
        return CheckResult.judged(
            self.name, self.claim, self.source,
            prediction="trends of log(Delta m / sqrt(1-f)) in log v and along v = m^2 "
                       f">= 0 (lower bounds > -{SEPARATION_MARGIN})",
            measured={"trend_v": fit["v"], "trend_diagonal": fit["diagonal"],
                      "ratio_min": float(min(ratios)),
                      "ratio_median": float(np.median(ratios)),
                      "n_records": len(recs)},
            predicted={"trend_v": 0.0, "trend_diagonal": 0.0},
            tolerance=f"one-sided 95% t bounds ([estimate, lower, upper]): PASS if both "
                      f"lower bounds > -{SEPARATION_MARGIN}, FAIL if an upper bound < 0",
            verdict=verdict,
            alternatives=(
                Alternative(f"ratio ~ v^-{SEPARATION_MARGIN}",
                            fit["v"][1] > -SEPARATION_MARGIN, fit["v"][0]),
                Alternative(f"ratio ~ m^-{SEPARATION_MARGIN} along v = m^2",
                            fit["diagonal"][1] > -SEPARATION_MARGIN, fit["diagonal"][0])),
            negative_control=NegativeControl(
                "the same rule on token-context minima of level 2", separation_verdict(cfit),
                {"trend_v": cfit["v"], "trend_diagonal": cfit["diagonal"]}),
            power=separation_power(recs),
            details={"grid": f"m in {g['m']}, v = k m^2 for k in {g['k']}, s=2, L=3, "
                             f"levels 1-2, seeds {g['seeds']}"},
        )


def margin_checks() -> list[ClaimCheck]:
    """The two margin checks, in report order (registered in ``proofs_checks``)."""
    return [MarginTypicalScalingCheck(), SeparationCheck()]
