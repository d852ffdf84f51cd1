"""Documentation: every theory-to-code row resolves, the docs build is clean, the tutorial runs."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TABLE = DOCS / "theory-to-code.md"


def _load(name: str, folder: Path = DOCS) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# The Sphinx extensions' checks are plain functions: usable here without Sphinx installed.
checks = _load("rhm_checks", DOCS / "_ext")
results_section = _load("results_section")


# -- the theory-to-code table -----------------------------------------------------------------
def _split_row(line: str) -> list[str]:
    r"""Cells of a Markdown table row, split on unescaped pipes (``\|`` stays in a cell)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


@cache
def table_rows() -> list[dict[str, str]]:
    """Rows of the first table of docs/theory-to-code.md, keyed by the header cells."""
    lines = TABLE.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| § |"))
    header = _split_row(lines[start])
    rows = []
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        cells = _split_row(ln)
        assert len(cells) == len(header), f"malformed row: {ln}"
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _codes(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _torch_missing() -> bool:
    return importlib.util.find_spec("torch") is None


def test_table_is_parsed_and_covers_every_section() -> None:
    rows = table_rows()
    assert len(rows) >= 40
    # Every section of docs/theory.md 1-9 is covered; 10 (the verification standard) may be.
    sections = {r["§"] for r in rows}
    assert {str(k) for k in range(1, 10)} <= sections <= {str(k) for k in range(1, 11)}
    for r in rows:
        assert _codes(r["implementation"]), f"row without implementation: {r}"
        has_check = bool(_codes(r["tests"])) or bool(_codes(r["proofs check"]))
        assert has_check or "pending" in r["tests"], f"row with no test and no check: {r}"


def test_every_implementation_resolves() -> None:
    missing = []
    for r in table_rows():
        for ref in _codes(r["implementation"]):
            assert checks.REFERENCE.match(ref), f"not a module:qualname reference: {ref}"
            if ref.startswith("rhm_theory.neural") and _torch_missing():
                continue  # the torch extra is absent: neural rows cannot import
            try:
                checks.resolve_reference(ref)
            except (ImportError, AttributeError) as exc:
                missing.append(f"{ref}: {exc}")
    assert not missing, "\n".join(missing)


@cache
def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{n.name}" for n in node.body
                         if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def test_every_named_test_exists() -> None:
    missing = []
    for r in table_rows():
        for ref in _codes(r["tests"]):
            file_part, sep, name = ref.partition("::")
            path = ROOT / file_part
            assert sep and file_part.startswith("tests/"), f"not a tests/...::name ref: {ref}"
            if not path.is_file():
                missing.append(f"{ref}: no file {file_part}")
            elif not name.startswith("test") and "::test" not in name:
                missing.append(f"{ref}: not a test function")
            elif name not in _test_names(path):
                missing.append(f"{ref}: no test {name} in {file_part}")
    assert not missing, "\n".join(missing)


def test_every_named_check_exists_and_is_registered() -> None:
    from proofs_checks import all_checks

    registered = {type(c) for c in all_checks()}
    missing = []
    for r in table_rows():
        for ref in _codes(r["proofs check"]):
            try:
                obj = checks.resolve_reference(ref)
            except (ImportError, AttributeError) as exc:
                missing.append(f"{ref}: {exc}")
                continue
            if obj not in registered:
                if "neural" in ref and _torch_missing():
                    continue  # registered only with the torch extra (verify says so)
                missing.append(f"{ref}: not one of proofs_checks.all_checks()")
    assert not missing, "\n".join(missing)


# -- what the Sphinx build cannot check ---------------------------------------------------
def _markdown_pages() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def _commands(text: str) -> list[tuple[int, list[str], bool]]:
    """``(line, argv, strict)`` of every command in Markdown text (inline ones lenient)."""
    out = []
    for lang, start, code in checks.fenced_blocks(text):
        if lang in checks.SHELL_LANGS:
            out += [(start + offset, argv, True) for offset, argv in checks.iter_commands(code)]
    prose = re.sub(r"^(\s*)(`{3,}|~{3,}).*?^\1\2\s*$", "", text, flags=re.S | re.M)
    for n, line in enumerate(prose.splitlines(), start=1):
        for code in re.findall(r"(?<!`)`([^`]+)`(?!`)", line):
            argv = checks.inline_command(code)
            if argv is not None:
                out.append((n, argv, False))
    return out


def _bad_commands(text: str) -> list[str]:
    from rhm_theory.cli import build_parser

    strict, lenient = build_parser(), checks.lenient_parser(build_parser)
    bad = []
    for line, argv, is_strict in _commands(text):
        error = checks.check_command(strict if is_strict else lenient, argv)
        if error:
            bad.append(f"{line}: rhm-theory {' '.join(argv)}: {error}")
    return bad


def test_cli_reference_is_generated_from_the_real_parser() -> None:
    """docs/cli.md renders the parser of ``rhm_theory.cli:build_parser`` (sphinx-argparse-cli
    imports what the directive names; a stale name would only show at build time)."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    (body,) = re.findall(r"^```\{sphinx_argparse_cli\}\n(.*?)^```", text, re.M | re.S)
    options = dict(re.findall(r"^:(\w+):[ \t]*(.*)$", body, re.M))
    assert (options["module"], options["func"]) == ("rhm_theory.cli", "build_parser")
    parser = getattr(importlib.import_module(options["module"]), options["func"])()
    assert parser.prog == options["prog"] == "rhm-theory"
    assert "{rhm-cli}" not in text  # the former home-made directive is gone


def test_every_command_in_the_docs_and_readme_parses() -> None:
    # The Sphinx build checks the pages it renders; the README is not one of them.
    problems, n = [], 0
    for page in _markdown_pages():
        text = page.read_text(encoding="utf-8")
        n += len(_commands(text))
        problems += [f"{page.relative_to(ROOT)}:{p}" for p in _bad_commands(text)]
    assert not problems, "\n".join(problems)
    assert n > 20


def test_command_check_catches_bad_commands() -> None:
    text = ("Name `rhm-theory ilc` (fine), `rhm-theory ilc --no-flag` and "
            "`rhm-theory verify --workers many` (not).\n\n"
            "```bash\nrhm-theory verify --no-such-flag\nrhm-theory no-such-command\n"
            "rhm-theory ilc g.json --P 10 && rhm-theory ilc\n```\n")
    bad = "\n".join(_bad_commands(text))
    for expected in ("--no-flag", "many", "--no-such-flag", "no-such-command",
                     "rhm-theory ilc: "):
        assert expected in bad, f"{expected!r} not reported:\n{bad}"
    assert "--P 10" not in bad and "`rhm-theory ilc`" not in bad


def test_iter_commands_doctest() -> None:
    import doctest

    assert doctest.testmod(checks).failed == 0


def test_sphinx_build_fails_on_each_kind_of_problem(tmp_path: Path) -> None:
    # The checks moved from the old docs/build.py to Sphinx and its extensions: a small site
    # with one problem of each kind must fail the -W build and name each problem.
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path[:0] = [{str(DOCS / '_ext')!r}, {str(ROOT)!r}]\n"
        "extensions = ['myst_parser', 'rhm_checks']\n"
        "nitpicky = True\nmyst_heading_anchors = 3\n")
    (src / "index.md").write_text(
        "# Index\n\n[gone](missing.md) [bad anchor](#nowhere)\n\n"
        "`rhm_theory.exact:no_such_function` and `rhm-theory ilc --no-flag`\n\n"
        "```bash\nrhm-theory verify --no-such-flag\n```\n")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q",
                           "-b", "dummy", str(src), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode != 0
    for expected in ("missing.md", "nowhere", "no_such_function", "--no-flag",
                     "--no-such-flag"):
        assert expected in proc.stderr, f"{expected!r} not reported:\n{proc.stderr}"


def test_every_figure_is_shown_by_some_page() -> None:
    # Sphinx warns on a missing image, not on an image no page shows.
    text = "\n".join(p.read_text(encoding="utf-8") for p in _markdown_pages())
    for png in sorted((DOCS / "figures").glob("*.png")):
        assert png.name in text, f"figure {png.name} is not shown by any page"


def _public_modules() -> dict[str, list[str]]:
    """``__all__`` of every public module, found by walking the packages (not via docs)."""
    import pkgutil

    out = {}
    for pkg_name in ("rhm_theory", "proofs_checks"):
        pkg = importlib.import_module(pkg_name)
        names = [pkg_name] + [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg_name + ".")]
        for name in names:
            if any(part.startswith("_") for part in name.split(".")):
                continue
            if name.startswith("rhm_theory.neural.") and _torch_missing():
                continue
            module = importlib.import_module(name)
            assert hasattr(module, "__all__"), f"public module {name} has no __all__"
            out[name] = list(module.__all__)
    return out


def test_generated_api_pages_list_every_public_name(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")  # type aliases' comments are read by sphinx.pycode
    api = _load("rhm_api", DOCS / "_ext")
    api.write_api_pages(tmp_path, ["rhm_theory", "proofs_checks"])
    for module, names in _public_modules().items():
        page = (tmp_path / "api" / f"{module}.rst").read_text(encoding="utf-8")
        for name in names:
            # an autosummary entry here or at its home, a type alias, or a link to it
            n = re.escape(name)
            pattern = (rf"^(?:   ~?(?:[\w.]+\.)?{n}|\.\. py:data:: {n}"
                       rf"|\* :py:data:`~[\w.]+\.{n}`.*)$")
            assert re.search(pattern, page, re.M), f"{module}.{name} not on its API page"


def test_built_site_documents_every_public_name() -> None:
    """After the HTML build (CI sets RHM_DOCS_HTML): each name has its entry and its target."""
    html_dir = os.environ.get("RHM_DOCS_HTML")
    if not html_dir:
        pytest.skip("set RHM_DOCS_HTML to the built site (docs/_build/html) to run")
    site = Path(html_dir)
    ids = set()
    for page in site.rglob("*.html"):
        ids.update(re.findall(r'id="([\w.]+)"', page.read_text(encoding="utf-8")))
    missing = []
    for module, names in _public_modules().items():
        page = site / "api" / f"{module}.html"
        if not page.is_file():
            missing.append(f"no page api/{module}.html")
            continue
        html = page.read_text(encoding="utf-8")
        for name in names:
            links = re.findall(rf'href="[^"]*#([\w.]+\.{name})"', html)
            if f'id="{module}.{name}"' in html:
                continue  # documented on the module page itself (a type alias)
            if not any(target in ids for target in links):
                missing.append(f"{module}.{name}: no link to its documentation")
    assert not missing, "\n".join(missing)


def test_readme_links_the_documentation() -> None:
    readme = (ROOT / "README.md").read_text()
    for target in ("docs/index.md", "docs/tutorial.md", "docs/results.md", "docs/figures"):
        assert f"]({target}" in readme, f"README does not link {target}"


def test_results_page_is_generated_from_the_committed_reports() -> None:
    """docs/results.md is exactly what the generator makes of docs/reports (no number
    typed by hand), and every decimal number of its hand-written preface is quoted from the
    generated tables or from the changelog."""
    page = results_section.page_from_index(DOCS / "reports" / "index.json")
    text = (DOCS / "results.md").read_text()
    assert text == page, "regenerate: python docs/results_section.py --index " \
        "docs/reports/index.json > docs/results.md"
    preface = (DOCS / "reports" / "preface.md").read_text()
    generated = page.replace(preface.strip(), "")
    changelog = (DOCS / "changelog.md").read_text()
    for number in re.findall(r"-?\d+\.\d+", preface):
        assert number in generated or number in changelog, number
    assert len(text.splitlines()) <= 300


def test_results_section_renders_a_report() -> None:
    report = {"grid": "quick", "seconds": 12.5, "sweep_seconds": 10.0, "n_sweep_cells": 3,
              "machine": {"platform": "Linux", "python": "3.11"},
              "checks": [{"name": "c", "verdict": "PASS", "claim": "x", "source": "s",
                          "prediction": "p", "measured": {"a": 1.23456, "b": {"3": 2.0}},
                          "predicted": {"a": 1.0}, "tolerance": "t | u",
                          "details": {"rows": [{"P": 10.0, "r": 0.5}]}}]}
    md = results_section.render_section(report, title="T", command="rhm-theory verify",
                                        machine="m")
    assert "**1/1 checks pass**" in md and "1.235" in md and "t \\| u" in md
    assert "| 10 | 0.5 |" in md


# -- the tutorial and the README run as pasted -----------------------------------------------
#: Feeds each Python block to ``code.InteractiveConsole`` line by line, as a paste into the
#: plain ``python`` prompt does, then one empty line (the Enter after the paste). A statement
#: after an indented block without a blank line is a SyntaxError there, as at the prompt.
_CONSOLE = """
import code, json, sys
blocks = json.load(open(sys.argv[1]))
errors = []
class Console(code.InteractiveConsole):
    def showsyntaxerror(self, filename=None, **kwargs):
        errors.append(f"block {self.block}: SyntaxError")
        super().showsyntaxerror(filename)
    def showtraceback(self):
        errors.append(f"block {self.block}: {sys.exc_info()[0].__name__}")
        super().showtraceback()
console = Console({"__name__": "__main__"})
for console.block, (start, code_text) in enumerate(blocks):
    console.block = f"at line {start}"
    for line in code_text.splitlines():
        console.push(line)
    console.push("")
    if errors:
        break
print("CONSOLE ERRORS:", errors)
sys.exit(1 if errors else 0)
"""


def _paste(path: Path, tmp_path: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run every Python block of ``path`` through an interactive console in ``tmp_path``."""
    import json

    blocks = [(start, code) for lang, start, code in
              checks.fenced_blocks(path.read_text(encoding="utf-8")) if lang == "python"]
    assert blocks, f"no Python block in {path}"
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", _CONSOLE, str(tmp_path / "blocks.json")],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_console_runner_catches_a_missing_blank_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nfor i in range(2):\n    x = i\nprint('after')\n```\n")
    proc = _paste(page, tmp_path)
    assert proc.returncode == 1 and "SyntaxError" in proc.stdout + proc.stderr
    page.write_text("```python\nfor i in range(2):\n    x = i\n\nprint('after', x)\n```\n")
    proc = _paste(page, tmp_path)
    assert proc.returncode == 0 and "after 1" in proc.stdout, proc.stderr


