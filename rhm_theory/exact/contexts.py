"""Exact pooled tuple -> context laws, cousin-context vectors ``psi_a`` and separation margins."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.exact.transitions import (
    child_matrices,
    descendant_laws,
    level_weights,
    pooled_sibling_joint,
    root_to_level_sums,
)
from rhm_theory.model.grammar import Grammar
from rhm_theory.validation import CONTEXT_KINDS, ContextKind, check_array, check_context

__all__ = [
    "CONTEXT_KINDS",
    "ContextKind",
    "ContextLaws",
    "MarginSummary",
    "block_layout",
    "context_laws",
    "context_vectors",
    "margin_summary",
    "pairwise_distances",
    "pairwise_margins",
]

FloatArray = npt.NDArray[np.float64]

#: Columns per pass of the half-pair kernel: 128 rows x 2048 columns x 8 bytes = 2 MiB, so
#: one column block of every row stays in cache while all pairs are accumulated over it.
_COLUMN_BLOCK = 2048


def block_layout(s: int, level: int, context: str) -> list[tuple[int, int]]:
    """Context blocks of one within-parent position ``j``, as ``(sibling slot, r)`` pairs.

    For the latent and token contexts, the blocks of position ``j`` are the siblings
    ``j' != j`` in increasing order (slot ``0..s-2``), each with its context positions
    ``r`` (``r < s`` cousin latents, ``r < s**level`` tokens). The label context has one
    block. The same layout is used by the exact engine and the empirical counts.

    >>> block_layout(2, 1, "latent")
    [(0, 0), (0, 1)]
    >>> len(block_layout(3, 2, "token"))  # 2 siblings x 9 tokens each
    18
    """
    context = check_context(context)
    if context == "label":
        return [(0, 0)]
    per_sibling = s if context == "latent" else s**level
    return [(slot, r) for slot in range(s - 1) for r in range(per_sibling)]


def sibling_positions(s: int, j: int) -> list[int]:
    """Positions ``j' != j`` of the siblings of a child at position ``j``, in order."""
    return [jp for jp in range(s) if jp != j]


@dataclass(frozen=True)
class ContextLaws:
    """Exact pooled laws of the context of a level-``level`` node given its symbol.

    Statistics are pooled over all level-``level`` nodes with the same within-parent
    position ``j`` (docs/theory.md section 3). By synonym invariance the law given a children
    tuple ``t`` equals the law given its parent ``a``, so everything is indexed by ``a``.

    Attributes
    ----------
    level : int
        Level ``l`` of the node ``u`` (``1 <= l <= L-1``); its children tuple is at ``l-1``.
    context : {"latent", "token", "label"}
    blocks : ndarray, shape (s, n_blocks, vocab(l), n_context)
        ``blocks[j, k, a]`` is the law of context block ``k`` (see :func:`block_layout`)
        given ``u = a`` at position ``j``; rows with zero weight hold the block marginal.
    weights : ndarray, shape (s, vocab(l))
        ``weights[j, a]`` = expected number per string of position-``j`` level-``l`` nodes
        holding ``a``. The tuple of rule ``r`` of ``a`` occurs
        ``weights[j, a] * rule_probs[a, r]`` times (``weights[j, a] / m`` when uniform).
    marginals : ndarray, shape (s, n_blocks, n_context)
        Pooled law of each context block at position ``j``.
    rule_probs : ndarray, shape (vocab(l), m)
        The rule weights ``w_a(r)`` of level ``l`` (which tuple the node's symbol emits).
    """

    level: int
    context: ContextKind
    blocks: FloatArray
    weights: FloatArray
    marginals: FloatArray
    rule_probs: FloatArray

    @property
    def n_blocks(self) -> int:
        """Number of context blocks per position ``j``."""
        return int(self.blocks.shape[1])

    @property
    def present(self) -> npt.NDArray[np.bool_]:
        """Symbols of positive probability at this level (at any position)."""
        return np.asarray(self.weights.sum(axis=0) > 0)

    @cached_property
    def vectors(self) -> FloatArray:
        """Centred context vectors ``psi_a``, shape ``(vocab(l), s * n_blocks * n_context)``.

        The concatenation over ``j`` and blocks of ``P(block | u = a) - marginal``.
        """
        centred = self.blocks - self.marginals[:, :, None, :]
        return np.ascontiguousarray(np.transpose(centred, (2, 0, 1, 3)).reshape(
            self.blocks.shape[2], -1
        ))

    def noise_per_occurrence(self) -> FloatArray:
        """``sum over blocks of (1 - ||p_block||^2)`` per position and symbol, ``(s, V)``.

        This is the expected squared error of a context vector estimated from one
        occurrence (one draw per block); ``n`` occurrences divide it by ``n``.
        """
        return np.asarray((1.0 - (self.blocks**2).sum(axis=-1)).sum(axis=1))


