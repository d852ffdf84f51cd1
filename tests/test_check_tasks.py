"""Checks' own work as sweep tasks: rows in OUT/tasks, resumed, same results as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from proofs_checks import all_checks
from proofs_checks._framework import CheckTask, TaskCheck, task_results
from proofs_checks.bp_phase_transition import BPPhaseTransitionCheck, _window, bp_unit
from proofs_checks.concentration import ConcentrationCheck
from proofs_checks.margin_scaling import MarginTypicalScalingCheck, margin_records
from proofs_checks.synonym_invariance import SynonymInvarianceCheck
from proofs_checks.verify import check_tasks, run_verification
from proofs_checks.zipf_tracking import ZipfTrackingCheck
from rhm_theory.sweeps.runner import SweepTask, load_rows

#: Two cheap checks with tasks (the exact identity and the concentration curves).
ONLY = ["synonym_invariance", "context_vector_concentration"]


def _text(results: list[Any]) -> str:  # JSON text: nan compares equal to nan
    return json.dumps([r.to_dict() for r in results], default=str, sort_keys=True)


def test_task_keys_name_the_check_function_and_every_parameter() -> None:
    task = CheckTask("c", margin_records, (("configs", [[16, 4]]), ("seeds", (0, 1))))
    assert isinstance(task, SweepTask)
    assert task.key == "task=c|fn=margin_records|configs=[[16, 4]]|seeds=[0, 1]"
    assert CheckTask("c", margin_records, (("configs", [[16, 4]]), ("seeds", [0, 2]))).key \
        != task.key
    (row,) = task.run()
    assert row["task"] == "c" and row["key"] == task.key
    # The value went through JSON: what a resumed run reads back from rows.jsonl.
    assert row["value"] == json.loads(json.dumps(margin_records([(16, 4)], [0, 1])))


def test_converted_checks_list_tasks_with_unique_keys() -> None:
    converted = {"synonym_invariance", "margin_typical_scaling",
                 "separation_of_random_grammars", "context_vector_concentration",
                 "bp_phase_transition", "zipf_prediction_tracking"}
    checks = [c for c in all_checks("cpu") if isinstance(c, TaskCheck)]
    assert converted <= {c.name for c in checks}
    for grid in ("quick", "full"):
        for check in checks:
            tasks = list(check.tasks(grid))  # type: ignore[attr-defined]
            assert tasks and len({t.key for t in tasks}) == len(tasks)
            group = getattr(check, "evaluation_group", check.name)
            assert all(t.check in (check.name, group) and t.cost > 0 for t in tasks)
    assert len(ZipfTrackingCheck().tasks("quick")) == 45
    assert len(BPPhaseTransitionCheck().tasks("quick")) == 8  # 3 seeds x 2 channels + control


def test_evaluate_reads_task_rows_instead_of_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With its task rows given, evaluate computes nothing; alone it computes them itself,
    and both give the same result."""
    check = SynonymInvarianceCheck()
    rows = [r for t in check.tasks("quick") for r in t.run()]
    alone = check.evaluate([], "quick")

    def refuse(self: CheckTask) -> list[dict[str, Any]]:
        raise AssertionError(f"recomputed {self.key}")

    monkeypatch.setattr(CheckTask, "run", refuse)
    assert _text([check.evaluate(rows, "quick")]) == _text([alone])
    assert task_results(check.tasks("quick")[:1], rows) == [rows[0]["value"]]


def test_bp_unit_pins_the_numbers_of_the_old_in_evaluate_computation() -> None:
    """A BP task gives the unit the check computed inside evaluate before tasks (same seeds):
    the numbers below came from that code (``_units`` of the previous commit) on this tiny
    grid, channel ``noise``, grammar seed 0; accuracies are counts out of 60 strings."""
    task = BPPhaseTransitionCheck().tasks("quick")[0]
    tiny = dict(task.params) | {"depths": [4, 6], "n": 60, "n_pop": 100}
    (row,) = CheckTask(task.check, bp_unit, tuple(tiny.items())).run()
    unit = row["value"]
    assert json.dumps(unit) == json.dumps(bp_unit(**tiny))
    assert (unit["channel"], unit["eps_c"], unit["lo"], unit["hi"]) == \
        ("noise", 0.3359375, 0.328125, 0.34375)
    assert unit["eps"] == _window(unit["eps_c"])
    assert {L: [round(a * 60) for a in acc] for L, acc in unit["root_accuracy"].items()} == \
        {"4": [41, 39, 33, 28, 25], "6": [40, 36, 30, 26, 22]}


