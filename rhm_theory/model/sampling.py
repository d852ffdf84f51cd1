"""Reproducible, chunked numba sampler of RHM strings (and their latent trees)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.parsing import parse
from rhm_theory.validation import check_int, check_random_state, check_seed

__all__ = [
    "RNG_SCHEME_VERSION",
    "Sample",
    "alias_table",
    "iter_samples",
    "sample",
    "string_keys",
]

#: Version of the documented bit-stream (bump whenever sampled bytes change).
RNG_SCHEME_VERSION = 2

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MASK32 = np.uint64(0xFFFFFFFF)
#: Largest P for one in-memory call; larger runs must stream with :func:`iter_samples`.
_MAX_INDEX = 2**62
#: Below this many output symbols per call the kernel runs single-threaded.
_SERIAL_BELOW = 2**16


@dataclass(frozen=True)
class Sample:
    """A batch of RHM data.

    Attributes
    ----------
    tokens : ndarray, shape (P, s**L)
        Visible strings (level 0), in the grammar's symbol dtype.
    levels : tuple of ndarray or None
        ``levels[l-1]`` (``l = 1..L``) of shape ``(P, s**(L-l))`` holds the level-``l``
        latent symbols; ``levels[L-1][:, 0]`` is the root (class label). ``None`` unless
        latents were requested.
    """

    tokens: npt.NDArray[Any]
    levels: tuple[npt.NDArray[Any], ...] | None = None

    @property
    def labels(self) -> npt.NDArray[Any]:
        """Root symbols, shape ``(P,)`` (requires latents)."""
        if self.levels is None:
            raise ValueError("this sample holds no latents: sample with latents=True")
        return self.levels[-1][:, 0]

    def level(self, level: int) -> npt.NDArray[Any]:
        """Symbols of ``level`` (0 = tokens); levels above 0 require latents."""
        if level == 0:
            return self.tokens
        if self.levels is None:
            raise ValueError("this sample holds no latents: sample with latents=True")
        if not 1 <= level <= len(self.levels):
            raise ValueError(f"level must satisfy 0 <= level <= L={len(self.levels)}, got {level}")
        return self.levels[level - 1]

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


# -- counter-based random numbers ----------------------------------------------------------
# Deliberate copies: _mix64 and the per-string state are repeated in inference/bp.py and
# inference/corruption.py. Each module keeps its kernels and the jitted helpers they call
# (numba's cache=True does not see edits to a helper imported from another module), and
# the hash is frozen by RNG_SCHEME_VERSION and the sha256 tests of tests/test_sampling.py.
@nb.njit(cache=True, inline="always")
def _mix64(z: np.uint64) -> np.uint64:
    # splitmix64 finaliser: a bijective avalanche hash of a 64-bit word.
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def _string_state(key: np.uint64, index: np.int64) -> np.uint64:
    # Each string gets its own splitmix64 stream started at a hashed point of the cycle,
    # so string i depends only on (seed, i): chunking and threading cannot change it.
    return _mix64(key ^ _mix64(np.uint64(index) * _GAMMA + np.uint64(1)))


@nb.njit(cache=True, inline="always")
def _bounded32(x: np.uint64, n: np.uint64, state: np.uint64) -> np.int64:
    # Lemire's nearly divisionless method: exact uniform integer in [0, n) from 32-bit x.
    prod = x * n
    low = prod & _MASK32
    if low < n:
        threshold = ((np.uint64(1) << np.uint64(32)) - n) % n
        extra = state
        while low < threshold:  # rare rejection: redraw from a side stream
            extra += _GAMMA
            x = _mix64(extra ^ np.uint64(0xD1B54A32D192ED03)) & _MASK32
            prod = x * n
            low = prod & _MASK32
    return np.int64(prod >> np.uint64(32))


@nb.njit(cache=True, inline="always")
def _root_state(key: np.uint64, index: np.int64, n_c: int) -> tuple[np.uint64, np.int64]:
    # Stream state after the root draw (word 1), and the root symbol.
    state = _string_state(key, index) + _GAMMA
    return state, _bounded32(_mix64(state) & _MASK32, np.uint64(n_c), state)


@nb.njit(cache=True, inline="always")
def _copy_latents(
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    base: np.int64,
    width: np.uint64,
    stride: np.uint64,
) -> None:
    p = np.uint64(0)
    for k in range(width):
        lat[base + k] = row[p]
        p += stride


# Row expanders. A tree is expanded in place in its output row: a depth-d node k lives at
# the position of its leftmost leaf, k * s**(L-d); its child 0 overwrites it once the
# symbol is read. No heap buffer and no copy; the row stays in L1 cache. Indices are
# unsigned so that numba emits no negative-index wraparound code in the hot loop, and
# s == 2 has its own loop because a runtime-length inner loop (vectorised by LLVM for
# nothing) costs about 3x. The four expanders (uniform/weighted x s == 2/general) and the two
# parallel kernels repeat the same level loop on purpose: each is a kernel specialisation
# whose draw order fixes the sampled bytes; a shared generic loop would cost speed (the
# branches sit in the innermost loop) and is not what numba inlines well.
@nb.njit(cache=True, inline="always")
def _row_pow2_s2(
    rules: npt.NDArray[Any],
    n_levels: int,
    width_tab: int,
    m: int,
    log2m: int,
    state: np.uint64,
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    i: int,
    want_latents: bool,
) -> None:
    bits_left = 0
    spare = np.uint64(0)
    mask = np.uint64(m - 1)
    ul2 = np.uint64(log2m)
    um = np.uint64(m)
    stride = np.uint64(row.shape[0])
    width = np.uint64(1)
    for depth in range(n_levels):
        level = n_levels - depth
        if want_latents:
            _copy_latents(row, lat, lat_base[level] + i * np.int64(width), width, stride)
        child = stride >> np.uint64(1)
        lbase = np.uint64((level - 1) * width_tab)
        p = np.uint64(0)
        for _ in range(width):
            a = np.uint64(row[p])
            if bits_left < log2m:  # never true when m == 1 (log2m == 0): no words used
                state += _GAMMA
                spare = _mix64(state)
                bits_left = 64
            r = spare & mask
            spare >>= ul2
            bits_left -= log2m
            q = ((lbase + a) * um + r) << np.uint64(1)
            row[p] = rules[q]
            row[p + child] = rules[q + np.uint64(1)]
            p += stride
        stride = child
        width <<= np.uint64(1)


@nb.njit(cache=True, inline="always")
def _row_general(
    rules: npt.NDArray[Any],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    log2m: int,
    state: np.uint64,
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    i: int,
    want_latents: bool,
) -> None:
    # Any s; m a power of two (log2m bits per node, log2m == 0 for m == 1) or not
    # (log2m < 0: one Lemire draw per node from successive 32-bit halves).
    bits_left = 0
    spare = np.uint64(0)
    have_half = False
    mask = np.uint64(m - 1) if log2m >= 0 else np.uint64(0)
    ul2 = np.uint64(max(log2m, 0))
    um = np.uint64(m)
    us = np.uint64(s)
    stride = np.uint64(row.shape[0])
    width = np.uint64(1)
    for depth in range(n_levels):
        level = n_levels - depth
        if want_latents:
            _copy_latents(row, lat, lat_base[level] + i * np.int64(width), width, stride)
        child = stride // us
        lbase = np.uint64((level - 1) * width_tab)
        p = np.uint64(0)
        for k in range(width):
            a = np.uint64(row[p])
            if log2m >= 0:
                if bits_left < log2m:
                    state += _GAMMA
                    spare = _mix64(state)
                    bits_left = 64
                r = spare & mask
                spare >>= ul2
                bits_left -= log2m
            else:
                if not have_half:
                    state += _GAMMA
                    spare = _mix64(state)
                    x = spare & _MASK32
                    have_half = True
                else:
                    x = spare >> np.uint64(32)
                    have_half = False
                r = np.uint64(_bounded32(x, um, state + np.uint64(k + 1) * _GAMMA))
            q = ((lbase + a) * um + r) * us
            c = p
            for _ in range(s):
                row[c] = rules[q]
                q += np.uint64(1)
                c += child
            p += stride
        stride = child
        width *= us


@nb.njit(cache=True, inline="always")
def _expand_one(
    rules: npt.NDArray[Any],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    log2m: int,
    key: np.uint64,
    index: np.int64,
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    i: int,
    want_latents: bool,
) -> None:
    state, root = _root_state(key, index, n_c)
    row[0] = root
    if s == 2 and log2m >= 0:
        _row_pow2_s2(
            rules, n_levels, width_tab, m, log2m, state, row, lat, lat_base, i, want_latents
        )
    else:
        _row_general(
            rules, n_levels, width_tab, s, m, log2m, state, row, lat, lat_base, i,
            want_latents,
        )  # fmt: skip


# Weighted grammars (docs/theory.md section 9): one 32-bit half-word per draw (low half of each
# word first). The product x * n of the half x with the law's size n gives the column of
# the alias table (high 32 bits) and, in its low 32 bits, a fraction that accepts the column
# or takes its alias (Walker/Vose). Given the column, the fraction is uniform on a grid of
# step n / 2**32, and thresholds are multiples of 2**-31, so each probability is represented
# within about n * 2**-31.
@nb.njit(cache=True, inline="always")
def _alias_draw(
    x: np.uint64, n: np.uint64, table: npt.NDArray[np.uint64], base: np.uint64
) -> np.uint64:
    # table[c] packs the keep-threshold (low 32 bits, at most 2**31) and the alias (high 32
    # bits): one load per draw, and a branchless select (the keep/alias outcome is random,
    # so a branch would be mispredicted often).
    prod = x * n
    col = prod >> np.uint64(32)
    entry = table[base + col]
    keep = np.uint64(((prod & _MASK32) >> np.uint64(1)) < (entry & _MASK32))
    out: np.uint64 = keep * col + (np.uint64(1) - keep) * (entry >> np.uint64(32))
    return out


@nb.njit(cache=True, inline="always")
def _next_half(
    state: np.uint64, spare: np.uint64, have: bool
) -> tuple[np.uint64, np.uint64, bool, np.uint64]:
    # The next 32-bit half of the string's word stream: the high half of the current word
    # if it is unused, else the low half of a fresh word.
    if have:
        return state, spare, False, spare >> np.uint64(32)
    state += _GAMMA
    spare = _mix64(state)
    return state, spare, True, spare & _MASK32


@nb.njit(cache=True, inline="always")
def _expand_one_weighted(
    rules: npt.NDArray[Any],
    table: npt.NDArray[np.uint64],
    kids: npt.NDArray[np.uint64],
    root_table: npt.NDArray[np.uint64],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    key: np.uint64,
    index: np.int64,
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    i: int,
    want_latents: bool,
) -> None:
    # Root from the low half of word 1; the nodes continue with its high half.
    state = _string_state(key, index) + _GAMMA
    spare = _mix64(state)
    row[0] = _alias_draw(spare & _MASK32, np.uint64(n_c), root_table, np.uint64(0))
    if kids.shape[0] > 0:
        _row_weighted_s2(
            kids, n_levels, width_tab, m, state, spare, row, lat, lat_base, i, want_latents
        )
    else:
        _row_weighted(
            rules,
            table,
            n_levels,
            width_tab,
            s,
            m,
            state,
            spare,
            row,
            lat,
            lat_base,
            i,
            want_latents,
        )


@nb.njit(cache=True, inline="always")
def _row_weighted_s2(
    kids: npt.NDArray[np.uint64],
    n_levels: int,
    width_tab: int,
    m: int,
    state: np.uint64,
    spare: np.uint64,
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    i: int,
    want_latents: bool,
) -> None:
    # s == 2 with 8-bit symbols: the same draws as _row_weighted (same bytes), from a table
    # whose entries also hold the children of both candidate rules (see _alias_tables). The
    # root node takes the high half of word 1; every deeper level has an even width, so its
    # nodes pair up with the two halves of one fresh word (no per-node branch).
    um = np.uint64(m)
    stride = np.uint64(row.shape[0])
    width = np.uint64(1)
    for depth in range(n_levels):
        level = n_levels - depth
        if want_latents:
            _copy_latents(row, lat, lat_base[level] + i * np.int64(width), width, stride)
        child = stride >> np.uint64(1)
        lbase = np.uint64((level - 1) * width_tab)
        if depth == 0:
            _weighted_node_s2(kids, lbase, um, spare >> np.uint64(32), row, np.uint64(0), child)
        else:
            p = np.uint64(0)
            for _ in range(width >> np.uint64(1)):
                state += _GAMMA
                word = _mix64(state)
                _weighted_node_s2(kids, lbase, um, word & _MASK32, row, p, child)
                _weighted_node_s2(kids, lbase, um, word >> np.uint64(32), row, p + stride, child)
                p += stride << np.uint64(1)
        stride = child
        width <<= np.uint64(1)


@nb.njit(cache=True, inline="always")
def _weighted_node_s2(
    kids: npt.NDArray[np.uint64],
    lbase: np.uint64,
    um: np.uint64,
    x: np.uint64,
    row: npt.NDArray[Any],
    p: np.uint64,
    child: np.uint64,
) -> None:
    # Same draw as _alias_draw; the entry holds the two children of the kept rule (bits
    # 32-47) and of its alias (48-63): no dependent load of the rule table.
    base = (lbase + np.uint64(row[p])) * um
    prod = x * um
    entry = kids[base + (prod >> np.uint64(32))]
    if ((prod & _MASK32) >> np.uint64(1)) < (entry & _MASK32):
        pair = entry >> np.uint64(32)
    else:
        pair = entry >> np.uint64(48)
    row[p] = pair & np.uint64(0xFF)
    row[p + child] = (pair >> np.uint64(8)) & np.uint64(0xFF)


@nb.njit(cache=True, inline="always")
def _row_weighted(
    rules: npt.NDArray[Any],
    table: npt.NDArray[np.uint64],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    state: np.uint64,
    spare: np.uint64,
    row: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    i: int,
    want_latents: bool,
) -> None:
    have = True  # the high half of word 1 is still unused
    um = np.uint64(m)
    us = np.uint64(s)
    stride = np.uint64(row.shape[0])
    width = np.uint64(1)
    for depth in range(n_levels):
        level = n_levels - depth
        if want_latents:
            _copy_latents(row, lat, lat_base[level] + i * np.int64(width), width, stride)
        child = stride // us
        lbase = np.uint64((level - 1) * width_tab)
        p = np.uint64(0)
        for _ in range(width):
            state, spare, have, x = _next_half(state, spare, have)
            base = (lbase + np.uint64(row[p])) * um
            q = (base + _alias_draw(x, um, table, base)) * us
            c = p
            for _ in range(s):
                row[c] = rules[q]
                q += np.uint64(1)
                c += child
            p += stride
        stride = child
        width *= us


@nb.njit(cache=True, parallel=True)
def _sample_weighted_kernel(
    rules: npt.NDArray[Any],
    table: npt.NDArray[np.uint64],
    kids: npt.NDArray[np.uint64],
    root_table: npt.NDArray[np.uint64],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    key: np.uint64,
    start: np.int64,
    tokens: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    want_latents: bool,
) -> None:
    for i in nb.prange(tokens.shape[0]):
        _expand_one_weighted(
            rules, table, kids, root_table, n_levels, width_tab, s, m, n_c, key,
            start + i, tokens[i], lat, lat_base, i, want_latents,
        )  # fmt: skip


@nb.njit(cache=True, parallel=True)
def _sample_range_kernel(
    rules: npt.NDArray[Any],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    log2m: int,
    key: np.uint64,
    start: np.int64,
    tokens: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    want_latents: bool,
) -> None:
    for i in nb.prange(tokens.shape[0]):
        _expand_one(
            rules, n_levels, width_tab, s, m, n_c, log2m, key, start + i,
            tokens[i], lat, lat_base, i, want_latents,
        )  # fmt: skip


# Serial twins of the two kernels above (same per-string calls, hence the same bytes): they
# never enter numba's threading layer, which a process forked after GNU OpenMP was used (a
# DataLoader worker) cannot use.
@nb.njit(cache=True)
def _sample_weighted_serial(
    rules: npt.NDArray[Any],
    table: npt.NDArray[np.uint64],
    kids: npt.NDArray[np.uint64],
    root_table: npt.NDArray[np.uint64],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    key: np.uint64,
    start: np.int64,
    tokens: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    want_latents: bool,
) -> None:
    for i in range(tokens.shape[0]):
        _expand_one_weighted(
            rules, table, kids, root_table, n_levels, width_tab, s, m, n_c, key,
            start + i, tokens[i], lat, lat_base, i, want_latents,
        )  # fmt: skip


@nb.njit(cache=True)
def _sample_range_serial(
    rules: npt.NDArray[Any],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    log2m: int,
    key: np.uint64,
    start: np.int64,
    tokens: npt.NDArray[Any],
    lat: npt.NDArray[Any],
    lat_base: npt.NDArray[np.int64],
    want_latents: bool,
) -> None:
    for i in range(tokens.shape[0]):
        _expand_one(
            rules, n_levels, width_tab, s, m, n_c, log2m, key, start + i,
            tokens[i], lat, lat_base, i, want_latents,
        )  # fmt: skip


@nb.njit(cache=True)
def _decode_kernel(
    rules: npt.NDArray[Any],
    n_levels: int,
    width_tab: int,
    s: int,
    m: int,
    n_c: int,
    codes: npt.NDArray[np.int64],
    tokens: npt.NDArray[Any],
) -> None:
    # Tree index in mixed radix: root symbol (base n_c), then one rule (base m) per
    # internal node in breadth-first order; same in-place expansion as the samplers.
    us = np.uint64(s)
    for i in range(codes.shape[0]):
        row = tokens[i]
        c = codes[i]
        row[0] = c % n_c
        c //= n_c
        stride = np.uint64(row.shape[0])
        width = np.uint64(1)
        for depth in range(n_levels):
            lbase = np.uint64((n_levels - depth - 1) * width_tab)
            child = stride // us
            p = np.uint64(0)
            for _ in range(width):
                a = np.uint64(row[p])
                r = np.uint64(c % m)
                c //= m
                q = ((lbase + a) * np.uint64(m) + r) * us
                cp = p
                for _ in range(s):
                    row[cp] = rules[q]
                    q += np.uint64(1)
                    cp += child
                p += stride
            stride = child
            width *= us


# -- Python side -----------------------------------------------------------------------------
def _seed_key(seed: int) -> np.uint64:
    seed = check_seed("seed", seed)
    # Hash the seed so that nearby seeds give unrelated streams.
    return np.uint64(int(_mix64(np.uint64(int(seed)) ^ np.uint64(0x5851F42D4C957F2D))))


def string_keys(seed: int) -> np.uint64:
    """The 64-bit key that the data seed expands to (exposed for reproducibility audits).

    >>> int(string_keys(0)) == int(string_keys(0)) != int(string_keys(1))
    True
    """
    return _seed_key(seed)


_PACK_CACHE: dict[int, tuple[Grammar, npt.NDArray[Any]]] = {}


def _packed_rules(grammar: Grammar) -> npt.NDArray[Any]:
    # All levels in one flat (L, max(v, n_c), m, s) table in the output dtype (small: stays
    # in cache, and no int64 -> symbol conversion in the inner loop).
    hit = _PACK_CACHE.get(id(grammar))
    if hit is not None and hit[0] is grammar:
        return hit[1]
    p = grammar.params
    packed = np.zeros((p.L, max(p.v, p.n_c), p.m, p.s), dtype=p.dtype)
    for level in range(1, p.L + 1):
        table = grammar.rules_of(level)
        packed[level - 1, : table.shape[0]] = table
    flat = packed.ravel()
    if len(_PACK_CACHE) > 64:
        _PACK_CACHE.clear()
    _PACK_CACHE[id(grammar)] = (grammar, flat)
    return flat


def alias_table(probs: npt.ArrayLike) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Walker/Vose alias table of one law, thresholds in units of ``2**-32``.

    Column ``r`` (drawn uniformly) is kept when a uniform 32-bit word is below
    ``thresholds[r]``, else replaced by ``aliases[r]``; the law of the result is ``probs``
    up to ``2**-32`` per entry.

    >>> thr, ali = alias_table([0.5, 0.25, 0.25])
    >>> (thr / 2**32).tolist(), ali.tolist()  # column 0 always kept; 1, 2 fall back to 0
    ([1.0, 0.75, 0.75], [0, 0, 0])
    """
    p = np.asarray(probs, dtype=np.float64)
    n = p.size
    scaled = p * n / p.sum()
    thr = np.full(n, 1.0)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        lo, hi = small.pop(), large.pop()
        thr[lo], alias[lo] = scaled[lo], hi
        scaled[hi] -= 1.0 - scaled[lo]
        (small if scaled[hi] < 1.0 else large).append(hi)
    # Leftovers are 1 up to rounding: always kept.
    out = np.minimum(np.round(thr * 2.0**32), 2.0**32).astype(np.uint64)
    return out, alias


