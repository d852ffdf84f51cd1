"""Token-level masked language model (MLM) on RHM strings: the baseline of data2vec."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rhm_theory.model.params import RHMParams
from rhm_theory.neural.data2vec import Data2VecConfig, MaskedTransformer

__all__ = ["MaskedLM", "masked_token_loss"]


def masked_token_loss(
    logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the true tokens at the masked positions only.

    Parameters
    ----------
    logits : Tensor
        ``(B, T, v)`` predictions.
    tokens : Tensor
        int64 ``(B, T)`` true tokens.
    mask : Tensor
        Boolean ``(B, T)``; unmasked positions never enter the loss.

    Examples
    --------
    >>> logits = torch.zeros(1, 2, 4)                  # uniform over 4 symbols
    >>> mask = torch.tensor([[True, False]])
    >>> round(float(masked_token_loss(logits, torch.tensor([[1, 3]]), mask)), 6)  # log 4
    1.386294
    """
    # A mask-weighted mean, not ``logits[mask]``: boolean indexing has a data-dependent
    # shape, which costs a device-to-host synchronisation on every step.
    per = F.cross_entropy(logits.float().transpose(1, 2), tokens, reduction="none")
    w = mask.to(per.dtype)
    return (per * w).sum() / w.sum().clamp_min(1.0)


def _accuracy(logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    w = mask.float()
    return ((logits.argmax(-1) == tokens).float() * w).sum() / w.sum().clamp_min(1.0)


class MaskedLM(MaskedTransformer):
    """Masked-token prediction with the transformer of :class:`Data2Vec`.

    Same encoder, masking and probes as data2vec; the head predicts the masked *tokens*
    (cross-entropy) instead of the teacher's latent targets. Its context for a level-``l``
    tuple is made of tokens, so its predicted threshold is ``v m^(l+2)`` (top level
    ``v m^(L+1)``, docs/theory.md section 4): the token-level baseline of the data2vec claim.
    There is no teacher; :meth:`update_teacher` does nothing.

    Parameters
    ----------
    params : RHMParams
    config : Data2VecConfig
        Architecture and masking (the teacher settings are unused).
    """

    def __init__(self, params: RHMParams, config: Data2VecConfig | None = None) -> None:
        super().__init__(params, config, head_dim=params.v)

    def student_parameters(self) -> list[nn.Parameter]:
        """The trainable parameters."""
        return list(self.parameters())

    def logits(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token logits ``(B, T, v)`` of the masked strings."""
        return self.head_outputs(tokens, mask)

    def loss(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Masked-token cross-entropy of one batch and its diagnostics (device tensors)."""
        mask = self.draw_mask(tokens, generator)
        logits = self.logits(tokens, mask)
        loss = masked_token_loss(logits, tokens, mask)
        return loss, {"masked_accuracy": _accuracy(logits, tokens, mask).detach()}

    @torch.no_grad()
    def masked_accuracy(self, tokens: torch.Tensor, generator: torch.Generator) -> float:
        """Accuracy of the most probable token at the positions of a fresh training mask.

        The mask is drawn like the training masks (:meth:`draw_mask`) from ``generator``;
        the Bayes-optimal value of the same quantity is
        :func:`rhm_theory.inference.bayes_masked_token_baseline`.
        """
        mask = self.draw_mask(tokens, generator)
        return float(_accuracy(self.logits(tokens, mask), tokens, mask))

    def update_teacher(self, step: int, total_steps: int) -> float:
        """No teacher: returns 0.0 and changes nothing."""
        del step, total_steps
        return 0.0

    @torch.no_grad()
    def features(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Encoder layer outputs on unmasked strings, ``[embedding, block 1, ...]``."""
        return self.layer_features(tokens)
