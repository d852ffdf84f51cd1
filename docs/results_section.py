"""Render a ``rhm-theory verify`` report.json as a Markdown section of docs/results.md."""

# Usage:
#   python docs/results_section.py REPORT_DIR_OR_JSON --title "Quick grid" \
#       --command "rhm-theory verify --out /tmp/quick-report --workers 1" \
#       --machine "2-core x86-64 Linux, Python 3.11" [--wall "3 min 46 s"]
#
# Every number printed is copied from the JSON (formatted to 4 significant digits), so the
# results page never holds a number the run did not produce.

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["OBJECTIVES", "fmt", "load_report", "main", "render_comparison", "render_page",
           "render_section"]


def fmt(value: Any) -> str:
    """A JSON value as short text: floats to 4 significant digits, dicts as ``k: v`` lists.

    >>> fmt(0.123456), fmt({"3": 11.516, "4": 9.3578}), fmt([1.0, 2.5]), fmt(None)
    ('0.1235', '3: 11.52, 4: 9.358', '[1, 2.5]', 'n/a')
    """
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def load_report(path: str | Path) -> dict[str, Any]:
    """The ``report.json`` of a report folder (or the file itself)."""
    p = Path(path)
    if p.is_dir():
        p = p / "report.json"
    data = json.loads(p.read_text())
    if not isinstance(data, dict) or "checks" not in data:
        raise ValueError(f"{p} is not a rhm-theory verify report")
    return data


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _power_cells(check: Mapping[str, Any]) -> tuple[str, str]:
    """``(power, worst false-PASS)`` of a check as table text (issue 17's ``power``)."""
    power = check.get("power")
    if not power:
        reason = check.get("power_reason")
        return ("none" + (f" ({_cell(str(reason))})" if reason else ""), "-")
    alts = power.get("alternatives") or []
    worst = max(alts, key=lambda a: a["false_pass"]) if alts else None
    n = power.get("n_sim")
    return (f"{fmt(power['claim'])} ({n} grids)",
            "-" if worst is None else f"{fmt(worst['false_pass'])} (`{worst['name']}`)")


def render_section(report: Mapping[str, Any], *, title: str, command: str, machine: str,
                   wall: str | None = None) -> str:
    """The Markdown section: how it ran, one summary table, then one block per check.

    Parameters
    ----------
    report : mapping
        The parsed ``report.json``.
    title : str
        Section heading.
    command : str
        The command that produced the report.
    machine : str
        A description of the machine.
    wall : str, optional
        Wall-clock time measured outside the run (the report has its own ``seconds``).

    Returns
    -------
    str
    """
    checks: Sequence[Mapping[str, Any]] = report["checks"]
    n_pass = sum(c["verdict"] == "PASS" for c in checks)
    counts = {v: sum(c["verdict"] == v for c in checks)
              for v in ("PASS", "FAIL", "INCONCLUSIVE", "EXPLORATORY")}
    m = report.get("machine", {})
    lines = [f"## {title}", "", "```bash", command, "```", "",
             f"- machine: {machine} (reported by the run: {m.get('platform', '?')}, "
             f"Python {m.get('python', '?')})",
             f"- grid: `{report.get('grid', '?')}`, {report.get('n_sweep_cells', '?')} sweep "
             f"cells; {fmt(report.get('seconds'))} s in total, of which sweep "
             f"{fmt(report.get('sweep_seconds'))} s"
             + (f"; wall clock measured outside: {wall}" if wall else ""),
             f"- verdict: **{n_pass}/{len(checks)} checks pass** ("
             + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ")", "",
             "| check | verdict | power | worst false-PASS | competitors rejected | "
             "not rejected | negative control |",
             "|---|---|---|---|---|---|---|"]
    for c in checks:
        alts = c.get("alternatives") or []
        rej = ", ".join(f"`{a['name']}`" for a in alts if a.get("rejected")) or "-"
        kept = ", ".join(f"`{a['name']}`" for a in alts if not a.get("rejected")) or "-"
        ctrl = c.get("negative_control")
        ctrl_txt = "none" if not ctrl else (
            f"{ctrl['verdict']}" + ("" if ctrl["verdict"] == "FAIL" else " (should FAIL)"))
        power_txt, worst_txt = _power_cells(c)
        lines.append(f"| `{c['name']}` | {c['verdict']} | {power_txt} | {worst_txt} | "
                     f"{_cell(rej)} | {_cell(kept)} | {ctrl_txt} |")
    lines.append("")
    for c in checks:
        lines += [f"### `{c['name']}`: {c['verdict']}", "",
                  f"- claim: {c['claim']}", f"- source: {c['source']}",
                  f"- prediction: {c['prediction']}"]
        lines.append(f"- tolerance (fixed before the run): {_cell(str(c['tolerance']))}")
        for key, value in c["measured"].items():
            lines.append(f"- measured `{key}`: {fmt(value)}")
        lines.append(f"- predicted: {fmt(c['predicted'])}")
        power_txt, worst_txt = _power_cells(c)
        lines.append(f"- calibration: power {power_txt}; worst false-PASS {worst_txt}")
        suggestion = (c.get("power") or {}).get("suggestion")
        if suggestion:
            lines.append(f"- grid that would calibrate the rule: {suggestion}")
        ctrl = c.get("negative_control")
        if ctrl:
            lines.append(f"- negative control ({ctrl['description']}): **{ctrl['verdict']}**; "
                         f"{fmt(ctrl.get('measured'))}")
        details = c.get("details") or {}
        for key, value in details.items():
            if isinstance(value, list) and value and isinstance(value[0], Mapping):
                cols = list(value[0].keys())
                lines += ["", f"{key}:", "", "| " + " | ".join(cols) + " |",
                          "|" + "---|" * len(cols)]
                lines += ["| " + " | ".join(fmt(r.get(k)) for k in cols) + " |" for r in value]
                lines.append("")
            else:
                lines.append(f"- {key}: {fmt(value)}")
        lines.append("")
    return "\n".join(lines)


