"""Sphinx extension: the API reference, generated from ``__all__`` of every public module.

Before autosummary runs, this walks the packages named in ``rhm_api_packages`` and writes
one page per public module (no path component starting with ``_``) into ``api/``:
the module docstring and an autosummary table of every name of its ``__all__``. Each name
is documented (a stub page in ``api/generated/``) once, at its *home*: the shallowest public
module that lists it in ``__all__`` (``rhm_theory.Grammar`` rather than
``rhm_theory.model.grammar.Grammar``), like numpy's ``numpy.linalg.norm``. The other
modules that list it link to that page.

A ``missing-reference`` handler resolves every other spelling of a documented object (the
defining module's path, ``rhm_theory.model.Grammar``, or an unqualified name that is unique)
to its home, so docstrings may use whichever path reads best. A module that cannot be
imported, a public module without ``__all__``, or a name of ``__all__`` that is not an
attribute is a warning: the ``-W`` build fails on it. A new module or name joins the
reference with no edit here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ApiModule", "collect_api", "render_index", "render_module", "write_api_pages"]

#: Folder (relative to the docs source) that holds the generated pages.
API_DIR = "api"


@dataclass
class ApiModule:
    """One public module and the names of its ``__all__``.

    Attributes
    ----------
    name : str
        Dotted module name.
    names : list of str
        Its ``__all__`` (sorted).
    home : dict of str to str
        For each name, the module where it is documented.
    aliases : set of str
        The names that are type aliases (``Literal[...]``, ``tuple[int, int]``, ...).
    problems : list of str
        What is wrong with the module (import error, no ``__all__``, missing attribute).
    """

    name: str
    names: list[str] = field(default_factory=list)
    home: dict[str, str] = field(default_factory=dict)
    aliases: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _is_public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def public_module_names(packages: Iterable[str]) -> tuple[list[str], list[str]]:
    """Every public module of ``packages`` (walked recursively), and the import errors."""
    names: list[str] = []
    errors: list[str] = []
    for pkg_name in packages:
        try:
            pkg = importlib.import_module(pkg_name)
        except Exception as exc:  # a docs build reports any import failure, never crashes
            errors.append(f"{pkg_name}: cannot import: {exc!r}")
            continue
        names.append(pkg_name)
        paths = getattr(pkg, "__path__", None)
        if paths is None:
            continue

        def onerror(name: str) -> None:
            errors.append(f"{name}: cannot import while walking the package")

        for info in pkgutil.walk_packages(paths, pkg_name + ".", onerror=onerror):
            if _is_public(info.name):
                names.append(info.name)
    return sorted(set(names)), errors


def _defines(module: types.ModuleType, name: str) -> bool:
    """Whether the module's source binds ``name`` at top level (def, class, assignment)."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return False
    statements = list(ast.parse(source).body)
    while statements:  # module level, including inside `if` and `try` blocks
        node = statements.pop()
        if isinstance(node, (ast.If, ast.Try)):
            statements += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
            for handler in getattr(node, "handlers", []):
                statements += handler.body
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return True
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name) and node.target.id == name:
                return True
    return False


def is_type_alias(obj: object) -> bool:
    """Whether ``obj`` is a type alias (documented by its ``#:`` comment, not a docstring)."""
    if isinstance(obj, types.GenericAlias):  # ``tuple[int, int]`` passes isclass
        return True
    if inspect.isclass(obj):
        return False
    return (typing.get_origin(obj) is not None or isinstance(obj, typing.TypeVar)
            or type(obj).__module__ in {"typing", "types", "typing_extensions"})


