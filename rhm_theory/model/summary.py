"""Key facts of a grammar in one record (what `rhm-theory grammar` prints)."""

from __future__ import annotations

from typing import Any

from rhm_theory.model.grammar import Grammar

__all__ = ["grammar_summary"]


def grammar_summary(grammar: Grammar) -> dict[str, Any]:
    """Key facts of a grammar: parameters, balance, ``f``, ``P_max`` (exact and log), rules.

    Parameters
    ----------
    grammar : Grammar
        The grammar.

    Returns
    -------
    dict
        ``v, m, s, L, n_c, balanced, f, P_max`` (exact int), ``log_P_max`` (natural log),
        ``n_rules`` (all levels), ``string_length``, the token ``dtype``,
        ``uniform_weights`` (rule weights and root prior exactly uniform), ``min_rule_prob``
        (smallest rule weight) and ``ambiguous`` (some tuple has several parents).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> summary = grammar_summary(random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0))
    >>> summary["P_max"], summary["n_rules"], summary["dtype"]  # 8 * 2**7; 16 rules a level
    (1024, 48, 'uint8')
    """
    p = grammar.params
    out: dict[str, Any] = dict(p.to_dict())
    out.update(
        balanced=grammar.is_balanced(),
        f=p.f,
        P_max=p.P_max,
        log_P_max=p.log_P_max,
        n_rules=sum(p.n_rules(level) for level in range(1, p.L + 1)),
        string_length=p.string_length,
        dtype=p.dtype.name,
        uniform_weights=grammar.is_uniform,
        min_rule_prob=float(min(w.min() for w in grammar.rule_probs)),
        ambiguous=grammar.is_ambiguous,
    )
    return out
