"""Claim checks: each returns PASS, FAIL and INCONCLUSIVE when it should (synthetic rows)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proofs_checks import all_checks
from proofs_checks._framework import Verdict
from proofs_checks.concentration import ConcentrationCheck
from proofs_checks.depth_scaling import (
    SCALING_CLAIMS,
    ScalingCheck,
    ilc_merge_ablation_check,
    scaling_checks,
)
from proofs_checks.finite_size import MAX_FACTOR, ratio_verdict
from proofs_checks.grids import DEPTHS, VARIANT_GRIDS, VMS, run_seeds
from proofs_checks.margin_scaling import fit_margin_exponents, margin_verdict
from proofs_checks.synonym_invariance import SynonymInvarianceCheck
from proofs_checks.verify import exit_status, run_verification
from rhm_theory.cli import main
from rhm_theory.scaling import NAMED_LAWS, law, near_alternatives

#: P* of level l in a tree of depth L for grammar (v, m): a function of (v, m, L, l).
Law = Callable[[int, int, int, int], float]


def _rows(method: str, law: Law, *, noise: float = 0.05, seed: int = 0,
          missing: float = 0.0, variant: str | None = None) -> list[dict[str, Any]]:
    """Synthetic sweep rows of a method on its quick grid (or an ILC variant's): the
    accuracy (node and tuple) of level l steps from 0.1 to 1 at ``law(v, m, L, l)`` times a
    per-seed log-normal factor; the partition is exact from there on. Grammar seeds are
    the grid's (:func:`run_seeds`), so the checks' separation filter sees real grammars."""
    rng = np.random.default_rng(seed)
    rows = []
    vms, Ls, extra = VMS["quick"][method], DEPTHS["quick"][method], {}  # type: ignore[index]
    if variant is not None:
        spec = VARIANT_GRIDS[variant]["quick"]
        vms, Ls, extra = spec["vms"], spec["Ls"], spec["variant"]
    for v, m in vms:
        for L in Ls:
            for idx in (0, 1, 2):
                gs, ds = run_seeds(idx, L)
                factor = math.exp(noise * rng.standard_normal())
                never = rng.random() < missing
                stars = {lv: law(v, m, L, lv) * factor for lv in range(1, L)}
                base = v * m**3
                for k in range(-8, 40):
                    P = base * 2 ** (k / 2)
                    accs = {lv: (1.0 if P >= p and not never else 0.1)
                            for lv, p in stars.items()}
                    worst = min(accs.values())
                    for lv, acc in accs.items():
                        rows.append({"context": method, "family": "random", "v": v,
                                     "m": m, "s": 2, "L": L,
                                     "n_c": v, "grammar_seed": gs, "data_seed": ds,
                                     "balanced": False, "level": lv, "P": int(P),
                                     "accuracy": acc, "min_accuracy": worst,
                                     "tuple_accuracy": acc, "min_tuple_accuracy": worst,
                                     "exact_partition": acc == 1.0,
                                     "all_exact": worst == 1.0, **extra})
    return rows


def vm3(v: int, m: int, L: int, lv: int) -> float:
    return 10.0 * v * m**3 / (1 - m / v)


def vmL1(v: int, m: int, L: int, lv: int) -> float:
    return 2.0 * v * m ** (lv + 2) / (1 - m / v)  # top level l = L-1 gives v m^(L+1)


def vmL(v: int, m: int, L: int, lv: int) -> float:
    return 3.0 * v * m ** (lv + 1) / (1 - m / v)  # top level gives v m^L


def between(v: int, m: int, L: int, lv: int) -> float:
    return 10.0 * v * m**3.5 / (1 - m / v)  # halfway between v m^3 and v m^4


def pooled(v: int, m: int, L: int, lv: int) -> float:
    return 40.0 * v * m**3 / 2 ** (L - lv) / (1 - m / v)  # the pooled per-level law


def check_of(name: str) -> ScalingCheck:
    """The check of the row ``name`` of SCALING_CLAIMS."""
    (spec,) = [c for c in SCALING_CLAIMS if c.name == name]
    return ScalingCheck(spec)


def _rule_passed(result: Any) -> bool:
    """The rule said PASS (maybe withheld by the calibration as INCONCLUSIVE)."""
    return result.verdict is Verdict.PASS or (
        result.verdict is Verdict.INCONCLUSIVE
        and "PASS withheld" in str(result.details.get("note", "")))


def _rule_failed(result: Any) -> bool:
    """The rule said FAIL (maybe withheld as INCONCLUSIVE: false-FAIL rate too high)."""
    return result.rule_verdict is Verdict.FAIL and (
        result.verdict is Verdict.FAIL
        or "FAIL withheld" in str(result.details.get("note", "")))


def _fast(check: Any) -> Any:
    check.n_sim = 10  # calibration size of these tests (the rule is what they test)
    return check


@pytest.mark.slow
def test_ilc_scaling_pass_fail_inconclusive() -> None:
    check = _fast(check_of("ilc_threshold_scaling"))
    token = _rows("token", vmL1, noise=0.1)
    good = check.evaluate(_rows("latent", vm3, noise=0.1) + token, "quick")
    assert _rule_passed(good), good.measured
    assert good.negative_control is not None and good.negative_control.failed_as_expected
    assert {a.name: a.rejected for a in good.alternatives}["v m^(L+1) / (1-f)"]
    assert good.power is not None and good.power.n_sim == 10
    names = [n for n, _ in good.power.alternatives]
    assert names == list(near_alternatives(law("v m^3 / (1-f)"), ("v", "m", "L")))
    bad = check.evaluate(_rows("latent", vmL1, noise=0.3) + token, "quick")
    assert bad.verdict is Verdict.FAIL
    unsure = check.evaluate(_rows("latent", between, noise=0.3) + token, "quick")
    assert unsure.verdict is not Verdict.PASS
    # Runs that never reach the target are interval data (censored), not dropped.
    holes = check.evaluate(_rows("latent", vm3, noise=0.3, missing=0.3) + token, "quick")
    assert holes.measured["n_censored_configs"] > 0
    assert check.evaluate([], "quick").verdict is Verdict.INCONCLUSIVE  # no data, no PASS


@pytest.mark.slow
def test_pass_is_withheld_when_the_control_does_not_fail() -> None:
    # Control rows that also follow v m^3: the control cannot fail, so no PASS.
    result = _fast(check_of("ilc_threshold_scaling")).evaluate(
        _rows("latent", vm3, noise=0.3) + _rows("token", vm3, noise=0.3), "quick")
    assert result.verdict is not Verdict.PASS
    assert result.negative_control is not None
    assert not result.negative_control.failed_as_expected


@pytest.mark.slow
def test_baseline_scaling_checks() -> None:
    latent = _rows("latent", vm3, noise=0.3)
    tok = _fast(check_of("token_baseline_scaling"))
    assert tok.evaluate(_rows("token", vmL1, noise=0.3) + latent, "quick").verdict \
        is not Verdict.FAIL
    assert tok.evaluate(_rows("token", vm3, noise=0.3) + latent, "quick").verdict \
        is Verdict.FAIL
    lab = _fast(check_of("label_baseline_scaling"))
    assert lab.evaluate(_rows("label", vmL, noise=0.3) + latent, "quick").verdict \
        is not Verdict.FAIL
    # Labels following the token law: the claimed v m^L is rejected.
    assert lab.evaluate(_rows("label", vmL1, noise=0.3) + latent, "quick").verdict \
        is Verdict.FAIL


@pytest.mark.slow
def test_exact_recovery_check() -> None:
    def union(v: int, m: int, L: int, lv: int) -> float:
        return 3.0 * v * m**3 * math.log(L * v * m) / (1 - m / v)

    token = _rows("token", vmL1, noise=0.1)
    check = _fast(check_of("ilc_exact_recovery_scaling"))
    good = check.evaluate(_rows("latent", union, noise=0.1) + token, "quick")
    assert _rule_passed(good), good.measured
    assert good.measured["event"] == "exact_recovery"
    bad = check.evaluate(_rows("latent", vmL1, noise=0.1) + token, "quick")
    assert bad.verdict is Verdict.FAIL


@pytest.mark.slow
def test_per_level_checks() -> None:
    token = _rows("token", vmL1, noise=0.3)
    check = _fast(check_of("ilc_per_level_scaling"))
    assert check.evaluate(_rows("latent", pooled, noise=0.3) + token, "quick").verdict \
        is not Verdict.FAIL
    # Levels that do not pool their counts (the same threshold at every level): rejected.
    fail = check.evaluate(_rows("latent", vm3, noise=0.3) + token, "quick")
    assert fail.rule_verdict is Verdict.FAIL and fail.measured["decision"] == "rejected"
    # The FAIL stands only when its false-FAIL rate on these rows is <= 0.05 (judge).
    assert fail.power is not None
    assert fail.verdict is (Verdict.FAIL if fail.power.fail_calibrated else Verdict.INCONCLUSIVE)
    assert "v m^3 / (1-f)" in {a.name for a in fail.alternatives}
    tok = _fast(check_of("token_per_level_scaling"))
    fit = tok.evaluate(token + _rows("latent", vm3, noise=0.3), "quick").measured
    assert abs(fit["axes"]["l"][0]) < 0.1  # level slope of log P*/(v m^(l+2))


@pytest.mark.slow
def test_unpooled_check_does_not_fail_its_own_claim() -> None:
    # The levels of one run share its noise (one factor per grammar seed): intervals that
    # counted each level as independent FAILed this claim (b = 0.52 [0.19, 0.84]); the
    # cluster-robust per-level fit does not (issue 17).
    token = _rows("token", vmL1, noise=0.3)
    check = _fast(check_of("ilc_unpooled_per_level_scaling"))
    rows = _rows("latent", vm3, variant="unpooled", noise=0.3) + token
    # The default (pooled) rows follow another law: the variant check must not see them.
    pooled = _rows("latent", vmL1)
    assert check.evaluate(rows + pooled, "quick").verdict is not Verdict.FAIL


@pytest.mark.slow
def test_unpooled_check_and_merge_ablation() -> None:
    token = _rows("token", vmL1, noise=0.3)
    check = _fast(check_of("ilc_unpooled_per_level_scaling"))
    grows = _rows("latent", vmL1, variant="unpooled", noise=0.3) + token
    # The rule FAILs; the rows' own noise (configurations far from any log-linear law)
    # may make its false-FAIL rate too high for the FAIL to stand.
    assert _rule_failed(check.evaluate(grows, "quick"))
    ablation = ilc_merge_ablation_check().evaluate(
        _rows("latent", vm3) + _rows("latent", lambda v, m, L, lv: 2 * vm3(v, m, L, lv),
                                     variant="merge_off"), "quick")
    assert ablation.verdict is Verdict.EXPLORATORY
    assert ablation.measured["median_off_over_on"] == pytest.approx(2.0, rel=0.2)


def test_margin_rule() -> None:
    rng = np.random.default_rng(1)

    def recs(law: Callable[[int, int], float]) -> list[dict[str, Any]]:
        return [{"v": v, "m": m, "seed": sd, "level": lv, "f": m / v,
                 "margin": law(v, m) * math.exp(0.02 * rng.standard_normal())}
                for v in (8, 16, 32, 64) for m in (2, 3, 4, 6) if m < v
                for sd in range(3) for lv in (1, 2)]

    assert margin_verdict(fit_margin_exponents(
        recs(lambda v, m: math.sqrt(1 - m / v) / m))) is Verdict.PASS
    assert margin_verdict(fit_margin_exponents(
        recs(lambda v, m: math.sqrt(1 - m / v) / math.sqrt(m)))) is Verdict.FAIL
    # Two values of m, large noise: -1 and a rival both inside the interval.
    wide = [{"v": v, "m": m, "seed": sd, "level": 1, "f": m / v,
             "margin": math.sqrt(1 - m / v) / m * math.exp(0.5 * rng.standard_normal())}
            for v in (16, 32) for m in (2, 3) for sd in range(3)]
    assert margin_verdict(fit_margin_exponents(wide)) is Verdict.INCONCLUSIVE


def test_finite_size_rule() -> None:
    ok = [{"ratio": r} for r in (0.6, 0.8, 1.0, 1.5)]
    assert ratio_verdict(ok)[0] is Verdict.PASS
    assert ratio_verdict([*ok, {"ratio": MAX_FACTOR * 1.1}])[0] is Verdict.FAIL
    assert ratio_verdict([{"ratio": 0.3}] * 4)[0] is Verdict.FAIL  # median off
    assert ratio_verdict([*ok, {"ratio": math.nan}])[0] is Verdict.INCONCLUSIVE
    assert ratio_verdict([])[0] is Verdict.INCONCLUSIVE


def test_every_scaling_claim_names_laws_of_the_library() -> None:
    """Each row's law and competitors are named laws (they parse, carry 1/(1-f)), its event
    is a success event, and every row becomes one check of the registry."""
    from rhm_theory.sweeps.thresholds import SUCCESS_EVENTS

    registry = {c.name for c in all_checks("cpu")}
    for spec in SCALING_CLAIMS:
        assert spec.law in NAMED_LAWS and "(1-f)" in spec.law, spec.name
        assert all(c in NAMED_LAWS for c in spec.competitors), spec.name
        assert spec.event in SUCCESS_EVENTS and spec.event != "node_accuracy"
        assert spec.control_context != spec.context and spec.name in registry
        assert ("l" in spec.axes) == spec.per_level
    assert [c.spec for c in scaling_checks()] == list(SCALING_CLAIMS)
    exact = check_of("ilc_exact_recovery_scaling")
    assert exact.spec.event == "exact_recovery" and "log(L v m)" in exact.spec.law


@pytest.mark.parametrize("check", [SynonymInvarianceCheck(), ConcentrationCheck()],
                         ids=lambda c: c.name)
def test_direct_checks_pass_and_their_controls_fail(check: Any) -> None:
    """The rule PASSes on the claim's data; the control (ambiguous grammars; corpora of
    repeated strings) FAILs on data where the claim is false. Concentration is calibrated
    on simulated error curves (its Power decides whether the PASS stands); synonym
    invariance is an exact identity (power None, with a reason)."""
    result = check.evaluate([], "quick")
    rule = result.details.get("rule_verdict", result.verdict.value)
    assert rule == "PASS", result.to_dict()
    if isinstance(check, ConcentrationCheck):
        assert result.power is not None and result.power_reason is None
        assert result.verdict is (Verdict.PASS if result.power.calibrated
                                  else Verdict.INCONCLUSIVE)
    else:
        assert result.power is None and result.power_reason
    assert result.negative_control.failed_as_expected, result.negative_control


def test_registry_names_are_unique() -> None:
    names = [c.name for c in all_checks()]
    assert len(names) == len(set(names)) >= 11


def test_verify_writes_report_and_exit_status(tmp_path: Path) -> None:
    results = run_verification("quick", out_dir=tmp_path, only=["synonym_invariance"],
                               progress=False)
    assert [r.name for r in results] == ["synonym_invariance"]
    # --only writes its own report beside (never over) the full run's report.md
    stem = "report-only-synonym_invariance"
    assert (tmp_path / f"{stem}.md").read_text().startswith("# rhm-theory verify")
    assert not (tmp_path / "report.md").exists()
    doc = json.loads((tmp_path / f"{stem}.json").read_text())
    (check,) = doc["checks"]
    assert check["verdict"] == "PASS" and check["negative_control"]["verdict"] == "FAIL"
    assert exit_status(results) == 0
    status = main(["verify", "--only", "synonym_invariance", "--out", str(tmp_path / "r2"),
                   "--no-progress", "--json"])
    assert status == 0
    with pytest.raises(ValueError, match="unknown check"):
        run_verification("quick", out_dir=None, only=["nope"])


def test_quick_grid_runs_the_neural_checks_only_when_asked() -> None:
    """The quick grid's neural trainings cannot decide and took 12 of its 15 minutes, the
    full grid's are GPU-sized: they run on request (``neural=True``, ``--only`` naming
    them) and on the full grid with a GPU."""
    from proofs_checks.verify import NEURAL_CHECKS, neural_by_default, not_run, select_checks
    from rhm_theory.neural import torch_available

    def names(**kw: Any) -> set[str]:
        return {c.name for c in select_checks(**kw)}

    neural = set(NEURAL_CHECKS)
    assert not names(grid="quick") & neural
    assert names(grid="quick") == {c.name for c in all_checks("cpu")} - neural
    wanted = neural if torch_available() else set()
    assert names(grid="quick", neural=True) & neural == wanted
    assert names(grid="full") & neural == (wanted if neural_by_default("full") else set())
    assert not names(grid="full", device="cpu") & neural
    assert not neural_by_default("quick") and not neural_by_default("full", "cpu")
    assert not names(grid="full", neural=False) & neural
    if torch_available():
        assert names(grid="quick", only=["neural_slc_scaling"]) == {"neural_slc_scaling"}
    # every neural check is named in NEURAL_CHECKS (the list the selection filters on)
    assert {c.name for c in all_checks("cpu")} - names(grid="quick") <= neural
    if not torch_available():
        with pytest.raises(ValueError, match="need PyTorch"):
            select_checks(only=["neural_slc_scaling"])
    lines = not_run(sorted(names(grid="quick")))
    assert any("neural_slc_scaling" in line for line in lines)
    if torch_available():
        assert any("--neural" in line and "cannot decide" in line for line in lines)
        full_cpu = not_run(sorted(names(grid="full", device="cpu")), grid="full")
        assert any("--neural" in line and "GPU" in line for line in full_cpu)
        assert not not_run(sorted(names(grid="full", neural=True)), grid="full")


def test_neural_checks_without_pytorch_are_named_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PyTorch, ``--only`` naming a neural check is an error that names the extra,
    and the not-run line says why on every grid."""
    import rhm_theory.neural
    from proofs_checks.verify import NEURAL_CHECKS, not_run, select_checks

    monkeypatch.setattr(rhm_theory.neural, "torch_available", lambda: False)
    with pytest.raises(ValueError, match=r"need PyTorch: pip install '\.\[torch\]'"):
        select_checks(only=["neural_slc_scaling"])
    for grid in ("quick", "full"):
        chosen = [c.name for c in select_checks(grid, neural=True)]
        assert not set(chosen) & set(NEURAL_CHECKS)
        assert any("need PyTorch" in line for line in not_run(chosen, grid=grid))


