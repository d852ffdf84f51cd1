"""Calibration of context_vector_concentration: noise fit, simulated curves, PASS rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proofs_checks.concentration import (
    CONCENTRATION_ALTERNATIVES,
    ConcentrationCheck,
    ConcentrationNoise,
    calibrate_concentration,
    concentration_passes,
    fit_concentration_noise,
    simulate_mean_errors,
)
from rhm_theory.validation import check_random_state

P = np.array([2000.0, 8000.0, 32000.0, 128000.0])
EXACT = 80.0 / P  # any curve ~ 1/P: the rule only reads ratios and the slope
BANDS = (ConcentrationCheck.slope_band, ConcentrationCheck.ratio_band)


def test_rule_reads_slope_and_every_ratio() -> None:
    assert concentration_passes(P, EXACT, EXACT, *BANDS).tolist() == [True]
    assert concentration_passes(P, 1.2 * EXACT, EXACT, *BANDS).tolist() == [True]
    assert concentration_passes(P, 2 * EXACT, EXACT, *BANDS).tolist() == [False]
    tilt = EXACT * (P / 16000.0) ** 0.5  # slope -0.5 through the exact noise mid-grid
    assert concentration_passes(P, tilt, EXACT, *BANDS).tolist() == [False]
    one_off = EXACT * np.array([1.0, 1.0, 1.0, 1.3])
    stack = np.stack([EXACT, one_off])
    assert concentration_passes(P, stack, EXACT, *BANDS).tolist() == [True, False]


def test_noise_fit_recovers_the_seed_scatter_and_validates() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 0.15, (400, 4))
    noise = fit_concentration_noise(P, np.exp(x))
    assert noise.sigma_seed == pytest.approx(0.15, rel=0.06)
    assert noise.tau_P < 0.03 and (noise.n_seeds, noise.n_P) == (400, 4)
    # A shared deviation per P (same for every seed) is scatter between P points.
    shared = np.exp(x[:3] * 0.01 + np.array([0.3, -0.3, -0.3, 0.3]))
    assert fit_concentration_noise(P, shared).tau_P > 0.2
    with pytest.raises(ValueError, match="ratios must have shape"):
        fit_concentration_noise(P, np.ones((3, 3)))
    with pytest.raises(ValueError, match="ratios must be positive"):
        fit_concentration_noise(P, -np.ones((3, 4)))


def test_simulated_curves_follow_the_law_with_mean_one_scatter() -> None:
    noise = ConcentrationNoise(0.3, 0.0, 3, 4)
    sim = simulate_mean_errors(P, EXACT, noise, 2.0, -1.0, 20000, check_random_state(1))
    assert sim.shape == (20000, 4)
    # Mean-one scatter: the expected error is the law's (within Monte Carlo error).
    assert np.mean(sim / EXACT, axis=0) == pytest.approx(np.full(4, 2.0), rel=0.01)
    tilt = simulate_mean_errors(P, EXACT, ConcentrationNoise(0.0, 0.0, 3, 4), 1.0, -0.5,
                                1, check_random_state(1))[0]
    assert math.log(tilt[-1] / tilt[0]) == pytest.approx(-0.5 * math.log(64), rel=1e-12)


def test_power_high_and_false_pass_low_at_the_measured_scatter() -> None:
    """At the quick grid's measured scatter (sigma_seed 0.14, three data seeds) the rule
    PASSes the claim in >= 90% of simulated curves and every registered alternative in
    <= 5%; the same seed gives the same rates."""
    noise = ConcentrationNoise(0.14, 0.0, 3, 4)
    power = calibrate_concentration(P, EXACT, noise, *BANDS, n_sim=2000)
    assert power.claim >= 0.9
    assert dict(power.alternatives).keys() == CONCENTRATION_ALTERNATIVES.keys()
    assert power.calibrated and max(fp for _, fp in power.alternatives) <= 0.05
    assert calibrate_concentration(P, EXACT, noise, *BANDS, n_sim=2000) == power


def test_power_low_where_the_scatter_swamps_the_bands() -> None:
    """One data seed with a per-curve scatter of 0.4 in log: the bands are too narrow for
    the claim to PASS often; the calibration says so (power < 0.8, not calibrated)."""
    noise = ConcentrationNoise(0.4, 0.0, 1, 4)
    power = calibrate_concentration(P, EXACT, noise, *BANDS, n_sim=2000)
    assert power.claim < 0.3 and not power.calibrated
    assert "power" in power.reason()


def test_per_seed_curves_average_to_the_pooled_curve() -> None:
    """The check measures one curve per data seed: the same corpora as one call with every
    seed, so their mean is the measured curve of the rule (to round-off)."""
    from rhm_theory.empirical import context_vector_error_curves

    Ps, seeds = [500, 2000], [1, 2]
    (pooled,) = context_vector_error_curves((16, 4, 2, 4), 0, Ps, seeds, contexts=("latent",),
                                            levels=(1,))
    each = [context_vector_error_curves((16, 4, 2, 4), 0, Ps, [ds], contexts=("latent",),
                                        levels=(1,))[0].measured for ds in seeds]
    np.testing.assert_allclose(np.mean(each, axis=0), pooled.measured, rtol=1e-12)
