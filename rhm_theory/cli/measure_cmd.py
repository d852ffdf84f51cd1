"""``rhm-theory measure SPEC``: the sample complexity of any learner and the law it follows."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rhm_theory.cli._args import non_negative_int, positive_int
from rhm_theory.cli._output import format_table, print_json
from rhm_theory.cli._plan import add_force
from rhm_theory.constants import DEFAULT_TARGET, GRID_NAMES
from rhm_theory.model.spec import GRAMMAR_FAMILIES

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``measure`` command."""
    p = sub.add_parser(
        "measure",
        help="measure a learner's sample complexity and the scaling law it follows",
        description="Fit a learner (a factory: SPEC = path/to/file.py:factory or "
        "module:factory, called with each run's parameters) on a ladder of training-set "
        "sizes for every grammar of a grid, score every non-root level on fresh strings "
        "(best-matching accuracy of predict_latents, or a linear probe of transform), read "
        f"each curve's threshold P* (accuracy {DEFAULT_TARGET}), fit "
        "log P* = c + a log v + b log m + d L "
        "and compare the registered laws (v m^3, v m^(L+1), v m^L and near alternatives). "
        "Rows are written to --out as curves finish; a rerun with the same --out resumes.",
    )
    p.add_argument("spec", metavar="SPEC",
                   help="learner factory: path/to/file.py:factory or module:factory "
                   "(built-ins: rhm_theory.learners.ilc:latent, :token, :label)")
    p.add_argument("--grid", choices=GRID_NAMES, default="quick",
                   help="named grid (default quick); --v/--m/--L/--P/--seeds override parts")
    p.add_argument("--v", type=positive_int, nargs="+", help="vocabulary sizes (with --m)")
    p.add_argument("--m", type=positive_int, nargs="+", help="multiplicities (with --v)")
    p.add_argument("--L", type=positive_int, nargs="+", help="depths (>= 2)")
    p.add_argument("--P", type=positive_int, nargs="+",
                   help="explicit training-set sizes instead of the ladder (no early stop)")
    p.add_argument("--seeds", type=non_negative_int, nargs="+", help="grammar seeds")
    p.add_argument("--family", choices=GRAMMAR_FAMILIES, default=None,
                   help="grammar family of every run (default: the grid's, random)")
    p.add_argument("--target", type=float, default=DEFAULT_TARGET,
                   help="accuracy of every non-root level that defines P* (default %(default)s)")
    p.add_argument("--name", help="learner name in rows and keys (default: SPEC)")
    p.add_argument("--out", help="output folder (default rhm-measure/<name>)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes (default: CPUs; 1 = in this process)")
    p.add_argument("--no-figure", action="store_true", help="skip the figure")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_force(p)
    p.set_defaults(func=_run)


def _grid(args: argparse.Namespace) -> Any:
    from rhm_theory.model.params import RHMParams
    from rhm_theory.sweeps.measure import GRIDS

    g = GRIDS[args.grid]
    if (args.v is None) != (args.m is None):
        raise ValueError("--v and --m go together (their product is the (v, m) grid)")
    changes: dict[str, Any] = {}
    if args.v is not None:
        vms = []
        for v, m in itertools.product(args.v, args.m):
            try:
                RHMParams(v, m, g.s, 2)
            except ValueError:
                continue  # m > v^(s-1): no unambiguous grammar; skip the pair
            vms.append((v, m))
        if not vms:
            raise ValueError(f"no valid (v, m) pair in --v {args.v} x --m {args.m}")
        changes.update(vms=tuple(vms), max_L={})
    if args.L is not None:
        changes.update(Ls=tuple(args.L), max_L={})
    if args.P is not None:
        changes["Ps"] = tuple(args.P)
    if args.seeds is not None:
        changes["seeds"] = tuple(args.seeds)
    if args.family is not None:
        changes["family"] = args.family
    return (replace(g, **changes), "custom") if changes else (g, args.grid)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "learner"


def _fmt(x: float) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.3g}"


