"""Check the documentation: links, images, Python blocks, CLI commands, API references, figures."""

# Usage:  python docs/build.py [--root DIR] [--quiet]
#
# The documentation is plain Markdown (rendered by GitHub or any Markdown viewer), so
# "building" it means checking it. Every problem is a warning and any warning makes the
# exit status 1 (tests/test_docs.py runs this, so CI fails on a stale page). Checks:
#
#   * every relative link and image of every page (docs/**/*.md and the README) resolves,
#     and a link's #anchor names a heading of its target page;
#   * every ```python block compiles, and every table row has its header's number of cells;
#   * every `rhm-theory ...` command in bash/console/sh blocks parses with the real argument
#     parser, rhm_theory.cli.build_parser(); in inline code, commands may leave out required
#     arguments (`rhm-theory ilc` names the command) but every name, option and value given
#     must parse;
#   * every command of the parser is documented (named as `rhm-theory <command>` in some
#     page), and each `## rhm-theory <command>` section of cli.md names all its options;
#   * every `module:qualname` inline reference (e.g. `rhm_theory.exact:context_laws`) imports;
#   * every page is reachable from docs/index.md and every figure (docs/figures/*.png) is
#     shown by some page.

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import shlex
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "OPTIONAL_PAGES",
    "Page",
    "Report",
    "check_docs",
    "command_paths",
    "iter_commands",
    "main",
    "parse_page",
    "resolve_reference",
    "slugify",
    "table_cells",
]

#: Pages other engineers own that may not exist yet: a link to a missing one is a note.
OPTIONAL_PAGES: frozenset[str] = frozenset({"neural.md"})

_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HTML_SRC = re.compile(r"""<(?:img|a)\b[^>]*?(?:src|href)=["']([^"']+)["']""")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
_REFERENCE = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_REDIRECT = re.compile(r"\d*(?:>>?|<)(?:&\d+|\s*[^\s&|;]+)")
_SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", "zsh"})
_PROGRAMS = ("rhm-theory", "python -m rhm_theory")


@dataclass
class Block:
    """A fenced code block of a page.

    Attributes
    ----------
    lang : str
        The info string's language (lower case; empty if none).
    start : int
        Line number (1-based) of the block's first code line.
    text : str
        The code.
    """

    lang: str
    start: int  # line number of the first code line (1-based)
    text: str


