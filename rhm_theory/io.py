"""Plain-data output shared by the library, the checks and the CLI: JSON-safe values."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["jsonable", "write_json"]


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats into plain JSON values.

    NaN becomes ``None`` (JSON has no NaN), infinities the strings ``"inf"`` / ``"-inf"``.

    >>> jsonable({"a": np.float64(0.5), "b": (1, float("nan")), 3: np.arange(2)})
    {'a': 0.5, 'b': [1, None], '3': [0, 1]}
    """
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` (made :func:`jsonable`) as an indented JSON document; return the path."""
    out = Path(path)
    out.write_text(json.dumps(jsonable(data), indent=2) + "\n")
    return out
