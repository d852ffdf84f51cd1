"""Probing a trained model: the evaluation rows of one neural run (probes, code recovery,
synonymic sensitivity, Bayes-optimal references, the mask channel's threshold)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import torch

from rhm_theory.inference.baselines import bayes_masked_token_baseline, bayes_root_baseline
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.neural.data import keep_torch_threads, to_device
from rhm_theory.neural.data2vec import Data2VecConfig
from rhm_theory.neural.mlm import MaskedLM
from rhm_theory.neural.probes import level_probes, recovery_accuracy, synonymic_sensitivity
from rhm_theory.neural.slc import SLCConfig, SLCNetwork
from rhm_theory.neural.training import (
    SSLModel,
)

__all__ = [
    "EvalConfig",
    "bayes_references",
    "density_evolution_mask_threshold",
    "evaluate",
    "mask_blocks",
    "probe_split",
]


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
