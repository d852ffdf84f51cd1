"""The community's RHM code (``sample_rules``, its data draws) reproduced bit for bit in numpy.

The PyTorch ``RandomHierarchyModel`` dataset of the RHM papers draws its rules with Python's
:mod:`random` (``sample_rules(v, n, m, s, L, seed)``) and its data either with a
``torch.Generator`` (with replacement) or as ``random.sample`` indices into the list of all
trees (without replacement). This module reproduces both without torch, so that the exact
engine, ILC, belief propagation and ``measure`` run on the grammars and data of published
experiments; :mod:`rhm_theory.torch` builds the drop-in dataset on it.

Level numbering: the community's ``rules[0]`` holds the root's rules (shape ``(n, m, s)``) and
``rules[i]`` the rules ``i`` levels below the root, i.e. level ``L - i`` of this library.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample
from rhm_theory.validation import check_int

__all__ = [
    "community_grammar",
    "community_indices",
    "community_rules",
    "community_sample",
    "community_trees",
    "grammar_from_community_rules",
    "torch_mt19937",
]

#: Largest chunk of base-``m`` digits read from a Python integer at once (below int64).
_CHUNK_BITS = 62


def _check_any_seed(name: str, value: object) -> int:
    # Python's random.seed and torch.manual_seed take any integer; keep it an integer.
    return check_int(name, value, minimum=-(2**63), maximum=2**64 - 1)


def community_grammar(params: RHMParams, seed: int = 0) -> Grammar:
    """The grammar ``sample_rules(v, n_c, m, s, L, seed)`` of the community code draws.

    ``random.seed(seed)`` then, the root level first, ``random.sample`` of ``n_c * m`` (root)
    or ``v * m`` (every lower level) tuples from the ``v**s`` tuples in lexicographic order
    (``itertools.product``), dealt into groups of ``m`` per symbol. The draws come from a
    private ``random.Random(seed)`` (same stream; the global state is never touched).

    Parameters
    ----------
    params : RHMParams
    seed : int, default 0
        The community's ``seed_rules``.

    Returns
    -------
    Grammar
        Bit-identical to the community's rule tables (see :func:`community_rules`).

    Examples
    --------
    >>> g = community_grammar(RHMParams(v=4, m=2, s=2, L=2, n_c=2), seed=0)
    >>> community_rules(g)[0].shape  # the root's rules, community layout
    (2, 2, 2)
    >>> g == community_grammar(RHMParams(v=4, m=2, s=2, L=2, n_c=2), seed=0)
    True
    """
    if not isinstance(params, RHMParams):
        raise TypeError(f"params must be an RHMParams, got {type(params).__name__}")
    rng = random.Random(_check_any_seed("seed", seed))
    v, m, s = params.v, params.m, params.s
    tables: list[npt.NDArray[np.int64]] = []
    for level in range(params.L, 0, -1):  # the community draws the root's rules first
        n_sym = params.vocab(level)
        # random.sample picks by index only, so sampling range(v**s) picks the same
        # positions of the product list without building it.
        codes = np.array(rng.sample(range(v**s), n_sym * m), dtype=np.int64)
        digits = np.stack(np.unravel_index(codes, (v,) * s), axis=-1)
        tables.append(digits.reshape(n_sym, m, s))
    return Grammar(params, tables[::-1])


def community_rules(grammar: Grammar) -> dict[int, npt.NDArray[np.int64]]:
    """A grammar's rule tables in the community's layout: ``{0: root rules, ..., L-1: ...}``.

    ``rules[i]`` is level ``L - i`` of the grammar, an int64 array of shape
    ``(vocab, m, s)``: what ``sample_rules`` returns (as numpy arrays; ``torch.as_tensor``
    turns them into its tensors).

    Raises
    ------
    ValueError
        If the grammar has non-uniform rule or root weights (the community format holds
        tables only; its data are uniform).

    Examples
    --------
    >>> g = community_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=5)
    >>> grammar_from_community_rules(community_rules(g)) == g
    True
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    if not grammar.is_uniform:
        raise ValueError(
            "community rules hold tables only (uniform rule and root weights); this grammar "
            "is weighted, so its weights would be lost"
        )
    L = grammar.params.L
    return {i: np.array(grammar.rules_of(L - i), dtype=np.int64) for i in range(L)}


