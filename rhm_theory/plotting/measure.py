"""Figure of a measurement: accuracy against ``P`` rescaled by a law (matplotlib optional)."""

# matplotlib is imported inside the function (object-oriented API, no pyplot), so importing
# this module never imports matplotlib.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from rhm_theory.constants import DEFAULT_TARGET
from rhm_theory.scaling import Law, law

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_measurement"]


def plot_measurement(
    rows: Iterable[Mapping[str, Any]], scale_law: Law | str, *, target: float = DEFAULT_TARGET,
    title: str | None = None,
) -> Figure:
    """Worst-level accuracy of every curve against ``P / scale_law(v, m, L)``.

    One line per configuration ``(v, m, L)`` (geometric grid of its seeds' mean), coloured
    by depth, one line style per ``(v, m)``. Curves that follow the law fall on top of
    each other; the dotted line is the target.

    Parameters
    ----------
    rows : iterable of mapping
        Rows of :func:`rhm_theory.sweeps.measure.measure` (``min_accuracy`` per ``P``).
    scale_law : Law or str
        A :class:`~rhm_theory.scaling.Law`, a name of :data:`rhm_theory.scaling.NAMED_LAWS`
        or a law expression.
    target : float
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    lw = scale_law if isinstance(scale_law, Law) else law(scale_law)
    curves: dict[tuple[int, int, int, int], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(list))
    for r in rows:
        if int(r["level"]) != 1:  # min_accuracy repeats on every level row
            continue
        curves[(int(r["v"]), int(r["m"]), int(r["s"]), int(r["L"]))][int(r["P"])].append(
            float(r["min_accuracy"]))
    fig = Figure(figsize=(6.0, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    if not curves:
        ax.text(0.5, 0.5, "no rows", ha="center", va="center", transform=ax.transAxes)
        return fig
    Ls = sorted({k[3] for k in curves})
    vms = sorted({(k[0], k[1]) for k in curves})
    styles = ["-", "--", ":", "-."]
    cmap = __import__("matplotlib").colormaps["viridis"]
    for (v, m, s, L), by_P in sorted(curves.items()):
        Ps = np.array(sorted(by_P), dtype=np.float64)
        acc = np.array([np.mean(by_P[int(P)]) for P in Ps])
        color = cmap(0.0 if len(Ls) == 1 else Ls.index(L) / (len(Ls) - 1))
        ax.plot(Ps / lw(v, m, L, 0, s), acc, styles[vms.index((v, m)) % len(styles)],
                color=color, lw=1.2, marker=".", ms=3, label=f"v={v} m={m} L={L}")
    ax.axhline(target, color="0.6", lw=0.7, ls=":")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(f"P / ({lw.label})")
    ax.set_ylabel("accuracy (worst non-root level)")
    ax.set_ylim(-0.02, 1.02)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=5.5, ncol=2, loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
