"""Input validation shared by every public function: one checker per kind of input.

Public functions validate with these helpers and then call private kernels that assume
valid input (the scikit-learn convention). The kinds of mistake map to one exception type
each: a value of the wrong *type* raises :class:`TypeError`; a value of the right type that
violates a constraint raises :class:`ValueError` whose message names the parameter and the
constraint (``m <= v**(s-1)``, ``0 <= noise < 1``, ...).

>>> check_int("m", 3, minimum=1)
3
>>> check_int("m", 0, minimum=1)
Traceback (most recent call last):
...
ValueError: m must satisfy m >= 1, got m=0
>>> check_context("token")
'token'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CONTEXT_KINDS",
    "ContextKind",
    "check_array",
    "check_choice",
    "check_context",
    "check_float",
    "check_int",
    "check_probabilities",
    "check_random_state",
    "check_seed",
]

#: What a tuple's context is made of: the cousin latents ("own latents"), the tokens below
#: the cousins (token-level SSL), or the root label (supervised). One name across the API.
ContextKind = Literal["latent", "token", "label"]
CONTEXT_KINDS: tuple[ContextKind, ...] = ("latent", "token", "label")

_T = TypeVar("_T")


def check_int(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as a Python int, or a ``TypeError`` / ``ValueError`` naming ``name``.

    Booleans are rejected (``True`` is an ``int`` to Python but never a size here); numpy
    integers are accepted.

    >>> check_int("L", np.int64(4), minimum=1, maximum=10)
    4
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    ivalue = int(value)
    if (minimum is not None and ivalue < minimum) or (maximum is not None and ivalue > maximum):
        if minimum is not None and maximum is not None:
            rule = f"{minimum} <= {name} <= {maximum}"
        else:
            rule = f"{name} >= {minimum}" if minimum is not None else f"{name} <= {maximum}"
        raise ValueError(f"{name} must satisfy {rule}, got {name}={ivalue}")
    return ivalue


def check_float(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    include_minimum: bool = True,
    include_maximum: bool = True,
) -> float:
    """``value`` as a finite Python float within the given bounds.

    >>> check_float("noise", 0.1, minimum=0.0, maximum=1.0, include_maximum=False)
    0.1
    >>> check_float("noise", 1.0, minimum=0.0, maximum=1.0, include_maximum=False)
    Traceback (most recent call last):
    ...
    ValueError: noise must satisfy 0.0 <= noise < 1.0, got noise=1.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    fvalue = float(value)
    lo_ok = minimum is None or (fvalue >= minimum if include_minimum else fvalue > minimum)
    hi_ok = maximum is None or (fvalue <= maximum if include_maximum else fvalue < maximum)
    if not math.isfinite(fvalue) or not (lo_ok and hi_ok):
        lo = "" if minimum is None else f"{minimum} {'<=' if include_minimum else '<'} "
        hi = "" if maximum is None else f" {'<=' if include_maximum else '<'} {maximum}"
        what = f"{lo}{name}{hi}" if (lo or hi) else f"{name} finite"
        raise ValueError(f"{name} must satisfy {what}, got {name}={fvalue!r}")
    return fvalue


def check_choice(name: str, value: object, choices: Sequence[_T]) -> _T:
    """``value`` if it is one of ``choices``, else a ``ValueError`` listing them.

    >>> check_choice("linkage", "average", ("average", "complete"))
    'average'
    """
    for choice in choices:
        if value == choice and type(value) is type(choice):
            return choice
    raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_context(value: object, name: str = "context") -> ContextKind:
    """A :data:`ContextKind`: ``"latent"``, ``"token"`` or ``"label"``."""
    return check_choice(name, value, CONTEXT_KINDS)


def check_seed(name: str, value: object) -> int:
    """A seed: a non-negative integer below ``2**64`` (kernels hash it as uint64).

    Seeds are always explicit integers: the library never reads or changes global RNG
    state, so ``None`` is refused rather than drawn from the clock.

    >>> check_seed("seed", 7)
    7
    """
    return check_int(name, value, minimum=0, maximum=2**64 - 1)


def check_random_state(seed: object, *stream: int, name: str = "seed") -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a seed, in one convention for the library.

    A ``Generator`` passes through unchanged (the caller owns its state). An integer seed
    gives ``numpy.random.default_rng([seed, *stream])``: the optional ``stream`` tags give
    independent streams for different purposes from one user seed (for example grammar
    construction versus restarts of a clustering). Global RNG state is never read or
    changed, and ``None`` is refused. Without ``stream`` the generator is the one of
    ``numpy.random.default_rng(seed)`` (numpy's ``SeedSequence`` reads an int and a
    one-element list alike), so code moved onto this helper keeps its numbers.

    >>> a = check_random_state(3, 7).integers(100, size=3)
    >>> b = check_random_state(3, 7).integers(100, size=3)
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    seed = check_seed(name, seed)
    return np.random.default_rng([seed, *(check_seed("stream", s) for s in stream)])


def check_array(
    name: str,
    value: object,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    kinds: str = "iuf",
    dtype: Any = None,
) -> NDArray[Any]:
    """``value`` as a numpy array with the given number of dimensions, shape and dtype kind.

    ``shape`` entries that are ``None`` are free. ``kinds`` lists the accepted dtype kinds
    (numpy's one-letter codes: ``i`` signed, ``u`` unsigned, ``f`` float, ``b`` bool).
    With ``dtype`` the result is converted to it (after the kind check).

    >>> check_array("tokens", [[0, 1], [1, 0]], ndim=2, kinds="iu").shape
    (2, 2)
    >>> check_array("tokens", [0.5], kinds="iu")
    Traceback (most recent call last):
    ...
    TypeError: tokens must have an integer dtype (kinds 'iu'), got float64
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in kinds:
        names = {"iu": "an integer", "iuf": "a numeric", "f": "a floating", "b": "a boolean"}
        what = names.get(kinds, "a")
        raise TypeError(f"{name} must have {what} dtype (kinds {kinds!r}), got {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None:
        want = "(" + ", ".join("*" if d is None else str(d) for d in shape) + ")"
        if arr.ndim != len(shape) or any(
            d is not None and d != a for d, a in zip(shape, arr.shape, strict=True)
        ):
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


def check_probabilities(
    name: str, value: object, *, shape: tuple[int | None, ...] | None = None, atol: float = 1e-9
) -> NDArray[np.float64]:
    """Rows of probabilities: finite, non-negative, each last-axis row summing to 1 within
    ``atol``. Returned as float64.

    >>> check_probabilities("root_probs", [0.25, 0.75]).tolist()
    [0.25, 0.75]
    >>> check_probabilities("rule_probs", [[0.5, 0.6]])
    Traceback (most recent call last):
    ...
    ValueError: rule_probs must have rows summing to 1 within 1e-09; row 0 sums to 1.1
    """
    arr = check_array(name, value, shape=shape, kinds="iuf", dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, found {float(arr.min())!r}")
    sums = arr.sum(axis=-1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name} must have rows summing to 1 within {atol}; row {i} sums to "
                         f"{float(np.ravel(sums)[i]):.6g}")
    return cast(NDArray[np.float64], arr)
