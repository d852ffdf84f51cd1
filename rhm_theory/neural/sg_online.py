"""The registered online stop-gradient experiment (local learning, ``L = 5`` against ``L = 3``)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhm_theory.io import write_json
from rhm_theory.validation import check_float, check_int

__all__ = [
    "ISSUE_VALUES",
    "SGOnline",
    "load_sg_online_rows",
    "run_sg_online",
    "seed_outcome",
    "sg_online_verdict",
]

#: What the experiment's request asked for; :class:`SGOnline` records what was chosen.
ISSUE_VALUES: dict[str, Any] = {"Ls": [5, 3], "seeds": [0, 1, 2, 3], "steps": 30_000,
                                "eval_steps": [7_500, 15_000, 30_000], "cpu_hours": 3.0}


@dataclass(frozen=True)
class SGOnline:
    """The registered experiment: settings, run order and the rule's constants.

    Every run is the stop-gradient SLC network (``slc-sg``) of the CPU grid's cell
    (``v = 8, m = 3, s = 2``, width 64, batch 64, learning rate ``1e-3``, clip 1.0, EMA
    0.99 -> 0.999 over 1,000 steps) trained *online* (fresh strings every step) under the
    local-learning reading (``module_start_every``: module ``l`` starts at step
    ``(l-1) k`` with its own schedule and clip). The runs go in ``runs`` order
    (``(L, seed)`` pairs); a run not finished by the deadline is reported as such.

    Attributes
    ----------
    runs : tuple of (L, seed)
    steps : int
        Step budget of every run; evaluations at ``eval_fractions`` of it.
    module_start_every : int
        Steps between module starts (the teacher's horizon ``1 / (1 - 0.999)``).
    accuracy_fraction : float
        Recovery criterion ``chance + accuracy_fraction (1 - chance)``, ``chance = 1/v``
        (the CPU grid's).
    level1_min : float
        Level-1 recovery a seed must reach to count as crossing.
    min_seeds : int
        Decided ``L = 5`` seeds the reading needs.
    """

    v: int = 8
    m: int = 3
    s: int = 2
    runs: tuple[tuple[int, int], ...] = ((5, 0), (5, 1), (3, 0), (3, 1), (5, 2), (5, 3))
    steps: int = 30_000
    eval_fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
    batch_size: int = 64
    hidden: int = 64
    lr: float = 1e-3
    grad_clip: float = 1.0
    warmup_steps: int = 100
    module_start_every: int = 1000
    accuracy_fraction: float = 0.5
    level1_min: float = 0.9
    min_seeds: int = 2
    probe: dict[str, Any] = field(default_factory=lambda: {
        "n_probe_train": 512, "n_probe_test": 512, "probe_steps": 300, "pool": "mean",
        "root_pool": None, "n_sensitivity": 256, "seed": 10_007})

    def __post_init__(self) -> None:
        check_int("steps", self.steps, minimum=1)
        check_int("module_start_every", self.module_start_every, minimum=0)
        check_float("accuracy_fraction", self.accuracy_fraction, minimum=0.0, maximum=1.0)
        check_float("level1_min", self.level1_min, minimum=0.0, maximum=1.0)
        check_int("min_seeds", self.min_seeds, minimum=1)
        if len(set(self.runs)) != len(self.runs):
            raise ValueError(f"runs must be distinct (L, seed) pairs, got {self.runs}")
        for L, seed in self.runs:
            check_int("runs L", L, minimum=2)
            check_int("runs seed", seed, minimum=0)

    @property
    def eval_steps(self) -> tuple[int, ...]:
        """The evaluated step counts."""
        return tuple(round(f * self.steps) for f in self.eval_fractions)

    @property
    def criterion(self) -> float:
        """Recovery criterion of every level below the root."""
        chance = 1.0 / self.v
        return chance + self.accuracy_fraction * (1.0 - chance)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (the registration file)."""
        return {**self.__dict__, "runs": [list(r) for r in self.runs],
                "eval_fractions": list(self.eval_fractions)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SGOnline:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**d, "runs": tuple((int(a), int(b)) for a, b in d["runs"]),
                      "eval_fractions": tuple(d["eval_fractions"])})

    def spec(self, L: int, seed: int) -> Any:
        """The :class:`~rhm_theory.neural.experiments.RunSpec` of run ``(L, seed)``."""
        from rhm_theory.neural.ema import EMASchedule
        from rhm_theory.neural.experiments import RunSpec
        from rhm_theory.neural.slc import SLCConfig

        model = SLCConfig(hidden=self.hidden, stop_gradient=True,
                          ema=EMASchedule(tau0=0.99, tau_end=0.999, tau_steps=1000))
        return RunSpec(method="slc-sg", v=self.v, m=self.m, s=self.s, L=L, P=None,
                       grammar_seed=seed, data_seed=seed + 1, seed=seed, steps=self.steps,
                       batch_size=self.batch_size, lr=self.lr, model=model.to_dict(),
                       eval=dict(self.probe), eval_at=self.eval_steps)

    def train_overrides(self) -> dict[str, Any]:
        """:class:`~rhm_theory.neural.training.TrainConfig` fields beyond the spec's."""
        return {"grad_clip": self.grad_clip, "warmup_steps": self.warmup_steps,
                "module_start_every": self.module_start_every}


def _recoveries(rows: Iterable[Mapping[str, Any]], L: int, seed: int
                ) -> dict[int, dict[int, float]]:
    """``{steps: {level: recovery}}`` of run ``(L, seed)`` (the last row of a repeat wins)."""
    out: dict[int, dict[int, float]] = {}
    for r in rows:
        if r.get("metric") == "recovery" and r.get("L") == L and r.get("seed") == seed:
            out.setdefault(int(r["steps"]), {})[int(r["level"])] = float(r["value"])
    return out


def seed_outcome(recovery: Mapping[int, Mapping[int, float]], L: int,
                 exp: SGOnline) -> dict[str, Any]:
    """The rule on one run's evaluations ``{steps: {level: recovery}}``.

    ``"ceiling"``: the run finished and its level-``(L-1)`` recovery never reached the
    criterion, or its level-1 recovery never reached ``level1_min``; ``"crosses"``: both
    were reached (``crossing_step``: the first evaluation at which level ``L-1`` was at the
    criterion); ``"incomplete"``: neither can be said yet (the run has not finished).

    >>> exp = SGOnline(steps=4, eval_fractions=(0.5, 1.0))
    >>> seed_outcome({2: {1: 0.95, 2: 0.3}, 4: {1: 0.97, 2: 0.6}}, 3, exp)["outcome"]
    'crosses'
    >>> seed_outcome({2: {1: 0.85, 2: 0.3}, 4: {1: 0.88, 2: 0.9}}, 3, exp)["outcome"]
    'ceiling'
    >>> seed_outcome({2: {1: 0.95, 2: 0.3}}, 3, exp)["outcome"]
    'incomplete'
    """
    top = L - 1
    steps = sorted(s for s in recovery if s in exp.eval_steps)
    tops = [recovery[s].get(top, math.nan) for s in steps]
    ones = [recovery[s].get(1, math.nan) for s in steps]
    reached = [s for s, y in zip(steps, tops, strict=True) if y >= exp.criterion]
    level1_ok = any(y >= exp.level1_min for y in ones)
    finished = exp.steps in steps
    if reached and level1_ok:
        outcome = "crosses"
    elif finished:
        outcome = "ceiling"
    else:
        outcome = "incomplete"
    return {"outcome": outcome, "evaluated_steps": steps, "top_level": top,
            "top_recovery": tops, "level1_recovery": ones,
            "crossing_step": reached[0] if reached and level1_ok else None,
            "finished": finished}


_READINGS = {
    "CEILING": ("online level-(L-1) recovery never reached the criterion, or level 1 stayed "
                "below level1_min, in every decided L = 5 seed: the arm's growth with depth is "
                "an objective or optimisation ceiling, and the offline thresholds of the arm "
                "say nothing about samples"),
    "CROSSES": ("every decided L = 5 seed crossed: the next step is the offline P ladder at "
                "the crossing step count (about 2 CPU-hours; not run in this session, out of "
                "its budget)"),
    "MIXED": "the decided L = 5 seeds disagree: no reading",
    "INCOMPLETE": "fewer than min_seeds L = 5 seeds decided: no reading",
}


def sg_online_verdict(rows: Iterable[Mapping[str, Any]], exp: SGOnline | None = None
                      ) -> dict[str, Any]:
    """The registered reading of the experiment's rows.

    Each run gets :func:`seed_outcome`; the reading is taken on the deepest depth of
    ``exp.runs`` (``L = 5``): ``CEILING`` if every decided seed is a ceiling, ``CROSSES``
    if every decided seed crosses, ``MIXED`` otherwise, ``INCOMPLETE`` with fewer than
    ``min_seeds`` decided seeds. The shallower depth (``L = 3``) is reported beside it as a
    reference (it does not enter the reading).
    """
    e = exp or SGOnline()
    rows = list(rows)
    deep = max(L for L, _ in e.runs)
    per_run = {f"L={L},seed={seed}": {"L": L, "seed": seed,
                                      **seed_outcome(_recoveries(rows, L, seed), L, e)}
               for L, seed in e.runs}
    decided = [r["outcome"] for r in per_run.values()
               if r["L"] == deep and r["outcome"] != "incomplete"]
    if len(decided) < e.min_seeds:
        reading = "INCOMPLETE"
    elif all(o == "ceiling" for o in decided):
        reading = "CEILING"
    elif all(o == "crosses" for o in decided):
        reading = "CROSSES"
    else:
        reading = "MIXED"
    crossing = [r["crossing_step"] for r in per_run.values()
                if r["L"] == deep and r["crossing_step"] is not None]
    return {"reading": reading, "meaning": _READINGS[reading], "depth": deep,
            "criterion": e.criterion, "level1_min": e.level1_min,
            "decided_seeds": len(decided), "offline_ladder_steps": max(crossing, default=None),
            "runs": per_run}


def _run_dir(exp: SGOnline, L: int, seed: int) -> str:
    spec = exp.spec(L, seed)
    return f"{spec.name}_steps{spec.steps}_local{exp.module_start_every}"


def load_sg_online_rows(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every evaluation row written so far to ``out_dir/rows.jsonl`` (repeats: last wins)."""
    path = Path(out_dir) / "rows.jsonl"
    if not path.exists():
        return []
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        for r in json.loads(line)["rows"]:
            if r.get("value") is None:
                r["value"] = math.nan
            key = (r.get("L"), r.get("seed"), r.get("steps"), r.get("metric"), r.get("level"),
                   r.get("layer"))
            by_key[key] = r
    return list(by_key.values())


def run_sg_online(
    out_dir: str | Path,
    exp: SGOnline | None = None,
    *,
    deadline: float | None = None,
    checkpoint_every: int = 2500,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the registered experiment in ``out_dir``; return its verdict.

    ``out_dir/registration.json`` must hold ``exp`` (the registration is committed before
    the runs; another setting raises). Each evaluation appends one line to
    ``out_dir/rows.jsonl`` as soon as it exists; each run checkpoints under
    ``out_dir/runs/<run>/`` and writes ``done.json`` when finished, so a killed experiment
    resumes. No run starts after ``deadline`` (a ``time.time()`` value). The verdict is
    written to ``out_dir/verdict.json``.
    """
    from rhm_theory.model.params import RHMParams
    from rhm_theory.neural.evaluation import EvalConfig
    from rhm_theory.neural.experiments import model_config_from_dict, run_neural
    from rhm_theory.neural.training import TrainConfig

    e = exp or SGOnline()
    out = Path(out_dir)
    reg = out / "registration.json"
    if not reg.exists():
        raise ValueError(f"{reg} is missing: register the experiment (commit it) first")
    if SGOnline.from_dict(json.loads(reg.read_text())["experiment"]) != e:
        raise ValueError(f"{reg} registers other settings than the experiment run")
    jsonl = out / "rows.jsonl"
    for L, seed in e.runs:
        folder = out / "runs" / _run_dir(e, L, seed)
        if (folder / "done.json").exists():
            continue
        if deadline is not None and time.time() >= deadline:
            if progress is not None:
                progress(f"deadline passed: L={L} seed={seed} not started")
            continue
        spec = e.spec(L, seed)
        folder.mkdir(parents=True, exist_ok=True)

        def append(rows: list[dict[str, Any]], L: int = L, seed: int = seed) -> None:
            line = {"L": L, "seed": seed, "steps": rows[0]["steps"] if rows else None,
                    "time": time.time(), "rows": rows}
            with jsonl.open("a") as f:
                f.write(json.dumps(line) + "\n")
            if progress is not None:
                rec = {r["level"]: round(r["value"], 3) for r in rows
                       if r["metric"] == "recovery"}
                progress(f"L={L} seed={seed} steps={line['steps']} recovery {rec}")

        t0 = time.perf_counter()
        res = run_neural(
            spec.method, RHMParams(spec.v, spec.m, spec.s, spec.L), P=None,
            train_config=TrainConfig(steps=spec.steps, lr=spec.lr, seed=spec.seed,
                                     **e.train_overrides()),
            model_config=model_config_from_dict(spec.method, spec.model),
            batch_size=spec.batch_size, grammar_seed=spec.grammar_seed,
            data_seed=spec.data_seed, device="cpu", eval_config=EvalConfig(**spec.eval),
            eval_at=spec.eval_at, checkpoint=folder / "state.pt",
            checkpoint_every=checkpoint_every, on_rows=append)
        write_json(folder / "done.json", {"spec": spec.to_dict(),
                                          "train": e.train_overrides(),
                                          "seconds": time.perf_counter() - t0,
                                          "final_loss": res.rows[-1]["value"]})
    verdict = {"experiment": e.to_dict(), **sg_online_verdict(load_sg_online_rows(out), e)}
    write_json(out / "verdict.json", verdict)
    return verdict
