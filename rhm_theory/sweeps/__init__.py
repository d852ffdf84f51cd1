"""Sample-complexity sweeps: grid runner, threshold estimation and scaling collapse."""

from rhm_theory.sweeps.runner import (
    ROW_FIELDS,
    SweepCell,
    SweepRow,
    SweepTask,
    load_rows,
    make_grid,
    run_cell,
    run_sweep,
)

__all__ = ["ROW_FIELDS", "SweepCell", "SweepRow", "SweepTask", "load_rows", "make_grid", "run_cell",
           "run_sweep"]
