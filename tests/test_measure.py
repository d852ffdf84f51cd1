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
from rhm_theory.scaling import NAMED_LAWS, ThresholdPoint, assess, law
from rhm_theory.sweeps.measure import (
    DEFAULT_LAWS,
    MeasureError,
    MeasureGrid,
    compare_laws,
    curve_thresholds,
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
                  n_sim=0)
    assert {t.threshold.kind for t in res.thresholds} == {"below_grid"}
    assert all("censored at or below" in m for m in res.censored)
    assert res.comparison.assessments == () and "censored" in res.comparison.statement()


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
    res = measure("tests.test_measure:constant", TINY, workers=1, progress=False, n_sim=0)
    assert {t.threshold.kind for t in res.thresholds} == {"above_grid"}
    assert all("cell v=8 m=2 L=3 grammar_seed=" in m and "censored above P=" in m
               for m in res.censored)
    assert len(res.censored) == 2
    code = main(["measure", "tests.test_measure:constant", "--v", "8", "--m", "2", "--L", "3",
                 "--seeds", "0", "--P", "16", "64", "--workers", "1", "--no-figure",
                 "--no-progress", "--out", str(tmp_path)])
    assert code == 1
    assert "every threshold is censored" in capsys.readouterr().err
    with pytest.raises(ValueError, match="laws"):  # a bad law fails before any curve runs
        measure("tests.test_measure:raising", TINY, laws=["v m^3", "v*m**3"], workers=1)
    with pytest.raises(ValueError, match="unknown name"):
        measure("tests.test_measure:raising", TINY, laws=["v*q"], workers=1)


# -- resume -----------------------------------------------------------------------------------
def test_a_partial_measurement_resumes(tmp_path: Path) -> None:
    spec = "tests.test_measure:counting_latent"
    CALLS.clear()
    first = measure(spec, TINY, name="ilc", out_dir=tmp_path, workers=1, progress=False,
                    n_sim=0)
    full_calls = len(CALLS)
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    one_curve = first.rows[0]["key"]
    # An interrupted run: only the first curve's rows were written.
    (tmp_path / "rows.jsonl").write_text(
        "".join(ln + "\n" for ln in lines if json.loads(ln)["key"] == one_curve))
    CALLS.clear()
    again = measure(spec, TINY, name="ilc", out_dir=tmp_path, workers=1, progress=False,
                    n_sim=0)
    n_first = len({r["P"] for r in first.rows if r["key"] == one_curve})
    assert len(CALLS) == full_calls - n_first  # only the missing curve was fitted
    key = lambda r: (r["key"], r["P"], r["level"])  # noqa: E731
    strip = lambda r: {k: v for k, v in r.items() if not k.endswith("seconds")}  # noqa: E731
    assert sorted(map(strip, again.rows), key=key) == sorted(map(strip, first.rows), key=key)
    # Everything finished: a factory that would raise is never called.
    done = measure("tests.test_measure:raising", TINY, name="ilc", out_dir=tmp_path,
                   workers=1, progress=False, n_sim=0)
    assert done.points == again.points


# -- thresholds and laws ----------------------------------------------------------------------
VMS = ((8, 2), (16, 2), (32, 2), (12, 3), (16, 4))


def _points(expr: str, noise: float = 0.05, censor_L: int | None = None,
            ) -> list[ThresholdPoint]:
    out = []
    rng = np.random.default_rng(3)
    lw = law(expr)
    for v, m in VMS:
        for L in (3, 4, 5):
            for sd in (0, 1, 2):
                P = 9.0 * lw(v, m, L) * math.exp(noise * rng.standard_normal())
                if L == censor_L:  # never crossed inside a grid ending at 0.5 P
                    out.append(ThresholdPoint(v, m, 2, L, 0, sd, math.nan, 1.0, 0.5 * P))
                else:
                    out.append(ThresholdPoint(v, m, 2, L, 0, sd, P, 1.0, 1e12))
    return out


def test_default_laws_are_named_laws() -> None:
    assert set(DEFAULT_LAWS) <= set(NAMED_LAWS)
    assert "v m^3 / (1-f)" in DEFAULT_LAWS and "v m^3" in DEFAULT_LAWS


@pytest.mark.parametrize("expr", ["v*m**3/(1-f)", "v*m**(L+1)/(1-f)", "v*m**3*v**0.35"])
def test_compare_laws_is_the_library_rule(expr: str) -> None:
    """Each law's decision and calibration are exactly those of ``scaling.assess`` (the
    route of ``rhm-theory verify``) on the same rows, censored rows included."""
    pts = _points(expr, noise=0.1, censor_L=5 if "L+1" in expr else None)
    laws = ["v m^3 / (1-f)", "v m^(L+1) / (1-f)", "v*m**3*v**0.35"]
    cmp = compare_laws(pts, laws, n_sim=20, seed=4)
    for name, a in zip(laws, cmp.assessments, strict=True):
        ref = assess(pts, law(name), n_sim=20, seed=4)
        assert a.decision.decision == ref.decision.decision
        assert a.decision.sentence() == ref.decision.sentence()
        assert a.power == ref.power
        assert (a.claim.label in cmp.followed) == (
            ref.decision.decision == "claim" and ref.power is not None
            and ref.power.calibrated)
    by_expr = {a.claim.expr: a.decision.decision for a in cmp.assessments}
    assert by_expr[law(expr).expr] != "rejected"  # the generating law is never rejected
    assert sum(d == "rejected" for d in by_expr.values()) == 2  # the others are


