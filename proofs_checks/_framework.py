"""The shape of a claim check: what it claims, what it needs run, and its verdict."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from rhm_theory.constants import GRID_NAMES, GridName
from rhm_theory.scaling import FALSE_FAIL_MAX, FALSE_PASS_MAX, POWER_MIN, Decision, Power
from rhm_theory.sweeps.runner import SweepCell

__all__ = [
    "DECISION_VERDICTS",
    "EXACT_IDENTITY",
    "FALSE_FAIL_MAX",
    "FALSE_PASS_MAX",
    "GRID_NAMES",
    "POWER_MIN",
    "UNCALIBRATED",
    "Alternative",
    "CheckResult",
    "CheckTask",
    "ClaimCheck",
    "GridName",
    "NegativeControl",
    "Power",
    "TaskCheck",
    "Verdict",
    "control_gate",
    "decision_verdict",
    "finite",
    "judge",
    "task_results",
]



class Verdict(str, Enum):
    """Outcome of a claim check (docs/theory.md section 10).

    - ``PASS``: the prediction holds within the tolerance fixed in code before the run, and
      every named competitor is rejected on the same rows.
    - ``FAIL``: the prediction is violated (or a competitor fits at least as well and the
      claim is rejected).
    - ``INCONCLUSIVE``: the grid cannot tell the claim from a competitor (neither rejected).
    - ``EXPLORATORY``: no tolerance fixed in advance; numbers reported, no verdict claimed.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    EXPLORATORY = "EXPLORATORY"

    @classmethod
    def of(cls, ok: bool) -> Verdict:
        """``PASS`` if ``ok`` else ``FAIL`` (for checks without competitors)."""
        return cls.PASS if ok else cls.FAIL

    def __str__(self) -> str:
        return self.value


#: The one mapping from the library's decision on a law
#: (:data:`rhm_theory.scaling.DECISIONS`) to a claim check's verdict, before calibration
#: (:func:`judge`): the library says how rows relate to a law, only the checks say PASS.
DECISION_VERDICTS: Mapping[Decision, Verdict] = {
    "claim": Verdict.PASS, "rejected": Verdict.FAIL, "undecided": Verdict.INCONCLUSIVE}


def decision_verdict(decision: Decision) -> Verdict:
    """The verdict of a decision word (:data:`DECISION_VERDICTS`).

    >>> decision_verdict("undecided")
    <Verdict.INCONCLUSIVE: 'INCONCLUSIVE'>
    """
    return DECISION_VERDICTS[decision]


@dataclass(frozen=True)
class Alternative:
    """A competing hypothesis tested on the same rows as the claim."""

    name: str
    rejected: bool
    score: float = math.nan
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for the JSON report."""
        return {"name": self.name, "rejected": self.rejected, "score": self.score,
                "details": dict(self.details)}


@dataclass(frozen=True)
class NegativeControl:
    """The same check applied where its claim is false: its verdict must be ``FAIL``."""

    description: str
    verdict: Verdict
    measured: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed_as_expected(self) -> bool:
        """Whether the control did its job (a control that passes is a useless check)."""
        return self.verdict is Verdict.FAIL

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for the JSON report."""
        return {"description": self.description, "verdict": self.verdict.value,
                "failed_as_expected": self.failed_as_expected, "measured": dict(self.measured)}




#: ``power_reason`` of a rule not yet run on simulated rows: :class:`CheckResult` withholds
#: its PASS (its power and false-PASS rates are unknown).
UNCALIBRATED = ("not calibrated: the rule is not yet run on simulated data, so its power "
                "and false-PASS rate are unknown; a PASS is withheld (docs/theory.md section 10)")


#: How the ``power_reason`` of an exact identity starts: the only rule whose PASS stands
#: without a simulated calibration (no sampling noise to simulate).
EXACT_IDENTITY = "exact identity"


def control_gate(verdict: Verdict, control: NegativeControl | None) -> Verdict:
    """``INCONCLUSIVE`` in place of a ``PASS`` whose negative control did not FAIL.

    Every :class:`CheckResult` applies it on construction.

    >>> ctrl = NegativeControl("claim false here", Verdict.PASS)
    >>> control_gate(Verdict.PASS, ctrl).value, control_gate(Verdict.FAIL, ctrl).value
    ('INCONCLUSIVE', 'FAIL')
    """
    if verdict is Verdict.PASS and control is not None and not control.failed_as_expected:
        return Verdict.INCONCLUSIVE
    return verdict


