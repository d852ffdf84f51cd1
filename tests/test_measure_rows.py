"""``rhm-theory measure --rows``: thresholds from another code judged by the one rule."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rhm_theory.cli import main
from rhm_theory.scaling import ROW_COLUMNS, RowError, read_threshold_rows, threshold_rows

CLAIM = "v*m**3/(1-f)"
VMS = ((4, 2), (8, 2), (16, 2), (32, 2), (9, 3), (16, 4))


def _rows(expr: str, seed: int, scale: float = 0.04) -> list[dict[str, Any]]:
    """Thresholds following ``expr`` with heavy-tailed noise (Student t, df = 3): a grammar
    effect shared by every depth of one (v, m, seed) plus an independent part per run."""
    rng = np.random.default_rng(seed)
    out = []
    for v, m in VMS:
        for sd in range(5):
            shared = scale * rng.standard_t(3)
            for L in (3, 4, 5, 6):
                f = m / v
                law = eval(expr, {}, {"v": v, "m": m, "L": L, "f": f})  # test data only
                P = 7.0 * law * math.exp(shared + scale * rng.standard_t(3))
                out.append({"v": v, "m": m, "s": 2, "L": L, "seed": sd, "P_lo": P, "P_hi": P})
    return out


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        with path.open("w", newline="") as fh:
            names = list(dict.fromkeys(k for r in rows for k in r))
            w = csv.DictWriter(fh, fieldnames=names)
            w.writeheader()
            w.writerows(rows)
    return path


def _judge(path: Path, claim: str, capsys: Any, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["measure", "--rows", str(path), "--claim", claim, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("seed", [0, 1])
def test_heavy_tailed_shared_noise_under_the_claim_is_not_failed(
        tmp_path: Path, capsys: Any, seed: int) -> None:
    path = _write(tmp_path / "rows.csv", _rows(CLAIM, seed))
    code, doc = _judge(path, CLAIM, capsys, "--n-sim", "60", "--seed", str(seed))
    assert doc["verdict"] != "FAIL" and code == 0
    assert doc["power"]["claim"] >= 0.5  # the grid gives the calibration power


@pytest.mark.parametrize("seed", [0, 1])
def test_a_wrong_v_exponent_is_not_passed(tmp_path: Path, capsys: Any, seed: int) -> None:
    wrong = f"{CLAIM}*v**0.35"
    path = _write(tmp_path / "rows.jsonl", _rows(CLAIM, seed))
    _, doc = _judge(path, wrong, capsys, "--n-sim", "40", "--seed", str(seed))
    assert doc["verdict"] != "PASS"
    # Rows generated under the wrong law, judged against the right one: not PASS either.
    path = _write(tmp_path / "wrong.csv", _rows(wrong, seed))
    _, doc = _judge(path, CLAIM, capsys, "--n-sim", "40", "--seed", str(seed))
    assert doc["verdict"] != "PASS"
    assert doc["axes"][0]["axis"] == "v" and doc["axes"][0]["outcome"] != "holds"


def test_json_keys_and_text(tmp_path: Path, capsys: Any) -> None:
    path = _write(tmp_path / "rows.csv", _rows(CLAIM, 0))
    _, doc = _judge(path, "v m^3 / (1-f)", capsys, "--n-sim", "10")
    assert {"claim", "verdict", "power", "fit", "decision", "axes", "sentence"} <= set(doc)
    assert doc["claim"] == CLAIM and doc["decision"] in ("claim", "rejected", "undecided")
    assert doc["verdict"] in ("PASS", "FAIL", "INCONCLUSIVE")
    assert {"claim", "false_fail", "alternatives", "n_sim"} <= set(doc["power"])
    assert len(doc["power"]["alternatives"]) == 6 and doc["power"]["n_sim"] == 10
    assert {"coef", "low", "high"} <= set(doc["fit"])
    main(["measure", "--rows", str(path), "--claim", CLAIM, "--n-sim", "10"])
    text = capsys.readouterr().out
    assert "v exponent:" in text and "false-PASS" in text and "verdict:" in text


def test_censored_rows_are_intervals(tmp_path: Path) -> None:
    rows = [{"v": 8, "m": 2, "s": 2, "L": 3, "seed": 0, "P_lo": 0, "P_hi": 64},
            {"v": 8, "m": 2, "s": 2, "L": 4, "seed": 0, "P_lo": 4096, "P_hi": ""},
            {"v": 8, "m": 2, "s": 2, "L": 5, "seed": 0, "P_lo": 4096, "P_hi": "inf",
             "level": 2},
            {"v": 8, "m": 2, "s": 2, "L": 5, "seed": 1, "P_lo": 900, "P_hi": 900}]
    pts = read_threshold_rows(_write(tmp_path / "c.csv", rows))
    assert [p.log_interval for p in pts] == [
        (-math.inf, math.log(64)), (math.log(4096), math.inf), (math.log(4096), math.inf),
        (math.log(900), math.log(900))]
    assert [p.level for p in pts] == [0, 0, 2, 0]
    assert pts == read_threshold_rows(_write(tmp_path / "c.jsonl", rows))


GOOD = {"v": 8, "m": 2, "s": 2, "L": 3, "seed": 0, "P_lo": 100, "P_hi": 100}


@pytest.mark.parametrize(("change", "match"), [
    ({"P_hi": None}, "row 2, column P_hi: missing"),
    ({"v": "eight"}, "row 2, column v: not a number: 'eight'"),
    ({"P_lo": "x"}, "row 2, column P_lo: not a number"),
    ({"P_lo": 200, "P_hi": 100}, r"row 2, column P_hi: P_lo > P_hi \(200 > 100\)"),
    ({"P_lo": 100, "P_hi": 200}, "row 2, column P_lo, P_hi: .* neither a point"),
    ({"v": 1}, "row 2, column v: must be >= 2"),
    ({"m": 9}, r"row 2, column m: must satisfy m <= v\^\(s-1\) = 8"),
    ({"s": 1}, "row 2, column s: must be >= 2"),
    ({"L": 2.5}, "row 2, column L: must be an integer"),
    ({"seed": -1}, "row 2, column seed: must be >= 0"),
    ({"level": 3}, "row 2, column level: must satisfy 0 <= level < L = 3"),
    ({"P_lo": 0, "P_hi": 0}, "row 2, column P_lo: a point threshold needs"),
    ({"L": 3}, "row 2, column seed: .* is also row 1"),
])
def test_bad_rows_name_row_and_column(tmp_path: Path, capsys: Any, change: dict[str, Any],
                                      match: str) -> None:
    bad = {k: x for k, x in {**GOOD, **change}.items() if x is not None}
    records = [GOOD, bad]
    with pytest.raises(RowError, match=match):
        threshold_rows(records)
    # The command: one line naming row and column, exit status 2, before any fit.
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["measure", "--rows", str(path), "--claim", CLAIM]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "row 2, column" in err[0]


def test_bad_files_and_arguments(tmp_path: Path, capsys: Any) -> None:
    assert set(ROW_COLUMNS) == {"v", "m", "s", "L", "seed", "P_lo", "P_hi"}
    no_col = tmp_path / "h.csv"
    no_col.write_text("v,m,s,L,seed,P_lo\n8,2,2,3,0,100\n")
    assert main(["measure", "--rows", str(no_col), "--claim", CLAIM]) == 2
    assert "row 1, column P_hi: missing" in capsys.readouterr().err
    not_json = tmp_path / "j.jsonl"
    not_json.write_text(json.dumps(GOOD) + "\n{oops\n")
    assert main(["measure", "--rows", str(not_json), "--claim", CLAIM]) == 2
    assert "row 2, column *: not JSON" in capsys.readouterr().err
    good = _write(tmp_path / "g.csv", [GOOD])
    # A law undefined at a row (f = 1 here) is named before any fit.
    edge = _write(tmp_path / "e.csv", [{**GOOD, "v": 2, "m": 2}])
    assert main(["measure", "--rows", str(edge), "--claim", CLAIM]) == 2
    assert "row 1: law" in capsys.readouterr().err
    for argv in (["--rows", str(good)], ["x:y", "--rows", str(good), "--claim", CLAIM],
                 ["--rows", str(good), "--claim", "v*q"], ["--claim", CLAIM],
                 ["--rows", str(tmp_path / "missing.csv"), "--claim", CLAIM], []):
        assert main(["measure", *argv]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_documented_example_file_reads() -> None:
    pts = read_threshold_rows(Path(__file__).parent.parent / "docs" / "measure_rows_example.csv")
    assert len(pts) == 120 and sum(p.censored for p in pts) == 2


def test_per_level_rows_are_judged_on_the_level_axis(tmp_path: Path, capsys: Any) -> None:
    rows = [{**r, "level": lv, "P_lo": r["P_lo"] * 1.1**lv, "P_hi": r["P_hi"] * 1.1**lv}
            for r in _rows(CLAIM, 0)[:60] for lv in (1, 2) if lv < r["L"]]
    _, doc = _judge(_write(tmp_path / "l.jsonl", rows), CLAIM, capsys, "--n-sim", "0")
    assert [a["axis"] for a in doc["axes"]] == ["v", "m", "L", "l"]
    assert doc["power"] is None and doc["verdict"] != "PASS"  # no calibration, no PASS