def test_verification_with_tasks_resumes_and_is_worker_independent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tasks run through the sweep into OUT/tasks (sweep/ keeps ILC rows only); a rerun
    recomputes nothing and gives the same report; a run cut short (rows lost) recomputes
    only the lost tasks; workers 1 and 2 give the same bytes."""
    out = tmp_path / "out"
    first = run_verification("quick", out_dir=out, only=ONLY, max_workers=2, progress=False)
    tasks = check_tasks([c for c in all_checks("cpu") if c.name in ONLY], "quick")
    rows = load_rows(out / "tasks" / "rows.jsonl")
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in tasks)
    assert all("task" not in r for r in load_rows(out / "sweep" / "rows.jsonl"))
    report = json.loads((out / "report-only-context_vector_concentration+synonym_invariance"
                         ".json").read_text())
    assert report["n_tasks"] == len(tasks)

    ran: list[str] = []
    real_run = CheckTask.run

    def counting(self: CheckTask) -> list[dict[str, Any]]:
        ran.append(self.key)
        return real_run(self)

    monkeypatch.setattr(CheckTask, "run", counting)
    again = run_verification("quick", out_dir=out, only=ONLY, max_workers=1, progress=False)
    assert ran == [] and _text(again) == _text(first)

    # A kill after some tasks: drop the last two rows, the rerun computes those two only.
    path = out / "tasks" / "rows.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-2]))
    lost = {json.loads(line)["key"] for line in lines[-2:]}
    resumed = run_verification("quick", out_dir=out, only=ONLY, max_workers=1, progress=False)
    assert set(ran) == lost and len(ran) == 2
    assert _text(resumed) == _text(first)

    serial = run_verification("quick", out_dir=tmp_path / "serial", only=ONLY, max_workers=1,
                              progress=False)
    assert _text(serial) == _text(first)


@pytest.mark.parametrize("check", [ConcentrationCheck(), MarginTypicalScalingCheck()],
                         ids=lambda c: c.name)
def test_task_rows_from_disk_give_the_fresh_result(check: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows read back from rows.jsonl (JSON) give the result of rows fresh from run()."""
    if isinstance(check, MarginTypicalScalingCheck):
        from proofs_checks import margin_scaling

        monkeypatch.setitem(margin_scaling.TYPICAL_GRID, "quick",
                            {"v": [16, 32], "m": [2, 4], "seeds": [0, 1, 2]})
    rows = [r for t in check.tasks("quick") for r in t.run()]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _text([check.evaluate(load_rows(path), "quick")]) == \
        _text([check.evaluate(rows, "quick")])


class _GroupCheck:
    """A check whose task rows are shared with its evaluation group (as the neural ones)."""

    evaluation_group = "shared"

    def __init__(self, name: str) -> None:
        self.name, self.claim, self.source = name, "c", "s"

    def cells(self, grid: str) -> list[Any]:
        return []

    def tasks(self, grid: str) -> list[CheckTask]:
        return [CheckTask("shared", dict, (("x", 1),))]

    def evaluate(self, rows: Any, grid: str) -> Any:
        from proofs_checks._framework import CheckResult, Verdict

        (value,) = task_results(self.tasks(grid), rows)
        return CheckResult(self.name, "c", "s", "p", {"value": value, "n_rows": len(rows)},
                           {}, "t", Verdict.EXPLORATORY)


def test_tasks_shared_by_an_evaluation_group_run_once_and_reach_each_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from proofs_checks.verify import evaluate_checks

    checks = [_GroupCheck("a"), _GroupCheck("b")]
    tasks = check_tasks(checks, "quick")  # type: ignore[arg-type]
    assert len(tasks) == 1
    rows = [r for t in tasks for r in t.run()] + [{"key": "other", "task": "c", "value": 0}]
    monkeypatch.setattr(CheckTask, "run", None)  # evaluate must read, not compute
    results = evaluate_checks(checks, [], "quick", max_workers=1,  # type: ignore[arg-type]
                              task_rows=rows)
    assert [r.measured for r in results] == [{"value": {"x": 1}, "n_rows": 1}] * 2


@pytest.mark.slow
def test_neural_task_rows_equal_the_old_in_process_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a tiny quick grid, the neural rows read from the tasks equal those of
    scaling_experiment (what the checks trained in evaluate before), timing aside."""
    pytest.importorskip("torch")
    from proofs_checks import neural_compare
    from rhm_theory.neural import experiments

    real = experiments.scaling_grid

    def tiny(name: Any) -> dict[str, Any]:
        g = dict(real(name))
        g.update({"Ls": (3,), "Ps": (128,), "min_steps": 10, "max_steps": 10, "seeds": (0,),
                  "eval": experiments.EvalConfig(n_probe_train=64, n_probe_test=64,
                                                 probe_steps=10, n_sensitivity=16)})
        return g

    monkeypatch.setattr(experiments, "scaling_grid", tiny)

    def strip(rows: list[dict[str, Any]]) -> str:
        return json.dumps([{k: v for k, v in r.items() if k != "seconds"} for r in rows],
                          sort_keys=True, default=str)

    old = experiments.scaling_experiment(experiments.METHODS, grid_name="quick", device="cpu")
    tasks = neural_compare.neural_tasks("quick", "cpu")
    rows = [r for t in tasks for r in t.run()]
    assert strip(neural_compare.neural_rows("quick", "cpu", rows)) == strip(old)
