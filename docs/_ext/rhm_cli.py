"""Sphinx extension: the CLI reference, generated from the real argparse parsers.

``rhm_cli_parser`` names a function returning the top-level parser (``module:function``).
The ``rhm-cli`` directive renders, for one command (its argument is the command path, as in
``{rhm-cli} grammar make`` in a Markdown page), its usage line and a table of every option
with its help text, default and choices, all taken from the parser. With the ``:others:``
flag and no argument it renders a section for every command not yet rendered on the page,
so a newly registered command shows up without editing the page. Pages keep their own prose
around the directives.
"""

from __future__ import annotations

import argparse
import importlib
import re
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = ["CliDirective", "command_paths", "format_usage", "get_parser", "option_rows"]

logger = logging.getLogger(__name__)
# ``code`` / `code` spans and bare --options are shown as code (never smart-quoted)
_CODE = re.compile(r"``?([^`]+)``?|(?<![\w-])(--[A-Za-z][\w-]*)")


def get_parser(spec: str) -> argparse.ArgumentParser:
    """Call the ``module:function`` that builds the top-level parser."""
    module_name, _, func = spec.partition(":")
    parser: argparse.ArgumentParser = getattr(importlib.import_module(module_name), func)()
    return parser


def command_paths(
    parser: argparse.ArgumentParser,
) -> dict[tuple[str, ...], tuple[argparse.ArgumentParser, str]]:
    """Every command of ``parser`` (groups and leaves) by path, with its one-line help."""
    out: dict[tuple[str, ...], tuple[argparse.ArgumentParser, str]] = {}

    def walk(p: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help or "" for a in action._choices_actions}
                for name, sub in action.choices.items():
                    out[(*prefix, name)] = (sub, helps.get(name, ""))
                    walk(sub, (*prefix, name))

    walk(parser, ())
    return out


