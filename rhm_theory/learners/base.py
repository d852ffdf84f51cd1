"""The learner protocol: ``fit`` plus ``predict_latents`` or ``transform``, and its scoring."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from rhm_theory.algorithms.metrics import matched_accuracy
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample, sample
from rhm_theory.model.spec import GrammarSpec
from rhm_theory.validation import check_float, check_int, check_seed

__all__ = [
    "LatentLearner",
    "LearnerCell",
    "LearnerFactory",
    "LevelAccuracy",
    "RepresentationLearner",
    "ScoringMode",
    "ridge_probe_accuracy",
    "score_learner",
    "scoring_mode",
]

#: How a learner is scored: its own latent predictions (best-matching accuracy), or a
#: linear probe of its representation on fresh strings.
ScoringMode = Literal["latents", "transform"]

#: Seed offsets of the scoring strings (disjoint from every training seed, which is a data
#: seed below 2**62): test strings, and the probe's training strings.
TEST_SEED_OFFSET = 10**9
PROBE_SEED_OFFSET = 2 * 10**9


@runtime_checkable
class LatentLearner(Protocol):
    """A learner that labels the nodes of a level itself.

    ``fit(tokens, labels=None)`` learns from ``(P, s**L)`` integer tokens (``labels``: the
    ``(P,)`` root symbols, passed only to learners whose ``needs_labels`` attribute is
    true). ``predict_latents(tokens, level)`` returns ``(n, s**(L-level))`` integer cluster
    ids (any ids; negative = unknown), scored by the accuracy under the best one-to-one
    relabelling (:func:`rhm_theory.algorithms.metrics.matched_accuracy`).
    """

    def fit(self, tokens: npt.NDArray[Any], labels: npt.NDArray[Any] | None = None) -> Any:
        """Learn from training strings."""
        ...

    def predict_latents(self, tokens: npt.NDArray[Any], level: int) -> npt.ArrayLike:
        """Cluster ids of every node of ``level`` of each string."""
        ...


@runtime_checkable
class RepresentationLearner(Protocol):
    """A learner that maps strings to features, scored by linear probes.

    ``transform(tokens)`` returns ``(n, D)`` (one vector per string: one probe per node of
    the level) or ``(n, T, D)`` with ``T`` a multiple of the level's node count (a vector
    per position: the positions under a node are concatenated, one probe shared by the
    nodes, as :func:`rhm_theory.neural.probes.node_features` does).
    """

    def fit(self, tokens: npt.NDArray[Any], labels: npt.NDArray[Any] | None = None) -> Any:
        """Learn from training strings."""
        ...

    def transform(self, tokens: npt.NDArray[Any]) -> npt.ArrayLike:
        """Features of each string."""
        ...


@dataclass(frozen=True)
class LearnerCell:
    """What a learner factory receives: the grammar's parameters and the run's sizes.

    Attributes
    ----------
    v, m, s, L, n_c : int
        Grammar parameters (``m`` is the truth a learner is not supposed to need).
    P : int
        Training strings of this fit.
    grammar_seed, data_seed : int
        Seeds of the grammar and of the training strings.
    family : str
        Grammar family (a key of :data:`rhm_theory.model.spec.GRAMMAR_CONSTRUCTORS`).
    """

    v: int
    m: int
    s: int
    L: int
    n_c: int
    P: int
    grammar_seed: int = 0
    data_seed: int = 1000
    family: str = "random"

    @property
    def params(self) -> RHMParams:
        """The grammar's parameters."""
        return RHMParams(self.v, self.m, self.s, self.L, self.n_c)

    @property
    def seed(self) -> int:
        """A seed for the learner's own randomness (the data seed: one per run)."""
        return self.data_seed

    def grammar(self) -> Grammar:
        """The true grammar: an oracle, for reference learners only (the Bayes ceiling)."""
        return self.spec.build()

    @property
    def spec(self) -> GrammarSpec:
        """The grammar's specification (family, parameters, seed)."""
        return GrammarSpec(self.params, self.family, self.grammar_seed)


#: ``factory(cell) -> learner``.
LearnerFactory = Callable[[LearnerCell], Any]


def scoring_mode(learner: object) -> ScoringMode:
    """How ``learner`` is scored: ``"latents"`` if it has ``predict_latents``, else
    ``"transform"``; a ``TypeError`` naming the missing methods otherwise.

    >>> class A:
    ...     def fit(self, tokens, labels=None): return self
    ...     def transform(self, tokens): return tokens
    >>> scoring_mode(A())
    'transform'
    """
    if not callable(getattr(learner, "fit", None)):
        raise TypeError(f"a learner must have fit(tokens, labels=None); {type(learner).__name__}"
                        " has none")
    if callable(getattr(learner, "predict_latents", None)):
        return "latents"
    if callable(getattr(learner, "transform", None)):
        return "transform"
    raise TypeError(f"a learner must have predict_latents(tokens, level) or transform(tokens);"
                    f" {type(learner).__name__} has neither")


@dataclass(frozen=True)
class LevelAccuracy:
    """Score of one level: accuracy on fresh strings and the fraction of unknown nodes."""

    level: int
    accuracy: float
    unknown_fraction: float


