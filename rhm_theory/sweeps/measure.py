"""Sample complexity of any learner: grids, ladder cells, thresholds, fit and the law comparison."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

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
from rhm_theory.sweeps.collapse import (
    MAX_MISSING_FRACTION,
    MIN_CONFIGS,
    N_BOOTSTRAP,
    WIN_FRACTION,
    ThresholdPoint,
    compare_rescalings,
    loglinear_fit,
)
from rhm_theory.sweeps.decisions import LawDecision
from rhm_theory.sweeps.laws import CANDIDATES, MEASURE_LAWS, Rescaling
from rhm_theory.sweeps.runner import run_sweep
from rhm_theory.sweeps.thresholds import crossing_point
from rhm_theory.validation import check_choice, check_float, check_int, check_seed

__all__ = [
    "CALIBRATION_BOOTSTRAP",
    "CALIBRATION_N_SIM",
    "DEFAULT_LAWS",
    "DEFAULT_TARGET",
    "GRIDS",
    "LAWS",
    "LawComparison",
    "LawOutcome",
    "MeasureCell",
    "MeasureError",
    "MeasureGrid",
    "Measurement",
    "Threshold",
    "compare_laws",
    "curve_thresholds",
    "law_scale",
    "measure",
    "measure_cells",
    "p_ladder",
    "resolve_factory",
]

#: The registered laws of a threshold ``P*`` (docs/theory.md sections 4 and 10), the entries
#: of the one registry :data:`rhm_theory.sweeps.laws.CANDIDATES` named by
#: :data:`~rhm_theory.sweeps.laws.MEASURE_LAWS`: the three objectives of the paper (own
#: latents ``v m^3``, tokens ``v m^(L+1)``, labels ``v m^L``) and the near alternatives that
#: bracket ``v m^3`` on each axis: depth (``v m^3 c^L``, ``c = 1.2, 1.5``), ``v`` (``m^3``,
#: ``v^2 m^3``) and ``m`` (``v m^2.5``, ``v m^3.5``).
LAWS: dict[str, Rescaling] = {name: CANDIDATES[name] for name in MEASURE_LAWS}
DEFAULT_LAWS: tuple[str, ...] = tuple(LAWS)

#: Simulated grids per law that calibrate a "follows" decision (:func:`compare_laws`): with
#: 60 grids a false-PASS rate of 0.05 is 3 passes, and the nine laws cost about 1,000 cheap
#: comparisons.
CALIBRATION_N_SIM = 60
#: Bootstrap resamples of each simulated comparison (the real rows use ``N_BOOTSTRAP``).
CALIBRATION_BOOTSTRAP = 200


def law_scale(name: str, v: int, m: int, s: int, L: int) -> float:
    """The scale of law ``name`` (a key of :data:`LAWS`) at ``(v, m, s, L)``.

    >>> round(law_scale("v m^3 1.5^L", 8, 2, 2, 2), 9)
    144.0
    """
    check_choice("law", name, tuple(LAWS))
    return LAWS[name].scale(v, m, s, L)


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
        Grammar seeds; the data seed of a run is ``1000 + grammar seed``.
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
            cells.append(MeasureCell(learner, label, v, m, g.s, L, sd, 1000 + sd, Ps, target,
                                     g.stop_after if g.Ps is None else 0, g.n_test,
                                     g.n_probe, g.family))
    return cells


# -- thresholds -------------------------------------------------------------------------------
ThresholdStatus = Literal["crossed", "left-censored", "right-censored"]


@dataclass(frozen=True)
class Threshold:
    """The threshold of one learning curve, as an interval when censored.

    ``P_star`` is the crossing of :func:`~rhm_theory.sweeps.thresholds.crossing_point`
    (rule ``"last"``) when ``status == "crossed"``; ``low``/``high`` bound it (``0`` /
    ``inf`` on the open side of a censored curve).
    """

    v: int
    m: int
    s: int
    L: int
    grammar_seed: int
    P_star: float
    low: float
    high: float
    status: ThresholdStatus
    max_accuracy: float
    P_at_max: int
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (infinite bounds as ``None``)."""
        d = asdict(self)
        for k in ("P_star", "low", "high"):
            if not math.isfinite(d[k]):
                d[k] = None
        return d


