"""Rule weights and root priors beyond the uniform RHM: Zipf, log-normal, explicit (section 9)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rhm_theory.model.params import RHMParams
from rhm_theory.validation import check_float, check_int, check_random_state, check_seed

__all__ = [
    "lognormal_rule_probs",
    "parse_root_probs",
    "parse_rule_probs",
    "uniform_rule_probs",
    "zipf_probs",
    "zipf_rule_probs",
]

FloatArray = npt.NDArray[np.float64]


def zipf_probs(n: int, a: float) -> FloatArray:
    """Zipf law over ranks ``1..n``: ``w(r) ~ r**-(1+a)``, normalised; ``a >= 0``.

    ``a = 0`` is the ``1/r`` law (the exponent of the ICML 2025 RHM paper is ``1 + a``).

    >>> zipf_probs(2, 0.0).tolist()  # (1, 1/2) / (3/2)
    [0.6666666666666666, 0.3333333333333333]
    """
    n = check_int("n", n, minimum=1)
    a = check_float("a", a, minimum=0.0)
    w = np.arange(1, n + 1, dtype=np.float64) ** -(1.0 + a)
    return np.asarray(w / w.sum())


def uniform_rule_probs(params: RHMParams) -> list[FloatArray]:
    """Uniform rule weights ``1/m`` of every level (the paper's RHM)."""
    return [np.full((params.vocab(lv), params.m), 1.0 / params.m) for lv in range(1, params.L + 1)]


def _levels(params: RHMParams, levels: Sequence[int] | None) -> set[int]:
    if levels is None:
        return set(range(1, params.L + 1))
    return {params.check_level(int(lv), 1, params.L) for lv in levels}


def zipf_rule_probs(
    params: RHMParams, a: float, levels: Sequence[int] | None = None
) -> list[FloatArray]:
    """Zipf rule weights ``w_a(r) ~ (r+1)**-(1+a)`` at ``levels`` (default all), uniform elsewhere.

    The rank is the rule's index in the table; random grammars store rules in random order,
    so every symbol's most frequent rule is a random one of its tuples.

    >>> w = zipf_rule_probs(RHMParams(v=4, m=2, s=2, L=2), 0.0, levels=[2])
    >>> w[0][0].tolist(), [round(float(x), 4) for x in w[1][0]]
    ([0.5, 0.5], [0.6667, 0.3333])
    """
    chosen = _levels(params, levels)
    row = zipf_probs(params.m, a)
    out = uniform_rule_probs(params)
    for lv in chosen:
        out[lv - 1] = np.tile(row, (params.vocab(lv), 1))
    return out


def lognormal_rule_probs(
    params: RHMParams, sigma: float, seed: int, levels: Sequence[int] | None = None
) -> list[FloatArray]:
    """Log-normal rule weights: ``w_a(r) ~ exp(sigma * z_ar)``, ``z`` standard normal.

    Drawn with ``numpy.random.default_rng([seed, 0x10C9])`` level by level (all levels are
    drawn, so the weights of one level do not depend on ``levels``); ``sigma = 0`` is uniform.

    >>> w = lognormal_rule_probs(RHMParams(v=4, m=3, s=2, L=2), 1.0, seed=0)
    >>> [round(float(x), 12) for x in w[0].sum(axis=1)]
    [1.0, 1.0, 1.0, 1.0]
    """
    sigma = check_float("sigma", sigma, minimum=0.0)
    seed = check_seed("seed", seed)
    chosen = _levels(params, levels)
    rng = check_random_state(seed, 0x10C9)
    out = uniform_rule_probs(params)
    for lv in range(1, params.L + 1):
        z = rng.standard_normal((params.vocab(lv), params.m))
        if lv in chosen:
            # Subtract the row max before exp: no overflow for any sigma.
            x = sigma * z
            w = np.exp(x - x.max(axis=1, keepdims=True))
            out[lv - 1] = w / w.sum(axis=1, keepdims=True)
    return out


def _split_spec(name: str, spec: str) -> tuple[str, list[str]]:
    if not isinstance(spec, str):
        raise TypeError(f"{name} must be a string such as 'uniform' or 'zipf:1', got {spec!r}")
    kind, *args = spec.split(":")
    return kind, args


def parse_rule_probs(spec: str, params: RHMParams, seed: int) -> list[FloatArray] | None:
    """Rule weights named by a spec string; ``None`` for ``"uniform"``.

    Specs: ``uniform``; ``zipf:A`` or ``zipf:A@L1,L2`` (levels); ``lognormal:SIGMA``,
    ``lognormal:SIGMA:SEED`` or either with ``@levels`` (default seed: ``seed``, the
    grammar seed, through its own stream).

    >>> p = RHMParams(v=4, m=2, s=2, L=3)
    >>> [round(float(w[0, 0]), 4) for w in parse_rule_probs("zipf:1@1,3", p, 0)]
    [0.8, 0.5, 0.8]
    >>> parse_rule_probs("pareto:1", p, 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: rule_probs must be 'uniform', 'zipf:A[@levels]' or ..., got 'pareto:1'
    """
    spec_s, _, lv_text = spec.partition("@") if isinstance(spec, str) else (spec, "", "")
    kind, args = _split_spec("rule_probs", spec_s)
    levels = None
    try:
        if lv_text:
            levels = [int(x) for x in lv_text.split(",")]
        if kind == "uniform" and not args and levels is None:
            return None
        if kind == "zipf" and len(args) == 1:
            return zipf_rule_probs(params, float(args[0]), levels)
        if kind == "lognormal" and len(args) in (1, 2):
            wseed = int(args[1]) if len(args) == 2 else seed
            return lognormal_rule_probs(params, float(args[0]), wseed, levels)
    except ValueError as exc:
        raise ValueError(f"rule_probs spec {spec!r}: {exc}") from None
    raise ValueError(
        "rule_probs must be 'uniform', 'zipf:A[@levels]' or "
        f"'lognormal:SIGMA[:SEED][@levels]', got {spec!r}"
    )


def parse_root_probs(spec: str, params: RHMParams) -> FloatArray | None:
    """Root prior named by a spec string; ``None`` for ``"uniform"``.

    Specs: ``uniform``; ``zipf:A`` (root symbol ``c`` has weight ``(c+1)**-(1+a)``);
    ``explicit:p0,p1,...`` (``n_c`` numbers summing to 1).

    >>> parse_root_probs("explicit:0.5,0.25,0.25", RHMParams(v=3, m=1, s=2, L=1)).tolist()
    [0.5, 0.25, 0.25]
    """
    kind, args = _split_spec("root_probs", spec)
    try:
        if kind == "uniform" and not args:
            return None
        if kind == "zipf" and len(args) == 1:
            return zipf_probs(params.n_c, float(args[0]))
        if kind == "explicit" and len(args) == 1:
            return np.array([float(x) for x in args[0].split(",")])
    except ValueError as exc:
        raise ValueError(f"root_probs spec {spec!r}: {exc}") from None
    raise ValueError(
        f"root_probs must be 'uniform', 'zipf:A' or 'explicit:p0,p1,...', got {spec!r}"
    )
