"""Exact finite-size sample-complexity predictions from the exact context laws of a grammar."""

# The signal-to-noise argument of docs/theory.md section 4, with every constant computed exactly
# from the rule tables instead of estimated up to scaling:
#
#   * signal: the separation margin Delta_l = min_{a != a'} ||psi_a - psi_a'|| of level l for
#     the chosen context kind (rhm_theory.exact.margin_summary);
#   * noise: a tuple t = rule r of parent a fills the within-parent position j of a level-l
#     node weights[j, a] * w_a(r) times per string in expectation (pooled over the equivalent
#     nodes; w_a(r) = 1/m in the paper's uniform RHM). One occurrence draws every context
#     block once, so the
#     estimated block laws of position j have expected squared error noise[j, a] / n after n
#     occurrences, with noise[j, a] = sum over blocks of (1 - ||p_block||^2)
#     (ContextLaws.noise_per_occurrence). The vector of t concatenates the positions j, so
#
#         error_t(P) = sum_{j : weights[j, a] > 0} noise[j, a] / (P * weights[j, a] * w_a(r))
#                    = c_t / P,      c_t = sum_j noise[j, a] / weights[j, a] / w_a(r).
#
#   * threshold: the P at which error_t(P) = (Delta_l / 2)^2 for the rarest tuple (largest
#     c_t, i.e. the smallest positive rule weight of the worst symbol):
#
#         P*_l = max_{t present} c_t / (Delta_l / 2)^2.
#
# Positions where a never occurs (weights[j, a] = 0) and rules of weight 0 (never emitted)
# carry no estimate and are left out. For uniform weights c_t = c_a = m * sum_j ... as in the
# paper's RHM (computed with the factor m itself, so uniform numbers are unchanged). In an
# ambiguous grammar a shared tuple pools the occurrences of its parents; the per-parent
# c_t used here is then an upper bound on its noise (EXPLORATORY there).

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rhm_theory.exact.contexts import (
    ContextKind,
    ContextLaws,
    context_laws,
    margin_summary,
)
from rhm_theory.model.grammar import Grammar
from rhm_theory.validation import check_context, check_int

__all__ = [
    "ThresholdPrediction",
    "predicted_threshold",
    "predicted_thresholds",
    "predicted_tree_threshold",
    "threshold_prediction",
    "threshold_prediction_from_laws",
]


