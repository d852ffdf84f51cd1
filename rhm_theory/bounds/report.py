"""One document of every bound for a parameter set, and exact predictions for a grammar."""

from __future__ import annotations

from typing import Any

from rhm_theory.bounds.formulas import sample_complexities
from rhm_theory.bounds.predictions import threshold_prediction_from_laws
from rhm_theory.exact.contexts import context_laws, margin_summary
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.validation import CONTEXT_KINDS, check_float

__all__ = ["bounds_report", "grammar_predictions"]


def grammar_predictions(grammar: Grammar) -> dict[str, Any]:
    """Exact finite-size predictions and margins of every level ``1..L-1`` and context.

    Parameters
    ----------
    grammar : Grammar

    Returns
    -------
    dict
        ``{"levels": [row, ...], "tree_threshold": {context: P*}}``. Each row merges
        :meth:`ThresholdPrediction.to_dict` and :meth:`MarginSummary.to_dict`
        (``level, context, predicted_threshold, margin_min, margin_mean, margin_max,
        n_symbols, error_coefficient, rarest_symbol``). ``tree_threshold`` is the max over
        levels (``inf`` if a margin is 0; empty when ``L = 1``).

    Examples
    --------
    >>> from rhm_theory.model import random_grammar
    >>> doc = grammar_predictions(random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0))
    >>> len(doc["levels"]), sorted(doc["tree_threshold"])  # 2 levels x 3 contexts
    (6, ['label', 'latent', 'token'])
    """
    p = grammar.params
    rows: list[dict[str, Any]] = []
    tree: dict[str, float] = {}
    for context in CONTEXT_KINDS:
        for level in range(1, p.L):
            laws = context_laws(grammar, level, context)
            pred = threshold_prediction_from_laws(laws, p.m)
            rows.append({**margin_summary(laws).to_dict(), **pred.to_dict()})
            tree[context] = max(tree.get(context, 0.0), pred.threshold)
    return {"levels": rows, "tree_threshold": tree}


def bounds_report(
    params: RHMParams,
    *,
    delta: float = 0.1,
    C: float = 1.0,
    grammar: Grammar | None = None,
) -> dict[str, Any]:
    """Every closed-form bound of :mod:`rhm_theory.bounds` for ``params`` (and a grammar).

    Parameters
    ----------
    params : RHMParams
        Model parameters.
    delta, C : float
        Failure probability ``0 < delta < 1`` and constant ``C > 0`` of the theorem bound.
    grammar : Grammar, optional
        If given (its parameters must equal ``params``), adds ``"exact"``: the output of
        :func:`grammar_predictions`.

    Returns
    -------
    dict
        ``{"params", "delta", "C", "formulas"[, "exact"]}``.

    Examples
    --------
    >>> doc = bounds_report(RHMParams(v=8, m=2, s=2, L=3))
    >>> doc["formulas"]["latent_sample_complexity"], "exact" in doc
    (64.0, False)
    """
    if not isinstance(params, RHMParams):
        raise TypeError(f"params must be an RHMParams, got {type(params).__name__}")
    delta = check_float("delta", delta, minimum=0.0, maximum=1.0,
                        include_minimum=False, include_maximum=False)
    C = check_float("C", C, minimum=0.0, include_minimum=False)
    doc: dict[str, Any] = {
        "params": params.to_dict(),
        "delta": delta,
        "C": C,
        "formulas": sample_complexities(params.v, params.m, params.s, params.L,
                                        n_c=params.n_c, delta=delta, C=C),
    }
    if grammar is not None:
        if grammar.params != params:
            raise ValueError(f"grammar parameters {grammar.params.to_dict()} differ from "
                             f"params {params.to_dict()}")
        doc["exact"] = grammar_predictions(grammar)
    return doc
