"""Sweep runner: executors (local processes, Dask), resume, tidy rows, thresholds."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rhm_theory.algorithms.crossing import crossing_point
from rhm_theory.scaling import ThresholdPoint, law, loglinear_fit
from rhm_theory.sweeps import ROW_FIELDS, SweepCell, load_rows, make_grid, run_sweep
from rhm_theory.sweeps.thresholds import (
    cell_thresholds,
    fit_growth_per_level,
    summarize_thresholds,
)

CELLS = [SweepCell("latent", 6, 2, 2, 3, P, 0, 1) for P in (20, 200, 2000)]


def test_rows_are_tidy_and_resume_skips_finished(tmp_path: Path) -> None:
    calls: list[str] = []

    def runner(cell: SweepCell) -> list[dict[str, object]]:
        from rhm_theory.sweeps.runner import run_cell

        calls.append(cell.key)
        return run_cell(cell)

    rows = run_sweep(CELLS[:2], out_dir=tmp_path, max_workers=1, progress=False,
                     cell_runner=runner)
    assert len(rows) == 2 * 2  # two cells x two non-root levels
    assert set(ROW_FIELDS) <= set(rows[0])
    rows = run_sweep(CELLS, out_dir=tmp_path, max_workers=1, progress=False, cell_runner=runner)
    assert len(calls) == 3  # the first two cells were not rerun
    assert len(rows) == 6
    assert (tmp_path / "rows.csv").read_text().splitlines()[0].split(",") == list(ROW_FIELDS)
    assert len(json.loads((tmp_path / "rows.json").read_text())) == 6


def test_process_and_thread_executors_give_the_same_rows(tmp_path: Path) -> None:
    a = run_sweep(CELLS, max_workers=2, progress=False)
    with ThreadPoolExecutor(2) as pool:
        b = run_sweep(CELLS, executor=pool, progress=False)
    key = lambda r: (r["P"], r["level"])  # noqa: E731
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert [strip(r) for r in sorted(a, key=key)] == [strip(r) for r in sorted(b, key=key)]


def test_rows_come_in_key_order_whatever_order_the_cells_finish(tmp_path: Path) -> None:
    """Rows sorted by key (a cell's levels in order): the same list, and the same
    rows.json, from cells given (and so finished) in opposite orders."""
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    a = run_sweep(CELLS, out_dir=tmp_path / "a", max_workers=1, progress=False)
    b = run_sweep(CELLS[::-1], out_dir=tmp_path / "b", max_workers=1, progress=False)
    assert strip(a) == strip(b)
    assert [r["key"] for r in a] == sorted(r["key"] for r in a)
    assert [r["level"] for r in a[:2]] == [1, 2]
    files = [json.loads((tmp_path / d / "rows.json").read_text()) for d in "ab"]
    assert strip(files[0]) == strip(files[1])


def test_dask_executor_unchanged() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        rows = run_sweep(CELLS[:2], executor=client.get_executor(), progress=False)
    assert len(rows) == 4
    assert {r["P"] for r in rows} == {20, 200}


def test_corrupt_rows_file_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"key": "x"}\n{not json\n')
    with pytest.raises(ValueError, match="line 2"):
        load_rows(tmp_path / "rows.jsonl")


def test_make_grid_separates_seeds() -> None:
    cells = make_grid(["latent"], [(8, 2)], [3, 4], lambda *a: [10, 100], [0, 1])
    assert len(cells) == 2 * 2 * 2
    assert all(c.data_seed != c.grammar_seed for c in cells)
    with pytest.raises(ValueError, match="context must be one of"):
        SweepCell("tokens", 8, 2, 2, 3, 10)


def test_crossing_point_by_hand() -> None:
    assert crossing_point([1, 10, 100], [0.0, 0.5, 1.0], 0.5) == pytest.approx(10.0)
    assert crossing_point([1, 10, 100], [0.0, 0.96, 0.2], 0.95) != crossing_point(
        [1, 10, 100], [0.0, 0.96, 0.99], 0.95)
    assert math.isnan(crossing_point([1, 10], [0.1, 0.2], 0.95))
    # Non-monotone: the last upward crossing counts.
    assert crossing_point([1, 2, 4, 8], [0.2, 0.99, 0.5, 1.0], 0.95) > 4


def test_thresholds_and_collapse_from_synthetic_rows() -> None:
    rows = []
    for L, scale in ((3, 100.0), (4, 400.0)):
        for seed in (0, 1):
            for P in (10, 100, 1000, 10000):
                acc = 1.0 if P >= 2 * scale else 0.1
                rows.append({"context": "token", "family": "random", "v": 4, "m": 4, "s": 2,
                             "L": L, "n_c": 4,
                             "grammar_seed": seed, "data_seed": seed, "balanced": False,
                             "level": 1, "P": P, "min_accuracy": acc, "all_exact": acc == 1})
    per_seed = cell_thresholds(rows, event="node_accuracy")
    summary = summarize_thresholds(per_seed)
    assert [s.L for s in summary] == [3, 4]
    growth = fit_growth_per_level([3, 4], [s.P_star for s in summary])
    assert growth == pytest.approx(summary[1].P_star / summary[0].P_star)
    assert all(np.isfinite(s.log10_spread) and s.n_missing == 0 for s in summary)
    exact = cell_thresholds(rows, event="exact_recovery")
    # The 0/1 event reaches 1/2 before the accuracy (0.1 -> 1.0) reaches 0.95, same segment.
    assert all(e["P_star"] < r["P_star"] and e["kind"] == r["kind"] == "point"
               for e, r in zip(exact, per_seed, strict=True))
    with pytest.raises(ValueError, match="no column 'min_tuple_accuracy'"):
        cell_thresholds(rows)
    with pytest.raises(ValueError, match="event must be one of"):
        cell_thresholds(rows, event="accuracy")


def test_crossing_rules_first_and_last() -> None:
    P, acc = [1, 2, 4, 8], [0.0, 1.0, 0.0, 1.0]
    assert crossing_point(P, acc, 0.5, rule="first") == pytest.approx(2**0.5)
    assert crossing_point(P, acc, 0.5, rule="last") == pytest.approx(4 * 2**0.5)
    assert math.isnan(crossing_point([1, 2], [0.0, 0.1], 0.5, rule="first"))
    with pytest.raises(ValueError, match="rule"):
        crossing_point(P, acc, 0.5, rule="middle")  # type: ignore[arg-type]


def _points(name: str, noise: float, seed: int = 0) -> list[ThresholdPoint]:
    rng = np.random.default_rng(seed)
    pts = []
    for v, m in ((8, 2), (16, 2), (12, 3), (16, 4)):
        for L in (3, 4, 5, 6):
            for sd in range(3):
                scale = law(name)(v, m, L)
                pts.append(ThresholdPoint(v, m, 2, L, 0, sd,
                                          10 * scale * math.exp(noise * rng.standard_normal())))
    return pts


def test_loglinear_fit_recovers_exponents_with_intervals() -> None:
    fit = loglinear_fit(_points("v m^(L+1)", 0.05))
    assert fit.contains("a", 1.0)
    exact = loglinear_fit(_points("v m^3", 0.0))
    assert exact.coef["b"] == pytest.approx(3.0) and exact.coef["d"] == pytest.approx(0.0)
    assert exact.low["b"] == pytest.approx(3.0) and exact.high["b"] == pytest.approx(3.0)


def test_variant_cells_have_their_own_keys_and_default_keys_are_unchanged() -> None:
    cell = SweepCell("latent", 6, 2, 2, 3, 20, 0, 1)
    assert "pool_positions" not in cell.key and "merge_factor" not in cell.key
    off = SweepCell("latent", 6, 2, 2, 3, 20, 0, 1, merge_factor=0.0)
    unpooled = SweepCell("latent", 6, 2, 2, 3, 20, 0, 1, pool_positions=False)
    assert len({cell.key, off.key, unpooled.key}) == 3


def test_verify_dask_local_starts_and_closes_a_local_cluster(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``verify --dask local``: a LocalCluster of ``--workers`` one-thread processes, whose
    executor runs the sweep, closed afterwards (a cheap check: the cells of the
    executor are tested above)."""
    distributed = pytest.importorskip("distributed")
    from rhm_theory.cli import main

    made: list[Any] = []
    asked: list[dict[str, Any]] = []
    real = distributed.LocalCluster

    def local_cluster(**kw: Any) -> Any:
        asked.append(dict(kw))
        kw["processes"] = False  # threads in the test process: fast, same code path
        made.append(real(**kw))
        return made[-1]

    monkeypatch.setattr(distributed, "LocalCluster", local_cluster)
    out = tmp_path / "r"
    assert main(["verify", "--only", "synonym_invariance", "--dask", "local",
                 "--workers", "1", "--out", str(out), "--quiet"]) == 0
    assert len(asked) == 1
    assert (asked[0]["n_workers"], asked[0]["threads_per_worker"], asked[0]["processes"]) \
        == (1, 1, True)
    assert made[0].status.name == "closed"
    assert (out / "report-only-synonym_invariance.json").is_file()
