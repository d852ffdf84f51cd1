"""Parser (bottom-up look-up) and regular-tree helpers, including their doctests."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rhm_theory.model.grammar_io
import rhm_theory.model.parsing
import rhm_theory.model.sampling
import rhm_theory.model.tree
from rhm_theory.model import Grammar, RHMParams, random_grammar
from rhm_theory.model.parsing import is_grammatical, parse, validate_tokens
from rhm_theory.model.sampling import sample
from rhm_theory.model.tree import (
    children,
    cousin_positions,
    derivation_tree,
    lca,
    lca_level,
    leaves_under,
    parent,
    position_in_parent,
    siblings,
    tree_distance,
)


@pytest.mark.parametrize(
    "module",
    [
        rhm_theory.model.parsing,
        rhm_theory.model.tree,
        rhm_theory.model.sampling,
        rhm_theory.model.grammar_io,
    ],
)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


# -- parsing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cfg",
    [dict(v=8, m=4, s=2, L=4), dict(v=3, m=3, s=3, L=3, n_c=2), dict(v=5000, m=2, s=2, L=2)],
    ids=["s2", "s3", "sparse-lookup"],
)
def test_parse_recovers_sampled_latents(cfg: dict) -> None:
    g = random_grammar(RHMParams(**cfg), seed=1)
    x = sample(g, 500, seed=2, latents=True)
    levels = parse(g, x.tokens)
    assert len(levels) == g.params.L
    for lv, got in enumerate(levels, start=1):
        assert got.dtype == g.params.dtype
        assert np.array_equal(got, x.level(lv))
    assert is_grammatical(g, x.tokens).all()
    one = parse(g, x.tokens[3])
    assert [a.tolist() for a in one] == [lvl[3].tolist() for lvl in levels]
    assert is_grammatical(g, x.tokens[3]).shape == ()


def test_corrupted_token_marks_its_whole_path_unknown() -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=3)  # f = 1/4
    p = g.params
    x = sample(g, 200, seed=4, latents=True)
    pos = 5
    for mode in ("marker", "swap"):
        bad = x.tokens.copy()
        if mode == "marker":
            bad[:, pos] = p.unknown
            rows = np.arange(200)
        else:
            # Replace the token so that its level-1 tuple becomes ungrammatical.
            sib = pos ^ 1
            rows_l, new = [], []
            for i in range(200):
                for b in range(p.v):
                    t = (bad[i, sib], b) if pos % 2 else (b, bad[i, sib])
                    if g.parent_of(1, [t])[0] == p.unknown:
                        rows_l.append(i)
                        new.append(b)
                        break
            rows = np.asarray(rows_l)
            bad[rows, pos] = new
            assert len(rows) > 150
        levels = parse(g, bad[rows])
        for lv in range(1, p.L + 1):
            on_path = pos // p.s**lv
            got = levels[lv - 1]
            assert (got[:, on_path] == p.unknown).all()
            off = np.delete(np.arange(p.nodes_at_level(lv)), on_path)
            assert np.array_equal(got[:, off], x.level(lv)[rows][:, off])
        assert not is_grammatical(g, bad[rows]).any()


@pytest.mark.parametrize(
    ("tokens", "match"),
    [
        (np.zeros((2, 8), dtype=np.uint8), r"tokens must have shape \(P, s\*\*L\) or \(s\*\*L,\)"),
        (np.zeros((2, 2, 16), dtype=np.uint8), r"s\*\*L = 16, got shape \(2, 2, 16\)"),
        (np.zeros(15, dtype=np.uint8), r"got shape \(15,\)"),
        (np.zeros((2, 16)), r"tokens must have an integer dtype .*, got float64"),
        (np.zeros((2, 16), dtype=bool), r"tokens must have an integer dtype .*, got bool"),
        (np.full((2, 16), 8), r"symbols in \[0, v\) = \[0, 8\) or the unknown marker 255, found 8"),
        (np.full((2, 16), -1), r"found -1"),
    ],
)
def test_parse_rejects_bad_tokens(tokens: np.ndarray, match: str) -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    # A wrong dtype is a TypeError, a wrong shape or value a ValueError (shared validators).
    exc = TypeError if "dtype" in match else ValueError
    with pytest.raises(exc, match=match):
        parse(g, tokens)
    with pytest.raises(exc, match=match):
        is_grammatical(g, tokens)


def test_validate_tokens_accepts_marker_and_lists() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=1), seed=0)
    arr = validate_tokens(g, [[0, 255], [3, 3]])
    assert arr.shape == (2, 2)
    with pytest.raises(TypeError, match=r"grammar must be a Grammar"):
        parse("g", [0, 1])  # type: ignore[arg-type]


def test_is_grammatical_matches_brute_force() -> None:
    g = random_grammar(RHMParams(v=3, m=2, s=2, L=2), seed=5)
    p = g.params
    every = np.array(list(itertools.product(range(p.v), repeat=p.string_length)), np.uint8)
    gram = is_grammatical(g, every)
    assert gram.sum() == p.P_max  # unambiguous: P_max distinct grammatical strings
    generated = {tuple(r) for r in sample(g, p.P_max, seed=0, replace=False).tokens.tolist()}
    assert {tuple(r) for r in every[gram].tolist()} == generated


# -- tree helpers ---------------------------------------------------------------------------
leaf = st.integers(0, 10**6)
branch = st.integers(2, 5)


def _lca_brute(i: int, j: int, s: int) -> int:
    level = 0
    while i // s**level != j // s**level:
        level += 1
    return level


@given(i=leaf, j=leaf, k=leaf, s=branch)
def test_lca_level_and_distance_properties(i: int, j: int, k: int, s: int) -> None:
    assert lca_level(i, j, s) == lca_level(j, i, s) == _lca_brute(i, j, s)
    d = tree_distance
    assert d(i, i, s) == 0 and (d(i, j, s) == 0) == (i == j)
    assert d(i, j, s) == d(j, i, s)
    assert d(i, k, s) <= d(i, j, s) + d(j, k, s)
    assert d(i, k, s) <= max(d(i, j, s), d(j, k, s))  # ultrametric: a rooted regular tree
    assert lca((0, i), (0, j), s) == (lca_level(i, j, s), i // s ** lca_level(i, j, s))


@given(i=st.lists(leaf, min_size=1, max_size=20), j=leaf, s=branch)
def test_lca_level_vectorised(i: list[int], j: int, s: int) -> None:
    got = lca_level(np.array(i), j, s)
    assert isinstance(got, np.ndarray)
    assert got.tolist() == [_lca_brute(a, j, s) for a in i]
    assert tree_distance(np.array(i), j, s).tolist() == [2 * x for x in got.tolist()]


@given(level=st.integers(0, 6), index=st.integers(0, 10**4), s=branch, other=st.integers(0, 6))
def test_node_helpers_are_consistent(level: int, index: int, s: int, other: int) -> None:
    par = parent(level, index, s)
    assert par == (level + 1, index // s)
    assert (level, index) in children(*par, s)
    assert children(*par, s)[position_in_parent(index, s)] == (level, index)
    leaves = leaves_under(level, index, s)
    assert len(leaves) == s**level
    assert all(i // s**level == index for i in (leaves.start, leaves.stop - 1))
    # LCA with an ancestor is the ancestor; LCA is symmetric.
    anc = (level + other, index // s**other)
    assert lca((level, index), anc, s) == anc == lca(anc, (level, index), s)
    assert lca(par, (level, index), s) == par


def test_siblings_and_cousins_by_definition() -> None:
    s, L = 3, 3
    for level in range(1, L):
        for index in range(s ** (L - level)):
            sibs = siblings(level, index, s, L)
            assert len(sibs) == s - 1 and index not in sibs
            assert all(parent(level, u, s) == parent(level, index, s) for u in sibs)
            cous = cousin_positions(level, index, s, L)
            assert len(cous) == s - 1
            for u, row in zip(sibs, cous, strict=True):
                assert row == tuple(ix for _, ix in children(level, u, s))
                # Cousins are at tree distance 4 from the children of u (LCA two levels up).
                for c in row:
                    for _, t in children(level, index, s):
                        assert lca((level - 1, c), (level - 1, t), s)[0] == level + 1


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: lca_level(-1, 2, 2), ValueError, r"i must hold leaf positions >= 0"),
        (lambda: lca_level(1.5, 2, 2), TypeError, r"i must have an integer dtype"),
        (lambda: lca_level(1, 2, 1), ValueError, r"s must satisfy s >= 2"),
        (lambda: tree_distance(0, [True], 2), TypeError, r"j must have an integer dtype"),
        (lambda: lca((0, 1), (1,), 2), TypeError, r"node_b must be a \(level, index\) pair"),
        (lambda: lca((0, 9), (0, 1), 2, L=3), ValueError, r"node_a: index must satisfy"),
        (lambda: lca((4, 0), (0, 1), 2, L=3), ValueError, r"0 <= level <= L=3"),
        (lambda: children(0, 3, 2), ValueError, r"leaves have no children"),
        (lambda: children(1, -1, 2), ValueError, r"index must satisfy index >= 0"),
        (lambda: parent(3, 0, 2, L=3), ValueError, r"the root has no parent"),
        (lambda: parent(1, 4, 2, L=3), ValueError, r"index < s\*\*\(L-level\) = 4"),
        (lambda: siblings(3, 0, 2, 3), ValueError, r"the root has no siblings"),
        (lambda: cousin_positions(0, 0, 2, 3), ValueError, r"1 <= level <= L-1 = 2"),
        (lambda: cousin_positions(3, 0, 2, 3), ValueError, r"1 <= level <= L-1"),
        (lambda: position_in_parent(2, True), TypeError, r"s must be an integer"),
        (lambda: leaves_under(1, 2.0, 2), TypeError, r"index must be an integer"),
    ],
)
def test_tree_helpers_validate(call: object, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()  # type: ignore[operator]


def test_derivation_tree_from_tokens_and_sample() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    p = g.params
    x = sample(g, 5, seed=1, latents=True)
    t1 = derivation_tree(g, x.tokens[2])
    t2 = derivation_tree(g, x, row=2)
    t3 = derivation_tree(g, sample(g, 5, seed=1), row=2)  # no latents: parsed
    n_nodes = (p.s ** (p.L + 1) - 1) // (p.s - 1)
    assert t1.number_of_nodes() == n_nodes and t1.number_of_edges() == n_nodes - 1
    for t in (t2, t3):
        assert dict(t1.nodes(data=True)) == dict(t.nodes(data=True))
        assert list(t1.edges(data=True)) == list(t.edges(data=True))
    assert t1.nodes[(p.L, 0)]["symbol"] == int(x.labels[2])
    assert t1.in_degree((p.L, 0)) == 0
    for lv in range(p.L + 1):
        for ix in range(p.nodes_at_level(lv)):
            node = t1.nodes[(lv, ix)]
            assert (node["level"], node["index"]) == (lv, ix)
            assert node["symbol"] == int(x.level(lv)[2, ix])
            if lv:
                kids = sorted(t1.successors((lv, ix)))
                assert kids == list(children(lv, ix, p.s))
                rule = [t1.nodes[k]["symbol"] for k in kids]
                assert rule in g.rules_of(lv)[node["symbol"]].tolist()
                assert [t1.edges[(lv, ix), k]["position"] for k in kids] == list(range(p.s))


def test_derivation_tree_errors() -> None:
    g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    x = sample(g, 3, seed=1)
    bad = x.tokens[0].copy()
    bad[0] = g.params.unknown
    with pytest.raises(ValueError, match=r"not grammatical"):
        derivation_tree(g, bad)
    with pytest.raises(ValueError, match=r"row must be given with a Sample"):
        derivation_tree(g, x)
    with pytest.raises(ValueError, match=r"row must satisfy 0 <= row < len\(sample\) = 3"):
        derivation_tree(g, x, row=3)
    with pytest.raises(ValueError, match=r"row is only allowed with a Sample"):
        derivation_tree(g, x.tokens[0], row=0)
    with pytest.raises(ValueError, match=r"one string of shape \(s\*\*L,\) = \(4,\)"):
        derivation_tree(g, x.tokens)
    with pytest.raises(TypeError, match=r"grammar must be a Grammar"):
        derivation_tree(None, x.tokens[0])  # type: ignore[arg-type]


def test_grammar_type_in_parse_module() -> None:
    # A Grammar built by hand parses as documented.
    g = Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2), [[[[0, 1]], [[1, 1]]]])
    assert [lv.tolist() for lv in parse(g, [[0, 1], [1, 0]])] == [[[0], [255]]]


# -- ambiguous grammars and s = 3 ------------------------------------------------------------
def test_parse_reports_ambiguity_honestly() -> None:
    from rhm_theory.model import AMBIGUOUS, sample

    g = random_grammar(RHMParams(v=6, m=3, s=3, L=2), seed=2, ambiguity=0.3)
    assert g.is_ambiguous
    x = sample(g, 400, seed=1, latents=True)
    assert x.levels is not None
    codes, parents = g.grammatical_codes(1)
    shared = np.unique(codes[np.flatnonzero(np.diff(codes) == 0)])
    assert shared.size and (g.parent_codes(1, shared) == AMBIGUOUS).all()
    # Every parent of a shared tuple is listed (what BP needs).
    for c in shared:
        assert len(set(parents[codes == c].tolist())) >= 2
    with pytest.raises(ValueError, match=r"several parents .* belief propagation"):
        parse(g, x.tokens)
    with pytest.raises(ValueError, match="unambiguous grammar"):
        is_grammatical(g, x.tokens)
    levels = parse(g, x.tokens, on_ambiguous="unknown")
    # Unknown exactly where a node's children tuple is shared (or below an unknown one);
    # elsewhere the parse equals the generator's latents.
    lv1 = levels[0]
    tup = x.tokens.reshape(len(x), -1, 3).astype(np.int64)
    amb_node = np.isin(tup @ np.array([36, 6, 1]), shared)
    assert (lv1[amb_node] == g.params.unknown).all()
    assert np.array_equal(lv1[~amb_node], x.level(1)[~amb_node])
    with pytest.raises(ValueError, match="on_ambiguous must be one of"):
        parse(g, x.tokens, on_ambiguous="guess")
    with pytest.raises(ValueError, match="several parents"):
        g.parent_of(1, [tuple(int(d) for d in np.unravel_index(int(shared[0]), (6, 6, 6)))])


def test_unambiguous_default_and_explicit_ambiguity() -> None:
    from rhm_theory.model import Grammar

    p = RHMParams(v=2, m=1, s=3, L=1, n_c=2)
    with pytest.raises(ValueError, match="ambiguous: tuple \\(0, 1, 1\\) is produced by"):
        Grammar(p, [[[[0, 1, 1]], [[0, 1, 1]]]])
    g = Grammar(p, [[[[0, 1, 1]], [[0, 1, 1]]]], allow_ambiguous=True)
    assert g.is_ambiguous
    assert not Grammar(p, [[[[0, 1, 1]], [[1, 1, 1]]]], allow_ambiguous=True).is_ambiguous
    with pytest.raises(ValueError, match="symbol 0 lists the tuple \\(0, 0, 1\\) twice"):
        Grammar(RHMParams(v=2, m=2, s=3, L=1, n_c=2),
                [[[[0, 0, 1], [0, 0, 1]], [[1, 1, 1], [1, 0, 1]]]], allow_ambiguous=True)
    for eps, exc in ((-0.1, ValueError), (0.6, ValueError), (float("nan"), ValueError),
                     ("0.1", TypeError)):
        with pytest.raises(exc, match="ambiguity"):
            random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0, ambiguity=eps)  # type: ignore[arg-type]


def test_derivation_tree_s3_and_lazy_networkx() -> None:
    import subprocess
    import sys

    g = random_grammar(RHMParams(v=3, m=2, s=3, L=2), seed=0)
    from rhm_theory.model import sample

    x = sample(g, 3, seed=0, latents=True)
    t = derivation_tree(g, x, row=1)
    assert t.number_of_nodes() == 9 + 3 + 1 and t.number_of_edges() == 12
    code = "import sys, rhm_theory, rhm_theory.model; print('networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    assert out.stdout.strip() == "False"
