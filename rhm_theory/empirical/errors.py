"""Measured against exact squared error of empirical context vectors, as P grows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.validation import CONTEXT_KINDS

__all__ = ["ErrorCurve", "context_vector_error_curves"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ErrorCurve:
    """Squared error of empirical context vectors against ``P``: measured and exact.

    Attributes
    ----------
    v, m, s, L, grammar_seed : int
        The random grammar.
    level : int
        Level whose children tuples' context vectors are estimated.
    context : str
        Context kind.
    P : ndarray of float64
        Numbers of strings.
    measured : ndarray of float64
        Mean over grammatical tuples (of symbols present at the level) of
        ``||phi_hat_t - phi_t||^2``, averaged over the data seeds; ``phi_hat`` is the
        empirical conditional law of the context blocks
        (:class:`rhm_theory.empirical.ContextCounts`) and ``phi_t`` the exact one
        (:func:`rhm_theory.exact.context_laws`).
    predicted : ndarray of float64
        The exact expected error ``mean_t sum_j noise[j, a] / (P w[j, a] w_a(r))``
        (:meth:`rhm_theory.exact.ContextLaws.noise_per_occurrence`), over the positions
        ``j`` where the tuple occurs.
    n_data_seeds : int
    """

    v: int
    m: int
    s: int
    L: int
    grammar_seed: int
    level: int
    context: str
    P: FloatArray
    measured: FloatArray
    predicted: FloatArray
    n_data_seeds: int


def context_vector_error_curves(
    params: tuple[int, int, int, int],
    grammar_seed: int,
    Ps: Sequence[int],
    data_seeds: Sequence[int],
    *,
    contexts: Sequence[str] = CONTEXT_KINDS,
    levels: Sequence[int] | None = None,
    chunk_size: int = 65536,
    grammar: Any = None,
) -> list[ErrorCurve]:
    """Measured and exact squared error of tuple context vectors, per context and level.

    Every (context, level) pair of one grammar is counted from the same strings: the data
    seeds give the same corpora for every curve. Blocks of positions where a tuple never
    occurs (zero probability) are left out of both the measurement and the prediction.

    Parameters
    ----------
    params : (v, m, s, L)
        Grammar parameters (``L >= 2``).
    grammar_seed : int
        Seed of :func:`rhm_theory.model.random_grammar`.
    Ps : sequence of int
        Numbers of strings (each corpus is the first ``P`` strings of its data seed).
    data_seeds : sequence of int
        Data seeds; the measured error is their mean.
    contexts : sequence of str
        Context kinds (default all, :data:`rhm_theory.validation.CONTEXT_KINDS`).
    levels : sequence of int, optional
        Levels (default: ``1..L-1``).
    chunk_size : int
        Strings per sampled chunk.
    grammar : Grammar, optional
        Use this grammar (e.g. a weighted one) instead of ``random_grammar(params,
        grammar_seed)``; its parameters must match ``params``. A tuple ``t = (a, r)`` then
        occurs ``w[j, a] * w_a(r)`` times per string; rules of weight 0 are left out.
        Ambiguous grammars are refused (the law given a shared tuple is not its parent's).

    Returns
    -------
    list of ErrorCurve
        One per (context, level), in the order of ``contexts`` then ``levels``.
    """
    from rhm_theory.empirical import ContextCounts
    from rhm_theory.exact import context_laws
    from rhm_theory.model import RHMParams, random_grammar, tuple_codes

    v, m, s, L = params
    p = RHMParams(v, m, s, L)
    g = random_grammar(p, seed=grammar_seed) if grammar is None else grammar
    if g.params != p:
        raise ValueError(f"grammar must have the parameters {p}, got {g.params}")
    if g.is_ambiguous:
        raise ValueError("grammar must be unambiguous (the law given a shared tuple mixes "
                         "its parents' laws)")
    lv = list(range(1, L)) if levels is None else [p.check_level(x, 1, L - 1) for x in levels]
    Ps_sorted = sorted(int(P) for P in Ps)
    if not Ps_sorted or Ps_sorted[0] < 1:
        raise ValueError(f"Ps must be positive integers, got {list(Ps)}")
    pairs = [(kind, level) for kind in contexts for level in lv]
    setup = {}
    for kind, level in pairs:
        laws = context_laws(g, level, kind)
        present = laws.weights.sum(axis=0) > 0
        parents_all = np.repeat(np.arange(p.vocab(level)), m)
        rule_w = g.rule_probs_of(level).ravel()
        keep = present[parents_all] & (rule_w > 0)
        codes = tuple_codes(g.rules_of(level).reshape(-1, s), v)[keep]
        parents = parents_all[keep]
        occurs = laws.weights[:, parents] > 0  # (s, n_tuples): positions where t occurs
        exact = np.transpose(laws.blocks[:, :, parents], (2, 0, 1, 3))  # (n_t, s, k, c)
        noise = laws.noise_per_occurrence()[:, parents]
        # Uniform rows divide by m (the unchanged numbers of the paper's RHM).
        per_string = (laws.weights[:, parents] / m if g.is_uniform
                      else laws.weights[:, parents] * rule_w[keep])
        setup[(kind, level)] = (codes, occurs, exact, noise, per_string)
    measured: dict[tuple[str, int], list[list[float]]] = {k: [] for k in pairs}
    need_latents = L > 2 or "label" in contexts
    for ds in data_seeds:
        accs = {(kind, level): ContextCounts(s, level, kind, v, p.n_c if kind == "label" else v)
                for kind, level in pairs}
        done = 0
        errs: dict[tuple[str, int], list[float]] = {k: [] for k in pairs}
        for P in Ps_sorted:
            # Corpora are nested: the first P strings of the stream, counted incrementally.
            for chunk in _chunks_from(g, done, P, ds, chunk_size, need_latents):
                for (kind, level), acc in accs.items():
                    lower = chunk.tokens if level == 1 else chunk.level(level - 1)
                    acc.update(lower, tokens=chunk.tokens,
                               labels=chunk.labels if kind == "label" else None)
            done = P
            for key, acc in accs.items():
                codes, occurs, exact, _, _ = setup[key]
                hat = acc.conditional_laws(codes)
                sq = ((hat - exact) ** 2).sum(axis=(2, 3))  # (n_t, s)
                errs[key].append(float(np.where(occurs.T, sq, 0.0).sum(axis=1).mean()))
        for key in pairs:
            measured[key].append(errs[key])
    out = []
    for kind, level in pairs:
        _, occurs, _, noise, per_string = setup[(kind, level)]
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(occurs, noise / np.where(occurs, per_string, 1.0), 0.0).sum(axis=0)
        predicted = np.array([float(coef.mean()) / P for P in Ps_sorted])
        out.append(ErrorCurve(v, m, s, L, grammar_seed, level, kind,
                              np.asarray(Ps_sorted, dtype=np.float64),
                              np.asarray(measured[(kind, level)]).mean(axis=0),
                              predicted, len(data_seeds)))
    return out


def _chunks_from(grammar: Any, start: int, stop: int, seed: int, chunk_size: int,
                 latents: bool) -> Iterable[Any]:
    """Strings ``start..stop-1`` of the data stream ``seed``, in chunks (with latents)."""
    from rhm_theory.model.sampling import sample

    for lo in range(start, stop, chunk_size):
        yield sample(grammar, min(chunk_size, stop - lo), seed, latents=latents, start=lo)
