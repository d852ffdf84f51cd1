"""
Bayes-optimal inference with belief propagation
===============================================

An observer who knows the grammar computes exact posteriors by belief propagation (BP) on the
tree. Its scores are the ceiling of every learner: here the root classifier and the
masked-token predictor at growing mask fractions, and the root from noisy leaves below and
above the annealed map's threshold ``eps*``.
"""

from rhm_theory import RHMParams, random_grammar, sample
from rhm_theory.bounds import annealed_noise_threshold
from rhm_theory.inference import (
    bayes_masked_token_baseline,
    bayes_root_baseline,
    belief_propagation,
)

params = RHMParams(v=8, m=2, s=2, L=4)
grammar = random_grammar(params, seed=0)

# %%
# Posteriors of one fully observed string: the root is certain, and ``log_evidence`` is
# the exact log-probability of the string.

data = sample(grammar, 1, seed=1)
posterior = belief_propagation(grammar, data.tokens)
print("root posterior max:", posterior.root.max().round(6))
print("log P(string):", posterior.log_evidence.round(4))

# %%
# Root and masked-token accuracy of the Bayes-optimal observer (2,000 fresh strings).

for frac in (0.25, 0.5, 0.75):
    root = bayes_root_baseline(grammar, 2000, seed=2, mask_frac=frac)
    tok = bayes_masked_token_baseline(grammar, 2000, seed=2, mask_frac=frac)
    print(f"mask {frac:.2f}: root accuracy {root.accuracy:.3f}, "
          f"masked tokens accuracy {tok.accuracy:.3f} (cross-entropy {tok.cross_entropy:.3f})")

# %%
# Root accuracy from ``eps``-noisy leaves, next to the annealed map's threshold.

print("eps* =", round(float(annealed_noise_threshold(params.v, params.m, params.s)), 3))
for eps in (0.1, 0.3, 0.5, 0.7):
    score = bayes_root_baseline(grammar, 2000, seed=3, noise=eps)
    print(f"eps {eps:.1f}: root accuracy {score.accuracy:.3f} (chance {1 / params.n_c:.3f})")
