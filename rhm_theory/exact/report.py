"""One document of a grammar's exact statistics: margins by level and context, correlations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rhm_theory.exact.correlations import token_correlations
from rhm_theory.exact.margins import margin_summaries
from rhm_theory.model.grammar import Grammar
from rhm_theory.validation import CONTEXT_KINDS, check_context

__all__ = ["exact_report"]


def exact_report(
    grammar: Grammar, contexts: Sequence[str] = CONTEXT_KINDS
) -> dict[str, Any]:
    """Exact population statistics of a grammar: margins per level and context, correlations.

    Parameters
    ----------
    grammar : Grammar
    contexts : sequence of {"latent", "token", "label"}
        Context kinds whose margins are reported (default: all three).

    Returns
    -------
    dict
        ``params, f, P_max`` (exact, as a decimal string), ``log_P_max, balanced``,
        ``uniform_weights, ambiguous``,
        ``levels`` (one :meth:`MarginSummary.to_dict` per level ``1..L-1`` and context) and
        ``token_correlation`` (one record per LCA level).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> doc = exact_report(random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0), ["latent"])
    >>> doc["P_max"], [row["level"] for row in doc["levels"]]
    ('512', [1, 2])
    """
    contexts = [check_context(c, "contexts") for c in contexts]
    p = grammar.params
    # Every level and context from one engine (compressed vectors, no token blocks).
    levels = [summ.to_dict() for summ in margin_summaries(grammar, contexts)]
    corr = token_correlations(grammar)
    return {
        "params": p.to_dict(),
        "f": p.f,
        "P_max": str(p.P_max),
        "log_P_max": p.log_P_max,
        "balanced": grammar.is_balanced(),
        "uniform_weights": grammar.is_uniform,
        "ambiguous": grammar.is_ambiguous,
        "levels": levels,
        "token_correlation": [
            {"lca_level": lv, "correlation": float(c)} for lv, c in enumerate(corr, start=1)
        ],
    }
