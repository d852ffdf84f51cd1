"""Neural runs as tidy result rows: sweep ``P`` for the scaling claim.

:func:`scaling_experiment` runs a grid of neural runs and adds their thresholds. The parts it
is built from live in their own modules (:mod:`rhm_theory.neural.runs`: one run;
:mod:`~rhm_theory.neural.evaluation`: probing; :mod:`~rhm_theory.neural.grids`: the grids;
:mod:`~rhm_theory.neural.thresholds`: crossings) and are re-exported here, where earlier code
imported them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from rhm_theory.model.spec import GrammarFamily
from rhm_theory.neural.evaluation import (
    EvalConfig,
    bayes_references,
    density_evolution_mask_threshold,
    evaluate,
    mask_blocks,
    probe_split,
)
from rhm_theory.neural.grids import decisive_Ps, scaling_grid
from rhm_theory.neural.runs import (
    METHODS,
    RunResult,
    RunSpec,
    build_model,
    execute_run,
    grid_runs,
    model_config_from_dict,
    run_neural,
)
from rhm_theory.neural.thresholds import add_thresholds, probe_thresholds
from rhm_theory.validation import check_choice

__all__ = [
    "METHODS",
    "EvalConfig",
    "RunResult",
    "RunSpec",
    "add_thresholds",
    "bayes_references",
    "build_model",
    "decisive_Ps",
    "density_evolution_mask_threshold",
    "evaluate",
    "execute_run",
    "grid_runs",
    "mask_blocks",
    "model_config_from_dict",
    "probe_split",
    "probe_thresholds",
    "run_neural",
    "scaling_experiment",
    "scaling_grid",
]


def _progress_line(rows: list[dict[str, Any]], seconds: float) -> str:
    last_step = max(int(r.get("steps", 0)) for r in rows)
    final = [r for r in rows if r.get("steps") == last_step]  # online: the last evaluation
    first = final[0]
    head = (f"{first['method']} v={first['v']} m={first['m']} L={first['L']} "
            f"seed={first['seed']} P={first['P']}:")
    parts = [
        f"{r['metric']}[{r['level']}]={r['value']:.3f}"
        for r in final
        if r["metric"] in ("root_probe", "recovery")
    ]
    return f"{head} {' '.join(parts)} ({seconds:.1f} s)"


def scaling_experiment(
    method: str | Sequence[str] = "both",
    *,
    full: bool | None = None,
    grid_name: str | None = None,
    regime: str = "offline",
    device: str | torch.device = "auto",
    deterministic: bool = False,
    grid: dict[str, Any] | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 0,
    progress: Callable[[str], None] | None = None,
    family: GrammarFamily | None = None,
) -> list[dict[str, Any]]:
    """Sweep over ``P`` for the neural claims: thresholds against ``v m^3`` and ``v m^(L+1)``.

    Offline: for every method, depth ``L``, multiplicity ``m``, seed and training-set size
    ``P`` of the grid (:func:`scaling_grid`, :func:`grid_runs`), trains a model and probes
    it (:func:`execute_run`). Online: one run per (method, ``L``, ``m``, seed) on fresh
    strings, probed after each step count of ``online_evals`` (``P`` = strings seen). Then
    appends the threshold rows of :func:`probe_thresholds` for every accuracy criterion.
    Reported claim: data2vec and SLC thresholds collapse in ``P / (v m^3)``; the MLM
    baseline's in ``P / (v m^(L+1))``.

    Parameters
    ----------
    method : str or sequence of str
        Methods of ``METHODS``; ``"both"`` means data2vec and slc, ``"all"`` all four.
    full : bool or None
        Deprecated (a :class:`DeprecationWarning`): ``True`` / ``False`` mean
        ``grid_name="full"`` / ``"small"``; ``grid_name`` takes precedence.
    grid_name : {"quick", "small", "full"} or None
        A :func:`scaling_grid` name (``"full"``: the GPU-sized grid); ``None``: ``"small"``.
    regime : {"offline", "online"}
    device : str or torch.device
    deterministic : bool
    grid : dict or None
        Overrides of :func:`scaling_grid` entries.
    checkpoint_dir : path or None
        Checkpoints and finished rows per run (see :func:`execute_run`): an interrupted
        sweep resumes where it stopped.
    checkpoint_every : int
        Steps between checkpoints within a run (0: only at its end).
    progress : callable or None
        Receives one line per finished run.
    family : str or None
        Grammar family of every run (overrides the grid's ``"family"``; default random).

    Returns
    -------
    list of dict
        Every run's rows followed by the threshold rows.
    """
    if isinstance(method, str):
        methods: tuple[str, ...] = {"both": ("data2vec", "slc"), "all": METHODS}.get(
            method, (method,))
    else:
        methods = tuple(method)
    for m_ in methods:
        check_choice("method", m_, METHODS)
    check_choice("regime", regime, ("offline", "online"))
    if grid_name is None:
        # The old flag goes through scaling_grid's own deprecation of booleans.
        g = scaling_grid("small" if full is None else full)
    else:
        g = scaling_grid(grid_name)
    g = {**g, **(grid or {})}
    if family is not None:
        g["family"] = family
    rows: list[dict[str, Any]] = []
    for spec in grid_runs(g, methods, regime):
        t0 = time.perf_counter()
        run_rows = execute_run(spec, device=device, checkpoint_dir=checkpoint_dir,
                               checkpoint_every=checkpoint_every, deterministic=deterministic)
        rows.extend(run_rows)
        if progress is not None:
            progress(_progress_line(run_rows, time.perf_counter() - t0))
    add_thresholds(rows, g["accuracy_fractions"])
    return rows
