"""JSON grammar files (format ``rhm-grammar``, version 1): save, load and validate."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "GrammarFileError",
    "dumps_grammar",
    "grammar_from_dict",
    "grammar_to_dict",
    "load_grammar",
    "save_grammar",
]

FORMAT_NAME = "rhm-grammar"
FORMAT_VERSION = 1
_PARAM_KEYS = ("v", "m", "s", "L", "n_c")


class GrammarFileError(ValueError):
    """A grammar file (or dict) that cannot be loaded; the message names file and problem.

    Attributes
    ----------
    path : str or None
        The offending file, when loading from disk.
    """

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else os.fspath(path)
        prefix = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{prefix}invalid {FORMAT_NAME} file: {message}")


def grammar_to_dict(grammar: Grammar) -> dict[str, Any]:
    """Plain-JSON dict of a grammar in the ``rhm-grammar`` v1 format.

    Parameters
    ----------
    grammar : Grammar
        The grammar.

    Returns
    -------
    dict
        ``{"format", "version", "v", "m", "s", "L", "n_c", "rules"}`` where ``rules[l-1]``
        is a nested list of shape ``(vocab(l), m, s)``.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, Grammar
    >>> d = grammar_to_dict(Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2), [[[[0, 1]], [[1, 1]]]]))
    >>> d["format"], d["version"], d["rules"]
    ('rhm-grammar', 1, [[[[0, 1]], [[1, 1]]]])
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    out.update(grammar.params.to_dict())
    out["rules"] = [table.tolist() for table in grammar.rules]
    return out


def grammar_from_dict(data: Any, path: str | os.PathLike[str] | None = None) -> Grammar:
    """Build and validate a Grammar from an ``rhm-grammar`` v1 dict.

    Parameters
    ----------
    data : dict
        As produced by :func:`grammar_to_dict` (or parsed from a file).
    path : str or path-like, optional
        File name used in error messages.

    Returns
    -------
    Grammar

    Raises
    ------
    GrammarFileError
        On a wrong format/version, a missing or invalid key, mismatched shapes,
        out-of-range symbols, duplicated or ambiguous rules (the cause is chained).
    """
    if not isinstance(data, dict):
        raise GrammarFileError(f"top level must be a JSON object, got {type(data).__name__}", path)
    if data.get("format") != FORMAT_NAME:
        raise GrammarFileError(
            f"'format' must be {FORMAT_NAME!r}, got {data.get('format')!r}", path
        )
    if data.get("version") != FORMAT_VERSION:
        raise GrammarFileError(
            f"unsupported 'version' {data.get('version')!r} (this reader knows version "
            f"{FORMAT_VERSION})",
            path,
        )
    missing = [k for k in (*_PARAM_KEYS, "rules") if k not in data]
    if missing:
        raise GrammarFileError(f"missing key(s) {missing}", path)
    for key in _PARAM_KEYS:
        if isinstance(data[key], bool) or not isinstance(data[key], int):
            raise GrammarFileError(f"'{key}' must be an integer, got {data[key]!r}", path)
    try:
        params = RHMParams(**{k: data[k] for k in _PARAM_KEYS})
    except (TypeError, ValueError) as exc:
        raise GrammarFileError(f"bad parameters: {exc}", path) from exc
    rules = data["rules"]
    if not isinstance(rules, list):
        raise GrammarFileError(f"'rules' must be a list of L={params.L} tables", path)
    if len(rules) != params.L:
        raise GrammarFileError(
            f"'rules' must hold L={params.L} tables (one per level), got {len(rules)}", path
        )
    tables = []
    for level, raw in enumerate(rules, start=1):
        expected = (params.vocab(level), params.m, params.s)
        try:
            arr = np.array(raw, dtype=object)
        except ValueError as exc:  # ragged nesting
            raise GrammarFileError(
                f"rules of level {level} must have shape {expected}: {exc}", path
            ) from exc
        if arr.shape != expected:
            raise GrammarFileError(
                f"rules of level {level} must have shape (vocab(level), m, s) = {expected}, "
                f"got {arr.shape}",
                path,
            )
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in arr.flat):
            raise GrammarFileError(f"rules of level {level} must hold integers only", path)
        tables.append(arr.astype(np.int64))
    try:
        return Grammar(params, tables)
    except (TypeError, ValueError) as exc:
        raise GrammarFileError(str(exc), path) from exc


def dumps_grammar(grammar: Grammar) -> str:
    """Compact JSON text of a grammar: header on one line, one symbol's rules per line.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, Grammar
    >>> print(dumps_grammar(Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2),
    ...                             [[[[0, 1]], [[1, 1]]]])))
    {"format": "rhm-grammar", "version": 1, "v": 2, "m": 1, "s": 2, "L": 1, "n_c": 2, "rules": [
    [
    [[0,1]],
    [[1,1]]
    ]
    ]}
    """
    d = grammar_to_dict(grammar)
    rules = d.pop("rules")
    head = json.dumps(d)[:-1]
    blocks = []
    for table in rules:
        lines = ",\n".join(json.dumps(sym, separators=(",", ":")) for sym in table)
        blocks.append(f"[\n{lines}\n]")
    return f'{head}, "rules": [\n' + ",\n".join(blocks) + "\n]}"


def save_grammar(grammar: Grammar, path: str | os.PathLike[str]) -> None:
    """Write ``grammar`` to ``path`` as ``rhm-grammar`` v1 JSON (see :func:`dumps_grammar`).

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    path : str or path-like
        Destination file (overwritten).
    """
    text = dumps_grammar(grammar)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")


def load_grammar(path: str | os.PathLike[str]) -> Grammar:
    """Read and validate an ``rhm-grammar`` v1 JSON file.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    Grammar

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    GrammarFileError
        If the file is not valid JSON (e.g. truncated) or not a valid grammar; the
        message names the file and the problem.
    """
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GrammarFileError(f"not valid JSON (truncated or corrupted?): {exc}", path) from exc
    return grammar_from_dict(data, path)
