"""Sample complexity of any learner: grids, ladder cells, thresholds and the law decisions."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rhm_theory.constants import DEFAULT_TARGET, GridName
from rhm_theory.learners.base import (
    LearnerCell,
    LearnerFactory,
    score_learner,
    scoring_mode,
)
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import sample
from rhm_theory.model.spec import GRAMMAR_FAMILIES, GrammarSpec
from rhm_theory.scaling import (
    DECISION_MEANINGS,
    FALSE_FAIL_MAX,
    THRESHOLD_RULE,
    Assessment,
    Law,
    LogLinearFit,
    Threshold,
    ThresholdPoint,
    assess,
    law,
    loglinear_fit,
    threshold_from_curve,
)
from rhm_theory.sweeps.runner import run_seeds, run_sweep
from rhm_theory.validation import check_choice, check_float, check_int, check_seed

__all__ = [
    "DEFAULT_LAWS",
    "DEFAULT_TARGET",
    "GRIDS",
    "MEASURE_N_SIM",
    "CurveThreshold",
    "LawComparison",
    "MeasureCell",
    "MeasureError",
    "MeasureGrid",
    "Measurement",
    "compare_laws",
    "curve_thresholds",
    "measure",
    "measure_cells",
    "p_ladder",
    "resolve_factory",
]

#: The laws a measurement compares by default (keys of
#: :data:`rhm_theory.scaling.NAMED_LAWS`): the paper's three objectives for the success event
#: "fixed error fraction" (docs/theory.md section 4) -- own latents ``v m^3 / (1-f)``, tokens
#: ``v m^(L+1) / (1-f)``, labels ``v m^L / (1-f)`` -- and the bare ``v m^3``. Any law
#: expression is accepted too (:func:`rhm_theory.scaling.law`).
DEFAULT_LAWS: tuple[str, ...] = ("v m^3 / (1-f)", "v m^(L+1) / (1-f)", "v m^L / (1-f)",
                                 "v m^3")

#: Simulated grids per law and per near alternative that calibrate each law's decision
#: (:func:`rhm_theory.scaling.assess`; as ``rhm-theory verify`` does).
MEASURE_N_SIM = 200

class MeasureError(ValueError):
    """A learner (or its factory) failed in a cell; the message names the cell."""


# -- grids ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasureGrid:
    """Where a learner is measured: configurations, seeds and the ``P`` ladder.

    The ladder of a configuration starts at ``v m`` strings (every grammatical tuple of a
    level seen about once: no learner can do with less) and climbs in steps of
    ``2**step_log2`` up to ``max_P`` strings and ``max_tokens`` tokens (``P s^L``). Its
    units are those of no law under test. A curve stops early after ``stop_after``
    consecutive points at or above the target (0: climb the whole ladder); a curve that
    ends below the target is right-censored at its last ``P``.

    Attributes
    ----------
    vms : tuple of (v, m)
    Ls : tuple of int
        Depths (``L >= 2``).
    seeds : tuple of int
        Seed indices; at depth ``L`` the run's grammar and data seeds are
        :func:`~rhm_theory.sweeps.runner.run_seeds` (every depth draws its own).
    max_L : mapping (v, m) -> int
        Deepest ``L`` of a pair, where smaller than ``max(Ls)``.
    Ps : tuple of int, optional
        Explicit ``P`` values instead of the ladder.
    """

    vms: tuple[tuple[int, int], ...]
    Ls: tuple[int, ...]
    seeds: tuple[int, ...]
    s: int = 2
    max_L: Mapping[tuple[int, int], int] = field(default_factory=dict)
    Ps: tuple[int, ...] | None = None
    step_log2: float = 0.5
    max_P: int = 2**19
    max_tokens: int = 2**24
    stop_after: int = 2
    n_test: int = 2000
    n_probe: int = 2000
    family: str = "random"

    def __post_init__(self) -> None:
        if not self.vms or not self.Ls or not self.seeds:
            raise ValueError("a grid needs at least one (v, m), one L and one seed")
        for v, m in self.vms:
            RHMParams(v, m, self.s, 2)
        for L in self.Ls:
            check_int("L", L, minimum=2)
        for sd in self.seeds:
            check_seed("seeds", sd)
        if self.Ps is not None:
            if not self.Ps:
                raise ValueError("Ps must hold at least one value when given")
            for P in self.Ps:
                check_int("P", P, minimum=1)
        check_float("step_log2", self.step_log2, minimum=0.0, include_minimum=False)
        check_int("max_P", self.max_P, minimum=1)
        check_int("max_tokens", self.max_tokens, minimum=1)
        check_int("stop_after", self.stop_after, minimum=0)
        check_int("n_test", self.n_test, minimum=1)
        check_int("n_probe", self.n_probe, minimum=1)
        check_choice("family", self.family, GRAMMAR_FAMILIES)

    def configs(self) -> list[tuple[int, int, int]]:
        """``(v, m, L)`` of the grid, in order."""
        return [(v, m, L) for v, m in self.vms for L in self.Ls
                if L <= self.max_L.get((v, m), L)]


#: Named grids. ``quick``: 15 configurations (three ``m``, two ``v`` at ``m = 2``, depths
#: 3-6, the costliest pair ``(16, 4)`` to 5) x 3 grammar seeds, ladders to ``2**20`` strings
#: and ``2**25`` tokens: wide enough that a learner following the far competitor
#: ``v m^(L+1)`` with a constant up to 16 crosses inside every ladder (``16 v m^(L+1)`` is
#: at most about ``2**20`` strings here), while a learner that learns early stops early
#: (an ILC-like learner finishes in minutes on 2 cores). ``full``: adds ``v = 32``, depths
#: 3-8, 4 seeds, ladders to ``2**21`` strings and ``2**26`` tokens.
GRIDS: dict[GridName, MeasureGrid] = {
    "quick": MeasureGrid(vms=((8, 2), (16, 2), (12, 3), (16, 4)), Ls=(3, 4, 5, 6),
                         seeds=(0, 1, 2), max_L={(16, 4): 5}, max_P=2**20,
                         max_tokens=2**25),
    "full": MeasureGrid(vms=((8, 2), (16, 2), (32, 2), (12, 3), (16, 4)), Ls=(3, 4, 5, 6, 7, 8),
                        seeds=(0, 1, 2, 3), max_L={(16, 4): 7}, max_P=2**21,
                        max_tokens=2**26),
}


def p_ladder(v: int, m: int, s: int, L: int, grid: MeasureGrid) -> tuple[int, ...]:
    """The ``P`` values of one configuration: the grid's explicit ``Ps``, or the ladder
    ``v m 2^(k step)`` while ``P <= max_P`` and ``P s^L <= max_tokens``.

    >>> p_ladder(8, 2, 2, 3, MeasureGrid(((8, 2),), (3,), (0,), max_P=100))
    (16, 23, 32, 45, 64, 91)
    """
    if grid.Ps is not None:
        return tuple(sorted(set(grid.Ps)))
    out: list[int] = []
    k = 0
    while True:
        P = round(v * m * 2.0 ** (k * grid.step_log2))
        if P > grid.max_P or P * s**L > grid.max_tokens:
            break
        if not out or P > out[-1]:
            out.append(P)
        k += 1
    if not out:
        raise ValueError(f"the P ladder of v={v}, m={m}, L={L} is empty: v m = {v * m} strings "
                         f"exceed max_P={grid.max_P} or max_tokens={grid.max_tokens}")
    return tuple(out)


# -- learner factories --------------------------------------------------------------------------
_FILE_MODULES: dict[str, Any] = {}


def resolve_factory(spec: str) -> LearnerFactory:
    """The factory named by ``spec``: ``path/to/file.py:name`` or ``package.module:name``.

    Raises
    ------
    ValueError
        A malformed spec, a missing file or module, or no such attribute.
    TypeError
        The attribute is not callable.
    """
    if not isinstance(spec, str) or spec.count(":") < 1:
        raise ValueError(f"SPEC must be 'path/to/file.py:factory' or 'module:factory', got "
                         f"{spec!r}")
    where, _, name = spec.rpartition(":")
    if not where or not name.isidentifier():
        raise ValueError(f"SPEC must be 'path/to/file.py:factory' or 'module:factory', got "
                         f"{spec!r}")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where).resolve()
        if not path.is_file():
            raise ValueError(f"SPEC {spec!r}: no file {path}")
        key = str(path)
        if key not in _FILE_MODULES:
            mod_name = "rhm_measure_" + hashlib.sha256(key.encode()).hexdigest()[:12]
            loader = importlib.util.spec_from_file_location(mod_name, path)
            if loader is None or loader.loader is None:
                raise ValueError(f"SPEC {spec!r}: cannot load {path} as Python")
            module = importlib.util.module_from_spec(loader)
            sys.modules[mod_name] = module  # classes defined there pickle by reference
            loader.loader.exec_module(module)
            _FILE_MODULES[key] = module
        module = _FILE_MODULES[key]
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise ValueError(f"SPEC {spec!r}: no module {where!r} ({exc})") from None
    factory = getattr(module, name, None)
    if factory is None:
        raise ValueError(f"SPEC {spec!r}: {where} has no attribute {name!r}")
    if not callable(factory):
        raise TypeError(f"SPEC {spec!r}: {name} is not callable")
    return factory  # type: ignore[no-any-return]


# -- cells ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasureCell:
    """One learning curve: a learner on one grammar, fitted afresh at each ``P`` of a ladder.

    A :class:`~rhm_theory.sweeps.runner.SweepTask`: ``key`` names the learner and the
    grammar, ``run()`` returns one row per ``P`` reached and non-root level. The learner is
    the factory's ``SPEC`` (resolved in the worker) or a picklable callable.
    """

    learner: str | LearnerFactory
    name: str
    v: int
    m: int
    s: int
    L: int
    grammar_seed: int
    data_seed: int
    Ps: tuple[int, ...]
    target: float = DEFAULT_TARGET
    stop_after: int = 2
    n_test: int = 2000
    n_probe: int = 2000
    family: str = "random"

    @property
    def key(self) -> str:
        """Stable identifier (learner name, grammar, seeds, ladder, scoring sizes)."""
        return (f"measure|learner={self.name}|v={self.v}|m={self.m}|s={self.s}|L={self.L}"
                f"|family={self.family}|grammar_seed={self.grammar_seed}"
                f"|data_seed={self.data_seed}|Ps={','.join(map(str, self.Ps))}"
                f"|target={self.target}|stop_after={self.stop_after}|n_test={self.n_test}"
                f"|n_probe={self.n_probe}")

    @property
    def cost(self) -> float:
        """A law-free cost guess: the ladder's first ``P`` times the tokens per string."""
        return float(self.Ps[0] * self.s**self.L)

    def describe(self, P: int | None = None) -> str:
        """``cell v=8 m=2 L=3 grammar_seed=0 [P=64]`` (for messages)."""
        tail = "" if P is None else f" P={P}"
        return (f"cell v={self.v} m={self.m} L={self.L} grammar_seed={self.grammar_seed}"
                f"{tail} of learner {self.name}")

    def run(self) -> list[dict[str, Any]]:
        """Fit and score the learner along the ladder (see :class:`MeasureGrid`)."""
        factory = (resolve_factory(self.learner) if isinstance(self.learner, str)
                   else self.learner)
        params = RHMParams(self.v, self.m, self.s, self.L)
        grammar = GrammarSpec(params, self.family, self.grammar_seed).build()
        levels = tuple(range(1, self.L))
        rows: list[dict[str, Any]] = []
        streak = 0
        for P in self.Ps:
            lc = LearnerCell(self.v, self.m, self.s, self.L, params.n_c, P, self.grammar_seed,
                             self.data_seed, self.family)
            where = self.describe(P)
            cpu0 = time.process_time()  # this process, every thread (numba's included)
            try:
                learner = factory(lc)
            except Exception as exc:
                raise MeasureError(f"{where}: the factory raised {type(exc).__name__}: {exc}"
                                   ) from exc
            try:
                mode = scoring_mode(learner)
            except TypeError as exc:
                raise MeasureError(f"{where}: the factory returned {type(learner).__name__}, "
                                   f"not a learner: {exc}") from exc
            labels_needed = bool(getattr(learner, "needs_labels", False))
            data = sample(grammar, P, self.data_seed, latents=labels_needed)
            t0 = time.perf_counter()
            try:
                if labels_needed:
                    learner.fit(data.tokens, data.labels)
                else:
                    learner.fit(data.tokens)
            except Exception as exc:
                raise MeasureError(f"{where}: fit raised {type(exc).__name__}: {exc}") from exc
            fit_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            try:
                scores = score_learner(learner, grammar, levels, n_test=self.n_test,
                                       n_probe=self.n_probe, seed=self.data_seed)
            except Exception as exc:
                raise MeasureError(f"{where}: scoring failed: {type(exc).__name__}: {exc}"
                                   ) from exc
            score_seconds = time.perf_counter() - t0
            cpu_seconds = time.process_time() - cpu0
            min_acc = min(sc.accuracy for sc in scores)
            for sc in scores:
                rows.append({
                    "key": self.key, "method": self.name, "v": self.v, "m": self.m,
                    "s": self.s, "L": self.L, "n_c": params.n_c, "P": P,
                    "grammar_seed": self.grammar_seed, "data_seed": self.data_seed,
                    "balanced": self.family == "balanced", "family": self.family,
                    "level": sc.level, "accuracy": sc.accuracy, "min_accuracy": min_acc,
                    "unknown_fraction": sc.unknown_fraction, "mode": mode,
                    "fit_seconds": fit_seconds, "score_seconds": score_seconds,
                    "cpu_seconds": cpu_seconds,
                    "target": self.target})
            streak = streak + 1 if min_acc >= self.target else 0
            if self.stop_after and streak >= self.stop_after:
                break
        return rows


