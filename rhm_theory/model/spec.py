"""A grammar specification: which family, which parameters, which seed (one place to choose)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rhm_theory.model.community import community_grammar
from rhm_theory.model.grammar import Grammar, balanced_grammar, cyclic_grammar, random_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.weights import parse_root_probs, parse_rule_probs
from rhm_theory.validation import check_choice, check_float, check_seed

__all__ = [
    "GRAMMAR_CONSTRUCTORS",
    "GRAMMAR_FAMILIES",
    "GrammarConstructor",
    "GrammarFamily",
    "GrammarSpec",
]

#: A family's name: a key of :data:`GRAMMAR_CONSTRUCTORS` (validated against it, not typed as
#: a ``Literal``, so that a new family is one registry entry and no other edit).
GrammarFamily = str


@dataclass(frozen=True)
class GrammarConstructor:
    """How a registered family builds its grammar.

    Parameters
    ----------
    build : callable
        ``(params, seed) -> Grammar``, deterministic in its arguments.
    summary : str
        One line for ``--help`` texts and the docs.
    build_ambiguous : callable, optional
        ``(params, seed, ambiguity) -> Grammar`` for families that can share right-hand
        sides between parents (``ambiguity > 0``); ``None``: the family has no such grammars.
    """

    build: Callable[[RHMParams, int], Grammar]
    summary: str
    build_ambiguous: Callable[[RHMParams, int, float], Grammar] | None = None


def _random_ambiguous(params: RHMParams, seed: int, ambiguity: float) -> Grammar:
    return random_grammar(params, seed, ambiguity=ambiguity)


#: The registry of grammar families ``{family: constructor}``: every cell type (sweep, explore,
#: neural run), the learners and the CLI's ``--family`` take their choices from it. Adding a
#: family = its constructor (``rhm_theory.model.grammar``) + one entry here.
GRAMMAR_CONSTRUCTORS: dict[GrammarFamily, GrammarConstructor] = {
    "random": GrammarConstructor(
        random_grammar, "the reference recipe of the RHM papers (rules drawn uniformly)",
        _random_ambiguous),
    "balanced": GrammarConstructor(
        balanced_grammar, "random and exactly balanced (needs v | n_c m)"),
    "cyclic": GrammarConstructor(
        cyclic_grammar, "deterministic Latin design, balanced when v | n_c m (seed ignored)"),
    "community": GrammarConstructor(
        community_grammar,
        "the rules sample_rules(v, n_c, m, s, L, seed) of the community's PyTorch dataset"),
}
#: The registered family names, in registry order (``random`` first: the default).
GRAMMAR_FAMILIES: tuple[GrammarFamily, ...] = tuple(GRAMMAR_CONSTRUCTORS)


@dataclass(frozen=True)
class GrammarSpec:
    """Everything needed to rebuild a grammar: parameters, family, seed, weights, ambiguity.

    Sweeps, the neural experiments and the CLI describe grammars by a spec rather than
    choosing a constructor themselves, so the choice is made (and validated) here only.

    Parameters
    ----------
    params : RHMParams
        Model parameters.
    family : str, default "random"
        A key of :data:`GRAMMAR_CONSTRUCTORS` (``random``: :func:`random_grammar`,
        ``balanced``: :func:`balanced_grammar`, ...).
    seed : int
        Grammar seed (separate from any data seed).
    rule_probs : str, default "uniform"
        Rule weights (:func:`rhm_theory.model.weights.parse_rule_probs`): ``uniform``,
        ``zipf:A[@levels]`` or ``lognormal:SIGMA[:SEED][@levels]`` (seeded by ``seed``).
    root_probs : str, default "uniform"
        Root prior (:func:`rhm_theory.model.weights.parse_root_probs`): ``uniform``,
        ``zipf:A`` or ``explicit:p0,p1,...``.
    ambiguity : float, default 0.0
        Fraction of right-hand sides shared with another parent (only families with a
        ``build_ambiguous`` constructor: ``random``, see :func:`random_grammar`).

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
        if eps > 0 and GRAMMAR_CONSTRUCTORS[self.family].build_ambiguous is None:
            able = tuple(f for f, c in GRAMMAR_CONSTRUCTORS.items() if c.build_ambiguous)
            raise ValueError(
                f"ambiguity > 0 needs a family with shared right-hand sides {able}, got "
                f"family={self.family!r}"
            )
        # Parse now so that a bad spec fails here, not in a worker.
        parse_rule_probs(self.rule_probs, self.params, self.seed)
        parse_root_probs(self.root_probs, self.params)

    def build(self) -> Grammar:
        """The grammar this spec names (deterministic in the spec)."""
        constructor = GRAMMAR_CONSTRUCTORS[self.family]
        if self.ambiguity > 0 and constructor.build_ambiguous is not None:
            grammar = constructor.build_ambiguous(self.params, self.seed, self.ambiguity)
        else:
            grammar = constructor.build(self.params, self.seed)
        rule = parse_rule_probs(self.rule_probs, self.params, self.seed)
        root = parse_root_probs(self.root_probs, self.params)
        if rule is None and root is None:
            return grammar
        return grammar.with_probs(rule_probs=rule, root_probs=root)
