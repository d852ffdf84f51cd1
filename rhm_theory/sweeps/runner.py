"""Grid runner for ILC sweeps: cells, tidy rows (CSV/JSON), executors, resume, progress."""

from __future__ import annotations

import csv
import itertools
import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, NotRequired, Protocol, TypedDict, cast, runtime_checkable

from rhm_theory.constants import DEFAULT_MERGE_FACTOR
from rhm_theory.cost import ilc_seconds
from rhm_theory.io import atomic_write, write_text
from rhm_theory.model.params import RHMParams
from rhm_theory.model.spec import GrammarFamily, GrammarSpec
from rhm_theory.progress import Progress
from rhm_theory.validation import CONTEXT_KINDS, ContextKind

__all__ = ["ROW_FIELDS", "SEED_STRIDE", "SweepCell", "SweepRow", "SweepTask", "load_rows",
           "make_grid", "row_context", "row_family", "run_cell", "run_seeds", "run_sweep"]

#: Columns of a sweep row, in order (one row per cell and non-root level).
ROW_FIELDS = (
    "key", "context", "v", "m", "s", "L", "n_c", "P", "grammar_seed", "data_seed",
    "family", "balanced", "level", "accuracy", "exact_partition", "synonym_ari", "unknown_fraction",
    "min_accuracy", "all_exact", "seconds", "pool_positions", "merge_factor",
    "tuple_accuracy", "min_tuple_accuracy",
)
#: ILC variant fields of a cell and their defaults: left out of a cell's key when default,
#: so the keys (and resumable sweep folders) of default cells do not change.
VARIANT_DEFAULTS: dict[str, Any] = {"pool_positions": True,
                                    "merge_factor": DEFAULT_MERGE_FACTOR}
#: Families whose cell keys (and rows) were written as ``balanced=<bool>`` before families had
#: names: their keys keep that spelling.
_LEGACY_FAMILIES = ("random", "balanced")


#: The grammar seed of seed index ``i`` at depth ``L`` is ``i + SEED_STRIDE * L`` (data seed
#: ``1000 +`` that): every depth draws its own grammar and data, so the rows of one seed
#: index share no noise across depths (a grammar drawn level by level from one seed would
#: make the depth-``L`` grammar the first ``L`` levels of the deeper one).
SEED_STRIDE = 100


def run_seeds(seed: int, L: int) -> tuple[int, int]:
    """``(grammar_seed, data_seed)`` of seed index ``seed`` at depth ``L``.

    >>> run_seeds(1, 4)
    (401, 1401)
    """
    g = seed + SEED_STRIDE * L
    return g, 1000 + g


def _old_rows(column: str) -> ValueError:
    return ValueError(f"a sweep row without a {column!r} column: written by a development "
                      f"version of rhm_theory (0.1.0.dev, before 2026-12-07) that this "
                      f"version does not read; rerun the sweep into a new folder")


def row_context(row: Mapping[str, Any]) -> ContextKind:
    """The ILC context kind of a sweep row (its ``context`` column).

    >>> row_context({"context": "token"})
    'token'
    """
    if "context" not in row:
        raise _old_rows("context")
    return cast(ContextKind, row["context"])


def row_family(row: Mapping[str, Any]) -> GrammarFamily:
    """The grammar family of a sweep row (its ``family`` column).

    >>> row_family({"family": "balanced"})
    'balanced'
    """
    if "family" not in row:
        raise _old_rows("family")
    return cast(GrammarFamily, row["family"])


class SweepRow(TypedDict):
    """One row of a sweep: one cell and one non-root level (the columns of
    :data:`ROW_FIELDS`). The runner writes them, plotting and the claim checks read them.
    ``context`` is ILC's context kind, ``family`` the grammar family; ``balanced`` is
    ``family == "balanced"``."""

    key: str
    context: ContextKind
    v: int
    m: int
    s: int
    L: int
    n_c: int
    P: int
    grammar_seed: int
    data_seed: int
    family: NotRequired[str]
    balanced: bool
    level: int
    accuracy: float
    exact_partition: bool
    synonym_ari: float
    unknown_fraction: float
    min_accuracy: float
    all_exact: bool
    tuple_accuracy: float
    min_tuple_accuracy: float
    seconds: float
    pool_positions: NotRequired[bool]
    merge_factor: NotRequired[float]


