"""``rhm-theory measure``: a learner's sample complexity and its laws, or a law judged on rows."""

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
from rhm_theory.validation import CONTEXT_KINDS

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
        f"each curve's threshold P* (accuracy {DEFAULT_TARGET}; first P where the isotonic "
        "fit of the curve reaches it), fit log P* = c + a log v + b log m + d L and judge "
        "each law with the library's one decision rule and its calibration (the rule of "
        "rhm-theory verify). Rows are written to --out as curves finish; a rerun with the "
        "same --out resumes. With --rows FILE --claim LAW, judge thresholds measured "
        "elsewhere instead (exit 1 if the verdict is FAIL).",
    )
    p.add_argument("spec", metavar="SPEC", nargs="?",
                   help="learner factory: path/to/file.py:factory or module:factory "
                   "(built-ins: rhm_theory.learners.ilc:latent, :token, :label)")
    p.add_argument("--rows", metavar="FILE",
                   help="judge thresholds from another code instead of measuring a learner: "
                   "CSV (with a header) or JSON lines with columns v, m, s, L, seed, P_lo, "
                   "P_hi and optional level (P_lo == P_hi: a point; P_lo <= 0: below the "
                   "grid; P_hi empty or inf: above it); needs --claim")
    p.add_argument("--claim", metavar="LAW",
                   help="with --rows: the law to judge (a name such as 'v m^3 / (1-f)' or "
                   "an expression in v, m, s, L, l, f such as 'v*m**3/(1-f)')")
    p.add_argument("--law", metavar="LAW", action="append", dest="laws",
                   help="with SPEC: a law to judge (repeatable; default: 'v m^3 / (1-f)', "
                   "'v m^(L+1) / (1-f)', 'v m^L / (1-f)', 'v m^3')")
    p.add_argument("--n-sim", type=non_negative_int, default=None,
                   help="simulated grids per law and per near alternative calibrating the "
                   "rule (default 200; 0: no calibration, so no PASS)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the calibration's simulations (default 0)")
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


def _n_sim(args: argparse.Namespace) -> int:
    from rhm_theory.sweeps.measure import MEASURE_N_SIM

    return MEASURE_N_SIM if args.n_sim is None else int(args.n_sim)


def _run(args: argparse.Namespace) -> int:
    if args.rows is not None:
        if args.spec is not None:
            raise ValueError("give SPEC (measure a learner) or --rows FILE (judge thresholds "
                             "from elsewhere), not both")
        if args.claim is None:
            raise ValueError("--rows needs --claim LAW (the law to judge on the rows)")
        if args.laws:
            raise ValueError("--law goes with SPEC; with --rows name the law with --claim")
        return _judge_rows(args)
    if args.spec is None:
        raise ValueError("give SPEC (a learner factory) or --rows FILE --claim LAW")
    if args.claim is not None:
        raise ValueError("--claim goes with --rows; with SPEC name laws with --law")
    return _measure(args)


def _judge_rows(args: argparse.Namespace) -> int:
    from proofs_checks._framework import Verdict, decision_verdict, judge
    from rhm_theory.scaling import DECISION_MEANINGS, assess, law, read_threshold_rows

    claim = law(args.claim)
    points = read_threshold_rows(args.rows)
    for i, p in enumerate(points, start=1):
        try:
            claim.log_scale(p)
        except ValueError as exc:
            raise ValueError(f"row {i}: {exc}") from None
    if all(p.censored for p in points):
        raise ValueError(f"rows: every one of the {len(points)} thresholds is censored; "
                         "the rule needs some inside their grid")
    # Per-level rows (some level > 0) are judged on the level axis too, as verify's
    # per-level claims are.
    axes = ("v", "m", "L", "l") if any(p.level > 0 for p in points) else ("v", "m", "L")
    res = assess(points, claim, axes=axes, n_sim=_n_sim(args), seed=args.seed)
    word = res.decision.decision
    verdict, note = judge(decision_verdict(word), None, res.power, None)
    n_cens = sum(p.censored for p in points)
    if args.json:
        doc = {"claim": claim.expr, "name": claim.label, "verdict": verdict.value,
               "rule_verdict": decision_verdict(word).value, "note": note,
               "decision": word, "meaning": DECISION_MEANINGS[word],
               "sentence": res.decision.sentence(),
               "axes": [a.to_dict() for a in res.decision.axes],
               "power": None if res.power is None else res.power.to_dict(),
               "fit": res.decision.fit.to_dict(),
               "noise": None if res.noise is None else res.noise.to_dict(),
               "n_rows": len(points), "n_censored": n_cens, "seed": args.seed}
        print_json(_clean(doc))
    else:
        print(f"claim {claim.label} on {len(points)} thresholds from {args.rows} "
              f"({n_cens} censored)")
        print(f"decision: {word} ({DECISION_MEANINGS[word]})")
        for a in res.decision.axes:
            print(f"  {a.sentence()}")
        pw = res.power
        if pw is None:
            print("calibration: none (--n-sim 0)")
        else:
            print(f"calibration ({pw.n_sim} grids simulated from the rows' own noise, seed "
                  f"{args.seed}): power {pw.claim:.3f} (decides 'claim' under the claim), "
                  f"false-FAIL {pw.false_fail:.3f} (decides 'rejected' under the claim)")
            print(format_table([{"near alternative": n, "false-PASS": f"{fp:.3f}"}
                                for n, fp in pw.alternatives]))
        print(f"verdict: {verdict.value}" + (f" ({note})" if note else ""))
    return 1 if verdict is Verdict.FAIL else 0


