"""Benchmark of the numba belief propagation against a plain-NumPy BP in the same process.

Prints strings per second (all levels, and root only) at ``v=32, m=8, s=2`` and ``L=6, 8``,
the ratio to the NumPy BP, the agreement of the two, and the peak resident memory of a
streamed run at two batch sizes (flat in ``n`` when the streaming works). Usage:

    python benchmarks/bench_bp.py [--n 4000] [--threads 2]
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from rhm_theory.inference import belief_propagation, iter_belief_propagation, random_mask
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.sampling import iter_samples, sample

__all__ = ["main", "numpy_bp"]

FloatArray = npt.NDArray[np.float64]


def numpy_bp(
    grammar: Grammar,
    tokens: npt.NDArray[Any],
    mask: npt.NDArray[np.bool_] | None = None,
    chunk: int = 64,
) -> list[FloatArray]:
    """Plain-NumPy BP for observed or masked tokens: posteriors of every level.

    Parameters
    ----------
    grammar : Grammar
        The grammar (weights from ``rule_probs_of`` / ``root_probs``).
    tokens : ndarray, shape (n, s**L)
        Observed tokens.
    mask : ndarray of bool, optional
        True = hidden.
    chunk : int
        Strings per vectorised block (bounds the temporaries).

    Returns
    -------
    list of ndarray
        ``post[l]`` of shape ``(n, s**(L-l), vocab(l))``.
    """
    p = grammar.params
    rules = [grammar.rules_of(lv) for lv in range(1, p.L + 1)]
    weights = [grammar.rule_probs_of(lv) for lv in range(1, p.L + 1)]
    n = tokens.shape[0]
    out = [np.empty((n, p.nodes_at_level(lv), p.vocab(lv))) for lv in range(p.L + 1)]
    for lo in range(0, n, chunk):
        x = tokens[lo : lo + chunk].astype(np.int64)
        b = x.shape[0]
        leaves = np.eye(p.v)[x]
        if mask is not None:
            leaves[mask[lo : lo + chunk]] = 1.0 / p.v
        lam = [leaves]
        for lv in range(1, p.L + 1):
            child = lam[-1].reshape(b, -1, p.s, p.v)
            R = rules[lv - 1]
            t = weights[lv - 1][None, None].copy()
            for j in range(p.s):
                t = t * child[:, :, j, :][:, :, R[:, :, j]]
            up = t.sum(axis=-1)
            up /= up.sum(axis=-1, keepdims=True)
            lam.append(up)
        post = grammar.root_probs * lam[p.L]
        post /= post.sum(axis=-1, keepdims=True)
        out[p.L][lo : lo + b] = post
        for lv in range(p.L, 0, -1):
            child = lam[lv - 1].reshape(b, -1, p.s, p.v)
            R = rules[lv - 1]
            t = weights[lv - 1][None, None].copy()
            for j in range(p.s):
                t = t * child[:, :, j, :][:, :, R[:, :, j]]
            tsum = t.sum(axis=-1, keepdims=True)
            q = np.divide(t * post[..., None], tsum, out=np.zeros_like(t), where=tsum > 0)
            q = q.reshape(b, post.shape[1], -1)  # rule posteriors, (b, nodes, V*m)
            # Scatter to children by one-hot matrices: C_j[(a, r), R[a, r, j]] = 1.
            nxt = np.empty((b, post.shape[1], p.s, p.v))
            for j in range(p.s):
                C = np.eye(p.v)[R[:, :, j].ravel()]
                nxt[:, :, j] = q @ C
            post = nxt.reshape(b, -1, p.v)
            out[lv - 1][lo : lo + b] = post
    return out


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _rate(fn: Any, n: int, repeats: int = 2) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def _cpu_rate(fn: Any, n: int) -> float:
    # Strings per CPU-second of this process: robust to other processes sharing the cores.
    c0 = _cpu()
    fn()
    return n / max(_cpu() - c0, 1e-9)


def _child_memory(L: int, n: int) -> None:
    # Peak RSS of a streamed BP over n strings, after a warm-up (JIT, pools).
    g = random_grammar(RHMParams(v=32, m=8, s=2, L=L), seed=0)
    warm = sample(g, 64, seed=9).tokens
    belief_propagation(g, warm)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = 0.0
    for chunk in iter_samples(g, n, seed=1, chunk_size=256):
        for post in iter_belief_propagation(g, chunk.tokens, chunk_size=256):
            total += float(post.level(0)[:, 0, 0].sum())
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{before / 1024:.1f} {after / 1024:.1f} {total:.1f}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="strings for the numba timings")
    parser.add_argument("--numpy-n", type=int, default=200, help="strings for the NumPy BP")
    parser.add_argument("--threads", type=int, default=min(2, numba.config.NUMBA_NUM_THREADS))
    parser.add_argument("--child-memory", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_memory:
        _child_memory(*args.child_memory)
        return 0
    numba.set_num_threads(args.threads)
    print(f"threads={args.threads} cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} "
          "(timings on a shared machine are inflated by contention)")
    for L in (6, 8):
        g = random_grammar(RHMParams(v=32, m=8, s=2, L=L), seed=0)
        x = sample(g, args.n, seed=1).tokens
        for mask in (None, random_mask(g, args.n, 0.25, seed=2)):
            what = "observed" if mask is None else "25% masked"
            belief_propagation(g, x[:32], mask=None if mask is None else mask[:32])  # JIT
            belief_propagation(g, x[:32], mask=None if mask is None else mask[:32], levels=[L])
            run_all = functools.partial(belief_propagation, g, x, mask, chunk_size=256)
            run_root = functools.partial(belief_propagation, g, x, mask, levels=[L])
            all_rate = _rate(run_all, args.n)
            root_rate = _rate(run_root, args.n)
            all_cpu = _cpu_rate(run_all, args.n)
            root_cpu = _cpu_rate(run_root, args.n)
            xs = x[: args.numpy_n]
            ms = None if mask is None else mask[: args.numpy_n]
            np_rate = _rate(functools.partial(numpy_bp, g, xs, ms), len(xs), repeats=1)
            ref = numpy_bp(g, xs[:16], None if ms is None else ms[:16])
            post = belief_propagation(g, xs[:16], None if ms is None else ms[:16])
            err = max(float(np.abs(post.level(lv) - ref[lv]).max()) for lv in range(L + 1))
            print(f"v=32 m=8 s=2 L={L} {what}: numba all levels {all_rate:7.0f} strings/s, "
                  f"root only {root_rate:7.0f} strings/s; numpy all levels {np_rate:6.1f} "
                  f"strings/s; ratio {all_rate / np_rate:5.1f}x; max |numba - numpy| = "
                  f"{err:.1e}")
            print(f"    per CPU-second: all levels {all_cpu:7.0f}, root only {root_cpu:7.0f} "
                  f"(x{args.threads} cores = uncontended estimate {all_cpu * args.threads:.0f}"
                  f" / {root_cpu * args.threads:.0f} strings/s)")
    for L in (6, 8):
        rows = []
        for n in (1000, 8000):
            out = subprocess.run(
                [sys.executable, __file__, "--child-memory", str(L), str(n)],
                capture_output=True, text=True, check=True,
                env={**os.environ, "NUMBA_NUM_THREADS": str(args.threads)},
            ).stdout.split()
            rows.append((n, float(out[0]), float(out[1])))
        text = ", ".join(f"n={n}: peak RSS {after:.0f} MiB (+{after - before:.1f} MiB over "
                         f"warm-up)" for n, before, after in rows)
        print(f"streamed BP, all levels, L={L}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
