"""Rule tables of a Random Hierarchy Model and their constructors (random, balanced, explicit)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.model.params import RHMParams

__all__ = [
    "DENSE_LOOKUP_MAX",
    "Grammar",
    "balanced_grammar",
    "random_grammar",
    "tuple_codes",
]

IntArray = npt.NDArray[np.int64]

#: Above this many tuple codes (``v**s``) the parent look-up uses binary search, not a table.
DENSE_LOOKUP_MAX = 2**24


def tuple_codes(tuples: npt.ArrayLike, v: int) -> IntArray:
    """Integer codes of s-tuples: ``sum_j t[..., j] * v**(s-1-j)`` (first entry most significant).

    >>> tuple_codes([[0, 1], [2, 3]], v=4).tolist()
    [1, 11]
    """
    t = np.asarray(tuples, dtype=np.int64)
    s = t.shape[-1]
    weights = np.int64(v) ** np.arange(s - 1, -1, -1, dtype=np.int64)
    return np.asarray(t @ weights, dtype=np.int64)


class Grammar:
    """The production rules of every level of an RHM.

    ``rules[l-1]`` (for ``l = 1..L``) is an int64 array of shape ``(vocab(l), m, s)``:
    ``rules[l-1][a, r]`` is the r-th s-tuple of level-``(l-1)`` symbols produced by symbol
    ``a`` of level ``l``. Tables are validated on construction (shapes, symbol ranges,
    distinct rules, unambiguity) and stored read-only; a ``Grammar`` is immutable.

    Parameters
    ----------
    params : RHMParams
        The model parameters the tables must match.
    rules : sequence of array_like
        ``L`` tables, level 1 first.

    Raises
    ------
    ValueError
        If a table has the wrong shape, holds an out-of-range symbol, repeats a rule, or
        assigns one tuple to two parents.

    Examples
    --------
    >>> p = RHMParams(v=2, m=1, s=2, L=1, n_c=2)
    >>> g = Grammar(p, [[[[0, 1]], [[1, 1]]]])
    >>> g.parent_of(1, [[1, 1], [0, 1], [0, 0]]).tolist()  # 255 marks "no parent"
    [1, 0, 255]
    """

    def __init__(self, params: RHMParams, rules: Sequence[npt.ArrayLike]) -> None:
        if not isinstance(params, RHMParams):
            raise TypeError(f"params must be an RHMParams, got {type(params).__name__}")
        if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
            raise TypeError("rules must be a sequence of L rule tables (level 1 first)")
        if len(rules) != params.L:
            raise ValueError(
                f"rules must hold one table per level 1..L (L={params.L}), got {len(rules)}"
            )
        tables = []
        for level, raw in enumerate(rules, start=1):
            tables.append(_validated_table(params, level, raw))
        self._params = params
        self._rules = tuple(tables)

    # -- basic accessors ----------------------------------------------------------------
    @property
    def params(self) -> RHMParams:
        """The model parameters."""
        return self._params

    @property
    def rules(self) -> tuple[IntArray, ...]:
        """Read-only rule tables, ``rules[l-1]`` of shape ``(vocab(l), m, s)``."""
        return self._rules

    def rules_of(self, level: int) -> IntArray:
        """Rule table of ``level`` (1..L), shape ``(vocab(level), m, s)``."""
        return self._rules[self._params.check_level(level, 1, self._params.L) - 1]

    def rule_probs_of(self, level: int) -> npt.NDArray[np.float64]:
        """Rule probabilities ``w_a(r)`` of ``level`` (1..L), shape ``(vocab(level), m)``.

        Row ``a`` is the law of the rule that symbol ``a`` picks; uniform (``1/m``) in the
        RHM of the paper.

        >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
        >>> g.rule_probs_of(1)[0].tolist()
        [0.5, 0.5]
        """
        p = self._params
        level = p.check_level(level, 1, p.L)
        return np.full((p.vocab(level), p.m), 1.0 / p.m)

    @property
    def root_probs(self) -> npt.NDArray[np.float64]:
        """Prior of the root symbol, shape ``(n_c,)``; uniform in the RHM of the paper."""
        return np.full(self._params.n_c, 1.0 / self._params.n_c)

    def __repr__(self) -> str:
        p = self._params
        return f"Grammar(v={p.v}, m={p.m}, s={p.s}, L={p.L}, n_c={p.n_c})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grammar):
            return NotImplemented
        return self._params == other._params and all(
            np.array_equal(a, b) for a, b in zip(self._rules, other._rules, strict=True)
        )

    def __hash__(self) -> int:
        return hash((self._params, tuple(r.tobytes() for r in self._rules)))

    # -- parent look-up -----------------------------------------------------------------
    @cached_property
    def _lookups(self) -> tuple[tuple[IntArray, IntArray], ...]:
        """Per level: sorted grammatical tuple codes and their parents."""
        out = []
        v = self._params.v
        for table in self._rules:
            n_sym, m, s = table.shape
            codes = tuple_codes(table.reshape(n_sym * m, s), v)
            parents = np.repeat(np.arange(n_sym, dtype=np.int64), m)
            order = np.argsort(codes, kind="stable")
            out.append((codes[order], parents[order]))
        return tuple(out)

    @cached_property
    def _dense_lookups(self) -> tuple[IntArray, ...] | None:
        """Per level: a table ``code -> parent`` (``-1`` if ungrammatical), when small enough."""
        p = self._params
        n_codes = p.v**p.s
        if n_codes > DENSE_LOOKUP_MAX:
            return None
        out = []
        for codes, parents in self._lookups:
            table = np.full(n_codes, -1, dtype=np.int64)
            table[codes] = parents
            table.setflags(write=False)
            out.append(table)
        return tuple(out)

    def parent_table(self, level: int) -> IntArray:
        """Dense look-up ``tuple code -> parent`` of ``level`` (``-1`` for ungrammatical).

        Only available while ``v**s <= DENSE_LOOKUP_MAX``; kernels use it for speed.
        """
        level = self._params.check_level(level, 1, self._params.L)
        dense = self._dense_lookups
        if dense is None:
            raise ValueError(
                f"v**s = {self._params.v ** self._params.s} exceeds DENSE_LOOKUP_MAX = "
                f"{DENSE_LOOKUP_MAX}; use parent_of() (binary search) instead"
            )
        return dense[level - 1]

    def grammatical_codes(self, level: int) -> tuple[IntArray, IntArray]:
        """Sorted codes of the grammatical tuples of ``level`` and their parents."""
        level = self._params.check_level(level, 1, self._params.L)
        return self._lookups[level - 1]

    def parent_codes(self, level: int, codes: npt.ArrayLike) -> IntArray:
        """Parents (``-1`` if ungrammatical) of tuple codes at ``level``; any shape."""
        level = self._params.check_level(level, 1, self._params.L)
        c = np.asarray(codes, dtype=np.int64)
        dense = self._dense_lookups
        if dense is not None:
            out: IntArray = dense[level - 1][c]
            return out
        sorted_codes, parents = self._lookups[level - 1]
        idx = np.searchsorted(sorted_codes, c)
        idx_c = np.minimum(idx, len(sorted_codes) - 1)
        hit = sorted_codes[idx_c] == c
        return np.where(hit, parents[idx_c], -1).astype(np.int64)

    def parent_of(self, level: int, tuples: npt.ArrayLike) -> npt.NDArray[Any]:
        """Parent symbols of s-tuples of level-``(level-1)`` symbols.

        Returns an array in the model's symbol dtype; ungrammatical tuples get
        ``params.unknown``. Symbols outside ``[0, v)`` count as ungrammatical.
        """
        p = self._params
        t = np.asarray(tuples)
        if t.ndim == 0 or t.shape[-1] != p.s:
            raise ValueError(f"tuples must have last axis of length s={p.s}, got {t.shape}")
        t64 = t.astype(np.int64)
        valid = np.all((t64 >= 0) & (t64 < p.v), axis=-1)
        codes = tuple_codes(np.where(valid[..., None], t64, 0), p.v)
        par = self.parent_codes(level, codes)
        par = np.where(valid & (par >= 0), par, p.unknown)
        return par.astype(p.dtype)

    # -- derived structure --------------------------------------------------------------
    def synonyms(self, level: int, symbol: int) -> IntArray:
        """The ``m`` tuples (rows) that ``symbol`` of ``level`` produces."""
        table = self.rules_of(level)
        symbol = self._params.check_level(symbol, 0, table.shape[0] - 1, name="symbol")
        return np.asarray(table[symbol])

    def is_balanced(self) -> bool:
        """Whether every level is exactly balanced (section 2 of THEORY.md).

        Balanced: for every level ``l`` and position ``j``, every level-``(l-1)`` symbol
        occurs ``m * vocab(l) / v`` times at position ``j`` among the rules of level ``l``.
        """
        v = self._params.v
        for table in self._rules:
            flat = table.reshape(-1, table.shape[-1])
            for j in range(flat.shape[1]):
                counts = np.bincount(flat[:, j], minlength=v)
                if counts.min() != counts.max():
                    return False
        return True


def _validated_table(params: RHMParams, level: int, raw: npt.ArrayLike) -> IntArray:
    n_sym = params.vocab(level)
    expected = (n_sym, params.m, params.s)
    try:
        arr = np.asarray(raw)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(
            f"rules of level {level} must be a regular array of shape {expected}: {exc}"
        ) from None
    if arr.shape != expected:
        raise ValueError(
            f"rules of level {level} must have shape (vocab(level), m, s) = {expected}, "
            f"got {arr.shape}"
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise ValueError(f"rules of level {level} must hold integers, got dtype {arr.dtype}")
    table = arr.astype(np.int64)
    lo, hi = int(table.min()), int(table.max())
    if lo < 0 or hi >= params.v:
        raise ValueError(
            f"rules of level {level} must hold level-{level - 1} symbols in [0, v) = "
            f"[0, {params.v}), found values in [{lo}, {hi}]"
        )
    codes = tuple_codes(table.reshape(-1, params.s), params.v)
    uniq, counts = np.unique(codes, return_counts=True)
    if len(uniq) != len(codes):
        dup_code = int(uniq[np.argmax(counts)])
        owners = np.flatnonzero(codes == dup_code) // params.m
        dup = np.unravel_index(dup_code, (params.v,) * params.s)
        tup = tuple(int(x) for x in dup)
        if len(set(owners.tolist())) == 1:
            raise ValueError(
                f"rules of level {level}: symbol {int(owners[0])} lists the tuple {tup} "
                f"twice (its m rules must be distinct)"
            )
        raise ValueError(
            f"rules of level {level} are ambiguous: tuple {tup} is produced by symbols "
            f"{sorted(set(owners.tolist()))} (no tuple may belong to two parents)"
        )
    table.setflags(write=False)
    return table


def _generator(seed: int | np.random.Generator | None, name: str) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an int or a numpy Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must satisfy {name} >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def random_grammar(params: RHMParams, seed: int | np.random.Generator) -> Grammar:
    """Draw a random grammar as the reference code of the RHM papers does.

    At each level, ``vocab(l) * m`` tuples are drawn uniformly without replacement from the
    ``v**s`` possible ones and split into consecutive groups of ``m``. Levels are independent.

    Parameters
    ----------
    params : RHMParams
    seed : int or numpy.random.Generator
        The grammar seed (keep it separate from the data seed).

    Examples
    --------
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    >>> g.rules_of(2).shape
    (4, 2, 2)
    >>> g == random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    True
    """
    rng = _generator(seed, "seed")
    v, m, s = params.v, params.m, params.s
    tables = []
    for level in range(1, params.L + 1):
        n_sym = params.vocab(level)
        codes = rng.choice(v**s, size=n_sym * m, replace=False)
        digits = np.stack(np.unravel_index(codes, (v,) * s), axis=-1)
        tables.append(digits.reshape(n_sym, m, s))
    return Grammar(params, tables)


def balanced_grammar(params: RHMParams, seed: int | np.random.Generator) -> Grammar:
    """Construct a random, exactly balanced grammar.

    Design: the ``v**s`` tuples split into ``v**(s-1)`` disjoint *lines*
    ``{(x, x+c_1, ..., x+c_{s-1}) mod v : x in Z_v}``, each holding every symbol exactly
    once at every position. A level takes ``vocab(l)*m/v`` random lines (so every column is
    exactly balanced), relabels the symbols of each position by an independent random
    permutation (which keeps balance and distinctness), shuffles the tuples and deals them
    into groups of ``m``. Every node marginal is then exactly uniform.

    Raises
    ------
    ValueError
        If ``n_c * m`` is not a multiple of ``v``: then no balanced root level exists.

    Examples
    --------
    >>> g = balanced_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=1)
    >>> g.is_balanced()
    True
    """
    if (params.n_c * params.m) % params.v != 0:
        raise ValueError(
            f"no balanced grammar exists unless v divides n_c*m (each root-rule position "
            f"must hold every symbol n_c*m/v times), got n_c={params.n_c}, m={params.m}, "
            f"v={params.v}"
        )
    rng = _generator(seed, "seed")
    v, m, s = params.v, params.m, params.s
    x = np.arange(v, dtype=np.int64)
    tables = []
    for level in range(1, params.L + 1):
        n_sym = params.vocab(level)
        n_lines = n_sym * m // v
        line_ids = rng.choice(v ** (s - 1), size=n_lines, replace=False)
        offsets = np.stack(np.unravel_index(line_ids, (v,) * (s - 1)), axis=-1)  # (n_lines, s-1)
        tuples = np.empty((n_lines, v, s), dtype=np.int64)
        tuples[:, :, 0] = x
        tuples[:, :, 1:] = (x[None, :, None] + offsets[:, None, :]) % v
        flat = tuples.reshape(-1, s)
        for j in range(s):
            flat[:, j] = rng.permutation(v)[flat[:, j]]
        flat = flat[rng.permutation(len(flat))]
        tables.append(flat.reshape(n_sym, m, s))
    return Grammar(params, tables)