def _spec_name(learner: str | LearnerFactory) -> str:
    if isinstance(learner, str):
        return learner
    mod = getattr(learner, "__module__", "?")
    return f"{mod}:{getattr(learner, '__qualname__', repr(learner))}"


def measure_cells(
    learner: str | LearnerFactory,
    grid: str | MeasureGrid = "quick",
    *,
    name: str | None = None,
    target: float = DEFAULT_TARGET,
) -> list[MeasureCell]:
    """The cells (learning curves) of a grid for one learner.

    Parameters
    ----------
    learner : str or callable
        ``SPEC`` (``path/to/file.py:factory`` or ``module:factory``) or the factory itself
        (picklable, for parallel runs).
    grid : {"quick", "full"} or MeasureGrid
    name : str, optional
        The learner's name in rows and keys (default: the spec).
    target : float
        Accuracy defining the threshold.
    """
    g = GRIDS[check_choice("grid", grid, tuple(GRIDS))] if isinstance(grid, str) else grid
    if isinstance(learner, str):
        resolve_factory(learner)  # fail here, before any worker starts
    elif not callable(learner):
        raise TypeError(f"learner must be a SPEC string or a factory, got {learner!r}")
    target = check_float("target", target, minimum=0.0, maximum=1.0, include_minimum=False)
    label = name or _spec_name(learner)
    cells = []
    for v, m, L in g.configs():
        Ps = p_ladder(v, m, g.s, L, g)
        for sd in g.seeds:
            gs, ds = run_seeds(sd, L)
            cells.append(MeasureCell(learner, label, v, m, g.s, L, gs, ds, Ps, target,
                                     g.stop_after if g.Ps is None else 0, g.n_test,
                                     g.n_probe, g.family))
    return cells



