"""The neural validators' accuracies next to the Bayes-optimal values at the same mask."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from rhm_theory.inference import bayes_masked_token_baseline, bayes_root_baseline  # noqa: E402
from rhm_theory.model import RHMParams  # noqa: E402
from rhm_theory.model.spec import GrammarSpec  # noqa: E402
from rhm_theory.neural.data2vec import Data2VecConfig  # noqa: E402
from rhm_theory.neural.experiments import EvalConfig, mask_blocks, run_neural  # noqa: E402
from rhm_theory.neural.training import TrainConfig  # noqa: E402

pytestmark = pytest.mark.torch

# P_max = 32 strings: the probe's 32 training strings and 4096 test strings are then drawn
# independently with replacement, so Hoeffding bounds their accuracies.
PARAMS = RHMParams(v=4, m=2, s=2, L=2)
N_TEST = 4096
EVAL = EvalConfig(n_probe_train=32, n_probe_test=N_TEST, probe_steps=30, n_sensitivity=16,
                  seed=3)
#: Hoeffding: a mean of n independent per-string accuracies in [0, 1] is within
#: sqrt(log(2 / delta) / (2 n)) of its expectation except with probability delta = 1e-6;
#: the model's and the Bayes estimate each get that margin.
TOLERANCE = 2 * math.sqrt(math.log(2 / 1e-6) / (2 * N_TEST))


def _row(rows: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    hits = [r for r in rows if r["metric"] == metric]
    assert hits, metric
    return hits[-1]


@pytest.mark.parametrize(("span", "align"), [(1, False), (2, True)])
def test_mlm_accuracies_sit_below_the_exact_bayes_values(span: int, align: bool) -> None:
    torch.set_num_threads(1)
    cfg = Data2VecConfig(depth=1, width=16, heads=2, top_k=1, mask_ratio=0.5, mask_span=span,
                         mask_align=align)
    res = run_neural("mlm", PARAMS, P=None, model_config=cfg, batch_size=32, device="cpu",
                     train_config=TrainConfig(steps=40, seed=0, lr=3e-3), eval_config=EVAL)
    grammar = GrammarSpec(PARAMS, "random", 0).build()
    frac, level = 0.5, (0 if span == 1 else 1)
    assert mask_blocks(PARAMS, cfg) == (frac, level)
    root, masked = _row(res.rows, "root_probe"), _row(res.rows, "masked_prediction")
    # The records carry the inference package's exact BP values at the same mask.
    assert root["bayes_root_accuracy"] == bayes_root_baseline(grammar, N_TEST, 3).accuracy
    assert root["bayes_root_accuracy"] == 1.0  # an unambiguous grammar, unmasked strings
    want = bayes_masked_token_baseline(grammar, N_TEST, 3, frac, block_level=level).accuracy
    assert masked["bayes_masked_accuracy"] == want
    assert (masked["mask_frac"], masked["block_level"]) == (frac, level)
    # No predictor of the hidden tokens beats the posterior mode (up to sampling error).
    assert masked["value"] <= masked["bayes_masked_accuracy"] + TOLERANCE
    assert root["value"] <= root["bayes_root_accuracy"]
    assert 0.25 < want < 1.0  # hidden tokens are neither free nor hopeless


def test_data2vec_and_slc_records_carry_the_root_reference_only() -> None:
    torch.set_num_threads(1)
    small = EvalConfig(n_probe_train=32, n_probe_test=64, probe_steps=5, n_sensitivity=16,
                       seed=3)
    grammar = GrammarSpec(PARAMS, "random", 0).build()
    for method in ("data2vec", "slc"):
        cfg = Data2VecConfig(depth=1, width=16, heads=2, top_k=1) if method == "data2vec" else None
        rows = run_neural(method, PARAMS, P=None, model_config=cfg, batch_size=16,
                          device="cpu", train_config=TrainConfig(steps=3, seed=0),
                          eval_config=small).rows
        assert _row(rows, "root_probe")["bayes_root_accuracy"] == bayes_root_baseline(
            grammar, 64, 3).accuracy
        assert not any(r["metric"] == "masked_prediction" for r in rows)


def test_unaligned_spans_have_no_block_reference() -> None:
    p = RHMParams(v=4, m=2, s=2, L=3)
    assert mask_blocks(p, Data2VecConfig(mask_span=2)) is None  # spans may overlap
    assert mask_blocks(p, Data2VecConfig(mask_span=3, mask_align=False)) is None
    assert mask_blocks(p, Data2VecConfig(mask_ratio=0.01)) == (1 / 8, 0)  # at least one


def test_cli_shows_the_bayes_column(capsys: pytest.CaptureFixture[str]) -> None:
    from rhm_theory.cli import main

    base = ["mlm", "--v", "4", "--L", "2", "--steps", "3", "--batch-size", "16",
            "--probe-steps", "5", "--probe-train", "32", "--probe-test", "64", "--device",
            "cpu", "--threads", "1", "--width", "16", "--heads", "2", "--depth", "1",
            "--top-k", "1"]
    assert main(base) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[-1] == "bayes"
    line = next(x for x in table if " masked_prediction " in x)
    grammar = GrammarSpec(PARAMS, "random", 0).build()
    want = bayes_masked_token_baseline(grammar, 64, 10_007, 0.5).accuracy
    assert float(line.split()[-1]) == pytest.approx(want, abs=5e-4)
    assert main([*base, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert _row(rows, "masked_prediction")["bayes_masked_accuracy"] == want
