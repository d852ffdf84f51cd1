"""``rhm-theory bounds`` runs in-process: formulas, exact predictions, JSON and errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from rhm_theory.bounds import predicted_threshold, sample_complexities
from rhm_theory.cli import main
from rhm_theory.exact import context_laws, margin_summary
from rhm_theory.model import RHMParams, random_grammar


def _run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def _finite(x: float | str) -> float:
    return math.inf if x == "inf" else float(x)


def test_bounds_json_from_flags(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _run_json(capsys, ["bounds", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                             "--delta", "0.05", "--C", "2", "--json"])
    assert doc["params"] == {"v": 8, "m": 2, "s": 2, "L": 3, "n_c": 8}
    expected = sample_complexities(8, 2, 2, 3, delta=0.05, C=2.0)
    assert list(doc["formulas"]) == list(expected)
    for key, value in expected.items():
        assert _finite(doc["formulas"][key]) == pytest.approx(value, rel=1e-12)
    assert "exact" not in doc


def test_bounds_defaults_and_n_c(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _run_json(capsys, ["bounds", "--v", "6", "--m", "3", "--L", "2", "--n-c", "4",
                             "--json"])
    assert doc["params"]["s"] == 2 and doc["params"]["n_c"] == 4
    assert doc["formulas"]["supervised_sample_complexity"] == 4 * 3**2


def test_bounds_with_grammar_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rhm_theory.model.grammar_io import save_grammar

    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=3)
    path = tmp_path / "g.json"
    save_grammar(g, path)
    doc = _run_json(capsys, ["bounds", "--grammar", str(path), "--json"])
    assert doc["params"] == g.params.to_dict()
    rows = doc["exact"]["levels"]
    assert [(r["context"], r["level"]) for r in rows] == [
        (k, lv) for k in ("latent", "token", "label") for lv in (1, 2, 3)
    ]
    for r in rows:
        assert _finite(r["predicted_threshold"]) == pytest.approx(
            predicted_threshold(g, r["level"], r["context"]), rel=1e-12)
        summary = margin_summary(context_laws(g, r["level"], r["context"]))
        assert r["margin_min"] == pytest.approx(summary.margin_min, rel=1e-12)
        assert r["margin_mean"] == pytest.approx(summary.margin_mean, rel=1e-12)
    for kind, value in doc["exact"]["tree_threshold"].items():
        per_level = [_finite(r["predicted_threshold"]) for r in rows if r["context"] == kind]
        assert _finite(value) == pytest.approx(max(per_level), rel=1e-12)
    # Matching flags are accepted; the text table mentions every context.
    assert main(["bounds", "--grammar", str(path), "--v", "8", "--L", "4"]) == 0
    text = capsys.readouterr().out
    assert "theorem_bound" in text and "label" in text and "Tree threshold" in text


def test_zero_margin_prints_inf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rhm_theory.model.grammar_io import save_grammar

    save_grammar(random_grammar(RHMParams(v=32, m=2, s=2, L=3), seed=4), tmp_path / "z.json")
    doc = _run_json(capsys, ["bounds", "--grammar", str(tmp_path / "z.json"), "--json"])
    assert doc["exact"]["levels"][0]["predicted_threshold"] == "inf"
    assert doc["exact"]["tree_threshold"]["latent"] == "inf"


def test_bounds_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", "--v", "8", "--m", "2", "--L", "3"]) == 0
    out = capsys.readouterr().out
    assert "latent_sample_complexity" in out and "64.0000" in out


@pytest.mark.parametrize("argv", [
    ["bounds", "--v", "8", "--L", "3"],  # --m missing
    ["bounds", "--v", "4", "--m", "5", "--L", "3"],  # m > v**(s-1)
])
def test_bounds_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "rhm-theory bounds: error:" in capsys.readouterr().err


def test_bounds_flags_must_match_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rhm_theory.model.grammar_io import save_grammar

    save_grammar(random_grammar(RHMParams(v=8, m=2, s=2, L=3), seed=0), tmp_path / "g.json")
    assert main(["bounds", "--grammar", str(tmp_path / "g.json"), "--m", "3"]) == 2
    assert "--m=3 (file: 2)" in capsys.readouterr().err
