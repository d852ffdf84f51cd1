"""The CPU grid of the SLC claim (runs, verdict rule) and the budget planner."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from proofs_checks._framework import Verdict  # noqa: E402
from proofs_checks.neural_compare import assess_neural  # noqa: E402
from proofs_checks.neural_scaling import cpu_grid_result, step_doubling  # noqa: E402
from rhm_theory.cli import main  # noqa: E402
from rhm_theory.model.params import RHMParams  # noqa: E402
from rhm_theory.neural.cpu_grid import CPU_GRID_ARMS, CPUGrid, cpu_grid_runs  # noqa: E402
from rhm_theory.neural.data2vec import (  # noqa: E402
    DATA2VEC_TEXT_EMA,
    Data2VecConfig,
    target_position_share,
)
from rhm_theory.neural.plan import BudgetExceeded, StepTime, fit_plan  # noqa: E402
from rhm_theory.scaling import ThresholdPoint  # noqa: E402
from rhm_theory.sweeps.probe_points import pooled_log_scatter  # noqa: E402

pytestmark = pytest.mark.torch
GRID = CPUGrid()


# -- the grid ----------------------------------------------------------------------------
def test_cpu_grid_runs_fix_the_step_budget_per_depth() -> None:
    runs = cpu_grid_runs(GRID)
    by_arm: dict[str, list[Any]] = {}
    for arm in CPU_GRID_ARMS:
        by_arm[arm] = cpu_grid_runs(GRID, (arm,))
    assert len(runs) == sum(len(v) for v in by_arm.values()) == 3 * 24 + 2 * 8
    for r in runs:
        assert r.P <= RHMParams(r.v, r.m, r.s, r.L).P_max  # never more than distinct strings
    for arm in ("slc", "mlm", "slc-sg"):
        steps = {(r.L, r.P): r.steps for r in by_arm[arm]}
        for L in GRID.Ls:  # one budget per depth, whatever P
            assert {s for (LL, _), s in steps.items() if LL == L} == {GRID.steps(L)}
    for arm, method in (("slc-x2", "slc"), ("slc-sg-x2", "slc-sg")):
        assert {r.L for r in by_arm[arm]} == {5}
        assert {r.steps for r in by_arm[arm]} == {2 * GRID.steps(5)}
        assert {r.method for r in by_arm[arm]} == {method}
    assert {r.method for r in by_arm["slc-sg"]} == {"slc-sg"}


# -- the verdict rule on synthetic rows --------------------------------------------------
def _curve_rows(arm: str, metric: str, p_star_of_L: dict[int, float], jitter: float,
                Ls: tuple[int, ...] = (3, 4, 5)) -> list[dict[str, Any]]:
    """Rows of accuracy curves crossing the criterion at ``P*(L) * exp(jitter * seed)``."""
    rows = []
    for L in Ls:
        for seed in GRID.seeds:
            p_star = p_star_of_L[L] * math.exp(jitter * (2 * seed - 1))
            for P in GRID.Ps:
                z = 1.0 / (1.0 + math.exp(-2.0 * (math.log(P) - math.log(p_star))))
                rows.append({"method": arm, "regime": "offline", "v": 8, "m": 3, "s": 2,
                             "L": L, "n_c": 8, "seed": seed, "grammar_seed": seed,
                             "metric": metric, "level": L - 1, "layer": L - 1, "P": P,
                             "steps": 1, "value": 1 / 8 + (7 / 8) * z})
    return rows


def _grid_rows(slc_law: str, x2_factor: float = 1.0) -> list[dict[str, Any]]:
    claim = {L: 600.0 for L in GRID.Ls}
    token = {L: 8 * 3 ** (L + 1) / 2.0 for L in GRID.Ls}  # 324, 972, 2916
    slc = claim if slc_law == "claim" else token
    rows = _curve_rows("slc", "recovery", slc, 0.05)
    rows += _curve_rows("slc-sg", "recovery", slc, 0.05)
    rows += _curve_rows("mlm", "latent_probe", token, 0.05)
    rows += _curve_rows("slc-x2", "recovery", {5: slc[5] * x2_factor}, 0.05, Ls=(5,))
    rows += _curve_rows("slc-sg-x2", "recovery", {5: slc[5]}, 0.05, Ls=(5,))
    return rows


def _complete() -> dict[str, dict[str, int]]:
    return {a: {"done": len(cpu_grid_runs(GRID, (a,))),
                "planned": len(cpu_grid_runs(GRID, (a,)))} for a in CPU_GRID_ARMS}


def test_verdict_passes_a_claim_grid_and_fails_a_token_grid() -> None:
    ok = cpu_grid_result(_grid_rows("claim"), _complete(), GRID, n_sim=40)
    assert ok.measured["rule_verdict_on_rows_present"] == "PASS"
    assert not ok.measured["inconclusive_reasons"]
    # Calibrated against the near depth laws 1.15^(+-L) and the token law v m^(L+1).
    assert ok.power is not None and ok.power.n_sim == 40
    fp = dict(ok.power.alternatives)
    assert set(fp) == {"v m^3 x 1.15^L", "v m^3 x 1.15^-L", "v m^(L+1)"}
    assert fp["v m^(L+1)"] <= 0.05
    assert ok.verdict is (Verdict.PASS if ok.power.calibrated else Verdict.INCONCLUSIVE)
    bad = cpu_grid_result(_grid_rows("token"), _complete(), GRID, n_sim=40)
    assert bad.verdict is Verdict.FAIL


def test_verdict_is_inconclusive_when_incomplete_or_step_limited() -> None:
    progress = _complete()
    progress["slc-sg"] = {"done": 3, "planned": 24}
    res = cpu_grid_result(_grid_rows("claim"), progress, GRID, n_sim=20)
    assert res.verdict is Verdict.INCONCLUSIVE
    assert any("slc-sg 3/24" in r for r in res.measured["inconclusive_reasons"])
    moved = cpu_grid_result(_grid_rows("claim", x2_factor=4.0), _complete(), GRID, n_sim=20)
    assert moved.verdict is Verdict.INCONCLUSIVE
    assert not moved.measured["step_doubling"]["ok"]
    assert moved.measured["slc-sg"]["step_doubling"]["ok"]
    assert any("step-doubling check of slc " in r for r in moved.measured["inconclusive_reasons"])
    assert any("optimisation-limited" in r for r in moved.measured["inconclusive_reasons"])
    # Doubled arms not run: the reason says so, with no NaN interval (the seeds-2-3 grid).
    rows = [r for r in _grid_rows("claim") if r["method"] not in ("slc-x2", "slc-sg-x2")]
    none = cpu_grid_result(rows, _complete(), GRID, n_sim=20)
    reasons = none.measured["inconclusive_reasons"]
    assert none.verdict is Verdict.INCONCLUSIVE and len(reasons) == 2
    assert all("not run (no thresholds with the doubled step budget)" in r for r in reasons), reasons
    assert not any("nan" in r for r in reasons)


def test_step_doubling_rule() -> None:
    pts = [ThresholdPoint(8, 3, 2, 5, 4, g, 1000.0) for g in (0, 1)]
    moved = [ThresholdPoint(8, 3, 2, 5, 4, g, 1900.0) for g in (0, 1)]
    assert step_doubling(pts, moved, 2.0)["ok"]
    far = [ThresholdPoint(8, 3, 2, 5, 4, g, 2100.0) for g in (0, 1)]
    assert not step_doubling(pts, far, 2.0)["ok"]
    assert step_doubling(pts, moved, 2.0)["ratio"] == pytest.approx(1.9)
    assert not step_doubling(pts, [], 2.0)["ok"]  # not run
    # Censored seeds are bounds (P* > P_max = 16384): the move is an interval.
    def point(g: int, p_star: float) -> ThresholdPoint:
        return ThresholdPoint(8, 3, 2, 5, 4, g, p_star, 256.0, 16384.0)

    base = [point(0, 1000.0), point(1, 1000.0)]
    one_out = [point(0, math.nan), point(1, 1900.0)]  # mean log P* >= log sqrt(16384 * 1900)
    d = step_doubling(base, one_out, 2.0)
    assert d["moved"] and not d["ok"] and math.isnan(d["ratio"])
    assert d["ratio_bounds"][0] == pytest.approx(math.sqrt(16384 * 1900) / 1000)
    never = [point(0, math.nan), point(1, math.nan)]
    both = step_doubling(never, never, 2.0)  # censored under both budgets: not shown to move
    assert both["ok"] and not both["moved"] and not both["stable"]
    assert not step_doubling(never, base, 2.0)["ok"]  # doubled steps bring P* into the grid
    assert step_doubling(never, [point(0, 12000.0), point(1, 12000.0)], 2.0)["ok"]


def _depth_points(scale: str, sigma: float, seed: int) -> list[ThresholdPoint]:
    rng = np.random.default_rng(seed)
    out = []
    for L in (3, 4, 5):
        law = 8 * 27 if scale == "v m^3" else 8 * 3 ** (L + 1)
        for g in range(3):
            P = 3.0 * law * math.exp(sigma * rng.standard_normal())
            out.append(ThresholdPoint(8, 3, 2, L, L - 1, g, P, 256.0, 1e9))
    return out


def test_assess_neural_separates_the_laws_at_small_scatter() -> None:
    a = assess_neural(_depth_points("v m^3", 0.05, 0), n_sim=30, seed=2)
    assert a.power is not None
    assert dict(a.power.alternatives)["v m^(L+1)"] <= 0.05
    assert a.decision.decision == "claim"
    # Huge scatter: the rule cannot pin the depth slope: power collapses.
    weak = assess_neural(_depth_points("v m^3", 3.0, 1), n_sim=30, seed=2)
    assert weak.power is not None and weak.power.claim < 0.5


def test_pooled_log_scatter() -> None:
    pts = [ThresholdPoint(8, 3, 2, 3, 2, 0, math.e), ThresholdPoint(8, 3, 2, 3, 2, 1, 1.0)]
    assert pooled_log_scatter(pts) == pytest.approx(math.sqrt(0.5))
    assert pooled_log_scatter(pts[:1]) is None


# -- data2vec as published ---------------------------------------------------------------
def test_data2vec_defaults_follow_data2vec_1_text() -> None:
    c = Data2VecConfig()
    assert c.target_norm == "layer" and c.target_layer == "ffn" and c.ema_scope == "blocks"
    assert c.ema == DATA2VEC_TEXT_EMA
    # Absolute schedule: the same decay at a step whatever the run length (every P).
    assert c.ema.decay(500, 2000) == c.ema.decay(500, 20000) == pytest.approx(0.999 + 0.0009
                                                                               * 500 / 3e5)


def test_target_position_share() -> None:
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(256, 8, 4, generator=gen)
    assert target_position_share(noise) < 0.05  # no positional component
    pos = torch.randn(1, 8, 4, generator=gen).expand(256, 8, 4)
    assert target_position_share(pos + 0.01 * noise) > 0.99


# -- the planner --------------------------------------------------------------------------
def test_fit_plan_reduces_to_the_budget_and_refuses_below_the_minimum() -> None:
    plan = fit_plan("cuda", 10.0)
    assert plan.hours <= 10.0
    assert any(r["m"] >= 3 for r in plan.runs) and any(r["L"] >= 6 for r in plan.runs)
    for r in plan.runs:
        assert r["P"] <= RHMParams(r["v"], r["m"], r["s"], r["L"]).P_max
    assert plan.unmeasured  # CUDA step times are placeholders: labelled
    small = fit_plan("cuda", 1.0)
    assert small.hours <= 1.0 and len(small.runs) < len(plan.runs)
    assert {r["method"] for r in small.runs} == {"slc", "mlm"}
    with pytest.raises(BudgetExceeded, match="minimal decisive grid"):
        fit_plan("cuda", 0.01)
    measured = {m: StepTime(0.02, "test", True, 4) for m in ("data2vec", "mlm", "slc",
                                                             "slc-sg")}
    assert not fit_plan("cuda", 10.0, step_times=measured).unmeasured


def test_plan_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["neural", "plan", "--device", "cuda", "--budget-hours", "10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["estimated_hours"] <= 10 and doc["runs"]
    assert main(["neural", "plan", "--device", "cuda", "--budget-hours", "0.01"]) == 2


def test_mask_threshold_reaches_the_masked_prediction_reference() -> None:
    from rhm_theory.inference import inference_threshold
    from rhm_theory.model.spec import GrammarSpec
    from rhm_theory.neural.experiments import EvalConfig, bayes_references, build_model

    params = RHMParams(8, 2, 2, 3)
    grammar = GrammarSpec(params, "random", 0).build()
    model = build_model("mlm", params, Data2VecConfig(depth=1, width=8, heads=2, top_k=1), "cpu", 0)
    off = bayes_references(grammar, model, EvalConfig(n_probe_test=16))
    assert math.isnan(off["mask_threshold"])
    ref = bayes_references(grammar, model, EvalConfig(n_probe_test=16, mask_threshold=True))
    if ref["block_level"] == 0:  # token masks: density evolution's eps_c of this grammar
        th = inference_threshold(grammar, "mask", tol=0.02, confirm=False)
        assert ref["mask_threshold"] == th.eps_c
    else:  # block masks: density evolution erases single leaves, so no threshold
        assert math.isnan(ref["mask_threshold"])


def test_a_folder_of_another_grid_is_refused(tmp_path: Any) -> None:
    from rhm_theory.io import write_json
    from rhm_theory.neural.cpu_grid import CPUGrid, run_cpu_grid

    write_json(tmp_path / "grid.json", {"grid": CPUGrid(seeds=(2, 3)).to_dict()})
    with pytest.raises(ValueError, match="other settings"):
        run_cpu_grid(tmp_path, grid=CPUGrid(), arms=("mlm",))
    with pytest.raises(ValueError, match="seeds must be distinct"):
        CPUGrid(seeds=(2, 2))


def test_the_grid_is_read_back_from_its_folder(tmp_path: Any) -> None:
    from rhm_theory.io import write_json
    from rhm_theory.neural.cpu_grid import CPUGrid, read_cpu_grid

    grid = CPUGrid(seeds=(2, 3))
    write_json(tmp_path / "grid.json", {"grid": grid.to_dict()})
    assert read_cpu_grid(tmp_path) == grid
    (tmp_path / "grid.json").write_text("{}")
    with pytest.raises(ValueError, match="not a grid description"):
        read_cpu_grid(tmp_path)