@dataclass(frozen=True)
class ThresholdPrediction:
    """Exact finite-size threshold of one level and context kind, with its ingredients.

    Attributes
    ----------
    level : int
        Level ``l`` (``1 <= l <= L-1``) of the node whose children tuple is clustered.
    context : {"latent", "token", "label"}
        Context kind.
    threshold : float
        ``P*_l = max_a c_a / (margin / 2)**2``; ``inf`` when ``margin == 0``, ``0.0`` when
        fewer than two symbols are present (nothing to separate).
    margin : float
        ``Delta_l``, the minimum pairwise distance of the centred context vectors.
    error_coefficient : float
        ``c_a`` of the rarest tuple: the expected squared error of its context vector is
        ``c_a / P`` after ``P`` strings.
    rarest_symbol : int
        Parent symbol ``a`` of the rarest tuple (largest ``c_t``).
    rarest_rule_prob : float
        The rule weight ``w_a(r)`` of the rarest tuple (``1/m`` for uniform grammars).
    """

    level: int
    context: ContextKind
    threshold: float
    margin: float
    error_coefficient: float
    rarest_symbol: int
    rarest_rule_prob: float = math.nan

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain-dict record (the ``bounds`` CLI row format)."""
        return {
            "level": self.level,
            "context": self.context,
            "predicted_threshold": self.threshold,
            "margin_min": self.margin,
            "error_coefficient": self.error_coefficient,
            "rarest_symbol": self.rarest_symbol,
        }


def threshold_prediction(
    grammar: Grammar, level: int, context: str = "latent"
) -> ThresholdPrediction:
    r"""Exact finite-size threshold of ``level`` for one context kind, with its ingredients.

    For a tuple ``t`` with parent ``a``, the expected squared error of its estimated context
    vector after ``P`` strings is

    .. math::

        \varepsilon_t(P) = \sum_{j:\, w_{j a} > 0} \frac{\nu_{j a}}{P \, w_{j a} / m}
        = \frac{c_a}{P}, \qquad c_a = m \sum_{j:\, w_{j a} > 0} \frac{\nu_{j a}}{w_{j a}},

    where ``w[j, a]`` (:attr:`ContextLaws.weights`) is the expected number per string of
    position-``j`` level-``l`` nodes holding ``a`` (so ``t`` fills them ``w[j, a] / m`` times)
    and ``nu[j, a]`` (:meth:`ContextLaws.noise_per_occurrence`) the squared error of the block
    laws from one occurrence. The threshold is the ``P`` at which the rarest tuple's error
    reaches ``(Delta_l / 2)**2``:

    .. math:: P^*_l = \max_{a \text{ present}} \frac{c_a}{(\Delta_l / 2)^2}.

    Parameters
    ----------
    grammar : Grammar
        The grammar (``L >= 2``).
    level : int
        ``1 <= level <= L-1``.
    context : {"latent", "token", "label"}, default "latent"
        Context kind (docs/theory.md section 3).

    Returns
    -------
    ThresholdPrediction

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, balanced_grammar
    >>> g = balanced_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> pred = threshold_prediction(g, 2, "label")
    >>> pred.context, 0 < pred.margin < pred.threshold < math.inf
    ('label', True)
    """
    laws = context_laws(grammar, level, context)
    return threshold_prediction_from_laws(laws)


def threshold_prediction_from_laws(laws: ContextLaws, m: int | None = None) -> ThresholdPrediction:
    """:func:`threshold_prediction` from already computed exact context laws.

    Parameters
    ----------
    laws : ContextLaws
        Output of :func:`~rhm_theory.exact.contexts.context_laws` (it carries the rule
        weights of its level).
    m : int, optional
        Number of rules per symbol; only checked against the laws (kept for callers that
        pass it).

    Returns
    -------
    ThresholdPrediction

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> laws = context_laws(g, 1, "latent")
    >>> threshold_prediction_from_laws(laws, 2) == threshold_prediction(g, 1, "latent")
    True
    """
    W = laws.rule_probs
    n_rules = W.shape[1]
    if m is not None and check_int("m", m, minimum=1) != n_rules:
        raise ValueError(f"m must equal the laws' number of rules {n_rules}, got m={m}")
    margin = margin_summary(laws).margin_min
    w = laws.weights
    noise = laws.noise_per_occurrence()
    ratio = np.divide(noise, w, out=np.zeros_like(noise), where=w > 0)
    # 1 / w_a(r) of the rarest emitted rule of each symbol; exactly m for a uniform row.
    w_min = np.where(W > 0, W, np.inf).min(axis=1)
    uniform = np.all(W == 1.0 / n_rules, axis=1)
    inv = np.where(uniform, float(n_rules), 1.0 / w_min)
    coeff = inv * ratio.sum(axis=0)  # (V,): c of each symbol's rarest tuple; 0 if absent
    present = np.flatnonzero(laws.present)
    rarest = int(present[np.argmax(coeff[present])])
    c = float(coeff[rarest])
    if margin == 0.0:
        threshold = math.inf
    elif math.isinf(margin):
        threshold = 0.0
    else:
        threshold = c / (margin / 2.0) ** 2
    return ThresholdPrediction(
        laws.level, laws.context, threshold, margin, c, rarest, float(w_min[rarest])
    )


def predicted_threshold(grammar: Grammar, level: int, context: str = "latent") -> float:
    """Exact finite-size sample complexity ``P*_l`` of ``level`` for one context kind.

    ``P*_l = max_a c_a / (Delta_l / 2)**2`` with ``c_a = m * sum_j noise[j, a] / weights[j, a]``
    over positions with positive weight; see :func:`threshold_prediction` for the derivation.
    ``inf`` when the margin is 0 (two parents with identical context vectors: no number of
    samples separates them).

    Parameters
    ----------
    grammar : Grammar
        The grammar (``L >= 2``).
    level : int
        ``1 <= level <= L-1``.
    context : {"latent", "token", "label"}, default "latent"
        Context kind.

    Returns
    -------
    float

    Examples
    --------
    Two symbols, one rule each (``a -> (a, a)`` at both levels): the sibling of a level-1
    node holds the same symbol, so its cousin latents are ``(a, a)`` with certainty. Each of
    the 4 blocks (2 positions x 2 cousins) contributes ``||(1, -1)||**2 = 2`` to the squared
    margin, ``Delta = sqrt(8)``, while one occurrence is noiseless (``noise = 0``): ``P* = 0``.

    >>> from rhm_theory.model import Grammar, RHMParams
    >>> rules = [[[[0, 0]], [[1, 1]]], [[[0, 0]], [[1, 1]]]]
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=2), rules)
    >>> pred = threshold_prediction(g, 1, "latent")
    >>> round(pred.margin**2, 12), pred.error_coefficient, predicted_threshold(g, 1)
    (8.0, 0.0, 0.0)
    """
    return threshold_prediction(grammar, level, context).threshold


def predicted_thresholds(grammar: Grammar, context: str = "latent") -> list[float]:
    """:func:`predicted_threshold` of every level ``1..L-1`` (index 0 is level 1).

    Parameters
    ----------
    grammar : Grammar
        The grammar; ``L = 1`` gives an empty list (no non-root level above the tokens).
    context : {"latent", "token", "label"}, default "latent"
        Context kind.

    Returns
    -------
    list of float

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> len(predicted_thresholds(random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)))
    3
    """
    check_context(context)
    return [
        predicted_threshold(grammar, level, context) for level in range(1, grammar.params.L)
    ]


def predicted_tree_threshold(grammar: Grammar, context: str = "latent") -> float:
    """Samples needed to recover every non-root level: the max of :func:`predicted_thresholds`.

    Parameters
    ----------
    grammar : Grammar
        The grammar (``L >= 2``).
    context : {"latent", "token", "label"}, default "latent"
        Context kind.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``L < 2`` (no non-root level to recover).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> predicted_tree_threshold(g) == max(predicted_thresholds(g))
    True
    """
    if grammar.params.L < 2:
        raise ValueError(
            f"the tree threshold needs a non-root level: L must satisfy L >= 2, "
            f"got L={grammar.params.L}"
        )
    return max(predicted_thresholds(grammar, context))

