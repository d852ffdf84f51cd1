"""Plans of neural runs: cost from measured per-step times, budget check, resumable execution."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhm_theory.io import write_json
from rhm_theory.validation import check_choice, check_float, check_int

__all__ = [
    "DEFAULT_STEP_SECONDS",
    "METHOD_PRIORITY",
    "REDUCTIONS",
    "BudgetExceeded",
    "Plan",
    "StepTime",
    "fit_plan",
    "load_step_times",
    "make_plan",
    "measure_default_step_times",
    "measure_step_times_concurrent",
    "plan_hours",
    "run_plan",
]

_PLAN_FORMAT = 1


@dataclass(frozen=True)
class StepTime:
    """Seconds per training step of one method on one device kind, and where it comes from.

    Attributes
    ----------
    seconds : float
        Per-step time of one run when ``concurrency`` runs share the device.
    source : str
        How the number was obtained (a measurement, or why it is an assumption).
    measured : bool
        False for an assumption (never measured on this device kind).
    concurrency : int
        Runs sharing the device during the measurement.
    """

    seconds: float
    source: str
    measured: bool
    concurrency: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return dict(self.__dict__)


_CPU_SOURCE = ("measured 2026-12-01 by benchmarks/neural_cpu_evidence.py (median of 3 blocks "
               "of 10 steps, batch 256, L = 6) on the shared 2-core development machine at "
               "load average ~8: inflated by contention")

#: Per-step times of the full grid's models (L = 6, batch 256, the grid's largest
#: strings: an upper bound for smaller L). CPU: measured, see ``_CPU_SOURCE`` (the
#: stop-gradient arm was not timed separately and is charged as ``slc``). CUDA: NEVER
#: MEASURED: no GPU was available when this was written; the values are placeholders that
#: ``plan`` flags in every output. Run ``benchmarks/gpu_decide.sh`` and pass its result
#: folder with ``--step-times`` (:func:`load_step_times`).
DEFAULT_STEP_SECONDS: dict[tuple[str, str], StepTime] = {
    ("cpu", "data2vec"): StepTime(4.66, _CPU_SOURCE, True),
    ("cpu", "mlm"): StepTime(5.57, _CPU_SOURCE, True),
    ("cpu", "slc"): StepTime(1.23, _CPU_SOURCE, True),
    ("cpu", "slc-sg"): StepTime(1.23, "ASSUMED equal to slc's CPU time (not timed)", False),
    **{
        ("cuda", meth): StepTime(
            0.02,
            "ASSUMED: never measured on a GPU (placeholder; run benchmarks/gpu_decide.sh "
            "and pass its folder as --step-times)",
            False,
        )
        for meth in ("data2vec", "mlm", "slc", "slc-sg")
    },
}


class BudgetExceeded(ValueError):
    """A plan whose estimated device-hours exceed the budget."""


def plan_hours(
    runs: Sequence[Mapping[str, Any]],
    step_times: Mapping[str, StepTime],
    runs_per_device: int,
    overhead_seconds: float,
) -> float:
    """Estimated wall-clock hours of ``runs`` on one device.

    ``sum over runs of (steps * t_method + overhead) / runs_per_device / 3600``, where
    ``t_method`` is the per-step time measured with ``runs_per_device`` runs sharing the
    device (so the division is the concurrency actually bought) and ``overhead`` covers
    data, probes and start-up of one run.

    >>> t = {"mlm": StepTime(0.01, "test", True, 2)}
    >>> plan_hours([{"method": "mlm", "steps": 3600}] * 4, t, 2, 0.0)  # 4 * 36 s / 2
    0.02
    """
    k = check_int("runs_per_device", runs_per_device, minimum=1)
    check_float("overhead_seconds", overhead_seconds, minimum=0.0)
    total = 0.0
    for r in runs:
        total += int(r["steps"]) * step_times[str(r["method"])].seconds + overhead_seconds
    return round(total / k / 3600.0, 12)


@dataclass
class Plan:
    """A list of runs with its estimated cost."""

    device: str
    grid: str
    runs: list[dict[str, Any]]
    step_times: dict[str, StepTime]
    runs_per_device: int
    overhead_seconds: float
    hours: float
    budget_hours: float | None
    accuracy_fractions: tuple[float, ...] = (0.5,)
    notes: list[str] = field(default_factory=list)

    @property
    def unmeasured(self) -> list[str]:
        """Methods whose per-step time on this device kind was never measured."""
        return sorted(m for m, t in self.step_times.items() if not t.measured)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (the plan file)."""
        return {
            "format": _PLAN_FORMAT, "device": self.device, "grid": self.grid,
            "n_runs": len(self.runs), "estimated_hours": self.hours,
            "budget_hours": self.budget_hours, "runs_per_device": self.runs_per_device,
            "overhead_seconds": self.overhead_seconds,
            "step_times": {k: v.to_dict() for k, v in self.step_times.items()},
            "never_measured_on_device": self.unmeasured,
            "accuracy_fractions": list(self.accuracy_fractions),
            "notes": self.notes, "runs": self.runs,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Plan:
        """Inverse of :meth:`to_dict`."""
        if d.get("format") != _PLAN_FORMAT:
            raise ValueError("not a rhm_theory neural plan (format field missing or unknown)")
        return cls(
            device=d["device"], grid=d["grid"], runs=list(d["runs"]),
            step_times={k: StepTime(**v) for k, v in d["step_times"].items()},
            runs_per_device=int(d["runs_per_device"]),
            overhead_seconds=float(d["overhead_seconds"]), hours=float(d["estimated_hours"]),
            budget_hours=None if d["budget_hours"] is None else float(d["budget_hours"]),
            accuracy_fractions=tuple(d.get("accuracy_fractions", (0.5,))),
            notes=list(d.get("notes", [])),
        )


def load_step_times(
    path: str | Path, device: str, batch_size: int | None = None, L: int | None = None
) -> dict[str, StepTime]:
    """Per-step times measured on ``device``, in place of the placeholders.

    ``path`` is a ``step_times.json`` written by ``rhm-theory neural bench``, one
    ``bench_<method>.json`` written by :mod:`rhm_theory.neural.gpu_decide`, or a folder of
    the latter (a ``gpu_decide`` result folder). Each file lists ``{"method",
    "batch_size", "concurrency", "seconds"}`` entries (``gpu_decide``'s also carry ``L``);
    entries at another ``batch_size`` or ``L`` (when given) are ignored; per method the
    entry at the largest concurrency, then the largest ``L`` (the placeholders are for the
    grid's deepest strings, an upper bound) is kept.

    Raises
    ------
    ValueError
        If a file was measured on another device kind, or a folder holds no bench file.
    """
    p = Path(path)
    files = sorted(p.glob("bench_*.json")) if p.is_dir() else [p]
    if not files:
        raise ValueError(f"{path}: no bench_<method>.json file (a gpu_decide result folder)")
    out: dict[str, StepTime] = {}
    rank: dict[str, tuple[int, int]] = {}
    for f in files:
        doc = json.loads(f.read_text())
        if doc.get("device_type") != device:
            raise ValueError(f"{f} was measured on {doc.get('device_type')!r}, not {device!r}")
        for entry in doc["measurements"]:
            if batch_size is not None and int(entry["batch_size"]) != batch_size:
                continue
            depth = int(entry.get("L", 0))
            if L is not None and "L" in entry and depth != L:
                continue
            meth, k = entry["method"], int(entry["concurrency"])
            if meth not in out or (k, depth) >= rank[meth]:
                where = f" at L = {depth}" if "L" in entry else ""
                out[meth] = StepTime(float(entry["seconds"]),
                                     f"measured{where} by {f.name} on {doc.get('device_name')}",
                                     True, k)
                rank[meth] = (k, depth)
    return out


def make_plan(
    device: str,
    budget_hours: float | None,
    *,
    grid: str = "full",
    methods: Sequence[str] = ("data2vec", "mlm", "slc", "slc-sg"),
    runs_per_device: int = 4,
    step_times: Mapping[str, StepTime] | None = None,
    overhead_seconds: float = 20.0,
    enforce_budget: bool = True,
    grid_overrides: Mapping[str, Any] | None = None,
) -> Plan:
    """The runs of ``grid`` for ``methods`` with their estimated hours on ``device``.

    Parameters
    ----------
    device : {"cpu", "cuda"}
    budget_hours : float or None
        Refuse (:class:`BudgetExceeded`) a plan estimated above it; ``None``: no budget.
    grid : {"quick", "small", "full"}
        :func:`rhm_theory.neural.experiments.scaling_grid` (the plan records the current
        name; the old names warn, :func:`rhm_theory.neural.grids.scaling_grid_name`).
    methods : sequence of str
    runs_per_device : int
        Runs executed at once (processes) on the device.
    step_times : mapping or None
        Per-method :class:`StepTime`; missing methods use :data:`DEFAULT_STEP_SECONDS`
        (whose CUDA entries were never measured: the plan says so).
    overhead_seconds : float
        Per-run fixed cost (grammar, probe data, probes; an estimate, not measured).
    enforce_budget : bool
        Raise when over budget (False: return the plan anyway, e.g. to print it).
    grid_overrides : mapping or None
        Entries replacing those of the named grid (``seeds``, ``ms``, ``Ls``,
        ``P_stride``; see :func:`fit_plan`).

    Raises
    ------
    BudgetExceeded
        If the estimate exceeds ``budget_hours``.
    """
    from rhm_theory.neural.experiments import grid_runs, scaling_grid
    from rhm_theory.neural.grids import scaling_grid_name

    check_choice("device", device, ("cpu", "cuda"))
    grid = scaling_grid_name(grid)
    if budget_hours is not None:
        check_float("budget_hours", budget_hours, minimum=0.0, include_minimum=False)
    g = {**scaling_grid(grid), **(grid_overrides or {})}
    runs = [r.to_dict() for r in grid_runs(g, methods)]
    times = {m: (step_times or {}).get(m) or DEFAULT_STEP_SECONDS[(device, m)] for m in methods}
    # A time measured with k runs sharing the device is the per-run step time at that k;
    # a single-run time says nothing about sharing, so it is charged as if runs queued.
    k_eff = min([runs_per_device, *(t.concurrency for t in times.values())])
    hours = plan_hours(runs, times, k_eff, overhead_seconds)
    plan = Plan(device, grid, runs, dict(times), runs_per_device, overhead_seconds, hours,
                budget_hours, tuple(g["accuracy_fractions"]))
    if k_eff < runs_per_device:
        plan.notes.append(
            f"per-step times are for {k_eff} run(s) sharing the device; the estimate "
            f"assumes no speed-up from running {runs_per_device} at once")
    if plan.unmeasured:
        plan.notes.append(
            "per-step times NEVER MEASURED on " + device + " for: " + ", ".join(plan.unmeasured)
            + "; the estimate uses placeholders (run benchmarks/gpu_decide.sh, then "
            "--step-times <its result folder>)")
    if enforce_budget and budget_hours is not None and hours > budget_hours:
        raise BudgetExceeded(
            f"plan needs an estimated {hours:.2f} h on {device} (budget {budget_hours} h): "
            "raise --budget-hours, use fewer methods, or more runs per device")
    return plan


#: The order in which :func:`fit_plan` keeps methods: the SLC claim and its masked-LM
#: control first (the cheapest decisive pair), then data2vec, then the stop-gradient arm.
METHOD_PRIORITY = ("slc", "mlm", "data2vec", "slc-sg")

#: The reductions :func:`fit_plan` applies, cumulatively and in this order, until the plan
#: fits the budget: ``(label, grid overrides, methods kept)``; ``None`` keeps every method
#: asked for, an integer keeps that many of them in :data:`METHOD_PRIORITY` order. The
#: last step is the minimal decisive grid: two methods (a claim and its control), ``m =
#: 3``, three depths including ``L = 6`` (the two predictions differ by ``m^(L-2)``, up to
#: 81x), two grammar seeds (the bootstrap's minimum), every other ``P`` (a factor 4).
REDUCTIONS: tuple[tuple[str, dict[str, Any], int | None], ...] = (
    ("full grid", {}, None),
    ("2 grammar seeds", {"seeds": (0, 1)}, None),
    ("2 seeds, m = 3 only", {"seeds": (0, 1), "ms": (3,)}, None),
    ("2 seeds, m = 3, every other P", {"seeds": (0, 1), "ms": (3,), "P_stride": 2}, None),
    ("2 seeds, m = 3, every other P, 3 methods",
     {"seeds": (0, 1), "ms": (3,), "P_stride": 2}, 3),
    ("2 seeds, m = 3, every other P, 2 methods",
     {"seeds": (0, 1), "ms": (3,), "P_stride": 2}, 2),
    ("minimal decisive grid: 2 seeds, m = 3, L in {3, 4, 6}, every other P, 2 methods",
     {"seeds": (0, 1), "ms": (3,), "Ls": (3, 4, 6), "P_stride": 2}, 2),
)


def fit_plan(
    device: str,
    budget_hours: float,
    *,
    methods: Sequence[str] = METHOD_PRIORITY,
    runs_per_device: int = 4,
    step_times: Mapping[str, StepTime] | None = None,
    overhead_seconds: float = 20.0,
) -> Plan:
    """The most decisive plan of the full grid that fits ``budget_hours``.

    Tries the cumulative :data:`REDUCTIONS` in order (fewer seeds, one ``m``, fewer ``P``
    points, then fewer methods in :data:`METHOD_PRIORITY` order, then three depths) and
    returns the first plan whose estimate fits; its ``notes`` name the reduction.

    Raises
    ------
    BudgetExceeded
        If even the minimal decisive grid does not fit.
    """
    check_float("budget_hours", budget_hours, minimum=0.0, include_minimum=False)
    ordered = [m for m in METHOD_PRIORITY if m in methods]
    last: Plan | None = None
    for label, overrides, keep in REDUCTIONS:
        kept = ordered if keep is None else ordered[:keep]
        plan = make_plan(device, budget_hours, grid="full", methods=kept,
                         runs_per_device=runs_per_device, step_times=step_times,
                         overhead_seconds=overhead_seconds, enforce_budget=False,
                         grid_overrides=overrides)
        plan.notes.insert(0, f"reduction: {label} (methods {', '.join(kept)}; "
                          f"overrides {dict(overrides)})")
        if plan.hours <= budget_hours:
            return plan
        last = plan
    assert last is not None
    raise BudgetExceeded(
        f"even the minimal decisive grid needs an estimated {last.hours:.2f} h on {device} "
        f"(budget {budget_hours} h): raise --budget-hours or measure faster step times")


def _bench_one(args: tuple[str, str, int, int, int]) -> float:
    method, device, batch_size, repeats, threads = args
    import torch

    from rhm_theory.model.params import RHMParams
    from rhm_theory.model.spec import GrammarSpec
    from rhm_theory.neural.data import RHMBatches
    from rhm_theory.neural.experiments import build_model, scaling_grid
    from rhm_theory.neural.training import TrainConfig, measure_step_time, resolve_device

    if threads > 0:
        torch.set_num_threads(threads)
    g = scaling_grid("full")
    params = RHMParams(g["v"], max(g["ms"]), g["s"], max(g["Ls"]))
    dev = resolve_device(device)
    key = "data2vec" if method in ("data2vec", "mlm") else "slc"
    model = build_model(method, params, g[key], dev, seed=0)
    data = RHMBatches(GrammarSpec(params, "random", 0).build(), batch_size, seed=1, device=dev)
    cfg = TrainConfig(steps=1, lr=1e-3, log_every=10, warmup_steps=1)
    return measure_step_time(model, data, cfg, warmup=5, repeats=repeats)


def measure_default_step_times(
    device: str, *, batch_sizes: Sequence[int] = (256,), repeats: int = 5, threads: int = 0,
    methods: Sequence[str] = ("data2vec", "mlm", "slc"),
) -> dict[str, float]:
    """Per-step seconds of the full grid's models (``L = 6``), one run at a time.

    Returns ``{"<method>@<batch>": seconds}``.
    """
    return {f"{m}@{b}": _bench_one((m, device, int(b), repeats, threads))
            for m in methods for b in batch_sizes}


def measure_step_times_concurrent(
    device: str, *, methods: Sequence[str], batch_sizes: Sequence[int],
    concurrency: Sequence[int], repeats: int = 5, threads: int = 0,
) -> list[dict[str, Any]]:
    """Per-step seconds with ``k`` runs sharing the device (``k`` processes at once).

    Each entry: method, batch_size, concurrency, seconds (median over the ``k`` runs of
    their per-step time), throughput (steps per second of the whole device).
    """
    out = []
    ctx = mp.get_context("spawn")  # CUDA cannot be forked
    for meth in methods:
        for b in batch_sizes:
            for k in concurrency:
                job = (meth, device, b, repeats, threads)
                if k == 1:  # in process: no start-up of a worker
                    per = [_bench_one(job)]
                else:
                    with ProcessPoolExecutor(max_workers=k, mp_context=ctx) as pool:
                        per = sorted(pool.map(_bench_one, [job] * k))
                sec = per[len(per) // 2]
                out.append({"method": meth, "batch_size": b, "concurrency": k,
                            "seconds": sec, "throughput_steps_per_s": k / sec})
    return out


def _run_one(args: tuple[dict[str, Any], str, str, int]) -> tuple[str, float]:
    spec_d, device, folder, threads = args
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    from rhm_theory.neural.experiments import RunSpec, execute_run

    spec = RunSpec.from_dict(spec_d)
    t0 = time.perf_counter()
    execute_run(spec, device=device, checkpoint_dir=folder, checkpoint_every=1000)
    return spec.name, time.perf_counter() - t0


def run_plan(
    plan: Plan,
    out_dir: str | Path,
    *,
    device: str | None = None,
    workers: int | None = None,
    threads: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Execute ``plan`` resumably; return every run's rows plus the threshold rows.

    Runs go to ``workers`` processes at once (default: the plan's runs per device);
    ``out_dir/runs`` holds one checkpoint and one finished-rows file per run, so a killed
    plan resumes where it stopped. All rows are also written to ``out_dir/rows.json``.
    """
    from rhm_theory.neural.experiments import RunSpec, add_thresholds, execute_run

    folder = Path(out_dir) / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    dev = device or plan.device
    k = check_int("workers", workers if workers is not None else plan.runs_per_device,
                  minimum=1)
    names = [RunSpec.from_dict(r).name for r in plan.runs]
    todo = [r for r, n in zip(plan.runs, names, strict=True)
            if not (folder / f"{n}.json").exists()]
    if progress is not None:
        progress(f"{len(plan.runs) - len(todo)} of {len(plan.runs)} runs already done")
    jobs = [(r, dev, str(folder), threads) for r in todo]
    if k == 1:
        for j in jobs:
            name, sec = _run_one(j)
            if progress is not None:
                progress(f"done {name} ({sec:.0f} s)")
    else:
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=k, mp_context=ctx) as pool:
            for fut in as_completed([pool.submit(_run_one, j) for j in jobs]):
                name, sec = fut.result()
                if progress is not None:
                    progress(f"done {name} ({sec:.0f} s)")
    rows: list[dict[str, Any]] = []
    for r in plan.runs:  # finished: read back (NaN restored), in plan order
        rows.extend(execute_run(RunSpec.from_dict(r), checkpoint_dir=folder))
    add_thresholds(rows, plan.accuracy_fractions)
    write_json(Path(out_dir) / "rows.json", {"plan": plan.to_dict(), "rows": rows})
    return rows
