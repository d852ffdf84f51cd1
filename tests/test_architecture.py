"""The package's layers (no upward or sideways import, no stale entry), verdicts only in the
checks, plotting only in ``plotting``, and a light ``import rhm_theory``."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Rank of every top-level part. A module may import its own part and parts of strictly
#: lower rank only: an import between two parts of equal rank (sideways) fails like an upward
#: one, so every dependency between parts is written here as an order. ``validation``, ``io``,
#: ``progress`` and ``constants`` are the floor; ``torch`` (the PyTorch datasets, torch optional
#: like ``neural``) sits under the ``neural`` validators that stream from it; ``learners`` adapt
#: the ``neural`` models, and ``sweeps`` measure any learner; the claim checks sit just under
#: the CLI, which is the only part of the library allowed to import them. Every entry must
#: name an existing module.
LAYERS: dict[str, int] = {
    "rhm_theory.validation": 0,
    "rhm_theory.io": 0,
    "rhm_theory.progress": 0,
    "rhm_theory.constants": 0,
    "rhm_theory.cost": 0,
    "rhm_theory.scaling": 1,
    "rhm_theory.model": 1,
    "rhm_theory.exact": 2,
    "rhm_theory.empirical": 3,
    "rhm_theory.bounds": 3,
    "rhm_theory.assumptions": 3,
    "rhm_theory.inference": 4,
    "rhm_theory.algorithms": 4,
    "rhm_theory.testing": 4,
    "rhm_theory.neural": 6,
    "rhm_theory.torch": 7,
    "rhm_theory.learners": 7,
    "rhm_theory.sweeps": 8,
    "rhm_theory.plotting": 9,
    "proofs_checks": 10,
    "rhm_theory.cli": 11,
    "rhm_theory.__main__": 12,
}


def _part(module: str, layers: Mapping[str, int] = LAYERS) -> str | None:
    """The layer a dotted module name belongs to (the longest matching prefix)."""
    best = None
    for name in layers:
        if (module == name or module.startswith(name + ".")) and (
            best is None or len(name) > len(best)
        ):
            best = name
    return best


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Every imported module of a file (also those inside functions), as absolute names."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


def _library_files() -> list[Path]:
    return sorted([*ROOT.joinpath("rhm_theory").rglob("*.py"),
                   *ROOT.joinpath("proofs_checks").rglob("*.py")])


def test_every_part_has_a_layer() -> None:
    """A new top-level module must be placed in the layer map (so the test sees it)."""
    unplaced = sorted({_module_name(p) for p in _library_files()
                       if _part(_module_name(p)) is None
                       and _module_name(p) not in ("rhm_theory",)})
    assert not unplaced, f"add these to LAYERS: {unplaced}"


def _rank_violations(imports: Iterable[tuple[str, int, str, str]],
                     layers: Mapping[str, int] = LAYERS) -> list[str]:
    """``(where, line, importer, imported)`` edges that go up or sideways between parts."""
    out = []
    for where, lineno, importer, imported in imports:
        here, there = _part(importer, layers), _part(imported, layers)
        if here is None or there is None or here == there:
            continue
        if layers[there] >= layers[here]:
            kind = "upward" if layers[there] > layers[here] else "sideways"
            out.append(f"{where}:{lineno} ({here}) imports {imported} ({there}): {kind}")
    return out


def _stale_entries(layers: Mapping[str, int], modules: Iterable[str]) -> list[str]:
    """Entries of ``layers`` that name no module of the tree."""
    names = list(modules)
    return sorted(p for p in layers
                  if not any(m == p or m.startswith(p + ".") for m in names))


def _tree_imports() -> list[tuple[str, int, str, str]]:
    return [(str(path.relative_to(ROOT)), lineno, _module_name(path), name)
            for path in _library_files() for lineno, name in _imports(path)]


def test_no_upward_or_sideways_import() -> None:
    violations = _rank_violations(_tree_imports())
    assert not violations, "imports against the layer order:\n" + "\n".join(violations)


def test_no_stale_layer() -> None:
    stale = _stale_entries(LAYERS, [_module_name(p) for p in _library_files()])
    assert not stale, f"LAYERS names parts that do not exist: {stale}"


def test_the_layer_test_sees_an_upward_import() -> None:
    """The checker itself can fail: a model module importing the CLI (lazily, relatively)."""
    fake = ROOT / "rhm_theory" / "model" / "_fake.py"
    source = "def f():\n    from ..cli._output import format_table\n"
    (lineno, name), = _imports(fake, source)
    assert (lineno, name) == (2, "rhm_theory.cli._output")
    (msg,) = _rank_violations([("fake", lineno, _module_name(fake), name)])
    assert msg.endswith("upward")


def test_the_layer_test_sees_a_sideways_import() -> None:
    """Two parts of equal rank: ``empirical`` importing ``bounds`` (lazily, relatively)
    fails, and so does the import the issue found (``neural -> sweeps`` for
    ``crossing_point``, now in ``algorithms``) in the old map where the two had equal rank."""
    fake = ROOT / "rhm_theory" / "empirical" / "_fake.py"
    (lineno, name), = _imports(fake, "def f():\n    from ..bounds import formulas\n")
    assert LAYERS["rhm_theory.empirical"] == LAYERS["rhm_theory.bounds"]
    (msg,) = _rank_violations([("fake", lineno, _module_name(fake), name)])
    assert msg.endswith("sideways") and "rhm_theory.bounds" in msg
    old = {**LAYERS, "rhm_theory.neural": 5, "rhm_theory.sweeps": 5}
    edge = ("rhm_theory/neural/experiments.py", 1, "rhm_theory.neural.experiments",
            "rhm_theory.sweeps.thresholds")
    assert _rank_violations([edge], old)[0].endswith("sideways")
    assert _rank_violations([edge], LAYERS)[0].endswith("upward")  # and still refused
    # An import inside one part is never a violation.
    assert not _rank_violations([("x", 1, "rhm_theory.sweeps.measure",
                                  "rhm_theory.sweeps.runner")])


def test_the_layer_test_sees_a_stale_entry() -> None:
    """The part the issue found stale (``rhm_theory.explore``) is reported."""
    modules = [_module_name(p) for p in _library_files()]
    assert _stale_entries({**LAYERS, "rhm_theory.explore": 6}, modules) == [
        "rhm_theory.explore"]
    assert _stale_entries({"rhm_theory.sweeps": 8}, ["rhm_theory.sweeps.explore"]) == []


#: Words of a claim check's verdict (proofs_checks._framework.Verdict): only the checks decide.
VERDICT_WORDS = ("PASS", "FAIL", "INCONCLUSIVE")
#: Known verdict strings under rhm_theory/sweeps, each with its reason; the test fails when
#: one disappears, so the list cannot go stale.
VERDICT_STRING_ALLOWED: set[tuple[str, str]] = set()


def _verdict_strings(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """String constants of a module (docstrings and comments excluded) that are, or hold as a
    word, a verdict: ``"PASS"``, ``f"... FAIL ..."`` (not ``"false-PASS"``, a rate's name)."""
    tree = ast.parse(path.read_text() if source is None else source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            out += [(node.lineno, w) for w in VERDICT_WORDS
                    if re.search(rf"(?<![\w-]){w}(?![\w-])", node.value)]
    return out


def test_no_verdict_strings_under_sweeps() -> None:
    """Verdict logic lives only in proofs_checks: the library measures."""
    found = {(str(p.relative_to(ROOT)), word): lineno
             for p in sorted(ROOT.joinpath("rhm_theory", "sweeps").rglob("*.py"))
             for lineno, word in _verdict_strings(p)}
    extra = sorted(f"{where}:{lineno}: {word!r}" for (where, word), lineno in found.items()
                   if (where, word) not in VERDICT_STRING_ALLOWED)
    assert not extra, "verdict strings under rhm_theory/sweeps:\n" + "\n".join(extra)
    gone = VERDICT_STRING_ALLOWED - set(found)
    assert not gone, f"allowed verdict strings no longer there (drop them): {sorted(gone)}"


#: Identifiers under rhm_theory/sweeps that hold the word "verdict", each with its reason
#: (issue 18: the library speaks of decisions, rhm_theory.sweeps.decisions; deprecated names
#: live as strings of a module ``__getattr__`` and are not identifiers).
VERDICT_IDENTIFIER_ALLOWED: set[tuple[str, str]] = set()


def _verdict_identifiers(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Names (definitions, variables, attributes, arguments, keywords, imports) of a module
    that contain ``verdict`` in any case; strings and docstrings are prose, not names."""
    tree = ast.parse(path.read_text() if source is None else source)
    out = []
    for node in ast.walk(tree):
        names: list[str | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, ast.arg):
            names = [node.arg]
        elif isinstance(node, ast.keyword):
            names = [node.arg]
        elif isinstance(node, ast.alias):
            names = [node.asname or node.name]
        out += [(getattr(node, "lineno", 0), n) for n in names
                if n is not None and "verdict" in n.lower()]
    return out


def test_no_verdict_identifiers_under_sweeps() -> None:
    """The library's words are decisions (rhm_theory.sweeps.decisions); verdicts belong to
    proofs_checks."""
    found = {(str(p.relative_to(ROOT)), name): lineno
             for p in sorted(ROOT.joinpath("rhm_theory", "sweeps").rglob("*.py"))
             for lineno, name in _verdict_identifiers(p)}
    extra = sorted(f"{where}:{lineno}: {name}" for (where, name), lineno in found.items()
                   if (where, name) not in VERDICT_IDENTIFIER_ALLOWED)
    assert not extra, "verdict identifiers under rhm_theory/sweeps:\n" + "\n".join(extra)
    gone = VERDICT_IDENTIFIER_ALLOWED - set(found)
    assert not gone, f"allowed verdict identifiers no longer there (drop them): {sorted(gone)}"


def test_the_identifier_grep_sees_a_verdict() -> None:
    fake = ROOT / "rhm_theory" / "sweeps" / "_fake.py"
    source = ('"""A verdict in prose."""\n'
              'class LawVerdict:\n    verdict: str = "verdict"\n'
              'def f(x, my_verdict=1):\n    return g(verdict=x).Verdict\n')
    assert sorted(n for _, n in _verdict_identifiers(fake, source)) == [
        "LawVerdict", "Verdict", "my_verdict", "verdict", "verdict"]


def test_the_verdict_grep_sees_a_verdict() -> None:
    fake = ROOT / "rhm_theory" / "sweeps" / "_fake.py"
    source = ('"""Module: PASS in a docstring is prose."""\n'
              'def f(x):\n    """FAIL here too."""\n'
              '    return "PASS" if x else f"verdict: FAIL ({x})"\n')
    assert _verdict_strings(fake, source) == [(4, "PASS"), (4, "FAIL")]
    assert _verdict_strings(fake, 'X = "PASSES"\nY = "false-PASS rate"\nZ = "(FAIL)"\n') == [
        (3, "FAIL")]


def test_matplotlib_only_in_plotting() -> None:
    """Plotting lives in rhm_theory.plotting (object-oriented API): nothing else imports
    matplotlib, and nothing changes its global backend."""
    allowed = {"rhm_theory/cli/figures_cmd.py"}  # only probes that the plot extra is there
    users, backend = [], []
    for path in _library_files():
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        if "matplotlib.use(" in text:
            backend.append(rel)
        if not rel.startswith("rhm_theory/plotting/") and rel not in allowed and any(
                name.split(".")[0] == "matplotlib" for _, name in _imports(path)):
            users.append(rel)
    assert not users, f"matplotlib imported outside rhm_theory/plotting: {users}"
    assert not backend, f"global matplotlib backend changed in {backend}"


@pytest.mark.parametrize("heavy", ["networkx", "torch", "matplotlib", "dask"])
def test_import_is_light(heavy: str) -> None:
    code = (f"import sys, rhm_theory, rhm_theory.model, rhm_theory.exact, rhm_theory.bounds, "
            f"rhm_theory.torch, rhm_theory.neural\n"
            f"print({heavy!r} in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", f"import rhm_theory imported {heavy}"
