"""Finite-size predictions with rule weights: the rarest tuple's exact weighted noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.bounds import threshold_prediction, threshold_prediction_from_laws
from rhm_theory.empirical import context_vector_error_curves
from rhm_theory.exact import context_laws, margin_summary
from rhm_theory.model import Grammar, GrammarSpec, RHMParams
from rhm_theory.testing import weighted_grammars


@given(weighted_grammars(max_v=5, max_m=3, min_L=2, max_L=3),
       st.sampled_from(["latent", "token", "label"]), st.data())  # fmt: skip
@settings(max_examples=40, deadline=None)
def test_weighted_threshold_follows_its_definition(
    g: Grammar, context: str, data: st.DataObject
) -> None:
    """P* = max over emitted tuples t = (a, r) of sum_j noise[j,a] / (w[j,a] w_a(r)), over
    (Delta/2)^2, recomputed with explicit loops."""
    level = data.draw(st.integers(1, g.params.L - 1))
    laws = context_laws(g, level, context)
    W = g.rule_probs_of(level)
    best = -1.0
    for a in np.flatnonzero(laws.present):
        base = 0.0
        for j in range(g.params.s):
            w = laws.weights[j, a]
            if w > 0:
                base += sum(1.0 - float(laws.blocks[j, k, a] @ laws.blocks[j, k, a])
                            for k in range(laws.n_blocks)) / w  # fmt: skip
        for r in range(g.params.m):
            if W[a, r] > 0:
                best = max(best, base / W[a, r])
    pred = threshold_prediction(g, level, context)
    assert pred.error_coefficient == pytest.approx(best, rel=1e-12, abs=1e-15)
    delta = margin_summary(laws).margin_min
    if 0 < delta < math.inf:
        assert pred.threshold == pytest.approx(best / (delta / 2) ** 2, rel=1e-12)
    assert threshold_prediction_from_laws(laws) == pred


def test_uniform_numbers_unchanged_and_m_checked() -> None:
    g = GrammarSpec(RHMParams(v=6, m=3, s=2, L=3), seed=0).build()
    laws = context_laws(g, 1, "latent")
    pred = threshold_prediction_from_laws(laws, 3)
    # Uniform: c = m * sum_j noise / w exactly (the pre-weights formula, same float ops).
    noise, w = laws.noise_per_occurrence(), laws.weights
    c = 3 * np.divide(noise, w, out=np.zeros_like(noise), where=w > 0).sum(axis=0)
    assert pred.error_coefficient == float(c.max()) and pred.rarest_rule_prob == 1 / 3
    with pytest.raises(ValueError, match="m must equal the laws' number of rules 3"):
        threshold_prediction_from_laws(laws, 2)


def test_zipf_weights_raise_the_threshold_by_the_rarest_rule() -> None:
    p = RHMParams(v=6, m=3, s=2, L=3)
    uni = threshold_prediction(GrammarSpec(p, seed=0).build(), 1)
    zipf = threshold_prediction(GrammarSpec(p, seed=0, rule_probs="zipf:2@1").build(), 1)
    # Level-1 weights only: same margin (the context laws of level 1 depend on level-1
    # rules only through the cousins' children, whose law changes), rarest rule 3**-3 / Z.
    w_min = 3.0**-3 / sum(r**-3.0 for r in (1, 2, 3))
    assert zipf.rarest_rule_prob == pytest.approx(w_min, rel=1e-12)
    assert zipf.error_coefficient > uni.error_coefficient


def test_weighted_error_curve_matches_exact_noise() -> None:
    """Measured mean squared error of the tuples' context vectors equals the exact weighted
    prediction sum_j noise / (P w[j,a] w_a(r)) within 15% (2 data seeds, the smallest tuple
    seen ~200 times at P = 20000: relative fluctuation of the mean well below 15%)."""
    p = RHMParams(v=6, m=3, s=2, L=3)
    g = GrammarSpec(p, seed=1, rule_probs="zipf:1", root_probs="zipf:0.5").build()
    curves = context_vector_error_curves(
        (6, 3, 2, 3), 1, [20000], [1, 2], contexts=("latent",), levels=[1], grammar=g
    )
    (curve,) = curves
    assert curve.measured[0] == pytest.approx(curve.predicted[0], rel=0.15)
    # Negative control: the uniform-weight formula (each tuple w[j, a] / m times) applied to
    # the same grammar misses the Zipf noise of the rare tuples.
    laws = context_laws(g, 1, "latent")
    noise, w = laws.noise_per_occurrence(), laws.weights
    per_symbol = np.divide(noise, w / 3, out=np.zeros_like(noise), where=w > 0).sum(axis=0)
    uniform_pred = float(per_symbol[laws.present].mean()) / 20000
    assert abs(uniform_pred - curve.measured[0]) > 0.15 * curve.measured[0]
