"""Probes shared by both neural validators: linear latent/root probes, synonymic sensitivity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from rhm_theory.algorithms.metrics import matched_accuracy as _matched_accuracy
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.sampling import Sample
from rhm_theory.neural.data import to_device
from rhm_theory.neural.synonyms import synonym_swap

__all__ = [
    "FeatureFn",
    "ProbeResult",
    "compute_features",
    "level_probes",
    "linear_probe",
    "node_features",
    "recovery_accuracy",
    "root_probe",
    "synonymic_sensitivity",
]

#: Maps int64 tokens ``(B, T)`` on the device to layer outputs ``[(B, T_k, D_k), ...]``.
FeatureFn = Callable[[torch.Tensor], list[torch.Tensor]]


@dataclass(frozen=True)
class ProbeResult:
    """Accuracies of a trained linear probe."""

    train_accuracy: float
    test_accuracy: float


def compute_features(
    features: FeatureFn,
    tokens: npt.NDArray[Any],
    device: torch.device | str,
    chunk: int = 2048,
) -> list[torch.Tensor]:
    """Layer outputs of ``tokens`` (host array), computed in chunks, kept on the device."""
    parts: list[list[torch.Tensor]] = []
    with torch.no_grad():
        for i in range(0, len(tokens), chunk):
            parts.append([f.float() for f in features(to_device(tokens[i : i + chunk], device))])
    return [torch.cat([p[k] for p in parts]) for k in range(len(parts[0]))]


def node_features(layer: torch.Tensor, n_nodes: int, pool: str = "flatten") -> torch.Tensor:
    """Per-node features from the outputs of the positions below each node.

    Parameters
    ----------
    layer : Tensor
        ``(N, T, D)`` outputs of one layer (``T`` positions left to right).
    n_nodes : int
        Nodes of the probed level; must divide ``T``.
    pool : {"flatten", "mean"}
        Concatenate the positions below a node, or average them.

    Returns
    -------
    Tensor
        ``(N * n_nodes, (T // n_nodes) * D)`` (flatten) or ``(N * n_nodes, D)`` (mean),
        node-major within each string.
    """
    n, t, d = layer.shape
    if t % n_nodes != 0:
        raise ValueError(f"a layer with {t} positions cannot be split over {n_nodes} nodes")
    if pool == "flatten":
        return layer.reshape(n * n_nodes, (t // n_nodes) * d)
    if pool == "mean":
        return layer.reshape(n * n_nodes, t // n_nodes, d).mean(1)
    raise ValueError(f"pool must be 'flatten' or 'mean', got {pool!r}")


def linear_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    n_classes: int,
    *,
    steps: int = 2000,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> ProbeResult:
    """Train a linear classifier on frozen features (full-batch Adam) and score it.

    Features are standardised with the training mean and standard deviation.

    Parameters
    ----------
    train_x, test_x : Tensor
        ``(N, D)`` features (same device).
    train_y, test_y : Tensor
        int64 labels ``(N,)``.
    n_classes : int
    steps : int
        Optimisation steps (2000 by default).
    lr, weight_decay : float
    seed : int
        Seed of the probe's initialisation.
    """
    dev = train_x.device
    mean = train_x.mean(0, keepdim=True)
    std = train_x.std(0, keepdim=True).clamp_min(1e-6)
    xtr = (train_x - mean) / std
    xte = (test_x - mean) / std
    gen = torch.Generator(device="cpu").manual_seed(seed)
    w = (torch.randn(xtr.shape[1], n_classes, generator=gen) * 0.01).to(dev).requires_grad_()
    b = torch.zeros(n_classes, device=dev, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, weight_decay=weight_decay)
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(xtr @ w + b, train_y)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
    with torch.no_grad():
        tr = (xtr @ w + b).argmax(1).eq(train_y).float().mean().item()
        te = (xte @ w + b).argmax(1).eq(test_y).float().mean().item()
    return ProbeResult(float(tr), float(te))


def level_probes(
    features: FeatureFn,
    train: Sample,
    test: Sample,
    *,
    device: torch.device | str,
    layer: int = -1,
    levels: Sequence[int] | None = None,
    steps: int = 2000,
    seed: int = 0,
    pool: str = "flatten",
) -> dict[int, ProbeResult]:
    """Per-level linear probes of the latent symbols from one layer's features.

    A level-``l`` node is represented by the concatenated outputs of the layer positions
    below it; one probe per level is shared by all its nodes. Level ``L`` is the root probe.
    Levels finer than the layer's resolution are skipped.

    Parameters
    ----------
    features : FeatureFn
    train, test : Sample
        Strings with latents.
    device : torch.device or str
    layer : int
        Index into the feature list (default: the top layer).
    levels : sequence of int or None
        Levels ``1..L`` to probe (default: all that the layer resolves).
    steps : int
        Probe optimisation steps.
    seed : int
    pool : {"flatten", "mean"}
        How the positions below a node are combined (:func:`node_features`).
    """
    if train.levels is None or test.levels is None:
        raise ValueError("probe samples must hold latents: sample(..., latents=True)")
    n_levels = len(train.levels)
    f_train = compute_features(features, train.tokens, device)[layer]
    f_test = compute_features(features, test.tokens, device)[layer]
    out: dict[int, ProbeResult] = {}
    for lvl in levels if levels is not None else range(1, n_levels + 1):
        y_train_np = train.level(lvl).astype(np.int64)
        n_nodes = y_train_np.shape[1]
        if f_train.shape[1] % n_nodes != 0 or f_train.shape[1] < n_nodes:
            continue
        y_test_np = test.level(lvl).astype(np.int64)
        n_classes = int(max(y_train_np.max(), y_test_np.max())) + 1
        out[lvl] = linear_probe(
            node_features(f_train, n_nodes, pool),
            torch.from_numpy(y_train_np.reshape(-1)).to(f_train.device),
            node_features(f_test, n_nodes, pool),
            torch.from_numpy(y_test_np.reshape(-1)).to(f_test.device),
            n_classes,
            steps=steps,
            seed=seed,
        )
    return out


def root_probe(
    features: FeatureFn,
    train: Sample,
    test: Sample,
    *,
    device: torch.device | str,
    layer: int = -1,
    steps: int = 2000,
    seed: int = 0,
    pool: str = "flatten",
) -> ProbeResult:
    """Linear root-classification probe on the whole output of one layer (flattened or mean)."""
    if train.levels is None:
        raise ValueError("probe samples must hold latents: sample(..., latents=True)")
    top = len(train.levels)
    res = level_probes(
        features, train, test, device=device, layer=layer, levels=[top], steps=steps, seed=seed,
        pool=pool,
    )
    return res[top]


def _pooled(layer: torch.Tensor, pool: str) -> torch.Tensor:
    return node_features(layer, 1, pool)


def synonymic_sensitivity(
    features: FeatureFn,
    grammar: Grammar,
    data: Sample,
    *,
    device: torch.device | str,
    seed: int = 0,
    levels: Sequence[int] | None = None,
    pool: str = "flatten",
) -> npt.NDArray[np.float64]:
    """Synonymic sensitivity ``S[k, l]`` of every layer ``k`` to synonym swaps at level ``l``.

    ``S_{k,l} = <||f_k(x) - f_k(P_l x)||^2> / <||f_k(x) - f_k(y)||^2>`` with ``P_l`` the swap
    of :func:`rhm_theory.neural.synonyms.synonym_swap` and ``y`` an independent string (the
    next string of ``data``, cyclically). Layer outputs are flattened over positions
    (``pool="flatten"``, the PRX definition) or averaged over them (``pool="mean"``).

    Parameters
    ----------
    features : FeatureFn
    grammar : Grammar
    data : Sample
        Strings with latents (at least 2).
    device : torch.device or str
    seed : int
        Randomness of the swaps.
    levels : sequence of int or None
        Levels ``1..L`` (default: all).
    pool : {"flatten", "mean"}

    Returns
    -------
    ndarray
        ``(n_layers, len(levels))``; column ``i`` is ``levels[i]``.
    """
    p = grammar.params
    lvls = list(levels) if levels is not None else list(range(1, p.L + 1))
    if len(data) < 2:
        raise ValueError("synonymic sensitivity needs at least 2 strings")
    base = [_pooled(f, pool) for f in compute_features(features, data.tokens, device)]
    other = [torch.roll(f, shifts=-1, dims=0) for f in base]
    denom = [((a - b) ** 2).sum(1).mean().item() for a, b in zip(base, other, strict=True)]
    out = np.empty((len(base), len(lvls)), dtype=np.float64)
    rng = np.random.default_rng([int(seed), 0x5707])
    for i, lvl in enumerate(lvls):
        swapped = synonym_swap(grammar, data, lvl, rng)
        feats = [_pooled(f, pool) for f in compute_features(features, swapped.tokens, device)]
        for k, (a, b) in enumerate(zip(base, feats, strict=True)):
            num = ((a - b) ** 2).sum(1).mean().item()
            out[k, i] = num / denom[k] if denom[k] > 0 else float("nan")
    return out


def recovery_accuracy(predicted: npt.ArrayLike, true: npt.ArrayLike) -> float:
    """Recovery of latent symbols by codes: the accuracy of
    :func:`rhm_theory.algorithms.metrics.matched_accuracy` (best one-to-one relabelling,
    Hungarian), with the number of symbols read from ``true``.

    Extra predicted labels (more codes than symbols) match nothing and count as errors.

    >>> recovery_accuracy([1, 1, 0, 0, 2], [0, 0, 1, 1, 1])
    0.8
    """
    tr = np.asarray(true, dtype=np.int64).reshape(-1)
    if tr.size == 0:
        raise ValueError("predicted and true must be non-empty and of equal size")
    return _matched_accuracy(predicted, tr, int(tr.max()) + 1)[0]
