"""Torch-free helpers that locate the optional PyTorch dependency."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["INSTALL_HINT", "require_torch", "torch_available"]

#: What to tell a user whose environment lacks PyTorch.
INSTALL_HINT = "pip install 'rhm-theory[torch]'"


def torch_available() -> bool:
    """Whether PyTorch can be imported (without importing it when it is absent)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a blocked or half-installed torch
        return False


def require_torch() -> ModuleType:
    """Import and return :mod:`torch`, or raise an ImportError that says how to install it.

    Returns
    -------
    module
        The :mod:`torch` module.

    Raises
    ------
    ImportError
        If PyTorch is not installed (message names the ``torch`` extra).
    """
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise ImportError(
            f"the neural validators of rhm_theory need PyTorch, which is not importable "
            f"({exc}); install it with: {INSTALL_HINT}"
        ) from exc
