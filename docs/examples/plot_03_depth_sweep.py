"""
A depth sweep and its collapse
==============================

Run ILC on a small grid of cells (depths 2 to 4, two grammars each, ``P`` on octave steps
of ``v m^3``), find the threshold ``P*`` of each depth and plot the accuracy against
``P / (v m^3)``: if ILC's sample complexity is ``v m^3`` whatever the depth, the curves of
all depths fall on each other. (The verification's grids do the same with more ``(v, m)``
pairs, more grammars and deeper trees, and decide with :func:`rhm_theory.scaling.decide`.)
"""

import numpy as np

from rhm_theory.plotting import plot_accuracy_collapsed
from rhm_theory.sweeps import SweepCell, run_sweep
from rhm_theory.sweeps.thresholds import cell_thresholds, summarize_thresholds

v, m = 8, 2
cells = [
    SweepCell("latent", v, m, 2, L, round(c * v * m**3), grammar_seed=seed, data_seed=100 + seed)
    for L in (2, 3, 4)
    for seed in (0, 1)
    for c in 2.0 ** np.arange(-1, 6)
]
# max_workers=1 runs the cells in this process (no pool to start for a handful of cells).
rows = run_sweep(cells, max_workers=1, progress=False)
print(len(cells), "cells,", len(rows), "rows")

# %%
# Thresholds ``P*`` of the success event ``tuple_error`` (at most a fraction 1/8 of each
# level's tuple values misassigned; :data:`rhm_theory.sweeps.thresholds.SUCCESS_EVENTS`),
# read by the one threshold definition (:func:`rhm_theory.scaling.threshold_from_curve`),
# geometric mean over grammars:

for s in summarize_thresholds(cell_thresholds(rows, event="tuple_error")):
    print(f"L = {s.L}: P* = {s.P_star:7.0f} = {s.P_star / (v * m**3):5.2f} v m^3")

# %%
# The collapse plot (one panel per level):

fig = plot_accuracy_collapsed(rows)
