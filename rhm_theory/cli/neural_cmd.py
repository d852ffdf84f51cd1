"""``rhm-theory data2vec|mlm|slc`` (train and probe one model) and ``rhm-theory neural``.

``neural plan`` prints a plan of runs with its estimated device-hours (refusing one over
budget), ``neural run`` executes a plan resumably, ``neural bench`` measures per-step times.
PyTorch is imported only when one of these commands runs, so the CLI works without it.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from typing import Any

from rhm_theory.cli._args import non_negative_int, positive_int
from rhm_theory.cli._output import format_table, print_json
from rhm_theory.constants import SCALING_GRID_NAMES
from rhm_theory.model.spec import GRAMMAR_FAMILIES
from rhm_theory.neural.cpu_grid import CPU_GRID_ARMS

__all__ = ["register"]

_COLUMNS = ("method", "regime", "m", "L", "P", "level", "layer", "metric", "value", "bayes")
#: Row fields holding the Bayes-optimal value of the row's metric (shown as ``bayes``).
_BAYES_FIELDS = ("bayes_root_accuracy", "bayes_masked_accuracy")


def _with_bayes(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its Bayes-optimal reference, if it has one, in a ``bayes`` column."""
    refs = [row[k] for k in _BAYES_FIELDS if k in row]
    return {**row, "bayes": refs[0]} if refs else row


def _scaling_grid_arg(name: str) -> str:
    """``--grid``'s value; the names before issue 18 still work, with a note on stderr."""
    new = {"decisive": "full", "cpu": "small"}.get(name)
    if new is None:
        return name
    print(f"rhm-theory neural plan: --grid {name} is deprecated, use --grid {new}",
          file=sys.stderr)
    return new


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("grammar and data")
    g.add_argument("--v", type=positive_int, default=8, help="vocabulary size (default 8)")
    g.add_argument("--m", type=positive_int, default=2, help="rules per symbol (default 2)")
    g.add_argument("--s", type=positive_int, default=2, help="branching factor (default 2)")
    g.add_argument("--L", type=positive_int, default=3, help="depth (default 3)")
    g.add_argument("--n-c", type=positive_int, default=None, help="root symbols (default v)")
    g.add_argument("--grammar-seed", type=non_negative_int, default=0)
    g.add_argument("--family", choices=GRAMMAR_FAMILIES, default="random",
                   help="grammar family (default random; --scaling: every run of the grid)")
    g.add_argument(
        "--P", type=positive_int, default=None,
        help="offline regime: fixed training set of P strings (default: online, fresh strings)",
    )
    g.add_argument("--data-seed", type=non_negative_int, default=1)
    t = p.add_argument_group("training")
    t.add_argument("--steps", type=positive_int, default=2000)
    t.add_argument("--batch-size", type=positive_int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--warmup-steps", type=non_negative_int, default=100)
    t.add_argument("--lr-schedule", choices=("cosine", "linear", "constant"), default="cosine",
                   help="learning-rate decay after the warm-up (default cosine)")
    t.add_argument("--seed", type=non_negative_int, default=0, help="model and mask seed")
    t.add_argument("--log-every", type=positive_int, default=50,
                   help="steps between host synchronisations (loss read-back)")
    t.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    t.add_argument("--compile", action="store_true",
                   help="torch.compile the loss (UNTESTED on a GPU: off by default)")
    t.add_argument("--grad-clip", type=float, default=1.0,
                   help="maximum gradient norm, also under bf16 (0: no clipping)")
    t.add_argument("--tau0", type=float, default=None,
                   help="initial EMA decay (default: data2vec 0.999, slc 0.99)")
    t.add_argument("--tau-end", type=float, default=None,
                   help="final EMA decay (default: data2vec 0.9999, slc 0.999)")
    t.add_argument("--tau-steps", type=positive_int, default=None,
                   help="steps of the linear EMA ramp, absolute (default: data2vec 300000, "
                   "slc 1000)")
    e = p.add_argument_group("evaluation")
    e.add_argument("--probe-steps", type=positive_int, default=2000, help="linear-probe steps")
    e.add_argument("--probe-train", type=positive_int, default=1024, help="probe training strings")
    e.add_argument("--probe-test", type=positive_int, default=1024, help="probe test strings")
    e.add_argument("--pool", choices=("mean", "flatten"), default="mean",
                   help="how probes combine positions (default mean)")
    e.add_argument("--eval-at", type=int, nargs="*", default=[],
                   help="also evaluate after these step counts (curves vs samples seen)")
    r = p.add_argument_group("run")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    r.add_argument("--deterministic", action="store_true",
                   help="torch.use_deterministic_algorithms(True) and full seeding")
    r.add_argument("--threads", type=positive_int, default=None,
                   help="torch CPU threads (1 is fastest for tiny models on a busy CPU)")
    r.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="save here and resume from here if the file exists (with --scaling: "
                   "a folder holding one checkpoint per run)")
    r.add_argument("--checkpoint-every", type=positive_int, default=500, metavar="N")
    r.add_argument("--json", action="store_true", help="one JSON document on stdout")
    r.add_argument("--scaling", action="store_true",
                   help="run the scaling experiment (offline sweep over P, its own grid of "
                   "models and settings) instead of one model")
    r.add_argument("--full", action="store_true",
                   help="with --scaling: the bigger grid meant for a CUDA device")
    r.add_argument("--regime", choices=("offline", "online"), default="offline",
                   help="with --scaling: sweep the training-set size P (offline) or the "
                   "strings seen by one online run")


