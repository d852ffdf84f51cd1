"""Rule tables of a Random Hierarchy Model and their constructors (random, balanced, explicit)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.model.params import RHMParams
from rhm_theory.validation import (
    check_float,
    check_probabilities,
    check_random_state,
)

__all__ = [
    "AMBIGUOUS",
    "DENSE_LOOKUP_MAX",
    "Grammar",
    "balanced_grammar",
    "cyclic_grammar",
    "random_grammar",
    "set_origin",
    "tuple_codes",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Parent code of a tuple that several symbols produce (ambiguous grammars only).
AMBIGUOUS = -2

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
    """The production rules of every level of an RHM, their weights and the root prior.

    ``rules[l-1]`` (for ``l = 1..L``) is an int64 array of shape ``(vocab(l), m, s)``:
    ``rules[l-1][a, r]`` is the r-th s-tuple of level-``(l-1)`` symbols produced by symbol
    ``a`` of level ``l``. Symbol ``a`` picks rule ``r`` with probability
    ``rule_probs_of(l)[a, r]`` (uniform ``1/m`` by default, the paper's RHM) and the root
    symbol is drawn from ``root_probs`` (uniform by default). Tables are validated on
    construction (shapes, symbol ranges, distinct rules, unambiguity unless
    ``allow_ambiguous``, probability rows) and stored read-only; a ``Grammar`` is immutable.

    Parameters
    ----------
    params : RHMParams
        The model parameters the tables must match.
    rules : sequence of array_like
        ``L`` tables, level 1 first.
    rule_probs : sequence of array_like, optional
        ``L`` arrays of shape ``(vocab(l), m)``, rows summing to 1 within ``1e-9``, entries
        non-negative (a rule of weight 0 is never used). Default: uniform.
    root_probs : array_like, optional
        Shape ``(n_c,)``, the prior of the root symbol. Default: uniform.
    allow_ambiguous : bool, default False
        Accept a tuple that several parents produce (docs/theory.md section 9). Tuples stay
        distinct within one parent. The default keeps the paper's unambiguous RHM.

    Raises
    ------
    TypeError
        If ``params`` is not an RHMParams or a table has a non-numeric dtype.
    ValueError
        If a table has the wrong shape, holds an out-of-range symbol, repeats a rule, or
        (unless ``allow_ambiguous``) assigns one tuple to two parents; if a probability
        array has the wrong shape, a negative or non-finite entry, or a row not summing to 1.

    Examples
    --------
    >>> p = RHMParams(v=2, m=1, s=2, L=1, n_c=2)
    >>> g = Grammar(p, [[[[0, 1]], [[1, 1]]]])
    >>> g.parent_of(1, [[1, 1], [0, 1], [0, 0]]).tolist()  # 255 marks "no parent"
    [1, 0, 255]
    >>> Grammar(p, [[[[0, 1]], [[1, 1]]]], root_probs=[0.25, 0.75]).root_probs.tolist()
    [0.25, 0.75]
    """

    def __init__(
        self,
        params: RHMParams,
        rules: Sequence[npt.ArrayLike],
        *,
        rule_probs: Sequence[npt.ArrayLike] | None = None,
        root_probs: npt.ArrayLike | None = None,
        allow_ambiguous: bool = False,
    ) -> None:
        if not isinstance(params, RHMParams):
            raise TypeError(f"params must be an RHMParams, got {type(params).__name__}")
        if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
            raise TypeError("rules must be a sequence of L rule tables (level 1 first)")
        if len(rules) != params.L:
            raise ValueError(
                f"rules must hold one table per level 1..L (L={params.L}), got {len(rules)}"
            )
        if not isinstance(allow_ambiguous, bool):
            raise TypeError(f"allow_ambiguous must be a bool, got {allow_ambiguous!r}")
        tables = []
        for level, raw in enumerate(rules, start=1):
            tables.append(_validated_table(params, level, raw, allow_ambiguous))
        self._params = params
        self._rules = tuple(tables)
        self._rule_probs = _validated_rule_probs(params, rule_probs)
        if root_probs is None:
            root = np.full(params.n_c, 1.0 / params.n_c)
        else:
            root = check_probabilities("root_probs", root_probs, shape=(params.n_c,))
        root.setflags(write=False)
        self._root_probs = root
        self._allow_ambiguous = allow_ambiguous
        self._origin: str | None = None

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

    def rule_probs_of(self, level: int) -> FloatArray:
        """Rule probabilities ``w_a(r)`` of ``level`` (1..L), shape ``(vocab(level), m)``.

        Row ``a`` is the law of the rule that symbol ``a`` picks; uniform (``1/m``) in the
        RHM of the paper. Read-only.

        >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
        >>> g.rule_probs_of(1)[0].tolist()
        [0.5, 0.5]
        """
        return self._rule_probs[self._params.check_level(level, 1, self._params.L) - 1]

    @property
    def rule_probs(self) -> tuple[FloatArray, ...]:
        """All rule-probability arrays, level 1 first (see :meth:`rule_probs_of`)."""
        return self._rule_probs

    @property
    def root_probs(self) -> FloatArray:
        """Prior of the root symbol, shape ``(n_c,)``; uniform in the RHM of the paper."""
        return self._root_probs

    @cached_property
    def is_uniform(self) -> bool:
        """Whether every rule row is exactly ``1/m`` and the root prior exactly ``1/n_c``.

        Uniform grammars are sampled by the paper's bit-exact scheme; any other weights
        use the weighted (alias-table) scheme.
        """
        p = self._params
        return bool(
            all(np.all(w == 1.0 / p.m) for w in self._rule_probs)
            and np.all(self._root_probs == 1.0 / p.n_c)
        )

    @property
    def allow_ambiguous(self) -> bool:
        """Whether the grammar was built with ``allow_ambiguous=True``."""
        return self._allow_ambiguous

    @cached_property
    def is_ambiguous(self) -> bool:
        """Whether some tuple is produced by two different parents at some level.

        >>> p = RHMParams(v=2, m=1, s=2, L=1, n_c=2)
        >>> Grammar(p, [[[[0, 1]], [[0, 1]]]], allow_ambiguous=True).is_ambiguous
        True
        """
        return any(bool(np.any(par == AMBIGUOUS)) for _, par in self._unique_lookups)

    def with_probs(
        self,
        rule_probs: Sequence[npt.ArrayLike] | None = None,
        root_probs: npt.ArrayLike | None = None,
    ) -> Grammar:
        """The same rules with new rule weights and/or root prior (``None`` keeps the current).

        >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
        >>> g.with_probs(root_probs=[0.4, 0.3, 0.2, 0.1]).root_probs.tolist()
        [0.4, 0.3, 0.2, 0.1]
        """
        return Grammar(
            self._params,
            self._rules,
            rule_probs=self._rule_probs if rule_probs is None else rule_probs,
            root_probs=self._root_probs if root_probs is None else root_probs,
            allow_ambiguous=self._allow_ambiguous,
        )

    @property
    def origin(self) -> str | None:
        """A Python expression that rebuilds this grammar, when it is known (set by
        :meth:`rhm_theory.model.spec.GrammarSpec.build` and the Hypothesis strategies of
        :mod:`rhm_theory.testing`), else ``None``; :func:`repr` shows it."""
        # getattr: a Grammar pickled before the attribute existed has none
        origin: str | None = getattr(self, "_origin", None)
        return origin

    def __repr__(self) -> str:
        p = self._params
        extra = "" if self.is_uniform else ", weighted"
        extra += ", ambiguous" if self.is_ambiguous else ""
        text = f"Grammar(v={p.v}, m={p.m}, s={p.s}, L={p.L}, n_c={p.n_c}{extra})"
        return text if self.origin is None else f"{text} = {self.origin}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grammar):
            return NotImplemented
        return (
            self._params == other._params
            and all(np.array_equal(a, b) for a, b in zip(self._rules, other._rules, strict=True))
            and all(
                np.array_equal(a, b)
                for a, b in zip(self._rule_probs, other._rule_probs, strict=True)
            )
            and np.array_equal(self._root_probs, other._root_probs)
        )

    def __hash__(self) -> int:
        return hash(
            (
                self._params,
                tuple(r.tobytes() for r in self._rules),
                tuple(w.tobytes() for w in self._rule_probs),
                self._root_probs.tobytes(),
            )
        )

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
    def _unique_lookups(self) -> tuple[tuple[IntArray, IntArray], ...]:
        """Per level: distinct grammatical codes and their parent (``AMBIGUOUS`` if several)."""
        out = []
        for codes, parents in self._lookups:
            uniq, first, counts = np.unique(codes, return_index=True, return_counts=True)
            par = parents[first].copy()
            # Several rows with one code come from distinct parents (tuples are distinct
            # within a parent), so a repeated code is ambiguous.
            par[counts > 1] = AMBIGUOUS
            out.append((uniq.astype(np.int64), par))
        return tuple(out)

    @cached_property
    def _dense_lookups(self) -> tuple[IntArray, ...] | None:
        """Per level: a table ``code -> parent`` (``-1`` ungrammatical, ``AMBIGUOUS``)."""
        p = self._params
        n_codes = p.v**p.s
        if n_codes > DENSE_LOOKUP_MAX:
            return None
        out = []
        for codes, parents in self._unique_lookups:
            table = np.full(n_codes, -1, dtype=np.int64)
            table[codes] = parents
            table.setflags(write=False)
            out.append(table)
        return tuple(out)

    def parent_table(self, level: int) -> IntArray:
        """Dense look-up ``tuple code -> parent`` of ``level`` (``-1`` for ungrammatical).

        In an ambiguous grammar a tuple with several parents maps to :data:`AMBIGUOUS`.

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
        """Sorted codes of the grammatical tuples of ``level`` and their parents.

        One entry per rule: in an ambiguous grammar a code appears once per parent, so
        this lists every parent of every tuple (what belief propagation needs).
        """
        level = self._params.check_level(level, 1, self._params.L)
        return self._lookups[level - 1]

    def parent_codes(self, level: int, codes: npt.ArrayLike) -> IntArray:
        """Parents of tuple codes at ``level``; any shape.

        ``-1`` marks an ungrammatical tuple and :data:`AMBIGUOUS` one with several parents.
        """
        level = self._params.check_level(level, 1, self._params.L)
        c = np.asarray(codes, dtype=np.int64)
        dense = self._dense_lookups
        if dense is not None:
            out: IntArray = dense[level - 1][c]
            return out
        sorted_codes, parents = self._unique_lookups[level - 1]
        idx = np.searchsorted(sorted_codes, c)
        idx_c = np.minimum(idx, len(sorted_codes) - 1)
        hit = sorted_codes[idx_c] == c
        return np.where(hit, parents[idx_c], -1).astype(np.int64)

    def parent_of(self, level: int, tuples: npt.ArrayLike) -> npt.NDArray[Any]:
        """Parent symbols of s-tuples of level-``(level-1)`` symbols.

        Returns an array in the model's symbol dtype; ungrammatical tuples get
        ``params.unknown``. Symbols outside ``[0, v)`` count as ungrammatical. In an
        ambiguous grammar a tuple with several parents has no single parent: it raises
        (use :meth:`grammatical_codes` for all parents, or belief propagation for the
        posterior).

        Raises
        ------
        ValueError
            If a tuple has several parents (ambiguous grammars only).
        """
        p = self._params
        t = np.asarray(tuples)
        if t.ndim == 0 or t.shape[-1] != p.s:
            raise ValueError(f"tuples must have last axis of length s={p.s}, got {t.shape}")
        t64 = t.astype(np.int64)
        valid = np.all((t64 >= 0) & (t64 < p.v), axis=-1)
        codes = tuple_codes(np.where(valid[..., None], t64, 0), p.v)
        par = self.parent_codes(level, codes)
        _raise_if_ambiguous(level, np.where(valid, par, -1))
        par = np.where(valid & (par >= 0), par, p.unknown)
        return par.astype(p.dtype)

    # -- derived structure --------------------------------------------------------------
    def synonyms(self, level: int, symbol: int) -> IntArray:
        """The ``m`` tuples (rows) that ``symbol`` of ``level`` produces."""
        table = self.rules_of(level)
        symbol = self._params.check_level(symbol, 0, table.shape[0] - 1, name="symbol")
        return np.asarray(table[symbol])

    def is_balanced(self) -> bool:
        """Whether every level is exactly balanced (section 2 of docs/theory.md).

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


def _raise_if_ambiguous(level: int, parents: IntArray) -> None:
    if np.any(parents == AMBIGUOUS):
        raise ValueError(
            f"a tuple of level {level - 1} has several parents at level {level} (ambiguous "
            f"grammar): parsing is not unique; use Grammar.grammatical_codes for every parent "
            f"or belief propagation for the posterior"
        )


def _validated_rule_probs(
    params: RHMParams, rule_probs: Sequence[npt.ArrayLike] | None
) -> tuple[FloatArray, ...]:
    out = []
    if rule_probs is not None and (
        isinstance(rule_probs, (str, bytes)) or not isinstance(rule_probs, Sequence)
    ):
        raise TypeError("rule_probs must be a sequence of L arrays (level 1 first)")
    if rule_probs is not None and len(rule_probs) != params.L:
        raise ValueError(
            f"rule_probs must hold one array per level 1..L (L={params.L}), got "
            f"{len(rule_probs)}"
        )
    for level in range(1, params.L + 1):
        shape = (params.vocab(level), params.m)
        if rule_probs is None:
            w = np.full(shape, 1.0 / params.m)
        else:
            w = check_probabilities(
                f"rule_probs of level {level}", rule_probs[level - 1], shape=shape
            ).copy()
        w.setflags(write=False)
        out.append(w)
    return tuple(out)


def _validated_table(
    params: RHMParams, level: int, raw: npt.ArrayLike, allow_ambiguous: bool = False
) -> IntArray:
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
    shape = (params.v,) * params.s
    per_symbol = np.sort(codes.reshape(n_sym, params.m), axis=1)
    same = per_symbol[:, 1:] == per_symbol[:, :-1]
    if same.any():
        a, r = (int(x) for x in np.argwhere(same)[0])
        tup = tuple(int(x) for x in np.unravel_index(int(per_symbol[a, r]), shape))
        raise ValueError(
            f"rules of level {level}: symbol {a} lists the tuple {tup} "
            f"twice (its m rules must be distinct)"
        )
    uniq, counts = np.unique(codes, return_counts=True)
    if len(uniq) != len(codes) and not allow_ambiguous:
        dup_code = int(uniq[np.argmax(counts)])
        owners = np.flatnonzero(codes == dup_code) // params.m
        tup = tuple(int(x) for x in np.unravel_index(dup_code, shape))
        raise ValueError(
            f"rules of level {level} are ambiguous: tuple {tup} is produced by symbols "
            f"{sorted(set(owners.tolist()))} (no tuple may belong to two parents; pass "
            f"allow_ambiguous=True to build an ambiguous grammar)"
        )
    table.setflags(write=False)
    return table


def set_origin(grammar: Grammar, origin: str) -> Grammar:
    """Set :attr:`Grammar.origin` of ``grammar`` to ``origin`` (an expression that rebuilds
    it) and return ``grammar``.

    >>> g = set_origin(random_grammar(RHMParams(v=2, m=1, s=2, L=1), 5),
    ...                 "random_grammar(RHMParams(v=2, m=1, s=2, L=1), 5)")
    >>> g
    Grammar(v=2, m=1, s=2, L=1, n_c=2) = random_grammar(RHMParams(v=2, m=1, s=2, L=1), 5)
    """
    grammar._origin = origin
    return grammar


def random_grammar(
    params: RHMParams, seed: int | np.random.Generator, *, ambiguity: float = 0.0
) -> Grammar:
    """Draw a random grammar as the reference code of the RHM papers does.

    At each level, ``vocab(l) * m`` tuples are drawn uniformly without replacement from the
    ``v**s`` possible ones and split into consecutive groups of ``m``. Levels are independent.

    With ``ambiguity = eps > 0`` (docs/theory.md section 9), ``round(eps * vocab(l) * m)`` rule
    slots of each level are then *shared*: each such slot of a symbol ``a`` takes the tuple
    of a kept (unshared) slot of another symbol ``b != a`` that ``a`` does not already
    produce, so that tuple has two parents. Tuples stay distinct within a parent. The
    shared slots and their donors come from a second stream of the same seed, drawn as a
    permutation whose prefix is taken, so for one seed a larger ``eps`` shares a superset
    of the slots of a smaller one and ``eps = 0`` gives exactly the unambiguous grammar.

    Parameters
    ----------
    params : RHMParams
    seed : int or numpy.random.Generator
        The grammar seed (keep it separate from the data seed).
    ambiguity : float, default 0.0
        Fraction ``0 <= eps <= 0.5`` of right-hand sides shared with another parent
        (at most half, so that every shared slot has an unshared donor).

    Examples
    --------
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    >>> g.rules_of(2).shape
    (4, 2, 2)
    >>> g == random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    True
    >>> random_grammar(RHMParams(v=8, m=4, s=2, L=2), seed=0, ambiguity=0.25).is_ambiguous
    True
    """
    eps = check_float("ambiguity", ambiguity, minimum=0.0, maximum=0.5)
    side: np.random.Generator | None = None
    if eps > 0:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError("an ambiguous random grammar needs an int seed (two streams)")
        side = check_random_state(seed, 0xA3B1)
    rng = check_random_state(seed)
    v, m, s = params.v, params.m, params.s
    tables = []
    for level in range(1, params.L + 1):
        n_sym = params.vocab(level)
        codes = rng.choice(v**s, size=n_sym * m, replace=False)
        if side is not None:
            codes = _share_slots(codes, n_sym, m, eps, side)
        digits = np.stack(np.unravel_index(codes, (v,) * s), axis=-1)
        tables.append(digits.reshape(n_sym, m, s))
    return Grammar(params, tables, allow_ambiguous=eps > 0)


def _share_slots(
    codes: IntArray, n_sym: int, m: int, eps: float, rng: np.random.Generator
) -> IntArray:
    # The first k slots of a random permutation borrow the tuple of a kept slot of another
    # symbol; donors are tried in a random order, skipping tuples the borrower already has.
    n = n_sym * m
    k = round(eps * n)
    if k == 0 or n_sym < 2:
        return codes
    out = codes.copy()
    order = rng.permutation(n)
    borrowers, kept = order[:k], order[k:]
    for slot in borrowers:
        a = slot // m
        have = set(out[a * m : (a + 1) * m].tolist())
        for donor in rng.permutation(kept):
            if donor // m != a and int(out[donor]) not in have:
                out[slot] = out[donor]
                break
    return out


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
    rng = check_random_state(seed)
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


def cyclic_grammar(params: RHMParams, seed: int | np.random.Generator = 0) -> Grammar:
    """Construct the deterministic *cyclic* grammar: symbol ``c`` owns ``(x, x + o) mod v``.

    Order the ``v**s`` tuples in *lines* (those of :func:`balanced_grammar`): tuple ``t`` is
    ``(x, x + o_1, ..., x + o_{s-1}) mod v`` with ``x = t % v`` and ``(o_1, ..., o_{s-1})``
    the base-``v`` digits of ``t // v``. Symbol ``c`` of a level with ``V`` symbols owns
    tuples ``t = c + V*k`` for ``k = 0..m-1``. With ``V = v`` this is
    ``c -> {(c, c, ..., c, c + k)}``: the first child names the parent, the last is a shift;
    every symbol holds every position exactly ``m`` times. The ``n_c * m`` root tuples fill
    ``n_c * m / v`` whole lines when ``v | n_c * m``, so the grammar is then exactly
    balanced. Every level has the same design and no draw is involved: a control whose
    only randomness is in the data.

    Separation (latent context). With ``n_c = v`` and ``s = 2``: a node holding ``a`` at
    position 0 has parent ``a`` and sibling ``a + K`` (``K`` uniform in ``[0, m)``), whose
    first child is itself, so the first cousin block is uniform on ``a + [0, m)``; at position
    1 it is uniform on ``a - [0, m)``. Two distinct cyclic intervals of length ``m < v``
    differ in at least 2 points, so each of these two blocks adds ``>= 2 / m**2`` to
    ``||psi_a - psi_a'||**2``: ``Delta_l >= 2 / m >= 2 sqrt(1 - f) / m`` at every level
    (``m = v`` gives ``f = 1`` and a zero requirement). For ``n_c < v`` or ``s = 3`` the
    margin is large in practice but not proven
    (:func:`rhm_theory.testing.strategies.separated_grammars` checks it).

    Parameters
    ----------
    params : RHMParams
    seed : int or numpy.random.Generator, default 0
        Accepted (the signature of every registered family,
        :data:`rhm_theory.model.spec.GRAMMAR_CONSTRUCTORS`) and ignored: the design is
        deterministic, so every grammar seed gives this grammar.

    Returns
    -------
    Grammar

    Examples
    --------
    >>> g = cyclic_grammar(RHMParams(v=4, m=2, s=2, L=2))
    >>> g.rules_of(1)[1].tolist()  # symbol 1: (1, 1) and (1, 2)
    [[1, 1], [1, 2]]
    >>> g.is_balanced(), g == cyclic_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=7)
    (True, True)
    """
    if not isinstance(params, RHMParams):
        raise TypeError(f"params must be an RHMParams, got {type(params).__name__}")
    v, m, s = params.v, params.m, params.s
    tables = []
    for level in range(1, params.L + 1):
        n_sym = params.vocab(level)
        t = np.arange(n_sym, dtype=np.int64)[:, None] + n_sym * np.arange(m, dtype=np.int64)
        x = t % v
        offsets = np.stack(np.unravel_index(t // v, (v,) * (s - 1)), axis=-1)  # (n_sym, m, s-1)
        tables.append(np.concatenate([x[..., None], (x[..., None] + offsets) % v], axis=-1))
    return Grammar(params, tables)
