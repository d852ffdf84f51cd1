"""The two margin checks: rules driven to each verdict, calibration, coverage, real controls."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from proofs_checks import all_checks
from proofs_checks._framework import Verdict
from proofs_checks.margin_scaling import (
    SEPARATION_MARGIN,
    MarginTypicalScalingCheck,
    SeparationCheck,
    fit_margin_exponents,
    margin_records,
    separation_fit,
    separation_power,
    separation_verdict,
    typical_power,
    typical_verdict,
)

Law = Callable[[int, int], float]
TYPICAL_CONFIGS = [(v, m) for v in (16, 32, 64, 128) for m in (2, 3, 4, 6, 8) if m < v]
SEP_CONFIGS = [(k * m * m, m) for m in (4, 6, 8, 12, 16) for k in (1, 2)]


def _records(configs: list[tuple[int, int]], law: Law, noise: float, seed: int = 0,
             seeds: int = 3, config_noise: float = 0.0) -> list[dict[str, Any]]:
    """Synthetic margin records: ``law(v, m)`` times log-normal seed and config noise."""
    rng = np.random.default_rng(seed)
    out = []
    for v, m in configs:
        for level in (1, 2):
            u = config_noise * rng.standard_normal()
            for sd in range(seeds):
                val = law(v, m) * (1.3 if level == 2 else 1.0) * \
                    math.exp(u + noise * rng.standard_normal())
                out.append({"v": v, "m": m, "seed": sd, "level": level, "f": m / v,
                            "margin": val, "margin_mean": val,
                            "margin_median": val * 0.98})
    return out


def claim(v: int, m: int) -> float:
    return math.sqrt(1 - m / v) / m


# -- (a) typical margin -----------------------------------------------------------------------
def test_typical_rule_pass_fail_inconclusive() -> None:
    assert typical_verdict(_records(TYPICAL_CONFIGS, claim, 0.02)) is Verdict.PASS
    assert typical_verdict(_records(
        TYPICAL_CONFIGS, lambda v, m: math.sqrt(1 - m / v) * m**-0.75, 0.02)) is Verdict.FAIL
    assert typical_verdict(_records(
        TYPICAL_CONFIGS, lambda v, m: 1.0 / m, 0.02)) is Verdict.FAIL  # no sqrt(1-f)
    # Large scatter between configurations: -1 and a rival both inside the interval.
    wide = _records(TYPICAL_CONFIGS, claim, 0.3, config_noise=0.3)
    assert typical_verdict(wide) is Verdict.INCONCLUSIVE
    # Too few configurations for any interval.
    assert typical_verdict(_records([(16, 2), (32, 3)], claim, 0.02)) is Verdict.INCONCLUSIVE


def test_typical_calibration_power_and_false_pass() -> None:
    power = typical_power(_records(TYPICAL_CONFIGS, claim, 0.02, config_noise=0.02), n_sim=60)
    assert power.claim >= 0.8 and power.calibrated
    assert {n for n, _ in power.alternatives} >= {"sqrt(1-f) m^-0.75", "sqrt(1-f) m^-1.25"}
    noisy = typical_power(_records(TYPICAL_CONFIGS, claim, 0.3, config_noise=0.3), n_sim=60)
    assert not noisy.calibrated  # the wide grid cannot confirm the claim


def test_typical_interval_coverage() -> None:
    """95% t intervals of the exponent of m cover the truth in >= 93% of simulated grids."""
    hits, n = 0, 300
    for k in range(n):
        recs = _records(TYPICAL_CONFIGS, claim, 0.05, seed=1000 + k, config_noise=0.03)
        _, lo, hi = fit_margin_exponents(recs, "margin_mean")["m"]
        hits += lo <= -1.0 <= hi
    assert hits / n >= 0.93, hits / n


# -- (b) separation ---------------------------------------------------------------------------
def test_separation_rule_pass_fail_inconclusive() -> None:
    flat = _records(SEP_CONFIGS, lambda v, m: 2.0 * claim(v, m), 0.05)
    assert separation_verdict(separation_fit(flat)) is Verdict.PASS
    decaying = _records(SEP_CONFIGS, lambda v, m: 2.0 * claim(v, m) * m**-0.5, 0.05)
    assert separation_verdict(separation_fit(decaying)) is Verdict.FAIL
    in_v = _records(SEP_CONFIGS, lambda v, m: 2.0 * claim(v, m) * v**-0.3 * m**0.6, 0.05)
    assert separation_verdict(separation_fit(in_v)) is Verdict.FAIL
    # Deterministic scatter of +-0.5 in log, an interaction of k and m orthogonal to the
    # trends (no trend): neither decay rejected nor excluded.
    pattern = {4: 1.0, 6: -1.0, 8: -1.0, 12: 1.0, 16: 1.0}
    sign = {(v, m): pattern[m] * (1.0 if v == m * m else -1.0) for v, m in SEP_CONFIGS}
    wide = _records(SEP_CONFIGS, lambda v, m: 2.0 * claim(v, m) * math.exp(0.5 * sign[v, m]),
                    0.0)
    assert separation_verdict(separation_fit(wide)) is Verdict.INCONCLUSIVE
    zero = [{**r, "margin": 0.0} if r["m"] == 16 else r for r in flat]  # floored, not dropped
    assert separation_verdict(separation_fit(zero)) is Verdict.FAIL


def test_separation_calibration() -> None:
    power = separation_power(_records(SEP_CONFIGS, lambda v, m: 2.0 * claim(v, m), 0.05,
                                      config_noise=0.03), n_sim=60)
    assert power.claim >= 0.8 and power.calibrated
    assert any(str(SEPARATION_MARGIN) in n for n, _ in power.alternatives)
    noisy = separation_power(_records(SEP_CONFIGS, lambda v, m: 2.0 * claim(v, m), 0.8,
                                      config_noise=0.8), n_sim=60)
    assert not noisy.calibrated


# -- real data: the controls FAIL on their own data -------------------------------------------
def test_typical_control_fails_on_token_context() -> None:
    configs = [(v, m) for v in (16, 32, 64) for m in (2, 3, 4, 6, 8) if m < v]
    token = margin_records(configs, [0, 1], "token", levels=(2,))
    assert typical_verdict(token) is Verdict.FAIL


def test_separation_control_fails_on_token_context() -> None:
    configs = [(k * m * m, m) for m in (4, 6, 8, 12) for k in (1, 2)]
    token = margin_records(configs, [0, 1], "token", levels=(2,))
    assert separation_verdict(separation_fit(token)) is Verdict.FAIL


def test_margin_records_validate() -> None:
    with pytest.raises(ValueError, match="m must satisfy"):
        margin_records([(4, 8)], [0])


def test_registered_in_place_of_the_old_check() -> None:
    names = [c.name for c in all_checks()]
    assert "margin_typical_scaling" in names and "separation_of_random_grammars" in names
    assert "margin_scaling" not in names


@pytest.mark.slow
def test_quick_grid_checks_report_power_and_controls() -> None:
    for check in (MarginTypicalScalingCheck(), SeparationCheck()):
        result = check.evaluate([], "quick")
        assert result.power is not None and result.power.n_sim > 0
        assert result.negative_control is not None
        assert result.negative_control.verdict is Verdict.FAIL
        assert result.verdict in (Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE)