_ALIAS_CACHE: dict[int, tuple[Grammar, tuple[npt.NDArray[np.uint64], ...]]] = {}


def _pack_alias(probs: npt.ArrayLike) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    # Entries threshold >> 1 (31-bit precision; 2**31 = always keep) | alias << 32.
    thr, alias = alias_table(probs)
    return (thr >> np.uint64(1)) | (alias.astype(np.uint64) << np.uint64(32)), alias


def _alias_tables(grammar: Grammar) -> tuple[npt.NDArray[np.uint64], ...]:
    # Packed alias entries in the rule table's (L, max(v, n_c), m) layout, the same with the
    # children of the kept and the alias rule (s == 2 and 8-bit symbols only; else empty),
    # and the root's entries.
    hit = _ALIAS_CACHE.get(id(grammar))
    if hit is not None and hit[0] is grammar:
        return hit[1]
    p = grammar.params
    table = np.zeros((p.L, max(p.v, p.n_c), p.m), dtype=np.uint64)
    with_kids = p.s == 2 and p.dtype.itemsize == 1
    kids = np.zeros(table.shape if with_kids else (0, 0, 0), dtype=np.uint64)
    for level in range(1, p.L + 1):
        rules = grammar.rules_of(level).astype(np.uint64)
        for a, row in enumerate(grammar.rule_probs_of(level)):
            entry, alias = _pack_alias(row)
            table[level - 1, a] = entry
            if with_kids:
                kept = rules[a, :, 0] | (rules[a, :, 1] << np.uint64(8))
                alt = rules[a, alias, 0] | (rules[a, alias, 1] << np.uint64(8))
                low = entry & np.uint64(0xFFFFFFFF)
                kids[level - 1, a] = low | (kept << np.uint64(32)) | (alt << np.uint64(48))
    out = (table.ravel(), kids.ravel(), _pack_alias(grammar.root_probs)[0])
    if len(_ALIAS_CACHE) > 64:
        _ALIAS_CACHE.clear()
    _ALIAS_CACHE[id(grammar)] = (grammar, out)
    return out


