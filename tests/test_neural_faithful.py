"""data2vec as published, the MLM baseline, schedules, the training loop and the planner."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rhm_theory.model import RHMParams, random_grammar  # noqa: E402
from rhm_theory.model.sampling import sample  # noqa: E402
from rhm_theory.neural.data import RHMBatches, keep_torch_threads  # noqa: E402
from rhm_theory.neural.data2vec import Data2Vec, Data2VecConfig, teacher_targets  # noqa: E402
from rhm_theory.neural.ema import EMASchedule  # noqa: E402
from rhm_theory.neural.experiments import (  # noqa: E402
    EvalConfig,
    RunSpec,
    decisive_Ps,
    grid_runs,
    scaling_grid,
)
from rhm_theory.neural.mlm import MaskedLM, masked_token_loss  # noqa: E402
from rhm_theory.neural.plan import (  # noqa: E402
    BudgetExceeded,
    Plan,
    StepTime,
    make_plan,
    plan_hours,
    run_plan,
)
from rhm_theory.neural.probes import node_features  # noqa: E402
from rhm_theory.neural.training import TrainConfig, lr_at, train  # noqa: E402

pytestmark = pytest.mark.torch

PARAMS = RHMParams(v=8, m=2, s=2, L=3)
EMA10 = EMASchedule(tau0=0.9, tau_end=0.99, tau_steps=10)
CFG = Data2VecConfig(depth=2, width=16, heads=2, top_k=2, ema=EMA10)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _tokens(n: int = 16) -> torch.Tensor:
    with keep_torch_threads():
        return torch.from_numpy(sample(random_grammar(PARAMS, 0), n, 0).tokens).long()


def _perturb(module: torch.nn.Module, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=gen))


# -- target layer -----------------------------------------------------------------------
def test_ffn_targets_are_the_ffn_output_before_the_residual() -> None:
    torch.manual_seed(0)
    model = Data2Vec(PARAMS, CFG)
    x = _tokens()
    out = model.teacher.encode(x)
    for k, block in enumerate(model.teacher.blocks):
        # layers[k+1] = h + ffn with h the post-attention residual stream and
        # ffn = mlp(norm2(h)): recompute ffn from h alone.
        h = out.layers[k + 1] - out.ffn[k]
        torch.testing.assert_close(out.ffn[k], block.mlp(block.norm2(h)), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.targets(x), teacher_targets(out.ffn, 2, CFG.target_norm))
    block_model = Data2Vec(PARAMS, Data2VecConfig(**{**CFG.__dict__, "target_layer": "block"}))
    block_model.load_state_dict(model.state_dict())
    torch.testing.assert_close(block_model.targets(x),
                               teacher_targets(out.layers[1:], 2, CFG.target_norm))
    assert not torch.allclose(block_model.targets(x), model.targets(x))


# -- EMA scope ----------------------------------------------------------------------------
@pytest.mark.parametrize("scope", ["blocks", "all"])
def test_ema_scope(scope: str) -> None:
    torch.manual_seed(0)
    model = Data2Vec(PARAMS, Data2VecConfig(**{**CFG.__dict__, "ema_scope": scope}))
    _perturb(model.student)
    before = {n: t.clone() for n, t in model.teacher.named_parameters()}
    student = dict(model.student.named_parameters())
    tau = model.update_teacher(3, 100)
    assert tau == pytest.approx(0.9 + 0.09 * 3 / 10)
    for name, t in model.teacher.named_parameters():
        lerped = tau * before[name] + (1 - tau) * student[name]
        shared = name.split(".")[0] in ("embed", "mask_embedding", "pos")
        if scope == "blocks" and shared:
            assert torch.equal(t, student[name]), name  # copied, not averaged
        else:
            torch.testing.assert_close(t, lerped, rtol=1e-6, atol=1e-7)
            assert not torch.equal(t, student[name]), name


# -- schedules ----------------------------------------------------------------------------
def test_ema_schedule_relative_to_run_length() -> None:
    s = EMASchedule()
    assert s.decays(1_000_000) == (0.999, 0.9999, 100_000)
    # Same horizons as fractions of the run, whatever its length.
    for total in (2000, 50_000):
        tau0, tau_end, ramp = s.decays(total)
        assert 1 / (1 - tau_end) == pytest.approx(0.01 * total)
        assert ramp == round(0.1 * total)
        assert s.decay(0, total) == tau0 and s.decay(total - 1, total) == tau_end
    assert EMASchedule(start_horizon=1e-6).decays(100)[0] == 0.0  # < 1 step: copy
    assert EMASchedule(tau0=0.5, tau_end=0.6, tau_steps=7).decays(10**6) == (0.5, 0.6, 7)
    with pytest.raises(ValueError, match="ramp"):
        EMASchedule(ramp=2.0)


@pytest.mark.parametrize("schedule", ["cosine", "linear", "constant"])
def test_lr_schedule(schedule: str) -> None:
    cfg = TrainConfig(steps=110, lr=2.0, warmup_steps=10, lr_schedule=schedule, min_lr_ratio=0.1)
    lrs = [lr_at(k, cfg) for k in range(110)]
    assert lrs[:10] == pytest.approx([2.0 * (k + 1) / 10 for k in range(10)])
    assert lrs[10] == pytest.approx(2.0)
    if schedule == "constant":
        assert lrs[10:] == pytest.approx([2.0] * 100)
        return
    assert lrs[-1] == pytest.approx(0.2)
    mid = 10 + 99 / 2
    expect = 0.2 + 1.8 * (0.5 if schedule == "linear" else 0.5 * (1 + math.cos(math.pi / 2)))
    assert np.interp(mid, range(110), lrs) == pytest.approx(expect, abs=1e-9)
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))


# -- MLM ----------------------------------------------------------------------------------
def test_mlm_loss_is_cross_entropy_on_masked_tokens() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 8, 5, generator=gen)
    tokens = torch.randint(0, 5, (4, 8), generator=gen)
    mask = torch.rand(4, 8, generator=gen) < 0.5
    logp = torch.log_softmax(logits, -1)
    manual = -np.mean([float(logp[b, t, tokens[b, t]]) for b in range(4) for t in range(8)
                       if mask[b, t]])
    assert float(masked_token_loss(logits, tokens, mask)) == pytest.approx(manual, rel=1e-6)
    other = tokens.clone()
    other[~mask] = (other[~mask] + 1) % 5  # unmasked tokens never enter the loss
    assert torch.equal(masked_token_loss(logits, other, mask),
                       masked_token_loss(logits, tokens, mask))
    torch.manual_seed(0)
    model = MaskedLM(PARAMS, CFG)
    loss, metrics = model.loss(_tokens(), torch.Generator().manual_seed(0))
    assert float(loss.detach()) == pytest.approx(math.log(8), rel=0.3)  # near chance at init
    assert 0.0 <= float(metrics["masked_accuracy"]) <= 1.0
    loss.backward()
    assert model.update_teacher(0, 10) == 0.0


# -- one training loop for every device ----------------------------------------------------
def test_loop_options_do_not_change_results() -> None:
    """Logging period, prefetching and the CUDA-only autocast flag leave CPU losses alone."""
    runs = []
    for log_every, prefetch, amp in ((1, 0, False), (7, 2, True), (50, 1, True)):
        torch.manual_seed(0)
        model = Data2Vec(PARAMS, CFG)
        cfg = TrainConfig(steps=12, seed=0, log_every=log_every, prefetch=prefetch, amp=amp)
        runs.append(train(model, RHMBatches(random_grammar(PARAMS, 0), 16, seed=2), cfg).losses)
    assert len(runs[0]) == 12
    assert runs[0] == runs[1] == runs[2]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method", ["data2vec", "mlm"])
def test_cpu_and_cuda_share_one_implementation(method: str) -> None:
    """One model, one loop: CUDA features match CPU ones, and train() runs on both."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    cpu_model = (Data2Vec if method == "data2vec" else MaskedLM)(PARAMS, CFG)
    gpu_model = (Data2Vec if method == "data2vec" else MaskedLM)(PARAMS, CFG)
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model = gpu_model.to("cuda")
    x = _tokens()
    for a, b in zip(cpu_model.features(x), gpu_model.features(x.cuda()), strict=True):
        torch.testing.assert_close(a, b.cpu(), rtol=1e-4, atol=1e-4)
    for dev, model in (("cpu", cpu_model), ("cuda", gpu_model)):
        data = RHMBatches(random_grammar(PARAMS, 0), 16, seed=2, device=dev)
        res = train(model, data, TrainConfig(steps=20, seed=0, log_every=10))
        assert len(res.losses) == 20 and all(math.isfinite(v) for v in res.losses)


