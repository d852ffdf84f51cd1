"""Run every claim check on one shared sweep and write the report folder."""

from __future__ import annotations

import hashlib
import math
import multiprocessing as mp
import os
import pickle
import platform
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from proofs_checks import all_checks
from proofs_checks._framework import (
    EXACT_IDENTITY,
    CheckResult,
    CheckTask,
    ClaimCheck,
    GridName,
    TaskCheck,
    Verdict,
)
from rhm_theory.io import write_json, write_text
from rhm_theory.progress import Progress, format_seconds
from rhm_theory.sweeps.runner import SweepCell, run_sweep

__all__ = ["LEGEND", "NEURAL_CHECKS", "TABLE_WIDTH", "check_tasks", "closing_line",
           "compact_table", "evaluate_checks", "exit_status", "explain", "headline",
           "neural_by_default",
           "not_run", "power_text", "report_stem", "run_verification", "select_checks",
           "summary_rows",
           "versus", "write_report"]

#: The neural checks (PyTorch). By default they run only where they can decide: on the full
#: grid with a CUDA device (its decisive grid is GPU-sized: 828 runs, about 537 CPU-hours).
#: The quick grid's 32 CPU trainings took 12 of the 15 minutes of a quick run on 2 idle
#: cores and never cross the criterion (every threshold censored); the CPU grid that can
#: decide is ``rhm-theory neural verify-cpu``.
NEURAL_CHECKS = ("neural_data2vec_scaling", "neural_slc_scaling")

#: Width of the table ``rhm-theory verify`` prints (the full detail is in report.md/json).
TABLE_WIDTH = 100


def run_verification(
    grid: GridName = "quick",
    *,
    out_dir: str | Path | None = "rhm-report",
    checks: Sequence[ClaimCheck] | None = None,
    only: Sequence[str] | None = None,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: bool = True,
    device: str = "auto",
    neural: bool | None = None,
    local_evaluation: bool | None = None,
) -> list[CheckResult]:
    """Run the checks: one sweep for the union of their cells, one for their tasks, then
    each evaluation.

    The evaluations run in local worker processes (``max_workers``) unless an
    ``executor`` is given, when they run here, in series (the executor may be a remote
    scheduler, and this machine's cores are not the user's to take); ``local_evaluation``
    overrides that (``rhm-theory verify --dask local`` sets it: the cluster is this
    machine).

    ``checks`` (default :func:`select_checks` of ``grid``, ``only``, ``neural``) are the
    checks to run; ``only`` narrows them by name.

    The sweep's rows go to ``out_dir/sweep`` (so a rerun resumes); the rows of the checks'
    own tasks (:class:`~proofs_checks.CheckTask`, listed by a check's optional
    ``tasks(grid)``) go to ``out_dir/tasks`` through the same runner (parallel with
    ``max_workers``, resumed likewise), kept apart so that ``sweep/`` holds only ILC rows
    (what ``rhm-theory figures`` and the sweep readers expect); the report to
    ``out_dir/report.md`` and ``out_dir/report.json``; with ``only``, to
    ``out_dir/<report_stem(only)>.md/.json`` instead, so that a partial run never replaces
    the full run's report (the sweep rows are shared: each run reuses the other's cells).
    """
    if checks is None:
        selected = select_checks(grid, only=only, neural=neural, device=device)
    else:
        selected = _narrow(list(checks), only) if only else list(checks)
    t0 = time.perf_counter()
    cells: dict[str, SweepCell] = {}
    for check in selected:
        for cell in check.cells(grid):
            cells[cell.key] = cell
    out = Path(out_dir) if out_dir is not None else None
    tasks = check_tasks(selected, grid)
    if progress:
        print(_plan_line(selected, list(cells.values()), tasks, grid, max_workers),
              file=sys.stderr, flush=True)
    rows = run_sweep(list(cells.values()), out_dir=None if out is None else out / "sweep",
                     executor=executor, max_workers=max_workers, progress=progress)
    task_rows = run_sweep(tasks, out_dir=None if out is None else out / "tasks",
                          executor=executor, max_workers=max_workers,
                          progress=progress) if tasks else []
    sweep_seconds = time.perf_counter() - t0
    with Progress(None, progress, desc=f"evaluating {_count(len(selected), 'check')} (fits "
                  "and calibrations)"):
        results = evaluate_checks(selected, rows, grid, max_workers=max_workers,
                                  parallel=(executor is None if local_evaluation is None
                                            else local_evaluation),
                                  task_rows=task_rows)
    if out is not None:
        write_report(results, out, grid=grid, seconds=time.perf_counter() - t0,
                     sweep_seconds=sweep_seconds, n_cells=len(cells), stem=report_stem(only),
                     skipped=not_run([c.name for c in selected], only, grid), n_tasks=len(tasks))
    return results


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _plan_line(checks: Sequence[ClaimCheck], cells: list[SweepCell], tasks: Sequence[CheckTask],
               grid: GridName, max_workers: int | None) -> str:
    """What a verification is about to run, with the cost model's estimate of its sweep."""
    from proofs_checks.grids import estimated_cpu_seconds

    workers = max_workers or os.cpu_count() or 1
    sweep = estimated_cpu_seconds(cells) / min(workers, max(1, len(cells)))
    return (f"verify ({grid} grid): {_count(len(checks), 'check')}, {len(cells)} sweep "
            f"cells (about "
            f"{format_seconds(sweep)} on {workers} workers by the cost model, before "
            f"finished cells are skipped), {len(tasks)} other tasks, then the evaluation")


