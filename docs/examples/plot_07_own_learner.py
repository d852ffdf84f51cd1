"""
Measure your own learner
========================

A new learner in under 40 lines, numpy only: at each level, count how often every
``s``-tuple co-occurs with its sibling tuple (the other child of the same parent node),
embed the tuples by a truncated SVD of their centred conditional frequencies (spectral
clustering), group them into ``v`` clusters with k-means, and lift the sequence to the
cluster ids. It follows the learner protocol: ``fit(tokens, labels=None)`` and
``predict_latents(tokens, level)``.

:func:`rhm_theory.sweeps.measure.measure` then fits it on a ladder of training-set sizes
for every grammar of a grid, reads each curve's threshold ``P*`` (the library's one
definition: first ``P`` where the isotonic fit of the worst level's accuracy reaches 0.95),
fits ``log P* = c + a log v + b log m + d L`` and judges each law with the one decision
rule of :func:`rhm_theory.scaling.assess` (the rule of ``rhm-theory verify``). The grid
here is tiny (so that it runs while the documentation builds) and the calibration short;
the ``quick`` grid of ``rhm-theory measure`` is what decides.
"""

import numpy as np

from rhm_theory.plotting.measure import plot_measurement
from rhm_theory.sweeps.measure import MeasureGrid, measure


def kmeans(x, k, iters=20):
    centres = [x[0]]  # farthest-point start: one centre per well-separated group
    for _ in range(k - 1):
        centres.append(x[((x[:, None] - np.array(centres)[None]) ** 2).sum(-1).min(1).argmax()])
    centres = np.array(centres)
    for _ in range(iters):
        label = ((x[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.array([x[label == j].mean(0) if (label == j).any() else centres[j]
                            for j in range(k)])
    return label


class SpectralLatents:
    """Tuples clustered by the counts of their sibling tuple, level by level."""

    def __init__(self, v, s, L):
        self.v, self.s, self.L = v, s, L

    def _codes(self, seq):  # (n, nodes * s) symbols -> (n, nodes) tuple codes
        t = np.maximum(seq, 0).reshape(len(seq), -1, self.s)
        return (t * self.v ** np.arange(self.s)[::-1]).sum(-1)

    def fit(self, tokens, labels=None):
        self.maps, seq, k = [], np.asarray(tokens, dtype=np.int64), self.v**self.s
        for _ in range(1, self.L):
            codes = self._codes(seq)
            sibling = codes.reshape(len(codes), -1, self.s)[:, :, ::-1].reshape(codes.shape)
            counts = np.zeros((k, k))
            np.add.at(counts, (codes.ravel(), sibling.ravel()), 1)
            seen = np.flatnonzero(counts.sum(1))
            freq = counts[seen] / counts[seen].sum(1, keepdims=True)
            u, sv, _ = np.linalg.svd(freq - freq.mean(0), full_matrices=False)
            table = np.full(k, -1)
            table[seen] = kmeans(u[:, : self.v] * sv[: self.v], self.v)
            self.maps.append(table)
            seq = table[codes]
        return self

    def predict_latents(self, tokens, level):
        seq = np.asarray(tokens, dtype=np.int64)
        for table in self.maps[:level]:
            seq = np.where((seq < 0).reshape(len(seq), -1, self.s).any(-1), -1,
                           table[self._codes(seq)])
        return seq


def factory(cell):  # called with each run's parameters (v, m, s, L, n_c, P, seeds)
    return SpectralLatents(cell.v, cell.s, cell.L)


# %%
# A tiny grid: three ``(v, m)``, two depths, two grammar seeds; ``workers=1`` runs the
# curves in this process (a factory defined in a script needs no pickling then).

grid = MeasureGrid(vms=((8, 2), (16, 2), (12, 3)), Ls=(3, 4), seeds=(0, 1), max_P=2**13,
                   n_test=500)
result = measure(factory, grid, name="spectral", workers=1, progress=False, n_sim=20)
for t in result.thresholds:
    p, th = t.point, t.threshold
    print(f"v={p.v:2d} m={p.m} L={p.L} seed={p.grammar_seed}: {th.kind:10s} "
          f"P* = {th.P_star:.0f} (last crossing {th.last_crossing:.0f})")
fit = result.comparison.fit
if fit is not None:
    for k in "abd":
        print(f"{k} = {fit.coef[k]:.2f}  [{fit.low[k]:.2f}, {fit.high[k]:.2f}]")
for a in result.comparison.assessments:
    print(f"{a.claim.label}: {a.decision.decision}; {a.decision.sentence()}")
print(result.comparison.statement())

# %%
# Accuracy of the worst level against ``P`` rescaled by the law the rule favours:

fig = plot_measurement(result.rows, result.comparison.best_law() or "v m^3 / (1-f)",
                       title="spectral learner, tiny grid")
