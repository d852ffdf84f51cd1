"""One neural run: build the model, train it, probe it; a run as a spec, its rows on disk."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rhm_theory.io import write_json
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.spec import GRAMMAR_FAMILIES, GrammarFamily, GrammarSpec
from rhm_theory.neural.data import RHMBatches
from rhm_theory.neural.data2vec import Data2Vec, Data2VecConfig
from rhm_theory.neural.ema import EMASchedule
from rhm_theory.neural.evaluation import (
    EvalConfig,
    ModelConfig,
    bayes_references,
    evaluate,
    probe_split,
)
from rhm_theory.neural.grids import decisive_Ps
from rhm_theory.neural.mlm import MaskedLM
from rhm_theory.neural.slc import SLCConfig, SLCNetwork
from rhm_theory.neural.training import (
    SSLModel,
    TrainConfig,
    TrainResult,
    resolve_device,
    set_determinism,
    train,
)
from rhm_theory.validation import check_choice

__all__ = [
    "METHODS",
    "RunResult",
    "RunSpec",
    "build_model",
    "execute_run",
    "grid_runs",
    "model_config_from_dict",
    "run_neural",
]


#: ``slc-sg``: the SLC network with stop-gradients between modules (local learning).
METHODS = ("data2vec", "mlm", "slc", "slc-sg")


@dataclass
class RunResult:
    """One trained model, its training trace and its result rows."""

    model: SSLModel
    grammar: Grammar
    rows: list[dict[str, Any]]
    train: TrainResult
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def build_model(
    method: str,
    params: RHMParams,
    config: ModelConfig | None,
    device: torch.device,
    seed: int,
) -> SSLModel:
    """Seeded construction of a model of ``METHODS`` on ``device``.

    ``slc-sg`` is :class:`SLCNetwork` with ``stop_gradient=True`` forced.
    """
    check_choice("method", method, METHODS)
    torch.manual_seed(seed)
    model: SSLModel
    if method in ("data2vec", "mlm"):
        if config is not None and not isinstance(config, Data2VecConfig):
            raise TypeError(f"{method} needs a Data2VecConfig, got {type(config).__name__}")
        model = Data2Vec(params, config) if method == "data2vec" else MaskedLM(params, config)
    else:
        if config is not None and not isinstance(config, SLCConfig):
            raise TypeError(f"{method} needs an SLCConfig, got {type(config).__name__}")
        cfg = config or SLCConfig()
        if method == "slc-sg":
            cfg = SLCConfig(**{**cfg.__dict__, "stop_gradient": True})
        model = SLCNetwork(params, cfg)
    return model.to(device)


def model_config_from_dict(method: str, d: dict[str, Any]) -> ModelConfig:
    """Rebuild a model configuration from its ``to_dict()`` form (plans, checkpoints)."""
    check_choice("method", method, METHODS)
    fields = {**d, "ema": EMASchedule(**d["ema"])} if "ema" in d else dict(d)
    if method in ("data2vec", "mlm"):
        return Data2VecConfig(**fields)
    return SLCConfig(**fields)


def run_neural(
    method: str,
    params: RHMParams,
    *,
    P: int | None,
    train_config: TrainConfig,
    model_config: ModelConfig | None = None,
    batch_size: int = 128,
    grammar_seed: int = 0,
    data_seed: int = 1,
    family: GrammarFamily = "random",
    device: str | torch.device = "auto",
    eval_config: EvalConfig | None = None,
    eval_at: Sequence[int] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 0,
    deterministic: bool = False,
    on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
) -> RunResult:
    """Train one model on one grammar and probe it; rows are tidy dicts.

    Parameters
    ----------
    method : {"data2vec", "mlm", "slc", "slc-sg"}
    params : RHMParams
    P : int or None
        Offline training-set size, or ``None`` for the online regime (fresh strings).
    train_config : TrainConfig
    model_config : Data2VecConfig or SLCConfig or None
    batch_size : int
    grammar_seed, data_seed : int
    family : str
        Grammar family (a key of :data:`rhm_theory.model.spec.GRAMMAR_CONSTRUCTORS`).
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``.
    eval_config : EvalConfig or None
    eval_at : sequence of int
        Online regime: also evaluate after these step counts (rows carry ``P`` = strings
        seen). The final step is always evaluated.
    checkpoint, checkpoint_every :
        See :func:`rhm_theory.neural.training.train`.
    deterministic : bool
        Force deterministic kernels (:func:`set_determinism`).
    on_rows : callable or None
        Called with each evaluation's rows as soon as they exist (so a long run's early
        evaluations survive an interruption).

    Returns
    -------
    RunResult
    """
    t0 = time.perf_counter()
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    ecfg = eval_config or EvalConfig()
    set_determinism(train_config.seed, deterministic)
    grammar = GrammarSpec(params, family, grammar_seed).build()
    model = build_model(method, params, model_config, dev, train_config.seed)
    data = RHMBatches(grammar, batch_size, P=P, seed=data_seed, device=dev)
    probe_data = probe_split(grammar, ecfg.n_probe_train, ecfg.n_probe_test, ecfg.seed)
    bayes = bayes_references(grammar, model, ecfg)
    cfg_dict = model.config.to_dict()
    base = {
        "method": method,
        "regime": "online" if P is None else "offline",
        **params.to_dict(),
        "seed": train_config.seed,
        "grammar_seed": grammar_seed,
    }

    def eval_fn(done: int) -> list[dict[str, Any]]:
        seen = data.samples_seen(done)
        out = evaluate(
            model,
            grammar,
            probe_data,
            device=dev,
            config=ecfg,
            base={**base, "P": seen if P is None else P, "samples_seen": seen, "steps": done},
            bayes=bayes,
        )
        if on_rows is not None:
            on_rows(out)
        return out

    steps = sorted({*(int(s) for s in eval_at if 0 < s <= train_config.steps), train_config.steps})
    meta = {
        "method": method,
        "params": params.to_dict(),
        "model": cfg_dict,
        "P": P,
        "batch_size": batch_size,
        "grammar_seed": grammar_seed,
        "data_seed": data_seed,
        "family": family,
    }
    result = train(
        model,
        data,
        train_config,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        meta=meta,
        eval_fn=eval_fn,
        eval_steps=steps,
    )
    rows = list(result.rows)
    if not any(r.get("steps") == train_config.steps for r in rows):
        # A run resumed at its last step was already complete: evaluate it once more.
        rows.extend(eval_fn(train_config.steps))
    tail = result.losses[-max(1, len(result.losses) // 20) :]
    final_loss = float(np.mean(tail)) if tail else float("nan")
    last_p = rows[-1]["P"] if rows else P
    rows.append(
        {**base, "P": last_p, "steps": train_config.steps, "level": None, "layer": None,
         "metric": "final_loss", "value": final_loss}
    )
    return RunResult(model, grammar, rows, result, time.perf_counter() - t0, meta)


@dataclass(frozen=True)
class RunSpec:
    """One training run of a grid: everything :func:`execute_run` needs, JSON-able.

    Attributes
    ----------
    method : str
        One of ``METHODS``.
    v, m, s, L : int
    P : int or None
        Offline training-set size; ``None`` for the online regime.
    grammar_seed, data_seed, seed : int
        Grammar, training-data and model/mask seeds (kept apart).
    steps, batch_size : int
    lr : float
    model : dict
        The model configuration's ``to_dict()``.
    eval : dict
        :class:`EvalConfig` fields.
    eval_at : tuple of int
        Extra evaluation steps (online regime).
    family : str, default "random"
        Grammar family (a key of :data:`rhm_theory.model.spec.GRAMMAR_CONSTRUCTORS`);
        :attr:`grammar_spec` is the grammar the run trains on.
    """

    method: str
    v: int
    m: int
    s: int
    L: int
    P: int | None
    grammar_seed: int
    data_seed: int
    seed: int
    steps: int
    batch_size: int
    lr: float
    model: dict[str, Any]
    eval: dict[str, Any]
    eval_at: tuple[int, ...] = ()
    family: GrammarFamily = "random"

    def __post_init__(self) -> None:
        _ = self.grammar_spec  # validates the family and the parameters now, not in a worker

    @property
    def grammar_spec(self) -> GrammarSpec:
        """The grammar of this run (family, parameters, grammar seed)."""
        return GrammarSpec(RHMParams(self.v, self.m, self.s, self.L), self.family,
                           self.grammar_seed)

    @property
    def name(self) -> str:
        """File-name-safe identifier of the run (random grammars: no family part, so names
        of runs planned before runs had a family, and their checkpoints, do not change)."""
        reg = "online" if self.P is None else f"P{self.P}"
        fam = "" if self.family == "random" else f"_{self.family}"
        return (f"{self.method}_v{self.v}_m{self.m}_s{self.s}_L{self.L}_g{self.grammar_seed}"
                f"{fam}_{reg}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (a plan's JSON)."""
        return {**self.__dict__, "eval_at": list(self.eval_at)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**d, "eval_at": tuple(d.get("eval_at", ()))})


