"""``rhm-theory figures``: regenerate the documentation figures from a fresh sweep or saved rows."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rhm_theory.cli._args import check_output_dir, positive_int
from rhm_theory.cli._compile import compile_notice
from rhm_theory.cli._output import print_json, show_progress
from rhm_theory.validation import CONTEXT_KINDS

__all__ = ["register", "sweep_cells"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``figures`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level parser's sub-command group.
    """
    p = sub.add_parser(
        "figures",
        help="make the documentation figures (PNG) from a fresh sweep or saved sweep rows",
        description="Write every documentation figure as PNG (and a README.md listing them "
        "with this command) into --out: ILC accuracy against P and P/(v m^3) per level and "
        "depth, P* of the three methods against L with the predicted slopes, exact margins "
        "by level and context kind, empirical against exact context-vector error. Without "
        "--rows it first runs a fresh sweep of the three methods on the chosen grid (the "
        "cells of `rhm-theory verify`); needs the `plot` extra (matplotlib).",
    )
    grid = p.add_mutually_exclusive_group()
    grid.add_argument("--quick", action="store_true",
                      help="the quick grid (default; minutes on 2 cores)")
    grid.add_argument("--full", action="store_true", help="the full grid (hours on 2 cores)")
    p.add_argument("--rows", metavar="DIR_OR_FILE", default=None,
                   help="use saved sweep rows instead of sweeping: a rows.jsonl / rows.json "
                        "file, a sweep folder, or a `rhm-theory verify` report folder")
    p.add_argument("--out", default="figures",
                   help="output folder (default: ./figures; the docs' own: docs/figures)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes of the fresh sweep (default: CPUs)")
    p.add_argument("--sweep-dir", metavar="DIR", default=None,
                   help="keep the fresh sweep's rows here (and resume from them); default: "
                        "a temporary folder, deleted afterwards")
    p.add_argument("--only", nargs="+", metavar="FIGURE", help="make only these figures")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress on stderr (default: a live line on a terminal, "
                   "a line every 20 s in a log)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_run, resumable=True)


def sweep_cells(grid: str) -> list[Any]:
    """The sweep cells of the figures: the three methods' depth grids of ``rhm-theory verify``
    and the grid of ILC with positions kept separate.

    Parameters
    ----------
    grid : {"quick", "full"}

    Returns
    -------
    list of rhm_theory.sweeps.SweepCell
    """
    from proofs_checks.grids import depth_cells, variant_cells
    from rhm_theory.constants import GRID_NAMES
    from rhm_theory.validation import check_choice

    name = check_choice("grid", grid, GRID_NAMES)
    cells = {}
    for context in CONTEXT_KINDS:
        for cell in depth_cells(context, name):
            cells[cell.key] = cell
    for cell in variant_cells("unpooled", name):  # ILC with positions kept separate
        cells[cell.key] = cell
    return list(cells.values())


def _provenance(rows: Path) -> str:
    """Where saved rows came from, when a ``rhm-theory verify`` report sits next to them."""
    import json

    base = rows if rows.is_dir() else rows.parent
    for folder in (base, base.parent):
        report = folder / "report.json"
        if report.is_file():
            try:
                doc = json.loads(report.read_text())
                return (f", the sweep of `rhm-theory verify` ({doc.get('grid', '?')} grid, "
                        f"{doc.get('n_sweep_cells', '?')} cells)")
            except (json.JSONDecodeError, AttributeError):
                return ""
    return ""


def _run(args: argparse.Namespace) -> int:
    check_output_dir(args.out)
    if args.sweep_dir:
        check_output_dir(args.sweep_dir, "--sweep-dir")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("rhm-theory figures: error: needs matplotlib: pip install 'rhm-theory[plot]'",
              file=sys.stderr)
        return 2
    from rhm_theory.plotting import load_sweep_rows, make_figures
    from rhm_theory.sweeps.runner import run_sweep

    grid = "full" if args.full else "quick"
    command = "rhm-theory " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["figures"] else ""
    t0 = time.perf_counter()
    if args.rows is not None:
        rows = load_sweep_rows(args.rows)
        source = f"{args.rows}{_provenance(Path(args.rows))}"
        sweep_seconds = 0.0
    else:
        cells = sweep_cells(grid)
        with tempfile.TemporaryDirectory(prefix="rhm-figures-") as tmp:
            where = Path(args.sweep_dir) if args.sweep_dir else Path(tmp)
            if not (args.quiet or args.json):
                import os

                from proofs_checks.grids import estimated_cpu_seconds
                from rhm_theory.progress import format_seconds

                workers = args.workers or os.cpu_count() or 1
                cpu = estimated_cpu_seconds(cells)
                print(f"sweep: {len(cells)} cells ({grid} grid) -> {where / 'rows.jsonl'}: "
                      f"about {format_seconds(cpu / workers)} on {workers} workers by the "
                      "cost model (finished cells are skipped), then the figures",
                      file=sys.stderr)
                compile_notice("sweep", False)
            rows = [dict(r) for r in run_sweep(cells, out_dir=where,
                                               max_workers=args.workers,
                                               progress=show_progress(args))]
        sweep_seconds = time.perf_counter() - t0
        source = f"fresh sweep of {len(cells)} cells ({grid} grid)"
    records = make_figures(rows, args.out, grid=grid, command=command, source=source,
                           only=args.only, log=None if args.json else print)
    total = time.perf_counter() - t0
    if args.json:
        print_json({"out": str(args.out), "n_rows": len(rows), "sweep_seconds": sweep_seconds,
                    "seconds": total, "figures": [{"name": r.name, "path": str(r.path)}
                                                  for r in records]})
        return 0
    print(f"{len(records)} figures in {args.out} from {len(rows)} rows; "
          f"sweep {sweep_seconds:.0f} s, total {total:.0f} s")
    return 0
