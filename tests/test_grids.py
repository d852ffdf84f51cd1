"""The sweep grids of the checks: every claim grid is in the fixed-fraction regime
(``EPS v m >= 1``), seeds are drawn per depth, and only separated grammars are kept."""

from __future__ import annotations

import math

import pytest

from proofs_checks.grids import (
    C_SEP,
    DEPTHS,
    F_FACTOR_M,
    F_FACTOR_VS,
    LATENT_SEEDS,
    SEEDS,
    VARIANT_GRIDS,
    VMS,
    depth_cells,
    f_factor_cells,
    is_separated,
    variant_cells,
)
from rhm_theory.assumptions import separation_margins
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.runner import SEED_STRIDE, run_seeds
from rhm_theory.sweeps.thresholds import EPS


def _claim_grids() -> dict[str, list[tuple[int, int]]]:
    """Every (v, m) a scaling claim is judged on, by grid."""
    out: dict[str, list[tuple[int, int]]] = {}
    for grid, kinds in VMS.items():
        for kind, vms in kinds.items():
            out[f"VMS[{grid}][{kind}]"] = list(vms)
    for name, grids in VARIANT_GRIDS.items():
        for grid, spec in grids.items():
            out[f"VARIANT_GRIDS[{name}][{grid}]"] = list(spec["vms"])
    out["F_FACTOR"] = [(v, F_FACTOR_M) for v in F_FACTOR_VS]
    return out


@pytest.mark.parametrize(("name", "vms"), sorted(_claim_grids().items()))
def test_every_claim_grid_has_eps_v_m_at_least_one(name: str,
                                                   vms: list[tuple[int, int]]) -> None:
    """The tuple_error event allows a fraction EPS of misassigned tuple values per level:
    with EPS v m < 1 it would allow none, i.e. exact recovery, another event."""
    low = [(v, m, EPS * v * m) for v, m in vms if EPS * v * m < 1]
    assert not low, f"{name}: EPS v m < 1 at {low}"


def test_run_seeds_are_distinct_across_seed_indices_and_depths() -> None:
    for grid in SEEDS:
        seeds = sorted(set(SEEDS[grid]) | set(LATENT_SEEDS[grid]))  # type: ignore[index]
        Ls = sorted({L for kinds in DEPTHS[grid].values() for L in kinds})
        pairs = {(i, L): run_seeds(i, L) for i in seeds for L in Ls}
        grammar = [g for g, _ in pairs.values()]
        data = [d for _, d in pairs.values()]
        assert len(set(grammar)) == len(grammar) and len(set(data)) == len(data), grid
        assert not set(grammar) & set(data), grid
        assert max(seeds) < SEED_STRIDE  # no index reaches the next depth's block
    assert run_seeds(0, 3) != run_seeds(0, 4)


@pytest.mark.parametrize("grid", ["quick", pytest.param("full", marks=pytest.mark.slow)])
def test_cells_use_the_seeds_of_their_depth(grid: str) -> None:
    cells = [*depth_cells("latent", grid), *depth_cells("token", grid),  # type: ignore[arg-type]
             *variant_cells("unpooled", grid), *f_factor_cells(grid)]  # type: ignore[arg-type]
    indices = set(SEEDS[grid]) | set(LATENT_SEEDS[grid])  # type: ignore[index]
    allowed = {L: {run_seeds(i, L) for i in indices} for L in {c.L for c in cells}}
    bad = [c for c in cells if (c.grammar_seed, c.data_seed) not in allowed[c.L]]
    assert not bad, bad[:3]
    # Every seed index appears at every (v, m, L) of a grid.
    runs: dict[tuple[int, int, int], set[int]] = {}
    for c in depth_cells("latent", grid):  # type: ignore[arg-type]
        runs.setdefault((c.v, c.m, c.L), set()).add(c.grammar_seed)
    assert all(len(s) == len(LATENT_SEEDS[grid]) for s in runs.values())  # type: ignore[index]


def test_a_zero_margin_grammar_is_not_separated() -> None:
    """Among 20 random grammars (v = 16, m = 2, L = 3) at least one has two symbols of
    identical context (zero margin): never separated; every grammar is separated exactly
    when its smallest margin reaches C_SEP sqrt(1 - f) / m."""
    v, m, L = 16, 2, 3
    need = C_SEP * math.sqrt(1 - m / v) / m
    zero, kept = [], []
    for seed in range(20):
        low = float(separation_margins(random_grammar(RHMParams(v, m, 2, L), seed),
                                       "latent").min())
        assert is_separated(v, m, L, seed) is (low >= need)
        (zero if low == 0 else kept).append(seed)
    assert zero and not any(is_separated(v, m, L, s) for s in zero)
    assert any(is_separated(v, m, L, s) for s in kept)
