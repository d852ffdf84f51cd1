"""The package's layers: no upward import, and a light ``import rhm_theory``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Rank of every top-level part; a module may import only parts of lower or equal rank.
#: (``validation`` and ``io`` are the floor; the CLI is the roof; the claim checks sit
#: just under the CLI, which is the only part of the library allowed to import them.)
LAYERS: dict[str, int] = {
    "rhm_theory.validation": 0,
    "rhm_theory.io": 0,
    "rhm_theory.progress": 0,
    "rhm_theory.constants": 0,
    "rhm_theory.model": 1,
    "rhm_theory.exact": 2,
    "rhm_theory.empirical": 3,
    "rhm_theory.bounds": 3,
    "rhm_theory.assumptions": 3,
    "rhm_theory.inference": 3,
    "rhm_theory.algorithms": 4,
    "rhm_theory.testing": 4,
    "rhm_theory.sweeps": 5,
    "rhm_theory.neural": 5,
    "rhm_theory.learners": 5,
    "rhm_theory.explore": 6,
    "rhm_theory.plotting": 6,
    "proofs_checks": 7,
    "rhm_theory.cli": 8,
    "rhm_theory.__main__": 8,
}


def _part(module: str) -> str | None:
    """The layer a dotted module name belongs to (the longest matching prefix)."""
    best = None
    for name in LAYERS:
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


def test_no_upward_import() -> None:
    violations = []
    for path in _library_files():
        here = _part(_module_name(path))
        if here is None:
            continue
        for lineno, name in _imports(path):
            there = _part(name)
            if there is not None and LAYERS[there] > LAYERS[here]:
                violations.append(f"{path.relative_to(ROOT)}:{lineno} ({here}) imports {name}")
    assert not violations, "upward imports:\n" + "\n".join(violations)


def test_the_layer_test_sees_an_upward_import() -> None:
    """The checker itself can fail: a model module importing the CLI (lazily, relatively)."""
    fake = ROOT / "rhm_theory" / "model" / "_fake.py"
    source = "def f():\n    from ..cli._output import format_table\n"
    (lineno, name), = _imports(fake, source)
    assert (lineno, name) == (2, "rhm_theory.cli._output")
    assert LAYERS[_part(name) or ""] > LAYERS[_part(_module_name(fake)) or ""]


@pytest.mark.parametrize("heavy", ["networkx", "torch", "matplotlib", "dask"])
def test_import_is_light(heavy: str) -> None:
    code = (f"import sys, rhm_theory, rhm_theory.model, rhm_theory.exact, rhm_theory.bounds\n"
            f"print({heavy!r} in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", f"import rhm_theory imported {heavy}"