def select_checks(grid: GridName = "quick", *, only: Sequence[str] | None = None,
                  neural: bool | None = None, device: str = "auto") -> list[ClaimCheck]:
    """The checks a verification runs: :func:`proofs_checks.all_checks`, narrowed.

    ``only``: these names (an unknown name raises ``ValueError``). ``neural``: whether the
    neural checks (:data:`NEURAL_CHECKS`, when PyTorch is installed) run; default: when
    ``only`` names them, and on the full grid where ``device`` resolves to CUDA
    (:func:`neural_by_default`).

    >>> [c.name for c in select_checks(only=["synonym_invariance"])]
    ['synonym_invariance']
    >>> any(c.name in NEURAL_CHECKS for c in select_checks("quick"))
    False
    """
    selected = all_checks(device)
    if only:
        # the neural checks are known names even where PyTorch is absent
        narrowed = _narrow(selected, only, also_known=NEURAL_CHECKS)
        absent = sorted(set(only) - {c.name for c in narrowed})
        if absent:
            raise ValueError(f"check(s) {absent} need PyTorch: pip install '.[torch]'")
        selected = narrowed
    if neural is None:
        neural = bool(only and set(only) & set(NEURAL_CHECKS)) or (
            not only and neural_by_default(grid, device))
    if not neural:
        selected = [c for c in selected if c.name not in NEURAL_CHECKS]
    return selected


def _narrow(checks: Sequence[ClaimCheck], only: Sequence[str],
            also_known: Sequence[str] = ()) -> list[ClaimCheck]:
    """The checks named in ``only``; a name neither a check's nor in ``also_known`` raises."""
    names = {c.name for c in checks} | set(also_known)
    unknown = set(only) - names
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)}; known: {sorted(names)}")
    return [c for c in checks if c.name in set(only)]


def neural_by_default(grid: GridName, device: str = "auto") -> bool:
    """Whether the neural checks run without being asked for: on the full grid with PyTorch
    and a CUDA device (``device`` ``"cuda"``, or ``"auto"`` where CUDA is available)."""
    from rhm_theory.neural import torch_available

    if grid != "full" or device == "cpu" or not torch_available():
        return False
    from rhm_theory.neural.training import resolve_device

    try:
        return resolve_device(device).type == "cuda"
    except ValueError:  # "cuda" asked for but absent: the neural run itself will say so
        return True


def check_tasks(checks: Sequence[ClaimCheck], grid: GridName) -> list[CheckTask]:
    """The tasks of every check that has ``tasks(grid)`` (the optional part of
    :class:`~proofs_checks._framework.ClaimCheck`), without duplicate keys."""
    tasks: dict[str, CheckTask] = {}
    for check in checks:
        if isinstance(check, TaskCheck):
            for task in check.tasks(grid):
                tasks.setdefault(task.key, task)
    return list(tasks.values())


def _task_names(check: ClaimCheck) -> set[str]:
    # A check's own tasks carry its name; tasks shared by the checks of one evaluation group
    # (the neural runs) carry the group's name.
    return {check.name, str(getattr(check, "evaluation_group", check.name))}


_ROWS: Sequence[Mapping[str, Any]] = []


def _init_evaluator(rows: Sequence[Mapping[str, Any]]) -> None:
    global _ROWS
    _ROWS = rows


def _evaluate_group(checks: Sequence[ClaimCheck], grid: GridName,
                    own: Sequence[Sequence[Mapping[str, Any]]]) -> list[CheckResult]:
    return [check.evaluate([*_ROWS, *extra], grid)
            for check, extra in zip(checks, own, strict=True)]


