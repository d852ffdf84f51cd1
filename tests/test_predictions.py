"""Exact finite-size predictions: definition, limits, Monte Carlo check and depth scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.bounds import (
    ThresholdPrediction,
    predicted_threshold,
    predicted_thresholds,
    predicted_tree_threshold,
    threshold_prediction,
)
from rhm_theory.empirical import ContextCounts
from rhm_theory.exact import context_laws, margin_summary
from rhm_theory.model import Grammar, RHMParams, random_grammar, tuple_codes
from rhm_theory.model.sampling import sample
from rhm_theory.testing import grammars

KINDS = ("latent", "token", "label")


@given(grammars(max_v=6, max_m=3, min_L=2, max_L=3), st.sampled_from(KINDS),
       st.data())
@settings(max_examples=40, deadline=None)
def test_threshold_follows_its_definition(g: Grammar, kind: str, data: st.DataObject) -> None:
    """P* = max_a m sum_j noise[j,a]/w[j,a] / (Delta/2)^2, recomputed with explicit loops."""
    level = data.draw(st.integers(1, g.params.L - 1))
    laws = context_laws(g, level, kind)
    m = g.params.m
    delta = margin_summary(laws).margin_min
    coeffs = {}
    for a in np.flatnonzero(laws.present):
        c = 0.0
        for j in range(g.params.s):
            w = laws.weights[j, a]
            if w > 0:
                noise = sum(1.0 - float(laws.blocks[j, k, a] @ laws.blocks[j, k, a])
                            for k in range(laws.n_blocks))
                c += noise / (w / m)
        coeffs[int(a)] = c
    expected = max(coeffs.values()) / (delta / 2) ** 2 if delta > 0 else math.inf
    pred = threshold_prediction(g, level, kind)
    assert isinstance(pred, ThresholdPrediction)
    assert pred.margin == delta
    assert pred.error_coefficient == pytest.approx(max(coeffs.values()), rel=1e-12, abs=1e-15)
    assert coeffs[pred.rarest_symbol] == pytest.approx(max(coeffs.values()), rel=1e-12)
    if math.isinf(delta):  # fewer than two present symbols: nothing to separate
        assert pred.threshold == 0.0
    else:
        assert pred.threshold == pytest.approx(expected, rel=1e-12)
    assert predicted_threshold(g, level, kind) == pred.threshold


@given(grammars(max_v=6, max_m=3, min_L=2, max_L=4), st.sampled_from(KINDS))
@settings(max_examples=30, deadline=None)
def test_tree_threshold_is_the_max_over_levels(g: Grammar, kind: str) -> None:
    per_level = predicted_thresholds(g, kind)
    assert len(per_level) == g.params.L - 1
    assert per_level == [predicted_threshold(g, lv, kind) for lv in range(1, g.params.L)]
    assert predicted_tree_threshold(g, kind) == max(per_level)


def test_zero_margin_gives_infinite_threshold() -> None:
    # Two level-1 symbols with identical latent contexts (see test_assumptions).
    g = random_grammar(RHMParams(v=32, m=2, s=2, L=3), seed=4)
    pred = threshold_prediction(g, 1, "latent")
    assert pred.margin == 0.0 and pred.threshold == math.inf
    assert predicted_tree_threshold(g) == math.inf


def test_argument_checks() -> None:
    g1 = random_grammar(RHMParams(v=4, m=2, s=2, L=1), seed=0)
    assert predicted_thresholds(g1) == []
    with pytest.raises(ValueError, match="L >= 2"):
        predicted_tree_threshold(g1)
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    with pytest.raises(ValueError, match="context must be one of"):
        predicted_thresholds(g, "tokens")
    with pytest.raises(ValueError, match="level"):
        predicted_threshold(g, 3)


def test_noise_model_matches_sampled_strings() -> None:
    """Monte Carlo: after P strings, each tuple's empirical block laws have squared error
    sum_j noise[j, a] / n_j (n_j its occurrences at position j), and n_j ~ P w[j, a] / m."""
    g = random_grammar(RHMParams(v=16, m=4, s=2, L=3), seed=5)
    p, level, P = g.params, 2, 20_000
    laws = context_laws(g, level, "latent")
    noise = laws.noise_per_occurrence()
    codes = tuple_codes(g.rules_of(level).reshape(-1, p.s), p.v)
    parents = np.repeat(np.arange(p.vocab(level)), p.m)
    ratios, z_scores = [], []
    for data_seed in range(10):
        acc = ContextCounts(p.s, level, "latent", p.v, p.v)
        acc.update(sample(g, P, seed=data_seed, latents=True).level(level - 1))
        err2, expected = 0.0, 0.0
        for code, a in zip(codes, parents, strict=True):
            for j in range(p.s):
                counts = acc.counts_[j, code].astype(float)  # (n_blocks, v)
                n = counts[0].sum()
                mean_n = P * laws.weights[j, a] / p.m
                if mean_n == 0:
                    assert n == 0
                    continue
                z_scores.append((n - mean_n) / math.sqrt(mean_n))
                err2 += float(((counts / n - laws.blocks[j, :, a]) ** 2).sum())
                expected += noise[j, a] / n
        ratios.append(err2 / expected)
    # Measured: per data seed the pooled ratio is 1 +- 0.07; the mean of 10 is 1 +- 0.025.
    assert abs(float(np.mean(ratios)) - 1.0) < 0.1, ratios
    assert np.max(np.abs(z_scores)) < 5.0  # occurrences are Poisson-like around P w / m


# -- depth dependence (docs/theory.md section 4) -----------------------------------------------
DEPTHS = np.arange(3, 9)
DEPTH_SEEDS = range(30)


@pytest.fixture(scope="module")
def top_thresholds() -> dict[str, np.ndarray]:
    """P* of the top non-root level l = L-1, v=16, m=4, s=2, shape (seeds, depths)."""
    out = {}
    for kind in ("latent", "token"):
        out[kind] = np.array([
            [predicted_threshold(random_grammar(RHMParams(16, 4, 2, int(L)), seed), int(L) - 1,
                                 kind) for L in DEPTHS]
            for seed in DEPTH_SEEDS
        ])
    return out


def _exponent_per_level(thresholds: np.ndarray, m: int = 4) -> np.ndarray:
    """Least-squares slope of log P* against L, per row, in units of log m."""
    slopes = np.polyfit(DEPTHS, np.log(thresholds).T, 1)[0]
    return np.asarray(slopes / np.log(m))


def test_latent_threshold_has_no_depth_trend(top_thresholds: dict[str, np.ndarray]) -> None:
    """Own-latent context: P* of the top level carries no systematic depth dependence.

    Measured (30 seeds, L = 3..8): fitted exponents per level in [-0.079, 0.096] (mean 0.001);
    the geometric mean over seeds varies by a factor 1.15 across depths; per seed,
    max/min over depths ranges 1.21..3.22 (grammar-to-grammar fluctuation of the top
    level's minimum margin, not a trend; see the xfail test below).
    """
    lat = top_thresholds["latent"]
    assert np.all(np.abs(_exponent_per_level(lat)) < 0.15)
    geo = np.exp(np.log(lat).mean(axis=0))
    assert geo.max() / geo.min() < 1.3
    per_seed = lat.max(axis=1) / lat.min(axis=1)
    assert per_seed.max() < 4.0


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "measured: per-seed max/min of the top-level latent P* over L = 3..8 exceeds 2 for 19 "
    "of 30 seeds (median 2.18, max 3.22 at seed 1): each depth adds a freshly drawn top "
    "level whose min margin fluctuates; there is no depth trend"))
def test_latent_threshold_flat_within_factor_2_for_every_seed(
    top_thresholds: dict[str, np.ndarray],
) -> None:
    lat = top_thresholds["latent"]
    assert np.all(lat.max(axis=1) / lat.min(axis=1) <= 2.0)


def test_latent_lower_levels_need_at_most_about_the_top() -> None:
    """Pooling over more nodes makes lower levels cheaper; measured max lower/top = 1.88.

    Over 30 seeds x L = 3..8, some lower level beats the top level in 8.3% of grammars
    (max ratio 1.88): a lower level's smaller margin can outweigh its extra pooling.
    """
    ratios = []
    for seed in range(10):
        for L in DEPTHS:
            th = predicted_thresholds(random_grammar(RHMParams(16, 4, 2, int(L)), seed))
            ratios.append(max(th[:-1]) / th[-1])
    assert max(ratios) < 2.5


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "measured: a lower level needs more samples than the top level for seed 1, L = 7 "
    "(level 5: 9.97e3 vs level 6: 7.35e3, ratio 1.36); 15 of 180 (seed, L) pairs overall"))
def test_latent_lower_levels_never_need_more_than_top_seed_1() -> None:
    th = predicted_thresholds(random_grammar(RHMParams(16, 4, 2, 7), 1))
    assert max(th[:-1]) <= th[-1]


def test_token_threshold_grows_by_m_per_level(top_thresholds: dict[str, np.ndarray]) -> None:
    """Token context: top-level P* grows as m**(1 +- 0.3) per added level.

    Measured (30 seeds): fitted exponent per seed in [0.935, 1.174], mean 1.055, i.e. a factor
    4**1.055 = 4.3 per level at m = 4; the token threshold always exceeds the latent one.
    """
    tok = top_thresholds["token"]
    exps = _exponent_per_level(tok)
    assert np.all(np.abs(exps - 1.0) <= 0.3), exps
    assert np.all(tok >= top_thresholds["latent"] * (1 - 1e-12))
