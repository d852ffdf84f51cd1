"""The Random Hierarchy Model: parameters, grammars, parsing, tree geometry and sampling."""

from rhm_theory.model.community import (
    community_grammar,
    community_rules,
    community_sample,
    grammar_from_community_rules,
)
from rhm_theory.model.grammar import (
    AMBIGUOUS,
    Grammar,
    balanced_grammar,
    cyclic_grammar,
    random_grammar,
    tuple_codes,
)
from rhm_theory.model.grammar_io import (
    GrammarFileError,
    grammar_from_dict,
    grammar_to_dict,
    load_grammar,
    save_grammar,
)
from rhm_theory.model.params import RHMParams, symbol_dtype, unknown_symbol
from rhm_theory.model.parsing import is_grammatical, parse
from rhm_theory.model.sample_io import write_sample_npz
from rhm_theory.model.sampling import Sample, iter_samples, sample
from rhm_theory.model.spec import (
    GRAMMAR_CONSTRUCTORS,
    GRAMMAR_FAMILIES,
    GrammarConstructor,
    GrammarFamily,
    GrammarSpec,
)
from rhm_theory.model.summary import grammar_summary
from rhm_theory.model.tree import (
    children,
    cousin_positions,
    derivation_tree,
    lca,
    lca_level,
    leaves_under,
    parent,
    position_in_parent,
    siblings,
    tree_distance,
)
from rhm_theory.model.weights import (
    lognormal_rule_probs,
    parse_root_probs,
    parse_rule_probs,
    zipf_probs,
    zipf_rule_probs,
)

__all__ = [
    "AMBIGUOUS",
    "GRAMMAR_CONSTRUCTORS",
    "GRAMMAR_FAMILIES",
    "Grammar",
    "GrammarConstructor",
    "GrammarFamily",
    "GrammarFileError",
    "GrammarSpec",
    "RHMParams",
    "Sample",
    "balanced_grammar",
    "children",
    "community_grammar",
    "community_rules",
    "community_sample",
    "cousin_positions",
    "cyclic_grammar",
    "derivation_tree",
    "grammar_from_community_rules",
    "grammar_from_dict",
    "grammar_summary",
    "grammar_to_dict",
    "is_grammatical",
    "iter_samples",
    "lca",
    "lca_level",
    "leaves_under",
    "load_grammar",
    "lognormal_rule_probs",
    "parent",
    "parse",
    "parse_root_probs",
    "parse_rule_probs",
    "position_in_parent",
    "random_grammar",
    "sample",
    "save_grammar",
    "siblings",
    "symbol_dtype",
    "tree_distance",
    "tuple_codes",
    "unknown_symbol",
    "write_sample_npz",
    "zipf_probs",
    "zipf_rule_probs",
]
