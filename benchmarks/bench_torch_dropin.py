"""The drop-in RandomHierarchyModel against a plain reimplementation of the community's sampling
loop, side by side in one process: time and peak memory (resident set, polled) as ratios.

    PYTHONPATH=$PWD python benchmarks/bench_torch_dropin.py [--P 1000000] [--L 8]

The community loop (``sample_rules`` + ``sample_with_replacement`` as published: a seeded
``torch.Generator`` draws the labels, then one ``randint`` per level gathered in int64 rule
tensors; ``input_format="long"`` adds one) is written out below from its algorithm. The
drop-in with ``sampler="community"`` gives the same tensors (checked here, chunk by chunk);
``sampler="rhm_theory"`` is the library's numba sampler (other strings, same law).
"""

from __future__ import annotations

import argparse
import gc
import random
import threading
import time
from collections.abc import Callable
from itertools import product
from typing import Any

import torch

from rhm_theory.torch import RandomHierarchyModel


def community_loop(v: int, n: int, m: int, s: int, L: int, seed_rules: int, seed_sample: int,
                   P: int) -> tuple[torch.Tensor, torch.Tensor]:
    """sample_rules + sample_with_replacement + the "long" format, as the community runs it."""
    state = random.getstate()
    random.seed(seed_rules)
    tuples = list(product(*[range(v) for _ in range(s)]))
    rules = {0: torch.tensor(random.sample(tuples, n * m)).reshape(n, m, -1)}
    for i in range(1, L):
        rules[i] = torch.tensor(random.sample(tuples, v * m)).reshape(v, m, -1)
    random.setstate(state)
    g = torch.Generator()
    g.manual_seed(seed_sample)
    y = torch.randint(low=0, high=n, size=(P,), generator=g)
    x = y
    for i in range(L):
        chosen = torch.randint(low=0, high=rules[i].shape[1], size=x.shape, generator=g)
        x = rules[i][x, chosen].flatten(start_dim=1)
    return x.long() + 1, y


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def measured(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """Run fn once; its wall time and its peak resident memory above the start (polled)."""
    gc.collect()
    base = peak = _rss()
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss())
            time.sleep(0.002)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t0
    peak = max(peak, _rss())
    done.set()
    thread.join()
    return out, elapsed, peak - base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--P", type=int, default=1_000_000)
    ap.add_argument("--v", type=int, default=8)
    ap.add_argument("--m", type=int, default=2)
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--n-c", type=int, default=8)
    args = ap.parse_args()
    v, n, m, s, L, P = args.v, args.n_c, args.m, 2, args.L, args.P
    print(f"v={v} n_c={n} m={m} s={s} L={L} P={P:_} (torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch threads)")
    # Compile the numba kernels outside the measurement.
    RandomHierarchyModel(v, n, m, s, L, 0, 1, 10, 0, "long", replacement=True,
                         sampler="rhm_theory")

    def dropin(sampler: str) -> Callable[[], RandomHierarchyModel]:
        return lambda: RandomHierarchyModel(v, n, m, s, L, 0, 1, P, 0, "long",
                                            replacement=True, sampler=sampler)

    rows = []
    d, t_ours, mem_ours = measured(dropin("community"))
    rows.append(("drop-in, sampler=community (same data)", t_ours, mem_ours))
    fast, t_fast, mem_fast = measured(dropin("rhm_theory"))
    rows.append(("drop-in, sampler=rhm_theory", t_fast, mem_fast))
    del fast
    (ref_x, ref_y), t_ref, mem_ref = measured(lambda: community_loop(v, n, m, s, L, 0, 1, P))
    rows.append(("community sampling loop (torch)", t_ref, mem_ref))
    same = torch.equal(d.labels, ref_y) and all(
        torch.equal(d.tokens[a:a + 65536].long() + 1, ref_x[a:a + 65536])
        for a in range(0, P, 65536))
    print(f"drop-in data identical to the community loop's: {same}")
    print(f"{'':42s} {'time (s)':>9s} {'peak RSS (MB)':>14s} {'time ratio':>11s} "
          f"{'memory ratio':>13s}")
    for name, t, mem in rows:
        print(f"{name:42s} {t:9.2f} {mem / 2**20:14.0f} {t_ref / t:10.1f}x "
              f"{mem_ref / max(mem, 1):12.1f}x")
    print("(ratios: community loop / row; the drop-in stores uint8 tokens and encodes in "
          "__getitem__, the community stores int64 features)")


if __name__ == "__main__":
    main()
