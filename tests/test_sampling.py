"""Sampler: reproducibility, dtypes, latents, without replacement, and exact Monte Carlo checks."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhm_theory.model import Grammar, RHMParams, parse, random_grammar
from rhm_theory.model.sampling import Sample, iter_samples, sample, string_keys

# Configurations exercising every kernel branch: s == 2 with power-of-two m (bit path),
# m == 1 (no draws), non-power-of-two m (Lemire), s > 2 (general path), n_c != v, uint16.
CONFIGS = [
    dict(v=8, m=4, s=2, L=4),
    dict(v=4, m=1, s=2, L=3),
    dict(v=5, m=3, s=2, L=3, n_c=2),
    dict(v=3, m=2, s=3, L=2, n_c=4),
    dict(v=3, m=5, s=3, L=2),
    dict(v=300, m=2, s=2, L=2),
]


def _grammar(cfg: dict, seed: int = 0) -> Grammar:
    return random_grammar(RHMParams(**cfg), seed=seed)


def _digest(x: Sample) -> str:
    h = hashlib.sha256(x.tokens.tobytes())
    for lvl in x.levels or ():
        h.update(lvl.tobytes())
    return h.hexdigest()


# -- reproducibility ----------------------------------------------------------------------
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_chunking_does_not_change_bytes(cfg: dict) -> None:
    g = _grammar(cfg)
    full = sample(g, 1000, seed=11, latents=True)
    for chunk in (1, 7, 256, 999, 5000):
        parts = list(iter_samples(g, 1000, seed=11, chunk_size=chunk, latents=True))
        assert [len(p) for p in parts][:1] == [min(chunk, 1000)]
        assert np.array_equal(np.concatenate([p.tokens for p in parts]), full.tokens)
        for lv in range(1, g.params.L + 1):
            assert np.array_equal(np.concatenate([p.level(lv) for p in parts]), full.level(lv))
    tail = sample(g, 300, seed=11, start=700)
    assert np.array_equal(tail.tokens, full.tokens[700:])
    # Tokens do not depend on whether latents were requested.
    assert np.array_equal(sample(g, 1000, seed=11).tokens, full.tokens)


def test_seed_changes_data_and_key_is_stable() -> None:
    g = _grammar(CONFIGS[0])
    a = sample(g, 200, seed=1).tokens
    assert np.array_equal(a, sample(g, 200, seed=1).tokens)
    assert not np.array_equal(a, sample(g, 200, seed=2).tokens)
    assert string_keys(1) == string_keys(1) != string_keys(2)
    sample(g, 3, seed=2**64 - 1)  # largest seed accepted


_THREAD_SCRIPT = """
import hashlib, numba
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.sampling import sample
out = [str(numba.get_num_threads())]
for cfg in {cfgs!r}:
    g = random_grammar(RHMParams(**cfg), seed=0)
    x = sample(g, 20000, seed=5, latents=True)
    h = hashlib.sha256(x.tokens.tobytes())
    for lvl in x.levels:
        h.update(lvl.tobytes())
    out.append(h.hexdigest())
