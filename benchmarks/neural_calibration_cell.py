"""data2vec calibration cell on CPU: does any probe cross the criterion (v=8, m=3, L=3)?

Trains data2vec with its published text defaults (:class:`Data2VecConfig`: layer-normed
top-K FFN targets, block-only EMA teacher 0.999 -> 0.9999 in absolute steps, gradient
clipping) on fresh strings (online), and after each evaluation step prints the root and
latent probe accuracies against the check's criterion (chance + half the way to 1) and the
share of the teacher targets' variance explained by position alone
(:func:`target_position_share`). Every evaluation is appended to ``OUT.jsonl`` as it
happens and the training state is checkpointed, so an interrupted run keeps its numbers
and resumes. Usage::

    python benchmarks/neural_calibration_cell.py --out DIR [--steps 20000] [--threads 1]

Nothing here is tuned: the settings are fixed before the run and the numbers are reported
whether or not a probe crosses.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from rhm_theory.model.params import RHMParams
from rhm_theory.model.spec import GrammarSpec
from rhm_theory.neural.data import RHMBatches, to_device
from rhm_theory.neural.data2vec import Data2VecConfig, target_position_share
from rhm_theory.neural.experiments import (
    EvalConfig,
    bayes_references,
    build_model,
    evaluate,
    probe_split,
)
from rhm_theory.neural.training import TrainConfig, train

EVAL_STEPS = (250, 1000, 2000, 5000, 10000, 20000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--target-norm", default="layer", choices=("layer", "instance"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = RHMParams(8, 3, 2, 3)
    dev = torch.device("cpu")
    config = Data2VecConfig(depth=2, width=64, heads=4, target_norm=args.target_norm)
    ecfg = EvalConfig(n_probe_train=1024, n_probe_test=1024, probe_steps=500,
                      n_sensitivity=256)
    grammar = GrammarSpec(params, "random", 0).build()
    model = build_model("data2vec", params, config, dev, seed=0)
    data = RHMBatches(grammar, args.batch, P=None, seed=1, device=dev)
    probe = probe_split(grammar, ecfg.n_probe_train, ecfg.n_probe_test, ecfg.seed)
    bayes = bayes_references(grammar, model, ecfg)
    test_tokens = to_device(probe[1].tokens, dev)
    log = out / f"calibration_{args.target_norm}.jsonl"
    t0 = time.perf_counter()

    def eval_fn(done: int) -> list[dict[str, Any]]:
        base = {"method": "data2vec", "regime": "online", **params.to_dict(), "seed": 0,
                "grammar_seed": 0, "P": data.samples_seen(done), "steps": done}
        rows = evaluate(model, grammar, probe, device=dev, config=ecfg, base=base,
                        bayes=bayes)
        share = target_position_share(model.targets(test_tokens))
        summary = {"steps": done, "strings_seen": data.samples_seen(done),
                   "target_position_share": share,
                   "seconds": round(time.perf_counter() - t0, 1),
                   "target_norm": args.target_norm}
        for r in rows:
            if r["metric"] in ("root_probe", "latent_probe"):
                summary[f"{r['metric']}[{r['level']}]"] = r["value"]
        with log.open("a") as fh:
            fh.write(json.dumps(summary) + "\n")
        print(json.dumps(summary), flush=True)
        return rows

    # Criterion of the checks (ACCURACY_FRACTION = 0.5): chance + (1 - chance) / 2.
    print(f"criterion: root {1 / 8 + 0.5 * 7 / 8:.4f}, latent {1 / 8 + 0.5 * 7 / 8:.4f}",
          flush=True)
    if not log.exists():  # the untrained model
        eval_fn(0)
    train(model, data, TrainConfig(steps=args.steps, seed=0, log_every=250),
          checkpoint=out / f"calibration_{args.target_norm}.pt", checkpoint_every=1000,
          eval_fn=eval_fn, eval_steps=[s for s in EVAL_STEPS if s <= args.steps])


if __name__ == "__main__":
    main()
