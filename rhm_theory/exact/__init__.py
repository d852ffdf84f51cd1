"""Exact population statistics of an RHM, computed from the rule tables (no sampling)."""

from rhm_theory.exact.contexts import (
    CONTEXT_KINDS,
    ContextKind,
    ContextLaws,
    MarginSummary,
    block_layout,
    context_laws,
    context_vectors,
    margin_summary,
    pairwise_distances,
    pairwise_margins,
)
from rhm_theory.exact.correlations import (
    node_marginals_at_level,
    token_correlation,
    token_correlations,
)
from rhm_theory.exact.margins import (
    compressed_context_vectors,
    margin_summaries,
    pair_margins,
)
from rhm_theory.exact.report import exact_report
from rhm_theory.exact.transitions import (
    child_matrices,
    descendant_laws,
    joint_law,
    level_weights,
    node_marginal,
    path_product,
    pooled_sibling_joint,
    root_to_level_sums,
    sibling_joint,
)
from rhm_theory.exact.tuples import tuple_context_vectors

__all__ = [
    "CONTEXT_KINDS",
    "ContextKind",
    "ContextLaws",
    "MarginSummary",
    "block_layout",
    "child_matrices",
    "compressed_context_vectors",
    "context_laws",
    "context_vectors",
    "descendant_laws",
    "exact_report",
    "joint_law",
    "level_weights",
    "margin_summaries",
    "margin_summary",
    "node_marginal",
    "node_marginals_at_level",
    "pair_margins",
    "pairwise_distances",
    "pairwise_margins",
    "path_product",
    "pooled_sibling_joint",
    "root_to_level_sums",
    "sibling_joint",
    "token_correlation",
    "token_correlations",
    "tuple_context_vectors",
]
