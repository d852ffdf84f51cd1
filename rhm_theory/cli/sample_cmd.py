"""``rhm-theory sample``: draw strings (and latents) of a grammar file into an ``.npz``."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rhm_theory.cli._args import add_seed, check_output_file, positive_int
from rhm_theory.cli._compile import compile_notice
from rhm_theory.cli._output import format_table, print_json
from rhm_theory.cli._plan import add_force, announce, phase
from rhm_theory.cost import sample_seconds
from rhm_theory.progress import format_bytes, format_count

__all__ = ["cmd_sample", "register"]


def cmd_sample(args: argparse.Namespace) -> int:
    """Load a grammar file, sample, write the ``.npz`` and report what was written."""
    from rhm_theory.model.grammar_io import load_grammar

    check_output_file(args.out)
    grammar = load_grammar(args.grammar)
    p = grammar.params
    tokens = p.s**p.L
    per_string = tokens * p.dtype.itemsize * (2 if args.latents else 1)
    seconds = sample_seconds(args.n, p.s, p.L) * (2 if args.latents else 1)
    announce(args, f"sample: {format_count(args.n)} strings of {tokens} tokens "
             f"(v={p.v} m={p.m} s={p.s} L={p.L}) into {args.out}, about "
             f"{format_bytes(args.n * per_string)}", seconds, f"--n {args.n}",
             nbytes=args.n * per_string)
    from rhm_theory.model.sample_io import write_sample_npz

    compile_notice("sample", args.quiet or args.json)
    t0 = time.perf_counter()
    with phase(args, "sample: drawing and writing", seconds):
        shapes = write_sample_npz(grammar, args.out, args.n, args.seed, latents=args.latents,
                                  replace=not args.no_replace, chunk_size=args.chunk_size)
    elapsed = time.perf_counter() - t0
    report = {
        "grammar": str(args.grammar),
        "out": str(args.out),
        "P": args.n,
        "seed": args.seed,
        "replace": not args.no_replace,
        "dtype": grammar.params.dtype.name,
        "arrays": {k: list(v) for k, v in shapes.items()},
        "seconds": elapsed,
    }
    if args.json:
        print_json(report)
    else:
        print(f"wrote {args.out} ({args.n} strings, seed {args.seed}, {elapsed:.2f} s)")
        rows = [{"array": k, "shape": "x".join(map(str, v))} for k, v in shapes.items()]
        print(format_table(rows, ["array", "shape"]))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``sample`` command to the top-level subparsers."""
    parser = subparsers.add_parser("sample", help="sample strings of a grammar file into .npz")
    parser.add_argument("grammar", help="grammar JSON file (rhm-theory grammar make)")
    parser.add_argument("--n", type=positive_int, required=True, help="number of strings P (>= 1)")
    add_seed(parser, "data")
    parser.add_argument("--out", required=True, help="output .npz file")
    parser.add_argument("--latents", action="store_true", help="also store level_1..level_L")
    parser.add_argument(
        "--no-replace", action="store_true", help="distinct strings (requires P <= P_max)"
    )
    parser.add_argument(
        "--chunk-size", type=positive_int, default=65536, help="strings per chunk (default 65536)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_force(parser)
    parser.set_defaults(func=cmd_sample)
