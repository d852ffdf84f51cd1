"""Neural runs as tidy result rows: train, probe, and sweep P for the scaling claim."""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rhm_theory.algorithms.crossing import crossing_point
from rhm_theory.inference.baselines import bayes_masked_token_baseline, bayes_root_baseline
from rhm_theory.io import write_json
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.model.spec import GRAMMAR_FAMILIES, GrammarFamily, GrammarSpec
from rhm_theory.neural.data import RHMBatches, keep_torch_threads, to_device
from rhm_theory.neural.data2vec import Data2Vec, Data2VecConfig
from rhm_theory.neural.ema import EMASchedule
from rhm_theory.neural.mlm import MaskedLM
from rhm_theory.neural.probes import level_probes, recovery_accuracy, synonymic_sensitivity
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
    "EvalConfig",
    "RunResult",
    "RunSpec",
    "add_thresholds",
    "bayes_references",
    "build_model",
    "decisive_Ps",
    "density_evolution_mask_threshold",
    "evaluate",
    "execute_run",
    "grid_runs",
    "mask_blocks",
    "model_config_from_dict",
    "probe_split",
    "probe_thresholds",
    "run_neural",
    "scaling_experiment",
    "scaling_grid",
]

#: ``slc-sg``: the SLC network with stop-gradients between modules (local learning).
METHODS = ("data2vec", "mlm", "slc", "slc-sg")
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
        How latent probes and sensitivities combine positions (see
        :mod:`rhm_theory.neural.probes`).
    root_pool : {"flatten", "mean"} or None
        How the root probe combines the top layer's positions. ``"flatten"`` concatenates
        them in order, so it separates ``(a, b)`` from ``(b, a)``; an average cannot.
        ``None``: ``"flatten"`` for the SLC network (``s`` top codes), ``pool`` for the
        transformers (their positions are already mixed by attention and positional
        embeddings; flattening ``s^L`` positions would give the probe more features than
        strings).
    n_sensitivity : int
        Strings used for the synonymic sensitivity.
    seed : int
        Seed of the probe data (kept apart from the training data seeds).
    mask_threshold : bool
        Report the mask channel's inference threshold ``eps_c`` (density evolution, see
        :func:`density_evolution_mask_threshold`) next to the masked-token accuracy; a few
        CPU seconds per grammar, so off by default (the ``neural`` commands turn it on).
    """

    n_probe_train: int = 1024
    n_probe_test: int = 1024
    probe_steps: int = 2000
    pool: str = "mean"
    root_pool: str | None = None
    n_sensitivity: int = 1024
    seed: int = 10_007
    mask_threshold: bool = False


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


def mask_blocks(params: RHMParams, config: ModelConfig) -> tuple[float, int] | None:
    """The training mask as ``(mask_frac, block_level)`` of :func:`random_mask`, or None.

    A data2vec / masked-LM mask of ``mask_span = s**k`` positions (aligned when ``k > 0``)
    hides exactly ``max(1, round(mask_ratio * s**(L - k)))`` level-``k`` blocks of each
    string, the mask of :func:`rhm_theory.inference.corruption.random_mask` with that
    fraction of the blocks. ``None``: no mask (SLC) or a span mask that is not a block mask
    (unaligned spans, or a span that is not a power of ``s``).

    >>> from rhm_theory.neural.data2vec import Data2VecConfig
    >>> p = RHMParams(v=4, m=2, s=2, L=3)
    >>> mask_blocks(p, Data2VecConfig(mask_ratio=0.3)), mask_blocks(p, Data2VecConfig(
    ...     mask_ratio=0.5, mask_span=2, mask_align=True))
    ((0.25, 0), (0.5, 1))
    """
    if not isinstance(config, Data2VecConfig):
        return None
    k = round(math.log(config.mask_span, params.s)) if config.mask_span > 1 else 0
    if params.s**k != config.mask_span or (k > 0 and not config.mask_align) or k > params.L:
        return None
    n_blocks = params.s ** (params.L - k)
    n_masked = min(n_blocks, max(1, round(config.mask_ratio * n_blocks)))
    return n_masked / n_blocks, k


def bayes_references(grammar: Grammar, model: SSLModel, config: EvalConfig) -> dict[str, Any]:
    """Bayes-optimal accuracies the model's root probe and masked prediction are set against.

    ``bayes_root_accuracy``: :func:`~rhm_theory.inference.bayes_root_baseline` on
    ``config.n_probe_test`` fresh strings (seed ``config.seed``) without a mask, since the
    root probe reads features of unmasked strings (1 for an unambiguous grammar).
    ``bayes_masked_accuracy``: :func:`~rhm_theory.inference.bayes_masked_token_baseline`
    at the model's training mask (:func:`mask_blocks`), NaN without a block mask;
    ``mask_frac`` and ``block_level`` name that mask.
    """
    blocks = mask_blocks(grammar.params, model.config)
    out: dict[str, Any] = {
        "bayes_root_accuracy": bayes_root_baseline(grammar, config.n_probe_test,
                                                   config.seed).accuracy,
        "bayes_masked_accuracy": math.nan, "mask_frac": None, "block_level": None,
        "mask_threshold": math.nan}
    if blocks is not None:
        out.update(mask_frac=blocks[0], block_level=blocks[1],
                   bayes_masked_accuracy=bayes_masked_token_baseline(
                       grammar, config.n_probe_test, config.seed, blocks[0],
                       block_level=blocks[1]).accuracy)
        if config.mask_threshold:
            out["mask_threshold"] = density_evolution_mask_threshold(grammar, blocks[0],
                                                                     blocks[1])
    return out


def density_evolution_mask_threshold(grammar: Grammar, mask_frac: float,
                                     block_level: int) -> float:
    """The mask channel's ``eps_c`` of ``grammar`` by density evolution (token masks only).

    ``nan`` for block masks above the tokens (``block_level > 0``: density evolution erases
    single leaves) and for grammars whose levels cannot be cycled beyond ``L`` (``n_c != v``).
    Cached per grammar: a run evaluates the same grammar many times.
    """
    if block_level != 0 or grammar.params.n_c != grammar.params.v:
        return math.nan
    return _mask_eps_c(grammar)


@functools.lru_cache(maxsize=8)
def _mask_eps_c(grammar: Grammar) -> float:
    # eps_c is the grammar's (the mask fraction only places a run against it).
    from rhm_theory.inference import inference_threshold

    return float(inference_threshold(grammar, "mask", tol=0.02, confirm=False).eps_c)


def evaluate(
    model: SSLModel,
    grammar: Grammar,
    probe_data: tuple[Sample, Sample],
    *,
    device: torch.device,
    config: EvalConfig,
    base: dict[str, Any],
    bayes: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Probe a trained model; return tidy rows (``base`` plus level, layer, metric, value).

    Metrics: ``root_probe`` (linear root classification from the top layer, test accuracy,
    level ``L``, with ``bayes_root_accuracy``); ``latent_probe`` (per-level linear probes
    of the latent symbols from the top layer); ``synonymic_sensitivity`` (every layer
    ``k`` and level ``l``); for the masked LM ``masked_prediction`` (accuracy of the
    predicted tokens at the positions of a training-like mask on the probe test strings,
    level 0, with ``bayes_masked_accuracy``, ``mask_frac`` and ``block_level``); and for
    the SLC network ``recovery`` (Hungarian-matched accuracy of the hard codes of level
    ``l``). ``bayes``: :func:`bayes_references` of this grammar, model and ``config``
    (computed when not given; it does not depend on the training).
    """
    p = grammar.params
    ref = bayes if bayes is not None else bayes_references(grammar, model, config)
    train_s, test_s = probe_data
    rows: list[dict[str, Any]] = []

    def row(metric: str, value: float, level: int | None, layer: int | None) -> None:
        rows.append({**base, "level": level, "layer": layer, "metric": metric, "value": value})

    was_training = model.training
    model.eval()
    is_slc = isinstance(model, SLCNetwork)
    root_pool = config.root_pool or ("flatten" if is_slc else config.pool)
    probes = level_probes(
        model.features,
        train_s,
        test_s,
        device=device,
        levels=list(range(1, p.L)),
        steps=config.probe_steps,
        seed=config.seed,
        pool=config.pool,
    )
    probes.update(
        level_probes(model.features, train_s, test_s, device=device, levels=[p.L],
                     steps=config.probe_steps, seed=config.seed, pool=root_pool)
    )
    n_layers = len(model.features(to_device(test_s.tokens[:2], device)))
    for lvl, res in sorted(probes.items()):
        row("latent_probe", res.test_accuracy, lvl, n_layers - 1)
        if lvl == p.L:
            row("root_probe", res.test_accuracy, lvl, n_layers - 1)
            rows[-1]["bayes_root_accuracy"] = ref["bayes_root_accuracy"]
            row("root_probe_train", res.train_accuracy, lvl, n_layers - 1)
    if isinstance(model, MaskedLM):
        gen = torch.Generator().manual_seed(config.seed)
        acc = model.masked_accuracy(to_device(test_s.tokens, device), gen)
        row("masked_prediction", acc, 0, None)
        rows[-1].update({k: ref.get(k, math.nan) for k in (
            "bayes_masked_accuracy", "mask_frac", "block_level", "mask_threshold")})
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
            row("recovery", recovery_accuracy(c.cpu().numpy(), test_s.level(lvl)), lvl, lvl)
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
    family: GrammarFamily = "random",
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
        return evaluate(
            model,
            grammar,
            probe_data,
            device=dev,
            config=ecfg,
            base={**base, "P": seen if P is None else P, "samples_seen": seen, "steps": done},
            bayes=bayes,
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


def _censored_crossing(
    Ps: Sequence[float], ys: Sequence[float], target: float, up: bool
) -> tuple[float, str | None]:
    """:func:`crossing_point` (rule ``"last"``) of an upward or downward curve, with censoring.

    A downward crossing of ``target`` is the upward crossing of ``-y`` at ``-target``.
    ``"right"``: the curve ends on the near side (NaN); ``"left"``: every point is already
    across (``P*`` = the smallest ``P``, only an upper bound). An untrained model sits at
    ``P = 0``, outside ``crossing_point``'s log scale: when it is the last point on the near
    side, the crossing is interpolated linearly in ``P`` up to the first ``P > 0``.
    """
    sign = 1.0 if up else -1.0
    p = np.asarray(Ps, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    p, y = p[order], sign * np.asarray(ys, dtype=np.float64)[order]
    t = sign * float(target)
    pos = p > 0
    p_star = crossing_point(p[pos], y[pos], t, rule="last") if pos.any() else math.nan
    if math.isnan(p_star):
        return p_star, "right"
    if bool(np.all(y >= t)):
        return float(p[0]), "left"
    if bool(np.all(y[pos] >= t)):  # only the untrained points (P = 0) are short of it
        i = int(np.flatnonzero(y < t)[-1])
        frac = (t - y[i]) / (y[i + 1] - y[i])
        return float(p[i] + frac * (p[i + 1] - p[i])), None
    return p_star, None


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
    ``synonymic_sensitivity`` crosses downwards at ``sensitivity_target``. ``P*`` is the
    last crossing (:func:`rhm_theory.algorithms.crossing.crossing_point`, rule ``"last"``),
    interpolated linearly in ``log P``, NaN when the curve ends on the near side.

    Returns
    -------
    list of dict
        Rows with ``metric = "threshold:<metric>"``, ``value = P*``, ``censored``
        (``"left"``: already crossed at the smallest ``P``, so ``P*`` is an upper bound;
        ``"right"``: never crossed; else ``None``), ``criterion``, ``v_m3``, ``v_mL1``,
        ``P_over_v_m3``, ``P_over_v_mL1``.
    """
    curves: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    keys = ("method", "regime", "v", "m", "s", "L", "n_c", "seed", "grammar_seed", "metric",
            "level", "layer")
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
        p_star, censored = _censored_crossing(
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


def _pow2_floor(x: float) -> int:
    return 1 << max(0, math.floor(math.log2(max(x, 1.0))))


def decisive_Ps(v: int, m: int, s: int, L: int, margin: float = 2.0) -> tuple[int, ...]:
    """Training-set sizes that bracket both predictions of a cell, powers of 2.

    From below ``v m^3 / margin`` to above ``margin * v m^(L+1)``, never more than a
    quarter of the ``P_max`` distinct strings (a training set must not be most of the
    data space).

    >>> decisive_Ps(8, 3, 2, 3)  # v m^3 = 216, v m^4 = 648
    (64, 128, 256, 512, 1024, 2048)
    """
    lo = _pow2_floor(v * m**3 / margin)
    hi = 2 * _pow2_floor(margin * v * m ** (L + 1))
    cap = RHMParams(v, m, s, L).P_max // 4
    out = []
    P = lo
    while P <= hi and P <= cap:
        out.append(P)
        P *= 2
    return tuple(out)


def scaling_grid(name: str | bool = "cpu") -> dict[str, Any]:
    """A grid of :func:`scaling_experiment` (and of the planner).

    ``"quick"``: the claim checks' CPU configuration (about two minutes on 2 cores; two
    depths, too few to decide). ``"cpu"``: the older small CPU grid. ``"decisive"``: the
    planner's default GPU grid, built to separate ``v m^3`` from ``v m^(L+1)``: ``v = 8``
    (so ``f = m / v < 1`` keeps correlations), ``m`` in {3, 4}, ``L`` from 3 to 6 (the two
    predictions differ by ``m^(L-2)``, a factor 3 to 256), three grammar seeds, ``P``
    from :func:`decisive_Ps`, and ``steps = clip(epochs * P / B, min_steps, max_steps)``.
    ``True`` / ``False`` mean ``"decisive"`` / ``"cpu"`` (the old ``full`` flag).
    """
    if isinstance(name, bool):
        name = "decisive" if name else "cpu"
    check_choice("grid", name, ("quick", "cpu", "decisive"))
    if name == "quick":
        return {
            "v": 8, "s": 2, "Ls": (3, 4), "ms": (3,), "Ps": (128, 2048),
            "epochs": 0, "min_steps": 150, "max_steps": 150, "batch_size": 64,
            "lr": {"data2vec": 3e-3, "mlm": 3e-3, "slc": 1e-3, "slc-sg": 1e-3},
            "seeds": (0, 1),
            "data2vec": Data2VecConfig(depth=2, width=32, heads=4),
            "slc": SLCConfig(hidden=32, ema=EMASchedule(tau0=0.9, tau_end=0.99, tau_steps=50)),
            "eval": EvalConfig(n_probe_train=256, n_probe_test=256, probe_steps=150,
                               n_sensitivity=128),
            "accuracy_fractions": (0.5,),
            "online_evals": (2, 8, 32, 150),
        }
    if name == "cpu":
        return {
            "v": 8, "s": 2, "Ls": (3,), "ms": (2, 3),
            "Ps": (32, 64, 128, 256, 512, 1024, 2048, 4096),
            "epochs": 0, "min_steps": 800, "max_steps": 800, "batch_size": 64,
            "lr": {"data2vec": 3e-3, "mlm": 3e-3, "slc": 1e-3, "slc-sg": 1e-3},
            "seeds": (0,),
            "data2vec": Data2VecConfig(depth=2, width=32, heads=4),
            "slc": SLCConfig(hidden=64, ema=EMASchedule(tau0=0.99, tau_end=0.999,
                                                         tau_steps=400)),
            "eval": EvalConfig(n_probe_train=512, n_probe_test=512, probe_steps=500,
                               n_sensitivity=512),
            "accuracy_fractions": (0.25, 0.5),
            "online_evals": (2, 4, 8, 16, 32, 64, 128, 256, 512, 800),
        }
    return {
        "v": 8, "s": 2, "Ls": (3, 4, 5, 6), "ms": (3, 4), "Ps": "decisive",
        "epochs": 20, "min_steps": 2000, "max_steps": 20_000, "batch_size": 256,
        "lr": {"data2vec": 1e-3, "mlm": 1e-3, "slc": 1e-3, "slc-sg": 1e-3},
        "seeds": (0, 1, 2),
        "data2vec": Data2VecConfig(depth=4, width=128, heads=4, top_k=3),
        "slc": SLCConfig(hidden=256),
        "eval": EvalConfig(n_probe_train=2048, n_probe_test=1024, probe_steps=1000,
                           n_sensitivity=1024),
        "accuracy_fractions": (0.5,),
        "online_evals": (*(2**k for k in range(15)), 20_000),
    }


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


def add_thresholds(rows: list[dict[str, Any]], accuracy_fractions: Sequence[float]) -> None:
    """Append :func:`probe_thresholds` rows for every accuracy criterion, without repeats."""
    thresholds = []
    for frac in accuracy_fractions:
        thresholds.extend(probe_thresholds(rows, accuracy_fraction=frac))
    # Sensitivity thresholds do not depend on the accuracy criterion: keep one copy.
    seen: set[tuple[Any, ...]] = set()
    for r in thresholds:
        key = tuple(sorted((k, repr(v)) for k, v in r.items()))
        if key not in seen:
            seen.add(key)
            rows.append(r)


def scaling_experiment(
    method: str | Sequence[str] = "both",
    *,
    full: bool = False,
    grid_name: str | None = None,
    regime: str = "offline",
    device: str | torch.device = "auto",
    deterministic: bool = False,
    grid: dict[str, Any] | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 0,
    progress: Callable[[str], None] | None = None,
    family: GrammarFamily | None = None,
) -> list[dict[str, Any]]:
    """Sweep over ``P`` for the neural claims: thresholds against ``v m^3`` and ``v m^(L+1)``.

    Offline: for every method, depth ``L``, multiplicity ``m``, seed and training-set size
    ``P`` of the grid (:func:`scaling_grid`, :func:`grid_runs`), trains a model and probes
    it (:func:`execute_run`). Online: one run per (method, ``L``, ``m``, seed) on fresh
    strings, probed after each step count of ``online_evals`` (``P`` = strings seen). Then
    appends the threshold rows of :func:`probe_thresholds` for every accuracy criterion.
    Reported claim: data2vec and SLC thresholds collapse in ``P / (v m^3)``; the MLM
    baseline's in ``P / (v m^(L+1))``.

    Parameters
    ----------
    method : str or sequence of str
        Methods of ``METHODS``; ``"both"`` means data2vec and slc, ``"all"`` all four.
    full : bool
        The decisive grid (meant for a CUDA device); ``grid_name`` takes precedence.
    grid_name : {"quick", "cpu", "decisive"} or None
    regime : {"offline", "online"}
    device : str or torch.device
    deterministic : bool
    grid : dict or None
        Overrides of :func:`scaling_grid` entries.
    checkpoint_dir : path or None
        Checkpoints and finished rows per run (see :func:`execute_run`): an interrupted
        sweep resumes where it stopped.
    checkpoint_every : int
        Steps between checkpoints within a run (0: only at its end).
    progress : callable or None
        Receives one line per finished run.
    family : str or None
        Grammar family of every run (overrides the grid's ``"family"``; default random).

    Returns
    -------
    list of dict
        Every run's rows followed by the threshold rows.
    """
    if isinstance(method, str):
        methods: tuple[str, ...] = {"both": ("data2vec", "slc"), "all": METHODS}.get(
            method, (method,))
    else:
        methods = tuple(method)
    for m_ in methods:
        check_choice("method", m_, METHODS)
    check_choice("regime", regime, ("offline", "online"))
    g = {**scaling_grid(grid_name if grid_name is not None else full), **(grid or {})}
    if family is not None:
        g["family"] = family
    rows: list[dict[str, Any]] = []
    for spec in grid_runs(g, methods, regime):
        t0 = time.perf_counter()
        run_rows = execute_run(spec, device=device, checkpoint_dir=checkpoint_dir,
                               checkpoint_every=checkpoint_every, deterministic=deterministic)
        rows.extend(run_rows)
        if progress is not None:
            progress(_progress_line(run_rows, time.perf_counter() - t0))
    add_thresholds(rows, g["accuracy_fractions"])
    return rows