@runtime_checkable
class SweepTask(Protocol):
    """What :func:`run_sweep` runs: any picklable cell with a stable ``key`` (resume skips
    cells whose key has rows already), a ``cost`` estimate (largest first, for load
    balance; any positive unit) and ``run()`` returning its rows (plain dicts, each with
    ``"key"`` equal to the cell's key). :class:`SweepCell` is one; the sample-complexity
    measurement of any learner (:mod:`rhm_theory.sweeps.measure`) is another."""

    @property
    def key(self) -> str:
        """Stable identifier of the cell (the same cell always has the same key)."""
        ...

    @property
    def cost(self) -> float:
        """Relative cost estimate (only the order matters)."""
        ...

    def run(self) -> Sequence[Any]:
        """Compute the cell and return its rows."""
        ...


@dataclass(frozen=True)
class SweepCell:
    """One run: a grammar (``spec``: ``family``, ``(v, m, s, L, n_c)`` and
    ``grammar_seed``), ``P`` training strings drawn with ``data_seed``, and ILC's
    ``context`` kind. ``pool_positions`` and ``merge_factor`` select ILC variants (see
    :class:`IterativeLatentClustering`). ``family`` is a key of
    :data:`rhm_theory.model.spec.GRAMMAR_CONSTRUCTORS`."""

    context: ContextKind
    v: int
    m: int
    s: int
    L: int
    P: int
    grammar_seed: int = 0
    data_seed: int = 0
    n_c: int | None = None
    family: GrammarFamily = "random"
    n_test: int = 2000
    pool_positions: bool = True
    merge_factor: float = DEFAULT_MERGE_FACTOR

    def __post_init__(self) -> None:
        if self.context not in CONTEXT_KINDS:
            raise ValueError(f"context must be one of {CONTEXT_KINDS}, got {self.context!r}")
        if self.P < 1:
            raise ValueError(f"P must satisfy P >= 1, got {self.P}")
        _ = self.spec  # validates the family and the grammar parameters now, not in a worker

    @property
    def spec(self) -> GrammarSpec:
        """The grammar of this cell."""
        return GrammarSpec(RHMParams(self.v, self.m, self.s, self.L, self.n_c), self.family,
                           self.grammar_seed)

    @property
    def balanced(self) -> bool:
        """Whether the grammar family is ``balanced`` (the field families replaced)."""
        return self.family == "balanced"

    @property
    def key(self) -> str:
        """Stable identifier used to skip finished cells on resume.

        The context is spelled ``method=``, the families ``random`` and ``balanced`` as
        ``balanced=False`` / ``balanced=True``, any other family ``family=NAME`` in the same
        place.
        """
        parts = []
        for f in fields(self):
            name, value = f.name, getattr(self, f.name)
            if name in VARIANT_DEFAULTS and value == VARIANT_DEFAULTS[name]:
                continue
            if name == "context":
                name = "method"
            elif name == "family" and value in _LEGACY_FAMILIES:
                name, value = "balanced", value == "balanced"
            parts.append(f"{name}={value}")
        return "|".join(parts)

    @property
    def cost(self) -> float:
        """Relative cost: strings times tokens (what ILC's counting pass scales with)."""
        return float(self.P * self.s**self.L)

    def run(self) -> list[SweepRow]:
        """The rows of this cell (:func:`run_cell`)."""
        return run_cell(self)


def make_grid(
    contexts: Iterable[ContextKind],
    vms: Iterable[tuple[int, int]],
    Ls: Iterable[int],
    P_of: Callable[[str, int, int, int, int], Iterable[int]],
    grammar_seeds: Iterable[int],
    *,
    s: int = 2,
    data_seed_offset: int = 1000,
    family: GrammarFamily = "random",
) -> list[SweepCell]:
    """Cartesian grid; ``P_of(context, v, m, s, L)`` gives each configuration's P values.

    The data seed of a cell is ``data_seed_offset + grammar_seed`` (separate from the
    grammar seed; all P values of one grammar share the data stream's prefix).
    """
    cells = []
    for context, (v, m), L, gs in itertools.product(contexts, vms, Ls, grammar_seeds):
        for P in P_of(context, v, m, s, L):
            cells.append(SweepCell(context, v, m, s, L, int(P), gs, data_seed_offset + gs,
                                   family=family))
    return cells


