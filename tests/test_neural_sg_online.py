"""The registered online stop-gradient experiment: its rule on rows, its registration, and the
local-learning option of the trainer it uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rhm_theory.neural.sg_online import SGOnline, seed_outcome, sg_online_verdict

REGISTERED = Path(__file__).resolve().parents[1] / "benchmarks" / "neural_sg_online"


def _rows(L: int, seed: int, by_step: dict[int, dict[int, float]]) -> list[dict[str, Any]]:
    return [{"metric": "recovery", "L": L, "seed": seed, "steps": s, "level": lvl, "value": y}
            for s, levels in by_step.items() for lvl, y in levels.items()]


def test_registration_file_is_the_code_rule() -> None:
    # The committed registration is what the code decides with (no silent drift).
    doc = json.loads((REGISTERED / "registration.json").read_text())
    assert SGOnline.from_dict(doc["experiment"]) == SGOnline()
    assert SGOnline().eval_steps == (7500, 15000, 30000)
    assert SGOnline().criterion == pytest.approx(1 / 8 + 0.5 * 7 / 8)


EXP = SGOnline(runs=((5, 0), (5, 1), (3, 0)), steps=40, eval_fractions=(0.25, 0.5, 1.0))
CRIT = EXP.criterion


@pytest.mark.parametrize(
    ("by_step", "outcome"),
    [
        # level 4 reaches the criterion at the last evaluation, level 1 above 0.9: crosses
        ({10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.4}, 40: {1: 0.97, 4: CRIT}}, "crosses"),
        # level 4 just short of the criterion at every evaluation: ceiling
        ({10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.4}, 40: {1: 0.97, 4: CRIT - 1e-9}},
         "ceiling"),
        # level 4 crosses but level 1 stays below 0.9: ceiling
        ({10: {1: 0.8, 4: 0.7}, 20: {1: 0.85, 4: 0.7}, 40: {1: 0.89, 4: 0.7}}, "ceiling"),
        # crossed at a quarter of the budget, then dipped: still crossed (first crossing)
        ({10: {1: 0.95, 4: 0.6}, 20: {1: 0.96, 4: 0.3}, 40: {1: 0.97, 4: 0.3}}, "crosses"),
        # not finished and not crossed: undecided
        ({10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.4}}, "incomplete"),
    ],
)
def test_seed_outcome(by_step: dict[int, dict[int, float]], outcome: str) -> None:
    assert seed_outcome(by_step, 5, EXP)["outcome"] == outcome


def test_crossing_step_is_the_first_evaluation_at_the_criterion() -> None:
    got = seed_outcome({10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.6}, 40: {1: 0.97, 4: 0.7}},
                       5, EXP)
    assert got["crossing_step"] == 20


def _verdict(s0: dict[int, dict[int, float]], s1: dict[int, dict[int, float]]) -> str:
    rows = _rows(5, 0, s0) + _rows(5, 1, s1) + _rows(3, 0, {40: {1: 1.0, 2: 1.0}})
    return str(sg_online_verdict(rows, EXP)["reading"])


UP = {10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.4}, 40: {1: 0.97, 4: 0.9}}
FLAT = {10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.2}, 40: {1: 0.97, 4: 0.2}}
HALF = {10: {1: 0.95, 4: 0.2}, 20: {1: 0.96, 4: 0.2}}


def test_readings() -> None:
    assert _verdict(FLAT, FLAT) == "CEILING"
    assert _verdict(UP, UP) == "CROSSES"
    assert _verdict(UP, FLAT) == "MIXED"
    assert _verdict(FLAT, HALF) == "INCOMPLETE"  # one decided seed < min_seeds
    # the L = 3 reference never enters the reading
    rows = _rows(5, 0, FLAT) + _rows(5, 1, FLAT) + _rows(3, 0, {40: {1: 0.1, 2: 0.1}})
    assert sg_online_verdict(rows, EXP)["reading"] == "CEILING"


def test_crossing_steps_feed_the_offline_ladder() -> None:
    rows = _rows(5, 0, UP) + _rows(5, 1, {10: {1: 0.95, 4: 0.7}, 40: {1: 0.95, 4: 0.7}})
    got = sg_online_verdict(rows, EXP)
    assert got["reading"] == "CROSSES"
    assert got["offline_ladder_steps"] == 40


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match="level1_min"):
        SGOnline(level1_min=1.5)
    with pytest.raises(ValueError, match="runs"):
        SGOnline(runs=((5, 0), (5, 0)))


# --- the local-learning option of the trainer (needs torch) ---------------------------------


def _tiny(method: str = "slc-sg") -> tuple[Any, Any]:
    torch = pytest.importorskip("torch")
    from rhm_theory.model import RHMParams, random_grammar
    from rhm_theory.neural.data import RHMBatches
    from rhm_theory.neural.ema import EMASchedule
    from rhm_theory.neural.experiments import build_model
    from rhm_theory.neural.slc import SLCConfig

    params = RHMParams(v=4, m=2, s=2, L=4)
    cfg = SLCConfig(hidden=8, ema=EMASchedule(tau0=0.9, tau_end=0.99, tau_steps=5))
    model = build_model(method, params, cfg, torch.device("cpu"), seed=0)
    return model, RHMBatches(random_grammar(params, 0), 8, seed=1)


@pytest.mark.torch
def test_modules_start_in_turn_with_their_own_schedule() -> None:
    torch = pytest.importorskip("torch")
    from rhm_theory.neural.training import TrainConfig, module_lrs, train

    model, data = _tiny()
    before = [[p.detach().clone() for p in m.parameters()] for m in model.student]
    cfg = TrainConfig(steps=12, lr=1e-2, warmup_steps=2, seed=0, prefetch=0,
                      module_start_every=5)
    train(model, data, cfg, stop_after=5)
    after = [[p.detach().clone() for p in m.parameters()] for m in model.student]
    moved = [any(not torch.equal(a, b) for a, b in zip(x, y, strict=True))
             for x, y in zip(before, after, strict=True)]
    assert moved == [True, False, False]  # module 2 starts at step 5, module 3 at 10
    # a module's own schedule restarts its warm-up at its start
    lrs = module_lrs(5, 3, cfg)
    assert lrs[0] < 1e-2 and lrs[1] == pytest.approx(1e-2 / 2) and lrs[2] == 0.0


@pytest.mark.torch
def test_each_module_is_clipped_on_its_own() -> None:
    torch = pytest.importorskip("torch")
    from rhm_theory.neural.training import TrainConfig, training_step

    model, data = _tiny()
    groups = [list(m.parameters()) for m in model.student]
    cfg = TrainConfig(steps=1, grad_clip=1e-3, module_start_every=0)
    opt = torch.optim.AdamW([{"params": g} for g in groups], lr=0.0)
    gen = torch.Generator().manual_seed(0)
    training_step(model, opt, model.student_parameters(), data.batch(0), gen, 0, cfg,
                  groups=groups, started=[True, True, False])
    norms = [torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in g])).item()
             if all(p.grad is not None for p in g) else None for g in groups]
    # each started module clipped to the clip by itself (the global norm is above it)
    assert norms[0] == pytest.approx(1e-3, rel=1e-4)
    assert norms[1] == pytest.approx(1e-3, rel=1e-4)
    assert norms[2] is None  # not started: gradients dropped


@pytest.mark.torch
def test_local_learning_needs_the_stop_gradient_network() -> None:
    pytest.importorskip("torch")
    from rhm_theory.neural.training import TrainConfig, train

    model, data = _tiny("slc")
    with pytest.raises(ValueError, match="stop-gradient"):
        train(model, data, TrainConfig(steps=2, prefetch=0, module_start_every=1))
    with pytest.raises(ValueError, match="module_start_every"):
        TrainConfig(module_start_every=-1)


@pytest.mark.torch
def test_experiment_writes_each_evaluation_and_resumes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from rhm_theory.io import write_json
    from rhm_theory.neural.sg_online import load_sg_online_rows, run_sg_online

    exp = SGOnline(runs=((3, 0),), steps=8, eval_fractions=(0.5, 1.0), module_start_every=2,
                   probe={"n_probe_train": 32, "n_probe_test": 32, "probe_steps": 5,
                          "pool": "mean", "root_pool": None, "n_sensitivity": 16,
                          "seed": 3})
    with pytest.raises(ValueError, match="register"):
        run_sg_online(tmp_path, exp)
    write_json(tmp_path / "registration.json", {"experiment": exp.to_dict()})
    verdict = run_sg_online(tmp_path, exp)
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    assert [json.loads(x)["steps"] for x in lines] == [4, 8]
    assert verdict["runs"]["L=3,seed=0"]["finished"]
    assert verdict["reading"] == "INCOMPLETE"  # one decided seed < min_seeds
    run_sg_online(tmp_path, exp)  # finished runs are not retrained
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 2
    assert {r["steps"] for r in load_sg_online_rows(tmp_path)} == {4, 8}
    with pytest.raises(ValueError, match="other settings"):
        run_sg_online(tmp_path, SGOnline(runs=((3, 0),), steps=9))
