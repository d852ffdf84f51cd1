"""The one GPU call: stages skip cleanly without CUDA, the dry run produces every stage, the
planner reads what the bench writes, and the decisive cell's ratios come from the rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["env", "bench:data2vec", "bench:mlm", "bench:slc", "bench:slc-sg", "determinism",
          "cpu_cell", "decisive", "plan", "summary"]


@pytest.mark.torch
def test_without_cuda_every_cuda_stage_is_skipped(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from rhm_theory.neural.gpu_decide import DecideConfig, run_decide

    assert run_decide(tmp_path, DecideConfig.real(), dry_run=False) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["stage"] for x in lines] == STAGES
    assert lines[0]["status"] == "ok" and lines[-1]["status"] == "ok"
    assert {x["status"] for x in lines[1:-1]} == {"skipped"}
    on_disk = [json.loads(x) for x in (tmp_path / "stages.jsonl").read_text().splitlines()]
    assert on_disk == lines


@pytest.mark.slow
@pytest.mark.torch
def test_dry_run_gives_every_stage_with_only_the_torch_extra(tmp_path: Path) -> None:
    # Imports outside `pip install ".[torch]"` are blocked in every process of the run.
    pytest.importorskip("torch")
    site = tmp_path / "site"
    site.mkdir()
    # A None entry in sys.modules is how Python spells "not installed" to both `import`
    # (ModuleNotFoundError) and importlib.util.find_spec (None), which torch probes.
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        "for name in ('pytest', '_pytest', 'matplotlib', 'dask', 'distributed',\n"
        "             'statsmodels', 'pandas', 'sklearn'):\n"
        "    sys.modules[name] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "rhm_theory.neural.gpu_decide", "--dry-run",
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["stage"] for x in lines] == STAGES, proc.stderr[-2000:]
    assert all(x["status"] == "ok" for x in lines), lines
    assert proc.returncode == 0
    assert lines[-1]["elapsed_s"] < 180
    assert sorted(p.name for p in out.glob("bench_*.json")) == [
        "bench_data2vec.json", "bench_mlm.json", "bench_slc-sg.json", "bench_slc.json"]
    assert lines[5]["identical"] is True


def _bench_file(folder: Path, method: str, device: str = "cuda") -> None:
    entries = [{"method": method, "L": L, "batch_size": 256, "concurrency": 1,
                "seconds": 0.001 * L, "throughput_steps_per_s": 1000 / L} for L in (4, 6)]
    (folder / f"bench_{method}.json").write_text(json.dumps(
        {"device_type": device, "device_name": "test", "measurements": entries}))


def test_planner_reads_the_measured_times_in_place_of_placeholders(tmp_path: Path) -> None:
    from rhm_theory.neural.plan import load_step_times, make_plan

    for meth in ("data2vec", "mlm", "slc", "slc-sg"):
        _bench_file(tmp_path, meth)
    times = load_step_times(tmp_path, "cuda")
    assert {m: t.seconds for m, t in times.items()} == pytest.approx(
        dict.fromkeys(("data2vec", "mlm", "slc", "slc-sg"), 0.006))  # the deepest L kept
    assert load_step_times(tmp_path, "cuda", L=4)["slc"].seconds == pytest.approx(0.004)
    plan = make_plan("cuda", None, step_times=times)
    assert plan.unmeasured == []
    assert not any("NEVER MEASURED" in n for n in plan.notes)
    placeholder = make_plan("cuda", None)
    assert placeholder.unmeasured and plan.hours != placeholder.hours
    with pytest.raises(ValueError, match="measured on 'cuda', not 'cpu'"):
        load_step_times(tmp_path, "cpu")
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(ValueError, match="no bench"):
        load_step_times(empty, "cuda")


def _curve(method: str, L: int, seed: int, crossing_at: float) -> list[dict[str, Any]]:
    rows = []
    for P in (1e3, 1e4, 1e5, 1e6, 1e7):
        acc = 0.9 if P >= crossing_at else 0.2
        sens = 0.2 if P >= crossing_at else 0.9
        base = {"method": method, "regime": "online", "v": 8, "m": 3, "s": 2, "L": L,
                "n_c": 8, "seed": seed, "grammar_seed": seed, "P": P, "steps": int(P / 128)}
        rows.append({**base, "metric": "latent_probe", "level": L - 1, "layer": 2,
                     "value": acc})
        rows.append({**base, "metric": "synonymic_sensitivity", "level": L - 1, "layer": 2,
                     "value": sens})
        rows.append({**base, "metric": "synonymic_sensitivity", "level": L - 1, "layer": 1,
                     "value": 1.0})  # a lower layer: not the one read
    return rows


def test_decisive_ratios_from_rows() -> None:
    from rhm_theory.neural.gpu_decide import decisive_ratios

    rows = []
    for seed in (0, 1):
        rows += _curve("data2vec", 3, seed, 1e4) + _curve("data2vec", 5, seed, 1e5)
        rows += _curve("mlm", 3, seed, 1e4) + _curve("mlm", 5, seed, 1e8)  # never crosses
    got = decisive_ratios(rows, (3, 5))
    probe = got["data2vec:latent_probe"]
    assert 1.0 < probe["ratio_deep_to_shallow"] < 100.0
    assert got["data2vec:synonymic_sensitivity"]["ratio_deep_to_shallow"] is not None
    assert got["mlm:latent_probe"]["ratio_deep_to_shallow"] is None  # censored at L = 5
    assert [x["censored"] for x in got["mlm:latent_probe"]["L=5"]] == ["right", "right"]
    # read against the midpoint of 2 and 9: a 10x ratio is token-level, a censored one open
    assert probe["reading"] == ("token-level" if probe["ratio_deep_to_shallow"] > 18**0.5
                                else "own-latent (claim)")
    assert got["mlm:latent_probe"]["reading"].startswith("undecided")
    flat = []
    for seed in (0, 1):
        flat += _curve("data2vec", 3, seed, 1e4) + _curve("data2vec", 5, seed, 1e4)
    assert decisive_ratios(flat, (3, 5))["data2vec:latent_probe"]["reading"] == \
        "own-latent (claim)"
