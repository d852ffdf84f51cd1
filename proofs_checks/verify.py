"""Run every claim check on one shared sweep and write the report folder."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from proofs_checks import all_checks
from proofs_checks._framework import CheckResult, ClaimCheck, GridName, Verdict
from rhm_theory.io import jsonable
from rhm_theory.sweeps.runner import SweepCell, run_sweep

__all__ = ["exit_status", "headline", "run_verification", "summary_rows",
           "write_report"]


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
) -> list[CheckResult]:
    """Run the checks: one sweep for the union of their cells, then each evaluation.

    The sweep's rows go to ``out_dir/sweep`` (so a rerun resumes), the report to
    ``out_dir/report.md`` and ``out_dir/report.json``.
    """
    selected = list(checks) if checks is not None else all_checks(device)
    if only:
        names = {c.name for c in selected}
        unknown = set(only) - names
        if unknown:
            raise ValueError(f"unknown check(s) {sorted(unknown)}; known: {sorted(names)}")
        selected = [c for c in selected if c.name in set(only)]
    t0 = time.perf_counter()
    cells: dict[str, SweepCell] = {}
    for check in selected:
        for cell in check.cells(grid):
            cells[cell.key] = cell
    out = Path(out_dir) if out_dir is not None else None
    rows = run_sweep(list(cells.values()), out_dir=None if out is None else out / "sweep",
                     executor=executor, max_workers=max_workers, progress=progress)
    sweep_seconds = time.perf_counter() - t0
    results = []
    for check in selected:
        results.append(check.evaluate(rows, grid))
    if out is not None:
        write_report(results, out, grid=grid, seconds=time.perf_counter() - t0,
                     sweep_seconds=sweep_seconds, n_cells=len(cells))
    return results


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


def summary_rows(results: Sequence[CheckResult]) -> list[dict[str, str]]:
    """One row per check: verdict, measured, predicted, competitors rejected, control."""
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
        })
    return rows


def exit_status(results: Sequence[CheckResult]) -> int:
    """1 if any check FAILs, else 0.

    INCONCLUSIVE and EXPLORATORY verdicts do not change the exit status (the grid could
    not decide; the table and report say so). A check whose negative control did not FAIL
    cannot PASS (:class:`~proofs_checks._framework.CheckResult` makes it INCONCLUSIVE).
    """
    return 1 if any(r.verdict is Verdict.FAIL for r in results) else 0


def write_report(
    results: Sequence[CheckResult], out: Path, *, grid: str, seconds: float,
    sweep_seconds: float, n_cells: int,
) -> None:
    """Write ``report.md`` and ``report.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    machine = {"platform": platform.platform(), "python": platform.python_version(),
               "processor": platform.processor() or platform.machine(),
               "cpus": os.cpu_count()}
    counts = {v.value: sum(r.verdict is v for r in results) for v in Verdict}
    doc = {"grid": grid, "seconds": seconds, "sweep_seconds": sweep_seconds,
           "n_sweep_cells": n_cells, "machine": machine,
           "command": " ".join(sys.argv), "verdicts": counts,
           "exit_status": exit_status(results),
           "passed": all(r.passed for r in results),
           "checks": [r.to_dict() for r in results]}
    (out / "report.json").write_text(json.dumps(jsonable(doc), indent=2))
    lines = [f"# rhm-theory verify ({grid} grid)", "",
             ", ".join(f"{n} {k}" for k, n in counts.items() if n) +
             f"; {n_cells} sweep cells; {seconds:.0f} s on {machine['platform']}.", "",
             "| check | verdict | measured | predicted | rejected | not rejected | control |",
             "|---|---|---|---|---|---|---|"]
    for row in summary_rows(results):
        lines.append("| " + " | ".join(row.values()) + " |")
    lines += ["", "## Claims", ""]
    for r in results:
        lines += [f"### {r.name}: {r.verdict}", "", f"- claim: {r.claim}",
                  f"- source: {r.source}", f"- prediction: {r.prediction}",
                  f"- tolerance: {r.tolerance}"]
        if r.negative_control is not None:
            lines.append(f"- negative control: {r.negative_control.description}: "
                         f"{r.negative_control.verdict}")
        lines.append("")
    (out / "report.md").write_text("\n".join(lines) + "\n")
