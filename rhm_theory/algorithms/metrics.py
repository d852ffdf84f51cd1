"""Recovery metrics: accuracy under the best relabelling, exact partitions, synonym scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from rhm_theory.algorithms.ilc import IterativeLatentClustering
from rhm_theory.exact.correlations import node_marginals_at_level
from rhm_theory.exact.transitions import level_weights
from rhm_theory.model.grammar import Grammar, tuple_codes
from rhm_theory.model.sampling import sample

__all__ = [
    "LevelScore",
    "adjusted_rand_index",
    "matched_accuracy",
    "score_levels",
]

IntArray = npt.NDArray[np.int64]


def matched_accuracy(
    predicted: npt.ArrayLike, true: npt.ArrayLike, n_symbols: int
) -> tuple[float, IntArray]:
    """Fraction of nodes right under the best one-to-one relabelling (Hungarian).

    ``true`` holds symbols in ``[0, n_symbols)``. Predictions are cluster ids or codes
    (possibly more codes than symbols: each symbol is matched to at most one code);
    negative predictions (unknown) are always wrong.

    Returns
    -------
    accuracy : float
    mapping : ndarray (n_symbols,)
        ``mapping[true symbol] = predicted cluster`` of the optimal matching.

    >>> acc, mp = matched_accuracy([1, 1, 0, -1], [0, 0, 1, 1], 2)
    >>> acc, mp.tolist()
    (0.75, [1, 0])
    """
    pred = np.asarray(predicted, dtype=np.int64).ravel()
    tru = np.asarray(true, dtype=np.int64).ravel()
    if pred.shape != tru.shape:
        raise ValueError(f"predicted and true must have one shape, got {pred.shape}, {tru.shape}")
    if tru.size == 0:
        raise ValueError("true must not be empty")
    ok = pred >= 0
    n_codes = max(n_symbols, int(pred.max()) + 1 if ok.any() else 0)
    table = np.zeros((n_symbols, n_codes), dtype=np.int64)
    np.add.at(table, (tru[ok], pred[ok]), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    mapping = np.empty(n_symbols, dtype=np.int64)
    mapping[rows] = cols
    return float(table[rows, cols].sum() / tru.size), mapping


def adjusted_rand_index(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Adjusted Rand index of two partitions given as label arrays (1 = identical).

    >>> adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    """
    x = np.unique(np.asarray(a).ravel(), return_inverse=True)[1]
    y = np.unique(np.asarray(b).ravel(), return_inverse=True)[1]
    n = x.size
    table = np.zeros((x.max() + 1, y.max() + 1), dtype=np.float64)
    np.add.at(table, (x, y), 1)

    def comb2(c: npt.NDArray[np.float64]) -> float:
        return float((c * (c - 1) / 2).sum())

    index = comb2(table)
    ra, rb = comb2(table.sum(axis=1)), comb2(table.sum(axis=0))
    expected = ra * rb / (n * (n - 1) / 2) if n > 1 else 0.0
    top = (ra + rb) / 2
    if top == expected:
        return 1.0
    return float((index - expected) / (top - expected))