# -- thresholds, readouts, grid -------------------------------------------------------------
def test_thresholds_use_the_library_rule_both_ways() -> None:
    from rhm_theory.neural.experiments import probe_thresholds
    from rhm_theory.scaling.threshold import threshold_from_curve

    rng = np.random.default_rng(0)
    base = {"method": "slc", "regime": "offline", "v": 8, "m": 2, "s": 2, "L": 3, "n_c": 8,
            "seed": 0, "layer": 1, "level": 1}
    for _ in range(50):
        P = np.sort(rng.choice(np.arange(1, 5000), size=6, replace=False)).astype(float)
        y = rng.uniform(0, 1, 6)
        rows = [{**base, "P": p, "metric": "synonymic_sensitivity", "value": x}
                for p, x in zip(P, y, strict=True)]
        ours = probe_thresholds(rows, sensitivity_target=0.5)[0]
        theirs = threshold_from_curve(P, -y, -0.5)  # a downward crossing of y
        if theirs.kind == "point":
            assert ours["value"] == theirs.P_star and ours["censored"] is None
        elif theirs.kind == "below_grid":
            assert ours["value"] == P[0] and ours["censored"] == "left"
        else:
            assert math.isnan(ours["value"]) and ours["censored"] == "right"
        assert (math.isnan(ours["last_crossing"]) and math.isnan(theirs.last_crossing)) \
            or ours["last_crossing"] == theirs.last_crossing
    rows = [{**base, "P": p, "metric": "synonymic_sensitivity", "value": x}
            for p, x in ((1, 1.0), (2, 0.6), (4, 0.2))]
    down = probe_thresholds(rows, sensitivity_target=0.4)[0]
    assert down["value"] == pytest.approx(2 * 2**0.5) and down["censored"] is None
    # An untrained model (P = 0) is outside the log-P definition: left out, so a curve
    # already across at its first trained P is left-censored there.
    rows = [{**base, "P": p, "metric": "synonymic_sensitivity", "value": x}
            for p, x in ((0, 1.0), (100, 0.2), (200, 0.1))]
    zero = probe_thresholds(rows, sensitivity_target=0.4)[0]
    assert zero["value"] == 100.0 and zero["censored"] == "left"


