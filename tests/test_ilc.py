"""Iterative Latent Clustering: recovery above threshold, chance below, estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rhm_theory.algorithms import (
    UNKNOWN_CLUSTER,
    IterativeLatentClustering,
    adjusted_rand_index,
    lift,
    matched_accuracy,
    score_levels,
)
from rhm_theory.assumptions import is_separated
from rhm_theory.exact import node_marginals_at_level
from rhm_theory.model import Grammar, RHMParams, random_grammar
from rhm_theory.model.sampling import iter_samples, sample
from rhm_theory.testing.strategies import cyclic_grammar, separated_grammars


@st.composite
def paper_grammars(draw: st.DrawFn) -> Grammar:
    """Random grammars of the paper's setting (n_c = v, f < 1): v <= 16, m <= 4, L <= 5.

    The theorem assumes separation: a drawn grammar that misses Delta >= sqrt(1-f)/(2m)
    (a few percent at m = 2 have Delta = 0 exactly) is replaced by the provably separated
    cyclic grammar of the same parameters.
    """
    v = draw(st.integers(3, 16))
    m = draw(st.integers(1, min(4, v - 1)))
    params = RHMParams(v, m, 2, draw(st.integers(2, 5)))
    g = random_grammar(params, seed=draw(st.integers(0, 2**32 - 1)))
    return g if is_separated(g, 0.5) else cyclic_grammar(params)


@given(paper_grammars())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_recovers_every_level_at_100_vm3(g: Grammar) -> None:
    """At P = 100 v m^3 every non-root level is recovered exactly (for the grammars drawn
    under the CI profile; one counterexample found in development is pinned below)."""
    p = g.params
    P = 100 * p.v * p.m**3
    model = IterativeLatentClustering.from_params(p).fit(
        lambda: iter_samples(g, P, seed=7, chunk_size=50_000))
    scores = score_levels(model, g, n_test=1000, seed=99)
    assert all(s.exact_partition for s in scores), [s.to_dict() for s in scores]
    assert all(s.accuracy == 1.0 for s in scores)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "counterexample found by Hypothesis (random grammar v=13, m=2, L=5, seed 5920, "
    "separated): at P = 100 v m^3 level 2 has accuracy 0.9886 and levels 2-4 miss the exact "
    "partition although the exact predicted thresholds are at most 2202 (< 10400); at "
    "400 v m^3 every level is exact. The constant 100 is the test's, not the theorem's "
    "(whose C is unknown): a rare tuple can need more."))
def test_counterexample_grammar_at_100_vm3() -> None:
    p = RHMParams(13, 2, 2, 5)
    g = random_grammar(p, seed=5920)
    assert is_separated(g, 0.5)
    P = 100 * p.v * p.m**3
    model = IterativeLatentClustering.from_params(p).fit(
        lambda: iter_samples(g, P, seed=7, chunk_size=50_000))
    scores = score_levels(model, g, n_test=1000, seed=99)
    assert all(s.exact_partition for s in scores), [s.to_dict() for s in scores]


def test_counterexample_grammar_is_recovered_at_400_vm3() -> None:
    """The same grammar and data stream, four times more strings: every level exact."""
    p = RHMParams(13, 2, 2, 5)
    g = random_grammar(p, seed=5920)
    P = 400 * p.v * p.m**3
    model = IterativeLatentClustering.from_params(p).fit(
        lambda: iter_samples(g, P, seed=7, chunk_size=50_000))
    scores = score_levels(model, g, n_test=1000, seed=99)
    assert all(s.exact_partition and s.accuracy == 1.0 for s in scores)


@given(separated_grammars(0.5, min_v=8, max_v=16, max_m=4, min_L=3, max_L=5, s=2))
@settings(max_examples=10, deadline=None)
def test_top_level_near_chance_at_vm_over_10(g: Grammar) -> None:
    """At P = v m / 10 strings the top level is near chance: most test tuples were never
    seen (they map to UNKNOWN_CLUSTER, always wrong)."""
    p = g.params
    assume(p.m >= 2)
    P = max(1, p.v * p.m // 10)
    model = IterativeLatentClustering.from_params(p).fit(sample(g, P, seed=3).tokens)
    top = score_levels(model, g, n_test=1000, seed=5)[-1]
    # Chance under the best relabelling of a handful of clusters: at most the exact mass of
    # the 4 most probable symbols of that level (4/v when n_c = v and the level is near
    # uniform; larger when few root symbols make few top-level symbols likely), plus slack.
    mass = np.sort(node_marginals_at_level(g, p.L - 1).mean(axis=0))[::-1]
    assert top.accuracy <= float(mass[:4].sum()) + 0.1
    assert not top.exact_partition


def test_stream_and_array_fits_agree() -> None:
    g = random_grammar(RHMParams(8, 2, 2, 4), seed=1)
    data = sample(g, 4000, seed=2)
    a = IterativeLatentClustering(8, 2, 4).fit(data.tokens)
    b = IterativeLatentClustering(8, 2, 4).fit(lambda: iter_samples(g, 4000, 2, chunk_size=333))
    for x, y in zip(a.level_maps_, b.level_maps_, strict=True):
        assert np.array_equal(x, y)


def test_unseen_tuples_map_to_unknown() -> None:
    g = random_grammar(RHMParams(8, 2, 2, 3), seed=4)
    model = IterativeLatentClustering(8, 2, 3).fit(sample(g, 3, seed=1).tokens)
    levels = model.transform(sample(g, 200, seed=2).tokens)
    assert np.any(levels[0] == UNKNOWN_CLUSTER)
    assert np.all((levels[0] == UNKNOWN_CLUSTER) | ((levels[0] >= 0) & (levels[0] < 8)))
    # An unknown child makes the parent unknown, never a real symbol.
    kids_unknown = np.any(levels[0].reshape(200, -1, 2) == UNKNOWN_CLUSTER, axis=-1)
    assert np.all(levels[1][kids_unknown] == UNKNOWN_CLUSTER)


@pytest.mark.parametrize("context", ["token", "label"])
def test_baselines_recover_with_enough_data(context: str) -> None:
    p = RHMParams(8, 2, 2, 3)
    g = random_grammar(p, seed=0)
    P = 200 * p.v * p.m ** (p.L + 1)
    model = IterativeLatentClustering.from_params(p, context=context)
    model.fit(lambda: iter_samples(g, P, seed=1, latents=context == "label"))
    assert all(s.exact_partition for s in score_levels(model, g, n_test=500))


def test_label_context_needs_labels() -> None:
    g = random_grammar(RHMParams(8, 2, 2, 3), seed=0)
    with pytest.raises(ValueError, match="labels"):
        IterativeLatentClustering(8, 2, 3, context="label").fit(sample(g, 10, 0).tokens)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"context": "pixels"}, "context must be one of"), ({"min_count": 0}, "min_count"),
     ({"merge_factor": -1.0}, "merge_factor"), ({"L": 1}, "L >= 2")],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"v": 8, "s": 2, "L": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        IterativeLatentClustering(**args)  # type: ignore[arg-type]


def test_wrong_token_shape_and_range() -> None:
    model = IterativeLatentClustering(4, 2, 3)
    with pytest.raises(ValueError, match="shape"):
        model.fit(np.zeros((5, 7), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\[0, v\)"):
        model.fit(np.full((5, 8), 4, dtype=np.uint8))


def test_lift_and_metrics_by_hand() -> None:
    assert lift(np.array([[1, 0, 0, 0]]), np.array([9, 8, 7, 6]), 2, 2).tolist() == [[7, 9]]
    acc, mapping = matched_accuracy([2, 2, 0, 1], [0, 0, 1, 2], 3)
    assert acc == 1.0 and mapping.tolist() == [2, 0, 1]
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) < 0


def test_unpooled_ilc_keeps_one_map_per_parent_and_recovers() -> None:
    from rhm_theory.algorithms.metrics import score_levels
    from rhm_theory.model import RHMParams, random_grammar
    from rhm_theory.model.sampling import sample

    p = RHMParams(v=8, m=2, s=2, L=4)
    g = random_grammar(p, seed=0)
    model = IterativeLatentClustering(8, 2, 4, pool_positions=False)
    model.fit(sample(g, 4000, seed=1).tokens)
    assert [t.shape for t in model.level_maps_] == [(4, 64), (2, 64), (1, 64)]
    scores = score_levels(model, g, n_test=1000, seed=5)
    assert all(sc.accuracy == 1.0 and sc.exact_partition for sc in scores)
    # Too few strings for one occurrence per node: the lower levels are not recovered,
    # while the pooled default (s^(L-l) occurrences per string) already recovers them.
    few = sample(g, 150, seed=1).tokens
    unpooled = score_levels(IterativeLatentClustering(8, 2, 4, pool_positions=False)
                            .fit(few), g, n_test=1000, seed=5)
    pooled = score_levels(IterativeLatentClustering(8, 2, 4).fit(few), g, n_test=1000, seed=5)
    assert unpooled[0].accuracy < pooled[0].accuracy


def test_unpooled_ilc_needs_the_latent_context() -> None:
    with pytest.raises(ValueError, match="pool_positions=False"):
        IterativeLatentClustering(8, 2, 4, context="token", pool_positions=False)
    with pytest.raises(TypeError, match="pool_positions"):
        IterativeLatentClustering(8, 2, 4, pool_positions=0)  # type: ignore[arg-type]


def test_merge_step_only_merges_indistinguishable_clusters() -> None:
    from rhm_theory.algorithms.metrics import score_levels

    p = RHMParams(v=8, m=2, s=2, L=3)
    g = random_grammar(p, seed=0)
    data = sample(g, 20000, seed=1).tokens
    on = IterativeLatentClustering(8, 2, 3).fit(data)
    off = IterativeLatentClustering(8, 2, 3, merge_factor=0.0).fit(data)
    for a, b in zip(on.level_maps_, off.level_maps_, strict=True):
        # Merging never adds clusters.
        assert len(np.unique(a[a >= 0])) <= len(np.unique(b[b >= 0]))
    # With plenty of data the merge step never joins two different parents.
    assert all(sc.exact_partition for sc in score_levels(on, g, n_test=1000, seed=3))
