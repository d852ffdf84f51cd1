"""Corruptions (masks, noisy channel) and the Bayes-optimal baselines against exact values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rhm_theory.inference import (
    bayes_baselines,
    bayes_latent_baseline,
    bayes_masked_token_baseline,
    bayes_root_baseline,
    noisy_channel,
    random_mask,
)
from rhm_theory.model import RHMParams, random_grammar, sample
from tests._bp_reference import brute_posteriors, enumerate_weighted_trees, leaf_evidence

DELTA = 1e-6


def _hoeffding(n: int, width: float = 1.0, events: int = 1) -> float:
    return width * math.sqrt(math.log(2 * events / DELTA) / (2 * n))


def test_random_mask_counts_blocks_and_reproducibility() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=4), seed=0)
    m = random_mask(g, 500, 0.3, seed=1)
    assert (m.sum(axis=1) == 5).all()  # round(0.3 * 16)
    t = random_mask(g, 200, 0.5, seed=1, block_level=2)
    blocks = t.reshape(200, 4, 4)
    assert (blocks.all(axis=2) | ~blocks.any(axis=2)).all()
    assert (blocks.all(axis=2).sum(1) == 2).all()
    np.testing.assert_array_equal(random_mask(g, 300, 0.3, seed=1, start=200), m[200:])
    # Every position is hidden with probability 5/16 (uniform subsets).
    freq = m.mean(axis=0)
    assert np.abs(freq - 5 / 16).max() <= _hoeffding(500, events=16)


def test_noisy_channel_rate_and_reproducibility() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=4), seed=0)
    x = sample(g, 4000, seed=2).tokens
    y = noisy_channel(g, x, 0.4, seed=3)
    changed = (y != x).mean()
    assert abs(changed - 0.4 * 3 / 4) <= _hoeffding(x.size)
    np.testing.assert_array_equal(noisy_channel(g, x[100:], 0.4, seed=3, start=100), y[100:])
    with pytest.raises(ValueError, match="noise must satisfy"):
        noisy_channel(g, x, 1.5, seed=0)


def test_fully_observed_strings_are_decoded_exactly() -> None:
    g = random_grammar(RHMParams(v=8, m=3, s=2, L=4), seed=1)
    res = bayes_baselines(g, 300, seed=4)
    for score in res.levels:
        assert score is not None and score.accuracy == 1.0 and score.cross_entropy == 0.0
    assert math.isnan(res.masked_tokens.accuracy)
    expected = -math.log(8) - 15 * math.log(3)
    assert abs(res.mean_log_evidence - expected) < 1e-9


def _exact_root_scores(g: object, noise: float) -> tuple[float, float, float]:
    """Bayes root accuracy and cross-entropy by enumerating every tree and observation."""
    p = g.params  # type: ignore[attr-defined]
    levels, prob = enumerate_weighted_trees(g)  # type: ignore[arg-type]
    obs = np.array(list(itertools.product(range(p.v), repeat=p.string_length)))
    post, log_ev, _ = brute_posteriors(g, leaf_evidence(g, obs, None, noise))  # type: ignore[arg-type]
    # P(obs | tree) for every pair, then P(root = a, obs).
    chan = np.where(obs[:, None, :] == levels[0][None], 1 - noise + noise / p.v, noise / p.v)
    joint = prob[None] * chan.prod(axis=2)  # (n_obs, n_trees)
    acc, ce, ce_max = 0.0, 0.0, 0.0
    for a in range(p.n_c):
        p_a_obs = joint[:, levels[p.L][:, 0] == a].sum(axis=1)
        pa_post = post[p.L][:, 0, a]
        win = np.argmax(post[p.L][:, 0, :], axis=1) == a
        acc += float(p_a_obs[win].sum())
        keep = p_a_obs > 0
        ce -= float((p_a_obs[keep] * np.log(pa_post[keep])).sum())
        ce_max = max(ce_max, float(-np.log(pa_post[keep]).max()))
    assert abs(np.exp(log_ev).sum() - 1) < 1e-12
    return acc, ce, ce_max


def test_root_baseline_matches_exact_bayes_risk() -> None:
    g = random_grammar(RHMParams(v=3, m=2, s=2, L=2), seed=3)
    acc, ce, ce_max = _exact_root_scores(g, 0.3)
    n = 20000
    score = bayes_root_baseline(g, n, seed=5, noise=0.3)
    assert score.n_scored == n
    assert abs(score.accuracy - acc) <= _hoeffding(n)
    assert abs(score.cross_entropy - ce) <= _hoeffding(n, width=ce_max)


def test_masked_token_and_latent_wrappers() -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=2)
    full = bayes_baselines(g, 400, seed=6, mask_frac=0.25, block_level=1)
    tok = bayes_masked_token_baseline(g, 400, seed=6, mask_frac=0.25, block_level=1)
    assert tok.n_scored == 400 * 4  # 2 of the 8 pairs of each string
    lat = bayes_latent_baseline(g, 400, seed=6, mask_frac=0.25, block_level=1)
    root = bayes_root_baseline(g, 400, seed=6, mask_frac=0.25, block_level=1)
    # Same numbers; chunk sizes differ with the levels asked, so sums may differ in the ulps.
    pairs = [(tok, full.masked_tokens), (root, full.root), *zip(lat, full.levels[1:], strict=True)]
    for a, b in pairs:
        assert b is not None and a.accuracy == b.accuracy and a.n_scored == b.n_scored
        assert a.cross_entropy == pytest.approx(b.cross_entropy, rel=1e-12)
    # Hidden tokens are harder than the average token, and chunking changes nothing.
    assert tok.accuracy < full.levels[0].accuracy  # type: ignore[union-attr]
    again = bayes_baselines(g, 400, seed=6, mask_frac=0.25, block_level=1, chunk_size=33)
    for a, b in zip(again.levels, full.levels, strict=True):
        assert a is not None and b is not None and a.accuracy == b.accuracy
        assert a.cross_entropy == pytest.approx(b.cross_entropy, rel=1e-12)


def test_baseline_bad_input() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    with pytest.raises(ValueError, match="n must satisfy"):
        bayes_baselines(g, 0, seed=1)
    with pytest.raises(ValueError, match="mask_frac must satisfy"):
        bayes_masked_token_baseline(g, 10, seed=1, mask_frac=0.0)
    with pytest.raises(ValueError, match="block_level must satisfy"):
        bayes_baselines(g, 10, seed=1, mask_frac=0.5, block_level=3)
    with pytest.raises(TypeError, match="grammar must be a Grammar"):
        bayes_root_baseline("g", 10, seed=1)  # type: ignore[arg-type]
