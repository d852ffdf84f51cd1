"""Root pytest configuration: doctests of the optional PyTorch packages need torch."""

from __future__ import annotations

import importlib.util

collect_ignore_glob: list[str] = []
if importlib.util.find_spec("torch") is None:
    # rhm_theory.neural and rhm_theory.torch import torch at module level in their submodules;
    # without the `torch` extra their doctests are skipped (the tests skip themselves).
    collect_ignore_glob.append("rhm_theory/neural/*.py")
    collect_ignore_glob.append("rhm_theory/torch/*.py")
    collect_ignore_glob.append("rhm_theory/cli/neural_cmd.py")
