"""``rhm-theory exact``: exact margins per level and context kind, and token correlations."""

from __future__ import annotations

import argparse
from typing import Any

from rhm_theory.cli._output import format_table, print_json

__all__ = ["exact_report", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``exact`` command."""
    p = sub.add_parser(
        "exact",
        help="exact separation margins and correlations of a grammar file",
        description="Exact population statistics (no sampling) of a grammar: per level "
        "1..L-1 and context kind (latent, token, label) the separation margins of the "
        "cousin-context vectors psi_a, and the token-token correlation by LCA level.",
    )
    p.add_argument("grammar", help="grammar JSON file (see `rhm-theory grammar make`)")
    p.add_argument(
        "--context",
        choices=["latent", "token", "label", "all"],
        default="all",
        help="context kind(s) to report (default: all)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_run)


def exact_report(grammar: Any, contexts: tuple[str, ...]) -> dict[str, Any]:
    """The JSON document of ``rhm-theory exact`` for a loaded grammar."""
    from rhm_theory.exact import context_laws, margin_summary, token_correlations

    p = grammar.params
    levels = []
    for context in contexts:
        for level in range(1, p.L):
            levels.append(margin_summary(context_laws(grammar, level, context)).to_dict())
    corr = token_correlations(grammar)
    return {
        "params": p.to_dict(),
        "f": p.f,
        "P_max": str(p.P_max),
        "log_P_max": p.log_P_max,
        "balanced": grammar.is_balanced(),
        "uniform_weights": grammar.is_uniform,
        "ambiguous": grammar.is_ambiguous,
        "levels": levels,
        "token_correlation": [
            {"lca_level": lv, "correlation": float(c)} for lv, c in enumerate(corr, start=1)
        ],
    }


def _run(args: argparse.Namespace) -> int:
    from rhm_theory.model.grammar_io import load_grammar

    grammar = load_grammar(args.grammar)
    contexts = ("latent", "token", "label") if args.context == "all" else (args.context,)
    report = exact_report(grammar, contexts)
    if args.json:
        print_json(report)
        return 0
    p = grammar.params
    print(f"RHM v={p.v} m={p.m} s={p.s} L={p.L} n_c={p.n_c}  f={p.f:.4g}  "
          f"log P_max={p.log_P_max:.4g}  balanced={report['balanced']}")
    print("\nSeparation margins ||psi_a - psi_a'|| (exact):")
    print(format_table(report["levels"]))
    print("\nToken-token correlation by LCA level (exact RMS):")
    print(format_table(report["token_correlation"]))
    return 0
