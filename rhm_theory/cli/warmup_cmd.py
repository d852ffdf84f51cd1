"""``rhm-theory warmup``: compile the numba kernels of verify's sweep and of bp ahead of use."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rhm_theory.cli._output import print_json
from rhm_theory.validation import CONTEXT_KINDS

__all__ = ["register", "warm_bp", "warm_sweep"]


def warm_sweep() -> None:
    """Run one tiny cell of each context kind: compiles the sampling and counting kernels."""
    from rhm_theory.sweeps.runner import SweepCell, run_cell

    for context in CONTEXT_KINDS:
        run_cell(SweepCell(context, 4, 2, 2, 3, 64, n_test=16))


def warm_bp() -> None:
    """Score BP on a few strings, fully observed, masked and noisy: compiles the BP kernels."""
    from rhm_theory.inference.baselines import bayes_baselines
    from rhm_theory.model.grammar import random_grammar
    from rhm_theory.model.params import RHMParams

    grammar = random_grammar(RHMParams(4, 2, 2, 3), seed=0)
    bayes_baselines(grammar, 8, 0)
    bayes_baselines(grammar, 8, 0, mask_frac=0.25)
    bayes_baselines(grammar, 8, 0, noise=0.1)


def _run(args: argparse.Namespace) -> int:
    from rhm_theory.cli._compile import kernels_cached

    report: dict[str, Any] = {}
    for path, warm in (("sweep", warm_sweep), ("bp", warm_bp)):
        cached = kernels_cached(path)
        if not args.quiet and not args.json:
            print(f"{path}: {'loading cached kernels' if cached else 'compiling kernels'}...",
                  file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        warm()
        report[path] = {"was_cached": cached, "seconds": time.perf_counter() - t0}
    if args.json:
        print_json(report)
    else:
        for path, r in report.items():
            state = "already cached" if r["was_cached"] else "compiled"
            print(f"{path} kernels {state} ({r['seconds']:.1f} s)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``warmup`` command."""
    p = sub.add_parser(
        "warmup",
        help="compile the numba kernels once (first run only; later runs load them)",
        description="Compile (or load from numba's cache) the kernels of the sweep behind "
        "`rhm-theory verify` and of `rhm-theory bp`, on tiny inputs. The first command "
        "after installing otherwise spends this time silently; the cache lives in "
        "NUMBA_CACHE_DIR (or __pycache__ beside the sources).",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_run)