def test_compare_laws_fit_statement_and_json() -> None:
    cmp = compare_laws(_points("v*m**3", noise=0.0), n_sim=0)
    assert cmp.fit is not None
    assert [round(cmp.fit.coef[k], 9) for k in "abd"] == [1.0, 3.0, 0.0]
    assert "v m^3" not in cmp.followed  # no calibration, no "followed"
    assert "v m^3" in cmp.uncalibrated and "not calibrated" in cmp.statement()
    d = json.loads(json.dumps(cmp.to_dict()))
    assert {"law", "decision", "axes", "fit", "power", "sentence", "followed"} <= set(
        d["laws"][0])
    assert [x["name"] for x in d["laws"]] == list(DEFAULT_LAWS)
    with pytest.raises(ValueError, match="each once"):
        compare_laws(_points("v*m**3"), ["v m^3", "v m^3"])
    with pytest.raises(ValueError, match="n_sim"):
        compare_laws(_points("v*m**3"), n_sim=-1)


def test_curve_thresholds_use_the_one_threshold() -> None:
    rows = [{"key": "k", "method": "x", "v": 8, "m": 2, "s": 2, "L": 3, "grammar_seed": 0,
             "P": P, "min_accuracy": a} for P, a in ((100, 0.5), (200, 0.9), (400, 1.0))]
    (t,) = curve_thresholds(rows, 0.95)
    assert t.threshold.kind == "point" and abs(t.threshold.P_star - 200 * 2**0.5) < 1e-9
    assert t.point.log_interval == (math.log(t.threshold.P_star),) * 2 and t.message == ""
    # A dip after the crossing: P* stays at the first crossing of the isotonic fit; the
    # raw curve's last crossing is reported beside it.
    dip = [{**r, "P": P, "min_accuracy": a}
           for r in rows[:1] for P, a in ((100, 0.5), (200, 1.0), (400, 0.9), (800, 1.0))]
    (t,) = curve_thresholds(dip, 0.95)
    assert abs(t.threshold.P_star - 200) < 1e-9 and t.threshold.dips
    assert abs(t.threshold.last_crossing - 400 * 2**0.5) < 1e-9
    assert t.to_dict()["dips"] is True


# -- the command ------------------------------------------------------------------------------
def test_cli_with_a_learner_in_a_users_file(tmp_path: Path, capsys: Any) -> None:
    user = tmp_path / "my_learner.py"
    user.write_text("from rhm_theory.learners.ilc import ILCLearner\n\n"
                    "def make(cell):\n    return ILCLearner(cell.v, cell.s, cell.L)\n")
    out = tmp_path / "out"
    code = main(["measure", f"{user}:make", "--v", "8", "12", "--m", "2", "3",
                 "--L", "3", "4", "--seeds", "0", "--workers", "1", "--no-progress", "--json",
                 "--n-sim", "5", "--law", "v m^3 / (1-f)", "--law", "v*m**(L+1)",
                 "--out", str(out)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    for k in "abd":
        assert isinstance(doc["fit"]["coef"][k], float)
        assert doc["fit"]["low"][k] <= doc["fit"]["coef"][k] <= doc["fit"]["high"][k]
    assert {"name", "decision", "sentence", "power", "followed"} <= set(doc["laws"][0])
    assert doc["laws"][0]["decision"] in ("claim", "rejected", "undecided")
    assert (out / "rows.jsonl").exists() and (out / "measurement.json").exists()
    assert (out / "accuracy_rescaled.png").exists()
    assert main(["measure", "nope:make"]) == 2


def test_an_early_stop_is_not_a_grid_end() -> None:
    rows = [{"key": "k", "method": "x", "v": 8, "m": 2, "s": 2, "L": 3, "grammar_seed": 0,
             "P": P, "min_accuracy": a} for P, a in ((100, 0.5), (200, 1.0), (400, 1.0))]
    (t,) = curve_thresholds(rows, 0.95, ladder_ends={"k": 6400})
    assert t.threshold.P_max == 400 and t.point.P_max == 6400
    assert curve_thresholds(rows, 0.95)[0].point.P_max == 400
    cells = measure_cells("rhm_theory.learners.ilc:latent", TINY)
    assert all(c.Ps[-1] == p_ladder(8, 2, 2, 3, TINY)[-1] for c in cells)
