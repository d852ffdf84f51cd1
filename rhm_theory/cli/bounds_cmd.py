"""``rhm-theory bounds``: analytic sample complexities, plus exact predictions for a grammar."""

from __future__ import annotations

import argparse
import math
from typing import Any

from rhm_theory.cli._output import format_table, print_json

__all__ = ["bounds_report", "grammar_predictions", "register"]

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


def grammar_predictions(grammar: Any) -> dict[str, Any]:
    """Exact predictions and margins of every level ``1..L-1`` and context kind.

    Parameters
    ----------
    grammar : Grammar

    Returns
    -------
    dict
        ``{"levels": [row, ...], "tree_threshold": {context: P*}}``; each row holds
        ``level, context, predicted_threshold, margin_min, margin_mean, margin_max,
        n_symbols, error_coefficient, rarest_symbol``. ``tree_threshold`` is the max over
        levels (``inf`` if a margin is 0; absent when ``L = 1``).
    """
    from rhm_theory.bounds.predictions import threshold_prediction_from_laws
    from rhm_theory.exact import CONTEXT_KINDS, context_laws, margin_summary

    p = grammar.params
    rows: list[dict[str, Any]] = []
    tree: dict[str, float] = {}
    for kind in CONTEXT_KINDS:
        for level in range(1, p.L):
            laws = context_laws(grammar, level, kind)
            pred = threshold_prediction_from_laws(laws, p.m)
            summ = margin_summary(laws)
            rows.append({
                "level": level,
                "context": kind,
                "predicted_threshold": pred.threshold,
                "margin_min": summ.margin_min,
                "margin_mean": summ.margin_mean,
                "margin_max": summ.margin_max,
                "n_symbols": summ.n_symbols,
                "error_coefficient": pred.error_coefficient,
                "rarest_symbol": pred.rarest_symbol,
            })
            tree[kind] = max(tree.get(kind, 0.0), pred.threshold)
    return {"levels": rows, "tree_threshold": tree}


def bounds_report(
    v: int,
    m: int,
    s: int,
    L: int,
    n_c: int | None = None,
    delta: float = 0.1,
    C: float = 1.0,
    grammar: Any = None,
) -> dict[str, Any]:
    """The JSON document of ``rhm-theory bounds``.

    Parameters
    ----------
    v, m, s, L, n_c : int
        RHM parameters (``n_c`` defaults to ``v``).
    delta, C : float
        Failure probability and constant of the theorem bound.
    grammar : Grammar, optional
        If given (its parameters must be ``v, m, s, L, n_c``), adds ``"exact"``: the output of
        :func:`grammar_predictions`.

    Returns
    -------
    dict
        ``{"params", "delta", "C", "formulas"[, "exact"]}``.

    Examples
    --------
    >>> doc = bounds_report(8, 2, 2, 3)
    >>> doc["formulas"]["latent_sample_complexity"], "exact" in doc
    (64.0, False)
    """
    from rhm_theory.bounds import sample_complexities
    from rhm_theory.model.params import RHMParams

    params = RHMParams(v=v, m=m, s=s, L=L, n_c=n_c)  # validates
    doc: dict[str, Any] = {
        "params": params.to_dict(),
        "delta": delta,
        "C": C,
        "formulas": sample_complexities(v, m, s, L, n_c=params.n_c, delta=delta, C=C),
    }
    if grammar is not None:
        if grammar.params != params:
            raise ValueError(
                f"grammar parameters {grammar.params.to_dict()} differ from {params.to_dict()}"
            )
        doc["exact"] = grammar_predictions(grammar)
    return doc


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
    v, m, s, L, n_c = _resolve_params(args, grammar)
    report = bounds_report(v, m, s, L, n_c, args.delta, args.C, grammar)
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
