"""Figures: the numbers behind them, and `rhm-theory figures` writing every PNG."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rhm_theory.cli import main
from rhm_theory.plotting import (
    FIGURES,
    GRID_SETTINGS,
    accuracy_curves,
    context_vector_error_curves,
    exact_margin_records,
    load_sweep_rows,
    margin_configs,
    method_scale,
    threshold_series,
)
from rhm_theory.sweeps import SweepCell

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: P* / scale of the synthetic rows, per method: flat for latent, x m per level for baselines.
PREFACTOR = 8.0


def synthetic_rows(v: int = 4, m: int = 2, Ls: tuple[int, ...] = (3, 4)) -> list[dict[str, Any]]:
    """Tiny sweep rows: each level's accuracy steps from 0.1 to 1 at P* = 8 x the scale."""
    rows = []
    for method in ("latent", "token", "label"):
        for L in Ls:
            P_star = PREFACTOR * method_scale(method, v, m, 2, L)
            for seed in (0, 1):
                for k in range(-4, 5):
                    P = int(P_star * 2 ** (k / 2))
                    accs = [1.0 if P >= P_star * (1 - 0.1 * lv) else 0.1 for lv in range(1, L)]
                    for lv, acc in enumerate(accs, start=1):
                        rows.append({
                            "key": f"{method}|{L}|{seed}|{P}", "context": method,
                            "family": "random", "v": v, "m": m,
                            "s": 2, "L": L, "n_c": v, "P": P, "grammar_seed": seed,
                            "data_seed": 1000 + seed, "balanced": False, "level": lv,
                            "accuracy": acc, "exact_partition": acc == 1.0,
                            "tuple_accuracy": acc, "min_tuple_accuracy": min(accs),
                            "synonym_ari": acc, "unknown_fraction": 0.0,
                            "min_accuracy": min(accs), "all_exact": min(accs) == 1.0,
                            "seconds": 0.01})
    # ILC with positions kept separate: the same curves, tagged as the variant.
    rows += [{**r, "key": r["key"] + "|unpooled", "pool_positions": False}
             for r in rows if r["context"] == "latent"]
    return rows


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep" / "rows.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in synthetic_rows()))
    return path


@pytest.fixture
def tiny_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the error figure's corpora so the command runs in seconds."""
    monkeypatch.setitem(GRID_SETTINGS, "quick", {
        "error_params": (4, 2, 2, 3), "error_grammar_seed": 0, "error_Ps": [200, 800],
        "error_data_seeds": [1]})


# -- numbers (no matplotlib needed) -----------------------------------------------------------
def test_importing_the_package_never_imports_matplotlib() -> None:
    code = ("import sys, rhm_theory, rhm_theory.plotting, rhm_theory.cli; "
            "rhm_theory.cli.build_parser(); "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_accuracy_curves_aggregate_seeds() -> None:
    curves = accuracy_curves(synthetic_rows(), "latent")
    assert {(c.L, c.level) for c in curves} == {(3, 1), (3, 2), (4, 1), (4, 2), (4, 3)}
    for c in curves:
        assert c.n_seeds == 2 and np.all(np.diff(c.P) > 0)
        assert np.all(c.low <= c.mean) and np.all(c.mean <= c.high)
        assert c.scale == 4 * 2**3
    worst = accuracy_curves(synthetic_rows(), "latent", metric="min_accuracy")
    assert {c.level for c in worst} == {0}
    with pytest.raises(ValueError, match="metric"):
        accuracy_curves([], metric="bad")


def test_collapse_spread_is_smallest_at_the_planted_exponent() -> None:
    pytest.importorskip("matplotlib")
    from rhm_theory.plotting import plot_collapse_spread
    from rhm_theory.plotting.figures import _spread_by_k
    from rhm_theory.sweeps.thresholds import threshold_points

    rows = synthetic_rows(v=4, m=2, Ls=(3, 4)) + synthetic_rows(v=9, m=3, Ls=(3, 4))
    spread, n_configs = _spread_by_k(threshold_points(rows, "latent"))
    assert n_configs == 4 and min(spread, key=lambda k: spread[k]) == 3
    assert spread[3] == pytest.approx(0.0, abs=1e-3)  # P rounded to integers
    assert plot_collapse_spread(rows).axes[0].lines


def test_threshold_series_recovers_the_planted_scalings() -> None:
    series = {s.method: s for s in threshold_series(synthetic_rows(Ls=(3, 4, 5)))}
    assert set(series) == {"latent", "token", "label"}
    assert series["latent"].growth_per_level == pytest.approx(1.0, rel=0.05)
    assert series["token"].growth_per_level == pytest.approx(2.0, rel=0.05)
    assert series["label"].growth_per_level == pytest.approx(2.0, rel=0.05)
    for s in series.values():
        assert s.prefactor == pytest.approx(PREFACTOR, rel=0.1)
        assert len(s.per_seed) == 2 * len(s.L) and not s.n_missing.any()
        assert s.predicted(s.L) == pytest.approx(s.P_star, rel=0.1)


def test_exact_margins_and_configs() -> None:
    assert margin_configs(synthetic_rows()) == [(4, 2, 2, 4)]
    recs = exact_margin_records([(4, 2, 2, 3)], [0, 1])
    assert len(recs) == 2 * 3 * 2  # seeds x kinds x levels
    assert all(r.margin_min <= r.margin_mean for r in recs)
    assert all(r.reference == pytest.approx(math.sqrt(1 - 2 / 4) / 2) for r in recs)


def test_empirical_error_follows_the_exact_prediction() -> None:
    curves = context_vector_error_curves((8, 2, 2, 3), 0, [4000, 16000], [1, 2])
    assert [(c.context, c.level) for c in curves] == [
        (k, lv) for k in ("latent", "token", "label") for lv in (1, 2)]
    for c in curves:
        ratio = c.measured / c.predicted
        assert np.all((ratio > 0.7) & (ratio < 1.4)), (c.context, c.level, ratio)
        assert c.predicted[0] / c.predicted[1] == pytest.approx(4.0)  # ~ 1 / P
    with pytest.raises(ValueError, match="Ps"):
        context_vector_error_curves((8, 2, 2, 3), 0, [], [1])


def test_load_sweep_rows_from_files_and_folders(tmp_path: Path, rows_file: Path) -> None:
    n = len(synthetic_rows())
    assert len(load_sweep_rows(rows_file)) == n
    assert len(load_sweep_rows(rows_file.parent)) == n  # a sweep folder
    assert len(load_sweep_rows(rows_file.parent.parent)) == n  # a report folder
    as_json = tmp_path / "rows.json"
    as_json.write_text(json.dumps(synthetic_rows()))
    assert len(load_sweep_rows(as_json)) == n
    with pytest.raises(FileNotFoundError):
        load_sweep_rows(tmp_path / "nowhere")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match="no rows"):
        load_sweep_rows(tmp_path / "empty.jsonl")


