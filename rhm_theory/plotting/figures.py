"""The documentation figures: ILC accuracy (raw and collapsed), thresholds, margins, errors."""

# matplotlib is imported inside the functions (object-oriented API, no pyplot, no global
# backend change), so importing this module never imports matplotlib.

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rhm_theory.constants import DEFAULT_MERGE_FACTOR, DEFAULT_TARGET
from rhm_theory.io import atomic_path, write_text
from rhm_theory.plotting.data import (
    CONTEXT_LAWS,
    AccuracyCurve,
    ErrorCurve,
    MarginRecord,
    accuracy_curves,
    context_vector_error_curves,
    exact_margin_records,
    margin_configs,
    threshold_series,
)
from rhm_theory.sweeps.runner import row_context
from rhm_theory.validation import CONTEXT_KINDS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "FIGURES",
    "GRID_SETTINGS",
    "FigureRecord",
    "FigureSpec",
    "make_figures",
    "plot_accuracy_collapsed",
    "plot_accuracy_raw",
    "plot_collapse_spread",
    "plot_context_vector_error",
    "plot_exact_margins",
    "plot_thresholds_vs_depth",
    "write_manifest",
]

#: Settings of the computations that do not come from the sweep rows, per grid.
GRID_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"error_params": (16, 4, 2, 4), "error_grammar_seed": 0,
              "error_Ps": [2000, 8000, 32000, 128000], "error_data_seeds": [1, 2, 3]},
    "full": {"error_params": (16, 4, 2, 4), "error_grammar_seed": 0,
             "error_Ps": [2000, 8000, 32000, 128000, 512000],
             "error_data_seeds": [1, 2, 3, 4, 5, 6]},
}

_LINESTYLES = ("-", "--", ":", "-.")
_METHOD_LABEL = {"latent": "own latents (ILC)", "token": "token-level SSL",
                 "label": "supervised (root label)"}
_METHOD_COLOR = {"latent": "tab:blue", "token": "tab:orange", "label": "tab:green"}
_KIND_COLOR = {"latent": "tab:blue", "token": "tab:orange", "label": "tab:green"}


