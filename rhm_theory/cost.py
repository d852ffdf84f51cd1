"""Cost model of the library's long runs: seconds of ILC, sampling and BP from their sizes."""

from __future__ import annotations

__all__ = [
    "BP_SECONDS_PER_TOKEN_VM",
    "ILC_FIXED_SECONDS",
    "ILC_SECONDS_PER_TOKEN",
    "LIMIT_BYTES",
    "LIMIT_SECONDS",
    "SAMPLE_SECONDS_PER_TOKEN",
    "UNPOOLED_FACTOR",
    "bp_seconds",
    "ilc_seconds",
    "sample_seconds",
]

#: ILC's fixed cost per fit (seconds) and its cost per training token (``P s^L``), refitted
#: by ``benchmarks/verify_grid_cost.py`` on 80 quick verify cells on an idle 2-core machine
#: (2026-12-04): the token baseline costs what ILC does, the label baseline twice that.
ILC_FIXED_SECONDS = 0.0125
ILC_SECONDS_PER_TOKEN: dict[str, float] = {"latent": 0.104e-6, "token": 0.104e-6,
                                           "label": 0.208e-6}
#: Positions kept separate (``pool_positions=False``): one accumulator and clustering per
#: parent, about three times the pooled cost.
UNPOOLED_FACTOR = 3.0
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
                pool_positions: bool = True) -> float:
    """Estimated CPU seconds of one ILC fit (or baseline) on ``P`` strings of depth ``L``.

    >>> round(ilc_seconds(10**6, 2, 3), 3)
    0.845
    """
    per_token = ILC_SECONDS_PER_TOKEN[context]
    factor = 1.0 if pool_positions else UNPOOLED_FACTOR
    return float((ILC_FIXED_SECONDS + per_token * P * s**L) * factor)


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
