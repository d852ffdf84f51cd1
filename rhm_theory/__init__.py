"""rhm_theory: sample-complexity theory of the Random Hierarchy Model, checked on real runs.

Layout: :mod:`rhm_theory.model` (parameters, grammars, sampling), :mod:`rhm_theory.exact`
(population statistics from the rule tables), :mod:`rhm_theory.empirical` (corpus counts),
:mod:`rhm_theory.algorithms` (ILC and baselines), :mod:`rhm_theory.bounds` (analytic
formulas), :mod:`rhm_theory.assumptions`, :mod:`rhm_theory.sweeps`, and the optional
PyTorch validators in :mod:`rhm_theory.neural`. Claims are checked in ``proofs_checks``.

The names below resolve on first access, so that ``import rhm_theory`` (and so the first
line of every ``rhm-theory`` command) does not wait for numpy, numba and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Grammar", "balanced_grammar", "random_grammar"), "model.grammar"),
    "RHMParams": "model.params",
    **dict.fromkeys(("Sample", "iter_samples", "sample"), "model.sampling"),
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value  # cache: later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