print(" ".join(out))
"""


def _run_with_threads(n_threads: int | None) -> list[str]:
    env = dict(os.environ)
    env.pop("NUMBA_NUM_THREADS", None)
    if n_threads is not None:
        env["NUMBA_NUM_THREADS"] = str(n_threads)
    script = _THREAD_SCRIPT.format(cfgs=CONFIGS)
    res = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


def test_threads_do_not_change_bytes() -> None:
    one = _run_with_threads(1)
    default = _run_with_threads(None)
    assert one[0] == "1"
    assert one[1:] == default[1:]
    # Same bytes in this process, too.
    here = [_digest(sample(_grammar(cfg), 20000, seed=5, latents=True)) for cfg in CONFIGS]
    assert here == default[1:]


# -- shapes, dtypes, latents --------------------------------------------------------------
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_latents_consistent_with_rules_and_parse(cfg: dict) -> None:
    g = _grammar(cfg, seed=3)
    p = g.params
    x = sample(g, 2000, seed=4, latents=True)
    assert x.tokens.shape == (2000, p.string_length)
    assert x.tokens.dtype == p.dtype
    assert x.levels is not None and len(x.levels) == p.L
    for level in range(1, p.L + 1):
        parents = x.level(level)
        kids = x.level(level - 1)
        assert parents.shape == (2000, p.nodes_at_level(level)) and parents.dtype == p.dtype
        assert parents.flags.c_contiguous
        assert int(parents.max()) < p.vocab(level)
        # Every (parent, children tuple) is one of the parent's rules.
        tuples = kids.reshape(2000, -1, p.s).astype(np.int64)
        table = g.rules_of(level)
        match = (table[parents.astype(np.int64)][..., :, :] == tuples[..., None, :]).all(-1)
        assert match.any(-1).all()
    assert np.array_equal(x.labels, x.level(p.L)[:, 0])
    parsed = parse(g, x.tokens)
    for level in range(1, p.L + 1):
        assert np.array_equal(parsed[level - 1], x.level(level))


def test_dtype_is_smallest_unsigned() -> None:
    assert sample(_grammar(dict(v=8, m=2, s=2, L=2)), 4, seed=0).tokens.dtype == np.uint8
    g16 = _grammar(dict(v=300, m=2, s=2, L=2))
    assert sample(g16, 4, seed=0).tokens.dtype == np.uint16
    g_nc = random_grammar(RHMParams(v=20, m=1, s=2, L=2, n_c=300), seed=0)
    x = sample(g_nc, 2000, seed=0, latents=True)
    assert x.tokens.dtype == np.uint16 and int(x.labels.max()) >= 256


def test_sample_accessors_and_empty() -> None:
    g = _grammar(CONFIGS[0])
    x = sample(g, 0, seed=0, latents=True)
    assert x.tokens.shape == (0, 16) and len(x) == 0 and x.level(1).shape == (0, 8)
    y = sample(g, 3, seed=0)
    assert y.level(0) is y.tokens
    with pytest.raises(ValueError, match=r"no latents: sample with latents=True"):
        y.level(1)
    with pytest.raises(ValueError, match=r"no latents"):
        _ = y.labels
    with pytest.raises(ValueError, match=r"0 <= level <= L=4"):
        sample(g, 3, seed=0, latents=True).level(5)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(P=-1), ValueError, r"P must satisfy 0 <= P <= 4611686018427387903"),
        (dict(P=2**62), ValueError, r"P must satisfy"),
        (dict(P=2.0), TypeError, r"P must be an integer"),
        (dict(P=True), TypeError, r"P must be an integer"),
        (dict(seed=-1), ValueError, r"seed must satisfy 0 <= seed <= 18446744073709551615"),
        (dict(seed=2**64), ValueError, r"seed must satisfy"),
        (dict(seed=1.0), TypeError, r"seed must be an integer"),
        (dict(start=-3), ValueError, r"start must satisfy"),
        (dict(start=2, replace=False), ValueError, r"start must be 0 when replace=False"),
        (dict(P=2**61, start=2**61 + 1), ValueError, r"start \+ P must satisfy"),
    ],
)
def test_bad_sample_args(kwargs: dict, exc: type, match: str) -> None:
    g = _grammar(CONFIGS[0])
    args = dict(P=3, seed=0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        sample(g, **args)  # type: ignore[arg-type]


def test_bad_iter_args_fail_on_call() -> None:
    g = _grammar(CONFIGS[0])
    with pytest.raises(ValueError, match=r"chunk_size must satisfy 1 <= chunk_size"):
        iter_samples(g, 10, seed=0, chunk_size=0)
    with pytest.raises(TypeError, match=r"grammar must be a Grammar"):
        iter_samples("g", 10, seed=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"grammar must be a Grammar"):
        sample(None, 10, seed=0)  # type: ignore[arg-type]


# -- without replacement ------------------------------------------------------------------
def test_without_replacement_distinct_and_bounded() -> None:
    g = _grammar(dict(v=4, m=2, s=2, L=3))  # P_max = 4 * 2**7 = 512
    p = g.params
    for P in (1, 100, 256, 257, 400, 511, 512):  # rejection path, then enumeration path
        x = sample(g, P, seed=9, replace=False, latents=True)
        assert len({r.tobytes() for r in x.tokens}) == P
        assert np.array_equal(sample(g, P, seed=9, replace=False).tokens, x.tokens)
        for level in range(1, p.L + 1):
            assert np.array_equal(parse(g, x.tokens)[level - 1], x.level(level))
    with pytest.raises(ValueError, match=r"P must satisfy P <= P_max = 512 when replace=False"):
        sample(g, 513, seed=0, replace=False)


def _all_trees(g: Grammar) -> Iterator[tuple[int, tuple[int, ...], tuple[int, ...]]]:
    """Every tree by brute force: (root, level-1 symbols, tokens), each of weight 1/P_max."""
    p = g.params
    rules = [g.rules_of(lv).tolist() for lv in range(1, p.L + 1)]
    for root in range(p.n_c):
        for choice in itertools.product(range(p.m), repeat=p.n_internal_nodes):
            it = iter(choice)
            cur = [root]
            level1: tuple[int, ...] = (root,)
            for level in range(p.L, 0, -1):
                cur = [c for a in cur for c in rules[level - 1][a][next(it)]]
                if level == 2:
                    level1 = tuple(cur)
            yield root, level1, tuple(cur)


def test_enumeration_path_gives_every_tree_once() -> None:
    for cfg in (dict(v=3, m=2, s=2, L=2, n_c=2), dict(v=2, m=3, s=3, L=1, n_c=2)):
        g = _grammar(cfg, seed=1)
        P_max = g.params.P_max
        brute = {tok for _, _, tok in _all_trees(g)}
        assert len(brute) == P_max  # unambiguous: distinct trees give distinct strings
        x = sample(g, P_max, seed=3, replace=False, latents=True)
        got = {tuple(r) for r in x.tokens.tolist()}
        assert got == brute
        assert np.array_equal(parse(g, x.tokens)[-1], x.level(g.params.L))


def _hoeffding(n: int, k: int, alpha: float = 1e-6) -> float:
    """Two-sided Hoeffding half-width for a frequency of n draws, union bound over k events."""
    return math.sqrt(math.log(2 * k / alpha) / (2 * n))


@pytest.mark.parametrize(
    "cfg",
    [
        dict(v=3, m=2, s=2, L=3, n_c=3),  # s == 2, power-of-two m: bit path
        dict(v=3, m=3, s=2, L=2, n_c=2),  # Lemire path, n_c != v
        dict(v=2, m=2, s=3, L=2, n_c=2),  # general-s path
    ],
    ids=["bits", "lemire", "s3"],
)
def test_monte_carlo_matches_exact_enumeration(cfg: dict) -> None:
    g = _grammar(cfg, seed=2)
    p = g.params
    s = p.s
    # Exact laws by brute force over all P_max trees, each of weight 1/P_max.
    root_law: Counter[int] = Counter()
    tok_law: Counter[int] = Counter()
    tuple_law: Counter[tuple[int, ...]] = Counter()
    for root, _, tokens in _all_trees(g):
        root_law[root] += 1
        tok_law[tokens[0]] += 1
        tuple_law[tokens[:s]] += 1
    assert sum(root_law.values()) == p.P_max
    grammatical = [tuple(t) for t in g.rules_of(1).reshape(-1, s).tolist()]
    events = (
        [("root", a, root_law[a]) for a in range(p.n_c)]
        + [("tok0", b, tok_law[b]) for b in range(p.v)]
        + [("tuple0", t, tuple_law[t]) for t in grammatical]
    )
    P = 200_000
    x = sample(g, P, seed=12345, latents=True)
    roots = np.bincount(x.labels, minlength=p.n_c)
    toks = np.bincount(x.tokens[:, 0], minlength=p.v)
    first = Counter(map(tuple, x.tokens[:, :s].tolist()))
    tol = _hoeffding(P, len(events))
    for kind, value, count in events:
        exact = count / p.P_max
        if kind == "root":
            freq = roots[value] / P
        elif kind == "tok0":
            freq = toks[value] / P
        else:
            freq = first[value] / P
        assert abs(freq - exact) <= tol, (kind, value, freq, exact, tol)


@pytest.mark.parametrize("P", [6, 20], ids=["rejection", "enumeration"])
def test_without_replacement_uniform_inclusion(P: int) -> None:
    # Every tree is included with probability exactly P / P_max (uniform subsets); check
    # each tree's inclusion frequency over R independent seeds, Hoeffding + union bound.
    g = _grammar(dict(v=3, m=2, s=2, L=2, n_c=3), seed=0)  # P_max = 3 * 2**3 = 24
    P_max = g.params.P_max
    index = {tok: i for i, (_, _, tok) in enumerate(_all_trees(g))}
    R = 3000
    counts = np.zeros(P_max, dtype=np.int64)
    first = np.zeros(P_max, dtype=np.int64)
    for seed in range(R):
        rows = sample(g, P, seed=seed, replace=False).tokens.tolist()
        ids = [index[tuple(r)] for r in rows]
        assert len(set(ids)) == P
        counts[ids] += 1
        first[ids[0]] += 1
    tol = _hoeffding(R, 2 * P_max)
    assert np.abs(counts / R - P / P_max).max() <= tol
    # The first drawn string is itself uniform over all trees.
    assert np.abs(first / R - 1 / P_max).max() <= tol


@settings(max_examples=15)
@given(
    v=st.integers(2, 5),
    s=st.integers(2, 3),
    L=st.integers(1, 3),
    seed=st.integers(0, 2**64 - 1),
    start=st.integers(0, 2**40),
    data=st.data(),
)
def test_any_grammar_samples_valid_strings(
    v: int, s: int, L: int, seed: int, start: int, data: st.DataObject
) -> None:
    m = data.draw(st.integers(1, v ** (s - 1)))
    g = random_grammar(RHMParams(v=v, m=m, s=s, L=L), seed=seed % 2**32)
    x = sample(g, 64, seed=seed, start=start, latents=True)
    parsed = parse(g, x.tokens)
    for level in range(1, L + 1):
        assert np.array_equal(parsed[level - 1], x.level(level))
    assert np.array_equal(x.tokens[5:], sample(g, 59, seed=seed, start=start + 5).tokens)
