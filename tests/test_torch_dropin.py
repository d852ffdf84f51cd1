"""rhm_theory.torch: the drop-in RandomHierarchyModel against a transcription of the community
code (torch.Generator draws, random.sample indices), the rules bridges, and RHMStream."""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rhm_theory.model import RHMParams, load_grammar, random_grammar, sample, save_grammar
from rhm_theory.model.community import community_grammar
from tests.test_community import reference_decode, reference_sample_rules
from tests.test_neural_import import _run

torch = pytest.importorskip("torch")
F = torch.nn.functional

from rhm_theory.torch import (  # noqa: E402
    RandomHierarchyModel,
    RHMStream,
    load_community_rules,
    sample_rules,
    save_community_rules,
)

pytestmark = pytest.mark.torch


def community_data(v: int, n: int, m: int, s: int, L: int, seed_rules: int, seed_sample: int,
                   train_size: int, test_size: int, replacement: bool) -> tuple[Any, Any]:
    """The community's data path: sample_rules, then sample_with_replacement (a seeded
    torch.Generator: labels, then one randint per level, gathered in the rules) or
    sample_without_replacement (random.sample of indices, decoded level by level)."""
    rules = {i: torch.as_tensor(t) for i, t in
             reference_sample_rules(v, n, m, s, L, seed_rules).items()}
    if replacement:
        g = torch.Generator()
        g.manual_seed(seed_sample)
        y = torch.randint(low=0, high=n, size=(train_size + test_size,), generator=g)
        x = y[:, None]
        for i in range(L):
            chosen = torch.randint(low=0, high=m, size=x.shape, generator=g)
            x = rules[i][x, chosen].flatten(start_dim=1)
        return x, y
    max_data = n * m ** ((s**L - 1) // (s - 1))
    if train_size == -1:
        indices = list(range(max_data))
    else:
        test_size = min(test_size, max_data - train_size)
        indices = random.Random(seed_sample).sample(range(max_data), train_size + test_size)
    decoded = [reference_decode(i, rules, n, m, s, L) for i in indices]
    return torch.tensor([d[0] for d in decoded]), torch.tensor([d[1] for d in decoded])


def community_encoding(x: Any, v: int, input_format: str, whitening: int) -> Any:
    if "onehot" in input_format:
        f = F.one_hot(x.long(), num_classes=v).float()
        if whitening:
            f = (f - 1.0 / v) * (1.0 - 1.0 / v) ** -0.5
        return f.permute(0, 2, 1).reshape(f.shape[0], -1)
    return x.long() + 1


CASES = [  # (v, n, m, s, L, train, test, replacement)
    (8, 2, 2, 2, 3, 300, 50, True),
    (8, 2, 2, 2, 4, 300, 50, False),
    (4, 4, 2, 2, 4, 500, 0, True),
    (4, 4, 2, 2, 4, 500, 100, False),
    (3, 3, 3, 3, 2, 200, 30, True),
    (3, 3, 3, 3, 2, 200, 30, False),
    (16, 8, 4, 2, 2, 1000, 0, True),
    (5, 5, 1, 2, 3, -1, 0, False),  # every tree, in index order
]


@pytest.mark.parametrize("case", CASES)
def test_data_are_the_communitys(case: tuple[Any, ...]) -> None:
    v, n, m, s, L, train, test, replacement = case
    for seeds in ((0, 1), (7, 123)):
        ref_x, ref_y = community_data(v, n, m, s, L, *seeds, train, test, replacement)
        d = RandomHierarchyModel(v, n, m, s, L, *seeds, train, test, input_format="long",
                                 replacement=replacement)
        assert torch.equal(d.labels, ref_y) and d.labels.dtype == torch.int64
        assert torch.equal(d.tokens.long(), ref_x)
        assert torch.equal(d.features, ref_x.long() + 1)
        bad = d.tokens.long().clone()  # the comparison sees one changed position
        bad[-1, -1] = (bad[-1, -1] + 1) % v
        assert not torch.equal(bad, ref_x)
        assert all(torch.equal(d.rules[i], torch.as_tensor(t)) for i, t in
                   reference_sample_rules(v, n, m, s, L, seeds[0]).items())


@pytest.mark.parametrize("input_format,whitening", [("onehot", 0), ("onehot", 1), ("long", 0)])
def test_items_and_features_are_encoded_as_the_communitys(input_format: str,
                                                          whitening: int) -> None:
    ref_x, ref_y = community_data(8, 2, 2, 2, 3, 3, 4, 64, 16, True)
    d = RandomHierarchyModel(8, 2, 2, 2, 3, seed_rules=3, seed_sample=4, train_size=64,
                             test_size=16, input_format=input_format, whitening=whitening,
                             replacement=True)
    ref = community_encoding(ref_x, 8, input_format, whitening)
    assert torch.equal(d.features, ref) and d.features.dtype == ref.dtype
    assert len(d) == 80 and d.tokens.dtype == torch.uint8
    for idx in (0, 17, slice(3, 9), torch.tensor([5, 1, 60])):
        x, y = d[idx]
        assert torch.equal(x, ref[idx]) and torch.equal(y, ref_y[idx])
    assert d.get_rules() is d.rules
    loader = torch.utils.data.DataLoader(d, batch_size=32)
    xb, yb = next(iter(loader))
    assert torch.equal(xb, ref[:32]) and torch.equal(yb, ref_y[:32])


def test_transform_and_bad_input() -> None:
    d = RandomHierarchyModel(8, 2, 2, 2, 2, train_size=10, replacement=True,
                             transform=lambda x, y: (x * 2, y + 1))
    x, y = d[0]
    assert float(x.max()) == 2.0 and int(y) == int(d.labels[0]) + 1
    noisy = d.features + 0.5  # code that edits the features: items read the stored tensor
    d.features = noisy
    assert d.features is noisy and torch.equal(d[3][0], 2 * noisy[3])
    with pytest.raises(ValueError, match="features must be a tensor of 10 rows"):
        d.features = noisy[:5]
    with pytest.raises(ValueError, match="input_format must contain"):
        RandomHierarchyModel(8, 2, 2, 2, 2, train_size=4, input_format="binary")
    with pytest.raises(ValueError, match="whitening is only implemented"):
        RandomHierarchyModel(8, 2, 2, 2, 2, train_size=4, input_format="long", whitening=1)
    with pytest.raises(ValueError, match="train_size must satisfy"):
        RandomHierarchyModel(4, 2, 1, 2, 1, train_size=3)
    with pytest.raises(ValueError, match="sampler must be one of"):
        RandomHierarchyModel(8, 2, 2, 2, 2, train_size=4, sampler="torch")


def test_with_replacement_and_train_size_minus_one_warns_like_the_community() -> None:
    with pytest.warns(RuntimeWarning, match="train_size=1e6"):
        d = RandomHierarchyModel(4, 2, 1, 2, 1, train_size=-1, replacement=True)
    assert len(d) == 10**6


def test_beyond_int64_switches_to_replacement_or_samples_exactly() -> None:
    """P_max = 4 * 2**63 > 1e19: the community's switch (with its data), or exact distinct
    trees through Python integers."""
    args = (4, 4, 2, 2, 6)
    with pytest.warns(RuntimeWarning, match="cannot be represented with int64"):
        d = RandomHierarchyModel(*args, seed_sample=3, train_size=200, input_format="long")
    ref_x, ref_y = community_data(*args, 0, 3, 200, 0, True)
    assert d.replacement and torch.equal(d.tokens.long(), ref_x) and torch.equal(d.labels, ref_y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = RandomHierarchyModel(*args, seed_sample=3, train_size=200, input_format="long",
                                 beyond_int64="exact")
    assert not e.replacement
    assert len({row.numpy().tobytes() for row in e.tokens}) == 200


def test_the_library_sampler_option() -> None:
    d = RandomHierarchyModel(8, 4, 2, 2, 4, seed_rules=2, seed_sample=5, train_size=300,
                             input_format="long", replacement=True, sampler="rhm_theory")
    x = sample(d.grammar, 300, 5, latents=True)
    assert np.array_equal(d.tokens.numpy(), x.tokens) and np.array_equal(d.labels, x.labels)
    e = RandomHierarchyModel(8, 4, 2, 2, 4, seed_rules=2, seed_sample=5, train_size=300,
                             input_format="long", sampler="rhm_theory")
    assert len({row.numpy().tobytes() for row in e.tokens}) == 300


@pytest.mark.parametrize("shape", [(8, 2, 2, 2, 3), (3, 3, 3, 3, 2), (10, 10, 3, 2, 1)])
def test_sample_rules_and_rules_files(shape: tuple[int, ...], tmp_path: Path) -> None:
    v, n, m, s, L = shape
    rules = sample_rules(v, n, m, s, L, seed=42)
    ref = reference_sample_rules(v, n, m, s, L, 42)
    assert all(torch.equal(rules[i], torch.as_tensor(ref[i])) for i in range(L))
    g = community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), 42)
    torch.save(rules, tmp_path / "rules.pt")  # what a researcher has from a run
    assert load_community_rules(tmp_path / "rules.pt", num_features=v) == g
    torch.save({"rules": rules, "args": "x"}, tmp_path / "ckpt.pt")
    assert load_community_rules(tmp_path / "ckpt.pt", num_features=v) == g
    save_community_rules(g, tmp_path / "back.pt")
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    assert sorted(back) == list(range(L)) and all(torch.equal(back[i], rules[i]) for i in back)
    save_grammar(g, tmp_path / "g.json")  # the file rhm-theory exact / bp read
    assert load_grammar(tmp_path / "g.json") == g


