"""Exact belief propagation on the RHM tree: posteriors of every level and the log-evidence."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import Sample
from rhm_theory.validation import (
    check_array,
    check_float,
    check_int,
    check_probabilities,
    check_seed,
)

__all__ = [
    "Evidence",
    "PackedGrammar",
    "Posterior",
    "belief_propagation",
    "iter_belief_propagation",
    "packed_grammar",
    "prepare_evidence",
    "sample_posterior",
]

FloatArray = npt.NDArray[np.float64]

#: Strings per kernel block: one scratch allocation (two messages per node) serves a block.
_BLOCK = 16
#: Default budget of posterior floats per streamed chunk (32 MiB of float64).
_CHUNK_FLOATS = 2**22


# -- grammar packing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PackedGrammar:
    """Rule tables and weights of every level in the flat layout the kernels read.

    ``rules[l-1, a, r, j]`` is the level-``(l-1)`` symbol at position ``j`` of rule ``r`` of
    symbol ``a`` *plus* ``j * width`` (the offset of child ``j``'s message in a node's block);
    ``weights[l-1, a, r]`` is ``w_a(r)`` (0 for padding rows); ``vocab[l]`` the vocabulary of
    level ``l``; ``prior`` the root law. ``width = max(v, n_c)``. ``inv_ptr[l-1, j]`` and
    ``inv_pair[l-1, j]`` index the rules by their child at position ``j`` (CSR): the pairs
    ``a * m + r`` whose rule has symbol ``b`` at ``j`` are
    ``inv_pair[l-1, j, inv_ptr[l-1, j, b]:inv_ptr[l-1, j, b+1]]``, so the upward pass visits
    only rules whose sparsest child has a non-zero message.
    """

    params: RHMParams
    rules: npt.NDArray[np.int64]
    weights: FloatArray
    vocab: npt.NDArray[np.int64]
    prior: FloatArray
    width: int
    inv_ptr: npt.NDArray[np.int64]
    inv_pair: npt.NDArray[np.int64]


def packed_grammar(grammar: Grammar) -> PackedGrammar:
    """Pack ``grammar``'s rules, rule weights and root prior for the BP kernels.

    Weights come from ``grammar.rule_probs_of`` and ``grammar.root_probs``, so weighted
    (and, since BP runs over (symbol, rule) pairs, ambiguous) grammars need no change.

    Parameters
    ----------
    grammar : Grammar
        The grammar.

    Returns
    -------
    PackedGrammar

    Raises
    ------
    TypeError
        If ``grammar`` is not a Grammar.
    ValueError
        If its rule or root probabilities are not probability rows.
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    width = max(p.v, p.n_c)
    rules = np.zeros((p.L, width, p.m, p.s), dtype=np.int64)
    weights = np.zeros((p.L, width, p.m), dtype=np.float64)
    offsets = np.arange(p.s, dtype=np.int64) * width
    for level in range(1, p.L + 1):
        table = np.asarray(grammar.rules_of(level), dtype=np.int64)
        n_sym = p.vocab(level)
        rules[level - 1, :n_sym] = table + offsets
        weights[level - 1, :n_sym] = check_probabilities(
            f"rule_probs_of({level})", grammar.rule_probs_of(level), shape=(n_sym, p.m)
        )
    prior = check_probabilities("root_probs", grammar.root_probs, shape=(p.n_c,))
    vocab = np.array([p.vocab(lv) for lv in range(p.L + 1)], dtype=np.int64)
    inv_ptr = np.zeros((p.L, p.s, p.v + 1), dtype=np.int64)
    inv_pair = np.zeros((p.L, p.s, width * p.m), dtype=np.int64)
    for level in range(1, p.L + 1):
        table = np.asarray(grammar.rules_of(level), dtype=np.int64)
        for j in range(p.s):
            col = table[:, :, j].ravel()
            inv_pair[level - 1, j, : col.size] = np.argsort(col, kind="stable")
            inv_ptr[level - 1, j, 1:] = np.cumsum(np.bincount(col, minlength=p.v))
    return PackedGrammar(p, rules, weights, vocab, np.ascontiguousarray(prior), width, inv_ptr,
                         inv_pair)


