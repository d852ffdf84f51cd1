"""Figures of the exploration map (``rhm-theory explore --figures``; the ``plot`` extra)."""

# matplotlib is imported inside the function (object-oriented API, no pyplot, no global
# backend change), so importing this module never imports matplotlib.

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rhm_theory.io import atomic_path
from rhm_theory.sweeps.explore import AXES, TARGET

__all__ = ["plot_explore"]


def plot_explore(report: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    """Figures of the map (needs the ``plot`` extra): ``P*`` against ``L`` per axis, the
    measured/predicted ratio per axis, and the best accuracy against the ambiguity.

    ``report`` is what :func:`rhm_theory.sweeps.explore.run_explore` returns (or its
    ``summary.json`` read back). Returns the written PNG paths."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # A summary read back from summary.json holds None where the run had NaN.
    summary = [{k: (math.nan if v is None else v) for k, v in r.items()}
               for r in report["summary"]]  # fmt: skip
    axes_present = [a for a in AXES if any(r["axis"] == a for r in summary) and a != "baseline"]
    fig = Figure(figsize=(3.3 * len(axes_present), 3.0), layout="constrained")
    panels = fig.subplots(1, len(axes_present), squeeze=False)
    base = [r for r in summary if r["axis"] == "baseline"]
    for ax, axis in zip(panels[0], axes_present, strict=True):
        recs = base + [r for r in summary if r["axis"] == axis]
        values = sorted({(r["axis"], r["value"]) for r in recs},
                        key=lambda t: (t[0] != "baseline", t[1]))  # fmt: skip
        cmap = colormaps["viridis"]
        for i, (ax_name, val) in enumerate(values):
            color = cmap(i / max(1, len(values) - 1))
            label = "uniform" if ax_name == "baseline" else f"{axis}={val:g}"
            for context, style in (("latent", "-o"), ("token", "--s")):
                pts = sorted((r["L"], r["P_star"]) for r in recs
                             if (r["axis"], r["value"], r["context"])
                             == (ax_name, val, context))
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=color,
                            label=label if context == "latent" else None, ms=4)  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel("L")
        ax.set_title(axis)
        ax.legend(fontsize=6)
    panels[0][0].set_ylabel("P* (solid: own latents, dashed: tokens)")
    paths = [out / "explore_thresholds.png"]
    with atomic_path(paths[0]) as tmp:
        fig.savefig(tmp, dpi=110)

    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    axs: Any = fig.add_subplot(1, 1, 1)
    for axis, marker in zip(AXES, "ovs^Dx", strict=True):
        recs = [r for r in summary if r["axis"] == axis and r["context"] == "latent"]
        xs = [r["value"] + 0.02 * r["L"] for r in recs]
        axs.plot(xs, [r["ratio"] for r in recs], marker, label=axis, ms=5, ls="none")
    axs.set_yscale("log")
    axs.set_xlabel("axis value (a, sigma, eps, f or s; jittered by L)")
    axs.set_ylabel("exact-recovery P* / predicted (latent)")
    axs.axhline(1.0, color="grey", lw=0.5)
    axs.legend(fontsize=7)
    paths.append(out / "explore_ratio.png")
    with atomic_path(paths[1]) as tmp:
        fig.savefig(tmp, dpi=110)

    # Ambiguity caps the accuracy itself: best accuracy reached in the grid against eps.
    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    ax3: Any = fig.add_subplot(1, 1, 1)
    recs = [r for r in summary if r["axis"] in ("baseline", "ambiguity")]
    for (context, style), L in ((c, L) for c in (("latent", "-o"), ("token", "--s"))
                               for L in sorted({r["L"] for r in recs})):  # fmt: skip
        pts = sorted((r["value"], r["best_accuracy"]) for r in recs
                     if r["context"] == context and r["L"] == L)  # fmt: skip
        ax3.plot([p[0] for p in pts], [p[1] for p in pts], style, ms=4,
                 label=f"{context}, L={L}")  # fmt: skip
    ax3.axhline(TARGET, color="grey", lw=0.5)
    ax3.set_xlabel("ambiguity eps (fraction of shared right-hand sides)")
    ax3.set_ylabel("best min-over-levels accuracy")
    ax3.legend(fontsize=6)
    paths.append(out / "explore_ambiguity.png")
    with atomic_path(paths[2]) as tmp:
        fig.savefig(tmp, dpi=110)
    return paths
