"""Measure any learner: protocol, scoring, ladder cells, resume, bad input, laws, CLI."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rhm_theory.algorithms.metrics import score_levels
from rhm_theory.cli import main
from rhm_theory.learners import (
    BayesOptimalLearner,
    LearnerCell,
    ridge_probe_accuracy,
    score_learner,
    scoring_mode,
)
from rhm_theory.learners.ilc import latent
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.model.sampling import sample
from rhm_theory.sweeps.collapse import CANDIDATES
from rhm_theory.sweeps.measure import (
    LAWS,
    MeasureError,
    MeasureGrid,
    Threshold,
    compare_laws,
    curve_thresholds,
    law_scale,
    measure,
    measure_cells,
    p_ladder,
    resolve_factory,
)
from rhm_theory.sweeps.runner import SweepCell, SweepTask, run_cell, run_sweep

TINY = MeasureGrid(vms=((8, 2),), Ls=(3,), seeds=(0, 1), max_P=2**11, n_test=300, n_probe=300)


# -- learners used by the tests (module level: picklable, resolvable as SPECs) ---------------
class _Constant:
    """Predicts symbol 0 everywhere: never learns (accuracy about 1/v)."""

    def __init__(self, cell: LearnerCell) -> None:
        self.cell = cell

    def fit(self, tokens: Any, labels: Any = None) -> _Constant:
        return self

    def predict_latents(self, tokens: Any, level: int) -> Any:
        return np.zeros((len(tokens), self.cell.s ** (self.cell.L - level)), dtype=np.int64)


class _WrongShape(_Constant):
    def predict_latents(self, tokens: Any, level: int) -> Any:
        return np.zeros((len(tokens), 1), dtype=np.int64)


class _Oracle:
    """transform = one-hot of the true level-1 symbols (the BP posterior): a probe is exact."""

    def __init__(self, cell: LearnerCell) -> None:
        self.grammar = cell.grammar()

    def fit(self, tokens: Any, labels: Any = None) -> _Oracle:
        return self

    def transform(self, tokens: Any) -> Any:
        from rhm_theory.inference import belief_propagation

        post = belief_propagation(self.grammar, tokens, levels=[1]).level(1)
        return post  # (n, s**(L-1), v): one vector per level-1 node


def constant(cell: LearnerCell) -> _Constant:
    return _Constant(cell)


def wrong_shape(cell: LearnerCell) -> _WrongShape:
    return _WrongShape(cell)


def raising(cell: LearnerCell) -> Any:
    raise RuntimeError("boom")


def not_a_learner(cell: LearnerCell) -> Any:
    return 42


CALLS: list[int] = []


def counting_latent(cell: LearnerCell) -> Any:
    CALLS.append(cell.P)
    return latent(cell)


# -- protocol and scoring -----------------------------------------------------------------------
def test_ilc_adapter_scores_equal_score_levels() -> None:
    """The adapter through the protocol gives exactly ILC's own scoring (same test strings)."""
    cell = LearnerCell(8, 2, 2, 3, 8, 900, 0, 1000)
    g = cell.grammar()
    learner = latent(cell).fit(sample(g, cell.P, cell.data_seed).tokens)
    ours = score_learner(learner, g, (1, 2), n_test=500, seed=7)
    ref = score_levels(learner.model, g, n_test=500, seed=7 + 10**9)
    for a, b in zip(ours, ref, strict=True):
        assert abs(a.accuracy - b.accuracy) <= 1e-12
        assert abs(a.unknown_fraction - b.unknown_fraction) <= 1e-12


def test_bayes_reference_is_exact_and_left_censored() -> None:
    g = random_grammar(RHMParams(8, 2, 2, 3), seed=0)
    scores = score_learner(BayesOptimalLearner(g), g, (1, 2, 3), n_test=200, seed=0)
    assert [s.accuracy for s in scores] == [1.0, 1.0, 1.0]
    res = measure("rhm_theory.learners.bayes:bayes", TINY, workers=1, progress=False,
                  n_bootstrap=50)
    assert {t.status for t in res.thresholds} == {"left-censored"}
    assert all(lv.decision == "undecided" for lv in res.comparison.laws)


