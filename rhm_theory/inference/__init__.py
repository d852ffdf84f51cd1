"""Exact Bayes-optimal inference on the RHM: belief propagation, posterior sampling, baselines."""

from rhm_theory.inference.bp import (
    Posterior,
    belief_propagation,
    iter_belief_propagation,
    packed_grammar,
    prepare_evidence,
    sample_posterior,
)

__all__ = [
    "Posterior",
    "belief_propagation",
    "iter_belief_propagation",
    "packed_grammar",
    "prepare_evidence",
    "sample_posterior",
]
