"""Statistics of the threshold ``P*``: one threshold, one law, one fit, one decision.

Modules: :mod:`~rhm_theory.scaling.threshold` (a success curve to an interval-censored
``P*``), :mod:`~rhm_theory.scaling.law` (laws parsed, named and bracketed by near
alternatives), :mod:`~rhm_theory.scaling.fit` (interval-censored, cluster-robust
log-linear fits), :mod:`~rhm_theory.scaling.noise` (the noise of ``log P*``, fitted and
simulated), :mod:`~rhm_theory.scaling.decision` (the decision rule and its error rates in
both directions), :mod:`~rhm_theory.scaling.design` (which grid would decide),
:mod:`~rhm_theory.scaling.prediction` (a quantitative prediction against a naive law) and
:mod:`~rhm_theory.scaling.rows` (thresholds from another code, read from a file).
"""

from rhm_theory.scaling.decision import (
    ALPHA,
    AXIS_WORDS,
    DECISION_MEANINGS,
    DECISIONS,
    FAIL_ALPHA,
    FALSE_FAIL_MAX,
    FALSE_PASS_MAX,
    POWER_MIN,
    Assessment,
    AxisOutcome,
    AxisTest,
    Calibration,
    Decision,
    Margins,
    Power,
    Rule,
    ScalingDecision,
    assess,
    calibrate,
    decide,
    decision_counts,
)
from rhm_theory.scaling.design import (
    GRID_EXTENSIONS,
    SUGGEST_N_SIM,
    GridScale,
    extend_grid,
    power_with_suggestion,
    suggest_grid,
)
from rhm_theory.scaling.fit import (
    AXIS_COLUMNS,
    LogLinearFit,
    Offset,
    config_intervals,
    interval_regression,
    loglinear_fit,
    run_intervals,
    shares_grammar_seeds,
)
from rhm_theory.scaling.law import (
    LAW_NAMES,
    NAMED_LAWS,
    Law,
    LawPoint,
    law,
    near_alternatives,
    parse_law,
)
from rhm_theory.scaling.noise import (
    LogScale,
    NoiseModel,
    fit_noise_model,
    law_level,
    simulate_points,
)
from rhm_theory.scaling.prediction import N_BOOT_SCATTER, log_scatter_comparison
from rhm_theory.scaling.rows import (
    ROW_COLUMNS,
    RowError,
    read_threshold_rows,
    threshold_rows,
)
from rhm_theory.scaling.threshold import (
    THRESHOLD_KINDS,
    THRESHOLD_RULE,
    Threshold,
    ThresholdKind,
    ThresholdPoint,
    isotonic_fit,
    threshold_from_curve,
)

__all__ = [
    "ALPHA",
    "AXIS_COLUMNS",
    "AXIS_WORDS",
    "DECISIONS",
    "DECISION_MEANINGS",
    "FAIL_ALPHA",
    "FALSE_FAIL_MAX",
    "FALSE_PASS_MAX",
    "GRID_EXTENSIONS",
    "LAW_NAMES",
    "NAMED_LAWS",
    "N_BOOT_SCATTER",
    "POWER_MIN",
    "ROW_COLUMNS",
    "SUGGEST_N_SIM",
    "THRESHOLD_KINDS",
    "THRESHOLD_RULE",
    "Assessment",
    "AxisOutcome",
    "AxisTest",
    "Calibration",
    "Decision",
    "GridScale",
    "Law",
    "LawPoint",
    "LogLinearFit",
    "LogScale",
    "Margins",
    "NoiseModel",
    "Offset",
    "Power",
    "RowError",
    "Rule",
    "ScalingDecision",
    "Threshold",
    "ThresholdKind",
    "ThresholdPoint",
    "assess",
    "calibrate",
    "config_intervals",
    "decide",
    "decision_counts",
    "extend_grid",
    "fit_noise_model",
    "interval_regression",
    "isotonic_fit",
    "law",
    "law_level",
    "log_scatter_comparison",
    "loglinear_fit",
    "near_alternatives",
    "parse_law",
    "power_with_suggestion",
    "read_threshold_rows",
    "run_intervals",
    "shares_grammar_seeds",
    "simulate_points",
    "suggest_grid",
    "threshold_from_curve",
    "threshold_rows",
]