def evaluate_checks(
    checks: Sequence[ClaimCheck], rows: Sequence[Mapping[str, Any]], grid: GridName, *,
    max_workers: int | None = None, parallel: bool = True,
    task_rows: Sequence[Mapping[str, Any]] = (),
) -> list[CheckResult]:
    """Every check's evaluation on the sweep's rows, in the order of ``checks``.

    A check sees ``rows`` followed by the rows of ``task_rows`` whose ``task`` is its name
    or its ``evaluation_group`` (the rows of its own
    :class:`~proofs_checks.CheckTask` objects, or of those its group shares).

    The evaluations (their calibrations dominate: hundreds of simulated grids each) are
    independent and seeded, so with ``max_workers`` above 1 (default: the CPUs) they run in
    worker processes and give the same results as in series. Checks with the same
    ``evaluation_group`` attribute run in one process, in order (the neural checks share
    their runs); a check that cannot be sent to a process (it does not pickle) runs here.
    """
    workers = max_workers or os.cpu_count() or 1
    groups: dict[str, list[int]] = {}
    local: list[int] = []
    for i, check in enumerate(checks):
        try:
            pickle.dumps(check)
        except Exception:  # any pickling error: evaluate in this process
            local.append(i)
            continue
        groups.setdefault(str(getattr(check, "evaluation_group", f"#{i}")), []).append(i)
    own: list[list[Mapping[str, Any]]] = [
        [r for r in task_rows if r.get("task") in _task_names(check)] for check in checks]
    if not parallel or workers <= 1 or len(groups) < 2:
        return [check.evaluate([*rows, *extra], grid)
                for check, extra in zip(checks, own, strict=True)]
    # The same start method as the sweep (no fork of a process with OpenMP threads).
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    out: dict[int, CheckResult] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(groups)),
                             mp_context=mp.get_context(method),
                             initializer=_init_evaluator, initargs=(list(rows),)) as pool:
        # A named group shares heavy work (the neural runs): it starts first, so the other
        # workers share the rest meanwhile.
        order = sorted(groups, key=lambda name: not getattr(checks[groups[name][0]],
                                                               "evaluation_group", None))
        futures = {tuple(groups[g]): pool.submit(_evaluate_group,
                                                 [checks[i] for i in groups[g]], grid,
                                                 [own[i] for i in groups[g]])
                   for g in order}
        out.update({i: checks[i].evaluate([*rows, *own[i]], grid) for i in local})
        for ix, future in futures.items():
            out.update(zip(ix, future.result(), strict=True))
    return [out[i] for i in range(len(checks))]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def headline(result: CheckResult, n: int = 3) -> str:
    """The first ``n`` short measured values of a result, as text (for tables)."""
    parts = []
    for k, v in result.measured.items():
        if isinstance(v, (dict, list, tuple)) and len(_fmt(v)) > 60:
            continue
        parts.append(f"{k}: {_fmt(v)}")
        if len(parts) == n:
            break
    return "; ".join(parts)


