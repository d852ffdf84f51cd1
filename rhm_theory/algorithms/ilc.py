"""Iterative Latent Clustering (ILC) and its token-level and supervised baselines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.algorithms.clustering import (
    DEFAULT_CLUSTERING,
    ClusteringRoutine,
    get_clustering,
)
from rhm_theory.algorithms.merge import merge_indistinguishable
from rhm_theory.constants import DEFAULT_MERGE_FACTOR
from rhm_theory.empirical.counts import UNKNOWN_CLUSTER, ContextCounts, lift
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample
from rhm_theory.validation import CONTEXT_KINDS

__all__ = [
    "DEFAULT_MERGE_FACTOR", "UNKNOWN_CLUSTER", "DataSource", "IterativeLatentClustering", "lift",
]

IntArray = npt.NDArray[np.int64]

Chunk = Sample | npt.NDArray[Any] | tuple[npt.NDArray[Any], npt.NDArray[Any]]
#: Training data: one array / Sample, or a zero-argument callable returning a fresh
#: iterable of chunks (ILC makes one pass per level, so a stream must be re-iterable).
DataSource = Sample | npt.NDArray[Any] | Callable[[], Iterable[Chunk]]


def _lift_per_parent(
    symbols: npt.NDArray[Any], tables: IntArray, s: int, alphabet: int
) -> npt.NDArray[np.signedinteger[Any]]:
    """:func:`lift` with one table per parent: node ``k`` uses ``tables[k // s]``.

    >>> tables = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    >>> _lift_per_parent(np.array([[0, 1, 0, 1, 0, 1, 0, 1]]), tables, 2, 2).tolist()
    [[1, 1, 2, 2]]
    """
    seq = np.asarray(symbols, dtype=np.int64)
    n, n_nodes = seq.shape[0], seq.shape[1] // s
    t = seq.reshape(n, n_nodes, s)
    unknown = ((t < 0) | (t >= alphabet)).any(axis=2)
    codes = np.zeros((n, n_nodes), dtype=np.int64)
    for j in range(s):
        codes = codes * alphabet + np.clip(t[:, :, j], 0, alphabet - 1)
    parent = np.arange(n_nodes) // s
    out: npt.NDArray[np.int64] = tables[parent[None, :], codes]
    out[unknown] = UNKNOWN_CLUSTER
    dtype = np.int16 if alphabet < 2**15 else np.int32
    narrow: npt.NDArray[np.signedinteger[Any]] = out.astype(dtype)
    return narrow


def _as_pairs(chunk: Chunk) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    if isinstance(chunk, Sample):
        return chunk.tokens, (chunk.labels if chunk.levels is not None else None)
    if isinstance(chunk, tuple):
        return np.asarray(chunk[0]), np.asarray(chunk[1])
    return np.asarray(chunk), None


class IterativeLatentClustering:
    """Recover the latent tree level by level by clustering tuples by their context.

    At level ``l = 1..L-1``: cut the current level-``(l-1)`` sequence into s-tuples, count
    each tuple's context (pooled over the level's nodes, per within-parent position), turn
    counts into centred conditional-frequency vectors, cluster the observed tuples into
    ``v`` clusters and lift every tuple to its cluster id (unseen tuples ->
    ``UNKNOWN_CLUSTER``).

    Parameters
    ----------
    v, s, L : int
        Vocabulary, branching factor and depth of the data (``m`` is not needed).
    context : {"latent", "token", "label"}
        ``latent``: the paper's algorithm (cousin latents at the current level);
        ``token``: token-level SSL baseline (tokens under the cousins);
        ``label``: supervised baseline (the root label; ``fit`` needs labels).
    n_c : int, optional
        Number of root classes (label context only); defaults to ``v``.
    clustering : str or callable
        ``"average"`` (default), ``"complete"``, ``"kmeans++"`` or a routine
        ``f(points, n_clusters, weights, seed) -> labels``.
    min_count : int
        Tuples seen fewer times are not clustered but assigned to the nearest cluster
        centre afterwards (1 = cluster every observed tuple).
    seed : int
        Seed of randomised clustering routines.
    merge_factor : float
        Merge step (a project convention, not in the paper; see docs/conventions.md):
        after clustering into ``v`` clusters, repeatedly merge the two clusters with the
        most alike pooled context counts while their G-test statistic of homogeneity per
        degree of freedom is below ``merge_factor`` times a null level calibrated on the
        data (the median G/df of each tuple against the rest of its own cluster, at least
        1; about 1 when both hold one parent). This lets ILC find fewer than ``v`` symbols
        when some are absent (random grammars can leave a symbol unused) instead of
        splitting a true cluster. It uses no ground truth. The factor is fixed at 4 before
        any run (:data:`DEFAULT_MERGE_FACTOR`); 0 disables the step (the ablation of
        ``rhm-theory verify``'s ``ilc_merge_ablation``).
    pool_positions : bool
        ``True`` (default, docs/theory.md section 5): the context counts of a tuple are pooled
        over all nodes of the level with the same within-parent position, so a level-``l``
        tuple is seen about ``s^(L-l)`` times per string. ``False`` (latent context only):
        positions kept separate; each level-``(l+1)`` node's children are clustered from
        their own counts (one tuple map per such node, ``level_maps_[l-1]`` of shape
        ``(s^(L-l-1), v^s)``), so every level sees one occurrence per string and the
        per-level threshold is predicted to collapse under ``P / (v m^3)``.
    chunk_size : int
        Rows per chunk when fitting from an in-memory array.

    Attributes
    ----------
    level_maps_ : list of ndarray
        ``level_maps_[l-1][code]`` = cluster id of the level-``(l-1)`` tuple ``code``
        (``UNKNOWN_CLUSTER`` if never seen), for ``l = 1..L-1``.
    n_observed_ : list of int
        Distinct tuples observed at each level.
    n_strings_ : int
        Training strings.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> from rhm_theory.model.sampling import sample
    >>> p = RHMParams(v=4, m=2, s=2, L=3)
    >>> g = random_grammar(p, seed=0)
    >>> ilc = IterativeLatentClustering(v=4, s=2, L=3).fit(sample(g, 5000, seed=1).tokens)
    >>> [len(m) for m in ilc.level_maps_]
    [16, 16]
    """

    def __init__(
        self,
        v: int,
        s: int,
        L: int,
        *,
        context: str = "latent",
        n_c: int | None = None,
        clustering: str | ClusteringRoutine = DEFAULT_CLUSTERING,
        min_count: int = 1,
        seed: int = 0,
        merge_factor: float = DEFAULT_MERGE_FACTOR,
        pool_positions: bool = True,
        chunk_size: int = 65536,
    ) -> None:
        # Validate through RHMParams with the loosest m, so messages name the parameter.
        RHMParams(v, 1, s, L, n_c)
        if context not in CONTEXT_KINDS:
            raise ValueError(f"context must be one of {CONTEXT_KINDS}, got {context!r}")
        if L < 2:
            raise ValueError(f"ILC needs a non-root latent level: L must satisfy L >= 2, got {L}")
        if min_count < 1:
            raise ValueError(f"min_count must satisfy min_count >= 1, got {min_count}")
        if not merge_factor >= 0:
            raise ValueError(f"merge_factor must satisfy merge_factor >= 0, got {merge_factor}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must satisfy chunk_size >= 1, got {chunk_size}")
        if not isinstance(pool_positions, bool):
            raise TypeError(f"pool_positions must be a bool, got {pool_positions!r}")
        if not pool_positions and context != "latent":
            raise ValueError("pool_positions=False is defined for context='latent' only, got "
                             f"context={context!r}")
        self.v, self.s, self.L = int(v), int(s), int(L)
        self.n_c = int(v if n_c is None else n_c)
        self.context = context
        self.clustering = clustering
        self.min_count = int(min_count)
        self.seed = int(seed)
        self.merge_factor = float(merge_factor)
        self.pool_positions = pool_positions
        self.chunk_size = int(chunk_size)

    @classmethod
    def from_params(cls, params: RHMParams, **kwargs: Any) -> IterativeLatentClustering:
        """Build for data of ``params`` (uses ``v, s, L, n_c``)."""
        return cls(params.v, params.s, params.L, n_c=params.n_c, **kwargs)

    # -- data plumbing ------------------------------------------------------------------
    def _stream(
        self, data: DataSource, labels: npt.NDArray[Any] | None
    ) -> Callable[[], Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any] | None]]]:
        if callable(data) and not isinstance(data, (Sample, np.ndarray)):
            factory = data

            def stream() -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any] | None]]:
                for chunk in factory():
                    yield _as_pairs(chunk)

            return stream
        tokens, lab = _as_pairs(data)
        if labels is not None:
            lab = np.asarray(labels)
        size = self.chunk_size

        def array_stream() -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any] | None]]:
            for start in range(0, tokens.shape[0], size):
                stop = start + size
                yield tokens[start:stop], (None if lab is None else lab[start:stop])

        return array_stream

    def _check_tokens(self, tokens: npt.NDArray[Any]) -> None:
        n_tok = self.s**self.L
        if tokens.ndim != 2 or tokens.shape[1] != n_tok:
            raise ValueError(f"tokens must have shape (P, s**L) = (P, {n_tok}), got {tokens.shape}")
        if tokens.size and (int(tokens.min()) < 0 or int(tokens.max()) >= self.v):
            raise ValueError(f"tokens must lie in [0, v) = [0, {self.v})")

    def _lift_one(self, seq: npt.NDArray[Any], table: IntArray) -> npt.NDArray[Any]:
        if table.ndim == 1:
            return lift(seq, table, self.s, self.v)
        return _lift_per_parent(seq, table, self.s, self.v)

    def _lift_to(self, tokens: npt.NDArray[Any], level: int) -> npt.NDArray[Any]:
        seq: npt.NDArray[Any] = tokens
        for lv in range(1, level + 1):
            seq = self._lift_one(seq, self.level_maps_[lv - 1])
        return seq

    # -- estimator API ------------------------------------------------------------------
    def fit(
        self, data: DataSource, labels: npt.NDArray[Any] | None = None
    ) -> IterativeLatentClustering:
        """Learn the tuple -> cluster map of every non-root level.

        Parameters
        ----------
        data : ndarray (P, s**L), Sample, or callable returning an iterable of chunks
            Chunks are token arrays, ``Sample`` objects (labels from their latents) or
            ``(tokens, labels)`` pairs. A callable is called once per level.
        labels : ndarray (P,), optional
            Root labels for ``context="label"`` when ``data`` is an array.
        """
        stream = self._stream(data, labels)
        route = get_clustering(self.clustering)
        n_ctx = self.n_c if self.context == "label" else self.v
        self.level_maps_: list[IntArray] = []
        self.n_observed_: list[int] = []
        self.n_strings_ = 0
        for level in range(1, self.L):
            # One accumulator for the whole level (pooled), or one per level-(l+1) node.
            n_groups = 1 if self.pool_positions else self.s ** (self.L - level - 1)
            width = self.s**2  # level-(l-1) symbols under one level-(l+1) node
            accs = [ContextCounts(self.s, level, self.context, self.v, n_ctx)
                    for _ in range(n_groups)]
            n_strings = 0
            for tokens, lab in stream():
                if level == 1:
                    self._check_tokens(tokens)
                if self.context == "label" and lab is None:
                    raise ValueError("context='label' needs root labels: pass labels= or "
                                     "Samples with latents")
                seq = self._lift_to(tokens, level - 1)
                if n_groups == 1:
                    accs[0].update(seq, tokens=tokens, labels=lab)
                else:
                    for g, acc in enumerate(accs):
                        acc.update(np.ascontiguousarray(seq[:, g * width:(g + 1) * width]))
                n_strings += tokens.shape[0]
            self.n_strings_ = n_strings
            tables = [self._cluster(acc, route) for acc in accs]
            table = tables[0] if self.pool_positions else np.stack(tables)
            self.level_maps_.append(table)
            self.n_observed_.append(int(np.count_nonzero(table >= 0)))
        return self

    def _cluster(self, acc: ContextCounts, route: ClusteringRoutine) -> IntArray:
        table = np.full(self.v**self.s, UNKNOWN_CLUSTER, dtype=np.int64)
        codes, vectors = acc.vectors()
        if len(codes) == 0:
            return table
        weights = acc.tuple_counts().sum(axis=0)[codes].astype(np.float64)
        core = weights >= self.min_count
        if core.sum() < 1:
            core[:] = True
        labels = np.empty(len(codes), dtype=np.int64)
        labels[core] = route(vectors[core], self.v, weights[core], self.seed)
        if not core.all():
            # Rare tuples go to the nearest count-weighted centre of the core clusters.
            ids = np.unique(labels[core])
            centres = np.stack([
                np.average(vectors[core][labels[core] == k], axis=0,
                           weights=weights[core][labels[core] == k])
                for k in ids
            ])
            d = ((vectors[~core][:, None, :] - centres[None]) ** 2).sum(axis=-1)
            labels[~core] = ids[np.argmin(d, axis=1)]
        if self.merge_factor > 0:
            per_tuple = acc.tuple_tables(codes)
            labels = merge_indistinguishable(per_tuple, labels, self.merge_factor)
        table[codes] = labels
        return table

    def transform(self, tokens: npt.NDArray[Any]) -> tuple[npt.NDArray[np.signedinteger[Any]], ...]:
        """Lift strings to every recovered level: ``(level_1, ..., level_{L-1})``.

        ``level_l`` has shape ``(P, s**(L-l))`` with cluster ids or ``UNKNOWN_CLUSTER`` (int16).
        """
        if not hasattr(self, "level_maps_"):
            raise RuntimeError("call fit() before transform()")
        tok = np.asarray(tokens)
        self._check_tokens(tok)
        out: list[npt.NDArray[np.signedinteger[Any]]] = []
        seq: npt.NDArray[Any] = tok
        for table in self.level_maps_:
            seq = self._lift_one(seq, table)
            out.append(seq)
        return tuple(out)
