"""Learners behind one protocol (``fit`` + ``predict_latents`` or ``transform``) and their scoring.

Built-in factories (``factory(cell) -> learner``, the ``SPEC`` of ``rhm-theory measure``):
``rhm_theory.learners.ilc:latent`` / ``:token`` / ``:label`` (ILC and its baselines),
``rhm_theory.learners.bayes:bayes`` (the Bayes-optimal ceiling) and, with PyTorch,
``rhm_theory.learners.neural:slc`` / ``:data2vec`` / ``:mlm``.
"""

from rhm_theory.learners.base import (
    LatentLearner,
    LearnerCell,
    LearnerFactory,
    LevelAccuracy,
    RepresentationLearner,
    ScoringMode,
    ridge_probe_accuracy,
    score_learner,
    scoring_mode,
)
from rhm_theory.learners.bayes import BayesOptimalLearner
from rhm_theory.learners.ilc import ILCLearner

__all__ = [
    "BayesOptimalLearner",
    "ILCLearner",
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