def grammar_from_community_rules(
    rules: Mapping[int, Any] | Sequence[Any], num_features: int | None = None
) -> Grammar:
    """The :class:`Grammar` of a community rules dict (``sample_rules``' output, ``get_rules()``).

    Parameters
    ----------
    rules : mapping or sequence
        ``{0: (n, m, s), 1: (v, m, s), ..., L-1: (v, m, s)}`` tables (numpy arrays, nested
        lists or CPU torch tensors), the root's first; a list in that order also works.
    num_features : int, optional
        The vocabulary ``v``; read from ``rules[1]`` when ``L >= 2``, required for ``L = 1``.

    Returns
    -------
    Grammar
        With uniform weights (the community's model).

    Raises
    ------
    ValueError
        If the keys are not ``0..L-1``, a table is not 3-dimensional, shapes disagree, or
        ``num_features`` is missing for ``L = 1`` or contradicts the tables.

    Examples
    --------
    >>> g = grammar_from_community_rules({0: [[[0, 1]], [[1, 1]]]}, num_features=2)
    >>> g.params.L, g.params.n_c, g.rules_of(1).tolist()
    (1, 2, [[[0, 1]], [[1, 1]]])
    """
    if isinstance(rules, Mapping):
        keys = sorted(rules)
        if keys != list(range(len(keys))) or not keys:
            raise ValueError(f"rules must have the keys 0..L-1 (root first), got {keys}")
        tables = [np.asarray(rules[k]) for k in keys]
    elif isinstance(rules, Sequence) and not isinstance(rules, (str, bytes)) and len(rules):
        tables = [np.asarray(t) for t in rules]
    else:
        raise TypeError("rules must be a non-empty dict {level index: table} or a list")
    for i, t in enumerate(tables):
        if t.ndim != 3:
            raise ValueError(f"rules[{i}] must have shape (symbols, m, s), got {t.shape}")
    n_c, m, s = (int(x) for x in tables[0].shape)
    if len(tables) >= 2:
        v = int(tables[1].shape[0])
        if num_features is not None and check_int("num_features", num_features) != v:
            raise ValueError(f"num_features={num_features} but rules[1] has {v} symbols")
    elif num_features is None:
        raise ValueError("num_features is required for L = 1 (the tables do not show v)")
    else:
        v = check_int("num_features", num_features, minimum=2)
    params = RHMParams(v=v, m=m, s=s, L=len(tables), n_c=n_c)
    return Grammar(params, tables[::-1])


def torch_mt19937(seed: int) -> np.random.MT19937:
    """A numpy MT19937 in the state of ``torch.Generator().manual_seed(seed)`` on the CPU.

    torch seeds its Mersenne Twister with the low 32 bits of the seed (the reference
    ``init_genrand``); ``torch.randint(low, high, ...)`` with ``high - low < 2**32`` then
    takes one 32-bit output per element, in row-major order, and returns
    ``low + output % (high - low)``. ``random_raw`` of the returned generator gives those
    outputs.

    Parameters
    ----------
    seed : int
        The ``torch.Generator`` seed (any integer ``torch.manual_seed`` takes).

    Returns
    -------
    numpy.random.MT19937

    Examples
    --------
    >>> torch_mt19937(5489).random_raw(2).tolist()  # the reference MT19937's first outputs
    [3499211612, 581869302]
    """
    key = np.empty(624, dtype=np.uint32)
    x = _check_any_seed("seed", seed) & 0xFFFFFFFF
    for j in range(624):
        key[j] = x
        x = (1812433253 * (x ^ (x >> 30)) + j + 1) & 0xFFFFFFFF
    bit_generator = np.random.MT19937()
    bit_generator.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": 624}}
    return bit_generator