def context_laws(grammar: Grammar, level: int, context: str = "latent") -> ContextLaws:
    """Exact pooled tuple -> context laws of ``level`` for one context kind.

    Rule weights and the root prior of the grammar enter through the child matrices and
    the node weights. In an ambiguous grammar the laws are still indexed by the parent
    symbol ``a`` (the law given the *node*); a tuple with several parents then has a context
    law that mixes theirs, so synonym invariance fails for it (see
    :func:`~rhm_theory.exact.tuples.tuple_context_vectors`).

    Parameters
    ----------
    grammar : Grammar
    level : int
        ``1 <= level <= L-1``: the level of the node whose children tuple is clustered.
    context : {"latent", "token", "label"}
        ``latent``: the level-``(l-1)`` children of every sibling (cousin tuples);
        ``token``: the visible tokens under every sibling; ``label``: the root symbol.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, balanced_grammar
    >>> g = balanced_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> laws = context_laws(g, 1, "latent")
    >>> laws.blocks.shape, laws.vectors.shape
    ((2, 2, 4, 4), (4, 16))
    >>> float(laws.weights.sum())  # 4 level-1 nodes per string
    4.0
    """
    p = grammar.params
    kind = check_context(context)
    if p.L < 2:
        raise ValueError(f"context laws need a parent above the node: L must satisfy L >= 2, "
                         f"got L={p.L}")
    level = p.check_level(level, 1, p.L - 1)
    s, V = p.s, p.vocab(level)
    layout = block_layout(s, level, kind)
    if kind == "label":
        S_parent = root_to_level_sums(grammar)[level + 1]  # (n_c, V_{l+1})
        M = child_matrices(grammar, level + 1)  # (s, V_{l+1}, V)
        # joint[j, c, a] = pooled P(root = c, u = a) summed over position-j nodes
        joint = np.einsum("c,cb,jba->jca", grammar.root_probs, S_parent, M)
        weights = joint.sum(axis=1)  # (s, V)
        raw = np.transpose(joint, (0, 2, 1))[:, None, :, :]  # (s, 1, V, n_c)
    else:
        w_parent = level_weights(grammar)[level + 1]
        if kind == "latent":
            K = np.transpose(child_matrices(grammar, level), (1, 0, 2))  # (V, s, v)
        else:
            K = descendant_laws(grammar, level, level)  # (V, s**l, v)
        n_ctx = K.shape[2]
        raw = np.zeros((s, len(layout), V, n_ctx))
        weights = np.zeros((s, V))
        per_sibling = K.shape[1]
        Kflat = K.reshape(V, -1)
        for j in range(s):
            for slot, jp in enumerate(sibling_positions(s, j)):
                # Q[a, a'] = pooled P(u = a at j, sibling = a' at jp), one rule per parent.
                Q = pooled_sibling_joint(grammar, level + 1, j, jp, w_parent)
                if slot == 0:
                    weights[j] = Q.sum(axis=1)
                k0 = slot * per_sibling
                raw[j, k0 : k0 + per_sibling] = np.transpose(
                    (Q @ Kflat).reshape(V, per_sibling, n_ctx), (1, 0, 2)
                )
    # Normalise: law given u = a is joint / weight; empty rows get the block marginal.
    marg = raw.sum(axis=2)
    tot = marg.sum(axis=-1, keepdims=True)
    marginals = np.divide(marg, tot, out=np.zeros_like(marg), where=tot > 0)
    w = weights[:, None, :, None]
    blocks = np.where(w > 0, raw / np.where(w > 0, w, 1.0), marginals[:, :, None, :])
    return ContextLaws(
        level, kind, np.asarray(blocks), weights, marginals, grammar.rule_probs_of(level)
    )


