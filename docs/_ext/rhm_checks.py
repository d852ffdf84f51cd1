"""Sphinx extension: the checks Sphinx cannot make by itself.

* Every ``rhm-theory ...`` (or ``python -m rhm_theory ...``) command shown in a shell code
  block parses with the real argument parser; in inline code a command may leave out
  required arguments (``rhm-theory ilc`` names the command) but every name, option and
  value given must parse.
* Every inline ``module:qualname`` reference to the packages of
  ``rhm_reference_packages`` (the theory-to-code map's ``rhm_theory.exact:context_laws``)
  imports, and links to its API page when that object is documented there. On the pages of
  ``rhm_history_pages`` (the changelog, which records names that were since removed) a
  reference that does not resolve stays plain code.

Problems are Sphinx warnings at the page and line, so the ``-W`` build fails on them. The
functions below need no Sphinx: ``tests/test_docs.py`` uses them on the README too.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "REFERENCE",
    "SHELL_LANGS",
    "check_command",
    "fenced_blocks",
    "iter_commands",
    "lenient_parser",
    "resolve_reference",
]

#: An inline ``module:qualname`` reference, e.g. ``rhm_theory.exact:context_laws``.
REFERENCE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
#: Languages of code blocks whose ``rhm-theory`` commands are parsed.
SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", "zsh"})
_REDIRECT = re.compile(r"\d*(?:>>?|<)(?:&\d+|\s*[^\s&|;]+)")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*\{?([\w+-]*)\}?")
_INLINE = ("rhm-theory ", "python -m rhm_theory ")


def resolve_reference(ref: str) -> object:
    """Import ``module:qualname`` and return the object.

    A dataclass field or annotated attribute declared without a class-level value resolves
    to its annotation.

    Raises
    ------
    ImportError, AttributeError
        If the module or an attribute along the qualname does not exist.
    """
    mod_name, _, qualname = ref.partition(":")
    obj: object = importlib.import_module(mod_name)
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            if isinstance(obj, type):
                for klass in obj.__mro__:
                    annotations = vars(klass).get("__annotations__", {})
                    if part in annotations:
                        obj = annotations[part]
                        break
                else:
                    raise
            else:
                raise
    return obj


def fenced_blocks(text: str) -> Iterator[tuple[str, int, str]]:
    """``(language, first line (1-based), code)`` of every fenced block of Markdown text."""
    fence: str | None = None
    lang, start, buf = "", 0, list[str]()
    for n, line in enumerate(text.splitlines(), start=1):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence, lang, start, buf = m.group(2), m.group(3).lower(), n + 1, []
            continue
        if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            yield lang, start, "\n".join(buf)
            fence = None
        else:
            buf.append(line)


def iter_commands(text: str) -> Iterator[tuple[int, list[str]]]:
    """``(line offset, argv)`` of every ``rhm-theory`` call in shell text.

    Joins ``\\`` continuations, drops ``$`` prompts, comments and redirections, splits on
    ``&&``, ``||``, ``;``, ``|`` and ``&``; ``python -m rhm_theory`` counts too.

    >>> [argv for _, argv in iter_commands("cd x && rhm-theory verify --out r > log 2>&1")]
    [['verify', '--out', 'r']]
    """
    logical: list[tuple[int, str]] = []
    pending, first = "", 0
    for i, raw in enumerate(text.splitlines()):
        line = raw.rstrip()
        if not pending:
            first = i
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append((first, pending + line))
        pending = ""
    if pending:
        logical.append((first, pending))
    for offset, line in logical:
        stripped = line.strip()
        if stripped.startswith("$ "):
            stripped = stripped[2:]
        stripped = _REDIRECT.sub(" ", stripped)
        try:
            lexer = shlex.shlex(stripped, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            continue
        cmd: list[str] = []
        for tok in [*tokens, ";"]:
            if tok and set(tok) <= set("&|;()"):
                argv = _program_args(cmd)
                if argv is not None:
                    yield offset, argv
                cmd = []
            else:
                cmd.append(tok)


def _program_args(cmd: list[str]) -> list[str] | None:
    words = list(cmd)
    # leading VAR=value assignments, `time` and `env`
    while words and (re.match(r"^[A-Za-z_]\w*=", words[0]) or words[0] in {"time", "env"}):
        words = words[1:]
    if words[:1] == ["rhm-theory"]:
        return words[1:]
    if words[:3] in (["python", "-m", "rhm_theory"], ["python3", "-m", "rhm_theory"]):
        return words[3:]
    return None


def _walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _walk(sub)


def lenient_parser(build: Callable[[], argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """A fresh parser from ``build`` with no required option and every positional optional."""
    parser = build()
    for sub in _walk(parser):
        for action in sub._actions:
            action.required = False  # a command group alone names the group
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.option_strings and action.nargs is None:
                action.nargs = "?"
    return parser


def check_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """``None`` if ``argv`` parses, else argparse's error message."""
    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            msg = err.getvalue().strip().splitlines()
            return msg[-1] if msg else f"exit status {exc.code}"
    return None


