"""One source for each named default: no literal merge factor or target accuracy elsewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rhm_theory import constants
from rhm_theory.algorithms.crossing import crossing_point
from rhm_theory.algorithms.ilc import IterativeLatentClustering
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.validation import CONTEXT_KINDS

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "rhm_theory" / "constants.py"

#: A merge factor or a target accuracy typed as a literal where it is a parameter's value or
#: default (``merge_factor: float = 4.0``, ``"merge_factor": 4.0``, ``--merge-factor ...
#: default=4.0``, ``TARGET = 0.95``, ``target: float = 0.95``). Other 0.95 (confidence
#: levels, win fractions) are named otherwise and not matched.
PATTERNS = {
    "merge factor 4.0": re.compile(r"merge[-_ ]?factor\b.*\b4(\.0*)?\b(?![.\d])", re.I),
    "target 0.95": re.compile(r"\btarget\b.*(?<![\d.])0?\.950*\b", re.I),
}


def _offending(path: Path, text: str) -> list[str]:
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for what, pattern in PATTERNS.items():
            if pattern.search(line):
                out.append(f"{path.relative_to(ROOT)}:{lineno}: {what}: {line.strip()}")
    return out


def _sources() -> list[Path]:
    return sorted(p for part in ("rhm_theory", "proofs_checks")
                  for p in ROOT.joinpath(part).rglob("*.py") if p != DEFINITION)


def test_no_literal_merge_factor_or_target_outside_the_definition() -> None:
    found = [hit for p in _sources() for hit in _offending(p, p.read_text())]
    assert not found, ("use rhm_theory.constants.DEFAULT_MERGE_FACTOR / DEFAULT_TARGET:\n"
                       + "\n".join(found))


@pytest.mark.parametrize("line", [
    "    merge_factor: float = 4.0",
    'VARIANTS = {"pool_positions": True, "merge_factor": 4.0}',
    'p.add_argument("--merge-factor", type=float, default=4.0,',
    "TARGET = 0.95",
    "    target: float = 0.95,",
    'p.add_argument("--target", type=float, default=.95)',
])
def test_the_grep_sees_a_literal(line: str) -> None:
    """The grep itself can fail: each way the literals used to be typed is caught."""
    assert _offending(ROOT / "x.py", line)


@pytest.mark.parametrize("line", [
    "    confidence: float = 0.95,",
    "RECOVERED_OVERLAP = 0.95",
    "    merge_factor: float = DEFAULT_MERGE_FACTOR,",
    "TARGET = 0.9  # explore: ambiguous grammars cap accuracy",
    "    target: float = 0.955,",
    "    merge_factor=40.0,",
])
def test_the_grep_leaves_other_numbers_alone(line: str) -> None:
    assert not _offending(ROOT / "x.py", line)


def test_the_defaults_are_the_constants() -> None:
    """The defaults of the library's entry points are the one definition (by value and name)."""
    assert constants.DEFAULT_MERGE_FACTOR == 4.0 and constants.DEFAULT_TARGET == 0.95
    assert SweepCell("latent", 4, 2, 2, 3, 64).merge_factor == constants.DEFAULT_MERGE_FACTOR
    assert IterativeLatentClustering(4, 2, 3).merge_factor == constants.DEFAULT_MERGE_FACTOR
    # crossing_point's default target is the constant: a curve reaching 0.94 only never crosses.
    assert crossing_point([1, 2], [0.0, 0.94]) != crossing_point([1, 2], [0.0, 0.94], 0.9)


def _kind_literals(source: str) -> list[int]:
    """Lines of tuple/list/set displays holding exactly the three context kinds (strings)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) for e in node.elts):
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if sorted(map(str, values)) == sorted(CONTEXT_KINDS) and len(values) == 3:
                out.append(node.lineno)
    return out


def test_the_context_kinds_are_listed_once() -> None:
    """``CONTEXT_KINDS`` (rhm_theory.validation) is the only list of the three kinds."""
    found = [f"{p.relative_to(ROOT)}:{n}" for p in _sources()
             if p != ROOT / "rhm_theory" / "validation.py"
             for n in _kind_literals(p.read_text())]
    assert not found, "use rhm_theory.validation.CONTEXT_KINDS:\n" + "\n".join(found)
    assert _kind_literals('A = ("latent", "token", "label")\nB = ["label", "latent", "token"]')\
        == [1, 2]
    assert _kind_literals('C = ("latent", "token")\nD = [*CONTEXT_KINDS, "all"]') == []

