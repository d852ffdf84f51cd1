"""Claim checks: each can fail, and the quick direct checks pass on real computations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proofs_checks import all_checks
from proofs_checks.concentration import ConcentrationCheck
from proofs_checks.depth_scaling import BaselineDepthCheck, IlcDepthCheck
from proofs_checks.margin_scaling import MarginScalingCheck
from proofs_checks.synonym_invariance import SynonymInvarianceCheck
from proofs_checks.verify import run_verification
from rhm_theory.cli import main


def _rows(method: str, thresholds: dict[int, float], m: int = 4) -> list[dict[str, Any]]:
    """Synthetic sweep rows whose min-accuracy steps from 0.1 to 1 at the given P*."""
    rows = []
    for L, P_star in thresholds.items():
        for seed in (0, 1, 2):
            for k in range(-8, 9):
                P = P_star * 2 ** (k / 2)
                acc = 1.0 if P >= P_star else 0.1
                rows.append({"method": method, "v": 16, "m": m, "s": 2, "L": L, "n_c": 16,
                             "grammar_seed": seed, "data_seed": 1000 + seed,
                             "balanced": False, "level": 1, "P": int(P),
                             "min_accuracy": acc, "all_exact": acc == 1.0})
    return rows


def test_ilc_depth_check_passes_flat_and_fails_growing() -> None:
    flat = _rows("latent", {L: 10 * 16 * 64 for L in (3, 4, 5)})
    growing = _rows("latent", {L: 10 * 16 * 64 * 4 ** (L - 3) for L in (3, 4, 5)})
    check = IlcDepthCheck()
    assert check.evaluate(flat, "quick").passed
    result = check.evaluate(growing, "quick")
    assert not result.passed
    assert result.measured["max_over_min"] == pytest.approx(16, rel=0.05)


def test_baseline_check_passes_factor_m_and_fails_flat() -> None:
    check = BaselineDepthCheck("token")
    per_level = _rows("token", {L: 16 * 4 ** (L + 1) for L in (3, 4, 5)})
    flat = _rows("token", {L: 1e5 for L in (3, 4, 5)})
    assert check.evaluate(per_level, "quick").passed
    exponent = check.evaluate(per_level, "quick").measured["exponent_of_m"]
    assert exponent == pytest.approx(1, abs=0.05)
    assert not check.evaluate(flat, "quick").passed
    assert not check.evaluate([], "quick").passed  # no data is never a pass


@pytest.mark.parametrize(
    "check", [SynonymInvarianceCheck(), MarginScalingCheck(), ConcentrationCheck()],
    ids=lambda c: c.name,
)
def test_direct_checks_pass(check: Any) -> None:
    result = check.evaluate([], "quick")
    assert result.passed, result.to_dict()
    assert result.to_dict()["verdict"] == "PASS"


def test_registry_names_are_unique() -> None:
    names = [c.name for c in all_checks()]
    assert len(names) == len(set(names)) >= 8


def test_verify_writes_report_and_exit_status(tmp_path: Path) -> None:
    results = run_verification("quick", out_dir=tmp_path, only=["synonym_invariance"],
                               progress=False)
    assert [r.name for r in results] == ["synonym_invariance"]
    assert (tmp_path / "report.md").read_text().startswith("# rhm-theory verify")
    assert '"verdict": "PASS"' in (tmp_path / "report.json").read_text()
    status = main(["verify", "--only", "margin_scaling", "--out", str(tmp_path / "r2"),
                   "--no-progress"])
    assert status == 0
    with pytest.raises(ValueError, match="unknown check"):
        run_verification("quick", out_dir=None, only=["nope"])
