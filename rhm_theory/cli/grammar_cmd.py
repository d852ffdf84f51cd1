"""``rhm-theory grammar make|check|show``: create, validate and display grammar files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rhm_theory.cli._args import add_seed, check_output_file, non_negative_int
from rhm_theory.cli._output import format_table, print_json
from rhm_theory.model.grammar_io import GrammarFileError, load_grammar, save_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.spec import GRAMMAR_CONSTRUCTORS, GRAMMAR_FAMILIES, GrammarSpec
from rhm_theory.model.summary import grammar_summary

__all__ = ["cmd_check", "cmd_make", "cmd_show", "register"]


def _p_max_text(value: int) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:25]}...{text[-25:]} ({len(text)} digits)"


def _summary_table(summary: dict[str, Any]) -> str:
    rows = []
    for key, value in summary.items():
        if key == "P_max":
            value = _p_max_text(value)
        elif key in ("balanced", "uniform_weights", "ambiguous"):
            value = "yes" if value else "no"
        rows.append({"quantity": key, "value": value})
    return format_table(rows, ["quantity", "value"])


def cmd_make(args: argparse.Namespace) -> int:
    """Build a grammar of a registered family, optionally weighted/ambiguous, and save it."""
    check_output_file(args.out)
    params = RHMParams(v=args.v, m=args.m, s=args.s, L=args.L, n_c=args.n_c)
    spec = GrammarSpec(
        params,
        args.family,
        args.seed,
        rule_probs=args.rule_probs,
        root_probs=args.root_probs,
        ambiguity=args.ambiguity,
    )
    grammar = spec.build()
    save_grammar(grammar, args.out)
    summary = {"file": str(args.out), **grammar_summary(grammar)}
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {args.out}")
        print(_summary_table(summary))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Load and validate a grammar file; exit 2 with the error if it is invalid."""
    try:
        grammar = load_grammar(args.file)
    except (GrammarFileError, OSError) as exc:
        if args.json:
            print_json({"file": str(args.file), "valid": False, "error": str(exc)})
        else:
            print(f"rhm-theory grammar check: error: {exc}", file=sys.stderr)
        return 2
    summary = {"file": str(args.file), "valid": True, **grammar_summary(grammar)}
    if args.json:
        print_json(summary)
    else:
        print(_summary_table(summary))
    return 0


def _rule_text(rule: list[int]) -> str:
    return "(" + ",".join(str(x) for x in rule) + ")"


def cmd_show(args: argparse.Namespace) -> int:
    """Print the parameters and, per level, the rule table (truncated to ``--limit``)."""
    grammar = load_grammar(args.file)
    p = grammar.params
    if args.json:
        print_json(
            {
                "file": str(args.file),
                **grammar_summary(grammar),
                "rules": [table.tolist() for table in grammar.rules],
            }
        )
        return 0
    print(_summary_table({"file": str(args.file), **grammar_summary(grammar)}))
    limit = args.limit
    for level in range(p.L, 0, -1):
        table = grammar.rules_of(level).tolist()
        print(f"\nlevel {level} -> level {level - 1}  ({len(table)} symbols x {p.m} rules)")
        shown = table if limit <= 0 else table[:limit]
        rows = []
        for a, rules in enumerate(shown):
            rule_list = rules if limit <= 0 else rules[:limit]
            text = " ".join(_rule_text(r) for r in rule_list)
            if len(rule_list) < len(rules):
                text += f" ... (+{len(rules) - len(rule_list)})"
            rows.append({"symbol": a, "rules": text})
        print(format_table(rows, ["symbol", "rules"]))
        if len(shown) < len(table):
            print(f"... ({len(table) - len(shown)} more symbols; use --limit 0 for all)")
    return 0



def register(subparsers: Any) -> None:
    """Add the ``grammar`` command group to the top-level subparsers."""
    parser = subparsers.add_parser(
        "grammar", help="make, check or show grammar files (rhm-grammar JSON)"
    )
    sub = parser.add_subparsers(dest="grammar_command", metavar="ACTION")
    sub.required = True

    make = sub.add_parser("make", help="build a grammar of a registered family and save it")
    make.add_argument("--v", type=int, required=True, help="vocabulary size of every level")
    make.add_argument("--m", type=int, required=True, help="rules per symbol (synonyms)")
    make.add_argument("--s", type=int, required=True, help="branching factor")
    make.add_argument("--L", type=int, required=True, help="depth")
    make.add_argument("--n-c", dest="n_c", type=int, default=None, help="root symbols (v)")
    make.add_argument(
        "--family", choices=GRAMMAR_FAMILIES, default="random",
        help="grammar family (default random): "
        + "; ".join(f"{k}: {c.summary}" for k, c in GRAMMAR_CONSTRUCTORS.items()),
    )
    add_seed(make, "grammar")
    make.add_argument(
        "--rule-probs", default="uniform", metavar="SPEC",
        help="rule weights: uniform (default), zipf:A[@LEVELS] (w(r) ~ r^-(1+A), LEVELS "
        "like 1,3), lognormal:SIGMA[:SEED][@LEVELS] (seed: the grammar seed)",
    )
    make.add_argument(
        "--root-probs", default="uniform", metavar="SPEC",
        help="root prior: uniform (default), zipf:A or explicit:p0,p1,...",
    )
    make.add_argument(
        "--ambiguity", type=float, default=0.0, metavar="EPS",
        help="fraction of right-hand sides shared with another parent, 0 <= EPS <= 0.5 "
        "(default 0: unambiguous; families with shared right-hand sides only: random)",
    )  # fmt: skip
    make.add_argument("--out", required=True, help="output JSON file")
    make.add_argument("--json", action="store_true", help="print one JSON document")
    make.set_defaults(func=cmd_make)

    check = sub.add_parser("check", help="validate a grammar file (exit 2 if invalid)")
    check.add_argument("file", help="grammar JSON file")
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.set_defaults(func=cmd_check)

    show = sub.add_parser("show", help="print parameters and rule tables")
    show.add_argument("file", help="grammar JSON file")
    show.add_argument(
        "--limit", type=non_negative_int, default=16,
        help="symbols per level and rules per symbol shown (0 = all; default 16)",
    )  # fmt: skip
    show.add_argument("--json", action="store_true", help="print one JSON document (all rules)")
    show.set_defaults(func=cmd_show)
