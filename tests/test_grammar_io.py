"""Grammar files: round trip, compact layout, and one clear error per corruption mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rhm_theory.model import RHMParams, balanced_grammar, random_grammar
from rhm_theory.model.grammar_io import (
    FORMAT_NAME,
    GrammarFileError,
    dumps_grammar,
    grammar_from_dict,
    grammar_to_dict,
    load_grammar,
    save_grammar,
)


def test_round_trip(tmp_path: Path) -> None:
    for g in (
        random_grammar(RHMParams(v=6, m=3, s=2, L=3, n_c=4), seed=0),
        balanced_grammar(RHMParams(v=4, m=2, s=3, L=2), seed=1),
        random_grammar(RHMParams(v=300, m=1, s=2, L=1), seed=2),
    ):
        path = tmp_path / "g.json"
        save_grammar(g, path)
        assert load_grammar(path) == g
        assert load_grammar(str(path)) == g
        assert grammar_from_dict(grammar_to_dict(g)) == g
        assert json.loads(path.read_text()) == grammar_to_dict(g)


@given(v=st.integers(2, 5), s=st.integers(2, 3), L=st.integers(1, 3), seed=st.integers(0, 99))
def test_round_trip_property(v: int, s: int, L: int, seed: int) -> None:
    g = random_grammar(RHMParams(v=v, m=1, s=s, L=L), seed=seed)
    assert grammar_from_dict(json.loads(dumps_grammar(g))) == g


def test_file_is_compact(tmp_path: Path) -> None:
    p = RHMParams(v=32, m=8, s=2, L=8)
    g = random_grammar(p, seed=0)
    path = tmp_path / "g.json"
    save_grammar(g, path)
    text = path.read_text()
    lines = text.splitlines()
    # One line per symbol's rules (and weights) plus two bracket lines per level, the
    # header, two section openers and the root prior.
    n_sym = sum(p.vocab(lv) for lv in range(1, 9))
    assert len(lines) == 2 * (n_sym + 2 * 8 + 2) + 1
    assert len(text) < 60 * sum(p.n_rules(lv) for lv in range(1, 9))
    assert lines[0].startswith('{"format": "rhm-grammar", "version": 2, "v": 32')


def _good(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    g = random_grammar(RHMParams(v=3, m=2, s=2, L=2, n_c=2), seed=0)
    path = tmp_path / "bad.json"
    return path, grammar_to_dict(g)


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        d[key] = value

    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.pop(key)


def _rule(level: int, a: int, r: int, value: list[int]) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        d["rules"][level - 1][a][r] = value

    return edit


CORRUPTIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("format", _set("format", "other"), r"'format' must be 'rhm-grammar', got 'other'"),
    ("no-format", _drop("format"), r"'format' must be 'rhm-grammar', got None"),
    ("version", _set("version", 3), r"unsupported 'version' 3"),
    ("version-bool", _set("version", True), r"unsupported 'version' True"),
    ("missing-probs", _drop("rule_probs"), r"missing key\(s\) \['rule_probs'\]"),
    ("missing-root", _drop("root_probs"), r"missing key\(s\) \['root_probs'\]"),
    ("probs-type", _set("rule_probs", "uniform"), r"'rule_probs' must be a list of L=2"),
    ("ambiguous-type", _set("allow_ambiguous", 1), r"'allow_ambiguous' must be true or false"),
    (
        "probs-negative",
        lambda d: d["rule_probs"][0].__setitem__(0, [1.5, -0.5]),
        r"rule_probs of level 1 must be non-negative",
    ),
    (
        "probs-sum",
        lambda d: d["rule_probs"][1].__setitem__(1, [0.5, 0.6]),
        r"rule_probs of level 2 must have rows summing to 1 within 1e-09; row 1",
    ),
    (
        "probs-shape",
        lambda d: d["rule_probs"][0].pop(),
        r"rule_probs of level 1 must have shape \(3, 2\)",
    ),
    (
        "probs-string",
        lambda d: d["rule_probs"][0].__setitem__(0, ["0.5", 0.5]),
        r"rule_probs of level 1 must hold numbers only",
    ),
    ("root-sum", _set("root_probs", [0.5, 0.6]), r"root_probs must have rows summing to 1"),
    ("root-shape", _set("root_probs", [1.0]), r"root_probs must have shape \(2\)"),
    ("missing-m", _drop("m"), r"missing key\(s\) \['m'\]"),
    ("missing-rules", _drop("rules"), r"missing key\(s\) \['rules'\]"),
    ("float-param", _set("v", 3.0), r"'v' must be an integer, got 3\.0"),
    ("bool-param", _set("L", True), r"'L' must be an integer, got True"),
    ("bad-params", _set("m", 9), r"bad parameters: m must satisfy m <= v\*\*\(s-1\)"),
    ("rules-type", _set("rules", {"1": []}), r"'rules' must be a list of L=2 tables"),
    ("n-tables", _set("rules", [[]]), r"'rules' must hold L=2 tables \(one per level\), got 1"),
    (
        "shape-L",
        lambda d: d["rules"][1].pop(),
        r"rules of level 2 must have shape .* = \(2, 2, 2\)",
    ),
    ("shape-s", _rule(1, 0, 0, [0, 1, 2]), r"rules of level 1 must have shape"),
    ("range", _rule(1, 0, 0, [0, 3]), r"\[0, v\) = \[0, 3\), found values in \[0, 3\]"),
    ("negative", _rule(1, 0, 0, [-1, 0]), r"found values in \[-1,"),
    ("float", _rule(1, 0, 0, [0.0, 1]), r"rules of level 1 must hold integers only"),
    ("string", _rule(2, 1, 1, ["0", 1]), r"rules of level 2 must hold integers only"),
]


@pytest.mark.parametrize(
    ("edit", "match"), [(e, m) for _, e, m in CORRUPTIONS], ids=[n for n, _, _ in CORRUPTIONS]
)
def test_corruptions_fail_with_named_problem(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], match: str
) -> None:
    path, d = _good(tmp_path)
    edit(d)
    path.write_text(json.dumps(d))
    with pytest.raises(GrammarFileError, match=match) as info:
        load_grammar(path)
    assert str(path) in str(info.value) and info.value.path == str(path)
    assert isinstance(info.value, ValueError)


def test_duplicated_and_ambiguous_rules(tmp_path: Path) -> None:
    path, d = _good(tmp_path)
    rules = d["rules"][0]
    rules[0][1] = list(rules[0][0])  # symbol 0 repeats its first rule
    path.write_text(json.dumps(d))
    with pytest.raises(GrammarFileError, match=r"symbol 0 lists the tuple .* twice") as info:
        load_grammar(path)
    assert isinstance(info.value.__cause__, ValueError)

    path, d = _good(tmp_path)
    d["rules"][1][1][0] = list(d["rules"][1][0][0])  # root symbols 0 and 1 share a tuple
    path.write_text(json.dumps(d))
    with pytest.raises(GrammarFileError, match=r"rules of level 2 are ambiguous"):
        load_grammar(path)


def test_truncated_and_non_object_files(tmp_path: Path) -> None:
    g = random_grammar(RHMParams(v=3, m=2, s=2, L=2), seed=0)
    path = tmp_path / "g.json"
    save_grammar(g, path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(GrammarFileError, match=r"g\.json: .*not valid JSON \(truncated") as info:
        load_grammar(path)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)
    path.write_text("")
    with pytest.raises(GrammarFileError,
                       match=r"g\.json: invalid rhm-grammar file: the file is empty"):
        load_grammar(path)
    path.write_text("[1, 2]")
    with pytest.raises(GrammarFileError, match=r"top level must be a JSON object, got list"):
        load_grammar(path)
    with pytest.raises(FileNotFoundError):
        load_grammar(tmp_path / "missing.json")


def test_dict_errors_without_path_and_type_checks() -> None:
    with pytest.raises(GrammarFileError, match=rf"^invalid {FORMAT_NAME} file: 'format'"):
        grammar_from_dict({"format": "x"})
    with pytest.raises(TypeError, match=r"grammar must be a Grammar"):
        grammar_to_dict("not a grammar")  # type: ignore[arg-type]


def test_version_1_file_loads_with_uniform_weights(tmp_path: Path) -> None:
    g = random_grammar(RHMParams(v=3, m=2, s=2, L=2, n_c=2), seed=0)
    d = grammar_to_dict(g)
    for key in ("rule_probs", "root_probs", "allow_ambiguous"):
        d.pop(key)
    d["version"] = 1
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(d))
    assert load_grammar(path) == g


def test_weighted_ambiguous_round_trip(tmp_path: Path) -> None:
    from rhm_theory.model import GrammarSpec

    spec = GrammarSpec(
        RHMParams(v=5, m=3, s=3, L=2), seed=4, rule_probs="lognormal:1.3",
        root_probs="zipf:0.5", ambiguity=0.2,
    )
    g = spec.build()
    assert g.is_ambiguous and not g.is_uniform
    path = tmp_path / "w.json"
    save_grammar(g, path)
    back = load_grammar(path)
    assert back == g and hash(back) == hash(g)
    # Bit-exact floats (Python's repr round trip), not merely close ones.
    for a, b in zip(back.rule_probs, g.rule_probs, strict=True):
        assert a.tobytes() == b.tobytes()


def test_ambiguous_file_must_say_so(tmp_path: Path) -> None:
    from rhm_theory.model import GrammarSpec

    g = GrammarSpec(RHMParams(v=5, m=3, s=2, L=2), seed=1, ambiguity=0.2).build()
    d = grammar_to_dict(g)
    d["allow_ambiguous"] = False
    path = tmp_path / "amb.json"
    path.write_text(json.dumps(d))
    with pytest.raises(GrammarFileError, match=r"ambiguous: tuple .* produced by symbols"):
        load_grammar(path)