def context_vectors(grammar: Grammar, level: int, context: str = "latent") -> FloatArray:
    """Centred exact context vectors ``psi_a`` of ``level`` (see :class:`ContextLaws`)."""
    return context_laws(grammar, level, context).vectors


@nb.njit(cache=True, fastmath={"reassoc"})
def _half_pair_sq_kernel(x: FloatArray, out: FloatArray) -> None:  # pragma: no cover - numba
    # Squared distances of the pairs a < b, by explicit differences, column block by column
    # block (each block of every row is read from cache for all its pairs). "reassoc" lets
    # LLVM vectorise the sum of squares: every term is >= 0, so any order is exact to a few
    # ulps relative (no cancellation), unlike the Gram identity ||x||^2 + ||y||^2 - 2 x.y.
    n, d = x.shape
    for c0 in range(0, d, _COLUMN_BLOCK):
        c1 = min(c0 + _COLUMN_BLOCK, d)
        for a in range(n):
            for b in range(a + 1, n):
                acc = 0.0
                for k in range(c0, c1):
                    t = x[a, k] - x[b, k]
                    acc += t * t
                out[a, b] += acc


def pairwise_distances(vectors: npt.ArrayLike) -> FloatArray:
    """Euclidean distances between the rows of ``vectors``, by explicit differences.

    Each pair ``a < b`` is computed once, in compiled code; the matrix is symmetrised with
    a zero diagonal. Differences (not the Gram trick ``|x|^2 + |y|^2 - 2 x.y``) keep
    near-equal rows exact to machine precision (equal rows give exactly 0).

    Parameters
    ----------
    vectors : array_like, shape (n, d)
        Finite rows.

    Returns
    -------
    ndarray of float64, shape (n, n)

    Examples
    --------
    >>> pairwise_distances([[0.0, 0.0], [3.0, 4.0]]).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    x = np.ascontiguousarray(check_array("vectors", vectors, ndim=2, dtype=np.float64))
    out = np.zeros((x.shape[0], x.shape[0]))
    if x.shape[0] > 1 and x.shape[1] > 0:
        _half_pair_sq_kernel(x, out)
    out = np.sqrt(out)
    return np.asarray(out + out.T)


def pairwise_margins(laws: ContextLaws) -> FloatArray:
    """Pairwise margin matrix ``||psi_a - psi_a'||`` over the symbols of positive probability.

    Absent symbols' rows and columns are NaN; the diagonal is 0. (The per-level minima are
    :func:`rhm_theory.assumptions.separation_margins`.)
    """
    d = pairwise_distances(laws.vectors)
    absent = ~laws.present
    d[absent, :] = np.nan
    d[:, absent] = np.nan
    return d


@dataclass(frozen=True)
class MarginSummary:
    """Summary of the separation of one level and context kind."""

    level: int
    context: ContextKind
    margin_min: float
    margin_mean: float
    margin_max: float
    n_symbols: int

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain-dict record (the ``exact`` CLI row format)."""
        return {
            "level": self.level,
            "context": self.context,
            "margin_min": self.margin_min,
            "margin_mean": self.margin_mean,
            "margin_max": self.margin_max,
            "n_symbols": self.n_symbols,
        }


def margin_summary(laws: ContextLaws) -> MarginSummary:
    """Min, mean and max of ``||psi_a - psi_a'||`` over pairs ``a != a'`` of present symbols.

    With fewer than two present symbols the margins are ``inf`` (nothing to separate).
    """
    d = pairwise_margins(laws)
    present = np.flatnonzero(laws.present)
    iu = np.triu_indices(len(present), k=1)
    pairs = d[np.ix_(present, present)][iu]
    if pairs.size == 0:
        return MarginSummary(laws.level, laws.context, np.inf, np.inf, np.inf, len(present))
    return MarginSummary(
        laws.level,
        laws.context,
        float(pairs.min()),
        float(pairs.mean()),
        float(pairs.max()),
        len(present),
    )