def _model_key(method: str) -> str:
    return "data2vec" if method in ("data2vec", "mlm") else "slc"


def grid_runs(
    grid: dict[str, Any], methods: Sequence[str], regime: str = "offline"
) -> list[RunSpec]:
    """Every run of ``grid`` for ``methods`` (see :func:`scaling_grid`), in a fixed order.

    The grammar family is the grid's ``"family"`` entry (default ``"random"``)."""
    check_choice("regime", regime, ("offline", "online"))
    g = grid
    family = check_choice("family", g.get("family", "random"), GRAMMAR_FAMILIES)
    out = []
    for meth in methods:
        check_choice("method", meth, METHODS)
        for L in g["Ls"]:
            for m in g["ms"]:
                Ps: Sequence[int | None]
                if regime == "online":
                    Ps = [None]
                elif g["Ps"] == "decisive":
                    Ps = list(decisive_Ps(g["v"], m, g["s"], L))
                    # Every stride-th P counted from the largest (the planner's thinning).
                    Ps = Ps[::-1][:: int(g.get("P_stride", 1))][::-1]
                else:
                    Ps = list(g["Ps"])
                for seed in g["seeds"]:
                    for P in Ps:
                        if P is None:
                            steps = int(g["max_steps"])
                        else:
                            wanted = math.ceil(g["epochs"] * P / g["batch_size"])
                            steps = int(min(g["max_steps"], max(g["min_steps"], wanted)))
                        out.append(RunSpec(
                            method=meth, v=g["v"], m=m, s=g["s"], L=L, P=P,
                            grammar_seed=seed, data_seed=seed + 1, seed=seed, steps=steps,
                            batch_size=g["batch_size"], lr=float(g["lr"][meth]),
                            model=g[_model_key(meth)].to_dict(), eval=dict(g["eval"].__dict__),
                            eval_at=tuple(g["online_evals"]) if P is None else (),
                            family=family,
                        ))
    return out


