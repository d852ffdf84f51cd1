"""Fast exact separation margins: compressed context vectors and a half-pair numba kernel."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rhm_theory.exact.contexts import MarginSummary, pairwise_distances, sibling_positions
from rhm_theory.exact.transitions import (
    child_matrices,
    level_weights,
    root_to_level_sums,
)
from rhm_theory.model.grammar import Grammar
from rhm_theory.validation import CONTEXT_KINDS, ContextKind, check_context

__all__ = [
    "compressed_context_vectors",
    "margin_summaries",
    "pair_margins",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


#: A factor is compressed (QR) only when wider than this many times its rows: below it the
#: wider rows cost less in the pair kernel than a LAPACK QR, which multithreaded on a busy
#: machine took seconds at v = 512 (latent context: 2 v columns, never compressed).
_COMPRESS_RATIO = 4


def _compress(factor: FloatArray) -> FloatArray:
    """``Y`` with ``Y Y^T = F F^T`` and at most ``rows`` columns (R factor of ``F^T``).

    ``F`` itself when it is at most ``_COMPRESS_RATIO`` times wider than tall.
    """
    if factor.shape[1] <= _COMPRESS_RATIO * factor.shape[0]:
        return factor
    r = np.asarray(np.linalg.qr(factor.T, mode="r"))  # F^T = Q R  =>  F F^T = R^T R
    return np.ascontiguousarray(r.T)


def _stack(mats: FloatArray, factor: FloatArray) -> FloatArray:
    """``[M_0 Y, ..., M_{s-1} Y]`` side by side: the factor one level further down."""
    return np.concatenate([m @ factor for m in mats], axis=1)


class _Engine:
    """Quantities shared by every level and context of one grammar, computed once."""

    def __init__(self, grammar: Grammar) -> None:
        self.grammar = grammar
        p = grammar.params
        self.p = p
        self.M = [np.zeros(0)] + [child_matrices(grammar, lv) for lv in range(1, p.L + 1)]
        self.w = level_weights(grammar)
        self._sums: list[FloatArray] | None = None
        self._token: dict[int, FloatArray] = {}

    def pooled_sibling_joint(self, parent_level: int, j: int, jp: int) -> FloatArray:
        """``Q[a, a'] = sum_b w(b) J[b, a, a']``: :func:`sibling_joint` pooled over parents.

        Accumulated rule by rule, without the ``(vocab, v, v)`` array of ``J``.
        """
        table = self.grammar.rules_of(parent_level)
        wr = (self.w[parent_level][:, None]
              * self.grammar.rule_probs_of(parent_level)).ravel()
        Q = np.zeros((self.p.v, self.p.v))
        np.add.at(Q, (table[:, :, j].ravel(), table[:, :, jp].ravel()), wr)
        return Q

    def centred(self, level: int) -> FloatArray:
        """Centred child laws of ``level``, side by side: ``[M_j - mean row]_j``."""
        K = np.concatenate(list(self.M[level]), axis=1)  # (V, s * v)
        # Any common row may be subtracted (the differences of A-rows sum to 0); the mean
        # removes the large shared component, so no cancellation happens downstream.
        return np.asarray(K - K.mean(axis=0, keepdims=True))

    def factor(self, level: int, kind: ContextKind) -> FloatArray:
        """``Y`` with ``Y Y^T = C C^T``, ``C`` the centred laws of the context under a node.

        Latent: the children of a level-``level`` node. Token: its ``s**level`` tokens,
        by the recursion ``C_l = [M_j C_(l-1)]_j`` (child matrices are stochastic, so the
        centring carries through), compressed to ``vocab`` columns at every step.
        """
        if kind == "latent":
            return _compress(self.centred(level))
        if level not in self._token:
            y = _compress(self.centred(1)) if level == 1 else \
                _compress(_stack(self.M[level], self.factor(level - 1, "token")))
            self._token[level] = y
        return self._token[level]

    def compressed(self, level: int, kind: ContextKind) -> tuple[FloatArray, BoolArray]:
        """Rows ``X_a`` with ``||X_a - X_b|| = ||psi_a - psi_b||`` and the present mask."""
        p = self.p
        s, V = p.s, p.vocab(level)
        if kind == "label":
            if self._sums is None:
                self._sums = root_to_level_sums(self.grammar)
            S_parent = self._sums[level + 1]
            top = self.grammar.root_probs[:, None] * S_parent
            joint = np.stack([top @ mj for mj in self.M[level + 1]])  # P(root=c, u=a) at j
            weights = joint.sum(axis=1)  # (s, V)
            marg = joint.sum(axis=2)
            tot = marg.sum(axis=-1, keepdims=True)
            marg = np.divide(marg, tot, out=np.zeros_like(marg), where=tot > 0)
            cond = np.transpose(joint, (0, 2, 1))  # (s, V, n_c)
            w = weights[:, :, None]
            blocks = np.where(w > 0, cond / np.where(w > 0, w, 1.0), marg[:, None, :])
            X = np.transpose(blocks - marg[:, None, :], (1, 0, 2)).reshape(V, -1)
            return np.ascontiguousarray(X), np.asarray(weights.sum(axis=0) > 0)
        Y = self.factor(level, kind)
        parts = []
        weights = np.zeros((s, V))
        for j in range(s):
            for slot, jp in enumerate(sibling_positions(s, j)):
                # Q[a, a'] = pooled P(u = a at j, sibling = a' at jp); the block of psi_a
                # is A[a] K - marginal, with A = Q / rowsum (the marginal's A-row where the
                # row is empty), so psi_a - psi_b = (A[a] - A[b]) C: only Y is needed.
                Q = self.pooled_sibling_joint(level + 1, j, jp)
                rows = Q.sum(axis=1)
                if slot == 0:
                    weights[j] = rows
                total = rows.sum()
                fill = Q.sum(axis=0) / total if total > 0 else np.zeros(V)
                A = np.where(rows[:, None] > 0, Q / np.where(rows > 0, rows, 1.0)[:, None],
                             fill[None, :])
                parts.append(A @ Y)
        return np.ascontiguousarray(np.concatenate(parts, axis=1)), \
            np.asarray(weights.sum(axis=0) > 0)

    def pairs(self, level: int, kind: ContextKind) -> tuple[FloatArray, int]:
        """Distances of the present pairs ``a < b`` (``triu_indices`` order), n present."""
        X, present = self.compressed(level, kind)
        idx = np.flatnonzero(present)
        d = pairwise_distances(X[idx]) if idx.size > 1 else np.zeros((idx.size, idx.size))
        return np.asarray(d[np.triu_indices(idx.size, k=1)]), int(idx.size)

    def summary(self, level: int, kind: ContextKind) -> MarginSummary:
        """:class:`MarginSummary` of ``level`` and ``kind``."""
        pairs, n = self.pairs(level, kind)
        if pairs.size == 0:
            return MarginSummary(level, kind, math.inf, math.inf, math.inf, n)
        return MarginSummary(level, kind, float(pairs.min()), float(pairs.mean()),
                             float(pairs.max()), n)


def _check_level(grammar: Grammar, level: int) -> int:
    p = grammar.params
    if p.L < 2:
        raise ValueError(f"context laws need a parent above the node: L must satisfy L >= 2, "
                         f"got L={p.L}")
    return p.check_level(level, 1, p.L - 1)


def compressed_context_vectors(grammar: Grammar, level: int,
                               context: str = "latent") -> tuple[FloatArray, BoolArray]:
    """Short rows with the same pairwise distances as the context vectors ``psi_a``.

    For the latent and token contexts the block of ``psi_a`` for sibling slot ``(j, j')``
    is ``A[a] K - marginal``, where ``A[a]`` is the law of the sibling given ``u = a`` and
    ``K`` stacks the laws of the context under a sibling (``s**l * v`` columns for tokens).
    Rows of ``A`` sum to 1, so ``psi_a - psi_b = (A[a] - A[b]) C`` for ``C`` the centred
    ``K``, and ``||psi_a - psi_b||^2 = (A[a] - A[b]) Y Y^T (A[a] - A[b])^T`` for any ``Y``
    with ``Y Y^T = C C^T``. ``Y`` is built level by level (``C_l = [M_j C_(l-1)]_j``) and
    compressed to ``vocab`` columns by a QR step, so a level's token vectors cost
    ``O(v^3)`` instead of ``O(v^2 s^l v)``. The label context is returned as is (centred
    ``psi``, ``s * n_c`` columns).

    Parameters
    ----------
    grammar : Grammar
    level : int
        ``1 <= level <= L-1``.
    context : {"latent", "token", "label"}, default "latent"

    Returns
    -------
    X : ndarray, shape (vocab(level), d)
        ``||X[a] - X[b]|| = ||psi_a - psi_b||`` (exact arithmetic; to rounding in floats).
    present : ndarray of bool, shape (vocab(level),)
        Symbols of positive probability at the level.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> from rhm_theory.exact import context_vectors, pairwise_distances
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    >>> X, present = compressed_context_vectors(g, 3, "token")
    >>> psi = context_vectors(g, 3, "token")
    >>> X.shape[1] < psi.shape[1]
    True
    >>> bool(np.allclose(pairwise_distances(X), pairwise_distances(psi), atol=1e-12))
    True
    """
    kind = check_context(context)
    level = _check_level(grammar, level)
    return _Engine(grammar).compressed(level, kind)


def pair_margins(grammar: Grammar, level: int, context: str = "latent") -> FloatArray:
    """``||psi_a - psi_b||`` over the pairs ``a < b`` of present symbols (``triu`` order).

    The distribution over pairs whose minimum is ``Delta_l`` (docs/theory.md section 3).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> pair_margins(g, 1).shape  # 8 * 7 / 2 pairs
    (28,)
    """
    kind = check_context(context)
    level = _check_level(grammar, level)
    return _Engine(grammar).pairs(level, kind)[0]


def margin_summaries(grammar: Grammar, contexts: Sequence[str] = CONTEXT_KINDS,
                     levels: Sequence[int] | None = None) -> list[MarginSummary]:
    """:class:`MarginSummary` of every context kind and level, sharing all the work.

    Equal to ``margin_summary(context_laws(grammar, level, kind))`` (to ``1e-12``) for each
    ``kind`` in ``contexts`` (outer loop) and ``level`` in ``levels`` (default ``1..L-1``),
    without materialising the token-context blocks (see
    :func:`compressed_context_vectors`).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> from rhm_theory.exact import context_laws, margin_summary
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    >>> fast = margin_summaries(g, ["token"], [3])[0]
    >>> slow = margin_summary(context_laws(g, 3, "token"))
    >>> abs(fast.margin_min - slow.margin_min) < 1e-12
    True
    """
    kinds = [check_context(c, "contexts") for c in contexts]
    p = grammar.params
    lv = list(range(1, p.L)) if levels is None else [_check_level(grammar, x) for x in levels]
    engine = _Engine(grammar)
    return [engine.summary(level, kind) for kind in kinds for level in lv]
