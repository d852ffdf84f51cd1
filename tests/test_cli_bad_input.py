"""Bad input at the command line: one line on stderr naming the option or path, a non-zero
exit status, no traceback, and any pre-existing output byte-identical afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from proofs_checks._framework import EXACT_IDENTITY, CheckResult, Power, Verdict
from proofs_checks.verify import TABLE_WIDTH, compact_table
from rhm_theory.cli import main
from rhm_theory.io import atomic_path, write_text

ROOT = Path(__file__).resolve().parents[1]
OLD = b"previous output, must survive\n"


@pytest.fixture(scope="module")
def grammar_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("g") / "g.json"
    assert main(["grammar", "make", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                 "--seed", "0", "--out", str(path)]) == 0
    return path


# (id, argv builder from (tmp folder, grammar file, pre-existing file), stderr fragment)
# The pre-existing file ``old`` holds OLD before each case and must still hold it after.
Case = tuple[str, Callable[[Path, Path, Path], list[str]], str]
CASES: list[Case] = [
    ("grammar file is a directory", lambda t, g, old: ["exact", str(t)],
     "Is a directory"),
    ("grammar file missing", lambda t, g, old: ["bp", str(t / "nope.json"), "--seed", "1"],
     "No such file or directory"),
    ("grammar file not JSON", lambda t, g, old: ["grammar", "show", str(old)],
     "not valid JSON"),
    ("make --out under a regular file",
     lambda t, g, old: ["grammar", "make", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                        "--seed", "0", "--out", str(old / "g.json")], "--out"),
    ("make --out onto a directory",
     lambda t, g, old: ["grammar", "make", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                        "--seed", "0", "--out", str(t)], "--out is a directory"),
    ("make --out in a missing folder",
     lambda t, g, old: ["grammar", "make", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                        "--seed", "0", "--out", str(t / "no" / "g.json")], "no such folder"),
    ("make bad parameter onto an existing file",
     lambda t, g, old: ["grammar", "make", "--v", "4", "--m", "5", "--s", "2", "--L", "2",
                        "--seed", "0", "--out", str(old)], "m must satisfy"),
    ("sample --n 0 onto an existing file",
     lambda t, g, old: ["sample", str(g), "--n", "0", "--seed", "0", "--out", str(old)],
     "argument --n: must be >= 1"),
    ("sample --out under a regular file",
     lambda t, g, old: ["sample", str(g), "--n", "5", "--seed", "0", "--out",
                        str(old / "s.npz")], "--out"),
    ("sample --out onto a directory",
     lambda t, g, old: ["sample", str(g), "--n", "5", "--seed", "0", "--out", str(t)],
     "--out is a directory"),
    ("verify --out is a regular file",
     lambda t, g, old: ["verify", "--only", "synonym_invariance", "--out", str(old)],
     "--out is not a directory"),
    ("verify --out under a regular file",
     lambda t, g, old: ["verify", "--only", "synonym_invariance", "--out", str(old / "r")],
     "--out: not a directory"),
    ("explore --out under a regular file",
     lambda t, g, old: ["explore", "--quick", "--out", str(old / "x")],
     "--out: not a directory"),
    ("figures --out is a regular file",
     lambda t, g, old: ["figures", "--rows", str(t), "--out", str(old)], "--out"),
    ("verify --workers 0", lambda t, g, old: ["verify", "--workers", "0"],
     "argument --workers: must be >= 1, got 0"),
    ("verify --workers -1", lambda t, g, old: ["verify", "--workers", "-1"],
     "argument --workers: must be >= 1, got -1"),
    ("explore --workers 0", lambda t, g, old: ["explore", "--out", str(t), "--workers", "0"],
     "argument --workers: must be >= 1"),
    ("figures --workers 0", lambda t, g, old: ["figures", "--workers", "0"],
     "argument --workers: must be >= 1"),
    ("verify unknown check", lambda t, g, old: ["verify", "--only", "nosuch", "--out", str(t)],
     "unknown check"),
    ("ilc --n-test 0", lambda t, g, old: ["ilc", str(g), "--P", "10", "--n-test", "0"],
     "argument --n-test: must be >= 1, got 0"),
    ("ilc --P 0", lambda t, g, old: ["ilc", str(g), "--P", "0"], "argument --P: must be >= 1"),
    ("ilc --seed -1", lambda t, g, old: ["ilc", str(g), "--P", "10", "--seed", "-1"],
     "argument --seed: must be >= 0"),
    ("bp --n 0", lambda t, g, old: ["bp", str(g), "--n", "0", "--seed", "1"],
     "argument --n: must be >= 1"),
    ("bp --noise 1", lambda t, g, old: ["bp", str(g), "--seed", "1", "--noise", "1"],
     "argument --noise: must satisfy 0 <= value < 1"),
    ("bp --block-level too deep",
     lambda t, g, old: ["bp", str(g), "--seed", "1", "--mask-frac", "0.2",
                        "--block-level", "9"], "block_level must satisfy"),
    ("bounds --delta 2", lambda t, g, old: ["bounds", "--v", "8", "--m", "2", "--L", "3",
                                            "--delta", "2"], "delta must satisfy"),
    ("show --limit -1", lambda t, g, old: ["grammar", "show", str(g), "--limit", "-1"],
     "argument --limit: must be >= 0"),
    ("an integer option given text", lambda t, g, old: ["ilc", str(g), "--P", "many"],
     "argument --P: must be an integer"),
    ("unknown command", lambda t, g, old: ["frobnicate"], "invalid choice"),
    # A file that is not a grammar JSON: the message names the file and what it looks like.
    ("grammar file is a zip", lambda t, g, old: ["exact", _file(t, "z.json", b"PK\x03\x04..")],
     "z.json: invalid rhm-grammar file: a zip archive"),
    ("grammar file is gzip",
     lambda t, g, old: ["ilc", _file(t, "g.json.gz", b"\x1f\x8b\x08\x00"), "--P", "10"],
     "g.json.gz: invalid rhm-grammar file: gzip-compressed data"),
    ("grammar file is empty", lambda t, g, old: ["grammar", "show", _file(t, "e.json", b"")],
     "e.json: invalid rhm-grammar file: the file is empty"),
    ("grammar file is binary",
     lambda t, g, old: ["bp", _file(t, "b.json", b"\xff\xfe\x00\x9c")],
     "b.json: invalid rhm-grammar file: binary data, not UTF-8 text (byte 0xff"),
    ("grammar file is text, not JSON",
     lambda t, g, old: ["sample", _file(t, "t.json", b"v=8 m=2"), "--n", "5", "--out",
                        str(old)], "not valid JSON (truncated or corrupted?)"),
    ("verify --only without a name", lambda t, g, old: ["verify", "--only", "--out", str(t)],
     "--only needs at least one CHECK; the checks: synonym_invariance, "),
    ("ilc --P too large for the limit",
     lambda t, g, old: ["ilc", str(g), "--P", "100000000000"],
     "refused: --P 100000000000 would take about"),
    ("measure: a custom grid too large for the limit",
     lambda t, g, old: ["measure", "rhm_theory.learners.ilc:latent", "--v", "8", "--m", "2",
                        "--L", "3", "--P", "10000000000", "--seeds", "0", "--out", str(t / "m")],
     "refused: the grid of --v/--m/--L/--P would take about"),
]


def _file(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return str(folder / name)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_loses_nothing(
    case: Case, tmp_path: Path, grammar_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    _, build, fragment = case
    old = tmp_path / "existing.out"
    old.write_bytes(OLD)
    status = main(build(tmp_path, grammar_file, old))
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rhm-theory"), err
    assert fragment in lines[0], err
    assert "Traceback" not in err
    assert old.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_non_writable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["grammar", "make", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                     "--seed", "0", "--out", str(ro / "g.json")]) == 2
    finally:
        ro.chmod(0o700)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not writable" in err and str(ro) in err


def test_write_fails_mid_way_and_keeps_the_old_file(tmp_path: Path) -> None:
    """The atomic writer: an exception inside the block leaves the old bytes, no temp."""
    target = tmp_path / "g.json"
    target.write_bytes(OLD)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a gram")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]


def test_verify_only_keeps_the_full_report(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rhm-report"
    out.mkdir()
    (out / "report.md").write_bytes(OLD)
    (out / "report.json").write_bytes(OLD)
    assert main(["verify", "--only", "synonym_invariance", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (out / "report.md").read_bytes() == OLD
    assert (out / "report.json").read_bytes() == OLD
    assert (out / "report-only-synonym_invariance.md").is_file()
    doc = json.loads((out / "report-only-synonym_invariance.json").read_text())
    assert doc["checks"][0]["name"] == "synonym_invariance"
    # Every line fits, but the one naming the report (as long as the path given).
    assert max(len(line) for line in printed.splitlines()
               if not line.startswith("report: ")) <= TABLE_WIDTH
    assert "exit status 0" in printed and "not run:" in printed


def test_compact_table_fits_100_columns() -> None:
    long = "x" * 300
    results = [
        CheckResult("a_check_with_a_rather_long_name_indeed", long, "src", long,
                    measured={"slope": -0.98, "other": long}, predicted={"slope": -1.0},
                    tolerance=long, verdict=Verdict.INCONCLUSIVE,
                    power=Power(0.93, (("v m^3.5", 0.02), (long, 0.01)), 200)),
        CheckResult("exact_one", "c", "s", "p", measured={"spread": 0.0},
                    predicted={"spread": 0.0}, tolerance="t", verdict=Verdict.PASS,
                    power_reason=f"{EXACT_IDENTITY} (no noise)"),
        CheckResult("explore", "c", "s", "p", measured={"x": 1.0}, predicted={},
                    tolerance="t", verdict=Verdict.EXPLORATORY, power_reason="exploratory"),
        CheckResult.judged("uncalibrated", "c", "s", "p", measured={"x": 1.0}, predicted={},
                           tolerance="t", verdict=Verdict.PASS),
    ]
    table = compact_table(results)
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= TABLE_WIDTH
    assert "..." not in table  # wrapped, never cut
    flat = " ".join(line.strip() for line in lines)
    assert "calibration: power 0.93, worst false-PASS 0.02 (" in flat
    assert "slope -0.98 (predicted -1)" in flat
    head = {line.split(":")[0]: line for line in lines if not line.startswith(" ")}
    assert head["exact_one"] == "exact_one: PASS"
    assert "calibration: exact" in table and "calibration: none (exploratory)" in table
    # a PASS without calibration is withheld, and the table says why
    assert head["uncalibrated"] == "uncalibrated: INCONCLUSIVE"
    assert "calibration: not calibrated" in table and "note: not calibrated" in table
    # the legend, once
    assert table.count("false-FAIL: how often") == 1


def test_version_and_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    from rhm_theory import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rhm-theory {__version__}"
    assert main(["verify", "--list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["name"] for c in doc["checks"]} >= {"synonym_invariance", "theorem_one_minus_f",
                                                   "ilc_exact_recovery_scaling"}
    # the quick grid runs every check but the neural ones by default
    assert all(c["runs_by_default"] == (not c["name"].startswith("neural_"))
               for c in doc["checks"])


def test_quiet_and_json_print_nothing_on_stderr(
    grammar_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "bp", str(grammar_file), "--n", "20", "--seed", "1"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["bp", str(grammar_file), "--n", "20", "--seed", "1", "--json", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["n"] == 20


def test_explore_exits_1_when_its_claim_check_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rhm_theory.sweeps.explore as explore

    # A Zipf point whose measured/predicted ratio is 10x the uniform grammar's: the claim
    # check (proofs_checks.zipf_tracking, applied by the CLI) FAILs.
    rec = {"context": "latent", "L": 2, "P_star": 1.0, "ratio": 1.0, "best_accuracy": 1.0}
    summary = [{**rec, "axis": "baseline", "value": 0.0, "P_star_exact": 100.0,
                "predicted": 100.0, "uniform_formula": 100.0},
               {**rec, "axis": "zipf", "value": 1.0, "P_star_exact": 1000.0,
                "predicted": 100.0, "uniform_formula": 10.0}]

    def fake(out: str, **_: object) -> dict[str, object]:
        return {"summary": summary, "separation": [],
                "zipf_tracking": explore.zipf_tracking_drifts(summary).to_dict()}

    monkeypatch.setattr(explore, "run_explore", fake)
    assert main(["explore", "--out", str(tmp_path), "--quick"]) == 1
    assert "exit status 1" in capsys.readouterr().out
    assert main(["explore", "--out", str(tmp_path), "--quick", "--json"]) == 1


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_closed_stdout_is_quiet(tmp_path: Path) -> None:
    """``rhm-theory ... --json | head -1``: no BrokenPipeError traceback, exit 141."""
    g = tmp_path / "big.json"
    assert main(["grammar", "make", "--v", "64", "--m", "8", "--s", "2", "--L", "3",
                 "--seed", "0", "--out", str(g)]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "rhm_theory", "grammar", "show", str(g),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == b"{"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""


@pytest.mark.slow  # a real sweep in a subprocess: minutes on a loaded machine
def test_ctrl_c_during_verify_exits_130_without_traceback(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rhm_theory", "verify", "--only", "ilc_threshold_scaling",
         "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), start_new_session=True,
        # A shell without job control starts background jobs with SIGINT ignored, which the
        # child would inherit (then Python installs no handler): restore the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out / "sweep").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (out / "sweep").exists(), "the sweep never started"
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    _, err_bytes = proc.communicate(timeout=300)
    err = err_bytes.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted; rerun the same command to resume" in err
    assert not (out / "report.md").exists()


def test_workers_exit_when_their_parent_is_gone() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    t0 = time.monotonic()
    code = ("from rhm_theory.sweeps.runner import _worker_init; import time; "
            f"_worker_init({dead.pid}); time.sleep(60)")
    rc = subprocess.run([sys.executable, "-c", code], env=_env(), timeout=60).returncode
    assert rc == 1
    assert time.monotonic() - t0 < 30


def test_a_row_cut_by_a_kill_is_dropped_on_resume(tmp_path: Path) -> None:
    from rhm_theory.sweeps.runner import SweepCell, run_sweep

    cell = SweepCell("latent", 4, 2, 2, 3, 64, n_test=16)
    rows = run_sweep([cell], out_dir=tmp_path, max_workers=1, progress=False)
    jsonl = tmp_path / "rows.jsonl"
    whole = jsonl.read_bytes()
    jsonl.write_bytes(whole + b'{"key": "half a ro')  # killed mid-append
    again = run_sweep([cell], out_dir=tmp_path, max_workers=1, progress=False)
    assert again == rows
    assert jsonl.read_bytes() == whole


BROKEN_LEARNER = """\
class Broken:
    def fit(self, tokens):
        return 1 / 0  # line 3

    def predict_latents(self, tokens, level):
        return tokens