def community_indices(P_max: int, P: int, seed: int) -> list[int]:
    """The tree indices the community's sampler without replacement draws.

    ``random.seed(seed); random.sample(range(P_max), P)``, from a private
    ``random.Random(seed)``. ``random.sample`` cannot take a range longer than ``2**63 - 1``;
    beyond, this continues its algorithm for large populations (``randrange(P_max)``,
    redrawn while already selected) in exact Python integers: the indices
    ``random.sample`` would return if it could.

    >>> community_indices(10, 3, seed=0) == random.Random(0).sample(range(10), 3)
    True
    """
    P_max = check_int("P_max", P_max, minimum=1)
    P = check_int("P", P, minimum=0, maximum=P_max)
    rng = random.Random(_check_any_seed("seed", seed))
    if P_max < 2**63:
        return rng.sample(range(P_max), P)
    selected: set[int] = set()
    out = []
    for _ in range(P):
        j = rng.randrange(P_max)
        while j in selected:
            j = rng.randrange(P_max)
        selected.add(j)
        out.append(j)
    return out


def _n_internal(params: RHMParams) -> int:
    return int((params.s**params.L - 1) // (params.s - 1))


def _tree_digits(
    indices: Sequence[int] | npt.NDArray[np.integer[Any]], params: RHMParams
) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    # Community index = label * m**N + rules read as N base-m digits, most significant first,
    # one per internal node in breadth-first order (the root's rule first).
    m, n_nodes = params.m, _n_internal(params)
    per_class = m**n_nodes
    count = len(indices)
    digits = np.zeros((count, n_nodes), dtype=np.uint8 if m <= 256 else np.int64)
    if m == 1:
        return np.asarray(indices, dtype=np.int64).reshape(count), digits
    k = max(1, _CHUNK_BITS // max(1, (m - 1).bit_length()))  # digits per int64 chunk
    while m**k >= 2**_CHUNK_BITS:
        k -= 1
    n_chunks = -(-n_nodes // k)
    base = m**k
    if params.P_max < 2**63:
        arr = np.asarray(indices, dtype=np.int64).reshape(count)
        labels, rest = np.divmod(arr, np.int64(per_class))  # per_class <= P_max < 2**63
        chunks = np.empty((count, n_chunks), dtype=np.int64)
        for c in range(n_chunks):
            rest, chunks[:, c] = np.divmod(rest, np.int64(base))
    else:
        label_list, chunk_rows = [], []
        for idx in indices:
            label, rest_int = divmod(int(idx), per_class)
            label_list.append(label)
            row = []
            for _ in range(n_chunks):
                rest_int, low = divmod(rest_int, base)
                row.append(low)
            chunk_rows.append(row)
        labels = np.array(label_list, dtype=np.int64)
        chunks = np.array(chunk_rows, dtype=np.int64).reshape(count, n_chunks)
    for c in range(n_chunks):  # chunk c holds digits n_nodes-1-c*k (least significant) down
        col = chunks[:, c]
        for t in range(k):
            pos = n_nodes - 1 - (c * k + t)
            if pos < 0:
                break
            col, d = np.divmod(col, np.int64(m))
            digits[:, pos] = d
    return labels, digits


# -- kernels: torch's CPU Mersenne Twister and the level-by-level expansion -----------------
# The state is 624 words held in uint64 (values below 2**32) so that every operation stays
# unsigned 64-bit (numba turns uint64 mixed with int64 into float64).


@nb.njit(cache=True)
def _mt_twist(mt: npt.NDArray[np.uint64]) -> None:
    upper, lower = np.uint64(0x80000000), np.uint64(0x7FFFFFFF)
    matrix, one, zero = np.uint64(0x9908B0DF), np.uint64(1), np.uint64(0)
    for i in range(624):  # the reference refill; the branch-free select keeps it vectorisable
        nxt = i + 1 if i < 623 else 0
        far = i + 397 if i < 227 else i - 227
        y = (mt[i] & upper) | (mt[nxt] & lower)
        mt[i] = mt[far] ^ (y >> one) ^ (matrix if y & one else zero)


@nb.njit(cache=True, inline="always")
def _mt_next(mt: npt.NDArray[np.uint64], pos: int) -> tuple[np.uint64, int]:
    if pos >= 624:
        _mt_twist(mt)
        pos = 0
    y = mt[pos]
    y ^= y >> np.uint64(11)
    y ^= (y << np.uint64(7)) & np.uint64(0x9D2C5680)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    y ^= y >> np.uint64(18)
    return y & np.uint64(0xFFFFFFFF), pos + 1


@nb.njit(cache=True)
def _mt_labels(mt: npt.NDArray[np.uint64], pos: int, n: int,
               out: npt.NDArray[np.int64]) -> int:
    # torch.randint(0, n, size): one 32-bit output per element, modulo the range.
    un = np.uint64(n)
    for i in range(out.shape[0]):
        y, pos = _mt_next(mt, pos)
        out[i] = np.int64(y % un)
    return pos


@nb.njit(cache=True)
def _expand_mt(table: npt.NDArray[Any], x: npt.NDArray[Any], out: npt.NDArray[Any], m: int,
               s: int, mt: npt.NDArray[np.uint64], pos: int) -> int:
    # One rule per node, drawn row-major over (rows, nodes) as torch.randint(0, m, x.shape).
    um = np.uint64(m)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            y, pos = _mt_next(mt, pos)
            q = (np.int64(x[i, j]) * m + np.int64(y % um)) * s
            for k in range(s):
                out[i, j * s + k] = table[q + k]
    return pos


@nb.njit(cache=True)
def _expand_digits(table: npt.NDArray[Any], x: npt.NDArray[Any], digits: npt.NDArray[Any],
                   out: npt.NDArray[Any], m: int, s: int) -> None:
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            q = (np.int64(x[i, j]) * m + np.int64(digits[i, j])) * s
            for k in range(s):
                out[i, j * s + k] = table[q + k]


def _mt_state(seed: int) -> npt.NDArray[np.uint64]:
    key: npt.NDArray[np.uint64] = torch_mt19937(seed).state["state"]["key"].astype(np.uint64)
    return key


def _expand(
    grammar: Grammar,
    labels: npt.NDArray[np.integer[Any]],
    fill: Callable[[int, npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]], None],
    latents: bool,
) -> Sample:
    # Level by level from the root, as the community does: fill(i, table, x, out) writes the
    # children (community level i + 1) of the nodes x of community level i.
    p = grammar.params
    count = len(labels)
    x = np.asarray(labels).astype(p.dtype).reshape(count, 1)
    levels = [x]
    for i in range(p.L):
        table = np.ascontiguousarray(grammar.rules_of(p.L - i), dtype=p.dtype).ravel()
        out = np.empty((count, x.shape[1] * p.s), dtype=p.dtype)
        fill(i, table, x, out)
        x = out
        levels.append(x)
    lat = tuple(levels[p.L - level] for level in range(1, p.L + 1)) if latents else None
    return Sample(x, lat)


def community_trees(
    grammar: Grammar, indices: Sequence[int] | npt.NDArray[np.integer[Any]], *,
    latents: bool = False,
) -> tuple[Sample, npt.NDArray[np.int64]]:
    """Decode community tree indices (``sample_data_from_indices``) into strings and labels.

    Index ``I`` in ``[0, P_max)``: the label is ``I // m**N`` (``N`` internal nodes) and the
    remainder, written with ``N`` base-``m`` digits most significant first, gives the rule of
    every internal node in breadth-first order (root first, each level left to right).
    Python integers beyond int64 are decoded exactly.

    Parameters
    ----------
    grammar : Grammar
    indices : sequence of int
        Tree indices, each in ``[0, P_max)``.
    latents : bool, default False
        Also return every latent level.

    Returns
    -------
    (Sample, ndarray)
        The strings (and latents) and the int64 labels (root symbols).

    Examples
    --------
    >>> g = community_grammar(RHMParams(v=4, m=2, s=2, L=1, n_c=2), seed=0)
    >>> x, y = community_trees(g, [0, 1, 2, 3])
    >>> y.tolist(), bool((x.tokens[1] == g.rules_of(1)[0, 1]).all())
    ([0, 0, 1, 1], True)
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    ints = [int(i) for i in indices] if not isinstance(indices, np.ndarray) else indices
    if len(ints) and (min(ints) < 0 or max(ints) >= p.P_max):
        raise ValueError(f"indices must lie in [0, P_max) = [0, {p.P_max})")
    labels, digits = _tree_digits(ints, p)
    offsets = [(p.s**i - 1) // (p.s - 1) for i in range(p.L)]

    def fill(i: int, table: npt.NDArray[Any], x: npt.NDArray[Any],
             out: npt.NDArray[Any]) -> None:
        _expand_digits(table, x, digits[:, offsets[i] : offsets[i] + p.s**i], out, p.m, p.s)

    return _expand(grammar, labels, fill, latents), labels


def community_sample(
    grammar: Grammar,
    P: int,
    seed: int,
    *,
    replace: bool,
    latents: bool = False,
) -> tuple[Sample, npt.NDArray[np.int64]]:
    """The ``P`` strings and labels the community code draws for ``seed_sample = seed``.

    With replacement (``sample_with_replacement``): a ``torch.Generator`` seeded with
    ``seed`` draws the labels ``randint(0, n_c, (P,))``, then, level by level from the root,
    one rule per node ``randint(0, m, (P, s**l))``; reproduced through :func:`torch_mt19937`
    in chunks (memory of the output only). Without replacement
    (``sample_without_replacement``): the indices :func:`community_indices` decoded by
    :func:`community_trees`.

    Parameters
    ----------
    grammar : Grammar
        A uniform grammar (the community's rules, e.g. :func:`community_grammar`).
    P : int
        Number of strings (``train_size + test_size`` of the community class).
    seed : int
        The community's ``seed_sample``.
    replace : bool
        Sample with replacement (``torch.Generator`` draws) or without (``random.sample``).
    latents : bool, default False
        Also return every latent level.

    Returns
    -------
    (Sample, ndarray)
        Tokens in the grammar's symbol dtype (and latents) and the int64 labels.

    Examples
    --------
    >>> g = community_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> x, y = community_sample(g, 5, seed=1, replace=True)
    >>> x.tokens.shape, x.tokens.dtype.name, y.shape
    ((5, 8), 'uint8', (5,))
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    if not grammar.is_uniform:
        raise ValueError("the community's sampler draws uniform rules: pass a uniform grammar")
    p = grammar.params
    P = check_int("P", P, minimum=0)
    seed = _check_any_seed("seed", seed)
    if not replace:
        if P > p.P_max:
            raise ValueError(
                f"P must satisfy P <= P_max = {p.P_max} without replacement, got P={P}")
        return community_trees(grammar, community_indices(p.P_max, P, seed), latents=latents)
    mt = _mt_state(seed)
    labels = np.empty(P, dtype=np.int64)
    pos = _mt_labels(mt, 624, p.n_c, labels)

    def fill(i: int, table: npt.NDArray[Any], x: npt.NDArray[Any],
             out: npt.NDArray[Any]) -> None:
        nonlocal pos  # the levels continue one stream, as torch's Generator does
        pos = _expand_mt(table, x, out, p.m, p.s, mt, pos)

    return _expand(grammar, labels, fill, latents), labels
