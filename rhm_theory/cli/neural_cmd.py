"""``rhm-theory data2vec`` and ``rhm-theory slc``: train and probe the neural validators.

PyTorch is imported only when one of these commands runs, so the CLI works without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rhm_theory.cli._output import format_table, print_json

__all__ = ["register"]

_COLUMNS = ("method", "regime", "m", "L", "P", "level", "layer", "metric", "value")


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("grammar and data")
    g.add_argument("--v", type=int, default=8, help="vocabulary size (default 8)")
    g.add_argument("--m", type=int, default=2, help="rules per symbol (default 2)")
    g.add_argument("--s", type=int, default=2, help="branching factor (default 2)")
    g.add_argument("--L", type=int, default=3, help="depth (default 3)")
    g.add_argument("--n-c", type=int, default=None, help="root symbols (default v)")
    g.add_argument("--grammar-seed", type=int, default=0)
    g.add_argument("--balanced", action="store_true", help="exactly balanced grammar")
    g.add_argument(
        "--P", type=int, default=None,
        help="offline regime: fixed training set of P strings (default: online, fresh strings)",
    )
    g.add_argument("--data-seed", type=int, default=1)
    t = p.add_argument_group("training")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--warmup-steps", type=int, default=100)
    t.add_argument("--seed", type=int, default=0, help="model and mask seed")
    t.add_argument("--tau0", type=float, default=None,
                   help="initial EMA decay (default: data2vec 0.999, slc 0.99)")
    t.add_argument("--tau-end", type=float, default=None,
                   help="final EMA decay (default: data2vec 0.9999, slc 0.999)")
    t.add_argument("--tau-steps", type=int, default=None,
                   help="steps of the linear EMA ramp (default 1000)")
    e = p.add_argument_group("evaluation")
    e.add_argument("--probe-steps", type=int, default=2000, help="linear-probe steps")
    e.add_argument("--probe-train", type=int, default=1024, help="probe training strings")
    e.add_argument("--probe-test", type=int, default=1024, help="probe test strings")
    e.add_argument("--pool", choices=("mean", "flatten"), default="mean",
                   help="how probes combine positions (default mean)")
    e.add_argument("--eval-at", type=int, nargs="*", default=[],
                   help="also evaluate after these step counts (curves vs samples seen)")
    r = p.add_argument_group("run")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    r.add_argument("--deterministic", action="store_true",
                   help="torch.use_deterministic_algorithms(True) and full seeding")
    r.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (1 is fastest for tiny models on a busy CPU)")
    r.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="save here and resume from here if the file exists (with --scaling: "
                   "a folder holding one checkpoint per run)")
    r.add_argument("--checkpoint-every", type=int, default=500, metavar="N")
    r.add_argument("--json", action="store_true", help="one JSON document on stdout")
    r.add_argument("--scaling", action="store_true",
                   help="run the scaling experiment (offline sweep over P, its own grid of "
                   "models and settings) instead of one model")
    r.add_argument("--full", action="store_true",
                   help="with --scaling: the bigger grid meant for a CUDA device")
    r.add_argument("--regime", choices=("offline", "online"), default="offline",
                   help="with --scaling: sweep the training-set size P (offline) or the "
                   "strings seen by one online run")


def register(subparsers: Any) -> None:
    """Add the ``data2vec`` and ``slc`` commands."""
    d = subparsers.add_parser(
        "data2vec",
        help="train data2vec on RHM strings and probe it (needs PyTorch)",
        description="Masked transformer student regressing an EMA teacher's top-K layers; "
        "reports root and latent probes, synonymic sensitivity.",
    )
    _add_common(d)
    a = d.add_argument_group("data2vec model")
    a.add_argument("--depth", type=int, default=2)
    a.add_argument("--width", type=int, default=64)
    a.add_argument("--heads", type=int, default=4)
    a.add_argument("--mlp-ratio", type=int, default=4)
    a.add_argument("--pos-emb", choices=("learned", "sinusoidal", "none"), default="learned")
    a.add_argument("--top-k", type=int, default=2)
    a.add_argument("--target-norm", choices=("instance", "layer", "none"), default="instance")
    a.add_argument("--mask-ratio", type=float, default=0.5)
    a.add_argument("--mask-span", type=int, default=1)
    a.add_argument("--loss-beta", type=float, default=0.0)
    d.set_defaults(func=_run_data2vec)

    s = subparsers.add_parser(
        "slc",
        help="train the stacked latent-clustering network and probe it (needs PyTorch)",
        description="L-1 predictor + clusterer modules with EMA-teacher codes; reports code "
        "recovery, probes and synonymic sensitivity.",
    )
    _add_common(s)
    b = s.add_argument_group("SLC model")
    b.add_argument("--d-h", type=int, default=None, help="codebook size (default v)")
    b.add_argument("--hidden", type=int, default=128)
    b.add_argument("--stop-gradient", action="store_true", help="local learning")
    b.add_argument("--detach-clusterer-input", action="store_true")
    b.add_argument("--anti-collapse", choices=("entropy", "sinkhorn", "none"), default="entropy")
    b.add_argument("--usage-weight", type=float, default=1.0)
    b.add_argument("--sharpness-weight", type=float, default=0.1)
    b.add_argument("--recon-weight", type=float, default=1.0)
    b.add_argument("--teacher-temperature", type=float, default=0.5)
    s.set_defaults(func=_run_slc)


def _run_data2vec(args: argparse.Namespace) -> int:
    return _run("data2vec", args)


def _run_slc(args: argparse.Namespace) -> int:
    return _run("slc", args)


def _model_config(method: str, args: argparse.Namespace) -> Any:
    given = {"tau0": args.tau0, "tau_end": args.tau_end, "tau_steps": args.tau_steps}
    ema = {k: v for k, v in given.items() if v is not None}
    if method == "data2vec":
        from rhm_theory.neural.data2vec import Data2VecConfig

        return Data2VecConfig(
            depth=args.depth, width=args.width, heads=args.heads, mlp_ratio=args.mlp_ratio,
            pos_emb=args.pos_emb, top_k=args.top_k, target_norm=args.target_norm,
            mask_ratio=args.mask_ratio, mask_span=args.mask_span, loss_beta=args.loss_beta,
            **ema,
        )
    from rhm_theory.neural.slc import SLCConfig

    return SLCConfig(
        d_h=args.d_h, hidden=args.hidden, stop_gradient=args.stop_gradient,
        detach_clusterer_input=args.detach_clusterer_input, anti_collapse=args.anti_collapse,
        usage_weight=args.usage_weight, sharpness_weight=args.sharpness_weight,
        recon_weight=args.recon_weight, teacher_temperature=args.teacher_temperature, **ema,
    )


def _run(method: str, args: argparse.Namespace) -> int:
    from rhm_theory.neural import require_torch

    try:
        torch = require_torch()
    except ImportError as exc:
        print(f"rhm-theory {method}: error: {exc}", file=sys.stderr)
        return 2
    from rhm_theory.model.params import RHMParams
    from rhm_theory.neural.experiments import EvalConfig, run_neural, scaling_experiment
    from rhm_theory.neural.training import TrainConfig, resolve_device

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    t0 = time.perf_counter()
    if args.scaling:
        rows = scaling_experiment(
            method, full=args.full, regime=args.regime, device=device,
            deterministic=args.deterministic, checkpoint_dir=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    else:
        params = RHMParams(args.v, args.m, args.s, args.L, args.n_c)
        res = run_neural(
            method,
            params,
            P=args.P,
            train_config=TrainConfig(
                steps=args.steps, lr=args.lr, weight_decay=args.weight_decay,
                warmup_steps=args.warmup_steps, seed=args.seed,
            ),
            model_config=_model_config(method, args),
            batch_size=args.batch_size,
            grammar_seed=args.grammar_seed,
            data_seed=args.data_seed,
            balanced=args.balanced,
            device=device,
            eval_config=EvalConfig(
                n_probe_train=args.probe_train, n_probe_test=args.probe_test,
                probe_steps=args.probe_steps, pool=args.pool,
            ),
            eval_at=args.eval_at,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            deterministic=args.deterministic,
        )
        rows = res.rows
    seconds = time.perf_counter() - t0
    if args.json:
        print_json(
            {"command": method, "device": str(device), "seconds": seconds, "argv": sys.argv[1:],
             "rows": rows}
        )
    else:
        print(format_table(rows, [c for c in _COLUMNS if rows and c in rows[0]] or None))
        print(f"\n{len(rows)} rows on {device} in {seconds:.1f} s", file=sys.stderr)
    return 0
