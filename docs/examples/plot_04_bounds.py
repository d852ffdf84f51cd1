"""
The bounds table
================

The closed-form sample complexities of the three objectives for growing depth: predicting
your own latents (``v m^3``, flat in ``L``), token-level self-supervision (every level of
the tree, ``v m^(L+1)``) and supervised learning (``v m^L``), with the theorem's bound for
ILC; then the exact finite-size thresholds ``P*_l`` of one grammar, computed from its rule
tables.
"""

from rhm_theory import RHMParams, random_grammar
from rhm_theory.bounds import latent_sample_complexity, predicted_thresholds, sample_complexities

v, m, s = 16, 4, 2
columns = {
    "latent": "latent_sample_complexity",
    "token SSL": "token_ssl_tree_sample_complexity",
    "supervised": "supervised_sample_complexity",
    "theorem": "theorem_bound",
}
print(f"{'L':>2}" + "".join(f"{name:>13}" for name in columns))
for L in range(2, 8):
    formulas = sample_complexities(v, m, s, L)
    print(f"{L:>2}" + "".join(f"{formulas[key]:>13.4g}" for key in columns.values()))

# %%
# Exact finite-size thresholds of one grammar, level by level, in units of ``v m^3``:

grammar = random_grammar(RHMParams(v=v, m=m, s=s, L=5), seed=0)
scale = float(latent_sample_complexity(v, m))
for level, p_star in enumerate(predicted_thresholds(grammar), start=1):
    print(f"level {level}: P*_l = {p_star:8.0f} = {p_star / scale:.2f} v m^3")
