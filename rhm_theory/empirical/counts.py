"""Streaming tuple x context co-occurrence counts, pooled as the exact engine defines them."""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.exact.contexts import block_layout
from rhm_theory.validation import check_array, check_context, check_int

__all__ = ["MAX_COUNT_CELLS", "UNKNOWN_CLUSTER", "ContextCounts", "lift"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Refuse count tensors above this many cells (int64): 2**28 cells = 2 GiB.
MAX_COUNT_CELLS = 2**28

#: The unknown-cluster marker: the id :func:`lift` gives a tuple its table does not know
#: (never seen in training) or one with an unknown child. One of the library's two markers,
#: never mixed: lifted symbols are signed cluster ids (int16/int32), so -1 is never a real
#: id; stored grammar symbols are unsigned and use the dtype's largest value instead
#: (:func:`~rhm_theory.model.params.unknown_symbol`, ``RHMParams.unknown``).
UNKNOWN_CLUSTER = -1


@nb.njit(cache=True, inline="always")
def _code_at(seq: npt.NDArray[Any], i: int, k: int, s: int, alphabet: int) -> np.int64:
    # Code of the k-th s-tuple of row i, or -1 if one of its symbols is unknown.
    c = np.int64(0)
    for j in range(s):
        x = np.int64(seq[i, k * s + j])
        if x < 0 or x >= alphabet:
            return np.int64(-1)
        c = c * alphabet + x
    return c


@nb.njit(cache=True)
def _tuple_codes_kernel(
    seq: npt.NDArray[Any], s: int, alphabet: int, codes: IntArray
) -> None:
    n, width = codes.shape
    for i in range(n):
        for k in range(width):
            codes[i, k] = _code_at(seq, i, k, s, alphabet)


@nb.njit(cache=True)
def _lift_kernel(
    seq: npt.NDArray[Any], s: int, alphabet: int, table: IntArray, out: npt.NDArray[Any]
) -> None:
    # out[i, k] = table[code of tuple k], or -1 for an unknown symbol: one fused pass.
    n, width = out.shape
    for i in range(n):
        for k in range(width):
            c = _code_at(seq, i, k, s, alphabet)
            out[i, k] = table[c] if c >= 0 else -1  # UNKNOWN_CLUSTER


def lift(
    symbols: npt.NDArray[Any], table: IntArray, s: int, alphabet: int
) -> npt.NDArray[np.signedinteger[Any]]:
    """Replace every s-tuple of ``symbols`` by its cluster id ``table[code]`` (ILC's lift).

    A tuple holding a symbol outside ``[0, alphabet)`` (an unknown child) lifts to
    :data:`UNKNOWN_CLUSTER`, and so does a tuple whose table entry is ``UNKNOWN_CLUSTER``.
    The kernel sits here beside the tuple-code helper it shares with the counting kernels.

    Parameters
    ----------
    symbols : ndarray of int, shape (P, k*s)
        Symbols of one level.
    table : ndarray of int64, shape (alphabet**s,)
        Cluster id of every tuple code.
    s : int
        Tuple size.
    alphabet : int
        Symbols per position.

    Returns
    -------
    ndarray of int16, shape (P, k)
        int32 for alphabets of ``2**15`` symbols or more.

    Examples
    --------
    >>> lift(np.array([[0, 1, 1, 1]]), np.array([5, 6, 7, 8]), s=2, alphabet=2).tolist()
    [[6, 8]]
    """
    seq = np.asarray(symbols)
    if seq.ndim != 2 or seq.shape[1] % s:
        raise ValueError(f"symbols must have shape (P, k*s) with s={s}, got {seq.shape}")
    if table.shape != (alphabet**s,):
        raise ValueError(f"table must have shape (alphabet**s,) = ({alphabet**s},)")
    # Lifted symbols are cluster ids < alphabet or UNKNOWN_CLUSTER (-1): a narrow signed dtype.
    dtype = np.int16 if alphabet < 2**15 else np.int32
    out = np.empty((seq.shape[0], seq.shape[1] // s), dtype=dtype)
    src = seq if seq.dtype.kind in "ui" else seq.astype(np.int64, copy=False)
    _lift_kernel(src, s, alphabet, np.ascontiguousarray(table, dtype=np.int64), out)
    return out


@nb.njit(cache=True)
def _assign_rows(codes: IntArray, index: IntArray, order: IntArray, n_seen: int) -> int:
    # Give every tuple code seen for the first time the next row of the compact table, in
    # the order of the stream (the same whatever the chunking); return the rows in use.
    n, width = codes.shape
    for i in range(n):
        for k in range(width):
            c = codes[i, k]
            if c >= 0 and index[c] < 0:
                index[c] = n_seen
                order[n_seen] = c
                n_seen += 1
    return n_seen


@nb.njit(cache=True)
def _count_cousins(
    context: npt.NDArray[Any], codes: IntArray, index: IntArray, s: int, span: int,
    n_context: int, counts: IntArray,
) -> None:
    # For the tuple under node u, count the `span` context symbols under each sibling u':
    # its children (latent context, span = s) or its leaves (token context, span = s**l).
    # Unknown context symbols (outside [0, n_context)) are skipped. Row index[c] of the
    # compact table holds tuple code c.
    n, width = codes.shape
    for i in range(n):
        for k in range(width):
            c = codes[i, k]
            if c < 0:
                continue
            row = index[c]
            j = k % s
            first = k - j
            slot = 0
            for jp in range(s):
                if jp == j:
                    continue
                base = (first + jp) * span
                for r in range(span):
                    x = np.int64(context[i, base + r])
                    if 0 <= x < n_context:
                        counts[j, row, slot * span + r, x] += 1
                slot += 1


@nb.njit(cache=True)
def _count_label(labels: npt.NDArray[Any], codes: IntArray, index: IntArray, s: int,
                 counts: IntArray) -> None:
    n, width = codes.shape
    for i in range(n):
        y = np.int64(labels[i])
        for k in range(width):
            c = codes[i, k]
            if c >= 0:
                counts[k % s, index[c], 0, y] += 1


class ContextCounts:
    """Accumulator of pooled tuple x context counts of one level, fed chunk by chunk.

    For every level-``level`` node ``u`` (children tuple ``T`` at level ``level-1``,
    within-parent position ``j``), adds one count per context variable, exactly as the
    exact engine's :func:`rhm_theory.exact.context_laws` pools them. Tuples are indexed by
    their code ``sum_j t_j * alphabet**(s-1-j)``; tuples with an unknown symbol (outside
    ``[0, alphabet)``) are skipped, as are unknown latent-context symbols.

    Parameters
    ----------
    s : int
        Branching factor.
    level : int
        Level ``l >= 1`` of the node whose children tuple is counted.
    context : {"latent", "token", "label"}
    alphabet : int
        Number of symbols the level-``(l-1)`` sequences use (``v`` for tokens or ILC
        cluster ids).
    n_context : int
        Vocabulary of the context variables (``v`` for latent/token, ``n_c`` for label).

    Attributes
    ----------
    counts_ : ndarray of int64, shape (s, alphabet**s, n_blocks, n_context)
        The dense count tensor, built on access. The accumulator itself keeps one row per
        tuple code seen (a grammar level has ``v m`` of the ``v**s`` codes): the dense
        tensor at ``v = 384`` would be 1.8 GB, touched at random, and its page faults were
        most of an ILC run's time.
    n_strings_ : int
        Strings seen so far.
    """

    def __init__(
        self, s: int, level: int, context: str, alphabet: int, n_context: int
    ) -> None:
        self.context = check_context(context)
        self.s = check_int("s", s, minimum=2)
        self.level = check_int("level", level, minimum=1)
        self.alphabet = check_int("alphabet", alphabet, minimum=1)
        self.n_context = check_int("n_context", n_context, minimum=1)
        self.n_blocks = len(block_layout(self.s, self.level, self.context))
        shape = (self.s, self.alphabet**self.s, self.n_blocks, self.n_context)
        cells = int(np.prod(shape, dtype=object))
        if cells > MAX_COUNT_CELLS:
            raise ValueError(
                f"count tensor of shape {shape} has {cells} cells > MAX_COUNT_CELLS = "
                f"{MAX_COUNT_CELLS}: reduce alphabet**s (alphabet={alphabet}, s={s}) or the "
                f"context size"
            )
        self._shape = shape
        # Compact storage: row _index[code] of _rows holds the tuple code; _order lists the
        # codes by row. Rows are added as codes first appear (capacity doubles).
        n_codes = shape[1]
        self._index: IntArray = np.full(n_codes, -1, dtype=np.int64)
        self._order: IntArray = np.empty(n_codes, dtype=np.int64)
        self._n_rows = 0
        self._rows: IntArray = np.zeros((self.s, min(n_codes, 1024), *shape[2:]),
                                        dtype=np.int64)
        self.n_strings_ = 0

    @property
    def counts_(self) -> IntArray:
        """The dense count tensor ``(s, alphabet**s, n_blocks, n_context)`` (built here)."""
        dense = np.zeros(self._shape, dtype=np.int64)
        dense[:, self._order[: self._n_rows]] = self._rows[:, : self._n_rows]
        return dense

    def _add_rows(self, codes: IntArray) -> None:
        self._n_rows = int(_assign_rows(codes, self._index, self._order, self._n_rows))
        capacity = self._rows.shape[1]
        if self._n_rows > capacity:
            grown = np.zeros((self.s, max(self._n_rows, 2 * capacity), *self._shape[2:]),
                             dtype=np.int64)
            grown[:, :capacity] = self._rows
            self._rows = grown

    def update(
        self,
        symbols: npt.NDArray[Any],
        *,
        tokens: npt.NDArray[Any] | None = None,
        labels: npt.NDArray[Any] | None = None,
    ) -> ContextCounts:
        """Add the counts of one chunk.

        Parameters
        ----------
        symbols : ndarray, shape (P, n_nodes * s)
            The level-``(l-1)`` sequence of each string (tokens when ``level = 1``);
            values outside ``[0, alphabet)`` mean *unknown*. ``n_nodes`` (the number of
            level-``l`` nodes) must be a multiple of ``s``.
        tokens : ndarray, shape (P, n_nodes * s**level), for ``context="token"``
        labels : ndarray, shape (P,), for ``context="label"`` (root symbols)
        """
        seq = check_array("symbols", symbols, ndim=2, kinds="iu")
        if seq.shape[1] % (self.s * self.s) != 0:
            raise ValueError(
                f"symbols must have shape (P, n_nodes*s) with n_nodes a multiple of s={self.s} "
                f"(the nodes need parents), got {seq.shape}"
            )
        n, width = seq.shape[0], seq.shape[1] // self.s
        codes = np.empty((n, width), dtype=np.int64)
        _tuple_codes_kernel(seq, self.s, self.alphabet, codes)
        if self.context == "latent":
            self._add_rows(codes)
            _count_cousins(seq, codes, self._index, self.s, self.s, self.alphabet,
                           self._rows)
        elif self.context == "token":
            span = self.s**self.level
            if tokens is None:
                raise ValueError("tokens are required for context='token'")
            tok = check_array("tokens", tokens, shape=(n, width * span), kinds="iu")
            if tok.size and (int(tok.min()) < 0 or int(tok.max()) >= self.n_context):
                raise ValueError(f"tokens must lie in [0, n_context={self.n_context})")
            self._add_rows(codes)
            _count_cousins(tok, codes, self._index, self.s, span, self.n_context,
                           self._rows)
        else:
            if labels is None:
                raise ValueError("labels (root symbols) are required for context='label'")
            lab = check_array("labels", labels, shape=(n,), kinds="iu")
            if lab.size and (int(lab.min()) < 0 or int(lab.max()) >= self.n_context):
                raise ValueError(f"labels must lie in [0, n_context={self.n_context})")
            self._add_rows(codes)
            _count_label(lab, codes, self._index, self.s, self._rows)
        self.n_strings_ += n
        return self

    # -- derived statistics -------------------------------------------------------------
    def tuple_counts(self) -> IntArray:
        """Occurrences of each tuple code at each position, shape ``(s, alphabet**s)``.

        A tuple's occurrence count is the total of its first context block (every block
        of one occurrence gets one count unless its context symbol is unknown; the label
        block always does).
        """
        out = np.zeros(self._shape[:2], dtype=np.int64)
        n = self._n_rows
        out[:, self._order[:n]] = self._rows[:, :n].sum(axis=3).max(axis=2)
        return out

    def observed_codes(self) -> IntArray:
        """Codes of the tuples seen at least once (at any position), sorted."""
        n = self._n_rows
        seen = self._rows[:, :n].sum(axis=(0, 2, 3)) > 0
        return np.sort(self._order[:n][seen]).astype(np.int64)

    def tuple_tables(self, codes: IntArray) -> IntArray:
        """Counts of the tuples ``codes``, shape ``(n_codes, s, n_blocks, n_context)``
        (zeros for a code never seen): ``counts_[:, codes]`` with the tuple axis first."""
        rows = self._index[np.asarray(codes, dtype=np.int64)]
        out = np.zeros((len(rows), self.s, *self._shape[2:]), dtype=np.int64)
        seen = rows >= 0
        out[seen] = np.transpose(self._rows[:, rows[seen]], (1, 0, 2, 3))
        return out

    def block_marginals(self) -> FloatArray:
        """Pooled empirical law of each context block, shape ``(s, n_blocks, n_context)``."""
        marg = self._rows[:, : self._n_rows].sum(axis=1).astype(np.float64)
        tot = marg.sum(axis=-1, keepdims=True)
        return np.asarray(np.divide(marg, tot, out=np.zeros_like(marg), where=tot > 0))

    def conditional_laws(self, codes: IntArray | None = None) -> FloatArray:
        """Empirical ``P(block | T = t)`` per position, ``(n_codes, s, n_blocks, n_context)``.

        Blocks with no count (the tuple never seen at that position) hold the block
        marginal, as in the exact engine.
        """
        sel = self.observed_codes() if codes is None else np.asarray(codes, dtype=np.int64)
        c = self.tuple_tables(sel).astype(np.float64)
        tot = c.sum(axis=-1, keepdims=True)
        marg = self.block_marginals()[None]
        return np.where(tot > 0, c / np.where(tot > 0, tot, 1.0), marg)

    def vectors(self, codes: IntArray | None = None) -> tuple[IntArray, FloatArray]:
        """Centred empirical context vectors of tuples: ``(codes, vectors)``.

        ``vectors[i]`` is the concatenation over ``j`` and blocks of
        ``P_hat(block | T = codes[i]) - P_hat(block)``, the estimator of ``psi_parent``.
        """
        sel = self.observed_codes() if codes is None else np.asarray(codes, dtype=np.int64)
        laws = self.conditional_laws(sel) - self.block_marginals()[None]
        return sel, laws.reshape(len(sel), -1)

