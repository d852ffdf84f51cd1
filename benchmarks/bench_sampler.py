"""Benchmark of the numba RHM sampler against a plain-NumPy gather sampler, uniform and weighted."""

from __future__ import annotations

import argparse
import functools
import gc
import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from rhm_theory.model import RHMParams, random_grammar, zipf_probs, zipf_rule_probs
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.sampling import iter_samples, sample

__all__ = ["main", "measure", "numpy_sample"]

MiB = 2**20


def numpy_sample(
    grammar: Grammar, P: int, rng: np.random.Generator, chunk: int = 2**15
) -> npt.NDArray[Any]:
    """Plain-NumPy reference sampler: root, then one gather per level, in row chunks.

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    P : int
        Number of strings.
    rng : numpy.random.Generator
        Source of randomness.
    chunk : int
        Rows per chunk (bounds the temporaries).

    Returns
    -------
    ndarray
        Tokens, shape ``(P, s**L)``, in the grammar's dtype.
    """
    p = grammar.params
    tables = [grammar.rules_of(level).astype(p.dtype) for level in range(1, p.L + 1)]
    out = np.empty((P, p.string_length), dtype=p.dtype)
    for lo in range(0, P, chunk):
        n = min(chunk, P - lo)
        cur = rng.integers(p.n_c, size=(n, 1), dtype=np.int64)
        for level in range(p.L, 0, -1):
            r = rng.integers(p.m, size=cur.shape, dtype=np.int64)
            cur = tables[level - 1][cur, r].reshape(n, -1)
        out[lo : lo + n] = cur
    return out


def _hwm_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets the peak RSS (VmHWM) to the current RSS
        return True
    except OSError:
        return False


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(fn: Callable[[], Any]) -> dict[str, float | None]:
    """Run ``fn`` once; wall time, tracemalloc peak and RSS high-water delta (MiB)."""
    gc.collect()
    can_reset = _hwm_reset()
    rss0 = _status_kib("VmRSS")
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = _status_kib("VmHWM")
    del result
    rss_peak = (hwm - rss0) / 1024 if can_reset and hwm is not None and rss0 else None
    return {"seconds": elapsed, "tracemalloc_MiB": peak / MiB, "rss_peak_MiB": rss_peak}