def _latent_buffers(
    grammar: Grammar, n: int, latents: bool
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64], tuple[npt.NDArray[Any], ...] | None]:
    # One flat buffer, level-major: level l occupies a contiguous (n, s**(L-l)) block, so
    # every returned level is a C-contiguous view and no copy is needed.
    p = grammar.params
    base = np.zeros(p.L + 1, dtype=np.int64)
    if not latents:
        return np.empty(0, dtype=p.dtype), base, None
    flat = np.empty(n * p.n_internal_nodes, dtype=p.dtype)
    views = []
    offset = 0
    for level in range(1, p.L + 1):
        width = p.nodes_at_level(level)
        base[level] = offset
        views.append(flat[offset : offset + n * width].reshape(n, width))
        offset += n * width
    return flat, base, tuple(views)


def _log2m(m: int) -> int:
    # log2(m) for a power of two (0 for m == 1), -1 otherwise (Lemire draws).
    return m.bit_length() - 1 if m & (m - 1) == 0 else -1


def _sample_range(
    grammar: Grammar, start: int, n: int, seed: int, latents: bool, parallel: bool = True
) -> Sample:
    p = grammar.params
    key = _seed_key(seed)
    tokens = np.empty((n, p.string_length), dtype=p.dtype)
    flat, base, views = _latent_buffers(grammar, n, latents)
    if not n:
        return Sample(tokens, views)
    if not parallel:
        if grammar.is_uniform:
            _sample_range_serial(
                _packed_rules(grammar), p.L, max(p.v, p.n_c), p.s, p.m, p.n_c, _log2m(p.m),
                key, np.int64(start), tokens, flat, base, latents,
            )  # fmt: skip
        else:
            table, kids, root_table = _alias_tables(grammar)
            _sample_weighted_serial(
                _packed_rules(grammar), table, kids, root_table, p.L,
                max(p.v, p.n_c), p.s, p.m, p.n_c, key, np.int64(start), tokens, flat, base,
                latents,
            )  # fmt: skip
        return Sample(tokens, views)
    # Small batches run on the calling thread only: waking the pool costs far more than
    # the work (milliseconds when the cores are busy). Bytes do not depend on threads.
    serial = n * (p.string_length + p.n_internal_nodes * latents) < _SERIAL_BELOW
    threads = nb.get_num_threads()
    if serial:
        nb.set_num_threads(1)
    try:
        if grammar.is_uniform:
            _sample_range_kernel(
                _packed_rules(grammar), p.L, max(p.v, p.n_c), p.s, p.m, p.n_c, _log2m(p.m),
                key, np.int64(start), tokens, flat, base, latents,
            )  # fmt: skip
        else:
            table, kids, root_table = _alias_tables(grammar)
            _sample_weighted_kernel(
                _packed_rules(grammar), table, kids, root_table, p.L,
                max(p.v, p.n_c), p.s, p.m, p.n_c, key, np.int64(start), tokens, flat, base,
                latents,
            )  # fmt: skip
    finally:
        if serial:
            nb.set_num_threads(threads)
    return Sample(tokens, views)