def test_transform_learners_are_probed() -> None:
    cell = LearnerCell(8, 2, 2, 3, 8, 10, 0, 1000)
    g = cell.grammar()
    exact = score_learner(_Oracle(cell), g, (1,), n_test=300, n_probe=300, seed=0)
    assert exact[0].accuracy == 1.0

    class Noise:
        def fit(self, tokens: Any, labels: Any = None) -> Noise:
            return self

        def transform(self, tokens: Any) -> Any:
            return np.random.default_rng(0).normal(size=(len(tokens), 5))

    # Random features: one probe per node on 300 test strings. The accuracy of a fixed
    # classifier is a mean of 300 x 4 indicators of mean <= the largest class frequency;
    # 0.6 leaves a Hoeffding margin of 0.6 - 0.25 >= sqrt(log(1e6) / (2 * 300)) = 0.15
    # over a class frequency of at most 0.25 (v = 8, checked below).
    freq = np.bincount(sample(g, 300, 10**9, latents=True).level(1).ravel(), minlength=8)
    assert freq.max() / freq.sum() <= 0.25
    noise = score_learner(Noise(), g, (1,), n_test=300, n_probe=300, seed=0)
    assert noise[0].accuracy < 0.6


def test_ridge_probe_and_scoring_mode_errors() -> None:
    x = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    assert ridge_probe_accuracy(x, [0, 1, 2, 3, 0, 1], x, [0, 1, 2, 3, 0, 1], 4) == 1.0
    with pytest.raises(ValueError, match="one width"):
        ridge_probe_accuracy(x, [0] * 6, x[:, :2], [0] * 6, 4)
    with pytest.raises(TypeError, match="predict_latents"):
        scoring_mode(type("OnlyFit", (), {"fit": lambda self, t: self})())
    with pytest.raises(TypeError, match="fit"):
        scoring_mode(object())


