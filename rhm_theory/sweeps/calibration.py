"""Calibrated verdicts: a check's own noise model, simulated thresholds, PASS rates.

A verdict is worth its error rates (docs/theory.md section 10). This module measures them for
any rule that maps threshold points to a verdict, without running a learner:

1. :func:`fit_noise_model` fits a two-level noise model to the check's own
   :class:`~rhm_theory.sweeps.collapse.ThresholdPoint` rows: the scatter of ``log P*``
   between grammar seeds of one configuration (``sigma_seed``, pooled over configurations)
   and the scatter of configuration means around the best log-linear law beyond what the
   seeds explain (``tau_config``). Censoring is not a parameter: each simulated row keeps
   the ``P`` grid (``P_min``, ``P_max``) of the real row it stands for.
2. :func:`simulate_points` draws rows whose thresholds follow a law (any callable giving
   ``log scale`` of a point, e.g. a :class:`Law` parsed from ``"v*m**3*1.2**L"``):
   ``log P* = c + log law + u_config + e_seed``, with ``c`` matched to the real rows'
   level, then censored by the real grid exactly as a curve is: above ``P_max`` the
   threshold is ``nan``, at or below ``P_min`` it is ``P_min``.
3. :func:`calibrate` runs the unchanged rule on ``n_sim`` simulated grids under the claim
   (its PASS rate is the power) and under each alternative (its PASS rate is that
   alternative's false-PASS rate); :func:`verdict_counts` gives the counts of every
   verdict under one law (``rhm-theory verify --only CHECK --simulate LAW``).

Laws are parsed by :func:`parse_law`, a whitelist over Python's ``ast`` (numbers, the names
``v m L l s``, ``+ - * / **`` and parentheses); nothing is ever passed to ``eval``.

Example (the API a harness wires a learner's rows into)::

    pts = threshold_points(rows, "latent")
    noise = fit_noise_model(pts)
    cal = calibrate(my_rule, pts, parse_law("v*m**3"),
                    {"v m^3 1.5^L": parse_law("v*m**3*1.5**L")}, noise=noise, n_sim=200)
    cal.power, cal.false_pass    # PASS rate under the claim, and per alternative

Costs: one simulated grid is ``O(n_points)`` normal draws; the rule dominates.
"""

from __future__ import annotations

import ast
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rhm_theory.sweeps.collapse import ThresholdPoint, config_intervals, loglinear_fit
from rhm_theory.validation import check_int, check_random_state, check_seed

__all__ = [
    "FALSE_PASS_MAX",
    "GRID_EXTENSIONS",
    "LAW_NAMES",
    "POWER_MIN",
    "SUGGEST_N_SIM",
    "Calibration",
    "GridScale",
    "Law",
    "NoiseModel",
    "Power",
    "calibrate",
    "extend_grid",
    "fit_noise_model",
    "parse_law",
    "power_with_suggestion",
    "simulate_points",
    "suggest_grid",
    "verdict_counts",
]

#: The variables a law may use: alphabet size ``v``, rules per symbol ``m``, depth ``L``,
#: level ``l`` (0 for whole-tree thresholds) and branching ``s``.
LAW_NAMES = ("v", "m", "L", "l", "s")
#: Longest law expression accepted (a guard on the parser, not a modelling choice).
_MAX_LAW_CHARS = 200
_BINOPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
}


#: A PASS needs its rule to PASS at least this often on rows simulated under the claim
#: (docs/theory.md section 10): below it, the grid cannot be trusted to confirm the claim.
POWER_MIN = 0.8
#: ... and at most this often on rows simulated under each registered alternative (the
#: nominal level of a 95% rule).
FALSE_PASS_MAX = 0.05