def curve_thresholds(
    rows: Sequence[Mapping[str, Any]], target: float = DEFAULT_TARGET
) -> list[Threshold]:
    """Threshold of every learning curve (one per cell key) of measurement rows.

    The curve is ``min_accuracy`` (every scored level) against ``P``; the crossing rule is
    the package's one (:func:`~rhm_theory.sweeps.thresholds.crossing_point`, ``"last"``).
    A curve at or above ``target`` from its first ``P`` is left-censored (``P* <= P_0``);
    one that ends below is right-censored (``P* > P_last``), with a message naming the cell.
    """
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
        best = int(np.argmax(acc))
        cell = (f"cell v={r['v']} m={r['m']} L={r['L']} grammar_seed={r['grammar_seed']}"
                f" of learner {r['method']}")
        star = crossing_point(Ps, acc, target, rule="last")
        if math.isnan(star):
            status: ThresholdStatus = "right-censored"
            low, high = float(Ps[-1]), math.inf
            msg = (f"{cell}: accuracy never ended at or above {target} (best {acc[best]:.4g} "
                   f"at P={Ps[best]}, last {acc[-1]:.4g} at P={Ps[-1]}); threshold "
                   f"right-censored above P={Ps[-1]}")
        elif acc[0] >= target:
            status, low, high = "left-censored", 0.0, float(Ps[0])
            msg = (f"{cell}: already at {target} at the smallest P={Ps[0]}; threshold "
                   f"left-censored below it")
            star = math.nan
        else:
            status, low, high, msg = "crossed", star, star, ""
        out.append(Threshold(int(r["v"]), int(r["m"]), int(r["s"]), int(r["L"]),
                             int(r["grammar_seed"]), star, low, high, status, acc[best],
                             Ps[best], msg))
    return out