def factory(cell):
    return Broken()
"""


@pytest.mark.parametrize("ask", ["none", "flag", "env"])
def test_an_error_in_the_users_learner_names_its_file_and_line(
        ask: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    learner = tmp_path / "my_learner.py"
    learner.write_text(BROKEN_LEARNER)
    monkeypatch.delenv("RHM_TRACEBACK", raising=False)
    if ask == "env":
        monkeypatch.setenv("RHM_TRACEBACK", "1")
    argv = ["measure", f"{learner}:factory", "--v", "8", "--m", "2", "--L", "3", "--P", "40",
            "--seeds", "0", "--workers", "1", "--no-figure", "--no-progress",
            "--out", str(tmp_path / "out")] + (["--traceback"] if ask == "flag" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert "fit raised ZeroDivisionError" in last
    assert f"[raised at {learner}:3 (in fit)]" in last
    if ask == "none":
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "--traceback or RHM_TRACEBACK=1" in last
    else:
        assert "Traceback (most recent call last)" in err and "return 1 / 0" in err


def test_the_user_frame_of_a_worker_traceback() -> None:
    from rhm_theory.cli._errors import user_frame

    class Remote(Exception):
        tb = ('Traceback (most recent call last):\n  File "/home/me/learner.py", line 7, in '
              'fit\n    x = 1 / 0\nZeroDivisionError: division by zero\n\nThe above '
              'exception was the direct cause of the following exception:\n\nTraceback '
              '(most recent call last):\n  File "/home/me/other.py", line 9, in run\n')

    exc = ValueError("cell failed")
    exc.__cause__ = Remote()
    assert user_frame(exc) == "/home/me/learner.py:7 (in fit)"
    assert user_frame(ValueError("no traceback")) is None


def test_every_seed_option_defaults_to_zero() -> None:
    import argparse

    from rhm_theory.cli import build_parser

    def walk(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, argparse.Action]]:
        out = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    out += walk(child, f"{name} {sub}")
            elif "--seed" in action.option_strings:
                out.append((name, action))
        return out

    seeds = walk(build_parser(), "rhm-theory")
    assert {n for n, _ in seeds} >= {"rhm-theory bp", "rhm-theory ilc", "rhm-theory sample",
                                     "rhm-theory grammar make"}
    for name, action in seeds:
        assert action.default == 0 and not action.required, name