# -- thresholds -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurveThreshold:
    """The threshold of one learning curve: the library's one definition
    (:func:`~rhm_theory.scaling.threshold_from_curve`, criterion = the target on
    ``min_accuracy``), its point for the fit, and a message naming the cell when censored.

    Attributes
    ----------
    point : ThresholdPoint
        What the fit and the decision see (``level`` 0: every non-root level at once).
    threshold : Threshold
        Kind (``point``, ``below_grid``, ``above_grid``), ``P_star``, the grid ends, and
        beside them the raw curve's last crossing and whether it dips.
    max_accuracy : float
        Best ``min_accuracy`` of the curve, reached at ``P_at_max``.
    P_at_max : int
    message : str
        Empty for a point; otherwise names the cell and the censoring.
    """

    point: ThresholdPoint
    threshold: Threshold
    max_accuracy: float
    P_at_max: int
    message: str = ""

    @property
    def censored(self) -> bool:
        """Whether the grid does not bracket the threshold."""
        return self.threshold.censored

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (non-finite numbers as ``None``)."""
        p, t = self.point, self.threshold
        d: dict[str, Any] = {
            "v": p.v, "m": p.m, "s": p.s, "L": p.L, "grammar_seed": p.grammar_seed,
            "kind": t.kind, "P_star": t.P_star, "P_min": t.P_min, "P_max": t.P_max,
            "last_crossing": t.last_crossing, "dips": t.dips,
            "max_accuracy": self.max_accuracy, "P_at_max": self.P_at_max,
            "message": self.message}
        return {k: (None if isinstance(x, float) and not math.isfinite(x) else x)
                for k, x in d.items()}


def curve_thresholds(
    rows: Sequence[Mapping[str, Any]], target: float = DEFAULT_TARGET, *,
    ladder_ends: Mapping[str, int] | None = None,
) -> list[CurveThreshold]:
    """Threshold of every learning curve (one per cell key) of measurement rows.

    The curve is ``min_accuracy`` (every scored level) against ``P``; ``P*`` is the library's
    one threshold (:data:`~rhm_theory.scaling.THRESHOLD_RULE`: first ``P`` where the
    isotonic fit of the curve reaches ``target``), its last crossing and dips reported
    beside it. A curve already at ``target`` at its first ``P`` is censored below the grid,
    one whose fit never reaches it above; each gets a message naming its cell.

    ``ladder_ends`` (cell key -> largest ``P`` of its ladder) gives the grid end of a curve
    that stopped early: its point's ``P_max`` is where the ladder would have ended, so the
    calibration censors simulated thresholds where the real ladder would have, not at the
    early stop (default: the last ``P`` of the rows).

    Examples
    --------
    >>> rows = [{"key": "k", "method": "x", "v": 8, "m": 2, "s": 2, "L": 3,
    ...          "grammar_seed": 0, "P": P, "min_accuracy": a}
    ...         for P, a in ((100, 0.5), (200, 1.0), (400, 0.9), (800, 1.0))]
    >>> (t,) = curve_thresholds(rows, 0.95)
    >>> t.threshold.kind, round(t.threshold.P_star, 6), t.threshold.dips
    ('point', 200.0, True)
    >>> round(t.threshold.last_crossing, 3)  # 400 sqrt(2): the dip moves only this
    565.685
    """
    target = check_float("target", target, minimum=0.0, maximum=1.0, include_minimum=False)
    curves: dict[str, dict[int, float]] = defaultdict(dict)
    meta: dict[str, Mapping[str, Any]] = {}
    for r in rows:
        curves[r["key"]][int(r["P"])] = float(r["min_accuracy"])
        meta[r["key"]] = r
    out = []
    for key in sorted(curves):
        r = meta[key]
        Ps = sorted(curves[key])
        acc = [curves[key][P] for P in Ps]
        best = max(range(len(acc)), key=lambda i: (acc[i], -i))
        t = threshold_from_curve(Ps, acc, target)
        cell = (f"cell v={r['v']} m={r['m']} L={r['L']} grammar_seed={r['grammar_seed']}"
                f" of learner {r['method']}")
        if t.kind == "above_grid":
            msg = (f"{cell}: accuracy never reached {target} (best {acc[best]:.4g} at "
                   f"P={Ps[best]}, last {acc[-1]:.4g} at P={Ps[-1]}); threshold censored "
                   f"above P={Ps[-1]}")
        elif t.kind == "below_grid":
            msg = (f"{cell}: already at {target} at the smallest P={Ps[0]}; threshold "
                   f"censored at or below it")
        else:
            msg = ""
        point = ThresholdPoint.from_threshold(int(r["v"]), int(r["m"]), int(r["s"]),
                                              int(r["L"]), 0, int(r["grammar_seed"]), t)
        end = None if ladder_ends is None else ladder_ends.get(key)
        if end is not None and t.kind != "above_grid" and end > point.P_max:
            point = replace(point, P_max=float(end))
        out.append(CurveThreshold(point, t, acc[best], Ps[best], msg))
    return out


def _resolve_laws(laws: Sequence[str | Law]) -> list[Law]:
    """Laws by name or expression; at least one, each once (checked before any run)."""
    if isinstance(laws, str):
        raise TypeError(f"laws must be a sequence of laws, got the string {laws!r}")
    out = []
    for x in laws:
        if not isinstance(x, (str, Law)):
            raise TypeError(f"laws must hold law names, expressions or Law objects, got {x!r}")
        out.append(x if isinstance(x, Law) else law(x))
    if not out or len({lw.expr for lw in out}) != len(out):
        raise ValueError(f"laws must hold at least one law, each once, got {list(laws)}")
    return out


# -- the law decisions ------------------------------------------------------------------------
@dataclass(frozen=True)
class LawComparison:
    """The decision of the library's one rule on each law, on the same thresholds.

    Each law is judged by :func:`rhm_theory.scaling.assess` (the route of ``rhm-theory
    verify`` too): a decision of :data:`rhm_theory.scaling.DECISIONS` with its per-axis
    tests, and the rule's error rates on grids simulated from the thresholds' own noise. A
    law is *followed* when its decision is ``"claim"`` and the calibration backs it
    (:attr:`rhm_theory.scaling.Power.calibrated`: power >= 0.8, every near alternative's
    false-PASS rate <= 0.05).

    Attributes
    ----------
    assessments : tuple of Assessment
        One per law, in the order asked (empty when nothing could be fitted).
    fit : LogLinearFit or None
        ``log P* = c + a log v + b log m + d L`` without a law subtracted (the measured
        exponents).
    n_runs, n_censored : int
        Thresholds in all, and those the grid does not bracket.
    reason : str
        Why no law was assessed (empty otherwise).
    """

    assessments: tuple[Assessment, ...]
    fit: LogLinearFit | None
    n_runs: int
    n_censored: int
    reason: str = ""

    def _labels(self, keep: Any) -> tuple[str, ...]:
        return tuple(a.claim.label for a in self.assessments if keep(a))

    @property
    def followed(self) -> tuple[str, ...]:
        """Laws decided ``"claim"`` with a calibrated :class:`~rhm_theory.scaling.Power`."""
        return self._labels(lambda a: a.decision.decision == "claim"
                            and a.power is not None and a.power.calibrated)

    @property
    def uncalibrated(self) -> tuple[str, ...]:
        """Laws decided ``"claim"`` that the calibration does not back."""
        return self._labels(lambda a: a.decision.decision == "claim"
                            and (a.power is None or not a.power.calibrated))

    @property
    def rejects(self) -> tuple[str, ...]:
        """Laws decided ``"rejected"``."""
        return self._labels(lambda a: a.decision.decision == "rejected")

    @property
    def undecided(self) -> tuple[str, ...]:
        """Laws decided ``"undecided"``."""
        return self._labels(lambda a: a.decision.decision == "undecided")

    def best_law(self) -> Law | None:
        """The law to rescale by in a figure: the first followed, else the first decided
        ``"claim"``, else the first not rejected, else the first (``None`` if none)."""
        for keep in (self.followed, self.uncalibrated, self.undecided):
            for a in self.assessments:
                if a.claim.label in keep:
                    return a.claim
        return self.assessments[0].claim if self.assessments else None

    def statement(self) -> str:
        """One sentence: laws followed, decided for but not calibrated, rejected (with the
        false-FAIL rate where the calibration does not back the rejection), undecided."""
        if not self.assessments:
            return f"No law assessed: {self.reason}."
        parts = [f"follows {', '.join(self.followed)}" if self.followed
                 else "follows no law (calibrated)"]
        for a in self.assessments:
            if a.claim.label in self.uncalibrated:
                why = "no calibration" if a.power is None else a.power.reason()
                parts.append(f"decided for {a.claim.label} but not calibrated ({why})")
        rejected = []
        for a in self.assessments:
            if a.claim.label in self.rejects:
                pw = a.power
                # A rejection the calibration does not back is said so, as verify gates it.
                tail = ("" if pw is not None and pw.fail_calibrated else
                        " (no calibration)" if pw is None else
                        f" (false-FAIL {pw.false_fail:.2f} > {FALSE_FAIL_MAX}: not calibrated)")
                rejected.append(a.claim.label + tail)
        parts.append(f"rejects {', '.join(rejected) or 'none'}")
        parts.append(f"undecided: {', '.join(self.undecided) or 'none'}")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: ``laws`` (each assessment with ``sentence`` and ``followed``),
        ``followed``, ``rejects``, ``undecided``, ``statement``, ``fit``, counts."""
        laws = [{**a.to_dict(), "sentence": a.decision.sentence(),
                 "meaning": DECISION_MEANINGS[a.decision.decision],
                 "followed": a.claim.label in self.followed} for a in self.assessments]
        return {"laws": laws, "followed": list(self.followed),
                "uncalibrated": list(self.uncalibrated), "rejects": list(self.rejects),
                "undecided": list(self.undecided), "statement": self.statement(),
                "fit": None if self.fit is None else self.fit.to_dict(),
                "n_runs": self.n_runs, "n_censored": self.n_censored, "reason": self.reason}


