"""One GPU call that decides: staged, time-boxed, one JSON line per finished stage.

``python -m rhm_theory.neural.gpu_decide [--out DIR] [--dry-run]`` (or
``benchmarks/gpu_decide.sh``) runs, each stage in its own time box and each writing its
result as soon as it finishes (never all or nothing):

``env``
    ``nvidia-smi`` and the versions of Python, torch, numpy, numba, scipy.
``bench:<method>``
    Per-step seconds of data2vec, the masked LM, SLC and stop-gradient SLC at ``L = 4``
    and ``6`` (the planner's models and batch), one file per method,
    ``bench_<method>.json``, in the format :func:`rhm_theory.neural.plan.load_step_times`
    reads (so ``neural plan --step-times DIR`` uses them in place of the placeholders).
``determinism``
    Two same-seed runs of 200 steps per method, deterministic kernels, compared bit for
    bit (losses and parameters).
``decisive`` and ``cpu_cell``
    Run concurrently: online data2vec and masked-LM runs at ``L = 3, 4, 5``, two seeds,
    evaluated at log-spaced step counts (the level-``(L-1)`` probe and synonymic
    sensitivity against strings seen; every evaluation appended to
    ``decisive/<run>.jsonl`` as it happens); and one committed CPU-grid cell rerun on the
    device and compared with its stored values. The ``decisive`` line gives each
    method's ``L = 5`` to ``L = 3`` threshold ratio (the claim predicts about 2 or less,
    token-level learning ``m^2 = 9``).
``plan``
    The planner's fit of the full grid to a budget with the measured step times.

Every stage after ``env`` needs CUDA and is ``"skipped"`` without it (exit code 0);
``--dry-run`` runs every stage in miniature on the CPU (under 3 minutes). The JSON lines go
to stdout and to ``OUT/stages.jsonl``; each stage also writes ``OUT/stage_<name>.json``.
``OUT`` defaults to ``$OUT`` (the device machine's result folder), else ``gpu-decide``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["RATIO_CUT", "DecideConfig", "decisive_ratios", "eval_schedule", "main",
           "run_decide"]

METHODS = ("data2vec", "mlm", "slc", "slc-sg")


@dataclass(frozen=True)
class DecideConfig:
    """Sizes and time boxes of the stages (:meth:`real` on a GPU, :meth:`dry` on a CPU).

    Times are seconds of wall clock; a stage past its box is stopped and reports what it
    has. The real boxes add up to 600 s plus start-up, under the 12 minutes allowed.
    """

    device: str
    bench_Ls: tuple[int, ...]
    bench_batch: int
    bench_repeats: int
    bench_timeout: float
    det_steps: int
    det_timeout: float
    decisive_Ls: tuple[int, ...]
    decisive_seeds: tuple[int, ...]
    decisive_steps: int
    decisive_evals: int
    decisive_batch: int
    decisive_timeout: float
    probe: Mapping[str, Any]
    cell_max_steps: int | None
    decisive_procs: int
    max_procs: int
    plan_budget_hours: float

    @classmethod
    def real(cls) -> DecideConfig:
        """The GPU call (one H100, about 10 minutes)."""
        return cls(device="cuda", bench_Ls=(4, 6), bench_batch=256, bench_repeats=5,
                   bench_timeout=120.0, det_steps=200, det_timeout=60.0,
                   decisive_Ls=(3, 4, 5), decisive_seeds=(0, 1), decisive_steps=60_000,
                   decisive_evals=16, decisive_batch=128, decisive_timeout=330.0,
                   probe={"n_probe_train": 1024, "n_probe_test": 1024, "probe_steps": 500,
                          "pool": "mean", "root_pool": None, "n_sensitivity": 256,
                          "seed": 10_007},
                   cell_max_steps=None, decisive_procs=12, max_procs=13,
                   plan_budget_hours=10.0)

    @classmethod
    def dry(cls) -> DecideConfig:
        """Every stage in miniature on the CPU."""
        return cls(device="cpu", bench_Ls=(4,), bench_batch=8, bench_repeats=1,
                   bench_timeout=60.0, det_steps=6, det_timeout=40.0,
                   decisive_Ls=(3, 4, 5), decisive_seeds=(0, 1), decisive_steps=12,
                   decisive_evals=2, decisive_batch=8, decisive_timeout=90.0,
                   probe={"n_probe_train": 32, "n_probe_test": 32, "probe_steps": 3,
                          "pool": "mean", "root_pool": None, "n_sensitivity": 8,
                          "seed": 10_007},
                   cell_max_steps=10, decisive_procs=2, max_procs=3,
                   plan_budget_hours=10.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {**asdict(self), "probe": dict(self.probe)}


def eval_schedule(steps: int, n: int, first: int = 1) -> list[int]:
    """About ``n`` log-spaced step counts from ``first`` to ``steps`` (distinct, increasing).

    >>> eval_schedule(1000, 4)
    [1, 10, 100, 1000]
    >>> eval_schedule(6400, 4, first=100)
    [100, 400, 1600, 6400]
    """
    if n <= 1 or first >= steps:
        return [steps]
    ratio = steps / first
    return sorted({max(1, round(first * ratio ** (k / (n - 1)))) for k in range(n)})


# --- workers (run in subprocesses: a stage past its box is killed, not waited for) -------


def _task_bench(a: argparse.Namespace) -> None:
    import torch

    from rhm_theory.io import write_json
    from rhm_theory.model.params import RHMParams
    from rhm_theory.model.spec import GrammarSpec
    from rhm_theory.neural.data import RHMBatches
    from rhm_theory.neural.experiments import build_model, scaling_grid
    from rhm_theory.neural.training import TrainConfig, measure_step_time, resolve_device

    g = scaling_grid("full")
    dev = resolve_device(a.device)
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    for meth in a.method.split(","):
        entries = []
        for L in a.Ls:
            params = RHMParams(g["v"], max(g["ms"]), g["s"], L)
            key = "data2vec" if meth in ("data2vec", "mlm") else "slc"
            model = build_model(meth, params, g[key], dev, seed=0)
            data = RHMBatches(GrammarSpec(params, "random", 0).build(), a.batch, seed=1,
                              device=dev)
            cfg = TrainConfig(steps=1, lr=1e-3, log_every=10, warmup_steps=1)
            sec = measure_step_time(model, data, cfg, warmup=5, repeats=a.repeats)
            entries.append({"method": meth, "L": L, "batch_size": a.batch, "concurrency": 1,
                            "seconds": sec, "throughput_steps_per_s": 1.0 / sec})
        # one file per method, written as soon as it is measured
        write_json(Path(a.result) / f"bench_{meth}.json",
                   {"device_type": dev.type, "device_name": name, "measurements": entries})


def _task_determinism(a: argparse.Namespace) -> None:
    import torch

    from rhm_theory.io import write_json
    from rhm_theory.model.params import RHMParams
    from rhm_theory.model.spec import GrammarSpec
    from rhm_theory.neural.data import RHMBatches
    from rhm_theory.neural.experiments import build_model, scaling_grid
    from rhm_theory.neural.training import TrainConfig, resolve_device, set_determinism, train

    g = scaling_grid("full")
    dev = resolve_device(a.device)
    params = RHMParams(g["v"], 3, g["s"], 4)
    grammar = GrammarSpec(params, "random", 0).build()
    out: dict[str, Any] = {}
    for meth in METHODS:
        runs = []
        for _ in range(2):
            set_determinism(0, deterministic=True)
            # Report, not crash, when an op has no deterministic CUDA kernel: the two runs
            # are then compared as they are (a difference fails the stage).
            torch.use_deterministic_algorithms(True, warn_only=True)
            key = "data2vec" if meth in ("data2vec", "mlm") else "slc"
            model = build_model(meth, params, g[key], dev, seed=0)
            data = RHMBatches(grammar, 64, seed=1, device=dev)
            res = train(model, data, TrainConfig(steps=a.steps, seed=0, log_every=10,
                                                 prefetch=0))
            runs.append((res.losses, [p.detach().cpu() for p in model.student_parameters()]))
        (l0, p0), (l1, p1) = runs
        same_params = all(torch.equal(x, y) for x, y in zip(p0, p1, strict=True))
        out[meth] = {"identical_losses": l0 == l1, "identical_parameters": same_params,
                     "final_loss": l0[-1] if l0 else math.nan}
    write_json(a.result, {"steps": a.steps, "methods": out})


def _task_decisive_run(a: argparse.Namespace) -> None:
    from rhm_theory.model.params import RHMParams
    from rhm_theory.neural.data2vec import Data2VecConfig
    from rhm_theory.neural.evaluation import EvalConfig
    from rhm_theory.neural.experiments import run_neural
    from rhm_theory.neural.training import TrainConfig

    probe = json.loads(a.probe)
    for run in a.runs:  # "method:L:seed", one after another in this process
        method, L, seed = run.split(":")
        rows_path = Path(a.result) / f"{method}_L{L}_s{seed}.jsonl"

        def append(rows: list[dict[str, Any]], path: Path = rows_path) -> None:
            with path.open("a") as f:
                f.write(json.dumps({"rows": rows}) + "\n")

        # The calibration cell's data2vec (depth 2, width 64, published text defaults),
        # and the CPU grid's masked-LM control of the same size; constant learning rate
        # after the warm-up, so a run cut by its time box was never tied to a horizon.
        run_neural(method, RHMParams(8, 3, 2, int(L)), P=None,
                   train_config=TrainConfig(steps=a.steps, lr=1e-3, seed=int(seed),
                                            lr_schedule="constant", log_every=100),
                   model_config=Data2VecConfig(depth=2, width=64, heads=4),
                   batch_size=a.batch, grammar_seed=int(seed), data_seed=int(seed) + 1,
                   device=a.device, eval_config=EvalConfig(**probe),
                   eval_at=eval_schedule(a.steps, a.evals, min(64, max(1, a.steps // 4))),
                   on_rows=append)


#: The committed CPU-grid cell rerun on the device (SLC, ``L = 3``, grammar seed 0,
#: ``P = 4096``, 2,500 steps).
CPU_CELL = "benchmarks/neural_cpu_grid/runs/slc_v8_m3_s2_L3_g0_P4096_steps2500"
_COMPARED = ("recovery", "latent_probe", "root_probe")


def _task_cpu_cell(a: argparse.Namespace) -> None:
    from rhm_theory.io import write_json
    from rhm_theory.neural.experiments import RunSpec, execute_run

    stored_doc = json.loads(next(Path(a.cell).glob("*.json")).read_text())
    spec = RunSpec.from_dict(stored_doc["spec"])
    if a.max_steps:
        spec = RunSpec.from_dict({**spec.to_dict(), "steps": min(spec.steps, a.max_steps)})
    t0 = time.perf_counter()
    rows = execute_run(spec, device=a.device)
    seconds = time.perf_counter() - t0

    def values(rs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        return {f"{r['metric']}[{r['level']}]": float(r["value"]) for r in rs
                if r["metric"] in _COMPARED}

    old, new = values(stored_doc["rows"]), values(rows)
    diffs = {k: new[k] - old[k] for k in sorted(old) if k in new}
    write_json(a.result, {"cell": a.cell, "steps": spec.steps,
                          "stored_steps": stored_doc["spec"]["steps"], "seconds": seconds,
                          "stored": old, "rerun": new, "difference": diffs,
                          "max_abs_difference": max((abs(d) for d in diffs.values()),
                                                    default=math.nan)})


_TASKS = {"bench": _task_bench, "determinism": _task_determinism,
          "decisive-run": _task_decisive_run, "cpu-cell": _task_cpu_cell}


# --- the orchestrator ------------------------------------------------------------------


class _Stages:
    """Prints and records one JSON object per finished stage."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.t0 = time.perf_counter()
        self.status: dict[str, str] = {}

    def emit(self, stage: str, status: str, **info: Any) -> dict[str, Any]:
        from rhm_theory.io import jsonable, write_json

        doc = {"stage": stage, "status": status, **info,
               "elapsed_s": round(time.perf_counter() - self.t0, 1)}
        doc = jsonable(doc)
        line = json.dumps(doc)
        print(line, flush=True)
        with (self.out / "stages.jsonl").open("a") as f:
            f.write(line + "\n")
        write_json(self.out / f"stage_{stage.replace(':', '_')}.json", doc)
        self.status[stage] = status
        return dict(doc)