def _level_offsets(p: RHMParams, width: int) -> npt.NDArray[np.int64]:
    # Start of level l's messages in a string's scratch (level 0 first, width floats a node).
    off = np.zeros(p.L + 2, dtype=np.int64)
    for level in range(p.L + 1):
        off[level + 1] = off[level] + p.nodes_at_level(level) * width
    return off


# -- kernels -------------------------------------------------------------------------------------
@nb.njit(cache=True, inline="always")
def _leaf_evidence(
    tokens: npt.NDArray[Any],
    soft: FloatArray,
    use_soft: bool,
    mask: npt.NDArray[np.bool_],
    use_mask: bool,
    noise: float,
    v: int,
    i: int,
    lam: FloatArray,
    n_leaves: int,
    width: int,
) -> float:
    # Normalised leaf messages of string i into lam[0 : n_leaves*width]; returns sum of logs
    # of the normalisers (-inf if some leaf has no support).
    logz = 0.0
    for pos in range(n_leaves):
        base = pos * width
        hidden = use_mask and mask[i, pos]
        if use_soft:
            for b in range(v):
                lam[base + b] = soft[i, pos, b]
        else:
            x = np.int64(tokens[i, pos])
            for b in range(v):
                lam[base + b] = 0.0
            if x < v:
                lam[base + x] = 1.0
            else:  # the unknown marker: nothing observed
                hidden = True
        if hidden:
            for b in range(v):
                lam[base + b] = 1.0
        elif noise > 0.0:
            # e'(b) = sum_x P(x | b) e(x) with P(x | b) = (1 - eps) 1[x = b] + eps / v
            tot = 0.0
            for b in range(v):
                tot += lam[base + b]
            flat = noise * tot / v
            for b in range(v):
                lam[base + b] = (1.0 - noise) * lam[base + b] + flat
        z = 0.0
        for b in range(v):
            z += lam[base + b]
        if not z > 0.0:
            return -np.inf
        inv = 1.0 / z
        for b in range(v):
            lam[base + b] *= inv
        logz += math.log(z)
    return logz


@nb.njit(cache=True, inline="always")
def _upward(
    rules: npt.NDArray[np.int64],
    weights: FloatArray,
    vocab: npt.NDArray[np.int64],
    inv_ptr: npt.NDArray[np.int64],
    inv_pair: npt.NDArray[np.int64],
    s: int,
    L: int,
    m: int,
    width: int,
    off: npt.NDArray[np.int64],
    lam: FloatArray,
) -> float:
    # Upward pass over levels 1..L from normalised leaf messages; returns the sum of the logs
    # of the normalisers (-inf once a node has no support).
    logz = 0.0
    v = vocab[0]
    n_nodes = 1
    for _ in range(L):
        n_nodes *= s
    for level in range(1, L + 1):
        n_nodes //= s
        n_sym = vocab[level]
        child_base = off[level - 1]
        base = off[level]
        for k in range(n_nodes):
            c0 = child_base + k * s * width
            node = base + k * width
            for a in range(n_sym):
                lam[node + a] = 0.0
            # Visit only the rules whose sparsest child has a non-zero message there: messages
            # of observed or partly hidden strings are sparse (one-hot once parsed).
            jstar = 0
            best = v + 1
            for j in range(s):
                nnz = 0
                for b in range(v):
                    if lam[c0 + j * width + b] != 0.0:
                        nnz += 1
                if nnz < best:
                    best = nnz
                    jstar = j
            cj = c0 + jstar * width
            for b0 in range(v):
                x0 = lam[cj + b0]
                if x0 == 0.0:
                    continue
                for t in range(inv_ptr[level - 1, jstar, b0], inv_ptr[level - 1, jstar, b0 + 1]):
                    pair = inv_pair[level - 1, jstar, t]
                    a = pair // m
                    r = pair - a * m
                    w = weights[level - 1, a, r]
                    for j in range(s):  # in rule order: the same product whatever jstar
                        w *= lam[c0 + rules[level - 1, a, r, j]]
                    lam[node + a] += w
            z = 0.0
            for a in range(n_sym):
                z += lam[node + a]
            if not z > 0.0:
                return -np.inf
            inv = 1.0 / z
            for a in range(n_sym):
                lam[node + a] *= inv
            logz += math.log(z)
    return logz


