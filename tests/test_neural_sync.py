"""A training step never waits for the device: no host read-back, gradient clipping on device."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch.overrides import TorchFunctionMode  # noqa: E402

from rhm_theory.model import RHMParams, random_grammar  # noqa: E402
from rhm_theory.neural.data import RHMBatches  # noqa: E402
from rhm_theory.neural.data2vec import (  # noqa: E402
    Data2VecConfig,
    make_mask,
    masked_regression_loss,
)
from rhm_theory.neural.ema import EMASchedule  # noqa: E402
from rhm_theory.neural.experiments import build_model  # noqa: E402
from rhm_theory.neural.mlm import masked_token_loss  # noqa: E402
from rhm_theory.neural.slc import SLCConfig  # noqa: E402
from rhm_theory.neural.training import TrainConfig, train, training_step  # noqa: E402

pytestmark = pytest.mark.torch

PARAMS = RHMParams(v=8, m=2, s=2, L=3)
CONFIGS: dict[str, Any] = {
    "data2vec": Data2VecConfig(depth=2, width=16, heads=2, top_k=2,
                               ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=10)),
    "mlm": Data2VecConfig(depth=2, width=16, heads=2),
    "slc": SLCConfig(hidden=16, ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=10)),
    "slc-sg": SLCConfig(hidden=16, ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=10)),
}
#: Tensor operations that read device memory back to the host (a synchronisation on CUDA).
_SYNCING = {"item", "tolist", "cpu", "numpy", "nonzero", "masked_select", "argwhere",
            "unique", "__bool__", "__int__", "__float__", "__index__", "any", "all",
            "equal", "allclose"}


class _SyncRecorder(TorchFunctionMode):
    """Records every call that would read a tensor back to the host."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        if name in _SYNCING:
            self.calls.append(name)
        if name == "__getitem__" and len(args) > 1:
            idx = args[1] if isinstance(args[1], tuple) else (args[1],)
            if any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in idx):
                self.calls.append("boolean-mask indexing")
        # (``.to(device)`` is not recorded: on a CPU test every device is the host; the CUDA
        # test below catches a device-to-host copy.)
        return func(*args, **kwargs)


def _setup(method: str, device: torch.device) -> tuple[Any, Any, Any, TrainConfig]:
    grammar = random_grammar(PARAMS, 0)
    model = build_model(method, PARAMS, CONFIGS[method], device, seed=0)
    data = RHMBatches(grammar, 16, seed=1, device=device)
    params = model.student_parameters()
    # Fused AdamW, as train() uses on CUDA (the CPU default's per-tensor loop reads the
    # step counters back with .item(), a CPU-only code path).
    opt = torch.optim.AdamW(params, lr=1e-3, fused=True)
    return model, data, (params, opt), TrainConfig(steps=10, grad_clip=1.0)


def test_recorder_sees_the_syncs_it_must_catch() -> None:
    # The recorder is not vacuous: the old boolean-indexed loss and a read-back are caught.
    x, mask = torch.randn(2, 4, 3), torch.tensor([[True, False] * 2] * 2)
    with _SyncRecorder() as rec:
        _ = x[mask].mean()
        _ = float(x.sum())
    assert "boolean-mask indexing" in rec.calls and "__float__" in rec.calls


@pytest.mark.parametrize("method", ["data2vec", "mlm", "slc", "slc-sg"])
def test_training_step_makes_no_host_read_back(method: str) -> None:
    dev = torch.device("cpu")
    model, data, (params, opt), cfg = _setup(method, dev)
    gen = torch.Generator(device=dev)
    tokens = data.batch(0)
    with _SyncRecorder() as rec:
        for step in range(3):
            gen.manual_seed(step)
            loss, _ = training_step(model, opt, params, tokens, gen, step, cfg)
    assert rec.calls == [], f"{method}: host read-backs in a training step: {rec.calls}"
    assert loss.requires_grad is False and torch.isfinite(loss)


def test_mask_weighted_losses_equal_the_indexed_ones() -> None:
    gen = torch.Generator().manual_seed(3)
    pred, target = torch.randn(4, 8, 5, generator=gen), torch.randn(4, 8, 5, generator=gen)
    mask = make_mask(4, 8, 0.4, 1, gen)
    for beta in (0.0, 0.5):
        ref = (torch.nn.functional.smooth_l1_loss(pred[mask], target[mask], beta=beta)
               if beta else torch.nn.functional.mse_loss(pred[mask], target[mask]))
        got = masked_regression_loss(pred, target, mask, beta)
        assert abs(float(got) - float(ref)) < 1e-6
    logits, tokens = torch.randn(4, 8, 6, generator=gen), torch.randint(0, 6, (4, 8),
                                                                          generator=gen)
    ref = torch.nn.functional.cross_entropy(logits[mask], tokens[mask])
    assert abs(float(masked_token_loss(logits, tokens, mask)) - float(ref)) < 1e-6


def test_gradient_clipping_bounds_the_update() -> None:
    # With clip c, AdamW's first step is unchanged (Adam normalises), so check the norm of
    # the clipped gradient directly after a step with a huge loss scale.
    dev = torch.device("cpu")
    model, data, (params, opt), _ = _setup("mlm", dev)
    tokens = data.batch(0)
    gen = torch.Generator().manual_seed(0)

    def big_loss(t: torch.Tensor, g: torch.Generator) -> Any:
        loss, m = model.loss(t, g)
        return 1e6 * loss, m

    for clip, bounded in ((0.5, True), (0.0, False)):
        training_step(model, opt, params, tokens, gen, 0, TrainConfig(steps=1, grad_clip=clip),
                      loss_fn=big_loss)
        norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in params if p.grad is not None]))
        assert (float(norm) <= 0.5 + 1e-4) is bounded


def test_grad_clip_is_validated() -> None:
    with pytest.raises(ValueError, match="grad_clip"):
        TrainConfig(grad_clip=-1.0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", ["data2vec", "mlm", "slc"])
def test_cuda_training_step_never_synchronises(method: str) -> None:
    dev = torch.device("cuda")
    model, data, (params, opt), cfg = _setup(method, dev)
    gen = torch.Generator(device=dev)
    train(model, data, TrainConfig(steps=2, log_every=1, prefetch=0))  # warm-up, allocator
    host = [data.host_batch(k) for k in range(3)]
    from rhm_theory.neural.data import to_device

    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(3):
            gen.manual_seed(step)
            tokens = to_device(host[step], dev)
            training_step(model, opt, params, tokens, gen, step, cfg, amp=True)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    torch.cuda.synchronize()
