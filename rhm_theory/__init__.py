"""rhm_theory: sample-complexity theory of the Random Hierarchy Model, checked on real runs.

Layout: :mod:`rhm_theory.model` (parameters, grammars, sampling), :mod:`rhm_theory.exact`
(population statistics from the rule tables), :mod:`rhm_theory.empirical` (corpus counts),
:mod:`rhm_theory.algorithms` (ILC and baselines), :mod:`rhm_theory.bounds` (analytic
formulas), :mod:`rhm_theory.assumptions`, :mod:`rhm_theory.sweeps`, and the optional
PyTorch validators in :mod:`rhm_theory.neural`. Claims are checked in ``proofs_checks``.
"""

from rhm_theory.model import Grammar, RHMParams, balanced_grammar, random_grammar
from rhm_theory.model.sampling import Sample, iter_samples, sample

__version__ = "0.1.0"

__all__ = [
    "Grammar",
    "RHMParams",
    "Sample",
    "__version__",
    "balanced_grammar",
    "iter_samples",
    "random_grammar",
    "sample",
]
