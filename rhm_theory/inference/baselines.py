"""Bayes-optimal baselines from exact BP: masked tokens, root class and latents per level."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.inference.bp import belief_propagation
from rhm_theory.inference.corruption import noisy_channel, random_mask
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import iter_samples
from rhm_theory.validation import check_float, check_int, check_seed

__all__ = [
    "BayesBaselines",
    "BayesScore",
    "bayes_baselines",
    "bayes_latent_baseline",
    "bayes_masked_token_baseline",
    "bayes_root_baseline",
]

#: Posterior floats per streamed chunk (32 MiB of float64): memory does not grow with n.
_CHUNK_FLOATS = 2**22


@dataclass(frozen=True)
class BayesScore:
    """Score of the exact posterior on a set of nodes against the true symbols.

    Attributes
    ----------
    accuracy : float
        Fraction of nodes whose most probable symbol (MAP, ties to the smallest) is the true
        one: the Bayes-optimal accuracy. NaN when no node was scored.
    cross_entropy : float
        Mean ``-log posterior(true symbol)`` in nats: the Bayes-optimal cross-entropy.
    n_scored : int
        Number of nodes scored.
    """

    accuracy: float
    cross_entropy: float
    n_scored: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"accuracy": self.accuracy, "cross_entropy": self.cross_entropy,
                "n_scored": self.n_scored}


@dataclass(frozen=True)
class BayesBaselines:
    """Bayes-optimal scores of every level on fresh strings (see :func:`bayes_baselines`).

    Attributes
    ----------
    params : RHMParams
    n, seed : int
        Strings scored and data seed.
    mask_frac, noise : float
        The corruption.
    block_level : int
        Level of the masked blocks (0: tokens, 1: s-tuples, ...).
    levels : tuple of BayesScore or None
        ``levels[l]`` for ``l = 0..L`` (level 0 over all tokens, level ``L`` the root);
        ``None`` for levels not computed.
    masked_tokens : BayesScore
        Tokens hidden by the mask only (NaN scores without a mask).
    mean_log_evidence : float
        Mean log-probability of the observed (masked / noisy) strings.
    seconds : float
        Time spent in BP (excluding sampling and scoring).
    """

    params: RHMParams
    n: int
    seed: int
    mask_frac: float
    block_level: int
    noise: float
    levels: tuple[BayesScore | None, ...]
    masked_tokens: BayesScore
    mean_log_evidence: float
    seconds: float

    @property
    def strings_per_second(self) -> float:
        """Strings processed by BP per second."""
        return self.n / self.seconds if self.seconds > 0 else math.inf

    @property
    def root(self) -> BayesScore:
        """Score of the root classifier."""
        score = self.levels[self.params.L]
        assert score is not None
        return score

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON output."""
        return {
            "params": self.params.to_dict(),
            "n": self.n,
            "seed": self.seed,
            "mask_frac": self.mask_frac,
            "block_level": self.block_level,
            "noise": self.noise,
            "levels": [
                None if s is None else {"level": lv, **s.to_dict()}
                for lv, s in enumerate(self.levels)
            ],
            "masked_tokens": self.masked_tokens.to_dict(),
            "mean_log_evidence": self.mean_log_evidence,
            "bp_seconds": self.seconds,
            "strings_per_second": self.strings_per_second,
        }


def _score(post: npt.NDArray[np.float64], truth: npt.NDArray[Any]) -> tuple[int, float, int]:
    t = truth.astype(np.int64)[..., None]
    hit = int(np.count_nonzero(np.argmax(post, axis=-1) == t[..., 0]))
    with np.errstate(divide="ignore"):
        ce = float(-np.log(np.take_along_axis(post, t, axis=-1)).sum())
    return hit, ce, int(t.size)