def _check_count(name: str, value: object) -> int:
    # Counts and indices stay below 2**62 so that start + P never overflows int64.
    return check_int(name, value, minimum=0, maximum=_MAX_INDEX - 1)


def sample(
    grammar: Grammar,
    P: int,
    seed: int,
    *,
    latents: bool = False,
    replace: bool = True,
    start: int = 0,
    parallel: bool = True,
) -> Sample:
    """Draw ``P`` strings of ``grammar``.

    String ``i`` (global index ``start + i``) is a deterministic function of
    ``(seed, start + i)`` alone: the same seed gives the same bytes whatever the chunking
    or the number of threads. The root symbol is drawn from ``grammar.root_probs`` and each
    internal node picks one of its symbol's ``m`` rules with probability
    ``grammar.rule_probs_of(level)[a, r]``. Uniform grammars (the paper's RHM) use exact
    integer draws (no modulo bias); the bit-stream is documented in the Notes
    (:data:`RNG_SCHEME_VERSION`).

    Parameters
    ----------
    grammar : Grammar
        The rule tables.
    P : int
        Number of strings, ``0 <= P < 2**62``.
    seed : int
        Data seed, ``0 <= seed < 2**64`` (independent of the grammar seed).
    latents : bool
        Also return every latent level.
    replace : bool
        ``False`` draws ``P`` *distinct* data (exactly uniform without replacement, since
        every tree has probability ``1/P_max`` and a string determines its tree);
        requires ``P <= P_max`` and a uniform, unambiguous grammar.
    start : int
        Index of the first string (with replacement only); ``sample(g, P, seed, start=k)``
        equals rows ``k..k+P-1`` of a larger call.
    parallel : bool, default True
        ``False`` draws on the calling thread only, never entering numba's threading layer
        (same bytes): what a process forked after the parent used GNU OpenMP needs, such
        as a PyTorch ``DataLoader`` worker. With replacement only.

    Returns
    -------
    Sample
        Tokens of shape ``(P, s**L)`` in ``params.dtype`` (and the latents if asked).

    Raises
    ------
    TypeError
        If ``grammar`` is not a Grammar or a count/seed is not an integer.
    ValueError
        If a count or the seed is out of range, or ``P > P_max`` without replacement, or
        ``replace=False`` for a weighted or ambiguous grammar (trees are then not
        equally likely, or a string does not determine its tree).

    Notes
    -----
    Random-number scheme (:data:`RNG_SCHEME_VERSION` 2); every string is a pure function
    of ``(seed, index)``:

    - ``key = mix64(seed ^ 0x5851F42D4C957F2D)``, ``mix64`` the splitmix64 finaliser.
    - String ``i`` owns the splitmix64 stream started at
      ``state_i = mix64(key ^ mix64(i * GAMMA + 1))``; its ``t``-th word (``t >= 1``) is
      ``w_t = mix64(state_i + t * GAMMA)``, ``GAMMA = 0x9E3779B97F4A7C15``.
    - Root: Lemire's exact bounded draw in ``[0, n_c)`` from the low 32 bits of ``w_1``.
    - Rule choices, one per internal node in breadth-first order (root first, then each
      level left to right), from ``w_2, w_3, ...``: for ``m`` a power of two, ``log2(m)``
      bits per node from the low end of the current word, a fresh word starting when fewer
      than ``log2(m)`` bits remain (``m == 1`` consumes nothing); otherwise one exact
      Lemire draw per node from the low, then the high 32-bit half of each word.
    - A Lemire rejection (probability below ``n / 2**32``) redraws from a side stream
      seeded by the state, so it never shifts the words of later nodes.
    - Weighted grammars (any rule row or the root prior not exactly uniform) use one 32-bit
      half-word per draw instead: the root from the low half of ``w_1``, then the nodes in
      breadth-first order from the high half of ``w_1``, the low and high halves of
      ``w_2``, and so on. A half ``x`` and a law of size ``n`` (its Walker alias table,
      :func:`alias_table`) give ``prod = x * n``: column ``c = prod >> 32``, kept if
      ``(prod mod 2**32) >> 1 < threshold[c] >> 1``, else ``alias[c]``. Each probability
      is represented within about ``n * 2**-31``; uniform grammars never take this path,
      so their bytes are those of the uniform scheme.

    Without replacement the result is the first ``P`` distinct strings of the stream in
    index order, or, when ``P > P_max / 2``, the first ``P`` entries of a permutation of
    all ``P_max`` tree indices drawn by ``numpy.random.default_rng([seed, 0x5EED])`` and
    decoded in mixed radix (root in base ``n_c``, then one base-``m`` digit per internal
    node in breadth-first order). Latents are then recovered by :func:`parse`.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    >>> x = sample(g, 5, seed=1, latents=True)
    >>> x.tokens.shape, x.tokens.dtype.name, x.level(2).shape
    ((5, 4), 'uint8', (5, 1))
    >>> bool((sample(g, 3, seed=1, start=2).tokens == x.tokens[2:]).all())
    True
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    P = _check_count("P", P)
    start = _check_count("start", start)
    _seed_key(seed)
    if replace:
        if start + P > _MAX_INDEX:
            raise ValueError(f"start + P must satisfy start + P <= 2**62, got {start + P}")
        return _sample_range(grammar, start, P, seed, latents, parallel=bool(parallel))
    if not parallel:
        raise ValueError("parallel=False is for replace=True only")
    if start != 0:
        raise ValueError("start must be 0 when replace=False (draws depend on all earlier ones)")
    if not grammar.is_uniform or grammar.is_ambiguous:
        raise ValueError(
            "replace=False needs a uniform, unambiguous grammar (equally likely trees, one "
            "tree per string); sample with replace=True"
        )
    return _sample_distinct(grammar, P, seed, latents)


def _first_distinct(tokens: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    # Row indices of the first occurrence of every distinct row, in increasing order.
    rows = np.ascontiguousarray(tokens)
    as_void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first = np.unique(as_void, return_index=True)
    return np.sort(first).astype(np.int64)


def _sample_distinct(grammar: Grammar, P: int, seed: int, latents: bool) -> Sample:
    p = grammar.params
    if P > p.P_max:
        raise ValueError(
            f"P must satisfy P <= P_max = {p.P_max} when replace=False (there are only "
            f"P_max distinct data), got P={P}"
        )
    if P > p.P_max // 2:
        return _sample_by_enumeration(grammar, P, seed, latents)
    # Keep the first P distinct strings of the with-replacement stream: each kept string is
    # uniform over the trees not yet drawn (exact sampling without replacement). The result
    # does not depend on how far we look ahead; expected draws stay below 2P.
    n_draw = P + P // 4 + 64
    while True:
        toks = _sample_range(grammar, 0, n_draw, seed, False).tokens
        first = _first_distinct(toks)
        if len(first) >= P:
            break
        n_draw *= 2
    return _with_latents(grammar, np.ascontiguousarray(toks[first[:P]]), latents)


def _sample_by_enumeration(grammar: Grammar, P: int, seed: int, latents: bool) -> Sample:
    # Small P_max (< 2P < 2**63): permute all tree indices and decode the first P.
    p = grammar.params
    rng = check_random_state(seed, 0x5EED)
    chosen = rng.permutation(p.P_max)[:P].astype(np.int64)
    tokens = np.empty((P, p.string_length), dtype=p.dtype)
    _decode_kernel(_packed_rules(grammar), p.L, max(p.v, p.n_c), p.s, p.m, p.n_c, chosen, tokens)
    return _with_latents(grammar, tokens, latents)


def _with_latents(grammar: Grammar, tokens: npt.NDArray[Any], latents: bool) -> Sample:
    # Rules are unambiguous, so parsing the strings recovers their latent trees exactly.
    return Sample(tokens, parse(grammar, tokens) if latents else None)


def iter_samples(
    grammar: Grammar,
    P: int,
    seed: int,
    *,
    chunk_size: int = 65536,
    latents: bool = False,
) -> Iterator[Sample]:
    """Stream ``P`` strings in chunks of at most ``chunk_size`` (with replacement).

    Memory is bounded by one chunk whatever ``P``; concatenating the chunks gives exactly
    ``sample(grammar, P, seed, latents=latents)``.

    Parameters
    ----------
    grammar : Grammar
        The rule tables.
    P : int
        Total number of strings.
    seed : int
        Data seed.
    chunk_size : int
        Strings per chunk, ``>= 1``.
    latents : bool
        Also return every latent level.

    Returns
    -------
    Iterator of Sample
        Consecutive chunks (global rows ``k*chunk_size ...``); arguments are validated
        on the call, before the first chunk is drawn.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    >>> [len(c) for c in iter_samples(g, 10, seed=3, chunk_size=4)]
    [4, 4, 2]
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    P = _check_count("P", P)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1, maximum=_MAX_INDEX - 1)
    _seed_key(seed)
    # Validate eagerly (here), then hand back a lazy generator.
    return _iter_chunks(grammar, P, seed, chunk_size, latents)


def _iter_chunks(
    grammar: Grammar, P: int, seed: int, chunk_size: int, latents: bool
) -> Iterator[Sample]:
    for start in range(0, P, chunk_size):
        yield _sample_range(grammar, start, min(chunk_size, P - start), seed, latents)