@dataclass(frozen=True)
class LevelScore:
    """Recovery of one non-root level."""

    level: int
    accuracy: float
    exact_partition: bool
    synonym_ari: float
    unknown_fraction: float
    tuple_accuracy: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (one row of the ``ilc`` JSON output)."""
        return asdict(self)


def score_levels(
    model: IterativeLatentClustering, grammar: Grammar, n_test: int = 2000, seed: int = 12345
) -> list[LevelScore]:
    """Score every recovered level on ``n_test`` fresh strings drawn with ``seed``.

    * ``accuracy``: fraction of level-``l`` nodes whose label equals the true symbol under
      the best one-to-one relabelling of the contingency table (Hungarian).
    * ``exact_partition``: the learned tuple map, applied to the true grammatical tuples of
      level ``l`` (of symbols with positive probability) through the matched relabelling
      of level ``l-1``, groups tuples exactly by parent (synonyms together, different
      parents apart, none unknown), and every lower level is exact too.
    * ``synonym_ari``: adjusted Rand index of that induced tuple partition against the
      true parents (1 = perfect synonym clustering).
    * ``tuple_accuracy``: the fraction of those grammatical tuples whose induced label is
      their parent's matched label (``1 - eps`` for a fraction ``eps`` of misassigned tuple
      values; each tuple counts once, whatever its probability).
    """
    p = grammar.params
    if (model.v, model.s, model.L) != (p.v, p.s, p.L):
        raise ValueError(
            f"model (v, s, L) = {(model.v, model.s, model.L)} does not match the grammar "
            f"{(p.v, p.s, p.L)}"
        )
    test = sample(grammar, n_test, seed, latents=True)
    if not model.pool_positions:
        return _score_per_node(model, grammar, test)
    predicted = model.transform(test.tokens)
    scores: list[LevelScore] = []
    weights = level_weights(grammar)
    relabel = np.arange(p.v, dtype=np.int64)  # true -> predicted symbols of level l-1
    lower_exact = True
    for level in range(1, p.L):
        true = test.level(level).astype(np.int64)
        pred = predicted[level - 1]
        acc, mapping = matched_accuracy(pred, true, p.v)
        # Only symbols of positive probability: a random grammar can leave some unused.
        present = weights[level] > 0
        rules = grammar.rules_of(level)[present]
        tuples = relabel[rules.reshape(-1, p.s)]
        induced = model.level_maps_[level - 1][tuple_codes(tuples, p.v)]
        parents = np.repeat(np.arange(rules.shape[0]), p.m)
        # Distinct labels per parent, one label per parent, no unknown.
        per_parent = induced.reshape(rules.shape[0], p.m)
        exact = bool(
            lower_exact
            and np.all(induced >= 0)
            and np.all(per_parent == per_parent[:, :1])
            and len(np.unique(per_parent[:, 0])) == rules.shape[0]
        )
        # Unknown tuples each form their own singleton cluster.
        singletons = -1 - np.arange(len(induced))
        ari = adjusted_rand_index(np.where(induced >= 0, induced, singletons), parents)
        # The parent of tuple i is the i // m-th present symbol, matched by ``mapping``.
        parent_label = mapping[np.repeat(np.flatnonzero(present), p.m)]
        tuple_acc = float(np.mean(induced == parent_label))
        scores.append(
            LevelScore(level, acc, exact, ari, float(np.mean((pred < 0) | (pred >= p.v))),
                       tuple_acc)
        )
        lower_exact = exact
        relabel = mapping
    return scores


def _score_per_node(
    model: IterativeLatentClustering, grammar: Grammar, test: Any
) -> list[LevelScore]:
    """:func:`score_levels` for ILC with ``pool_positions=False``: every node has its own
    cluster ids, so the relabelling (Hungarian) and the exact-partition test are per node;
    a level's accuracy is the mean over its nodes, its partition exact if every node's is."""
    p = grammar.params
    predicted = model.transform(test.tokens)
    relabels = [np.arange(p.v, dtype=np.int64)] * p.s ** p.L  # per level-(l-1) node
    lower_exact = True
    scores: list[LevelScore] = []
    for level in range(1, p.L):
        true = test.level(level).astype(np.int64)
        pred = predicted[level - 1]
        tables = model.level_maps_[level - 1]
        marginals = node_marginals_at_level(grammar, level)
        accs, new_relabels, exact, aris, tuple_accs = [], [], lower_exact, [], []
        for k in range(true.shape[1]):
            # Symbols this node can hold (node marginals are path dependent).
            rules = grammar.rules_of(level)[marginals[k] > 0]
            parents = np.repeat(np.arange(rules.shape[0]), p.m)
            acc, mapping = matched_accuracy(pred[:, k], true[:, k], p.v)
            accs.append(acc)
            new_relabels.append(mapping)
            # Children of node k are level-(l-1) nodes s*k .. s*k+s-1, each relabelled.
            tuples = np.stack([relabels[p.s * k + j][rules.reshape(-1, p.s)[:, j]]
                               for j in range(p.s)], axis=1)
            induced = tables[k // p.s][tuple_codes(tuples, p.v)]
            per_parent = induced.reshape(rules.shape[0], p.m)
            exact = bool(exact and np.all(induced >= 0)
                         and np.all(per_parent == per_parent[:, :1])
                         and len(np.unique(per_parent[:, 0])) == rules.shape[0])
            singletons = -1 - np.arange(len(induced))
            aris.append(adjusted_rand_index(np.where(induced >= 0, induced, singletons),
                                            parents))
            symbols = np.flatnonzero(marginals[k] > 0)
            tuple_accs.append(float(np.mean(induced == mapping[np.repeat(symbols, p.m)])))
        scores.append(LevelScore(level, float(np.mean(accs)), exact, float(np.mean(aris)),
                                 float(np.mean((pred < 0) | (pred >= p.v))),
                                 float(np.mean(tuple_accs))))
        lower_exact = exact
        relabels = new_relabels
    return scores