def compare_laws(
    points: Sequence[ThresholdPoint],
    laws: Sequence[str | Law] = DEFAULT_LAWS,
    *,
    n_sim: int = MEASURE_N_SIM,
    seed: int = 0,
    axes: Sequence[str] = ("v", "m", "L"),
) -> LawComparison:
    """Judge each law on the same thresholds with the library's one rule.

    Every law goes through :func:`rhm_theory.scaling.assess` unchanged (censored thresholds
    as intervals, per-axis FAIL and equivalence tests, calibration under the law and its
    near alternatives), so a law's decision here is the one ``rhm-theory verify`` and
    ``rhm-theory measure --rows FILE`` give on the same rows. The thresholds' own fit
    (no law subtracted) is reported beside them.

    Parameters
    ----------
    points : sequence of ThresholdPoint
    laws : sequence of str or Law
        Names of :data:`rhm_theory.scaling.NAMED_LAWS` or law expressions (at least one,
        distinct).
    n_sim : int
        Simulated grids per law and per near alternative (0: no calibration, so no law is
        followed).
    seed : int
        Of the simulations (each law uses the same stream).
    axes : sequence of {"v", "m", "L"}
        The axes each law speaks about.

    Returns
    -------
    LawComparison

    Examples
    --------
    >>> pts = [ThresholdPoint(v, m, 2, L, 0, sd, 7.0 * v * m**3 * (1.0 + 0.05 * sd))
    ...        for v, m in ((8, 2), (16, 2), (32, 2), (12, 3), (16, 4)) for L in (3, 4, 5)
    ...        for sd in (0, 1, 2)]
    >>> cmp = compare_laws(pts, ["v m^3", "v m^(L+1)"], n_sim=0)
    >>> [a.decision.decision for a in cmp.assessments], round(cmp.fit.coef["b"], 6)
    (['claim', 'rejected'], 3.0)
    """
    resolved = _resolve_laws(laws)
    n_sim = check_int("n_sim", n_sim, minimum=0)
    seed = check_seed("seed", seed)
    pts = list(points)
    n_cens = sum(p.censored for p in pts)
    if not any(not p.censored for p in pts):
        return LawComparison((), None, len(pts), n_cens,
                             f"every one of the {len(pts)} thresholds is censored")
    for lw in resolved:
        for p in pts:
            lw.log_scale(p)  # a law undefined on the grid fails here, before any fit
    fit = loglinear_fit(pts)
    assessments = tuple(assess(pts, lw, axes=axes, n_sim=n_sim, seed=seed) for lw in resolved)
    return LawComparison(assessments, fit, len(pts), n_cens)


