"""Map of the theory's limits: ILC and token-context thresholds on weighted, ambiguous grammars.

docs/theory.md section 9. Each *curve* is one grammar family point (an axis and its value: Zipf
rule exponent, log-normal rule weights, ambiguity, ``f`` toward 1, ``s = 3``), one context
(ILC with its own latents, or the token-context baseline) and one depth ``L``. A curve fits
ILC on ``P = 32, 64, 128, ...`` strings and scores every non-root level on fresh strings.
Two thresholds are measured (last crossings, :func:`rhm_theory.algorithms.crossing.crossing_point`):

- ``P_star``: the minimum accuracy over levels reaches :data:`TARGET` (weighted by how often
  each node value occurs, so rare tuples barely count; defined for ambiguous grammars too);
- ``P_star_exact``: every level's tuples are partitioned exactly by parent
  (``LevelScore.exact_partition``), rare tuples included: the event the exact finite-size
  prediction (:func:`rhm_theory.bounds.predicted_tree_threshold`, carried by every row) is
  about. Undefined (never reached) for ambiguous grammars, whose shared tuples have no
  single parent.

A curve stops once :data:`STOP_AFTER` consecutive points are exact (ambiguous grammars: reach
:data:`TARGET`).

Everything here is a measurement (numbers; the separation map's decisions are EXPLORATORY). One
claim the theory makes is measured by :func:`zipf_tracking_drifts` and decided in
:mod:`proofs_checks.zipf_tracking`: under Zipf rule weights the exact prediction, whose noise
term uses the rarest emitted tuple's probability, tracks the measured threshold as well as it
does for the uniform grammar. Figures: :func:`rhm_theory.plotting.explore.plot_explore`.

Curves run through :func:`rhm_theory.sweeps.run_sweep` (resumable rows on disk, progress,
process pool): an :class:`ExploreCell` is passed as the cell and :func:`run_explore_cell` as
the cell runner.

The map is split by concern, every name re-exported here:
:mod:`~rhm_theory.sweeps.explore_cells` (curves, axes, named grids),
:mod:`~rhm_theory.sweeps.explore_run` (measuring a curve, running the map),
:mod:`~rhm_theory.sweeps.explore_summary` (per-point thresholds, separation decisions) and
:mod:`~rhm_theory.sweeps.explore_zipf` (the Zipf tracking drifts).
"""

from __future__ import annotations

from rhm_theory.sweeps.explore_cells import (
    AXES,
    CONTEXTS,
    P_GRID,
    STOP_AFTER,
    TARGET,
    ExploreCell,
    explore_grid,
)
from rhm_theory.sweeps.explore_run import run_explore, run_explore_cell
from rhm_theory.sweeps.explore_summary import separation_decisions, summarize_explore
from rhm_theory.sweeps.explore_zipf import TrackingDrifts, zipf_tracking_drifts

__all__ = [
    "AXES",
    "CONTEXTS",
    "P_GRID",
    "STOP_AFTER",
    "TARGET",
    "ExploreCell",
    "TrackingDrifts",
    "explore_grid",
    "run_explore",
    "run_explore_cell",
    "separation_decisions",
    "summarize_explore",
    "zipf_tracking_drifts",
]