#: ``(command, help, description)`` of the two transformer commands (same options).
_TRANSFORMER_COMMANDS = (
    ("data2vec", "train data2vec on RHM strings and probe it (needs PyTorch)",
     "Masked transformer student regressing an EMA teacher's top-K FFN outputs; reports "
     "root and latent probes, synonymic sensitivity, and the Bayes-optimal root accuracy "
     "(column bayes)."),
    ("mlm", "train the masked-token baseline (same transformer) and probe it (needs PyTorch)",
     "Cross-entropy on masked tokens with data2vec's transformer: the token-level baseline "
     "(predicted threshold v m^(L+1)). Reports the probes and the masked-token accuracy "
     "next to their Bayes-optimal values (column bayes)."),
)


def _add_transformer(d: argparse.ArgumentParser) -> None:
    a = d.add_argument_group("transformer")
    a.add_argument("--depth", type=positive_int, default=2)
    a.add_argument("--width", type=positive_int, default=64)
    a.add_argument("--heads", type=positive_int, default=4)
    a.add_argument("--mlp-ratio", type=positive_int, default=4)
    a.add_argument("--pos-emb", choices=("learned", "sinusoidal", "none"), default="learned")
    a.add_argument("--embed-init", choices=("normal", "linear"), default="normal",
                   help="token embedding init: normal(0.02) (data2vec) or the earlier "
                   "one-hot linear map's")
    a.add_argument("--top-k", type=positive_int, default=2,
                   help="teacher blocks averaged (data2vec)")
    a.add_argument("--target-layer", choices=("ffn", "block"), default="ffn",
                   help="teacher targets: FFN output before the residual (data2vec) or the "
                   "block output")
    a.add_argument("--target-norm", choices=("layer", "instance", "none"), default="layer",
                   help="layer norm (data2vec 1.0 text, default) or instance norm (data2vec "
                   "2.0) of each teacher block before averaging")
    a.add_argument("--ema-scope", choices=("blocks", "all"), default="blocks",
                   help="EMA over the encoder blocks only (data2vec) or every parameter")
    a.add_argument("--mask-ratio", type=float, default=0.5)
    a.add_argument("--mask-span", type=positive_int, default=1)
    a.add_argument("--loss-beta", type=float, default=0.0)


def register(subparsers: Any) -> None:
    """Add the ``data2vec``, ``mlm``, ``slc`` and ``neural`` commands."""
    for name, help_text, description in _TRANSFORMER_COMMANDS:
        t = subparsers.add_parser(name, help=help_text, description=description)
        _add_common(t)
        _add_transformer(t)
        t.set_defaults(func=functools.partial(_run, name))

    s = subparsers.add_parser(
        "slc",
        help="train the stacked latent-clustering network and probe it (needs PyTorch)",
        description="L-1 predictor + clusterer modules with EMA-teacher codes; reports code "
        "recovery, probes, synonymic sensitivity and the Bayes-optimal root accuracy "
        "(column bayes).",
    )
    _add_common(s)
    b = s.add_argument_group("SLC model")
    b.add_argument("--d-h", type=positive_int, default=None, help="codebook size (default v)")
    b.add_argument("--hidden", type=positive_int, default=128)
    b.add_argument("--stop-gradient", action="store_true", help="local learning")
    b.add_argument("--detach-clusterer-input", action="store_true")
    b.add_argument("--anti-collapse", choices=("entropy", "sinkhorn", "none"), default="entropy")
    b.add_argument("--usage-weight", type=float, default=1.0)
    b.add_argument("--sharpness-weight", type=float, default=0.1)
    b.add_argument("--recon-weight", type=float, default=1.0)
    b.add_argument("--teacher-temperature", type=float, default=0.5)
    s.set_defaults(func=functools.partial(_run, "slc"))
    _register_neural(subparsers)