# -- the measurement ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """A learner's measured sample complexity on a grid."""

    learner: str
    grid: str
    target: float
    thresholds: tuple[CurveThreshold, ...]
    comparison: LawComparison
    n_cells: int
    n_rows: int
    seconds: float
    rows: tuple[Mapping[str, Any], ...] = field(repr=False, default=())

    @property
    def points(self) -> tuple[ThresholdPoint, ...]:
        """The thresholds as the fit and the decision see them."""
        return tuple(t.point for t in self.thresholds)

    @property
    def censored(self) -> tuple[str, ...]:
        """One message per censored curve, naming its cell."""
        return tuple(t.message for t in self.thresholds if t.censored)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (``fit`` and ``laws`` at the top level)."""
        comp = self.comparison.to_dict()
        return {"learner": self.learner, "grid": self.grid, "target": self.target,
                "threshold_rule": THRESHOLD_RULE,
                "fit": comp.pop("fit"), "laws": comp.pop("laws"), **comp,
                "thresholds": [t.to_dict() for t in self.thresholds],
                "censored": list(self.censored), "n_cells": self.n_cells,
                "n_rows": self.n_rows, "seconds": self.seconds}


def measure(
    learner: str | LearnerFactory,
    grid: str | MeasureGrid = "quick",
    *,
    name: str | None = None,
    target: float = DEFAULT_TARGET,
    laws: Sequence[str | Law] = DEFAULT_LAWS,
    out_dir: str | Path | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    seed: int = 0,
    n_sim: int = MEASURE_N_SIM,
) -> Measurement:
    """Measure a learner's sample complexity: curves, thresholds, fit, law decisions.

    Every curve of the grid is a cell of :func:`~rhm_theory.sweeps.runner.run_sweep`
    (parallel over ``workers`` processes or any ``executor``, Dask's included; with
    ``out_dir`` the rows go to ``out_dir/rows.jsonl`` as curves finish and a rerun resumes).
    The thresholds are judged by :func:`compare_laws`.

    Parameters
    ----------
    learner : str or callable
        ``SPEC`` or factory (``factory(LearnerCell) -> learner``).
    grid : {"quick", "full"} or MeasureGrid
    name : str, optional
        Name in rows and keys (default: the spec).
    target : float
        Accuracy of every non-root level defining ``P*``.
    laws : sequence of str or Law
        Laws to judge (names of :data:`rhm_theory.scaling.NAMED_LAWS` or expressions).
    out_dir, executor, workers, progress :
        As :func:`~rhm_theory.sweeps.runner.run_sweep` (``workers=1``: in this process).
    seed, n_sim : int
        Of the calibration (:func:`compare_laws`).

    Returns
    -------
    Measurement

    Raises
    ------
    MeasureError
        A cell's factory, fit or scoring failed (the message names the cell).
    """
    t0 = time.perf_counter()
    laws = _resolve_laws(laws)
    cells = measure_cells(learner, grid, name=name, target=target)
    rows = run_sweep(cells, out_dir=out_dir, executor=executor, max_workers=workers,
                     progress=progress)
    ths = curve_thresholds(rows, target, ladder_ends={c.key: c.Ps[-1] for c in cells})
    comp = compare_laws([t.point for t in ths], laws, n_sim=n_sim, seed=seed)
    grid_name = grid if isinstance(grid, str) else "custom"
    return Measurement(cells[0].name, grid_name, target, tuple(ths), comp, len(cells),
                       len(rows), time.perf_counter() - t0, tuple(rows))
