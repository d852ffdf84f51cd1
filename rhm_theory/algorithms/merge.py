"""ILC's merge step: join clusters whose context counts a G-test cannot tell apart (numba)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

__all__ = ["g_per_df", "merge_indistinguishable"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@nb.njit(cache=True)
def _g_blocks(a: FloatArray, b: FloatArray) -> tuple[float, float]:
    # G-test of homogeneity of two count tables (n_blocks, n_categories): each block (one
    # context variable) compares its two rows; a block empty on either side is skipped.
    g = 0.0
    df = 0.0
    for i in range(a.shape[0]):
        na = 0.0
        nb_ = 0.0
        for j in range(a.shape[1]):
            na += a[i, j]
            nb_ += b[i, j]
        if na <= 0.0 or nb_ <= 0.0:
            continue
        nonzero = 0
        for j in range(a.shape[1]):
            tot = a[i, j] + b[i, j]
            if tot > 0.0:
                nonzero += 1
                if a[i, j] > 0.0:
                    g += a[i, j] * math.log(a[i, j] / (tot * na / (na + nb_)))
                if b[i, j] > 0.0:
                    g += b[i, j] * math.log(b[i, j] / (tot * nb_ / (na + nb_)))
        df += nonzero - 1
    return 2.0 * g, df


@nb.njit(cache=True)
def _g_per_df(a: FloatArray, b: FloatArray) -> float:
    # a, b: (s, n_blocks, n_context). G/df of the context tables plus the table of
    # occurrences per position (largest block total: context symbols can be unknown).
    s, n_blocks, n_ctx = a.shape
    g1, d1 = _g_blocks(a.reshape(s * n_blocks, n_ctx), b.reshape(s * n_blocks, n_ctx))
    pa = np.zeros((1, s))
    pb = np.zeros((1, s))
    for j in range(s):
        for k in range(n_blocks):
            ta = 0.0
            tb = 0.0
            for c in range(n_ctx):
                ta += a[j, k, c]
                tb += b[j, k, c]
            pa[0, j] = max(pa[0, j], ta)
            pb[0, j] = max(pb[0, j], tb)
    g2, d2 = _g_blocks(pa, pb)
    if d1 + d2 > 0.0:
        return (g1 + g2) / (d1 + d2)
    return np.inf


@nb.njit(cache=True)
def _g_per_df_lower(a: FloatArray, b: FloatArray) -> float:
    # A lower bound on _g_per_df(a, b) without a logarithm per context entry (Pinsker: KL >=
    # 2 TV^2, so each block's G >= 4 TV^2 n_a n_b / (n_a + n_b)), the same degrees of
    # freedom, and the position table's exact G (s entries). One pass per block: its totals
    # feed the bound and the position table.
    s, n_blocks, n_ctx = a.shape
    g = 0.0
    df = 0.0
    pa = np.zeros((1, s))
    pb = np.zeros((1, s))
    for j in range(s):
        for k in range(n_blocks):
            na = 0.0
            nb_ = 0.0
            for c in range(n_ctx):
                na += a[j, k, c]
                nb_ += b[j, k, c]
            pa[0, j] = max(pa[0, j], na)
            pb[0, j] = max(pb[0, j], nb_)
            if na <= 0.0 or nb_ <= 0.0:
                continue
            ia = 1.0 / na
            ib = 1.0 / nb_
            l1 = 0.0
            nonzero = 0
            for c in range(n_ctx):
                l1 += abs(a[j, k, c] * ia - b[j, k, c] * ib)
                if a[j, k, c] + b[j, k, c] > 0.0:
                    nonzero += 1
            g += l1 * l1 * na * nb_ / (na + nb_)  # 4 TV^2 with TV = l1 / 2
            df += nonzero - 1
    g2, d2 = _g_blocks(pa, pb)
    if df + d2 > 0.0:
        return (g + g2) / (df + d2)
    return np.inf


@nb.njit(cache=True)
def _pair_score(a: FloatArray, b: FloatArray, threshold: float) -> float:
    # G/df, or inf where the lower bound already puts it above the merge threshold: such
    # a pair is never merged either way, and the bound costs no logarithm. (The 1e-6
    # margin keeps a pair whose exact score sits at the threshold on the exact route.)
    if _g_per_df_lower(a, b) > threshold * (1.0 + 1e-6):
        return np.inf
    return _g_per_df(a, b)


@nb.njit(cache=True)
def _null_scores(tables: FloatArray, labels: IntArray) -> FloatArray:
    # G/df of every tuple against the rest of its own cluster (clusters of >= 2 tuples).
    out = np.full(tables.shape[0], np.nan)
    ids = np.unique(labels)
    for k in ids:
        members = np.flatnonzero(labels == k)
        if members.size < 2:
            continue
        total = np.zeros(tables.shape[1:])
        for t in members:
            total += tables[t]
        for t in members:
            out[t] = _g_per_df(tables[t], total - tables[t])
    return out


@nb.njit(cache=True)
def _merge_kernel(tables: FloatArray, labels: IntArray, threshold: float) -> IntArray:
    # Greedy merging of the closest pair (smallest G/df; the first pair in (x, y) order on
    # ties) while it is below the threshold. Only the scores of the merged cluster change,
    # so the pair table is updated, not recomputed. Scores at or above the threshold may
    # be stored as inf (_pair_score): they are never the merged pair.
    labels = labels.copy()
    ids = np.unique(labels)
    n = ids.size
    pooled = np.zeros((n, tables.shape[1], tables.shape[2], tables.shape[3]))
    for t in range(tables.shape[0]):
        for x in range(n):
            if ids[x] == labels[t]:
                pooled[x] += tables[t]
                break
    alive = np.ones(n, dtype=np.bool_)
    score = np.full((n, n), np.inf)
    for x in range(n):
        for y in range(x + 1, n):
            score[x, y] = _pair_score(pooled[x], pooled[y], threshold)
    while True:
        best = np.inf
        bx = -1
        by = -1
        for x in range(n):
            if not alive[x]:
                continue
            for y in range(x + 1, n):
                if alive[y] and score[x, y] < best:
                    best = score[x, y]
                    bx = x
                    by = y
        if bx < 0 or best >= threshold:
            return labels
        for t in range(labels.size):
            if labels[t] == ids[by]:
                labels[t] = ids[bx]
        pooled[bx] += pooled[by]
        alive[by] = False
        for z in range(n):
            if alive[z] and z != bx:
                sc = _pair_score(pooled[min(bx, z)], pooled[max(bx, z)], threshold)
                score[min(bx, z), max(bx, z)] = sc


def g_per_df(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """G statistic per degree of freedom between two pooled count tables.

    ``a`` and ``b`` have shape ``(s, n_blocks, n_context)`` (one block per context
    variable, per within-parent position). The statistic adds the G-test of homogeneity of
    every block and that of the occurrences per position. Under "same parent" the laws are
    identical (synonym invariance), so G/df stays of order one whatever the counts.

    Examples
    --------
    >>> t = np.array([[[10.0, 0.0], [5.0, 5.0]]])  # s = 1, two blocks, two contexts
    >>> g_per_df(t, t)  # identical tables: G = 0
    0.0
    """
    x = np.ascontiguousarray(a, dtype=np.float64)
    y = np.ascontiguousarray(b, dtype=np.float64)
    if x.ndim != 3 or x.shape != y.shape:
        raise ValueError(f"a and b must be count tables of one shape (s, n_blocks, "
                         f"n_context), got {x.shape} and {y.shape}")
    return float(_g_per_df(x, y))


def merge_indistinguishable(counts: npt.ArrayLike, labels: npt.ArrayLike,
                            factor: float) -> IntArray:
    """Greedily merge the pair of clusters whose pooled counts are most alike (smallest
    :func:`g_per_df`) while it stays below ``factor`` times the null level.

    ``counts[t]`` has shape ``(s, n_blocks, n_context)``: the context counts of tuple ``t``;
    ``labels[t]`` its cluster. The null level is calibrated on the data: the median G/df
    of each tuple against the rest of its own cluster (at least 1), which absorbs the
    over-dispersion of pooled, correlated counts. Returns the merged labels (a merged
    cluster keeps the smaller id).
    """
    tables = np.ascontiguousarray(counts, dtype=np.float64)
    lab = np.ascontiguousarray(labels, dtype=np.int64)
    if tables.ndim != 4 or lab.shape != tables.shape[:1]:
        raise ValueError(f"counts must have shape (n_tuples, s, n_blocks, n_context) and "
                         f"labels (n_tuples,), got {tables.shape} and {lab.shape}")
    if not factor > 0:
        raise ValueError(f"factor must satisfy factor > 0, got {factor}")
    null = _null_scores(tables, lab)
    finite = null[np.isfinite(null)]
    threshold = factor * max(1.0, float(np.median(finite)) if finite.size else 1.0)
    return _merge_kernel(tables, lab, threshold)
