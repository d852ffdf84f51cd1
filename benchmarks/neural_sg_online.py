"""Run (or resume) the registered online stop-gradient experiment; write its verdict.

    PYTHONPATH=. python benchmarks/neural_sg_online.py --out benchmarks/neural_sg_online \
        --deadline 2026-12-07T22:20:00+00:00

One torch thread, runs one after another (``SGOnline.runs`` order); every evaluation is
appended to ``rows.jsonl`` as it happens. ``--verdict-only`` reads the rows and writes the
verdict without training.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="benchmarks/neural_sg_online")
    ap.add_argument("--deadline", default=None, help="ISO time after which no run starts")
    ap.add_argument("--verdict-only", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from rhm_theory.io import write_json
    from rhm_theory.neural.sg_online import (
        SGOnline,
        load_sg_online_rows,
        run_sg_online,
        sg_online_verdict,
    )

    out = Path(args.out)
    exp = SGOnline.from_dict(json.loads((out / "registration.json").read_text())["experiment"])
    if args.verdict_only:
        verdict = {"experiment": exp.to_dict(), **sg_online_verdict(load_sg_online_rows(out), exp)}
        write_json(out / "verdict.json", verdict)
    else:
        deadline = (dt.datetime.fromisoformat(args.deadline).timestamp()
                    if args.deadline else None)
        verdict = run_sg_online(out, exp, deadline=deadline,
                                progress=lambda s: print(s, file=sys.stderr, flush=True))
    print(json.dumps({k: verdict[k] for k in ("reading", "meaning", "decided_seeds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
