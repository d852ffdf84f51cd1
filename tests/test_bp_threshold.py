"""The noisy-leaf threshold eps* of the annealed map (bounds, PNAS 2025)."""

from __future__ import annotations

import math

import pytest

from rhm_theory.bounds import (
    annealed_map,
    annealed_map_derivative_at_one,
    annealed_map_repulsive_fixed_point,
    annealed_noise_threshold,
)

CASES = [(8, 2, 2), (16, 4, 2), (32, 8, 2), (32, 4, 2), (8, 2, 3), (16, 8, 2)]


@pytest.mark.parametrize(("v", "m", "s"), CASES)
def test_repulsive_fixed_point_is_fixed_and_repulsive(v: int, m: int, s: int) -> None:
    p = annealed_map_repulsive_fixed_point(v, m, s)
    assert 0.0 < p < 1.0
    assert abs(float(annealed_map(p, v, m, s)) - p) < 1e-12
    h = 1e-6  # slope above 1: nearby points move away
    slope = (float(annealed_map(p + h, v, m, s)) - float(annealed_map(p - h, v, m, s))) / (2 * h)
    assert slope > 1.0
    # Just above p* the map climbs towards 1; just below it falls.
    assert float(annealed_map(p + 1e-3, v, m, s)) > p + 1e-3
    assert float(annealed_map(p - 1e-3, v, m, s)) < p - 1e-3


@pytest.mark.parametrize(("v", "m", "s"), CASES)
def test_threshold_starts_the_map_at_the_repulsive_point(v: int, m: int, s: int) -> None:
    p_star = annealed_map_repulsive_fixed_point(v, m, s)
    eps = annealed_noise_threshold(v, m, s)
    x = eps * (v - 1) / v  # probability that a token is wrong
    assert abs((1 - x) ** 2 + x**2 / (v - 1) - p_star) < 1e-12
    eps_obs = annealed_noise_threshold(v, m, s, leaf_message="observed")
    assert abs(1 - eps_obs * (v - 1) / v - p_star) < 1e-12
    assert eps < eps_obs  # averaging in the wrong tokens lowers the leaf weight


def test_no_transition_when_one_is_unstable() -> None:
    assert float(annealed_map_derivative_at_one(4, 3, 2)) > 1
    assert math.isnan(annealed_map_repulsive_fixed_point(4, 3, 2))
    assert math.isnan(annealed_noise_threshold(4, 3, 2))
    with pytest.raises(ValueError, match="leaf_message must be one of"):
        annealed_noise_threshold(8, 2, 2, leaf_message="hidden")
