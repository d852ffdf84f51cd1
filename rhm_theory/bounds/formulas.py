"""Closed-form sample complexities, correlation scalings and maps of the Random Hierarchy Model."""

# References (short names used in the docstrings):
#   source paper   D. J. Korchinski, A. Favero, M. Wyart, "Learn from your own latents and not
#                  from tokens: A sample-complexity theory", arXiv:2605.27734 (2026).
#   PRX 2024       F. Cagnetta, L. Petrini, U. M. Tomasini, A. Favero, M. Wyart, "How deep
#                  neural networks learn compositional data: The Random Hierarchy Model",
#                  Phys. Rev. X 14, 031001 (2024).
#   NeurIPS 2024   F. Cagnetta, M. Wyart, "Towards a theory of how the structure of language is
#                  acquired by deep neural networks", NeurIPS 2024.
#   ICML 2025      F. Cagnetta, H. Kang, M. Wyart, "Learning curves theory for hierarchically
#                  compositional data with power-law distributed features", ICML 2025.
#   PNAS 2025      A. Sclocchi, A. Favero, M. Wyart, "A phase transition in diffusion models
#                  reveals the hierarchical nature of data", PNAS (2025).
# All formulas hold up to constants (and logs) unless stated; docs/theory.md sections 4
# and 7 list them.

from __future__ import annotations

import math
import reprlib
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from rhm_theory.validation import check_int

