"""One vocabulary of decision words in the library, one mapping to verdicts in the checks."""

from __future__ import annotations

import typing

import pytest

from proofs_checks._framework import COMPARISON_VERDICTS, Verdict, comparison_verdict
from rhm_theory.sweeps import decisions, explore
from rhm_theory.sweeps.collapse import CollapseComparison


def test_each_word_list_has_its_literal_and_a_meaning() -> None:
    for words, literal, meanings in (
            (decisions.COMPARISON_DECISIONS, decisions.ComparisonDecision,
             decisions.COMPARISON_MEANINGS),
            (decisions.LAW_DECISIONS, decisions.LawDecision, decisions.LAW_MEANINGS),
            (decisions.SEPARATION_DECISIONS, decisions.SeparationDecision,
             decisions.SEPARATION_MEANINGS)):
        assert words == typing.get_args(literal)
        assert tuple(meanings) == words and all(meanings.values())


def test_collapse_speaks_the_comparison_words() -> None:
    # collapse.py types its decision inline (it was under edit elsewhere at issue 18); the
    # words must stay the ones decisions.py defines.
    hints = typing.get_type_hints(CollapseComparison.decision)
    assert typing.get_args(hints["return"]) == decisions.COMPARISON_DECISIONS


def test_the_checks_map_every_comparison_word_once() -> None:
    assert set(COMPARISON_VERDICTS) == set(decisions.COMPARISON_DECISIONS)
    assert [comparison_verdict(d) for d in decisions.COMPARISON_DECISIONS] == [
        Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE]


def test_old_names_warn_and_old_records_read() -> None:
    with pytest.warns(DeprecationWarning, match="separation_decisions"):
        from rhm_theory.sweeps.explore import separation_verdicts  # noqa: F401
    with pytest.warns(DeprecationWarning):
        assert explore.separation_verdicts is explore.separation_decisions
    with pytest.raises(AttributeError):
        _ = explore.no_such_name  # type: ignore[attr-defined]
    assert decisions.record_decision({"verdict": "survives"}) == "survives"
