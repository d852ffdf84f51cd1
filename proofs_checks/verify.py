"""Run every claim check on one shared sweep and write the report folder."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from proofs_checks import all_checks
from proofs_checks._framework import CheckResult, ClaimCheck, GridName
from rhm_theory.io import jsonable
from rhm_theory.sweeps.runner import SweepCell, run_sweep

__all__ = ["run_verification", "write_report"]


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


def write_report(
    results: Sequence[CheckResult], out: Path, *, grid: str, seconds: float,
    sweep_seconds: float, n_cells: int,
) -> None:
    """Write ``report.md`` and ``report.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    machine = {"platform": platform.platform(), "python": platform.python_version(),
               "processor": platform.processor() or platform.machine()}
    doc = {"grid": grid, "seconds": seconds, "sweep_seconds": sweep_seconds,
           "n_sweep_cells": n_cells, "machine": machine,
           "passed": all(r.passed for r in results),
           "checks": [r.to_dict() for r in results]}
    (out / "report.json").write_text(json.dumps(jsonable(doc), indent=2))
    lines = [f"# rhm-theory verify ({grid} grid)", "",
             f"{sum(r.passed for r in results)}/{len(results)} checks pass; "
             f"{n_cells} sweep cells; {seconds:.0f} s on {machine['platform']}.", "",
             "| check | verdict | measured | predicted | tolerance |",
             "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.name} | {r.verdict} | {_fmt(dict(r.measured))} | "
                     f"{_fmt(dict(r.predicted))} | {r.tolerance} |")
    lines += ["", "## Claims", ""]
    for r in results:
        lines += [f"### {r.name}: {r.verdict}", "", f"- claim: {r.claim}",
                  f"- source: {r.source}", f"- prediction: {r.prediction}", ""]
    (out / "report.md").write_text("\n".join(lines) + "\n")
