"""``rhm-theory verify``: run the claim checks and write a report; non-zero exit on failure."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rhm_theory.cli._args import check_output_dir, positive_int
from rhm_theory.cli._compile import compile_notice, kernels_cached
from rhm_theory.cli._output import print_json, show_progress

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verify`` command."""
    p = sub.add_parser(
        "verify",
        help="check the theory's predictions on real runs (exit 1 if a check FAILs)",
        description=(
            "Run every claim check of proofs_checks on a quick grid (default; estimated 436 CPU "
            "seconds by the cost model; 3 min 57 s measured on 2 idle cores, docs/results.md; the "
            "progress line shows where it is) or the full grid (--full; the neural checks run with "
            "--full on a GPU, elsewhere only with --neural), print per claim its verdict and what "
            "held axis by axis, with calibration and negative control, write a report folder "
            "(report.md, report.json, sweep/rows.* for the ILC cells, tasks/rows.* for the checks' "
            "other work; with --only: report-only-<checks>.md/.json beside them, the full run's "
            "report is kept). Exit status 1 if a check FAILs (a result, not a crash: see "
            "report.md); INCONCLUSIVE does not change it. Ctrl-C keeps the finished cells and "
            "tasks: rerun to resume."),
    )
    p.add_argument("--full", action="store_true",
                   help="the large grid (estimated 4,105 CPU seconds; 46 min 08 s measured "
                   "on 2 cores, 88 min 44 s on a 2-worker Dask LocalCluster, "
                   "docs/results.md)")
    p.add_argument("--out", default="rhm-report", help="report folder (default: rhm-report)")
    p.add_argument("--only", nargs="*", metavar="CHECK",
                   help="run only these checks (without a name: list the checks)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes (default: CPUs)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run sweep cells on a Dask scheduler at ADDRESS, or on a new "
                   "LocalCluster with 'local' (--workers processes, one thread each; "
                   "needs the dask extra)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the neural check trains (default: cuda if available)")
    p.add_argument("--neural", action="store_true",
                   help="also the two neural checks (PyTorch): by default they run only with "
                   "--full on a GPU (quick grid: 32 CPU trainings, about 12 min more on 2 "
                   "cores, too small to decide; full grid: GPU-sized)")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress on stderr (default: a live line on a terminal, "
                   "a line every 20 s in a log)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON doc")
    p.add_argument("--simulate", metavar="LAW", default=None,
                   help="with --only CHECK: the check's rule on grids simulated under LAW "
                   "(an expression in v, m, L, l, s, e.g. 'v*m**3*1.5**L'), noise fitted "
                   "to the check's rows in --out; prints the count of each verdict")
    p.add_argument("--n-sim", type=positive_int, default=200, metavar="N",
                   help="simulated grids for --simulate (default: 200)")
    p.set_defaults(func=_run, resumable=True)


def _simulate(args: argparse.Namespace) -> int:
    from proofs_checks.simulate import simulate_check

    if not args.only or len(args.only) != 1:
        raise ValueError("--simulate needs --only with exactly one CHECK")
    doc = simulate_check(args.only[0], args.simulate, n_sim=args.n_sim,
                         grid="full" if args.full else "quick", out_dir=args.out,
                         max_workers=args.workers, progress=show_progress(args))
    if args.json:
        print_json(doc)
    else:
        print(f"{doc['check']} under {doc['law']} ({doc['n_sim']} simulated grids): "
              + ", ".join(f"{k} {v}" for k, v in sorted(doc["verdicts"].items())))
    return 0


def _run(args: argparse.Namespace) -> int:
    from proofs_checks import GridName, all_checks
    from proofs_checks.verify import (
        closing_line,
        compact_table,
        exit_status,
        not_run,
        report_stem,
        run_verification,
        select_checks,
    )

    grid: GridName = "full" if args.full else "quick"
    if args.only is not None and not args.only:
        names = ", ".join(c.name for c in all_checks(args.device))
        raise ValueError(f"--only needs at least one CHECK; the checks: {names} "
                         "(rhm-theory verify --list says what each checks)")
    if args.list:
        checks = all_checks(args.device)
        skipped = not_run([c.name for c in checks])
        default = {c.name for c in select_checks(grid, neural=args.neural or None,
                                                 device=args.device)}
        if args.json:
            print_json({"checks": [{"name": c.name, "claim": c.claim, "source": c.source,
                                    "runs_by_default": c.name in default}
                                   for c in checks], "not_run": skipped})
        else:
            for c in checks:
                ask = "" if c.name in default else " [runs with --neural, or --full on a GPU]"
                print(f"{c.name}: {c.claim}{ask}")
            for line in skipped:
                print(line)
        return 0
    if args.simulate is not None:
        return _simulate(args)
    check_output_dir(args.out)
    if not (args.quiet or args.json) and not kernels_cached("sweep"):
        # Only when the selected checks have sweep cells (the exact checks compile nothing).
        selected = select_checks(grid, only=args.only, neural=args.neural or None,
                                 device=args.device)
        if any(c.cells(grid) for c in selected):
            compile_notice("sweep", False)
    executor = None
    client: Any = None
    cluster: Any = None  # the LocalCluster of --dask local, closed with its client
    if args.dask:
        import importlib

        # distributed is untyped; keep it Any rather than silence each call.
        distributed: Any = importlib.import_module("distributed")
        if args.dask == "local":
            # One single-threaded process per worker: numba kernels release nothing to
            # share, and a process per core is what the local executor runs.
            cluster = distributed.LocalCluster(
                n_workers=args.workers or os.cpu_count() or 1, threads_per_worker=1,
                processes=True, dashboard_address=None)
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(args.dask)
        executor = client.get_executor()
    try:
        results = run_verification(grid, out_dir=args.out,
                                   only=args.only, executor=executor,
                                   max_workers=args.workers, progress=show_progress(args),
                                   device=args.device, neural=args.neural or None,
                                   local_evaluation=True if args.dask == "local" else None)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    status = exit_status(results)
    report = f"{args.out}/{report_stem(args.only)}.md"
    skipped = not_run([r.name for r in results], args.only, grid)
    if args.json:
        print_json({"passed": all(r.passed for r in results), "exit_status": status,
                    "report": report, "not_run": skipped,
                    "checks": [r.to_dict() for r in results]})
    else:
        print(compact_table(results))
        for line in skipped:
            print(line)
        print(f"\nreport: {report}")
        print(closing_line(status))
    return status
