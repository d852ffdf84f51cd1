"""``rhm-theory exact``: exact margins per level and context kind, and token correlations."""

from __future__ import annotations

import argparse

from rhm_theory.cli._output import format_table, print_json
from rhm_theory.validation import CONTEXT_KINDS

__all__ = ["register"]


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
        choices=[*CONTEXT_KINDS, "all"],
        default="all",
        help="context kind(s) to report (default: all)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rhm_theory.exact.report import exact_report
    from rhm_theory.model.grammar_io import load_grammar

    grammar = load_grammar(args.grammar)
    contexts = CONTEXT_KINDS if args.context == "all" else (args.context,)
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