@dataclass(frozen=True)
class Power:
    """Calibration of a check's rule: PASS rates on simulated rows (docs/theory.md section 10).

    ``claim`` is the fraction of grids simulated under the claim that the unchanged rule
    PASSes (the power); ``alternatives`` maps each registered alternative law to the
    fraction of its simulated grids that PASS (its false-PASS rate); ``n_sim`` grids each.
    """

    claim: float
    alternatives: tuple[tuple[str, float], ...]
    n_sim: int
    #: The grid that would calibrate the rule, from simulation (:func:`suggest_grid`), or
    #: what was tried; empty when calibrated or not searched.
    suggestion: str = ""

    @property
    def worst(self) -> tuple[str, float] | None:
        """The alternative with the highest false-PASS rate (``None`` if there is none)."""
        if not self.alternatives:
            return None
        return max(self.alternatives, key=lambda a: a[1])

    @property
    def calibrated(self) -> bool:
        """Power >= :data:`POWER_MIN` and every false-PASS rate <= :data:`FALSE_PASS_MAX`."""
        return self.claim >= POWER_MIN and all(fp <= FALSE_PASS_MAX
                                               for _, fp in self.alternatives)

    def reason(self) -> str:
        """One line naming what the calibration could not exclude (empty if calibrated)."""
        more = f"; {self.suggestion}" if self.suggestion else ""
        if self.claim < POWER_MIN:
            return (f"power {self.claim:.2f} < {POWER_MIN} on rows simulated under the "
                    f"claim{more}")
        worst = self.worst
        if worst is not None and worst[1] > FALSE_PASS_MAX:
            return (f"cannot exclude {worst[0]} (false-PASS {worst[1]:.2f} > "
                    f"{FALSE_PASS_MAX}){more}")
        return ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"claim", "alternatives": [{"name", "false_pass"}], "n_sim"}``."""
        out: dict[str, Any] = {"claim": self.claim, "n_sim": self.n_sim,
                               "alternatives": [{"name": n, "false_pass": fp}
                                                for n, fp in self.alternatives]}
        if self.suggestion:
            out["suggestion"] = self.suggestion
        return out


def _check_node(node: ast.AST) -> None:
    """Raise ``ValueError`` unless ``node`` is in the arithmetic whitelist."""
    if isinstance(node, ast.Expression):
        _check_node(node.body)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ValueError(f"law: operator {type(node.op).__name__} is not allowed "
                             "(only + - * / **)")
        _check_node(node.left)
        _check_node(node.right)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise ValueError(f"law: unary {type(node.op).__name__} is not allowed")
        _check_node(node.operand)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ValueError(f"law: constant {node.value!r} is not a number")
    elif isinstance(node, ast.Name):
        if node.id not in LAW_NAMES:
            raise ValueError(f"law: unknown name {node.id!r}; allowed: {', '.join(LAW_NAMES)}")
    else:
        raise ValueError(f"law: {type(node).__name__} is not allowed (numbers, v m L l s, "
                         "+ - * / ** and parentheses only)")


def _evaluate(node: ast.AST, env: Mapping[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.BinOp):
        return float(_BINOPS[type(node.op)](_evaluate(node.left, env),
                                            _evaluate(node.right, env)))
    if isinstance(node, ast.UnaryOp):
        x = _evaluate(node.operand, env)
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))  # checked by _check_node
        return float(node.value)
    assert isinstance(node, ast.Name)
    return float(env[node.id])


@dataclass(frozen=True)
class Law:
    """A sample-complexity law ``P* ~ law(v, m, L, l, s)`` parsed by :func:`parse_law`."""

    expr: str
    tree: ast.Expression = field(repr=False, compare=False)

    def __call__(self, v: float, m: float, L: float, l: float = 0, s: float = 2) -> float:
        """The law's value (a positive number for a usable scale)."""
        try:
            return _evaluate(self.tree, {"v": v, "m": m, "L": L, "l": l, "s": s})
        except (OverflowError, ZeroDivisionError) as exc:
            raise ValueError(f"law {self.expr!r} cannot be evaluated at v={v}, m={m}, L={L}, "
                             f"l={l}, s={s}: {exc}") from None

    def log_scale(self, p: ThresholdPoint) -> float:
        """``log law`` at a threshold point (raises if the law is not positive there)."""
        val = self(p.v, p.m, p.L, p.level, p.s)
        if not (isinstance(val, float) and math.isfinite(val) and val > 0):
            raise ValueError(f"law {self.expr!r} must be positive and finite; it is {val} "
                             f"at v={p.v}, m={p.m}, L={p.L}, l={p.level}, s={p.s}")
        return math.log(val)


