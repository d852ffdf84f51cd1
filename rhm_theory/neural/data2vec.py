"""data2vec on RHM strings: a masked transformer student regressing an EMA teacher's layers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rhm_theory.model.params import RHMParams
from rhm_theory.neural.data import one_hot
from rhm_theory.neural.ema import ema_decay, ema_update, make_teacher

__all__ = [
    "Data2Vec",
    "Data2VecConfig",
    "TransformerEncoder",
    "make_mask",
    "masked_regression_loss",
    "teacher_targets",
]

_POS_EMB = ("learned", "sinusoidal", "none")
_TARGET_NORM = ("instance", "layer", "none")
_PROBE_FEATURES = ("layers", "context")


@dataclass(frozen=True)
class Data2VecConfig:
    """Architecture and self-distillation settings of :class:`Data2Vec`.

    Parameters
    ----------
    depth, width, heads, mlp_ratio : int
        Transformer blocks, model width, attention heads, MLP hidden size / width.
    pos_emb : {"learned", "sinusoidal", "none"}
        Positional embeddings added to the token embeddings.
    top_k : int
        Number of top teacher blocks averaged into the targets.
    target_norm : {"instance", "layer", "none"}
        Normalisation of every teacher block output before averaging: instance norm
        (each channel over the positions of one string, data2vec's default) or layer norm.
    tau0, tau_end : float
        EMA decay rises linearly from ``tau0`` to ``tau_end`` ...
    tau_steps : int
        ... over the first ``tau_steps`` steps, then stays at ``tau_end``.
    mask_ratio : float
        Fraction of positions masked in ``(0, 1]``.
    mask_span : int
        Length of the masked spans (1 = single tokens).
    mask_align : bool
        Spans start at multiples of ``mask_span`` (non-overlapping blocks; with
        ``mask_span = s`` every masked span is a whole level-1 tuple).
    loss_beta : float
        0 for the squared error; > 0 for data2vec's smooth-L1 loss with this ``beta``.
    probe_features : {"layers", "context"}
        What :meth:`Data2Vec.features` returns to the probes: ``"layers"`` the layer outputs
        on the unmasked string; ``"context"`` every block's output at the positions of each
        level-1 tuple computed with that tuple masked (the student's representation of a
        node from its context alone; see :meth:`Data2Vec.context_features`).
    """

    depth: int = 2
    width: int = 64
    heads: int = 4
    mlp_ratio: int = 4
    pos_emb: str = "learned"
    top_k: int = 2
    target_norm: str = "instance"
    tau0: float = 0.999
    tau_end: float = 0.9999
    tau_steps: int = 1000
    mask_ratio: float = 0.5
    mask_span: int = 1
    mask_align: bool = False
    loss_beta: float = 0.0
    probe_features: str = "layers"

    def __post_init__(self) -> None:
        for name in ("depth", "width", "heads", "mlp_ratio", "top_k", "mask_span"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.width % self.heads != 0:
            raise ValueError(f"width must be a multiple of heads, got {self.width}/{self.heads}")
        if self.top_k > self.depth:
            raise ValueError(f"top_k must satisfy top_k <= depth, got {self.top_k} > {self.depth}")
        if self.pos_emb not in _POS_EMB:
            raise ValueError(f"pos_emb must be one of {_POS_EMB}, got {self.pos_emb!r}")
        if self.target_norm not in _TARGET_NORM:
            raise ValueError(f"target_norm must be one of {_TARGET_NORM}, got {self.target_norm!r}")
        if not 0.0 < self.mask_ratio <= 1.0:
            raise ValueError(f"mask_ratio must lie in (0, 1], got {self.mask_ratio}")
        if self.probe_features not in _PROBE_FEATURES:
            raise ValueError(
                f"probe_features must be one of {_PROBE_FEATURES}, got {self.probe_features!r}"
            )
        if self.loss_beta < 0:
            raise ValueError(f"loss_beta must be >= 0, got {self.loss_beta}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for checkpoints and result rows)."""
        return asdict(self)


def _sinusoidal(length: int, width: int) -> torch.Tensor:
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, width, 2, dtype=torch.float32) / width)
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: width // 2])
    return table


