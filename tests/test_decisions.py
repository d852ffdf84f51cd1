"""One vocabulary of decision words in the library, one mapping to verdicts in the checks."""

from __future__ import annotations

import typing

from proofs_checks._framework import DECISION_VERDICTS, Verdict, decision_verdict
from rhm_theory import scaling
from rhm_theory.sweeps import decisions


def test_each_word_list_has_its_literal_and_a_meaning() -> None:
    for words, literal, meanings in (
            (scaling.DECISIONS, scaling.Decision, scaling.DECISION_MEANINGS),
            (decisions.SEPARATION_DECISIONS, decisions.SeparationDecision,
             decisions.SEPARATION_MEANINGS)):
        assert words == typing.get_args(literal)
        assert tuple(meanings) == words and all(meanings.values())


def test_the_rule_speaks_the_decision_words() -> None:
    hints = typing.get_type_hints(scaling.ScalingDecision)
    assert typing.get_args(hints["decision"]) == scaling.DECISIONS


def test_the_checks_map_every_decision_word_once() -> None:
    assert set(DECISION_VERDICTS) == set(scaling.DECISIONS)
    assert [decision_verdict(d) for d in scaling.DECISIONS] == [
        Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE]
