"""``rhm-theory bp``: Bayes-optimal baselines of a grammar file from exact belief propagation."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rhm_theory.cli._args import add_seed, non_negative_int, positive_int, unit_interval
from rhm_theory.cli._compile import compile_notice
from rhm_theory.cli._output import format_table, print_json
from rhm_theory.cli._plan import add_force, announce, phase
from rhm_theory.cost import bp_seconds
from rhm_theory.progress import format_count
from rhm_theory.validation import check_int

__all__ = ["cmd_bp", "register"]


def cmd_bp(args: argparse.Namespace) -> int:
    """Score exact BP posteriors on fresh strings and print them per level."""
    from rhm_theory.model.grammar_io import load_grammar

    grammar = load_grammar(args.grammar)
    p = grammar.params
    kwargs: dict[str, Any] = {"mask_frac": args.mask_frac, "block_level": args.block_level,
                              "noise": args.noise}
    # Bad input is one line, before any notice or kernel (the notice would be a second line).
    check_int("block_level", args.block_level, minimum=0, maximum=p.L)
    seconds = bp_seconds(args.n, p.v, p.m, p.s, p.L)
    announce(args, f"bp: exact belief propagation on {format_count(args.n)} strings of "
             f"{p.s**p.L} tokens (v={p.v} m={p.m} s={p.s} L={p.L})", seconds, f"--n {args.n}")
    from rhm_theory.bounds.formulas import annealed_noise_threshold
    from rhm_theory.inference.baselines import bayes_baselines

    t0 = time.perf_counter()
    quiet = args.quiet or args.json
    compile_notice("bp", quiet)
    # Compile (cold cache) or load (warm) the kernels on a few strings first, so that the
    # strings/s below measures BP, not numba.
    with phase(args, "bp: compiling or loading kernels"):
        bayes_baselines(grammar, min(args.n, 8), args.seed, **kwargs)
    compile_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    with phase(args, "bp: scoring", seconds):
        res = bayes_baselines(grammar, args.n, args.seed, chunk_size=args.chunk_size, **kwargs)
    wall = time.perf_counter() - t0
    report: dict[str, Any] = {"grammar": str(args.grammar), **res.to_dict(),
                              "wall_seconds": wall, "compile_seconds": compile_seconds}
    report["annealed_noise_threshold"] = annealed_noise_threshold(p.v, p.m, p.s)
    if args.json:
        print_json(report)
        return 0
    what = []
    if args.mask_frac:
        what.append(f"mask_frac={args.mask_frac} (blocks of level {args.block_level})")
    if args.noise:
        what.append(f"noise={args.noise}")
    print(f"{p.to_dict()} n={args.n} seed={args.seed} {' '.join(what) or 'fully observed'}")
    rows = []
    for level, score in enumerate(res.levels):
        if score is not None:
            name = "tokens" if level == 0 else ("root" if level == p.L else str(level))
            rows.append({"level": name, "accuracy": score.accuracy,
                         "cross_entropy": score.cross_entropy, "n_scored": score.n_scored})
    if res.masked_tokens.n_scored:
        m = res.masked_tokens
        rows.append({"level": "masked tokens", "accuracy": m.accuracy,
                     "cross_entropy": m.cross_entropy, "n_scored": m.n_scored})
    print(format_table(rows, ["level", "accuracy", "cross_entropy", "n_scored"]))
    print(f"mean log-evidence {res.mean_log_evidence:.4f}; "
          f"{res.strings_per_second:.0f} strings/s in BP ({wall:.2f} s in all"
          f", plus {compile_seconds:.1f} s compiling or loading kernels)")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``bp`` command to the top-level subparsers."""
    parser = subparsers.add_parser(
        "bp", help="Bayes-optimal masked-token, root and latent baselines (exact BP)"
    )
    parser.add_argument("grammar", help="grammar JSON file (rhm-theory grammar make)")
    parser.add_argument(
        "--n", type=positive_int, default=10000, help="fresh strings (default 10000)"
    )
    add_seed(parser, "data")
    corrupt = parser.add_mutually_exclusive_group()
    corrupt.add_argument("--mask-frac", type=unit_interval, default=0.0,
                         help="fraction of blocks hidden (default 0)")
    corrupt.add_argument("--noise", type=unit_interval, default=0.0,
                         help="eps of the noisy channel, 0 <= eps < 1 (default 0)")
    parser.add_argument("--block-level", type=non_negative_int, default=0,
                        help="level of the hidden blocks: 0 tokens, 1 s-tuples (default 0)")
    parser.add_argument("--chunk-size", type=positive_int, default=None,
                        help="strings per chunk (default: about 32 MiB of posteriors)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_force(parser)
    parser.set_defaults(func=cmd_bp)