class _Block(nn.Module):
    """Pre-norm transformer block (self-attention, then a GELU MLP)."""

    def __init__(self, width: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, t, w = h.shape
        qkv = self.qkv(self.norm1(h)).view(b, t, 3, self.heads, w // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (b, heads, t, head_dim)
        if q.is_cuda and torch.are_deterministic_algorithms_enabled():
            # Fused CUDA attention kernels have non-deterministic backward passes.
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
            att = weights @ v
        else:
            att = F.scaled_dot_product_attention(q, k, v)
        h = h + self.proj(att.transpose(1, 2).reshape(b, t, w))
        out: torch.Tensor = h + self.mlp(self.norm2(h))
        return out


class TransformerEncoder(nn.Module):
    """Token embedding (linear map of the one-hot input) + positions + transformer blocks.

    Parameters
    ----------
    vocab, length : int
        Input vocabulary and string length.
    config : Data2VecConfig
    """

    def __init__(self, vocab: int, length: int, config: Data2VecConfig) -> None:
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Linear(vocab, config.width, bias=False)
        self.mask_embedding = nn.Parameter(torch.randn(config.width) * 0.02)
        self.pos: nn.Parameter | None = None
        if config.pos_emb == "learned":
            self.pos = nn.Parameter(torch.randn(length, config.width) * 0.02)
        elif config.pos_emb == "sinusoidal":
            self.register_buffer("pos_table", _sinusoidal(length, config.width))
        self.pos_kind = config.pos_emb
        self.blocks = nn.ModuleList(
            [_Block(config.width, config.heads, config.mlp_ratio) for _ in range(config.depth)]
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Layer outputs ``[embedding, block 1, ..., block depth]``, each ``(B, T, width)``.

        Parameters
        ----------
        x : Tensor
            One-hot input ``(B, T, vocab)``.
        mask : Tensor or None
            Boolean ``(B, T)``; masked positions get the learned mask embedding.
        """
        h = self.embed(x)
        if mask is not None:
            h = torch.where(mask[..., None], self.mask_embedding.to(h.dtype), h)
        if self.pos is not None:
            h = h + self.pos
        elif self.pos_kind == "sinusoidal":
            h = h + self.get_buffer("pos_table")
        outs = [h]
        for block in self.blocks:
            h = block(h)
            outs.append(h)
        return outs


def make_mask(
    batch: int,
    length: int,
    ratio: float,
    span: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    align: bool = False,
) -> torch.Tensor:
    """Random boolean mask ``(batch, length)``.

    ``span = 1``: exactly ``max(1, round(ratio * length))`` distinct positions per string.
    ``span > 1``: ``max(1, round(ratio * length / span))`` distinct span starts per string,
    each masking ``span`` consecutive positions (clipped at the end; spans may overlap, so
    the masked fraction is at most about ``ratio``).
    ``align=True``: the string is cut into ``length // span`` blocks (``span`` must divide
    ``length``) and exactly ``max(1, round(ratio * length / span))`` distinct blocks are
    masked.
    """
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"ratio must lie in (0, 1], got {ratio}")
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    dev = torch.device(device)
    if align:
        if length % span != 0:
            raise ValueError(f"aligned spans need span | length, got {span} and {length}")
        n_blocks = length // span
        n_masked = min(n_blocks, max(1, round(ratio * n_blocks)))
        noise_b = torch.rand(batch, n_blocks, generator=generator, device=dev)
        chosen = noise_b.argsort(dim=1)[:, :n_masked]
        blocks = torch.zeros(batch, n_blocks, dtype=torch.bool, device=dev)
        blocks.scatter_(1, chosen, True)
        return blocks.repeat_interleave(span, dim=1)
    span = min(span, length)
    n_starts_max = length - span + 1
    n = max(1, round(ratio * length / span))
    n = min(n, n_starts_max)
    noise = torch.rand(batch, n_starts_max, generator=generator, device=dev)
    starts = noise.argsort(dim=1)[:, :n]  # n distinct uniform starts per string
    mask = torch.zeros(batch, length, dtype=torch.bool, device=dev)
    for offset in range(span):
        mask.scatter_(1, starts + offset, True)
    return mask


def masked_regression_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, beta: float = 0.0
) -> torch.Tensor:
    """Regression loss over the masked positions only.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, D)``.
    mask : Tensor
        Boolean ``(B, T)``; unmasked positions are never read from ``target``.
    beta : float
        0: mean squared error; > 0: smooth L1 with this ``beta``.
    """
    p = pred[mask]
    t = target[mask]
    if beta > 0:
        return F.smooth_l1_loss(p, t, beta=beta)
    return F.mse_loss(p, t)


def teacher_targets(layers: list[torch.Tensor], top_k: int, norm: str) -> torch.Tensor:
    """data2vec targets: normalise each of the last ``top_k`` layer outputs, then average.

    Parameters
    ----------
    layers : list of Tensor
        Block outputs ``(B, T, D)``, lowest first.
    top_k : int
    norm : {"instance", "layer", "none"}
        Instance norm normalises each channel over the positions of a string.
    """
    if not 1 <= top_k <= len(layers):
        raise ValueError(f"top_k must lie in [1, {len(layers)}], got {top_k}")
    outs = []
    for h in layers[-top_k:]:
        if norm == "instance":
            h = F.instance_norm(h.float().transpose(1, 2)).transpose(1, 2)
        elif norm == "layer":
            h = F.layer_norm(h.float(), h.shape[-1:])
        elif norm != "none":
            raise ValueError(f"norm must be one of {_TARGET_NORM}, got {norm!r}")
        outs.append(h)
    return torch.stack(outs).mean(dim=0)


class Data2Vec(nn.Module):
    """data2vec student/teacher pair on RHM strings.

    The student encodes the masked one-hot string and a linear head regresses, at masked
    positions, the teacher's targets (:func:`teacher_targets`) computed on the *unmasked*
    string. The teacher is an EMA of the student's encoder and receives no gradients.

    Parameters
    ----------
    params : RHMParams
    config : Data2VecConfig
    """

    def __init__(self, params: RHMParams, config: Data2VecConfig | None = None) -> None:
        super().__init__()
        self.params = params
        self.config = config or Data2VecConfig()
        self.student = TransformerEncoder(params.v, params.string_length, self.config)
        self.final_norm = nn.LayerNorm(self.config.width)
        self.head = nn.Linear(self.config.width, self.config.width)
        self.teacher = make_teacher(self.student)

    def student_parameters(self) -> list[nn.Parameter]:
        """The trainable parameters (student encoder and head), teacher excluded."""
        return [
            *self.student.parameters(),
            *self.final_norm.parameters(),
            *self.head.parameters(),
        ]

    def predict(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Student predictions ``(B, T, width)`` for masked inputs."""
        h = self.student(one_hot(tokens, self.params.v), mask)[-1]
        out: torch.Tensor = self.head(self.final_norm(h))
        return out

    @torch.no_grad()
    def targets(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher targets ``(B, T, width)`` of the unmasked strings."""
        layers: list[torch.Tensor] = self.teacher(one_hot(tokens, self.params.v), None)[1:]
        return teacher_targets(layers, self.config.top_k, self.config.target_norm)

    def loss(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Masked regression loss of one batch and its diagnostics.

        Parameters
        ----------
        tokens : Tensor
            int64 ``(B, T)`` on the model's device.
        generator : torch.Generator or None
            Randomness of the mask (on the same device).
        """
        b, t = tokens.shape
        c = self.config
        mask = make_mask(b, t, c.mask_ratio, c.mask_span, generator, tokens.device, c.mask_align)
        target = self.targets(tokens)
        loss = masked_regression_loss(self.predict(tokens, mask), target, mask, c.loss_beta)
        return loss, {"target_var": float(target.var().item())}

    def update_teacher(self, step: int) -> float:
        """EMA step of the teacher with the scheduled decay; returns the decay used."""
        c = self.config
        tau = ema_decay(step, c.tau0, c.tau_end, c.tau_steps)
        ema_update(self.teacher, self.student, tau)
        return tau

    @torch.no_grad()
    def features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """What the probes see: :meth:`layer_features` or :meth:`context_features`.

        Chosen by ``config.probe_features`` (``"layers"`` by default).
        """
        if self.config.probe_features == "context":
            return self.context_features(tokens)
        return self.layer_features(tokens)

    @torch.no_grad()
    def layer_features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Student layer outputs on unmasked strings, ``[embedding, block 1, ...]``."""
        out: list[torch.Tensor] = self.student(one_hot(tokens, self.params.v), None)
        return out

    @torch.no_grad()
    def context_features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Student representations of every level-1 node from its context alone.

        For each level-1 tuple (``s`` consecutive positions) the student encodes the string
        with that tuple masked; block ``k``'s outputs at the tuple's positions are kept. The
        embedding layer is that of the unmasked string. Shapes as :meth:`layer_features`:
        ``[embedding, block 1, ..., block depth]``, each ``(B, T, width)``.
        """
        b, t = tokens.shape
        s = self.params.s
        x = one_hot(tokens, self.params.v)
        outs = self.student(x, None)
        ctx = [torch.empty_like(h) for h in outs[1:]]
        for start in range(0, t, s):
            mask = torch.zeros(b, t, dtype=torch.bool, device=tokens.device)
            mask[:, start : start + s] = True
            for k, h in enumerate(self.student(x, mask)[1:]):
                ctx[k][:, start : start + s] = h[:, start : start + s]
        return [outs[0], *ctx]