def run_cell(cell: SweepCell) -> list[SweepRow]:
    """Fit ILC for one cell (streaming the data) and score every non-root level."""
    from rhm_theory.algorithms.ilc import IterativeLatentClustering
    from rhm_theory.algorithms.metrics import score_levels
    from rhm_theory.model.sampling import iter_samples

    t0 = time.perf_counter()
    spec = cell.spec
    params = spec.params
    grammar = spec.build()
    need_labels = cell.context == "label"
    model = IterativeLatentClustering.from_params(params, context=cell.context,
                                                  pool_positions=cell.pool_positions,
                                                  merge_factor=cell.merge_factor)
    model.fit(lambda: iter_samples(grammar, cell.P, cell.data_seed, chunk_size=32768,
                                   latents=need_labels))
    # Test strings come from a seed disjoint from every training seed.
    scores = score_levels(model, grammar, n_test=cell.n_test, seed=cell.data_seed + 10**9)
    seconds = time.perf_counter() - t0
    base = asdict(cell)
    base.pop("n_test")
    base["n_c"] = params.n_c
    base["balanced"] = cell.balanced  # for readers of the column before families had names
    min_acc = min(sc.accuracy for sc in scores)
    all_exact = all(sc.exact_partition for sc in scores)
    min_tuple = min(sc.tuple_accuracy for sc in scores)
    return [
        cast(SweepRow, {"key": cell.key, **base, **sc.to_dict(), "min_accuracy": min_acc,
                        "all_exact": all_exact, "min_tuple_accuracy": min_tuple,
                        "seconds": seconds})
        for sc in scores
    ]


def load_rows(path: str | Path) -> list[SweepRow]:
    """Read the rows of a sweep (``rows.jsonl``); a corrupt line fails loudly."""
    rows: list[SweepRow] = []
    p = Path(path)
    if not p.exists():
        return rows
    with p.open() as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}: line {n} is not valid JSON ({exc.msg})") from None
    return rows


