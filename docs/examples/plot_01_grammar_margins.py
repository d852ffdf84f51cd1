"""
A grammar and its exact margins
===============================

Draw a random grammar and compute, from its rule tables alone (no sampling), the separation
margin ``Delta_l`` of every level for the three context kinds: ``latent`` (the cousin
tuples' symbols, what ILC uses), ``token`` (the tokens under the siblings) and ``label``
(the root). The latent margin stays of order ``sqrt(1 - f) / m`` at every level, the token
margin shrinks with the level and the label margin is tiny at low levels.
"""

import matplotlib.pyplot as plt

from rhm_theory import RHMParams, random_grammar
from rhm_theory.exact import context_laws, margin_summary

params = RHMParams(v=16, m=4, s=2, L=5)
grammar = random_grammar(params, seed=0)  # the grammar seed
print(f"f = m / v^(s-1) = {params.f}, P_max = {params.P_max}")

# %%
# The exact margins, level by level (levels ``1 .. L-1`` have a parent to recover):

margins = {}
for kind in ("latent", "token", "label"):
    margins[kind] = [margin_summary(context_laws(grammar, level, kind)).margin_min
                     for level in range(1, params.L)]
    print(kind.ljust(6), " ".join(f"{d:.4f}" for d in margins[kind]))

# %%
# The same numbers as a figure:

levels = list(range(1, params.L))
fig, ax = plt.subplots(figsize=(5, 3.2))
for kind, values in margins.items():
    ax.plot(levels, values, marker="o", label=kind)
ax.set_xlabel("level l")
ax.set_ylabel("exact margin Delta_l")
ax.set_yscale("log")
ax.set_xticks(levels)
ax.legend()
fig.tight_layout()