def inline_command(code: str) -> list[str] | None:
    """argv of an inline ``rhm-theory ...`` span, or ``None`` if it is not a command."""
    if any(mark in code for mark in ("<", ">", "|", "{", "...", "\n")):
        return None  # a pattern with placeholders (`rhm-theory <command> --help`)
    for prefix in _INLINE:
        if code.startswith(prefix):
            try:
                return shlex.split(code[len(prefix):])
            except ValueError:
                return None
    return None


# -- Sphinx hooks ---------------------------------------------------------------------------
def _parsers(app: Any) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    cached = getattr(app, "_rhm_parsers", None)
    if cached is None:
        module_name, _, func = app.config.rhm_cli_parser.partition(":")
        build = getattr(importlib.import_module(module_name), func)
        cached = (build(), lenient_parser(build))
        app._rhm_parsers = cached
    return cached


def _on_doctree_read(app: Any, doctree: Any) -> None:
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    strict, lenient = _parsers(app)
    packages = set(app.config.rhm_reference_packages)
    history = set(app.config.rhm_history_pages)
    for block in list(doctree.findall(nodes.literal_block)):
        lang = (block.get("language") or "").lower()
        if lang not in SHELL_LANGS:
            continue
        for offset, argv in iter_commands(block.astext()):
            error = check_command(strict, argv)
            if error:
                line = (block.line or 0) + offset
                logger.warning("command `rhm-theory %s` does not parse: %s", " ".join(argv),
                               error, location=(app.env.docname, line), type="rhm",
                               subtype="cli")
    for literal in list(doctree.findall(nodes.literal)):
        if isinstance(literal.parent, (addnodes.pending_xref, nodes.literal_block)):
            continue
        code = literal.astext()
        inline = inline_command(code)
        if inline is not None:
            error = check_command(lenient, inline)
            if error:
                logger.warning("inline command `%s` does not parse: %s", code, error,
                               location=literal, type="rhm", subtype="cli")
            continue
        if not REFERENCE.match(code) or code.split(".")[0].split(":")[0] not in packages:
            continue  # not ours: ``zipf:A`` is an option value
        try:
            resolve_reference(code)
        except (ImportError, AttributeError) as exc:
            if app.env.docname not in history:  # a history page names removed objects
                logger.warning("reference `%s` does not resolve: %s", code, exc,
                               location=literal, type="rhm", subtype="reference")
            continue
        xref = addnodes.pending_xref("", refdomain="py", reftype="obj",
                                     reftarget=code.replace(":", "."), refexplicit=True,
                                     refwarn=False, rhm_optional=True)
        xref["refdoc"] = app.env.docname
        literal.replace_self(xref)
        xref += literal


def _on_missing_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A ``module:qualname`` that has no API page (an attribute, a private helper) stays code."""
    if node.get("rhm_optional"):
        return contnode
    return None


def setup(app: Any) -> dict[str, Any]:
    """Register the checks (after the API extension's reference resolver)."""
    if "rhm_cli_parser" not in app.config.values:
        app.add_config_value("rhm_cli_parser", "rhm_theory.cli:build_parser", "env")
    app.add_config_value("rhm_reference_packages", ["rhm_theory", "proofs_checks"], "env")
    # Pages that record the past (the changelog): their references to removed objects stay
    # plain code instead of failing the build; those that still resolve are linked.
    app.add_config_value("rhm_history_pages", [], "env")
    app.connect("doctree-read", _on_doctree_read)
    app.connect("missing-reference", _on_missing_reference, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
