"""Unit checks of the neural validators on the CPU: shapes, EMA, masking, gradients, seeds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rhm_theory.model import RHMParams, random_grammar  # noqa: E402
from rhm_theory.model.sampling import sample  # noqa: E402
from rhm_theory.neural.data import RHMBatches, keep_torch_threads, one_hot  # noqa: E402
from rhm_theory.neural.data2vec import (  # noqa: E402
    Data2Vec,
    Data2VecConfig,
    make_mask,
    masked_regression_loss,
    teacher_targets,
)
from rhm_theory.neural.ema import EMASchedule, ema_decay, ema_update, make_teacher  # noqa: E402
from rhm_theory.neural.probes import (  # noqa: E402
    linear_probe,
    recovery_accuracy,
    synonymic_sensitivity,
)
from rhm_theory.neural.slc import SLCConfig, SLCNetwork, cousin_index, sinkhorn  # noqa: E402
from rhm_theory.neural.training import TrainConfig, resolve_device, train  # noqa: E402

pytestmark = pytest.mark.torch

PARAMS = RHMParams(v=8, m=2, s=2, L=3)
EMA10 = EMASchedule(tau0=0.999, tau_end=0.9999, tau_steps=10)
SMALL_D2V = Data2VecConfig(depth=2, width=16, heads=2, top_k=2, ema=EMA10)
SMALL_SLC = SLCConfig(hidden=16, ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=10))


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # Tiny models: one intra-op thread is fastest, and avoids barrier stalls on busy CPUs.
    torch.set_num_threads(1)


def _grammar():
    return random_grammar(PARAMS, seed=0)


def _tokens(n: int = 16, seed: int = 0) -> torch.Tensor:
    with keep_torch_threads():
        return torch.from_numpy(sample(_grammar(), n, seed).tokens).long()


def _model(kind: str, seed: int = 0):
    torch.manual_seed(seed)
    return Data2Vec(PARAMS, SMALL_D2V) if kind == "data2vec" else SLCNetwork(PARAMS, SMALL_SLC)


# -- data ---------------------------------------------------------------------------------
def test_batches_online_offline_shapes_and_reproducibility() -> None:
    g = _grammar()
    online = RHMBatches(g, 32, seed=3)
    b = online.batch(5)
    assert b.shape == (32, 8) and b.dtype == torch.int64 and b.device.type == "cpu"
    with keep_torch_threads():
        expected = sample(g, 32, 3, start=5 * 32).tokens
    np.testing.assert_array_equal(b.numpy(), expected)
    assert not torch.equal(online.batch(5), online.batch(6))
    offline = RHMBatches(g, 32, P=20, seed=3)
    ob = offline.batch(7)
    assert ob.shape == (20, 8) and offline.effective_batch == 20
    pool = {r.tobytes() for r in sample(g, 20, 3).tokens}
    assert all(r.astype(np.uint8).tobytes() in pool for r in ob.numpy())
    assert torch.equal(ob, RHMBatches(g, 32, P=20, seed=3).batch(7))
    oh = one_hot(b, 8)
    assert oh.shape == (32, 8, 8) and oh.dtype == torch.float32
    assert torch.equal(oh.argmax(-1), b)
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")


# -- shapes -------------------------------------------------------------------------------
def test_data2vec_shapes() -> None:
    model = _model("data2vec")
    x = _tokens()
    feats = model.features(x)
    assert len(feats) == SMALL_D2V.depth + 1
    assert all(f.shape == (16, 8, 16) for f in feats)
    mask = make_mask(16, 8, 0.5, 1)
    assert model.predict(x, mask).shape == (16, 8, 16)
    assert model.targets(x).shape == (16, 8, 16)
    loss, _ = model.loss(x)
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_slc_shapes() -> None:
    model = _model("slc")
    x = _tokens()
    feats = model.features(x)
    assert [tuple(f.shape) for f in feats] == [(16, 8, 8), (16, 4, 8), (16, 2, 8)]
    assert [tuple(c.shape) for c in model.codes(x)] == [(16, 4), (16, 2)]
    pred, code_logits = model.student[0](feats[0])
    assert pred.shape == (16, 4, 2, 2, 8) and code_logits.shape == (16, 4, 8)
    loss, metrics = model.loss(x)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert set(metrics) == {"pred_loss_1", "recon_1", "pred_loss_2", "recon_2"}
    with pytest.raises(ValueError, match="L >= 2"):
        SLCNetwork(RHMParams(v=4, m=2, s=2, L=1))


def test_cousin_index_matches_tree() -> None:
    idx = cousin_index(9, 3)  # 9 nodes of a level, s = 3: parents 0, 1, 2
    assert idx.shape == (9, 6)
    for k in range(9):
        g, j = divmod(k, 3)
        siblings = [g * 3 + jj for jj in range(3) if jj != j]
        assert idx[k].tolist() == [c * 3 + r for c in siblings for r in range(3)]


# -- EMA ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["data2vec", "slc"])
def test_ema_update_is_exact(kind: str) -> None:
    model = _model(kind)
    if kind == "data2vec":  # average every parameter here; the block-only scope is tested below
        model = Data2Vec(PARAMS, Data2VecConfig(depth=2, width=16, heads=2, top_k=2, ema=EMA10,
                                                ema_scope="all"))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(torch.randn(p.shape, generator=gen))
    before = [t.clone() for t in model.teacher.parameters()]
    student = [s.clone() for s in model.student.parameters()]
    tau = model.update_teacher(3, 100)
    c = model.config.ema
    assert tau == pytest.approx(ema_decay(3, c.tau0, c.tau_end, 10))
    for t_new, t_old, s in zip(model.teacher.parameters(), before, student, strict=True):
        torch.testing.assert_close(t_new, tau * t_old + (1 - tau) * s, rtol=1e-6, atol=1e-7)
    # The student is untouched by the teacher update.
    for s_now, s in zip(model.student.parameters(), student, strict=True):
        assert torch.equal(s_now, s)


def test_ema_schedule_and_limits() -> None:
    assert ema_decay(0, 0.9, 0.99, 100) == 0.9
    assert ema_decay(100, 0.9, 0.99, 100) == ema_decay(10**6, 0.9, 0.99, 100) == 0.99
    vals = [ema_decay(k, 0.9, 0.99, 100) for k in range(101)]
    assert np.allclose(np.diff(vals), 0.0009)
    a, b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    t = make_teacher(a)
    ema_update(t, b, 0.0)
    assert all(torch.equal(x, y) for x, y in zip(t.parameters(), b.parameters(), strict=True))
    with pytest.raises(ValueError):
        ema_update(t, b, 1.5)


# -- masking and the loss -----------------------------------------------------------------
def test_mask_counts_and_spans() -> None:
    gen = torch.Generator().manual_seed(0)
    m = make_mask(500, 16, 0.25, 1, gen)
    assert torch.all(m.sum(1) == 4)
    assert m.float().mean(0).min() > 0.15  # every position gets masked
    spans = make_mask(500, 16, 0.5, 4, gen)
    assert torch.all(spans.sum(1) >= 4) and torch.all(spans.sum(1) <= 8)
    # Every masked run has length >= 4 (spans, possibly merged), none shorter.
    for row in spans[:50].tolist():
        runs, cur = [], 0
        for bit in [*row, False]:
            if bit:
                cur += 1
            elif cur:
                runs.append(cur)
                cur = 0
        assert min(runs) >= 4


def test_loss_ignores_unmasked_positions() -> None:
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(8, 10, 6, generator=gen)
    target = torch.randn(8, 10, 6, generator=gen)
    mask = make_mask(8, 10, 0.4, 1, gen)
    base = masked_regression_loss(pred, target, mask)
    perturbed = target.clone()
    perturbed[~mask] += 100.0 * torch.randn(int((~mask).sum()), 6, generator=gen)
    assert torch.equal(masked_regression_loss(pred, perturbed, mask), base)
    assert torch.equal(masked_regression_loss(pred, target, mask, beta=0.5),
                       masked_regression_loss(pred, perturbed, mask, beta=0.5))
    moved = target.clone()
    moved[mask] += 1.0
    assert masked_regression_loss(pred, moved, mask) != base  # masked positions do count
    # Gradients reach masked positions only.
    p = pred.clone().requires_grad_()
    masked_regression_loss(p, target, mask).backward()
    assert torch.all(p.grad[~mask] == 0) and torch.all(p.grad[mask].abs().sum(-1) > 0)


def test_targets_are_normalised_average() -> None:
    gen = torch.Generator().manual_seed(0)
    layers = [torch.randn(4, 6, 5, generator=gen) * (k + 1) + k for k in range(3)]
    t = teacher_targets(layers, 2, "instance")
    inst = [(h - h.mean(1, keepdim=True)) / torch.sqrt(h.var(1, unbiased=False, keepdim=True)
            + 1e-5) for h in layers[1:]]
    torch.testing.assert_close(t, (inst[0] + inst[1]) / 2, rtol=1e-4, atol=1e-5)
    tl = teacher_targets(layers, 3, "layer")
    ln = [torch.nn.functional.layer_norm(h, (5,)) for h in layers]
    torch.testing.assert_close(tl, sum(ln) / 3)


@pytest.mark.parametrize("kind", ["data2vec", "slc"])
def test_teacher_receives_no_gradients(kind: str) -> None:
    model = _model(kind)
    loss, _ = model.loss(_tokens(), torch.Generator().manual_seed(0))
    loss.backward()
    assert all(not p.requires_grad and p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.student.parameters())
    owned = {id(p) for p in model.student_parameters()}
    assert not owned & {id(p) for p in model.teacher.parameters()}


def test_slc_stop_gradient_blocks_cross_module_gradients() -> None:
    x = _tokens()
    grads = {}
    for stop in (False, True):
        torch.manual_seed(0)
        model = SLCNetwork(PARAMS, SLCConfig(hidden=16, stop_gradient=stop, recon_weight=0.0,
                                             usage_weight=0.0, sharpness_weight=0.0))
        # With no clusterer losses, clusterer 1 learns only through module 2's predictor.
        loss, _ = model.loss(x)
        loss.backward()
        g = model.student[0].clusterer[0].weight.grad
        grads[stop] = 0.0 if g is None else float(g.abs().sum())
    assert grads[False] > 0 and grads[True] == 0


def test_sinkhorn_balances_codes() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(256, 8, generator=gen) * 3 + torch.arange(8.0)  # skewed usage
    q = sinkhorn(logits, 50)
    torch.testing.assert_close(q.sum(1), torch.ones(256), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(q.sum(0), torch.full((8,), 32.0), rtol=1e-2, atol=1e-2)


# -- training loop: seeds and checkpoints ---------------------------------------------------
@pytest.mark.parametrize("kind", ["data2vec", "slc"])
def test_same_seed_same_trajectory(kind: str) -> None:
    runs = []
    for seed in (0, 0, 1):
        model = _model(kind, seed)
        res = train(model, RHMBatches(_grammar(), 16, seed=2), TrainConfig(steps=8, seed=seed))
        runs.append(res.losses)
    assert len(runs[0]) == 8
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("kind", ["data2vec", "slc"])
@pytest.mark.parametrize("P", [None, 40])
def test_checkpoint_resume_matches_uninterrupted(kind: str, P: int | None, tmp_path: Path) -> None:
    cfg = TrainConfig(steps=12, seed=0, warmup_steps=4)
    full = train(_model(kind), RHMBatches(_grammar(), 16, P=P, seed=2), cfg)
    ck = tmp_path / "run.pt"
    first = train(_model(kind), RHMBatches(_grammar(), 16, P=P, seed=2), cfg, checkpoint=ck,
                  checkpoint_every=2, stop_after=5)
    assert ck.exists() and len(first.losses) == 5
    resumed = train(_model(kind, seed=99), RHMBatches(_grammar(), 16, P=P, seed=2), cfg,
                    checkpoint=ck, checkpoint_every=2)
    assert resumed.resumed_from == 5
    np.testing.assert_allclose(resumed.losses, full.losses, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="different run"):
        train(_model(kind), RHMBatches(_grammar(), 16, P=P, seed=2),
              TrainConfig(steps=12, seed=0, warmup_steps=4, lr=0.5), checkpoint=ck)


# -- probes -------------------------------------------------------------------------------
def test_recovery_accuracy_and_linear_probe() -> None:
    rng = np.random.default_rng(0)
    true = rng.integers(0, 5, 400)
    perm = rng.permutation(5)
    assert recovery_accuracy(perm[true], true) == 1.0
    noisy = perm[true].copy()
    noisy[:100] = rng.integers(0, 5, 100)
    acc = recovery_accuracy(noisy, true)
    assert 0.75 <= acc < 1.0
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 10, generator=gen) * 3
    y = torch.randint(0, 4, (600,), generator=gen)
    x = centers[y] + torch.randn(600, 10, generator=gen)
    res = linear_probe(x[:400], y[:400], x[400:], y[400:], 4, steps=200)
    assert res.test_accuracy > 0.9
    shuffled = linear_probe(x[:400], y[torch.randperm(400, generator=gen)], x[400:], y[400:], 4,
                            steps=200)
    assert shuffled.test_accuracy < 0.5


def test_sensitivity_of_exact_latent_features() -> None:
    g = _grammar()
    data = sample(g, 300, seed=5, latents=True)

    def latent_features(level: int):
        def f(tokens: torch.Tensor) -> list[torch.Tensor]:
            # Parse the tokens bottom-up: a perfectly synonym-invariant representation.
            sym = tokens.numpy()
            layers = [one_hot(tokens, 8)]
            for lvl in range(1, level + 1):
                sym = g.parent_of(lvl, sym.reshape(sym.shape[0], -1, 2)).astype(np.int64)
                layers.append(one_hot(torch.from_numpy(sym), PARAMS.vocab(lvl)))
            return layers
        return f

    s = synonymic_sensitivity(latent_features(2), g, data, device="cpu", pool="flatten")
    assert s.shape == (3, 3)
    # Layer k (level-k symbols) is blind to swaps at levels <= k, moved by swaps above.
    assert s[1, 0] == 0 and s[2, 0] == 0 and s[2, 1] == 0
    assert s[1, 1] > 0.3 and s[0, 0] > 0.3 and s[2, 2] > 0.3


def test_probe_thresholds_interpolate_in_log_p() -> None:
    from rhm_theory.neural.experiments import probe_thresholds

    base = {"method": "slc", "regime": "offline", "v": 8, "m": 2, "s": 2, "L": 3, "n_c": 8,
            "seed": 0, "layer": 2}
    acc = [0.1, 0.3, 0.9, 0.95]  # crosses 0.125 + 0.5 * 0.875 = 0.5625 between P=200 and 400
    sens = [1.0, 0.9, 0.7, 0.6]  # never reaches 0.5
    rows = [{**base, "P": p, "metric": "recovery", "level": 2, "value": a}
            for p, a in zip([100, 200, 400, 800], acc, strict=True)]
    rows += [{**base, "P": p, "metric": "synonymic_sensitivity", "level": 1, "value": x}
             for p, x in zip([100, 200, 400, 800], sens, strict=True)]
    out = {r["metric"]: r for r in probe_thresholds(rows)}
    rec = out["threshold:recovery"]
    frac = (0.5625 - 0.3) / (0.9 - 0.3)
    assert rec["value"] == pytest.approx(200 * 2**frac)
    assert rec["v_m3"] == 64 and rec["v_mL1"] == 128
    assert rec["P_over_v_m3"] == pytest.approx(rec["value"] / 64)
    assert rec["censored"] is None
    never = out["threshold:synonymic_sensitivity"]
    assert np.isnan(never["value"]) and never["censored"] == "right"
    early = probe_thresholds(rows, sensitivity_target=1.0)  # reached at the first point
    first = next(r for r in early if r["metric"] == "threshold:synonymic_sensitivity")
    assert first["value"] == 100 and first["censored"] == "left"


@pytest.mark.parametrize("regime", ["offline", "online"])
def test_scaling_experiment_rows_and_resumable_sweep(regime: str, tmp_path: Path) -> None:
    from rhm_theory.neural.experiments import EvalConfig, scaling_experiment

    grid = {"Ps": (16, 64), "ms": (2,), "Ls": (3,), "seeds": (0,), "epochs": 0, "min_steps": 4,
            "max_steps": 4, "batch_size": 8, "online_evals": (2, 4),
            "data2vec": SMALL_D2V, "slc": SMALL_SLC,
            "eval": EvalConfig(n_probe_train=32, n_probe_test=32, probe_steps=5,
                               n_sensitivity=16)}
    rows = scaling_experiment("both", regime=regime, device="cpu", grid=grid,
                              checkpoint_dir=tmp_path)
    runs = {(r["method"], r["P"]) for r in rows if r["metric"] == "root_probe"}
    expected_P = {16, 64} if regime == "offline" else {16, 32}  # online: strings seen
    assert runs == {(m, p) for m in ("data2vec", "slc") for p in expected_P}
    assert any(r["metric"] == "threshold:root_probe" for r in rows)
    assert len(list(tmp_path.glob("*.pt"))) == (4 if regime == "offline" else 2)
    # A finished sweep is read back from its checkpoints: the same rows, no retraining.
    again = scaling_experiment("both", regime=regime, device="cpu", grid=grid,
                               checkpoint_dir=tmp_path)
    assert json.dumps(again, sort_keys=True) == json.dumps(rows, sort_keys=True)


# -- CLI ----------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["data2vec", "slc"])
def test_cli_smoke(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rhm_theory.cli import main

    extra = ["--width", "16", "--heads", "2"] if command == "data2vec" else ["--hidden", "16"]
    ck = tmp_path / "c.pt"
    argv = [command, "--steps", "6", "--batch-size", "16", "--probe-steps", "5",
            "--probe-train", "64", "--probe-test", "64", "--device", "cpu", "--deterministic",
            "--threads", "1", "--checkpoint", str(ck), "--checkpoint-every", "3", "--json",
            *extra]
    try:
        assert main(argv) == 0
    finally:
        torch.use_deterministic_algorithms(False)
    doc = json.loads(capsys.readouterr().out)
    metrics = {r["metric"] for r in doc["rows"]}
    assert {"root_probe", "synonymic_sensitivity", "final_loss"} <= metrics
    assert ck.exists()
    row = doc["rows"][0]
    assert {"method", "v", "m", "s", "L", "P", "seed", "level", "metric", "value"} <= set(row)


# -- CUDA (skipped without a GPU) ---------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", ["data2vec", "slc"])
def test_cuda_training_is_deterministic_and_probes_run(kind: str) -> None:
    from rhm_theory.neural.training import set_determinism

    dev = torch.device("cuda")
    losses = []
    try:
        for _ in range(2):
            set_determinism(0, deterministic=True)
            model = _model(kind).to(dev)
            data = RHMBatches(_grammar(), 32, seed=2, device=dev)
            losses.append(train(model, data, TrainConfig(steps=10, seed=0)).losses)
    finally:
        torch.use_deterministic_algorithms(False)
    assert losses[0] == losses[1]
    s = synonymic_sensitivity(model.features, _grammar(), sample(_grammar(), 64, 1, latents=True),
                              device=dev)
    assert np.all(np.isfinite(s))
