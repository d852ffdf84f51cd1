"""The fraction of correctly induced grammatical tuples (LevelScore.tuple_accuracy) and the
sweep column built from it (min_tuple_accuracy, the tuple_error event)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from rhm_theory.algorithms import IterativeLatentClustering
from rhm_theory.algorithms.metrics import score_levels
from rhm_theory.exact import node_marginals_at_level
from rhm_theory.exact.transitions import level_weights
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.grammar import tuple_codes
from rhm_theory.model.sampling import iter_samples
from rhm_theory.sweeps.runner import SweepCell, run_cell

PARAMS = RHMParams(8, 2, 2, 3)
GRAMMAR_SEED = 1


def _perfect(pool_positions: bool) -> IterativeLatentClustering:
    """ILC at 400 v m^3 strings: every level recovered exactly (asserted by the tests)."""
    g = random_grammar(PARAMS, seed=GRAMMAR_SEED)
    return IterativeLatentClustering.from_params(PARAMS, pool_positions=pool_positions).fit(
        lambda: iter_samples(g, 400 * PARAMS.v * PARAMS.m**3, seed=7, chunk_size=50_000))


@pytest.fixture(scope="module")
def pooled() -> IterativeLatentClustering:
    return _perfect(True)


@pytest.fixture(scope="module")
def per_node() -> IterativeLatentClustering:
    return _perfect(False)


def _grammatical_level1_codes() -> np.ndarray:
    """Codes of the level-1 tuples (tokens: no relabelling), symbol by symbol (``a m + j``
    is rule ``j`` of symbol ``a``); every level-1 symbol has positive probability here."""
    g = random_grammar(PARAMS, seed=GRAMMAR_SEED)
    assert np.all(level_weights(g)[1] > 0)
    return np.asarray(tuple_codes(g.rules_of(1).reshape(-1, PARAMS.s), PARAMS.v))


def _misassign(table: np.ndarray, codes: np.ndarray) -> None:
    """Level-1 tuple ``codes[0]`` (symbol 0) becomes unknown, ``codes[3]`` (symbol 1) gets
    another parent's label."""
    table[codes[0]] = -1
    table[codes[3]] = (table[codes[3]] + 1) % PARAMS.v


@pytest.mark.parametrize("pool", [True, False])
def test_a_perfect_recovery_has_tuple_accuracy_one(
        pool: bool, pooled: IterativeLatentClustering,
        per_node: IterativeLatentClustering) -> None:
    model = pooled if pool else per_node
    scores = score_levels(model, random_grammar(PARAMS, seed=GRAMMAR_SEED), n_test=1000)
    assert all(s.exact_partition and s.accuracy == 1.0 for s in scores)
    assert [s.tuple_accuracy for s in scores] == [1.0] * (PARAMS.L - 1)


def test_tuple_accuracy_is_the_fraction_of_correct_tuples(
        pooled: IterativeLatentClustering) -> None:
    codes = _grammatical_level1_codes()
    assert codes.size == PARAMS.v * PARAMS.m == 16
    model = copy.deepcopy(pooled)
    _misassign(model.level_maps_[0], codes)
    scores = score_levels(model, random_grammar(PARAMS, seed=GRAMMAR_SEED), n_test=1000)
    # Two of the 16 grammatical level-1 tuples are wrong: 14 / 16.
    assert scores[0].tuple_accuracy == pytest.approx(14 / 16, abs=1e-15)
    assert not scores[0].exact_partition and not scores[1].exact_partition
    assert scores[1].tuple_accuracy == 1.0  # the level above maps its own tuples


def test_per_node_tuple_accuracy_is_the_mean_over_nodes(
        per_node: IterativeLatentClustering) -> None:
    """Positions kept separate: the level-1 table of the first level-2 node serves level-1
    nodes 0 and 1. A node counts the tuples of the symbols it can hold (positive marginal
    there); the two wrong tuples (of symbols 0 and 1) count at a node that can hold them,
    nodes 2 and 3 are exact."""
    g = random_grammar(PARAMS, seed=GRAMMAR_SEED)
    codes = _grammatical_level1_codes()
    model = copy.deepcopy(per_node)
    assert model.level_maps_[0].shape == (2, PARAMS.v**PARAMS.s)
    _misassign(model.level_maps_[0][0], codes)
    scores = score_levels(model, g, n_test=1000)
    held = node_marginals_at_level(g, 1) > 0  # (node, symbol)
    assert held.shape == (4, PARAMS.v) and not held.all()  # a node-specific count
    per_node_acc = [1.0 - (int(held[k, 0]) + int(held[k, 1])) / (PARAMS.m * held[k].sum())
                    for k in (0, 1)] + [1.0, 1.0]
    assert per_node_acc[0] < 1.0 or per_node_acc[1] < 1.0
    assert scores[0].tuple_accuracy == pytest.approx(float(np.mean(per_node_acc)), abs=1e-15)


def test_the_sweep_row_carries_the_worst_level() -> None:
    cell = SweepCell("latent", 8, 2, 2, 3, 64 * 8 * 8, 1, 1001)
    rows = run_cell(cell)
    per_level = [r["tuple_accuracy"] for r in rows]
    assert len(per_level) == PARAMS.L - 1
    assert all(r["min_tuple_accuracy"] == min(per_level) for r in rows)
    assert all(0.0 <= x <= 1.0 for x in per_level)
