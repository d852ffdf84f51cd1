"""The decisive CPU grid of the SLC claim: both SLC arms, the masked-LM control, step doubling."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhm_theory.io import jsonable, write_json, write_text
from rhm_theory.validation import check_choice, check_int

__all__ = [
    "CPU_GRID_ARMS",
    "DOUBLED_ARMS",
    "CPUGrid",
    "cpu_grid_runs",
    "data2vec_cpu_line",
    "load_cpu_grid_rows",
    "read_cpu_grid",
    "render_cpu_grid_verdict",
    "run_cpu_grid",
    "write_cpu_grid_verdict",
]

#: The arms of the grid, in the order they run (most decisive first, so an interrupted
#: grid has the SLC arm and its control before the rest): ``slc``, the masked-LM control,
#: the stop-gradient arm, then the step-doubling checks (an SLC arm on the deepest depth
#: with twice the steps): ``slc-x2`` and ``slc-sg-x2`` (added after the first 80 runs,
#: before its own, when ``slc-sg`` turned out censored at ``L >= 4``; docs/results.md).
CPU_GRID_ARMS = ("slc", "mlm", "slc-sg", "slc-x2", "slc-sg-x2")
#: The step-doubling arm of each SLC arm.
DOUBLED_ARMS = {"slc": "slc-x2", "slc-sg": "slc-sg-x2"}


@dataclass(frozen=True)
class CPUGrid:
    """The grid of ``rhm-theory neural verify-cpu``, fixed before any of its runs.

    ``v = 8, m = 3, s = 2`` (``f = m / v < 1``), ``L`` in {3, 4, 5} (the two predictions
    ``v m^3`` and ``v m^(L+1)`` differ by 3x to 27x), two grammar seeds, ``P`` in
    {256, 1k, 4k, 16k} (never above the ``P_max`` = 17,496 distinct strings of the
    smallest depth). The step budget depends on the depth only (``steps_by_L``; the same
    for every ``P`` of a cell, so ``P*`` is not confounded with the schedule); the
    step-doubling arm repeats the deepest depth with ``2 x`` its steps.

    Attributes
    ----------
    v, m, s : int
    Ls, seeds, Ps : tuple of int
    steps_by_L : tuple of (L, steps)
    batch_size : int
    slc_hidden : int
        Width of the SLC modules (small networks: the bottleneck measured at this scale
        was optimisation steps, not data).
    mlm_depth, mlm_width : int
        The masked-LM control's transformer.
    lr : float
    doubling_factor : float
        The step-doubling check fails (verdict INCONCLUSIVE: optimisation-limited) when
        doubling the steps moves the deepest cell's geometric-mean ``P*`` by more than
        this factor either way.
    """

    v: int = 8
    m: int = 3
    s: int = 2
    Ls: tuple[int, ...] = (3, 4, 5)
    seeds: tuple[int, ...] = (0, 1)
    Ps: tuple[int, ...] = (256, 1024, 4096, 16384)
    steps_by_L: tuple[tuple[int, int], ...] = ((3, 2500), (4, 5000), (5, 7500))
    batch_size: int = 64
    slc_hidden: int = 64
    mlm_depth: int = 2
    mlm_width: int = 64
    lr: float = 1e-3
    doubling_factor: float = 2.0
    probe: dict[str, Any] = field(default_factory=lambda: {
        "n_probe_train": 512, "n_probe_test": 512, "probe_steps": 300, "pool": "mean",
        "root_pool": None, "n_sensitivity": 256, "seed": 10_007})

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and at least one, got {self.seeds}")
        for sd in self.seeds:
            check_int("seeds", sd, minimum=0)

    def steps(self, L: int) -> int:
        """The step budget of depth ``L``."""
        return dict(self.steps_by_L)[L]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (written next to the rows)."""
        return {**self.__dict__, "steps_by_L": [list(x) for x in self.steps_by_L]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CPUGrid:
        """Inverse of :meth:`to_dict`."""
        tuples = ("Ls", "seeds", "Ps")
        kw: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in d.items()}
        kw["steps_by_L"] = tuple((int(a), int(b)) for a, b in d["steps_by_L"])
        return cls(**kw)


