"""Figure and table of the CPU grid of the SLC claim from the rows on disk.

Reads the finished runs of ``rhm-theory neural verify-cpu --out DIR`` and draws, per arm,
the level-``(L-1)`` curve (SLC: code recovery; masked LM: linear probe) against ``P`` for
every depth and grammar seed, with the criterion; prints the same numbers as a Markdown
table. Usage::

    python benchmarks/neural_cpu_grid_figure.py DIR [--png docs/figures/neural/neural_cpu_grid.png]
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from rhm_theory.neural.cpu_grid import CPU_GRID_ARMS, load_cpu_grid_rows, read_cpu_grid

CRITERION = 1 / 8 + 0.5 * 7 / 8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--png", default=None)
    args = ap.parse_args()
    grid = read_cpu_grid(args.out)
    rows, progress = load_cpu_grid_rows(args.out, grid)
    curves: dict[tuple[str, int, int], list[tuple[int, float]]] = {}
    for r in rows:
        metric = "latent_probe" if r["method"] == "mlm" else "recovery"
        if r["metric"] == metric and r["level"] == r["L"] - 1:
            curves.setdefault((r["method"], r["L"], r["grammar_seed"]), []).append(
                (int(r["P"]), float(r["value"])))
    print("| arm | L | seed | " + " | ".join(f"P={P}" for P in grid.Ps) + " |")
    print("|---|---|---|" + "---|" * len(grid.Ps))
    for (arm, L, seed), pts in sorted(curves.items()):
        vals = dict(pts)
        cells = [f"{vals[P]:.3f}" if P in vals else "-" for P in grid.Ps]
        print(f"| {arm} | {L} | {seed} | " + " | ".join(cells) + " |")
    print({a: f"{p['done']}/{p['planned']}" for a, p in progress.items()})
    if args.png:
        arms = [a for a in CPU_GRID_ARMS if any(k[0] == a for k in curves)]
        fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(4.2 * max(1, len(arms)), 3.4),
                                 squeeze=False)
        colors = {3: "tab:blue", 4: "tab:orange", 5: "tab:green"}
        for ax, arm in zip(axes[0], arms, strict=False):
            for (a, L, seed), pts in sorted(curves.items()):
                if a != arm:
                    continue
                pts = sorted(pts)
                ax.plot([p for p, _ in pts], [v for _, v in pts], "o-" if seed == 0 else "s--",
                        color=colors.get(L, "k"), label=f"L={L} seed {seed}")
            ax.axhline(CRITERION, color="grey", lw=0.8)
            ax.set_xscale("log")
            ax.set_xlabel("P (training strings)")
            ax.set_title(f"{arm}: level L-1 " + ("probe" if arm == "mlm" else "recovery"))
            ax.set_ylim(0, 1.02)
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
