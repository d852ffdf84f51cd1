"""Empirical statistics of RHM corpora: streaming tuple x context counts and their vectors."""

from rhm_theory.empirical.counts import MAX_COUNT_CELLS, ContextCounts

__all__ = ["MAX_COUNT_CELLS", "ContextCounts"]
