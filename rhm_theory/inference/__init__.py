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
from rhm_theory.inference.population_dynamics import (
    DensityEvolution,
    Threshold,
    density_evolution,
    inference_threshold,
    mask_threshold_context,
    mask_threshold_for,
    mean_field_threshold,
)

__all__ = [
    "BayesBaselines",
    "BayesScore",
    "DensityEvolution",
    "Posterior",
    "Threshold",
    "bayes_baselines",
    "bayes_latent_baseline",
    "bayes_masked_token_baseline",
    "bayes_root_baseline",
    "belief_propagation",
    "density_evolution",
    "inference_threshold",
    "iter_belief_propagation",
    "mask_threshold_context",
    "mask_threshold_for",
    "mean_field_threshold",
    "noisy_channel",
    "packed_grammar",
    "prepare_evidence",
    "random_mask",
    "sample_posterior",
]
