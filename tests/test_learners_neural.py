"""Neural models behind the learner protocol (skipped without PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from rhm_theory.learners import LearnerCell, score_learner, scoring_mode
from rhm_theory.learners.neural import Data2VecLearner, SLCLearner
from rhm_theory.model.sampling import sample


@pytest.mark.parametrize("cls", [SLCLearner, Data2VecLearner])
def test_neural_learners_fit_and_are_scored(cls: type) -> None:
    cell = LearnerCell(4, 2, 2, 3, 4, 64, 0, 1000)
    g = cell.grammar()
    method = "slc" if cls is SLCLearner else "data2vec"
    learner = cls(cell.params, method, steps=3, batch_size=16, seed=0)
    learner.fit(sample(g, cell.P, cell.data_seed).tokens)
    mode = scoring_mode(learner)
    assert mode == ("latents" if cls is SLCLearner else "transform")
    scores = score_learner(learner, g, (1, 2), n_test=40, n_probe=40, seed=0)
    assert [s.level for s in scores] == [1, 2]
    assert all(0.0 <= s.accuracy <= 1.0 for s in scores)
    # Same seed, same data: the same predictions (reproducible training).
    again = cls(cell.params, method, steps=3, batch_size=16, seed=0)
    again.fit(sample(g, cell.P, cell.data_seed).tokens)
    tok = sample(g, 5, 3).tokens
    if cls is SLCLearner:
        assert np.array_equal(learner.predict_latents(tok, 1), again.predict_latents(tok, 1))
    else:
        assert np.allclose(learner.transform(tok), again.transform(tok))
    with pytest.raises(ValueError, match="tokens must have shape"):
        learner.fit(np.zeros((3, 5), dtype=np.int64))
