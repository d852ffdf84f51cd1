"""The community's RHM code reproduced without torch: rules, data with and without replacement.

The references here are small pure-Python transcriptions of the community algorithms
(``sample_rules``, ``sample_data_from_indices``, torch's CPU Mersenne Twister and the
draw order of ``sample_with_replacement``), independent of the library's numpy code.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from rhm_theory.model import Grammar, RHMParams, random_grammar
from rhm_theory.model.community import (
    community_grammar,
    community_indices,
    community_rules,
    community_sample,
    community_trees,
    grammar_from_community_rules,
    torch_mt19937,
)
from rhm_theory.model.spec import GrammarSpec
from rhm_theory.testing.strategies import community_grammars

SHAPES = [  # (v, n, m, s, L)
    (8, 2, 2, 2, 3), (4, 4, 2, 2, 4), (3, 3, 3, 3, 2), (16, 16, 4, 2, 2), (5, 7, 1, 2, 3),
    (6, 2, 5, 2, 2),
]
SEEDS = [0, 1, 42, 12345]


def reference_sample_rules(v: int, n: int, m: int, s: int, L: int, seed: int) -> dict[int, Any]:
    """The community's sample_rules: random.seed, then random.sample of the product list."""
    rng = random.Random(seed)
    tuples = list(itertools.product(*[range(v) for _ in range(s)]))
    rules = {0: np.array(rng.sample(tuples, n * m)).reshape(n, m, -1)}
    for i in range(1, L):
        rules[i] = np.array(rng.sample(tuples, v * m)).reshape(v, m, -1)
    return rules


def reference_decode(index: int, rules: dict[int, Any], n: int, m: int, s: int,
                     L: int) -> tuple[list[int], int]:
    """The community's sample_data_from_indices for one index (exact integers)."""
    data_per_hl = m ** ((s**L - 1) // (s - 1))
    label, low = divmod(index, data_per_hl)
    x, size = [label], 1
    for level in range(L):
        data_per_hl //= m**size
        high, low = divmod(low, data_per_hl)
        digits = [(high // m ** (size - 1 - j)) % m for j in range(size)]  # MSB first
        x = [int(rules[level][a][r][k]) for a, r in zip(x, digits, strict=True)
             for k in range(s)]
        size *= s
    return x, label


class ReferenceMT19937:
    """The reference Mersenne Twister (init_genrand, 32-bit outputs), as torch's CPU one."""

    def __init__(self, seed: int) -> None:
        self.mt = [seed & 0xFFFFFFFF]
        for i in range(1, 624):
            prev = self.mt[-1]
            self.mt.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
        self.index = 624

    def next(self) -> int:
        if self.index >= 624:
            for i in range(624):
                y = (self.mt[i] & 0x80000000) | (self.mt[(i + 1) % 624] & 0x7FFFFFFF)
                self.mt[i] = self.mt[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        return y ^ (y >> 18)


def reference_with_replacement(rules: dict[int, Any], P: int, seed: int,
                               n: int, m: int, s: int, L: int) -> tuple[list[list[int]], list[int]]:
    """sample_with_replacement: labels randint(0, n, (P,)), then per level randint(0, m,
    (P, s**l)) in row-major order, each element one 32-bit output modulo the range."""
    mt = ReferenceMT19937(seed)
    labels = [mt.next() % n for _ in range(P)]
    xs = [[y] for y in labels]
    for level in range(L):
        choices = [[mt.next() % m for _ in range(s**level)] for _ in range(P)]
        xs = [[int(rules[level][a][r][k]) for a, r in zip(x, c, strict=True) for k in range(s)]
              for x, c in zip(xs, choices, strict=True)]
    return xs, labels


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_rules_are_those_of_sample_rules(shape: tuple[int, ...], seed: int) -> None:
    v, n, m, s, L = shape
    ours = community_rules(community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), seed))
    ref = reference_sample_rules(v, n, m, s, L, seed)
    assert sorted(ours) == sorted(ref) == list(range(L))
    for i in range(L):
        assert ours[i].dtype == np.int64 and np.array_equal(ours[i], ref[i]), (shape, seed, i)


def test_the_rule_comparison_sees_one_changed_position() -> None:
    """The comparison is exact: one entry changed anywhere breaks it."""
    v, n, m, s, L = 8, 2, 2, 2, 3
    ours = community_rules(community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), 7))
    ref = reference_sample_rules(v, n, m, s, L, 7)
    for i in range(L):
        for pos in np.ndindex(*ours[i].shape):
            bad = ours[i].copy()
            bad[pos] = (bad[pos] + 1) % v
            assert not np.array_equal(bad, ref[i])
    # Two tuples swapped between symbols (a permutation of rows) is a change too.
    swapped = ours[1].copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert not np.array_equal(swapped, ref[1])