def judge(verdict: Verdict, control: NegativeControl | None, power: Power | None,
          power_reason: str | None) -> tuple[Verdict, str | None]:
    """The final verdict of a check: its rule's verdict, gated by its control and by the
    calibration of the rule in the direction it points (docs/theory.md section 10).

    Returns the verdict and a note saying what changed it (``None`` if nothing did).

    - A PASS whose negative control did not FAIL is INCONCLUSIVE (``control_gate``).
    - A PASS needs a calibrated rule (``power.calibrated``: power >= 0.8, every false-PASS
      rate <= 0.05); without a simulation only an exact identity PASSes.
    - A FAIL whose false-FAIL rate was measured needs it <= 0.05 (``fail_calibrated``).

    >>> p = Power(0.9, (("near", 0.01),), 100, false_fail=0.2)
    >>> verdict, note = judge(Verdict.FAIL, None, p, None)
    >>> verdict.value, note
    ('INCONCLUSIVE', 'FAIL withheld: false-FAIL 0.20 > 0.05 under the claim')
    >>> judge(Verdict.PASS, None, p, None)[0].value
    'PASS'
    """
    gated = control_gate(verdict, control)
    if gated is not verdict:
        return gated, "negative control did not FAIL: PASS withheld"
    if verdict is Verdict.PASS:
        if power is not None and not power.calibrated:
            return Verdict.INCONCLUSIVE, f"PASS withheld: {power.reason()}"
        if power is None and not str(power_reason or "").startswith(EXACT_IDENTITY):
            # Only an exact identity PASSes without a simulation.
            reason = power_reason or UNCALIBRATED
            return Verdict.INCONCLUSIVE, (reason if reason == UNCALIBRATED
                                          else f"PASS withheld: not calibrated ({reason})")
    if verdict is Verdict.FAIL and power is not None and math.isfinite(power.false_fail) \
            and not power.fail_calibrated:
        return Verdict.INCONCLUSIVE, (f"FAIL withheld: false-FAIL {power.false_fail:.2f} > "
                                      f"{FALSE_FAIL_MAX} under the claim")
    return verdict, None


