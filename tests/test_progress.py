"""Progress lines: live on a terminal, one every LOG_INTERVAL seconds in a log (fake clock),
plans and refusals before any work, and a fast first line."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rhm_theory.cli import main
from rhm_theory.progress import LOG_INTERVAL, Progress

ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_gets_a_line_every_interval_even_without_progress() -> None:
    clock, log = FakeClock(), io.StringIO()
    bar = Progress(10, True, stream=log, clock=clock, heartbeat=False)
    assert log.getvalue().splitlines() == ["sweep: 0/10 cells, 0 s elapsed"]
    for _t in range(1, 200):  # 199 s of one silent cell, polled every second
        clock.now += 1
        bar.poll()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 + 199 // int(LOG_INTERVAL)
    assert lines[-1] == "sweep: 0/10 cells, 3 min 00 s elapsed"
    bar.update(5)  # not due yet: no line
    assert len(log.getvalue().splitlines()) == len(lines)
    clock.now += LOG_INTERVAL
    bar.update()
    assert log.getvalue().splitlines()[-1].startswith("sweep: 6/10 cells, 3 min 39 s elapsed")
    for _ in range(4):
        bar.update()  # the last unit prints at once
    assert log.getvalue().splitlines()[-1].startswith("sweep: 10/10 cells")
    n = len(log.getvalue().splitlines())
    bar.close()  # nothing new to say
    assert len(log.getvalue().splitlines()) == n


def test_time_left_follows_the_weight_done_not_the_count() -> None:
    """A sweep runs its costliest cells first: one cell of weight 90 out of 100 done in
    90 s leaves about 10 s, not 99 cells x 90 s."""
    clock, log = FakeClock(), io.StringIO()
    bar = Progress(100, True, stream=log, clock=clock, heartbeat=False, total_weight=100.0)
    clock.now += 90
    bar.update(weight=90.0)
    assert log.getvalue().splitlines()[-1] == (
        "sweep: 1/100 cells, 1 min 30 s elapsed, about 10 s left")
    plain = io.StringIO()
    bar = Progress(100, True, stream=plain, clock=clock, heartbeat=False)
    clock.now += 90
    bar.update()
    assert plain.getvalue().splitlines()[-1].endswith("about 2 h 28 min left")


def test_every_gap_between_log_lines_is_at_most_the_interval() -> None:
    clock, log = FakeClock(), io.StringIO()
    stamps: list[float] = []

    class Stamped(io.StringIO):
        def write(self, text: str) -> int:
            stamps.extend(clock.now for _ in range(text.count("\n")))
            return log.write(text)

    bar = Progress(None, True, desc="evaluating", stream=Stamped(), clock=clock,
                   heartbeat=False)
    for _ in range(600):
        clock.now += 1
        bar.poll()
    bar.close()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert stamps[0] == 1000.0 and max(gaps) <= LOG_INTERVAL
    assert log.getvalue().splitlines()[-1] == "evaluating: 10 min 00 s elapsed"


def test_a_phase_shorter_than_the_interval_prints_nothing() -> None:
    clock, log = FakeClock(), io.StringIO()
    with Progress(None, True, stream=log, clock=clock, heartbeat=False, show_start=False,
                  expected_seconds=3.0) as bar:
        clock.now += 5
        bar.poll()
    assert log.getvalue() == ""
    with Progress(None, True, desc="fit", stream=log, clock=clock, heartbeat=False,
                  show_start=False, expected_seconds=60.0) as bar:
        clock.now += LOG_INTERVAL
        bar.poll()
    assert log.getvalue().splitlines() == [
        "fit: 20 s elapsed, about 40 s left (estimate)", "fit: 20 s elapsed, about 40 s left "
        "(estimate)"]


def test_terminal_line_is_rewritten_in_place() -> None:
    clock, tty = FakeClock(), Tty()
    bar = Progress(3, True, stream=tty, clock=clock, heartbeat=False)
    clock.now += 0.1
    bar.update()  # under half a second since the last draw: not redrawn
    clock.now += 1
    bar.update()
    bar.update()
    bar.close()
    text = tty.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n") and text.count("\r") == 4
    assert "3/3 cells" in text.split("\r")[-1]


def test_heartbeat_thread_prints_while_the_work_is_silent() -> None:
    log = io.StringIO()
    with Progress(None, True, desc="silent", stream=log, interval=0.05):
        time.sleep(0.5)
    assert len(log.getvalue().splitlines()) >= 3


def test_disabled_progress_prints_nothing() -> None:
    log = io.StringIO()
    with Progress(5, False, stream=log) as bar:
        bar.update(5)
    assert log.getvalue() == ""


@pytest.fixture(scope="module")
def grammar_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("g") / "g.json"
    assert main(["grammar", "make", "--v", "8", "--m", "2", "--s", "2", "--L", "3",
                 "--out", str(path)]) == 0
    return path


def _cli(*argv: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "rhm_theory", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    return proc, time.perf_counter() - t0


@pytest.mark.parametrize(("argv", "what"), [
    (["ilc", "{g}", "--P", "100000000000"], "--P 100000000000"),
    (["bp", "{g}", "--n", "10000000000"], "--n 10000000000"),
    (["sample", "{g}", "--n", "10000000000", "--out", "{tmp}/s.npz"], "--n 10000000000"),
])
def test_huge_inputs_are_refused_at_once_with_an_estimate(
        argv: list[str], what: str, grammar_file: Path, tmp_path: Path) -> None:
    args = [a.format(g=grammar_file, tmp=tmp_path) for a in argv]
    proc, seconds = _cli(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and f"refused: {what} would" in err
    assert "--force" in err and ("take about" in err or "write about" in err)
    assert not (tmp_path / "s.npz").exists()
    assert seconds < 10  # measured: 0.3 s on 2 busy cores (the issue asks for under 2 s)


def test_a_small_run_announces_its_estimate_first(grammar_file: Path) -> None:
    proc, _ = _cli("ilc", str(grammar_file), "--P", "2000")
    assert proc.returncode == 0, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("ilc: fit latent on 2,000 strings of 8 tokens") and \
        "by the cost model" in first
    quiet, _ = _cli("ilc", str(grammar_file), "--P", "2000", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_version_answers_before_importing_numpy() -> None:
    code = ("import sys, io, contextlib; from rhm_theory.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--version'])\n"
            "print('numpy' in sys.modules, 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_building_the_parser_loads_no_kernel_or_scipy() -> None:
    code = ("import sys; from rhm_theory.cli import build_parser; build_parser()\n"
            "print(sorted(m for m in ('numba', 'scipy', 'torch', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_verify_says_what_it_runs_and_shows_its_evaluation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # stderr captured (not a terminal): the plan first, then the evaluation's line.
    assert main(["verify", "--only", "synonym_invariance", "--workers", "1",
                 "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("verify (quick grid): 1 check, 0 sweep cells")
    assert any(line.startswith("evaluating 1 check (fits and calibrations): ") for line in err)
    assert main(["verify", "--only", "synonym_invariance", "--workers", "1", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""