# -- the law comparison -----------------------------------------------------------------------
@dataclass(frozen=True)
class LawOutcome:
    """What a law comparison says of one law: its decision (a word of
    :data:`~rhm_theory.sweeps.decisions.LAW_DECISIONS`) and the numbers behind it.

    ``follows`` (best, winning >= ``WIN_FRACTION`` of resamples, every other law rejected),
    ``best`` (smallest collapse score, some law not excluded), ``rejected`` (collapses
    worse than the best law in >= ``REJECT_FRACTION`` of resamples), ``not excluded`` (the
    grid cannot tell it from the best) or ``undecided`` (the grid decides nothing: too few
    configurations or too many censored curves). Called ``LawVerdict``, with the field
    ``verdict``, before issue 18 (both still work, with a :class:`DeprecationWarning`).
    """

    name: str
    decision: LawDecision
    score: float
    win_fraction: float
    worse_than_best_fraction: float
    aliased_with_best: bool

    @property
    def rejected(self) -> bool:
        """Whether the law is rejected."""
        return self.decision == "rejected"

    @property
    def verdict(self) -> LawDecision:
        """Deprecated name of :attr:`decision` (before issue 18)."""
        warnings.warn("LawOutcome.verdict is deprecated: use .decision", DeprecationWarning,
                      stacklevel=2)
        return self.decision

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (``rejected`` included; the word under ``decision``, which
        files written before issue 18 hold under ``verdict``:
        :func:`~rhm_theory.sweeps.decisions.record_decision` reads both)."""
        return {**asdict(self), "rejected": self.rejected}


@dataclass(frozen=True)
class LawComparison:
    """Which law a learner's thresholds follow, with the log-linear fit.

    ``fit[k] = (estimate, low, high)`` for ``k`` in ``c, a, b, d`` of
    ``log P* = c + a log v + b log m + d L`` (95% seed-bootstrap intervals; ``nan`` where
    the grid cannot identify a coefficient).
    """

    laws: tuple[LawOutcome, ...]
    best: str | None
    fit: Mapping[str, tuple[float, float, float]]
    n_runs: int
    n_censored: int
    n_configs: int
    reason: str
    power: Mapping[str, Any] | None = None
    method: str = ("seed bootstrap, censored runs counted not fitted; a 'follows' decision "
                   "calibrated on simulated rows")

    @property
    def follows(self) -> str | None:
        """The law followed, if the grid decides it."""
        return next((lv.name for lv in self.laws if lv.decision == "follows"), None)

    @property
    def rejects(self) -> tuple[str, ...]:
        """Laws rejected."""
        return tuple(lv.name for lv in self.laws if lv.decision == "rejected")

    @property
    def cannot_decide(self) -> tuple[str, ...]:
        """Laws the grid cannot tell from the best (or every law, when undecided)."""
        return tuple(lv.name for lv in self.laws if lv.decision in ("not excluded", "undecided"))

    def statement(self) -> str:
        """One sentence: which law it follows, which it rejects, what is undecided."""
        if self.best is None or all(lv.decision == "undecided" for lv in self.laws):
            return f"The grid cannot decide any law: {self.reason}."
        head = (f"Follows {self.follows}" if self.follows else f"Best described by {self.best}")
        rej = ", ".join(self.rejects) or "none"
        und = ", ".join(self.cannot_decide) or "none"
        return f"{head}; rejects {rej}; cannot tell from it: {und}."

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return {"best": self.best, "follows": self.follows, "rejects": list(self.rejects),
                "cannot_decide": list(self.cannot_decide), "statement": self.statement(),
                "laws": [lv.to_dict() for lv in self.laws],
                "fit": {k: {"estimate": e, "low": lo, "high": hi}
                        for k, (e, lo, hi) in self.fit.items()},
                "n_runs": self.n_runs, "n_censored": self.n_censored,
                "n_configs": self.n_configs, "reason": self.reason, "method": self.method,
                "power": None if self.power is None else dict(self.power)}


def compare_laws(
    thresholds: Sequence[Threshold],
    laws: Sequence[str] = DEFAULT_LAWS,
    *,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
    n_sim: int = CALIBRATION_N_SIM,
) -> LawComparison:
    """Fit ``log P* = c + a log v + b log m + d L`` and compare the laws on the same runs.

    The one place where thresholds become law decisions (a calibrated version, with a noise
    model fitted to the rows and interval-censored likelihood, replaces this function
    unchanged in signature). Here: censored curves are counted and left out of the fit
    and the comparison; the collapse comparison is
    :func:`~rhm_theory.sweeps.collapse.compare_rescalings` with the best-scoring law as
    the claim (seed bootstrap); more than ``MAX_MISSING_FRACTION`` censored curves or
    fewer than ``MIN_CONFIGS`` configurations and every law is ``undecided``.

    Parameters
    ----------
    thresholds : sequence of Threshold
    laws : sequence of str
        Keys of :data:`LAWS` (at least two).
    seed, n_bootstrap : int
        Bootstrap generator seed and resamples.
    n_sim : int
        Simulated grids per law calibrating a "follows" decision (0: no calibration). A
        "follows" whose power is below 0.8, or that some other law's simulated rows reach
        more than 5% of the time, is reported as "best" with the reason.

    Examples
    --------
    >>> ths = [Threshold(v, m, 2, L, sd, 9.0 * v * m**3 * (1 + 0.05 * sd), 0, 0, "crossed",
    ...                  1.0, 1) for v, m in ((8, 2), (16, 2), (12, 3)) for L in (3, 4, 5)
    ...        for sd in (0, 1, 2)]
    >>> cmp = compare_laws(ths, n_bootstrap=200, n_sim=0)
    >>> cmp.best, round(cmp.fit["b"][0], 6), "v m^(L+1)" in cmp.rejects
    ('v m^3', 3.0, True)
    """
    names = [check_choice("laws", n, tuple(LAWS)) for n in laws]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"laws must hold at least two distinct names, got {list(laws)}")
    seed = check_seed("seed", seed)
    n_sim = check_int("n_sim", n_sim, minimum=0)
    pts = [ThresholdPoint(t.v, t.m, t.s, t.L, 0, t.grammar_seed,
                          t.P_star if t.status == "crossed" else math.nan) for t in thresholds]
    fit = loglinear_fit(pts, seed=seed, n_bootstrap=n_bootstrap)
    fit_t = {k: (fit.coef[k], fit.low[k], fit.high[k]) for k in ("c", "a", "b", "d")}
    n_cens = sum(t.status != "crossed" for t in thresholds)
    outcomes, best, comp, reason = _decide(pts, names, n_cens, len(thresholds), seed,
                                           n_bootstrap)
    power: dict[str, Any] | None = None
    followed = next((lv.name for lv in outcomes if lv.decision == "follows"), None)
    if followed is not None and n_sim > 0:
        power = _calibrate_follows(pts, names, followed, n_cens, len(thresholds), seed,
                                   n_sim)
        if not power["calibrated"]:
            # A "follows" the calibration cannot back is only "best" (docs/theory.md §10).
            outcomes = [LawOutcome(lv.name, "best", lv.score, lv.win_fraction,
                                   lv.worse_than_best_fraction, lv.aliased_with_best)
                        if lv.name == followed else lv for lv in outcomes]
            reason = f"'follows {followed}' withheld: {power['reason']}"
    return LawComparison(tuple(outcomes), best, fit_t, comp.n_runs, n_cens, comp.n_configs,
                         reason or "decided on the uncensored curves", power=power)


def _decide(
    pts: Sequence[ThresholdPoint], names: Sequence[str], n_cens: int, total: int, seed: int,
    n_bootstrap: int,
) -> tuple[list[LawOutcome], str | None, Any, str]:
    # The seed-bootstrap decision: best law by collapse score, then each law against it.
    first = compare_rescalings(pts, names[0], names[1:], seed=seed, n_bootstrap=n_bootstrap)
    scored = {n: s for n, s in first.scores.items() if math.isfinite(s)}
    best = min(scored, key=lambda n: (scored[n], names.index(n))) if scored else None
    comp = (compare_rescalings(pts, best, [n for n in names if n != best], seed=seed,
                               n_bootstrap=n_bootstrap) if best is not None else first)
    reason = ""
    if comp.n_configs < MIN_CONFIGS:
        reason = (f"{comp.n_configs} configuration(s) with a threshold, fewer than "
                  f"{MIN_CONFIGS}")
    elif total and n_cens / total > MAX_MISSING_FRACTION:
        reason = (f"{n_cens} of {total} curves censored, more than "
                  f"{MAX_MISSING_FRACTION:.0%}")
    outcomes = []
    for n in names:
        score = comp.scores.get(n, math.nan)
        win = comp.win_fraction.get(n, 0.0)
        worse = 0.0 if n == best else 1.0 - comp.beats_claim.get(n, 1.0)
        aliased = n in comp.aliased
        decision: LawDecision
        if reason or best is None:
            decision = "undecided"
        elif n == best:
            others_out = all(comp.rejected(o) for o in names if o != best)
            decision = "follows" if others_out and win >= WIN_FRACTION else "best"
        else:
            decision = "rejected" if comp.rejected(n) else "not excluded"
        outcomes.append(LawOutcome(n, decision, float(score), float(win), float(worse),
                                   aliased))
    return outcomes, best, comp, reason


def _calibrate_follows(
    pts: Sequence[ThresholdPoint], names: Sequence[str], followed: str, n_cens: int,
    total: int, seed: int, n_sim: int,
) -> dict[str, Any]:
    """Power and false-PASS rates of the "follows" decision (docs/theory.md section 10).

    Rows are simulated from the noise model fitted to ``pts``
    (:func:`rhm_theory.sweeps.calibration.calibrate`) under the followed law and under each
    other law; the unchanged decision (with :data:`CALIBRATION_BOOTSTRAP` resamples) counts
    as a pass when it says "follows" the same law. Calibrated as :class:`Power` says:
    power >= ``POWER_MIN`` and every false-PASS rate <= ``FALSE_PASS_MAX``.
    """
    from rhm_theory.sweeps.calibration import Power, calibrate

    def scale(name: str) -> Any:
        return lambda p: math.log(law_scale(name, p.v, p.m, p.s, p.L))

    # The decision's own words (a measurement's label, not a claim check's verdict).
    def rule(sim: Sequence[ThresholdPoint]) -> str:
        outcomes = _decide(sim, names, n_cens, total, seed, CALIBRATION_BOOTSTRAP)[0]
        return "follows" if any(lv.name == followed and lv.decision == "follows"
                                for lv in outcomes) else "does not follow"

    cal = calibrate(rule, list(pts), scale(followed),
                    {n: scale(n) for n in names if n != followed}, n_sim=n_sim, seed=seed,
                    pass_label="follows")
    power = Power(cal.power, tuple(cal.false_pass.items()), n_sim)
    return {"claim": followed, "power": cal.power, "n_sim": n_sim,
            "alternatives": power.to_dict()["alternatives"],
            "calibrated": power.calibrated,
            "reason": power.reason().replace("the claim", followed)}


# -- the measurement ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """A learner's measured sample complexity on a grid."""

    learner: str
    grid: str
    target: float
    thresholds: tuple[Threshold, ...]
    comparison: LawComparison
    n_cells: int
    n_rows: int
    seconds: float
    rows: tuple[Mapping[str, Any], ...] = field(repr=False, default=())

    @property
    def censored(self) -> tuple[str, ...]:
        """One message per censored curve, naming its cell."""
        return tuple(t.message for t in self.thresholds if t.status != "crossed")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (``fit`` and ``laws`` at the top level)."""
        comp = self.comparison.to_dict()
        return {"learner": self.learner, "grid": self.grid, "target": self.target,
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
    laws: Sequence[str] = DEFAULT_LAWS,
    out_dir: str | Path | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
) -> Measurement:
    """Measure a learner's sample complexity: curves, thresholds, fit, law decisions.

    Every curve of the grid is a cell of :func:`~rhm_theory.sweeps.runner.run_sweep`
    (parallel over ``workers`` processes or any ``executor``, Dask's included; with
    ``out_dir`` the rows go to ``out_dir/rows.jsonl`` as curves finish and a rerun resumes).

    Parameters
    ----------
    learner : str or callable
        ``SPEC`` or factory (``factory(LearnerCell) -> learner``).
    grid : {"quick", "full"} or MeasureGrid
    name : str, optional
        Name in rows and keys (default: the spec).
    target : float
        Accuracy of every non-root level defining ``P*``.
    laws : sequence of str
        Keys of :data:`LAWS` to compare.
    out_dir, executor, workers, progress :
        As :func:`~rhm_theory.sweeps.runner.run_sweep` (``workers=1``: in this process).
    seed, n_bootstrap : int
        Of the bootstrap.

    Returns
    -------
    Measurement

    Raises
    ------
    MeasureError
        A cell's factory, fit or scoring failed (the message names the cell).
    """
    t0 = time.perf_counter()
    cells = measure_cells(learner, grid, name=name, target=target)
    rows = run_sweep(cells, out_dir=out_dir, executor=executor, max_workers=workers,
                     progress=progress)
    ths = curve_thresholds(rows, target)
    comp = compare_laws(ths, laws, seed=seed, n_bootstrap=n_bootstrap)
    grid_name = grid if isinstance(grid, str) else "custom"
    return Measurement(cells[0].name, grid_name, target, tuple(ths), comp, len(cells),
                       len(rows), time.perf_counter() - t0, tuple(rows))


#: Names before issue 18, still importable with a DeprecationWarning (module ``__getattr__``,
#: so that the old word appears in no identifier of the library).
_DEPRECATED: dict[str, tuple[str, Any]] = {
    "LawVerdict": ("LawOutcome", LawOutcome),
    "LawVerdictName": ("rhm_theory.sweeps.decisions.LawDecision", LawDecision),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        new, value = _DEPRECATED[name]
        warnings.warn(f"rhm_theory.sweeps.measure.{name} is deprecated: use {new}",
                      DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