def ridge_probe_accuracy(
    train_x: npt.ArrayLike, train_y: npt.ArrayLike, test_x: npt.ArrayLike,
    test_y: npt.ArrayLike, n_classes: int, *, ridge: float = 1e-3,
) -> float:
    """Test accuracy of a linear least-squares (ridge) classifier on frozen features.

    Features are standardised with the training mean and deviation; the weights solve
    ``(X^T X + ridge n I) W = X^T Y`` with one-hot targets ``Y``; the class is the argmax.
    A closed-form numpy probe: no torch needed, deterministic.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [0.1], [0.9]]); y = np.array([0, 1, 0, 1])
    >>> ridge_probe_accuracy(x, y, x, y, 2)
    1.0
    """
    n_classes = check_int("n_classes", n_classes, minimum=1)
    ridge = check_float("ridge", ridge, minimum=0.0)
    xtr = np.asarray(train_x, dtype=np.float64)
    xte = np.asarray(test_x, dtype=np.float64)
    ytr = np.asarray(train_y, dtype=np.int64).ravel()
    yte = np.asarray(test_y, dtype=np.int64).ravel()
    if xtr.ndim != 2 or xte.ndim != 2 or xtr.shape[1] != xte.shape[1]:
        raise ValueError(f"features must be 2-D with one width, got {xtr.shape}, {xte.shape}")
    if xtr.shape[0] != ytr.size or xte.shape[0] != yte.size:
        raise ValueError("features and labels must have one length")
    mean = xtr.mean(axis=0)
    std = np.maximum(xtr.std(axis=0), 1e-6)
    a = np.hstack([(xtr - mean) / std, np.ones((xtr.shape[0], 1))])
    b = np.hstack([(xte - mean) / std, np.ones((xte.shape[0], 1))])
    onehot = np.zeros((ytr.size, n_classes))
    onehot[np.arange(ytr.size), ytr] = 1.0
    gram = a.T @ a + ridge * max(1, a.shape[0]) * np.eye(a.shape[1])
    w = np.linalg.solve(gram, a.T @ onehot)
    return float(np.mean(np.argmax(b @ w, axis=1) == yte))


def _as_int_prediction(pred: Any, shape: tuple[int, int], level: int) -> npt.NDArray[np.int64]:
    arr = np.asarray(pred)
    if arr.shape != shape:
        raise ValueError(f"predict_latents(tokens, level={level}) must return shape "
                         f"(n, s**(L-level)) = {shape}, got {arr.shape}")
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"predict_latents(tokens, level={level}) must return integer "
                             f"cluster ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _probe_features(feats: Any, n: int, n_nodes: int) -> tuple[npt.NDArray[np.float64], bool]:
    """``(features, per_node)``: ``(n * n_nodes, width)`` shared-probe rows, or the
    ``(n, D)`` per-string matrix (one probe per node)."""
    arr = np.asarray(feats, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == n:
        return arr, True
    if arr.ndim == 3 and arr.shape[0] == n and arr.shape[1] % n_nodes == 0:
        t, d = arr.shape[1], arr.shape[2]
        return arr.reshape(n * n_nodes, (t // n_nodes) * d), False
    raise ValueError(f"transform(tokens) must return (n, D) or (n, T, D) with T a multiple of "
                     f"{n_nodes} (the nodes of the level) and n = {n}, got {arr.shape}")


def score_learner(
    learner: Any,
    grammar: Grammar,
    levels: tuple[int, ...],
    *,
    n_test: int = 2000,
    n_probe: int = 2000,
    seed: int = 0,
) -> list[LevelAccuracy]:
    """Score a fitted learner on every level of ``levels`` on fresh strings.

    ``predict_latents`` learners: accuracy under the best one-to-one relabelling of the
    level's ``n_test`` x nodes predictions. ``transform`` learners: a ridge probe
    (:func:`ridge_probe_accuracy`) trained on ``n_probe`` other fresh strings, tested on the
    ``n_test`` ones. Test strings use seed ``seed + 10**9``, probe strings ``seed + 2*10**9``.

    Raises
    ------
    TypeError, ValueError
        A learner without a scoring method, or predictions of the wrong shape or type.
    """
    p = grammar.params
    n_test = check_int("n_test", n_test, minimum=1)
    n_probe = check_int("n_probe", n_probe, minimum=1)
    seed = check_seed("seed", seed)
    for lv in levels:
        p.check_level(lv, 1, p.L)
    mode = scoring_mode(learner)
    test = sample(grammar, n_test, seed + TEST_SEED_OFFSET, latents=True)
    out = []
    if mode == "latents":
        for lv in levels:
            shape = (n_test, p.nodes_at_level(lv))
            pred = _as_int_prediction(learner.predict_latents(test.tokens, lv), shape, lv)
            acc, _ = matched_accuracy(pred, test.level(lv), p.vocab(lv))
            out.append(LevelAccuracy(lv, acc, float(np.mean(pred < 0))))
        return out
    train: Sample = sample(grammar, n_probe, seed + PROBE_SEED_OFFSET, latents=True)
    f_train = learner.transform(train.tokens)
    f_test = learner.transform(test.tokens)
    for lv in levels:
        nodes = p.nodes_at_level(lv)
        xtr, per_node = _probe_features(f_train, n_probe, nodes)
        xte, _ = _probe_features(f_test, n_test, nodes)
        ytr = np.asarray(train.level(lv), dtype=np.int64)
        yte = np.asarray(test.level(lv), dtype=np.int64)
        if per_node:
            accs = [ridge_probe_accuracy(xtr, ytr[:, k], xte, yte[:, k], p.vocab(lv))
                    for k in range(nodes)]
            acc = float(np.mean(accs))
        else:
            acc = ridge_probe_accuracy(xtr, ytr.ravel(), xte, yte.ravel(), p.vocab(lv))
        out.append(LevelAccuracy(lv, acc, 0.0))
    return out


def _timed_fit(learner: Any, tokens: npt.NDArray[Any], labels: npt.NDArray[Any] | None
               ) -> float:
    t0 = time.perf_counter()
    if labels is None:
        learner.fit(tokens)
    else:
        learner.fit(tokens, labels)
    return time.perf_counter() - t0