@nb.njit(cache=True, inline="always")
def _downward(
    rules: npt.NDArray[np.int64],
    weights: FloatArray,
    vocab: npt.NDArray[np.int64],
    prior: FloatArray,
    s: int,
    L: int,
    m: int,
    width: int,
    off: npt.NDArray[np.int64],
    lam: FloatArray,
    post: FloatArray,
    lowest: int,
    tbuf: FloatArray,
) -> float:
    # Root posterior, then posteriors of levels L-1 .. lowest; returns log sum prior*lam.
    root = off[L]
    n_c = vocab[L]
    z = 0.0
    for a in range(n_c):
        post[root + a] = prior[a] * lam[root + a]
        z += post[root + a]
    if not z > 0.0:
        return -np.inf
    for a in range(n_c):
        post[root + a] /= z
    n_nodes = 1
    for level in range(L, lowest, -1):
        n_sym = vocab[level]
        child_base = off[level - 1]
        base = off[level]
        for k in range(n_nodes):
            c0 = child_base + k * s * width
            for c in range(s * width):
                post[c0 + c] = 0.0
            node = base + k * width
            for a in range(n_sym):
                pa = post[node + a]
                if pa <= 0.0:
                    continue
                # Rule posterior given the subtree: t(a, r) / sum_r t(a, r).
                tsum = 0.0
                for r in range(m):
                    w = weights[level - 1, a, r] * lam[c0 + rules[level - 1, a, r, 0]]
                    if w != 0.0:
                        for j in range(1, s):
                            w *= lam[c0 + rules[level - 1, a, r, j]]
                    tbuf[r] = w
                    tsum += w
                if not tsum > 0.0:
                    continue
                scale = pa / tsum
                for r in range(m):
                    q = tbuf[r] * scale
                    if q != 0.0:
                        for j in range(s):
                            post[c0 + rules[level - 1, a, r, j]] += q
        n_nodes *= s
    return math.log(z)


# _bp_kernel and _sample_kernel share their argument list and block prologue on purpose:
# both run _leaf_evidence and _upward per string; the first then runs _downward into
# posteriors, the second draws a tree top-down. Two specialised kernels keep the branch
# out of the per-string loop.
@nb.njit(cache=True, parallel=True)
def _bp_kernel(
    rules: npt.NDArray[np.int64],
    weights: FloatArray,
    vocab: npt.NDArray[np.int64],
    inv_ptr: npt.NDArray[np.int64],
    inv_pair: npt.NDArray[np.int64],
    prior: FloatArray,
    s: int,
    L: int,
    m: int,
    width: int,
    off: npt.NDArray[np.int64],
    tokens: npt.NDArray[Any],
    soft: FloatArray,
    use_soft: bool,
    mask: npt.NDArray[np.bool_],
    use_mask: bool,
    noise: float,
    want: npt.NDArray[np.bool_],
    out_off: npt.NDArray[np.int64],
    out: FloatArray,
    log_evidence: FloatArray,
) -> None:
    n = log_evidence.shape[0]
    v = vocab[0]
    n_leaves = off[1] // width
    lowest = L + 1
    for level in range(L + 1):
        if want[level]:
            lowest = min(lowest, level)
    total = off[L + 1]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(n_blocks):
        lam = np.zeros(total, dtype=np.float64)
        post = np.zeros(total, dtype=np.float64)
        tbuf = np.empty(m, dtype=np.float64)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            logz = _leaf_evidence(
                tokens, soft, use_soft, mask, use_mask, noise, v, i, lam, n_leaves, width
            )
            if logz > -np.inf:
                logz += _upward(rules, weights, vocab, inv_ptr, inv_pair, s, L, m, width, off, lam)
            if logz > -np.inf:
                logz += _downward(
                    rules, weights, vocab, prior, s, L, m, width, off, lam, post,
                    min(lowest, L), tbuf,
                )  # fmt: skip
            log_evidence[i] = logz
            for level in range(L + 1):
                if not want[level]:
                    continue
                n_sym = vocab[level]
                nodes = (off[level + 1] - off[level]) // width
                dst = out_off[level]
                for k in range(nodes):
                    src = off[level] + k * width
                    for a in range(n_sym):
                        out[i, dst + k * n_sym + a] = post[src + a] if logz > -np.inf else np.nan



# Counter-based random numbers for posterior sampling (splitmix64, as the model sampler).
# Deliberate copy of model/sampling.py's _mix64 and string state: a kernel and the jitted
# helpers it calls live in one module (numba's cache=True does not see edits to a helper
# imported from elsewhere); the hash is frozen (sampling.RNG_SCHEME_VERSION).
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SALT = np.uint64(0xB5AD4ECEDA1CE2A9)


