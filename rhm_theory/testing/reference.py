"""Plain-NumPy reference implementations of the numba kernels (for tests and benchmarks)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["g_per_df_numpy", "g_statistic_numpy", "merge_indistinguishable_numpy"]

IntArray = npt.NDArray[np.int64]


def g_statistic_numpy(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """G-test of homogeneity of two count tables ``(..., n_categories)``: ``(G, df)``.

    Each leading index is one block (one context variable): its two count rows are
    compared; blocks where either side is empty carry no information.
    """
    a2 = a.reshape(-1, a.shape[-1])
    b2 = b.reshape(-1, b.shape[-1])
    na = a2.sum(axis=-1, keepdims=True)
    nb = b2.sum(axis=-1, keepdims=True)
    ok = ((na > 0) & (nb > 0))[:, 0]
    if not ok.any():
        return 0.0, 0.0
    a2, b2, na, nb = a2[ok], b2[ok], na[ok], nb[ok]
    tot = a2 + b2
    ea = tot * na / (na + nb)
    eb = tot * nb / (na + nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(a2 > 0, a2 * np.log(a2 / ea), 0.0) + np.where(b2 > 0, b2 * np.log(b2 / eb),
                                                                  0.0)
    df = float(((tot > 0).sum(axis=-1) - 1).sum())
    return 2.0 * float(g.sum()), df


def g_per_df_numpy(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """G/df of two pooled tables ``(s, n_blocks, n_context)``: contexts and positions."""
    g1, d1 = g_statistic_numpy(a, b)
    # Occurrences per position: every occurrence adds one count to each block; use the
    # largest block total (context symbols can be unknown at higher levels).
    g2, d2 = g_statistic_numpy(a.sum(axis=-1).max(axis=-1)[None, :],
                          b.sum(axis=-1).max(axis=-1)[None, :])
    return (g1 + g2) / (d1 + d2) if d1 + d2 > 0 else np.inf


def merge_indistinguishable_numpy(
    counts: npt.NDArray[np.int64], labels: IntArray, factor: float
) -> IntArray:
    """Greedily merge the pair of clusters whose pooled counts are most alike (smallest G
    statistic per degree of freedom) while it stays below ``factor`` times the null level.

    ``counts[t]`` has shape ``(s, n_blocks, n_context)``. Under "same parent" the laws are
    identical (synonym invariance), so G/df stays of order one whatever the sample size,
    while two different symbols give G/df growing with the counts. The null level is
    calibrated on the data: the median G/df of each tuple against the rest of its own
    cluster (at least 1), which absorbs the over-dispersion of pooled, correlated counts.
    """
    labels = labels.copy()
    tables = counts.astype(np.float64)
    null: list[float] = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        if len(members) < 2:
            continue
        total = tables[members].sum(axis=0)
        null.extend(g_per_df_numpy(tables[t], total - tables[t]) for t in members)
    finite_null = [x for x in null if np.isfinite(x)]
    threshold = factor * max(1.0, float(np.median(finite_null)) if finite_null else 1.0)
    while True:
        ids = np.unique(labels)
        if len(ids) < 2:
            return labels
        pooled = [tables[labels == k].sum(axis=0) for k in ids]
        best, pair = np.inf, (0, 0)
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                score = g_per_df_numpy(pooled[x], pooled[y])
                if score < best:
                    best, pair = score, (x, y)
        if best >= threshold:
            return labels
        labels[labels == ids[pair[1]]] = ids[pair[0]]
