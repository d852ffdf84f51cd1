"""Testing support: Hypothesis strategies for RHM parameters and grammars."""

from rhm_theory.testing.strategies import (
    SEPARATION_C_MAX,
    ambiguous_grammars,
    balanced_grammars,
    balanced_params,
    cyclic_grammar,
    cyclic_grammars,
    grammar_seeds,
    grammars,
    rhm_params,
    separated_grammars,
    weighted_grammars,
)

__all__ = [
    "SEPARATION_C_MAX",
    "ambiguous_grammars",
    "balanced_grammars",
    "balanced_params",
    "cyclic_grammar",
    "cyclic_grammars",
    "grammar_seeds",
    "grammars",
    "rhm_params",
    "separated_grammars",
    "weighted_grammars",
]
