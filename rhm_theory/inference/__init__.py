"""Exact Bayes-optimal inference on the RHM: belief propagation, posterior sampling, baselines."""

from rhm_theory.inference.baselines import (
    BayesBaselines,
    BayesScore,
    bayes_baselines,
    bayes_latent_baseline,
    bayes_masked_token_baseline,
    bayes_root_baseline,
)
from rhm_theory.inference.bp import (
    Posterior,
    belief_propagation,
    iter_belief_propagation,
    packed_grammar,
    prepare_evidence,
    sample_posterior,
)
from rhm_theory.inference.corruption import noisy_channel, random_mask

__all__ = [
    "BayesBaselines",
    "BayesScore",
    "Posterior",
    "bayes_baselines",
    "bayes_latent_baseline",
    "bayes_masked_token_baseline",
    "bayes_root_baseline",
    "belief_propagation",
    "iter_belief_propagation",
    "noisy_channel",
    "packed_grammar",
    "prepare_evidence",
    "random_mask",
    "sample_posterior",
]