@nb.njit(cache=True, inline="always")
def _mix64(z: np.uint64) -> np.uint64:
    # splitmix64 finaliser: a bijective avalanche hash of a 64-bit word.
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def _uniform(state: np.uint64, t: int) -> float:
    # t-th word of the string's stream as a double in [0, 1) (53 bits).
    w = _mix64(state + np.uint64(t) * _GAMMA)
    return float(w >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True, inline="always")
def _pick(weights: FloatArray, base: int, count: int, u: float) -> int:
    # Index in [0, count) drawn with probability weights[base + i] / sum (inverse CDF).
    tot = 0.0
    for i in range(count):
        tot += weights[base + i]
    target = u * tot
    acc = 0.0
    last = -1
    for i in range(count):
        wi = weights[base + i]
        if wi > 0.0:
            last = i
            acc += wi
            if target < acc:
                return i
    return last  # rounding left target at the total: the last positive entry


@nb.njit(cache=True, parallel=True)
def _sample_kernel(
    rules: npt.NDArray[np.int64],
    weights: FloatArray,
    vocab: npt.NDArray[np.int64],
    inv_ptr: npt.NDArray[np.int64],
    inv_pair: npt.NDArray[np.int64],
    prior: FloatArray,
    s: int,
    L: int,
    m: int,
    width: int,
    off: npt.NDArray[np.int64],
    tokens: npt.NDArray[Any],
    soft: FloatArray,
    use_soft: bool,
    mask: npt.NDArray[np.bool_],
    use_mask: bool,
    noise: float,
    key: np.uint64,
    start: np.int64,
    unknown: int,
    out_tokens: npt.NDArray[Any],
    out_latents: npt.NDArray[Any],
    lat_off: npt.NDArray[np.int64],
) -> None:
    n = out_tokens.shape[0]
    v = vocab[0]
    n_leaves = off[1] // width
    total = off[L + 1]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(n_blocks):
        lam = np.zeros(total, dtype=np.float64)
        rootw = np.empty(vocab[L], dtype=np.float64)
        tbuf = np.empty(m, dtype=np.float64)
        sym = np.empty(off[L + 1] // width, dtype=np.int64)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            logz = _leaf_evidence(
                tokens, soft, use_soft, mask, use_mask, noise, v, i, lam, n_leaves, width
            )
            if logz > -np.inf:
                logz = _upward(rules, weights, vocab, inv_ptr, inv_pair, s, L, m, width, off, lam)
            ok = logz > -np.inf
            if ok:
                for a in range(vocab[L]):
                    rootw[a] = prior[a] * lam[off[L] + a]
            state = _mix64(key ^ _mix64(np.uint64(start + i) * _GAMMA + np.uint64(1)))
            # Node index of (level, k) in sym: level offsets in node units.
            root_idx = off[L] // width
            r0 = _pick(rootw, 0, vocab[L], _uniform(state, 1)) if ok else -1
            if r0 < 0:
                ok = False
            if not ok:
                for pos in range(n_leaves):
                    out_tokens[i, pos] = unknown
                for c in range(out_latents.shape[1]):
                    out_latents[i, c] = unknown
                continue
            sym[root_idx] = r0
            t = 2
            n_nodes = 1
            for level in range(L, 0, -1):
                node0 = off[level] // width
                child0 = off[level - 1] // width
                for k in range(n_nodes):
                    a = sym[node0 + k]
                    c0 = off[level - 1] + k * s * width
                    for r in range(m):
                        w = weights[level - 1, a, r]
                        for j in range(s):
                            w *= lam[c0 + rules[level - 1, a, r, j]]
                        tbuf[r] = w
                    r = _pick(tbuf, 0, m, _uniform(state, t))
                    t += 1
                    for j in range(s):
                        sym[child0 + k * s + j] = rules[level - 1, a, r, j] - j * width
                n_nodes *= s
            for pos in range(n_leaves):
                out_tokens[i, pos] = sym[pos]
            for level in range(1, L + 1):
                node0 = off[level] // width
                nodes = (off[level + 1] - off[level]) // width
                for k in range(nodes):
                    out_latents[i, lat_off[level] + k] = sym[node0 + k]