def test_checks_evaluated_in_worker_processes_give_the_serial_results() -> None:
    from proofs_checks.verify import evaluate_checks

    rows = _rows("latent", vm3, noise=0.3) + _rows("token", vmL1, noise=0.3)
    checks = [_fast(check_of("token_baseline_scaling")),
              _fast(check_of("ilc_threshold_scaling"))]
    for c in checks:
        c.n_sim = 3
    serial = evaluate_checks(checks, rows, "quick", max_workers=1)
    parallel = evaluate_checks(checks, rows, "quick", max_workers=2)
    def text(results: list[Any]) -> str:  # JSON text: nan compares equal to nan
        return json.dumps([r.to_dict() for r in results], default=str, sort_keys=True)

    assert text(parallel) == text(serial)


def test_ilc_grids_reach_past_the_finite_size_factor() -> None:
    from proofs_checks.finite_size import MAX_FACTOR
    from proofs_checks.grids import TOP_FACTOR, depth_cells
    from rhm_theory.bounds.predictions import predicted_tree_threshold
    from rhm_theory.model import RHMParams, random_grammar

    assert TOP_FACTOR >= MAX_FACTOR
    tops: dict[tuple[int, int, int, int], int] = {}
    for c in depth_cells("latent", "quick"):
        key = (c.v, c.m, c.L, c.grammar_seed)
        tops[key] = max(tops.get(key, 0), c.P)
    for (v, m, L, seed), top in list(tops.items())[::7]:
        pred = predicted_tree_threshold(random_grammar(RHMParams(v, m, 2, L), seed), "latent")
        capped = top >= 2.0**9 * v * m**3 * 0.99
        assert capped or not math.isfinite(pred) or top >= 0.99 * MAX_FACTOR * pred, \
            (v, m, L, seed, top, pred)
