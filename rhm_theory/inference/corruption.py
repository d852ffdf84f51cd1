"""Reproducible corruptions of strings: random token or tuple masks, and the eps-noisy channel."""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar
from rhm_theory.validation import check_array, check_float, check_int, check_seed

__all__ = ["noisy_channel", "random_mask"]

# Deliberate copy of model/sampling.py's _mix64 and string state: a kernel and the jitted
# helpers it calls live in one module (numba's cache=True does not see edits to a helper
# imported from elsewhere); the hash is frozen (sampling.RNG_SCHEME_VERSION).
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MASK_SALT = np.uint64(0x6A09E667F3BCC909)
_NOISE_SALT = np.uint64(0xBB67AE8584CAA73B)


@nb.njit(cache=True, inline="always")
def _mix64(z: np.uint64) -> np.uint64:
    # splitmix64 finaliser: a bijective avalanche hash of a 64-bit word.
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def _state(key: np.uint64, index: np.int64) -> np.uint64:
    return _mix64(key ^ _mix64(np.uint64(index) * _GAMMA + np.uint64(1)))


@nb.njit(cache=True, parallel=True)
def _mask_kernel(
    key: np.uint64, start: np.int64, n_blocks: int, k: int, block: int, out: npt.NDArray[np.bool_]
) -> None:
    n = out.shape[0]
    for i in nb.prange(n):
        state = _state(key, start + i)
        h = np.empty(n_blocks, dtype=np.uint64)
        for b in range(n_blocks):
            h[b] = _mix64(state + np.uint64(b + 1) * _GAMMA)
        # The k blocks of smallest hash: a uniform k-subset (ties broken by position).
        order = np.argsort(h, kind="mergesort")
        for c in range(out.shape[1]):
            out[i, c] = False
        for t in range(k):
            b = order[t]
            for c in range(b * block, (b + 1) * block):
                out[i, c] = True


@nb.njit(cache=True, parallel=True)
def _noise_kernel(
    key: np.uint64, start: np.int64, noise: float, v: int, tokens: npt.NDArray[Any],
    out: npt.NDArray[Any],
) -> None:  # fmt: skip
    n = out.shape[0]
    for i in nb.prange(n):
        state = _state(key, start + i)
        for c in range(out.shape[1]):
            w = _mix64(state + np.uint64(c + 1) * _GAMMA)
            u = float(w >> np.uint64(11)) * (1.0 / 9007199254740992.0)
            if u < noise:
                # An independent word for the replacement symbol: floor(u2 * v).
                w2 = _mix64(w ^ np.uint64(0xD1B54A32D192ED03))
                u2 = float(w2 >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                out[i, c] = min(v - 1, int(u2 * v))
            else:
                out[i, c] = tokens[i, c]


def _key(seed: int, salt: np.uint64) -> np.uint64:
    return np.uint64(_mix64(np.uint64(seed) ^ salt))


def random_mask(
    grammar: Grammar,
    n: int,
    mask_frac: float,
    seed: int,
    *,
    block_level: int = 0,
    start: int = 0,
) -> npt.NDArray[np.bool_]:
    """Hide a fixed fraction of the tokens of each string, token by token or tuple by tuple.

    Each string hides the leaves below ``round(mask_frac * s**(L - block_level))`` nodes of
    level ``block_level``, chosen uniformly without replacement: ``block_level = 0`` masks
    single tokens, ``1`` whole s-tuples, ``l`` whole level-``l`` spans of ``s**l`` tokens.
    Row ``i`` depends only on ``(seed, start + i)``.

    Parameters
    ----------
    grammar : Grammar
        The grammar (its ``s`` and ``L``).
    n : int
        Number of strings, ``n >= 0``.
    mask_frac : float
        Fraction of level-``block_level`` nodes hidden, ``0 <= mask_frac <= 1``.
    seed : int
        Mask seed.
    block_level : int, default 0
        Level of the hidden blocks, ``0 <= block_level <= L``.
    start : int, default 0
        Global index of the first row.

    Returns
    -------
    ndarray of bool, shape (n, s**L)
        True = hidden.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> random_mask(g, 3, 0.25, seed=0).sum(axis=1).tolist()  # 2 of 8 tokens each
    [2, 2, 2]
    >>> m = random_mask(g, 1, 0.25, seed=0, block_level=1)[0]  # one aligned pair
    >>> m.reshape(4, 2).all(axis=1).sum(), int(m.sum())
    (np.int64(1), 2)
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    n = check_int("n", n, minimum=0)
    mask_frac = check_float("mask_frac", mask_frac, minimum=0.0, maximum=1.0)
    seed = check_seed("seed", seed)
    block_level = check_int("block_level", block_level, minimum=0, maximum=p.L)
    start = check_int("start", start, minimum=0, maximum=2**62 - 1)
    n_blocks = p.nodes_at_level(block_level)
    k = int(np.floor(mask_frac * n_blocks + 0.5))
    out = np.empty((n, p.string_length), dtype=np.bool_)
    _mask_kernel(_key(seed, _MASK_SALT), np.int64(start), n_blocks, k, p.s**block_level, out)
    return out


def noisy_channel(
    grammar: Grammar, tokens: npt.ArrayLike, noise: float, seed: int, *, start: int = 0
) -> npt.NDArray[Any]:
    """Pass tokens through the ``eps``-noisy channel of docs/theory.md section 8.

    Each token is kept with probability ``1 - eps`` and otherwise replaced by a uniform
    symbol of ``[0, v)`` (possibly itself), so the observation law is
    ``(1 - eps) 1[x = b] + eps / v``: the evidence :func:`belief_propagation` uses with
    ``noise = eps``. Token ``(i, c)`` depends only on ``(seed, start + i, c)``. Uniform
    draws use 53-bit doubles (bias below ``v / 2**53``).

    Parameters
    ----------
    grammar : Grammar
        The grammar (its ``v``).
    tokens : array_like of int, shape (n, s**L)
        Clean tokens in ``[0, v)``.
    noise : float
        ``eps``, ``0 <= noise <= 1``.
    seed : int
        Noise seed.
    start : int, default 0
        Global index of the first row.

    Returns
    -------
    ndarray, shape (n, s**L)
        Noisy tokens in the grammar's symbol dtype.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar, sample
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=3), seed=0)
    >>> x = sample(g, 2, seed=1).tokens
    >>> bool((noisy_channel(g, x, 0.0, seed=0) == x).all())
    True
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    arr = check_array("tokens", tokens, shape=(None, p.string_length), kinds="iu")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= p.v):
        raise ValueError(f"tokens must hold symbols in [0, v) = [0, {p.v})")
    noise = check_float("noise", noise, minimum=0.0, maximum=1.0)
    seed = check_seed("seed", seed)
    start = check_int("start", start, minimum=0, maximum=2**62 - 1)
    out = np.empty(arr.shape, dtype=p.dtype)
    _noise_kernel(_key(seed, _NOISE_SALT), np.int64(start), noise, p.v,
                  np.ascontiguousarray(arr), out)
    return out
