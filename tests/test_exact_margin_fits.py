"""The margin measurements of the library (exact.margin_fits) and the prediction-vs-naive
bootstrap (scaling.prediction)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import proofs_checks.finite_size as finite_size
import proofs_checks.margin_scaling as margin_scaling
from rhm_theory import scaling
from rhm_theory.exact import margin_fits as margins
from rhm_theory.exact import pair_margins
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.scaling import ThresholdPoint


@pytest.mark.parametrize("name", ["fit_margin_exponents", "margin_records", "separation_fit",
                                  "simulate_records"])
def test_the_margin_check_uses_the_library_objects(name: str) -> None:
    """The names the check module uses are the library's objects, not copies."""
    assert getattr(margin_scaling, name) is getattr(margins, name)


def test_the_scatter_bootstrap_constant_is_the_library_one() -> None:
    assert scaling.N_BOOT_SCATTER == 400


def test_margin_records_are_the_exact_pair_margins() -> None:
    recs = margins.margin_records([(8, 2)], [0, 1], levels=(1, 2))
    assert [(r["seed"], r["level"]) for r in recs] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    pairs = pair_margins(random_grammar(RHMParams(8, 2, 2, 3), seed=1), 2, "latent")
    assert recs[3]["margin"] == float(pairs.min())
    assert recs[3]["margin_median"] == float(np.median(pairs))
    deeper = margins.margin_records([(8, 2)], [0], levels=(3,), L=4)
    assert deeper[0]["margin"] == float(
        pair_margins(random_grammar(RHMParams(8, 2, 2, 4), seed=0), 3, "latent").min())
    with pytest.raises(ValueError):
        margins.margin_records([(4, 8)], [0])


def test_fit_log_linear_by_hand() -> None:
    """Three configurations, two seeds: means, residual scatter and noise model by hand."""
    # log y = 1 + 2 log v, seed deviations +-0.1, configuration residuals (0, +0.3, 0).
    devs = {2: 0.0, 4: 0.3, 8: 0.0}
    recs = [{"v": v, "m": 1, "level": 1, "y": math.exp(1 + 2 * math.log(v) + devs[v] + e)}
            for v in (2, 4, 8) for e in (-0.1, 0.1)]
    fit = margins.fit_log_linear(recs, "y", lambda r: [1.0, math.log(r["v"])])
    x = np.log([2.0, 4.0, 8.0])
    y = 1 + 2 * x + np.array([0.0, 0.3, 0.0])
    slope, icpt = np.polyfit(x, y, 1)
    assert fit.coef == pytest.approx([icpt, slope])
    assert fit.df == 1
    assert fit.sigma_seed == pytest.approx(math.sqrt(0.02))  # var of (-0.1, 0.1), ddof 1
    s2 = float(np.sum((y - icpt - slope * x) ** 2))  # / df = 1
    assert fit.sigma_config == pytest.approx(math.sqrt(s2 - 0.02 / 2))
    est, lo, hi = fit.interval([0.0, 1.0])
    half = 12.706204736174698 * math.sqrt(s2 / float(np.sum((x - x.mean()) ** 2)))
    assert (est, lo, hi) == pytest.approx((slope, slope - half, slope + half))
    # A design the configurations cannot determine: no coefficients, no interval.
    flat = margins.fit_log_linear(recs[:2], "y", lambda r: [1.0, math.log(r["v"])])
    assert np.isnan(flat.coef).all() and math.isnan(flat.interval([0.0, 1.0])[1])


def test_fit_margin_exponents_recovers_the_law() -> None:
    recs = [{"v": v, "m": m, "level": lv, "f": m / v, "seed": 0,
             "margin": (1.5 if lv == 2 else 1.0) * math.sqrt(1 - m / v) / m * v**0.1}
            for v in (16, 32, 64) for m in (2, 4, 8) for lv in (1, 2)]
    fit = margins.fit_margin_exponents(recs)
    assert fit["m"][0] == pytest.approx(-1.0)
    assert fit["one_minus_f"][0] == pytest.approx(0.5)
    assert fit["v"][0] == pytest.approx(0.1)
    assert all(math.isnan(x) for x in margins.fit_margin_exponents([])["m"])


def test_separation_fit_trends() -> None:
    """A ratio ``~ v^0.2 m^-0.1``: trend 0.2 in v, -0.1 + 0.4 along v = m^2."""
    recs = [{"v": k * m * m, "m": m, "level": 1, "f": 1 / (k * m), "seed": 0,
             "margin": math.sqrt(1 - 1 / (k * m)) / m * (k * m * m) ** 0.2 * m**-0.1}
            for m in (4, 6, 8) for k in (1, 2)]
    fit = margins.separation_fit(recs)
    assert fit["v"][0] == pytest.approx(0.2)
    assert fit["diagonal"][0] == pytest.approx(0.3)


def test_simulate_records_follows_the_noise_model() -> None:
    recs = [{"v": v, "m": 1, "level": 1, "y": float(v) * (1.2 if s else 0.8)}
            for v in (2, 4, 8, 16) for s in range(50)]
    fit = margins.fit_log_linear(recs, "y", lambda r: [1.0, math.log(r["v"])])
    sim = margins.simulate_records(fit, [0.0, 1.0], recs, "y", np.random.default_rng(0))
    logs = np.log([r["y"] / r["v"] for r in sim])
    assert abs(float(logs.mean())) < 0.1  # the law around coef = (0, 1)
    assert float(logs.std()) == pytest.approx(fit.sigma_seed, rel=0.2)
    assert recs[0]["y"] == 1.6  # the input is not changed


def test_log_scatter_comparison_flags_the_better_law() -> None:
    rng = np.random.default_rng(2)
    pts = [ThresholdPoint(v, m, 2, 3, 0, g, 5.0 * v * m**3 * math.exp(0.05 * rng.normal()))
           for v in (8, 16, 32) for m in (2, 4) for g in range(3)]
    out = scaling.log_scatter_comparison(
        pts, lambda p: math.log(p.v * p.m**3),
        {"v m^2": lambda p: math.log(p.v * p.m**2)}, seed=0, n_boot=200)
    assert out["n_runs"] == 18 and out["prediction"] < out["naive"]["v m^2"]
    assert out["prediction_better"]["v m^2"] == 1.0 and out["prediction_worse"]["v m^2"] == 0
    censored = [ThresholdPoint(8, 2, 2, 3, 0, 0, math.nan, 1.0, 10.0)] * 3 + pts[:2]
    assert scaling.log_scatter_comparison(censored, math.log, {}) == {"n_runs": 2}
    # finite_size's scatter_comparison is this comparison against K v m^k, k = 3, 2, 4.
    pred = finite_size.scatter_comparison(pts, lambda p: math.log(p.v), seed=4)
    assert list(pred["naive"]) == ["K v m^3", "K v m^2", "K v m^4"]
    assert pred["naive"]["K v m^3"] == pytest.approx(out["prediction"])