# -- Python API ---------------------------------------------------------------------------------
class Posterior:
    """Exact posteriors of a batch of strings under a grammar (the output of BP).

    Attributes
    ----------
    params : RHMParams
        The grammar's parameters.
    log_evidence : ndarray of float64, shape (n,)
        Natural log of the probability of each string's evidence: for observed tokens the
        probability of the string, for noisy tokens that of the noisy string, for soft
        evidence ``sum_x P(x) prod_i e_i(x_i)``. ``-inf`` for impossible evidence, whose
        posteriors are NaN.
    """

    def __init__(
        self, params: RHMParams, levels: dict[int, FloatArray], log_evidence: FloatArray
    ) -> None:
        self.params = params
        self._levels = dict(levels)
        self.log_evidence = log_evidence

    @property
    def levels_available(self) -> tuple[int, ...]:
        """The levels whose posteriors were computed."""
        return tuple(sorted(self._levels))

    def level(self, level: int) -> FloatArray:
        """Posterior of every node of ``level``: shape ``(n, s**(L-level), vocab(level))``.

        Level 0 holds the tokens, level ``L`` the root. Each row sums to 1.
        """
        level = check_int("level", level, minimum=0, maximum=self.params.L)
        if level not in self._levels:
            raise ValueError(
                f"level {level} was not computed; available levels: {self.levels_available} "
                f"(pass levels=None to belief_propagation for all)"
            )
        return self._levels[level]

    @property
    def root(self) -> FloatArray:
        """Posterior of the root symbol (class), shape ``(n, n_c)``."""
        return self.level(self.params.L)[:, 0, :]

    def map_symbols(self, level: int) -> npt.NDArray[np.int64]:
        """Most probable symbol of every node of ``level`` (ties: the smallest symbol)."""
        return np.asarray(np.argmax(self.level(level), axis=-1), dtype=np.int64)

    def __len__(self) -> int:
        return int(self.log_evidence.shape[0])

    def __repr__(self) -> str:
        return f"Posterior(n={len(self)}, levels={self.levels_available})"


@dataclass(frozen=True)
class Evidence:
    """Validated BP input: integer tokens or soft evidence, optional mask, channel noise."""

    tokens: npt.NDArray[Any] | None
    soft: FloatArray | None
    mask: npt.NDArray[np.bool_] | None
    noise: float

    @property
    def n(self) -> int:
        """Number of strings."""
        arr = self.tokens if self.tokens is not None else self.soft
        assert arr is not None
        return int(arr.shape[0])