@dataclass
class Page:
    """A parsed Markdown page: its prose lines, code blocks and heading anchors.

    Attributes
    ----------
    path : Path
        The file.
    prose : list of (int, str)
        ``(line number, text)`` of every line outside fenced blocks.
    blocks : list of Block
        The fenced code blocks.
    anchors : set of str
        GitHub anchors of the headings (duplicates numbered ``-1``, ``-2``, ...).
    headings : list of (int, int, str)
        ``(line number, level, text)`` of every heading.
    """

    path: Path
    prose: list[tuple[int, str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    headings: list[tuple[int, int, str]] = field(default_factory=list)  # (line, level, text)


@dataclass
class Report:
    """Warnings (fatal) and notes (informative) of a docs check, with counters.

    Attributes
    ----------
    warnings : list of str
        ``path:line: message`` of every problem; any warning fails the build.
    notes : list of str
        Informative lines (e.g. an optional page not written yet).
    counts : dict of str to int
        How many links, commands, blocks, ... were checked.
    """

    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def warn(self, path: Path, line: int, message: str) -> None:
        """Record a warning at ``path:line``."""
        self.warnings.append(f"{path}:{line}: {message}")

    def count(self, what: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``what``."""
        self.counts[what] = self.counts.get(what, 0) + n


def slugify(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> slugify("Seeds and reproducibility (numba cache)")
    'seeds-and-reproducibility-numba-cache'
    >>> slugify("`rhm-theory figures`")
    'rhm-theory-figures'
    """
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    out = []
    for ch in text:
        if ch in " -_" or ch.isalnum() or unicodedata.category(ch).startswith("L"):
            out.append("-" if ch == " " else ch)
    return "".join(out)


def parse_page(path: Path) -> Page:
    """Split a Markdown file into prose lines, fenced blocks and heading anchors."""
    page = Page(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: str | None = None
    lang, start = "", 0
    buf: list[str] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        m = _FENCE.match(line)
        if fence is None and m:
            fence, lang, start, buf = m.group(2), m.group(3).lower(), n + 1, []
            continue
        if fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(
                    fence[0]):
                page.blocks.append(Block(lang, start, "\n".join(buf)))
                fence = None
            else:
                buf.append(line)
            continue
        page.prose.append((n, line))
        h = _HEADING.match(line)
        if h:
            slug = slugify(h.group(2).replace("`", ""))
            k = seen.get(slug, 0)
            seen[slug] = k + 1
            page.anchors.add(slug if k == 0 else f"{slug}-{k}")
            page.headings.append((n, len(h.group(1)), h.group(2)))
    if fence is not None:
        page.blocks.append(Block(lang, start, "\n".join(buf)))
    return page


def table_cells(line: str) -> list[str]:
    r"""Cells of a Markdown table row, split on unescaped pipes (``\|`` stays in a cell).

    >>> table_cells("| a | `b \\| c` | d |")
    ['a', '`b \\| c`', 'd']
    """
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


def resolve_reference(ref: str) -> object:
    """Import ``module:qualname`` (or a dotted path) and return the object.

    Raises
    ------
    ImportError, AttributeError
        If the module or an attribute along the qualname does not exist.
    """
    if ":" in ref:
        mod_name, qualname = ref.split(":", 1)
        obj: object = importlib.import_module(mod_name)
        for part in qualname.split("."):
            obj = _attribute(obj, part)
        return obj
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for part in parts[i:]:
            obj = _attribute(obj, part)
        return obj
    raise ImportError(f"no module in {ref!r}")


def _attribute(obj: object, name: str) -> object:
    """``getattr``, also accepting a field a class declares without a class-level value.

    Dataclass fields and annotated instance attributes (``weights: ndarray``) exist on
    every instance but not on the class; they resolve to their declared annotation.
    """
    try:
        return getattr(obj, name)
    except AttributeError:
        if isinstance(obj, type):
            for klass in obj.__mro__:
                annotations = vars(klass).get("__annotations__", {})
                if name in annotations:
                    return annotations[name]
        raise


def _strip_inline_code(line: str) -> str:
    return _INLINE_CODE.sub("", line)


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


def command_paths(
    parser: argparse.ArgumentParser,
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command of ``parser`` (groups and leaves) by its path, e.g. ``("grammar", "make")``."""
    out: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(p: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    out[(*prefix, name)] = sub
                    walk(sub, (*prefix, name))

    walk(parser, ())
    return out


def _check_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
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


def _long_options(p: argparse.ArgumentParser) -> list[str]:
    opts = []
    for action in p._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs:
            opts.append(longs[0])
        elif not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            opts.append(action.dest)  # positional: named by its dest (metavar shown)
    return opts


def check_docs(root: Path, extra_pages: Sequence[Path] = ()) -> Report:
    """Run every check on the pages under ``root`` (and ``extra_pages``, e.g. the README).

    Parameters
    ----------
    root : Path
        The docs folder (``index.md`` is the entry page; ``cli.md`` the CLI reference).
    extra_pages : sequence of Path
        Other Markdown files whose links and commands are checked too.

    Returns
    -------
    Report
    """
    from rhm_theory.cli import build_parser

    report = Report()
    root = root.resolve()
    paths = sorted(root.rglob("*.md"))
    pages = {p.resolve(): parse_page(p) for p in [*paths, *extra_pages] if p.is_file()}
    parser = build_parser()
    commands = command_paths(parser)
    lenient = build_parser()
    for sub in [lenient, *command_paths(lenient).values()]:
        for action in sub._actions:
            action.required = False
            if not action.option_strings and action.nargs is None:
                action.nargs = "?"  # an optional positional: may be left out
    links: dict[Path, set[Path]] = {p: set() for p in pages}
    shown_images: set[Path] = set()
    mentioned: set[tuple[str, ...]] = set()

    for path, page in pages.items():
        rel = path.relative_to(root.parent) if path.is_relative_to(root.parent) else path
        # -- links and images ------------------------------------------------------------
        for n, line in page.prose:
            text = _strip_inline_code(line)
            targets = [(m.group(3), m.group(1) == "!") for m in _LINK.finditer(text)]
            targets += [(m.group(1), False) for m in _HTML_SRC.finditer(text)]
            for target, is_image in targets:
                report.count("links")
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                    continue
                file_part, _, anchor = target.partition("#")
                dest = (path.parent / file_part).resolve() if file_part else path
                if file_part and not dest.exists():
                    if dest.name in OPTIONAL_PAGES and dest.parent == root:
                        report.notes.append(f"{rel}:{n}: optional page {file_part} not "
                                            "written yet")
                        continue
                    report.warn(rel, n, f"broken {'image' if is_image else 'link'}: {target}")
                    continue
                if dest.is_dir():
                    idx = dest / "README.md"
                    if idx.resolve() in pages:
                        links[path].add(idx.resolve())
                    continue
                if is_image or dest.suffix.lower() in {".png", ".svg", ".jpg", ".jpeg"}:
                    shown_images.add(dest)
                if dest in pages:
                    links[path].add(dest)
                    if anchor and anchor not in pages[dest].anchors:
                        report.warn(rel, n, f"link {target}: no heading #{anchor} in "
                                            f"{dest.name}")
        # -- tables: every row has the header's number of cells ------------------------------
        width = 0
        for n, line in page.prose:
            if not line.lstrip().startswith("|"):
                width = 0
                continue
            cells = len(table_cells(line))
            if width == 0:
                width = cells
            elif cells != width:
                report.warn(rel, n, f"table row has {cells} cells, its header {width} "
                                    "(escape a | inside a cell as \\|)")
        # -- inline code: commands and references ----------------------------------------
        for n, line in page.prose:
            for m in _INLINE_CODE.finditer(line):
                code = m.group(2).strip()
                if _REFERENCE.match(code):
                    report.count("references")
                    try:
                        resolve_reference(code)
                    except (ImportError, AttributeError) as exc:
                        report.warn(rel, n, f"reference `{code}` does not resolve ({exc})")
                if code.startswith(_PROGRAMS):
                    _note_mention(code, commands, mentioned)
                    if any(c in code for c in "[]|<>") or "..." in code:
                        continue  # usage syntax, not a command
                    for _, argv in iter_commands(code):
                        report.count("commands")
                        # Inline code may name a command without its required arguments
                        # (`rhm-theory ilc`); wrong names, options and values still fail.
                        problem = _check_command(lenient, argv)
                        if problem:
                            report.warn(rel, n, f"command `{code}` does not parse: {problem}")
        # -- fenced blocks -----------------------------------------------------------------
        for block in page.blocks:
            if block.lang in {"python", "py"}:
                report.count("python blocks")
                try:
                    compile(block.text, f"{rel}:{block.start}", "exec")
                except SyntaxError as exc:
                    report.warn(rel, block.start + (exc.lineno or 1) - 1,
                                f"python block does not compile: {exc.msg}")
            elif block.lang in _SHELL_LANGS:
                for offset, argv in iter_commands(block.text):
                    report.count("commands")
                    _note_mention("rhm-theory " + shlex.join(argv), commands, mentioned)
                    problem = _check_command(parser, argv)
                    if problem:
                        report.warn(rel, block.start + offset,
                                    f"command `rhm-theory {shlex.join(argv)}` does not parse: "
                                    f"{problem}")

    # -- the CLI reference covers the parser ---------------------------------------------------
    for path_ in sorted(commands):
        if path_ not in mentioned:
            report.warn(Path(root.name) / "cli.md", 1,
                        f"command `rhm-theory {' '.join(path_)}` is not documented in any page")
    cli = pages.get((root / "cli.md").resolve())
    if cli is not None:
        _check_cli_sections(cli, commands, report, Path(root.name) / "cli.md")
    else:
        report.warn(Path(root.name), 0, "no cli.md (the CLI reference)")

    # -- reachability and figures ----------------------------------------------------------------
    index = (root / "index.md").resolve()
    if index not in pages:
        report.warn(Path(root.name), 0, "no index.md")
    else:
        seen, todo = {index}, [index]
        while todo:
            for nxt in links[todo.pop()]:
                if nxt not in seen and nxt.is_relative_to(root):
                    seen.add(nxt)
                    todo.append(nxt)
        for p in sorted(x for x in pages if x.is_relative_to(root) and x not in seen):
            report.warn(p.relative_to(root.parent), 1, "page not reachable from index.md")
    for png in sorted((root / "figures").glob("*.png")) if (root / "figures").is_dir() else []:
        report.count("figures")
        if png.resolve() not in shown_images:
            report.warn(png.relative_to(root.parent), 0, "figure not shown by any page")
    report.count("pages", len(pages))
    return report


def _note_mention(code: str, commands: dict[tuple[str, ...], argparse.ArgumentParser],
                  mentioned: set[tuple[str, ...]]) -> None:
    words = code.split()
    words = words[1:] if words[0] == "rhm-theory" else words[3:]
    for k in range(len(words), 0, -1):
        if tuple(words[:k]) in commands:
            for j in range(1, k + 1):
                mentioned.add(tuple(words[:j]))
            return


def _check_cli_sections(cli: Page, commands: dict[tuple[str, ...], argparse.ArgumentParser],
                        report: Report, rel: Path) -> None:
    heads = [(n, lvl, text.replace("`", "").strip()) for n, lvl, text in cli.headings]
    all_lines = cli.path.read_text(encoding="utf-8").splitlines()
    for i, (n, lvl, text) in enumerate(heads):
        if not text.startswith("rhm-theory "):
            continue
        path_ = tuple(text.split()[1:])
        if path_ not in commands:
            report.warn(rel, n, f"section `{text}`: no such command")
            continue
        end = next((m for m, lv2, _ in heads[i + 1:] if lv2 <= lvl), len(all_lines) + 1)
        section = "\n".join(all_lines[n:end - 1])
        for opt in _long_options(commands[path_]):
            if opt.startswith("--"):
                if not re.search(re.escape(opt) + r"(?![\w-])", section):
                    report.warn(rel, n, f"section `{text}` does not document option {opt}")


def main(argv: Sequence[str] | None = None) -> int:
    """Check the docs; print every warning; return 1 if there is any, else 0.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(prog="python docs/build.py", description=__doc__)
    ap.add_argument("--root", type=Path, default=here, help="docs folder (default: this one)")
    ap.add_argument("--readme", type=Path, default=here.parent / "README.md",
                    help="also check this page (default: the repository README)")
    ap.add_argument("--quiet", action="store_true", help="print only warnings")
    args = ap.parse_args(argv)
    extra = [args.readme] if args.readme and args.readme.is_file() else []
    report = check_docs(args.root, extra)
    for w in report.warnings:
        print(f"warning: {w}")
    if not args.quiet:
        for note in report.notes:
            print(f"note: {note}")
        counts = ", ".join(f"{v} {k}" for k, v in sorted(report.counts.items()))
        print(f"docs: {len(report.warnings)} warning(s); checked {counts}")
    return 1 if report.warnings else 0


if __name__ == "__main__":
    sys.exit(main())