def execute_run(
    spec: RunSpec,
    *,
    device: str | torch.device = "auto",
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 0,
    deterministic: bool = False,
    train_overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train and probe one :class:`RunSpec`; resumable through ``checkpoint_dir``.

    With ``checkpoint_dir``, ``<name>.pt`` holds the training state (resumed mid-run) and
    ``<name>.json`` the finished run's rows: a finished run is read back, not retrained.
    """
    done = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{spec.name}.json"
    if done is not None and done.exists():
        rows: list[dict[str, Any]] = json.loads(done.read_text())["rows"]
        for r in rows:  # JSON wrote NaN as null
            if r.get("value") is None:
                r["value"] = math.nan
        return rows
    ck = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{spec.name}.pt"
    res = run_neural(
        spec.method,
        RHMParams(spec.v, spec.m, spec.s, spec.L),
        P=spec.P,
        train_config=TrainConfig(steps=spec.steps, lr=spec.lr, seed=spec.seed,
                                 **(train_overrides or {})),
        model_config=model_config_from_dict(spec.method, spec.model),
        batch_size=spec.batch_size,
        grammar_seed=spec.grammar_seed,
        data_seed=spec.data_seed,
        family=spec.family,
        device=device,
        eval_config=EvalConfig(**spec.eval),
        eval_at=spec.eval_at,
        checkpoint=ck,
        checkpoint_every=checkpoint_every,
        deterministic=deterministic,
    )
    rows = [{**r, "seconds": res.seconds} if r["metric"] == "final_loss" else r
            for r in res.rows]
    if done is not None:
        write_json(done, {"spec": spec.to_dict(), "rows": rows})
    return rows