def collect_api(packages: Iterable[str]) -> tuple[list[ApiModule], list[str]]:
    """Import every public module of ``packages`` and decide each public name's home.

    Returns
    -------
    modules : list of ApiModule
        One entry per public module, sorted by name.
    problems : list of str
        Import errors of the walk.
    """
    module_names, problems = public_module_names(packages)
    module_set = set(module_names)
    modules: list[ApiModule] = []
    listed: dict[int, list[tuple[str, str]]] = {}  # id(obj) -> [(module, name)]
    objects: dict[tuple[str, str], Any] = {}
    for mod_name in module_names:
        entry = ApiModule(mod_name)
        modules.append(entry)
        try:
            module = importlib.import_module(mod_name)
        except Exception as exc:
            entry.problems.append(f"cannot import: {exc!r}")
            continue
        all_ = getattr(module, "__all__", None)
        if all_ is None:
            entry.problems.append("public module without __all__")
            continue
        for name in sorted(set(all_)):
            try:
                obj = getattr(module, name)
            except Exception as exc:  # lazy attributes may raise ImportError
                entry.problems.append(f"__all__ names {name!r}, which fails: {exc!r}")
                continue
            entry.names.append(name)
            objects[(mod_name, name)] = obj
            listed.setdefault(id(obj), []).append((mod_name, name))
    for entry in modules:
        for name in entry.names:
            obj = objects[(entry.name, name)]
            # Same object under the same name in several modules: documented once, at the
            # shallowest (then alphabetically first) of them; data and aliases at the
            # module that assigns them (an equal int or string elsewhere is another name).
            same = [m for m, n in listed[id(obj)] if n == name]
            alias = is_type_alias(obj)
            if alias:
                entry.aliases.add(name)
            if alias or not (inspect.isclass(obj) or callable(obj)):
                # Data and aliases are documented by the ``#:`` comment above their
                # assignment, so at the module that assigns them.
                defining = [m for m in same if _defines(importlib.import_module(m), name)]
                if entry.name in defining:
                    same = [entry.name]
                elif defining:
                    same = defining
            # A home whose full name is also a module's (the function ``law`` exported by
            # ``rhm_theory.scaling``, which has a submodule ``law``) would give two objects
            # one target: such a name is documented at its next home.
            same = [m for m in same if f"{m}.{name}" not in module_set] or same
            entry.home[name] = min(same, key=lambda m: (m.count("."), m))
    return modules, problems


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def alias_doc(module: str, name: str) -> list[str]:
    """The ``#:`` comment lines above the assignment of ``module.name`` (what autodoc shows).

    Looked up in ``module``, then in any loaded module of the same package holding the same
    object (an alias assigned in a private module and exported by the package).
    """
    import sys

    from sphinx.pycode import ModuleAnalyzer

    obj = getattr(sys.modules[module], name)
    package = module.split(".")[0]
    for candidate in [module, *sorted(m for m in list(sys.modules) if m.startswith(package + ".")
                                      and getattr(sys.modules[m], name, None) is obj)]:
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except Exception:  # no source: no comment
            continue
        lines = list(docs.get(("", name), []))
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            return lines
    return []


def _alias_text(obj: object) -> str:
    text = repr(obj)
    return re.sub(r"\b(?:typing|builtins|numpy\.typing|numpy)\.", "", text)


def _relative(module: str, current: str) -> str:
    """``module`` relative to ``current`` when below it (autosummary refuses the full path)."""
    return module[len(current) + 1:] if module.startswith(current + ".") else module


def render_module(entry: ApiModule, children: list[str]) -> str:
    """The reStructuredText page of one module."""
    lines = [f".. _api-{entry.name}:", "", _title(entry.name)]
    lines += [f".. automodule:: {entry.name}", "   :no-members:", "",
              f".. currentmodule:: {entry.name}", ""]
    own = [n for n in entry.names if entry.home[n] == entry.name and n not in entry.aliases]
    aliases = [n for n in entry.names if entry.home[n] == entry.name and n in entry.aliases]
    others = [n for n in entry.names if entry.home[n] != entry.name]
    if own:
        lines += [_title("Public names", "-"), ".. autosummary::",
                  "   :toctree: generated/", "   :template: rhm_object.rst", "",
                  *[f"   {n}" for n in own], ""]
    if aliases:
        # autosummary takes ``tuple[int, int]`` for a class: aliases are documented inline
        lines += [_title("Type aliases", "-")]
        for n in aliases:
            obj = getattr(importlib.import_module(entry.name), n)
            doc = alias_doc(entry.name, n)
            if not doc:
                entry.problems.append(f"type alias {n} has no '#:' comment above it")
            lines += [f".. py:data:: {n}", "", *[f"   {d}" for d in doc], "",
                      f"   Alias of ``{_alias_text(obj)}``.", ""]
    other_objects = [n for n in others if n not in entry.aliases]
    other_aliases = [n for n in others if n in entry.aliases]
    if others:
        lines += [_title("Also available here", "-"),
                  "Documented at their shallowest public location:", ""]
    if other_objects:
        lines += [".. autosummary::", "",
                  *[f"   ~{_relative(entry.home[n], entry.name)}.{n}" for n in other_objects],
                  ""]
    if other_aliases:
        lines += [*[f"* :py:data:`~{entry.home[n]}.{n}` (type alias)" for n in other_aliases],
                  ""]
    if children:
        lines += [_title("Submodules", "-"), ".. toctree::", "   :maxdepth: 1", "",
                  *[f"   {c}" for c in children], ""]
    return "\n".join(lines)


