"""The library's one seed convention, ``validation.check_random_state``."""

from __future__ import annotations

import numpy as np
import pytest

from rhm_theory.validation import check_random_state


@pytest.mark.parametrize("seed", [0, 7, 2**32 + 5, 2**64 - 1])
def test_plain_seed_is_default_rng_stream(seed: int) -> None:
    # Code moved from default_rng(seed) onto check_random_state(seed) keeps its numbers.
    a = check_random_state(seed).integers(0, 2**62, size=8)
    b = np.random.default_rng(seed).integers(0, 2**62, size=8)
    assert a.tolist() == b.tolist()


def test_stream_tag_is_a_separate_stream() -> None:
    a = check_random_state(3, 0x10C9).integers(0, 2**62, size=8)
    assert a.tolist() == np.random.default_rng([3, 0x10C9]).integers(0, 2**62, size=8).tolist()
    assert a.tolist() != check_random_state(3).integers(0, 2**62, size=8).tolist()


def test_generator_passes_through() -> None:
    rng = np.random.default_rng(1)
    assert check_random_state(rng) is rng


def test_bad_seeds() -> None:
    with pytest.raises(TypeError, match="seed"):
        check_random_state(None)
    with pytest.raises(ValueError, match="seed"):
        check_random_state(-1)
    with pytest.raises(ValueError, match="stream"):
        check_random_state(1, -2)
