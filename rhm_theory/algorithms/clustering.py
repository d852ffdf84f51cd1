"""Stable clustering routines for context vectors: average linkage and weighted k-means++."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage

from rhm_theory.validation import check_random_state

__all__ = [
    "CLUSTERING_ROUTINES",
    "DEFAULT_CLUSTERING",
    "ClusteringRoutine",
    "average_linkage",
    "complete_linkage",
    "get_clustering",
    "kmeans_plus_plus",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


#: ``routine(points, n_clusters, weights, seed) -> labels in [0, n_clusters)``.
ClusteringRoutine = Callable[[FloatArray, int, "FloatArray | None", int], IntArray]


def _validate(points: FloatArray, n_clusters: int) -> FloatArray:
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"points must be a 2-D array (n_points, dim), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("points must be finite")
    if n_clusters < 1:
        raise ValueError(f"n_clusters must satisfy n_clusters >= 1, got {n_clusters}")
    return x


def _relabel_by_first_occurrence(labels: npt.NDArray[np.integer]) -> IntArray:
    # Canonical labels: clusters numbered in order of their first point, so equal
    # partitions give equal label arrays whatever routine produced them.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int64)


def _linkage(method: str) -> Callable[[FloatArray, int, FloatArray | None, int], IntArray]:
    def routine(
        points: FloatArray, n_clusters: int, weights: FloatArray | None = None, seed: int = 0
    ) -> IntArray:
        x = _validate(points, n_clusters)
        n = x.shape[0]
        if n <= n_clusters:
            return np.arange(n, dtype=np.int64)
        tree = linkage(x, method=method, metric="euclidean")
        labels = fcluster(tree, t=n_clusters, criterion="maxclust")
        return _relabel_by_first_occurrence(labels)

    routine.__name__ = f"{method}_linkage"
    routine.__doc__ = (
        f"Agglomerative clustering with {method} linkage cut into ``n_clusters`` clusters.\n\n"
        "Stable: if every point lies within ``Delta/8`` of its true centre and centres are at "
        "least ``Delta`` apart, all within-cluster distances (< Delta/4) are smaller than all "
        "between-cluster distances (> 3 Delta/4), so merging stops at the true partition. "
        "``weights`` and ``seed`` are ignored (deterministic)."
    )
    return routine


average_linkage = _linkage("average")
complete_linkage = _linkage("complete")


def kmeans_plus_plus(
    points: FloatArray,
    n_clusters: int,
    weights: FloatArray | None = None,
    seed: int = 0,
    *,
    n_init: int = 8,
    max_iter: int = 100,
) -> IntArray:
    """Weighted Lloyd k-means from k-means++ seeding, best of ``n_init`` restarts.

    Weights (tuple occurrence counts) make rare, noisy tuples pull centroids less. The
    restarts draw from ``check_random_state(seed)`` (the stream of
    ``numpy.random.default_rng(seed)``): deterministic for a seed.

    >>> pts = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> kmeans_plus_plus(pts, 2, seed=0).tolist()
    [0, 0, 1, 1]
    """
    x = _validate(points, n_clusters)
    n = x.shape[0]
    if n <= n_clusters:
        return np.arange(n, dtype=np.int64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be non-negative, one per point, not all zero")
    rng = check_random_state(seed)
    sq = (x**2).sum(axis=1)
    best_labels = np.zeros(n, dtype=np.int64)
    best_cost = np.inf
    for _ in range(n_init):
        centres = np.empty((n_clusters, x.shape[1]))
        centres[0] = x[rng.choice(n, p=w / w.sum())]
        d2 = ((x - centres[0]) ** 2).sum(axis=1)
        for k in range(1, n_clusters):
            prob = w * d2
            total = prob.sum()
            idx = rng.choice(n, p=prob / total) if total > 0 else rng.integers(n)
            centres[k] = x[idx]
            d2 = np.minimum(d2, ((x - centres[k]) ** 2).sum(axis=1))
        labels = np.full(n, -1, dtype=np.int64)
        for _it in range(max_iter):
            dist = sq[:, None] - 2 * x @ centres.T + (centres**2).sum(axis=1)[None, :]
            new = np.argmin(dist, axis=1).astype(np.int64)
            if np.array_equal(new, labels):
                break
            labels = new
            for k in range(n_clusters):
                mask = labels == k
                wk = w[mask]
                if wk.sum() > 0:
                    centres[k] = (wk[:, None] * x[mask]).sum(axis=0) / wk.sum()
        cost = float((w * ((x - centres[labels]) ** 2).sum(axis=1)).sum())
        if cost < best_cost:
            best_cost, best_labels = cost, labels
    return _relabel_by_first_occurrence(best_labels)


CLUSTERING_ROUTINES: dict[str, ClusteringRoutine] = {
    "average": average_linkage,
    "complete": complete_linkage,
    "kmeans++": kmeans_plus_plus,
}
#: Default: average linkage is deterministic and provably stable (see its docstring).
DEFAULT_CLUSTERING = "average"


def get_clustering(name: str | ClusteringRoutine) -> ClusteringRoutine:
    """Look up a clustering routine by name, or pass a callable through."""
    if callable(name):
        return name
    if name not in CLUSTERING_ROUTINES:
        raise ValueError(f"clustering must be one of {sorted(CLUSTERING_ROUTINES)}, got {name!r}")
    return CLUSTERING_ROUTINES[name]
