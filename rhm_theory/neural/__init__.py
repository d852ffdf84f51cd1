"""Optional PyTorch validators (data2vec, masked LM, stacked latent clustering), lazy torch.

``import rhm_theory.neural`` never imports torch. Public names resolve on first access from
their submodule; those that need torch call :func:`require_torch` first, which raises an
``ImportError`` naming the ``torch`` extra (``pip install 'rhm-theory[torch]'``) when it is
absent. :mod:`rhm_theory.neural.synonyms` is numpy only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rhm_theory.neural._compat import INSTALL_HINT, require_torch, torch_available

if TYPE_CHECKING:
    from rhm_theory.neural.data import RHMBatches, one_hot, to_device
    from rhm_theory.neural.data2vec import (
        Data2Vec,
        Data2VecConfig,
        make_mask,
        masked_regression_loss,
        teacher_targets,
    )
    from rhm_theory.neural.ema import EMASchedule, ema_decay, ema_update
    from rhm_theory.neural.evaluation import EvalConfig, bayes_references, evaluate
    from rhm_theory.neural.experiments import scaling_experiment
    from rhm_theory.neural.grids import scaling_grid
    from rhm_theory.neural.mlm import MaskedLM, masked_token_loss
    from rhm_theory.neural.probes import (
        level_probes,
        linear_probe,
        recovery_accuracy,
        root_probe,
        synonymic_sensitivity,
    )
    from rhm_theory.neural.runs import RunSpec, grid_runs, run_neural
    from rhm_theory.neural.slc import SLCConfig, SLCNetwork
    from rhm_theory.neural.synonyms import rule_indices, synonym_swap
    from rhm_theory.neural.thresholds import probe_thresholds
    from rhm_theory.neural.training import (
        TrainConfig,
        load_checkpoint,
        lr_at,
        measure_step_time,
        resolve_device,
        set_determinism,
        train,
    )

__all__ = [
    "INSTALL_HINT",
    "Data2Vec",
    "Data2VecConfig",
    "EMASchedule",
    "EvalConfig",
    "MaskedLM",
    "RHMBatches",
    "RunSpec",
    "SLCConfig",
    "SLCNetwork",
    "TrainConfig",
    "bayes_references",
    "ema_decay",
    "ema_update",
    "evaluate",
    "grid_runs",
    "level_probes",
    "linear_probe",
    "load_checkpoint",
    "lr_at",
    "make_mask",
    "masked_regression_loss",
    "masked_token_loss",
    "measure_step_time",
    "one_hot",
    "probe_thresholds",
    "recovery_accuracy",
    "require_torch",
    "resolve_device",
    "root_probe",
    "rule_indices",
    "run_neural",
    "scaling_experiment",
    "scaling_grid",
    "set_determinism",
    "synonym_swap",
    "synonymic_sensitivity",
    "teacher_targets",
    "to_device",
    "torch_available",
    "train",
]

#: Public name -> submodule that defines it.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("RHMBatches", "one_hot", "to_device"), "data"),
    **dict.fromkeys(
        ("Data2Vec", "Data2VecConfig", "make_mask", "masked_regression_loss", "teacher_targets"),
        "data2vec",
    ),
    **dict.fromkeys(("EMASchedule", "ema_decay", "ema_update"), "ema"),
    **dict.fromkeys(("EvalConfig", "bayes_references", "evaluate"), "evaluation"),
    "scaling_experiment": "experiments",
    "scaling_grid": "grids",
    **dict.fromkeys(("RunSpec", "grid_runs", "run_neural"), "runs"),
    "probe_thresholds": "thresholds",
    **dict.fromkeys(("MaskedLM", "masked_token_loss"), "mlm"),
    **dict.fromkeys(
        ("level_probes", "linear_probe", "recovery_accuracy", "root_probe",
         "synonymic_sensitivity"),
        "probes",
    ),
    **dict.fromkeys(("SLCConfig", "SLCNetwork"), "slc"),
    **dict.fromkeys(("rule_indices", "synonym_swap"), "synonyms"),
    **dict.fromkeys(
        ("TrainConfig", "load_checkpoint", "lr_at", "measure_step_time", "resolve_device",
         "set_determinism", "train"),
        "training",
    ),
}
#: Submodules that work without torch.
_TORCH_FREE = frozenset({"synonyms"})


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if module_name not in _TORCH_FREE:
        require_torch()
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value  # cache: later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