#: The paper's comparison (docs/theory.md section 4): objective, context, and the checks
#: that test its law (whole tree, then per level).
OBJECTIVES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("own latents (ILC)", "cousin latents",
     ("ilc_threshold_scaling", "ilc_exact_recovery_scaling", "ilc_per_level_scaling",
      "ilc_unpooled_per_level_scaling")),
    ("token-level SSL", "tokens below the cousins",
     ("token_baseline_scaling", "token_per_level_scaling")),
    ("supervised", "root label", ("label_baseline_scaling",)),
)


def _calibration(check: Mapping[str, Any]) -> str:
    pw = check.get("power")
    if not pw:
        return "not calibrated"
    parts = [f"power {fmt(pw.get('claim'))}"]
    if pw.get("false_fail") is not None:
        parts.append(f"false-FAIL {fmt(pw['false_fail'])}")
    alts = pw.get("alternatives") or []
    if alts:
        worst = max(alts, key=lambda a: a["false_pass"])
        parts.append(f"worst false-PASS {fmt(worst['false_pass'])} (`{worst['name']}`)")
    return ", ".join(parts)


def render_comparison(reports: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The table that opens the results page: per objective and law, the verdict on each
    grid, what held axis by axis, and the calibration (``reports``: ``(grid title,
    report)`` pairs)."""
    lines = ["| objective (context) | check: law (event) | " +
             " | ".join(f"{t}: verdict, what held, calibration" for t, _ in reports) + " |",
             "|---|---|" + "---|" * len(reports)]
    by_grid = [{c["name"]: c for c in rep["checks"]} for _, rep in reports]
    for objective, context, names in OBJECTIVES:
        for name in names:
            first = next((g[name] for g in by_grid if name in g), None)
            if first is None:
                continue
            meas = first.get("measured", {})
            head = (f"`{name}`: `{first.get('law') or meas.get('law')}` "
                    f"({meas.get('event', '?')})")
            cells = []
            for g in by_grid:
                c = g.get(name)
                if c is None:
                    cells.append("not run")
                    continue
                cm = c.get("measured", {})
                cells.append(_cell(f"**{c['verdict']}**; {cm.get('sentence', '')}; "
                                   f"{_calibration(c)}; control "
                                   f"{(c.get('negative_control') or {}).get('verdict', 'none')}"))
            lines.append(f"| {objective} ({context}) | {_cell(head)} | " + " | ".join(cells)
                         + " |")
    return "\n".join(lines)


def render_page(reports: Sequence[tuple[str, str, str, str | None, Mapping[str, Any]]],
                preface: str = "") -> str:
    """The whole results page: the comparison of the three objectives, then one short
    table per grid (every check: verdict, what held, calibration, control), each with the
    command and machine that produced it. ``reports``: ``(title, command, machine, wall,
    report)``; ``preface``: Markdown placed after the comparison (written by hand, numbers
    quoted from the tables)."""
    lines = ["# Results", "",
             "Generated by `docs/results_section.py` from the `report.json` of the runs "
             "below, under the rules registered on 2026-12-07 (history and earlier results: "
             "[changelog](changelog.md)). Every number comes from those files.", "",
             "## The paper's comparison: own latents, tokens, labels", "",
             render_comparison([(t, r) for t, _, _, _, r in reports]), ""]
    if preface:
        lines += [preface.strip(), ""]
    for title, command, machine, wall, rep in reports:
        checks: Sequence[Mapping[str, Any]] = rep["checks"]
        counts = {v: sum(c["verdict"] == v for c in checks)
                  for v in ("PASS", "FAIL", "INCONCLUSIVE", "EXPLORATORY")}
        lines += [f"## {title}", "", "```bash", command, "```", "",
                  f"- machine: {machine}; {rep.get('n_sweep_cells', '?')} sweep cells; "
                  f"{fmt(rep.get('seconds'))} s in total (sweep {fmt(rep.get('sweep_seconds'))}"
                  " s)" + (f"; wall clock {wall}" if wall else ""),
                  "- verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n), "",
                  "| check | verdict | what held (measured against predicted) | calibration "
                  "| control |", "|---|---|---|---|---|"]
        for c in checks:
            meas = c.get("measured", {})
            held = meas.get("sentence") or "; ".join(
                f"{k}: {fmt(v)}" for k, v in list(meas.items())[:3])
            note = (c.get("details") or {}).get("note")
            if note:
                held += f" ({note})"
            ctrl = c.get("negative_control")
            lines.append(f"| `{c['name']}` | {c['verdict']} | {_cell(held)} | "
                         f"{_cell(_calibration(c))} | "
                         f"{'none' if not ctrl else ctrl['verdict']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the section for a report; returns the exit status."""
    ap = argparse.ArgumentParser(prog="python docs/results_section.py", description=__doc__)
    ap.add_argument("report", nargs="+",
                    help="report folder(s) of `rhm-theory verify`, or their report.json")
    ap.add_argument("--title", action="append", help="one per report")
    ap.add_argument("--command", action="append", required=True,
                    help="the command that made each report")
    ap.add_argument("--machine", required=True, help="the machine they ran on")
    ap.add_argument("--wall", action="append", default=None,
                    help="wall-clock time measured outside each run")
    ap.add_argument("--page", action="store_true",
                    help="the whole results page (comparison first) instead of one section")
    ap.add_argument("--preface", default=None, help="a Markdown file placed after the "
                    "comparison table (with --page)")
    args = ap.parse_args(argv)
    n = len(args.report)
    titles = args.title or [f"Report {i + 1}" for i in range(n)]
    walls = args.wall or [None] * n
    if not (len(titles) == len(args.command) == len(walls) == n):
        ap.error("give one --title, --command (and --wall) per report")
    if args.page:
        preface = Path(args.preface).read_text() if args.preface else ""
        print(render_page([(t, c, args.machine, w, load_report(r)) for t, c, w, r in
                           zip(titles, args.command, walls, args.report, strict=True)],
                          preface))
        return 0
    for t, c, w, r in zip(titles, args.command, walls, args.report, strict=True):
        print(render_section(load_report(r), title=t, command=c, machine=args.machine,
                             wall=w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
