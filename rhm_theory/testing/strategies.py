"""Hypothesis strategies for RHM parameters and grammars (random, balanced, separated,
weighted, ambiguous).

Every strategy builds valid values directly (no ``.filter`` or ``assume``): constrained
parameters are drawn from their valid ranges in dependency order, and the only loop (in
:func:`separated_grammars`) is a bounded, deterministic re-seeding with a guaranteed fallback.
Size caps are keyword arguments; the defaults keep every exact computation well under a
millisecond.

Examples
--------
>>> from hypothesis import given, settings
>>> @given(balanced_grammars(max_v=4, max_L=3))
... @settings(max_examples=5, deadline=None)
... def check(g):
...     assert g.is_balanced()
>>> check()
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from rhm_theory.assumptions import is_separated, separation_requirement
from rhm_theory.model.grammar import Grammar, balanced_grammar, cyclic_grammar, random_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.spec import GrammarSpec
from rhm_theory.validation import check_int

__all__ = [
    "SEPARATION_C_MAX",
    "ambiguous_grammars",
    "balanced_grammars",
    "balanced_params",
    "community_grammars",
    "cyclic_grammar",
    "cyclic_grammars",
    "grammar_seeds",
    "grammars",
    "rhm_params",
    "separated_grammars",
    "weighted_grammars",
]

#: Largest ``c_sep`` :func:`separated_grammars` accepts: the margin its fallback is proven to
#: reach (``Delta_l >= 2 / m`` for :func:`cyclic_grammar` with ``n_c = v``, ``s = 2``).
SEPARATION_C_MAX = 2.0

_SEED_MAX = 2**32 - 1


def grammar_seeds() -> st.SearchStrategy[int]:
    """Grammar seeds: integers in ``[0, 2**32 - 1]``."""
    return st.integers(0, _SEED_MAX)


def _cap(name: str, value: int, minimum: int) -> int:
    # The shared validator's message, as Hypothesis's own exception type for bad arguments.
    try:
        return check_int(name, value, minimum=minimum)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(str(exc)) from None


def _s_strategy(s: int | st.SearchStrategy[int] | None) -> st.SearchStrategy[int]:
    if s is None:
        return st.sampled_from((2, 3))
    if isinstance(s, st.SearchStrategy):
        return s
    return st.just(_cap("s", s, 2))


def _check_s(s: int) -> int:
    return _cap("the s strategy's value", s, 2)


def _check_caps(
    min_v: int, max_v: int, max_m: int, min_L: int, max_L: int, max_n_c: int | None
) -> None:
    _cap("min_v", min_v, 2)
    _cap("max_v", max_v, min_v)
    _cap("max_m", max_m, 1)
    _cap("min_L", min_L, 1)
    _cap("max_L", max_L, min_L)
    if max_n_c is not None:
        _cap("max_n_c", max_n_c, 1)


def _n_c_cap(v: int, s: int, m: int, max_n_c: int | None) -> int:
    # Largest admissible n_c: the cap (default v) and unambiguous root rules, n_c*m <= v**s.
    cap: int = min(v if max_n_c is None else max_n_c, v**s // m)
    return cap


def rhm_params(
    *,
    min_v: int = 2,
    max_v: int = 8,
    s: int | st.SearchStrategy[int] | None = None,
    max_m: int = 4,
    min_L: int = 1,
    max_L: int = 4,
    max_n_c: int | None = None,
) -> st.SearchStrategy[RHMParams]:
    """Valid :class:`RHMParams`, drawn in dependency order.

    ``v`` in ``[min_v, max_v]``, then ``s``, then ``m`` in ``[1, min(max_m, v**(s-1))]``,
    then ``n_c`` in ``[1, min(max_n_c or v, v**s // m)]``, and ``L`` in ``[min_L, max_L]``.
    Every draw satisfies the unambiguity constraints by construction.

    Parameters
    ----------
    min_v, max_v : int, default 2, 8
        Range of the vocabulary size, ``2 <= min_v <= max_v``.
    s : int or SearchStrategy of int, optional
        Branching factor: a fixed int, a strategy, or ``None`` for ``{2, 3}``.
    max_m : int, default 4
        Cap on the number of rules per symbol.
    min_L, max_L : int, default 1, 4
        Range of the depth.
    max_n_c : int, optional
        Cap on the number of root symbols; defaults to ``v`` (so ``n_c <= v``).

    Returns
    -------
    SearchStrategy of RHMParams

    Examples
    --------
    >>> from hypothesis import find
    >>> find(rhm_params(max_v=4, s=2), lambda p: p.m == 3)  # the simplest draw with m = 3
    RHMParams(v=3, m=3, s=2, L=1, n_c=1)
    """
    _check_caps(min_v, max_v, max_m, min_L, max_L, max_n_c)
    s_st = _s_strategy(s)

    @st.composite
    def draw_params(draw: st.DrawFn) -> RHMParams:
        v = draw(st.integers(min_v, max_v))
        s_val = _check_s(draw(s_st))
        m = draw(st.integers(1, min(max_m, v ** (s_val - 1))))
        n_c = draw(st.integers(1, _n_c_cap(v, s_val, m, max_n_c)))
        L = draw(st.integers(min_L, max_L))
        return RHMParams(v=v, m=m, s=s_val, L=L, n_c=n_c)

    return draw_params()


def grammars(
    params: st.SearchStrategy[RHMParams] | None = None,
    *,
    seeds: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Grammar]:
    """Random grammars (:func:`~rhm_theory.model.grammar.random_grammar`) with drawn seeds.

    Parameters
    ----------
    params : SearchStrategy of RHMParams, optional
        Defaults to :func:`rhm_params` with its default caps.
    seeds : SearchStrategy of int, optional
        Grammar seeds; defaults to :func:`grammar_seeds`.

    Returns
    -------
    SearchStrategy of Grammar

    Examples
    --------
    >>> from hypothesis import find
    >>> find(grammars(rhm_params(max_v=4, max_L=2)), lambda g: g.params.L == 2)
    Grammar(v=2, m=1, s=2, L=2, n_c=1)
    """
    params_st = rhm_params() if params is None else params
    seeds_st = grammar_seeds() if seeds is None else seeds
    return st.builds(random_grammar, params_st, seeds_st)


@lru_cache(maxsize=256)
def _balanced_choices(
    s: int, min_v: int, max_v: int, max_m: int, max_n_c: int | None
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """For each ``v`` with a balanced option, the ``m`` values that admit a valid ``n_c``.

    ``v | n_c * m`` iff ``n_c`` is a multiple of ``q = v / gcd(v, m)``; a multiple must fit
    under ``min(max_n_c or v, v**s // m)``.
    """
    out = []
    for v in range(min_v, max_v + 1):
        ms = tuple(
            m
            for m in range(1, min(max_m, v ** (s - 1)) + 1)
            if v // math.gcd(v, m) <= _n_c_cap(v, s, m, max_n_c)
        )
        if ms:
            out.append((v, ms))
    return tuple(out)


def balanced_params(
    *,
    min_v: int = 2,
    max_v: int = 8,
    s: int | st.SearchStrategy[int] | None = None,
    max_m: int = 4,
    min_L: int = 1,
    max_L: int = 4,
    max_n_c: int | None = None,
) -> st.SearchStrategy[RHMParams]:
    """Parameters that admit an exactly balanced grammar: ``v`` divides ``n_c * m``.

    Drawn directly: ``s``, then ``v`` among the values with a valid ``(m, n_c)``, then ``m``
    among those for which a multiple of ``q = v / gcd(v, m)`` fits under
    ``min(max_n_c or v, v**s // m)``, then ``n_c = q * k`` with ``k`` drawn from the fitting
    multiples. With the default ``max_n_c`` (``v``) every ``v`` and ``m`` qualifies.

    Parameters
    ----------
    min_v, max_v, s, max_m, min_L, max_L, max_n_c
        As in :func:`rhm_params`.

    Returns
    -------
    SearchStrategy of RHMParams

    Raises
    ------
    hypothesis.errors.InvalidArgument
        When drawing, if no ``(v, m, n_c)`` under the caps is balanceable for the drawn ``s``.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(balanced_params(max_v=6), lambda p: p.n_c < p.v)  # v | n_c * m needs m = 2
    RHMParams(v=2, m=2, s=2, L=1, n_c=1)
    """
    _check_caps(min_v, max_v, max_m, min_L, max_L, max_n_c)
    s_st = _s_strategy(s)

    @st.composite
    def draw_params(draw: st.DrawFn) -> RHMParams:
        s_val = _check_s(draw(s_st))
        choices = _balanced_choices(s_val, min_v, max_v, max_m, max_n_c)
        if not choices:
            raise InvalidArgument(
                f"no balanceable (v, m, n_c) with v in [{min_v}, {max_v}], m <= {max_m}, "
                f"n_c <= {max_n_c} for s={s_val}: v must divide n_c*m"
            )
        v, ms = draw(st.sampled_from(choices))
        m = draw(st.sampled_from(ms))
        q = v // math.gcd(v, m)
        n_c = q * draw(st.integers(1, _n_c_cap(v, s_val, m, max_n_c) // q))
        L = draw(st.integers(min_L, max_L))
        return RHMParams(v=v, m=m, s=s_val, L=L, n_c=n_c)

    return draw_params()


def balanced_grammars(
    *,
    min_v: int = 2,
    max_v: int = 8,
    s: int | st.SearchStrategy[int] | None = None,
    max_m: int = 4,
    min_L: int = 1,
    max_L: int = 4,
    max_n_c: int | None = None,
    seeds: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Grammar]:
    """Exactly balanced grammars (:func:`~rhm_theory.model.grammar.balanced_grammar`).

    Parameters come from :func:`balanced_params` (``v | n_c * m`` by construction), so every
    node marginal is exactly uniform.

    Parameters
    ----------
    min_v, max_v, s, max_m, min_L, max_L, max_n_c
        As in :func:`rhm_params`.
    seeds : SearchStrategy of int, optional
        Grammar seeds; defaults to :func:`grammar_seeds`.

    Returns
    -------
    SearchStrategy of Grammar

    Examples
    --------
    >>> from hypothesis import find
    >>> find(balanced_grammars(max_v=4), lambda g: g.params.m > 1).is_balanced()
    True
    """
    params_st = balanced_params(
        min_v=min_v, max_v=max_v, s=s, max_m=max_m, min_L=min_L, max_L=max_L, max_n_c=max_n_c
    )
    seeds_st = grammar_seeds() if seeds is None else seeds
    return st.builds(balanced_grammar, params_st, seeds_st)


def cyclic_grammars(
    *,
    min_v: int = 2,
    max_v: int = 8,
    s: int | st.SearchStrategy[int] | None = None,
    max_m: int = 4,
    min_L: int = 1,
    max_L: int = 4,
    max_n_c: int | None = None,
) -> st.SearchStrategy[Grammar]:
    """Grammars of the ``cyclic`` family (:func:`~rhm_theory.model.grammar.cyclic_grammar`),
    built through its registry entry (:class:`~rhm_theory.model.spec.GrammarSpec`).

    Parameters admit a balanced design (:func:`balanced_params`, ``v | n_c m``), so every
    drawn grammar is exactly balanced; the family is deterministic, so no seed is drawn.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(cyclic_grammars(max_v=4), lambda g: g.params.m == 2).is_balanced()
    True
    """
    params_st = balanced_params(
        min_v=min_v, max_v=max_v, s=s, max_m=max_m, min_L=min_L, max_L=max_L, max_n_c=max_n_c
    )
    return st.builds(lambda p: GrammarSpec(p, "cyclic").build(), params_st)


def community_grammars(
    *,
    min_v: int = 2,
    max_v: int = 8,
    s: int | st.SearchStrategy[int] | None = None,
    max_m: int = 4,
    min_L: int = 1,
    max_L: int = 4,
    max_n_c: int | None = None,
    seeds: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Grammar]:
    """Grammars of the ``community`` family (the community's ``sample_rules``,
    :func:`~rhm_theory.model.community.community_grammar`), built through its registry entry.

    Parameters
    ----------
    min_v, max_v, s, max_m, min_L, max_L, max_n_c
        As in :func:`rhm_params`.
    seeds : SearchStrategy of int, optional
        The community's ``seed_rules``; defaults to :func:`grammar_seeds`.

    Returns
    -------
    SearchStrategy of Grammar

    Examples
    --------
    >>> from hypothesis import find
    >>> find(community_grammars(max_v=4), lambda g: g.params.L == 2).is_ambiguous
    False
    """
    params_st = rhm_params(
        min_v=min_v, max_v=max_v, s=s, max_m=max_m, min_L=min_L, max_L=max_L, max_n_c=max_n_c
    )
    seeds_st = grammar_seeds() if seeds is None else seeds
    return st.builds(lambda p, seed: GrammarSpec(p, "community", seed).build(), params_st,
                     seeds_st)


def separated_grammars(
    c_sep: float = 1.0,
    *,
    balanced: bool = False,
    min_v: int = 2,
    max_v: int = 8,
    s: int | st.SearchStrategy[int] | None = None,
    max_m: int = 4,
    min_L: int = 2,
    max_L: int = 4,
    max_n_c: int | None = None,
    max_reseeds: int = 4,
    seeds: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Grammar]:
    """Grammars meeting ``Delta_l >= c_sep * sqrt(1-f) / m`` at every level (latent context).

    Construction, in order; the first candidate that is separated is returned:

    1. the drawn family (:func:`~rhm_theory.model.grammar.random_grammar`, or
       :func:`~rhm_theory.model.grammar.balanced_grammar` if ``balanced``) with the drawn
       seed, then deterministically re-seeded with ``seed + 1, ..., seed + max_reseeds - 1``
       (random grammars with ``m >= 4`` reach ``Delta m / sqrt(1-f) >= 0.8`` in every case
       measured; ``m = 2`` misses in a few percent of draws, with exactly ``Delta = 0``);
    2. :func:`cyclic_grammar` with the same parameters (margin ``>= 1.3`` in units of
       ``sqrt(1-f)/m`` for ``v <= 64``, ``n_c <= v``, ``s <= 3`` as measured);
    3. :func:`cyclic_grammar` with ``n_c = v`` (possibly above ``max_n_c``), which is
       provably separated for ``c_sep <= 2`` when ``s = 2`` (see its docstring).

    The returned grammar is asserted separated inside the strategy, so a violation can never
    reach a test. Root sizes stay ``n_c <= v``: with ``n_c * m = v**s`` every root tuple is
    grammatical, the children of the root are independent of each other and ``Delta_{L-1} = 0``
    for every grammar.

    Parameters
    ----------
    c_sep : float, default 1.0
        Separation constant, ``0 < c_sep <= SEPARATION_C_MAX``.
    balanced : bool, default False
        Draw balanced parameters and grammars (the fallbacks are then balanced too).
    min_v, max_v, s, max_m, max_L, max_n_c
        As in :func:`rhm_params` (``max_n_c`` is also capped at ``v``).
    min_L : int, default 2
        Minimum depth (``L = 1`` has no level to separate).
    max_reseeds : int, default 4
        Number of grammars of the drawn family tried before the fallbacks, ``>= 1``.
    seeds : SearchStrategy of int, optional
        Grammar seeds; defaults to :func:`grammar_seeds`.

    Returns
    -------
    SearchStrategy of Grammar

    Examples
    --------
    >>> from hypothesis import find
    >>> from rhm_theory.assumptions import is_separated
    >>> is_separated(find(separated_grammars(1.0, max_v=6), lambda g: g.params.m == 3), 1.0)
    True
    """
    if not (math.isfinite(c_sep) and 0 < c_sep <= SEPARATION_C_MAX):
        raise InvalidArgument(
            f"c_sep must satisfy 0 < c_sep <= {SEPARATION_C_MAX}, got c_sep={c_sep}"
        )
    _cap("max_reseeds", max_reseeds, 1)
    params_st = (balanced_params if balanced else rhm_params)(
        min_v=min_v, max_v=max_v, s=s, max_m=max_m, min_L=min_L, max_L=max_L, max_n_c=max_n_c
    )
    seeds_st = grammar_seeds() if seeds is None else seeds
    family = balanced_grammar if balanced else random_grammar

    @st.composite
    def draw_grammar(draw: st.DrawFn) -> Grammar:
        p = draw(params_st)
        if p.n_c > p.v:  # max_n_c above v: clamp to the separable range (n_c = v is valid)
            p = RHMParams(v=p.v, m=p.m, s=p.s, L=p.L, n_c=p.v)
        seed = draw(seeds_st)
        candidates = (family(p, (seed + k) % (_SEED_MAX + 1)) for k in range(max_reseeds))
        for g in candidates:
            if is_separated(g, c_sep):
                return g
        g = cyclic_grammar(p)
        if not is_separated(g, c_sep):
            g = cyclic_grammar(RHMParams(v=p.v, m=p.m, s=p.s, L=p.L, n_c=p.v))
        need = separation_requirement(g.params, c_sep)
        assert is_separated(g, c_sep), (
            f"separated_grammars produced a grammar violating Delta_l >= {need:.6g}: {g!r}"
        )
        return g

    return draw_grammar()


def _probability_rows(
    draw: st.DrawFn, n_rows: int, n: int, allow_zero: bool
) -> npt.NDArray[np.float64]:
    # Integer weights 0..8 (1..8 without zeros) per entry, normalised per row; a row of
    # zeros gets its first entry set, so every row is a valid law by construction.
    lo = 0 if allow_zero else 1
    raw = np.array(
        draw(st.lists(st.integers(lo, 8), min_size=n_rows * n, max_size=n_rows * n)),
        dtype=np.float64,
    ).reshape(n_rows, n)
    raw[raw.sum(axis=1) == 0, 0] = 1.0
    return np.asarray(raw / raw.sum(axis=1, keepdims=True))


def weighted_grammars(
    params: st.SearchStrategy[RHMParams] | None = None,
    *,
    seeds: st.SearchStrategy[int] | None = None,
    allow_zero: bool = True,
) -> st.SearchStrategy[Grammar]:
    """Random grammars with drawn rule weights and root prior (docs/theory.md section 9).

    Each rule row and the root prior are drawn as integer weights in ``0..8`` (``1..8``
    without ``allow_zero``) normalised to sum to 1, so zero-weight rules and root symbols
    (never generated) are part of the family.

    Parameters
    ----------
    params : SearchStrategy of RHMParams, optional
        Defaults to :func:`rhm_params` with its default caps.
    seeds : SearchStrategy of int, optional
        Grammar seeds; defaults to :func:`grammar_seeds`.
    allow_zero : bool, default True
        Whether weights may be exactly zero.

    Returns
    -------
    SearchStrategy of Grammar

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @given(weighted_grammars(rhm_params(max_v=3, max_L=2)))
    ... @settings(max_examples=5, deadline=None)
    ... def check(g):
    ...     assert abs(g.root_probs.sum() - 1) < 1e-12
    >>> check()
    """
    params_st = rhm_params() if params is None else params
    seeds_st = grammar_seeds() if seeds is None else seeds

    @st.composite
    def draw_grammar(draw: st.DrawFn) -> Grammar:
        p = draw(params_st)
        g = random_grammar(p, draw(seeds_st))
        rule = [_probability_rows(draw, p.vocab(lv), p.m, allow_zero) for lv in range(1, p.L + 1)]
        root = _probability_rows(draw, 1, p.n_c, allow_zero)[0]
        return g.with_probs(rule_probs=rule, root_probs=root)

    return draw_grammar()


def ambiguous_grammars(
    params: st.SearchStrategy[RHMParams] | None = None,
    *,
    seeds: st.SearchStrategy[int] | None = None,
    ambiguity: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[Grammar]:
    """Random grammars with a fraction of shared right-hand sides (``random_grammar(...,
    ambiguity=eps)``), always truly ambiguous.

    Parameters are drawn with ``m >= 2`` or ``vocab >= 2`` so that sharing is possible, and
    ``eps`` is at least ``1 / (v * m)`` so at least one slot is shared: every draw has
    ``is_ambiguous`` true by construction (a shared slot copies a tuple of another parent).

    Parameters
    ----------
    params : SearchStrategy of RHMParams, optional
        Defaults to ``rhm_params(min_v=2, max_v=5, max_L=3)`` with ``n_c >= 2``.
    seeds : SearchStrategy of int, optional
        Grammar seeds; defaults to :func:`grammar_seeds`.
    ambiguity : SearchStrategy of float, optional
        Fractions ``eps`` in ``(0, 0.5]``; default ``{0.1, 0.2, 0.3, 0.5}``.

    Returns
    -------
    SearchStrategy of Grammar

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @given(ambiguous_grammars())
    ... @settings(max_examples=5, deadline=None)
    ... def check(g):
    ...     assert g.is_ambiguous
    >>> check()
    """
    seeds_st = grammar_seeds() if seeds is None else seeds
    eps_st = st.sampled_from((0.1, 0.2, 0.3, 0.5)) if ambiguity is None else ambiguity

    @st.composite
    def draw_grammar(draw: st.DrawFn) -> Grammar:
        if params is None:
            v = draw(st.integers(2, 5))
            s = draw(st.sampled_from((2, 3)))
            m = draw(st.integers(1, min(3, v ** (s - 1))))
            n_c = draw(st.integers(2, min(v, v**s // m)))
            p = RHMParams(v=v, m=m, s=s, L=draw(st.integers(1, 3)), n_c=n_c)
        else:
            p = draw(params)
        eps = draw(eps_st)
        if not 0 < eps <= 0.5:
            raise InvalidArgument(f"ambiguity must produce values in (0, 0.5], got {eps!r}")
        # At least one shared slot at the smallest level (n_c * m rules at the root).
        n_min = min(p.vocab(lv) for lv in range(1, p.L + 1)) * p.m
        eps = min(0.5, max(eps, 1.0 / n_min))
        return random_grammar(p, draw(seeds_st), ambiguity=eps)

    return draw_grammar()
