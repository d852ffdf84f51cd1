"""
Where exact inference breaks: density evolution and the phase diagram
=====================================================================

Density evolution follows the law of BP's upward messages level by level (population
dynamics): below the threshold ``eps_c`` the true symbol's mean posterior flows to 1 with
depth, above it to the prior. Bisection on ``eps`` gives ``eps_c`` with an interval; the
PNAS mean-field map's ``eps*`` is printed beside it. The full diagram (``v`` up to 128,
``s`` = 2 and 3, five grammar seeds) is made by ``rhm-theory threshold --diagram DIR``
(docs/bp.md); this example uses small populations so that it runs in seconds.
"""

import matplotlib.pyplot as plt

from rhm_theory import RHMParams, random_grammar
from rhm_theory.inference.population_dynamics import (
    density_evolution,
    inference_threshold,
    mean_field_threshold,
)

grammar = random_grammar(RHMParams(v=16, m=4, s=2, L=8), seed=0)

# %%
# The flow of the mean posterior of the true symbol, below and above the threshold.

fig, ax = plt.subplots(figsize=(5, 3.5))
for eps in (0.25, 0.30, 0.34, 0.40):
    de = density_evolution(grammar, "noise", eps, n_pop=300, seed=1, depth=30)
    ax.plot(range(1, de.depth + 1), de.mean_posterior, marker=".", label=f"eps = {eps}")
ax.axhline(1 / 16, color="grey", ls=":", label="prior 1/v")
ax.set_xlabel("level l")
ax.set_ylabel("mean posterior of the true symbol")
ax.legend(fontsize=7)
fig.tight_layout()

# %%
# ``eps_c`` along the line ``f = m / v = 1/4`` (s = 2), both channels, against the map.

for v, m in ((8, 2), (16, 4), (32, 8)):
    g = random_grammar(RHMParams(v=v, m=m, s=2, L=8), seed=0)
    for channel in ("noise", "mask"):
        th = inference_threshold(g, channel, tol=0.02, n_pop=max(60, 2400 // v),
                                 confirm=False)
        print(f"v={v:3d} m={m:2d} {channel:5s}: eps_c = {th.eps_c:.3f} "
              f"[{th.lo:.3f}, {th.hi:.3f}]  map eps* = "
              f"{mean_field_threshold(v, m, 2, channel):.3f}")