__all__ = [
    "LEAF_MESSAGES",
    "FloatOrArray",
    "P_max",
    "annealed_map",
    "annealed_map_derivative_at_one",
    "annealed_map_fixed_points",
    "annealed_map_repulsive_fixed_point",
    "annealed_noise_threshold",
    "f_fraction",
    "latent_sample_complexity",
    "log_P_max",
    "next_token_threshold",
    "plateau_loss",
    "sample_complexities",
    "sampling_noise_floor",
    "supervised_sample_complexity",
    "theorem_bound",
    "theorem_bound_terms",
    "token_correlation_magnitude",
    "token_ssl_sample_complexity",
    "token_ssl_tree_sample_complexity",
    "tuple_token_correlation_variance",
    "zipf_learning_curve_exponent",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
#: Return type of the broadcasting formulas: a Python float for scalar inputs, else an array.
FloatOrArray: TypeAlias = float | npt.NDArray[np.float64]

#: P_max refuses to build integers longer than this many bits (use log_P_max instead).
_P_MAX_BITS = 2**24


# -- validation helpers -----------------------------------------------------------------------
def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


def _real(name: str, value: npt.ArrayLike) -> FloatArray:
    """``value`` as a float64 array; rejects non-real dtypes and non-finite entries."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a real number or an array_like of reals") from exc
    if arr.dtype.kind == "O":  # e.g. Python ints too large for int64
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(
                f"{name} must be finite real numbers, got {name}={reprlib.repr(value)}"
            ) from exc
    if arr.dtype.kind not in "iuf":  # bool, complex, str, datetime, ...
        raise TypeError(
            f"{name} must be real numbers, got dtype {arr.dtype} ({name}={reprlib.repr(value)})"
        )
    out = arr.astype(np.float64)
    if not bool(np.all(np.isfinite(out))):
        raise ValueError(f"{name} must be finite, got {name}={reprlib.repr(value)}")
    return out


def _check(ok: npt.ArrayLike, constraint: str, **shown: FloatArray) -> None:
    """Raise ``ValueError("<first name> must satisfy <constraint>, got ...")`` unless all ok."""
    ok_arr = np.asarray(ok, dtype=np.bool_)
    if bool(ok_arr.all()):
        return
    first = np.unravel_index(int(np.argmin(ok_arr)), ok_arr.shape)  # first violating entry
    got = ", ".join(
        f"{k}={_fmt(float(np.broadcast_to(a, ok_arr.shape)[first]))}" for k, a in shown.items()
    )
    name = next(iter(shown))
    raise ValueError(f"{name} must satisfy {constraint}, got {got}")


def _broadcastable(**arrays: FloatArray) -> None:
    try:
        np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k}: {a.shape}" for k, a in arrays.items())
        raise ValueError(
            f"{', '.join(arrays)} must be broadcastable to a common shape, got {shapes}"
        ) from exc


def _at_least(name: str, value: npt.ArrayLike, minimum: float) -> FloatArray:
    arr = _real(name, value)
    _check(arr >= minimum, f"{name} >= {minimum}", **{name: arr})
    return arr


def _vms(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated ``(v, m, s)``: ``v >= 2``, ``m >= 1``, ``s >= 2``, ``m <= v**(s-1)``."""
    va, ma, sa = _at_least("v", v, 2), _at_least("m", m, 1), _at_least("s", s, 2)
    _broadcastable(v=va, m=ma, s=sa)
    with np.errstate(over="ignore"):  # an infinite v**(s-1) is a valid (loose) cap
        cap = va ** (sa - 1)
    _check(ma <= cap, "m <= v**(s-1) (unambiguous rules)", m=ma, v=va, s=sa)
    return va, ma, sa


def _vms_level(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike, level: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Validated ``(v, m, s)`` as in :func:`_vms` and a level ``>= 1``, all broadcastable."""
    va, ma, sa = _vms(v, m, s)
    la = _at_least("level", level, 1)
    _broadcastable(v=va, m=ma, s=sa, level=la)
    return va, ma, sa, la


def _f(v: FloatArray, m: FloatArray, s: FloatArray) -> FloatArray:
    with np.errstate(over="ignore"):
        return np.asarray(m / v ** (s - 1), dtype=np.float64)


def _one_minus_f(v: FloatArray, m: FloatArray, s: FloatArray) -> FloatArray:
    # Clip rounding noise so that f = 1 gives exactly 0, never a tiny negative number.
    return np.asarray(np.maximum(1.0 - _f(v, m, s), 0.0), dtype=np.float64)


def _ret(x: npt.ArrayLike) -> FloatOrArray:
    arr = np.asarray(x, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


# -- RHM basics (docs/theory.md section 1) ---------------------------------------------------------
def f_fraction(v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike) -> FloatOrArray:
    r"""Fraction of the ``v**s`` s-tuples that are grammatical at one level.

    .. math:: f = \frac{m}{v^{s-1}} \in (0, 1]

    Source: the RHM definition (PRX 2024; docs/theory.md section 1). Correlations vanish as
    :math:`f \to 1` and many formulas carry a factor :math:`1/(1-f)`.

    Parameters
    ----------
    v, m, s : array_like
        Vocabulary size (``v >= 2``), rules per symbol (``1 <= m <= v**(s-1)``), branching
        factor (``s >= 2``). Integers in the RHM; real values are accepted for smooth curves.

    Returns
    -------
    float or ndarray of float64
        ``f``, broadcast over the inputs.

    Examples
    --------
    >>> f_fraction(8, 2, 2)
    0.25
    >>> f_fraction([4, 8], 2, 2)
    array([0.5 , 0.25])
    """
    return _ret(_f(*_vms(v, m, s)))


def log_P_max(
    v: npt.ArrayLike,
    m: npt.ArrayLike,
    s: npt.ArrayLike,
    L: npt.ArrayLike,
    n_c: npt.ArrayLike | None = None,
) -> FloatOrArray:
    r"""Natural logarithm of the number of distinct data, without forming the integer.

    .. math:: \log P_{\max} = \log n_c + \frac{s^L - 1}{s - 1} \log m

    (one rule choice per internal node). Source: PRX 2024; docs/theory.md section 1.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.
    L : array_like
        Depth, ``L >= 1``.
    n_c : array_like, optional
        Number of root symbols, ``n_c >= 1`` and ``n_c * m <= v**s``; defaults to ``v``.

    Returns
    -------
    float or ndarray of float64
        ``log(P_max)``; ``inf`` where ``s**L`` overflows float64 and ``m > 1``.

    Examples
    --------
    >>> round(log_P_max(8, 2, 2, 3), 6)  # log(8 * 2**7) = 10 log 2
    6.931472
    >>> log_P_max(5, 1, 3, 4, n_c=1)  # a single datum
    0.0
    """
    va, ma, sa = _vms(v, m, s)
    La = _at_least("L", L, 1)
    nca = va if n_c is None else _at_least("n_c", n_c, 1)
    _broadcastable(v=va, m=ma, s=sa, L=La, n_c=nca)
    with np.errstate(over="ignore"):
        _check(nca * ma <= va**sa, "n_c*m <= v**s (unambiguous root rules)", n_c=nca, m=ma, v=va)
        n_internal = (sa**La - 1.0) / (sa - 1.0)
    # m == 1 contributes log(1) = 0 even when n_internal overflows (avoids 0 * inf = nan).
    tree = np.where(ma == 1.0, 0.0, n_internal * np.log(np.where(ma == 1.0, 2.0, ma)))
    return _ret(np.log(nca) + tree)


def P_max(v: int, m: int, s: int, L: int, n_c: int | None = None) -> int:
    r"""Exact number of distinct data as a Python int (scalars only).

    .. math:: P_{\max} = n_c \, m^{(s^L - 1)/(s - 1)}

    Source: PRX 2024; docs/theory.md section 1. Python ints never overflow; integers longer than
    ``2**24`` bits are refused (use :func:`log_P_max`).

    Parameters
    ----------
    v, m, s, L : int
        ``v >= 2``, ``1 <= m <= v**(s-1)``, ``s >= 2``, ``L >= 1``.
    n_c : int, optional
        Number of root symbols, ``n_c >= 1`` and ``n_c * m <= v**s``; defaults to ``v``.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument is not a scalar integer.
    ValueError
        If a constraint is violated or the result would exceed ``2**24`` bits.

    Examples
    --------
    >>> P_max(8, 2, 2, 3)  # 8 * 2**7
    1024
    >>> P_max(4, 4, 2, 5, n_c=2)  # 2 * 4**31
    9223372036854775808
    """
    v = check_int("v", v, minimum=2)
    m = check_int("m", m, minimum=1)
    s = check_int("s", s, minimum=2)
    L = check_int("L", L, minimum=1)
    n_c = v if n_c is None else check_int("n_c", n_c, minimum=1)
    if m > v ** (s - 1):
        raise ValueError(
            f"m must satisfy m <= v**(s-1) (unambiguous rules), got m={m}, v={v}, s={s}"
        )
    if n_c * m > v**s:
        raise ValueError(
            f"n_c must satisfy n_c*m <= v**s (unambiguous root rules), got n_c={n_c}, m={m}, v={v}"
        )
    if m == 1:
        return n_c
    # Bound the bit length before building s**L: L can make even the exponent astronomically long.
    log2_bits = L * math.log2(s) - math.log2(s - 1) + math.log2(math.log2(m))
    if log2_bits > math.log2(_P_MAX_BITS):
        raise ValueError(
            f"L must be small enough that P_max has at most 2**24 bits, got v={v}, m={m}, "
            f"s={s}, L={L}; use log_P_max"
        )
    tree: int = m ** ((s**L - 1) // (s - 1))  # int ** non-negative int: exact int
    return n_c * tree


# -- sample complexities (docs/theory.md section 4, PRX 2024) --------------------------------------
def supervised_sample_complexity(
    v: npt.ArrayLike, m: npt.ArrayLike, L: npt.ArrayLike, n_c: npt.ArrayLike | None = None
) -> FloatOrArray:
    r"""Sample complexity of supervised (root-label) learning by deep networks.

    .. math:: P^*_{\mathrm{sup}} = n_c \, m^L

    Source: PRX 2024; docs/theory.md sections 4 and 7. docs/theory.md's table writes it ``v m^L``,
    the case ``n_c = v`` (the default here). Computed in float64 (``inf`` on overflow).

    Parameters
    ----------
    v : array_like
        Vocabulary size, ``v >= 2`` (only used as the default of ``n_c``).
    m : array_like
        Rules per symbol, ``m >= 1``.
    L : array_like
        Depth, ``L >= 1``.
    n_c : array_like, optional
        Number of classes, ``n_c >= 1``; defaults to ``v``.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> supervised_sample_complexity(8, 2, 3)  # 8 * 2**3
    64.0
    >>> supervised_sample_complexity(8, 2, 3, n_c=2)
    16.0
    """
    va, ma, La = _at_least("v", v, 2), _at_least("m", m, 1), _at_least("L", L, 1)
    nca = va if n_c is None else _at_least("n_c", n_c, 1)
    _broadcastable(v=va, m=ma, L=La, n_c=nca)
    with np.errstate(over="ignore"):
        return _ret(nca * ma**La)


def token_ssl_sample_complexity(
    v: npt.ArrayLike, m: npt.ArrayLike, level: npt.ArrayLike
) -> FloatOrArray:
    r"""Sample complexity of token-level SSL (masked tokens, diffusion) for level ``level``.

    .. math:: P^*_{\mathrm{tok}}(l) = v \, m^{l+2}

    The context of the children tuple of a level-``l`` node is the set of visible tokens
    below its cousins (tree distance ``l + 2``). Source: source paper (Fig. 1, table);
    docs/theory.md section 4. Grows by a factor ``m`` per level.

    Parameters
    ----------
    v : array_like
        Vocabulary size, ``v >= 2``.
    m : array_like
        Rules per symbol, ``m >= 1``.
    level : array_like
        Level ``l >= 1`` of the node whose children tuple is clustered (``l <= L-1`` in ILC).

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> token_ssl_sample_complexity(10, 3, 1)  # 10 * 3**3: at level 1 tokens are the latents
    270.0
    >>> token_ssl_sample_complexity(10, 3, [1, 2, 3])
    array([ 270.,  810., 2430.])
    """
    va, ma, la = _at_least("v", v, 2), _at_least("m", m, 1), _at_least("level", level, 1)
    _broadcastable(v=va, m=ma, level=la)
    with np.errstate(over="ignore"):
        return _ret(va * ma ** (la + 2))


def token_ssl_tree_sample_complexity(
    v: npt.ArrayLike, m: npt.ArrayLike, L: npt.ArrayLike
) -> FloatOrArray:
    r"""Samples token-level SSL needs to learn the whole tree: its top (hardest) level.

    .. math:: P^*_{\mathrm{tok}} = v \, m^{L+1}

    Equal to :func:`token_ssl_sample_complexity` at ``level = L - 1`` for ``L >= 2``.
    Source: source paper; docs/theory.md section 4 ("top level ``v m^(L+1)``").

    Parameters
    ----------
    v : array_like
        Vocabulary size, ``v >= 2``.
    m : array_like
        Rules per symbol, ``m >= 1``.
    L : array_like
        Depth, ``L >= 1``.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> token_ssl_tree_sample_complexity(10, 3, 3)  # 10 * 3**4
    810.0
    """
    va, ma, La = _at_least("v", v, 2), _at_least("m", m, 1), _at_least("L", L, 1)
    _broadcastable(v=va, m=ma, L=La)
    with np.errstate(over="ignore"):
        return _ret(va * ma ** (La + 1))


def latent_sample_complexity(v: npt.ArrayLike, m: npt.ArrayLike) -> FloatOrArray:
    r"""Sample complexity of own-latent prediction (ILC, SLC, data2vec), for every level.

    .. math:: P^*_{\mathrm{lat}} = v \, m^3

    Independent of depth (up to the ``log L`` of a union bound). Source: source paper;
    docs/theory.md section 4.

    Parameters
    ----------
    v : array_like
        Vocabulary size, ``v >= 2``.
    m : array_like
        Rules per symbol, ``m >= 1``.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> latent_sample_complexity(10, 3)  # 10 * 3**3
    270.0
    """
    va, ma = _at_least("v", v, 2), _at_least("m", m, 1)
    _broadcastable(v=va, m=ma)
    with np.errstate(over="ignore"):
        return _ret(va * ma**3)


def theorem_bound_terms(
    v: npt.ArrayLike,
    m: npt.ArrayLike,
    s: npt.ArrayLike,
    L: npt.ArrayLike,
    delta: npt.ArrayLike = 0.1,
    C: npt.ArrayLike = 1.0,
) -> tuple[FloatOrArray, FloatOrArray]:
    r"""The two terms of the ILC recovery theorem: ``(coupon, concentration)``.

    .. math::

        P_{\mathrm{coupon}} = C \, v m \log\frac{L v m}{\delta}, \qquad
        P_{\mathrm{conc}} = C \, \frac{v m^3}{1 - f} \log\frac{L v m}{\delta},
        \qquad f = \frac{m}{v^{s-1}}

    The first is coupon collection (every grammatical tuple must be seen), the second the
    concentration of the cousin-context vectors. ``f = 1`` gives an infinite second term.
    Source: source paper, main theorem (reported form, constants unknown); docs/theory.md section 4.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.
    L : array_like
        Depth, ``L >= 1``.
    delta : array_like, default 0.1
        Failure probability, ``0 < delta < 1``.
    C : array_like, default 1.0
        Unknown absolute constant, ``C > 0``.

    Returns
    -------
    tuple of (float or ndarray of float64)
        ``(coupon, concentration)``; their sum is :func:`theorem_bound`.

    Examples
    --------
    >>> coupon, conc = theorem_bound_terms(8, 2, 2, 3)  # log(3*8*2/0.1) = log 480
    >>> round(coupon, 4), round(conc, 4)  # 16 log 480, (64 / 0.75) log 480
    (98.7806, 526.8297)
    """
    va, ma, sa = _vms(v, m, s)
    La = _at_least("L", L, 1)
    da = _real("delta", delta)
    _check((da > 0) & (da < 1), "0 < delta < 1", delta=da)
    Ca = _real("C", C)
    _check(Ca > 0, "C > 0", C=Ca)
    _broadcastable(v=va, m=ma, s=sa, L=La, delta=da, C=Ca)
    log_term = np.log(La * va * ma / da)  # > 0: L v m >= 2 > delta
    with np.errstate(divide="ignore", over="ignore"):
        coupon = Ca * va * ma * log_term
        conc = Ca * va * ma**3 / _one_minus_f(va, ma, sa) * log_term
    return _ret(coupon), _ret(conc)


def theorem_bound(
    v: npt.ArrayLike,
    m: npt.ArrayLike,
    s: npt.ArrayLike,
    L: npt.ArrayLike,
    delta: npt.ArrayLike = 0.1,
    C: npt.ArrayLike = 1.0,
) -> FloatOrArray:
    r"""Samples after which ILC recovers every non-root level with probability ``>= 1 - delta``.

    .. math::

        P \ge C \left[ v m \log\frac{L v m}{\delta}
        + \frac{v m^3}{1 - f} \log\frac{L v m}{\delta} \right],
        \qquad f = \frac{m}{v^{s-1}}

    Depth enters only through ``log L``. ``f = 1`` gives ``inf``. Source: source paper, main
    theorem (reported form, for balanced, separated grammars and a stable clustering module);
    docs/theory.md section 4. See :func:`theorem_bound_terms` for the two terms separately.

    Parameters
    ----------
    v, m, s, L, delta, C : array_like
        As in :func:`theorem_bound_terms`.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> round(theorem_bound(8, 2, 2, 3), 4)  # (16 + 64/0.75) * log(480)
    625.6103
    """
    coupon, conc = theorem_bound_terms(v, m, s, L, delta, C)
    return _ret(np.add(coupon, conc))


# -- NeurIPS 2024 (Cagnetta & Wyart), docs/theory.md section 7 -------------------------------------
def token_correlation_magnitude(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike, level: npt.ArrayLike
) -> FloatOrArray:
    r"""Typical token-token correlation of two tokens whose lowest common ancestor is at ``level``.

    .. math:: C(l) \simeq \sqrt{\frac{1 - f}{v^3 \, m^{2l - 1}}}

    Vanishes as ``f -> 1``. Source: NeurIPS 2024 (Cagnetta & Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.
    level : array_like
        Level ``l >= 1`` of the lowest common ancestor.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> token_correlation_magnitude(4, 2, 2, 1)  # sqrt(0.5 / (64 * 2)) = 1/16
    0.0625
    """
    va, ma, sa, la = _vms_level(v, m, s, level)
    with np.errstate(over="ignore"):
        return _ret(np.sqrt(_one_minus_f(va, ma, sa) / (va**3 * ma ** (2 * la - 1))))


def sampling_noise_floor(v: npt.ArrayLike, P: npt.ArrayLike) -> FloatOrArray:
    r"""Sampling noise of an empirical token-token correlation estimated from ``P`` strings.

    .. math:: \epsilon(P) = (v^2 P)^{-1/2}

    Source: NeurIPS 2024 (Cagnetta & Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v : array_like
        Vocabulary size, ``v >= 2``.
    P : array_like
        Number of training strings, ``P > 0``.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> sampling_noise_floor(4, 64)  # 1 / sqrt(16 * 64)
    0.03125
    """
    va = _at_least("v", v, 2)
    Pa = _real("P", P)
    _check(Pa > 0, "P > 0", P=Pa)
    _broadcastable(v=va, P=Pa)
    return _ret(1.0 / np.sqrt(va**2 * Pa))


def next_token_threshold(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike, level: npt.ArrayLike
) -> FloatOrArray:
    r"""Training-set size at which next-token prediction resolves correlations of ``level``.

    .. math:: P_l = \frac{v \, m^{2l - 1}}{1 - f}

    The ``P`` at which :func:`token_correlation_magnitude` equals
    :func:`sampling_noise_floor`; ``inf`` at ``f = 1``. Source: NeurIPS 2024 (Cagnetta &
    Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.
    level : array_like
        Level ``l >= 1`` of the lowest common ancestor.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> next_token_threshold(4, 2, 2, 1)  # 4 * 2 / 0.5
    16.0
    """
    va, ma, sa, la = _vms_level(v, m, s, level)
    with np.errstate(over="ignore", divide="ignore"):
        return _ret(va * ma ** (2 * la - 1) / _one_minus_f(va, ma, sa))


def plateau_loss(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike, level: npt.ArrayLike
) -> FloatOrArray:
    r"""Cross-entropy plateau of next-token prediction after resolving ``level`` levels.

    .. math:: \mathcal{L}_l \simeq \log\frac{1}{1 - f} + v f^l

    A large-``v``, large-``m`` approximation (it is not a bound at small sizes); ``inf`` at
    ``f = 1``. Source: NeurIPS 2024 (Cagnetta & Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.
    level : array_like
        Number ``l >= 1`` of resolved levels.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> round(plateau_loss(4, 2, 2, 1), 6)  # log 2 + 4 * 0.5
    2.693147
    """
    va, ma, sa, la = _vms_level(v, m, s, level)
    f = _f(va, ma, sa)
    with np.errstate(divide="ignore"):
        return _ret(-np.log(_one_minus_f(va, ma, sa)) + va * f**la)


# -- ICML 2025 (Cagnetta, Kang & Wyart), docs/theory.md section 7 ----------------------------------
def tuple_token_correlation_variance(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike, level: npt.ArrayLike
) -> FloatOrArray:
    r"""Variance of the correlation between an s-tuple and a token with LCA at ``level``.

    .. math:: \sigma^2(l) \simeq \frac{1 - f}{v^3 \, m^{2l}}

    Vanishes as ``f -> 1``. Source: ICML 2025 (Cagnetta, Kang & Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.
    level : array_like
        Level ``l >= 1`` of the lowest common ancestor.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> tuple_token_correlation_variance(4, 2, 2, 1)  # 0.5 / (64 * 4) = 1/512
    0.001953125
    """
    va, ma, sa, la = _vms_level(v, m, s, level)
    with np.errstate(over="ignore"):
        return _ret(_one_minus_f(va, ma, sa) / (va**3 * ma ** (2 * la)))


def zipf_learning_curve_exponent(a: npt.ArrayLike) -> FloatOrArray:
    r"""Learning-curve exponent of classification under Zipf-distributed production rules.

    With rule probabilities :math:`p_k \propto k^{-(1+a)}` the error decays as
    :math:`\varepsilon(P) \sim P^{-\alpha}` with

    .. math:: \alpha = \frac{a}{1 + a}

    Source: ICML 2025 (Cagnetta, Kang & Wyart); docs/theory.md section 7.

    Parameters
    ----------
    a : array_like
        Zipf exponent offset, ``a > 0``.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> zipf_learning_curve_exponent(1.0)  # 1 / 2
    0.5
    >>> zipf_learning_curve_exponent([0.25, 3.0])
    array([0.2 , 0.75])
    """
    aa = _real("a", a)
    _check(aa > 0, "a > 0", a=aa)
    return _ret(aa / (1.0 + aa))


# -- PNAS 2025 (Sclocchi, Favero & Wyart), docs/theory.md section 7 --------------------------------
def _c_coef(v: FloatArray, m: FloatArray, s: FloatArray) -> FloatArray:
    """``f (m-1)/(m v - 1)``: the ungrammatical-branch weight of the annealed map."""
    return np.asarray(_f(v, m, s) * (m - 1.0) / (m * v - 1.0), dtype=np.float64)


def annealed_map(
    p: npt.ArrayLike, v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike
) -> FloatOrArray:
    r"""Annealed upward (belief-propagation) map of the RHM.

    .. math::

        F(p) = \frac{p^s + f \frac{m-1}{m v - 1} (1 - p^s)}{p^s + f (1 - p^s)},
        \qquad f = \frac{m}{v^{s-1}}

    ``F`` is increasing, ``F(1) = 1`` and ``F(0) = (m-1)/(m v - 1)``; it maps ``[0, 1]``
    into ``[(m-1)/(m v - 1), 1]``. Source: PNAS 2025 (Sclocchi, Favero & Wyart);
    docs/theory.md section 7.

    Parameters
    ----------
    p : array_like
        Argument, ``0 <= p <= 1``.
    v, m, s : array_like
        As in :func:`f_fraction`.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> annealed_map(1.0, 8, 2, 2)
    1.0
    >>> round(annealed_map(0.0, 8, 2, 2), 6)  # (m-1)/(m v - 1) = 1/15
    0.066667
    >>> annealed_map([0.0, 0.5, 1.0], 4, 1, 2)  # m = 1: F(p) = p^2 / (1/4 + 3 p^2 / 4)
    array([0.        , 0.57142857, 1.        ])
    """
    pa = _real("p", p)
    _check((pa >= 0) & (pa <= 1), "0 <= p <= 1", p=pa)
    va, ma, sa = _vms(v, m, s)
    _broadcastable(p=pa, v=va, m=ma, s=sa)
    q = pa**sa
    f = _f(va, ma, sa)
    c = _c_coef(va, ma, sa)
    return _ret((q + c * (1.0 - q)) / (q + f * (1.0 - q)))


def annealed_map_derivative_at_one(
    v: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike
) -> FloatOrArray:
    r"""Slope of the annealed map at its fixed point ``p = 1``.

    With :math:`q = p^s`, :math:`c = f (m-1)/(m v - 1)` and :math:`F = (c + (1-c) q) /
    (f + (1-f) q)`, one has :math:`dF/dq = (f - c) / (f + (1-f) q)^2`, equal to ``f - c`` at
    ``q = 1``; times :math:`dq/dp = s` this gives

    .. math:: F'(1) = s (f - c) = \frac{s \, f \, m (v - 1)}{m v - 1}

    ``p = 1`` is linearly stable iff ``F'(1) < 1``. Source: derived from the map of PNAS 2025
    (Sclocchi, Favero & Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v, m, s : array_like
        As in :func:`f_fraction`.

    Returns
    -------
    float or ndarray of float64

    Examples
    --------
    >>> round(annealed_map_derivative_at_one(8, 2, 2), 6)  # 2 * 0.25 * 2 * 7 / 15 = 7/15
    0.466667
    """
    va, ma, sa = _vms(v, m, s)
    return _ret(sa * _f(va, ma, sa) * ma * (va - 1.0) / (ma * va - 1.0))


def annealed_map_fixed_points(
    v: float, m: float, s: float, *, grid_size: int = 4097
) -> npt.NDArray[np.float64]:
    r"""Fixed points :math:`F(p^*) = p^*` of :func:`annealed_map` in ``[0, 1]``.

    ``p = 1`` is always one (``F(1) = 1``). ``p = 0`` maps to ``F(0) = (m-1)/(m v - 1)``, so it
    is a fixed point iff ``m = 1``. Other roots of ``F(p) - p`` are bracketed by sign changes on
    a grid (uniform, plus geometric refinements towards both ends) and polished by Brent's
    method. Tangential (double) roots, or two roots closer than the grid spacing, can be missed;
    roots within ``1e-9`` of 1 are merged into 1. Source: map of PNAS 2025 (Sclocchi, Favero &
    Wyart); docs/theory.md section 7.

    Parameters
    ----------
    v, m, s : float
        Scalars, constrained as in :func:`f_fraction`.
    grid_size : int, default 4097
        Number of uniform grid points (``>= 3``); as many geometric points are added near
        each end.

    Returns
    -------
    ndarray of float64
        Sorted fixed points, always ending with ``1.0``.

    Examples
    --------
    >>> annealed_map_fixed_points(8, 2, 2)  # 1/9 (stable), 1/5 (unstable), 1 (F'(1) = 7/15)
    array([0.11111111, 0.2       , 1.        ])
    >>> annealed_map_fixed_points(4, 1, 2)  # m = 1: F(p) = 4p^2/(1 + 3p^2), roots 0, 1/3, 1
    array([0.        , 0.33333333, 1.        ])
    >>> annealed_map_fixed_points(4, 3, 2).round(6)  # (27 - sqrt(465))/22 and 1; F'(1) = 27/22
    array([0.247097, 1.      ])
    """
    for name, value in (("v", v), ("m", m), ("s", s)):
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    grid_size = check_int("grid_size", grid_size, minimum=3)
    va, ma, sa = _vms(v, m, s)
    fv, cv, sv = float(_f(va, ma, sa)), float(_c_coef(va, ma, sa)), float(sa)

    def g(p: FloatArray) -> FloatArray:
        # F(p) - p, written to avoid cancellation at both ends: near 0 as (N - p D) / D, near 1
        # as (1 - p) - (1 - F) with 1 - F = (f - c)(1 - p^s) / D and 1 - p^s = -expm1(s log p).
        p = np.asarray(p, dtype=np.float64)
        q = p**sv
        with np.errstate(divide="ignore"):
            one_minus_q = -np.expm1(sv * np.log(p))
        d = fv + (1.0 - fv) * q
        low = (cv + (1.0 - cv) * q - p * d) / d
        high = (1.0 - p) - (fv - cv) * one_minus_q / d
        return np.asarray(np.where(p < 0.5, low, high), dtype=np.float64)

    ends = np.geomspace(1e-15, 0.5, grid_size)
    grid = np.unique(np.concatenate([np.linspace(0.0, 1.0, grid_size), ends, 1.0 - ends]))
    grid = grid[grid < 1.0]  # p = 1 is added exactly below
    vals = g(grid)
    roots = [float(x) for x in grid[vals == 0.0]]
    for i in np.flatnonzero(vals[:-1] * vals[1:] < 0.0):
        root = brentq(lambda x: float(g(np.asarray(x))), grid[i], grid[i + 1], xtol=1e-300)
        roots.append(float(root))
    # The last grid interval [grid[-1], 1] holds no sign change since g(1) = 0 exactly.
    out = sorted(r for r in roots if r < 1.0 - 1e-9)
    out.append(1.0)
    return np.asarray(out, dtype=np.float64)


# -- one parameter set, every formula ----------------------------------------------------------
def sample_complexities(
    v: int,
    m: int,
    s: int,
    L: int,
    n_c: int | None = None,
    delta: float = 0.1,
    C: float = 1.0,
) -> dict[str, float]:
    """Every formula of this module for one parameter set, as an ordered ``{name: value}``.

    Keys are the function names, with per-level entries ``<name>_level_<l>``:
    ``token_ssl_level_<l>`` for the ILC-learnable levels ``l = 1..L-1`` (so none when
    ``L = 1``), and ``token_correlation_level_<l>``,
    ``tuple_token_correlation_variance_level_<l>``, ``next_token_threshold_level_<l>``,
    ``plateau_loss_level_<l>`` for LCA levels ``l = 1..L``. ``P_max`` is a float (``inf``
    beyond float64; :func:`P_max` gives the exact int). The annealed map contributes its slope
    at 1, its number of fixed points and its smallest fixed point. Formulas that need extra
    inputs (:func:`sampling_noise_floor`, :func:`zipf_learning_curve_exponent`) are omitted.

    Parameters
    ----------
    v, m, s, L : int
        Scalar RHM parameters (see :func:`log_P_max`); ``L`` must be an integer.
    n_c : int, optional
        Number of root symbols; defaults to ``v``.
    delta, C : float
        As in :func:`theorem_bound`.

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> table = sample_complexities(8, 2, 2, 3)
    >>> table["latent_sample_complexity"], table["token_ssl_level_2"], table["P_max"]
    (64.0, 128.0, 1024.0)
    """
    v, m = check_int("v", v, minimum=2), check_int("m", m, minimum=1)
    s = check_int("s", s, minimum=2)
    n_levels = check_int("L", L, minimum=1)
    n_c = None if n_c is None else check_int("n_c", n_c, minimum=1)
    for name, value in (("delta", delta), ("C", C)):
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    log_pmax = float(log_P_max(v, m, s, n_levels, n_c))
    # Exact int -> correctly rounded float while it fits; exp(log) would be off by ulps.
    p_max = math.inf
    if log_pmax < 710.0:
        try:
            p_max = float(P_max(v, m, s, n_levels, n_c))
        except OverflowError:  # just above the largest float64
            pass
    out: dict[str, float] = {
        "f_fraction": float(f_fraction(v, m, s)),
        "log_P_max": log_pmax,
        "P_max": p_max,
        "supervised_sample_complexity": float(supervised_sample_complexity(v, m, L, n_c)),
        "latent_sample_complexity": float(latent_sample_complexity(v, m)),
        "token_ssl_tree_sample_complexity": float(token_ssl_tree_sample_complexity(v, m, L)),
    }
    for level in range(1, n_levels):
        out[f"token_ssl_level_{level}"] = float(token_ssl_sample_complexity(v, m, level))
    coupon, conc = theorem_bound_terms(v, m, s, L, delta, C)
    out["theorem_bound"] = float(theorem_bound(v, m, s, L, delta, C))
    out["theorem_bound_coupon"] = float(coupon)
    out["theorem_bound_concentration"] = float(conc)
    per_level = {
        "token_correlation": token_correlation_magnitude,
        "tuple_token_correlation_variance": tuple_token_correlation_variance,
        "next_token_threshold": next_token_threshold,
        "plateau_loss": plateau_loss,
    }
    for key, func in per_level.items():
        for level in range(1, n_levels + 1):
            out[f"{key}_level_{level}"] = float(func(v, m, s, level))
    fixed = annealed_map_fixed_points(v, m, s)
    out["annealed_map_derivative_at_one"] = float(annealed_map_derivative_at_one(v, m, s))
    out["annealed_map_n_fixed_points"] = float(fixed.size)
    out["annealed_map_smallest_fixed_point"] = float(fixed[0])
    return out


# -- PNAS 2025 noisy-leaf threshold, docs/theory.md sections 7 and 8 -------------------------------
#: Leaf-message conventions of :func:`annealed_noise_threshold`.
LEAF_MESSAGES = ("mean", "observed")


def annealed_map_repulsive_fixed_point(v: float, m: float, s: float) -> float:
    r"""Repulsive fixed point :math:`p^*` of :func:`annealed_map` (the recoverability threshold).

    When :math:`F'(1) < 1` (:func:`annealed_map_derivative_at_one`, about ``s f < 1``), ``p = 1``
    is attracting and the largest fixed point below 1 separates its basin from that of the
    low (uninformative) fixed point: messages starting above :math:`p^*` flow to 1 with depth,
    below it they flow down. When :math:`F'(1) \ge 1` there is no such point (NaN).
    Source: PNAS 2025 (Sclocchi, Favero & Wyart); docs/theory.md sections 7 and 8.

    Parameters
    ----------
    v, m, s : float
        Scalars, constrained as in :func:`f_fraction`.

    Returns
    -------
    float
        :math:`p^*`, or NaN when ``p = 1`` is not attracting.

    Examples
    --------
    >>> round(annealed_map_repulsive_fixed_point(8, 2, 2), 6)  # fixed points 1/9, 1/5, 1
    0.2
    >>> annealed_map_repulsive_fixed_point(4, 3, 2)  # F'(1) = 27/22 > 1: no transition
    nan
    """
    if float(annealed_map_derivative_at_one(v, m, s)) >= 1.0:
        return math.nan
    fixed = annealed_map_fixed_points(v, m, s)
    below = fixed[fixed < 1.0]
    return float(below[-1]) if below.size else math.nan


def annealed_noise_threshold(v: float, m: float, s: float, *, leaf_message: str = "mean") -> float:
    r"""Noise level :math:`\epsilon^*` below which the root is recoverable in deep trees.

    Leaves pass through the :math:`\epsilon`-noisy channel (kept with probability
    :math:`1-\epsilon`, else a uniform symbol); BP's normalised leaf message is
    :math:`(1-\epsilon)\,\delta_x + \epsilon/v`. The annealed map tracks the weight ``p`` of
    the true symbol, so :math:`\epsilon^*` solves :math:`p_0(\epsilon^*) = p^*`
    (:func:`annealed_map_repulsive_fixed_point`). With
    :math:`x = \epsilon (v-1)/v` the probability that a token is wrong:

    - ``leaf_message="mean"`` (default, convention): the leaf message averaged over the
      channel, as the map averages over the grammar, :math:`p_0 = (1-x)^2 + x^2/(v-1)`, so
      :math:`\epsilon^* = 1 - \sqrt{1 - v (1 - p^*)/(v-1)}`;
    - ``leaf_message="observed"``: the weight on the true symbol when it was observed,
      :math:`p_0 = 1 - x`, so :math:`\epsilon^* = v (1 - p^*)/(v-1)` (capped at 1).

    Source: PNAS 2025 (Sclocchi, Favero & Wyart); docs/theory.md sections 7 and 8.

    Parameters
    ----------
    v, m, s : float
        Scalars, constrained as in :func:`f_fraction`.
    leaf_message : {"mean", "observed"}
        Which leaf weight starts the map.

    Returns
    -------
    float
        :math:`\epsilon^* \in (0, 1]`; 1 when even pure noise starts above :math:`p^*`
        (``p* <= 1/v`` for ``"mean"``); NaN when there is no transition
        (:math:`F'(1) \ge 1`).

    Examples
    --------
    >>> round(annealed_noise_threshold(8, 2, 2), 6)  # p* = 1/5: 1 - sqrt(1 - 8/7 * 4/5)
    0.70723
    >>> round(annealed_noise_threshold(8, 2, 2, leaf_message="observed"), 6)  # 8/7 * 4/5
    0.914286
    >>> annealed_noise_threshold(4, 3, 2)
    nan
    """
    if leaf_message not in LEAF_MESSAGES:
        raise ValueError(f"leaf_message must be one of {LEAF_MESSAGES}, got {leaf_message!r}")
    p_star = annealed_map_repulsive_fixed_point(v, m, s)
    if math.isnan(p_star):
        return math.nan
    vf = float(v)
    wrong = vf * (1.0 - p_star) / (vf - 1.0)  # x* * v/(v-1) for "observed"
    if leaf_message == "observed":
        return min(1.0, wrong)
    if wrong >= 1.0:  # p* <= 1/v: every eps < 1 starts above p*
        return 1.0
    return 1.0 - math.sqrt(1.0 - wrong)