def prepare_evidence(
    grammar: Grammar, tokens: npt.ArrayLike, mask: npt.ArrayLike | None = None, noise: float = 0.0
) -> Evidence:
    """Validate the evidence of :func:`belief_propagation` (before any kernel runs).

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    tokens : array_like
        Integer tokens of shape ``(n, s**L)`` in ``[0, v)`` (the unknown marker
        ``params.unknown`` counts as hidden), or non-negative float soft evidence of shape
        ``(n, s**L, v)`` (likelihoods ``e_i(b)``).
    mask : array_like of bool, optional
        Shape ``(n, s**L)``, True = hidden.
    noise : float
        ``eps`` of the noisy channel, ``0 <= noise < 1``.

    Returns
    -------
    Evidence

    Raises
    ------
    TypeError
        For a wrong type or dtype.
    ValueError
        For a wrong shape, a token out of range, negative soft evidence, a mask of the wrong
        shape or ``noise`` outside ``[0, 1)``.
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    n_leaves = p.string_length
    noise = check_float("noise", noise, minimum=0.0, maximum=1.0, include_maximum=False)
    arr = np.asarray(tokens)
    soft: FloatArray | None = None
    toks: npt.NDArray[Any] | None = None
    if arr.dtype.kind == "f":
        soft = np.ascontiguousarray(
            check_array("tokens", arr, shape=(None, n_leaves, p.v), kinds="f", dtype=np.float64)
        )
        if soft.size and float(soft.min()) < 0.0:
            raise ValueError(
                f"tokens (soft evidence) must be non-negative likelihoods, found "
                f"{float(soft.min())!r}"
            )
        n = soft.shape[0]
    else:
        toks = check_array("tokens", arr, shape=(None, n_leaves), kinds="iu")
        n = toks.shape[0]
        if toks.size:
            bad = (toks < 0) | ((toks >= p.v) & (toks != p.unknown))
            if bad.any():
                raise ValueError(
                    f"tokens must hold symbols in [0, v) = [0, {p.v}) or the unknown marker "
                    f"{p.unknown}, found {int(toks[bad][0])}"
                )
    mask_arr: npt.NDArray[np.bool_] | None = None
    if mask is not None:
        mask_arr = check_array("mask", mask, shape=(n, n_leaves), kinds="b")
    return Evidence(toks, soft, mask_arr, noise)


def _check_levels(p: RHMParams, levels: Sequence[int] | None) -> npt.NDArray[np.bool_]:
    want = np.zeros(p.L + 1, dtype=np.bool_)
    if levels is None:
        want[:] = True
        return want
    if isinstance(levels, (int, np.integer)):
        raise TypeError("levels must be a sequence of levels or None, got an int")
    for level in levels:
        want[check_int("levels", level, minimum=0, maximum=p.L)] = True
    if not want.any():
        raise ValueError("levels must name at least one level in [0, L]")
    return want


def _chunk_rows(p: RHMParams, want: npt.NDArray[np.bool_], chunk_size: int | None) -> int:
    if chunk_size is not None:
        return check_int("chunk_size", chunk_size, minimum=1)
    per_string = sum(p.nodes_at_level(lv) * p.vocab(lv) for lv in range(p.L + 1) if want[lv])
    return max(_BLOCK, _CHUNK_FLOATS // max(1, per_string))


def _run_chunk(
    packed: PackedGrammar,
    off: npt.NDArray[np.int64],
    ev: Evidence,
    lo: int,
    hi: int,
    want: npt.NDArray[np.bool_],
    out_off: npt.NDArray[np.int64],
    out: FloatArray,
    log_evidence: FloatArray,
) -> None:
    p = packed.params
    dummy_soft = np.zeros((1, 1, 1), dtype=np.float64)
    dummy_tok = np.zeros((1, 1), dtype=np.uint8)
    dummy_mask = np.zeros((1, 1), dtype=np.bool_)
    toks = dummy_tok if ev.tokens is None else np.ascontiguousarray(ev.tokens[lo:hi])
    soft = dummy_soft if ev.soft is None else ev.soft[lo:hi]
    mask = dummy_mask if ev.mask is None else np.ascontiguousarray(ev.mask[lo:hi])
    _bp_kernel(
        packed.rules, packed.weights, packed.vocab, packed.inv_ptr, packed.inv_pair,
        packed.prior, p.s, p.L, p.m,
        packed.width, off, toks, soft, ev.soft is not None, mask, ev.mask is not None,
        ev.noise, want, out_off, out, log_evidence,
    )  # fmt: skip


def _output_layout(
    p: RHMParams, want: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], int]:
    out_off = np.zeros(p.L + 1, dtype=np.int64)
    total = 0
    for level in range(p.L + 1):
        out_off[level] = total
        if want[level]:
            total += p.nodes_at_level(level) * p.vocab(level)
    return out_off, total


def _views(
    p: RHMParams, want: npt.NDArray[np.bool_], out_off: npt.NDArray[np.int64], out: FloatArray
) -> dict[int, FloatArray]:
    views = {}
    for level in range(p.L + 1):
        if want[level]:
            size = p.nodes_at_level(level) * p.vocab(level)
            block = out[:, out_off[level] : out_off[level] + size]
            views[level] = block.reshape(out.shape[0], p.nodes_at_level(level), p.vocab(level))
    return views


def belief_propagation(
    grammar: Grammar,
    tokens: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    noise: float = 0.0,
    *,
    levels: Sequence[int] | None = None,
    chunk_size: int | None = None,
) -> Posterior:
    """Exact posteriors of every node of a batch of strings (one upward, one downward pass).

    The RHM's factor graph is a tree, so BP is exact (docs/theory.md section 8). Messages run over
    (symbol, rule) pairs with the weights ``grammar.rule_probs_of(l)`` and the root prior
    ``grammar.root_probs``, so weighted and ambiguous grammars work unchanged. Messages are
    normalised at every node and the logs of the normalisers summed, so deep trees never
    underflow. Strings are processed in chunks by a numba kernel threaded over strings; each
    string's result does not depend on the chunking or the thread count.

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    tokens : array_like
        Integer tokens ``(n, s**L)`` in ``[0, v)`` (the unknown marker counts as hidden), or
        float soft evidence ``(n, s**L, v)``: leaf likelihoods ``e_i(b) >= 0``.
    mask : array_like of bool, optional
        ``(n, s**L)``, True = hidden (evidence all-ones).
    noise : float, default 0
        ``eps`` of the noisy channel that kept each token with probability ``1 - eps`` and
        otherwise drew a uniform symbol: evidence ``(1 - eps) 1[b = x] + eps / v``
        (applied to soft evidence as ``(1 - eps) e(b) + eps/v sum_x e(x)``).
    levels : sequence of int, optional
        Levels whose posteriors to return (default all, ``0..L``). Asking for the root only
        skips the downward pass.
    chunk_size : int, optional
        Strings per kernel call; by default about 32 MiB of posteriors.

    Returns
    -------
    Posterior
        ``level(l)`` of shape ``(n, s**(L-l), vocab(l))`` and ``log_evidence`` ``(n,)``.

    Raises
    ------
    TypeError, ValueError
        For invalid input (see :func:`prepare_evidence`), raised before any kernel runs.

    Examples
    --------
    One level, ``v = 2``: symbol 0 -> (0, 1) with weight 1/2 or (1, 1); symbol 1 -> (1, 0)
    or (0, 0). Observing (1, ?) leaves rules (1, 1) of 0 and (1, 0) of 1, each of
    probability 1/2 * 1/2, so the root is uniform and the evidence has probability 1/2.

    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=2, s=2, L=1), [[[[0, 1], [1, 1]], [[1, 0], [0, 0]]]])
    >>> post = belief_propagation(g, [[1, 0]], mask=[[False, True]])
    >>> post.root.tolist(), round(float(post.log_evidence[0]), 6) == round(math.log(0.5), 6)
    ([[0.5, 0.5]], True)
    >>> post.level(0)[0].tolist()  # the hidden token is 1 or 0 with equal odds
    [[0.0, 1.0], [0.5, 0.5]]
    """
    ev = prepare_evidence(grammar, tokens, mask, noise)
    p = grammar.params
    want = _check_levels(p, levels)
    rows = _chunk_rows(p, want, chunk_size)
    packed = packed_grammar(grammar)
    off = _level_offsets(p, packed.width)
    out_off, total = _output_layout(p, want)
    n = ev.n
    out = np.empty((n, total), dtype=np.float64)
    log_ev = np.empty(n, dtype=np.float64)
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        _run_chunk(packed, off, ev, lo, hi, want, out_off, out[lo:hi], log_ev[lo:hi])
    return Posterior(p, _views(p, want, out_off, out), log_ev)


def iter_belief_propagation(
    grammar: Grammar,
    tokens: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    noise: float = 0.0,
    *,
    levels: Sequence[int] | None = None,
    chunk_size: int | None = None,
) -> Iterator[Posterior]:
    """Stream :func:`belief_propagation` chunk by chunk (memory bounded by one chunk).

    Arguments as in :func:`belief_propagation` (validated on the call, before the first
    chunk); yields one :class:`Posterior` per consecutive chunk of rows.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar, sample
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> x = sample(g, 10, seed=1).tokens
    >>> [len(c) for c in iter_belief_propagation(g, x, levels=[3], chunk_size=4)]
    [4, 4, 2]
    """
    ev = prepare_evidence(grammar, tokens, mask, noise)
    p = grammar.params
    want = _check_levels(p, levels)
    rows = _chunk_rows(p, want, chunk_size)
    packed = packed_grammar(grammar)
    return _iter_chunks(packed, ev, want, rows)


def _iter_chunks(
    packed: PackedGrammar, ev: Evidence, want: npt.NDArray[np.bool_], rows: int
) -> Iterator[Posterior]:
    p = packed.params
    off = _level_offsets(p, packed.width)
    out_off, total = _output_layout(p, want)
    for lo in range(0, ev.n, rows):
        hi = min(ev.n, lo + rows)
        out = np.empty((hi - lo, total), dtype=np.float64)
        log_ev = np.empty(hi - lo, dtype=np.float64)
        _run_chunk(packed, off, ev, lo, hi, want, out_off, out, log_ev)
        yield Posterior(p, _views(p, want, out_off, out), log_ev)


def _seed_key(seed: int) -> np.uint64:
    # Salted differently from the model sampler, so a data seed and a posterior-sampling
    # seed with the same value give unrelated streams.
    with np.errstate(over="ignore"):
        return np.uint64(_mix64(np.uint64(seed) ^ _SALT))


def sample_posterior(
    grammar: Grammar,
    tokens: npt.ArrayLike,
    seed: int,
    mask: npt.ArrayLike | None = None,
    noise: float = 0.0,
    *,
    start: int = 0,
    chunk_size: int = 4096,
) -> Sample:
    """Draw one tree per string from its exact posterior (fill hidden tokens and latents).

    The upward BP messages give, for each node, the law of its rule given its symbol and the
    evidence below it; drawing the root from its posterior and then each node's rule top-down
    samples the whole tree exactly. Row ``i`` is a pure function of ``(seed, start + i)`` and
    of its evidence: the same seed gives the same bytes whatever the chunking or the threads.

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    tokens, mask, noise
        The evidence, as in :func:`belief_propagation`.
    seed : int
        Sampling seed, ``0 <= seed < 2**64``.
    start : int, default 0
        Global index of the first row (for streaming a large batch in pieces).
    chunk_size : int, default 4096
        Strings per kernel call (memory bound; does not change the result).

    Returns
    -------
    Sample
        ``tokens`` (the sampled clean tokens: observed ones are kept unless noise or soft
        evidence leaves them uncertain) and ``levels`` (every latent level). Rows whose
        evidence is impossible hold the unknown marker ``params.unknown``.

    Notes
    -----
    Random-number scheme: ``key = mix64(seed ^ 0xB5AD4ECEDA1CE2A9)``, string ``i`` owns
    ``state_i = mix64(key ^ mix64(i * GAMMA + 1))`` and its words
    ``w_t = mix64(state_i + t * GAMMA)``; ``w_1`` draws the root, then one word per internal
    node in breadth-first order (root first, then each level left to right) draws its rule
    by inverse CDF on ``(w_t >> 11) / 2**53``.

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=2, s=2, L=1), [[[[0, 1], [1, 1]], [[1, 0], [0, 0]]]])
    >>> draw = sample_posterior(g, [[1, 0]] * 4, seed=0, mask=[[False, True]] * 4)
    >>> bool(((draw.tokens[:, 0] == 1) & (draw.labels == 1 - draw.tokens[:, 1])).all())
    True
    """
    ev = prepare_evidence(grammar, tokens, mask, noise)
    seed = check_seed("seed", seed)
    start = check_int("start", start, minimum=0, maximum=2**62 - 1)
    rows = check_int("chunk_size", chunk_size, minimum=1)
    p = grammar.params
    packed = packed_grammar(grammar)
    off = _level_offsets(p, packed.width)
    lat_off = np.zeros(p.L + 1, dtype=np.int64)
    for level in range(2, p.L + 1):
        lat_off[level] = lat_off[level - 1] + p.nodes_at_level(level - 1)
    n = ev.n
    out_tokens = np.empty((n, p.string_length), dtype=p.dtype)
    latents = np.empty((n, p.n_internal_nodes), dtype=p.dtype)
    key = _seed_key(seed)
    dummy_soft = np.zeros((1, 1, 1), dtype=np.float64)
    dummy_tok = np.zeros((1, 1), dtype=np.uint8)
    dummy_mask = np.zeros((1, 1), dtype=np.bool_)
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        toks = dummy_tok if ev.tokens is None else np.ascontiguousarray(ev.tokens[lo:hi])
        soft = dummy_soft if ev.soft is None else ev.soft[lo:hi]
        msk = dummy_mask if ev.mask is None else np.ascontiguousarray(ev.mask[lo:hi])
        _sample_kernel(
            packed.rules, packed.weights, packed.vocab, packed.inv_ptr, packed.inv_pair,
            packed.prior, p.s, p.L, p.m,
            packed.width, off, toks, soft, ev.soft is not None, msk, ev.mask is not None,
            ev.noise, key, np.int64(start + lo), p.unknown, out_tokens[lo:hi],
            latents[lo:hi], lat_off,
        )  # fmt: skip
    levels = tuple(
        latents[:, lat_off[lv] : lat_off[lv] + p.nodes_at_level(lv)] for lv in range(1, p.L + 1)
    )
    return Sample(out_tokens, levels)
