"""Measure the per-token rates behind the CLI's estimates (``rhm_theory.cost``).

Times the sampler (strings x tokens), exact BP (strings x tokens x v m) and ILC's fit
(strings x tokens) on a few small grammars, after a warm-up that compiles or loads the
kernels, and prints each rate with the machine's load. Usage:

    python benchmarks/cli_cost_model.py
"""

from __future__ import annotations

import os
import platform
import time

from rhm_theory.algorithms import IterativeLatentClustering
from rhm_theory.inference.baselines import bayes_baselines
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.sampling import iter_samples, sample

__all__ = ["main"]


def _time(fn: object, *args: object, **kwargs: object) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    """Print seconds per unit of each estimate, one line per grammar."""
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}")
    for v, m, L, n_sample, n_bp, P in [(8, 2, 3, 400_000, 4000, 20000),
                                       (16, 4, 4, 200_000, 2000, 40000),
                                       (32, 8, 5, 100_000, 500, 20000)]:
        p = RHMParams(v, m, 2, L)
        g = random_grammar(p, 0)
        sample(g, 100, 0)
        bayes_baselines(g, 8, 0)
        tokens = p.s**L
        ts = _time(sample, g, n_sample, 1)
        tb = _time(bayes_baselines, g, n_bp, 1)
        model = IterativeLatentClustering.from_params(p)
        tf = _time(model.fit, lambda: iter_samples(g, P, 1))
        print(f"v={v} m={m} L={L}: sample {ts / (n_sample * tokens):.3g} s/token, "
              f"bp {tb / (n_bp * tokens * v * m):.3g} s/(token v m), "
              f"ilc {tf / (P * tokens):.3g} s/token (+fixed)")


if __name__ == "__main__":
    main()
