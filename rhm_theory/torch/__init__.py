"""PyTorch data for RHM researchers: the community's dataset as a drop-in, a streaming loader.

``import rhm_theory.torch`` does not import torch: the names live in the torch-optional
package :mod:`rhm_theory.neural` (``dropin_dataset``, ``dropin_rules``, ``stream``), and each
is imported on first access and raises an ``ImportError`` naming the ``torch`` extra
(``pip install 'rhm-theory[torch]'``) when it is absent. The numpy side of the bridge (the
community's rules and data without torch) is :mod:`rhm_theory.model.community`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rhm_theory.neural.dropin_dataset import RandomHierarchyModel
    from rhm_theory.neural.dropin_rules import (
        load_community_rules,
        rules_tensors,
        sample_rules,
        save_community_rules,
    )
    from rhm_theory.neural.stream import RHMStream, keep_torch_threads

__all__ = [
    "RHMStream",
    "RandomHierarchyModel",
    "keep_torch_threads",
    "load_community_rules",
    "rules_tensors",
    "sample_rules",
    "save_community_rules",
]

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "RandomHierarchyModel": "rhm_theory.neural.dropin_dataset",
    **dict.fromkeys(
        ("load_community_rules", "rules_tensors", "sample_rules", "save_community_rules"),
        "rhm_theory.neural.dropin_rules"),
    **dict.fromkeys(("RHMStream", "keep_torch_threads"), "rhm_theory.neural.stream"),
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        importlib.import_module("torch")
    except ImportError as exc:
        raise ImportError(
            f"rhm_theory.torch needs PyTorch, which is not importable ({exc}); install it "
            f"with: pip install 'rhm-theory[torch]'") from exc
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # cache: later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
