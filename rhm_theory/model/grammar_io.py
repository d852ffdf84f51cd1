"""JSON grammar files (format ``rhm-grammar``, version 2; version 1 loads): save, load, validate."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.validation import check_probabilities

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "GrammarFileError",
    "dumps_grammar",
    "grammar_from_dict",
    "grammar_to_dict",
    "load_grammar",
    "save_grammar",
]

FORMAT_NAME = "rhm-grammar"
FORMAT_VERSION = 2
#: Versions this reader accepts: 1 (rules only: uniform weights) and 2 (weights, ambiguity).
READABLE_VERSIONS = (1, 2)
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
    """Plain-JSON dict of a grammar in the ``rhm-grammar`` v2 format.

    Parameters
    ----------
    grammar : Grammar
        The grammar.

    Returns
    -------
    dict
        ``{"format", "version", "v", "m", "s", "L", "n_c", "rules", "rule_probs",
        "root_probs", "allow_ambiguous"}`` where ``rules[l-1]`` is a nested list of shape
        ``(vocab(l), m, s)``, ``rule_probs[l-1]`` one of shape ``(vocab(l), m)`` and
        ``root_probs`` a list of ``n_c`` floats (Python's float repr: exact round trip).

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, Grammar
    >>> d = grammar_to_dict(Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2), [[[[0, 1]], [[1, 1]]]]))
    >>> d["format"], d["version"], d["rules"], d["root_probs"]
    ('rhm-grammar', 2, [[[[0, 1]], [[1, 1]]]], [0.5, 0.5])
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    out.update(grammar.params.to_dict())
    out["rules"] = [table.tolist() for table in grammar.rules]
    out["rule_probs"] = [w.tolist() for w in grammar.rule_probs]
    out["root_probs"] = grammar.root_probs.tolist()
    out["allow_ambiguous"] = grammar.allow_ambiguous
    return out


def grammar_from_dict(data: Any, path: str | os.PathLike[str] | None = None) -> Grammar:
    """Build and validate a Grammar from an ``rhm-grammar`` dict (version 1 or 2).

    Version 1 (rules only) gives uniform weights; version 2 requires ``rule_probs``,
    ``root_probs`` and ``allow_ambiguous``.

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
        out-of-range symbols, duplicated rules, ambiguous rules in a file that does not
        allow them, or bad probabilities (the cause is chained).
    """
    if not isinstance(data, dict):
        raise GrammarFileError(f"top level must be a JSON object, got {type(data).__name__}", path)
    if data.get("format") != FORMAT_NAME:
        raise GrammarFileError(
            f"'format' must be {FORMAT_NAME!r}, got {data.get('format')!r}", path
        )
    version = data.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise GrammarFileError(
            f"unsupported 'version' {version!r} (this reader knows versions "
            f"{READABLE_VERSIONS})",
            path,
        )
    extra = ("rule_probs", "root_probs", "allow_ambiguous") if version == 2 else ()
    missing = [k for k in (*_PARAM_KEYS, "rules", *extra) if k not in data]
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
    if version == 1:
        kwargs: dict[str, Any] = {}
    else:
        kwargs = _probability_fields(data, params, path)
    try:
        return Grammar(params, tables, **kwargs)
    except (TypeError, ValueError) as exc:
        raise GrammarFileError(str(exc), path) from exc


def _probability_fields(
    data: dict[str, Any], params: RHMParams, path: str | os.PathLike[str] | None
) -> dict[str, Any]:
    # JSON numbers only (no strings, no booleans), then the shared probability checks.
    amb = data["allow_ambiguous"]
    if not isinstance(amb, bool):
        raise GrammarFileError(f"'allow_ambiguous' must be true or false, got {amb!r}", path)
    raw_w = data["rule_probs"]
    if not isinstance(raw_w, list) or len(raw_w) != params.L:
        raise GrammarFileError(
            f"'rule_probs' must be a list of L={params.L} arrays (one per level)", path
        )
    try:
        weights = []
        for level, raw in enumerate(raw_w, start=1):
            arr = np.array(raw, dtype=object)
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in arr.flat):
                raise ValueError(f"rule_probs of level {level} must hold numbers only")
            weights.append(
                check_probabilities(
                    f"rule_probs of level {level}",
                    arr.astype(np.float64),
                    shape=(params.vocab(level), params.m),
                )
            )
        root = np.array(data["root_probs"], dtype=object)
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in root.flat):
            raise ValueError("root_probs must hold numbers only")
        root_p = check_probabilities("root_probs", root.astype(np.float64), shape=(params.n_c,))
    except (TypeError, ValueError) as exc:
        raise GrammarFileError(str(exc), path) from exc
    return {"rule_probs": weights, "root_probs": root_p, "allow_ambiguous": amb}