def test_rules_match_with_the_global_random_module() -> None:
    """The community seeds the global `random`: same stream, and ours leaves it untouched."""
    state = random.getstate()
    try:
        random.seed(3)
        tuples = list(itertools.product(range(4), range(4)))
        root = np.array(random.sample(tuples, 2 * 2)).reshape(2, 2, -1)
        marker = random.random()
        random.seed(3)
        random.sample(tuples, 4)
        g = community_grammar(RHMParams(v=4, m=2, s=2, L=1, n_c=2), 3)
        assert random.random() == marker  # our draws did not advance the global stream
    finally:
        random.setstate(state)
    assert np.array_equal(community_rules(g)[0], root)


@given(community_grammars(max_v=6, max_m=3, max_L=3))
@settings(max_examples=25, deadline=None)
def test_community_family_round_trips(g: Grammar) -> None:
    assert not g.is_ambiguous and g.is_uniform
    v = g.params.v
    assert grammar_from_community_rules(community_rules(g), num_features=v) == g
    assert grammar_from_community_rules(list(community_rules(g).values()), num_features=v) == g


def test_community_family_in_the_registry() -> None:
    p = RHMParams(v=8, m=2, s=2, L=3, n_c=4)
    assert GrammarSpec(p, "community", seed=9).build() == community_grammar(p, 9)
    assert GrammarSpec(p, "community", seed=9).build() != community_grammar(p, 10)


def test_bridge_errors_name_the_problem() -> None:
    g = community_grammar(RHMParams(v=4, m=2, s=2, L=2), 0)
    rules = community_rules(g)
    with pytest.raises(ValueError, match=r"keys 0\.\.L-1"):
        grammar_from_community_rules({1: rules[1]})
    with pytest.raises(ValueError, match="num_features is required"):
        grammar_from_community_rules({0: rules[0]})
    with pytest.raises(ValueError, match="num_features=5 but rules"):
        grammar_from_community_rules(rules, num_features=5)
    with pytest.raises(ValueError, match=r"rules\[1\] must have shape"):
        grammar_from_community_rules({0: rules[0], 1: rules[1][0]})
    with pytest.raises(ValueError, match="weighted"):
        community_rules(g.with_probs(root_probs=[0.7, 0.1, 0.1, 0.1]))
    with pytest.raises(ValueError, match="uniform grammar"):
        community_sample(g.with_probs(root_probs=[0.7, 0.1, 0.1, 0.1]), 3, 0, replace=True)
    with pytest.raises(ValueError, match="P <= P_max"):
        community_sample(g, g.params.P_max + 1, 0, replace=False)
    with pytest.raises(ValueError, match="indices must lie"):
        community_trees(g, [g.params.P_max])


@pytest.mark.parametrize("shape", SHAPES[:5])
def test_data_without_replacement_are_the_communitys(shape: tuple[int, ...]) -> None:
    v, n, m, s, L = shape
    g = community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), 1)
    ref_rules = reference_sample_rules(v, n, m, s, L, 1)
    P = min(200, g.params.P_max)
    x, y = community_sample(g, P, 5, replace=False, latents=True)
    indices = random.Random(5).sample(range(g.params.P_max), P)
    ref = [reference_decode(i, ref_rules, n, m, s, L) for i in indices]
    assert np.array_equal(x.tokens, np.array([r[0] for r in ref]))
    assert np.array_equal(y, [r[1] for r in ref]) and np.array_equal(x.labels, y)
    assert len({t.tobytes() for t in x.tokens}) == P  # distinct trees, distinct strings