def format_usage(parser: argparse.ArgumentParser, width: int = 92) -> str:
    """The usage line at a fixed width (never the terminal's)."""
    formatter = argparse.HelpFormatter(prog=parser.prog, width=width)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def option_rows(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """``(option with metavar, help)`` for every argument of ``parser`` but ``--help``."""
    formatter = parser.formatter_class(prog=parser.prog)
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            if action.nargs == 0:
                name = ", ".join(action.option_strings)
            else:
                meta = formatter._format_args(action, formatter._get_default_metavar_for_optional(
                    action))
                name = ", ".join(f"{o} {meta}" for o in action.option_strings)
        else:
            name = formatter._format_args(action, formatter._get_default_metavar_for_positional(
                action))
        text = formatter._expand_help(action) if action.help else ""
        default = action.default
        if (default not in (None, False, argparse.SUPPRESS) and "default" not in text
                and not action.required and action.nargs != "?"):
            shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            text = f"{text} (default: {shown})".strip()
        if action.required and action.option_strings and "required" not in text:
            text = f"{text} (required)".strip()
        rows.append((name, text))
    return rows


def _inline(text: str) -> list[nodes.Node]:
    """Help text with ```code``` spans as literals."""
    out: list[nodes.Node] = []
    pos = 0
    for m in _CODE.finditer(text):
        if m.start() > pos:
            out.append(nodes.Text(text[pos:m.start()]))
        code = m.group(1) or m.group(2)
        out.append(nodes.literal(code, code))
        pos = m.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def _table(rows: list[tuple[str, str]], header: tuple[str, str] = ("option", "meaning")
           ) -> nodes.table:
    table = nodes.table(classes=["rhm-cli-options"])
    group = nodes.tgroup(cols=2)
    table += group
    group += nodes.colspec(colwidth=30)
    group += nodes.colspec(colwidth=70)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body
    for container, cells in ((head, header), *((body, r) for r in rows)):
        row = nodes.row()
        for k, cell in enumerate(cells):
            entry = nodes.entry()
            para = nodes.paragraph()
            if container is body and k == 0:
                para += nodes.literal(cell, cell)
            else:
                para += _inline(cell)
            entry += para
            row += entry
        container += row
    return table


def _index_table(
        commands: dict[tuple[str, ...], tuple[argparse.ArgumentParser, str]]) -> nodes.table:
    """A table of every command (linked to its section) and its one-line help."""
    table = _table([(" ".join(("rhm-theory", *p)), help_) for p, (_, help_) in commands.items()],
                   header=("command", "what it does"))
    for row, path in zip(table.findall(nodes.row), [None, *commands], strict=True):
        if path is None:
            continue
        para = row.children[0].children[0]
        literal = para.children[0]
        ref = nodes.reference("", "", refuri="#" + anchor(path), internal=True)
        ref += literal.deepcopy()
        para.replace(literal, ref)
    return table


def anchor(path: tuple[str, ...]) -> str:
    """The id of a command's section: ``rhm-theory-grammar-make`` (as myst's heading slugs)."""
    return "-".join(("rhm-theory", *path))


def render_command(path: tuple[str, ...], parser: argparse.ArgumentParser,
                   one_line: str, description: bool = True) -> list[nodes.Node]:
    """Usage, description (unless the page has its own prose) and option table of a command."""
    out: list[nodes.Node] = []
    text = parser.description or one_line
    if text and description:
        para = nodes.paragraph()
        para += _inline(" ".join(text.split()))
        out.append(para)
    usage = format_usage(parser)
    out.append(nodes.literal_block(usage, usage, language="text"))
    rows = option_rows(parser)
    if rows:
        out.append(_table(rows))
    if parser.epilog:
        para = nodes.paragraph()
        para += _inline(" ".join(parser.epilog.split()))
        out.append(para)
    return out


class CliDirective(SphinxDirective):
    """``rhm-cli COMMAND...`` renders one command; ``:others:`` every command not yet shown.

    A single command's section is written around the directive, so the parser's description
    is shown only with the ``:description:`` flag; ``:others:`` sections always show it, and
    ``:index:`` renders the table of every command with its one-line help.
    """

    optional_arguments = 20
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"others": directives.flag,
                                             "index": directives.flag,
                                             "description": directives.flag}

    def run(self) -> list[nodes.Node]:
        """Render the command(s) from the parser named by ``rhm_cli_parser``."""
        commands = command_paths(get_parser(self.config.rhm_cli_parser))
        shown: set[tuple[str, ...]] = self.env.temp_data.setdefault(  # type: ignore[assignment]
            "rhm_cli_shown", set())
        if self.env.temp_data.get("rhm_cli_doc") != self.env.docname:
            shown.clear()
            self.env.temp_data["rhm_cli_doc"] = self.env.docname
        documented = self.env.__dict__.setdefault("rhm_cli_documented", {})
        self.env.__dict__.setdefault("rhm_cli_docs", set()).add(self.env.docname)
        if "index" in self.options:
            return [_index_table(commands)]
        if "others" in self.options:
            out: list[nodes.Node] = []
            for path, (parser, one_line) in commands.items():
                if path in shown:
                    continue
                shown.add(path)
                documented[path] = self.env.docname
                section = nodes.section(ids=[anchor(path)], names=[anchor(path)])
                title = nodes.title()
                title += nodes.literal(" ".join(("rhm-theory", *path)),
                                       " ".join(("rhm-theory", *path)))
                section += title
                section += render_command(path, parser, one_line)
                out.append(section)
            if not out:
                para = nodes.paragraph(text="(Every command has its section above.)")
                out.append(para)
            return out
        path = tuple(self.arguments)
        if path not in commands:
            known = ", ".join(" ".join(p) for p in commands)
            raise self.error(f"rhm-cli: no command {' '.join(path)!r} (known: {known})")
        shown.add(path)
        documented[path] = self.env.docname
        parser, one_line = commands[path]
        return render_command(path, parser, one_line, "description" in self.options)


def _check_all_documented(app: Any, env: Any) -> None:
    """Every command of the parser has a rendered reference somewhere (warning otherwise)."""
    documented = env.__dict__.get("rhm_cli_documented", {})
    if not documented:
        return  # no page uses the directive (e.g. a partial build)
    for path in command_paths(get_parser(app.config.rhm_cli_parser)):
        if path not in documented:
            logger.warning("CLI reference: command `rhm-theory %s` is not rendered by any "
                           "rhm-cli directive", " ".join(path), type="rhm", subtype="cli")


def _outdated(app: Any, env: Any, added: Any, changed: Any, removed: Any) -> list[str]:
    """Re-read the pages with a CLI reference at every build: the parser may have changed."""
    return sorted(set(env.__dict__.get("rhm_cli_docs", set())) - set(removed))


def _merge(app: Any, env: Any, docnames: Any, other: Any) -> None:
    env.__dict__.setdefault("rhm_cli_documented", {}).update(
        other.__dict__.get("rhm_cli_documented", {}))
    env.__dict__.setdefault("rhm_cli_docs", set()).update(other.__dict__.get("rhm_cli_docs", set()))


def _purge(app: Any, env: Any, docname: str) -> None:
    documented = env.__dict__.get("rhm_cli_documented", {})
    for path in [p for p, d in documented.items() if d == docname]:
        del documented[path]
    env.__dict__.get("rhm_cli_docs", set()).discard(docname)


def setup(app: Any) -> dict[str, Any]:
    """Register the directive, its config value and the completeness check."""
    app.add_config_value("rhm_cli_parser", "rhm_theory.cli:build_parser", "env")
    app.add_directive("rhm-cli", CliDirective)
    app.connect("env-check-consistency", _check_all_documented)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
