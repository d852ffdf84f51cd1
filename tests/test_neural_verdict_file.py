"""The CPU grid's text verdict is rendered from its JSON: one writer, never two answers."""

from __future__ import annotations

import json
from pathlib import Path

from rhm_theory.neural.cpu_grid import render_cpu_grid_verdict, write_cpu_grid_verdict

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
FOLDERS = [BENCH / "neural_cpu_grid", BENCH / "neural_cpu_grid_seeds23"]


def test_committed_text_is_the_rendering_of_the_committed_json() -> None:
    checked = 0
    for folder in FOLDERS:
        if not (folder / "verdict.json").exists():
            continue
        doc = json.loads((folder / "verdict.json").read_text())
        assert (folder / "verdict.txt").read_text() == render_cpu_grid_verdict(doc), folder
        checked += 1
    assert checked >= 1


def test_the_writer_writes_both_from_one_document(tmp_path: Path) -> None:
    doc = json.loads((BENCH / "neural_cpu_grid" / "verdict.json").read_text())
    doc["result"]["verdict"] = "INCONCLUSIVE"  # any change reaches both files
    text = write_cpu_grid_verdict(tmp_path, doc)
    assert (tmp_path / "verdict.txt").read_text() == text
    assert text.rstrip().endswith("verdict: INCONCLUSIVE")
    again = json.loads((tmp_path / "verdict.json").read_text())
    assert render_cpu_grid_verdict(again) == text


def test_rendering_follows_every_decision() -> None:
    doc = json.loads((BENCH / "neural_cpu_grid" / "verdict.json").read_text())
    doc["result"]["measured"]["inconclusive_reasons"] = ["a reason"]
    assert "reason: a reason" in render_cpu_grid_verdict(doc)
