"""data2vec on RHM strings: a masked transformer student regressing an EMA teacher's layers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rhm_theory.model.params import RHMParams
from rhm_theory.neural.ema import EMASchedule, make_teacher, update_teacher
from rhm_theory.validation import check_choice, check_float, check_int

__all__ = [
    "DATA2VEC_TEXT_EMA",
    "Data2Vec",
    "Data2VecConfig",
    "EncoderOutput",
    "MaskedTransformer",
    "TransformerEncoder",
    "make_mask",
    "masked_regression_loss",
    "target_position_share",
    "teacher_targets",
]

#: data2vec 1.0 text's EMA schedule in absolute steps (fairseq ``text/pretraining/
#: base.yaml``: ``ema_decay 0.999``, ``ema_end_decay 0.9999``, ``ema_anneal_end_step
#: 300000``): linear rise, then constant.
DATA2VEC_TEXT_EMA = EMASchedule(tau0=0.999, tau_end=0.9999, tau_steps=300_000)

_POS_EMB = ("learned", "sinusoidal", "none")
_TARGET_NORM = ("instance", "layer", "none")
_TARGET_LAYER = ("ffn", "block")
_EMA_SCOPE = ("blocks", "all")
_PROBE_FEATURES = ("layers", "context")
_EMBED_INIT = ("normal", "linear")
#: Student parameters the teacher copies instead of averaging when ``ema_scope="blocks"``.
_SHARED_WITH_TEACHER = ("embed", "mask_embedding", "pos")


@dataclass(frozen=True)
class Data2VecConfig:
    """Architecture and self-distillation settings of :class:`Data2Vec` (and of the MLM).

    Defaults follow data2vec 1.0 for text (Baevski et al. 2022; fairseq's released
    ``examples/data2vec/config/text/pretraining/base.yaml``): targets are the average of
    the top-K teacher FFN outputs (before the last residual), each *layer*-normalised
    without parameters (``layer_norm_target_layer: true``); the teacher averages the
    transformer blocks only (``ema_transformer_layers_only``); the EMA decay rises linearly
    from 0.999 to 0.9999 over 300,000 updates and is constant after (``ema_decay``,
    ``ema_end_decay``, ``ema_anneal_end_step``), in absolute steps, so it is the same for
    every run length. That config averages ``K = 10`` of 12 blocks; here ``top_k``
    defaults to every block of the small encoder. Deviations, kept as documented options:
    instance-normalised targets (data2vec 2.0's text setting,
    ``instance_norm_target_layer: true`` in ``config/v2/base_text_only_task.yaml``), the
    squared error (``loss_beta = 0``; data2vec 1.0 text uses smooth L1 with ``beta = 4``,
    which equals the squared error divided by 8 while ``|error| < 4``, i.e. always for
    layer-normalised targets of a converged student) and single-token masks at ratio 0.5
    (data2vec 1.0 text: 35% in spans of 4 tokens).

    Parameters
    ----------
    depth, width, heads, mlp_ratio : int
        Transformer blocks, model width, attention heads, MLP hidden size / width.
    pos_emb : {"learned", "sinusoidal", "none"}
        Positional embeddings added to the token embeddings.
    embed_init : {"normal", "linear"}
        Token-embedding initialisation: ``"normal"`` with standard deviation 0.02 (BERT and
        data2vec); ``"linear"`` that of the ``nn.Linear`` map of the one-hot token it
        replaces (uniform in ``+-1/sqrt(v)``, drawn in the same order: the project's earlier
        setup, reproduced exactly for the same seed).
    top_k : int
        Number of top teacher blocks averaged into the targets.
    target_layer : {"ffn", "block"}
        What a teacher block contributes: ``"ffn"`` the output of its feed-forward network
        *before* the last residual connection (data2vec), so a token's own embedding does
        not enter its target through the residual stream; ``"block"`` the block output
        (the residual stream).
    target_norm : {"layer", "instance", "none"}
        Normalisation of every teacher block output before averaging: layer norm (over the
        channels of each position; data2vec 1.0's text default) or instance norm (each
        channel over the positions of one string; data2vec 2.0's text setting, which on
        short RHM strings zeroes every channel that is constant along the string).
    ema_scope : {"blocks", "all"}
        ``"blocks"``: the teacher averages the transformer blocks only and shares the
        token, mask and position embeddings with the student (data2vec's
        ``ema_transformer_only``); ``"all"``: every parameter is averaged.
    ema : EMASchedule
        EMA decay schedule: data2vec 1.0 text's 0.999 -> 0.9999 over 300,000 steps in
        absolute steps by default (the same for every ``P`` and run length); a schedule
        relative to the run length is an option (:class:`EMASchedule` horizons).
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
        on the unmasked string (the plain top layer); ``"context"`` every block's output at
        the positions of each level-1 tuple computed with that tuple masked.
    """

    depth: int = 2
    width: int = 64
    heads: int = 4
    mlp_ratio: int = 4
    pos_emb: str = "learned"
    embed_init: str = "normal"
    top_k: int = 2
    target_layer: str = "ffn"
    target_norm: str = "layer"
    ema_scope: str = "blocks"
    ema: EMASchedule = field(default_factory=lambda: DATA2VEC_TEXT_EMA)
    mask_ratio: float = 0.5
    mask_span: int = 1
    mask_align: bool = False
    loss_beta: float = 0.0
    probe_features: str = "layers"

    def __post_init__(self) -> None:
        for name in ("depth", "width", "heads", "mlp_ratio", "top_k", "mask_span"):
            check_int(name, getattr(self, name), minimum=1)
        if self.width % self.heads != 0:
            raise ValueError(f"width must be a multiple of heads, got {self.width}/{self.heads}")
        check_int("top_k", self.top_k, minimum=1, maximum=self.depth)
        check_choice("pos_emb", self.pos_emb, _POS_EMB)
        check_choice("embed_init", self.embed_init, _EMBED_INIT)
        check_choice("target_layer", self.target_layer, _TARGET_LAYER)
        check_choice("target_norm", self.target_norm, _TARGET_NORM)
        check_choice("ema_scope", self.ema_scope, _EMA_SCOPE)
        check_choice("probe_features", self.probe_features, _PROBE_FEATURES)
        if not isinstance(self.ema, EMASchedule):
            raise TypeError(f"ema must be an EMASchedule, got {type(self.ema).__name__}")
        check_float("mask_ratio", self.mask_ratio, minimum=0.0, maximum=1.0,
                    include_minimum=False)
        check_float("loss_beta", self.loss_beta, minimum=0.0)

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

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Block output and the FFN output before the last residual connection."""
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
        ffn: torch.Tensor = self.mlp(self.norm2(h))
        return h + ffn, ffn


