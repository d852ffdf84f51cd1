"""CLI ``grammar make|check|show`` and ``sample``, run in-process through ``main``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rhm_theory.cli import main
from rhm_theory.model import load_grammar, parse
from rhm_theory.model.sampling import sample


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_make_check_show_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gfile = tmp_path / "g.json"
    argv = ["grammar", "make", "--v", "4", "--m", "2", "--s", "2", "--L", "3"]
    assert main([*argv, "--seed", "7", "--out", str(gfile)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {gfile}" in out and "P_max" in out and "balanced" in out

    made = _json(capsys, [*argv, "--seed", "7", "--out", str(gfile), "--json"])
    assert made["P_max"] == 4 * 2**7 and made["file"] == str(gfile)

    assert main(["grammar", "check", str(gfile)]) == 0
    text = capsys.readouterr().out
    assert "512" in text and "log_P_max" in text
    info = _json(capsys, ["grammar", "check", str(gfile), "--json"])
    g = load_grammar(gfile)
    assert info["valid"] is True
    assert info["balanced"] == g.is_balanced()
    assert info["f"] == 0.5 and info["n_rules"] == 24 and info["P_max"] == 512
    assert abs(info["log_P_max"] - np.log(512)) < 1e-12

    assert main(["grammar", "show", str(gfile), "--limit", "1"]) == 0
    shown = capsys.readouterr().out
    assert "level 3 -> level 2" in shown and "3 more symbols" in shown and "(+1)" in shown
    assert main(["grammar", "show", str(gfile), "--limit", "0"]) == 0
    full = capsys.readouterr().out
    r = g.rules_of(1)[3]
    assert f"({r[0, 0]},{r[0, 1]}) ({r[1, 0]},{r[1, 1]})" in full
    doc = _json(capsys, ["grammar", "show", str(gfile), "--json"])
    assert doc["rules"] == [t.tolist() for t in g.rules]

    npz = tmp_path / "data.npz"
    argv = ["sample", str(gfile), "--n", "1000", "--seed", "3", "--out", str(npz)]
    rep = _json(capsys, [*argv, "--latents", "--chunk-size", "97", "--json"])
    assert rep["arrays"]["tokens"] == [1000, 8] and rep["arrays"]["level_3"] == [1000, 1]
    ref = sample(g, 1000, seed=3, latents=True)
    with np.load(npz) as data:
        assert sorted(data.files) == ["level_1", "level_2", "level_3", "tokens"]
        assert data["tokens"].dtype == np.uint8
        assert np.array_equal(data["tokens"], ref.tokens)
        for lv in (1, 2, 3):
            assert np.array_equal(data[f"level_{lv}"], ref.level(lv))
    assert not list(tmp_path.glob(".rhm-sample-*"))  # temporary files cleaned up

    argv[3] = "400"  # P_max = 512
    assert main([*argv, "--no-replace"]) == 0
    assert "wrote" in capsys.readouterr().out
    with np.load(npz) as data:
        assert data.files == ["tokens"]
        tokens = data["tokens"]
    assert np.array_equal(tokens, sample(g, 400, seed=3, replace=False).tokens)
    assert len({row.tobytes() for row in tokens}) == 400
    assert (parse(g, tokens)[-1] != g.params.unknown).all()


def test_balanced_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gfile = tmp_path / "b.json"
    argv = ["grammar", "make", "--v", "4", "--m", "2", "--s", "2", "--L", "2", "--family", "balanced"]
    info = _json(capsys, [*argv, "--seed", "1", "--out", str(gfile), "--json"])
    assert info["balanced"] is True and load_grammar(gfile).is_balanced()
    # No balanced root level when v does not divide n_c*m: clean error, exit 2.
    assert main([*argv, "--n-c", "3", "--seed", "1", "--out", str(gfile)]) == 2
    assert "v divides n_c*m" in capsys.readouterr().err


def test_check_reports_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "rhm-grammar", "version": 1, "v": 3')
    assert main(["grammar", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "not valid JSON" in err
    assert main(["grammar", "check", str(bad), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False and "not valid JSON" in doc["error"]
    assert main(["grammar", "check", str(tmp_path / "none.json")]) == 2
    assert "none.json" in capsys.readouterr().err
    assert main(["grammar", "show", str(bad)]) == 2
    assert main(["sample", str(bad), "--n", "3", "--seed", "0", "--out", "x.npz"]) == 2


def test_bad_make_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["grammar", "make", "--v", "4", "--m", "5", "--s", "2", "--L", "2"]
    assert main([*argv, "--seed", "0", "--out", str(tmp_path / "g.json")]) == 2
    assert "m must satisfy m <= v**(s-1)" in capsys.readouterr().err
    # A usage error is one line naming the option, exit status 2 (main returns it).
    assert main(["grammar", "make", "--v", "4", "--m", "1", "--s", "2", "--L", "2", "--seed",
                 "-1", "--out", "g.json"]) == 2  # fmt: skip
    assert "argument --seed: must be >= 0" in capsys.readouterr().err


def test_sample_refuses_too_many_distinct(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gfile = tmp_path / "g.json"
    argv = ["grammar", "make", "--v", "2", "--m", "1", "--s", "2", "--L", "1", "--n-c", "2"]
    assert main([*argv, "--seed", "0", "--out", str(gfile)]) == 0
    capsys.readouterr()
    npz = tmp_path / "d.npz"
    cmd = ["sample", str(gfile), "--n", "3", "--seed", "0", "--out", str(npz), "--no-replace"]
    assert main(cmd) == 2
    assert "P <= P_max = 2" in capsys.readouterr().err


def test_make_weighted_ambiguous_s3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gfile = tmp_path / "w.json"
    argv = ["grammar", "make", "--v", "5", "--m", "3", "--s", "3", "--L", "2", "--seed", "2",
            "--rule-probs", "zipf:1@2", "--root-probs", "explicit:0.6,0.1,0.1,0.1,0.1",
            "--ambiguity", "0.2", "--out", str(gfile), "--json"]  # fmt: skip
    made = _json(capsys, argv)
    assert made["ambiguous"] is True and made["uniform_weights"] is False
    g = load_grammar(gfile)
    assert g.root_probs.tolist() == [0.6, 0.1, 0.1, 0.1, 0.1]
    assert g.rule_probs_of(1)[0].tolist() == [1 / 3] * 3  # zipf at level 2 only
    assert g.rule_probs_of(2)[0, 0] == pytest.approx(1 / (1 + 2**-2 + 3**-2))
    checked = _json(capsys, ["grammar", "check", str(gfile), "--json"])
    assert checked["valid"] and checked["min_rule_prob"] == pytest.approx(
        3**-2 / (1 + 2**-2 + 3**-2)
    )
    npz = tmp_path / "d.npz"
    assert main(["sample", str(gfile), "--n", "50", "--seed", "1", "--out", str(npz)]) == 0
    with np.load(npz) as data:
        assert np.array_equal(data["tokens"], sample(g, 50, seed=1).tokens)
    capsys.readouterr()
    exact = _json(capsys, ["exact", str(gfile), "--json"])
    assert exact["ambiguous"] is True and exact["uniform_weights"] is False


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--rule-probs", "zipf:-1"], r"rule_probs spec 'zipf:-1': a must satisfy"),
        (["--rule-probs", "pareto"], r"rule_probs must be 'uniform'"),
        (["--root-probs", "explicit:0.5,0.6,0,0"], r"root_probs must have rows summing to 1"),
        (["--root-probs", "explicit:-1,1,0.5,0.5"], r"root_probs must be non-negative"),
        (["--root-probs", "explicit:1,0"], r"root_probs must have shape \(4\)"),
        (["--ambiguity", "0.7"], r"ambiguity must satisfy 0.0 <= ambiguity <= 0.5"),
        (["--ambiguity", "nan"], r"ambiguity must satisfy"),
        (["--ambiguity", "0.1", "--family", "balanced"], r"ambiguity > 0 needs a family with shared"),
    ],
)
def test_bad_weight_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    argv = ["grammar", "make", "--v", "4", "--m", "2", "--s", "2", "--L", "2", "--seed", "0",
            "--out", str(tmp_path / "g.json"), *extra]  # fmt: skip
    assert main(argv) == 2
    import re

    assert re.search(match, capsys.readouterr().err)
    assert not (tmp_path / "g.json").exists()