def bayes_baselines(
    grammar: Grammar,
    n: int,
    seed: int,
    *,
    mask_frac: float = 0.0,
    block_level: int = 0,
    noise: float = 0.0,
    levels: Sequence[int] | None = None,
    chunk_size: int | None = None,
) -> BayesBaselines:
    """Score exact BP posteriors on ``n`` fresh strings: the Bayes-optimal baselines.

    Strings (with their latents) are drawn by :func:`~rhm_theory.model.sampling.iter_samples`
    with ``seed``; a mask (:func:`random_mask`, fraction ``mask_frac`` of the
    level-``block_level`` blocks) and the noisy channel (:func:`noisy_channel`) are drawn
    from the same seed (salted); BP posteriors of every requested level are scored against
    the true symbols, chunk by chunk, so memory does not grow with ``n``.

    Parameters
    ----------
    grammar : Grammar
        The grammar the strings come from and BP uses (an observer who knows the grammar).
    n : int
        Number of fresh strings, ``n >= 1``.
    seed : int
        Data seed.
    mask_frac : float, default 0
        Fraction of blocks hidden, ``0 <= mask_frac <= 1``.
    block_level : int, default 0
        Level of the hidden blocks: 0 tokens, 1 s-tuples (a tuple mask), ...
    noise : float, default 0
        ``eps`` of the noisy channel, ``0 <= noise < 1``.
    levels : sequence of int, optional
        Levels to score (default all, ``0..L``); hidden tokens are scored when 0 is included.
    chunk_size : int, optional
        Strings per chunk (default: about 32 MiB of posteriors).

    Returns
    -------
    BayesBaselines

    Examples
    --------
    Fully observed strings of an unambiguous grammar: every latent is certain.

    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> res = bayes_baselines(g, 100, seed=1)
    >>> res.root.accuracy, res.root.cross_entropy
    (1.0, 0.0)
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    n = check_int("n", n, minimum=1)
    seed = check_seed("seed", seed)
    mask_frac = check_float("mask_frac", mask_frac, minimum=0.0, maximum=1.0)
    block_level = check_int("block_level", block_level, minimum=0, maximum=p.L)
    noise = check_float("noise", noise, minimum=0.0, maximum=1.0, include_maximum=False)
    if levels is None:
        wanted = list(range(p.L + 1))
    else:
        wanted = sorted({check_int("levels", lv, minimum=0, maximum=p.L) for lv in levels})
        if not wanted:
            raise ValueError("levels must name at least one level in [0, L]")
    if chunk_size is None:
        per = sum(p.nodes_at_level(lv) * p.vocab(lv) for lv in wanted)
        chunk_size = max(16, _CHUNK_FLOATS // per)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    hits = dict.fromkeys(wanted, 0)
    ces = dict.fromkeys(wanted, 0.0)
    counts = dict.fromkeys(wanted, 0)
    m_hit, m_ce, m_count = 0, 0.0, 0
    log_ev = 0.0
    seconds = 0.0
    start = 0
    for chunk in iter_samples(grammar, n, seed, chunk_size=chunk_size, latents=True):
        rows = len(chunk)
        mask = (
            random_mask(grammar, rows, mask_frac, seed, block_level=block_level, start=start)
            if mask_frac > 0
            else None
        )
        observed = (
            noisy_channel(grammar, chunk.tokens, noise, seed, start=start)
            if noise > 0
            else chunk.tokens
        )
        t0 = time.perf_counter()
        post = belief_propagation(grammar, observed, mask=mask, noise=noise, levels=wanted,
                                  chunk_size=rows)
        seconds += time.perf_counter() - t0
        log_ev += float(post.log_evidence.sum())
        for lv in wanted:
            h, c, k = _score(post.level(lv), chunk.level(lv))
            hits[lv] += h
            ces[lv] += c
            counts[lv] += k
        if mask is not None and 0 in wanted:
            h, c, k = _score(post.level(0)[mask], chunk.tokens[mask])
            m_hit, m_ce, m_count = m_hit + h, m_ce + c, m_count + k
        start += rows
    scores: list[BayesScore | None] = [None] * (p.L + 1)
    for lv in wanted:
        scores[lv] = BayesScore(hits[lv] / counts[lv], ces[lv] / counts[lv], counts[lv])
    masked = (
        BayesScore(m_hit / m_count, m_ce / m_count, m_count)
        if m_count
        else BayesScore(math.nan, math.nan, 0)
    )
    return BayesBaselines(p, n, seed, mask_frac, block_level, noise, tuple(scores), masked,
                          log_ev / n, seconds)


def bayes_masked_token_baseline(
    grammar: Grammar,
    n: int,
    seed: int,
    mask_frac: float = 0.25,
    *,
    block_level: int = 0,
    chunk_size: int | None = None,
) -> BayesScore:
    """Bayes-optimal masked-token prediction: accuracy and cross-entropy at hidden positions.

    The ceiling of any masked-language model (BERT-style, data2vec) trained on the grammar's
    strings with the same mask. ``block_level = 1`` hides whole s-tuples (a tuple mask).

    Parameters
    ----------
    grammar : Grammar
    n, seed : int
        Fresh strings and data seed.
    mask_frac : float, default 0.25
        Fraction of blocks hidden, ``0 < mask_frac <= 1``.
    block_level : int, default 0
        Level of the hidden blocks.
    chunk_size : int, optional
        Strings per chunk.

    Returns
    -------
    BayesScore
        Over the hidden tokens.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> score = bayes_masked_token_baseline(g, 200, seed=1, mask_frac=0.25)
    >>> score.n_scored, 0.0 < score.accuracy <= 1.0
    (400, True)
    """
    mask_frac = check_float("mask_frac", mask_frac, minimum=0.0, maximum=1.0,
                            include_minimum=False)
    res = bayes_baselines(grammar, n, seed, mask_frac=mask_frac, block_level=block_level,
                          levels=[0], chunk_size=chunk_size)
    return res.masked_tokens


def bayes_root_baseline(
    grammar: Grammar,
    n: int,
    seed: int,
    *,
    mask_frac: float = 0.0,
    block_level: int = 0,
    noise: float = 0.0,
    chunk_size: int | None = None,
) -> BayesScore:
    """Bayes-optimal root classification from masked and/or noisy strings.

    The ceiling of any root probe or supervised classifier at the same corruption. Only the
    upward pass runs.

    Parameters
    ----------
    grammar : Grammar
    n, seed : int
        Fresh strings and data seed.
    mask_frac, block_level, noise
        The corruption, as in :func:`bayes_baselines`.
    chunk_size : int, optional
        Strings per chunk.

    Returns
    -------
    BayesScore
        Over the ``n`` roots.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> bayes_root_baseline(g, 100, seed=1, noise=0.0).accuracy
    1.0
    """
    p = grammar.params if isinstance(grammar, Grammar) else None
    res = bayes_baselines(grammar, n, seed, mask_frac=mask_frac, block_level=block_level,
                          noise=noise, levels=None if p is None else [p.L],
                          chunk_size=chunk_size)
    return res.root


def bayes_latent_baseline(
    grammar: Grammar,
    n: int,
    seed: int,
    *,
    mask_frac: float = 0.0,
    block_level: int = 0,
    noise: float = 0.0,
    chunk_size: int | None = None,
) -> tuple[BayesScore, ...]:
    """Bayes-optimal latent recovery per level from masked and/or noisy strings.

    Parameters
    ----------
    grammar : Grammar
    n, seed : int
        Fresh strings and data seed.
    mask_frac, block_level, noise
        The corruption, as in :func:`bayes_baselines`.
    chunk_size : int, optional
        Strings per chunk.

    Returns
    -------
    tuple of BayesScore
        Entry ``l - 1`` scores level ``l = 1..L`` (the last is the root).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> [s.accuracy for s in bayes_latent_baseline(g, 50, seed=1)]
    [1.0, 1.0, 1.0]
    """
    p = grammar.params if isinstance(grammar, Grammar) else None
    res = bayes_baselines(grammar, n, seed, mask_frac=mask_frac, block_level=block_level,
                          noise=noise, levels=None if p is None else range(1, p.L + 1),
                          chunk_size=chunk_size)
    out = tuple(s for s in res.levels[1:] if s is not None)
    return out