def _run(args: argparse.Namespace) -> int:
    from rhm_theory.sweeps.measure import MeasureGrid, law_scale, measure

    grid, grid_name = _grid(args)
    assert isinstance(grid, MeasureGrid)
    name = args.name or args.spec
    out = Path(args.out) if args.out else Path("rhm-measure") / _slug(name)
    _announce(args, grid, grid_name, name, out)
    res = measure(args.spec, grid, name=name, target=args.target, out_dir=out,
                  workers=args.workers, progress=not args.no_progress)
    res = replace(res, grid=grid_name)
    doc = res.to_dict()
    files = {"rows": str(out / "rows.jsonl"), "measurement": str(out / "measurement.json")}
    comp = res.comparison
    law = comp.best or "v m^3"
    if not args.no_figure:
        try:
            from rhm_theory.plotting.measure import plot_measurement

            fig = plot_measurement(res.rows, law, target=args.target,
                                   title=f"{name}: accuracy against P / ({law})")
            fig.savefig(out / "accuracy_rescaled.png", dpi=130)
            files["figure"] = str(out / "accuracy_rescaled.png")
        except ImportError:
            files["figure"] = "skipped: matplotlib is not installed (pip install '.[plot]')"
    doc["files"] = files
    (out / "measurement.json").write_text(json.dumps(_clean(doc), indent=1))
    if args.json:
        print_json(_clean(doc))
    else:
        print(f"learner {name}: grid {grid_name}, {res.n_cells} curves, "
              f"{res.seconds:.1f} s; threshold = accuracy {args.target} on every non-root "
              "level (last crossing)")
        rows = [{"v": t.v, "m": t.m, "L": t.L, "seed": t.grammar_seed, "status": t.status,
                 "P*": _fmt(t.P_star) if t.status == "crossed" else
                 (f"<= {t.high:.0f}" if t.status == "left-censored" else f"> {t.low:.0f}"),
                 f"P*/({law})": _fmt(t.P_star / law_scale(law, t.v, t.m, t.s, t.L))}
                for t in res.thresholds]
        print(format_table(rows))
        print("\nfit log P* = c + a log v + b log m + d L (95% seed-bootstrap intervals, "
              f"{comp.n_runs} uncensored curves, {comp.n_censored} censored):")
        print(format_table([{"coef": k, "estimate": _fmt(e), "low": _fmt(lo), "high": _fmt(hi)}
                            for k, (e, lo, hi) in comp.fit.items()]))
        print("\nlaws (collapse score = spread of log P*/scale over configurations):")
        print(format_table([{"law": lv.name, "decision": lv.decision, "score": _fmt(lv.score),
                             "worse than best": _fmt(lv.worse_than_best_fraction)}
                            for lv in comp.laws]))
        print("\n" + comp.statement())
        for msg in res.censored:
            print(f"censored: {msg}", file=sys.stderr)
        for k, v in files.items():
            print(f"{k}: {v}")
    if comp.n_runs == 0:
        print(f"rhm-theory measure: no curve of {name} reached accuracy {args.target} on "
              f"grid {grid_name}: every threshold is censored (see 'censored' above)",
              file=sys.stderr)
        return 1
    return 0


#: Built-in learners with a cost model (``rhm_theory.cost.ilc_seconds``): SPEC -> context.
_MODELLED = {f"rhm_theory.learners.ilc:{c}": c for c in ("latent", "token", "label")}


def _announce(args: argparse.Namespace, grid: Any, grid_name: str, name: str,
              out: Path) -> None:
    """Say what the measurement runs; for the built-in ILC learners, with the cost model's
    estimate (every ``P`` of every ladder, no early stop); a custom grid over the limit is
    refused (without ``--force``)."""
    from rhm_theory.cli._plan import announce
    from rhm_theory.cost import ilc_seconds
    from rhm_theory.sweeps.measure import measure_cells

    cells = measure_cells(args.spec, grid, name=name, target=args.target)
    plan = (f"measure: {name} on grid {grid_name}, {len(cells)} learning curves of up to "
            f"{max(len(c.Ps) for c in cells)} training-set sizes -> {out}")
    context = _MODELLED.get(args.spec)
    if context is None:
        if not (args.quiet or args.json or args.no_progress):
            print(f"{plan}; no cost model for a learner's own code: the progress line "
                  "estimates the rest from the curves done", file=sys.stderr, flush=True)
        return
    import os

    workers = args.workers or os.cpu_count() or 1
    cpu = sum(ilc_seconds(P + c.n_test, c.s, c.L, context=context) for c in cells for P in c.Ps)
    # A named grid is what it says; only a grid of the user's options can be refused.
    named = grid_name != "custom" or getattr(args, "force", False)
    announce(argparse.Namespace(**{**vars(args), "force": named}),
             f"{plan} (at most, on {workers} workers)", cpu / min(workers, len(cells)),
             "the grid of --v/--m/--L/--P")


def _clean(x: Any) -> Any:
    """NaN and infinities as ``None`` (strict JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x
