"""Weighted and ambiguous sampling: uniform bytes unchanged, rule frequencies within Hoeffding."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from rhm_theory.model import GrammarSpec, RHMParams, random_grammar
from rhm_theory.model.sampling import alias_table, iter_samples, sample

# sha256 of tokens and latents from the sampler on main before weights existed (commit
# 2004c8f), for seeds 0, 1, 123456789 and 3000 strings each. Uniform grammars must keep
# these bytes: the weighted path must never be taken for them.
MAIN_DIGESTS = [
    (dict(v=8, m=4, s=2, L=3), 7,
     "c59df0b3490c42362b533dcd0327b1c754f111696103068ec0dac4b8a781d6a9"),
    (dict(v=6, m=3, s=2, L=3), 11,
     "af5da4ed068eb2b479d87bf3e97a14371db1d5e7ac28cd84d442f2a607b2bb7d"),
    (dict(v=4, m=2, s=3, L=2), 5,
     "f766fe297446a6c23e8f3c1de000d340e6430ab2cb7c7127d847e3be8c4a8dea"),
    (dict(v=5, m=5, s=3, L=2, n_c=3), 2,
     "211bf017bfbf958ebfafc81c75278e5dc0b2097abe360669607e5fb99a50d618"),
]  # fmt: skip


@pytest.mark.parametrize(("cfg", "gseed", "digest"), MAIN_DIGESTS)
def test_uniform_grammars_give_the_bytes_of_main(cfg: dict, gseed: int, digest: str) -> None:
    for g in (
        random_grammar(RHMParams(**cfg), seed=gseed),
        # Explicitly uniform weights (through the spec) are the same grammar: same bytes.
        GrammarSpec(RHMParams(**cfg), seed=gseed, rule_probs="zipf:0@1").build().with_probs(
            rule_probs=[np.full((RHMParams(**cfg).vocab(lv), cfg["m"]), 1.0 / cfg["m"])
                        for lv in range(1, cfg["L"] + 1)]
        ),
    ):
        assert g.is_uniform
        h = hashlib.sha256()
        for dseed in (0, 1, 123456789):
            x = sample(g, 3000, seed=dseed, latents=True)
            h.update(x.tokens.tobytes())
            assert x.levels is not None
            for lv in x.levels:
                h.update(lv.tobytes())
        assert h.hexdigest() == digest


WEIGHTED = [
    GrammarSpec(RHMParams(v=6, m=4, s=2, L=3), seed=3, rule_probs="zipf:1", root_probs="zipf:1"),
    GrammarSpec(RHMParams(v=4, m=3, s=3, L=2), seed=1, rule_probs="lognormal:1.5"),
    GrammarSpec(RHMParams(v=6, m=3, s=2, L=3), seed=2, rule_probs="zipf:2",
                ambiguity=0.2),
]  # fmt: skip


@pytest.mark.parametrize("spec", WEIGHTED, ids=["zipf-s2", "lognormal-s3", "zipf-ambiguous"])
def test_rule_frequencies_within_hoeffding(spec: GrammarSpec) -> None:
    g = spec.build()
    p = g.params
    P = 40_000
    x = sample(g, P, seed=11, latents=True)
    assert x.levels is not None
    delta = 1e-6  # failure probability of the whole test (union bound below)
    n_checks = p.n_c + sum(p.vocab(lv) * p.m for lv in range(1, p.L + 1))
    # Root frequencies: P independent draws of the prior.
    eps = math.sqrt(math.log(2 * n_checks / delta) / (2 * P))
    freq = np.bincount(x.labels, minlength=p.n_c) / P
    assert np.abs(freq - g.root_probs).max() <= eps
    # Rule frequencies: the rule of each node is identified by (symbol, children tuple)
    # (tuples are distinct within a parent even in ambiguous grammars). Given the symbols,
    # nodes draw independently, so Hoeffding holds per symbol with n = its node count.
    for level in range(1, p.L + 1):
        parents = x.level(level).reshape(-1).astype(np.int64)
        kids = x.level(level - 1).reshape(-1, p.s).astype(np.int64)
        table = g.rules_of(level)
        for a in np.unique(parents):
            sel = kids[parents == a]
            n = len(sel)
            match = (sel[:, None, :] == table[a][None, :, :]).all(axis=2)
            assert (match.sum(axis=1) == 1).all()  # every node used exactly one of a's rules
            eps_a = math.sqrt(math.log(2 * n_checks / delta) / (2 * n))
            assert np.abs(match.mean(axis=0) - g.rule_probs_of(level)[a]).max() <= eps_a


def test_weighted_chunking_and_start_do_not_change_bytes() -> None:
    g = WEIGHTED[1].build()
    whole = sample(g, 1000, seed=4, latents=True)
    parts = list(iter_samples(g, 1000, seed=4, chunk_size=97, latents=True))
    assert np.array_equal(np.concatenate([c.tokens for c in parts]), whole.tokens)
    assert np.array_equal(sample(g, 10, seed=4, start=500).tokens, whole.tokens[500:510])


def test_zero_weight_rule_never_drawn() -> None:
    g0 = random_grammar(RHMParams(v=4, m=3, s=2, L=2), seed=0)
    w = [np.tile([0.5, 0.0, 0.5], (4, 1))] * 2
    g = g0.with_probs(rule_probs=w, root_probs=[0.0, 1.0, 0.0, 0.0])
    x = sample(g, 5000, seed=1, latents=True)
    assert (x.labels == 1).all()
    forbidden = g.rules_of(1)[:, 1]  # (4, s)
    kids = x.tokens.reshape(-1, 2)
    assert not (kids[:, None, :] == forbidden[None]).all(axis=2).any()


def test_alias_table_reproduces_the_law() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 17):
        p = rng.dirichlet(np.full(n, 0.3))
        thr, ali = alias_table(p)
        law = np.zeros(n)
        keep = thr.astype(np.float64) / 2**32
        np.add.at(law, np.arange(n), keep / n)
        np.add.at(law, ali, (1 - keep) / n)
        assert np.abs(law - p).max() <= 2.0**-31


def test_without_replacement_refused_for_weighted_or_ambiguous() -> None:
    for spec in WEIGHTED:
        with pytest.raises(ValueError, match="replace=False needs a uniform, unambiguous"):
            sample(spec.build(), 5, seed=0, replace=False)


@pytest.mark.parametrize("L", [1, 2, 5])
def test_s2_fast_path_gives_the_general_path_bytes(L: int) -> None:
    """The s = 2, 8-bit kernel (children packed in the alias entries, two nodes per word)
    draws exactly what the general weighted kernel draws."""
    from rhm_theory.model import sampling as S

    g = GrammarSpec(RHMParams(v=6, m=3, s=2, L=L), seed=1, rule_probs="zipf:1",
                    root_probs="zipf:1").build()  # fmt: skip
    fast = sample(g, 700, seed=3, latents=True)
    table, kids, root = S._alias_tables(g)
    assert kids.size  # the fast path is the one that ran
    S._ALIAS_CACHE[id(g)] = (g, (table, np.zeros(0, dtype=np.uint64), root))
    try:
        general = sample(g, 700, seed=3, latents=True)
    finally:
        S._ALIAS_CACHE.pop(id(g))
    assert np.array_equal(fast.tokens, general.tokens)
    assert fast.levels is not None and general.levels is not None
    assert all(np.array_equal(a, b) for a, b in zip(fast.levels, general.levels, strict=True))
