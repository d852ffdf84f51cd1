"""A grammar specification: which family, which parameters, which seed (one place to choose)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rhm_theory.model.grammar import Grammar, balanced_grammar, random_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.validation import check_choice, check_seed

__all__ = ["GRAMMAR_FAMILIES", "GrammarFamily", "GrammarSpec"]

#: ``random``: the reference recipe of the RHM papers; ``balanced``: exactly balanced.
GrammarFamily = Literal["random", "balanced"]
GRAMMAR_FAMILIES: tuple[GrammarFamily, ...] = ("random", "balanced")


@dataclass(frozen=True)
class GrammarSpec:
    """Everything needed to rebuild a grammar: parameters, family and grammar seed.

    Sweeps, the neural experiments and the CLI describe grammars by a spec rather than
    choosing a constructor themselves, so the choice is made (and validated) here only.

    Parameters
    ----------
    params : RHMParams
        Model parameters.
    family : {"random", "balanced"}
        Constructor: :func:`random_grammar` or :func:`balanced_grammar`.
    seed : int
        Grammar seed (separate from any data seed).

    Examples
    --------
    >>> spec = GrammarSpec(RHMParams(v=4, m=2, s=2, L=2), "balanced", seed=3)
    >>> spec.build() == balanced_grammar(spec.params, 3)
    True
    """

    params: RHMParams
    family: GrammarFamily = "random"
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.params, RHMParams):
            raise TypeError(f"params must be an RHMParams, got {type(self.params).__name__}")
        check_choice("family", self.family, GRAMMAR_FAMILIES)
        check_seed("seed", self.seed)

    def build(self) -> Grammar:
        """The grammar this spec names (deterministic in the spec)."""
        maker = balanced_grammar if self.family == "balanced" else random_grammar
        return maker(self.params, self.seed)
