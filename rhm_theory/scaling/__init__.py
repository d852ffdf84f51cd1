"""Statistics of the threshold ``P*``: thresholds, laws, fits, noise, decisions."""

from rhm_theory.scaling.threshold import (
    THRESHOLD_KINDS,
    THRESHOLD_RULE,
    Threshold,
    ThresholdKind,
    isotonic_fit,
    threshold_from_curve,
)

__all__ = [
    "THRESHOLD_KINDS",
    "THRESHOLD_RULE",
    "Threshold",
    "ThresholdKind",
    "isotonic_fit",
    "threshold_from_curve",
]
