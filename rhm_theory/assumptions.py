"""Checkers of the theorem's assumptions: balance, separation and stable clustering."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rhm_theory.exact.margins import margin_summaries
from rhm_theory.exact.transitions import child_matrices
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.validation import (
    check_choice,
    check_context,
    check_float,
    check_int,
    check_random_state,
    check_seed,
)

__all__ = [
    "PLACEMENTS",
    "RoutineLike",
    "StableClusteringFailure",
    "StableClusteringReport",
    "balance_deviation",
    "check_stable_clustering",
    "is_balanced",
    "is_separated",
    "same_partition",
    "separation_margins",
    "separation_requirement",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: ``routine(points, n_clusters, weights, seed) -> labels``, as the library's routines.
RoutineLike = Callable[[FloatArray, int, FloatArray | None, int], npt.ArrayLike]

#: Point placements used by :func:`check_stable_clustering`, cycled over the trials.
PLACEMENTS: tuple[str, ...] = ("random", "boundary", "adversarial")


# -- balance (docs/theory.md section 2) ------------------------------------------------------------
def balance_deviation(grammar: Grammar) -> float:
    """Largest deviation of any node marginal from uniform, over every node of every level.

    ``max over levels l = 0..L-1, nodes k, symbols a of |P(node_k = a) - 1/v|``, the root
    drawn from the grammar's prior (uniform in the paper's RHM; a non-uniform prior or rule
    weights generally unbalance the marginals even when the rule tables are balanced).
    Marginals are propagated level by level from the root; rows that are exactly equal are
    merged first, so an exactly balanced grammar costs one row per level.

    Parameters
    ----------
    grammar : Grammar

    Returns
    -------
    float
        ``0.0`` (up to rounding) iff the grammar is balanced (docs/theory.md section 2).

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams, balanced_grammar
    >>> balance_deviation(balanced_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)) <= 1e-12
    True
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=1), [[[[0, 1]]]])
    >>> balance_deviation(g)  # both tokens deterministic: |1 - 1/2| = 1/2
    0.5
    """
    p = grammar.params
    rows = grammar.root_probs[None, :]
    worst = 0.0
    for level in range(p.L, 0, -1):
        M = child_matrices(grammar, level)  # (s, V_level, v)
        rows = np.einsum("kb,jbc->kjc", rows, M).reshape(-1, p.v)
        rows = np.unique(rows, axis=0)
        worst = max(worst, float(np.abs(rows - 1.0 / p.v).max()))
    return worst


def is_balanced(grammar: Grammar, tol: float = 1e-12) -> bool:
    """Whether every node marginal is uniform within ``tol`` (:func:`balance_deviation`).

    Equivalent to the combinatorial criterion :meth:`Grammar.is_balanced` (equal column
    counts at every level and position) for ``tol`` below ``1 / (m * n_c)``: a uniform parent
    maps to a uniform child iff the column counts of its child matrix are equal.

    Parameters
    ----------
    grammar : Grammar
    tol : float, default 1e-12
        Non-negative tolerance.

    Returns
    -------
    bool

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, balanced_grammar
    >>> is_balanced(balanced_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0))
    True
    """
    tol = check_float("tol", tol, minimum=0.0)
    return balance_deviation(grammar) <= tol


# -- separation (docs/theory.md section 3) ---------------------------------------------------------
def separation_margins(grammar: Grammar, context: str = "latent") -> FloatArray:
    """Minimum margins ``Delta_l = min_{a != a'} ||psi_a - psi_a'||`` of levels ``1..L-1``.

    Parameters
    ----------
    grammar : Grammar
    context : {"latent", "token", "label"}, default "latent"
        Context kind (docs/theory.md section 3).

    Returns
    -------
    ndarray of float64, shape (L-1,)
        ``out[l-1] = Delta_l``; ``inf`` for a level with fewer than two present symbols.

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=2), [[[[0, 0]], [[1, 1]]]] * 2)
    >>> separation_margins(g) ** 2  # 4 one-hot blocks, each ||e_0 - e_1||**2 = 2
    array([8.])
    """
    context = check_context(context)
    # One engine for all levels (rhm_theory.exact.margin_summaries; equal to
    # margin_summary(context_laws(...)) to 1e-12, without the token-context blocks).
    return np.array([summ.margin_min for summ in margin_summaries(grammar, [context])],
                    dtype=np.float64)


def separation_requirement(params: RHMParams, c_sep: float) -> float:
    """The margin a separated grammar must reach at every level: ``c_sep * sqrt(1-f) / m``.

    Parameters
    ----------
    params : RHMParams
    c_sep : float
        Non-negative separation constant.

    Returns
    -------
    float

    Examples
    --------
    >>> round(separation_requirement(RHMParams(v=4, m=2, s=2, L=3), 1.0), 6)  # sqrt(1/2) / 2
    0.353553
    """
    c_sep = check_float("c_sep", c_sep, minimum=0.0)
    return c_sep * math.sqrt(max(1.0 - params.f, 0.0)) / params.m


def is_separated(grammar: Grammar, c_sep: float, context: str = "latent") -> bool:
    """Whether ``Delta_l >= c_sep * sqrt(1-f) / m`` at every level ``l = 1..L-1``.

    The reported form of the theorem's separation assumption (docs/theory.md section 3).
    Vacuously true for ``L = 1``.

    Parameters
    ----------
    grammar : Grammar
    c_sep : float
        Non-negative separation constant.
    context : {"latent", "token", "label"}, default "latent"

    Returns
    -------
    bool

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=2), [[[[0, 0]], [[1, 1]]]] * 2)
    >>> # Delta = sqrt(8) and sqrt(1-f)/m = sqrt(1/2): separated iff c_sep <= 4
    >>> is_separated(g, 3.9), is_separated(g, 4.1)
    (True, False)
    """
    need = separation_requirement(grammar.params, c_sep)
    return bool(np.all(separation_margins(grammar, context) >= need))


# -- stable clustering (docs/theory.md section 3) --------------------------------------------------
@dataclass(frozen=True)
class StableClusteringFailure:
    """One trial in which a routine did not return the true partition.

    Attributes
    ----------
    trial : int
        Trial index (the routine was called with ``seed=trial``).
    placement : str
        One of :data:`PLACEMENTS`.
    dim, n_clusters, n_points : int
        Size of the instance.
    reason : str
        ``"wrong partition"``, or the exception the routine raised.
    """

    trial: int
    placement: str
    dim: int
    n_clusters: int
    n_points: int
    reason: str


@dataclass(frozen=True)
class StableClusteringReport:
    """Outcome of :func:`check_stable_clustering`.

    Attributes
    ----------
    passed : bool
        True iff every trial returned the true partition.
    n_trials : int
    failures : tuple of StableClusteringFailure
    """

    passed: bool
    n_trials: int
    failures: tuple[StableClusteringFailure, ...]

    def __str__(self) -> str:
        head = f"stable clustering: {self.n_trials - len(self.failures)}/{self.n_trials} passed"
        lines = [head] + [
            f"  trial {f.trial} ({f.placement}, dim={f.dim}, k={f.n_clusters}, "
            f"n={f.n_points}): {f.reason}"
            for f in self.failures
        ]
        return "\n".join(lines)


def same_partition(labels: npt.ArrayLike, truth: npt.ArrayLike) -> bool:
    """Whether two labelings define the same partition (equal up to relabelling).

    >>> same_partition([1, 1, 0, 2], [0, 0, 5, 3]), same_partition([0, 0, 1], [0, 1, 1])
    (True, False)
    """
    a = np.asarray(labels).ravel()
    b = np.asarray(truth).ravel()
    if a.shape != b.shape:
        return False
    n_pairs = len({(int(x), int(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)})
    return n_pairs == len(np.unique(a)) == len(np.unique(b))


def _instance(
    rng: np.random.Generator,
    placement: str,
    dim: int,
    n_clusters: int,
    sizes: IntArray,
    delta: float,
) -> tuple[FloatArray, IntArray]:
    """Centres at pairwise distance >= delta (the closest pair exactly delta), points around."""
    centres = rng.standard_normal((n_clusters, dim))
    diff = centres[:, None, :] - centres[None, :, :]
    dist = np.sqrt((diff**2).sum(axis=-1))
    np.fill_diagonal(dist, np.inf)
    centres *= delta / dist.min()  # tight: the closest pair sits at exactly delta
    dist *= delta / dist.min()
    truth = np.repeat(np.arange(n_clusters, dtype=np.int64), sizes)
    n = truth.size
    radius = delta / 8.0
    if placement == "random":
        dirs = rng.standard_normal((n, dim))
        radii = radius * rng.uniform(0.0, 1.0, size=n)
    elif placement == "boundary":
        dirs = rng.standard_normal((n, dim))
        radii = np.full(n, radius)
    elif placement == "adversarial":
        # On the boundary, along the line to the nearest other centre: half of each cluster
        # pushed towards it (closing the gap to 3 delta / 4), half away (widening the
        # cluster to delta / 4).
        nearest = np.argmin(dist, axis=1)
        toward = centres[nearest] - centres
        dirs = toward[truth] * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
        radii = np.full(n, radius)
    else:
        check_choice("placement", placement, PLACEMENTS)
        raise AssertionError("unreachable: check_choice raised")
    norms = np.sqrt((dirs**2).sum(axis=1, keepdims=True))
    dirs = dirs / np.where(norms > 0, norms, 1.0)
    points = centres[truth] + radii[:, None] * dirs
    perm = rng.permutation(n)  # the routine must not rely on the points' order
    return np.ascontiguousarray(points[perm]), truth[perm]


def check_stable_clustering(
    routine: RoutineLike,
    *,
    n_trials: int = 60,
    seed: int = 0,
    dims: Sequence[int] = (1, 2, 8, 32),
    n_clusters: Sequence[int] = (2, 3, 5, 8),
    points_per_cluster: tuple[int, int] = (1, 8),
    delta: float = 1.0,
) -> StableClusteringReport:
    """Check the stable-clustering property of a routine on generated instances.

    Property (docs/theory.md section 3): whenever cluster centres are pairwise at least ``Delta``
    apart and every point lies within ``Delta / 8`` of its centre, the routine returns the
    true partition (up to relabelling). Each trial draws a dimension, a number of clusters,
    cluster sizes (singletons included) and centres rescaled so the closest pair is exactly
    ``Delta`` apart, then places the points by one of :data:`PLACEMENTS` (cycled):
    ``random`` (uniform direction, radius uniform in ``[0, Delta/8]``), ``boundary``
    (radius exactly ``Delta/8``) and ``adversarial`` (radius ``Delta/8`` along the line to
    the nearest other centre, alternately towards it and away from it). The routine is
    called as ``routine(points, k, weights, seed=trial)`` with random positive weights.

    Parameters
    ----------
    routine : callable
        ``routine(points, n_clusters, weights, seed) -> labels`` (see
        :class:`~rhm_theory.algorithms.clustering.ClusteringRoutine`).
    n_trials : int, default 60
        Number of instances, ``>= 1``.
    seed : int, default 0
        Seed of the instance generator (the check is deterministic given the routine).
    dims, n_clusters : sequence of int
        Dimensions and numbers of clusters drawn from (each ``>= 1``, resp. ``>= 2``).
    points_per_cluster : (int, int), default (1, 8)
        Inclusive range of cluster sizes, ``1 <= lo <= hi``.
    delta : float, default 1.0
        Minimum centre distance ``Delta > 0``.

    Returns
    -------
    StableClusteringReport
        ``passed`` is True iff every trial returned the true partition.

    Examples
    --------
    >>> from rhm_theory.algorithms.clustering import average_linkage
    >>> check_stable_clustering(average_linkage, n_trials=6).passed
    True
    >>> def one_cluster(points, n_clusters, weights, seed):
    ...     return np.zeros(len(points), dtype=np.int64)
    >>> report = check_stable_clustering(one_cluster, n_trials=6)
    >>> report.passed, len(report.failures)
    (False, 6)
    """
    n_trials = check_int("n_trials", n_trials, minimum=1)
    seed = check_seed("seed", seed)
    if not dims or not n_clusters:
        raise ValueError("dims and n_clusters must be non-empty sequences of integers")
    dims = [check_int("dims", d, minimum=1) for d in dims]
    n_clusters = [check_int("n_clusters", k, minimum=2) for k in n_clusters]
    lo, hi = points_per_cluster
    lo = check_int("points_per_cluster[0]", lo, minimum=1)
    hi = check_int("points_per_cluster[1]", hi, minimum=lo)
    delta = check_float("delta", delta, minimum=0.0, include_minimum=False)
    rng = check_random_state(seed)
    failures: list[StableClusteringFailure] = []
    for trial in range(n_trials):
        placement = PLACEMENTS[trial % len(PLACEMENTS)]
        dim = int(rng.choice(np.asarray(dims)))
        k = int(rng.choice(np.asarray(n_clusters)))
        sizes = rng.integers(lo, hi + 1, size=k).astype(np.int64)
        points, truth = _instance(rng, placement, dim, k, sizes, delta)
        weights = rng.uniform(1.0, 10.0, size=truth.size)
        reason = ""
        try:
            labels = np.asarray(routine(points, k, weights, trial))
            if labels.shape != truth.shape or not same_partition(labels, truth):
                reason = "wrong partition"
        except Exception as exc:
            reason = f"raised {type(exc).__name__}: {exc}"
        if reason:
            failures.append(
                StableClusteringFailure(trial, placement, dim, k, int(truth.size), reason)
            )
    return StableClusteringReport(not failures, n_trials, tuple(failures))