def _best(fn: Callable[[], Any], repeats: int) -> dict[str, float | None]:
    runs = [measure(fn) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"] or 0.0)
    return best


def _stream(grammar: Grammar, P: int, chunk: int) -> int:
    total = 0
    for part in iter_samples(grammar, P, seed=7, chunk_size=chunk):
        total += int(part.tokens[:, 0].sum())  # touch the data, keep nothing
    return total


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


_EPILOG = """\
examples:
  python benchmarks/bench_sampler.py          # v=32 m=8 s=2 L=8, P=1e6, stream up to 1e8
  python benchmarks/bench_sampler.py --quick  # stream up to 1e7 only

Peak memory is reported two ways: tracemalloc (sees every NumPy array allocation; the
numba kernels allocate nothing, they write into NumPy-allocated output) and the resident
set high-water mark (VmHWM of /proc/self/status, reset before each measurement through
/proc/self/clear_refs; Linux only, n/a elsewhere).
"""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").strip(),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--v", type=int, default=32)
    ap.add_argument("--m", type=int, default=8)
    ap.add_argument("--s", type=int, default=2)
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--P", type=int, default=10**6, help="strings for the in-memory race")
    ap.add_argument("--repeats", type=int, default=3, help="numba timings (best of)")
    ap.add_argument("--numpy-P", type=int, default=None, help="strings for NumPy (default P)")
    ap.add_argument("--chunk", type=int, default=2**16, help="chunk size when streaming")
    ap.add_argument(
        "--stream", type=int, nargs="*", default=None,
        help="stream sizes (default 1e6 1e7 1e8; --quick: 1e6 1e7)",
    )  # fmt: skip
    ap.add_argument("--quick", action="store_true", help="smaller streaming sizes")
    ap.add_argument(
        "--zipf", type=float, default=1.0,
        help="Zipf exponent a of the weighted grammar (rules and root) in the weighted race",
    )  # fmt: skip
    args = ap.parse_args(argv)

    params = RHMParams(v=args.v, m=args.m, s=args.s, L=args.L)
    grammar = random_grammar(params, seed=0)
    P = args.P
    out_mib = P * params.string_length * params.dtype.itemsize / MiB
    print(
        f"RHM v={params.v} m={params.m} s={params.s} L={params.L}: {params.string_length} "
        f"tokens/string, dtype {params.dtype.name}; threads={numba.get_num_threads()} "
        f"(cpus={os.cpu_count()})"
    )
    t0 = time.perf_counter()
    sample(grammar, 16, seed=0)  # compile or load the cached kernels
    print(f"warm-up (JIT compile / cache load): {time.perf_counter() - t0:.2f} s")

    nb_res = _best(lambda: sample(grammar, P, seed=1), args.repeats)
    P_np = args.numpy_P or P
    rng = np.random.default_rng(1)
    np_res = measure(lambda: numpy_sample(grammar, P_np, rng))
    tok_nb = P * params.string_length / float(nb_res["seconds"] or 1.0)
    tok_np = P_np * params.string_length / float(np_res["seconds"] or 1.0)

    rows = [
        ("numba sample()", P, nb_res, tok_nb),
        ("numpy gather", P_np, np_res, tok_np),
    ]
    print(f"\nin-memory, output = {out_mib:.0f} MiB at P={P}")
    print(f"{'sampler':<16} {'P':>11} {'seconds':>9} {'tokens/s':>10} "
          f"{'tracemalloc MiB':>16} {'RSS peak MiB':>13}")  # fmt: skip
    for name, n, res, tps in rows:
        print(
            f"{name:<16} {n:>11,} {_fmt(res['seconds'], '.3f'):>9} {tps:>10.3e} "
            f"{_fmt(res['tracemalloc_MiB'], '.1f'):>16} {_fmt(res['rss_peak_MiB'], '.1f'):>13}"
        )
    print(f"speed-up numba / numpy (tokens/s): {tok_nb / tok_np:.1f}x")
    peak = nb_res["tracemalloc_MiB"] or 0.0
    print(f"numba peak / output: {peak / out_mib:.2f} (tracemalloc)")

    # Weighted grammar (docs/theory.md section 9): same rules, Zipf rule weights and root prior,
    # sampled through the alias-table kernel. Same P, same process, interleaved repeats.
    weighted = grammar.with_probs(
        rule_probs=zipf_rule_probs(params, args.zipf), root_probs=zipf_probs(params.n_c, args.zipf)
    )
    sample(weighted, 16, seed=0)
    uni_t, w_t = [], []
    for _ in range(args.repeats):
        uni_t.append(float(measure(lambda: sample(grammar, P, seed=2))["seconds"] or 0.0))
        w_t.append(float(measure(lambda: sample(weighted, P, seed=2))["seconds"] or 0.0))
    ratio = min(w_t) / min(uni_t)
    print(f"\nweighted (zipf:{args.zipf} rules and root) vs uniform, P={P}, best of "
          f"{args.repeats}: {min(w_t):.3f} s vs {min(uni_t):.3f} s; ratio {ratio:.2f}x "
          f"(target <= 1.5x)")

    sizes = args.stream
    if sizes is None:
        sizes = [10**6, 10**7] if args.quick else [10**6, 10**7, 10**8]
    print(f"\nstreaming iter_samples(chunk_size={args.chunk}), tokens only")
    print(f"{'P':>13} {'seconds':>9} {'tokens/s':>10} {'tracemalloc MiB':>16} {'RSS peak MiB':>13}")
    for n in sizes:
        res = measure(functools.partial(_stream, grammar, n, args.chunk))
        tps = n * params.string_length / float(res["seconds"] or 1.0)
        print(
            f"{n:>13,} {_fmt(res['seconds'], '.2f'):>9} {tps:>10.3e} "
            f"{_fmt(res['tracemalloc_MiB'], '.1f'):>16} {_fmt(res['rss_peak_MiB'], '.1f'):>13}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