def parse_law(expr: str) -> Law:
    """Parse an arithmetic law in ``v, m, L, l, s`` safely (an ``ast`` whitelist, no eval).

    Parameters
    ----------
    expr : str
        For example ``"v*m**3*1.3**L"`` or ``"v*m**3/s**(L-l)"``.

    Returns
    -------
    Law

    Examples
    --------
    >>> parse_law("v*m**3*1.5**L")(16, 2, 4)
    648.0
    >>> parse_law("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: law: Call is not allowed (numbers, v m L l s, + - * / ** and parentheses only)
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError("law must be a non-empty string")
    if len(expr) > _MAX_LAW_CHARS:
        raise ValueError(f"law must have at most {_MAX_LAW_CHARS} characters, got {len(expr)}")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"law {expr!r} is not an arithmetic expression: {exc.msg}") from None
    _check_node(tree)
    return Law(expr.strip(), tree)


@dataclass(frozen=True)
class NoiseModel:
    """Two-level scatter of ``log P*``: between grammar seeds and between configurations.

    ``sigma_seed`` is the pooled within-configuration standard deviation (over the
    configurations with at least two thresholds inside the grid); ``tau_config`` the
    standard deviation of configuration means around the log-linear fit beyond what the
    seeds explain, ``sqrt(max(s^2 - sigma_seed^2 mean(1/n), 0))`` with ``s`` the fit's
    residual scatter.

    ``rho_seed`` and ``rho_config`` are the shares of each that the levels of one run hold
    in common (per-level rows: the levels of a run come from one grammar and one data set,
    so they are not independent); both are 0 for rows without levels. The simulation draws
    a run's levels with these correlations.
    """

    sigma_seed: float
    tau_config: float
    n_configs: int
    n_runs: int
    rho_seed: float = 0.0
    rho_config: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return dict(self.__dict__)


def fit_noise_model(points: Sequence[ThresholdPoint],
                    with_level: bool | None = None) -> NoiseModel:
    """Fit :class:`NoiseModel` to a check's own threshold points.

    Parameters
    ----------
    points : sequence of ThresholdPoint
    with_level : bool, optional
        Include the level in the log-linear fit (default: whether any point has a level).

    Returns
    -------
    NoiseModel
    """
    if not points:
        raise ValueError("points must be non-empty to fit a noise model")
    by: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for p in points:
        lo, hi = p.log_interval
        if lo == hi:
            by[p.config].append(lo)
    ss, dof = 0.0, 0
    for ys in by.values():
        if len(ys) >= 2:
            a = np.asarray(ys)
            ss += float(((a - a.mean()) ** 2).sum())
            dof += a.size - 1
    sigma = math.sqrt(ss / dof) if dof else 0.0
    lvl = any(p.level for p in points) if with_level is None else with_level
    fit = loglinear_fit(points, with_level=lvl)
    keys, _, _, _ = config_intervals(points)
    n_by: dict[tuple[int, ...], int] = defaultdict(int)
    for p in points:
        n_by[p.config] += 1
    inv_n = float(np.mean([1.0 / n_by[k] for k in keys]))
    s = fit.residual_sd if math.isfinite(fit.residual_sd) else 0.0
    tau = math.sqrt(max(s * s - sigma * sigma * inv_n, 0.0))
    # Correlation between the levels of one run: of the seed deviations (same run and
    # grammar seed) and of the configuration residuals (same run).
    dev: dict[tuple[int, ...], float] = {}
    for k, ys in by.items():
        if len(ys) >= 2:
            mean = float(np.mean(ys))
            for p in points:
                lo, hi = p.log_interval
                if p.config == k and lo == hi:
                    dev[(*k, p.grammar_seed)] = lo - mean
    rho_seed = _level_correlation(dev)
    coef = {n: (c if math.isfinite(c) else 0.0) for n, c in fit.coef.items()}
    resid: dict[tuple[int, ...], float] = {}
    for k, ys in by.items():
        if len(ys) == n_by[k]:  # every seed inside the grid: the mean is known
            pred = (coef["c"] + coef["a"] * math.log(k[0]) + coef["b"] * math.log(k[1])
                    + coef["d"] * k[3] + coef.get("e", 0.0) * k[4])
            resid[k] = float(np.mean(ys)) - pred
    rho_config = _level_correlation(resid)
    return NoiseModel(sigma, tau, len(keys), len(points), rho_seed, rho_config)


def _level_correlation(values: Mapping[tuple[int, ...], float]) -> float:
    """Correlation, clipped to ``[0, 1]``, of ``values`` between pairs of keys that differ
    only in the level (index 4 of a key ``(v, m, s, L, level, ...)``)."""
    groups: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for k, x in values.items():
        groups[k[:4] + k[5:]].append(x)
    num = den = 0.0
    for xs in groups.values():
        a = np.asarray(xs)
        if a.size >= 2:
            num += float(a.sum() ** 2 - (a * a).sum())  # sum over ordered pairs i != j
            den += float((a.size - 1) * (a * a).sum())
    return float(min(max(num / den, 0.0), 1.0)) if den > 0 else 0.0


LogScale = Callable[[ThresholdPoint], float]


def _level(points: Sequence[ThresholdPoint], log_scale: LogScale) -> float:
    """The constant ``c`` that puts the law at the real rows' level (mean over rows whose
    threshold is inside the grid; the middle of the known bounds if none is)."""
    exact = [p.log_interval[0] - log_scale(p) for p in points
             if p.log_interval[0] == p.log_interval[1]]
    if exact:
        return float(np.mean(exact))
    ends = [b - log_scale(p) for p in points for b in p.log_interval if math.isfinite(b)]
    return float(np.mean(ends)) if ends else 0.0


def simulate_points(
    points: Sequence[ThresholdPoint],
    log_scale: LogScale,
    noise: NoiseModel,
    rng: np.random.Generator,
    *,
    level: float | None = None,
) -> list[ThresholdPoint]:
    """One simulated grid: the real rows' configurations, seeds and ``P`` grids, thresholds
    following ``log_scale`` with the fitted scatter, censored as the real curves would be.

    Parameters
    ----------
    points : sequence of ThresholdPoint
        The real rows (their configurations, seeds and ``P_min`` / ``P_max``).
    log_scale : callable
        ``point -> log scale`` of the law (e.g. :meth:`Law.log_scale`).
    noise : NoiseModel
    rng : numpy.random.Generator
    level : float, optional
        The constant ``c``; default: matched to the real rows (mean of ``log P* - log law``).

    Returns
    -------
    list of ThresholdPoint
    """
    c = _level(points, log_scale) if level is None else level
    configs = sorted({p.config for p in points})
    u = dict(zip(configs, rng.normal(0.0, noise.tau_config, len(configs)), strict=True))
    e = rng.normal(0.0, noise.sigma_seed, len(points))
    if noise.rho_config > 0 or noise.rho_seed > 0:
        # The levels of one run share part of their noise (drawn after the independent
        # parts, so rows without levels keep the stream they had).
        runs = sorted({p.config[:4] for p in points})
        ur = dict(zip(runs, rng.normal(0.0, noise.tau_config, len(runs)), strict=True))
        seeds = sorted({(*p.config[:4], p.grammar_seed) for p in points})
        er = dict(zip(seeds, rng.normal(0.0, noise.sigma_seed, len(seeds)), strict=True))
        a, b = math.sqrt(noise.rho_config), math.sqrt(1.0 - noise.rho_config)
        u = {k: a * ur[k[:4]] + b * x for k, x in u.items()}
        a, b = math.sqrt(noise.rho_seed), math.sqrt(1.0 - noise.rho_seed)
        e = np.asarray([a * er[(*p.config[:4], p.grammar_seed)] + b * x
                        for p, x in zip(points, e, strict=True)])
    out = []
    for p, eps in zip(points, e, strict=True):
        y = c + log_scale(p) + u[p.config] + eps
        if math.isfinite(p.P_max) and y > math.log(p.P_max):
            P = math.nan  # never crossed inside the grid
        elif math.isfinite(p.P_min) and y <= math.log(p.P_min):
            P = p.P_min  # already past the target at the first grid point
        else:
            P = math.exp(y)
        out.append(ThresholdPoint(p.v, p.m, p.s, p.L, p.level, p.grammar_seed, P,
                                  p.P_min, p.P_max))
    return out


Rule = Callable[[Sequence[ThresholdPoint]], str]


def verdict_counts(
    rule: Rule, points: Sequence[ThresholdPoint], log_scale: LogScale, *,
    noise: NoiseModel | None = None, n_sim: int = 200, seed: int = 0,
) -> dict[str, int]:
    """Counts of each verdict of ``rule`` on ``n_sim`` grids simulated under one law."""
    n_sim = check_int("n_sim", n_sim, minimum=1)
    seed = check_seed("seed", seed)
    model = fit_noise_model(points) if noise is None else noise
    rng = check_random_state(seed)
    c = _level(points, log_scale)
    counts: dict[str, int] = {}
    for _ in range(n_sim):
        v = str(rule(simulate_points(points, log_scale, model, rng, level=c)))
        counts[v] = counts.get(v, 0) + 1
    return counts


@dataclass(frozen=True)
class Calibration:
    """PASS rates of a rule: ``power`` under the claim, ``false_pass[name]`` under each
    alternative, from ``n_sim`` simulated grids each; ``counts`` every verdict."""

    power: float
    false_pass: Mapping[str, float]
    n_sim: int
    counts: Mapping[str, Mapping[str, int]]
    noise: NoiseModel

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return {"power": self.power, "false_pass": dict(self.false_pass),
                "n_sim": self.n_sim, "counts": {k: dict(v) for k, v in self.counts.items()},
                "noise": self.noise.to_dict()}


def calibrate(
    rule: Rule,
    points: Sequence[ThresholdPoint],
    claim: LogScale | Law,
    alternatives: Mapping[str, LogScale | Law],
    *,
    noise: NoiseModel | None = None,
    n_sim: int = 200,
    seed: int = 0,
    pass_label: str = "PASS",
) -> Calibration:
    """Power and false-PASS rates of ``rule`` on grids simulated from ``points``' noise.

    Parameters
    ----------
    rule : callable
        ``points -> verdict`` (anything whose ``str`` is the verdict name), unchanged from
        the rule the check applies to its real rows.
    points : sequence of ThresholdPoint
        The check's real rows (configurations, seeds, ``P`` grids, noise).
    claim, alternatives : Law or callable ``point -> log scale``
        The claimed law and the registered alternatives (name -> law).
    noise : NoiseModel, optional
        Default: :func:`fit_noise_model` of ``points``.
    n_sim, seed : int
        Grids per law, and the seed (every law uses the same stream).

    Returns
    -------
    Calibration
    """
    model = fit_noise_model(points) if noise is None else noise
    counts: dict[str, dict[str, int]] = {}

    def scale(law: LogScale | Law) -> LogScale:
        return law.log_scale if isinstance(law, Law) else law

    counts["claim"] = verdict_counts(rule, points, scale(claim), noise=model, n_sim=n_sim,
                                     seed=seed)
    for name, law in alternatives.items():
        counts[name] = verdict_counts(rule, points, scale(law), noise=model, n_sim=n_sim,
                                      seed=seed)
    rate = {k: c.get(pass_label, 0) / n_sim for k, c in counts.items()}
    return Calibration(rate["claim"], {k: rate[k] for k in alternatives}, n_sim, counts,
                       model)


# ---------------------------------------------------------------- which grid would decide

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
    pass_label: str = "PASS",
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
        power = verdict_counts(rule, design, scale_of(claim), noise=model, n_sim=n_sim,
                               seed=seed).get(pass_label, 0) / n_sim
        text = f"{words}: power {power:.2f}"
        ok = power >= POWER_MIN
        if alternative is not None:
            fp = verdict_counts(rule, design, scale_of(alternative[1]), noise=model,
                                n_sim=n_sim, seed=seed).get(pass_label, 0) / n_sim
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
) -> Power:
    """The :class:`Power` of a calibration; when the rule is not calibrated, with the grid
    that would calibrate it (:func:`suggest_grid`, :data:`SUGGEST_N_SIM` grids per
    extension, against the worst alternative when the power itself suffices)."""
    power = Power(cal.power, tuple(cal.false_pass.items()), cal.n_sim)
    if power.calibrated:
        return power
    worst = power.worst if power.claim >= POWER_MIN else None
    return Power(power.claim, power.alternatives, power.n_sim, suggest_grid(
        rule, points, claim, None if worst is None else (worst[0], alternatives[worst[0]]),
        noise=cal.noise, scale=scale, n_sim=min(cal.n_sim, SUGGEST_N_SIM), seed=seed))