def dumps_grammar(grammar: Grammar) -> str:
    """Compact JSON text of a grammar: header on one line, one symbol's rules per line.

    Examples
    --------
    >>> from rhm_theory.model import RHMParams, Grammar
    >>> text = dumps_grammar(Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2),
    ...                                  [[[[0, 1]], [[1, 1]]]]))
    >>> lines = text.splitlines()
    >>> lines[0][-46:]
    '"n_c": 2, "allow_ambiguous": false, "rules": ['
    >>> print(*lines[1:], sep=chr(10))
    [
    [[0,1]],
    [[1,1]]
    ]
    ],
    "rule_probs": [
    [
    [1.0],
    [1.0]
    ]
    ],
    "root_probs": [0.5,0.5]}
    """
    d = grammar_to_dict(grammar)
    rules = d.pop("rules")
    probs = d.pop("rule_probs")
    root = d.pop("root_probs")
    head = json.dumps(d)[:-1]

    def blocks(tables: list[Any]) -> str:
        out = []
        for table in tables:
            lines = ",\n".join(json.dumps(sym, separators=(",", ":")) for sym in table)
            out.append(f"[\n{lines}\n]")
        return "[\n" + ",\n".join(out) + "\n]"

    return (
        f'{head}, "rules": {blocks(rules)},\n"rule_probs": {blocks(probs)},\n'
        f'"root_probs": {json.dumps(root, separators=(",", ":"))}}}'
    )


def save_grammar(grammar: Grammar, path: str | os.PathLike[str]) -> None:
    """Write ``grammar`` to ``path`` as ``rhm-grammar`` v2 JSON (see :func:`dumps_grammar`).

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    path : str or path-like
        Destination file (overwritten).
    """
    from rhm_theory.io import write_text

    # Atomic: a kill mid-write never leaves a truncated file where the old one was.
    write_text(path, dumps_grammar(grammar) + "\n")


def load_grammar(path: str | os.PathLike[str]) -> Grammar:
    """Read and validate an ``rhm-grammar`` JSON file (version 1 or 2).

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
        If the file is not JSON (empty, a zip or gzip archive, binary data: the message
        says which), not valid JSON (e.g. truncated) or not a valid grammar; the message
        names the file and the problem.
    """
    with open(path, "rb") as fh:
        raw = fh.read()
    what = _not_text(raw)
    if what is not None:
        raise GrammarFileError(f"{what}; expected a grammar JSON file "
                               "(rhm-theory grammar make writes one)", path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        start = raw[:40].decode("utf-8", "replace").split("\n")[0]
        raise GrammarFileError(f"not valid JSON (truncated or corrupted?): {exc}; "
                               f"the file starts with {start!r}", path) from exc
    return grammar_from_dict(data, path)


#: File signatures (magic bytes) of formats a grammar file is mistaken for.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive (an .npz sample file or a zipped folder?)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x1f\x8b", "gzip-compressed data (gunzip it first)"),
    (b"BZh", "bzip2-compressed data (bunzip2 it first)"),
    (b"\xfd7zXZ\x00", "xz-compressed data (unxz it first)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data (unzstd it first)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
)


def _not_text(raw: bytes) -> str | None:
    """What ``raw`` looks like when it cannot be a JSON text, else ``None``.

    >>> _not_text(b""), _not_text(b"x\\x9c\\x01")
    ('the file is empty', 'zlib-compressed data')
    >>> _not_text(b"PK\\x03\\x04rest")
    'a zip archive (an .npz sample file or a zipped folder?)'
    >>> _not_text(b'{"format": 1}') is None
    True
    """
    if not raw.strip():
        return "the file is empty" if not raw else "the file holds only whitespace"
    for magic, name in _SIGNATURES:
        if raw.startswith(magic):
            return name
    if len(raw) >= 2 and raw[0] == 0x78 and raw[1] in (0x01, 0x5E, 0x9C, 0xDA):
        return "zlib-compressed data"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"binary data, not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start}; first bytes {raw[:8].hex(' ')})")
    if "\x00" in text:
        return f"binary data (NUL bytes; first bytes {raw[:8].hex(' ')})"
    return None
