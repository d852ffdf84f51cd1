"""Time eps_c of random v=16, m=4, s=2 grammars on one core (warm), both channels.

Run: ``python benchmarks/bench_threshold.py``. One numba thread (set before numba loads);
the first call compiles (or loads the cache) and is not timed. CPU seconds of the process are
the uncontended figure on a shared machine; wall seconds are printed beside them.
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"

import time

from rhm_theory.inference.population_dynamics import (
    inference_threshold,
    mean_field_threshold,
)
from rhm_theory.model import RHMParams, random_grammar


def main() -> None:
    """Print eps_c, bracket, confirmation and timing per grammar seed and channel."""
    warm = random_grammar(RHMParams(v=16, m=4, s=2, L=8), seed=99)
    inference_threshold(warm, "noise", tol=0.2, n_pop=50)  # compile / load the cache
    for channel in ("noise", "mask"):
        for seed in range(3):
            g = random_grammar(RHMParams(v=16, m=4, s=2, L=8), seed=seed)
            c0, w0 = time.process_time(), time.perf_counter()
            th = inference_threshold(g, channel, tol=0.01)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            print(f"{channel} seed {seed}: eps_c {th.eps_c:.4f} [{th.lo:.4f}, {th.hi:.4f}] "
                  f"confirmed={th.confirmed} map {mean_field_threshold(16, 4, 2, channel):.4f}"
                  f"  cpu {cpu:.2f} s  wall {wall:.2f} s  ({len(th.trace)} runs)")


if __name__ == "__main__":
    main()