def _figure(n_panels: int, ncols: int, panel: tuple[float, float] = (3.2, 2.6)
            ) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure with ``n_panels`` axes on a grid of ``ncols`` columns."""
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n_panels))
    nrows = max(1, math.ceil(n_panels / ncols))
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _vm_styles(curves: Iterable[AccuracyCurve]) -> dict[tuple[int, int], str]:
    vms = sorted({(c.v, c.m) for c in curves})
    return {vm: _LINESTYLES[i % len(_LINESTYLES)] for i, vm in enumerate(vms)}


def _depth_color(L: int, Ls: Sequence[int]) -> Any:
    from matplotlib import colormaps

    lo, hi = min(Ls), max(Ls)
    return colormaps["viridis"](0.0 if hi == lo else 0.9 * (L - lo) / (hi - lo))


def _no_data(fig: Figure, what: str) -> Figure:
    fig.text(0.5, 0.5, f"no {what} in the rows", ha="center", va="center")
    return fig


def _accuracy_axis(ax: Axes, title: str, xlabel: str, *, legend: bool) -> None:
    # The common frame of the accuracy panels: log P axis, accuracy in [0, 1].
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=6, loc="lower right")


# -- 1. accuracy against P, per depth (raw) ----------------------------------------------------
def plot_accuracy_raw(rows: Iterable[Mapping[str, Any]], method: str = "latent") -> Figure:
    """Accuracy of every non-root level against ``P``: one panel per depth, one curve per level.

    Parameters
    ----------
    rows : iterable of mapping
        Sweep rows.
    method : str
        ILC context kind to plot (default: own latents).

    Returns
    -------
    matplotlib.figure.Figure
        Mean over seeds (line) and min-max over seeds (band); ``(v, m)`` pairs by line style.
    """
    from matplotlib import colormaps

    curves = accuracy_curves(rows, method)
    Ls = sorted({c.L for c in curves})
    fig, axes = _figure(max(1, len(Ls)), 3)
    if not curves:
        return _no_data(fig, f"{method} sweep")
    styles = _vm_styles(curves)
    max_level = max(c.level for c in curves)
    cmap = colormaps["plasma"]
    for ax, L in zip(axes, Ls, strict=True):
        for c in (c for c in curves if c.L == L):
            color = cmap(0.85 * (c.level - 1) / max(1, max_level - 1))
            label = f"level {c.level}" if len(styles) == 1 else f"l={c.level}, v={c.v}, m={c.m}"
            ax.plot(c.P, c.mean, styles[(c.v, c.m)], color=color, lw=1.4, label=label)
            ax.fill_between(c.P, c.low, c.high, color=color, alpha=0.12, lw=0)
        _accuracy_axis(ax, f"L = {L}", "P (training strings)", legend=True)
    fig.suptitle(f"{_METHOD_LABEL.get(method, method)}: accuracy of each level against P "
                 f"(mean and min-max over {max(c.n_seeds for c in curves)} seeds)")
    return fig


# -- 2. accuracy against P / (v m^3), per level (collapsed) -----------------------------------
def plot_accuracy_collapsed(rows: Iterable[Mapping[str, Any]], method: str = "latent") -> Figure:
    """Accuracy against ``P`` divided by the method's scale: one panel per level, curves per depth.

    For ILC the scale is ``v m^3``: the reported collapse means the curves of every depth
    (and every ``(v, m)``) fall on top of each other in each panel. The last panel shows the
    worst level (``min_accuracy``), the quantity whose 0.95-crossing defines ``P*``.

    Parameters
    ----------
    rows : iterable of mapping
        Sweep rows.
    method : str
        ILC context kind to plot (default: own latents).

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = list(rows)
    curves = accuracy_curves(rows, method)
    worst = accuracy_curves(rows, method, metric="min_accuracy")
    levels = sorted({c.level for c in curves})
    fig, axes = _figure(max(1, len(levels) + 1), 4)
    if not curves:
        return _no_data(fig, f"{method} sweep")
    scale_name = CONTEXT_LAWS[method]
    styles = _vm_styles(curves)
    Ls = sorted({c.L for c in curves})
    panels: list[tuple[str, list[AccuracyCurve]]] = [
        (f"level {lv}", [c for c in curves if c.level == lv]) for lv in levels]
    panels.append(("worst level (min over levels)", worst))
    for ax, (title, group) in zip(axes, panels, strict=True):
        for c in group:
            label = f"L={c.L}" if len(styles) == 1 else f"L={c.L}, v={c.v}, m={c.m}"
            ax.plot(c.P / c.scale, c.mean, styles[(c.v, c.m)], color=_depth_color(c.L, Ls),
                    lw=1.3, label=label)
        ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
        ax.axhline(DEFAULT_TARGET, color="0.7", lw=0.6, ls=":")
        _accuracy_axis(ax, title, f"P / ({scale_name})", legend=len(group) <= 8)
    if any(len(g) > 8 for _, g in panels):
        # Many (v, m, L): one legend for the figure (the worst-level panel has every curve).
        handles, labels = axes[len(panels) - 1].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=5, loc="outside right upper", ncols=2)
    fig.suptitle(f"{_METHOD_LABEL.get(method, method)}: accuracy against P / ({scale_name}) "
                 "(mean over seeds), every (v, m, L)")
    return fig