def test_readme_python_blocks_run_as_pasted(tmp_path: Path) -> None:
    proc = _paste(ROOT / "README.md", tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_tutorial_python_blocks_run(tmp_path: Path) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("the tutorial's last step needs matplotlib (the plot extra)")
    proc = _paste(DOCS / "tutorial.md", tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "exact: True" in proc.stdout
    assert (tmp_path / "accuracy_collapsed.png").stat().st_size > 10_000
    assert (tmp_path / "tutorial-sweep" / "rows.jsonl").is_file()


# -- Markdown links resolve in the repository --------------------------------------------------
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _relative_links(path: Path) -> list[tuple[int, str]]:
    """``(line, target)`` of every relative link or image of a Markdown file, outside code."""
    out = []
    fence = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        text = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
        for m in _LINK.finditer(text):
            target = m.group(1) or m.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http:, mailto:, an anchor of the same page
            out.append((n, target.split("#")[0]))
    return out


#: Folders the Sphinx build generates into docs/ (ignored by git): links into them resolve
#: only in the built site; they are the known exceptions, and only they.
GENERATED = ("api", "auto_examples")


def _site_only(target: Path) -> bool:
    """Whether ``target`` lies in a folder the Sphinx build generates (:data:`GENERATED`)."""
    try:
        rel = target.resolve().relative_to(DOCS.resolve())
    except ValueError:
        return False
    return rel.parts[:1] in {(g,) for g in GENERATED}


def test_markdown_links_resolve_in_the_repository() -> None:
    # docs/reports/*.md are fragments of results.md (its links are checked there).
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted(DOCS.glob("*/*.md"))]
    broken = [f"{page.relative_to(ROOT)}:{n}: {target}"
              for page in pages if "_build" not in page.parts and "reports" not in page.parts
              for n, target in _relative_links(page)
              if not (page.parent / target).exists() and not _site_only(page.parent / target)]
    assert not broken, "links to files that do not exist in the repository:\n" + "\n".join(broken)


def test_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("[ok](p.md) [web](https://x.org) `[code](nope.md)`\n[bad](missing.html)\n")
    assert _relative_links(page) == [(1, "p.md"), (2, "missing.html")]
