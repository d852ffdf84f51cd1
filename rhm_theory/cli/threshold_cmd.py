"""``rhm-theory threshold``: the inference threshold eps_c of a grammar, or the phase diagram."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from rhm_theory.cli._args import add_seed, positive_int
from rhm_theory.cli._output import print_json

__all__ = ["DIAGRAM_POINTS", "ZIPF_POINTS", "cmd_threshold", "register", "render_diagram"]

#: (v, m, s) of the phase diagram, all with s f < 1, cheapest first. The lines f = 1/4 and
#: f = 1/8 (s = 2) carry the fitted law of eps_c against m at fixed f.
DIAGRAM_POINTS: tuple[tuple[int, int, int], ...] = (
    (8, 2, 2), (16, 2, 2), (16, 4, 2), (32, 2, 2), (32, 4, 2), (8, 2, 3), (8, 4, 3),
    (16, 2, 3), (32, 8, 2), (64, 2, 2), (64, 4, 2), (16, 4, 3), (8, 8, 3), (64, 8, 2),
    (128, 4, 2), (16, 8, 3), (8, 16, 3), (32, 4, 3), (64, 16, 2), (128, 8, 2), (16, 16, 3),
    (32, 16, 3), (128, 16, 2),
)
#: Zipf exponents a of the rule prior w(r) ~ r^-(1+a) (a = None: uniform) and their grammars.
ZIPF_POINTS: tuple[tuple[int, int, int], ...] = ((16, 4, 2), (32, 8, 2))
ZIPF_EXPONENTS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
#: Messages per level in the diagram (n_pop = this // v per symbol): half the default of a
#: single threshold, so that the whole diagram fits the shared machine (docs/bp.md).
DIAGRAM_MESSAGES = 16000
#: Depth of the random grammars (their rule tables are reused cyclically beyond it).
GRAMMAR_DEPTH = 8


def _threshold_row(v: int, m: int, s: int, seed: int, channel: str, zipf: float | None,
                   n_pop: int | None) -> dict[str, Any]:
    from rhm_theory.inference.population_dynamics import inference_threshold, mean_field_threshold
    from rhm_theory.model import RHMParams, random_grammar
    from rhm_theory.model.weights import zipf_rule_probs

    params = RHMParams(v=v, m=m, s=s, L=GRAMMAR_DEPTH)
    g = random_grammar(params, seed=seed)
    if zipf is not None:
        g = g.with_probs(rule_probs=zipf_rule_probs(params, zipf))
    th = inference_threshold(g, channel, n_pop=n_pop, confirm=False)
    return {"v": v, "m": m, "s": s, "f": m / v ** (s - 1), "seed": seed, "channel": channel,
            "zipf": zipf, "eps_c": th.eps_c, "lo": th.lo, "hi": th.hi, "n_pop": th.n_pop,
            "seconds": th.seconds, "mean_field": mean_field_threshold(v, m, s, channel)}


def _run_diagram(args: argparse.Namespace) -> int:
    out = Path(args.diagram)
    out.mkdir(parents=True, exist_ok=True)
    rows_path = out / "diagram.jsonl"
    done = set()
    if rows_path.exists():  # resume: skip rows already computed
        for line in rows_path.read_text().splitlines():
            r = json.loads(line)
            done.add((r["v"], r["m"], r["s"], r["seed"], r["channel"], r["zipf"]))
    jobs: list[tuple[int, int, int, int, str, float | None]] = []
    # Cheapest points first, then the rule prior, then the three dearest points:
    # a budget that runs out loses the largest grammars, not the law's lines.
    big = [(128, 8, 2), (32, 16, 3), (128, 16, 2)]
    for v, m, s in [p for p in DIAGRAM_POINTS if p not in big]:
        for seed in range(args.seeds):
            for ch in ("noise", "mask"):
                jobs.append((v, m, s, seed, ch, None))
    for v, m, s in ZIPF_POINTS:
        for za in ZIPF_EXPONENTS:
            for seed in range(args.seeds):
                for ch in ("noise", "mask"):
                    jobs.append((v, m, s, seed, ch, za))
    for v, m, s in big:
        for seed in range(args.seeds):
            for ch in ("noise", "mask"):
                jobs.append((v, m, s, seed, ch, None))
    t0 = time.perf_counter()
    with rows_path.open("a") as fh:
        for v, m, s, seed, ch, a in jobs:
            if (v, m, s, seed, ch, a) in done:
                continue
            if args.budget and time.perf_counter() - t0 > args.budget:
                print(f"budget of {args.budget} s spent: stopping before {(v, m, s)}")
                break
            row = _threshold_row(v, m, s, seed, ch, a, max(2, DIAGRAM_MESSAGES // v))
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            print(f"v={v} m={m} s={s} seed={seed} {ch} zipf={a}: eps_c={row['eps_c']:.4f} "
                  f"[{row['lo']:.4f}, {row['hi']:.4f}] ({row['seconds']:.1f} s)", flush=True)
    print(render_diagram(rows_path, out))
    return 0


def _fit_law(ms: np.ndarray, vals: np.ndarray, seeds: int, rng: np.random.Generator
             ) -> dict[str, Any]:
    # log eps_c = log C - alpha log m by least squares on the seed means; interval: 95%
    # percentile bootstrap resampling grammar seeds within each m.
    def fit(y: np.ndarray) -> tuple[float, float]:
        slope, icpt = np.polyfit(np.log(ms), np.log(y), 1)
        return -float(slope), float(np.exp(icpt))

    alpha, c = fit(vals.mean(axis=1))
    boots = []
    for _ in range(2000):
        idx = rng.integers(0, vals.shape[1], size=vals.shape)
        boots.append(fit(np.take_along_axis(vals, idx, axis=1).mean(axis=1))[0])
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"alpha": alpha, "C": c, "alpha_interval": [float(lo), float(hi)],
            "m": ms.tolist(), "n_seeds": seeds}


def render_diagram(rows_path: Path, out: Path) -> str:
    """Table (markdown), fitted laws and figure of the phase diagram from its rows.

    Writes ``out/phase_diagram.md``, ``out/phase_diagram.json`` and, with matplotlib,
    ``out/phase_diagram.png``; returns the markdown.
    """
    rows = [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["v"], r["m"], r["s"], r["channel"], r["zipf"]), []).append(r)
    table: list[dict[str, Any]] = []
    for (v, m, s, ch, a), rs in sorted(groups.items(), key=lambda kv: (
            kv[0][4] is not None, kv[0][2], kv[0][3], kv[0][0], kv[0][1], kv[0][4] or 0.0)):
        e = np.array([r["eps_c"] for r in rs])
        table.append({"v": v, "m": m, "s": s, "f": round(m / v ** (s - 1), 5), "channel": ch,
                      "zipf a": "-" if a is None else a, "seeds": len(rs),
                      "eps_c mean": round(float(e.mean()), 4),
                      "spread (sd)": round(float(e.std(ddof=1)) if len(e) > 1 else math.nan, 4),
                      "half-width": round(max(r["hi"] - r["lo"] for r in rs) / 2, 4),
                      "mean-field map": round(rs[0]["mean_field"], 4),
                      "seconds/grammar": round(float(np.mean([r["seconds"] for r in rs])), 1)})
    cols = ["v", "m", "s", "f", "channel", "zipf a", "seeds", "eps_c mean", "spread (sd)",
            "half-width", "mean-field map", "seconds/grammar"]
    rng = np.random.default_rng(0)
    laws = []
    for ch in ("noise", "mask"):
        for f in (0.25, 0.125):
            pts = sorted((m, [r["eps_c"] for r in rs]) for (v, m, s, c, a), rs in groups.items()
                         if s == 2 and c == ch and a is None and abs(m / v - f) < 1e-12)
            n = min((len(e) for _, e in pts), default=0)
            if len(pts) >= 3 and n >= 2:
                ms = np.array([p[0] for p in pts], dtype=np.float64)
                vals = np.array([p[1][:n] for p in pts], dtype=np.float64)
                laws.append({"channel": ch, "f": f, **_fit_law(ms, vals, n, rng)})
    md = [_markdown(table, cols), ""]
    for law in laws:
        lo, hi = law["alpha_interval"]
        md.append(f"- {law['channel']}, s = 2, f = {law['f']}: eps_c ~ {law['C']:.3f} "
                  f"m^-{law['alpha']:.3f}, alpha in [{lo:.3f}, {hi:.3f}] (95% bootstrap over "
                  f"{law['n_seeds']} grammar seeds, m = {[int(x) for x in law['m']]})")
    text = "\n".join(md) + "\n"
    (out / "phase_diagram.md").write_text(text)
    (out / "phase_diagram.json").write_text(json.dumps({"table": table, "laws": laws},
                                                       indent=1, default=str))
    from rhm_theory.plotting.phase_diagram import plot_phase_diagram

    plot_phase_diagram(groups, ZIPF_POINTS, out / "phase_diagram.png")  # skipped without plot
    return text


def _markdown(rows: list[dict[str, Any]], cols: list[str]) -> str:
    head = "| " + " | ".join(cols) + " |"
    sep = "|" + "|".join("---" for _ in cols) + "|"
    body = ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def cmd_threshold(args: argparse.Namespace) -> int:
    """Print eps_c of a grammar file, or run / render the phase diagram."""
    if args.diagram:
        if args.render_only:
            print(render_diagram(Path(args.diagram) / "diagram.jsonl", Path(args.diagram)))
            return 0
        return _run_diagram(args)
    if args.grammar is None:
        raise ValueError("grammar is required unless --diagram is given")
    from rhm_theory.inference.population_dynamics import inference_threshold, mean_field_threshold
    from rhm_theory.model.grammar_io import load_grammar

    grammar = load_grammar(args.grammar)
    p = grammar.params
    t0 = time.perf_counter()
    th = inference_threshold(grammar, args.channel, tol=args.tol, n_pop=args.n_pop,
                             seed=args.seed)
    wall = time.perf_counter() - t0
    mf = mean_field_threshold(p.v, p.m, p.s, args.channel)
    report = {"grammar": str(args.grammar), "params": p.to_dict(), "channel": args.channel,
              "eps_c": th.eps_c, "interval": [th.lo, th.hi], "confirmed": th.confirmed,
              "mean_field_map": mf, "n_pop": th.n_pop, "max_depth": th.max_depth,
              "seconds": wall, "trace": th.to_dict()["trace"]}
    if args.json:
        print_json(report)
        return 0
    print(f"{p.to_dict()} channel={args.channel}")
    print(f"eps_c = {th.eps_c:.4f}  interval [{th.lo:.4f}, {th.hi:.4f}]"
          f"{'' if th.confirmed else ' (an end changed with 2x population: widened)'}")
    print(f"mean-field map eps* = {mf:.4f}  (difference {mf - th.eps_c:+.4f})")
    print(f"{len(th.trace)} population runs of {th.n_pop} messages per symbol, "
          f"{wall:.2f} s")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``threshold`` command to the top-level subparsers."""
    parser = subparsers.add_parser(
        "threshold", help="inference threshold eps_c (density evolution of BP messages)",
        description="eps_c of a grammar file under the noise or mask channel, by bisection "
                    "on population dynamics of the upward BP messages, beside the mean-field "
                    "map's value; or, with --diagram DIR, the phase diagram over (v, m, s) "
                    "(resumable rows, table, fitted law, figure).")
    parser.add_argument("grammar", nargs="?", default=None,
                        help="grammar JSON file (rhm-theory grammar make)")
    parser.add_argument("--channel", choices=("noise", "mask"), default="noise",
                        help="leaf channel (default noise)")
    parser.add_argument("--tol", type=float, default=0.01,
                        help="half-width of the bracket (default 0.01)")
    parser.add_argument("--n-pop", type=positive_int, default=None,
                        help="messages per symbol (default max(2000, 32000 // v))")
    add_seed(parser, "population")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--diagram", metavar="DIR", default=None,
                        help="compute (resuming) the phase diagram into DIR")
    parser.add_argument("--seeds", type=positive_int, default=5,
                        help="grammar seeds per diagram point (default 5)")
    parser.add_argument("--budget", type=float, default=0.0,
                        help="stop the diagram after this many seconds (0: no limit)")
    parser.add_argument("--render-only", action="store_true",
                        help="with --diagram: only redraw table and figure from saved rows")
    parser.set_defaults(func=cmd_threshold)
