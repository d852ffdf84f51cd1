"""Cost model of the library's long runs: seconds of ILC, sampling and BP from their sizes."""

from __future__ import annotations

__all__ = [
    "BP_SECONDS_PER_TOKEN_VM",
    "ILC_CLUSTER_SECONDS",
    "ILC_FIXED_SECONDS",
    "ILC_SECONDS_PER_LEVEL",
    "ILC_SECONDS_PER_TOKEN",
    "LIMIT_BYTES",
    "LIMIT_SECONDS",
    "SAMPLE_SECONDS_PER_TOKEN",
    "UNPOOLED_FACTOR",
    "bp_seconds",
    "ilc_seconds",
    "sample_seconds",
]

#: ILC's cost model: a fixed cost per fit, one per recovered level, one per training token
#: (``P s^L``) and one for the clustering of each level, per ``(v m)^2 v`` (the distances
#: between the ``v m`` tuple vectors of ``~ v`` context entries each). Fitted (non-negative
#: least squares, ``benchmarks/fit_cost_model.py``) on the seconds of the 24,266 pooled cells
#: of the full and quick verify runs of 2026-12-08 (2 workers busy, 2-core machine): total
#: predicted / measured 0.98 (full), 1.19 (quick; the smallest cells cost less than the
#: fixed terms). The token baseline costs what ILC does per token, the label baseline less.
ILC_FIXED_SECONDS = 0.004
ILC_SECONDS_PER_LEVEL = 0.0057
ILC_SECONDS_PER_TOKEN: dict[str, float] = {"latent": 4.2e-8, "token": 4.2e-8,
                                           "label": 3.1e-8}
ILC_CLUSTER_SECONDS = 1.49e-9
#: Positions kept separate (``pool_positions=False``): one accumulator and clustering per
#: parent; measured / pooled model on the same runs: 2.0 (full), 1.2 (quick), 1.9 together.
UNPOOLED_FACTOR = 1.9
#: The sampler's seconds per token (``n s^L``), the largest of three grammars (v up to 32,
#: L up to 5) timed by ``benchmarks/cli_cost_model.py`` (2 CPUs, load 1.3, 2026-12-07).
SAMPLE_SECONDS_PER_TOKEN = 2.0e-9
#: Exact BP's seconds per token and rule (``n s^L v m``), the largest of the same timings.
BP_SECONDS_PER_TOKEN_VM = 7.5e-9
#: The CLI refuses a run whose estimate exceeds this many seconds unless ``--force`` is
#: given (a typo in ``--P`` or ``--n`` should not start a day-long run).
LIMIT_SECONDS = 600.0
#: Likewise for the size of a file a command writes (``rhm-theory sample``).
LIMIT_BYTES = 4.0 * 2**30


def ilc_seconds(P: int, s: int, L: int, *, context: str = "latent",
                pool_positions: bool = True, v: int | None = None,
                m: int | None = None) -> float:
    """Estimated CPU seconds of one ILC fit (or baseline) on ``P`` strings of depth ``L``.

    With ``v`` and ``m`` the clustering term counts (it dominates small ``P`` at large
    ``v``: about 3 s per fit at ``v = 384, m = 3, L = 5``); without them it is left out.

    >>> round(ilc_seconds(10**6, 2, 3), 3)
    0.351
    >>> round(ilc_seconds(10**4, 2, 5, v=384, m=3), 2)
    3.08
    """
    per_token = ILC_SECONDS_PER_TOKEN[context]
    factor = 1.0 if pool_positions else UNPOOLED_FACTOR
    cluster = 0.0 if v is None or m is None else ILC_CLUSTER_SECONDS * (v * m) ** 2 * v
    return float((ILC_FIXED_SECONDS + (ILC_SECONDS_PER_LEVEL + cluster) * (L - 1)
                  + per_token * P * s**L) * factor)


def sample_seconds(n: int, s: int, L: int) -> float:
    """Estimated seconds to draw ``n`` strings of ``s^L`` tokens.

    >>> sample_seconds(10**6, 2, 3)
    0.016
    """
    return float(SAMPLE_SECONDS_PER_TOKEN * n * s**L)


def bp_seconds(n: int, v: int, m: int, s: int, L: int) -> float:
    """Estimated seconds of exact BP (every level) on ``n`` strings.

    >>> round(bp_seconds(10_000, 16, 4, 2, 4), 3)
    0.077
    """
    return float(BP_SECONDS_PER_TOKEN_VM * n * s**L * v * m)
