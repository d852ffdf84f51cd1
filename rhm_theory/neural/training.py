"""Device selection, determinism, and the resumable training loop of the neural validators."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from rhm_theory.io import atomic_path
from rhm_theory.neural.data import RHMBatches, to_device
from rhm_theory.neural.data2vec import Data2Vec
from rhm_theory.neural.mlm import MaskedLM
from rhm_theory.neural.slc import SLCNetwork
from rhm_theory.validation import check_choice, check_float, check_int, check_seed

__all__ = [
    "EvalFn",
    "SSLModel",
    "TrainConfig",
    "TrainResult",
    "configure_device",
    "load_checkpoint",
    "lr_at",
    "measure_step_time",
    "module_lrs",
    "module_starts",
    "resolve_device",
    "set_determinism",
    "step_generator",
    "train",
    "training_step",
]

#: The models the loop trains (all expose loss / update_teacher / features).
SSLModel = Data2Vec | MaskedLM | SLCNetwork
#: Called after selected steps with the number of completed steps; returns result rows.
EvalFn = Callable[[int], list[dict[str, Any]]]

_CHECKPOINT_FORMAT = 1


def resolve_device(spec: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` as is.

    Raises
    ------
    ValueError
        If CUDA is requested but not available.
    """
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(spec)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {spec!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu, cuda or auto, got {spec!r}")
    return dev


def set_determinism(seed: int, deterministic: bool = False) -> None:
    """Seed torch (all devices); optionally force deterministic kernels.

    Only torch's generator is seeded (model initialisation); numpy's global state is never
    touched (every numpy draw of the package takes an explicit seed). ``deterministic=True``
    calls ``torch.use_deterministic_algorithms(True)`` (a global switch), disables cuDNN
    autotuning and sets ``CUBLAS_WORKSPACE_CONFIG`` as CUDA needs.
    """
    torch.manual_seed(check_seed("seed", seed))
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def configure_device(device: torch.device) -> None:
    """Fast matmul settings for ``device``: TF32 on CUDA (a no-op on CPU)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def _step_seed(seed: int, step: int) -> int:
    return (int(seed) * 1_000_003 + int(step) * 7_919 + 17) % (2**63 - 1)


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """The generator of step ``step``: a pure function of ``(seed, step)`` (resumable)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(_step_seed(seed, step))
    return gen


_LR_SCHEDULES = ("cosine", "linear", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of :func:`train`.

    Parameters
    ----------
    steps : int
        Total optimisation steps (a resumed run continues up to this count).
    lr : float
        Peak AdamW learning rate, reached after a linear warm-up of ``warmup_steps``.
    weight_decay : float
    warmup_steps : int
    lr_schedule : {"cosine", "linear", "constant"}
        Decay after the warm-up down to ``lr * min_lr_ratio`` at the last step (data2vec
        uses a linear decay for text and a cosine one for images).
    min_lr_ratio : float
        Final learning rate as a fraction of ``lr``.
    seed : int
        Seed of the per-step randomness (masks).
    log_every : int
        Steps between host synchronisations (loss read-back and finiteness check); the
        steps in between never wait for the device.
    amp : bool
        bf16 autocast on CUDA (ignored on CPU, where everything runs in float32).
    compile : bool
        Wrap the model's loss in ``torch.compile``.
    prefetch : int
        Batches sampled ahead by a background thread (0: sample in the loop).
    grad_clip : float
        Maximum global gradient norm (``torch.nn.utils.clip_grad_norm_``, applied to the
        float32 gradients also under bf16 autocast); 0 disables clipping. data2vec clips
        at 1.0 for text (fairseq ``clip_norm``), hence the default. The clipping never
        reads the norm back to the host (no synchronisation).
    module_start_every : int or None
        ``None`` (default): one learning-rate schedule and one global clip for all
        parameters. An integer ``k`` selects the *local-learning* reading of the
        stop-gradient SLC network (only that model accepts it): module ``l`` (1-based)
        starts learning at step ``(l - 1) k``, has its own warm-up and decay over the
        steps left from its start (:func:`module_lrs`) and its own gradient clip at
        ``grad_clip``; before its start its gradients are dropped, so its optimiser
        state starts empty when it starts.
    """

    steps: int = 2000
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 100
    lr_schedule: str = "cosine"
    min_lr_ratio: float = 0.0
    seed: int = 0
    log_every: int = 50
    amp: bool = True
    compile: bool = False
    prefetch: int = 2
    grad_clip: float = 1.0
    module_start_every: int | None = None

    def __post_init__(self) -> None:
        check_int("steps", self.steps, minimum=0)
        check_float("lr", self.lr, minimum=0.0, include_minimum=False)
        check_float("weight_decay", self.weight_decay, minimum=0.0)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_choice("lr_schedule", self.lr_schedule, _LR_SCHEDULES)
        check_float("min_lr_ratio", self.min_lr_ratio, minimum=0.0, maximum=1.0)
        check_seed("seed", self.seed)
        check_int("log_every", self.log_every, minimum=1)
        check_int("prefetch", self.prefetch, minimum=0)
        check_float("grad_clip", self.grad_clip, minimum=0.0)
        if self.module_start_every is not None:
            check_int("module_start_every", self.module_start_every, minimum=0)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (``module_start_every`` only when set, so the records of runs
        made before the option existed keep their form)."""
        d = asdict(self)
        if d["module_start_every"] is None:
            del d["module_start_every"]
        return d


def lr_at(step: int, config: TrainConfig) -> float:
    """Learning rate of optimisation step ``step`` (0-based): warm-up, then decay.

    Warm-up: ``lr * (step + 1) / warmup_steps``. Then, with ``u`` the fraction of the decay
    phase done (0 at the first step after warm-up, 1 at the last step), ``cosine``:
    ``lo + (lr - lo)(1 + cos(pi u)) / 2``; ``linear``: ``lr - (lr - lo) u``; ``lo`` is
    ``lr * min_lr_ratio``.

    >>> cfg = TrainConfig(steps=12, lr=1.0, warmup_steps=1, lr_schedule="linear")
    >>> [round(lr_at(k, cfg), 3) for k in (0, 1, 6, 11)]
    [1.0, 1.0, 0.5, 0.0]
    """
    c = config
    if step < c.warmup_steps:
        return c.lr * (step + 1) / c.warmup_steps
    span = c.steps - c.warmup_steps
    u = 1.0 if span <= 1 else min(1.0, (step - c.warmup_steps) / (span - 1))
    lo = c.lr * c.min_lr_ratio
    if c.lr_schedule == "cosine":
        return lo + (c.lr - lo) * 0.5 * (1.0 + math.cos(math.pi * u))
    if c.lr_schedule == "linear":
        return c.lr - (c.lr - lo) * u
    return c.lr


def module_starts(n_modules: int, config: TrainConfig) -> list[int]:
    """First learning step of each of ``n_modules`` modules (all 0 without local learning).

    >>> module_starts(3, TrainConfig(steps=100, module_start_every=10))
    [0, 10, 20]
    """
    k = config.module_start_every or 0
    return [i * k for i in range(n_modules)]


def module_lrs(step: int, n_modules: int, config: TrainConfig) -> list[float]:
    """Learning rate of every module at step ``step`` under local learning.

    A module that started at ``t0`` follows :func:`lr_at` of a run of
    ``steps - t0`` steps at step ``step - t0``: its own warm-up and its own decay to the
    end of the budget; it is 0 before ``t0``.

    >>> cfg = TrainConfig(steps=12, lr=1.0, warmup_steps=1, lr_schedule="linear",
    ...                   module_start_every=6)
    >>> [[round(x, 3) for x in module_lrs(k, 2, cfg)] for k in (0, 6, 11)]
    [[1.0, 0.0], [0.5, 1.0], [0.0, 0.0]]
    """
    out = []
    for t0 in module_starts(n_modules, config):
        if step < t0:
            out.append(0.0)
        else:
            own = TrainConfig(**{**config.to_dict(), "steps": max(1, config.steps - t0)})
            out.append(lr_at(step - t0, own))
    return out


def _local_groups(model: SSLModel, config: TrainConfig) -> list[list[torch.Tensor]] | None:
    """The parameters of each module under local learning, or ``None`` (global schedule)."""
    if config.module_start_every is None:
        return None
    if not isinstance(model, SLCNetwork) or not model.config.stop_gradient:
        raise ValueError("module_start_every (local learning) needs the stop-gradient SLC "
                         f"network, got {type(model).__name__}")
    return [list(m.parameters()) for m in model.student]


@dataclass
class TrainResult:
    """What :func:`train` returns: the loss trajectory and evaluation rows."""

    losses: list[float] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    last_metrics: dict[str, float] = field(default_factory=dict)


class _Prefetcher:
    """Host batches of steps ``start..stop-1`` sampled by a background thread, in order.

    The numba sampler releases the interpreter while it runs, so sampling overlaps with
    the device work of the training loop. Batches are a pure function of the step, so
    prefetching changes no result.
    """

    def __init__(self, data: RHMBatches, start: int, stop: int, depth: int) -> None:
        self.data = data
        self.queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=max(1, depth))
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._work, args=(start, stop), daemon=True)
        self.thread.start()

    def _work(self, start: int, stop: int) -> None:
        for step in range(start, stop):
            if self.stop_flag.is_set():
                return
            try:
                item: Any = self.data.host_batch(step)
            except BaseException as exc:  # re-raised in the training thread
                self.queue.put((step, exc))
                return
            while not self.stop_flag.is_set():
                try:
                    self.queue.put((step, item), timeout=0.1)
                    break
                except queue.Full:
                    continue

    def get(self, step: int) -> torch.Tensor:
        got, item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        if got != step:  # cannot happen: one producer, one consumer, in order
            raise RuntimeError(f"prefetcher out of order: wanted step {step}, got {got}")
        return to_device(item, self.data.device)

    def close(self) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=5.0)