def _measure(args: argparse.Namespace) -> int:
    from rhm_theory.sweeps.measure import DEFAULT_LAWS, MeasureGrid, measure

    grid, grid_name = _grid(args)
    assert isinstance(grid, MeasureGrid)
    name = args.name or args.spec
    out = Path(args.out) if args.out else Path("rhm-measure") / _slug(name)
    _announce(args, grid, grid_name, name, out)
    res = measure(args.spec, grid, name=name, target=args.target, out_dir=out,
                  workers=args.workers, progress=not args.no_progress,
                  laws=tuple(args.laws or DEFAULT_LAWS), n_sim=_n_sim(args), seed=args.seed)
    res = replace(res, grid=grid_name)
    doc = res.to_dict()
    files = {"rows": str(out / "rows.jsonl"), "measurement": str(out / "measurement.json")}
    comp = res.comparison
    scale = comp.best_law()
    if not args.no_figure and scale is not None:
        try:
            from rhm_theory.plotting.measure import plot_measurement

            fig = plot_measurement(res.rows, scale, target=args.target,
                                   title=f"{name}: accuracy against P / ({scale.label})")
            fig.savefig(out / "accuracy_rescaled.png", dpi=130)
            files["figure"] = str(out / "accuracy_rescaled.png")
        except ImportError:
            files["figure"] = "skipped: matplotlib is not installed (pip install '.[plot]')"
    doc["files"] = files
    (out / "measurement.json").write_text(json.dumps(_clean(doc), indent=1))
    if args.json:
        print_json(_clean(doc))
    else:
        _print_measurement(res, name, grid_name, args.target, scale)
        for k, v in files.items():
            print(f"{k}: {v}")
    if comp.fit is None:
        print(f"rhm-theory measure: no curve of {name} crossed accuracy {args.target} inside "
              f"its grid ({grid_name}): every threshold is censored (see 'censored' above)",
              file=sys.stderr)
        return 1
    return 0


def _print_measurement(res: Any, name: str, grid_name: str, target: float,
                       scale: Any) -> None:
    comp = res.comparison
    print(f"learner {name}: grid {grid_name}, {res.n_cells} curves, {res.seconds:.1f} s; "
          f"threshold = first P where the isotonic fit of the worst non-root level's "
          f"accuracy reaches {target}")
    table = []
    for ct in res.thresholds:
        t, p = ct.threshold, ct.point
        star = (_fmt(t.P_star) if t.kind == "point" else
                f"<= {t.P_min:.0f}" if t.kind == "below_grid" else f"> {t.P_max:.0f}")
        row = {"v": p.v, "m": p.m, "L": p.L, "seed": p.grammar_seed, "kind": t.kind,
               "P*": star, "last crossing": _fmt(t.last_crossing),
               "dips": "yes" if t.dips else ""}
        if scale is not None and t.kind == "point":
            row[f"P*/({scale.label})"] = _fmt(t.P_star / math.exp(scale.log_scale(p)))
        table.append(row)
    print(format_table(table))
    if comp.fit is not None:
        f = comp.fit
        print(f"\nfit log P* = c + a log v + b log m + d L (95% intervals; {comp.n_runs} "
              f"thresholds, {comp.n_censored} censored, as intervals):")
        print(format_table([{"coef": k, "estimate": _fmt(f.coef[k]), "low": _fmt(f.low[k]),
                             "high": _fmt(f.high[k])} for k in f.coef]))
        print("\nlaws (the one decision rule, calibrated on grids simulated from these "
              "thresholds):")
        table = []
        for a in comp.assessments:
            pw = a.power
            worst = None if pw is None else pw.worst
            table.append({"law": a.claim.label, "decision": a.decision.decision,
                          "followed": "yes" if a.claim.label in comp.followed else "",
                          "power": "-" if pw is None else f"{pw.claim:.2f}",
                          "false-FAIL": "-" if pw is None else _fmt(pw.false_fail),
                          "worst false-PASS": "-" if worst is None else f"{worst[1]:.2f}"})
        print(format_table(table))
        for a in comp.assessments:
            print(f"  {a.claim.label}: {a.decision.sentence()}")
    print("\n" + comp.statement())
    for msg in res.censored:
        print(f"censored: {msg}", file=sys.stderr)


#: Built-in learners with a cost model (``rhm_theory.cost.ilc_seconds``): SPEC -> context.
_MODELLED = {f"rhm_theory.learners.ilc:{c}": c for c in CONTEXT_KINDS}


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
    cpu = sum(ilc_seconds(P + c.n_test, c.s, c.L, context=context, v=c.v, m=c.m)
              for c in cells for P in c.Ps)
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
