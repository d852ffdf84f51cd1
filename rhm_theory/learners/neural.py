"""The neural validators as learners (optional, PyTorch imported only when one is built)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rhm_theory.learners.base import LearnerCell
from rhm_theory.model.params import RHMParams
from rhm_theory.validation import check_choice, check_int, check_seed

__all__ = ["DEFAULT_BATCH", "DEFAULT_STEPS", "Data2VecLearner", "NeuralLearner", "SLCLearner",
           "data2vec", "mlm", "slc"]

#: Optimisation steps of the factories' models (CPU-sized; the neural grids of
#: ``rhm-theory neural`` use their own budgets).
DEFAULT_STEPS = 1500
DEFAULT_BATCH = 128


def _fixed_batches(tokens: npt.NDArray[Any], batch_size: int, seed: int, device: Any) -> Any:
    """:class:`~rhm_theory.neural.data.RHMBatches` in its offline regime on given strings
    (no grammar: step ``t`` draws ``min(B, P)`` distinct strings of ``tokens``)."""
    from rhm_theory.neural.data import RHMBatches

    batches = RHMBatches.__new__(RHMBatches)
    batches.grammar = None  # type: ignore[assignment]
    batches.batch_size, batches.P, batches.seed = batch_size, len(tokens), seed
    batches.device = device
    batches._pool = tokens
    batches._chunk_steps, batches._chunk_id, batches._chunk = 1, -1, None
    return batches


class NeuralLearner:
    """Train one of the neural models on a fixed token set (base of the adapters below).

    Parameters
    ----------
    params : RHMParams
        Grammar parameters (the model's shape).
    method : str
        ``"slc"``/``"slc-sg"`` (:class:`SLCLearner`) or ``"data2vec"``/``"mlm"``
        (:class:`Data2VecLearner`).
    steps, batch_size, seed : int
        Optimisation steps, strings per step, seed of the model and of the batches.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    model_config : Data2VecConfig or SLCConfig, optional
        Model settings (defaults of :func:`rhm_theory.neural.experiments.build_model`).
    """

    method_choices: tuple[str, ...] = ()

    def __init__(self, params: RHMParams, method: str, *, steps: int = DEFAULT_STEPS,
                 batch_size: int = DEFAULT_BATCH, seed: int = 0, device: str = "cpu",
                 model_config: Any = None) -> None:
        from rhm_theory.neural._compat import require_torch

        require_torch()
        self.params = params
        self.method = check_choice("method", method, self.method_choices)
        self.steps = check_int("steps", steps, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.seed = check_seed("seed", seed)
        self.device = device
        self.model_config = model_config
        self.needs_labels = False

    def fit(self, tokens: npt.NDArray[Any], labels: npt.NDArray[Any] | None = None) -> Any:
        """Train a fresh model for ``steps`` steps on batches drawn from ``tokens``."""
        from rhm_theory.neural.experiments import build_model
        from rhm_theory.neural.training import TrainConfig, resolve_device, train

        tok = np.asarray(tokens)
        if tok.ndim != 2 or tok.shape[1] != self.params.s ** self.params.L or len(tok) < 1:
            raise ValueError(f"tokens must have shape (P, s**L) with P >= 1, got {tok.shape}")
        dev = resolve_device(self.device)

        data = _fixed_batches(tok, self.batch_size, self.seed, dev)
        self.device_ = dev
        self.model_ = build_model(self.method, self.params, self.model_config, dev, self.seed)
        train(self.model_, data, TrainConfig(steps=self.steps, seed=self.seed, prefetch=0,
                                             warmup_steps=min(100, self.steps // 10)))
        self.model_.eval()
        return self

    def _features(self, tokens: npt.NDArray[Any]) -> list[Any]:
        from rhm_theory.neural.data import to_device

        if not hasattr(self, "model_"):
            raise RuntimeError("call fit() first")
        return list(self.model_.features(to_device(np.asarray(tokens), self.device_)))


class SLCLearner(NeuralLearner):
    """The stacked latent-clustering network: its hard codes of each level are its latents."""

    method_choices = ("slc", "slc-sg")

    def predict_latents(self, tokens: npt.NDArray[Any], level: int) -> npt.NDArray[np.int64]:
        """Argmax code of every node of ``level`` (``1..L-1``)."""
        if not 1 <= level < self.params.L:
            raise ValueError(f"SLC codes levels 1..L-1 = 1..{self.params.L - 1}, got {level}")
        feats = self._features(tokens)
        return np.asarray(feats[level].argmax(dim=-1).cpu().numpy(), dtype=np.int64)


class Data2VecLearner(NeuralLearner):
    """data2vec or the masked LM: the top layer's per-position outputs, probed linearly."""

    method_choices = ("data2vec", "mlm")

    def transform(self, tokens: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """``(n, s**L, width)`` outputs of the last layer."""
        out = []
        tok = np.asarray(tokens)
        for i in range(0, len(tok), 2048):
            out.append(self._features(tok[i:i + 2048])[-1].float().cpu().numpy())
        return np.concatenate(out).astype(np.float64)


def slc(cell: LearnerCell) -> SLCLearner:
    """SLC network (CPU, :data:`~rhm_theory.learners.neural.DEFAULT_STEPS` steps)."""
    return SLCLearner(cell.params, "slc", seed=cell.seed)


def data2vec(cell: LearnerCell) -> Data2VecLearner:
    """data2vec (CPU, :data:`~rhm_theory.learners.neural.DEFAULT_STEPS` steps), linear probes."""
    return Data2VecLearner(cell.params, "data2vec", seed=cell.seed)


def mlm(cell: LearnerCell) -> Data2VecLearner:
    """Masked language model (token-level SSL), scored by linear probes."""
    return Data2VecLearner(cell.params, "mlm", seed=cell.seed)
