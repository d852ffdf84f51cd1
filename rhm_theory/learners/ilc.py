"""ILC and its token and label baselines as learners: factories ``latent``, ``token``, ``label``."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.algorithms.ilc import IterativeLatentClustering
from rhm_theory.learners.base import LearnerCell
from rhm_theory.validation import ContextKind, check_context

__all__ = ["ILCLearner", "label", "latent", "token"]


class ILCLearner:
    """Iterative Latent Clustering behind the learner protocol (``predict_latents``).

    Parameters
    ----------
    v, s, L : int
        Data shape (``m`` is not needed).
    context : {"latent", "token", "label"}
        Own latents (the paper's ILC), tokens (token-level SSL) or the root label
        (supervised; ``needs_labels`` is then true and ``fit`` gets the root symbols).
    n_c : int, optional
        Root classes (label context).
    **options
        Passed to :class:`~rhm_theory.algorithms.ilc.IterativeLatentClustering`
        (``merge_factor``, ``pool_positions``, ``clustering``, ...).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> from rhm_theory.model.sampling import sample
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> ilc = ILCLearner(4, 2, 3).fit(sample(g, 3000, seed=1).tokens)
    >>> ilc.predict_latents(sample(g, 5, seed=2).tokens, level=2).shape
    (5, 2)
    """

    def __init__(self, v: int, s: int, L: int, *, context: ContextKind = "latent",
                 n_c: int | None = None, **options: Any) -> None:
        self.context = check_context(context)
        self.model = IterativeLatentClustering(v, s, L, context=context, n_c=n_c, **options)
        self.needs_labels = self.context == "label"

    def fit(self, tokens: npt.NDArray[Any], labels: npt.NDArray[Any] | None = None
            ) -> ILCLearner:
        """Fit ILC on ``(P, s**L)`` tokens (``labels``: root symbols, label context)."""
        self.model.fit(np.asarray(tokens), labels=labels)
        return self

    def predict_latents(self, tokens: npt.NDArray[Any], level: int) -> npt.NDArray[Any]:
        """Cluster ids of level ``level`` (``1..L-1``); unseen tuples are ``-1``."""
        if not 1 <= level < self.model.L:
            raise ValueError(f"ILC recovers levels 1..L-1 = 1..{self.model.L - 1}, got "
                             f"level={level}")
        lifted = self.model.transform(tokens)
        return lifted[level - 1]


def _make(cell: LearnerCell, context: ContextKind) -> ILCLearner:
    return ILCLearner(cell.v, cell.s, cell.L, context=context, n_c=cell.n_c, seed=cell.seed)


def latent(cell: LearnerCell) -> ILCLearner:
    """ILC with own-latent contexts (the paper's algorithm; predicted ``P* ~ v m^3``)."""
    return _make(cell, "latent")


def token(cell: LearnerCell) -> ILCLearner:
    """ILC with token contexts (token-level SSL; predicted ``P* ~ v m^(L+1)``)."""
    return _make(cell, "token")


def label(cell: LearnerCell) -> ILCLearner:
    """ILC with the root label as context (supervised; predicted ``P* ~ v m^L``)."""
    return _make(cell, "label")