@dataclass(frozen=True)
class CheckResult:
    """Measured against predicted for one claim: tolerance, competitors, control, verdict.

    Immutable: build it with :meth:`judged`, which applies :func:`judge` to the rule's own
    verdict once (``rule_verdict`` keeps it, ``details["note"]`` says what changed it).
    """

    name: str
    claim: str
    source: str
    prediction: str
    measured: Mapping[str, Any]
    predicted: Mapping[str, Any]
    tolerance: str
    verdict: Verdict
    details: Mapping[str, Any] = field(default_factory=dict)
    alternatives: tuple[Alternative, ...] = ()
    negative_control: NegativeControl | None = None
    # Calibration of the rule on simulated rows; None for an exact identity, with
    # power_reason saying why no simulation applies.
    power: Power | None = None
    power_reason: str | None = None
    rule_verdict: Verdict | None = None
    # The law the check tests, as a parseable expression (rhm_theory.scaling.parse_law).
    law: str | None = None

    @classmethod
    def judged(cls, name: str, claim: str, source: str, prediction: str,
               measured: Mapping[str, Any], predicted: Mapping[str, Any], tolerance: str,
               verdict: Verdict, details: Mapping[str, Any] | None = None,
               alternatives: tuple[Alternative, ...] = (),
               negative_control: NegativeControl | None = None, power: Power | None = None,
               power_reason: str | None = None, law: str | None = None) -> CheckResult:
        """The result of a check whose rule said ``verdict``, after :func:`judge`."""
        final, note = judge(verdict, negative_control, power, power_reason)
        extra = dict(details or {})
        if note is not None:
            extra["note"] = note
        return cls(name, claim, source, prediction, measured, predicted, tolerance, final,
                   extra, alternatives, negative_control, power, power_reason, verdict, law)

    @property
    def passed(self) -> bool:
        """Whether the verdict is ``PASS``."""
        return self.verdict is Verdict.PASS

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for the JSON report."""
        return {
            "name": self.name, "claim": self.claim, "source": self.source, "law": self.law,
            "prediction": self.prediction, "measured": dict(self.measured),
            "predicted": dict(self.predicted), "tolerance": self.tolerance,
            "verdict": self.verdict.value,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "negative_control": (None if self.negative_control is None
                                 else self.negative_control.to_dict()),
            "power": None if self.power is None else self.power.to_dict(),
            "power_reason": self.power_reason,
            "rule_verdict": None if self.rule_verdict is None else self.rule_verdict.value,
            "details": dict(self.details),
        }


class ClaimCheck(Protocol):
    """One claim of docs/theory.md turned into a measurement.

    ``cells(grid)`` lists the ILC sweep cells the check needs (possibly none); the
    verification runs the union of all checks' cells once, then calls ``evaluate`` with
    the rows.

    A check whose measurement is not an ILC sweep (exact BP, exact margins, exploration
    curves...) may also have ``tasks(grid)`` (:class:`~proofs_checks.TaskCheck`,
    optional): the units of that work as :class:`~proofs_checks.CheckTask` objects.
    ``rhm-theory verify`` runs every check's tasks through
    :func:`~rhm_theory.sweeps.runner.run_sweep` into ``OUT/tasks`` (in parallel with
    ``--workers``, resumed after a kill), and ``evaluate`` receives the ILC rows followed by
    its own tasks' rows, which it reads with :func:`~proofs_checks.task_results` (computing
    here any task whose row is missing, so ``evaluate`` called alone still works). Checks
    that share work (the two neural checks) have the same ``evaluation_group`` attribute
    and give their shared tasks the group's name as ``check``: the tasks run once, both
    checks see the rows.
    """

    name: str
    claim: str
    source: str

    def cells(self, grid: GridName) -> Sequence[SweepCell]:
        """The ILC sweep cells this check needs on ``grid`` (possibly none)."""
        ...

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        """The verdict of the claim from the sweep ``rows`` of ``grid``."""
        ...


@runtime_checkable
class TaskCheck(Protocol):
    """A check that also lists the non-ILC work it needs (see :class:`ClaimCheck`)."""

    name: str

    def tasks(self, grid: GridName) -> Sequence[CheckTask]:
        """The units of work whose rows ``evaluate`` reads on ``grid``."""
        ...


def _plain(value: Any) -> Any:
    # numpy scalars and arrays in a task's value: as Python numbers and lists (NaN kept).
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"a task's value must be JSON-serialisable, got {type(value).__name__}")


def _key_value(value: Any) -> str:
    # JSON spelling: tuples and lists read alike, floats keep their repr, dicts sort.
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class CheckTask:
    """One unit of a check's own work, run by the verification's sweep (a
    :class:`~rhm_theory.sweeps.runner.SweepTask`).

    ``fn(**params)`` computes it; ``fn`` is a module-level function (so the task pickles to
    a worker) returning a JSON-serialisable value, and ``params`` names every parameter
    (they are the task's key with ``check`` and ``fn``'s name, so a resumed run finds the
    task's row exactly when nothing changed). ``cost`` is a relative estimate (the sweep
    starts the largest first).

    >>> task = CheckTask("demo", dict, (("a", 1), ("b", (2, 3))))
    >>> task.key
    'task=demo|fn=dict|a=1|b=[2, 3]'
    >>> task.run() == [{"key": task.key, "task": "demo", "value": {"a": 1, "b": [2, 3]}}]
    True
    """

    check: str
    fn: Callable[..., Any]
    params: tuple[tuple[str, Any], ...] = ()
    cost: float = 1.0

    @property
    def key(self) -> str:
        """Stable identifier: the check, the function and every parameter."""
        fn = getattr(self.fn, "__qualname__", getattr(self.fn, "__name__", repr(self.fn)))
        return "|".join([f"task={self.check}", f"fn={fn}",
                         *(f"{k}={_key_value(v)}" for k, v in self.params)])

    def run(self) -> list[dict[str, Any]]:
        """The task's one row: ``key``, ``task`` (the check's name) and ``value``.

        The value goes through JSON here, so a fresh row and a row read back from
        ``rows.jsonl`` on resume are the same (lists for tuples, plain floats).
        """
        value = json.loads(json.dumps(self.fn(**dict(self.params)), default=_plain))
        return [{"key": self.key, "task": self.check, "value": value}]


def task_results(tasks: Sequence[CheckTask], rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The value of each task, in the order of ``tasks``: from its row in ``rows`` (the
    verification's ``OUT/tasks`` rows), else computed here (``evaluate`` called alone)."""
    found = {r["key"]: r["value"] for r in rows if "task" in r and "value" in r}
    return [found[t.key] if t.key in found else t.run()[0]["value"] for t in tasks]


def finite(x: float) -> bool:
    """Whether ``x`` is a finite float (NaN marks a threshold the grid did not reach)."""
    return isinstance(x, (int, float)) and math.isfinite(x)