def _write_csv(rows: Sequence[SweepRow], path: Path) -> None:
    # ILC rows have the ROW_FIELDS columns; rows of other cell kinds add theirs after them.
    names = list(ROW_FIELDS)
    for r in rows:
        names.extend(k for k in r if k not in names)
    with atomic_write(path, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _Progress(total: int, enabled: bool, total_weight: float | None = None) -> Progress:
    # The library's own one-line progress (rhm_theory.progress), not tqdm: no dependency.
    return Progress(total, enabled, total_weight=total_weight)


def _run_task(cell: SweepTask) -> Sequence[Any]:
    """Default runner (module level, so it pickles): the cell's own ``run()``."""
    return cell.run()


def run_sweep(
    cells: Sequence[SweepTask],
    *,
    out_dir: str | Path | None = None,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: bool = True,
    cell_runner: Callable[[Any], Sequence[Any]] = _run_task,
) -> list[SweepRow]:
    """Run every cell and return all rows (finished rows of earlier runs included).

    Parameters
    ----------
    cells : sequence of SweepTask
        :class:`SweepCell` (ILC) or any other :class:`SweepTask`; the rows returned are
        whatever the cells' ``run()`` returns (typed as sweep rows for the ILC case).
    out_dir : path, optional
        Rows are appended to ``out_dir/rows.jsonl`` as cells finish (so an interrupted
        sweep resumes: cells whose key is already there are skipped) and written as
        ``rows.csv`` and ``rows.json`` at the end.

        The rows returned (and those two files) are sorted by key, whatever order the
        cells finished in: the same bytes with 1 worker or 8.
    executor : concurrent.futures.Executor, optional
        Where cells run: any executor (a Dask ``Client.get_executor()`` works unchanged).
        Default: a local ``ProcessPoolExecutor`` with ``max_workers`` (default: CPUs).
    progress : bool
        Show a progress line on stderr (:class:`rhm_theory.progress.Progress`).
    cell_runner : callable, optional
        ``cell -> rows`` run in the workers (picklable); default: ``cell.run()``.
    """
    out = Path(out_dir) if out_dir is not None else None
    rows: list[SweepRow] = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _drop_partial_line(out / "rows.jsonl")
        rows = load_rows(out / "rows.jsonl")
    done = {r["key"] for r in rows}
    todo = list({c.key: c for c in cells if c.key not in done}.values())
    # The time left comes from the cost model's seconds of the cells done, where every
    # cell has them (the ILC cells): the costliest run first, so counts would mislead.
    expected = {c.key: _expected_seconds(c) for c in todo}
    known = all(e is not None for e in expected.values())
    bar = _Progress(len(todo), progress,
                    sum(e or 0.0 for e in expected.values()) if known and todo else None)
    sink = (out / "rows.jsonl").open("a") if out is not None else None

    def collect(cell: SweepTask, new: Sequence[SweepRow]) -> None:
        rows.extend(new)
        if sink is not None:
            for r in new:
                sink.write(json.dumps(r) + "\n")
            sink.flush()
        bar.update(weight=(expected.get(cell.key) or 0.0) if known else 0.0)

    try:
        if todo and executor is None and (max_workers or os.cpu_count() or 1) > 1:
            workers = max_workers or os.cpu_count() or 1
            # Never fork a process whose numba kernels started OpenMP threads: workers come
            # from a clean server process (forkserver) or a fresh interpreter (spawn).
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                                     mp_context=mp.get_context(method),
                                     initializer=_worker_init, initargs=(os.getpid(),)) as pool:
                try:
                    _drain(pool, todo, cell_runner, collect)
                except BaseException:
                    _stop_workers(pool)  # Ctrl-C or an error: do not wait for running cells
                    raise
        elif todo and executor is not None:
            _drain(executor, todo, cell_runner, collect)
        else:
            for cell in todo:
                collect(cell, cell_runner(cell))
    finally:
        bar.close()
        if sink is not None:
            sink.close()
    # Rows in key order (stable: a cell's rows keep their order), not in the order cells
    # finished: the files and every fit downstream are then the same bytes whatever the
    # number of workers (sums of floats depend on their order).
    rows.sort(key=lambda r: str(r["key"]))
    keys = {c.key for c in cells}
    selected = [r for r in rows if r["key"] in keys]
    if out is not None:
        _write_csv(rows, out / "rows.csv")
        write_text(out / "rows.json", json.dumps(rows, indent=1))
    return selected


def _expected_seconds(cell: Any) -> float | None:
    """The cost model's CPU seconds of an ILC cell (:func:`rhm_theory.cost.ilc_seconds`);
    ``None`` for other tasks."""
    if not isinstance(cell, SweepCell):
        return None
    return ilc_seconds(cell.P, cell.s, cell.L, context=cell.context,
                       pool_positions=cell.pool_positions, v=cell.v, m=cell.m)


def _cost(cell: Any) -> float:
    """A cell's ``cost``; cells run by a custom ``cell_runner`` may have none: then
    ``P s^L`` (strings times tokens), else 0."""
    cost = getattr(cell, "cost", None)
    if cost is not None:
        return float(cost)
    try:
        return float(cell.P * cell.s**cell.L)
    except AttributeError:
        return 0.0


def _drop_partial_line(path: Path) -> None:
    # A run killed in the middle of appending a row leaves a line without its newline: cut
    # it, so that the resumed run neither fails on it nor appends onto it.
    if not path.is_file():
        return
    with path.open("rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def _worker_init(parent: int) -> None:
    # Workers leave Ctrl-C to the parent (no traceback per worker) and exit when the parent
    # is gone (killed): a daemon thread polls it, since nothing else would stop them.
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pid reused by another user's process: parent is gone
                os._exit(1)

    threading.Thread(target=watch, name="rhm-parent-watch", daemon=True).start()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Take the processes first: shutdown() forgets them (pool._processes = None).
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()


def _drain(
    pool: Executor,
    todo: Sequence[SweepTask],
    runner: Callable[[Any], Sequence[Any]],
    collect: Callable[[SweepTask, Sequence[SweepRow]], None],
) -> None:
    # Largest cells first: better load balance when a few cells dominate the cost.
    order = sorted(todo, key=lambda c: -_cost(c))
    futures = {pool.submit(runner, c): c for c in order}
    for fut in as_completed(futures):
        collect(futures[fut], fut.result())
