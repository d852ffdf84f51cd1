"""Where an error came from: the user's own file and line, and the full traceback on request."""

from __future__ import annotations

import os
import re
import sysconfig
import traceback
from pathlib import Path

__all__ = ["TRACEBACK_ENV", "traceback_wanted", "user_frame"]

#: Environment variable that turns ``--traceback`` on for every command (``1``, ``yes``,
#: ``true`` or ``on``).
TRACEBACK_ENV = "RHM_TRACEBACK"

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
# A worker's traceback text (concurrent.futures) lists the innermost exception first.
_CHAIN = re.compile(r"\n(?:The above exception was the direct cause of the following exception"
                    r"|During handling of the above exception, another exception occurred):\n")


def traceback_wanted(flag: bool) -> bool:
    """Whether to print full tracebacks: ``--traceback`` or :data:`TRACEBACK_ENV` set."""
    return flag or os.environ.get(TRACEBACK_ENV, "").strip().lower() in {"1", "yes", "true", "on"}


def _library_dirs() -> tuple[str, ...]:
    root = Path(__file__).resolve().parents[2]  # the checkout holding rhm_theory/
    dirs = {str(root / "rhm_theory"), str(root / "proofs_checks")}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(str(Path(path).resolve()))
    return tuple(dirs)


def _is_user(filename: str, library: tuple[str, ...]) -> bool:
    if filename.startswith("<"):  # <frozen ...>, <string>
        return False
    path = str(Path(filename).resolve())
    return not any(path == d or path.startswith(d + os.sep) for d in library)


def _segments(exc: BaseException) -> list[list[tuple[str, int, str]]]:
    """The frames of each exception of ``exc``'s chain, innermost exception first (a
    worker's exception brings its own traceback as text: its frames are parsed)."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    out: list[list[tuple[str, int, str]]] = []
    for e in reversed(chain):
        text = getattr(e, "tb", None)  # concurrent.futures.process._RemoteTraceback
        if isinstance(text, str):
            out += [[(f, int(n), fn) for f, n, fn in _FRAME.findall(part)]
                    for part in _CHAIN.split(text)]
        else:
            out.append([(f.filename, f.lineno or 0, f.name)
                        for f in traceback.extract_tb(e.__traceback__)])
    return out


def user_frame(exc: BaseException) -> str | None:
    """``"path/learner.py:12 (in fit)"``: the deepest frame outside the library, Python and
    installed packages in the innermost exception that has one, or ``None``."""
    library = _library_dirs()
    for frames in _segments(exc):
        mine = [fr for fr in frames if _is_user(fr[0], library)]
        if mine:
            filename, line, func = mine[-1]
            return f"{filename}:{line} (in {func})"
    return None