# -- 3. P* against L, three methods ------------------------------------------------------------
def plot_thresholds_vs_depth(
    rows: Iterable[Mapping[str, Any]], *, event: str = "tuple_error"
) -> Figure:
    """``P*`` against depth for the three methods, log scale, with the predicted slopes.

    Markers: geometric mean of ``P*`` over seeds (the success ``event``, a key of
    :data:`rhm_theory.sweeps.thresholds.SUCCESS_EVENTS`); dots: single seeds; dashed
    lines: the prediction ``c * scale(L)``
    (``v m^3``, ``v m^(L+1)``, ``v m^L``) with ``c`` fitted as the geometric mean of
    ``P* / scale``, i.e. slope 0, ``log m`` and ``log m`` per level on the log axis.

    Parameters
    ----------
    rows : iterable of mapping
        Sweep rows of any methods.
    event : str
        The success event of ``P*``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rhm_theory.sweeps.thresholds import SUCCESS_EVENTS

    series = threshold_series(rows, event=event)
    order = {"latent": 0, "token": 1, "label": 2}
    series = sorted(series, key=lambda s: (order.get(s.method, 3), s.v, s.m))
    fig, axes = _figure(1, 1, panel=(9.0, 4.4))
    ax = axes[0]
    if not series:
        return _no_data(fig, "thresholds")
    vms = sorted({(s.v, s.m) for s in series})
    markers = ("o", "s", "^", "D")
    for s in series:
        marker = markers[vms.index((s.v, s.m)) % len(markers)]
        color = _METHOD_COLOR.get(s.method, "black")
        ok = np.isfinite(s.P_star)
        pred_name = CONTEXT_LAWS[s.method]
        slope = "flat" if s.method == "latent" else f"x{s.m:g}/level"
        measured = (f"x{s.growth_per_level:.2f}/level" if math.isfinite(s.growth_per_level)
                    else "n/a")
        ax.plot(s.L[ok], s.P_star[ok], marker=marker, color=color, ls="none", ms=7,
                label=f"{_METHOD_LABEL[s.method]}, v={s.v}, m={s.m}: measured {measured}")
        if s.per_seed:
            x, y = zip(*s.per_seed, strict=True)
            ax.plot(x, y, ".", color=color, alpha=0.35, ms=4)
        if math.isfinite(s.prefactor):
            Lgrid = np.arange(int(s.L.min()), int(s.L.max()) + 1)
            ax.plot(Lgrid, s.predicted(Lgrid), "--", color=color, lw=1.1,
                    label=f"  predicted {s.prefactor:.2g} {pred_name} ({slope})")
        for L, n in zip(s.L, s.n_missing, strict=True):
            if n:
                ax.annotate(f"{n} seed(s) not reached", (float(L), ax.get_ylim()[1]),
                            fontsize=6, color=color)
    ax.set_yscale("log")
    ax.set_xlabel("depth L")
    ax.set_ylabel(f"P* ({event}: criterion {SUCCESS_EVENTS[event].criterion:g})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Sample complexity against depth: own latents flat, baselines x m per level",
                 fontsize=9)
    return fig


# -- 4. exact margins against level and context kind ------------------------------------------
def plot_exact_margins(records: Sequence[MarginRecord]) -> Figure:
    """Exact separation margins ``Delta_l`` against level, per context kind.

    One panel per ``(v, m, s, L)``. Solid: ``min_{a != a'} ||psi_a - psi_a'||`` (mean over
    grammar seeds, band min-max); dotted: the mean pairwise distance; grey dashed: the
    reported latent scaling ``sqrt(1 - f) / m``.

    Parameters
    ----------
    records : sequence of MarginRecord
        From :func:`rhm_theory.plotting.data.exact_margin_records`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    configs = sorted({(r.v, r.m, r.s, r.L) for r in records})
    fig, axes = _figure(max(1, len(configs)), 2, panel=(5.6, 3.8))
    if not records:
        return _no_data(fig, "margins")
    for ax, (v, m, s, L) in zip(axes, configs, strict=True):
        sel = [r for r in records if (r.v, r.m, r.s, r.L) == (v, m, s, L)]
        kinds = list(dict.fromkeys(r.context for r in sel))
        for kind in kinds:
            levels = sorted({r.level for r in sel if r.context == kind})
            mins = [np.array([r.margin_min for r in sel if r.context == kind and r.level == lv])
                    for lv in levels]
            means = [np.mean([r.margin_mean for r in sel if r.context == kind and r.level == lv])
                     for lv in levels]
            color = _KIND_COLOR.get(kind, "black")
            ax.plot(levels, [x.mean() for x in mins], "o-", color=color, label=f"{kind}: min")
            ax.fill_between(levels, [x.min() for x in mins], [x.max() for x in mins],
                            color=color, alpha=0.15, lw=0)
            ax.plot(levels, means, ":", color=color, lw=1.0, label=f"{kind}: mean")
        ax.axhline(sel[0].reference, color="0.4", ls="--", lw=0.9, label="sqrt(1-f)/m")
        ax.set_yscale("log")
        ax.set_xlabel("level l")
        ax.set_ylabel("||psi_a - psi_a'||")
        n_seeds = len({r.grammar_seed for r in sel})
        ax.set_title(f"v={v}, m={m}, s={s}, L={L} ({n_seeds} random grammars)", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Exact separation margins of the context vectors, by level and context kind",
                 fontsize=10)
    return fig


# -- 5. empirical against exact context-vector error ------------------------------------------
def plot_context_vector_error(curves: Sequence[ErrorCurve]) -> Figure:
    """Squared error of empirical context vectors against ``P``: measured points, exact lines.

    One panel per context kind, one colour per level; the thin grey line is the scaling
    ``v m / P`` of docs/theory.md section 4.

    Parameters
    ----------
    curves : sequence of ErrorCurve
        From :func:`rhm_theory.plotting.data.context_vector_error_curves`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib import colormaps

    kinds = list(dict.fromkeys(c.context for c in curves))
    fig, axes = _figure(max(1, len(kinds)), 3, panel=(3.6, 3.0))
    if not curves:
        return _no_data(fig, "error curves")
    cmap = colormaps["plasma"]
    max_level = max(c.level for c in curves)
    for ax, kind in zip(axes, kinds, strict=True):
        group = [c for c in curves if c.context == kind]
        for c in group:
            color = cmap(0.85 * (c.level - 1) / max(1, max_level - 1))
            ax.plot(c.P, c.measured, "o", color=color, ms=5, label=f"level {c.level}: measured")
            ax.plot(c.P, c.predicted, "-", color=color, lw=1.1, label=f"level {c.level}: exact")
        c0 = group[0]
        ax.plot(c0.P, c0.v * c0.m / c0.P, color="0.6", lw=0.8, ls="--", label="v m / P")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("P (strings)")
        ax.set_ylabel("mean ||phi_hat_t - phi_t||^2")
        ax.set_title(f"{kind} context", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6, loc="lower left")
    c0 = curves[0]
    fig.suptitle(f"Context-vector error, empirical vs exact: v={c0.v}, m={c0.m}, s={c0.s}, "
                 f"L={c0.L}, grammar seed {c0.grammar_seed}, mean over {c0.n_data_seeds} "
                 "data seeds")
    return fig


# -- collapse spread against the exponent k -----------------------------------------------------
def _is_default(row: Mapping[str, Any]) -> bool:
    return (bool(row.get("pool_positions", True))
            and row.get("merge_factor", DEFAULT_MERGE_FACTOR) == DEFAULT_MERGE_FACTOR)


def _spread_by_k(points: Sequence[Any]) -> tuple[dict[int, float], int]:
    """Per ``k`` in 1..6, the standard deviation over configurations of the seed-mean
    ``log(P* / (v m^k))`` (configurations with a censored seed left out), and the number
    of configurations."""
    by: dict[tuple[int, ...], list[float]] = {}
    bad: set[tuple[int, ...]] = set()
    for p in points:
        if p.censored:
            bad.add(p.config)
        else:
            by.setdefault(p.config, []).append(math.log(p.P_star))
    keys = [k for k in by if k not in bad]
    if len(keys) < 2:
        return {}, len(keys)
    means = np.array([np.mean(by[k]) for k in keys])
    log_v = np.log([k[0] for k in keys])
    log_m = np.log([k[1] for k in keys])
    return ({k: float(np.std(means - log_v - k * log_m)) for k in range(1, 7)}, len(keys))


def plot_collapse_spread(rows: Iterable[Mapping[str, Any]]) -> Figure:
    """Spread of ``log P*`` under the rescaling ``v m^k`` against ``k``, per method.

    The spread is the standard deviation over configurations ``(v, m, L)`` (and level, for
    per-level thresholds) of the seed-mean ``log(P* / (v m^k))``
    (configurations with every seed inside the grid); the reported
    exponents are 3 for ILC at every level, and none of these ``k`` for the baselines (their
    scales grow with depth). Lines: whole-tree thresholds; dashed: per level.

    Parameters
    ----------
    rows : iterable of mapping
        Sweep rows (variant rows with ``pool_positions=False`` drawn as their own series).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rhm_theory.sweeps.thresholds import threshold_points

    rows = list(rows)
    fig, axes = _figure(1, 1, panel=(5.0, 3.4))
    ax = axes[0]
    series: list[tuple[str, str, bool, Callable[[Mapping[str, Any]], bool], str]] = []
    for context in CONTEXT_KINDS:
        series.append((context, _METHOD_LABEL[context], False, _is_default, "-"))
        series.append((context, f"{_METHOD_LABEL[context]}, per level", True, _is_default,
                       "--"))
    series.append(("latent", "ILC, positions separate, per level", True,
                   lambda r: r.get("pool_positions", True) is False, ":"))
    drawn = 0
    for method, label, per_level, where, ls in series:
        pts = threshold_points(rows, method, per_level=per_level, where=where)
        if len({p.config for p in pts}) < 2:
            continue
        spread, n_configs = _spread_by_k(pts)
        if not spread:
            continue
        ks = sorted(spread)
        color = _METHOD_COLOR[method] if ls != ":" else "tab:purple"
        ax.plot(ks, [spread[k] for k in ks], ls, marker="o", color=color,
                label=f"{label} ({n_configs} configs)")
        drawn += 1
    if not drawn:
        return _no_data(fig, "thresholds")
    ax.axvline(3, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("k in the rescaling P / (v m^k)")
    ax.set_ylabel("std over configs of log(P* / (v m^k))")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.suptitle("Collapse spread against the exponent k (0 = perfect collapse)")
    return fig


# -- the set of documentation figures ----------------------------------------------------------
@dataclass(frozen=True)
class FigureSpec:
    """One documentation figure: its file name, caption and how to build it from rows.

    Attributes
    ----------
    name : str
        Identifier (``rhm-theory figures --only NAME``).
    filename : str
        PNG file name inside the output folder.
    caption : str
        One-paragraph caption, written into the manifest and the PNG metadata.
    build : callable
        ``build(rows, grid) -> Figure``.
    """

    name: str
    filename: str
    caption: str
    build: Callable[[Sequence[Mapping[str, Any]], str], Figure]


@dataclass(frozen=True)
class FigureRecord:
    """A written figure: where it went, how long it took, and what it was made from.

    Attributes
    ----------
    name : str
        The figure's :attr:`FigureSpec.name`.
    path : Path
        The PNG written.
    caption : str
        Its caption.
    seconds : float
        Time to compute and draw it.
    command : str
        The command line that made it (empty when called from Python).
    source : str
        Where the rows came from.
    extra : mapping
        Anything else worth recording.
    """

    name: str
    path: Path
    caption: str
    seconds: float
    command: str
    source: str
    extra: Mapping[str, Any] = field(default_factory=dict)


def _defaults(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows of the default ILC only (variants have their own figures)."""
    return [r for r in rows if _is_default(r)]


def _margins_figure(rows: Sequence[Mapping[str, Any]], grid: str) -> Figure:
    latent = [r for r in _defaults(rows) if row_context(r) == "latent"] or list(rows)
    records = []
    for v, m, s, L in margin_configs(latent):
        seeds = sorted({int(r["grammar_seed"]) for r in latent
                        if (r["v"], r["m"], r["s"]) == (v, m, s)})
        records.extend(exact_margin_records([(v, m, s, L)], seeds))
    return plot_exact_margins(records)


def _error_figure(rows: Sequence[Mapping[str, Any]], grid: str) -> Figure:
    cfg = GRID_SETTINGS[grid]
    curves = context_vector_error_curves(cfg["error_params"], cfg["error_grammar_seed"],
                                         cfg["error_Ps"], cfg["error_data_seeds"])
    return plot_context_vector_error(curves)


#: Every documentation figure, in the order ``rhm-theory figures`` writes them.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("ilc_accuracy_raw", "ilc_accuracy_raw.png",
               "ILC (own-latent context) accuracy of every non-root level against P, one "
               "panel per depth L, one curve per level (mean over seeds, band: min-max).",
               lambda rows, grid: plot_accuracy_raw(_defaults(rows), "latent")),
    FigureSpec("ilc_accuracy_collapsed", "ilc_accuracy_collapsed.png",
               "The same curves against P / (v m^3), one panel per level, one curve per "
               "(v, m, L): the reported collapse across all (v, m, L) (last panel: the worst "
               "level, which defines P*).",
               lambda rows, grid: plot_accuracy_collapsed(_defaults(rows), "latent")),
    FigureSpec("ilc_unpooled_accuracy_collapsed", "ilc_unpooled_accuracy_collapsed.png",
               "ILC with positions kept separate (pool_positions=False): accuracy against "
               "P / (v m^3) per level, one curve per (v, m, L); predicted to collapse at "
               "every level.",
               lambda rows, grid: plot_accuracy_collapsed(
                   [r for r in rows if r.get("pool_positions", True) is False], "latent")),
    FigureSpec("collapse_spread_vs_k", "collapse_spread_vs_k.png",
               "Spread over configurations of log(P* / (v m^k)) against k, for the three "
               "methods, whole tree and per level, and ILC with positions kept separate.",
               lambda rows, grid: plot_collapse_spread(rows)),
    FigureSpec("thresholds_vs_depth", "thresholds_vs_depth.png",
               f"P* (every non-root level at accuracy >= {DEFAULT_TARGET}) against depth L for "
               "the three methods on a log scale, with the predicted slopes (v m^3 flat; "
               "v m^(L+1) and v m^L: a factor m per level), prefactors fitted.",
               lambda rows, grid: plot_thresholds_vs_depth(_defaults(rows))),
    FigureSpec("exact_margins", "exact_margins.png",
               "Exact separation margins of the cousin-context vectors against level, for the "
               "latent, token and label contexts (the sweep's deepest grammar per (v, m), "
               "its grammar seeds).", _margins_figure),
    FigureSpec("context_vector_error", "context_vector_error.png",
               "Squared error of empirical context vectors against P (points) and the exact "
               "prediction from the rule tables (lines), per context kind and level.",
               _error_figure),
)


def make_figures(
    rows: Sequence[Mapping[str, Any]],
    out_dir: str | Path,
    *,
    grid: str = "quick",
    command: str = "",
    source: str = "",
    only: Sequence[str] | None = None,
    dpi: int = 110,
    log: Callable[[str], None] | None = None,
) -> list[FigureRecord]:
    """Write every documentation figure as PNG into ``out_dir``, plus its ``README.md``.

    Parameters
    ----------
    rows : sequence of mapping
        Sweep rows (for the accuracy, threshold and margin figures).
    out_dir : str or Path
        Output folder (created).
    grid : {"quick", "full"}
        Settings of the computations not taken from the rows (:data:`GRID_SETTINGS`).
    command : str
        The command line that made the figures (written into the manifest and the PNGs).
    source : str
        Where the rows came from (a file, or "fresh sweep ...").
    only : sequence of str, optional
        Names of the figures to make (default: all of :data:`FIGURES`).
    dpi : int
        Resolution of the PNGs.
    log : callable, optional
        Called with one line per written figure.

    Returns
    -------
    list of FigureRecord
    """
    if grid not in GRID_SETTINGS:
        raise ValueError(f"grid must be one of {sorted(GRID_SETTINGS)}, got {grid!r}")
    import matplotlib

    names = [f.name for f in FIGURES]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; known: {names}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    records = []
    from rhm_theory import __version__

    for spec in FIGURES:
        if only and spec.name not in only:
            continue
        t0 = time.perf_counter()
        fig = spec.build(rows, grid)
        path = out / spec.filename
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, metadata={
                "Title": spec.name, "Description": spec.caption, "Source": command or source,
                "Software": f"rhm_theory {__version__}, matplotlib {matplotlib.__version__}"})
        rec = FigureRecord(spec.name, path, spec.caption, time.perf_counter() - t0, command,
                           source)
        records.append(rec)
        if log is not None:
            log(f"wrote {path} ({rec.seconds:.1f} s)")
    write_manifest(records, out / "README.md", grid=grid, n_rows=len(rows))
    return records


def write_manifest(records: Sequence[FigureRecord], path: str | Path, *, grid: str,
                   n_rows: int) -> None:
    """Write the figures' ``README.md``: every figure with its caption and command.

    Parameters
    ----------
    records : sequence of FigureRecord
        The written figures.
    path : str or Path
        The manifest file.
    grid : str
        Grid of the settings used.
    n_rows : int
        Number of sweep rows the figures were made from.
    """
    p = Path(path)
    lines = ["# Figures", "",
             "Made by `rhm-theory figures` (module `rhm_theory.plotting`); this file is "
             "written by the same command, which regenerates every figure below.", ""]
    commands = sorted({r.command for r in records if r.command})
    sources = sorted({r.source for r in records if r.source})
    if commands:
        lines += ["Command:", "", "```bash", *commands, "```", ""]
    lines += [f"Rows ({n_rows}): {', '.join(sources) or 'given in Python'}. Settings of the "
              f"computations not taken from the rows: the `{grid}` grid.", "",
              "Without `--rows`, `rhm-theory figures --quick` (or `--full`) first reruns the "
              "sweep: its cells are those of `rhm-theory verify` and a row depends only on its "
              "cell's seeds, so it redraws the same figures.", ""]
    for r in records:
        lines += [f"## {r.name}", "", f"![{r.name}]({r.path.name})", "", r.caption, ""]
    write_text(p, "\n".join(lines))
