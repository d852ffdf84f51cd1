"""On a tiny grammar (v=8, m=2, s=2, L=3) both validators learn the hierarchy on a CPU."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from rhm_theory.model import RHMParams  # noqa: E402
from rhm_theory.neural.data2vec import Data2Vec, Data2VecConfig  # noqa: E402
from rhm_theory.neural.ema import EMASchedule  # noqa: E402
from rhm_theory.neural.experiments import (  # noqa: E402
    EvalConfig,
    RunResult,
    probe_split,
    probe_thresholds,
    run_neural,
)
from rhm_theory.neural.probes import FeatureFn, root_probe, synonymic_sensitivity  # noqa: E402
from rhm_theory.neural.slc import SLCConfig  # noqa: E402
from rhm_theory.neural.training import TrainConfig  # noqa: E402

pytestmark = pytest.mark.torch

PARAMS = RHMParams(v=8, m=2, s=2, L=3)
CHANCE = 1 / 8
# P_max = 1024 strings: probes train on 400 and are scored on the 624 others.
EVAL = EvalConfig(n_probe_train=400, n_probe_test=624, probe_steps=500, pool="mean",
                  n_sensitivity=624, seed=7)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _value(rows: list[dict[str, Any]], metric: str, level: int, layer: int | None = None) -> float:
    hits = [r["value"] for r in rows if r["metric"] == metric and r["level"] == level
            and (layer is None or r["layer"] == layer)]
    assert hits, (metric, level, layer)
    return float(hits[-1])


def _result(method: str, steps: int, config: Any, lr: float = 1e-3,
            grad_clip: float = 1.0) -> RunResult:
    return run_neural(method, PARAMS, P=None,
                      train_config=TrainConfig(steps=steps, seed=0, lr=lr, lr_schedule="constant",
                                               grad_clip=grad_clip),
                      model_config=config, batch_size=64, device="cpu", eval_config=EVAL)


def _run(method: str, steps: int, config: Any, lr: float = 1e-3) -> list[dict[str, Any]]:
    return _result(method, steps, config, lr).rows


def _sensitivity(res: RunResult, features: FeatureFn, level: int = 1) -> float:
    """PRX ``S(top, level)``: flattened top-layer features of the probe test strings."""
    _, test = probe_split(res.grammar, EVAL.n_probe_train, EVAL.n_probe_test, EVAL.seed)
    sens = synonymic_sensitivity(features, res.grammar, test, device="cpu", seed=EVAL.seed,
                                 levels=[level], pool="flatten")
    return float(sens[-1, 0])


def _d2v(res: RunResult) -> Data2Vec:
    assert isinstance(res.model, Data2Vec)
    return res.model


def _root_probe(res: RunResult, features: FeatureFn) -> float:
    train, test = probe_split(res.grammar, EVAL.n_probe_train, EVAL.n_probe_test, EVAL.seed)
    return root_probe(features, train, test, device="cpu", steps=EVAL.probe_steps,
                      seed=EVAL.seed, pool=EVAL.pool).test_accuracy


def test_data2vec_root_probe_beats_chance_and_context_becomes_synonym_invariant() -> None:
    # Whole level-1 tuples are masked (aligned spans of s = 2, 25% of the tuples); the probes
    # read the context representation: block outputs at each tuple with that tuple masked.
    # The setup of the earlier CPU runs (residual-stream targets, EMA of every parameter,
    # absolute EMA schedule 0.999 -> 0.9999, linear-map embedding init, instance-normalised
    # targets, no gradient clipping), now options.
    config = Data2VecConfig(depth=2, width=32, heads=4, target_layer="block", ema_scope="all",
                            embed_init="linear", target_norm="instance",
                            ema=EMASchedule(tau0=0.999, tau_end=0.9999, tau_steps=500),
                            mask_span=2, mask_align=True, mask_ratio=0.25,
                            probe_features="context")
    untrained = _result("data2vec", 0, config, grad_clip=0.0)
    trained = _result("data2vec", 1000, config, lr=3e-3, grad_clip=0.0)
    root, root0 = (_value(r.rows, "root_probe", 3) for r in (trained, untrained))
    assert root > 2.5 * CHANCE, root
    assert root > root0 + 0.08, (root, root0)
    # PRX sensitivity (flattened features) of the top layer to level-1 synonym swaps.
    s, s0 = (_sensitivity(r, r.model.features) for r in (trained, untrained))
    assert s < 0.6, s
    assert s0 > 0.9, s0  # an untrained network is not invariant
    # The plain top layer (unmasked strings) also carries the root.
    std, std0 = (_root_probe(r, _d2v(r).layer_features) for r in (trained, untrained))
    assert std > 2.5 * CHANCE, std
    assert std > std0 + 0.08, (std, std0)


def test_slc_recovers_the_top_level_and_becomes_synonym_invariant() -> None:
    config = SLCConfig(hidden=64, ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=500))
    untrained = _run("slc", 0, config)
    trained = _run("slc", 800, config)
    top = PARAMS.L - 1  # the root is not identifiable without labels
    rec, rec0 = _value(trained, "recovery", top), _value(untrained, "recovery", top)
    assert rec > 0.6, rec
    assert rec > rec0 + 0.3, (rec, rec0)
    assert _value(trained, "recovery", 1) > 0.7
    for level in (1, 2):
        s, s0 = (_value(r, "synonymic_sensitivity", level, top) for r in (trained, untrained))
        assert s < 0.5, (level, s)
        assert s0 > 0.7, (level, s0)  # an untrained network is not invariant
    assert _value(trained, "root_probe", PARAMS.L) > 3 * CHANCE
    thresholds = probe_thresholds(trained + untrained)
    assert all(r["metric"].startswith("threshold:") for r in thresholds)
