"""``rhm-theory bounds``: analytic sample complexities, plus exact predictions for a grammar."""

from __future__ import annotations

import argparse
import math
from typing import Any

from rhm_theory.cli._output import format_table, print_json

__all__ = ["register"]

_PARAM_FLAGS = ("v", "m", "s", "L", "n_c")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bounds`` command."""
    p = sub.add_parser(
        "bounds",
        help="analytic sample complexities (and exact predictions for a grammar file)",
        description="Every closed-form formula of rhm_theory.bounds (sample complexities, "
        "theorem bound, correlation scalings, annealed map) for the parameters. With "
        "--grammar, the parameters come from the file and the exact finite-size threshold "
        "P*_l = max_a c_a / (Delta_l/2)^2 and the exact margins are added per level and "
        "context kind (latent, token, label).",
    )
    p.add_argument("--v", type=int, help="vocabulary size (required without --grammar)")
    p.add_argument("--m", type=int, help="rules per symbol (required without --grammar)")
    p.add_argument("--s", type=int, help="branching factor (default 2 without --grammar)")
    p.add_argument("--L", type=int, help="depth (required without --grammar)")
    p.add_argument("--n-c", dest="n_c", type=int, help="number of root symbols (default v)")
    p.add_argument("--delta", type=float, default=0.1,
                   help="failure probability of the theorem bound (default 0.1)")
    p.add_argument("--C", type=float, default=1.0,
                   help="constant of the theorem bound (default 1.0)")
    p.add_argument("--grammar", metavar="FILE",
                   help="grammar JSON file: take the parameters from it and add exact "
                   "predictions (--v etc. are then optional and must match the file)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_run)


def _resolve_params(
    args: argparse.Namespace, grammar: Any
) -> tuple[int, int, int, int, int | None]:
    """``(v, m, s, L, n_c)`` from the flags, or from the grammar file (flags must agree)."""
    given: dict[str, int | None] = {k: getattr(args, k) for k in _PARAM_FLAGS}
    if grammar is not None:
        fp = grammar.params
        from_file: dict[str, int] = fp.to_dict()
        clash = {k: (x, from_file[k]) for k, x in given.items()
                 if x is not None and x != from_file[k]}
        if clash:
            detail = ", ".join(f"--{k.replace('_', '-')}={a} (file: {b})"
                               for k, (a, b) in clash.items())
            raise ValueError(f"parameters contradict the grammar file: {detail}")
        return fp.v, fp.m, fp.s, fp.L, fp.n_c
    v, m, s, L = given["v"], given["m"], given["s"], given["L"]
    if v is None or m is None or L is None:
        missing = [f"--{k}" for k in ("v", "m", "L") if given[k] is None]
        raise ValueError(f"{', '.join(missing)} required (or give --grammar FILE)")
    return v, m, 2 if s is None else s, L, given["n_c"]


def _run(args: argparse.Namespace) -> int:
    grammar = None
    if args.grammar is not None:
        from rhm_theory.model.grammar_io import load_grammar

        grammar = load_grammar(args.grammar)
    from rhm_theory.bounds.report import bounds_report
    from rhm_theory.model.params import RHMParams

    v, m, s, L, n_c = _resolve_params(args, grammar)
    report = bounds_report(RHMParams(v, m, s, L, n_c), delta=args.delta, C=args.C,
                           grammar=grammar)
    if args.json:
        print_json(report)
        return 0
    p = report["params"]
    print(f"RHM v={p['v']} m={p['m']} s={p['s']} L={p['L']} n_c={p['n_c']}  "
          f"delta={args.delta:g}  C={args.C:g}")
    print("\nAnalytic formulas (up to constants and logs unless stated):")
    print(format_table([{"formula": k, "value": val} for k, val in report["formulas"].items()]))
    if grammar is not None:
        exact = report["exact"]
        print("\nExact finite-size predictions P*_l = max_a c_a / (Delta_l/2)^2 per level:")
        cols = ["level", "context", "predicted_threshold", "margin_min", "margin_mean",
                "n_symbols", "error_coefficient", "rarest_symbol"]
        print(format_table(exact["levels"], cols))
        if exact["tree_threshold"]:
            print("\nTree threshold (all non-root levels): " + "  ".join(
                f"{kind}={val:.4g}" if math.isfinite(val) else f"{kind}=inf"
                for kind, val in exact["tree_threshold"].items()))
    return 0
