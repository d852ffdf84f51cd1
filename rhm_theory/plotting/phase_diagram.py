"""The phase diagram of ``rhm-theory threshold --diagram DIR`` (the ``plot`` extra)."""

# matplotlib is imported inside the function (object-oriented API, no pyplot, no global
# backend change), so importing this module never imports matplotlib.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rhm_theory.io import atomic_path

__all__ = ["plot_phase_diagram"]


def plot_phase_diagram(groups: Mapping[tuple[Any, ...], Sequence[Mapping[str, Any]]],
                       zipf_points: Sequence[tuple[int, int, int]], path: str | Path) -> bool:
    """Write the phase diagram of ``rhm-theory threshold --diagram DIR`` (``eps_c`` against ``m``
    per channel and ``s``, mean-field map dotted; ``eps_c`` against the Zipf exponent of the
    rule prior at ``zipf_points``). ``groups`` maps ``(v, m, s, channel, a)`` to the runs'
    records (``eps_c``, ``mean_field``). Returns ``False`` (nothing written) without the
    ``plot`` extra."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # the plot extra is optional
        return False
    fig = Figure(figsize=(14, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, ch in zip(axes[:2], ("noise", "mask"), strict=True):
        for s, marker in ((2, "o"), (3, "s")):
            keys = sorted(k for k in groups if k[2] == s and k[3] == ch and k[4] is None)
            fs = sorted({k[1] / k[0] ** (s - 1) for k in keys})
            for f in fs:
                ks = sorted((k for k in keys if abs(k[1] / k[0] ** (s - 1) - f) < 1e-12),
                            key=lambda k: k[1])
                ms = [k[1] for k in ks]
                mean = [np.mean([r["eps_c"] for r in groups[k]]) for k in ks]
                sd = [np.std([r["eps_c"] for r in groups[k]]) for k in ks]
                line = ax.errorbar(ms, mean, yerr=sd, marker=marker, capsize=2,
                                   label=f"s={s}, f={f:g}")
                ax.plot(ms, [groups[k][0]["mean_field"] for k in ks], ls=":", marker=marker,
                        mfc="none", color=line[0].get_color())
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("m")
        ax.set_ylabel("eps_c (solid: density evolution, dotted: mean-field map)")
        ax.set_title(f"{ch} channel")
        ax.legend(fontsize=6, ncol=2)
    ax = axes[2]
    for ch, ls in (("noise", "-"), ("mask", "--")):
        for v, m, s in zipf_points:
            ks = sorted((k for k in groups if k[:4] == (v, m, s, ch) and k[4] is not None),
                        key=lambda k: k[4])
            if ks:
                ax.errorbar([k[4] for k in ks],
                            [np.mean([r["eps_c"] for r in groups[k]]) for k in ks],
                            yerr=[np.std([r["eps_c"] for r in groups[k]]) for k in ks],
                            ls=ls, marker="o", capsize=2, label=f"{ch}, v={v}, m={m}")
    ax.set_xlabel("Zipf exponent a of the rule prior w(r) ~ r^-(1+a)")
    ax.set_ylabel("eps_c")
    ax.set_title("rule prior (s = 2)")
    ax.legend(fontsize=7)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=110)
    return True