def test_a_dip_after_the_crossing_cannot_move_the_threshold() -> None:
    from rhm_theory.neural.experiments import probe_thresholds

    base = {"method": "slc", "regime": "offline", "v": 8, "m": 3, "s": 2, "L": 3, "n_c": 8,
            "seed": 0, "layer": 2, "level": 2, "metric": "recovery"}
    Ps = (256, 1024, 4096, 16384)
    steady = probe_thresholds([{**base, "P": p, "value": x}
                               for p, x in zip(Ps, (0.3, 0.7, 0.9, 0.95), strict=True)])[0]
    dipped = probe_thresholds([{**base, "P": p, "value": x}
                               for p, x in zip(Ps, (0.3, 0.7, 0.9, 0.5), strict=True)])[0]
    assert dipped["value"] == pytest.approx(steady["value"]) and dipped["censored"] is None
    assert dipped["dips"] and not steady["dips"]
    assert math.isnan(dipped["last_crossing"])  # the raw curve ends below the criterion


def test_flatten_root_readout_separates_order() -> None:
    a, b = torch.eye(3)[0], torch.eye(3)[1]
    ab = torch.stack([a, b])[None]  # one string, two top codes (a, b)
    ba = torch.stack([b, a])[None]
    assert torch.equal(node_features(ab, 1, "mean"), node_features(ba, 1, "mean"))
    assert not torch.equal(node_features(ab, 1, "flatten"), node_features(ba, 1, "flatten"))


def test_old_grid_names_warn_and_name_the_same_grids() -> None:
    # Issue 18: one grid vocabulary; the names before it still work, with a warning.
    with pytest.warns(DeprecationWarning, match="'full'"):
        assert scaling_grid("decisive") == scaling_grid("full")
    with pytest.warns(DeprecationWarning, match="'small'"):
        assert scaling_grid("cpu") == scaling_grid("small")
    for flag, new in ((True, "full"), (False, "small")):
        with pytest.warns(DeprecationWarning, match=f"'{new}'"):
            assert scaling_grid(flag) == scaling_grid(new)
    with pytest.warns(DeprecationWarning):
        assert make_plan("cuda", None, grid="decisive").grid == "full"
    with pytest.raises(ValueError, match="grid"):
        scaling_grid("large")


def test_full_grid_brackets_both_predictions() -> None:
    g = scaling_grid("full")
    assert set(g["ms"]) == {3, 4} and min(g["Ls"]) == 3 and max(g["Ls"]) >= 6
    assert len(g["seeds"]) >= 3
    for m in g["ms"]:
        for L in g["Ls"]:
            Ps = decisive_Ps(g["v"], m, g["s"], L)
            assert Ps[0] <= g["v"] * m**3 / 2 and Ps[-1] >= 2 * g["v"] * m ** (L + 1)
            assert Ps[-1] <= RHMParams(g["v"], m, g["s"], L).P_max // 4
    runs = grid_runs(g, ["data2vec"])
    by_P = sorted({(r.P, r.steps) for r in runs})
    assert by_P[0][1] == g["min_steps"] and by_P[-1][1] >= by_P[0][1]  # steps grow with P
    spec = runs[5]
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


