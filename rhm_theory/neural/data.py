"""RHM training batches for the neural validators: online (fresh) or offline (fixed P)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.neural.stream import RHMStream, keep_torch_threads
from rhm_theory.validation import check_int, check_seed

__all__ = ["RHMBatches", "keep_torch_threads", "one_hot", "sample_keeping_threads", "to_device"]

#: Strings drawn per sampler call in the online regime.
_CHUNK_STRINGS = 32768


def sample_keeping_threads(grammar: Grammar, P: int, seed: int, **kwargs: Any) -> Sample:
    """:func:`rhm_theory.model.sampling.sample` under :func:`keep_torch_threads`."""
    with keep_torch_threads():
        return sample(grammar, P, seed, **kwargs)


def to_device(tokens: npt.NDArray[Any], device: torch.device | str) -> torch.Tensor:
    """Move a ``(B, T)`` integer array to ``device`` as int64 (the copy crosses as uint8)."""
    t = torch.from_numpy(np.ascontiguousarray(tokens))
    dev = torch.device(device)
    if dev.type == "cuda":
        t = t.pin_memory()
    return t.to(dev, non_blocking=True).long()


def one_hot(tokens: torch.Tensor, n_symbols: int) -> torch.Tensor:
    """Float one-hot encoding on the tokens' own device, shape ``(..., n_symbols)``."""
    return F.one_hot(tokens, n_symbols).to(torch.float32)


class RHMBatches:
    """Batches of RHM strings from the core sampler.

    Online regime (``P=None``): step ``t`` gets strings ``t*B .. t*B+B-1`` of the data seed,
    all fresh, drawn a chunk of steps at a time by a
    :class:`~rhm_theory.neural.stream.RHMStream`. Offline regime: a fixed set of ``P``
    strings is drawn once (kept on the host) and step ``t`` takes ``min(B, P)`` distinct ones
    of it. Both are a pure function of ``(seed, step)``, so a resumed run sees the same
    batches as an uninterrupted one.

    Parameters
    ----------
    grammar : Grammar
    batch_size : int
        Strings per step ``B``.
    P : int or None
        Size of the fixed training set; ``None`` for the online regime.
    seed : int
        Data seed.
    device : torch.device or str
        Where batches are delivered.
    """

    def __init__(
        self,
        grammar: Grammar,
        batch_size: int,
        *,
        P: int | None = None,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.grammar = grammar
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.P = None if P is None else check_int("P", P, minimum=1)
        self.seed = check_seed("seed", seed)
        self.device = torch.device(device)
        self._pool = (
            None if P is None else sample_keeping_threads(grammar, int(P), self.seed).tokens
        )
        # Online strings are drawn a chunk of steps at a time: one sampler call costs a
        # fixed overhead, and string i depends only on (seed, i), so chunking changes nothing.
        self._chunk_steps = max(1, _CHUNK_STRINGS // self.batch_size)
        self._stream = RHMStream(grammar, seed=self.seed,
                                 batch_size=self._chunk_steps * self.batch_size, labels=False)
        self._chunk_id = -1
        self._chunk: npt.NDArray[Any] | None = None

    @property
    def online(self) -> bool:
        """Whether every step draws fresh strings."""
        return self.P is None

    def samples_seen(self, steps: int) -> int:
        """Number of strings (with repeats in the offline regime) seen after ``steps`` steps."""
        return int(steps) * self.effective_batch

    @property
    def effective_batch(self) -> int:
        """Strings per step: ``B``, or ``min(B, P)`` offline."""
        return self.batch_size if self.P is None else min(self.batch_size, self.P)

    def host_batch(self, step: int) -> npt.NDArray[Any]:
        """The tokens of step ``step`` as a host array ``(B, s**L)``."""
        if self._pool is None:
            chunk_id, offset = divmod(int(step), self._chunk_steps)
            if chunk_id != self._chunk_id or self._chunk is None:
                self._chunk = self._stream.host_batch(chunk_id).tokens
                self._chunk_id = chunk_id
            lo = offset * self.batch_size
            return self._chunk[lo : lo + self.batch_size]
        rng = np.random.default_rng([self.seed, int(step), 0xB47C])
        idx = rng.choice(len(self._pool), size=self.effective_batch, replace=False)
        return self._pool[idx]

    def batch(self, step: int) -> torch.Tensor:
        """The tokens of step ``step`` on the device, int64 ``(B, s**L)``."""
        return to_device(self.host_batch(step), self.device)