@dataclass
class EncoderOutput:
    """Outputs of :class:`TransformerEncoder`.

    Attributes
    ----------
    layers : list of Tensor
        ``[embedding, block 1, ..., block depth]``, each ``(B, T, width)``.
    ffn : list of Tensor
        FFN output of every block before its last residual connection, ``depth`` tensors.
    """

    layers: list[torch.Tensor]
    ffn: list[torch.Tensor]


class TransformerEncoder(nn.Module):
    """Token embedding + positions + pre-norm transformer blocks.

    Parameters
    ----------
    vocab, length : int
        Input vocabulary and string length.
    config : Data2VecConfig
    """

    def __init__(self, vocab: int, length: int, config: Data2VecConfig) -> None:
        super().__init__()
        self.vocab = vocab
        # An embedding look-up is the linear map of the one-hot token without the matmul.
        if config.embed_init == "linear":
            w = torch.empty(config.width, vocab)
            nn.init.kaiming_uniform_(w, a=math.sqrt(5))  # nn.Linear(vocab, width)'s draw
            self.embed = nn.Embedding(vocab, config.width, _weight=w.T.contiguous())
        else:
            self.embed = nn.Embedding(vocab, config.width)
            nn.init.normal_(self.embed.weight, std=0.02)
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

    def encode(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> EncoderOutput:
        """Layer and FFN outputs of int64 ``tokens`` ``(B, T)``.

        ``mask`` (boolean ``(B, T)`` or None): masked positions get the mask embedding.
        """
        h = self.embed(tokens)
        if mask is not None:
            h = torch.where(mask[..., None], self.mask_embedding.to(h.dtype), h)
        if self.pos is not None:
            h = h + self.pos
        elif self.pos_kind == "sinusoidal":
            h = h + self.get_buffer("pos_table")
        layers, ffns = [h], []
        for block in self.blocks:
            h, ffn = block(h)
            layers.append(h)
            ffns.append(ffn)
        return EncoderOutput(layers, ffns)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Layer outputs ``[embedding, block 1, ..., block depth]`` (see :meth:`encode`)."""
        return self.encode(tokens, mask).layers


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
    check_float("ratio", ratio, minimum=0.0, maximum=1.0, include_minimum=False)
    span = check_int("span", span, minimum=1)
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
    """Regression loss over the masked positions only (mask-weighted, no indexing).

    Equals the mean squared error (or smooth L1) of ``pred[mask]`` against ``target[mask]``
    but is computed as a weighted mean over every position, so its shapes never depend on
    the mask: boolean indexing would read the number of masked positions back to the host,
    a device synchronisation on every training step.

    Parameters
    ----------
    pred, target : Tensor
        ``(B, T, D)``.
    mask : Tensor
        Boolean ``(B, T)``; unmasked positions get weight 0 (a non-finite target there
        would still propagate, as ``0 * inf`` is NaN: targets are always finite).
    beta : float
        0: mean squared error; > 0: smooth L1 with this ``beta``.

    Examples
    --------
    >>> pred, target = torch.zeros(1, 2, 1), torch.tensor([[[2.0], [5.0]]])
    >>> float(masked_regression_loss(pred, target, torch.tensor([[True, False]])))
    4.0
    """
    if beta > 0:
        per = F.smooth_l1_loss(pred, target, beta=beta, reduction="none")
    else:
        per = F.mse_loss(pred, target, reduction="none")
    w = mask.to(per.dtype)
    return (per.sum(dim=-1) * w).sum() / (w.sum().clamp_min(1.0) * per.shape[-1])


def teacher_targets(layers: list[torch.Tensor], top_k: int, norm: str) -> torch.Tensor:
    """data2vec targets: normalise each of the last ``top_k`` outputs, then average.

    Parameters
    ----------
    layers : list of Tensor
        Block (or FFN) outputs ``(B, T, D)``, lowest first.
    top_k : int
    norm : {"instance", "layer", "none"}
        Instance norm normalises each channel over the positions of a string.
    """
    check_int("top_k", top_k, minimum=1, maximum=len(layers))
    check_choice("norm", norm, _TARGET_NORM)
    outs = []
    for h in layers[-top_k:]:
        h = h.float()
        if norm == "instance":
            h = F.instance_norm(h.transpose(1, 2)).transpose(1, 2)
        elif norm == "layer":
            h = F.layer_norm(h, h.shape[-1:])
        outs.append(h)
    return torch.stack(outs).mean(dim=0)


class MaskedTransformer(nn.Module):
    """The masked student shared by :class:`Data2Vec` and the masked LM.

    A :class:`TransformerEncoder` (``student``), a final layer norm and a linear ``head``
    of ``head_dim`` outputs per position, with the training mask of ``config``.

    Parameters
    ----------
    params : RHMParams
    config : Data2VecConfig or None
    head_dim : int or None
        Outputs of the head per position (default: the width).
    """

    def __init__(self, params: RHMParams, config: Data2VecConfig | None = None,
                 head_dim: int | None = None) -> None:
        super().__init__()
        self.params = params
        self.config = config or Data2VecConfig()
        self.student = TransformerEncoder(params.v, params.string_length, self.config)
        self.final_norm = nn.LayerNorm(self.config.width)
        self.head = nn.Linear(self.config.width, head_dim or self.config.width)

    def draw_mask(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A training mask for ``tokens`` (:func:`make_mask` with the config's ratio, span
        and alignment) drawn from ``generator`` on its device, moved to the tokens'."""
        b, t = tokens.shape
        c = self.config
        dev = tokens.device if generator is None else generator.device
        return make_mask(b, t, c.mask_ratio, c.mask_span, generator, dev,
                         c.mask_align).to(tokens.device)

    def head_outputs(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Head outputs ``(B, T, head_dim)`` of the student on the masked strings."""
        out: torch.Tensor = self.head(self.final_norm(self.student(tokens, mask)[-1]))
        return out

    @torch.no_grad()
    def layer_features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Student layer outputs on unmasked strings, ``[embedding, block 1, ...]``."""
        out: list[torch.Tensor] = self.student(tokens, None)
        return out


class Data2Vec(MaskedTransformer):
    """data2vec student/teacher pair on RHM strings.

    The student encodes the masked string and a linear head regresses, at masked
    positions, the teacher's targets (:func:`teacher_targets` of the top-K FFN outputs by
    default) computed on the *unmasked* string. The teacher is an EMA of the student's
    blocks (:class:`Data2VecConfig` ``ema_scope``) and receives no gradients.

    Parameters
    ----------
    params : RHMParams
    config : Data2VecConfig
    """

    def __init__(self, params: RHMParams, config: Data2VecConfig | None = None) -> None:
        super().__init__(params, config)
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
        return self.head_outputs(tokens, mask)

    @torch.no_grad()
    def targets(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher targets ``(B, T, width)`` of the unmasked strings."""
        out = self.teacher.encode(tokens, None)
        layers = out.ffn if self.config.target_layer == "ffn" else out.layers[1:]
        return teacher_targets(layers, self.config.top_k, self.config.target_norm)

    def loss(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Masked regression loss of one batch and its diagnostics (device tensors).

        Parameters
        ----------
        tokens : Tensor
            int64 ``(B, T)`` on the model's device.
        generator : torch.Generator or None
            Randomness of the mask (on the same device).
        """
        mask = self.draw_mask(tokens, generator)
        target = self.targets(tokens)
        loss = masked_regression_loss(self.predict(tokens, mask).float(), target, mask,
                                      self.config.loss_beta)
        return loss, {"target_var": target.var().detach()}

    def update_teacher(self, step: int, total_steps: int) -> float:
        """EMA step of the teacher (:func:`rhm_theory.neural.ema.update_teacher`)."""
        copy = _SHARED_WITH_TEACHER if self.config.ema_scope == "blocks" else ()
        return update_teacher(self.teacher, self.student, self.config.ema, step, total_steps,
                              copy=copy)

    @torch.no_grad()
    def features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """What the probes see: :meth:`layer_features` or :meth:`context_features`.

        Chosen by ``config.probe_features`` (``"layers"`` by default).
        """
        if self.config.probe_features == "context":
            return self.context_features(tokens)
        return self.layer_features(tokens)

    @torch.no_grad()
    def context_features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Student representations of every level-1 node from its context alone.

        For each level-1 tuple (``s`` consecutive positions) the student encodes the string
        with that tuple masked; block ``k``'s outputs at the tuple's positions are kept. The
        embedding layer is that of the unmasked string. Shapes as :meth:`layer_features`.
        """
        b, t = tokens.shape
        s = self.params.s
        outs = self.student(tokens, None)
        ctx = [torch.empty_like(h) for h in outs[1:]]
        for start in range(0, t, s):
            mask = torch.zeros(b, t, dtype=torch.bool, device=tokens.device)
            mask[:, start : start + s] = True
            for k, h in enumerate(self.student(tokens, mask)[1:]):
                ctx[k][:, start : start + s] = h[:, start : start + s]
        return [outs[0], *ctx]


def target_position_share(targets: torch.Tensor) -> float:
    """Share of the targets' variance explained by the position alone.

    For targets ``(B, T, D)``: ``sum_{t,d} (mean_b x[b,t,d] - mean_{b,t} x[.,.,d])^2 / T``
    over ``sum_{t,d} var_{b,t}(x[.,.,d])``, the between-position part of each channel's
    variance over strings and positions (1: the targets are a function of the position,
    carrying nothing about the string; 0: no positional component).

    >>> x = torch.arange(3.0).view(1, 3, 1).expand(4, 3, 1)  # depends on position only
    >>> target_position_share(x)
    1.0
    """
    x = targets.double()
    grand = x.mean(dim=(0, 1), keepdim=True)
    total = ((x - grand) ** 2).mean(dim=(0, 1)).sum()
    between = ((x.mean(dim=0, keepdim=True) - grand) ** 2).mean(dim=(0, 1)).sum()
    return float(between / total) if float(total) > 0 else float("nan")