# -- planner ------------------------------------------------------------------------------
def test_plan_budget_arithmetic() -> None:
    t = {"data2vec": StepTime(0.5, "x", True, 2), "slc": StepTime(0.1, "x", True, 2)}
    runs = [{"method": "data2vec", "steps": 100}, {"method": "slc", "steps": 1000}]
    # (100 * 0.5 + 10) + (1000 * 0.1 + 10) = 170 s, two at once: 85 s.
    assert plan_hours(runs, t, 2, 10.0) == pytest.approx(85 / 3600)
    plan = make_plan("cuda", 1e6, grid="quick", methods=["data2vec", "slc"],
                     runs_per_device=2, step_times=t, overhead_seconds=10.0)
    n_steps = {m: sum(r["steps"] for r in plan.runs if r["method"] == m) for m in t}
    expected = (n_steps["data2vec"] * 0.5 + n_steps["slc"] * 0.1 + 10 * len(plan.runs)) / 2
    assert plan.hours == pytest.approx(expected / 3600)
    assert plan.unmeasured == []
    with pytest.raises(BudgetExceeded, match="budget"):
        make_plan("cuda", plan.hours * 0.99, grid="quick", methods=["data2vec", "slc"],
                  runs_per_device=2, step_times=t, overhead_seconds=10.0)
    # Single-run measurements buy no concurrency: 4 runs at once are charged as 1.
    single = {m: StepTime(x.seconds, "x", True, 1) for m, x in t.items()}
    four = make_plan("cuda", 1e6, grid="quick", methods=["data2vec", "slc"], runs_per_device=4,
                     step_times=single, overhead_seconds=10.0)
    assert four.hours == pytest.approx(2 * plan.hours)
    # Without measurements the CUDA plan says which times were never measured.
    default = make_plan("cuda", 1e6)
    assert default.unmeasured == ["data2vec", "mlm", "slc", "slc-sg"]
    assert any("NEVER MEASURED" in n for n in default.notes)
    assert Plan.from_dict(json.loads(json.dumps(default.to_dict()))).hours == default.hours


def test_plan_run_is_resumable(tmp_path: Path) -> None:
    g = {**scaling_grid("quick"), "Ls": (3,), "Ps": (32,), "seeds": (0,), "min_steps": 3,
         "max_steps": 3, "batch_size": 8,
         "data2vec": CFG,
         "eval": EvalConfig(n_probe_train=32, n_probe_test=32, probe_steps=3, n_sensitivity=16)}
    runs = [r.to_dict() for r in grid_runs(g, ["data2vec", "mlm"])]
    t = {m: StepTime(0.01, "x", True) for m in ("data2vec", "mlm")}
    plan = Plan("cpu", "test", runs, t, 1, 0.0, 0.0, 1.0)
    rows = run_plan(plan, tmp_path, workers=1)
    assert {r["method"] for r in rows if r["metric"] == "root_probe"} == {"data2vec", "mlm"}
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2
    again = run_plan(plan, tmp_path, workers=1)  # read back, not retrained
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(rows, sort_keys=True,
                                                                       default=str)


def test_plan_cli_refuses_over_budget_and_flags_unmeasured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from rhm_theory.cli import main

    assert main(["neural", "plan", "--device", "cuda", "--budget-hours", "0.001"]) == 2
    assert "refused" in capsys.readouterr().err
    assert main(["neural", "plan", "--device", "cuda", "--budget-hours", "1e6", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["never_measured_on_device"] == ["data2vec", "mlm", "slc", "slc-sg"]
    assert doc["n_runs"] == len(doc["runs"]) > 0 and doc["estimated_hours"] > 0
    assert "NEVER MEASURED" in captured.err


def test_measure_step_time_is_positive_and_trains_in_place() -> None:
    from rhm_theory.neural.training import measure_step_time

    torch.manual_seed(0)
    model = MaskedLM(PARAMS, CFG)
    before = [p.clone() for p in model.parameters()]
    cfg = TrainConfig(steps=1, log_every=3, warmup_steps=1)
    sec = measure_step_time(model, RHMBatches(random_grammar(PARAMS, 0), 8, seed=1), cfg,
                            warmup=2, repeats=3)
    assert 0 < sec < 10
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
