"""Claim: empirical context vectors concentrate: squared error ~ v m / P, at the exact noise."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs_checks._framework import (
    CheckResult,
    CheckTask,
    GridName,
    NegativeControl,
    Power,
    Verdict,
    task_results,
)
from rhm_theory.empirical import context_vector_error_curves
from rhm_theory.model import RHMParams
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.validation import check_int, check_random_state, check_seed

__all__ = [
    "CONCENTRATION_ALTERNATIVES",
    "N_SIM_CONCENTRATION",
    "ConcentrationCheck",
    "ConcentrationNoise",
    "calibrate_concentration",
    "concentration_passes",
    "error_curve",
    "fit_concentration_noise",
    "repeated_string_curve",
    "repeated_string_errors",
    "simulate_mean_errors",
]

FloatArray = npt.NDArray[np.float64]

#: Simulated grids per law in the calibration. A grid is a few small arrays, so many are
#: cheap: with 1000 a PASS rate is known to about +-0.007 near 0.05, +-0.013 near 0.8.
N_SIM_CONCENTRATION = 1000
#: Seed of the calibration's simulations.
CALIBRATION_SEED = 0
#: Registered alternatives: name -> (level factor, slope) of the mean squared error,
#: ``error = factor * exact(P) * (P / P_ref)^(slope + 1)`` with ``P_ref`` the geometric
#: mean of the grid's ``P`` (so a slope alternative equals the exact noise mid-grid). The
#: far ones of issue 17 (slope -0.5; an effective sample of ``P/2`` or ``2P``) and nearer
#: ones on each side of the claim (slope -0.8 and -1.2; a level 1.5x off either way).
CONCENTRATION_ALTERNATIVES: dict[str, tuple[float, float]] = {
    "slope -0.5": (1.0, -0.5),
    "slope -0.8": (1.0, -0.8),
    "slope -1.2": (1.0, -1.2),
    "level x2 (effective P/2)": (2.0, -1.0),
    "level x0.5 (effective 2P)": (0.5, -1.0),
    "level x1.5": (1.5, -1.0),
    "level x1/1.5": (1 / 1.5, -1.0),
}


def repeated_string_errors(params: RHMParams, grammar_seed: int, Ps: Sequence[int],
                           data_seeds: Sequence[int], repeat: int) -> np.ndarray:
    """Measured squared error of level-1 latent context vectors from corpora of ``P``
    strings in which every string appears ``repeat`` times (``P / repeat`` distinct): data
    whose effective sample size is ``P / repeat``, where the claim ``error ~ v m / P`` at
    the exact noise is false by a factor ``repeat``. Same estimator and error as
    :func:`rhm_theory.empirical.context_vector_error_curves` (mean over data seeds)."""
    from rhm_theory.empirical import ContextCounts
    from rhm_theory.exact import context_laws
    from rhm_theory.model import random_grammar, tuple_codes
    from rhm_theory.model.sampling import sample

    v, m, s = params.v, params.m, params.s
    g = random_grammar(params, grammar_seed)
    laws = context_laws(g, 1, "latent")
    parents = np.repeat(np.arange(params.vocab(1)), m)
    codes = tuple_codes(g.rules_of(1).reshape(-1, s), v)
    occurs = laws.weights[:, parents] > 0
    exact = np.transpose(laws.blocks[:, :, parents], (2, 0, 1, 3))
    out = np.zeros(len(Ps))
    for ds in data_seeds:
        for i, P in enumerate(Ps):
            acc = ContextCounts(s, 1, "latent", v, v)
            chunk = sample(g, P // repeat, ds, latents=True)
            for _ in range(repeat):  # each distinct string counted `repeat` times
                acc.update(chunk.tokens, tokens=chunk.tokens)
            sq = ((acc.conditional_laws(codes) - exact) ** 2).sum(axis=(2, 3))
            out[i] += float(np.where(occurs.T, sq, 0.0).sum(axis=1).mean())
    return out / len(data_seeds)


def error_curve(v: int, m: int, s: int, L: int, grammar_seed: int, Ps: Sequence[int],
                data_seed: int) -> dict[str, list[float]]:
    """Level-1 latent error curve of one data seed
    (:func:`~rhm_theory.empirical.context_vector_error_curves`): ``P``, ``measured`` and
    ``predicted`` as lists (a task of :class:`ConcentrationCheck`)."""
    curve = context_vector_error_curves((v, m, s, L), grammar_seed, Ps, [data_seed],
                                        contexts=("latent",), levels=(1,))[0]
    return {"P": [float(x) for x in curve.P], "measured": [float(x) for x in curve.measured],
            "predicted": [float(x) for x in curve.predicted]}


def repeated_string_curve(v: int, m: int, s: int, L: int, grammar_seed: int,
                          Ps: Sequence[int], data_seeds: Sequence[int],
                          repeat: int) -> list[float]:
    """:func:`repeated_string_errors` as a list (the control's task)."""
    return [float(x) for x in repeated_string_errors(RHMParams(v, m, s, L), grammar_seed, Ps,
                                                     data_seeds, repeat)]


def _slopes(log_P: FloatArray, log_y: FloatArray) -> FloatArray:
    """Least-squares slope of each row of ``log_y`` on ``log_P`` (``np.polyfit`` degree 1,
    in closed form so that many simulated curves are fitted at once)."""
    x = log_P - log_P.mean()
    return np.asarray((log_y - log_y.mean(axis=-1, keepdims=True)) @ x / (x @ x),
                      dtype=np.float64)


def concentration_passes(
    P: npt.ArrayLike, measured: npt.ArrayLike, predicted: npt.ArrayLike,
    slope_band: tuple[float, float], ratio_band: tuple[float, float],
) -> npt.NDArray[np.bool_]:
    """The rule of :class:`ConcentrationCheck` on one curve or a stack of curves.

    PASS when the slope of ``log measured`` on ``log P`` lies in ``slope_band`` and every
    ``measured / predicted`` in ``ratio_band`` (else FAIL). ``measured`` is ``(n_P,)`` or
    ``(n_curves, n_P)`` (means over data seeds); returns one bool per curve.
    """
    logP = np.log(np.asarray(P, dtype=np.float64))
    y = np.atleast_2d(np.asarray(measured, dtype=np.float64))
    ratio = y / np.asarray(predicted, dtype=np.float64)
    slope = _slopes(logP, np.log(y))
    lo, hi = slope_band
    rlo, rhi = ratio_band
    return np.asarray((lo <= slope) & (slope <= hi)
                      & np.all((rlo <= ratio) & (ratio <= rhi), axis=-1))


@dataclass(frozen=True)
class ConcentrationNoise:
    """Scatter of ``log(measured / exact)`` of the per-seed error curves.

    ``sigma_seed``: pooled standard deviation between data seeds at one ``P`` (``n_P
    (n_seeds - 1)`` degrees of freedom; pooled over ``P`` because each ``P`` alone has only
    ``n_seeds - 1``, and the relative scatter of a sum of squared estimation errors does not
    depend on ``P`` once every tuple is seen many times); ``tau_P``: standard deviation of
    the seed means around the best line in ``log P`` beyond what the seeds explain,
    ``sqrt(max(s^2 - sigma_seed^2 / n_seeds, 0))`` with ``s`` that line's residual scatter
    (``n_P - 2`` degrees of freedom; 0 with fewer than 3 ``P``). The analogue, for error
    curves, of :class:`rhm_theory.sweeps.calibration.NoiseModel`.
    """

    sigma_seed: float
    tau_P: float
    n_seeds: int
    n_P: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return dict(self.__dict__)


def fit_concentration_noise(P: npt.ArrayLike, ratios: npt.ArrayLike) -> ConcentrationNoise:
    """Fit :class:`ConcentrationNoise` to per-seed ratios ``measured / exact``.

    Parameters
    ----------
    P : array_like, shape (n_P,)
    ratios : array_like, shape (n_seeds, n_P)
        Each data seed's measured error over the exact noise, per ``P``.
    """
    r = np.asarray(ratios, dtype=np.float64)
    Pa = np.asarray(P, dtype=np.float64)
    if r.ndim != 2 or Pa.ndim != 1 or r.shape[1] != Pa.size or r.shape[0] < 1 \
            or Pa.size < 2:
        raise ValueError("ratios must have shape (n_seeds >= 1, n_P >= 2) matching P, got "
                         f"{r.shape} for {Pa.size} values of P")
    if not (np.all(np.isfinite(r)) and np.all(r > 0) and np.all(Pa > 0)):
        raise ValueError("ratios must be positive and finite, and P positive")
    x, logP = np.log(r), np.log(Pa)
    n_s, n_P = x.shape
    sigma = float(np.sqrt(((x - x.mean(axis=0)) ** 2).sum() / (n_P * (n_s - 1)))) \
        if n_s > 1 else 0.0
    tau = 0.0
    if n_P > 2:
        means = x.mean(axis=0)
        resid = means - np.polyval(np.polyfit(logP, means, 1), logP)
        s2 = float((resid**2).sum() / (n_P - 2))
        tau = math.sqrt(max(s2 - sigma * sigma / n_s, 0.0))
    return ConcentrationNoise(sigma, tau, n_s, n_P)


def simulate_mean_errors(
    P: npt.ArrayLike, predicted: npt.ArrayLike, noise: ConcentrationNoise,
    factor: float, slope: float, n_sim: int, rng: np.random.Generator,
) -> FloatArray:
    """``n_sim`` simulated curves of the mean over ``noise.n_seeds`` data seeds.

    Each seed's error is ``factor exact(P) (P / P_ref)^(slope + 1) exp(u_P + e)`` with
    ``u_P ~ N(0, tau_P)`` shared by the seeds of one ``P`` and ``e ~ N(-sigma^2/2,
    sigma)`` per seed and ``P`` (mean-one scatter: under the claim the expected error is
    the exact noise). Draws at different ``P`` are independent; the real corpora are
    nested (the first ``P`` strings of one stream), which correlates a seed's errors
    across ``P`` positively and makes the real slope less noisy than the simulated one.
    """
    logP = np.log(np.asarray(P, dtype=np.float64))
    pred = np.asarray(predicted, dtype=np.float64)
    n_s, s = noise.n_seeds, noise.sigma_seed
    u = rng.normal(0.0, noise.tau_P, (n_sim, 1, logP.size))
    e = rng.normal(-0.5 * s * s, s, (n_sim, n_s, logP.size))
    law = math.log(factor) + (slope + 1.0) * (logP - logP.mean())
    return np.asarray((pred * np.exp(law + u + e)).mean(axis=1), dtype=np.float64)


def calibrate_concentration(
    P: npt.ArrayLike, predicted: npt.ArrayLike, noise: ConcentrationNoise,
    slope_band: tuple[float, float], ratio_band: tuple[float, float], *,
    alternatives: Mapping[str, tuple[float, float]] = CONCENTRATION_ALTERNATIVES,
    n_sim: int = N_SIM_CONCENTRATION, seed: int = CALIBRATION_SEED,
) -> Power:
    """PASS rates of :func:`concentration_passes` on curves simulated under the claim
    (factor 1, slope -1: the power) and under each alternative (its false-PASS rate)."""
    n_sim = check_int("n_sim", n_sim, minimum=1)
    seed = check_seed("seed", seed)

    def rate(factor: float, slope: float) -> float:
        rng = check_random_state(seed)  # every law sees the same draws
        sim = simulate_mean_errors(P, predicted, noise, factor, slope, n_sim, rng)
        return float(concentration_passes(P, sim, predicted, slope_band, ratio_band).mean())

    return Power(rate(1.0, -1.0),
                 tuple((name, rate(f, sl)) for name, (f, sl) in alternatives.items()), n_sim)


class ConcentrationCheck:
    """Slope of log error vs log P is -1 and the level matches the exact noise.

    Rule: the mean over data seeds of the measured squared error of level-1 latent context
    vectors (``v = 16, m = 4, L = 4``, grammar seed 0) PASSes when the slope of its log on
    ``log P`` lies in :attr:`slope_band` and its ratio to the exact noise in
    :attr:`ratio_band` at every ``P``; else FAIL.

    Calibration: the per-seed curves give the noise (:func:`fit_concentration_noise`:
    scatter between data seeds, and of the seed means between ``P`` points beyond it); the
    rule runs unchanged on :data:`N_SIM_CONCENTRATION` curves simulated under the claim
    (error = exact noise x mean-one scatter: the power) and under
    :data:`CONCENTRATION_ALTERNATIVES` (false-PASS rates). Negative control: corpora in
    which every string appears twice (effective sample ``P/2``, data where the claim is
    false), through the same rule, must FAIL.
    """

    name = "context_vector_concentration"
    claim = ("Estimating a tuple's context vector from P strings has squared error about "
             "v m / P (n_t = P/(v m) occurrences), the noise side of P* ~ v m / Delta^2.")
    source = "docs/theory.md section 4"
    slope_band = (-1.1, -0.9)
    ratio_band = (0.8, 1.25)
    #: Times each string is repeated in the control's corpora.
    control_repeat = 2

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    #: The grammar (``v, m, s, L``; grammar seed 0) whose level-1 latent vectors are measured.
    params = RHMParams(16, 4, 2, 4)

    @staticmethod
    def _grid(grid: GridName) -> tuple[list[int], list[int]]:
        Ps = [2000, 8000, 32000, 128000] if grid == "quick" else [2000, 8000, 32000, 128000,
                                                                   512000]
        seeds = [1, 2, 3] if grid == "quick" else [1, 2, 3, 4, 5, 6]
        return Ps, seeds

    def _curve_tasks(self, grid: GridName) -> list[CheckTask]:
        Ps, seeds = self._grid(grid)
        p = self.params
        shape = (("v", p.v), ("m", p.m), ("s", p.s), ("L", p.L), ("grammar_seed", 0),
                 ("Ps", Ps))
        return [CheckTask(self.name, error_curve, (*shape, ("data_seed", ds)),
                          cost=float(sum(Ps))) for ds in seeds]

    def _control_task(self, grid: GridName) -> CheckTask:
        Ps, seeds = self._grid(grid)
        p = self.params
        return CheckTask(self.name, repeated_string_curve,
                         (("v", p.v), ("m", p.m), ("s", p.s), ("L", p.L), ("grammar_seed", 0),
                          ("Ps", Ps), ("data_seeds", seeds),
                          ("repeat", self.control_repeat)),
                         cost=float(sum(Ps) * len(seeds)))

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """One error curve per data seed, and the control's curve of repeated strings."""
        return [*self._curve_tasks(grid), self._control_task(grid)]

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        params = self.params
        _, seeds = self._grid(grid)
        # One curve per data seed (the same corpora as one call with every seed; their
        # mean is the measured curve): the calibration needs the scatter between seeds.
        per_seed = task_results(self._curve_tasks(grid), rows)
        P = np.asarray(per_seed[0]["P"], dtype=np.float64)
        predicted = np.asarray(per_seed[0]["predicted"], dtype=np.float64)
        by_seed = np.stack([np.asarray(c["measured"], dtype=np.float64) for c in per_seed])
        measured = by_seed.mean(axis=0)
        slope = float(_slopes(np.log(P), np.log(measured)))
        ratios = [float(x) for x in measured / predicted]
        # v m / P scaling constant: measured error * P / (v m), to report.
        const = [float(x) for x in measured * P / (params.v * params.m)]
        res = [{"P": float(p), "measured": float(a), "predicted": float(b)}
               for p, a, b in zip(P, measured, predicted, strict=True)]
        lo, hi = self.slope_band
        rlo, rhi = self.ratio_band
        ok = bool(concentration_passes(P, measured, predicted, self.slope_band,
                                       self.ratio_band)[0])
        noise = fit_concentration_noise(P, by_seed / predicted)
        power = calibrate_concentration(P, predicted, noise, self.slope_band,
                                        self.ratio_band)
        # Negative control (issue 17: data where the claim is false, not the claim's own
        # ratios divided by a constant): corpora of P strings in which every string
        # appears twice, whose effective sample size is P/2, through the same rule.
        rep = np.asarray(task_results([self._control_task(grid)], rows)[0],
                         dtype=np.float64)
        c_slope = float(_slopes(np.log(P), np.log(rep)))
        c_ratios = [float(x) for x in rep / predicted]
        control = NegativeControl(
            f"the same rule on corpora where every string appears {self.control_repeat} "
            f"times (effective P = P/{self.control_repeat})",
            Verdict.of(bool(concentration_passes(P, rep, predicted, self.slope_band,
                                                 self.ratio_band)[0])),
            {"slope": c_slope, "measured_over_exact_noise": c_ratios})
        return CheckResult.judged(
            self.name, self.claim, self.source,
            prediction="error ~ P^-1 with the exact per-occurrence noise as prefactor",
            measured={"slope": slope, "measured_over_exact_noise": ratios,
                      "per_seed_over_exact_noise": (by_seed / predicted).tolist(),
                      "error_times_P_over_vm": const},
            predicted={"slope": -1.0, "measured_over_exact_noise": 1.0},
            tolerance=f"slope in [{lo}, {hi}], ratio in [{rlo}, {rhi}] "
                      f"(mean over {len(seeds)} data seeds); then calibrated (power >= "
                      "0.8, false-PASS <= 0.05 on simulated curves)",
            verdict=Verdict.of(ok),
            negative_control=control,
            power=power, power_reason=None,
            details={"rule_verdict": Verdict.of(ok).value,
                     "params": params.to_dict(), "level": 1, "context": "latent",
                     "rows": res,
                     "calibration": {**power.to_dict(), "noise": noise.to_dict(),
                                     "alternatives_law": {
                                         n: {"level_factor": f, "slope": sl}
                                         for n, (f, sl) in
                                         CONCENTRATION_ALTERNATIVES.items()}}},
        )
