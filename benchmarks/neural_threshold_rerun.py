"""The CPU grids' comparison with the last-crossing thresholds and with the library's one
threshold definition, under the same decision engine (issue 28's rerun).

    PYTHONPATH=. python benchmarks/neural_threshold_rerun.py OUT.json

For each committed grid (``benchmarks/neural_cpu_grid``, ``benchmarks/neural_cpu_grid_seeds23``)
and each threshold definition: every arm's ``P*`` per cell and the library's rule on the
depth axis for the claim ``v m^3`` and the competitor ``v m^(L+1)`` (each decision on its
own, so one that fails does not hide the others; the masked-LM control's too), then the
full check result
(``cpu_grid_result``: calibration, step doubling) when it can be computed; an error there is
recorded, not hidden. The last-crossing definition is the one committed before this change
(``git show 3efce3c:rhm_theory/neural/thresholds.py``, or ``--old``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import tempfile
import traceback
from pathlib import Path
from typing import Any

import rhm_theory.neural.thresholds as thresholds
from proofs_checks._framework import decision_verdict
from proofs_checks.neural_compare import AXES, CLAIM, COMPETITOR
from proofs_checks.neural_scaling import _by_cell, _points, cpu_grid_result
from rhm_theory.io import write_json
from rhm_theory.neural.cpu_grid import load_cpu_grid_rows, read_cpu_grid
from rhm_theory.scaling import decide, law

OLD_COMMIT = "3efce3c"
FOLDERS = ("benchmarks/neural_cpu_grid", "benchmarks/neural_cpu_grid_seeds23")


def _decision(points: Any, name: str) -> dict[str, Any]:
    """The library's rule for law ``name`` on the depth axis; an error is recorded."""
    try:
        d = decide(points, law(name), axes=AXES)
    except Exception as exc:  # recorded: the engine's error is a result here
        return {"error": "".join(traceback.format_exception_only(exc)).strip()}
    return {"decision": d.decision, "verdict": decision_verdict(d.decision).value,
            "sentence": d.sentence()}


def _arms(rows: list[dict[str, Any]]) -> dict[str, Any]:
    all_rows = [dict(r) for r in rows]
    thresholds.add_thresholds(all_rows, (0.5,))
    top = lambda L: L - 1  # noqa: E731
    ctrl, _ = _points(all_rows, "mlm", "latent_probe", top)
    out: dict[str, Any] = {"mlm": {"P_star_by_cell": _by_cell(ctrl)}}
    for arm in ("slc", "slc-sg", "slc-x2", "slc-sg-x2"):
        pts, _ = _points(all_rows, arm, "recovery", top)
        entry: dict[str, Any] = {"P_star_by_cell": _by_cell(pts)}
        if arm in ("slc", "slc-sg"):
            for name in (CLAIM, COMPETITOR):
                entry[f"decision[{name}]"] = _decision(pts, name)
        out[arm] = entry
    out["mlm"][f"decision[{CLAIM}]"] = _decision(ctrl, CLAIM)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--old", default=None,
                    help="the last-crossing thresholds module (default: from git, 3efce3c)")
    args = ap.parse_args()
    old_path = args.old
    if old_path is None:
        src = subprocess.run(["git", "show", f"{OLD_COMMIT}:rhm_theory/neural/thresholds.py"],
                             capture_output=True, text=True, check=True).stdout
        old_path = str(Path(tempfile.mkdtemp()) / "old_thresholds.py")
        Path(old_path).write_text(src)
    spec = importlib.util.spec_from_file_location("_old_thresholds", old_path)
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    new_fn = thresholds.probe_thresholds
    doc: dict[str, Any] = {}
    for folder in FOLDERS:
        grid = read_cpu_grid(folder)
        rows, progress = load_cpu_grid_rows(folder, grid)
        for name, fn in (("last_crossing", old.probe_thresholds), ("monotone_fit", new_fn)):
            thresholds.probe_thresholds = fn  # add_thresholds reads it from its module
            entry: dict[str, Any] = {"arms": _arms(rows)}
            try:
                res = cpu_grid_result(rows, progress, grid)
                entry["verdict"] = res.verdict.value
                entry["reasons"] = res.measured.get("inconclusive_reasons")
            except Exception as exc:  # recorded: the engine's error is a result here
                entry["verdict"] = None
                entry["error"] = "".join(traceback.format_exception_only(exc)).strip()
            doc.setdefault(folder, {})[name] = entry
            print(folder, name, json.dumps(entry, default=str)[:3000], flush=True)
    thresholds.probe_thresholds = new_fn
    write_json(args.out, doc)


if __name__ == "__main__":
    main()