# -- grid, factories, runner --------------------------------------------------------------------
def test_ladder_and_factory_resolution(tmp_path: Path) -> None:
    g = MeasureGrid(((8, 2),), (3,), (0,), max_P=64)
    assert p_ladder(8, 2, 2, 3, g) == (16, 23, 32, 45, 64)
    assert p_ladder(8, 2, 2, 3, MeasureGrid(((8, 2),), (3,), (0,), Ps=(50, 10))) == (10, 50)
    with pytest.raises(ValueError, match="empty"):
        p_ladder(8, 2, 2, 3, MeasureGrid(((8, 2),), (3,), (0,), max_P=8))
    with pytest.raises(ValueError, match="SPEC"):
        resolve_factory("no_colon")
    with pytest.raises(ValueError, match="no module"):
        resolve_factory("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="no attribute"):
        resolve_factory("rhm_theory.learners.ilc:nope")
    with pytest.raises(ValueError, match="no file"):
        resolve_factory(str(tmp_path / "missing.py") + ":f")
    user = tmp_path / "mine.py"
    user.write_text("def make(cell):\n    return cell.v\n")
    assert resolve_factory(f"{user}:make")(LearnerCell(8, 2, 2, 3, 8, 1)) == 8
    with pytest.raises(ValueError, match="grid"):
        measure_cells("rhm_theory.learners.ilc:latent", "huge")


@dataclass(frozen=True)
class _Square:
    x: int

    @property
    def key(self) -> str:
        return f"sq{self.x}"

    @property
    def cost(self) -> float:
        return float(self.x)

    def run(self) -> list[dict[str, Any]]:
        return [{"key": self.key, "x": self.x, "y": self.x**2}]


def test_run_sweep_takes_any_task_and_sweepcell_is_one(tmp_path: Path) -> None:
    cells = [_Square(x) for x in range(5)]
    assert all(isinstance(c, SweepTask) for c in cells)
    with ThreadPoolExecutor(2) as ex:
        rows = run_sweep(cells, executor=ex, progress=False, out_dir=tmp_path)
    assert sorted(r["y"] for r in rows) == [0, 1, 4, 9, 16]  # type: ignore[typeddict-item]
    assert "y" in (tmp_path / "rows.csv").read_text().splitlines()[0]
    # A custom cell_runner may run cells without cost or run() (ordered as cost 0).
    with ThreadPoolExecutor(2) as ex:
        plain = run_sweep([type("C", (), {"key": f"c{i}"})() for i in range(3)], executor=ex,
                          progress=False, cell_runner=lambda c: [{"key": c.key}])
    assert sorted(r["key"] for r in plain) == ["c0", "c1", "c2"]
    cell = SweepCell("latent", 6, 2, 2, 3, 200, 0, 1)
    assert isinstance(cell, SweepTask) and cell.cost == 200 * 8
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert drop(cell.run()) == drop(run_cell(cell))


# -- bad input names the cell -----------------------------------------------------------------
@pytest.mark.parametrize(("factory", "match"), [
    ("raising", "factory raised RuntimeError: boom"),
    ("wrong_shape", r"must return shape \(n, s\*\*\(L-level\)\)"),
    ("not_a_learner", "not a learner"),
])
def test_bad_factories_name_the_cell(factory: str, match: str) -> None:
    with pytest.raises(MeasureError, match=match) as info:
        measure(f"tests.test_measure:{factory}", TINY, workers=1, progress=False)
    assert "cell v=8 m=2 L=3 grammar_seed=" in str(info.value)


def test_never_reaching_the_target_is_censored_with_a_message(tmp_path: Path,
                                                              capsys: Any) -> None:
    res = measure("tests.test_measure:constant", TINY, workers=1, progress=False,
                  n_bootstrap=50)
    assert {t.status for t in res.thresholds} == {"right-censored"}
    assert all("cell v=8 m=2 L=3 grammar_seed=" in m and "right-censored above P=" in m
               for m in res.censored)
    assert len(res.censored) == 2
    code = main(["measure", "tests.test_measure:constant", "--v", "8", "--m", "2", "--L", "3",
                 "--seeds", "0", "--P", "16", "64", "--workers", "1", "--no-figure",
                 "--no-progress", "--out", str(tmp_path)])
    assert code == 1
    assert "every threshold is censored" in capsys.readouterr().err


# -- resume -----------------------------------------------------------------------------------
def test_a_partial_measurement_resumes(tmp_path: Path) -> None:
    spec = "tests.test_measure:counting_latent"
    CALLS.clear()
    first = measure(spec, TINY, name="ilc", out_dir=tmp_path, workers=1, progress=False,
                    n_bootstrap=50)
    full_calls = len(CALLS)
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    one_curve = first.rows[0]["key"]
    # An interrupted run: only the first curve's rows were written.
    (tmp_path / "rows.jsonl").write_text(
        "".join(ln + "\n" for ln in lines if json.loads(ln)["key"] == one_curve))
    CALLS.clear()
    again = measure(spec, TINY, name="ilc", out_dir=tmp_path, workers=1, progress=False,
                    n_bootstrap=50)
    n_first = len({r["P"] for r in first.rows if r["key"] == one_curve})
    assert len(CALLS) == full_calls - n_first  # only the missing curve was fitted
    key = lambda r: (r["key"], r["P"], r["level"])  # noqa: E731
    strip = lambda r: {k: v for k, v in r.items() if not k.endswith("seconds")}  # noqa: E731
    assert sorted(map(strip, again.rows), key=key) == sorted(map(strip, first.rows), key=key)
    # Everything finished: a factory that would raise is never called.
    done = measure("tests.test_measure:raising", TINY, name="ilc", out_dir=tmp_path,
                   workers=1, progress=False, n_bootstrap=50)
    assert done.comparison.fit == again.comparison.fit


# -- thresholds and laws ----------------------------------------------------------------------
def _ths(law: str, noise: float = 0.05) -> list[Threshold]:
    out = []
    for v, m in ((8, 2), (16, 2), (12, 3), (16, 4)):
        for L in (3, 4, 5):
            for sd in (0, 1, 2):
                P = 9.0 * law_scale(law, v, m, 2, L) * math.exp(noise * (sd - 1))
                out.append(Threshold(v, m, 2, L, sd, P, P, P, "crossed", 1.0, 1))
    return out


@pytest.mark.parametrize("law", ["v m^3", "v m^(L+1)", "v m^L", "v m^3 1.5^L"])
def test_compare_laws_finds_the_law_the_rows_follow(law: str) -> None:
    before = dict(CANDIDATES)
    cmp = compare_laws(_ths(law), n_bootstrap=200)
    assert dict(CANDIDATES) == before  # the registry is left as it was
    assert cmp.best == law
    assert "v m^3" in cmp.rejects if law != "v m^3" else "v m^(L+1)" in cmp.rejects
    d = json.loads(json.dumps(cmp.to_dict()))
    assert {"name", "decision", "rejected"} <= set(d["laws"][0])
    assert {lv["name"] for lv in d["laws"]} == set(LAWS)


def test_compare_laws_fit_and_undecided() -> None:
    cmp = compare_laws(_ths("v m^3", noise=0.0), n_bootstrap=50)
    assert [round(cmp.fit[k][0], 9) for k in "abd"] == [1.0, 3.0, 0.0]
    assert cmp.follows == "v m^3"
    censored = [Threshold(t.v, t.m, t.s, t.L, t.grammar_seed, math.nan, t.P_star, math.inf,
                          "right-censored", 0.5, 1) if t.L == 5 else t
                for t in _ths("v m^3")]
    cmp = compare_laws(censored, n_bootstrap=50)
    assert all(lv.decision == "undecided" for lv in cmp.laws)
    assert "censored" in cmp.reason and cmp.n_censored == 12
    assert "cannot decide" in cmp.statement()


def test_curve_thresholds_use_the_crossing_rule() -> None:
    rows = [{"key": "k", "method": "x", "v": 8, "m": 2, "s": 2, "L": 3, "grammar_seed": 0,
             "P": P, "min_accuracy": a} for P, a in ((100, 0.5), (200, 0.9), (400, 1.0))]
    (t,) = curve_thresholds(rows, 0.95)
    assert t.status == "crossed" and abs(t.P_star - 200 * 2**0.5) < 1e-9


# -- the command ------------------------------------------------------------------------------
def test_cli_with_a_learner_in_a_users_file(tmp_path: Path, capsys: Any) -> None:
    user = tmp_path / "my_learner.py"
    user.write_text("from rhm_theory.learners.ilc import ILCLearner\n\n"
                    "def make(cell):\n    return ILCLearner(cell.v, cell.s, cell.L)\n")
    out = tmp_path / "out"
    code = main(["measure", f"{user}:make", "--v", "8", "12", "--m", "2", "3",
                 "--L", "3", "4", "--seeds", "0", "--workers", "1", "--no-progress", "--json",
                 "--out", str(out)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    for k in "abd":
        assert set(doc["fit"][k]) == {"estimate", "low", "high"}
        assert isinstance(doc["fit"][k]["estimate"], float)
    assert {"name", "decision", "rejected"} <= set(doc["laws"][0])
    assert (out / "rows.jsonl").exists() and (out / "measurement.json").exists()
    assert (out / "accuracy_rescaled.png").exists()
    assert main(["measure", "nope:make"]) == 2
