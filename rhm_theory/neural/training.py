"""Device selection, determinism, and the resumable training loop of the neural validators."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rhm_theory.neural.data import RHMBatches
from rhm_theory.neural.data2vec import Data2Vec
from rhm_theory.neural.slc import SLCNetwork

__all__ = [
    "EvalFn",
    "SSLModel",
    "TrainConfig",
    "TrainResult",
    "load_checkpoint",
    "resolve_device",
    "set_determinism",
    "step_generator",
    "train",
]

#: The models the loop trains (both expose loss / update_teacher / features).
SSLModel = Data2Vec | SLCNetwork
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
    """Seed Python, numpy and torch (all devices); optionally force deterministic kernels.

    ``deterministic=True`` calls ``torch.use_deterministic_algorithms(True)`` (a global
    switch), disables cuDNN autotuning and sets ``CUBLAS_WORKSPACE_CONFIG`` as CUDA needs.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global users, if any
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """The generator of step ``step``: a pure function of ``(seed, step)`` (resumable)."""
    gen = torch.Generator(device=device)
    gen.manual_seed((int(seed) * 1_000_003 + int(step) * 7_919 + 17) % (2**63 - 1))
    return gen


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of :func:`train`.

    Parameters
    ----------
    steps : int
        Total optimisation steps (a resumed run continues up to this count).
    lr : float
        AdamW learning rate after a linear warm-up of ``warmup_steps``.
    weight_decay : float
    warmup_steps : int
    seed : int
        Seed of the per-step randomness (masks).
    """

    steps: int = 2000
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 100
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return asdict(self)


@dataclass
class TrainResult:
    """What :func:`train` returns: the loss trajectory and evaluation rows."""

    losses: list[float] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    last_metrics: dict[str, float] = field(default_factory=dict)


def _save(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written checkpoint


def _comparable(meta: dict[str, Any]) -> dict[str, Any]:
    # The step budget may grow between a run and its resumption; nothing else may change.
    return {**meta, "train": {k: v for k, v in meta["train"].items() if k != "steps"}}


def load_checkpoint(path: str | Path, map_location: torch.device | str = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`train` (tensors and plain Python values only)."""
    payload: dict[str, Any] = torch.load(Path(path), map_location=map_location, weights_only=True)
    if payload.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a rhm_theory neural checkpoint")
    return payload


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
    opt = torch.optim.AdamW(
        model.student_parameters(), lr=config.lr, weight_decay=config.weight_decay
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

    for step in range(start, config.steps):
        lr = config.lr * min(1.0, (step + 1) / max(1, config.warmup_steps))
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        loss, metrics = model.loss(data.batch(step), step_generator(config.seed, step, dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        model.update_teacher(step)
        value = float(loss.item())
        if not np.isfinite(value):
            raise FloatingPointError(f"non-finite loss {value} at step {step}")
        result.losses.append(value)
        result.last_metrics = metrics
        done = step + 1
        if eval_fn is not None and wanted and done == wanted[0]:
            wanted.pop(0)
            model.eval()
            with torch.no_grad():
                result.rows.extend(eval_fn(done))
        if checkpoint_every > 0 and done % checkpoint_every == 0 and done < config.steps:
            save(done)
    result.steps = max(config.steps, start)
    save(result.steps)
    result.seconds = time.perf_counter() - t0
    return result
