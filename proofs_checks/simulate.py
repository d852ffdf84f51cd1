"""What a check would say if the truth were a given law: its unchanged rule on simulated rows.

``rhm-theory verify --only CHECK --simulate LAW --n-sim 200 --json`` calls
:func:`simulate_check`: it loads (or runs, once, resumably) the check's own sweep rows in
``out_dir/sweep``, fits the check's noise model to them
(:func:`rhm_theory.scaling.fit_noise_model`), draws ``N`` grids whose thresholds
follow ``LAW`` (parsed by :func:`rhm_theory.scaling.parse_law`, never ``eval``)
on the same configurations, seeds and ``P`` grids, and counts the verdicts of the check's
rule on them. Checks that support it have a method ``simulation(rows, grid)`` returning
``(points, rule)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proofs_checks._framework import ClaimCheck, GridName
from rhm_theory.scaling import decision_counts, fit_noise_model, parse_law
from rhm_theory.sweeps.runner import run_sweep
from rhm_theory.validation import check_int, check_seed

__all__ = ["simulatable", "simulate_check"]


def simulatable(check: ClaimCheck) -> bool:
    """Whether ``check`` exposes ``simulation(rows, grid) -> (points, rule)``."""
    return callable(getattr(check, "simulation", None))


def simulate_check(
    name: str,
    law: str,
    *,
    n_sim: int = 200,
    grid: GridName = "quick",
    out_dir: str | Path | None = "rhm-report",
    seed: int = 0,
    checks: Sequence[ClaimCheck] | None = None,
    max_workers: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Verdict counts of check ``name`` on ``n_sim`` grids simulated under ``law``.

    Parameters
    ----------
    name : str
        A check's name (``rhm-theory verify --list``).
    law : str
        Arithmetic expression in ``v, m, s, L, l, f`` and ``log`` (e.g. ``"v*m**3/(1-f)*1.5**L"``).
    n_sim : int
        Simulated grids.
    grid : {"quick", "full"}
        Whose rows the noise model is fitted to.
    out_dir : path, optional
        Report folder whose ``sweep`` holds (or will hold) the rows; ``None``: run in memory.
    seed : int
        Seed of the simulation.

    Returns
    -------
    dict
        ``{"check", "law", "n_sim", "verdicts": {verdict: count}, "grid", "noise"}``.
    """
    n_sim = check_int("n_sim", n_sim, minimum=1)
    seed = check_seed("seed", seed)
    parsed = parse_law(law)  # bad laws fail before any sweep runs
    if checks is None:
        from proofs_checks import all_checks

        checks = all_checks("cpu")
    by_name = {c.name: c for c in checks}
    if name not in by_name:
        raise ValueError(f"check must be one of {sorted(by_name)}, got {name!r}")
    check = by_name[name]
    if not simulatable(check):
        supported = sorted(c.name for c in checks if simulatable(c))
        raise ValueError(f"check {name!r} has no simulation (its verdict is not read off "
                         f"threshold rows); simulatable checks: {supported}")
    out = None if out_dir is None else Path(out_dir) / "sweep"
    rows = run_sweep(list(check.cells(grid)), out_dir=out, max_workers=max_workers,
                     progress=progress)
    points, rule = check.simulation(rows, grid)  # type: ignore[attr-defined]
    noise = fit_noise_model(points)
    counts = decision_counts(rule, points, parsed.log_scale, noise=noise, n_sim=n_sim,
                            seed=seed)
    return {"check": name, "law": parsed.expr, "n_sim": n_sim, "verdicts": counts,
            "grid": grid, "noise": noise.to_dict()}
