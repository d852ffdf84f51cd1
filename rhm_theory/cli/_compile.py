"""First-run notice of the CLI: say when numba kernels must be compiled (cold cache)."""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["COMPILE_SECONDS", "KERNEL_MODULES", "compile_notice", "estimate_seconds",
           "kernels_cached"]

#: The modules whose numba kernels each command path compiles on a cold cache.
KERNEL_MODULES: dict[str, tuple[str, ...]] = {
    "sweep": ("rhm_theory.model.sampling", "rhm_theory.empirical.counts"),
    "sample": ("rhm_theory.model.sampling",),
    "bp": ("rhm_theory.model.sampling", "rhm_theory.inference.bp",
           "rhm_theory.inference.corruption"),
}
#: About how long the first run compiles on an idle 2-core machine (shown in the notice,
#: scaled by the load): bp 18.2 s cold - 1.8 s warm at load 1 (docs/cli.md, "First run");
#: the sweep's kernels compiled in 5.4 s under load (``rhm-theory warmup``), rounded up.
COMPILE_SECONDS: dict[str, int] = {"sweep": 10, "sample": 10, "bp": 15}


def _index_paths(module_name: str) -> list[str]:
    from numba.core.registry import CPUDispatcher

    paths = []
    for obj in vars(importlib.import_module(module_name)).values():
        if isinstance(obj, CPUDispatcher):
            cache_file = getattr(getattr(obj, "_cache", None), "_cache_file", None)
            index = getattr(cache_file, "_index_path", None)
            if isinstance(index, str):
                paths.append(index)
    return paths


def kernels_cached(path: str) -> bool:
    """Whether numba's on-disk cache (``NUMBA_CACHE_DIR``, else ``__pycache__``) holds the
    kernels of the command path ``path`` (a :data:`KERNEL_MODULES` key).

    Only the kernels a path calls get a cache index (helpers are compiled into their
    callers, some kernels serve other paths), so a module counts as cached when any of its
    kernels has one: a cold cache has none.
    """
    return all(any(os.path.exists(p) for p in _index_paths(m)) for m in KERNEL_MODULES[path])


def compile_notice(path: str, quiet: bool) -> bool:
    """Print "compiling kernels (first run only, about N s)" on stderr when the cache of
    ``path`` is cold and ``quiet`` is false; return whether the cache was cold."""
    cold = not kernels_cached(path)
    if cold and not quiet:
        print(f"compiling kernels (first run only, about {estimate_seconds(path)} s; "
              "`rhm-theory warmup` does it ahead)", file=sys.stderr, flush=True)
    return cold


def estimate_seconds(path: str) -> int:
    """:data:`COMPILE_SECONDS` of ``path`` scaled by how busy the CPUs are (compilation is
    single-threaded, so a load above the core count slows it about proportionally)."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        load = 0.0
    return round(COMPILE_SECONDS[path] * max(1.0, load))
