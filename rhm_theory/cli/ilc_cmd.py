"""``rhm-theory ilc``: fit Iterative Latent Clustering (or a baseline) and score every level."""

from __future__ import annotations

import argparse
import time

from rhm_theory.cli._args import add_seed, positive_int
from rhm_theory.cli._compile import compile_notice
from rhm_theory.cli._output import format_table, print_json
from rhm_theory.cli._plan import add_force, announce, phase
from rhm_theory.constants import DEFAULT_MERGE_FACTOR
from rhm_theory.cost import ilc_seconds
from rhm_theory.progress import format_count
from rhm_theory.validation import CONTEXT_KINDS

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``ilc`` command."""
    p = sub.add_parser(
        "ilc",
        help="run ILC (or the token / supervised baseline) on sampled data and score it",
        description="Sample P strings of the grammar (streamed in chunks), fit ILC with the "
        "chosen context and score every non-root level on fresh strings: accuracy under "
        "the best relabelling, exact recovery of the tuple->parent partition, and the "
        "synonym-clustering adjusted Rand index.",
    )
    p.add_argument("grammar", help="grammar JSON file")
    p.add_argument("--P", type=positive_int, required=True, help="number of training strings")
    add_seed(p, "data")
    p.add_argument("--context", choices=CONTEXT_KINDS, default="latent",
                   help="latent = ILC; token = token-level SSL; label = supervised")
    p.add_argument("--clustering", choices=["average", "complete", "kmeans++"],
                   default="average", help="clustering routine (default: average linkage)")
    p.add_argument("--merge-factor", type=float, default=DEFAULT_MERGE_FACTOR,
                   help="G-test merge step factor (default 4, fixed; 0 = merge off)")
    p.add_argument("--no-pool-positions", action="store_true",
                   help="keep positions separate: one tuple map per parent (latent only)")
    p.add_argument("--n-test", type=positive_int, default=2000, help="fresh test strings")
    p.add_argument("--chunk-size", type=positive_int, default=65536, help="strings per chunk")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_force(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rhm_theory.model.grammar_io import load_grammar

    if args.P < 1:
        raise ValueError(f"--P must satisfy P >= 1, got {args.P}")
    grammar = load_grammar(args.grammar)
    params = grammar.params
    if params.L < 2:
        raise ValueError("the grammar must have L >= 2 (ILC recovers levels 1..L-1)")
    pooled = not args.no_pool_positions
    seconds = (ilc_seconds(args.P, params.s, params.L, context=args.context,
                           pool_positions=pooled, v=params.v, m=params.m)
               + ilc_seconds(args.n_test, params.s, params.L, pool_positions=pooled))
    announce(args, f"ilc: fit {args.context} on {format_count(args.P)} strings of "
             f"{params.s**params.L} tokens (v={params.v} m={params.m} s={params.s} "
             f"L={params.L}), score {args.n_test} fresh strings", seconds, f"--P {args.P}")
    # The kernels load after the plan: a refusal or the plan line comes first, at once.
    from rhm_theory.algorithms import IterativeLatentClustering, score_levels
    from rhm_theory.model.sampling import iter_samples

    compile_notice("sweep", args.quiet or args.json)
    t0 = time.perf_counter()
    model = IterativeLatentClustering.from_params(
        params, context=args.context, clustering=args.clustering,
        merge_factor=args.merge_factor, pool_positions=pooled)
    labels = args.context == "label"
    with phase(args, "ilc: fitting and scoring", seconds):
        model.fit(lambda: iter_samples(grammar, args.P, args.seed,
                                       chunk_size=args.chunk_size, latents=labels))
        fit_seconds = time.perf_counter() - t0
        # Fresh strings: a seed no training seed reaches (training uses args.seed only).
        scores = score_levels(model, grammar, n_test=args.n_test, seed=args.seed + 2**40)
    doc = {
        "params": params.to_dict(), "P": args.P, "seed": args.seed, "context": args.context,
        "clustering": args.clustering, "merge_factor": args.merge_factor,
        "pool_positions": pooled, "fit_seconds": fit_seconds,
        "levels": [s.to_dict() for s in scores],
    }
    if args.json:
        print_json(doc)
    else:
        print(f"ILC context={args.context} P={args.P} fitted in {fit_seconds:.2f} s")
        print(format_table(doc["levels"]))
    return 0
