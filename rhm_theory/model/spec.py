"""A grammar specification: which family, which parameters, which seed (one place to choose)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rhm_theory.model.grammar import Grammar, balanced_grammar, random_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.weights import parse_root_probs, parse_rule_probs
from rhm_theory.validation import check_choice, check_float, check_seed

__all__ = ["GRAMMAR_FAMILIES", "GrammarFamily", "GrammarSpec"]

#: ``random``: the reference recipe of the RHM papers; ``balanced``: exactly balanced.
GrammarFamily = Literal["random", "balanced"]
GRAMMAR_FAMILIES: tuple[GrammarFamily, ...] = ("random", "balanced")


@dataclass(frozen=True)
class GrammarSpec:
    """Everything needed to rebuild a grammar: parameters, family, seed, weights, ambiguity.

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
    rule_probs : str, default "uniform"
        Rule weights (:func:`rhm_theory.model.weights.parse_rule_probs`): ``uniform``,
        ``zipf:A[@levels]`` or ``lognormal:SIGMA[:SEED][@levels]`` (seeded by ``seed``).
    root_probs : str, default "uniform"
        Root prior (:func:`rhm_theory.model.weights.parse_root_probs`): ``uniform``,
        ``zipf:A`` or ``explicit:p0,p1,...``.
    ambiguity : float, default 0.0
        Fraction of right-hand sides shared with another parent (``random`` family only,
        see :func:`random_grammar`).

    Examples
    --------
    >>> spec = GrammarSpec(RHMParams(v=4, m=2, s=2, L=2), "balanced", seed=3)
    >>> spec.build() == balanced_grammar(spec.params, 3)
    True
    >>> GrammarSpec(spec.params, rule_probs="zipf:1").build().rule_probs_of(1)[0].tolist()
    [0.8, 0.2]
    """

    params: RHMParams
    family: GrammarFamily = "random"
    seed: int = 0
    rule_probs: str = "uniform"
    root_probs: str = "uniform"
    ambiguity: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.params, RHMParams):
            raise TypeError(f"params must be an RHMParams, got {type(self.params).__name__}")
        check_choice("family", self.family, GRAMMAR_FAMILIES)
        check_seed("seed", self.seed)
        eps = check_float("ambiguity", self.ambiguity, minimum=0.0, maximum=0.5)
        if eps > 0 and self.family != "random":
            raise ValueError(
                f"ambiguity > 0 needs family='random' (a balanced design has no shared "
                f"right-hand sides), got family={self.family!r}"
            )
        # Parse now so that a bad spec fails here, not in a worker.
        parse_rule_probs(self.rule_probs, self.params, self.seed)
        parse_root_probs(self.root_probs, self.params)

    def build(self) -> Grammar:
        """The grammar this spec names (deterministic in the spec)."""
        if self.family == "balanced":
            grammar = balanced_grammar(self.params, self.seed)
        else:
            grammar = random_grammar(self.params, self.seed, ambiguity=self.ambiguity)
        rule = parse_rule_probs(self.rule_probs, self.params, self.seed)
        root = parse_root_probs(self.root_probs, self.params)
        if rule is None and root is None:
            return grammar
        return grammar.with_probs(rule_probs=rule, root_probs=root)
