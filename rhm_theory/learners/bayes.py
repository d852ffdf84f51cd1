"""The Bayes-optimal reference: exact posteriors by belief propagation (a ceiling, no data)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.inference.bp import belief_propagation
from rhm_theory.learners.base import LearnerCell
from rhm_theory.model.grammar import Grammar

__all__ = ["BayesOptimalLearner", "bayes"]


class BayesOptimalLearner:
    """The most probable symbol of every node given the string, under the true grammar.

    It knows the grammar (an oracle) and learns nothing: ``fit`` ignores its data. On clean
    strings of an unambiguous grammar the posterior of every latent is a point mass
    (parsing), so its accuracy is 1 at every ``P``: every threshold of this learner is
    left-censored (reached at the smallest ``P``): it is the ceiling a learner's curve
    tends to, not a sample complexity.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> from rhm_theory.model.sampling import sample
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> test = sample(g, 50, seed=2, latents=True)
    >>> pred = BayesOptimalLearner(g).fit(None).predict_latents(test.tokens, level=2)
    >>> bool((pred == test.level(2)).all())
    True
    """

    def __init__(self, grammar: Grammar) -> None:
        if not isinstance(grammar, Grammar):
            raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
        self.grammar = grammar

    def fit(self, tokens: Any, labels: Any = None) -> BayesOptimalLearner:
        """Nothing to learn (the grammar is known)."""
        return self

    def predict_latents(self, tokens: npt.NDArray[Any], level: int) -> npt.NDArray[np.int64]:
        """MAP symbol of every node of ``level`` (ties: the smallest symbol)."""
        post = belief_propagation(self.grammar, tokens, levels=[level])
        return post.map_symbols(level)


def bayes(cell: LearnerCell) -> BayesOptimalLearner:
    """The Bayes-optimal reference on clean strings (accuracy 1 at every ``P``)."""
    return BayesOptimalLearner(cell.grammar())
