"""The Random Hierarchy Model: parameters, grammars, parsing, tree geometry and sampling.

Public names resolve on first access from their submodule, so that ``import
rhm_theory.model`` (and the CLI's start) stays light: numba loads with the sampler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        set_origin,
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
    "set_origin",
    "siblings",
    "symbol_dtype",
    "tree_distance",
    "tuple_codes",
    "unknown_symbol",
    "write_sample_npz",
    "zipf_probs",
    "zipf_rule_probs",
]

#: Public name -> submodule that defines it.
_LAZY: dict[str, str] = {
    "community_grammar": "community",
    "community_rules": "community",
    "community_sample": "community",
    "grammar_from_community_rules": "community",
    "AMBIGUOUS": "grammar",
    "Grammar": "grammar",
    "balanced_grammar": "grammar",
    "cyclic_grammar": "grammar",
    "random_grammar": "grammar",
    "set_origin": "grammar",
    "tuple_codes": "grammar",
    "GrammarFileError": "grammar_io",
    "grammar_from_dict": "grammar_io",
    "grammar_to_dict": "grammar_io",
    "load_grammar": "grammar_io",
    "save_grammar": "grammar_io",
    "RHMParams": "params",
    "symbol_dtype": "params",
    "unknown_symbol": "params",
    "is_grammatical": "parsing",
    "parse": "parsing",
    "write_sample_npz": "sample_io",
    "Sample": "sampling",
    "iter_samples": "sampling",
    "sample": "sampling",
    "GRAMMAR_CONSTRUCTORS": "spec",
    "GRAMMAR_FAMILIES": "spec",
    "GrammarConstructor": "spec",
    "GrammarFamily": "spec",
    "GrammarSpec": "spec",
    "grammar_summary": "summary",
    "children": "tree",
    "cousin_positions": "tree",
    "derivation_tree": "tree",
    "lca": "tree",
    "lca_level": "tree",
    "leaves_under": "tree",
    "parent": "tree",
    "position_in_parent": "tree",
    "siblings": "tree",
    "tree_distance": "tree",
    "lognormal_rule_probs": "weights",
    "parse_root_probs": "weights",
    "parse_rule_probs": "weights",
    "zipf_probs": "weights",
    "zipf_rule_probs": "weights",
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
