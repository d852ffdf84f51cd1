"""A streaming ``IterableDataset`` of fresh RHM strings from the core sampler."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.model.spec import GrammarSpec
from rhm_theory.validation import check_int, check_seed

__all__ = ["RHMStream", "keep_torch_threads"]


@contextmanager
def keep_torch_threads() -> Iterator[None]:
    """Restore torch's intra-op thread count on exit.

    numba's OpenMP threading layer (used by the core sampler) resets the process-wide OpenMP
    thread count, which silently overrides ``torch.set_num_threads``; on a busy CPU the
    extra torch threads make every small op wait milliseconds at a barrier.
    """
    n = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


class RHMStream(IterableDataset[tuple[torch.Tensor, ...]]):
    """Fresh strings of a grammar in batches, the same for any number of ``DataLoader`` workers.

    Batch ``b`` holds strings ``start + b*B .. start + b*B + B - 1`` of
    :func:`rhm_theory.model.sampling.sample` for ``seed`` (string ``i`` is a function of
    ``(seed, i)`` alone). With ``W`` workers, worker ``w`` draws batches ``w, w + W, ...``
    and the ``DataLoader`` (``batch_size=None``) takes them in turn, so the sequence of
    batches is the same for 0, 1 or more workers; concatenated, the batches are the same
    strings for every ``batch_size``. Each batch is drawn when it is needed: memory is one
    batch per worker, whatever the number of strings. Items are tuples of tensors:
    ``(tokens,)``, ``(tokens, labels)`` or ``(tokens, labels, level_1, ..., level_L)``, tokens
    of shape ``(B, s**L)``.

    Parameters
    ----------
    grammar : Grammar or GrammarSpec
    seed : int, default 0
        Data seed.
    batch_size : int, default 256
        Strings per item; use ``DataLoader(stream, batch_size=None, num_workers=W)``.
    num_strings : int, optional
        Strings per pass (the last batch may be shorter); ``None``: an endless stream.
    start : int, default 0
        Index of the first string (a resumed run passes the strings already seen).
    labels : bool, default True
        Yield the root labels.
    latents : bool, default False
        Also yield every latent level (level 1 first; the last is the root).
    long : bool, default True
        Yield int64 tensors (what embeddings take); ``False`` keeps the symbol dtype
        (``uint8`` for ``v < 255``: 8 times less to copy between processes).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> tokens, labels = next(iter(RHMStream(g, seed=1, batch_size=4)))
    >>> tuple(tokens.shape), tuple(labels.shape), tokens.dtype
    ((4, 8), (4,), torch.int64)
    """

    def __init__(
        self,
        grammar: Grammar | GrammarSpec,
        *,
        seed: int = 0,
        batch_size: int = 256,
        num_strings: int | None = None,
        start: int = 0,
        labels: bool = True,
        latents: bool = False,
        long: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(grammar, GrammarSpec):
            grammar = grammar.build()
        if not isinstance(grammar, Grammar):
            raise TypeError(
                f"grammar must be a Grammar or a GrammarSpec, got {type(grammar).__name__}")
        self.grammar = grammar
        self.seed = check_seed("seed", seed)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.num_strings = None if num_strings is None else check_int(
            "num_strings", num_strings, minimum=0)
        self.start = check_int("start", start, minimum=0)
        self.labels = bool(labels)
        self.latents = bool(latents)
        self.long = bool(long)

    @property
    def num_batches(self) -> int | None:
        """Batches per pass (``None`` for an endless stream)."""
        if self.num_strings is None:
            return None
        return -(-self.num_strings // self.batch_size)

    def host_batch(self, index: int, *, parallel: bool = True) -> Sample:
        """Batch ``index`` as a host :class:`~rhm_theory.model.sampling.Sample` (latents
        when labels or latents are asked).

        ``parallel=False`` draws on the calling thread only (what a forked worker needs).
        """
        index = check_int("index", index, minimum=0)
        lo = index * self.batch_size
        n = self.batch_size
        if self.num_strings is not None:
            n = max(0, min(n, self.num_strings - lo))
        with keep_torch_threads():
            return sample(self.grammar, n, self.seed, start=self.start + lo,
                          latents=self.labels or self.latents, parallel=parallel)

    def _tensor(self, array: np.ndarray[Any, Any]) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(array))
        return t.long() if self.long else t

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        info = get_worker_info()
        # A worker is a forked process: numba's OpenMP pool of the parent is unusable there.
        worker, workers, parallel = (0, 1, True) if info is None else (
            info.id, info.num_workers, False)
        total = self.num_batches
        b = worker
        while total is None or b < total:
            x = self.host_batch(b, parallel=parallel)
            out = [self._tensor(x.tokens)]
            if self.labels:
                out.append(self._tensor(x.labels))
            if self.latents and x.levels is not None:
                out += [self._tensor(level) for level in x.levels]
            yield tuple(out)
            b += workers
