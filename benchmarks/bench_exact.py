"""Benchmark of the exact margins of every level and context against the plain-NumPy path.

The plain-NumPy path is what the engine did before: the full context blocks of each level
and context (:func:`rhm_theory.exact.context_laws`), then a ``v x v`` distance matrix by
explicit differences, one row at a time. The fast path is
:func:`rhm_theory.exact.margin_summaries` (compressed vectors, half the pairs in numba).
Both run in this process on the same grammar; the script prints seconds, their ratio and
the largest difference of the margins (must be <= 1e-12). Also times the token
correlations of :func:`rhm_theory.exact.exact_report` (new path only: the old three-operand
einsum took minutes at ``v = 128``).

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_exact.py`` (one core; the default
sets one BLAS thread itself unless the variable is already set).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: one core, as measured

import argparse
import functools
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.exact import context_laws, margin_summaries, token_correlations
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.grammar import Grammar

__all__ = ["CONFIGS", "main", "numpy_margins"]

#: (v, m, L) of the issue's measurements (s = 2, seed 0).
CONFIGS = ((128, 16, 10), (64, 8, 12))


def _numpy_distances(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Full ``n x n`` matrix of explicit differences, row by row (the old engine)."""
    out = np.empty((x.shape[0], x.shape[0]))
    for a in range(x.shape[0]):
        out[a] = np.sqrt(((x - x[a]) ** 2).sum(axis=1))
    return out


def numpy_margins(grammar: Grammar) -> list[tuple[float, float, float]]:
    """(min, mean, max) over present pairs for every context (outer) and level (inner)."""
    out = []
    for kind in ("latent", "token", "label"):
        for level in range(1, grammar.params.L):
            laws = context_laws(grammar, level, kind)
            present = np.flatnonzero(laws.present)
            d = _numpy_distances(laws.vectors)[np.ix_(present, present)]
            pairs = d[np.triu_indices(len(present), k=1)]
            out.append((float(pairs.min()), float(pairs.mean()), float(pairs.max())))
    return out


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Best wall-clock and best CPU seconds of ``repeats`` runs, and the result."""
    best, best_cpu, result = np.inf, np.inf, None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per configuration."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of N for the fast path")
    args = parser.parse_args(argv)
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} "
          "(timings on a shared machine are inflated by contention)")
    warm = random_grammar(RHMParams(8, 2, 2, 3), seed=0)
    margin_summaries(warm)  # compile / load the numba kernel outside the timings
    for v, m, L in CONFIGS:
        g = random_grammar(RHMParams(v, m, 2, L), seed=0)
        t_np, c_np, ref = _best(functools.partial(numpy_margins, g), 1)
        t_fast, c_fast, fast = _best(functools.partial(margin_summaries, g), args.repeats)
        err = max(abs(a - b) for r, f in zip(ref, fast, strict=True)
                  for a, b in zip(r, (f.margin_min, f.margin_mean, f.margin_max), strict=True))
        t_corr, c_corr, _ = _best(functools.partial(token_correlations, g), 1)
        print(f"v={v} m={m} s=2 L={L}, {len(fast)} (level, context) margins: numpy "
              f"{t_np:6.2f} s (CPU {c_np:6.2f} s), fast {t_fast:6.3f} s (CPU {c_fast:6.3f} s), "
              f"ratio {t_np / t_fast:6.1f}x, max |fast - numpy| = {err:.1e}; token "
              f"correlations (all LCA levels) {t_corr:5.2f} s (CPU {c_corr:5.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
