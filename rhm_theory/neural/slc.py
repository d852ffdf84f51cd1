"""Stacked latent-clustering (SLC) network: L-1 predictor + clusterer modules with EMA codes."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from rhm_theory.model.params import RHMParams
from rhm_theory.neural.data import one_hot
from rhm_theory.neural.ema import EMASchedule, make_teacher, update_teacher
from rhm_theory.validation import check_choice, check_float, check_int

__all__ = ["SLCConfig", "SLCModule", "SLCNetwork", "cousin_index", "sinkhorn"]

_ANTI_COLLAPSE = ("entropy", "sinkhorn", "none")


@dataclass(frozen=True)
class SLCConfig:
    """Settings of :class:`SLCNetwork`.

    Anti-collapse (``anti_collapse``), applied to every clusterer:

    * ``"entropy"`` (default): ``usage_weight * (log d_h - H(mean code))`` pushes the
      batch-averaged code usage towards uniform, and ``sharpness_weight * mean H(code)``
      makes each code confident; teacher codes are the teacher's softmax sharpened by
      ``teacher_temperature``.
    * ``"sinkhorn"``: teacher codes are Sinkhorn-balanced over the batch (equal mass per
      code, SwAV-style) and each student clusterer is also trained, with weight
      ``usage_weight``, to predict the balanced teacher code of its own patch.
    * ``"none"``: no regulariser (collapse can happen; for ablations).

    Parameters
    ----------
    d_h : int or None
        Codebook size of every clusterer; ``None`` uses ``v``.
    hidden : int
        Hidden width of the predictor and clusterer MLPs.
    stop_gradient : bool
        Detach every module's codes before the next module (local learning).
    detach_clusterer_input : bool
        Also stop gradients from the clusterer into its own predictor.
    anti_collapse : {"entropy", "sinkhorn", "none"}
    usage_weight, sharpness_weight, recon_weight : float
        Weights of the clusterer losses (see above); ``recon_weight`` weights the
        reconstruction of the predictor's output from the code (the clustering loss).
    teacher_temperature : float
        Temperature of the teacher's code softmax (< 1 sharpens the targets).
    sinkhorn_iters : int
    ema : EMASchedule
        EMA decay schedule of the teacher (default: 0.99 rising to 0.999 over 1,000
        steps, the setting under which the CPU tests learn).
    """

    d_h: int | None = None
    hidden: int = 128
    stop_gradient: bool = False
    detach_clusterer_input: bool = False
    anti_collapse: str = "entropy"
    usage_weight: float = 1.0
    sharpness_weight: float = 0.1
    recon_weight: float = 1.0
    teacher_temperature: float = 0.5
    sinkhorn_iters: int = 3
    ema: EMASchedule = field(
        default_factory=lambda: EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=1000)
    )

    def __post_init__(self) -> None:
        if self.d_h is not None:
            check_int("d_h", self.d_h, minimum=2)
        check_int("hidden", self.hidden, minimum=1)
        check_choice("anti_collapse", self.anti_collapse, _ANTI_COLLAPSE)
        check_float("teacher_temperature", self.teacher_temperature, minimum=0.0,
                    include_minimum=False)
        if not isinstance(self.ema, EMASchedule):
            raise TypeError(f"ema must be an EMASchedule, got {type(self.ema).__name__}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for checkpoints and result rows)."""
        return asdict(self)


def cousin_index(n_nodes: int, s: int) -> torch.Tensor:
    """Input positions of the cousins of every node, shape ``(n_nodes, (s-1)*s)``.

    Node ``k`` (position ``j = k % s`` under parent ``g = k // s``) has siblings
    ``g*s + j'`` (``j' != j``, increasing); their children are input positions
    ``(g*s + j')*s + r``, ``r = 0..s-1``.

    >>> cousin_index(4, 2).tolist()
    [[2, 3], [0, 1], [6, 7], [4, 5]]
    """
    rows = []
    for k in range(n_nodes):
        g, j = divmod(k, s)
        rows.append([(g * s + jj) * s + r for jj in range(s) if jj != j for r in range(s)])
    return torch.tensor(rows, dtype=torch.long)


