"""Which grid would decide: designs extended by simulation, before anything runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rhm_theory.scaling.decision import (
    FALSE_PASS_MAX,
    POWER_MIN,
    Calibration,
    Power,
    Rule,
    decision_counts,
)
from rhm_theory.scaling.law import Law
from rhm_theory.scaling.noise import LogScale, NoiseModel, fit_noise_model
from rhm_theory.scaling.threshold import ThresholdPoint

__all__ = [
    "GRID_EXTENSIONS",
    "SUGGEST_N_SIM",
    "GridScale",
    "extend_grid",
    "power_with_suggestion",
    "suggest_grid",
]


#: ``(v, m, L) -> scale`` of a method's ``P`` grid (e.g. ``v m^3`` for ILC): the extensions
#: of :func:`extend_grid` move a copied run's ``P_min`` / ``P_max`` by its ratio.
GridScale = Callable[[int, int, int], float]


def _moved(p: ThresholdPoint, *, v: int | None = None, L: int | None = None,
           level: int | None = None, seed: int | None = None,
           scale: GridScale | None = None) -> ThresholdPoint:
    nv = p.v if v is None else v
    nL = p.L if L is None else L
    r = 1.0 if scale is None else scale(nv, p.m, nL) / scale(p.v, p.m, p.L)
    return ThresholdPoint(nv, p.m, p.s, nL, p.level if level is None else level,
                          p.grammar_seed if seed is None else seed, p.P_star,
                          p.P_min * r, p.P_max * r)


def extend_grid(points: Sequence[ThresholdPoint], kind: str,
                scale: GridScale | None = None) -> list[ThresholdPoint]:
    """The design of ``points`` with one more kind of configuration (for simulation only:
    the copied thresholds are placeholders that :func:`simulate_points` replaces).

    ``kind`` is ``"seeds"`` (twice the grammar seeds), ``"depth"`` (two more depths past
    the deepest of each ``(v, m)``; per-level rows gain the new levels, with the top
    level's grid) or ``"v"`` (each ``m`` also at twice its largest ``v``). ``scale`` moves
    the ``P`` grid of a copied run as the real grids are built (default: unchanged).
    """
    out = list(points)
    if kind == "seeds":
        shift = max(p.grammar_seed for p in points) + 1
        out += [_moved(p, seed=p.grammar_seed + shift) for p in points]
    elif kind == "depth":
        deepest: dict[tuple[int, int], int] = {}
        for p in points:
            deepest[(p.v, p.m)] = max(deepest.get((p.v, p.m), 0), p.L)
        for p in points:
            Lmax = deepest[(p.v, p.m)]
            if p.L != Lmax:
                continue
            for extra in (1, 2):
                out.append(_moved(p, L=Lmax + extra, scale=scale))
                if p.level == Lmax - 1:  # the new levels take the top level's grid
                    out += [_moved(p, L=Lmax + extra, level=lv, scale=scale)
                            for lv in range(Lmax, Lmax + extra)]
    elif kind == "v":
        widest: dict[int, int] = {}
        for p in points:
            widest[p.m] = max(widest.get(p.m, 0), p.v)
        out += [_moved(p, v=2 * p.v, scale=scale) for p in points if p.v == widest[p.m]]
    else:
        raise ValueError(f"kind must be one of ('seeds', 'depth', 'v'), got {kind!r}")
    return out


#: The extensions :func:`suggest_grid` tries, cheapest first, with the words it reports.
GRID_EXTENSIONS = {"seeds": "twice the grammar seeds", "depth": "two more depths",
                   "v": "twice the largest v at each m"}


def suggest_grid(
    rule: Rule,
    points: Sequence[ThresholdPoint],
    claim: LogScale | Law,
    alternative: tuple[str, LogScale | Law] | None,
    *,
    noise: NoiseModel | None = None,
    scale: GridScale | None = None,
    n_sim: int = 50,
    seed: int = 0,
    pass_word: str = "claim",
) -> str:
    """One line saying which grid would calibrate ``rule``, measured by simulation.

    For each extension of :data:`GRID_EXTENSIONS` (:func:`extend_grid`), in order, the
    rule runs on ``n_sim`` grids simulated under the claim (and under ``alternative``, the
    registered alternative it could not exclude, if given) with the noise fitted to the
    real rows; the first extension whose power is at least :data:`POWER_MIN` (and whose
    false-PASS rate is at most :data:`FALSE_PASS_MAX`) is named with its rates, else every
    tried extension with its rates.
    """
    model = fit_noise_model(points) if noise is None else noise

    def scale_of(law: LogScale | Law) -> LogScale:
        return law.log_scale if isinstance(law, Law) else law

    tried = []
    for kind, words in GRID_EXTENSIONS.items():
        design = extend_grid(points, kind, scale)
        power = decision_counts(rule, design, scale_of(claim), noise=model, n_sim=n_sim,
                               seed=seed).get(pass_word, 0) / n_sim
        text = f"{words}: power {power:.2f}"
        ok = power >= POWER_MIN
        if alternative is not None:
            fp = decision_counts(rule, design, scale_of(alternative[1]), noise=model,
                                n_sim=n_sim, seed=seed).get(pass_word, 0) / n_sim
            text += f", false-PASS of {alternative[0]} {fp:.2f}"
            ok = ok and fp <= FALSE_PASS_MAX
        if ok:
            return f"a grid with {text} would (simulated, {n_sim} grids)"
        tried.append(text)
    return f"no tried grid would ({'; '.join(tried)}; simulated, {n_sim} grids each)"


#: Simulated grids per extension when :func:`power_with_suggestion` looks for the grid that
#: would calibrate a rule (a suggestion, not a verdict: +-0.07 on a rate near 0.8).
SUGGEST_N_SIM = 30


def power_with_suggestion(
    cal: Calibration,
    rule: Rule,
    points: Sequence[ThresholdPoint],
    claim: LogScale | Law,
    alternatives: Mapping[str, LogScale | Law],
    *,
    scale: GridScale | None = None,
    seed: int = 0,
    pass_word: str = "claim",
) -> Power:
    """The :class:`Power` of a calibration; when a PASS is not calibrated, with the grid
    that would calibrate it (:func:`suggest_grid`, :data:`SUGGEST_N_SIM` grids per
    extension, against the worst alternative when the power itself suffices; ``pass_word``
    is the word of ``rule`` that a PASS stands on)."""
    power = cal.power
    if power.calibrated:
        return power
    worst = power.worst if power.claim >= POWER_MIN else None
    return power.with_suggestion(suggest_grid(
        rule, points, claim, None if worst is None else (worst[0], alternatives[worst[0]]),
        noise=cal.noise, scale=scale, n_sim=min(power.n_sim, SUGGEST_N_SIM), seed=seed,
        pass_word=pass_word))