def _worker_cmd(task: str, **kw: Any) -> list[str]:
    cmd = [sys.executable, "-m", "rhm_theory.neural.gpu_decide", "--task", task]
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, (list, tuple)):
            cmd += [flag, *map(str, v)]
        elif v is not None:
            cmd += [flag, str(v)]
    return cmd


def _run_procs(cmds: Mapping[str, list[str]], timeout: float, logs: Path, max_procs: int
               ) -> dict[str, dict[str, Any]]:
    """Run the commands (at most ``max_procs`` at once) until done or ``timeout``; stopped
    ones report ``"timeout"``. Output goes to ``logs/<name>.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    pending = list(cmds.items())
    running: dict[str, tuple[subprocess.Popen[bytes], Any, float]] = {}
    done: dict[str, dict[str, Any]] = {}
    end = time.monotonic() + timeout
    while pending or running:
        while pending and len(running) < max_procs:
            name, cmd = pending.pop(0)
            fh = (logs / f"{name}.log").open("wb")
            running[name] = (subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT,
                                              env=env), fh, time.monotonic())
        for name, (proc, fh, t0) in list(running.items()):
            rc = proc.poll()
            if rc is not None:
                fh.close()
                done[name] = {"rc": rc, "seconds": round(time.monotonic() - t0, 1)}
                del running[name]
        if time.monotonic() > end:
            for name, (proc, fh, t0) in running.items():
                proc.kill()
                proc.wait()
                fh.close()
                done[name] = {"rc": None, "timeout": True,
                              "seconds": round(time.monotonic() - t0, 1)}
            for name, _ in pending:
                done[name] = {"rc": None, "timeout": True, "seconds": 0.0, "started": False}
            break
        time.sleep(0.2)
    return done


def _tail(path: Path, n: int = 400) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


#: Where the decisive cell's ``L = 5`` / ``L = 3`` ratio is read: the geometric midpoint of
#: the claim's "about 2" and token-level learning's ``m^2 = 9`` (``sqrt(18)``).
RATIO_CUT = math.sqrt(2.0 * 9.0)


def decisive_ratios(rows: Sequence[Mapping[str, Any]], Ls: Sequence[int]
                    ) -> dict[str, Any]:
    """Strings-seen thresholds of the level-``(L-1)`` probe and synonymic sensitivity per
    method, depth and seed, and each method's deepest-to-shallowest ratio.

    Thresholds are :func:`rhm_theory.neural.thresholds.probe_thresholds` of the online
    curves (``P`` = strings seen; censoring kept). The ratio is that of the geometric means
    over seeds, reported only when no threshold of the two depths is censored (else
    ``None``), and read against :data:`RATIO_CUT`: below it own-latent (the claim's ratio of
    about 2), above it token-level (``m^2 = 9``).
    """
    from rhm_theory.neural.thresholds import probe_thresholds

    top: dict[int, int] = {}  # the top layer of each depth
    for r in rows:
        if r.get("metric") == "synonymic_sensitivity":
            top[int(r["L"])] = max(top.get(int(r["L"]), 0), int(r["layer"]))
    wanted = [dict(r) for r in rows
              if (r.get("metric") == "latent_probe" and r.get("level") == r.get("L", 0) - 1)
              or (r.get("metric") == "synonymic_sensitivity"
                  and r.get("level") == r.get("L", 0) - 1 and r.get("layer") == top.get(
                      int(r.get("L", 0))))]
    out: dict[str, Any] = {}
    for t in probe_thresholds(wanted):
        key = f"{t['method']}:{t['metric'].removeprefix('threshold:')}"
        out.setdefault(key, {}).setdefault(f"L={t['L']}", []).append(
            {"seed": t["seed"], "strings_seen": t["value"], "censored": t["censored"]})
    lo, hi = min(Ls), max(Ls)
    for entry in out.values():
        a, b = entry.get(f"L={hi}", []), entry.get(f"L={lo}", [])
        ok = bool(a) and bool(b) and all(x["censored"] is None for x in a + b)
        ratio = (math.exp(sum(math.log(x["strings_seen"]) for x in a) / len(a)
                          - sum(math.log(x["strings_seen"]) for x in b) / len(b))
                 if ok else None)
        entry["ratio_deep_to_shallow"] = ratio
        entry["reading"] = ("undecided (censored or missing)" if ratio is None
                            else "own-latent (claim)" if ratio < RATIO_CUT
                            else "token-level")
    return out


def run_decide(out: Path, cfg: DecideConfig, *, dry_run: bool) -> int:
    """Run every stage into ``out``; return the exit code (1 if a stage failed)."""
    out.mkdir(parents=True, exist_ok=True)
    st = _Stages(out)
    # env: always runs
    import numpy
    import torch

    versions: dict[str, str | None] = {"python": platform.python_version(),
                                       "torch": torch.__version__,
                "numpy": numpy.__version__}
    for mod in ("numba", "scipy"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    smi = shutil.which("nvidia-smi")
    smi_out = None
    if smi is not None:
        try:
            smi_out = subprocess.run([smi], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            smi_out = f"nvidia-smi failed: {exc}"
    cuda = torch.cuda.is_available()
    st.emit("env", "ok", cuda=cuda, device_name=torch.cuda.get_device_name(0) if cuda else None,
            versions=versions, nvidia_smi=smi_out, dry_run=dry_run, config=cfg.to_dict())
    (out / "nvidia_smi.txt").write_text(smi_out or "nvidia-smi not found\n")
    runnable = cuda or dry_run
    skip = {} if runnable else {"reason": "no CUDA device (run with --dry-run for the CPU "
                                          "miniature)"}
    logs = out / "logs"
    # bench: one worker measures the methods in turn, one file per method
    if skip:
        for meth in METHODS:
            st.emit(f"bench:{meth}", "skipped", **skip)
    else:
        got = _run_procs({"bench": _worker_cmd("bench", method=",".join(METHODS),
                                               device=cfg.device, Ls=cfg.bench_Ls,
                                               batch=cfg.bench_batch,
                                               repeats=cfg.bench_repeats, result=out)},
                         cfg.bench_timeout, logs, 1)["bench"]
        for meth in METHODS:
            res = out / f"bench_{meth}.json"
            if res.exists():
                st.emit(f"bench:{meth}", "ok", file=str(res), **json.loads(res.read_text()))
            else:
                st.emit(f"bench:{meth}", "failed", worker=got, log=_tail(logs / "bench.log"))
    # determinism
    if skip:
        st.emit("determinism", "skipped", **skip)
    else:
        res = out / "determinism.json"
        got = _run_procs({"determinism": _worker_cmd("determinism", device=cfg.device,
                                                     steps=cfg.det_steps, result=res)},
                         cfg.det_timeout, logs, 1)["determinism"]
        if res.exists():
            doc = json.loads(res.read_text())
            same = all(v["identical_losses"] and v["identical_parameters"]
                       for v in doc["methods"].values())
            st.emit("determinism", "ok" if same else "failed", identical=same, **doc,
                    worker=got)
        else:
            st.emit("determinism", "failed", worker=got, log=_tail(logs / "determinism.log"))
    # decisive cell and the CPU cell, concurrently
    if skip:
        st.emit("cpu_cell", "skipped", **skip)
        st.emit("decisive", "skipped", **skip)
    else:
        dec = out / "decisive"
        dec.mkdir(exist_ok=True)
        cell_res = out / "cpu_cell.json"
        cmds = {"cpu_cell": _worker_cmd("cpu-cell", device=cfg.device, cell=CPU_CELL,
                                        max_steps=cfg.cell_max_steps, result=cell_res)}
        runs = [f"{meth}:{L}:{seed}" for meth in ("data2vec", "mlm")
                for L in cfg.decisive_Ls for seed in cfg.decisive_seeds]
        per = math.ceil(len(runs) / cfg.decisive_procs)
        for i in range(0, len(runs), per):
            cmds[f"runs{i // per}"] = _worker_cmd(
                "decisive-run", runs=runs[i:i + per], device=cfg.device,
                steps=cfg.decisive_steps, evals=cfg.decisive_evals, batch=cfg.decisive_batch,
                probe=json.dumps(dict(cfg.probe)), result=dec)
        got = _run_procs(cmds, cfg.decisive_timeout, logs / "decisive", cfg.max_procs)
        cell = got.pop("cpu_cell")
        if cell_res.exists():
            st.emit("cpu_cell", "ok", **json.loads(cell_res.read_text()), worker=cell)
        else:
            st.emit("cpu_cell", "failed", worker=cell,
                    log=_tail(logs / "decisive" / "cpu_cell.log"))
        rows: list[dict[str, Any]] = []
        evaluations: dict[str, int] = {}
        for path in sorted(dec.glob("*.jsonl")):
            lines = path.read_text().splitlines()
            evaluations[path.stem] = len(lines)
            for line in lines:
                rows.extend(json.loads(line)["rows"])
        crashed = [n for n, g in got.items() if g["rc"] not in (0, None)]
        status = "ok" if rows and not crashed else "failed"
        st.emit("decisive", status, workers=got, evaluations=evaluations, crashed=crashed,
                thresholds=decisive_ratios(rows, cfg.decisive_Ls) if rows else {},
                prediction={"claim": "L=5 / L=3 ratio about 2 or less",
                            "token_level": "about m^2 = 9"},
                rows_folder=str(dec))
    # plan with the measured step times
    bench_files = sorted(out.glob("bench_*.json"))
    if skip or not bench_files:
        st.emit("plan", "skipped", **(skip or {"reason": "no bench file"}))
    else:
        from rhm_theory.neural.plan import BudgetExceeded, fit_plan, load_step_times

        times = load_step_times(out, cfg.device)
        try:
            plan = fit_plan(cfg.device, cfg.plan_budget_hours, step_times=times)
            st.emit("plan", "ok", estimated_hours=plan.hours, n_runs=len(plan.runs),
                    notes=plan.notes, step_times={k: v.to_dict() for k, v in times.items()})
        except BudgetExceeded as exc:
            st.emit("plan", "ok", fits=False, reason=str(exc),
                    step_times={k: v.to_dict() for k, v in times.items()})
    failed = [k for k, v in st.status.items() if v == "failed"]
    st.emit("summary", "failed" if failed else "ok", stages=dict(st.status), failed=failed)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m rhm_theory.neural.gpu_decide",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="result folder (default: $OUT, else "
                    "gpu-decide)")
    ap.add_argument("--dry-run", action="store_true",
                    help="every stage in miniature on the CPU")
    ap.add_argument("--task", choices=sorted(_TASKS), help=argparse.SUPPRESS)
    for flag in ("--method", "--device", "--result", "--cell", "--probe"):
        ap.add_argument(flag, help=argparse.SUPPRESS)
    for flag in ("--L", "--seed", "--steps", "--evals", "--batch", "--repeats",
                 "--max-steps"):
        ap.add_argument(flag, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--Ls", type=int, nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--runs", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.task is not None:
        import torch

        if a.device == "cpu":
            torch.set_num_threads(1)
        _TASKS[a.task](a)
        return 0
    out = Path(a.out or os.environ.get("OUT") or "gpu-decide")
    cfg = DecideConfig.dry() if a.dry_run else DecideConfig.real()
    return run_decide(out, cfg, dry_run=a.dry_run)


if __name__ == "__main__":
    raise SystemExit(main())
