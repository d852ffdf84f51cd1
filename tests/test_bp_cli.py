"""``rhm-theory bp``: Bayes-optimal baselines from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rhm_theory.cli import main
from rhm_theory.inference import bayes_baselines
from rhm_theory.model import RHMParams, random_grammar, save_grammar


@pytest.fixture
def grammar_file(tmp_path: Path) -> Path:
    path = tmp_path / "g.json"
    save_grammar(random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0), path)
    return path


def test_bp_json_matches_the_library(
    grammar_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bp", str(grammar_file), "--n", "300", "--seed", "1", "--noise", "0.4",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    lib = bayes_baselines(g, 300, seed=1, noise=0.4)
    assert [lv["level"] for lv in doc["levels"]] == [0, 1, 2, 3, 4]
    for lv, score in zip(doc["levels"], lib.levels, strict=True):
        assert score is not None
        assert lv["accuracy"] == score.accuracy and lv["cross_entropy"] == score.cross_entropy
    assert doc["strings_per_second"] > 0 and doc["noise"] == 0.4
    assert 0 < doc["annealed_noise_threshold"] < 1


def test_bp_text_with_mask(grammar_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bp", str(grammar_file), "--n", "100", "--seed", "2", "--mask-frac", "0.5",
                 "--block-level", "1"]) == 0
    out = capsys.readouterr().out
    assert "masked tokens" in out and "strings/s" in out and "root" in out


def test_bp_bad_input(grammar_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bp", str(grammar_file), "--n", "10", "--seed", "1", "--noise", "1.0"]) == 2
    assert "--noise: must satisfy 0 <= value < 1" in capsys.readouterr().err
    assert main(["bp", str(grammar_file), "--seed", "1", "--noise", "0.1",
                 "--mask-frac", "0.2"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