def _stream_tokens(stream: RHMStream, workers: int) -> tuple[Any, Any]:
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=workers)
    batches = list(loader)
    return torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])


def test_stream_is_the_same_for_any_workers_and_batch_size() -> None:
    g = random_grammar(RHMParams(v=8, m=2, s=2, L=4), seed=0)
    n = 1000
    ref = sample(g, n, 9, latents=True)
    for batch_size in (1, 64, 333):
        for workers in ((0, 1, 2) if batch_size != 1 else (0,)):
            tokens, labels = _stream_tokens(
                RHMStream(g, seed=9, batch_size=batch_size, num_strings=n), workers)
            assert np.array_equal(tokens.numpy(), ref.tokens), (batch_size, workers)
            assert np.array_equal(labels.numpy(), ref.labels), (batch_size, workers)


def test_stream_latents_start_and_endless() -> None:
    g = random_grammar(RHMParams(v=8, m=3, s=2, L=3), seed=1)
    ref = sample(g, 50, 2, latents=True, start=100)
    items = list(RHMStream(g, seed=2, batch_size=20, num_strings=50, start=100, latents=True,
                           long=False))
    assert [len(it[0]) for it in items] == [20, 20, 10]
    assert items[0][0].dtype == torch.uint8 and len(items[0]) == 2 + g.params.L
    for level in range(1, g.params.L + 1):
        got = torch.cat([it[1 + level] for it in items]).numpy()
        assert np.array_equal(got, ref.level(level))
    endless = iter(RHMStream(g, seed=2, batch_size=30, labels=False))
    first = [next(endless) for _ in range(5)]
    assert len(first[0]) == 1 and all(len(b[0]) == 30 for b in first)
    assert np.array_equal(torch.cat([b[0] for b in first]).numpy(), sample(g, 150, 2).tokens)
    with pytest.raises(TypeError, match="Grammar or a GrammarSpec"):
        RHMStream("g")  # type: ignore[arg-type]


