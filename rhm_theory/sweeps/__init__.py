"""Sample-complexity sweeps: grid runner, success events and the thresholds of sweep rows."""

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
