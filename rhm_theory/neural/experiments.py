"""Neural runs as tidy result rows: train, probe, and sweep P for the scaling claim."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rhm_theory.model.grammar import Grammar, balanced_grammar, random_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.neural.data import RHMBatches, keep_torch_threads, to_device
from rhm_theory.neural.data2vec import Data2Vec, Data2VecConfig
from rhm_theory.neural.probes import level_probes, matched_accuracy, synonymic_sensitivity
from rhm_theory.neural.slc import SLCConfig, SLCNetwork
from rhm_theory.neural.training import (
    SSLModel,
    TrainConfig,
    TrainResult,
    resolve_device,
    set_determinism,
    train,
)

__all__ = [
    "METHODS",
    "EvalConfig",
    "RunResult",
    "build_model",
    "evaluate",
    "make_grammar",
    "probe_split",
    "probe_thresholds",
    "run_neural",
    "scaling_experiment",
    "scaling_grid",
]

METHODS = ("data2vec", "slc")
_CURVE_METRICS = ("root_probe", "latent_probe", "recovery", "synonymic_sensitivity")
ModelConfig = Data2VecConfig | SLCConfig


@dataclass(frozen=True)
class EvalConfig:
    """What :func:`evaluate` measures and with how much data.

    Parameters
    ----------
    n_probe_train, n_probe_test : int
        Probe strings; drawn *distinct* and disjoint whenever ``P_max`` allows it.
    probe_steps : int
        Optimisation steps of every linear probe.
    pool : {"flatten", "mean"}
        How probes and sensitivities combine positions (see :mod:`rhm_theory.neural.probes`).
    n_sensitivity : int
        Strings used for the synonymic sensitivity.
    seed : int
        Seed of the probe data (kept apart from the training data seeds).
    """

    n_probe_train: int = 1024
    n_probe_test: int = 1024
    probe_steps: int = 2000
    pool: str = "mean"
    n_sensitivity: int = 1024
    seed: int = 10_007


@dataclass
class RunResult:
    """One trained model, its training trace and its result rows."""

    model: SSLModel
    grammar: Grammar
    rows: list[dict[str, Any]]
    train: TrainResult
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def make_grammar(params: RHMParams, seed: int, balanced: bool = False) -> Grammar:
    """The run's grammar: random (the RHM papers' construction) or exactly balanced."""
    return balanced_grammar(params, seed) if balanced else random_grammar(params, seed)


def build_model(
    method: str,
    params: RHMParams,
    config: ModelConfig | None,
    device: torch.device,
    seed: int,
) -> SSLModel:
    """Seeded construction of a ``"data2vec"`` or ``"slc"`` model on ``device``."""
    torch.manual_seed(seed)
    model: SSLModel
    if method == "data2vec":
        if config is not None and not isinstance(config, Data2VecConfig):
            raise TypeError("data2vec needs a Data2VecConfig")
        model = Data2Vec(params, config)
    elif method == "slc":
        if config is not None and not isinstance(config, SLCConfig):
            raise TypeError("slc needs an SLCConfig")
        model = SLCNetwork(params, config)
    else:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return model.to(device)


def _subset(data: Sample, sl: slice) -> Sample:
    levels = None if data.levels is None else tuple(a[sl] for a in data.levels)
    return Sample(data.tokens[sl], levels)


def probe_split(grammar: Grammar, n_train: int, n_test: int, seed: int) -> tuple[Sample, Sample]:
    """Probe training and test strings with latents.

    When ``P_max >= 2 (n_train + n_test)`` they are distinct strings (drawn without
    replacement), so no test string is memorised by the probe; otherwise, when the data
    space is too small, the test set holds the strings not in the training set if there are
    any left, and repeats otherwise.
    """
    with keep_torch_threads():
        return _probe_split(grammar, n_train, n_test, seed)


def _probe_split(grammar: Grammar, n_train: int, n_test: int, seed: int) -> tuple[Sample, Sample]:
    p_max = grammar.params.P_max
    total = n_train + n_test
    if p_max >= 2 * total:
        both = sample(grammar, total, seed, latents=True, replace=False)
        return _subset(both, slice(0, n_train)), _subset(both, slice(n_train, total))
    if p_max > n_train:
        both = sample(grammar, min(p_max, total), seed, latents=True, replace=False)
        return _subset(both, slice(0, n_train)), _subset(both, slice(n_train, None))
    train_s = sample(grammar, n_train, seed, latents=True)
    return train_s, sample(grammar, n_test, seed + 1, latents=True)


def evaluate(
    model: SSLModel,
    grammar: Grammar,
    probe_data: tuple[Sample, Sample],
    *,
    device: torch.device,
    config: EvalConfig,
    base: dict[str, Any],
) -> list[dict[str, Any]]:
    """Probe a trained model; return tidy rows (``base`` plus level, layer, metric, value).

    Metrics: ``root_probe`` (linear root classification from the top layer, test accuracy,
    level ``L``); ``latent_probe`` (per-level linear probes of the latent symbols from the
    top layer); ``synonymic_sensitivity`` (every layer ``k`` and level ``l``); and for the
    SLC network ``recovery`` (Hungarian-matched accuracy of the hard codes of level ``l``).
    """
    p = grammar.params
    train_s, test_s = probe_data
    rows: list[dict[str, Any]] = []

    def row(metric: str, value: float, level: int | None, layer: int | None) -> None:
        rows.append({**base, "level": level, "layer": layer, "metric": metric, "value": value})

    was_training = model.training
    model.eval()
    probes = level_probes(
        model.features,
        train_s,
        test_s,
        device=device,
        steps=config.probe_steps,
        seed=config.seed,
        pool=config.pool,
    )
    n_layers = len(model.features(to_device(test_s.tokens[:2], device)))
    for lvl, res in sorted(probes.items()):
        row("latent_probe", res.test_accuracy, lvl, n_layers - 1)
        if lvl == p.L:
            row("root_probe", res.test_accuracy, lvl, n_layers - 1)
            row("root_probe_train", res.train_accuracy, lvl, n_layers - 1)
    sens_data = _subset(test_s, slice(0, config.n_sensitivity))
    sens = synonymic_sensitivity(
        model.features, grammar, sens_data, device=device, seed=config.seed, pool=config.pool
    )
    for k in range(sens.shape[0]):
        for i in range(sens.shape[1]):
            row("synonymic_sensitivity", float(sens[k, i]), i + 1, k)
    if isinstance(model, SLCNetwork):
        codes = model.codes(to_device(test_s.tokens, device))
        for lvl, c in enumerate(codes, start=1):
            row("recovery", matched_accuracy(c.cpu().numpy(), test_s.level(lvl)), lvl, lvl)
    model.train(was_training)
    return rows


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
    balanced: bool = False,
    device: str | torch.device = "auto",
    eval_config: EvalConfig | None = None,
    eval_at: Sequence[int] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 0,
    deterministic: bool = False,
) -> RunResult:
    """Train one model on one grammar and probe it; rows are tidy dicts.

    Parameters
    ----------
    method : {"data2vec", "slc"}
    params : RHMParams
    P : int or None
        Offline training-set size, or ``None`` for the online regime (fresh strings).
    train_config : TrainConfig
    model_config : Data2VecConfig or SLCConfig or None
    batch_size : int
    grammar_seed, data_seed : int
    balanced : bool
        Use an exactly balanced grammar.
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

    Returns
    -------
    RunResult
    """
    t0 = time.perf_counter()
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    ecfg = eval_config or EvalConfig()
    set_determinism(train_config.seed, deterministic)
    grammar = make_grammar(params, grammar_seed, balanced)
    model = build_model(method, params, model_config, dev, train_config.seed)
    data = RHMBatches(grammar, batch_size, P=P, seed=data_seed, device=dev)
    probe_data = probe_split(grammar, ecfg.n_probe_train, ecfg.n_probe_test, ecfg.seed)
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
        return evaluate(
            model,
            grammar,
            probe_data,
            device=dev,
            config=ecfg,
            base={**base, "P": seen if P is None else P, "samples_seen": seen, "steps": done},
        )

    steps = sorted({*(int(s) for s in eval_at if 0 < s <= train_config.steps), train_config.steps})
    meta = {
        "method": method,
        "params": params.to_dict(),
        "model": cfg_dict,
        "P": P,
        "batch_size": batch_size,
        "grammar_seed": grammar_seed,
        "data_seed": data_seed,
        "balanced": balanced,
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


def _crossing(
    xs: Sequence[float], ys: Sequence[float], target: float, up: bool
) -> tuple[float, str | None]:
    """First ``x`` where ``y`` crosses ``target`` (interpolated linearly in ``log x``).

    Also says whether the value is censored: ``"left"`` when the first point already
    crosses (``P*`` is at most that ``x``), ``"right"`` when no point does (NaN).
    """
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        hit = y >= target if up else y <= target
        if not hit:
            continue
        if i == 0:
            return float(x), "left"
        x0, y0 = xs[i - 1], ys[i - 1]
        if y == y0:
            return float(x), None
        frac = (target - y0) / (y - y0)
        if x0 <= 0:  # e.g. an untrained point at P = 0: no log scale below it
            return float(x0 + frac * (x - x0)), None
        return float(math.exp(math.log(x0) + frac * (math.log(x) - math.log(x0)))), None
    return float("nan"), "right"


def probe_thresholds(
    rows: Iterable[dict[str, Any]],
    *,
    accuracy_fraction: float = 0.5,
    sensitivity_target: float = 0.5,
) -> list[dict[str, Any]]:
    """Sample-complexity thresholds ``P*`` of the probe curves, against ``v m^3``, ``v m^(L+1)``.

    Curves are the rows of one (method, regime, v, m, s, L, n_c, seed, metric, level, layer)
    ordered by ``P`` (the latest evaluation when one ``P`` has several). Accuracy metrics
    (``root_probe``, ``latent_probe``, ``recovery``) cross upwards at
    ``chance + accuracy_fraction * (1 - chance)`` with ``chance = 1 / vocab``;
    ``synonymic_sensitivity`` crosses downwards at ``sensitivity_target``. ``P*`` is
    interpolated linearly in ``log P`` and NaN when the curve never crosses.

    Returns
    -------
    list of dict
        Rows with ``metric = "threshold:<metric>"``, ``value = P*``, ``censored``
        (``"left"``: already crossed at the smallest ``P``, so ``P*`` is an upper bound;
        ``"right"``: never crossed; else ``None``), ``criterion``, ``v_m3``, ``v_mL1``,
        ``P_over_v_m3``, ``P_over_v_mL1``.
    """
    curves: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    keys = ("method", "regime", "v", "m", "s", "L", "n_c", "seed", "metric", "level", "layer")
    for r in rows:
        if r.get("metric") not in _CURVE_METRICS:
            continue
        curves.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    for key, points in sorted(curves.items(), key=lambda kv: repr(kv[0])):
        last: dict[float, dict[str, Any]] = {}
        for r in points:  # several evaluations at one P (e.g. offline --eval-at): keep the last
            if r["P"] not in last or r.get("steps", 0) >= last[r["P"]].get("steps", 0):
                last[r["P"]] = r
        curve = [last[p] for p in sorted(last)]
        first = curve[0]
        v, m, L = int(first["v"]), int(first["m"]), int(first["L"])
        metric = str(first["metric"])
        if metric == "synonymic_sensitivity":
            target, up = sensitivity_target, False
        else:
            n_sym = int(first["n_c"]) if first["level"] == L else v
            chance = 1.0 / n_sym
            target, up = chance + accuracy_fraction * (1.0 - chance), True
        p_star, censored = _crossing(
            [float(r["P"]) for r in curve], [float(r["value"]) for r in curve], target, up
        )
        vm3, vml1 = v * m**3, v * m ** (L + 1)
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "metric": f"threshold:{metric}",
                "value": p_star,
                "censored": censored,
                "criterion": target,
                "v_m3": vm3,
                "v_mL1": vml1,
                "P_over_v_m3": p_star / vm3,
                "P_over_v_mL1": p_star / vml1,
            }
        )
    return out


def _progress_line(rows: list[dict[str, Any]], seconds: float) -> str:
    last_step = max(int(r.get("steps", 0)) for r in rows)
    final = [r for r in rows if r.get("steps") == last_step]  # online: the last evaluation
    first = final[0]
    head = (f"{first['method']} v={first['v']} m={first['m']} L={first['L']} "
            f"seed={first['seed']} P={first['P']}:")
    parts = [
        f"{r['metric']}[{r['level']}]={r['value']:.3f}"
        for r in final
        if r["metric"] in ("root_probe", "recovery")
    ]
    return f"{head} {' '.join(parts)} ({seconds:.1f} s)"


def scaling_grid(full: bool) -> dict[str, Any]:
    """The grid of :func:`scaling_experiment`: small (CPU minutes) or full (a GPU)."""
    if not full:
        return {
            "v": 8,
            "s": 2,
            "Ls": (3,),
            "ms": (2, 3),
            "Ps": (32, 64, 128, 256, 512, 1024, 2048, 4096),
            "steps": 800,
            "batch_size": 64,
            "lr": {"data2vec": 3e-3, "slc": 1e-3},
            "seeds": (0,),
            "data2vec": Data2VecConfig(depth=2, width=32, heads=4, tau_steps=400),
            "slc": SLCConfig(hidden=64, tau_steps=400),
            "eval": EvalConfig(n_probe_train=512, n_probe_test=512, probe_steps=500,
                               n_sensitivity=512),
            "accuracy_fractions": (0.25, 0.5),
            "online_evals": (2, 4, 8, 16, 32, 64, 128, 256, 512, 800),
        }
    return {
        "v": 16,
        "s": 2,
        "Ls": (3, 4),
        "ms": (2, 3, 4),
        "Ps": tuple(2**k for k in range(6, 19)),
        "steps": 20_000,
        "batch_size": 256,
        "lr": {"data2vec": 1e-3, "slc": 1e-3},
        "seeds": (0, 1, 2),
        "data2vec": Data2VecConfig(depth=4, width=256, heads=8, top_k=3, tau_steps=10_000),
        "slc": SLCConfig(hidden=512, tau_steps=10_000),
        "eval": EvalConfig(),
        "accuracy_fractions": (0.25, 0.5),
        "online_evals": (*(2**k for k in range(15)), 20_000),
    }


def scaling_experiment(
    method: str = "both",
    *,
    full: bool = False,
    regime: str = "offline",
    device: str | torch.device = "auto",
    deterministic: bool = False,
    grid: dict[str, Any] | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Sweep over ``P`` for the neural claim: thresholds against ``v m^3`` and ``v m^(L+1)``.

    Offline: for every method, depth ``L``, multiplicity ``m``, seed and training-set size
    ``P`` of the grid (:func:`scaling_grid`; small CPU grid unless ``full``), trains a model
    for a fixed number of steps and probes it (:func:`run_neural`). Online: one run per
    (method, ``L``, ``m``, seed) on fresh strings, probed after each step count of
    ``online_evals`` (``P`` = strings seen). Then appends the threshold rows of
    :func:`probe_thresholds` for every accuracy criterion of the grid. Reported claim:
    thresholds collapse in ``P / (v m^3)``, not ``P / (v m^(L+1))``.

    Parameters
    ----------
    method : {"data2vec", "slc", "both"}
    full : bool
        The bigger grid (meant for a CUDA device).
    regime : {"offline", "online"}
    device : str or torch.device
    deterministic : bool
    grid : dict or None
        Overrides of :func:`scaling_grid` entries.
    checkpoint_dir : path or None
        One checkpoint per run in this folder; an interrupted sweep resumes where it
        stopped (finished runs are read back, rows included, without retraining).
    checkpoint_every : int
        Steps between checkpoints within a run (0: only at its end).
    progress : callable or None
        Receives one line per finished run.

    Returns
    -------
    list of dict
        Every run's rows followed by the threshold rows.
    """
    methods = METHODS if method == "both" else (method,)
    for m_ in methods:
        if m_ not in METHODS:
            raise ValueError(f"method must be one of {(*METHODS, 'both')}, got {method!r}")
    if regime not in ("offline", "online"):
        raise ValueError(f"regime must be 'offline' or 'online', got {regime!r}")
    g = {**scaling_grid(full), **(grid or {})}
    online = regime == "online"
    rows: list[dict[str, Any]] = []
    for meth in methods:
        for L in g["Ls"]:
            for m in g["ms"]:
                params = RHMParams(g["v"], m, g["s"], L)
                for seed in g["seeds"]:
                    for P in [None] if online else g["Ps"]:
                        name = f"{meth}_v{g['v']}_m{m}_L{L}_seed{seed}_" + (
                            "online" if P is None else f"P{P}"
                        )
                        ck = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{name}.pt"
                        res = run_neural(
                            meth,
                            params,
                            P=None if P is None else int(P),
                            train_config=TrainConfig(
                                steps=g["steps"], lr=g["lr"][meth], seed=seed
                            ),
                            model_config=g[meth],
                            batch_size=g["batch_size"],
                            grammar_seed=seed,
                            data_seed=seed + 1,
                            device=device,
                            eval_config=g["eval"],
                            eval_at=g["online_evals"] if online else (),
                            checkpoint=ck,
                            checkpoint_every=checkpoint_every,
                            deterministic=deterministic,
                        )
                        rows.extend(res.rows)
                        if progress is not None:
                            progress(_progress_line(res.rows, res.seconds))
    thresholds = []
    for frac in g["accuracy_fractions"]:
        thresholds.extend(probe_thresholds(rows, accuracy_fraction=frac))
    # Sensitivity thresholds do not depend on the accuracy criterion: keep one copy.
    seen: set[tuple[Any, ...]] = set()
    for r in thresholds:
        key = tuple(sorted((k, repr(v)) for k, v in r.items()))
        if key not in seen:
            seen.add(key)
            rows.append(r)
    return rows