def _save(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # a crash never leaves a half-written checkpoint
        torch.save(payload, tmp)


def _comparable(meta: dict[str, Any]) -> dict[str, Any]:
    # The learning-rate and EMA schedules depend on the step budget, so it must match too;
    # only the logging period may differ.
    return {**meta, "train": {k: v for k, v in meta["train"].items() if k != "log_every"}}


def load_checkpoint(path: str | Path, map_location: torch.device | str = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`train` (tensors and plain Python values only)."""
    payload: dict[str, Any] = torch.load(Path(path), map_location=map_location, weights_only=True)
    if payload.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a rhm_theory neural checkpoint")
    return payload


def training_step(
    model: SSLModel,
    opt: torch.optim.Optimizer,
    params: Sequence[torch.Tensor],
    tokens: torch.Tensor,
    generator: torch.Generator,
    step: int,
    config: TrainConfig,
    *,
    loss_fn: Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]] | None = None,
    amp: bool = False,
    groups: Sequence[Sequence[torch.Tensor]] | None = None,
    started: Sequence[bool] = (),
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One optimisation step of :func:`train`: loss, backward, clipping, AdamW, EMA.

    Never synchronises with the device: the loss and the diagnostics are returned as
    device tensors (the loop reads them back every ``log_every`` steps), the losses are
    mask-weighted means (no boolean indexing, whose output shape would have to be read
    back), and the gradient clipping keeps the norm on the device. ``tests/
    test_neural_sync.py`` checks this on CPU (no host read-back call is made) and, where
    CUDA exists, with ``torch.cuda.set_sync_debug_mode("error")``.

    Parameters
    ----------
    model : SSLModel
    opt : torch.optim.Optimizer
        Over ``params``.
    params : sequence of Tensor
        The student parameters (clipped together).
    tokens : Tensor
        The batch, on the model's device.
    generator : torch.Generator
        The step's randomness (masks), on the model's device.
    step : int
        0-based step (the EMA schedule's position).
    config : TrainConfig
        ``steps`` (EMA schedule length) and ``grad_clip`` are read.
    loss_fn : callable or None
        ``model.loss`` or its compiled form.
    amp : bool
        bf16 autocast on CUDA (the gradients stay float32: parameters are float32).
    groups : sequence of sequences of Tensor or None
        Local learning: the parameters of each module, clipped separately.
    started : sequence of bool
        With ``groups``: which modules have started; the gradients of the others are
        dropped (the optimiser skips them, so their state stays empty).
    """
    fn = loss_fn if loss_fn is not None else model.loss
    ctx = (torch.autocast("cuda", dtype=torch.bfloat16) if amp
           else contextlib.nullcontext())
    with ctx:
        loss, metrics = fn(tokens, generator)
    opt.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    clipped: Sequence[Sequence[torch.Tensor]] = [params]
    if groups is not None:
        for group, on in zip(groups, started, strict=True):
            if not on:
                for p in group:
                    p.grad = None
        clipped = [g for g, on in zip(groups, started, strict=True) if on]
    if config.grad_clip > 0:
        # Scales by min(1, clip / norm) on the device; the norm stays a tensor.
        for group in clipped:
            torch.nn.utils.clip_grad_norm_(list(group), config.grad_clip, foreach=True)
    opt.step()
    model.update_teacher(step, config.steps)
    return loss.detach(), metrics


def train(
    model: SSLModel,
    data: RHMBatches,
    config: TrainConfig,
    *,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 0,
    meta: dict[str, Any] | None = None,
    eval_fn: EvalFn | None = None,
    eval_steps: Sequence[int] = (),
    stop_after: int | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` with AdamW, updating its EMA teacher after every step.

    Parameters
    ----------
    model : Data2Vec or SLCNetwork
        Already on ``data.device``.
    data : RHMBatches
    config : TrainConfig
    checkpoint : path or None
        If given, saved every ``checkpoint_every`` steps and at the end; if the file exists,
        training resumes from it (model, teacher, optimizer, losses, rows, step).
    checkpoint_every : int
        0 saves only at the end.
    meta : dict or None
        Plain description of the run (configs, grammar); a resumed checkpoint must match.
    eval_fn : EvalFn or None
        Called (in eval mode, no gradients) after each step count listed in ``eval_steps``.
    eval_steps : sequence of int
    stop_after : int or None
        Stop (and checkpoint) after this many completed steps, as an interruption would;
        the schedules still follow ``config.steps``. A later call resumes.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        If the checkpoint belongs to another run (different ``meta``).
    FloatingPointError
        If the loss becomes non-finite.
    """
    dev = data.device
    configure_device(dev)
    params = model.student_parameters()
    groups = _local_groups(model, config)
    opt = torch.optim.AdamW(
        params if groups is None else [{"params": g} for g in groups],
        lr=config.lr, weight_decay=config.weight_decay, fused=dev.type == "cuda"
    )
    result = TrainResult()
    run_meta = {"train": config.to_dict(), **(meta or {})}
    path = Path(checkpoint) if checkpoint is not None else None
    start = 0
    if path is not None and path.exists():
        payload = load_checkpoint(path, map_location=dev)
        if _comparable(payload["meta"]) != _comparable(run_meta):
            raise ValueError(f"checkpoint {path} was written by a different run configuration")
        model.load_state_dict(payload["model"])
        opt.load_state_dict(payload["optimizer"])
        start = int(payload["step"])
        result.losses = list(payload["losses"])
        result.rows = list(payload["rows"])
        result.resumed_from = start
    wanted = sorted({int(s) for s in eval_steps if start < int(s) <= config.steps})
    t0 = time.perf_counter()
    # One code path for every device: autocast and the fused optimizer are switched on by
    # the device type, nothing else differs.
    amp = config.amp and dev.type == "cuda"
    loss_fn = torch.compile(model.loss) if config.compile else model.loss
    gen = torch.Generator(device=dev)
    pending: list[torch.Tensor] = []
    metrics: dict[str, torch.Tensor] = {}

    def flush(step: int) -> None:
        # The only host synchronisation of the loop: every log_every steps.
        if pending:
            values = torch.stack(pending).float().cpu().tolist()
            pending.clear()
            bad = [v for v in values if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(f"non-finite loss {bad[0]} before step {step}")
            result.losses.extend(values)
        result.last_metrics = {k: float(v.float().cpu()) for k, v in metrics.items()}

    def save(step: int) -> None:
        if path is not None:
            _save(
                path,
                {
                    "format": _CHECKPOINT_FORMAT,
                    "step": step,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "losses": result.losses,
                    "rows": result.rows,
                    "meta": run_meta,
                },
            )

    stop = config.steps if stop_after is None else min(config.steps, max(start, stop_after))
    prefetch = _Prefetcher(data, start, stop, config.prefetch) if config.prefetch else None
    try:
        for step in range(start, stop):
            lrs = ([lr_at(step, config)] * len(opt.param_groups) if groups is None
                   else module_lrs(step, len(groups), config))
            for group, lr in zip(opt.param_groups, lrs, strict=True):
                group["lr"] = lr
            starts = module_starts(len(lrs), config)
            model.train()
            tokens = prefetch.get(step) if prefetch is not None else data.batch(step)
            gen.manual_seed(_step_seed(config.seed, step))
            loss, metrics = training_step(model, opt, params, tokens, gen, step, config,
                                          loss_fn=loss_fn, amp=amp, groups=groups,
                                          started=[step >= t for t in starts])
            pending.append(loss)
            done = step + 1
            if done % config.log_every == 0:
                flush(done)
            if eval_fn is not None and wanted and done == wanted[0]:
                flush(done)
                wanted.pop(0)
                model.eval()
                with torch.no_grad():
                    result.rows.extend(eval_fn(done))
            if checkpoint_every > 0 and done % checkpoint_every == 0 and done < config.steps:
                flush(done)
                save(done)
    finally:
        if prefetch is not None:
            prefetch.close()
    flush(stop)
    result.steps = stop
    save(result.steps)
    result.seconds = time.perf_counter() - t0
    return result


def measure_step_time(
    model: SSLModel,
    data: RHMBatches,
    config: TrainConfig,
    *,
    warmup: int = 5,
    repeats: int = 20,
) -> float:
    """Seconds per training step of ``model`` (median of ``repeats`` timed blocks).

    Runs :func:`train` for ``warmup`` steps (compilation, allocator warm-up), then times
    ``repeats`` blocks of ``config.log_every`` steps each with the device synchronised at
    both ends, so the figure includes everything a real step costs (sampling, transfer,
    optimizer, EMA, one loss read-back per block) and nothing else. The model is trained
    in place.
    """
    check_int("warmup", warmup, minimum=1)
    check_int("repeats", repeats, minimum=1)
    block = config.log_every
    marks = [warmup + k * block for k in range(repeats + 1)]
    cfg = TrainConfig(**{**config.to_dict(), "steps": marks[-1]})
    stamps: list[float] = []

    def mark(done: int) -> list[dict[str, Any]]:
        # train() has just read the losses back (a host sync) before calling this.
        if data.device.type == "cuda":
            torch.cuda.synchronize(data.device)
        stamps.append(time.perf_counter())
        return []

    train(model, data, cfg, eval_fn=mark, eval_steps=marks)
    per_step = sorted((b - a) / block for a, b in itertools.pairwise(stamps))
    return float(per_step[len(per_step) // 2])
