"""
Iterative Latent Clustering on a sample
=======================================

Sample strings with a data seed (independent of the grammar seed), fit Iterative Latent
Clustering (ILC) and score every non-root level on fresh strings: accuracy under the best
one-to-one relabelling and exact recovery of the tuple-to-parent partition. The number of
training strings is given in units of ``v m^3``, the theory's sample complexity.
"""

import matplotlib.pyplot as plt

from rhm_theory import RHMParams, random_grammar, sample
from rhm_theory.algorithms import IterativeLatentClustering, score_levels

params = RHMParams(v=8, m=2, s=2, L=3)
grammar = random_grammar(params, seed=0)
scale = params.v * params.m**3  # v m^3 = 64

factors = [1, 2, 4, 8, 16, 32]
accuracy = []
for c in factors:
    data = sample(grammar, c * scale, seed=1)  # the data seed
    ilc = IterativeLatentClustering.from_params(params).fit(data.tokens)
    scores = score_levels(ilc, grammar, n_test=500, seed=10**9)
    accuracy.append([s.accuracy for s in scores])
    print(f"P = {c:2d} v m^3: accuracy per level", [round(s.accuracy, 3) for s in scores],
          "exact:", all(s.exact_partition for s in scores))

# %%
# Accuracy of each level against ``P / (v m^3)``:

fig, ax = plt.subplots(figsize=(5, 3.2))
for level in range(params.L - 1):
    ax.plot(factors, [a[level] for a in accuracy], marker="o", label=f"level {level + 1}")
ax.set_xscale("log", base=2)
ax.set_xlabel("P / (v m^3)")
ax.set_ylabel("accuracy")
ax.legend()
fig.tight_layout()