def test_rhm_theory_torch_imports_without_torch() -> None:
    proc = _run(
        """
        import rhm_theory.torch as t
        from rhm_theory.model.community import community_grammar, community_sample
        from rhm_theory.model import RHMParams
        g = community_grammar(RHMParams(v=8, m=2, s=2, L=3), 0)
        assert community_sample(g, 10, 1, replace=True)[0].tokens.shape == (10, 8)
        try:
            t.RHMStream
        except ImportError as exc:
            assert "rhm-theory[torch]" in str(exc), exc
        else:
            raise AssertionError("no ImportError")
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_stream_memory_is_flat_in_the_number_of_strings() -> None:
    """Traced host memory while streaming 400 batches stays within a few batches."""
    import tracemalloc

    g = random_grammar(RHMParams(v=8, m=2, s=2, L=6), seed=0)
    stream = RHMStream(g, seed=1, batch_size=512, num_strings=400 * 512, long=False)
    batch_bytes = 512 * (g.params.string_length + g.params.n_internal_nodes)
    next(iter(stream))  # compile and warm up outside the trace
    tracemalloc.start()
    try:
        count = sum(len(item[0]) for item in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 400 * 512
    assert peak < 8 * batch_bytes, (peak, batch_bytes)  # 400 batches would be 400x