def _short(value: Any, limit: int = 24) -> str:
    text = _fmt(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def versus(result: CheckResult) -> str:
    """Measured against predicted in words: for a scaling law, the law and what held axis by
    axis (``"law v*m**3/(1-f): v exponent: holds, +0.012 [...]; ..."``); otherwise the
    first predicted quantity against its measured value, never cut."""
    sentence = result.measured.get("sentence")
    law = result.measured.get("law") or result.predicted.get("law")
    if isinstance(sentence, str) and law:
        event = result.measured.get("event")
        head = f"law {law}" + (f" ({event})" if event else "")
        return f"{head}: {sentence}"
    for key, pred in result.predicted.items():
        if key in result.measured:
            return f"{key} {_fmt(result.measured[key])} (predicted {_fmt(pred)})"
    first = headline(result, 1)
    pred = next(iter(result.predicted.items()), None)
    if pred is None:
        return first or "-"
    return f"{first}; predicted {pred[0]} {_fmt(pred[1])}" if first else \
        f"predicted {_fmt(pred[1])}"


def power_text(result: CheckResult) -> str:
    """The calibration in words: ``"power 0.93, false-FAIL 0.02, worst false-PASS 0.04
    (v m^3 x v^+0.25)"``; without a simulated calibration, ``"exact"`` for an exact
    identity, ``"none (exploratory)"`` for a check without a verdict, and ``"not
    calibrated"`` otherwise (a PASS is then withheld)."""
    pw = result.power
    if pw is None:
        if str(result.power_reason or "").startswith(EXACT_IDENTITY):
            return "exact"
        if result.verdict is Verdict.EXPLORATORY:
            return "none (exploratory)"
        return "not calibrated"
    text = f"power {pw.claim:.2f}"
    if math.isfinite(pw.false_fail):
        text += f", false-FAIL {pw.false_fail:.2f}"
    worst = pw.worst
    if worst is not None:
        text += f", worst false-PASS {worst[1]:.2f} ({worst[0]})"
    return text


#: The legend printed once under the table.
LEGEND = ("power: how often the unchanged rule PASSes rows simulated under the claim (a PASS "
          "needs >= 0.8); false-FAIL: how often it FAILs them (a FAIL needs <= 0.05); "
          "false-PASS: how often it PASSes rows simulated under a registered near "
          "alternative (a PASS needs <= 0.05 for each). Axes: the residual log P* - log law "
          "fitted on log v, log m, L (and l); 'holds' = inside the equivalence margin, "
          "'FAILS' = 0 outside the joint 97.5% interval, 'not pinned' = neither.")


def summary_rows(results: Sequence[CheckResult]) -> list[dict[str, str]]:
    """One row per check: verdict, measured, predicted, competitors, control, power."""
    rows = []
    for r in results:
        rejected = [a.name for a in r.alternatives if a.rejected]
        kept = [a.name for a in r.alternatives if not a.rejected]
        ctrl = r.negative_control
        rows.append({
            "check": r.name, "verdict": r.verdict.value, "measured": headline(r),
            "predicted": _fmt(dict(r.predicted)),
            "rejected": ", ".join(rejected) or "-",
            "not rejected": ", ".join(kept) or "-",
            "control": "none" if ctrl is None else (
                ctrl.verdict.value + ("" if ctrl.failed_as_expected else " (should FAIL)")),
            "power": power_text(r),
        })
    return rows


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def explain(result: CheckResult, width: int = TABLE_WIDTH) -> list[str]:
    """The lines of one claim in the table: name and verdict, then what held and what did
    not (:func:`versus`), the calibration and the control, wrapped to ``width``."""
    ctrl = result.negative_control
    parts = [versus(result), f"calibration: {power_text(result)}"]
    if ctrl is not None:
        parts.append(f"control: {ctrl.verdict.value}"
                     + ("" if ctrl.failed_as_expected else " (should FAIL)"))
    note = result.details.get("note")
    if note:
        parts.append(f"note: {note}")
    lines = [f"{result.name}: {result.verdict.value}"]
    for part in parts:
        lines += textwrap.wrap(part, width=width, initial_indent="    ",
                               subsequent_indent="      ", break_on_hyphens=False)
    return lines


def compact_table(results: Sequence[CheckResult], width: int = TABLE_WIDTH) -> str:
    """What ``rhm-theory verify`` prints: per claim its verdict and, in words and numbers,
    what held and what did not, its calibration and control; wrapped (never cut) to
    ``width`` columns; the legend once at the end."""
    lines: list[str] = []
    for r in results:
        lines += explain(r, width)
    lines.append("")
    lines += textwrap.wrap(LEGEND, width=width)
    return "\n".join(lines)


def not_run(selected_names: Sequence[str], only: Sequence[str] | None = None,
            grid: GridName = "quick") -> list[str]:
    """One line per reason some checks did not run (empty when all ran).

    The neural checks need PyTorch (the ``torch`` extra) and run by default only on the
    full grid with a GPU (:func:`select_checks`); ``--only`` leaves the others out.
    """
    from rhm_theory.neural import torch_available

    lines = []
    neural = list(NEURAL_CHECKS)
    if not torch_available():
        lines.append(f"not run: {', '.join(neural)} (need PyTorch: the torch extra)")
    elif not only and not set(neural) & set(selected_names):
        why = ("their quick-grid CPU trainings cannot decide: every threshold is censored"
               if grid == "quick" else "no GPU: the full neural grid is GPU-sized")
        lines.append(f"not run: {', '.join(neural)} ({why}; add --neural to run them, or "
                     "`rhm-theory neural verify-cpu` for the CPU grid that can decide)")
    if only:
        left = [n for n in (c.name for c in all_checks("cpu")) if n not in selected_names]
        if left:
            lines.append(f"not run: {len(left)} other checks (--only)")
    return lines


def closing_line(status: int) -> str:
    """The sentence that explains the exit status of ``rhm-theory verify``."""
    if status:
        return ("exit status 1: at least one claim FAILed, which is a result, not a crash "
                "(see the report)")
    return "exit status 0: no claim FAILed (INCONCLUSIVE and EXPLORATORY leave it at 0)"


def report_stem(only: Sequence[str] | None) -> str:
    """File name (without suffix) of a run's report: ``report`` for the full run,
    ``report-only-<checks>`` for ``--only`` (so it never replaces the full run's).

    >>> report_stem(None), report_stem(["b", "a"])
    ('report', 'report-only-a+b')
    """
    if not only:
        return "report"
    names = "+".join(sorted(set(only)))
    if len(names) > 80:
        names = hashlib.sha256(names.encode()).hexdigest()[:12]
    return f"report-only-{names}"


def exit_status(results: Sequence[CheckResult]) -> int:
    """1 if any check FAILs, else 0.

    INCONCLUSIVE and EXPLORATORY verdicts do not change the exit status (the grid could
    not decide; the table and report say so). A check whose negative control did not FAIL
    cannot PASS (:class:`~proofs_checks._framework.CheckResult` makes it INCONCLUSIVE).
    """
    return 1 if any(r.verdict is Verdict.FAIL for r in results) else 0


def write_report(
    results: Sequence[CheckResult], out: Path, *, grid: str, seconds: float,
    sweep_seconds: float, n_cells: int, stem: str = "report", skipped: Sequence[str] = (),
    n_tasks: int = 0,
) -> None:
    """Write ``<stem>.md`` and ``<stem>.json`` into ``out`` (atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    machine = {"platform": platform.platform(), "python": platform.python_version(),
               "processor": platform.processor() or platform.machine(),
               "cpus": os.cpu_count()}
    counts = {v.value: sum(r.verdict is v for r in results) for v in Verdict}
    doc = {"grid": grid, "seconds": seconds, "sweep_seconds": sweep_seconds,
           "n_sweep_cells": n_cells, "n_tasks": n_tasks, "machine": machine,
           "command": " ".join(sys.argv), "verdicts": counts,
           "exit_status": exit_status(results), "not_run": list(skipped),
           "passed": all(r.passed for r in results),
           "checks": [r.to_dict() for r in results]}
    write_json(out / f"{stem}.json", doc)
    lines = [f"# rhm-theory verify ({grid} grid)", "",
             ", ".join(f"{n} {k}" for k, n in counts.items() if n) +
             f"; {n_cells} sweep cells, {n_tasks} check tasks; {seconds:.0f} s on "
             f"{machine['platform']}.", "",
             closing_line(exit_status(results)) + ".", "",
             *(f"{line}." for line in skipped), "",
             "| check | verdict | measured | predicted | rejected | not rejected | control "
             "| power |",
             "|---|---|---|---|---|---|---|---|"]
    for row in summary_rows(results):
        lines.append("| " + " | ".join(row.values()) + " |")
    lines += ["", "## Claims", ""]
    for r in results:
        lines += [f"### {r.name}: {r.verdict}", "", f"- claim: {r.claim}",
                  f"- source: {r.source}", f"- prediction: {r.prediction}",
                  f"- measured against predicted: {versus(r)}",
                  f"- rule: {r.tolerance}"]
        if r.rule_verdict is not None and r.rule_verdict is not r.verdict:
            lines.append(f"- the rule said {r.rule_verdict.value}; {r.details.get('note', '')}")
        for a in r.alternatives:
            words = a.details.get("sentence", "")
            lines.append(f"- competitor {a.name}: {'rejected' if a.rejected else 'not rejected'}"
                         + (f" ({words})" if words else ""))
        if r.negative_control is not None:
            ctrl = r.negative_control
            words = ctrl.measured.get("sentence", "")
            lines.append(f"- negative control: {ctrl.description}: {ctrl.verdict}"
                         + (f" ({words})" if words else ""))
        lines.append(f"- calibration: {power_text(r)}"
                     + (f" ({r.power_reason})" if r.power is None and r.power_reason else ""))
        if r.power is not None and r.power.alternatives:
            lines.append("- false-PASS per near alternative: " + ", ".join(
                f"{n} {fp:.2f}" for n, fp in r.power.alternatives))
        for key in ("excluded_not_separated", "curves_dipping_after_crossing", "n_runs",
                    "n_censored_configs"):
            if key in r.measured:
                lines.append(f"- {key.replace('_', ' ')}: {r.measured[key]}")
        lines.append("")
    lines += ["## Legend", "", LEGEND, ""]
    write_text(out / f"{stem}.md", "\n".join(lines) + "\n")
