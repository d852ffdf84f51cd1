"""Grammar families: the registry, the ``cyclic`` family as the worked example, and old keys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from rhm_theory.cli import main
from rhm_theory.model import RHMParams, load_grammar
from rhm_theory.model.grammar import balanced_grammar, cyclic_grammar, random_grammar
from rhm_theory.model.spec import GRAMMAR_CONSTRUCTORS, GRAMMAR_FAMILIES, GrammarSpec
from rhm_theory.sweeps.explore import ExploreCell, run_explore_cell
from rhm_theory.sweeps.runner import SweepCell, row_family, run_sweep
from rhm_theory.sweeps.thresholds import cell_thresholds
from rhm_theory.testing.strategies import cyclic_grammars

P4 = RHMParams(v=4, m=2, s=2, L=3)


def test_the_registry_is_the_list_of_families() -> None:
    assert GRAMMAR_FAMILIES == tuple(GRAMMAR_CONSTRUCTORS) == (
        "random", "balanced", "cyclic", "community")
    for family in GRAMMAR_FAMILIES:
        g = GrammarSpec(P4, family, seed=3).build()
        assert g == GRAMMAR_CONSTRUCTORS[family].build(P4, 3)
        assert g == GrammarSpec(P4, family, seed=3).build()  # deterministic in the spec
    assert GrammarSpec(P4, "balanced", 3).build() == balanced_grammar(P4, 3)
    assert GrammarSpec(P4, "random", 3).build() == random_grammar(P4, 3)
    with pytest.raises(ValueError, match=r"family must be one of \('random', 'balanced', 'cyc"):
        GrammarSpec(P4, "nope")
    with pytest.raises(ValueError, match="ambiguity > 0 needs a family with shared"):
        GrammarSpec(RHMParams(8, 2, 2, 2), "cyclic", ambiguity=0.1)


@given(cyclic_grammars(max_v=6, max_m=4, max_L=3))
@settings(max_examples=30, deadline=None)
def test_cyclic_grammars_are_balanced_latin_designs(g: object) -> None:
    from rhm_theory.model import Grammar

    assert isinstance(g, Grammar)
    p = g.params
    assert g.is_balanced() and not g.is_ambiguous
    assert g == cyclic_grammar(p, seed=12345)  # the seed is ignored: one grammar per params
    for level in range(1, p.L):  # below the root: rule k of c is (c, ..., c + digits(k))
        rules = g.rules_of(level)
        assert np.array_equal(rules[:, :, 0], np.repeat(np.arange(p.v)[:, None], p.m, axis=1))


def test_cyclic_family_in_a_sweep_cell(tmp_path: Path) -> None:
    cell = SweepCell("latent", 4, 2, 2, 3, 256, grammar_seed=5, data_seed=1, family="cyclic",
                     n_test=64)
    assert cell.spec.build() == cyclic_grammar(P4)
    assert "|family=cyclic|" in cell.key and "balanced" not in cell.key
    rows = run_sweep([cell], out_dir=tmp_path, progress=False, max_workers=1)
    assert rows and {r["family"] for r in rows} == {"cyclic"}
    assert {r["balanced"] for r in rows} == {False}
    (t,) = cell_thresholds(rows)
    assert t["family"] == "cyclic"
    # Resume: the same cell is found on disk and not run again.
    again = run_sweep([cell], out_dir=tmp_path, progress=False, max_workers=1)
    assert again == rows


def test_cyclic_family_in_an_explore_cell() -> None:
    cell = ExploreCell("baseline", 0.0, "latent", v=4, m=2, s=2, L=2, family="cyclic",
                       n_test=64, P_top=64)
    assert cell.spec().build() == cyclic_grammar(RHMParams(4, 2, 2, 2))
    assert cell.key.endswith("|family=cyclic")
    rows = run_explore_cell(cell)
    assert rows and {r["family"] for r in rows} == {"cyclic"}


def test_cyclic_family_in_a_neural_run_spec() -> None:
    pytest.importorskip("torch")
    from rhm_theory.neural.experiments import RunSpec, grid_runs, scaling_grid

    grid = {**scaling_grid("quick"), "family": "cyclic"}
    specs = grid_runs(grid, ["mlm"])
    assert specs and {s.family for s in specs} == {"cyclic"}
    s0 = specs[0]
    assert s0.grammar_spec.build() == cyclic_grammar(RHMParams(s0.v, s0.m, s0.s, s0.L))
    assert "_cyclic_" in s0.name
    assert RunSpec.from_dict(json.loads(json.dumps(s0.to_dict()))) == s0
    # Runs planned before runs had a family (no "family" in the plan) are random grammars,
    # with the names (and checkpoints) they had.
    old = {k: v for k, v in grid_runs(scaling_grid("quick"), ["mlm"])[0].to_dict().items()
           if k != "family"}
    legacy = RunSpec.from_dict(old)
    assert legacy.family == "random" and "random" not in legacy.name
    with pytest.raises(ValueError, match="family must be one of"):
        grid_runs({**grid, "family": "nope"}, ["mlm"])


def test_keys_of_cells_written_before_families_had_names() -> None:
    """Resumable folders stay valid: random and balanced cells keep their old keys."""
    old = ("method=latent|v=4|m=2|s=2|L=3|P=64|grammar_seed=0|data_seed=0|n_c=None|"
           "balanced={}|n_test=2000")
    assert SweepCell("latent", 4, 2, 2, 3, 64).key == old.format(False)
    assert SweepCell("latent", 4, 2, 2, 3, 64, family="balanced").key == old.format(True)
    assert SweepCell("latent", 4, 2, 2, 3, 64, family="balanced").balanced
    assert "family" not in ExploreCell("baseline", 0.0, "latent", v=8, m=3, s=2, L=2).key
    assert row_family({"balanced": True}) == "balanced"
    assert row_family({"balanced": False}) == "random"
    assert row_family({"family": "cyclic", "balanced": False}) == "cyclic"
    with pytest.raises(ValueError, match="family must be one of"):
        SweepCell("latent", 4, 2, 2, 3, 64, family="nope")


def test_cli_families_come_from_the_registry(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["grammar", "make", "--v", "4", "--m", "2", "--s", "2", "--L", "3", "--seed", "0"]
    for flags, family in ((["--family", "cyclic"], "cyclic"), (["--balanced"], "balanced")):
        out = tmp_path / f"{family}.json"
        assert main([*argv, *flags, "--out", str(out), "--json"]) == 0
        capsys.readouterr()
        assert load_grammar(out) == GrammarSpec(P4, family, 0).build()
    assert main([*argv, "--family", "nope", "--out", str(tmp_path / "x.json")]) == 2
    assert ("invalid choice: 'nope' (choose from 'random', 'balanced', 'cyclic', 'community')"
            in capsys.readouterr().err)


def test_measure_takes_its_family_from_the_registry() -> None:
    from rhm_theory.cli import build_parser
    from rhm_theory.cli.measure_cmd import _grid
    from rhm_theory.sweeps.measure import measure_cells

    argv = ["measure", "rhm_theory.learners.ilc:latent", "--grid", "quick"]
    grid, name = _grid(build_parser().parse_args([*argv, "--family", "cyclic"]))
    assert grid.family == "cyclic" and name == "custom"
    cells = measure_cells("rhm_theory.learners.ilc:latent", grid)
    assert {c.family for c in cells} == {"cyclic"}
    grid, name = _grid(build_parser().parse_args(argv))
    assert grid.family == "random" and name == "quick"



def test_a_sweep_folder_written_before_issue_18_resumes(tmp_path: Path) -> None:
    """Rows on disk with the old columns (``method``, ``balanced``; no ``context`` or
    ``family``) are found by the new cells' keys and read the same."""
    cells = [SweepCell("latent", 4, 2, 2, 3, P, family="balanced", n_test=64)
             for P in (64, 512)]
    new = run_sweep(cells, progress=False, max_workers=1)
    assert {r["context"] for r in new} == {"latent"} and {r["family"] for r in new} == {
        "balanced"}
    old = [{("method" if k == "context" else k): v for k, v in r.items() if k != "family"}
           for r in new]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))

    def recompute(cell: SweepCell) -> list[dict[str, object]]:
        raise AssertionError(f"recomputed {cell.key}")

    resumed = run_sweep(cells, out_dir=tmp_path, progress=False, max_workers=1,
                        cell_runner=recompute)
    assert resumed == old
    assert cell_thresholds(resumed) == cell_thresholds(new)
    assert {row_family(r) for r in resumed} == {"balanced"}