def read_cpu_grid(out_dir: str | Path) -> CPUGrid:
    """The grid described in ``out_dir/grid.json`` (written by :func:`run_cpu_grid`)."""
    path = Path(out_dir) / "grid.json"
    try:
        return CPUGrid.from_dict(json.loads(path.read_text())["grid"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a grid description ({exc})") from exc


def cpu_grid_runs(grid: CPUGrid | None = None,
                  arms: Sequence[str] = CPU_GRID_ARMS) -> list[Any]:
    """Every :class:`~rhm_theory.neural.experiments.RunSpec` of ``grid``, arm by arm.

    A doubling arm (``slc-x2``, ``slc-sg-x2``) is its SLC arm at the deepest ``L`` with
    twice the steps (its runs' names carry the step count, so they never collide with the
    arm's own runs).
    """
    from rhm_theory.neural.data2vec import Data2VecConfig
    from rhm_theory.neural.ema import EMASchedule
    from rhm_theory.neural.experiments import RunSpec
    from rhm_theory.neural.slc import SLCConfig

    g = grid or CPUGrid()
    for a in arms:
        check_choice("arms", a, CPU_GRID_ARMS)
    # EMA in absolute steps: identical for every P (and every L) of the grid.
    slc = SLCConfig(hidden=g.slc_hidden,
                    ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=1000)).to_dict()
    # target_norm and ema are unused by the masked LM (no teacher); pinned to the values
    # the first grid run recorded, so its checkpoints stay resumable.
    mlm = Data2VecConfig(depth=g.mlm_depth, width=g.mlm_width, heads=4,
                         target_norm="instance", ema=EMASchedule()).to_dict()
    out = []
    for arm in arms:
        doubled = arm.endswith("-x2")
        method = arm.removesuffix("-x2")
        Ls = (max(g.Ls),) if doubled else g.Ls
        for L in Ls:
            steps = g.steps(L) * (2 if doubled else 1)
            for seed in g.seeds:
                for P in g.Ps:
                    out.append(RunSpec(
                        method=method, v=g.v, m=g.m, s=g.s, L=L, P=P, grammar_seed=seed,
                        data_seed=seed + 1, seed=seed, steps=steps, batch_size=g.batch_size,
                        lr=g.lr, model=mlm if method == "mlm" else slc, eval=dict(g.probe)))
    return out


def _run_name(spec: Any) -> str:
    return f"{spec.name}_steps{spec.steps}"


def _run_one(args: tuple[dict[str, Any], str, int]) -> tuple[str, float]:
    spec_d, folder, threads = args
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    from rhm_theory.neural.experiments import RunSpec, execute_run

    spec = RunSpec.from_dict(spec_d)
    sub = Path(folder) / _run_name(spec)
    t0 = time.perf_counter()
    execute_run(spec, device="cpu", checkpoint_dir=sub, checkpoint_every=500)
    return _run_name(spec), time.perf_counter() - t0


def _finished(folder: Path, spec: Any) -> bool:
    return (folder / _run_name(spec) / f"{spec.name}.json").exists()


def load_cpu_grid_rows(out_dir: str | Path, grid: CPUGrid | None = None,
                       arms: Sequence[str] = CPU_GRID_ARMS) -> tuple[list[dict[str, Any]],
                                                                      dict[str, Any]]:
    """Rows of the finished runs under ``out_dir/runs`` and the grid's progress.

    Rows of a doubling arm carry its name as ``method`` (``"slc-x2"``, ``"slc-sg-x2"``; so
    the threshold rows keep the two budgets apart). Progress: runs done and planned per arm.
    """
    folder = Path(out_dir) / "runs"
    rows: list[dict[str, Any]] = []
    progress: dict[str, dict[str, int]] = {}
    for arm in arms:
        specs = cpu_grid_runs(grid, (arm,))
        done = 0
        for spec in specs:
            if not _finished(folder, spec):
                continue
            done += 1
            path = folder / _run_name(spec) / f"{spec.name}.json"
            for r in json.loads(path.read_text())["rows"]:
                if r.get("value") is None:
                    r["value"] = float("nan")
                rows.append({**r, "method": arm, "steps_budget": spec.steps})
        progress[arm] = {"done": done, "planned": len(specs)}
    return rows, progress


def run_cpu_grid(
    out_dir: str | Path,
    *,
    grid: CPUGrid | None = None,
    arms: Sequence[str] = CPU_GRID_ARMS,
    workers: int = 1,
    threads: int = 1,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run (or resume) the grid in ``out_dir``; return its rows and progress.

    Every run keeps its checkpoint and its finished rows under ``out_dir/runs/<run>/``,
    so a killed grid resumes where it stopped and finished runs are read back, never
    retrained. ``workers`` processes run at once with ``threads`` torch threads each.
    """
    k = check_int("workers", workers, minimum=1)
    check_int("threads", threads, minimum=0)
    out = Path(out_dir)
    g = grid or CPUGrid()
    described = out / "grid.json"
    if described.exists():
        # Runs are named by their settings, so another grid would mix in silently.
        try:
            there = json.loads(described.read_text())["grid"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{described}: not a grid description ({exc})") from exc
        if there != json.loads(json.dumps(g.to_dict())):
            raise ValueError(f"{out} holds a grid with other settings ({described}); "
                             "use another output folder")
    folder = out / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    # The grid's description lists every arm (its verdict reads them all); a run of a few
    # arms (``--arms``) must not shrink it.
    specs = cpu_grid_runs(grid, arms)  # validates the arms
    write_json(described, {"grid": g.to_dict(), "arms": list(CPU_GRID_ARMS)})
    todo = [s for s in specs if not _finished(folder, s)]
    if progress is not None:
        progress(f"{len(specs) - len(todo)} of {len(specs)} runs already done")
    jobs = [(s.to_dict(), str(folder), threads) for s in todo]
    if k == 1:
        for j in jobs:
            name, sec = _run_one(j)
            if progress is not None:
                progress(f"done {name} ({sec:.0f} s)")
    else:
        with ProcessPoolExecutor(max_workers=k, mp_context=mp.get_context("spawn")) as pool:
            for fut in as_completed([pool.submit(_run_one, j) for j in jobs]):
                name, sec = fut.result()
                if progress is not None:
                    progress(f"done {name} ({sec:.0f} s)")
    return load_cpu_grid_rows(out, grid, arms)


def _bound(x: Any) -> str:
    # JSON holds infinities as strings and an undefined bound (no doubled runs) as null.
    return "none" if x is None else x if isinstance(x, str) else f"{x:.3g}"


def render_cpu_grid_verdict(doc: Mapping[str, Any]) -> str:
    """The text form of a verdict document (``verdict.json`` as read back from disk).

    The text is a function of the JSON only: :func:`write_cpu_grid_verdict` writes both
    files from one document, and the tests render the committed JSON and compare it with
    the committed text, so the two can never disagree.
    """
    result = doc["result"]
    m = result["measured"]
    deepest = max(result["details"]["grid"]["Ls"])
    lines = [f"{arm}: {p['done']}/{p['planned']} runs" for arm, p in doc["progress"].items()]
    for arm in ("slc", "slc-sg"):
        d = m[arm]["step_doubling"]
        lo, hi = d["ratio_bounds"]
        lines.append(f"{arm}: P* by cell {m[arm]['P_star_by_cell']} "
                     f"censored {m[arm].get('censored_by_cell', {})} "
                     f"rule {m[arm]['rule_verdict']}")
        if m[arm].get("sentence"):
            lines.append(f"  decision on depth: {m[arm]['sentence']}")
        lines.append(f"  step doubling at L = {deepest}: P* {d['P_star']} -> "
                     f"{d['P_star_doubled']}, ratio in [{_bound(lo)}, {_bound(hi)}] "
                     f"(allowed factor {d['factor']}), "
                     f"{'moved' if d['moved'] else 'not moved' if d['ok'] else 'not run'}")
    neg = result.get("negative_control")
    if neg is not None:
        lines.append(f"negative control (masked LM): {neg['verdict']}, censored "
                     f"{result['details']['control_cells']['censored_by_cell']} "
                     "(a PASS needs it to FAIL)")
    if result.get("power") is not None:
        lines.append(f"calibration: {result['power']}")
    if m.get("calibration_rates"):  # the verdicts written before the one decision engine
        lines.append("  decision rates on simulated grids: " + "; ".join(
            f"under {law}: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items())
            for law, r in m["calibration_rates"].items()))
    lines.extend(f"reason: {reason}" for reason in m["inconclusive_reasons"])
    lines.extend(f"note: {note}" for note in doc.get("notes", ()))
    lines.append(f"verdict: {result['verdict']}")
    return "\n".join(lines) + "\n"


def write_cpu_grid_verdict(out_dir: str | Path, doc: Mapping[str, Any]) -> str:
    """Write ``out_dir/verdict.json`` and its rendering ``out_dir/verdict.txt``; return the text.

    The only writer of the two files: the text is rendered from the JSON as it reads back,
    so a stale or separately written text cannot exist.
    """
    # Rendered from the document exactly as it will read back from disk, before either file
    # is written: a document that cannot be rendered leaves both files as they were.
    text = render_cpu_grid_verdict(json.loads(json.dumps(jsonable(doc))))
    write_json(Path(out_dir) / "verdict.json", doc)
    write_text(Path(out_dir) / "verdict.txt", text)
    return text


def data2vec_cpu_line(cell_rows: str | Path) -> str:
    """One line: what the CPU can and cannot decide about data2vec, from the calibration cell.

    ``cell_rows`` is the calibration cell's JSONL (``benchmarks/neural_calibration_cell/
    calibration_layer.jsonl``: one evaluation per line, ``steps``, ``seconds``,
    ``root_probe[L]``, ``latent_probe[l]``). The numbers printed are read from it; a missing
    file is said so.
    """
    path = Path(cell_rows)
    head = ("data2vec: not run on CPU (a grid that cannot decide); the GPU call "
            "benchmarks/gpu_decide.sh decides it")
    if not path.exists():
        return f"{head} (calibration cell rows not found at {path})"
    evals = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    if not evals:
        return f"{head} (no evaluation in {path})"
    last = max(evals, key=lambda e: e["steps"])
    root_key = next(k for k in last if k.startswith("root_probe["))
    criterion = 1 / 8 + 0.5 * (1 - 1 / 8)  # the calibration cell's v = 8
    return (f"{head}: the L = 3 calibration cell's root probe is {last[root_key]:.3f} after "
            f"{last['steps']:,} online steps ({last['seconds'] / 3600:.1f} CPU-hours; "
            f"criterion {criterion:.4g}), and L = 4, 5 cost more per step")
