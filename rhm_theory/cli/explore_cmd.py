"""``rhm-theory explore``: the map of the theory's limits (weights, ambiguity, f, s)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from rhm_theory.cli._args import check_output_dir, non_negative_int, positive_int
from rhm_theory.cli._compile import compile_notice
from rhm_theory.cli._output import format_table, print_json, show_progress

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``explore`` command."""
    p = sub.add_parser(
        "explore",
        help="map where the own-latent advantage survives: weights, ambiguity, f, s",
        description="Fit ILC (own latents) and the token-context baseline on grammars with "
        "Zipf or log-normal rule weights, ambiguity, f toward 1 and s = 3, against depth L; "
        "measure P*, compare with the exact finite-size prediction, and check that the "
        "prediction tracks the measured threshold under Zipf weights. Rows are written as "
        "curves finish; rerunning the same command resumes.",
    )
    p.add_argument("--out", required=True, help="output directory (rows.jsonl, summary.json)")
    p.add_argument("--quick", action="store_true", help="one grammar seed (a few minutes)")
    p.add_argument(
        "--seeds", type=non_negative_int, nargs="+", default=None,
        help="grammar seeds (default: 0 with --quick, else 0 1 2)",
    )  # fmt: skip
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes (default: CPUs)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress line on stderr (default: shown when stderr is a terminal)")
    p.add_argument(
        "--figures", action="store_true",
        help="also write the explore_*.png figures into OUT/figures (needs the plot extra)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    p.set_defaults(func=_run, resumable=True)


def _fmt(x: Any) -> Any:
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.3g}"
    return x


def _run(args: argparse.Namespace) -> int:
    from proofs_checks.zipf_tracking import TRACKING_TOLERANCE, zipf_tracking_check
    from rhm_theory.io import write_json
    from rhm_theory.sweeps.explore import run_explore

    check_output_dir(args.out)
    compile_notice("sweep", args.quiet or args.json)
    report = run_explore(
        args.out, grid="quick" if args.quick else "full", seeds=args.seeds,
        max_workers=args.workers,
        progress=show_progress(args),
    )  # fmt: skip
    # The library measures the drifts; the claim's verdict is the claim check's (the common
    # gate of proofs_checks: control, calibration), written beside them into summary.json.
    check = zipf_tracking_check(report["summary"])
    report["zipf_tracking"] = {
        **report["zipf_tracking"], "verdict": check.verdict.value,
        "control_verdict": (check.negative_control.verdict.value
                            if check.negative_control is not None else None),
        "tolerance": TRACKING_TOLERANCE, "note": check.details.get("note"),
    }
    write_json(Path(args.out, "summary.json"), report, indent=1)
    if args.figures:
        from rhm_theory.plotting.explore import plot_explore

        report["figures"] = [str(x) for x in plot_explore(report, Path(args.out) / "figures")]
    # Like verify: a claim check that FAILs is a result and makes the exit status 1.
    status = 1 if report["zipf_tracking"]["verdict"] == "FAIL" else 0
    if args.json:
        print_json(report)
        return status
    cols = ["axis", "value", "context", "L", "P_star", "predicted", "ratio", "best_accuracy"]
    print(format_table([{k: _fmt(r[k]) for k in cols} for r in report["summary"]], cols))
    print("\nseparation of own latents vs tokens (EXPLORATORY):")
    # The map's own decision words (rhm_theory.sweeps.decisions), not a claim check's verdict.
    cols2 = ["axis", "value", "latent_growth", "token_growth", "gap", "decision"]
    print(format_table([{**{k: _fmt(r[k]) for k in cols2[:-1]}, "decision": r["decision"]}
                        for r in report["separation"]], cols2))
    t = report["zipf_tracking"]
    print(f"\nzipf tracking check: {t['verdict']} (max drift {t['max_drift']:.3g}, tolerance "
          f"{t['tolerance']:g}); negative control (weights ignored): {t['control_verdict']} "
          f"(drift {t['control_drift']:.3g})")  # fmt: skip
    if t.get("note"):
        print(f"  ({t['note']})")
    for path in report.get("figures", []):
        print(f"wrote {path}")
    if status:
        print(f"\nexit status 1: the zipf tracking claim FAILed, which is a result (see "
              f"{args.out}/summary.json); 0 when no claim check FAILs")
    return status
