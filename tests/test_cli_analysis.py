"""CLI: ``exact`` and ``ilc`` JSON documents, and ``python -m rhm_theory``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rhm_theory.cli import main
from rhm_theory.exact import context_laws, margin_summary
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.grammar_io import save_grammar


@pytest.fixture
def grammar_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.json"
    save_grammar(random_grammar(RHMParams(8, 2, 2, 3), seed=3), path)
    return path


def test_exact_json_levels(grammar_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exact", str(grammar_file), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    g = random_grammar(RHMParams(8, 2, 2, 3), seed=3)
    rows = {(r["level"], r["context"]): r for r in doc["levels"]}
    assert set(rows) == {(lv, k) for lv in (1, 2) for k in ("latent", "token", "label")}
    for (level, kind), r in rows.items():
        expected = margin_summary(context_laws(g, level, kind))
        assert r["margin_min"] == pytest.approx(expected.margin_min, abs=1e-12)
        assert r["margin_mean"] == pytest.approx(expected.margin_mean, abs=1e-12)
    assert len(doc["token_correlation"]) == 3


@pytest.mark.parametrize(("P", "recovered"), [(3, False), (20_000, True)])
def test_ilc_json_levels(grammar_file: Path, capsys: pytest.CaptureFixture[str], P: int,
                         recovered: bool) -> None:
    assert main(["ilc", str(grammar_file), "--P", str(P), "--seed", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["level"] for r in doc["levels"]] == [1, 2]
    assert all({"accuracy", "exact_partition"} <= set(r) for r in doc["levels"])
    assert all(r["exact_partition"] is recovered for r in doc["levels"])


def test_ilc_rejects_bad_P(grammar_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ilc", str(grammar_file), "--P", "0"]) == 2
    assert "argument --P: must be >= 1" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "rhm_theory", "verify", "--list"],
                         capture_output=True, text=True, check=True)
    assert "ilc_threshold_scaling" in out.stdout
