"""The one decision rule of a scaling law, and its error rates in both directions."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rhm_theory.scaling.fit import AXIS_COLUMNS, LogLinearFit, loglinear_fit
from rhm_theory.scaling.law import Law
from rhm_theory.scaling.noise import (
    LogScale,
    NoiseModel,
    fit_noise_model,
    law_level,
    simulate_points,
)
from rhm_theory.scaling.threshold import ThresholdPoint

__all__ = [
    "ALPHA",
    "AXIS_WORDS",
    "DECISIONS",
    "DECISION_MEANINGS",
    "FALSE_FAIL_MAX",
    "FALSE_PASS_MAX",
    "POWER_MIN",
    "Assessment",
    "AxisOutcome",
    "AxisTest",
    "Calibration",
    "Decision",
    "Margins",
    "Power",
    "Rule",
    "ScalingDecision",
    "assess",
    "calibrate",
    "decide",
    "decision_counts",
]

#: What the rule says of a claimed law on some rows.
Decision = Literal["claim", "rejected", "undecided"]
#: The values of :data:`Decision`.
DECISIONS: tuple[Decision, ...] = ("claim", "rejected", "undecided")
#: One line per :data:`Decision`.
DECISION_MEANINGS: Mapping[Decision, str] = {
    "claim": "every axis the claim speaks about is within its equivalence margin",
    "rejected": "some axis deviates from the claim (joint test, Bonferroni over the axes)",
    "undecided": "no axis deviates, but some axis is not pinned within its margin",
}
#: What one axis of the rule says.
AxisOutcome = Literal["holds", "fails", "undecided", "not identified"]
#: How each axis is named in sentences.
AXIS_WORDS: Mapping[str, str] = {"v": "v exponent", "m": "m exponent", "L": "depth",
                                 "l": "level"}

#: Level of the rule in each direction: the FAIL test's family-wise level over the axes
#: (Bonferroni) and the level of each equivalence test (two one-sided tests).
ALPHA = 0.05
#: A PASS needs the rule to decide "claim" at least this often on rows simulated under
#: the claim ...
POWER_MIN = 0.8
#: ... and at most this often under each registered near alternative.
FALSE_PASS_MAX = 0.05
#: A FAIL needs the rule to decide "rejected" at most this often under the claim.
FALSE_FAIL_MAX = 0.05


@dataclass(frozen=True)
class Margins:
    """Equivalence margins of the residual coefficients, per axis.

    ``v``, ``m``: on the exponents of ``v`` and ``m``; ``L``, ``l``: on the log-growth per
    added level of depth (or level). Each is set inside the nearest registered near
    alternative (exponents off by 0.25, ``1.15^L``), so that a law at the alternative
    passes the equivalence test less often than ``ALPHA``.
    """

    v: float = 0.2
    m: float = 0.2
    L: float = math.log(1.12)
    l: float = math.log(1.12)

    def of(self, axis: str) -> float:
        """The margin of ``axis``."""
        return float(getattr(self, axis))


@dataclass(frozen=True)
class AxisTest:
    """One axis of the rule: estimate, the two intervals and the outcome.

    ``low``/``high``: the Bonferroni interval of the FAIL test (``1 - ALPHA/k``, ``k`` axes);
    ``eq_low``/``eq_high``: the ``1 - 2 ALPHA`` interval of the equivalence test, which
    must lie inside ``+-margin``.
    """

    axis: str
    coef: float
    low: float
    high: float
    eq_low: float
    eq_high: float
    margin: float
    outcome: AxisOutcome

    def sentence(self) -> str:
        """For example ``"depth: holds, +0.021 [-0.040, +0.090] (margin 0.113)"``."""
        word = AXIS_WORDS.get(self.axis, self.axis)
        if self.outcome == "not identified":
            return f"{word}: not identified (no variation on the grid)"
        verdict = {"holds": "holds", "fails": "FAILS", "undecided": "not pinned"}[self.outcome]
        return (f"{word}: {verdict}, {self.coef:+.3f} [{self.low:+.3f}, {self.high:+.3f}] "
                f"(claim 0, margin {self.margin:.3f})")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ScalingDecision:
    """The rule's decision on one claimed law, with the per-axis tests and the fit."""

    law: str
    decision: Decision
    axes: tuple[AxisTest, ...]
    fit: LogLinearFit
    alpha: float = ALPHA

    def sentence(self) -> str:
        """The axes in words, separated by ``"; "``."""
        return "; ".join(a.sentence() for a in self.axes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {"law": self.law, "decision": self.decision, "alpha": self.alpha,
                "axes": [a.to_dict() for a in self.axes], "fit": self.fit.to_dict()}


_ROUNDOFF = 1e-9


def decide(points: Sequence[ThresholdPoint], claim: Law, *,
           axes: Sequence[str] = ("v", "m", "L"), margins: Margins | None = None,
           alpha: float = ALPHA) -> ScalingDecision:
    """Decide whether ``points`` follow ``claim`` on every axis it speaks about.

    The residual ``log P* - log claim`` is fitted as ``c + a log v + b log m + d L (+ e l)``
    (:func:`~rhm_theory.scaling.fit.loglinear_fit`; censored thresholds as intervals;
    cluster-robust by run with levels). Under the claim every coefficient of ``axes`` is 0.

    - ``"rejected"``: the Bonferroni interval (``1 - alpha/k``) of some axis excludes 0;
    - ``"claim"``: not rejected, and on every axis the ``1 - 2 alpha`` interval lies inside
      ``+-margin`` (two one-sided equivalence tests at ``alpha``);
    - ``"undecided"`` otherwise (also when an axis is not identified by the grid).

    Parameters
    ----------
    points : sequence of ThresholdPoint
    claim : Law
    axes : sequence of {"v", "m", "L", "l"}
        The axes the claim speaks about (``"l"``: per-level thresholds).
    margins : Margins, optional
    alpha : float

    Returns
    -------
    ScalingDecision

    Examples
    --------
    >>> from rhm_theory.scaling.law import law
    >>> pts = [ThresholdPoint(v, m, 2, L, 0, sd, 7.0 * v * m**3 * (1.0 + 0.05 * sd))
    ...        for v, m in ((8, 2), (16, 2), (32, 2), (12, 3), (16, 4)) for L in (3, 4, 5)
    ...        for sd in (0, 1, 2)]
    >>> decide(pts, law("v m^3")).decision
    'claim'
    >>> decide(pts, law("v m^2")).axes[1].outcome
    'fails'
    """
    from scipy.special import stdtrit

    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must satisfy 0 < alpha < 0.5, got {alpha}")
    bad = [a for a in axes if a not in AXIS_COLUMNS.values()]
    if bad or not axes:
        raise ValueError(f"axes must be a non-empty subset of {tuple(AXIS_COLUMNS.values())}, "
                         f"got {tuple(axes)}")
    marg = Margins() if margins is None else margins
    fit = loglinear_fit(points, with_level="l" in axes, offset=claim)
    name_of = {axis: coef for coef, axis in AXIS_COLUMNS.items()}
    tests = []
    k = len(axes)
    for axis in axes:
        name = name_of[axis]
        est = float(fit.coef.get(name, math.nan))
        se = float(fit.se.get(name, math.nan))
        df = float(fit.df_by_coef.get(name, fit.df))
        margin = marg.of(axis)
        if not (math.isfinite(est) and math.isfinite(se) and df >= 1):
            tests.append(AxisTest(axis, est, math.nan, math.nan, math.nan, math.nan, margin,
                                  "not identified"))
            continue
        pad = _ROUNDOFF * (1.0 + abs(est))
        q_fail = float(stdtrit(df, 1.0 - alpha / (2 * k)))
        q_eq = float(stdtrit(df, 1.0 - alpha))
        low, high = est - q_fail * se - pad, est + q_fail * se + pad
        eq_low, eq_high = est - q_eq * se, est + q_eq * se
        outcome: AxisOutcome
        if low > 0 or high < 0:
            outcome = "fails"
        elif -margin < eq_low and eq_high < margin:
            outcome = "holds"
        else:
            outcome = "undecided"
        tests.append(AxisTest(axis, est, low, high, eq_low, eq_high, margin, outcome))
    outcomes = [t.outcome for t in tests]
    decision: Decision = ("rejected" if "fails" in outcomes
                          else "claim" if all(o == "holds" for o in outcomes)
                          else "undecided")
    return ScalingDecision(claim.expr, decision, tuple(tests), fit, alpha)


@dataclass(frozen=True)
class Power:
    """Error rates of a rule, measured on simulated rows, in both directions.

    ``claim``: how often the rule decides for the claim (PASS) on rows simulated under the
    claim (the power); ``alternatives``: per registered alternative, how often it decides
    for the claim there (its false-PASS rate); ``n_sim`` grids each; ``suggestion``: the
    grid that would calibrate the rule, when known; ``false_fail``: how often the rule
    rejects the claim (FAIL) on rows simulated under it (``nan``: not measured).
    """

    claim: float
    alternatives: tuple[tuple[str, float], ...]
    n_sim: int
    suggestion: str = ""
    false_fail: float = math.nan

    @property
    def worst(self) -> tuple[str, float] | None:
        """The alternative with the highest false-PASS rate (``None`` if there is none)."""
        return max(self.alternatives, key=lambda a: a[1]) if self.alternatives else None

    @property
    def calibrated(self) -> bool:
        """A PASS is calibrated: power >= :data:`POWER_MIN` and every false-PASS rate <=
        :data:`FALSE_PASS_MAX`."""
        return self.claim >= POWER_MIN and all(fp <= FALSE_PASS_MAX
                                               for _, fp in self.alternatives)

    @property
    def fail_calibrated(self) -> bool:
        """A FAIL is calibrated: false-FAIL rate <= :data:`FALSE_FAIL_MAX` (``False`` when
        not measured)."""
        return self.false_fail <= FALSE_FAIL_MAX

    def reason(self) -> str:
        """One line naming what keeps a PASS from being calibrated (empty if nothing)."""
        more = f"; {self.suggestion}" if self.suggestion else ""
        if self.claim < POWER_MIN:
            return f"power {self.claim:.2f} < {POWER_MIN} under the claim{more}"
        worst = self.worst
        if worst is not None and worst[1] > FALSE_PASS_MAX:
            return (f"cannot exclude {worst[0]} (false-PASS {worst[1]:.2f} > "
                    f"{FALSE_PASS_MAX}){more}")
        return ""

    def with_suggestion(self, suggestion: str) -> Power:
        """The same rates with a grid suggestion."""
        return Power(self.claim, self.alternatives, self.n_sim, suggestion, self.false_fail)

    def to_dict(self) -> dict[str, Any]:
        """JSON: ``{"claim", "false_fail", "alternatives": [{"name", "false_pass"}], ...}``."""
        out: dict[str, Any] = {"claim": self.claim,
                               "false_fail": (self.false_fail if math.isfinite(self.false_fail)
                                              else None),
                               "n_sim": self.n_sim,
                               "alternatives": [{"name": n, "false_pass": fp}
                                                for n, fp in self.alternatives]}
        if self.suggestion:
            out["suggestion"] = self.suggestion
        return out


#: A rule: threshold points -> a decision word (or anything whose ``str`` is one).
Rule = Callable[[Sequence[ThresholdPoint]], str]


def _scale(law: Law | LogScale) -> LogScale:
    return law.log_scale if isinstance(law, Law) else law


def decision_counts(rule: Rule, points: Sequence[ThresholdPoint], law: Law | LogScale, *,
                    noise: NoiseModel | None = None, n_sim: int = 200, seed: int = 0,
                    ) -> dict[str, int]:
    """How often ``rule`` says each word on ``n_sim`` grids simulated under ``law``."""
    if isinstance(n_sim, bool) or not isinstance(n_sim, int) or n_sim < 1:
        raise ValueError(f"n_sim must be an integer >= 1, got {n_sim!r}")
    model = fit_noise_model(points) if noise is None else noise
    rng = np.random.default_rng(seed)
    log_scale = _scale(law)
    c = law_level(points, log_scale)
    counts: dict[str, int] = {}
    for _ in range(n_sim):
        word = str(rule(simulate_points(points, log_scale, model, rng, level=c)))
        counts[word] = counts.get(word, 0) + 1
    return counts


@dataclass(frozen=True)
class Calibration:
    """Decision counts of a rule under the claim and each alternative, and its rates."""

    power: Power
    counts: Mapping[str, Mapping[str, int]]
    noise: NoiseModel

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return {"power": self.power.to_dict(),
                "counts": {k: dict(v) for k, v in self.counts.items()},
                "noise": self.noise.to_dict()}


def calibrate(rule: Rule, points: Sequence[ThresholdPoint], claim: Law | LogScale,
              alternatives: Mapping[str, Law | LogScale], *, noise: NoiseModel | None = None,
              n_sim: int = 200, seed: int = 0, pass_word: str = "claim",
              fail_word: str = "rejected") -> Calibration:
    """Error rates of ``rule`` on grids simulated from ``points``' own noise.

    The unchanged rule runs on ``n_sim`` grids simulated under the claim (``pass_word``
    rate: the power; ``fail_word`` rate: the false-FAIL rate) and under each alternative
    (``pass_word`` rate: its false-PASS rate). Every law uses the same random stream.

    Parameters
    ----------
    rule : callable
        ``points -> word``, the rule the check applies to its real rows.
    points : sequence of ThresholdPoint
        The real rows (configurations, seeds, ``P`` grids, noise).
    claim, alternatives : Law or callable ``point -> log scale``
    noise : NoiseModel, optional
        Default: :func:`~rhm_theory.scaling.noise.fit_noise_model` of ``points``.
    n_sim, seed : int
    pass_word, fail_word : str
        The words of ``rule`` that a PASS and a FAIL stand on.

    Returns
    -------
    Calibration
    """
    model = fit_noise_model(points) if noise is None else noise
    counts = {"claim": decision_counts(rule, points, claim, noise=model, n_sim=n_sim,
                                       seed=seed)}
    for name, alt in alternatives.items():
        counts[name] = decision_counts(rule, points, alt, noise=model, n_sim=n_sim, seed=seed)
    power = Power(counts["claim"].get(pass_word, 0) / n_sim,
                  tuple((name, counts[name].get(pass_word, 0) / n_sim)
                        for name in alternatives), n_sim,
                  false_fail=counts["claim"].get(fail_word, 0) / n_sim)
    return Calibration(power, counts, model)


@dataclass(frozen=True)
class Assessment:
    """A claimed law judged on rows: the rule's decision and its calibrated error rates.

    The one route from thresholds to a decision: the claim checks of ``rhm-theory verify``
    and ``rhm-theory measure`` both call :func:`assess`.
    """

    claim: Law
    decision: ScalingDecision
    calibration: Calibration | None
    noise: NoiseModel | None

    @property
    def power(self) -> Power | None:
        """The calibration's :class:`Power` (``None`` when not calibrated)."""
        return None if self.calibration is None else self.calibration.power

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON: ``{"law", "decision", "fit", "power", ...}``."""
        return {"law": self.claim.expr, "name": self.claim.label,
                **self.decision.to_dict(),
                "power": None if self.power is None else self.power.to_dict(),
                "noise": None if self.noise is None else self.noise.to_dict()}


def assess(points: Sequence[ThresholdPoint], claim: Law, *,
           axes: Sequence[str] = ("v", "m", "L"),
           alternatives: Mapping[str, Law] | None = None, margins: Margins | None = None,
           n_sim: int = 200, seed: int = 0, noise: NoiseModel | None = None) -> Assessment:
    """Decide ``claim`` on ``points`` (:func:`decide`) and calibrate the rule (:func:`calibrate`).

    ``alternatives`` default to the registered near alternatives of ``claim`` on ``axes``
    (:func:`~rhm_theory.scaling.law.near_alternatives`). ``n_sim = 0`` skips the
    calibration (the decision then cannot become a calibrated verdict).
    """
    from rhm_theory.scaling.law import near_alternatives

    axes = tuple(axes)
    decision = decide(points, claim, axes=axes, margins=margins)
    if n_sim == 0:
        return Assessment(claim, decision, None, None)
    alts = near_alternatives(claim, axes) if alternatives is None else dict(alternatives)
    model = fit_noise_model(points, with_level="l" in axes) if noise is None else noise

    def rule(sim: Sequence[ThresholdPoint]) -> str:
        return decide(sim, claim, axes=axes, margins=margins).decision

    cal = calibrate(rule, points, claim, alts, noise=model, n_sim=n_sim, seed=seed)
    return Assessment(claim, decision, cal, model)