def test_decoding_beyond_int64_is_exact() -> None:
    """P_max = 4 * 2**127 (L = 7): indices are Python integers, decoded exactly."""
    v, n, m, s, L = 4, 4, 2, 2, 7
    g = community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), 2)
    assert g.params.P_max > 2**64
    indices = community_indices(g.params.P_max, 50, seed=3)
    assert max(indices) > 2**64
    x, y = community_trees(g, indices)
    ref_rules = reference_sample_rules(v, n, m, s, L, 2)
    ref = [reference_decode(i, ref_rules, n, m, s, L) for i in indices]
    assert np.array_equal(x.tokens, np.array([r[0] for r in ref]))
    assert y.tolist() == [r[1] for r in ref]
    # The same indices as int64 (below 2**63) take the numpy path: same strings.
    small = [i % 2**62 for i in indices]
    assert np.array_equal(community_trees(g, small)[0].tokens,
                          community_trees(g, np.array(small, dtype=np.int64))[0].tokens)


@pytest.mark.parametrize("shape", SHAPES)
def test_data_with_replacement_are_the_communitys(shape: tuple[int, ...]) -> None:
    v, n, m, s, L = shape
    g = community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), 0)
    ref_rules = reference_sample_rules(v, n, m, s, L, 0)
    for seed in (1, 2**32 + 1):  # torch keeps the low 32 bits of the seed
        # 100 strings: more than 624 draws, so the twister's refill is crossed
        x, y = community_sample(g, 100, seed, replace=True, latents=True)
        ref_x, ref_y = reference_with_replacement(ref_rules, 100, seed, n, m, s, L)
        assert np.array_equal(x.tokens, ref_x) and y.tolist() == ref_y
        assert np.array_equal(x.labels, y)
        for level in range(1, L + 1):  # latents are the parses of the tokens
            above = x.level(level)
            assert above.shape == (100, s ** (L - level))


def test_torch_mt19937_is_the_reference_twister() -> None:
    for seed in (0, 5489, 2**32 + 7, -1):
        ref = ReferenceMT19937(seed & 0xFFFFFFFF)
        assert torch_mt19937(seed).random_raw(700).tolist() == [ref.next() for _ in range(700)]


def test_community_data_are_parseable_strings_of_the_grammar() -> None:
    from rhm_theory.model import is_grammatical, parse

    g = community_grammar(RHMParams(v=8, m=2, s=2, L=4), 3)
    for replace in (True, False):
        x, _ = community_sample(g, 500, 8, replace=replace, latents=True)
        assert is_grammatical(g, x.tokens).all()
        parsed = parse(g, x.tokens)
        assert all(np.array_equal(a, b) for a, b in zip(parsed, x.levels, strict=True))
    with pytest.raises(TypeError, match="grammar must be a Grammar"):
        community_sample(random_grammar.__name__, 3, 0, replace=True)  # type: ignore[arg-type]


def test_indices_beyond_int64_continue_random_sample() -> None:
    """Below 2**63 the indices are random.sample's; above, its large-population branch
    (randrange, redrawn on a repeat) continued in exact integers. At the largest population
    random.sample takes, that branch is what it runs."""
    n = 2**63 - 1
    got = community_indices(n, 300, seed=11)
    assert got == random.Random(11).sample(range(n), 300)
    rng = random.Random(11)
    assert got == [rng.randrange(n) for _ in range(300)]  # no repeat at this size
    big = community_indices(2**70, 1000, seed=2)
    rng = random.Random(2)
    assert big == [rng.randrange(2**70) for _ in range(1000)] and len(set(big)) == 1000


def test_a_published_grammar_through_the_cli_and_a_sweep(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`grammar make --family community` writes sample_rules' grammar; `exact` and a sweep
    cell run on it."""
    from rhm_theory.cli import main
    from rhm_theory.model import load_grammar
    from rhm_theory.sweeps.runner import SweepCell, run_sweep

    out = tmp_path / "run.json"
    argv = ["grammar", "make", "--family", "community", "--v", "8", "--n-c", "4", "--m", "2",
            "--s", "2", "--L", "3", "--seed", "5", "--out", str(out), "--json"]
    assert main(argv) == 0
    g = load_grammar(out)
    ref = reference_sample_rules(8, 4, 2, 2, 3, 5)
    assert all(np.array_equal(community_rules(g)[i], ref[i]) for i in range(3))
    capsys.readouterr()
    assert main(["exact", str(out), "--json"]) == 0
    assert capsys.readouterr().out.strip()
    cell = SweepCell("latent", 8, 2, 2, 3, 256, grammar_seed=5, n_c=4, family="community",
                     n_test=64)
    assert cell.spec.build() == g
    rows = run_sweep([cell], progress=False, max_workers=1)
    assert rows and {r["family"] for r in rows} == {"community"}
