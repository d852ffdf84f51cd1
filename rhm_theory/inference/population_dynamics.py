"""Density evolution of upward BP messages (population dynamics) and the inference threshold."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numba as nb
import numpy as np
import numpy.typing as npt

from rhm_theory.bounds.formulas import annealed_noise_threshold
from rhm_theory.model.grammar import Grammar, random_grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.validation import (
    check_choice,
    check_float,
    check_int,
    check_probabilities,
    check_seed,
)

__all__ = [
    "CHANNELS",
    "DensityEvolution",
    "Threshold",
    "density_evolution",
    "inference_threshold",
    "mask_threshold_context",
    "mask_threshold_for",
    "mean_field_threshold",
]

FloatArray = npt.NDArray[np.float64]
Channel = Literal["noise", "mask"]
#: Leaf channels: ``noise`` keeps a leaf with probability ``1 - eps`` and otherwise redraws
#: it uniformly (BP's leaf evidence ``(1 - eps) 1[b = x] + eps / v``); ``mask`` erases a
#: leaf with probability ``eps`` (evidence all-ones) and shows it exactly otherwise.
CHANNELS: tuple[Channel, ...] = ("noise", "mask")

#: Overlap (normalised excess of the true symbol's mean posterior over the prior's) at or
#: above which a flow counts as recovered, at or below which as lost.
RECOVERED_OVERLAP = 0.95
LOST_OVERLAP = 0.05

# Counter-based randomness (splitmix64), as in corruption.py: member (level, symbol, index)
# reads words of its own state only, so the result is the same on any thread count.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_DE_SALT = np.uint64(0x3C6EF372FE94F82B)


@nb.njit(cache=True, inline="always")
def _mix64(z: np.uint64) -> np.uint64:
    # splitmix64 finaliser: a bijective avalanche hash of a 64-bit word.
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def _uniform(state: np.uint64, t: int) -> float:
    # t-th uniform in [0, 1) of a member's stream (53-bit double).
    w = _mix64(state + np.uint64(t + 1) * _GAMMA)
    return float(w >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True, parallel=True)
def _level_kernel(
    key: np.uint64,
    level: int,
    first: bool,
    channel: int,
    eps: float,
    rules: npt.NDArray[np.int64],
    weights: FloatArray,
    n_sym: int,
    n_child: int,
    prior: FloatArray,
    prev: FloatArray,
    out: FloatArray,
    post_true: FloatArray,
    hit: FloatArray,
) -> None:
    # One level of population dynamics. rules (width, m, s) child symbols; weights (width, m);
    # prev (width, n, width) child-level messages (unused when first: leaves are drawn from
    # the channel); out (width, n, width) this level's normalised upward messages; post_true
    # and hit (width, n) the true symbol's posterior under `prior` and the MAP hit.
    m = rules.shape[1]
    s = rules.shape[2]
    n = out.shape[1]
    width = out.shape[2]
    for task in nb.prange(n_sym * n):
        a = task // n
        i = task - a * n
        state = _mix64(key ^ _mix64(np.uint64((level * width + a) * n + i) * _GAMMA
                                    + np.uint64(1)))
        # The rule of the true symbol, by its weight.
        u = _uniform(state, 0)
        r = m - 1
        acc = 0.0
        for rr in range(m):
            acc += weights[a, rr]
            if u < acc:
                r = rr
                break
        while weights[a, r] == 0.0 and r > 0:  # u landed in a rounding gap past zeros
            r -= 1
        child = np.empty((s, width))
        for j in range(s):
            b = rules[a, r, j]
            if first:
                u1 = _uniform(state, 1 + 2 * j)
                if channel == 0:  # noise: observed x, message (1 - eps) 1[. = x] + eps / v
                    x = b
                    if u1 < eps:
                        x = min(n_child - 1, int(_uniform(state, 2 + 2 * j) * n_child))
                    for c in range(n_child):
                        child[j, c] = eps / n_child
                    child[j, x] += 1.0 - eps
                else:  # mask: erased (flat) with probability eps, else one-hot
                    for c in range(n_child):
                        child[j, c] = 1.0 if u1 < eps else 0.0
                    child[j, b] = 1.0
            else:
                k = min(n - 1, int(_uniform(state, 1 + 2 * j) * n))
                for c in range(n_child):
                    child[j, c] = prev[b, k, c]
        # Upward message mu(a') = sum_r w_a'(r) prod_j child_j(R[a', r, j]), normalised.
        z = 0.0
        for ap in range(n_sym):
            tot = 0.0
            for rr in range(m):
                w = weights[ap, rr]
                if w == 0.0:
                    continue
                for j in range(s):
                    w *= child[j, rules[ap, rr, j]]
                tot += w
            out[a, i, ap] = tot
            z += tot
        inv = 1.0 / z
        zp = 0.0
        best = -1.0
        arg = 0
        for ap in range(n_sym):
            out[a, i, ap] *= inv
            q = prior[ap] * out[a, i, ap]
            zp += q
            if q > best:  # ties to the smallest symbol, as BP's argmax
                best = q
                arg = ap
        post_true[a, i] = prior[a] * out[a, i, a] / zp
        hit[a, i] = 1.0 if arg == a else 0.0


# -- results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DensityEvolution:
    """Per-level law of the true symbol's posterior from population dynamics.

    Arrays are indexed by level ``1..depth`` (entry ``l - 1``). ``mean_posterior`` is
    ``E[P(true symbol | subtree evidence)]`` with the true symbol drawn from the level's
    prior; ``map_accuracy`` the probability that the MAP symbol (ties to the smallest) is the
    true one; ``*_se`` their Monte Carlo standard errors as i.i.d. population averages
    (exact at level 1, where members are independent; deeper members share children, so the
    spread between seeds is the honest error there); ``baseline`` the mean posterior of an
    uninformative message (``sum_a prior(a)**2``); ``overlap`` the normalised excess
    ``(mean_posterior - baseline) / (1 - baseline)``.
    """

    channel: Channel
    eps: float
    n_pop: int
    seed: int
    mean_posterior: FloatArray
    mean_posterior_se: FloatArray
    map_accuracy: FloatArray
    map_accuracy_se: FloatArray
    baseline: FloatArray

    @property
    def depth(self) -> int:
        """Number of levels computed."""
        return int(self.mean_posterior.size)

    @property
    def overlap(self) -> FloatArray:
        """``(mean_posterior - baseline) / (1 - baseline)`` per level."""
        return np.asarray((self.mean_posterior - self.baseline) / (1.0 - self.baseline))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {"channel": self.channel, "eps": self.eps, "n_pop": self.n_pop,
                "seed": self.seed, "mean_posterior": self.mean_posterior.tolist(),
                "mean_posterior_se": self.mean_posterior_se.tolist(),
                "map_accuracy": self.map_accuracy.tolist(),
                "map_accuracy_se": self.map_accuracy_se.tolist(),
                "baseline": self.baseline.tolist()}


@dataclass(frozen=True)
class Threshold:
    """``eps_c`` of a grammar and channel with its bracket ``[lo, hi]``.

    ``lo`` is the largest ``eps`` whose flow was seen to recover the true symbol, ``hi`` the
    smallest whose flow was seen to lose it; ``eps_c`` the midpoint. ``confirmed`` says
    whether both ends kept their classification with twice the population and a fresh seed.
    ``trace`` lists ``(eps, outcome, levels run, final overlap)`` of every evaluation.
    """

    channel: Channel
    eps_c: float
    lo: float
    hi: float
    confirmed: bool
    n_pop: int
    max_depth: int
    seconds: float
    trace: tuple[tuple[float, str, int, float], ...] = field(default=())

    @property
    def interval(self) -> tuple[float, float]:
        """``(lo, hi)``."""
        return (self.lo, self.hi)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {"channel": self.channel, "eps_c": self.eps_c, "interval": [self.lo, self.hi],
                "confirmed": self.confirmed, "n_pop": self.n_pop, "max_depth": self.max_depth,
                "seconds": self.seconds,
                "trace": [{"eps": e, "outcome": o, "levels": k, "overlap": ov}
                          for e, o, k, ov in self.trace]}


# -- packing and validation ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Packed:
    rules: npt.NDArray[np.int64]  # (L, width, m, s)
    weights: FloatArray  # (L, width, m)
    vocab: npt.NDArray[np.int64]  # (L + 1,)
    priors: FloatArray  # (L, width): prior used to report level l (table l - 1)
    width: int


def _pack(grammar: Grammar) -> _Packed:
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    width = max(p.v, p.n_c)
    rules = np.zeros((p.L, width, p.m, p.s), dtype=np.int64)
    weights = np.zeros((p.L, width, p.m), dtype=np.float64)
    priors = np.zeros((p.L, width), dtype=np.float64)
    for level in range(1, p.L + 1):
        n_sym = p.vocab(level)
        rules[level - 1, :n_sym] = np.asarray(grammar.rules_of(level), dtype=np.int64)
        weights[level - 1, :n_sym] = check_probabilities(
            f"rule_probs_of({level})", grammar.rule_probs_of(level), shape=(n_sym, p.m))
        # Convention: below the root a level's symbol is reported under the uniform prior
        # (the root law of a depth-l RHM datum); the root under the grammar's root prior.
        priors[level - 1, :n_sym] = 1.0 / n_sym
    priors[p.L - 1, : p.n_c] = check_probabilities("root_probs", grammar.root_probs,
                                                   shape=(p.n_c,))
    vocab = np.array([p.vocab(lv) for lv in range(p.L + 1)], dtype=np.int64)
    return _Packed(rules, weights, vocab, priors, width)


def _table(packed: _Packed, level: int) -> int:
    # Levels beyond the grammar's depth reuse its rule tables cyclically.
    return (level - 1) % int(packed.rules.shape[0])


def _check_depth(grammar: Grammar, depth: int | None, name: str = "depth") -> int:
    p = grammar.params
    if depth is None:
        return p.L
    depth = check_int(name, depth, minimum=1)
    if depth > p.L and p.n_c != p.v:
        raise ValueError(f"{name} must satisfy {name} <= L = {p.L} when n_c != v (levels "
                         f"beyond L reuse the rule tables cyclically), got {name}={depth}")
    return depth


class _Flow:
    """Population dynamics of one (grammar, channel, eps, n_pop, seed), one level at a time."""

    def __init__(self, packed: _Packed, channel: Channel, eps: float, n_pop: int,
                 seed: int) -> None:
        self.packed = packed
        self.channel_code = CHANNELS.index(channel)
        self.eps = eps
        self.key = np.uint64(_mix64(np.uint64(seed) ^ _DE_SALT))
        w = packed.width
        self.prev = np.zeros((w, n_pop, w))
        self.out = np.zeros((w, n_pop, w))
        self.post = np.zeros((w, n_pop))
        self.hit = np.zeros((w, n_pop))
        self.level = 0

    def step(self) -> tuple[float, float, float, float, float]:
        pk = self.packed
        self.level += 1
        t = _table(pk, self.level)
        n_sym = int(pk.vocab[t + 1])
        n_child = int(pk.vocab[t])
        prior = pk.priors[t]
        _level_kernel(self.key, self.level, self.level == 1, self.channel_code, self.eps,
                      pk.rules[t], pk.weights[t], n_sym, n_child, prior, self.prev, self.out,
                      self.post, self.hit)
        self.prev, self.out = self.out, self.prev
        q = prior[:n_sym]
        n = self.post.shape[1]
        # Mean over the true symbol's law of the per-symbol population means.
        post = self.post[:n_sym]
        hit = self.hit[:n_sym]
        mp = float(q @ post.mean(axis=1))
        acc = float(q @ hit.mean(axis=1))
        mp_se = math.sqrt(float((q**2) @ post.var(axis=1)) / n)
        acc_se = math.sqrt(float((q**2) @ hit.var(axis=1)) / n)
        return mp, mp_se, acc, acc_se, float(q @ q)


# -- public API ----------------------------------------------------------------------------------
def density_evolution(
    grammar: Grammar,
    channel: str,
    eps: float,
    *,
    n_pop: int = 1000,
    seed: int = 0,
    depth: int | None = None,
) -> DensityEvolution:
    """Population dynamics of the upward BP messages of ``grammar`` (docs/theory.md section 8).

    The law of the normalised upward message ``mu_l`` of a level-``l`` node given its true
    symbol ``a`` is represented by ``n_pop`` samples per symbol (Mezard and Montanari ch. 14).
    A level-``l+1`` sample of symbol ``a`` draws a rule ``r`` of ``a`` with probability
    ``w_a(r)`` and, for each child ``j``, a sample of symbol ``R[a, r, j]``: at level 1 a
    fresh leaf message through the channel, above it a uniformly chosen member of that
    symbol's level-``l`` population; then ``mu(a') = sum_r w_a'(r) prod_j mu_j(R[a', r, j])``
    as in BP's upward pass. Only two levels are held in memory
    (``2 * width**2 * n_pop`` floats whatever the depth). Levels beyond ``L`` reuse the rule
    tables of levels ``1..L`` cyclically. Reported per level: the true symbol's mean posterior
    and MAP accuracy under the level's prior (``root_probs`` at the levels that use the
    root's table, ``L, 2L, ...``; uniform at the others, a convention), with Monte Carlo
    errors. Reproducible: sample ``(l, a, i)`` depends only on
    ``(seed, l, a, i)`` (counter-based hash), not on the thread count.

    Parameters
    ----------
    grammar : Grammar
        The grammar (weighted rules and root prior are used).
    channel : {"noise", "mask"}
        Leaf channel (:data:`CHANNELS`).
    eps : float
        Noise level or erasure probability, ``0 <= eps <= 1``.
    n_pop : int, default 1000
        Samples per symbol and level, ``n_pop >= 2``.
    seed : int, default 0
        Seed of the counter-based stream.
    depth : int, optional
        Levels to compute (default ``L``); above ``L`` only when ``n_c == v``.

    Returns
    -------
    DensityEvolution

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0)
    >>> de = density_evolution(g, "noise", 0.0, n_pop=50, seed=1)
    >>> de.mean_posterior.tolist()  # noiseless leaves parse the tree: posterior one-hot
    [1.0, 1.0, 1.0]
    """
    packed = _pack(grammar)
    channel = check_choice("channel", channel, CHANNELS)
    eps = check_float("eps", eps, minimum=0.0, maximum=1.0)
    n_pop = check_int("n_pop", n_pop, minimum=2)
    seed = check_seed("seed", seed)
    depth = _check_depth(grammar, depth)
    flow = _Flow(packed, channel, eps, n_pop, seed)
    rows = np.array([flow.step() for _ in range(depth)], dtype=np.float64).reshape(depth, 5)
    return DensityEvolution(channel, eps, n_pop, seed, rows[:, 0].copy(), rows[:, 1].copy(),
                            rows[:, 2].copy(), rows[:, 3].copy(), rows[:, 4].copy())


def _classify(packed: _Packed, channel: Channel, eps: float, n_pop: int, seed: int,
              max_depth: int) -> tuple[str, int, float]:
    # Run the flow until its overlap is decisively recovered or lost, or max_depth levels.
    flow = _Flow(packed, channel, eps, n_pop, seed)
    ov = math.nan
    for _ in range(max_depth):
        mp, _, _, _, base = flow.step()
        ov = (mp - base) / (1.0 - base)
        if ov >= RECOVERED_OVERLAP:
            return "recovered", flow.level, ov
        if ov <= LOST_OVERLAP:
            return "lost", flow.level, ov
    return "undecided", flow.level, ov


def inference_threshold(
    grammar: Grammar,
    channel: str,
    *,
    tol: float = 0.01,
    n_pop: int | None = None,
    max_depth: int = 200,
    seed: int = 0,
    confirm: bool = True,
) -> Threshold:
    """The inference threshold ``eps_c`` of ``grammar`` under ``channel``, by bisection.

    ``eps_c`` is the ``eps`` where the large-depth mean posterior of the true symbol drops
    from near 1 to the prior. At each ``eps`` the population dynamics of
    :func:`density_evolution` run level by level (rule tables reused cyclically beyond
    ``L``) until the overlap (normalised excess of the mean posterior over the prior's) is
    decisively recovered (``>= 0.95``) or lost (``<= 0.05``). Bisection starts from
    ``[0, 1]`` (noiseless leaves parse the tree; ``eps = 1`` carries no information) and
    stops when ``hi - lo <= 2 * tol``.

    How depth and population are chosen so that ``[lo, hi]`` is honest: depth is not fixed
    but run until the flow has left the critical region (decided), up to ``max_depth``
    levels; an ``eps`` still undecided there stops the bisection and the bracket around it
    is reported (never a guess inside it). The population defaults to
    ``max(2000, 32000 // v)`` samples per symbol (at least 32000 messages per level), so the
    per-level Monte Carlo error of the overlap (below ``1e-2``) is far from the decision
    margins ``0.05``; finite populations can still shift a near-critical flow, so with
    ``confirm`` both ends are re-run with twice the population and a fresh seed, and
    ``confirmed`` says whether they kept their outcome (if not, the bracket is widened by
    ``2 * tol`` on that side and ``confirmed`` is False).

    Parameters
    ----------
    grammar : Grammar
        The grammar; ``n_c == v`` unless ``max_depth <= L``.
    channel : {"noise", "mask"}
        Leaf channel.
    tol : float, default 0.01
        Half-width of the final bracket, ``1e-4 <= tol <= 0.25``.
    n_pop : int, optional
        Samples per symbol and level (default above).
    max_depth : int, default 200
        Most levels per evaluation, ``>= 1``.
    seed : int, default 0
        Seed; evaluation ``k`` uses ``seed + k``.
    confirm : bool, default True
        Re-run both ends with ``2 * n_pop`` and a fresh seed.

    Returns
    -------
    Threshold

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=16, m=4, s=2, L=6), seed=0)
    >>> th = inference_threshold(g, "noise", tol=0.05, n_pop=400)
    >>> 0.2 < th.eps_c < 0.45, th.hi - th.lo <= 0.1
    (True, True)
    """
    packed = _pack(grammar)
    channel = check_choice("channel", channel, CHANNELS)
    tol = check_float("tol", tol, minimum=1e-4, maximum=0.25)
    p = grammar.params
    n_pop = max(2000, 32000 // p.v) if n_pop is None else check_int("n_pop", n_pop, minimum=2)
    max_depth = _check_depth(grammar, max_depth, "max_depth")
    seed = check_seed("seed", seed)
    if not isinstance(confirm, bool):
        raise TypeError(f"confirm must be a bool, got {type(confirm).__name__}")
    t0 = time.perf_counter()
    lo, hi = 0.0, 1.0
    trace: list[tuple[float, str, int, float]] = []
    k = 0
    while hi - lo > 2 * tol:
        mid = 0.5 * (lo + hi)
        outcome, levels, ov = _classify(packed, channel, mid, n_pop, seed + k, max_depth)
        k += 1
        trace.append((mid, outcome, levels, ov))
        if outcome == "recovered":
            lo = mid
        elif outcome == "lost":
            hi = mid
        else:
            break  # undecided: report the bracket around it
    confirmed = True
    if confirm:
        for end in ("lo", "hi"):
            e = lo if end == "lo" else hi
            if e in (0.0, 1.0):
                continue  # the ends of [0, 1] are exact (parsed tree, no information)
            outcome, levels, ov = _classify(packed, channel, e, 2 * n_pop, seed + 10**6,
                                            max_depth)
            trace.append((e, outcome + " (confirm)", levels, ov))
            want = "recovered" if end == "lo" else "lost"
            if outcome != want:
                confirmed = False
                if end == "lo":
                    lo = max(0.0, lo - 2 * tol)
                else:
                    hi = min(1.0, hi + 2 * tol)
    return Threshold(channel, 0.5 * (lo + hi), lo, hi, confirmed, n_pop, max_depth,
                     time.perf_counter() - t0, tuple(trace))


def mean_field_threshold(v: float, m: float, s: float, channel: str) -> float:
    """The PNAS annealed map's ``eps*`` for ``channel`` (the named competitor of ``eps_c``).

    ``noise``: :func:`~rhm_theory.bounds.annealed_noise_threshold` (leaf message averaged
    over the channel). ``mask``: the leaf weight on the true symbol averaged over erasures is
    ``p_0 = 1 - eps (v-1)/v``, the same algebra as its ``leaf_message="observed"`` form.
    NaN when the map has no transition (``F'(1) >= 1``).

    >>> round(mean_field_threshold(8, 2, 2, "mask"), 6)
    0.914286
    """
    channel = check_choice("channel", channel, CHANNELS)
    if channel == "noise":
        return annealed_noise_threshold(v, m, s)
    return annealed_noise_threshold(v, m, s, leaf_message="observed")


def mask_threshold_for(
    v: int, m: int, s: int, *, seeds: tuple[int, ...] = (0, 1, 2), tol: float = 0.01,
) -> dict[str, Any]:
    """The mask channel's ``eps_c`` for random grammars of ``(v, m, s)``, for neural reports.

    A neural run's masked-token accuracy at mask fraction ``mask_frac`` can be read against
    it: below ``eps_c`` exact inference still recovers deep latents from the visible tokens,
    above it deep latents are lost even to Bayes-optimal inference. Random grammars of depth
    8 with seeds ``seeds`` (cycled beyond depth 8).

    Returns
    -------
    dict
        ``{"eps_c": mean, "spread": max - min, "per_seed": [...], "intervals": [...],
        "mean_field": map's value}``.
    """
    v = check_int("v", v, minimum=2)
    m = check_int("m", m, minimum=1)
    s = check_int("s", s, minimum=2)
    if not seeds:
        raise ValueError("seeds must name at least one grammar seed")
    vals, ints = [], []
    for sd in seeds:
        g = random_grammar(RHMParams(v=v, m=m, s=s, L=8), seed=check_seed("seeds", sd))
        th = inference_threshold(g, "mask", tol=tol, confirm=False)
        vals.append(th.eps_c)
        ints.append([th.lo, th.hi])
    return {"eps_c": float(np.mean(vals)), "spread": float(np.max(vals) - np.min(vals)),
            "per_seed": vals, "intervals": ints,
            "mean_field": mean_field_threshold(v, m, s, "mask")}


def mask_threshold_context(grammar: Grammar, mask_frac: float, *, tol: float = 0.01,
                           n_pop: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Where a masked-token run sits relative to the mask channel's ``eps_c`` of its grammar.

    For the neural validators: report this next to a model's masked-token accuracy at
    ``mask_frac`` (and the Bayes-optimal accuracy at the same fraction), so a reader sees
    whether the run is below the inference threshold (deep latents still recoverable from
    the visible tokens by exact inference) or above it (lost even to exact inference).
    Masks here are i.i.d. per token (density evolution), the validators' are a fixed
    fraction per string: the same in the deep limit.

    Parameters
    ----------
    grammar : Grammar
        The run's grammar; ``n_c == v`` (its levels are reused beyond ``L``).
    mask_frac : float
        The run's mask fraction, ``0 <= mask_frac <= 1``.
    tol : float, default 0.01
        Half-width of ``eps_c``'s bracket.
    n_pop : int, optional
        Samples per symbol (default of :func:`inference_threshold`).
    seed : int, default 0
        Population seed.

    Returns
    -------
    dict
        ``{"mask_frac", "eps_c", "interval", "mean_field", "regime"}`` with ``regime`` one of
        ``"below threshold"``, ``"above threshold"``, ``"within the interval"``.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    >>> mask_threshold_context(g, 0.25, tol=0.05, n_pop=300)["regime"]
    'below threshold'
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    if p.n_c != p.v:
        raise ValueError(f"grammar must have n_c == v for the threshold (levels are reused "
                         f"beyond L), got n_c={p.n_c}, v={p.v}; use mask_threshold_for(v, m, s)")
    mask_frac = check_float("mask_frac", mask_frac, minimum=0.0, maximum=1.0)
    th = inference_threshold(grammar, "mask", tol=tol, n_pop=n_pop, seed=seed)
    regime = ("below threshold" if mask_frac < th.lo else
              "above threshold" if mask_frac > th.hi else "within the interval")
    return {"mask_frac": mask_frac, "eps_c": th.eps_c, "interval": [th.lo, th.hi],
            "mean_field": mean_field_threshold(p.v, p.m, p.s, "mask"), "regime": regime}
