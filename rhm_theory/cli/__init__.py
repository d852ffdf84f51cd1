"""Command-line interface: ``rhm-theory <command>`` (also ``python -m rhm_theory``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: One module per command group; each defines ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "rhm_theory.cli.grammar_cmd",
    "rhm_theory.cli.sample_cmd",
    "rhm_theory.cli.exact_cmd",
    "rhm_theory.cli.bounds_cmd",
    "rhm_theory.cli.ilc_cmd",
    "rhm_theory.cli.verify_cmd",
    "rhm_theory.cli.figures_cmd",
    "rhm_theory.cli.neural_cmd",
    "rhm_theory.cli.bp_cmd",
    "rhm_theory.cli.explore_cmd",
    "rhm_theory.cli.threshold_cmd",
    "rhm_theory.cli.measure_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available command registered."""
    parser = argparse.ArgumentParser(
        prog="rhm-theory",
        description=(
            "Random Hierarchy Model theory checks: grammars, exact statistics, bounds, "
            "Iterative Latent Clustering and the sample-complexity verification."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not built (yet): skip it, never hide real errors
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rhm-theory`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"rhm-theory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return int(status or 0)
