"""Thresholds from another code: rows ``v, m, s, L, seed, P_lo, P_hi`` as censored points."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rhm_theory.scaling.threshold import Threshold, ThresholdPoint

__all__ = [
    "ROW_COLUMNS",
    "RowError",
    "read_threshold_rows",
    "threshold_rows",
]

#: The columns every row must have (``level``, default 0 = whole-tree threshold, is optional).
ROW_COLUMNS = ("v", "m", "s", "L", "seed", "P_lo", "P_hi")


class RowError(ValueError):
    """A row of a thresholds file is malformed; the message names the row and the column.

    Attributes
    ----------
    row : int
        The data row, counted from 1 (the CSV header is not a row).
    column : str
    """

    def __init__(self, row: int, column: str, problem: str) -> None:
        super().__init__(f"row {row}, column {column}: {problem}")
        self.row = row
        self.column = column


def _number(record: Mapping[str, Any], row: int, column: str, *, empty: float | None = None,
            ) -> float:
    if column not in record:
        raise RowError(row, column, "missing")
    raw = record[column]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if empty is None:
            raise RowError(row, column, "empty")
        return empty
    if isinstance(raw, bool):
        raise RowError(row, column, f"not a number: {raw!r}")
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise RowError(row, column, f"not a number: {raw!r}") from None


def _integer(record: Mapping[str, Any], row: int, column: str, minimum: int) -> int:
    x = _number(record, row, column)
    if not (math.isfinite(x) and x.is_integer()):
        raise RowError(row, column, f"must be an integer, got {record[column]!r}")
    if x < minimum:
        raise RowError(row, column, f"must be >= {minimum}, got {int(x)}")
    return int(x)


def _point(record: Mapping[str, Any], row: int) -> ThresholdPoint:
    v = _integer(record, row, "v", 2)
    m = _integer(record, row, "m", 1)
    s = _integer(record, row, "s", 2)
    L = _integer(record, row, "L", 1)
    seed = _integer(record, row, "seed", 0)
    level = _integer(record, row, "level", 0) if record.get("level") not in (None, "") else 0
    if m > v ** (s - 1):
        raise RowError(row, "m", f"must satisfy m <= v^(s-1) = {v ** (s - 1)}, got {m}")
    if level >= L:
        raise RowError(row, "level", f"must satisfy 0 <= level < L = {L}, got {level}")
    lo = _number(record, row, "P_lo")
    hi = _number(record, row, "P_hi", empty=math.inf)
    if math.isnan(lo) or math.isnan(hi):
        raise RowError(row, "P_lo" if math.isnan(lo) else "P_hi", "must not be nan")
    if lo > hi:
        raise RowError(row, "P_hi", f"P_lo > P_hi ({lo:g} > {hi:g})")
    if lo == hi and not (math.isfinite(lo) and lo > 0):
        raise RowError(row, "P_lo", f"a point threshold needs 0 < P_lo = P_hi < inf, got {lo:g}")
    try:
        t = Threshold.from_bounds(lo, hi)
    except ValueError as exc:
        raise RowError(row, "P_lo, P_hi", str(exc)) from None
    if t.kind == "point":
        # Grid ends unknown: a point stays a point (never read as censored at a grid end).
        return ThresholdPoint(v, m, s, L, level, seed, t.P_star)
    return ThresholdPoint.from_threshold(v, m, s, L, level, seed, t)


def threshold_rows(records: Iterable[Mapping[str, Any]]) -> list[ThresholdPoint]:
    """Interval-censored thresholds of rows with columns :data:`ROW_COLUMNS` (``level``
    optional).

    ``P_lo == P_hi``: ``P*`` inside the grid; ``P_lo <= 0``: below it (``P* <= P_hi``);
    ``P_hi`` infinite or empty: above it (``P* > P_lo``); see
    :meth:`~rhm_theory.scaling.threshold.Threshold.from_bounds`. Every row is checked before
    any is returned.

    Parameters
    ----------
    records : iterable of mapping
        One mapping per row (values numbers or strings, as CSV and JSON give them).

    Returns
    -------
    list of ThresholdPoint

    Raises
    ------
    RowError
        The first malformed row: a missing or empty column, a value that is not a number, an
        invalid ``v``, ``m``, ``s``, ``L``, ``seed`` or ``level``, ``P_lo > P_hi``, a bracket
        that is not a censoring kind, or a run given twice.

    Examples
    --------
    >>> pts = threshold_rows([{"v": 8, "m": 2, "s": 2, "L": 3, "seed": 0, "P_lo": 900,
    ...                        "P_hi": 900},
    ...                       {"v": 8, "m": 2, "s": 2, "L": 4, "seed": 0, "P_lo": 4096,
    ...                        "P_hi": ""}])
    >>> [p.censored for p in pts]
    [False, True]
    >>> threshold_rows([{"v": 8, "m": 2, "s": 2, "L": 3, "seed": 0, "P_lo": 9, "P_hi": 5}])
    Traceback (most recent call last):
    ...
    rhm_theory.scaling.rows.RowError: row 1, column P_hi: P_lo > P_hi (9 > 5)
    """
    out: list[ThresholdPoint] = []
    first: dict[tuple[int, ...], int] = {}
    for row, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise RowError(row, "*", f"must be an object of columns, got {type(record).__name__}")
        p = _point(record, row)
        run = (*p.config, p.grammar_seed)
        if run in first:
            raise RowError(row, "seed", f"the run v={p.v} m={p.m} s={p.s} L={p.L} "
                           f"level={p.level} seed={p.grammar_seed} is also row {first[run]}")
        first[run] = row
        out.append(p)
    if not out:
        raise ValueError("rows: no threshold rows")
    return out


def read_threshold_rows(path: str | Path) -> list[ThresholdPoint]:
    """The thresholds of a CSV file (a header naming the columns) or a JSON-lines file (one
    object per line; ``.jsonl`` or ``.json``), checked by :func:`threshold_rows`.

    Rows are counted from 1 (the CSV header and blank JSON lines are not rows).
    """
    p = Path(path)
    text = p.read_text()
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        records: list[Any] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RowError(len(records) + 1, "*", f"not JSON: {exc.msg}") from None
        return threshold_rows(records)
    return threshold_rows(csv.DictReader(text.splitlines()))
