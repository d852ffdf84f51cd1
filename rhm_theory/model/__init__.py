"""The Random Hierarchy Model: parameters, grammars, parsing, tree geometry and sampling."""

from rhm_theory.model.grammar import Grammar, balanced_grammar, random_grammar, tuple_codes
from rhm_theory.model.params import RHMParams, symbol_dtype

__all__ = [
    "Grammar",
    "RHMParams",
    "balanced_grammar",
    "random_grammar",
    "symbol_dtype",
    "tuple_codes",
]