def render_index(modules: list[ApiModule], packages: Iterable[str]) -> str:
    """The API reference's entry page: the top-level packages and every module."""
    lines = [".. _api-reference:", "", _title("API reference"),
             "Generated from ``__all__`` of every public module (a module whose dotted path "
             "has no component starting with ``_``). Each name is documented once, at the "
             "shallowest public module that exports it; the other modules link there.", "",
             ".. toctree::", "   :maxdepth: 2", "",
             *[f"   {p}" for p in packages], "",
             _title("All modules", "-"), ".. autosummary::", "",
             *[f"   {m.name}" for m in modules], ""]
    return "\n".join(lines)


def _children(name: str, all_names: list[str]) -> list[str]:
    depth = name.count(".") + 1
    return [n for n in all_names if n.startswith(name + ".") and n.count(".") == depth]


def write_api_pages(srcdir: Path, packages: list[str]) -> tuple[list[ApiModule], list[str]]:
    """Write ``api/index.rst`` and one page per public module; rewrite only what changed."""
    modules, problems = collect_api(packages)
    out = srcdir / API_DIR
    out.mkdir(exist_ok=True)
    names = [m.name for m in modules]
    pages = {"index.rst": render_index(modules, packages)}
    for entry in modules:
        pages[f"{entry.name}.rst"] = render_module(entry, _children(entry.name, names))
    for stale in out.glob("*.rst"):
        if stale.name not in pages:
            stale.unlink()
    for fname, text in pages.items():
        path = out / fname
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return modules, problems


# -- Sphinx hooks ---------------------------------------------------------------------------
def _on_config_inited(app: Any, config: Any) -> None:
    """Write the pages before Sphinx looks for source files (so a new module is found)."""
    app._rhm_api = write_api_pages(Path(app.srcdir), list(config.rhm_api_packages))


def _on_builder_inited(app: Any) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    modules, problems = app._rhm_api
    for problem in problems:
        logger.warning("API reference: %s", problem, type="rhm", subtype="api")
    aliases: dict[str, str] = {}
    for entry in modules:
        for problem in entry.problems:
            logger.warning("API reference: %s: %s", entry.name, problem, type="rhm",
                           subtype="api")
        for name in entry.names:
            home = f"{entry.home[name]}.{name}"
            aliases[f"{entry.name}.{name}"] = home
            obj = getattr(importlib.import_module(entry.name), name)
            defined = getattr(obj, "__module__", None)
            qual = getattr(obj, "__qualname__", None)
            if isinstance(defined, str) and isinstance(qual, str):
                aliases.setdefault(f"{defined}.{qual}", home)
    app.env.rhm_api_aliases = {k: v for k, v in aliases.items() if k != v}


def _on_missing_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve another spelling of a documented object to its documented home."""
    if node.get("refdomain") != "py":
        return None
    target: str = node.get("reftarget", "")
    aliases: dict[str, str] = getattr(env, "rhm_api_aliases", {})
    domain = env.get_domain("py")
    candidates: list[str] = []
    # an alias of the object itself, or of the class that owns the attribute / method
    for prefix_len in range(target.count(".") + 1, 0, -1):
        parts = target.split(".")
        prefix, rest = ".".join(parts[:prefix_len]), parts[prefix_len:]
        if prefix in aliases:
            candidates.append(".".join([aliases[prefix], *rest]))
            break
    module = node.get("py:module")
    if not candidates and module:
        # a name relative to the module of the docstring: ``train`` in
        # rhm_theory.neural.training, documented at rhm_theory.neural.train
        first, _, tail = target.partition(".")
        found = aliases.get(f"{module}.{first}")
        if found is not None:
            candidates.append(f"{found}.{tail}" if tail else found)
    if not candidates:
        # a name relative to no module (``RHMParams``, ``Grammar.is_balanced``): unique
        # among the documented objects (canonical entries, not autodoc's aliases)
        matches = [name for name, entry in domain.objects.items()
                   if not getattr(entry, "aliased", False)
                   and (name == target or name.endswith("." + target))]
        if len(matches) == 1:
            candidates.append(matches[0])
    for candidate in candidates:
        if candidate not in domain.objects:
            continue
        # ``:meth:`` of a property, ``:class:`` of an alias: retry as ``:obj:``
        for reftype in dict.fromkeys((node.get("reftype", "obj"), "obj")):
            new = node.deepcopy()
            new["reftarget"] = candidate
            resolved = domain.resolve_xref(env, node.get("refdoc", ""), app.builder,
                                           reftype, candidate, new, contnode)
            if resolved is not None:
                return resolved
    return None


def setup(app: Any) -> dict[str, Any]:
    """Register the config value and hooks (before autosummary generates its stubs)."""
    app.add_config_value("rhm_api_packages", [], "env")
    app.connect("config-inited", _on_config_inited)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("missing-reference", _on_missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
