"""CPU evidence for the neural validators (issue 13): plain top layer, level-1 invariance.

Trains data2vec (as published: FFN targets, block-only EMA, cosine decay) and the
token-level masked-LM baseline, same transformer, same online data, and prints the PRX
synonymic sensitivity ``S(top layer, level 1)`` (flattened top-layer outputs on unmasked
strings, no special readout) against the number of strings seen; then the per-step CPU
time of the planner's default (decisive-grid) models. Usage::

    python benchmarks/neural_cpu_evidence.py [--steps 1500] [--threads 1] [--json OUT]

Timings on a shared CPU are inflated by contention; say so when quoting them.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from rhm_theory.model.params import RHMParams
from rhm_theory.neural.data2vec import Data2VecConfig
from rhm_theory.neural.experiments import EvalConfig, run_neural
from rhm_theory.neural.training import TrainConfig


def evidence(steps: int, batch: int, v: int, m: int, L: int) -> dict[str, list[list[float]]]:
    params = RHMParams(v, m, 2, L)
    config = Data2VecConfig(depth=2, width=64, heads=4, top_k=2)
    evals = sorted({s for s in (4, 16, 32, 64, 125, 250, 500, 1000, 1500, 2000, 3000)
                    if s < steps} | {steps})
    ecfg = EvalConfig(n_probe_train=512, n_probe_test=512, probe_steps=300, pool="flatten",
                      n_sensitivity=512, seed=11)
    out: dict[str, list[list[float]]] = {}
    for method in ("data2vec", "mlm"):
        t0 = time.perf_counter()
        res = run_neural(method, params, P=None,
                         train_config=TrainConfig(steps=steps, lr=1e-3, warmup_steps=50,
                                                  seed=0),
                         model_config=config, batch_size=batch, grammar_seed=0, data_seed=1,
                         device="cpu", eval_config=ecfg, eval_at=evals)
        untrained = run_neural(method, params, P=None, train_config=TrainConfig(steps=0),
                               model_config=config, batch_size=batch, device="cpu",
                               eval_config=ecfg).rows
        top = config.depth
        curve = [[0.0, next(r["value"] for r in untrained if r["metric"] ==
                             "synonymic_sensitivity" and r["level"] == 1 and r["layer"] == top)]]
        curve += [[float(r["P"]), float(r["value"])] for r in res.rows
                  if r["metric"] == "synonymic_sensitivity" and r["level"] == 1
                  and r["layer"] == top]
        out[method] = curve
        print(f"{method}: S(top, level 1) vs strings seen ({time.perf_counter() - t0:.0f} s)")
        for seen, val in curve:
            print(f"  {int(seen):>8d}  {val:.3f}")
    return out


def step_times(repeats: int) -> dict[str, float]:
    from rhm_theory.neural.plan import measure_default_step_times

    return measure_default_step_times("cpu", batch_sizes=(256,), repeats=repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--v", type=int, default=8)
    ap.add_argument("--m", type=int, default=2)
    ap.add_argument("--L", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timing-repeats", type=int, default=3)
    ap.add_argument("--skip-evidence", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    doc: dict[str, object] = {"args": vars(args)}
    if not args.skip_evidence:
        doc["sensitivity_level1_top"] = evidence(args.steps, args.batch, args.v, args.m, args.L)
    if not args.skip_timing:
        doc["cpu_step_seconds"] = step_times(args.timing_repeats)
        print(json.dumps(doc["cpu_step_seconds"], indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    main()