def sinkhorn(logits: torch.Tensor, n_iters: int = 3) -> torch.Tensor:
    """Sinkhorn-Knopp balanced assignment of ``(N, K)`` logits: rows sum to 1, columns to N/K."""
    q = torch.softmax(logits.float() - logits.max(), dim=-1).T  # (K, N)
    q = q / q.sum()
    k, n = q.shape
    for _ in range(n_iters):
        q = q / q.sum(dim=1, keepdim=True).clamp_min(1e-12) / k
        q = q / q.sum(dim=0, keepdim=True).clamp_min(1e-12) / n
    return (q * n).T


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(p.clamp_min(1e-12))).sum(dim=-1)


class SLCModule(nn.Module):
    """One SLC module: a predictor of cousin symbols and a clusterer of its predictions.

    The predictor maps the one-hot (or soft-code) s-patch of a node to softmax predictions
    of the ``(s-1)*s`` cousin symbols *for every within-parent position* ``j`` (shape
    ``(s, (s-1)*s, d_in)``), so the clusterer, which maps the whole prediction tensor to a
    softmax over ``d_h`` codes, sees a function of the tuple only (as ILC's context vector
    concatenates all positions) and gives synonyms the same code.

    Parameters
    ----------
    d_in : int
        Symbols of the input level (``v`` for tokens, ``d_h`` above).
    d_h : int
        Codebook size.
    s : int
        Branching factor.
    hidden : int
        MLP width.
    """

    def __init__(self, d_in: int, d_h: int, s: int, hidden: int) -> None:
        super().__init__()
        self.d_in, self.d_h, self.s = d_in, d_h, s
        self.n_ctx = (s - 1) * s
        out = s * self.n_ctx * d_in
        self.predictor = nn.Sequential(
            nn.Linear(s * d_in, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, out),
        )
        self.clusterer = nn.Sequential(nn.Linear(out, hidden), nn.GELU(), nn.Linear(hidden, d_h))
        self.decoder = nn.Linear(d_h, out)

    def forward(
        self, x: torch.Tensor, detach_clusterer_input: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prediction logits ``(B, n, s, (s-1)*s, d_in)`` and code logits ``(B, n, d_h)``.

        Parameters
        ----------
        x : Tensor
            Input level ``(B, n*s, d_in)`` (one-hot or soft codes).
        detach_clusterer_input : bool
            Stop the gradient between predictor and clusterer.
        """
        b, n_in, d = x.shape
        n = n_in // self.s
        pred = self.predictor(x.reshape(b, n, self.s * d))
        probs = torch.softmax(pred.view(b, n, self.s, self.n_ctx, d), dim=-1)
        flat = probs.reshape(b, n, -1)
        code_logits = self.clusterer(flat.detach() if detach_clusterer_input else flat)
        return pred.view(b, n, self.s, self.n_ctx, d), code_logits

    def reconstruct(self, codes: torch.Tensor) -> torch.Tensor:
        """Prediction logits reconstructed from (soft) codes, ``(B, n, s, (s-1)*s, d_in)``."""
        b, n, _ = codes.shape
        out: torch.Tensor = self.decoder(codes).view(b, n, self.s, self.n_ctx, self.d_in)
        return out


def _modules(stack: nn.Module) -> list[SLCModule]:
    return [cast(SLCModule, m) for m in stack.children()]


class SLCNetwork(nn.Module):
    """Stacked latent clustering: ``L-1`` :class:`SLCModule` s trained end to end.

    Module ``l`` reads the level-``(l-1)`` representation (tokens one-hot for ``l = 1``, the
    previous module's soft codes above), predicts the cousins' level-``(l-1)`` symbols,
    cross-entropy against the EMA teacher's codes (the tokens themselves for ``l = 1``), and
    clusters its predictions into level-``l`` codes. Per-module loss: prediction
    cross-entropy + ``recon_weight`` * reconstruction of the (detached) predictions from the
    code + the anti-collapse term of :class:`SLCConfig`.

    Parameters
    ----------
    params : RHMParams
        Needs ``L >= 2``.
    config : SLCConfig
    """

    def __init__(self, params: RHMParams, config: SLCConfig | None = None) -> None:
        super().__init__()
        if params.L < 2:
            raise ValueError(f"the SLC network needs L >= 2 (it has L-1 modules), got {params.L}")
        self.params = params
        self.config = config or SLCConfig()
        d_h = self.config.d_h or params.v
        self.d_h = d_h
        s = params.s
        self.student = nn.ModuleList(
            [
                SLCModule(params.v if lvl == 1 else d_h, d_h, s, self.config.hidden)
                for lvl in range(1, params.L)
            ]
        )
        self.teacher = make_teacher(self.student)
        for lvl in range(1, params.L):
            n_nodes = params.nodes_at_level(lvl)
            self.register_buffer(f"cousins_{lvl}", cousin_index(n_nodes, s), persistent=False)
            self.register_buffer(
                f"position_{lvl}", torch.arange(n_nodes, dtype=torch.long) % s, persistent=False
            )

    def student_parameters(self) -> list[nn.Parameter]:
        """The trainable parameters (teacher excluded)."""
        return list(self.student.parameters())

    def _teacher_codes(self, code_logits: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.anti_collapse == "sinkhorn":
            b, n, k = code_logits.shape
            flat = code_logits.reshape(b * n, k) / c.teacher_temperature
            return sinkhorn(flat, c.sinkhorn_iters).view(b, n, k)
        return torch.softmax(code_logits / c.teacher_temperature, dim=-1)

    def _code_logits(
        self, stack: nn.Module, tokens: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One-hot tokens and the code logits of every module of ``stack`` (student or
        teacher), each module reading the soft codes of the one below."""
        x0 = x = one_hot(tokens, self.params.v)
        logits = []
        for module in _modules(stack):
            _, code_logits = module(x)
            logits.append(code_logits)
            x = torch.softmax(code_logits, dim=-1)
        return x0, logits

    @torch.no_grad()
    def teacher_targets(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Target distributions per level: ``[one-hot tokens, teacher codes 1..L-1]``."""
        x, logits = self._code_logits(self.teacher, tokens)
        return [x, *(self._teacher_codes(lg) for lg in logits)]

    def loss(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Summed module losses of the int64 ``(B, s**L)`` batch ``tokens`` and per-module
        diagnostics (device tensors). ``generator`` is unused (the SLC objective samples
        nothing): the training loop passes one to every model."""
        del generator
        c = self.config
        targets = self.teacher_targets(tokens)
        x = targets[0]
        total = torch.zeros((), device=tokens.device)
        metrics: dict[str, torch.Tensor] = {}
        for lvl, module in enumerate(_modules(self.student), start=1):
            pred, code_logits = module(x, c.detach_clusterer_input)
            cousins = self.get_buffer(f"cousins_{lvl}")
            position = self.get_buffer(f"position_{lvl}")
            n = cousins.shape[0]
            ctx = targets[lvl - 1][:, cousins]  # (B, n, (s-1)*s, d_in)
            own = pred[:, torch.arange(n, device=pred.device), position]  # actual position j
            pred_loss = -(ctx * F.log_softmax(own, dim=-1)).sum(-1).mean()
            codes = torch.softmax(code_logits, dim=-1)
            probs = torch.softmax(pred, dim=-1).detach()
            recon = -(probs * F.log_softmax(module.reconstruct(codes), dim=-1)).sum(-1).mean()
            reg = torch.zeros((), device=tokens.device)
            if c.anti_collapse == "entropy":
                usage = codes.reshape(-1, codes.shape[-1]).mean(0)
                reg = c.usage_weight * (math.log(codes.shape[-1]) - _entropy(usage))
                reg = reg + c.sharpness_weight * _entropy(codes).mean()
            elif c.anti_collapse == "sinkhorn":
                own_target = targets[lvl]
                reg = -c.usage_weight * (own_target * F.log_softmax(code_logits, -1)).sum(-1).mean()
            total = total + pred_loss + c.recon_weight * recon + reg
            metrics[f"pred_loss_{lvl}"] = pred_loss.detach()
            metrics[f"recon_{lvl}"] = recon.detach()
            x = codes.detach() if c.stop_gradient else codes
        return total, metrics

    def update_teacher(self, step: int, total_steps: int) -> float:
        """EMA step of the teacher (:func:`rhm_theory.neural.ema.update_teacher`)."""
        return update_teacher(self.teacher, self.student, self.config.ema, step, total_steps)

    @torch.no_grad()
    def features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Student representations per level: ``[one-hot tokens, codes 1, ..., codes L-1]``."""
        x, logits = self._code_logits(self.student, tokens)
        return [x, *(torch.softmax(lg, dim=-1) for lg in logits)]

    @torch.no_grad()
    def codes(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Hard codes (argmax) of every level ``1..L-1``, each ``(B, s**(L-l))``."""
        return [f.argmax(dim=-1) for f in self.features(tokens)[1:]]
