"""End-to-end ILC time and peak memory against P and L, and the numba counting kernel
against a plain-NumPy counter run in the same process.

The merge step of ILC (G-tests between clusters) against the plain-NumPy reference too.

Usage: python benchmarks/bench_ilc.py [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np

from rhm_theory.algorithms import IterativeLatentClustering, score_levels
from rhm_theory.empirical import ContextCounts
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.algorithms.merge import merge_indistinguishable
from rhm_theory.model.sampling import iter_samples, sample
from rhm_theory.testing.reference import merge_indistinguishable_numpy


def numpy_latent_counts(tokens: np.ndarray, s: int, v: int) -> np.ndarray:
    """Level-1 latent-context counts with plain NumPy (bincount over flat indices)."""
    P, n = tokens.shape
    t = tokens.reshape(P, n // s, s).astype(np.int64)
    codes = (t * v ** np.arange(s - 1, -1, -1)).sum(axis=-1)  # (P, nodes)
    counts = np.zeros((s, v**s, (s - 1) * s, v), dtype=np.int64)
    nodes = n // s
    for k in range(nodes):
        j, first = k % s, k - k % s
        slot = 0
        for jp in range(s):
            if jp == j:
                continue
            for r in range(s):
                ctx = t[:, first + jp, r]
                flat = np.bincount(codes[:, k] * v + ctx, minlength=v**s * v)
                counts[j, :, slot * s + r, :] += flat.reshape(v**s, v)
            slot += 1
    return counts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fit_once(L: int, P: int) -> tuple[float, float, float]:
    """Run in a fresh process: fit time, this process's peak RSS and min accuracy."""
    v, m, s = 16, 4, 2
    g = random_grammar(RHMParams(v, m, s, L), seed=0)
    IterativeLatentClustering(v, s, L).fit(sample(g, 100, seed=9).tokens)  # compile/load
    t0 = time.perf_counter()
    model = IterativeLatentClustering(v, s, L).fit(
        lambda: iter_samples(g, P, seed=1, chunk_size=65536))
    dt = time.perf_counter() - t0
    acc = min(sc.accuracy for sc in score_levels(model, g, n_test=1000))
    return dt, peak_rss_mb(), acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    args = ap.parse_args()
    v, m, s = 16, 4, 2

    # 1. Counting kernel vs plain NumPy on one in-memory batch.
    g = random_grammar(RHMParams(v, m, s, 6), seed=0)
    x = sample(g, 200_000 if args.quick else 1_000_000, seed=1).tokens
    ContextCounts(s, 1, "latent", v, v).update(x[:100])  # compile
    t0 = time.perf_counter()
    fast = ContextCounts(s, 1, "latent", v, v).update(x).counts_
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = numpy_latent_counts(x, s, v)
    t_slow = time.perf_counter() - t0
    assert np.array_equal(fast, slow), "numba and NumPy counts disagree"
    print(f"level-1 latent counts, P={len(x)}, L=6: numba {t_fast:.3f} s, NumPy {t_slow:.3f} s, "
          f"ratio {t_slow / t_fast:.1f}x (identical counts)")

    # 1b. Large v: a grammar level uses v m of the v^s tuple codes, and the accumulator
    # keeps a row per code seen; the dense tensor (what NumPy builds) grows as v^(s+1).
    gv = random_grammar(RHMParams(192, 3, s, 5), seed=0)
    xv = sample(gv, 5_000 if args.quick else 20_000, seed=1).tokens
    ContextCounts(s, 1, "latent", 192, 192).update(xv[:100])
    t0 = time.perf_counter()
    accv = ContextCounts(s, 1, "latent", 192, 192).update(xv)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slowv = numpy_latent_counts(xv, s, 192)
    t_slow = time.perf_counter() - t0
    assert np.array_equal(accv.counts_, slowv), "numba and NumPy counts disagree"
    print(f"level-1 latent counts, v=192, m=3, P={len(xv)}, L=5 ({accv.observed_codes().size} "
          f"of {192**s} tuple codes seen): numba {t_fast:.3f} s, NumPy {t_slow:.3f} s, ratio "
          f"{t_slow / t_fast:.1f}x (identical counts)")

    # 1c. The merge step (G-tests between clusters) vs the plain-NumPy reference, on the
    # per-tuple counts of one level-1 accumulator whose clustering split every cluster.
    acc = ContextCounts(s, 1, "latent", v, v).update(x[:20_000])
    codes, _ = acc.vectors()
    per_tuple = acc.tuple_tables(codes)
    labels = g.parent_codes(1, codes).astype(np.int64) * 2 + np.arange(len(codes)) % 2
    merge_indistinguishable(per_tuple[:4], labels[:4], 4.0)  # compile
    t0 = time.perf_counter()
    fast_m = merge_indistinguishable(per_tuple, labels, 4.0)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow_m = merge_indistinguishable_numpy(per_tuple, labels, 4.0)
    t_slow = time.perf_counter() - t0
    same = "identical labels" if np.array_equal(fast_m, slow_m) else "LABELS DIFFER"
    print(f"merge step, {len(codes)} tuples in {len(np.unique(labels))} clusters: numba "
          f"{t_fast:.3f} s, NumPy {t_slow:.3f} s, ratio {t_slow / t_fast:.1f}x ({same})")

    # 2. End-to-end ILC (streamed) against P and L, each in a fresh process so that the
    #    peak resident memory is the fit's own.
    Ps = [10**4, 10**5, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7]
    print(f"\n{'L':>3} {'P':>10} {'fit_s':>8} {'peak_rss_MB':>12} {'min_acc':>8}")
    ctx = mp.get_context("spawn")
    for L in (4, 6, 8):
        for P in Ps:
            if L == 8 and P > 10**6:
                continue
            with ctx.Pool(1) as pool:
                dt, rss, acc = pool.apply(_fit_once, (L, P))
            print(f"{L:>3} {P:>10} {dt:>8.2f} {rss:>12.0f} {acc:>8.3f}")


if __name__ == "__main__":
    main()
