"""Shared output helpers of the CLI: aligned text tables and one JSON document."""

from __future__ import annotations

import json
from argparse import Namespace
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rhm_theory.io import jsonable

__all__ = ["format_table", "print_json", "show_progress"]


def print_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout."""
    print(json.dumps(jsonable(data), indent=2))


def show_progress(args: Namespace) -> bool:
    """Progress on stderr: on unless ``--no-progress``, ``--quiet`` or ``--json``; a live
    line on a terminal, a line every :data:`rhm_theory.progress.LOG_INTERVAL` seconds when
    stderr is a file or a pipe (:class:`rhm_theory.progress.Progress`)."""
    return not any(getattr(args, k, False) for k in ("no_progress", "quiet", "json"))


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:.4f}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Aligned plain-text table of ``rows`` (dicts), one line per row."""
    if not rows:
        return "(no rows)"
    cols = list(columns) if columns is not None else list(rows[0].keys())
    cells = [[_cell(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    head = "  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(x.rjust(w) for x, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([head, rule, *body])