def test_committed_figures_match_the_figure_list() -> None:
    committed = {p.name for p in (ROOT / "docs" / "figures").glob("*.png")}
    assert committed == {f.filename for f in FIGURES}
    manifest = (ROOT / "docs" / "figures" / "README.md").read_text()
    assert "rhm-theory figures" in manifest
    for f in FIGURES:
        assert f"]({f.filename})" in manifest


# -- the command (needs matplotlib) -----------------------------------------------------------
def test_figures_command_writes_every_png(tmp_path: Path, rows_file: Path,
                                          tiny_settings: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "figs"
    assert main(["figures", "--rows", str(rows_file), "--out", str(out)]) == 0
    for spec in FIGURES:
        data = (out / spec.filename).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, spec.filename
    manifest = (out / "README.md").read_text()
    assert all(f"]({f.filename})" in manifest for f in FIGURES)
    assert str(rows_file) in manifest
    assert f"{len(FIGURES)} figures" in capsys.readouterr().out


def test_figures_command_only_and_errors(tmp_path: Path, rows_file: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "one"
    assert main(["figures", "--rows", str(rows_file), "--out", str(out),
                 "--only", "thresholds_vs_depth"]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["thresholds_vs_depth.png"]
    assert main(["figures", "--rows", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert main(["figures", "--rows", str(rows_file), "--out", str(out),
                 "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and "unknown figure" in err


def test_figures_command_runs_a_fresh_sweep(tmp_path: Path, tiny_settings: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    import rhm_theory.cli.figures_cmd as cmd

    cells = [SweepCell(method, 4, 2, 2, 3, P, 0, 1000)
             for method in ("latent", "token", "label") for P in (50, 400, 3200)]
    monkeypatch.setattr(cmd, "sweep_cells", lambda grid: cells)
    sweep_dir, out = tmp_path / "sweep", tmp_path / "figs"
    assert main(["figures", "--quick", "--workers", "1", "--no-progress",
                 "--sweep-dir", str(sweep_dir), "--out", str(out)]) == 0
    assert len(load_sweep_rows(sweep_dir)) == len(cells) * 2  # two non-root levels
    assert {p.name for p in out.glob("*.png")} == {f.filename for f in FIGURES}
    assert "fresh sweep of 9 cells" in (out / "README.md").read_text()


def test_sweep_cells_are_the_verification_cells() -> None:
    from proofs_checks import all_checks
    from rhm_theory.cli.figures_cmd import sweep_cells

    verify = {c.key for check in all_checks() for c in check.cells("quick")}
    assert {c.key for c in sweep_cells("quick")} <= verify
    with pytest.raises(ValueError, match="grid"):
        sweep_cells("medium")


def _texts(fig: Any) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def _drawn_lines(fig: Any) -> int:
    return sum(len(ax.lines) for ax in fig.axes if ax.get_visible())


@pytest.mark.parametrize("as_text", [False, True])
def test_unpooled_figure_draws_the_unpooled_rows(as_text: bool) -> None:
    # The panel was blank ("no latent sweep in the rows") although the rows held the sweep:
    # every panel has curves when the variant's rows exist (also with the flag left as text).
    pytest.importorskip("matplotlib")
    rows = synthetic_rows()
    if as_text:
        rows = [{**r, "pool_positions": str(r.get("pool_positions", True))} for r in rows]
    spec = next(f for f in FIGURES if f.name == "ilc_unpooled_accuracy_collapsed")
    fig = spec.build(rows, "quick")
    assert "no " not in _texts(fig) and "positions kept separate" in _texts(fig)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert visible and all(ax.lines for ax in visible)
    pooled = next(f for f in FIGURES if f.name == "ilc_accuracy_collapsed").build(rows, "quick")
    # the default figure keeps only the pooled rows: as many curves as the variant's
    assert _drawn_lines(pooled) == _drawn_lines(fig)


def test_unpooled_figure_without_its_rows_says_what_is_missing() -> None:
    pytest.importorskip("matplotlib")
    rows = [r for r in synthetic_rows() if r.get("pool_positions", True) is not False]
    spec = next(f for f in FIGURES if f.name == "ilc_unpooled_accuracy_collapsed")
    text = _texts(spec.build(rows, "quick"))
    assert "pool_positions=False" in text and f"the {len(rows)} rows" in text
