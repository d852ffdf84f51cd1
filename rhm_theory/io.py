"""Plain-data output of the library, the checks and the CLI: JSON-safe values, atomic writes."""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_path", "atomic_write", "jsonable", "write_json", "write_text"]

# The process umask, read once at import (reading it means setting it, which is not
# thread-safe later): a new file written atomically gets the mode ``open`` would give it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


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


def _os_error(exc: OSError, path: Path) -> OSError:
    # Name the user's path, not the temporary file next to it.
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file name beside ``path``; on success rename it onto ``path``.

    The one writer of every file the library produces: the content is written under a
    temporary name in the same folder (same file system) and moved into place with
    :func:`os.replace` only when the ``with`` block finishes without an exception, so a
    crash, a kill or a full disk never leaves an empty or truncated file where the previous
    one was. The temporary name keeps the suffix of ``path`` (matplotlib and others choose
    the format from it). Errors name ``path``, never the temporary file.

    Parameters
    ----------
    path : str or path-like
        Destination file. Its folder must exist; an existing directory is refused.

    Yields
    ------
    pathlib.Path
        The temporary file to write (it exists and is empty).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hi")
    >>> (d / "x.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('hi', ['x.txt'])
    """
    dest = Path(path)
    if dest.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(dest))
    try:
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.",
                                    suffix=f".tmp{dest.suffix}")
    except OSError as exc:
        raise _os_error(exc, dest) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            mode = dest.stat().st_mode & 0o7777 if dest.exists() else 0o666 & ~_UMASK
            os.chmod(tmp, mode)
            os.replace(tmp, dest)
        except OSError as exc:
            raise _os_error(exc, dest) from None
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a file for writing that replaces ``path`` only once fully written.

    Parameters
    ----------
    path : str or path-like
        Destination file (see :func:`atomic_path`).
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline : str, optional
        As for :func:`open` (text mode only).

    Yields
    ------
    file object
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        if mode == "wb":
            with open(tmp, "wb") as fh:
                yield fh
        else:
            with open(tmp, "w", encoding=encoding, newline=newline) as fh:
                yield fh


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_write(path) as fh:
        fh.write(text)
    return Path(path)


def write_json(path: str | Path, data: Any, *, indent: int = 2) -> Path:
    """Write ``data`` (made :func:`jsonable`) as an indented JSON document, atomically.

    Returns the path.
    """
    return write_text(path, json.dumps(jsonable(data), indent=indent) + "\n")
