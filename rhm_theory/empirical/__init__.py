"""Empirical statistics of RHM corpora: streaming tuple x context counts and their vectors."""

from rhm_theory.empirical.counts import MAX_COUNT_CELLS, ContextCounts
from rhm_theory.empirical.errors import ErrorCurve, context_vector_error_curves

__all__ = ["MAX_COUNT_CELLS", "ContextCounts", "ErrorCurve", "context_vector_error_curves"]