def _model_config(method: str, args: argparse.Namespace) -> Any:
    from rhm_theory.neural.ema import EMASchedule

    given = {"tau0": args.tau0, "tau_end": args.tau_end, "tau_steps": args.tau_steps}
    overrides = {k: v for k, v in given.items() if v is not None}
    if method in ("data2vec", "mlm"):
        from rhm_theory.neural.data2vec import DATA2VEC_TEXT_EMA, Data2VecConfig

        d2v_ema = {"tau0": DATA2VEC_TEXT_EMA.tau0, "tau_end": DATA2VEC_TEXT_EMA.tau_end,
                   "tau_steps": DATA2VEC_TEXT_EMA.tau_steps, **overrides}
        return Data2VecConfig(
            depth=args.depth, width=args.width, heads=args.heads, mlp_ratio=args.mlp_ratio,
            pos_emb=args.pos_emb, embed_init=args.embed_init, top_k=args.top_k,
            target_layer=args.target_layer,
            target_norm=args.target_norm, ema_scope=args.ema_scope,
            ema=EMASchedule(**d2v_ema), mask_ratio=args.mask_ratio,
            mask_span=args.mask_span, loss_beta=args.loss_beta,
        )
    from rhm_theory.neural.slc import SLCConfig

    slc_ema = {"tau0": 0.99, "tau_end": 0.999, "tau_steps": 1000, **overrides}
    return SLCConfig(
        d_h=args.d_h, hidden=args.hidden, stop_gradient=args.stop_gradient,
        detach_clusterer_input=args.detach_clusterer_input, anti_collapse=args.anti_collapse,
        usage_weight=args.usage_weight, sharpness_weight=args.sharpness_weight,
        recon_weight=args.recon_weight, teacher_temperature=args.teacher_temperature,
        ema=EMASchedule(**slc_ema),
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
            method, grid_name="full" if args.full else "small", regime=args.regime,
            device=device,
            deterministic=args.deterministic, checkpoint_dir=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            progress=_stderr_lines(args), family=args.family,
        )
    else:
        params = RHMParams(args.v, args.m, args.s, args.L, args.n_c)
        res = run_neural(
            method,
            params,
            P=args.P,
            train_config=TrainConfig(
                steps=args.steps, lr=args.lr, weight_decay=args.weight_decay,
                warmup_steps=args.warmup_steps, lr_schedule=args.lr_schedule, seed=args.seed,
                log_every=args.log_every, amp=not args.no_amp, compile=args.compile,
                grad_clip=args.grad_clip,
            ),
            model_config=_model_config(method, args),
            batch_size=args.batch_size,
            grammar_seed=args.grammar_seed,
            data_seed=args.data_seed,
            family=args.family,
            device=device,
            eval_config=EvalConfig(
                n_probe_train=args.probe_train, n_probe_test=args.probe_test,
                probe_steps=args.probe_steps, pool=args.pool,
                mask_threshold=True,  # the masked LM's eps_c beside its accuracy
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
        shown = [_with_bayes(r) for r in rows]
        cols = [c for c in _COLUMNS if c == "bayes" or (rows and c in rows[0])]
        print(format_table(shown, cols))
        print(f"\n{len(rows)} rows on {device} in {seconds:.1f} s", file=sys.stderr)
    return 0


def _register_neural(subparsers: Any) -> None:
    n = subparsers.add_parser(
        "neural",
        help="plan, run and time grids of neural runs (needs PyTorch to run)",
        description="Plan a grid of neural runs with its estimated device-hours, execute a "
        "plan resumably (several runs per device at once), or measure per-step times.",
    )
    sub = n.add_subparsers(dest="neural_command", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("plan", help="list the runs of a grid and their estimated hours")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    p.add_argument("--budget-hours", type=float, required=True,
                   help="the full grid is reduced (fewer seeds, one m, fewer P, then "
                   "fewer methods: slc, mlm, data2vec, slc-sg) until it fits; refused (exit "
                   "2) only when the minimal decisive grid does not")
    p.add_argument("--grid", type=_scaling_grid_arg, choices=SCALING_GRID_NAMES, default="full",
                   help="the scaling grid (rhm_theory.neural.grids.scaling_grid; default "
                   "full, the GPU-sized grid verify --full runs)")
    p.add_argument("--methods", nargs="+", default=["data2vec", "mlm", "slc", "slc-sg"],
                   choices=("data2vec", "mlm", "slc", "slc-sg"))
    p.add_argument("--runs-per-device", type=positive_int, default=4,
                   help="runs executed at once on the device (processes)")
    p.add_argument("--step-times", default=None, metavar="JSON",
                   help="per-step times measured by `neural bench` on this device kind "
                   "(default: built-in values; CUDA ones were never measured)")
    p.add_argument("--overhead-seconds", type=float, default=20.0,
                   help="fixed cost per run (probes, data; an estimate)")
    p.add_argument("--out", default=None, metavar="PLAN", help="write the plan file here")
    p.add_argument("--json", action="store_true", help="the plan as JSON on stdout")
    p.set_defaults(func=_neural_plan)
    r = sub.add_parser("run", help="execute a plan file (resumable)")
    r.add_argument("plan", metavar="PLAN")
    r.add_argument("--out", default="neural-runs", metavar="DIR",
                   help="checkpoints, finished runs and rows.json (default neural-runs)")
    r.add_argument("--device", default=None, help="override the plan's device")
    r.add_argument("--workers", type=positive_int, default=None,
                   help="runs at once (default: the plan's runs per device)")
    r.add_argument("--threads", type=non_negative_int, default=0,
                   help="torch CPU threads per worker")
    r.set_defaults(func=_neural_run)
    r.add_argument("--json", action="store_true", help="print one JSON document")
    b = sub.add_parser("bench", help="per-step times of the full grid's models")
    b.add_argument("--json", action="store_true", help="print one JSON document")
    b.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    b.add_argument("--methods", nargs="+", default=["data2vec", "mlm", "slc"],
                   choices=("data2vec", "mlm", "slc", "slc-sg"))
    b.add_argument("--batch-sizes", type=positive_int, nargs="+", default=[256])
    b.add_argument("--concurrency", type=int, nargs="+", default=[1],
                   help="runs sharing the device at once (processes)")
    b.add_argument("--repeats", type=int, default=5, help="timed blocks of 10 steps")
    b.add_argument("--threads", type=non_negative_int, default=0,
                   help="torch CPU threads per process")
    b.add_argument("--out", default=None, metavar="JSON", help="write step_times.json here")
    b.set_defaults(func=_neural_bench)
    v = sub.add_parser(
        "verify-cpu",
        help="the decisive CPU grid of the SLC claim (both arms, masked-LM control, step "
        "doubling; about 4 CPU-hours; resumable)",
        description="Runs (or resumes) the SLC arm, the stop-gradient SLC arm, the masked-LM "
        "control and the step-doubling check on v=8, m=3, L in {3,4,5}, 2 grammar seeds, "
        "P in {256, 1k, 4k, 16k} (rhm_theory.neural.cpu_grid.CPUGrid), then prints the "
        "verdict of the calibrated comparison (proofs_checks.neural_scaling.cpu_grid_result). "
        "Rows stay in OUT/runs; rerunning the command continues the grid.")
    v.add_argument("--out", default="neural-verify-cpu", metavar="DIR")
    v.add_argument("--workers", type=positive_int, default=1, help="runs at once (processes)")
    v.add_argument("--threads", type=positive_int, default=1, help="torch threads per run")
    v.add_argument("--arms", nargs="+", default=None,
                   choices=CPU_GRID_ARMS,
                   help="run only these arms (the verdict still reads every arm)")
    v.add_argument("--seeds", type=non_negative_int, nargs="+", default=None, metavar="SEED",
                   help="grammar seeds of the grid (default: 0 1); other seeds are a "
                   "replication: give it its own --out")
    v.add_argument("--report-only", action="store_true",
                   help="train nothing: the verdict on the runs already in OUT")
    v.add_argument("--json", action="store_true", help="the check result as JSON")
    v.add_argument("--calibration-cell", metavar="JSONL",
                   default="benchmarks/neural_calibration_cell/calibration_layer.jsonl",
                   help="the data2vec calibration cell's rows, read for the one data2vec "
                   "line (data2vec is not run on CPU: its grid cannot decide there)")
    v.set_defaults(func=_neural_verify_cpu)


def _neural_plan(args: argparse.Namespace) -> int:
    from rhm_theory.io import write_json
    from rhm_theory.neural import require_torch

    try:
        require_torch()  # the grids are built from the models' configurations
    except ImportError as exc:
        print(f"rhm-theory neural: error: {exc}", file=sys.stderr)
        return 2
    from rhm_theory.neural.experiments import scaling_grid
    from rhm_theory.neural.plan import BudgetExceeded, fit_plan, load_step_times, make_plan

    batch = int(scaling_grid(args.grid)["batch_size"])
    times = (None if args.step_times is None
             else load_step_times(args.step_times, args.device, batch))
    try:
        if args.grid == "full":
            # The most decisive reduction of the full grid that fits the budget.
            plan = fit_plan(args.device, args.budget_hours, methods=args.methods,
                            runs_per_device=args.runs_per_device, step_times=times,
                            overhead_seconds=args.overhead_seconds)
        else:
            plan = make_plan(args.device, args.budget_hours, grid=args.grid,
                             methods=args.methods, runs_per_device=args.runs_per_device,
                             step_times=times, overhead_seconds=args.overhead_seconds)
    except BudgetExceeded as exc:
        print(f"rhm-theory neural plan: refused: {exc}", file=sys.stderr)
        return 2
    doc = plan.to_dict()
    if args.out:
        write_json(args.out, doc)
    if args.json:
        print_json(doc)
    else:
        print(f"{len(plan.runs)} runs on {plan.device}, grid {plan.grid}: estimated "
              f"{plan.hours:.2f} h with {plan.runs_per_device} runs at once "
              f"(budget {plan.budget_hours} h)")
        for meth, t in sorted(plan.step_times.items()):
            print(f"  {meth}: {t.seconds:g} s/step ({t.source})")
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _stderr_lines(args: argparse.Namespace) -> Any:
    """Progress lines on stderr, or none with --quiet / --json."""
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return lambda line: None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _neural_run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from rhm_theory.neural import require_torch
    from rhm_theory.neural.plan import Plan, run_plan

    try:
        require_torch()
    except ImportError as exc:
        print(f"rhm-theory neural: error: {exc}", file=sys.stderr)
        return 2
    plan = Plan.from_dict(json.loads(Path(args.plan).read_text()))
    rows = run_plan(plan, args.out, device=args.device, workers=args.workers,
                    threads=args.threads,
                    progress=_stderr_lines(args))
    if args.json:
        print_json({"rows": len(rows), "out": str(Path(args.out) / "rows.json")})
        return 0
    print(f"{len(rows)} rows in {Path(args.out) / 'rows.json'}")
    return 0


def _neural_bench(args: argparse.Namespace) -> int:
    from rhm_theory.io import write_json
    from rhm_theory.neural import require_torch
    from rhm_theory.neural.plan import measure_step_times_concurrent

    try:
        torch = require_torch()
    except ImportError as exc:
        print(f"rhm-theory neural: error: {exc}", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("rhm-theory neural: error: --device cuda but CUDA is not available",
              file=sys.stderr)
        return 2
    entries = measure_step_times_concurrent(
        args.device, methods=args.methods, batch_sizes=args.batch_sizes,
        concurrency=args.concurrency, repeats=args.repeats, threads=args.threads)
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    doc = {"device_type": args.device, "device_name": name, "measurements": entries}
    if args.out:
        write_json(args.out, doc)
    if args.json:
        print_json(doc)
        return 0
    print(format_table(entries, ["method", "batch_size", "concurrency", "seconds",
                                 "throughput_steps_per_s"]))
    return 0


def _neural_verify_cpu(args: argparse.Namespace) -> int:
    from rhm_theory.neural import require_torch

    try:
        torch = require_torch()
    except ImportError as exc:
        print(f"rhm-theory neural: error: {exc}", file=sys.stderr)
        return 2
    from proofs_checks.neural_scaling import cpu_grid_result
    from rhm_theory.neural.cpu_grid import (
        CPU_GRID_ARMS,
        CPUGrid,
        data2vec_cpu_line,
        load_cpu_grid_rows,
        run_cpu_grid,
        write_cpu_grid_verdict,
    )

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    grid = CPUGrid() if args.seeds is None else CPUGrid(seeds=tuple(args.seeds))
    t0 = time.perf_counter()
    if not args.report_only:
        run_cpu_grid(args.out, grid=grid, arms=tuple(args.arms or CPU_GRID_ARMS),
                     workers=args.workers, threads=args.threads,
                     progress=lambda line: print(line, file=sys.stderr, flush=True))
    rows, progress = load_cpu_grid_rows(args.out, grid)
    result = cpu_grid_result(rows, progress, grid)
    doc = {"command": "neural verify-cpu", "seconds": time.perf_counter() - t0,
           "progress": progress, "result": result.to_dict()}
    text = write_cpu_grid_verdict(args.out, doc)
    if args.json:
        print_json(doc)
    else:
        print(text, end="")
        print(data2vec_cpu_line(args.calibration_cell))
    return 0
