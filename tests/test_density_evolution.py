"""Density evolution of BP messages against exact enumeration, and the inference threshold."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numba as nb
import numpy as np
import numpy.typing as npt
import pytest

from rhm_theory.cli import main
from rhm_theory.inference.population_dynamics import (
    density_evolution,
    inference_threshold,
    mean_field_threshold,
)
from rhm_theory.model import Grammar, RHMParams, random_grammar, save_grammar

DELTA = 1e-6  # failure probability allowed to each Hoeffding / McDiarmid bound
LOG_TERM = math.log(2 / DELTA)


def _weighted_tiny() -> Grammar:
    # v = 3, m = 2, s = 2, L = 2 with skewed rule weights and a non-uniform root prior.
    p = RHMParams(v=3, m=2, s=2, L=2)
    g = random_grammar(p, seed=4)
    rp = [np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5]]),
          np.array([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])]
    return g.with_probs(rule_probs=rp, root_probs=np.array([0.5, 0.3, 0.2]))


def _subtrees(g: Grammar, level: int, a: int) -> list[tuple[float, tuple[int, ...]]]:
    # Every (probability, leaves) of a level-`level` subtree rooted at symbol a.
    if level == 0:
        return [(1.0, (a,))]
    p = g.params
    out = []
    rules = g.rules_of(level)
    w = g.rule_probs_of(level)
    for r in range(p.m):
        parts = [_subtrees(g, level - 1, int(b)) for b in rules[a, r]]
        for combo in itertools.product(*parts):
            prob = float(w[a, r])
            leaves: tuple[int, ...] = ()
            for pr, lv in combo:
                prob *= pr
                leaves += lv
            out.append((prob, leaves))
    return out


def _exact_law(g: Grammar, depth: int, channel: str, eps: float) -> tuple[float, float]:
    """Mean true posterior and MAP accuracy at level ``depth`` by brute-force enumeration of
    trees, leaf observations and the posterior (sum over whole latent trees, not BP)."""
    p = g.params
    v = p.v
    n_sym = p.vocab(depth)
    prior = (g.root_probs if depth == p.L else np.full(n_sym, 1.0 / n_sym))
    trees = [_subtrees(g, depth, a) for a in range(n_sym)]
    n_leaves = p.s**depth
    # Observation alphabet: a token 0..v-1 (noise), or 0..v-1 shown / v erased (mask).
    alphabet = range(v) if channel == "noise" else range(v + 1)

    def obs_prob(x: int, b: int) -> float:
        if channel == "noise":
            return (1 - eps) * (x == b) + eps / v
        return eps if x == v else (1 - eps) * (x == b)

    mean_post = 0.0
    acc = 0.0
    for xs in itertools.product(alphabet, repeat=n_leaves):
        # Joint P(a, x) = prior(a) sum_trees P(tree | a) prod_i P(x_i | leaf_i).
        joint = np.array([prior[a] * sum(pr * math.prod(obs_prob(x, b) for x, b in
                                                        zip(xs, lv, strict=True))
                                         for pr, lv in trees[a]) for a in range(n_sym)])
        z = joint.sum()
        if z == 0:
            continue
        post = joint / z
        mean_post += float(np.sum(joint * post))  # sum_a P(a, x) P(a | x)
        acc += float(joint[int(np.argmax(post))])
    return mean_post, acc


@pytest.mark.parametrize("channel,eps", [("noise", 0.3), ("noise", 0.6), ("mask", 0.5)])
def test_depth_one_and_two_match_enumeration(channel: str, eps: float) -> None:
    g = _weighted_tiny()
    n = 100_000
    de = density_evolution(g, channel, eps, n_pop=n, seed=3)
    q1 = np.full(3, 1 / 3)
    # Level 1: members independent, Hoeffding on a q-weighted mean of [0, 1] variables.
    t1 = math.sqrt(LOG_TERM * float(q1 @ q1) / (2 * n))
    for depth in (1, 2):
        mp, acc = _exact_law(g, depth, channel, eps)
        if depth == 1:
            tol = t1
        else:
            # Given the level-1 population, level-2 members are independent (Hoeffding with
            # the root prior); the conditional mean moves by <= s/n when one of the v n
            # level-1 members changes (McDiarmid); two children drawing one member: <= s/n.
            qr = g.root_probs
            tol = (math.sqrt(LOG_TERM * float(qr @ qr) / (2 * n))
                   + 2 * math.sqrt(LOG_TERM * 3 * n / (2 * n**2)) + 2 / n)
        assert abs(de.mean_posterior[depth - 1] - mp) <= tol, (depth, mp, tol)
        assert abs(de.map_accuracy[depth - 1] - acc) <= tol, (depth, acc, tol)


def test_exact_limits_to_1e12() -> None:
    # eps = 0 parses the tree (one-hot posteriors); erased or fully noisy leaves carry
    # nothing, so the posterior equals the prior: both exact whatever the population.
    g = _weighted_tiny()
    q = g.root_probs
    de = density_evolution(g, "noise", 0.0, n_pop=50, seed=0)
    np.testing.assert_allclose(de.mean_posterior, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(de.map_accuracy, 1.0)
    for channel in ("mask", "noise"):
        de = density_evolution(g, channel, 1.0, n_pop=50, seed=0)
        assert abs(de.mean_posterior[1] - float(q @ q)) < 1e-12
        assert abs(de.mean_posterior[0] - 1 / 3) < 1e-12
        assert abs(de.map_accuracy[1] - float(q[np.argmax(q)])) < 1e-12
        assert de.mean_posterior_se[1] < 1e-12


def test_reproducible_by_seed_and_thread_count() -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=1)
    a = density_evolution(g, "noise", 0.4, n_pop=300, seed=5, depth=6)
    b = density_evolution(g, "noise", 0.4, n_pop=300, seed=5, depth=6)
    c = density_evolution(g, "noise", 0.4, n_pop=300, seed=6, depth=6)
    assert a.mean_posterior.tobytes() == b.mean_posterior.tobytes()
    assert a.mean_posterior.tobytes() != c.mean_posterior.tobytes()
    old = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        d = density_evolution(g, "noise", 0.4, n_pop=300, seed=5, depth=6)
    finally:
        nb.set_num_threads(old)
    assert d.map_accuracy.tobytes() == a.map_accuracy.tobytes()
    assert d.mean_posterior.tobytes() == a.mean_posterior.tobytes()


def test_bad_input() -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=1)
    with pytest.raises(ValueError, match="channel must be one of"):
        density_evolution(g, "erase", 0.1)
    with pytest.raises(ValueError, match="eps must satisfy"):
        density_evolution(g, "noise", 1.5)
    with pytest.raises(ValueError, match="n_pop must satisfy"):
        density_evolution(g, "noise", 0.1, n_pop=1)
    with pytest.raises(ValueError, match="depth must satisfy"):
        density_evolution(g, "noise", 0.1, depth=0)
    with pytest.raises(TypeError, match="grammar must be a Grammar"):
        density_evolution("g", "noise", 0.1)  # type: ignore[arg-type]
    g2 = random_grammar(RHMParams(v=8, m=2, s=2, L=3, n_c=4), seed=1)
    with pytest.raises(ValueError, match="n_c != v"):
        density_evolution(g2, "noise", 0.1, depth=4)
    with pytest.raises(ValueError, match="tol must satisfy"):
        inference_threshold(g, "noise", tol=0.0)
    with pytest.raises(TypeError, match="confirm must be a bool"):
        inference_threshold(g, "noise", confirm=1)  # type: ignore[arg-type]


def test_depth_beyond_L_cycles_and_memory_is_flat() -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=2), seed=2)
    de = density_evolution(g, "mask", 0.3, n_pop=200, seed=0, depth=7)
    assert de.depth == 7 and np.all((de.map_accuracy >= 0) & (de.map_accuracy <= 1))


# -- an independent population dynamics (plain numpy, fixed depth) ------------------------------
def _numpy_threshold(g: Grammar, n_pop: int, depth: int, rng: np.random.Generator) -> float:
    p = g.params
    v, L = p.v, p.L
    rules = [np.asarray(g.rules_of(lv)) for lv in range(1, L + 1)]
    weights = [np.asarray(g.rule_probs_of(lv)) for lv in range(1, L + 1)]

    def overlap(eps: float) -> float:
        pop: npt.NDArray[np.float64] | None = None
        for level in range(depth):
            R, W = rules[level % L], weights[level % L]
            a = np.repeat(np.arange(v), n_pop)
            cum = np.cumsum(W[a], axis=1)
            r = np.minimum((rng.random(a.size)[:, None] > cum).sum(axis=1), p.m - 1)
            kids = []
            for j in range(p.s):
                b = R[a, r, j]
                if pop is None:
                    x = np.where(rng.random(a.size) < eps, rng.integers(0, v, a.size), b)
                    msg = np.full((a.size, v), eps / v)
                    msg[np.arange(a.size), x] += 1 - eps
                else:
                    msg = pop[b, rng.integers(0, n_pop, a.size)]
                kids.append(msg)
            mu = W[None, :, :] * np.prod([k[:, R[:, :, j]] for j, k in enumerate(kids)],
                                         axis=0)
            mu = mu.sum(axis=2)
            mu /= mu.sum(axis=1, keepdims=True)
            pop = mu.reshape(v, n_pop, v)
        assert pop is not None
        true_post = pop[np.arange(v), :, np.arange(v)].mean()
        return float((true_post - 1 / v) / (1 - 1 / v))

    lo, hi = 0.0, 1.0
    while hi - lo > 0.01:
        mid = (lo + hi) / 2
        if overlap(mid) > 0.5:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cli_threshold_matches_independent_numpy(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = random_grammar(RHMParams(v=16, m=4, s=2, L=8), seed=seed)
    path = tmp_path / "g.json"
    save_grammar(g, path)
    assert main(["threshold", str(path), "--channel", "noise", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    lo, hi = doc["interval"]
    # The bracket is 2 tol wide unless an end changed outcome with twice the population
    # (then it is widened by 2 tol on that side and `confirmed` is False).
    assert lo <= doc["eps_c"] <= hi
    assert hi - lo <= (0.02 if doc["confirmed"] else 0.06) + 1e-12
    ref = _numpy_threshold(g, 1000, 60, np.random.default_rng(seed))
    print(f"seed {seed}: eps_c {doc['eps_c']:.4f} [{lo:.4f}, {hi:.4f}] in "
          f"{doc['seconds']:.2f} s; numpy {ref:.4f}; map {doc['mean_field_map']:.4f}")
    assert abs(doc["eps_c"] - ref) <= 0.03, (doc["eps_c"], ref)
    assert abs(doc["mean_field_map"] - doc["eps_c"]) > 0.15
    assert doc["mean_field_map"] == mean_field_threshold(16, 4, 2, "noise")


def test_cli_threshold_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "g.json"
    save_grammar(random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0), path)
    assert main(["threshold", str(path), "--channel", "mask", "--tol", "0.05",
                 "--n-pop", "200"]) == 0
    out = capsys.readouterr().out
    assert "eps_c =" in out and "mean-field map" in out
    assert main(["threshold"]) == 2  # no grammar and no --diagram


def test_mask_threshold_context_for_neural_reports() -> None:
    from rhm_theory.inference import mask_threshold_context

    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    low = mask_threshold_context(g, 0.2, tol=0.05, n_pop=300)
    high = mask_threshold_context(g, 1.0, tol=0.05, n_pop=300)
    assert low["regime"] == "below threshold" and high["regime"] == "above threshold"
    assert low["interval"][0] <= low["eps_c"] <= low["interval"][1]
    with pytest.raises(ValueError, match="mask_frac must satisfy"):
        mask_threshold_context(g, 1.5)
    with pytest.raises(ValueError, match="n_c == v"):
        mask_threshold_context(random_grammar(RHMParams(v=8, m=2, s=2, L=3, n_c=4), seed=0),
                               0.2)
